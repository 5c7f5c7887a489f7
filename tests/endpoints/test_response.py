"""Best response and time to CR on hand-worked histories (protocol specification, section 5).

Every case is derived by the per-patient reference and by the vectorised path (derive_both
requires them to agree), and the expected values were worked out by hand from the rules.
"""

from __future__ import annotations

from tests.endpoints.helpers import derive_both, history

GI_EVENTS = [
    {
        "term": t,
        "start": "2009-01-12",
        "end": "2009-01-26",
        "grade": 2,
        "causality": "possible",
        "serious": False,
    }
    for t in ("Vomiting", "Diarrhea", "Weight loss", "Fatigue")
]


def test_withdrawn_in_week_1_like_patient_3() -> None:
    # Table 2/3: patient 3 stopped after one week for gastrointestinal side effects.
    row = derive_both(
        history(
            base=3,
            doses=[(0, "5_daily"), (7, "off")],
            events=[(7, "physician_decision")],
            aes=GI_EVENTS,
        )
    )
    assert row["best_response"] == "WITHDRAWN"
    assert (row["best_response_day"], row["best_response_srcdom"]) == (7, "events")
    assert row["first_stop_reason"] == "physician_decision"
    assert row["cr_flag"] is False and row["cr_day"] is None
    assert row["n_relapses"] is None and row["relapsed"] is None
    assert row["n_cycles"] == 1 and row["sustained_remission"] is None
    assert (row["n_ae"], row["n_ae_related"], row["max_ae_grade"]) == (4, 4, 2)


def test_withdrawn_by_dose_record_only_points_at_the_dose() -> None:
    row = derive_both(history(doses=[(0, "5_daily"), (5, "off")], visits=[(28, 0)]))
    # stopped on day 5, before the first assessment: the later CLASI-A of 0 is not a CR
    assert row["best_response"] == "WITHDRAWN"
    assert (row["best_response_srcdom"], row["best_response_srcseq"]) == ("doses", 2)
    assert row["cr_day"] is None and row["first_stop_reason"] is None


def test_stop_on_the_day_of_the_first_assessment_is_not_withdrawal() -> None:
    row = derive_both(history(visits=[(28, 4)], doses=[(0, "5_daily"), (28, "off")]))
    assert row["best_response"] == "PR"  # 10 -> 4 is 60%


def test_cr_at_the_first_visit() -> None:
    row = derive_both(history(base=7, visits=[(14, 0), (28, 0)]))
    assert row["best_response"] == "CR"
    assert (row["cr_day"], row["time_to_cr_weeks"], row["cr_srcseq"]) == (14, 2.0, 1)
    assert (row["best_response_day"], row["best_response_srcdom"]) == (14, "assessments")


def test_time_to_cr_counts_weeks_from_first_dose() -> None:
    # Table 2, patient 5: CR at 36 weeks.
    row = derive_both(history(base=19, visits=[(28, 12), (84, 6), (252, 0)]))
    assert row["best_response"] == "CR" and row["time_to_cr_weeks"] == 36.0
    assert row["improvement_wk12_pct"] == (19 - 6) / 19 * 100


def test_pr_that_never_becomes_cr() -> None:
    row = derive_both(history(base=10, visits=[(28, 6), (56, 5), (84, 3), (168, 2)]))
    assert row["best_response"] == "PR"
    assert row["best_response_day"] == 56  # the first visit with >= 50% improvement
    assert row["improvement_wk12_pct"] == 70.0 and row["best_improvement_pct"] == 70.0
    assert row["cr_flag"] is False and row["relapsed"] is None and row["n_relapses"] == 0


def test_improvement_reaching_50_percent_only_after_week_12_is_nr() -> None:
    row = derive_both(history(base=10, visits=[(28, 8), (84, 6), (112, 4)]))
    assert row["best_response"] == "NR"
    assert row["response_note"] == "improved_below_pr"
    assert row["improvement_wk12_pct"] == 40.0


def test_pr_window_includes_the_visit_window_after_week_12() -> None:
    row = derive_both(history(base=10, visits=[(28, 8), (91, 5)]))
    assert row["best_response"] == "PR" and row["wk12_day"] == 91
    row = derive_both(history(base=10, visits=[(28, 8), (92, 5)]))
    assert row["best_response"] == "NR" and row["response_note"] == "week12_visit_missing"


def test_no_improvement_is_nr() -> None:
    row = derive_both(history(base=10, visits=[(28, 10), (84, 12)]))
    assert (row["best_response"], row["response_note"]) == ("NR", "no_improvement")
    assert row["improvement_wk12_pct"] == -20.0
    assert (row["best_response_day"], row["best_response_srcseq"]) == (84, 2)


def test_week_12_visit_closest_to_day_84_wins_and_ties_go_earlier() -> None:
    row = derive_both(history(base=10, visits=[(80, 9), (88, 8)]))
    assert row["wk12_day"] == 80
    row = derive_both(history(base=10, visits=[(79, 9), (86, 8)]))
    assert row["wk12_day"] == 86


def test_no_assessment_at_week_12_yet_is_not_evaluable() -> None:
    row = derive_both(history(base=10, visits=[(28, 8)]))
    assert (row["best_response"], row["response_note"]) == ("NE", "no_week12_assessment")
    assert row["best_response_day"] is None


def test_missing_visits_are_missing_not_zero() -> None:
    # A visit without CLASI (only SLEDAI recorded) is not a CLASI-A of 0.
    row = derive_both(history(base=10, visits=[(28, None, None, 4), (56, 6), (84, None)]))
    assert row["cr_flag"] is False
    assert row["first_assessment_day"] == 56 and row["wk12_day"] is None
    # the week-12 visit happened but CLASI was not recorded: response not evaluable, not NR
    assert (row["best_response"], row["response_note"]) == ("NE", "no_week12_assessment")


def test_missing_baseline_blocks_pr_and_nr_but_not_cr() -> None:
    row = derive_both(history(base=None, visits=[(28, 3), (84, 2)]))
    assert (row["best_response"], row["response_note"]) == ("NE", "baseline_missing")
    assert row["improvement_wk12_pct"] is None
    row = derive_both(history(base=None, visits=[(28, 0)]))
    assert row["best_response"] == "CR"


def test_zero_baseline_is_not_evaluable() -> None:
    row = derive_both(history(base=0, visits=[(28, 2), (84, 2)]))
    assert (row["best_response"], row["response_note"]) == ("NE", "baseline_zero")


def test_not_treated() -> None:
    row = derive_both(history(treated=False, visits=[(28, 0)]))
    assert (row["best_response"], row["response_note"]) == ("NE", "not_treated")
    assert row["treated"] is False and row["cr_flag"] is None and row["n_cycles"] is None
    assert row["n_ae"] is None


def test_assessments_on_or_before_day_0_are_not_efficacy_visits() -> None:
    row = derive_both(history(base=10, visits=[(-3, 0), (0, 0), (84, 9)]))
    assert row["cr_flag"] is False and row["first_assessment_day"] == 84


def test_stopped_after_assessments_without_week_12_is_nr() -> None:
    row = derive_both(
        history(
            base=10,
            visits=[(28, 9)],
            doses=[(0, "5_daily"), (35, "off")],
            events=[(35, "consent_withdrawn")],
        )
    )
    assert (row["best_response"], row["response_note"]) == ("NR", "week12_visit_missing")
    assert row["first_stop_reason"] == "consent_withdrawn"
