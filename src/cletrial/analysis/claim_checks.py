"""The checks of the claims audit: small functions, each recomputing one kind of claim.

Each check takes the audit context and a :class:`~cletrial.analysis._claim_model.ClaimSpec`
(declared in ``cletrial/data/cortes_hernandez_2012/claims.yaml``) and returns an
:class:`~cletrial.analysis._claim_model.Outcome`. The status always comes from the arithmetic
here, never from the data file. :data:`CHECKS` maps the names used in the YAML to the functions.

>>> sorted(CHECKS)[:4]
['agree_with', 'count', 'ctcae_grade', 'distribution']
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

from cletrial.analysis._claim_model import (
    STATUSES,
    AuditContext,
    ClaimSpec,
    Outcome,
    Status,
    compare,
    describe_where,
    fmt,
    patients_of,
    select,
)
from cletrial.analysis.grim import compute_grim
from cletrial.analysis.reference import REGIMEN_MG_PER_WEEK
from cletrial.analysis.statistics import (
    compute_distribution,
    compute_implied_paired_correlation,
    compute_ttest_from_stats,
    format_number,
)
from cletrial.errors import InputError

__all__ = ["CHECKS", "Check"]

Check = Callable[[AuditContext, ClaimSpec], Outcome]
CHECKS: dict[str, Check] = {}

_TABLE_LABELS: Final = {
    "table1": "Table 1",
    "table2": "Table 2",
    "table3": "Table 3",
    "patients": "Tables 1-2",
}
#: CTCAE v5.0 general severity words (instruments.md) and the grades each allows.
_GRADE_WORDS: Final[dict[str, tuple[int, ...]]] = {
    "minor": (1,),
    "mild": (1,),
    "moderate": (2,),
    "severe": (3, 4, 5),
}
_CTCAE_WORD: Final = {1: "mild", 2: "moderate", 3: "severe", 4: "life-threatening", 5: "death"}


def _try(check: str, reported: dict[str, str], **args: Any) -> Outcome:
    """Run one check on the reference study with an ad-hoc claim (used by the examples)."""
    from cletrial.analysis.reference import load_reference_study

    numbers = {key: Decimal(value) for key, value in reported.items()}
    spec = ClaimSpec(
        "example", "example", "example", " ".join(reported.values()), numbers, check, args
    )
    return CHECKS[check](AuditContext(load_reference_study()), spec)


def _register(name: str) -> Callable[[Check], Check]:
    def add(function: Check) -> Check:
        CHECKS[name] = function
        return function

    return add


def _status(ok: bool) -> Status:
    return "consistent" if ok else "inconsistent"


def _line(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _rows(ctx: AuditContext, spec: ClaimSpec) -> tuple[str, list[dict[str, Any]]]:
    table = spec.args.get("table", "")
    if table not in _TABLE_LABELS:
        raise InputError(
            f"claims.{spec.id}.args.table", table, f"must be one of {', '.join(_TABLE_LABELS)}"
        )
    return _TABLE_LABELS[table], ctx.study.records(table)


def _verdicts(spec: ClaimSpec, found: dict[str, float]) -> tuple[bool, list[str]]:
    """Compare each printed figure with its recomputed value; collect what differs."""
    ok, remarks = True, []
    for key, value in found.items():
        if key not in spec.reported:
            continue
        match = compare(spec.reported[key], value)
        if match is None:
            ok = False
            remarks.append(f"{key} printed {spec.reported[key]}, recomputed {fmt(value)}")
        elif match == "truncated":
            remarks.append(
                f"{key} {fmt(value, 3)} matches the printed {spec.reported[key]} only "
                "when truncated, not rounded"
            )
    return ok, remarks


def _arithmetic(spec: ClaimSpec) -> str:
    """``7/15 = 46.7%, printed 47%`` for a printed count and percent with a known denominator."""
    spec_args = spec.args.get("arithmetic")
    if not spec_args:
        return ""
    n = spec.number(spec_args["n"]) if isinstance(spec_args["n"], str) else Decimal(spec_args["n"])
    total = Decimal(spec_args["denominator"])
    percent = float(100 * n / total)
    printed = spec.reported.get(spec_args.get("percent", "percent"))
    agrees = (
        ""
        if printed is None
        else (
            f", printed {printed}% ({'agrees' if compare(printed, percent) else 'does not agree'})"
        )
    )
    return f"arithmetic {n}/{total} = {format_number(percent, 1)}%{agrees}"


def _grim_text(spec: ClaimSpec) -> str:
    grim = spec.args.get("grim")
    if not grim:
        return ""
    printed = str(spec.number(grim["key"]))
    verdicts = []
    for n in grim["n"]:
        result = compute_grim(printed, n)
        how = "rounded" if result.rounded else "truncated" if result.truncated else "impossible"
        verdicts.append(f"n = {n}: {how}")
    return f"GRIM test of mean {printed} from integer scores: {', '.join(verdicts)}"


@_register("count")
def check_count(ctx: AuditContext, spec: ClaimSpec) -> Outcome:
    """Count table rows (or distinct patients) matching ``where``; compare n, denominator, %.

    >>> _try("count", {"percent": "60"}, table="table1", where={"subtype": "DLE"}).recomputed_text
    '9/15 (60.0%)'
    """
    label, rows = _rows(ctx, spec)
    matched = select(rows, spec.args.get("where"))
    denominator = spec.args.get("denominator", "rows")
    base = (
        rows
        if denominator == "rows"
        else select(rows, denominator)
        if isinstance(denominator, dict)
        else None
    )
    total = len(base) if base is not None else int(denominator)
    n = len({r["patient"] for r in matched}) if spec.args.get("distinct") else len(matched)
    found = {"n": float(n), "denominator": float(total), "percent": 100.0 * n / total}
    ok, remarks = _verdicts(spec, found)
    expect = spec.args.get("expect")
    if expect is None and not set(found) & set(spec.reported):
        raise InputError(
            f"claims.{spec.id}",
            spec.reported,
            "needs a printed n, denominator or percent, or args.expect (all or none)",
        )
    if expect is not None:
        wanted = {"all": total, "none": 0}[expect]
        if n != wanted:
            ok = False
            remarks.append(f"'{expect}' needs {wanted}, found {n}")
    text = f"{n}/{total} ({format_number(found['percent'], 1)}%)"
    explanation = _line(
        f"{label}: {n} of {total} match {describe_where(spec.args.get('where'))} "
        f"({patients_of(matched, len(rows))})",
        *remarks,
        spec.note,
    )
    return Outcome(
        text,
        {"n": n, "denominator": total, "percent": round(found["percent"], 4)},
        _status(ok),
        explanation,
    )


@_register("distribution")
def check_distribution(ctx: AuditContext, spec: ClaimSpec) -> Outcome:
    """Mean, SD, median, range of a column over matching rows; compare the printed figures.

    >>> _try("distribution", {"median": "6"}, table="table2", column="time_to_cr_weeks").status
    'inconsistent'
    """
    label, rows = _rows(ctx, spec)
    column = spec.args["column"]
    matched = select(rows, spec.args.get("where"))
    dist = compute_distribution(row[column] for row in matched)
    stats = {
        "n": dist.n,
        "mean": dist.mean,
        "sd": dist.sd,
        "median": dist.median,
        "min": dist.minimum,
        "max": dist.maximum,
    }
    found = {k: float(v) for k, v in stats.items() if v is not None}
    if not set(stats) & set(spec.reported):
        raise InputError(
            f"claims.{spec.id}", spec.reported, "needs a printed n, mean, sd, median, min or max"
        )
    ok, remarks = _verdicts(spec, found)
    if (
        "median" in spec.reported
        and "mean" in found
        and compare(spec.reported["median"], found["median"]) is None
        and compare(spec.reported["median"], found["mean"])
    ):
        remarks.append(f"the printed median matches the mean ({fmt(found['mean'])})")
    shown = [
        k
        for k in ("n", "mean", "sd", "median", "min", "max")
        if k in spec.reported or k in spec.args.get("also", ()) or k == "n"
    ]
    text = ", ".join(f"{k} {fmt(found[k])}" for k in shown if k in found)
    missing = [r for r in matched if r[column] is None]
    explanation = _line(
        f"{label} {column} over {describe_where(spec.args.get('where'))} "
        f"({patients_of(matched, len(rows))})",
        f"missing for {patients_of(missing)}" if missing else "",
        *remarks,
        spec.note,
    )
    recomputed = {k: round(found[k], 4) for k in shown if k in found}
    return Outcome(text, recomputed, _status(ok and dist.n > 0), explanation)


@_register("not_reproducible")
def check_not_reproducible(ctx: AuditContext, spec: ClaimSpec) -> Outcome:
    """No patient-level data: say why, and check what arithmetic and granularity allow.

    >>> _try("not_reproducible", {"n": "7"}, reason="no column",
    ...      arithmetic={"n": "n", "denominator": 15}).explanation
    'no column; arithmetic 7/15 = 46.7%'
    """
    reason = spec.args["reason"]
    return Outcome(
        "-", {}, "not reproducible", _line(reason, _arithmetic(spec), _grim_text(spec), spec.note)
    )


@_register("agree_with")
def check_agree_with(ctx: AuditContext, spec: ClaimSpec) -> Outcome:
    """Compare a printed figure with the same quantity printed elsewhere in the paper.

    >>> from cletrial.analysis.claims import compute_claims_audit
    >>> compute_claims_audit().result("results_associated_sle_count").status
    'inconsistent'
    """
    other = ctx.specs[spec.args["claim"]]
    mine, theirs = spec.number(spec.args["key"]), other.number(spec.args["other_key"])
    same = mine == theirs
    explanation = _line(
        f"printed {mine} here against {theirs} in claim {other.id} ({other.section})",
        _arithmetic(spec),
        spec.note,
    )
    return Outcome(f"{theirs} elsewhere", {"other": float(theirs)}, _status(same), explanation)


@_register("percent_of")
def check_percent_of(ctx: AuditContext, spec: ClaimSpec) -> Outcome:
    """A printed count as a percent of a population counted in the tables.

    >>> _try("percent_of", {"n": "3", "percent": "33"}, table="table2",
    ...      where={"relapse": True}).recomputed_text
    '3/9 (33.3%)'
    """
    label, rows = _rows(ctx, spec)
    population = select(rows, spec.args.get("where"))
    source = spec.args.get("numerator_claim")
    n = (ctx.specs[source] if source else spec).number(spec.args.get("key", "n"))
    percent = float(100 * n / len(population))
    ok, remarks = _verdicts(spec, {"percent": percent})
    explanation = _line(
        f"{label}: {describe_where(spec.args.get('where'))} gives {len(population)} patients; "
        f"{n}/{len(population)} = {format_number(percent, 1)}%",
        *remarks,
        spec.note,
    )
    text = f"{n}/{len(population)} ({format_number(percent, 1)}%)"
    return Outcome(
        text,
        {"denominator": len(population), "percent": round(percent, 4)},
        _status(ok),
        explanation,
    )


@_register("patient_value")
def check_patient_value(ctx: AuditContext, spec: ClaimSpec) -> Outcome:
    """One patient's cell against a printed value (``eq``, ``le`` or ``ge``).

    >>> _try("patient_value", {}, table="table2", patient=9, column="outcome", value="PR").status
    'consistent'
    """
    label, rows = _rows(ctx, spec)
    patient = spec.args["patient"]
    row = next((r for r in rows if r["patient"] == patient), None)
    if row is None:
        raise InputError(f"claims.{spec.id}.args.patient", patient, f"is not in {label}")
    column, op = spec.args["column"], spec.args.get("op", "eq")
    expected: Any = (
        spec.args["value"]
        if "value" in spec.args
        else spec.number(spec.args["key"]) * Decimal(str(spec.args.get("factor", 1)))
    )
    value = row[column]
    tests = {
        "eq": lambda: value == expected,
        "le": lambda: value <= expected,
        "ge": lambda: value >= expected,
    }
    ok = value is not None and bool(tests[op]())
    explanation = _line(
        f"{label} patient {patient}: {column} = {value} ({op} {expected} needed)", spec.note
    )
    return Outcome(str(value), {column: value}, _status(ok), explanation)


def _summary(ctx: AuditContext, ident: str) -> tuple[float, float]:
    stat = ctx.study.summary[ident]
    return float(stat.value("mean")), float(stat.value("sd"))


@_register("ttest_from_summary")
def check_ttest_from_summary(ctx: AuditContext, spec: ClaimSpec) -> Outcome:
    """Try Student and Welch t-tests from printed means/SDs for plausible group sizes.

    If none reproduces the printed P, the status is ``args.unmatched`` (e.g. ``not
    reproducible`` when the design calls for a paired test whose pairs were not published), and
    the correlation a paired test would need is reported for ``args.paired_n``.

    >>> _try("ttest_from_summary", {"p": "0.0009"}, first="clasi_activity_entry",
    ...      second="clasi_activity_week2", sizes=[[15, 14]]).status
    'consistent'
    """
    m1, s1 = _summary(ctx, spec.args["first"])
    m2, s2 = _summary(ctx, spec.args["second"])
    printed = spec.number("p")
    tried: list[tuple[str, int, int, float]] = []
    hits: list[str] = []
    for n1, n2 in spec.args["sizes"]:
        for test in ("student", "welch"):
            result = compute_ttest_from_stats(m1, s1, n1, m2, s2, n2, test=test)
            tried.append((result.test, n1, n2, float(f"{result.p_value:.4g}")))
            if compare(printed, result.p_value):
                hits.append(f"{result.test} n = {n1}/{n2}: P = {result.p_value:.2g}")
    implied = []
    for n in spec.args.get("paired_n", ()):
        r = compute_implied_paired_correlation(m1, s1, m2, s2, n, float(printed))
        implied.append(f"n = {n}: r = {'none' if r is None else format_number(r, 2)}")
    p_values = [t[3] for t in tried]
    unmatched = spec.args.get("unmatched", "inconsistent")
    if unmatched not in STATUSES:
        raise InputError(
            f"claims.{spec.id}.args.unmatched", unmatched, f"must be one of {STATUSES}"
        )
    if hits:
        status: Status = "consistent"
        found = "reproduced by " + ", ".join(hits)
    else:
        status = unmatched
        found = (
            f"no independent t-test reproduces P = {printed} (P from {min(p_values):.3g} "
            f"to {max(p_values):.3g} for n = {spec.args['sizes'][0]}..{spec.args['sizes'][-1]})"
        )
    pairs = (
        f"a paired t-test gives P = {printed} if the correlation is {', '.join(implied)}"
        if implied
        else ""
    )
    text = ", ".join(f"{name.split()[0]} {n1}/{n2}: P={p:.2g}" for name, n1, n2, p in tried)
    tests = [{"test": name, "n": [n1, n2], "p": p} for name, n1, n2, p in tried]
    return Outcome(text, {"tests": tests}, status, _line(found, pairs, spec.note))


@_register("grim")
def check_grim(ctx: AuditContext, spec: ClaimSpec) -> Outcome:
    """A printed mean of integer scores that no plausible n can produce is inconsistent.

    >>> _try("grim", {"mean": "2.39"}, table="table1", column="clasi_damage",
    ...      grim={"key": "mean", "n": [14, 15]}).recomputed_text
    'impossible for n = 14-15'
    """
    printed = str(spec.number(spec.args["grim"]["key"]))
    sizes = spec.args["grim"]["n"]
    possible = [n for n in sizes if compute_grim(printed, n).consistent]
    label, rows = _rows(ctx, spec)
    column = spec.args["column"]
    means = []
    for group in spec.args.get("groups", ()):
        dist = compute_distribution(r[column] for r in select(rows, group.get("where")))
        means.append(
            f"{label} {group['label']}: {format_number(dist.mean or 0.0, 2)} "
            f"± {format_number(dist.sd or 0.0, 2)}"
        )
    explanation = _line(
        f"no mean of n = {sizes[0]}-{sizes[-1]} integer scores prints as {printed}"
        if not possible
        else f"achievable for n = {', '.join(map(str, possible))}",
        *means,
        spec.note,
    )
    return Outcome(
        f"possible for n = {', '.join(map(str, possible))}"
        if possible
        else f"impossible for n = {sizes[0]}-{sizes[-1]}",
        {"possible_n": possible},
        _status(bool(possible)),
        explanation,
    )


@_register("lowest_regimen")
def check_lowest_regimen(ctx: AuditContext, spec: ClaimSpec) -> Outcome:
    """The lowest regimen at relapse in Table 2 against the printed ones (mg per week).

    >>> _try("lowest_regimen", {}, table="table2", column="regimen_at_relapse",
    ...      printed=["5_alternate"]).recomputed_text
    '5_twice_weekly'
    """
    label, rows = _rows(ctx, spec)
    column = spec.args["column"]
    used = {r[column] for r in rows if r[column] is not None}
    lowest = min(used, key=REGIMEN_MG_PER_WEEK.__getitem__)
    printed = spec.args["printed"]
    holders = [r for r in rows if r[column] == lowest]
    weekly = ", ".join(
        f"{g} {fmt(REGIMEN_MG_PER_WEEK[g])} mg/week"
        for g in sorted(used, key=REGIMEN_MG_PER_WEEK.__getitem__)
    )
    explanation = _line(
        f"{label}: lowest is {lowest} ({patients_of(holders)}); {weekly}", spec.note
    )
    return Outcome(lowest, {"lowest": lowest}, _status(lowest in printed), explanation)


@_register("majority")
def check_majority(ctx: AuditContext, spec: ClaimSpec) -> Outcome:
    """A claim that something 'usually' happens: more than half of the population.

    >>> _try("majority", {}, table="table2", where={"relapse": True},
    ...      subset={"regimen_at_relapse": "off"}).recomputed_text
    '0/9'
    """
    label, rows = _rows(ctx, spec)
    population = select(rows, spec.args["where"])
    subset = select(population, spec.args["subset"])
    ok = 2 * len(subset) > len(population)
    explanation = _line(
        f"{label}: {len(subset)} of {len(population)} with {describe_where(spec.args['where'])} "
        f"have {describe_where(spec.args['subset'])}",
        spec.note,
    )
    return Outcome(
        f"{len(subset)}/{len(population)}",
        {"n": len(subset), "denominator": len(population)},
        _status(ok),
        explanation,
    )


@_register("ctcae_grade")
def check_ctcae_grade(ctx: AuditContext, spec: ClaimSpec) -> Outcome:
    """Grade a printed laboratory value with :func:`cletrial.instruments.grade_lab`.

    >>> _try("ctcae_grade", {"grade": "2"}, summary="neutropenia_patient_15",
    ...      key="absolute_neutrophil_count", term="neutrophil_count_decreased", unit="/mm3").status
    'consistent'
    """
    from cletrial.instruments import grade_lab

    value = float(ctx.study.summary[spec.args["summary"]].value(spec.args["key"]))
    graded = grade_lab(
        spec.args["term"], value, spec.args["unit"], version=spec.args.get("version", "5.0")
    )
    ok = graded.grade == int(spec.number("grade"))
    explanation = _line(
        f"CTCAE v{graded.ctcae_version} {spec.args['term']}: {fmt(value)} {spec.args['unit']} "
        f"is grade {graded.grade}",
        spec.note,
    )
    return Outcome(f"grade {graded.grade}", {"grade": graded.grade}, _status(ok), explanation)


@_register("grade_wording")
def check_grade_wording(ctx: AuditContext, spec: ClaimSpec) -> Outcome:
    """A severity word (minor, mild, moderate, severe) against the grades printed in Table 3.

    >>> _try("grade_wording", {}, table="table3", word="moderate").recomputed_text
    'grade 2'
    """
    label, rows = _rows(ctx, spec)
    events = select(rows, spec.args.get("where"))
    word = spec.args["word"]
    allowed = _GRADE_WORDS[word]
    graded = [e for e in events if e["grade"] is not None]
    grades = sorted({e["grade"] for e in graded})
    ok = bool(graded) and all(e["grade"] in allowed for e in graded)
    words = ", ".join(f"grade {g} = {_CTCAE_WORD[g]}" for g in grades)
    ungraded = [e["term"] for e in events if e["grade"] is None]
    explanation = _line(
        f"{label}: {len(graded)} graded event(s) of {patients_of(events)}, "
        f"{words or 'none graded'}",
        f"ungraded: {', '.join(ungraded)}" if ungraded else "",
        f"'{word}' means CTCAE grade {'/'.join(map(str, allowed))}",
        spec.note,
    )
    return Outcome(
        ", ".join(f"grade {g}" for g in grades) or "no grade",
        {"grades": grades},
        _status(ok),
        explanation,
    )
