"""Schedule and assessments (shared/spec/protocol.md section 4): blood counts, pregnancy tests,
visit windows, next visit, concomitant medication deviations."""

from __future__ import annotations

from typing import Any

from cletrial.protocol import ProtocolDefinition, recommend

from .conftest import MEDS, HistoryFactory, day


def _tests(*weeks: float, result: str = "negative") -> list[dict[str, Any]]:
    return [{"date": day(w).isoformat(), "result": result} for w in weeks]


def test_blood_counts_weekly_for_8_weeks(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    rec = recommend(make_history(10, [(2, 5)], until=2), protocol, day(2))
    counts = rec.labs_due[0]
    assert (counts.due, counts.overdue, counts.rule) == (day(3), False, "BLOOD-COUNTS")
    assert counts.tests == ["wbc", "neutrophils"]


def test_blood_counts_every_4_weeks_after_week_8(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    rec = recommend(make_history(10, [(4, 5), (10, 4)], until=8), protocol, day(10))
    assert rec.labs_due[0].due == day(12) and not rec.labs_due[0].overdue


def test_overdue_blood_count_alerts_and_leaves_myelosuppression_undetermined(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    rec = recommend(make_history(10, [(2, 5)], until=1), protocol, day(2.5))
    assert rec.labs_due[0].overdue
    assert any(a.rule == "BLOOD-COUNTS" for a in rec.alerts)
    assert any(u.part == "safety.myelosuppression" for u in rec.undetermined)


def test_no_counts_due_off_treatment(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    history = make_history(
        10,
        [(2, 3)],
        [(0, "5_daily"), (1, "off")],
        events=[{"date": day(1).isoformat(), "type": "physician_decision"}],
    )
    assert recommend(history, protocol, day(2)).labs_due == []


def test_start_needs_two_negative_pregnancy_tests(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    none_yet = make_history(10, [], [], reproductive_potential=True)
    rec = recommend(none_yet, protocol, day(0))
    assert (rec.action, rec.regimen.id) == ("hold", "off")  # type: ignore[union-attr]
    assert rec.reasons[0].rule == "LABEL-PREGNANCY-TESTING" and rec.reasons[0].source == "label"
    assert rec.next_visit is not None and rec.next_visit.date == day(0) + (day(10 / 7) - day(0))
    first, second = rec.pregnancy_tests_due
    assert (first.due_from, first.due_by) == (day(0), day(0))
    assert (second.due_from, second.due_by) == (day(9 / 7), day(10 / 7))
    ready = make_history(
        10, [], [], reproductive_potential=True, pregnancy_tests=_tests(-12 / 7, 0)
    )
    assert recommend(ready, protocol, day(0)).action == "start"
    one = make_history(10, [], [], reproductive_potential=True, pregnancy_tests=_tests(-12 / 7))
    rec = recommend(one, protocol, day(0))
    assert rec.action == "hold" and len(rec.pregnancy_tests_due) == 1


def test_pregnancy_testing_unknown_reproductive_potential_is_undetermined(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    rec = recommend(make_history(10, [], [], reproductive_potential=None), protocol, day(0))
    assert rec.action == "undetermined"
    assert rec.undetermined[0].missing == ["sex", "reproductive_potential"]
    male = recommend(
        make_history(10, [], [], sex="M", reproductive_potential=None), protocol, day(0)
    )
    assert male.action == "start"


def test_pregnancy_tests_weekly_then_every_4_weeks(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    tests = _tests(-12 / 7, 0, 1, 2)
    rec = recommend(
        make_history(10, [(2, 5)], reproductive_potential=True, pregnancy_tests=tests),
        protocol,
        day(2),
    )
    assert rec.pregnancy_tests_due[0].due_from <= day(3) <= rec.pregnancy_tests_due[0].due_by
    later = _tests(-12 / 7, 0, 1, 2, 3, 4)
    rec = recommend(
        make_history(10, [(4, 5), (6, 4)], reproductive_potential=True, pregnancy_tests=later),
        protocol,
        day(6),
    )
    test = rec.pregnancy_tests_due[0]
    assert test.due_from <= day(8) <= test.due_by and not test.overdue
    irregular = recommend(
        make_history(
            10,
            [(4, 5), (6, 4)],
            reproductive_potential=True,
            irregular_cycles=True,
            pregnancy_tests=later,
        ),
        protocol,
        day(6),
    )
    assert (
        irregular.pregnancy_tests_due[0].due_from
        <= day(6)
        <= irregular.pregnancy_tests_due[0].due_by
    )


def test_overdue_pregnancy_test_alerts(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    rec = recommend(
        make_history(10, [(2, 5)], reproductive_potential=True, pregnancy_tests=_tests(-12 / 7, 0)),
        protocol,
        day(2),
    )
    assert rec.pregnancy_tests_due[0].overdue
    assert any(a.rule == "LABEL-PREGNANCY-TESTING" for a in rec.alerts)


def test_first_dose_without_pregnancy_tests_is_a_deviation(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    rec = recommend(
        make_history(10, [(1, 5)], reproductive_potential=True, pregnancy_tests=_tests(0, 1)),
        protocol,
        day(1),
    )
    deviation = next(d for d in rec.deviations if d.rule == "DEVIATION-PREGNANCY-TESTS")
    assert deviation.source == "label" and deviation.data["missing_windows"] == [
        "10-14 days before"
    ]


def test_visit_out_of_window_alerts(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    history = make_history(
        10,
        [(4, 0), (9.5, 0), (12, 0)],
        [(0, "5_daily"), (4, "5_alternate"), (9.5, "5_thrice_weekly")],
    )
    rec = recommend(history, protocol, day(12))
    windows = [a for a in rec.alerts if a.rule == "VISIT-WINDOW"]
    assert [a.data["week"] for a in windows] == [8]
    assert windows[0].source == "default" and windows[0].severity == "info"


def test_next_visit_is_the_scheduled_one_with_its_window(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    rec = recommend(make_history(10, [(4, 6)], [(0, "5_daily"), (4, "10_daily")]), protocol, day(4))
    assert rec.next_visit is not None
    assert (rec.next_visit.date, rec.next_visit.kind) == (day(8), "scheduled")
    assert (rec.next_visit.window_start, rec.next_visit.window_end) == (day(7), day(9))
    late = recommend(make_history(10, [(24, 3)], until=24), protocol, day(24))
    assert late.next_visit is not None and late.next_visit.date == day(36)
    assert late.next_visit.window_end - late.next_visit.date == day(2) - day(0)


def test_next_visit_can_be_a_dosing_decision(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    # After week 24 visits are quarterly, but a taper step is due 4 weeks after the last one.
    history = make_history(10, [(24, 0), (26, 0)], [(0, "5_daily"), (24, "5_alternate")], until=26)
    rec = recommend(history, protocol, day(26))
    assert rec.next_visit is not None
    assert (rec.next_visit.date, rec.next_visit.kind) == (day(28), "dosing")


def test_change_of_concomitant_medication_is_a_deviation(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    history = make_history(10, [(2, 5), (4, 4), (8, 3)])
    history["assessments"][1]["medications"] = [*MEDS, "methotrexate 10 mg/week"]
    history["assessments"][2]["medications"] = [m.upper() for m in MEDS] + [
        "methotrexate 10 mg/week"
    ]
    rec = recommend(history, protocol, day(8))
    assert len(rec.deviations) == 1  # the change, not the same list again (case-insensitive)
    deviation = rec.deviations[0]
    assert (deviation.rule, deviation.field, deviation.date) == (
        "DEVIATION-MEDICATION",
        "assessments[1].medications",
        day(4),
    )
    assert deviation.data == {"added": ["methotrexate 10 mg/week"], "removed": []}


def test_medication_without_baseline_list_is_undetermined(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    history = make_history(10, [(2, 5)])
    del history["baseline"]["medications"]
    rec = recommend(history, protocol, day(2))
    assert any(u.part == "deviations.medication" for u in rec.undetermined)
