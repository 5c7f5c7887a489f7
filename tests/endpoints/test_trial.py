"""Trial endpoints at a named week: CLASI-50/70 (LILAC definition), CLA-IGA success and
Skindex-29+3 change, worked by hand; missing stays missing unless NRI is asked for; the
vectorised CLASI derivation agrees with the per-patient reference on messy random cohorts."""

from __future__ import annotations

import dataclasses
import math
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.endpoints.random_histories import random_cohort

from cletrial.endpoints import (
    TrialEndpointRules,
    build_visit_table,
    compute_clasi_percent_change,
    compute_clasi_responder,
    compute_trial_endpoints,
    course_from_history,
    derive_clasi_responders,
    derive_trial_endpoints,
)
from cletrial.errors import InputError

DAY0 = date(2024, 1, 8)


def _on(day: int) -> str:
    return (DAY0 + timedelta(days=day)).isoformat()


def _patient(base: int | None, visits: list[tuple[int, dict[str, Any]]], **baseline: Any) -> Any:
    document: dict[str, Any] = {
        "patient_id": "T",
        "first_dose_date": _on(0),
        "doses": [{"date": _on(0), "regimen": "5_daily"}],
        "baseline": {"date": _on(0), **baseline},
        "assessments": [{"date": _on(day), **parts} for day, parts in visits],
    }
    if base is not None:
        document["baseline"]["clasi"] = {"activity": base}
    return course_from_history(document)


def _clasi(activity: int) -> dict[str, Any]:
    return {"clasi": {"activity": activity}}


# ------------------------------------------------------------------------ CLASI-50 / CLASI-70


@pytest.mark.parametrize(
    ("base", "value", "pct", "r50", "r70"),
    [
        # worked by hand: change = (value - base) / base x 100; responder: reduction >= t
        (10, 5, -50.0, True, False),  # exactly 50%: a CLASI-50 responder
        (10, 6, -40.0, False, False),
        (10, 3, -70.0, True, True),  # exactly 70%
        (20, 7, -65.0, True, False),
        (12, 0, -100.0, True, True),
        (8, 10, 25.0, False, False),  # worse
        (3, 1, -200 / 3, True, False),
    ],
)
def test_percent_change_and_responders_worked_examples(
    base: int, value: int, pct: float, r50: bool, r70: bool
) -> None:
    assert compute_clasi_percent_change(base, value) == pytest.approx(pct)
    assert compute_clasi_responder(base, value, 50) is r50
    assert compute_clasi_responder(base, value, 70) is r70


def test_baseline_zero_or_missing_is_undetermined() -> None:
    assert compute_clasi_percent_change(0, 0) is None
    assert compute_clasi_responder(0, 0, 50) is None
    assert compute_clasi_responder(None, 3, 50) is None


def test_an_impossible_score_is_refused() -> None:
    with pytest.raises(InputError, match=r"value = 71: must be a CLASI-A score, an integer 0-70"):
        compute_clasi_percent_change(10, 71)


def test_the_week_16_visit_is_the_closest_in_the_window() -> None:
    # day 112 = week 16; visits on 105 and 118 are 7 and 6 days away: 118 is taken
    course = _patient(14, [(28, _clasi(10)), (105, _clasi(7)), (118, _clasi(4))])
    row = compute_trial_endpoints(course, TrialEndpointRules(week=16))
    assert (row["clasi_wk_day"], row["clasi_wk_srcseq"], row["clasi_a_wk"]) == (118, 3, 4.0)
    assert row["clasi_pct_change"] == pytest.approx((4 - 14) / 14 * 100)  # -71.4%
    assert (row["clasi50"], row["clasi70"], row["clasi_note"]) == (True, True, None)


def test_a_tie_in_the_window_takes_the_earlier_visit() -> None:
    course = _patient(10, [(109, _clasi(5)), (115, _clasi(2))])
    assert compute_trial_endpoints(course)["clasi_wk_day"] == 109


def test_no_visit_in_the_window_is_missing_not_non_responder() -> None:
    course = _patient(10, [(28, _clasi(2)), (140, _clasi(1))])
    row = compute_trial_endpoints(course)
    assert (row["clasi50"], row["clasi70"], row["clasi_note"]) == (None, None, "visit_missing")


def test_non_responder_imputation_only_when_asked() -> None:
    course = _patient(10, [(28, _clasi(2))], cla_iga=3)
    row = compute_trial_endpoints(course, TrialEndpointRules(nri=True))
    assert (row["clasi50"], row["clasi_note"]) == (False, "visit_missing_nri")
    assert (row["cla_iga_success"], row["cla_iga_note"]) == (False, "visit_missing_nri")


def test_baseline_zero_stays_undetermined_even_with_nri() -> None:
    row = compute_trial_endpoints(_patient(0, [(112, _clasi(0))]), TrialEndpointRules(nri=True))
    assert (row["clasi50"], row["clasi_note"]) == (None, "baseline_zero")
    row = compute_trial_endpoints(_patient(None, [(112, _clasi(0))]))
    assert (row["clasi50"], row["clasi_note"]) == (None, "baseline_missing")


def test_thresholds_and_week_are_parameters() -> None:
    course = _patient(10, [(84, _clasi(6)), (168, _clasi(2))])
    row = compute_trial_endpoints(course, TrialEndpointRules(week=12, thresholds=(40,)))
    assert row["clasi40"] is True and "clasi50" not in row
    assert compute_trial_endpoints(course, TrialEndpointRules(week=24))["clasi70"] is True


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"week": 0}, "week = 0: must be a whole number of weeks from 1 to 520"),
        ({"week": 16.0}, "week = 16.0: must be"),
        ({"window_days": -1}, "window_days = -1: must be a whole number from 0 to 48"),
        ({"thresholds": (0,)}, "thresholds = [0]: must be percentages 1-100"),
        ({"thresholds": ()}, "thresholds = []: must be percentages 1-100"),
    ],
)
def test_impossible_settings_are_refused(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as caught:
        TrialEndpointRules(**settings)
    assert str(caught.value).startswith(message)


# ------------------------------------------------------------------- CLA-IGA and Skindex-29+3


def test_cla_iga_success_at_the_week() -> None:
    course = _patient(10, [(56, {"cla_iga": 2}), (112, {"cla_iga": 1})], cla_iga=3)
    row = compute_trial_endpoints(course)
    assert (row["cla_iga_base"], row["cla_iga_wk"], row["cla_iga_wk_day"]) == (3, 1, 112)
    assert (row["cla_iga_success"], row["cla_iga_note"]) == (True, None)


def test_cla_iga_missing_is_missing() -> None:
    row = compute_trial_endpoints(_patient(10, [(112, {"cla_iga": 0})]))
    assert (row["cla_iga_success"], row["cla_iga_note"]) == (None, "baseline_missing")
    row = compute_trial_endpoints(_patient(10, [(112, _clasi(3))], cla_iga=4))
    assert (row["cla_iga_success"], row["cla_iga_note"]) == (None, "visit_missing")


def test_a_clear_baseline_grade_is_determined_and_not_a_success() -> None:
    row = compute_trial_endpoints(_patient(10, [(112, {"cla_iga": 0})], cla_iga=0))
    assert (row["cla_iga_success"], row["cla_iga_note"]) == (False, None)


def test_skindex_domain_change_worked_example() -> None:
    """Lupus-specific items 31-33: baseline 4, 4, 5 -> (75+75+100)/3 = 83.33; week 16 2, 2, 3 ->
    (25+25+50)/3 = 33.33; change -50.0. Symptoms unanswered at week 16: missing, no change."""
    symptoms = {str(i): 4 for i in (1, 7, 10, 16, 19, 24, 27)}  # 75
    course = _patient(
        10,
        [(112, {"skindex": {"31": 2, "32": 2, "33": 3}})],
        skindex={"31": 4, "32": 4, "33": 5, **symptoms},
    )
    row = compute_trial_endpoints(course)
    assert row["skindex_lupus_specific_base"] == pytest.approx(250 / 3)
    assert row["skindex_lupus_specific_wk"] == pytest.approx(100 / 3)
    assert row["skindex_lupus_specific_chg"] == pytest.approx(-50.0)
    assert (row["skindex_symptoms_base"], row["skindex_symptoms_wk"]) == (75.0, None)
    assert row["skindex_symptoms_chg"] is None and row["skindex_wk_day"] == 112


# ------------------------------------------------------------------------- the two paths agree


def _same(a: Any, b: Any) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return bool(a == b) if not isinstance(a, float) else b is not None and math.isclose(a, b)


@pytest.mark.parametrize("nri", [False, True])
@pytest.mark.parametrize("week", [4, 12, 16, 24])
def test_vectorised_clasi_agrees_with_the_reference(week: int, nri: bool) -> None:
    courses = [course_from_history(h) for h in random_cohort(seed=week, n=120)]
    rules = TrialEndpointRules(week=week, nri=nri)
    vec = derive_clasi_responders(build_visit_table(courses), rules)
    for p, course in enumerate(courses):
        ref = compute_trial_endpoints(course, rules)
        for name, values in vec.items():
            cell = values[p]
            if name in ("clasi50", "clasi70") and not np.isnan(cell):
                cell = bool(cell)
            assert _same(cell, ref[name]), (course.patient_id, name, cell, ref[name])


def test_the_cohort_frame_has_one_row_per_patient_and_nullable_types() -> None:
    courses = [course_from_history(h) for h in random_cohort(seed=3, n=30)]
    frame = derive_trial_endpoints(courses)
    assert len(frame) == 30 and list(frame["patient_id"]) == [c.patient_id for c in courses]
    assert str(frame["clasi50"].dtype) == "boolean" and str(frame["clasi_wk_day"].dtype) == "Int64"
    assert frame["clasi50"].isna().sum() == sum(
        compute_trial_endpoints(c)["clasi50"] is None for c in courses
    )


@given(st.integers(1, 70), st.integers(0, 70))
def test_a_clasi70_responder_is_a_clasi50_responder(base: int, value: int) -> None:
    if compute_clasi_responder(base, value, 70):
        assert compute_clasi_responder(base, value, 50)
    change = compute_clasi_percent_change(base, value)
    assert change is not None and change >= -100.0
    assert compute_clasi_responder(base, value, 50) == (change <= -50.0 + 1e-9)


def test_every_trial_setting_is_documented() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "endpoints.md").read_text()
    for field in dataclasses.fields(TrialEndpointRules):
        assert f"`{field.name}`" in text, field.name
