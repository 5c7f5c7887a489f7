"""CLASI response at each visit: the thresholds of the protocol, CR first, missing never scored."""

from __future__ import annotations

from typing import Any

import pytest

from cletrial.endpoints.course import course_from_history
from cletrial.endpoints.response import compute_response
from cletrial.endpoints.rules import DEFAULT_RULES
from cletrial.endpoints.visit_response import compute_visit_responses


def _history(base: int | None, *activities: int | None) -> dict[str, Any]:
    dates = ["2010-02-01", "2010-03-01", "2010-03-29", "2010-04-26"]
    baseline: dict[str, Any] = {"date": "2010-01-04"}
    if base is not None:
        baseline["clasi"] = {"activity": base}
    visits = [{"date": d} | ({} if a is None else {"clasi": {"activity": a}})
              for d, a in zip(dates, activities, strict=False)]  # fmt: skip
    return {"patient_id": "P", "doses": [{"date": "2010-01-04", "regimen": "5_daily"}],
            "baseline": baseline, "assessments": visits}  # fmt: skip


@pytest.mark.parametrize(
    ("base", "activity", "expected"),
    [
        (10, 5, "PR"),  # exactly 50% (protocol: PR = >= 50% improvement)
        (10, 6, "NR"),  # 40%
        (7, 4, "NR"),  # 42.9%, short of 50%
        (10, 12, "NR"),  # worse
        (10, 0, "CR"),  # CLASI-A = 0
        (0, 0, "CR"),  # CR is absolute: no baseline needed
        (0, 3, "NE"),  # no improvement can be computed from 0
        (None, 3, "NE"),  # baseline missing
        (None, 0, "CR"),
    ],
)
def test_a_visit_is_classified_by_the_protocol_thresholds(
    base: int | None, activity: int, expected: str
) -> None:
    course = course_from_history(_history(base, activity))
    (only,) = compute_visit_responses(course)
    assert only.response == expected


def test_a_visit_without_clasi_has_no_response() -> None:
    course = course_from_history(_history(10, None, 4))
    assert [(r.seq, r.response) for r in compute_visit_responses(course)] == [(2, "PR")]


def test_any_cr_visit_means_a_best_response_of_cr() -> None:
    for activities in [(8, 3, 0), (5, 0, 6), (0,)]:
        course = course_from_history(_history(10, *activities))
        visits = compute_visit_responses(course)
        assert "CR" in [v.response for v in visits]
        assert compute_response(course, DEFAULT_RULES)["best_response"] == "CR"
