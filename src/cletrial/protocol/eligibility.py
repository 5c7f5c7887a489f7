"""Eligibility: every inclusion and exclusion criterion, its status, value and what is missing.

Status of a criterion is ``met``, ``not_met`` or ``missing``; for an exclusion, ``met`` means the
exclusion applies. The verdict is ``ineligible`` when an inclusion is not met or an exclusion is
met, ``undetermined`` when nothing rules the patient out but data is missing, else ``eligible``.
Numbers come from the protocol definition's ``eligibility`` section; the rule of nines and the
CLASI erythema come from :mod:`cletrial.instruments`.

>>> from cletrial.protocol.definition import load_protocol
>>> result = assess_eligibility({"screening_date": "2009-01-15", "age_years": 17}, load_protocol())
>>> result.verdict, result.criteria[0].id, result.criteria[0].status
('ineligible', 'I1', 'not_met')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, Literal

import msgspec

from cletrial.errors import FormError, ScreeningError
from cletrial.instruments import compute_bsa_percent, compute_max_erythema, convert_lab_value
from cletrial.protocol._dates import days
from cletrial.protocol.definition import ProtocolDefinition
from cletrial.protocol.definition_model import CTCAE_TERM_OF_TEST, Eligibility
from cletrial.protocol.screening import Screening, parse_screening
from cletrial.vocabulary.types import CriterionKind, Verdict

__all__ = ["CriterionResult", "EligibilityResult", "assess_eligibility", "criterion_texts"]

Status = Literal["met", "not_met", "missing"]
Tri = bool | None


class CriterionResult(msgspec.Struct, frozen=True):
    """One criterion: id (I1-I6, E1-E9), kind, text, status, deciding value and reason."""

    id: str
    kind: CriterionKind
    text: str
    status: Status
    value: Any
    reason: str
    missing: list[str]


class EligibilityResult(msgspec.Struct, frozen=True):
    """The verdict with every criterion and the list of missing fields."""

    protocol_id: str
    protocol_version: str
    verdict: Verdict
    criteria: list[CriterionResult]
    missing: list[str]

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON shape documented in docs/protocol.md."""
        out: dict[str, Any] = msgspec.to_builtins(self)
        return out


def _any(*values: Tri) -> Tri:
    if any(v is True for v in values):
        return True
    return False if all(v is False for v in values) else None


def _all(*values: Tri) -> Tri:
    if any(v is False for v in values):
        return False
    return True if all(v is True for v in values) else None


def _status(value: Tri) -> Status:
    return "missing" if value is None else ("met" if value else "not_met")


def _age(s: Screening, minimum: int) -> tuple[Tri, Any, list[str]]:
    age = s.age_years
    if s.birth_date is not None:
        b, d = s.birth_date, s.screening_date
        computed = d.year - b.year - ((d.month, d.day) < (b.month, b.day))
        if age is not None and age != computed:
            raise ScreeningError("age_years", age, f"disagrees with birth_date ({computed})")
        age = computed
    if age is None:
        return None, None, ["birth_date or age_years"]
    return age >= minimum, age, []


def _erythema(s: Screening, minimum: int) -> tuple[Tri, Any, list[str]]:
    clasi = s.clasi
    if clasi is None or "activity" in clasi or "damage" in clasi:
        return None, None, ["clasi (a full CLASI form: erythema by region)"]
    try:
        highest = compute_max_erythema(clasi)
    except FormError as exc:
        raise ScreeningError(f"clasi.{exc.field}", exc.value, exc.problem) from None
    return highest >= minimum, highest, []


def _bsa(s: Screening) -> tuple[float | None, str | None]:
    if s.body_surface is not None:
        try:
            return compute_bsa_percent(s.body_surface), None
        except FormError as exc:
            field = exc.field.replace("involvement", "body_surface", 1)
            raise ScreeningError(field, exc.value, exc.problem) from None
    return s.bsa_percent, None if s.bsa_percent is not None else "body_surface or bsa_percent"


def _labs(s: Screening, p: ProtocolDefinition) -> tuple[Tri, Any, list[str]]:
    rules = p.file.eligibility
    since = s.screening_date - days(rules.lab_lookback_days)
    found: dict[str, list[Any]] = {}
    low: list[str] = []
    for test, limit in rules.lab_exclusions.items():
        term = CTCAE_TERM_OF_TEST[test]
        bound = convert_lab_value(term, limit.below, limit.unit)
        for lab in s.labs:
            if lab.test == test and since <= lab.date:
                found.setdefault(test, []).append(lab.value)
                if convert_lab_value(term, lab.value, lab.unit) < bound:
                    low.append(f"{test} {lab.value:g} {lab.unit} on {lab.date.isoformat()}")
    missing = [
        f"labs[] {test} within {rules.lab_lookback_days} days before screening"
        for test in rules.lab_exclusions
        if test not in found
    ]
    if low:
        return True, low, []
    return (None, found, missing) if missing else (False, found, [])


Found = tuple[Tri, Any, list[str]]
Check = Callable[[Screening, ProtocolDefinition], Found]


def _missing(result: Tri, values: dict[str, Any], prefix: str = "") -> list[str]:
    if result is not None:
        return []
    return [f"{prefix}{k}" for k, v in values.items() if v is None]


def _flags(*names: str) -> Check:
    """A criterion that holds when any of the named yes/no items is true."""

    def check(s: Screening, p: ProtocolDefinition) -> Found:
        values = {n: _get(s, n) for n in names}
        result = _any(*values.values())
        shown = values[names[0]] if len(names) == 1 else values
        return result, shown, _missing(result, values)

    return check


def _stable(s: Screening, p: ProtocolDefinition) -> Found:
    e, bg = p.file.eligibility, s.background_therapy
    values = {"stable_days": bg.stable_days, "prednisone_mg_per_day": bg.prednisone_mg_per_day}
    days_ok = None if bg.stable_days is None else bg.stable_days >= e.stable_therapy_min_days
    pred = bg.prednisone_mg_per_day
    result = _all(days_ok, None if pred is None else pred < e.prednisone_below_mg_per_day)
    return result, values, [f"background_therapy.{k}" for k, v in values.items() if v is None]


def _refractory(s: Screening, p: ProtocolDefinition) -> Found:
    conv, minimum = s.conventional_treatment, p.file.eligibility.refractory_min_months
    values = {
        "antimalarial": conv.antimalarial,
        "topical_steroids": conv.topical_steroids,
        "months": conv.months,
        "refractory": conv.refractory,
    }
    months = None if conv.months is None else conv.months >= minimum
    result = _all(conv.antimalarial, conv.topical_steroids, months, conv.refractory)
    return result, values, [f"conventional_treatment.{k}" for k, v in values.items() if v is None]


def _extent(s: Screening, p: ProtocolDefinition) -> Found:
    thal = s.thalidomide
    bsa, missing_bsa = _bsa(s)
    wide = None if bsa is None else bsa > p.file.eligibility.bsa_above_percent
    result = _any(wide, thal.severe_side_effects, thal.lack_of_efficacy)
    value = {
        "bsa_percent": bsa,
        "thalidomide_severe_side_effects": thal.severe_side_effects,
        "thalidomide_lack_of_efficacy": thal.lack_of_efficacy,
    }
    items = {
        "severe_side_effects": thal.severe_side_effects,
        "lack_of_efficacy": thal.lack_of_efficacy,
    }
    missing = _missing(result, items, "thalidomide.")
    if result is None and missing_bsa:
        missing.insert(0, missing_bsa)
    return result, value, missing


def _pregnancy(s: Screening, p: ProtocolDefinition) -> Found:
    if s.sex == "M":
        return False, "male", []
    contraception = s.adequate_contraception
    unprotected = _all(
        s.reproductive_potential, None if contraception is None else not contraception
    )
    result = _any(s.pregnant, s.lactating, unprotected)
    keys = ("pregnant", "lactating", "reproductive_potential", "adequate_contraception")
    value = {k: getattr(s, k) for k in keys}
    return result, value, _missing(result, value)


def _renal(s: Screening, p: ProtocolDefinition) -> Found:
    low = None if s.egfr is None else s.egfr < p.file.eligibility.egfr_below
    result = _any(low, s.progressive_renal_disease)
    value = {"egfr": s.egfr, "progressive_renal_disease": s.progressive_renal_disease}
    return result, value, _missing(result, value)


def _age_check(s: Screening, p: ProtocolDefinition) -> Found:
    return _age(s, p.file.eligibility.min_age_years)


def _erythema_check(s: Screening, p: ProtocolDefinition) -> Found:
    return _erythema(s, p.file.eligibility.min_erythema)


def criterion_texts(e: Eligibility) -> dict[str, str]:
    """Criterion id -> its text with the protocol's numbers, in protocol order (I1-I6, E1-E9).

    The texts that the eligibility result shows and that SDTM TI carries (``IETEST``).

    >>> from cletrial.protocol.definition import load_protocol
    >>> texts = criterion_texts(load_protocol().file.eligibility)
    >>> len(texts), texts["I1"]
    (15, 'age 18 or over at screening')
    """
    labs = ", ".join(f"{t} < {lim.below:g} {lim.unit}" for t, lim in e.lab_exclusions.items())
    return {
        "I1": f"age {e.min_age_years} or over at screening",
        "I2": "histologically proven CLE (with or without SLE)",
        "I3": f"CLASI erythema >= {e.min_erythema} in at least one region",
        "I4": f"stable background therapy >= {e.stable_therapy_min_days} days, prednisone < "
        f"{e.prednisone_below_mg_per_day:g} mg/day",
        "I5": f"refractory to >= {e.refractory_min_months:g} months of antimalarials and "
        "topical steroids",
        "I6": f"body surface > {e.bsa_above_percent:g}% (rule of nines), or severe thalidomide "
        "side effects, or thalidomide lack of efficacy",
        "E1": "known hypersensitivity to thalidomide",
        "E2": "pregnant, lactating, or of reproductive potential without adequate contraception",
        "E3": "active SLE requiring systemic immunosuppressive agents",
        "E4": f"low platelets, WBC or neutrophils within {e.lab_lookback_days} days before "
        f"inclusion ({labs})",
        "E5": "history of arterial or venous thrombosis",
        "E6": "antiphospholipid antibodies present",
        "E7": f"eGFR < {e.egfr_below:g} ml/min/1.73 m2 or progressive renal disease",
        "E8": "psychiatric or social disorder that may interfere with follow-up",
        "E9": "HIV or viral hepatitis infection",
    }


#: Criterion id -> its check, in protocol order (I1-I6 inclusions, E1-E9 exclusions).
CHECKS: Final[dict[str, Check]] = {
    "I1": _age_check,
    "I2": _flags("cle_histology_confirmed"),
    "I3": _erythema_check,
    "I4": _stable,
    "I5": _refractory,
    "I6": _extent,
    "E1": _flags("thalidomide.hypersensitivity"),
    "E2": _pregnancy,
    "E3": _flags("active_sle_requiring_immunosuppressants"),
    "E4": lambda s, p: _labs(s, p),
    "E5": _flags("thrombosis_history"),
    "E6": _flags("antiphospholipid_antibodies"),
    "E7": _renal,
    "E8": _flags("psychiatric_or_social_disorder"),
    "E9": _flags("hiv", "viral_hepatitis"),
}


def _get(s: Screening, dotted: str) -> Any:
    node: Any = s
    for part in dotted.split("."):
        node = getattr(node, part)
    return node


def _reason(kind: str, status: Status, missing: list[str]) -> str:
    if status == "missing":
        return "missing: " + ", ".join(missing)
    if kind == "inclusion":
        return "criterion met" if status == "met" else "criterion not met: not eligible"
    return "exclusion applies: not eligible" if status == "met" else "exclusion does not apply"


def assess_eligibility(
    screening: Screening | Mapping[str, Any], protocol: ProtocolDefinition
) -> EligibilityResult:
    """Assess every inclusion and exclusion criterion of ``protocol`` for a screening record.

    Parameters
    ----------
    screening : Screening or mapping
        The screening record (a mapping is validated with :func:`parse_screening`).
    protocol : ProtocolDefinition
        Supplies the numbers of the criteria.

    Returns
    -------
    EligibilityResult
        ``verdict`` (eligible, ineligible, undetermined), ``criteria`` and ``missing``.

    Raises
    ------
    ScreeningError
        Invalid record, naming the field path and value.
    """
    s = screening if isinstance(screening, Screening) else parse_screening(screening)
    results: list[CriterionResult] = []
    missing: list[str] = []
    texts = criterion_texts(protocol.file.eligibility)
    for cid, check in CHECKS.items():
        text = texts[cid]
        value, shown, miss = check(s, protocol)
        kind: CriterionKind = "inclusion" if cid[0] == "I" else "exclusion"
        status = _status(value)
        results.append(
            CriterionResult(
                cid,
                kind,
                text,
                status,
                shown,
                _reason(kind, status, miss),
                miss if status == "missing" else [],
            )
        )
        if status == "missing":
            missing.extend(m for m in miss if m not in missing)
    blocked = any(
        (c.kind == "inclusion" and c.status == "not_met")
        or (c.kind == "exclusion" and c.status == "met")
        for c in results
    )
    undecided = any(c.status == "missing" for c in results)
    verdict: Verdict = "ineligible" if blocked else ("undetermined" if undecided else "eligible")
    return EligibilityResult(protocol.id, protocol.version, verdict, results, missing)
