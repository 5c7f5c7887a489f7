"""The vectorised derivation agrees with the per-patient reference on every derived value."""

from __future__ import annotations

import math
from typing import Any

import pytest
from tests.endpoints.random_histories import random_cohort

from cletrial.endpoints import (
    build_visit_table,
    compute_patient_endpoints,
    course_from_history,
    derive_endpoints,
    iter_courses,
    subject_columns,
)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return a == b and type(a) is type(b)


def assert_agree(histories: list[dict[str, Any]]) -> None:
    courses = [course_from_history(h) for h in histories]
    table = build_visit_table(courses)
    fast = derive_endpoints(table)
    rows = fast.records()
    fast_relapses = fast.relapse_records()
    expected_relapses = []
    for course, row in zip(courses, rows, strict=True):
        ref = compute_patient_endpoints(course)
        for name in subject_columns():
            assert same(ref.subject[name], row[name]), (
                course.patient_id,
                name,
                ref.subject[name],
                row[name],
            )
        expected_relapses.extend(ref.relapses)
    assert len(expected_relapses) == len(fast_relapses)
    for want, got in zip(expected_relapses, fast_relapses, strict=True):
        for name, value in want.items():
            assert same(value, got[name]), (want["patient_id"], name, value, got[name])


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_vectorised_matches_reference_on_random_cohorts(seed: int) -> None:
    assert_agree(random_cohort(seed, 300))


def test_courses_round_trip_through_the_table() -> None:
    courses = [course_from_history(h) for h in random_cohort(11, 100)]
    assert list(iter_courses(build_visit_table(courses))) == courses
