"""NCI CTCAE v5.0 (and v3.0 haemoglobin) laboratory grading."""

from __future__ import annotations

import math

import pytest

from cletrial.errors import InputError
from cletrial.instruments import DEFAULT_LLN, convert_lab_value, grade_lab


def test_paper_table3_neutropenia_is_grade_2() -> None:
    # Cortés-Hernández 2012, patient 15: ANC 1,190/mm3, reported as grade 2.
    assert grade_lab("neutrophil_count_decreased", 1190, "/mm3").grade == 2


@pytest.mark.parametrize(
    ("value", "grade"),
    [
        (2.5, 0),
        (2.0, 0),
        (1.99, 1),
        (1.5, 1),
        (1.49, 2),
        (1.0, 2),
        (0.99, 3),
        (0.5, 3),
        (0.49, 4),
        (0, 4),
    ],
)
def test_neutrophil_thresholds_milder_grade_on_the_boundary(value: float, grade: int) -> None:
    assert grade_lab("neutrophil_count_decreased", value, "10^9/L", lln=2.0).grade == grade


@pytest.mark.parametrize(
    ("value", "grade"), [(4.0, 0), (3.0, 1), (2.99, 2), (2.0, 2), (1.99, 3), (1.0, 3), (0.99, 4)]
)
def test_white_cell_thresholds(value: float, grade: int) -> None:
    assert grade_lab("white_blood_cell_decreased", value, "10^9/L", lln=4.0).grade == grade


@pytest.mark.parametrize(
    ("value", "grade"), [(150, 0), (75, 1), (74, 2), (50, 2), (49, 3), (25, 3), (24.9, 4)]
)
def test_platelet_thresholds(value: float, grade: int) -> None:
    assert grade_lab("platelet_count_decreased", value, "10^9/L", lln=150).grade == grade


@pytest.mark.parametrize(
    ("value", "v5", "v3"),
    [(12.0, 0, 0), (10.0, 1, 1), (9.9, 2, 2), (8.0, 2, 2), (7.9, 3, 3), (6.5, 3, 3), (6.4, 3, 4)],
)
def test_anemia_v5_and_v3(value: float, v5: int, v3: int) -> None:
    assert grade_lab("anemia", value, "g/dL", lln=12.0).grade == v5
    assert grade_lab("anemia", value, "g/dL", lln=12.0, version="3.0").grade == v3


def test_anemia_grade_4_in_v5_is_clinical() -> None:
    result = grade_lab("anemia", 5.0, "g/dL")
    assert result.grade == 3
    assert "clinical" in result.note


@pytest.mark.parametrize(
    ("value", "unit"), [(1000, "/mm3"), (1000, "/uL"), (1.0, "10^9/L"), (1.0, "10^3/uL")]
)
def test_count_units_are_equivalent(value: float, unit: str) -> None:
    assert convert_lab_value("neutrophil_count_decreased", value, unit) == 1.0
    assert grade_lab("neutrophil_count_decreased", value, unit).grade == 2


def test_hemoglobin_units() -> None:
    assert convert_lab_value("anemia", 100, "g/L") == 10.0
    assert math.isclose(convert_lab_value("anemia", 6.206, "mmol/L"), 10.0)
    assert grade_lab("anemia", 79, "g/L").grade == 3
    assert grade_lab("anemia", 4.9, "mmol/L").grade == 3  # 7.9 g/dL


def test_lln_given_in_the_value_unit_and_reported() -> None:
    result = grade_lab("neutrophil_count_decreased", 1700, "/mm3", lln=1600)
    assert (result.grade, result.lln_used, result.lln_source) == (0, 1600, "given")
    default = grade_lab("neutrophil_count_decreased", 1700, "/mm3")
    assert (default.grade, default.lln_used, default.lln_source) == (1, 2000, "default")
    assert DEFAULT_LLN["neutrophil_count_decreased"] == 2.0


def test_lln_below_grade_1_floor_never_hides_grade_2() -> None:
    assert grade_lab("neutrophil_count_decreased", 1.45, "10^9/L", lln=1.4).grade == 2


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("neutropenia", 1.0, "10^9/L"), "term"),
        (("anemia", 10.0, "/mm3"), "unit"),
        (("neutrophil_count_decreased", -1, "10^9/L"), "value"),
        (("neutrophil_count_decreased", float("nan"), "10^9/L"), "value"),
    ],
)
def test_bad_input_names_the_field(args: tuple, field: str) -> None:
    with pytest.raises(InputError) as info:
        grade_lab(*args)
    assert info.value.field == field


def test_bad_version_and_lln() -> None:
    with pytest.raises(InputError, match="ctcae_version"):
        grade_lab("anemia", 10, "g/dL", version="4.0")
    with pytest.raises(InputError, match="lln"):
        grade_lab("anemia", 10, "g/dL", lln=-2)
