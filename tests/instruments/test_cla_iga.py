"""CLA-IGA: the five grades (stated labels), refusals, and the stated "IGA success" rule."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cletrial.errors import FormError
from cletrial.instruments import (
    CLA_IGA_GRADES,
    CLA_IGA_MAX,
    compute_cla_iga_success,
    validate_cla_iga,
)
from cletrial.vocabulary import CLA_IGA_GRADE


def test_five_grades_zero_clear_to_four_severe() -> None:
    # Stated default (module docstring): 0 clear, 1 almost clear, 2 mild, 3 moderate, 4 severe.
    assert CLA_IGA_GRADES == (0, 1, 2, 3, 4)
    assert CLA_IGA_MAX == 4
    assert [CLA_IGA_GRADE.decode(str(g)) for g in CLA_IGA_GRADES] == [
        "Clear", "Almost clear", "Mild", "Moderate", "Severe",
    ]  # fmt: skip


@pytest.mark.parametrize("value", [0, 1, 2, 3, 4])
def test_each_grade_is_accepted(value: int) -> None:
    assert validate_cla_iga(value) == value


@pytest.mark.parametrize("value", [-1, 5, 2.0, "2", True, False, [2]])
def test_out_of_range_or_wrong_type_is_refused_naming_field_and_value(value: Any) -> None:
    with pytest.raises(FormError) as caught:
        validate_cla_iga(value, "assessments[2].cla_iga")
    assert caught.value.field == "assessments[2].cla_iga"
    assert caught.value.value == value
    assert "must be 0, 1, 2, 3 or 4 (0 clear, 1 almost clear, 2 mild, 3 moderate, 4 severe)" in str(
        caught.value
    )


def test_a_blank_is_refused_not_read_as_clear() -> None:
    with pytest.raises(FormError, match=r"cla_iga = null: must be 0, 1, 2, 3 or 4, not blank"):
        validate_cla_iga(None)


@pytest.mark.parametrize(
    ("baseline", "value", "success"),
    [
        # worked by hand: success = value <= 1 and baseline - value >= 2
        (4, 1, True),  # 4 -> 1: almost clear, 3 grades better
        (3, 1, True),  # 3 -> 1: almost clear, exactly 2 grades better
        (2, 0, True),  # mild -> clear
        (2, 1, False),  # almost clear but only 1 grade better
        (4, 2, False),  # 2 grades better but still mild
        (1, 0, False),  # clear, 1 grade better
        (0, 0, False),
        (3, 4, False),  # worse
    ],
)
def test_iga_success_worked_examples(baseline: int, value: int, success: bool) -> None:
    assert compute_cla_iga_success(baseline, value) is success


def test_missing_grades_are_undetermined_not_failures() -> None:
    assert compute_cla_iga_success(None, 0) is None
    assert compute_cla_iga_success(3, None) is None


def test_success_thresholds_are_parameters() -> None:
    assert compute_cla_iga_success(4, 2) is False
    assert compute_cla_iga_success(4, 2, max_grade=2) is True
    assert compute_cla_iga_success(2, 1, min_improvement=1) is True


def test_success_refuses_an_impossible_grade() -> None:
    with pytest.raises(FormError, match=r"^value = 7: must be"):
        compute_cla_iga_success(3, 7)


@given(st.sampled_from(CLA_IGA_GRADES), st.sampled_from(CLA_IGA_GRADES))
def test_success_needs_a_low_grade_and_an_improvement(baseline: int, value: int) -> None:
    success = compute_cla_iga_success(baseline, value)
    assert success == (value <= 1 and baseline - value >= 2)
    if success:
        assert baseline >= 2 and value < baseline
