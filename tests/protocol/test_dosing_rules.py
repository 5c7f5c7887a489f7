"""One test (at least) per dosing rule of shared/spec/protocol.md section 2 and the relapse
state of section 5; every number comes from the protocol file, and changing it changes the
answer."""

from __future__ import annotations

from collections.abc import Callable

from cletrial.protocol import ProtocolDefinition, recommend

from .conftest import HistoryFactory, day

Variant = Callable[..., ProtocolDefinition]


def test_start_at_5mg_daily(protocol: ProtocolDefinition, make_history: HistoryFactory) -> None:
    rec = recommend(make_history(10, [], []), protocol, day(0))
    assert (rec.action, rec.regimen.id, rec.regimen.dose_mg) == ("start", "5_daily", 5)  # type: ignore[union-attr]
    assert rec.reasons[0].rule == "DOSE-START" and rec.reasons[0].data["review_week"] == 4
    assert rec.current_regimen.id == "off" and rec.course.phase == "not_started"
    assert {due.name for due in rec.labs_due} >= {"anti-dsDNA", "C3", "C4"}
    assert {due.rule for due in rec.labs_due} == {"BASELINE-PANEL"}
    done = make_history(
        10,
        [],
        [],
        labs=[{"date": day(0).isoformat(), "test": "anti_dsdna", "value": 8, "unit": "IU/mL"}],
    )
    assert "anti-dsDNA" not in {d.name for d in recommend(done, protocol, day(0)).labs_due}


def test_induction_holds_until_review(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    rec = recommend(make_history(10, [(2, 3)]), protocol, day(2))
    assert (rec.action, rec.regimen.id) == ("continue", "5_daily")  # type: ignore[union-attr]
    assert rec.reasons[0].rule == "DOSE-INDUCTION"
    assert rec.next_visit is not None and rec.next_visit.date == day(4)


def test_review_cr_begins_taper(protocol: ProtocolDefinition, make_history: HistoryFactory) -> None:
    rec = recommend(make_history(10, [(4, 0)]), protocol, day(4))
    assert (rec.action, rec.regimen.id) == ("taper", "5_alternate")  # type: ignore[union-attr]
    assert [r.rule for r in rec.reasons] == ["REVIEW-CR", "TAPER-STEP", "TAPER-LADDER"]
    assert rec.reasons[2].source == "default"


def test_review_pr_stays(protocol: ProtocolDefinition, make_history: HistoryFactory) -> None:
    rec = recommend(make_history(10, [(4, 5)]), protocol, day(4))  # exactly 50%
    assert (rec.action, rec.regimen.id, rec.reasons[0].rule) == ("continue", "5_daily", "REVIEW-PR")  # type: ignore[union-attr]


def test_review_short_of_pr_escalates(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    rec = recommend(make_history(10, [(4, 6)]), protocol, day(4))  # 40%: short of PR
    assert (rec.action, rec.regimen.id) == ("escalate", "10_daily")  # type: ignore[union-attr]
    reason = rec.reasons[0]
    assert (reason.rule, reason.source) == ("REVIEW-ESCALATE", "default")
    assert reason.data["escalation_below_improvement_percent"] == 50


def test_review_window_opens_a_week_early(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    early = recommend(make_history(10, [(2.8, 6)]), protocol, day(2.8))  # day 20: not yet
    assert early.action == "continue"
    opened = recommend(make_history(10, [(3, 6)]), protocol, day(3))  # day 21: review
    assert opened.action == "escalate"


def test_minor_improvement_with_lower_escalation_threshold(
    variant: Variant, make_history: HistoryFactory
) -> None:
    protocol = variant(dosing__escalation__below_improvement_percent=1)
    rec = recommend(make_history(10, [(4, 8)]), protocol, day(4))  # 20%: not PR, not < 1%
    assert (rec.action, rec.reasons[0].rule) == ("continue", "REVIEW-MINOR")
    worse = recommend(make_history(10, [(4, 10)]), protocol, day(4))  # no improvement
    assert worse.action == "escalate"


def test_changing_the_pr_threshold_changes_the_answer(
    variant: Variant, make_history: HistoryFactory
) -> None:
    protocol = variant(
        response__partial_response_min_improvement_percent=40,
        dosing__escalation__below_improvement_percent=40,
    )
    rec = recommend(make_history(10, [(4, 6)]), protocol, day(4))
    assert (rec.action, rec.reasons[0].rule) == ("continue", "REVIEW-PR")


def test_review_missing_is_undetermined_not_guessed(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    history = make_history(10, [(2, 0), (4, None)])  # week-4 visit without CLASI
    rec = recommend(history, protocol, day(4))
    assert rec.action == "undetermined" and rec.regimen is None
    part = rec.undetermined[0]
    assert (part.part, part.rule) == ("dose", "REVIEW-MISSING")
    assert part.missing == [f"assessments[].clasi dated {day(3).isoformat()} or later"]
    assert rec.current_regimen.id == "5_daily"
    late = recommend(history, protocol, day(6))
    assert any(a.rule == "REVIEW-MISSING" for a in late.alerts)


def test_review_without_baseline_clasi_is_undetermined(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    rec = recommend(make_history(None, [(4, 5)]), protocol, day(4))
    assert rec.action == "undetermined"
    assert rec.undetermined[0].rule == "REFERENCE-MISSING"
    assert rec.undetermined[0].missing == ["baseline.clasi"]
    cr = recommend(make_history(None, [(4, 0)]), protocol, day(4))  # CR needs no reference
    assert cr.action == "taper"


def test_taper_one_step_per_interval(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    doses = [(0, "5_daily"), (4, "5_alternate")]
    waiting = recommend(make_history(10, [(4, 0), (6, 0)], doses), protocol, day(6))
    assert waiting.action == "continue" and waiting.reasons[0].rule == "TAPER-STEP"
    assert waiting.reasons[0].data["next_step_due"] == day(8)
    assert waiting.next_visit is not None and waiting.next_visit.date == day(8)
    due = recommend(make_history(10, [(4, 0), (8, 0)], doses), protocol, day(8))
    assert (due.action, due.regimen.id) == ("taper", "5_thrice_weekly")  # type: ignore[union-attr]
    assert [r.rule for r in due.reasons] == ["TAPER-STEP", "TAPER-LADDER", "TAPER-TOLERANCE"]


def test_taper_tolerance_accepts_a_step_a_week_early(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    doses = [(0, "5_daily"), (4, "5_alternate")]
    on_day_21 = recommend(make_history(10, [(4, 0), (7, 0)], doses), protocol, day(7))
    assert on_day_21.action == "taper"
    history = make_history(10, [(4, 0), (6.86, 0)], doses)  # 20 days after the change
    assert recommend(history, protocol, day(6.86)).action == "continue"


def test_taper_interval_is_a_setting(variant: Variant, make_history: HistoryFactory) -> None:
    protocol = variant(dosing__taper__interval_weeks=8)
    doses = [(0, "5_daily"), (4, "5_alternate")]
    rec = recommend(make_history(10, [(4, 0), (8, 0)], doses), protocol, day(8))
    assert rec.action == "continue"


def test_taper_pauses_when_cr_slips_below_relapse(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    doses = [(0, "5_daily"), (4, "5_alternate")]
    rec = recommend(make_history(10, [(4, 0), (8, 2)], doses), protocol, day(8))
    assert (rec.action, rec.regimen.id) == ("continue", "5_alternate")  # type: ignore[union-attr]
    assert rec.reasons[0].rule == "TAPER-PAUSED"


def test_taper_complete_stays_off(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    doses = [
        (0, "5_daily"),
        (4, "5_alternate"),
        (8, "5_thrice_weekly"),
        (12, "5_twice_weekly"),
        (16, "off"),
    ]
    visits = [(4, 0), (8, 0), (12, 0), (16, 0), (20, 0)]
    rec = recommend(make_history(10, visits, doses), protocol, day(20))
    assert (rec.action, rec.regimen.id, rec.reasons[0].rule) == (
        "continue",
        "off",
        "TAPER-COMPLETE",
    )  # type: ignore[union-attr]


def test_taper_step_needs_a_recent_assessment(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    doses = [(0, "5_daily"), (4, "5_alternate")]
    rec = recommend(make_history(10, [(4, 0), (6, 0)], doses), protocol, day(8))
    assert rec.action == "undetermined"
    assert rec.undetermined[0].rule == "DECISION-ASSESSMENT-AGE"


def test_cr_lost_before_any_reduction_is_not_a_relapse(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    rec = recommend(make_history(10, [(4, 0), (6, 6)]), protocol, day(6))
    assert (rec.action, rec.regimen.id) == ("continue", "5_daily")  # type: ignore[union-attr]
    assert rec.reasons[0].rule == "CR-LOST"
    assert any(a.rule == "CR-LOST" for a in rec.alerts)
    assert rec.course.relapses == []


def test_relapse_below_threshold_is_not_a_relapse(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    doses = [(0, "5_daily"), (4, "5_alternate")]
    assert (
        recommend(make_history(10, [(4, 0), (6, 3)], doses), protocol, day(6)).action == "continue"
    )
    assert (
        recommend(make_history(10, [(4, 0), (6, 4)], doses), protocol, day(6)).action == "restart"
    )


def test_relapse_after_withdrawal_restarts(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    doses = [
        (0, "5_daily"),
        (4, "5_alternate"),
        (8, "5_thrice_weekly"),
        (12, "5_twice_weekly"),
        (16, "off"),
    ]
    visits = [(4, 0), (8, 0), (12, 0), (16, 0), (20, 7)]
    rec = recommend(make_history(10, visits, doses), protocol, day(20))
    assert (rec.action, rec.regimen.id) == ("restart", "5_daily")  # type: ignore[union-attr]
    assert rec.reasons[0].data["regimen_at_relapse"] == "off"


def test_untreated_relapse_followed_by_cr_is_not_restarted(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    doses = [(0, "5_daily"), (4, "5_alternate")]
    rec = recommend(make_history(10, [(4, 0), (6, 5), (8, 0)], doses), protocol, day(8))
    assert rec.action != "restart"
    assert any(r.rule == "RELAPSE-RESOLVED" for r in rec.reasons)
    assert len(rec.course.relapses) == 1


def test_maintenance_is_capped_at_the_highest_setting(
    variant: Variant, make_history: HistoryFactory
) -> None:
    protocol = variant(
        dosing__maintenance__after_relapses=1, dosing__maintenance__steps_above_relapse=3
    )
    doses = [(0, "5_daily"), (4, "5_alternate")]
    rec = recommend(make_history(10, [(4, 0), (6, 5)], doses), protocol, day(6))
    assert (rec.action, rec.regimen.id) == ("maintain", "5_daily")  # type: ignore[union-attr]


def test_maintenance_switched_off_always_restarts(
    variant: Variant, make_history: HistoryFactory
) -> None:
    protocol = variant(
        dosing__maintenance__after_relapses=1,
        rules__RELAPSE_MAINTAIN={"source": "default", "enabled": False},
    )
    doses = [(0, "5_daily"), (4, "5_alternate")]
    rec = recommend(make_history(10, [(4, 0), (6, 5)], doses), protocol, day(6))
    assert rec.action == "restart"


def test_flare_on_maintenance_alerts(variant: Variant, make_history: HistoryFactory) -> None:
    protocol = variant(dosing__maintenance__after_relapses=1)
    doses = [(0, "5_daily"), (4, "5_alternate"), (6, "5_daily")]
    history = make_history(10, [(4, 0), (6, 5), (10, 0), (14, 6)], doses)
    rec = recommend(history, protocol, day(14))
    assert (rec.action, rec.regimen.id) == ("maintain", "5_daily")  # type: ignore[union-attr]
    assert any(a.rule == "MAINTENANCE-FLARE" for a in rec.alerts)


def test_week12_on_10mg_without_response_recommends_stopping(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    history = make_history(10, [(4, 8), (8, 7), (12, 6)], [(0, "5_daily"), (4, "10_daily")])
    rec = recommend(history, protocol, day(12))
    assert (rec.action, rec.regimen.id) == ("stop", "off")  # type: ignore[union-attr]
    assert rec.requires_physician_decision and rec.disposition == "LACK OF EFFICACY"
    assert rec.reasons[0].rule == "NONRESPONSE-STOP" and rec.reasons[0].source == "default"
    stopped = make_history(
        10, [(4, 8), (8, 7), (12, 6), (16, 6)], [(0, "5_daily"), (4, "10_daily"), (12, "off")]
    )
    after = recommend(stopped, protocol, day(16))
    assert (after.action, after.regimen.id) == ("stop", "off")  # type: ignore[union-attr]
    assert after.deviations == []  # the discontinuation was the protocol's advice


def test_week12_check_needs_its_assessment(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    history = make_history(10, [(4, 8), (8, 7)], [(0, "5_daily"), (4, "10_daily")], until=12)
    rec = recommend(history, protocol, day(12))
    assert rec.action == "undetermined" and rec.undetermined[0].rule == "NONRESPONSE-STOP"


def test_week12_rule_can_be_switched_off(variant: Variant, make_history: HistoryFactory) -> None:
    protocol = variant(rules__NONRESPONSE_STOP={"source": "default", "enabled": False})
    history = make_history(10, [(4, 8), (8, 7), (12, 6)], [(0, "5_daily"), (4, "10_daily")])
    assert recommend(history, protocol, day(12)).action == "continue"


def test_cr_on_10mg_tapers_from_10mg(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    history = make_history(10, [(4, 8), (8, 0)], [(0, "5_daily"), (4, "10_daily")])
    rec = recommend(history, protocol, day(8))
    assert (rec.action, rec.regimen.id) == ("taper", "5_daily")  # type: ignore[union-attr]


def test_dose_changed_against_protocol_is_a_deviation(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    history = make_history(10, [(2, 8), (4, 2)], [(0, "5_daily"), (2, "10_daily")])
    rec = recommend(history, protocol, day(4))
    deviation = rec.deviations[0]
    assert (deviation.rule, deviation.field, deviation.date) == (
        "DEVIATION-DOSE",
        "doses[1].regimen",
        day(2),
    )
    assert deviation.data == {"given": "10_daily", "protocol": "5_daily"}
    first = recommend(make_history(10, [], [(0, "10_daily")]), protocol, day(1))
    assert first.deviations[0].field == "doses[0].regimen"


def test_complete_response_never_raises_the_dose(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    # Reduced before the review (a deviation), then in CR: the protocol's 5 mg daily is not
    # restored while the patient is in complete response.
    history = make_history(10, [(1, 4), (2, 0)], [(0, "5_daily"), (1, "5_alternate")])
    rec = recommend(history, protocol, day(2))
    assert (rec.action, rec.regimen.id) == ("continue", "5_alternate")  # type: ignore[union-attr]
    assert "CR-NO-ESCALATION" in [r.rule for r in rec.reasons]
    assert [d.rule for d in rec.deviations] == ["DEVIATION-DOSE"]
    active = make_history(10, [(1, 4), (2, 3)], [(0, "5_daily"), (1, "5_alternate")])
    assert recommend(active, protocol, day(2)).action == "escalate"  # back to the cycle's 5 mg
