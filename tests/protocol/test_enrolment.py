"""The enrolment gate: no first dose without an eligible screening verdict or a documented
override (shared/spec/protocol.md section 1: every criterion must hold; missing data is
undetermined, never passed)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cletrial.errors import HistoryError
from cletrial.protocol import ProtocolDefinition, parse_history, recommend, truncate_history

from .conftest import HistoryFactory, day, iso

OVERRIDE = {"date": iso(-0.5), "by": "Dr J. Ordi-Ros", "reason": "E4 count repeated: normal"}


def _not_started(make_history: HistoryFactory, **extra: Any) -> dict[str, Any]:
    return make_history(10, [], [], **extra)


def test_no_verdict_is_undetermined_and_says_screen_first(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    rec = recommend(_not_started(make_history, screened=False), protocol, day(0))
    assert (rec.action, rec.regimen) == ("undetermined", None)
    first = rec.reasons[0]
    assert (first.rule, first.source) == ("ENROL-GATE", "protocol")
    assert "No screening verdict" in first.text and "before a first dose" in first.text
    assert first.data["missing"] == ["eligibility"]
    assert [r.rule for r in rec.reasons if r.rule == "DOSE-START"] == []
    assert rec.undetermined[0].part == "enrolment"


def test_undetermined_verdict_is_undetermined_screening_incomplete(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    history = _not_started(make_history, eligibility={"date": iso(-1), "verdict": "undetermined"})
    rec = recommend(history, protocol, day(0))
    assert (rec.action, rec.regimen) == ("undetermined", None)
    assert rec.reasons[0].rule == "ENROL-GATE" and "incomplete" in rec.reasons[0].text
    assert rec.undetermined[0].missing == ["eligibility.verdict"]


def test_ineligible_verdict_is_do_not_start(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    history = _not_started(
        make_history,
        eligibility={"date": iso(-1), "verdict": "ineligible"},
        reproductive_potential=True,  # would otherwise be a pregnancy-test hold
    )
    rec = recommend(history, protocol, day(0))
    assert (rec.action, rec.regimen) == ("do_not_start", None)
    assert [r.rule for r in rec.reasons] == ["ENROL-INELIGIBLE"]
    assert rec.reasons[0].source == "protocol"
    assert "ineligible" in rec.reasons[0].text and iso(-1) in rec.reasons[0].text
    assert rec.labs_due == [] and rec.pregnancy_tests_due == [] and rec.next_visit is None
    assert rec.as_dict()["action"] == "do_not_start"


@pytest.mark.parametrize("verdict", ["eligible", "ineligible", "undetermined"])
def test_an_override_allows_the_start_as_a_protocol_deviation(
    protocol: ProtocolDefinition, make_history: HistoryFactory, verdict: str
) -> None:
    elig = {"date": iso(-1), "verdict": verdict, "override": OVERRIDE}
    rec = recommend(_not_started(make_history, eligibility=elig), protocol, day(0))
    assert (rec.action, rec.regimen.id) == ("start", "5_daily")  # type: ignore[union-attr]
    override = rec.reasons[0]
    assert (override.rule, override.source) == ("ENROL-OVERRIDE", "protocol")
    assert override.text.startswith("Protocol deviation")
    for part in (OVERRIDE["by"], OVERRIDE["date"], OVERRIDE["reason"], verdict):
        assert part in override.text
    assert [d.rule for d in rec.deviations] == ["ENROL-OVERRIDE"]
    assert rec.deviations[0].field == "eligibility.override"


def test_eligible_verdict_starts_and_says_so(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    rec = recommend(_not_started(make_history), protocol, day(0))
    assert rec.action == "start" and rec.reasons[0].rule == "DOSE-START"
    assert [r.rule for r in rec.reasons][-1] == "ENROL-GATE" and rec.deviations == []


@pytest.mark.parametrize("verdict", ["ineligible", "undetermined"])
def test_dosed_without_eligible_verdict_keeps_dosing_and_alerts(
    protocol: ProtocolDefinition, make_history: HistoryFactory, verdict: str
) -> None:
    visits = [(2, 5), (4, 3)]
    eligible = recommend(make_history(10, visits), protocol, day(4))
    elig = {"date": iso(-1), "verdict": verdict}
    rec = recommend(make_history(10, visits, eligibility=elig), protocol, day(4))
    assert (rec.action, rec.regimen) == (eligible.action, eligible.regimen)
    assert rec.reasons == eligible.reasons
    alert = next(a for a in rec.alerts if a.rule == "DEVIATION-ENROLMENT")
    assert alert.severity == "critical" and verdict in alert.text and "deviation" in alert.text
    assert "DEVIATION-ENROLMENT" in [d.rule for d in rec.deviations]
    assert "DEVIATION-ENROLMENT" not in [a.rule for a in eligible.alerts]


def test_dosed_machine_history_without_the_key_has_no_alert(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    rec = recommend(make_history(10, [(2, 5)], screened=False), protocol, day(2))
    assert rec.action == "continue"
    assert not [a for a in rec.alerts if a.rule.startswith(("ENROL", "DEVIATION-ENROL"))]


def test_dosed_with_override_lists_the_deviation_without_alert(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    elig = {"date": iso(-1), "verdict": "ineligible", "override": OVERRIDE}
    rec = recommend(make_history(10, [(2, 5)], eligibility=elig), protocol, day(2))
    assert "ENROL-OVERRIDE" in [d.rule for d in rec.deviations]
    assert "DEVIATION-ENROLMENT" not in [a.rule for a in rec.alerts]


@pytest.mark.parametrize(
    ("eligibility", "field", "problem"),
    [
        ({"date": iso(-1), "verdict": "maybe"}, "eligibility.verdict", "must be one of eligible"),
        ({"verdict": "eligible"}, "eligibility.date", "required"),
        (
            {"date": iso(-1), "verdict": "ineligible", "override": {**OVERRIDE, "by": "  "}},
            "eligibility.override.by",
            "non-empty",
        ),
        (
            {"date": iso(-1), "verdict": "ineligible", "override": {**OVERRIDE, "reason": ""}},
            "eligibility.override.reason",
            "must not be empty",
        ),
        (
            {"date": iso(-1), "verdict": "ineligible", "override": {**OVERRIDE, "date": iso(-2)}},
            "eligibility.override.date",
            "on or after eligibility.date",
        ),
        ({"date": "1800-01-01", "verdict": "eligible"}, "eligibility.date", "must be from"),
        ({"date": iso(-1), "verdict": "eligible", "notes": "x"}, "eligibility.notes", "unknown"),
    ],
)
def test_bad_eligibility_names_the_field(
    make_history: HistoryFactory, eligibility: dict[str, Any], field: str, problem: str
) -> None:
    with pytest.raises(HistoryError, match=problem) as info:
        parse_history(_not_started(make_history, eligibility=eligibility))
    assert info.value.field == field


def test_verdict_after_the_date_is_refused_and_cut_by_truncate(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    late = {"date": iso(1), "verdict": "eligible"}
    history = parse_history(_not_started(make_history, eligibility=late))
    with pytest.raises(HistoryError) as info:
        recommend(history, protocol, day(0))
    assert info.value.field == "eligibility.date"
    cut = truncate_history(history, day(0))
    assert cut.eligibility is None
    assert recommend(cut, protocol, day(0)).action == "undetermined"
    overridden = {
        "date": iso(-1),
        "verdict": "ineligible",
        "override": {**OVERRIDE, "date": iso(1)},
    }
    history = parse_history(_not_started(make_history, eligibility=overridden))
    with pytest.raises(HistoryError) as info:
        recommend(history, protocol, day(0))
    assert info.value.field == "eligibility.override.date"
    cut = truncate_history(history, day(0))
    assert cut.eligibility is not None and cut.eligibility.override is None
    assert recommend(cut, protocol, day(0)).action == "do_not_start"
    assert recommend(history, protocol, day(1)).action == "start"


def test_patient_history_exposes_the_verdict(make_history: HistoryFactory) -> None:
    history = parse_history(_not_started(make_history))
    assert history.eligibility is not None
    assert (history.eligibility.verdict, history.eligibility.date) == ("eligible", day(-1))
    assert history.eligibility.override is None
    assert isinstance(history.eligibility.date, dt.date)
