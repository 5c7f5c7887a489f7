"""Edit checks declared in the protocol file: every kind passes, fails with the exact message and
field, and ignores missing values; bad declarations are refused on load naming the check; the
bundled sets compile; the forms mapping agrees with the store's tables; run() never raises."""

from __future__ import annotations

import datetime as dt
import gc
import string
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cletrial.errors import ProtocolDefinitionError
from cletrial.instruments.analytes import ANALYTES
from cletrial.protocol import (
    CheckFinding,
    CheckMemo,
    CompiledChecks,
    ProtocolDefinition,
    compile_edit_checks,
    list_protocols,
    load_protocol,
    parse_protocol,
)
from cletrial.protocol.definition_model import CHECK_KINDS, RangeCheck
from cletrial.protocol.edit_check_forms import FORM_COLUMNS
from cletrial.protocol.edit_checks_validation import FIXED_FORMS, PLACEHOLDERS

from .conftest import protocol_document

ROOT = Path(__file__).resolve().parents[2]
D = dt.date
START = D(2024, 1, 1)
Forms = Mapping[str, Sequence[Mapping[str, Any]]]


def checks_protocol(*declarations: dict[str, Any], name: str = "lenalidomide-cle-2012") -> Any:
    """The bundled protocol ``name`` with ``declarations`` as its only edit checks."""
    document = protocol_document(name)
    document["edit_checks"] = list(declarations)
    return parse_protocol(document, "checks.yaml")


def run(declaration: dict[str, Any], forms: Forms) -> list[CheckFinding]:
    return compile_edit_checks(checks_protocol(declaration)).run(forms)


def one(findings: list[CheckFinding]) -> CheckFinding:
    assert len(findings) == 1, findings
    return findings[0]


# --- range -------------------------------------------------------------------------------------

RANGE = {
    "id": "LAB-PLT", "kind": "range", "form": "labs", "field": "std_value",
    "where": {"test": "platelets"}, "min": 20, "max": 700, "severity": "warning",
    "message": "platelets of {row.sample_date}: {value} {row.std_unit} outside {min} to {max}",
}  # fmt: skip


def lab(i: int, test: str, std: float | None, day: D = START) -> dict[str, Any]:
    return {"id": i, "patient_id": 1, "visit_id": None, "sample_date": day, "test": test,
            "value": std, "unit": "10^9/L", "std_value": std, "std_unit": "10^9/L"}  # fmt: skip


def test_range_passes_fails_and_ignores_missing_and_other_tests() -> None:
    assert run(RANGE, {"labs": [lab(1, "platelets", 230.0), lab(2, "platelets", 20.0)]}) == []
    finding = one(run(RANGE, {"labs": [lab(3, "platelets", 850.0)]}))
    assert finding == CheckFinding(
        "LAB-PLT", "warning", "labs", 3, "std_value",
        "platelets of 2024-01-01: 850 10^9/L outside 20 to 700",
    )  # fmt: skip
    assert run(RANGE, {"labs": [lab(4, "platelets", None)]}) == []  # missing is not a value
    assert run(RANGE, {"labs": [lab(5, "wbc", 850.0)]}) == []  # where: platelets only
    assert one(run(RANGE, {"labs": [lab(6, "platelets", 12.5)]})).message.endswith(
        ": 12.5 10^9/L outside 20 to 700"
    )


def test_range_with_one_bound_and_a_list_condition() -> None:
    low = {
        **RANGE,
        "max": None,
        "where": {"test": ["platelets", "wbc"]},
        "message": "{value} < {min}; max {max}",
    }
    findings = run(
        low, {"labs": [lab(1, "wbc", 0.4), lab(2, "platelets", 5000.0), lab(3, "c3", 1.0)]}
    )
    assert [(f.record_id, f.message) for f in findings] == [(1, "0.4 < 20; max missing")]


# --- required_if -------------------------------------------------------------------------------

REQUIRED = {
    "id": "AE-CRIT", "kind": "required_if", "form": "adverse_events", "field": "serious_criterion",
    "when": {"serious": True}, "severity": "error",
    "message": "adverse event {row.term}: {field} is {value} although {when}",
}  # fmt: skip


def ae(i: int, **values: Any) -> dict[str, Any]:
    row = {"id": i, "patient_id": 1, "term": "Rash", "start_date": START, "end_date": None,
           "grade": 2, "causality": "possible", "serious": False, "serious_criterion": None,
           "outcome": None, "note": None, "visit_id": None}  # fmt: skip
    return {**row, **values}


def test_required_if_passes_fails_and_needs_its_condition() -> None:
    ok = ae(1, serious=True, serious_criterion="hospitalisation")
    assert run(REQUIRED, {"adverse_events": [ok, ae(2)]}) == []
    finding = one(run(REQUIRED, {"adverse_events": [ae(3, serious=True)]}))
    assert (finding.record_id, finding.field, finding.severity) == (3, "serious_criterion", "error")
    assert (
        finding.message
        == "adverse event Rash: serious_criterion is missing although serious is yes"
    )
    assert one(run(REQUIRED, {"adverse_events": [ae(4, serious=True, serious_criterion="  ")]}))
    assert run(REQUIRED, {"adverse_events": [ae(5, serious=None)]}) == []  # condition unknown


def test_required_if_with_values_and_with_no_condition() -> None:
    ended = {
        **REQUIRED,
        "field": "end_date",
        "when": {"outcome": ["recovered", "recovered_with_sequelae"]},
    }
    rows = [ae(1, outcome="recovered"), ae(2, outcome="recovering"),
            ae(3, outcome="recovered_with_sequelae", end_date=D(2024, 2, 1))]  # fmt: skip
    assert [f.record_id for f in run(ended, {"adverse_events": rows})] == [1]
    always = {
        **REQUIRED,
        "form": "pregnancy_tests",
        "field": "method",
        "when": {},
        "message": "{when}!",
    }
    tests = [{"id": 9, "test_date": START, "result": "negative", "method": None}]
    assert one(run(always, {"pregnancy_tests": tests})).message == "!"


# --- compare -----------------------------------------------------------------------------------

COMPARE = {
    "id": "AE-END", "kind": "compare", "form": "adverse_events", "field": "end_date", "op": ">=",
    "other": "start_date", "severity": "error",
    "message": "end date {value} is before the start date {other} ({field} {op} {other_field})",
}  # fmt: skip


def test_compare_passes_fails_and_skips_missing() -> None:
    rows = [ae(1, end_date=START), ae(2, end_date=D(2024, 3, 1)), ae(3, end_date=None)]
    assert run(COMPARE, {"adverse_events": rows}) == []
    finding = one(
        run(COMPARE, {"adverse_events": [ae(4, start_date=D(2024, 1, 10), end_date=D(2024, 1, 3))]})
    )
    assert (finding.table, finding.record_id, finding.field) == ("adverse_events", 4, "end_date")
    assert finding.message == (
        "end date 2024-01-03 is before the start date 2024-01-10 (end_date >= start_date)"
    )
    assert run(COMPARE, {"adverse_events": [ae(5, start_date=None, end_date=START)]}) == []


@pytest.mark.parametrize(
    ("op", "fails"),
    [("<", [1, 2]), ("<=", [2]), (">", [0, 1]), (">=", [0]), ("==", [0, 2]), ("!=", [1])],
)
def test_compare_operators(op: str, fails: list[int]) -> None:
    check = {
        **COMPARE,
        "form": "dispositions",
        "field": "last_dose_date",
        "other": "disposition_date",
        "op": op,
    }
    rows = [
        {"id": i, "last_dose_date": START + dt.timedelta(i), "disposition_date": D(2024, 1, 2)}
        for i in range(3)
    ]
    assert [f.record_id for f in run(check, {"dispositions": rows})] == fails


# --- sledai_item_needs_lab ---------------------------------------------------------------------

SLEDAI = {
    "id": "SLEDAI-LAB", "kind": "sledai_item_needs_lab", "form": "sledai_assessments",
    "items": {"thrombocytopenia": ["platelets"], "low_complement": ["c3", "c4"]}, "days": 10,
    "severity": "warning",
    "message": "SLEDAI-2K of {visit_date} scores {item} but no {tests} from {window_start} "
    "({days} days)",
}  # fmt: skip
VISIT = {"id": 7, "patient_id": 1, "visit_date": D(2024, 2, 12), "kind": "scheduled", "notes": None}


def sledai(**items: Any) -> dict[str, Any]:
    return {"id": 70, "visit_id": 7, "entry": "items", "score": 4, **items}


def test_sledai_item_needs_a_lab_on_the_visit_date_or_the_days_before() -> None:
    forms = {"visits": [VISIT], "sledai_assessments": [sledai(thrombocytopenia=True)]}
    for day in (D(2024, 2, 12), D(2024, 2, 2)):
        assert run(SLEDAI, {**forms, "labs": [lab(1, "platelets", 80.0, day)]}) == []
    for day in (D(2024, 2, 1), D(2024, 2, 13)):  # too early; after the visit
        finding = one(run(SLEDAI, {**forms, "labs": [lab(1, "platelets", 80.0, day)]}))
        assert (finding.table, finding.record_id, finding.field) == (
            "sledai_assessments",
            70,
            "thrombocytopenia",
        )
        assert finding.message == (
            "SLEDAI-2K of 2024-02-12 scores thrombocytopenia but no Platelets from 2024-02-02 "
            "(10 days)"
        )
    assert one(run(SLEDAI, {**forms, "labs": [lab(1, "wbc", 80.0, D(2024, 2, 12))]}))


def test_sledai_item_any_of_its_tests_and_missing_does_not_fire() -> None:
    form = sledai(low_complement=True, thrombocytopenia=None)
    forms = {"visits": [VISIT], "sledai_assessments": [form]}
    assert run(SLEDAI, {**forms, "labs": [lab(1, "c4", 9.0, D(2024, 2, 12))]}) == []
    finding = one(run(SLEDAI, forms))
    assert finding.field == "low_complement"
    assert "scores low complement but no Complement C3 or Complement C4 from" in finding.message
    assert run(SLEDAI, {"sledai_assessments": [form]}) == []  # visit (date) unknown
    assert run(SLEDAI, {**forms, "sledai_assessments": [sledai(thrombocytopenia=False)]}) == []


def test_sledai_days_default_to_the_visit_date_only() -> None:
    check = {k: v for k, v in SLEDAI.items() if k != "days"}
    forms = {"visits": [VISIT], "sledai_assessments": [sledai(thrombocytopenia=True)]}
    assert one(run(check, {**forms, "labs": [lab(1, "platelets", 80.0, D(2024, 2, 11))]}))
    assert run(check, {**forms, "labs": [lab(1, "platelets", 80.0, D(2024, 2, 12))]}) == []


# --- visit_window ------------------------------------------------------------------------------

WINDOW = {
    "id": "VISIT-WIN", "kind": "visit_window", "form": "visits", "severity": "warning",
    "message": "visit of {value} (day {day} from {first_dose}) outside week {week} "
    "({target} +/-{window}: {window_start} to {window_end})",
}  # fmt: skip


def visit(i: int, day: int, kind: str = "scheduled", notes: str | None = None) -> dict[str, Any]:
    return {"id": i, "patient_id": 1, "visit_date": START + dt.timedelta(day), "kind": kind,
            "notes": notes}  # fmt: skip


def dose(i: int, day: int, regimen: str) -> dict[str, Any]:
    return {"id": i, "patient_id": 1, "start_date": START + dt.timedelta(day), "regimen": regimen}


def test_visit_window_uses_the_protocols_plan_from_the_first_dose() -> None:
    doses = [dose(1, -5, "off"), dose(2, 0, "5_daily")]  # the first dose that is not off
    inside = [visit(1, 21), visit(2, 35), visit(3, 56), visit(4, 24 * 7 + 7), visit(5, 36 * 7 - 14)]
    assert run(WINDOW, {"doses": doses, "visits": inside}) == []
    finding = one(run(WINDOW, {"doses": doses, "visits": [visit(6, 40)]}))
    assert (finding.table, finding.record_id, finding.field) == ("visits", 6, "visit_date")
    assert finding.message == (
        "visit of 2024-02-10 (day 40 from 2024-01-01) outside week 4 "
        "(2024-01-29 +/-7: 2024-01-22 to 2024-02-05)"
    )
    late = one(run(WINDOW, {"doses": doses, "visits": [visit(7, 24 * 7 + 15)]}))
    assert "outside week 24" in late.message and "+/-7" in late.message  # nearer week 24 than 36


def test_visit_window_ignores_other_kinds_and_needs_a_first_dose() -> None:
    doses = [dose(1, 0, "5_daily")]
    others = [visit(1, 0, "baseline"), visit(2, 40, "unscheduled")]
    assert run(WINDOW, {"doses": doses, "visits": others}) == []
    assert run(WINDOW, {"visits": [visit(3, 40)]}) == []
    assert run(WINDOW, {"doses": [dose(1, 0, "off")], "visits": [visit(3, 40)]}) == []


# --- clasi_damage_below_baseline ---------------------------------------------------------------

DAMAGE = {
    "id": "CLASI-D", "kind": "clasi_damage_below_baseline", "form": "clasi_assessments",
    "severity": "warning",
    "message": "damage {value} on {visit_date} below {baseline} on {baseline_date} "
    "(margin {margin})",
}  # fmt: skip


def clasi(i: int, visit_id: int, damage: int | None) -> dict[str, Any]:
    return {"id": i, "visit_id": visit_id, "entry": "scores", "activity": 4, "damage": damage}


def test_clasi_damage_below_baseline_without_an_explanation() -> None:
    visits = [visit(1, 0, "baseline"), visit(2, 28), visit(3, 56, notes="scar revised surgically")]
    forms = {
        "visits": visits,
        "clasi_assessments": [clasi(10, 1, 5), clasi(11, 2, 5), clasi(12, 3, 2)],
    }
    assert run(DAMAGE, forms) == []  # equal, or explained in the notes
    forms["clasi_assessments"] = [clasi(10, 1, 5), clasi(11, 2, 4)]
    finding = one(run(DAMAGE, forms))
    assert (finding.table, finding.record_id, finding.field) == ("clasi_assessments", 11, "damage")
    assert finding.message == "damage 4 on 2024-01-29 below 5 on 2024-01-01 (margin 0)"
    assert run({**DAMAGE, "margin": 1}, forms) == []
    forms["visits"] = [visit(1, 0, "baseline"), visit(2, 28, notes="   ")]  # blank notes
    assert one(run(DAMAGE, forms)).record_id == 11


def test_clasi_damage_missing_values_do_not_fire() -> None:
    visits = [visit(1, 0, "baseline"), visit(2, 28)]
    assert (
        run(DAMAGE, {"visits": visits, "clasi_assessments": [clasi(10, 1, None), clasi(11, 2, 0)]})
        == []
    )
    assert (
        run(DAMAGE, {"visits": visits, "clasi_assessments": [clasi(10, 1, 5), clasi(11, 2, None)]})
        == []
    )
    no_baseline = [visit(2, 28), visit(3, 56)]
    assert (
        run(
            DAMAGE, {"visits": no_baseline, "clasi_assessments": [clasi(10, 2, 5), clasi(11, 3, 1)]}
        )
        == []
    )


# --- dose_step ---------------------------------------------------------------------------------

STEP = {
    "id": "DOSE-UP", "kind": "dose_step", "form": "doses", "severity": "warning",
    "message": "{date}: {previous} ({previous_schedule}) to {value} ({schedule}) is {steps} "
    "steps (max {max_steps}, maximum {maximum} mg)",
}  # fmt: skip


def regimens(*steps: str) -> list[dict[str, Any]]:
    return [dose(i, 28 * i, r) for i, r in enumerate(steps)]


def test_dose_step_allows_one_step_up_and_a_cycle_start() -> None:
    courses = [
        ("5_daily", "10_daily"),  # escalation at the review
        (
            "5_daily",
            "5_alternate",
            "5_thrice_weekly",
            "5_twice_weekly",
            "off",
            "5_daily",
        ),  # restart
        ("5_daily", "5_alternate", "5_daily"),  # CR lost: back one step
    ]
    for course in courses:
        assert run(STEP, {"doses": regimens(*course)}) == [], course


def test_dose_step_finds_a_jump_and_orders_by_date() -> None:
    rows = regimens("5_daily", "5_alternate", "5_thrice_weekly", "10_daily")
    finding = one(run(STEP, {"doses": list(reversed(rows))}))
    assert (finding.table, finding.record_id, finding.field) == ("doses", 3, "regimen")
    assert finding.message == (
        "2024-03-25: 5_thrice_weekly (5 mg three times a week) to 10_daily (10 mg every day) is "
        "3 steps (max 1, maximum 10 mg)"
    )
    first = one(run(STEP, {"doses": regimens("10_daily")}))  # from no treatment
    assert "off (no lenalidomide) to 10_daily" in first.message
    strict = {**STEP, "allow_cycle_start": False}
    assert [f.record_id for f in run(strict, {"doses": regimens("5_daily", "off", "5_daily")})] == [
        0,
        2,
    ]
    assert run({**STEP, "max_steps": 4}, {"doses": regimens("5_twice_weekly", "10_daily")}) == []


def test_dose_step_regimen_off_the_ladder() -> None:
    finding = one(run(STEP, {"doses": regimens("5_daily", "100_daily", "10_daily")}))
    assert (finding.record_id, finding.field) == (1, "regimen")
    assert finding.message == (
        "the dose from 2024-01-29 is regimen 100_daily, which is not a step of this protocol's "
        "dose ladder: its dose cannot be checked against the maximum of 10 mg"
    )
    assert run(STEP, {"doses": [{"id": 1, "start_date": START, "regimen": None}]}) == []


def test_dose_step_follows_the_thalidomide_ladder() -> None:
    protocol = checks_protocol(STEP, name="thalidomide-cle-example")
    compiled = compile_edit_checks(protocol)
    assert compiled.run({"doses": regimens("50_daily", "100_daily")}) == []
    finding = one(compiled.run({"doses": regimens("50_daily", "50_twice_weekly", "100_daily")}))
    assert "50 mg twice a week" in finding.message and "maximum 100 mg" in finding.message


# --- every placeholder of a kind is filled -----------------------------------------------------

FAILING: list[tuple[dict[str, Any], Forms]] = [
    (RANGE, {"labs": [lab(1, "platelets", 850.0)]}),
    (REQUIRED, {"adverse_events": [ae(1, serious=True)]}),
    (COMPARE, {"adverse_events": [ae(1, start_date=D(2024, 1, 10), end_date=START)]}),
    (SLEDAI, {"visits": [VISIT], "sledai_assessments": [sledai(thrombocytopenia=True)]}),
    (WINDOW, {"doses": [dose(1, 0, "5_daily")], "visits": [visit(2, 40)]}),
    (DAMAGE, {"visits": [visit(1, 0, "baseline"), visit(2, 28)],
              "clasi_assessments": [clasi(10, 1, 5), clasi(11, 2, 4)]}),
    (STEP, {"doses": regimens("5_twice_weekly", "10_daily")}),
]  # fmt: skip


@pytest.mark.parametrize(("declaration", "forms"), FAILING, ids=lambda x: x.get("kind", ""))
def test_every_placeholder_of_the_kind_is_filled(declaration: dict[str, Any], forms: Forms) -> None:
    kind = declaration["kind"]
    names = sorted(PLACEHOLDERS[kind] - ({"value"} if kind == "required_if" else set()))
    message = " | ".join(f"{n}={{{n}}}" for n in names) + " | id={row.id}"
    finding = one(run({**declaration, "message": message}, forms))
    assert "missing" not in finding.message, finding.message
    assert not any(bad in finding.message for bad in ("None", "True", "False", "datetime", ".0 "))


def test_the_tests_cover_every_kind() -> None:
    assert sorted(d["kind"] for d, _ in FAILING) == sorted(CHECK_KINDS) == sorted(PLACEHOLDERS)


# --- declarations refused on load --------------------------------------------------------------


BAD: list[tuple[dict[str, Any], str]] = [
    ({**RANGE, "kind": "rnage"}, '(LAB-PLT).kind = "rnage": must be one of range, required_if'),
    ({**RANGE, "form": "lab"}, '(LAB-PLT).form = "lab": must be one of patients, screenings'),
    ({**RANGE, "field": "std_valu"}, '(LAB-PLT).field = "std_valu": is not a column of labs: id'),
    ({**RANGE, "where": {"tst": "wbc"}}, '(LAB-PLT).where.tst = "tst": is not a column of labs'),
    ({**RANGE, "field": "test"}, '(LAB-PLT).field = "test": is a str column; a range needs a'),
    ({**RANGE, "min": None, "max": None}, "(LAB-PLT) = null: a range check needs min, max or"),
    ({**RANGE, "min": 800}, "(LAB-PLT).min = 800.0: must not exceed max 700"),
    ({**RANGE, "severity": "info"}, '(LAB-PLT).severity = "info": must be one of error, warning'),
    ({**RANGE, "id": "lab-plt"}, '(lab-plt).id = "lab-plt": must be an UPPER-KEBAB id'),
    ({**RANGE, "id": "A" * 61}, '.id = "' + "A" * 61 + '": must be at most 60 characters'),
    ({**RANGE, "feild": "x"}, '(LAB-PLT).feild = "x": unknown key'),
    ({**RANGE, "min": "low"}, '(LAB-PLT).min = "low": must be a number or empty'),
    ({**COMPARE, "op": "=<"}, '(AE-END).op = "=<": must be one of <, <=, >, >=, ==, !='),
    ({**COMPARE, "other": "grade"},
     '(AE-END).other = "grade": must be another column of the same type as end_date (date)'),
    ({**COMPARE, "other": "end_date"}, '(AE-END).other = "end_date": must be another column'),
    ({**REQUIRED, "when": {"seriuos": True}},
     '(AE-CRIT).when.seriuos = "seriuos": is not a column of adverse_events'),
    ({**REQUIRED, "field": None}, "(AE-CRIT).field = null: must be text"),
    ({**SLEDAI, "items": {"thrombocytopaenia": ["platelets"]}},
     '(SLEDAI-LAB).items.thrombocytopaenia = "thrombocytopaenia": must be a SLEDAI-2K descriptor'),
    ({**SLEDAI, "items": {"thrombocytopenia": ["plt"]}},
     '(SLEDAI-LAB).items.thrombocytopenia[0] = "plt": must be a lab test: neutrophils, wbc'),
    ({**SLEDAI, "items": {"thrombocytopenia": []}},
     "(SLEDAI-LAB).items.thrombocytopenia = []: must list at least one lab test"),
    ({**SLEDAI, "items": {}}, "(SLEDAI-LAB).items = {}: must not be empty"),
    ({**SLEDAI, "form": "labs"},
     '(SLEDAI-LAB).form = "labs": a sledai_item_needs_lab check runs on sledai_assessments'),
    ({**WINDOW, "message": "visit {date}"},
     '(VISIT-WIN).message = "{date}": unknown placeholder; this kind allows {day}'),
    ({**RANGE, "message": "{value!r}"}, '(LAB-PLT).message = "{value!r}": unknown placeholder'),
    ({**RANGE, "message": "{value:.2f}"}, '(LAB-PLT).message = "{value:.2f}": unknown'),
    ({**RANGE, "message": "{row.nope}"}, '(LAB-PLT).message = "{row.nope}": unknown'),
    ({**RANGE, "message": "{value"}, '(LAB-PLT).message = "{value": not a valid template'),
    ({**STEP, "max_steps": -1}, "(DOSE-UP).max_steps = -1: must be a whole number, 0 or more"),
    ({**STEP, "off_ladder_message": "{steps} {no}"}, '(DOSE-UP).off_ladder_message = "{no}"'),
    ({**DAMAGE, "margin": 1.5}, "(CLASI-D).margin = 1.5: must be a whole number"),
]  # fmt: skip


@pytest.mark.parametrize(("declaration", "message"), BAD)
def test_bad_declarations_are_refused_naming_the_check(
    declaration: dict[str, Any], message: str
) -> None:
    with pytest.raises(ProtocolDefinitionError) as caught:
        checks_protocol(RANGE if declaration["id"] != RANGE["id"] else COMPARE, declaration)
    assert str(caught.value).startswith("checks.yaml: edit_checks[1]")
    assert message in str(caught.value)


def test_duplicate_ids_and_bad_entries_are_refused() -> None:
    with pytest.raises(
        ProtocolDefinitionError,
        match=r'\(LAB-PLT\)\.id = "LAB-PLT": edit check ids must be unique \(edit_checks\[0\]\)',
    ):
        checks_protocol(RANGE, {**RANGE, "min": 10})
    with pytest.raises(
        ProtocolDefinitionError, match=r'edit_checks\[0\] = "range": must be a mapping'
    ):
        checks_protocol("range")  # type: ignore[arg-type]
    with pytest.raises(
        ProtocolDefinitionError, match=r"edit_checks\[0\]\.kind = null: must be one of"
    ):
        checks_protocol({k: v for k, v in RANGE.items() if k not in ("kind", "id")})
    with pytest.raises(
        ProtocolDefinitionError, match=r"edit_checks\[0\] \(LAB-PLT\)\.message = null: is required"
    ):
        checks_protocol({k: v for k, v in RANGE.items() if k != "message"})


def test_a_protocol_without_edit_checks_is_valid() -> None:
    document = protocol_document()
    del document["edit_checks"]
    protocol = parse_protocol(document, "plain.yaml")
    assert (
        protocol.edit_checks == ()
        and compile_edit_checks(protocol).run({"labs": [lab(1, "wbc", 99.0)]}) == []
    )


# --- the bundled protocols ---------------------------------------------------------------------


@pytest.mark.parametrize("name", list_protocols())
def test_bundled_protocols_compile(name: str) -> None:
    protocol = load_protocol(name)
    compiled = compile_edit_checks(protocol)
    assert isinstance(compiled, CompiledChecks) and compiled.checks == protocol.edit_checks
    assert 10 <= len(compiled.checks) <= 14
    assert {type(c).__struct_config__.tag for c in compiled.checks} == set(CHECK_KINDS)
    assert all(
        FIXED_FORMS.get(type(c).__struct_config__.tag, c.form) == c.form for c in compiled.checks
    )


@pytest.mark.parametrize("name", list_protocols())
def test_bundled_lab_ranges_lie_inside_the_capture_limits(name: str) -> None:
    """A query range must not repeat the limits of lab_analytes.yaml (refused or confirmed)."""
    ranges = [
        c for c in load_protocol(name).edit_checks if isinstance(c, RangeCheck) and c.form == "labs"
    ]
    assert ranges
    for check in ranges:
        assert check.field == "std_value", check.id
        analyte = ANALYTES[str(check.where["test"])]
        low, high = analyte.improbable
        assert check.min is not None and check.max is not None
        assert (low is None or low < check.min) and (high is None or check.max < high), check.id


def test_bundled_checks_on_one_patient() -> None:
    forms: dict[str, list[dict[str, Any]]] = {
        "patients": [{"id": 1, "study_code": "P01", "sex": "F", "reproductive_potential": None}],
        "visits": [visit(10, 0, "baseline"), visit(11, 42), visit(12, 56)],
        "clasi_assessments": [clasi(20, 10, 5), clasi(21, 11, 3), clasi(22, 12, 5)],
        "sledai_assessments": [{"id": 30, "visit_id": 12, "leukopenia": True}],
        "labs": [lab(40, "platelets", 850.0, D(2024, 2, 5)), lab(41, "wbc", 3.1, D(2024, 2, 1))],
        "doses": regimens("5_daily", "5_twice_weekly", "10_daily"),
        "adverse_events": [ae(60, grade=4, outcome="recovered", term="Neutrophil count decreased")],
        "pregnancy_tests": [{"id": 70, "test_date": START, "result": "negative", "method": None}],
        "concomitant_medications": [{"id": 80, "name": "prednisone", "start_date": D(2024, 1, 5),
                                     "end_date": D(2024, 1, 1), "baseline": True}],
    }  # fmt: skip
    compiled = compile_edit_checks(load_protocol())
    found = [(f.check_id, f.table, f.record_id, f.field) for f in compiled.run(forms)]
    assert found == [
        ("AE-END-DATE-RECOVERED", "adverse_events", 60, "end_date"),
        ("AE-GRADE-NOT-SERIOUS", "adverse_events", 60, "serious_criterion"),
        ("CM-END-BEFORE-START", "concomitant_medications", 80, "end_date"),
        ("PREG-METHOD-REQUIRED", "pregnancy_tests", 70, "method"),
        ("PATIENT-REPRODUCTIVE-POTENTIAL", "patients", 1, "reproductive_potential"),
        ("LAB-PLATELETS-QUERY", "labs", 40, "std_value"),
        ("SLEDAI-ITEM-LAB", "sledai_assessments", 30, "leukopenia"),
        ("VISIT-OUT-OF-WINDOW", "visits", 11, "visit_date"),
        ("CLASI-DAMAGE-IMPROVED", "clasi_assessments", 21, "damage"),
        ("DOSE-STEP-UP", "doses", 2, "regimen"),
    ]
    messages = {f.check_id: f.message for f in compiled.run(forms)}
    assert messages["LAB-PLATELETS-QUERY"] == (
        "platelets of 2024-02-05: 850 10^9/L (entered as 850 10^9/L) is possible but unusual, "
        "outside 20 to 700 10^9/L: please verify it against the laboratory report"
    )
    assert messages["SLEDAI-ITEM-LAB"].startswith(
        "the SLEDAI-2K of 2024-02-26 scores leukopenia but no White blood cells result is "
        "recorded from 2024-02-16 to 2024-02-26"
    )
    assert compiled.evaluations(forms) == 4 + 1 + 1 + 1 + 3 * 2 + 1 + 3 + 3 + 3


def test_evaluations_count_every_check_against_every_row_of_its_form() -> None:
    compiled = compile_edit_checks(checks_protocol(RANGE, REQUIRED, COMPARE, STEP))
    forms = {
        "labs": [lab(1, "wbc", 5.0)] * 3,
        "adverse_events": [ae(1)] * 2,
        "doses": [],
        "visits": [visit(1, 0)],
    }
    assert compiled.evaluations(forms) == 3 + 2 + 2 + 0
    assert compiled.evaluations({}) == 0


def test_compiled_checks_are_cached_per_protocol_object() -> None:
    protocol = checks_protocol(RANGE)
    first = compile_edit_checks(protocol)
    assert compile_edit_checks(protocol) is first
    assert compile_edit_checks(checks_protocol(RANGE)) is not first  # another protocol object
    from cletrial.protocol import edit_checks

    key = id(protocol)
    assert key in edit_checks._COMPILED
    del protocol, first
    gc.collect()
    assert key not in edit_checks._COMPILED


# --- the forms mapping agrees with the store ---------------------------------------------------


def test_form_columns_agree_with_the_store_tables() -> None:
    from sqlalchemy.types import TypeDecorator

    from cletrial.store.tables import Base

    names = {int: "int", float: "float", str: "str", bool: "bool", dt.date: "date",
             dt.datetime: "datetime"}  # fmt: skip
    for form, columns in FORM_COLUMNS.items():
        table = Base.metadata.tables[form]
        real = {}
        for column in table.columns:
            kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
            real[column.name] = names[kind.python_type]
        assert columns == real, form


def test_the_forms_the_checks_may_use() -> None:
    assert sorted(FORM_COLUMNS) == sorted([
        "patients", "screenings", "visits", "clasi_assessments", "sledai_assessments", "labs",
        "doses", "adverse_events", "pregnancy_tests", "concomitant_medications", "dispositions",
        "immunology_results", "nerve_conduction_studies",
    ])  # fmt: skip


# --- docs --------------------------------------------------------------------------------------


def test_docs_list_every_bundled_check() -> None:
    doc = (ROOT / "docs" / "edit-checks.md").read_text(encoding="utf-8")
    for name in list_protocols():
        assert f"`{name}`" in doc
        for check in load_protocol(name).edit_checks:
            kind = type(check).__struct_config__.tag
            row = f"| {check.id} | {kind} | {check.form} | {check.severity} | {check.message} |"
            assert row in doc, row
    for kind, names in PLACEHOLDERS.items():
        assert f"`{kind}`" in doc
        assert all(f"`{{{n}}}`" in doc for n in names), kind


# --- run() never raises --------------------------------------------------------------------------

PROTOCOLS = [load_protocol(name) for name in list_protocols()]
VALUES = {
    "int": st.integers(-3, 60), "float": st.floats(allow_nan=True, allow_infinity=True),
    "str": st.sampled_from(["", " ", "F", "M", "off", "5_daily", "10_daily", "100_daily",
                            "scheduled", "baseline", "platelets", "wbc", "c3", "recovered",
                            "negative", "abnormal"]),
    "bool": st.booleans(), "date": st.dates(D(2023, 1, 1), D(2026, 12, 31)),
    "datetime": st.datetimes(dt.datetime(2023, 1, 1), dt.datetime(2026, 12, 31)),
}  # fmt: skip
SMALL_IDS = {"id", "visit_id", "patient_id"}


@st.composite
def patient_forms(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    forms: dict[str, list[dict[str, Any]]] = {}
    for form in draw(st.lists(st.sampled_from(sorted(FORM_COLUMNS)), unique=True, max_size=13)):
        rows = []
        for _ in range(draw(st.integers(0, 3))):
            row = {}
            for column, kind in FORM_COLUMNS[form].items():
                strategy = st.integers(1, 4) if column in SMALL_IDS else VALUES[kind]
                row[column] = draw(st.one_of(st.none(), strategy))
            row["id"] = draw(st.integers(1, 4))
            rows.append(row)
        forms[form] = rows
    return forms


@settings(max_examples=120)
@given(forms=patient_forms(), which=st.integers(0, len(PROTOCOLS) - 1))
def test_run_never_raises_on_rows_with_missing_values(forms: dict[str, Any], which: int) -> None:
    protocol: ProtocolDefinition = PROTOCOLS[which]
    compiled = compile_edit_checks(protocol)
    findings = compiled.run(forms)
    ids = {c.id for c in compiled.checks}
    for finding in findings:
        assert finding.check_id in ids and finding.table in forms
        assert finding.severity in ("error", "warning") and finding.message
        assert "{" not in finding.message and "None" not in finding.message


def test_messages_templates_are_plain() -> None:
    """No format specs or conversions in the bundled templates (the loader refuses them)."""
    for protocol in PROTOCOLS:
        for check in protocol.edit_checks:
            for _literal, name, spec, conversion in string.Formatter().parse(check.message):
                assert not spec and conversion is None, (check.id, name)


def _bundled_forms() -> dict[str, list[dict[str, Any]]]:
    return {
        "patients": [{"id": 1, "study_code": "P01", "sex": "F", "reproductive_potential": None}],
        "visits": [visit(10, 0, "baseline"), visit(11, 42), visit(12, 56)],
        "clasi_assessments": [clasi(20, 10, 5), clasi(21, 11, 3)],
        "sledai_assessments": [{"id": 30, "visit_id": 12, "leukopenia": True}],
        "labs": [lab(40, "platelets", 850.0, D(2024, 2, 5)), lab(41, "wbc", 3.1, D(2024, 2, 1))],
        "doses": regimens("5_daily", "10_daily"),
        "adverse_events": [ae(60, grade=4, outcome="recovered")],
    }


def test_the_memo_reuses_unchanged_records_and_judges_replaced_ones() -> None:
    compiled = compile_edit_checks(load_protocol())
    forms = _bundled_forms()
    memo = CheckMemo()
    first = compiled.run(forms, memo)
    assert first == compiled.run(forms)
    judged = memo.judged
    assert judged == sum(len(forms[f]) for f in ("patients", "labs", "adverse_events"))
    assert compiled.run(forms, memo) == first and (memo.judged, memo.reused) == (0, judged)
    # the store hands out a new dict for a changed record: it is judged again
    forms["labs"][0] = {**forms["labs"][0], "std_value": 300.0}
    again = compiled.run(forms, memo)
    assert memo.judged == 1
    assert "LAB-PLATELETS-QUERY" not in {f.check_id for f in again}
    assert again == compiled.run(forms)
    # a record removed leaves the memo; only the last run's records are kept
    forms["adverse_events"] = []
    assert compiled.run(forms, memo) == compiled.run(forms)
    assert sum(len(rows) for rows, _found in memo.forms.values()) == (
        len(forms["patients"]) + len(forms["labs"])
    )


_LAB_ROWS = st.builds(
    lambda i, test, std: lab(i, test, std),
    st.integers(1, 6),
    st.sampled_from(["platelets", "wbc", "neutrophils", "hemoglobin"]),
    st.none() | st.floats(0, 2000, allow_nan=False),
)


@settings(max_examples=60)
@given(st.lists(st.lists(_LAB_ROWS, max_size=6), min_size=1, max_size=5), st.data())
def test_findings_with_a_memo_equal_findings_without(
    histories: list[list[dict[str, Any]]], data: st.DataObject
) -> None:
    """Run after run on one patient (records kept, replaced, added, removed), the memo never
    changes what the checks find, nor their order."""
    compiled = compile_edit_checks(load_protocol())
    memo, previous = CheckMemo(), _bundled_forms()
    for labs in histories:
        pool = previous["labs"]
        if data.draw(st.booleans()):  # records added at the end: the usual save
            kept = list(pool)
        elif pool:
            kept = data.draw(st.lists(st.sampled_from(pool), unique_by=id, max_size=3))
        else:
            kept = []
        forms = {**previous, "labs": kept + labs}
        assert compiled.run(forms, memo) == compiled.run(forms)
        previous = forms
