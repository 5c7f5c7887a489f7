"""Whole treatment courses shaped like the 2012 paper's patients (Table 2 and Table 3).

Each course is replayed visit by visit with :func:`recommend_at_visits` (the history as it
stood when each visit was deciding the dose), the way a site, or the synthetic-cohort
simulation, drives the engine. Source of the shapes: Cortés-Hernández et al., Arthritis Res
Ther 2012;14:R265, Table 2 (time to CR, maximum dose, dose at relapse) and Table 3 (grade 2
neutropenia of patient 15).
"""

from __future__ import annotations

from cletrial.protocol import ProtocolDefinition, recommend, recommend_at_visits

from .conftest import HistoryFactory, day


def _steps(recs: list) -> list[tuple[str, str, str | None]]:  # type: ignore[type-arg]
    return [(r.on.isoformat(), r.action, r.regimen.id if r.regimen else None) for r in recs]


def test_week2_cr_tapered_monthly_relapses_at_alternate_days_and_restarts(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    # Patients 8 and 15: CR at week 2; relapse at 5 mg on alternate days (Table 2).
    history = make_history(
        9,
        [(2, 0), (4, 0), (6, 5), (8, 2), (10, 0), (14, 0)],
        [(0, "5_daily"), (4, "5_alternate"), (6, "5_daily"), (10, "5_alternate")],
    )
    recs = recommend_at_visits(history, protocol)
    assert _steps(recs) == [
        (day(2).isoformat(), "continue", "5_daily"),  # CR before the week-4 review
        (day(4).isoformat(), "taper", "5_alternate"),  # review: CR -> first step down
        (day(6).isoformat(), "restart", "5_daily"),  # CLASI-A 5 >= 4 on 5 mg alternate days
        (day(8).isoformat(), "continue", "5_daily"),  # cycle 2, before its review
        (day(10).isoformat(), "taper", "5_alternate"),  # cycle 2 review (week 4 of the cycle)
        (day(14).isoformat(), "taper", "5_thrice_weekly"),  # one step per 4 weeks while CR
    ]
    assert [x.rule for x in recs[0].reasons] == ["DOSE-INDUCTION", "CR-BEFORE-REVIEW"]
    assert recs[1].reasons[0].rule == "REVIEW-CR"
    relapse = recs[2].reasons[0]
    assert relapse.rule == "RELAPSE-RESTART" and relapse.source == "default"  # inferred
    assert relapse.data["regimen_at_relapse"] == "5_alternate"
    assert recs[3].course.cycle == 2 and recs[3].course.relapses[0].regimen == "5_alternate"
    assert all(not r.deviations for r in recs)


def test_week4_nonresponder_escalated_to_10mg_stays_in_partial_response(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    # Patient 9: PR, maximum dose 10 mg (Table 2); baseline CLASI-A 13 (Table 1).
    history = make_history(
        13,
        [(4, 10), (8, 6), (12, 5), (24, 5), (36, 4)],
        [(0, "5_daily"), (4, "10_daily")],
    )
    recs = recommend_at_visits(history, protocol)
    assert _steps(recs)[0] == (day(4).isoformat(), "escalate", "10_daily")
    assert recs[0].reasons[0].rule == "REVIEW-ESCALATE"
    assert recs[0].reasons[0].source == "default"  # anything short of PR escalates
    assert recs[0].reasons[0].data["improvement_percent"] == 23.1
    for rec in recs[1:]:
        assert (rec.action, rec.regimen.id) == ("continue", "10_daily")  # type: ignore[union-attr]
        assert rec.reasons[0].rule == "ESCALATED-CONTINUE"
    assert max(r.regimen.dose_mg for r in recs) == 10  # type: ignore[union-attr]


def test_patient_stopped_at_grade3_neutropenia(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    low = {"date": day(6).isoformat(), "test": "neutrophils", "value": 0.8, "unit": "10^9/L"}
    history = make_history(10, [(2, 5), (4, 2), (8, 1)], labs=[low])
    recs = recommend_at_visits(history, protocol)
    assert [r.action for r in recs] == ["continue", "continue", "stop"]
    stop = recs[-1]
    assert stop.reasons[0].rule == "STOP-MYELOSUPPRESSION"
    assert stop.reasons[0].data["grade"] == 3 and stop.disposition == "ADVERSE EVENT"
    assert stop.regimen.id == "off" and stop.course.stop_date == day(6)  # type: ignore[union-attr]
    assert stop.alerts[0].severity == "critical"


def test_grade2_neutropenia_of_patient_15_alerts_and_tightens_counts(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    # Table 3: grade 2 neutropenia (ANC 1,190/mm3) two months into the study, on 5 mg daily.
    anc = {"date": day(8).isoformat(), "test": "neutrophils", "value": 1190, "unit": "/mm3"}
    history = make_history(
        10, [(2, 0), (4, 0), (8, 0)], [(0, "5_daily"), (4, "5_alternate")], labs=[anc], until=7
    )
    rec = recommend(history, protocol, day(8))
    assert rec.action != "stop"
    alert = next(a for a in rec.alerts if a.rule == "LABEL-NEUTROPENIA")
    assert alert.source == "label" and alert.data["grade"] == 2
    counts = rec.labs_due[0]
    assert counts.due == day(9) and counts.rule == "LABEL-NEUTROPENIA"


def test_pregnancy_stops_treatment(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    history = make_history(
        10,
        [(4, 0), (8, 0)],
        [(0, "5_daily"), (4, "5_alternate")],
        events=[{"date": day(7).isoformat(), "type": "pregnancy"}],
    )
    rec = recommend(history, protocol, day(8))
    assert (rec.action, rec.disposition) == ("stop", "PREGNANCY")
    assert rec.reasons[0].rule == "STOP-PREGNANCY" and rec.reasons[0].source == "protocol"


def test_positive_pregnancy_test_stops_treatment(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    history = make_history(
        10,
        [(4, 0)],
        reproductive_potential=True,
        pregnancy_tests=[{"date": day(3).isoformat(), "result": "positive"}],
    )
    rec = recommend(history, protocol, day(4))
    assert (rec.action, rec.disposition) == ("stop", "PREGNANCY")


def test_severe_sledai_flare_stops_treatment(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    history = make_history(10, [(4, 3), (8, 2)], sledai=4, visit_sledai={8: 17})
    rec = recommend(history, protocol, day(8))
    assert rec.action == "stop"
    assert rec.reasons[0].rule == "STOP-SLE-FLARE"
    assert rec.reasons[0].data == {
        "field": "assessments[1].sledai",
        "score": 17,
        "baseline": 4,
        "increase": 13,
    }


def test_second_relapse_leads_to_maintenance_one_step_above(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    # Patients 2 and 14 relapsed at 5 mg three times weekly (Table 2); five patients had two
    # relapses; 21% needed long-term maintenance at 5 mg alternate days or three times a week.
    history = make_history(
        7,
        [(4, 0), (8, 0), (12, 6), (16, 0), (20, 0), (24, 0), (28, 5), (32, 0), (36, 0)],
        [
            (0, "5_daily"),
            (4, "5_alternate"),
            (8, "5_thrice_weekly"),
            (12, "5_daily"),
            (16, "5_alternate"),
            (20, "5_thrice_weekly"),
            (28, "5_alternate"),
        ],
    )
    recs = {r.on: r for r in recommend_at_visits(history, protocol)}
    first = recs[day(12)]
    assert (first.action, first.regimen.id) == ("restart", "5_daily")  # type: ignore[union-attr]
    second = recs[day(28)]
    assert (second.action, second.regimen.id) == ("maintain", "5_alternate")  # type: ignore[union-attr]
    reason = second.reasons[0]
    assert reason.rule == "RELAPSE-MAINTAIN" and reason.source == "default"
    assert reason.data["relapse_number"] == 2
    assert reason.data["regimen_at_relapse"] == "5_thrice_weekly"
    for later in (recs[day(32)], recs[day(36)]):  # CR on maintenance: no further taper
        assert (later.action, later.regimen.id) == ("maintain", "5_alternate")  # type: ignore[union-attr]
        assert later.course.phase == "maintenance"


def test_withdrawn_at_week_1_for_side_effects(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    # Patient 3 discontinued after 1 week for disabling gastrointestinal side effects (Table 3).
    history = make_history(
        3,
        [],
        adverse_events=[
            {"term": "Vomiting", "start": day(1).isoformat(), "grade": 2, "causality": "possible"}
        ],
        events=[{"date": day(1).isoformat(), "type": "physician_decision"}],
    )
    rec = recommend(history, protocol, day(1))
    assert (rec.action, rec.disposition) == ("stop", "PHYSICIAN DECISION")


def test_partial_responder_on_5mg_stays(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    # Patient 13: PR with a maximum dose of 5 mg (Table 2); baseline CLASI-A 3 (Table 1).
    history = make_history(3, [(4, 1), (8, 1), (12, 1)])
    recs = recommend_at_visits(history, protocol)
    assert [(r.action, r.regimen.id) for r in recs] == [("continue", "5_daily")] * 3  # type: ignore[union-attr]
    assert recs[0].reasons[0].rule == "REVIEW-PR"
    assert recs[0].reasons[0].data["improvement_percent"] == 66.7


def test_late_complete_response_of_lupus_profundus_then_full_withdrawal(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    # Patient 5: lupus profundus, CR only at week 36 (Table 2), no relapse.
    visits = [(4, 9), (8, 7), (12, 5), (24, 3), (36, 0), (40, 0), (44, 0), (48, 0), (52, 0)]
    doses = [
        (0, "5_daily"),
        (36, "5_alternate"),
        (40, "5_thrice_weekly"),
        (44, "5_twice_weekly"),
        (48, "off"),
    ]
    recs = recommend_at_visits(make_history(19, visits, doses), protocol)
    assert [r.action for r in recs] == ["continue"] * 4 + ["taper"] * 4 + ["continue"]
    assert recs[-1].regimen.id == "off" and recs[-1].course.phase == "off_in_remission"  # type: ignore[union-attr]
    assert recs[-1].reasons[0].rule == "TAPER-COMPLETE"
    assert recs[-1].labs_due == []  # off treatment: no blood counts due
