"""The laboratory analyte catalogue: pint conversions against the cited factors, impossible and
improbable values, units per test, qualitative results."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cletrial.errors import InputError
from cletrial.instruments import (
    ANALYTES,
    CTCAE_TERMS,
    LAB_TESTS,
    check_lab_result,
    check_lab_value,
    grade_lab,
    lab_units,
    to_canonical,
)
from cletrial.instruments.analytes import unit_factor


# Factors cited in shared/spec/instruments.md ("Units"): /mm3 = /uL; 10^9/L = 10^3/uL;
# haemoglobin g/dL x 10 = g/L; g/dL x 0.6206 = mmol/L. C3/C4: 1 g/L = 100 mg/dL (SI prefixes).
@pytest.mark.parametrize(
    ("test", "unit", "factor"),
    [
        ("neutrophils", "10^9/L", 1.0), ("neutrophils", "x10^9/L", 1.0),
        ("neutrophils", "10^3/uL", 1.0), ("neutrophils", "/mm3", 1e-3),
        ("neutrophils", "/uL", 1e-3), ("platelets", "/mm3", 1e-3), ("wbc", "/uL", 1e-3),
        ("hemoglobin", "g/dL", 1.0), ("hemoglobin", "g/L", 0.1),
        ("hemoglobin", "mmol/L", 1 / 0.6206), ("c3", "g/L", 100.0), ("c4", "mg/dL", 1.0),
        ("anti_dsdna", "IU/ml", 1.0),
    ],
)  # fmt: skip
def test_pint_factors_match_the_cited_conversions(test: str, unit: str, factor: float) -> None:
    assert math.isclose(unit_factor(test, unit), factor, rel_tol=1e-9)


def test_the_1190_per_mm3_of_patient_15_is_1_19_and_grade_2() -> None:
    # Table 3 of the 2012 paper: patient 15, grade 2 neutropenia, ANC 1,190/mm3.
    assert to_canonical("neutrophils", 1190, "/mm3") == 1.19
    assert grade_lab("neutrophil_count_decreased", 1190, "/mm3").grade == 2


def test_ctcae_terms_take_their_units_from_the_catalogue() -> None:
    for spec in CTCAE_TERMS.values():
        assert spec.units == ANALYTES[spec.test].units
        assert spec.canonical_unit == ANALYTES[spec.test].canonical_unit


def test_3800_neutrophils_in_10e9_per_litre_is_refused_with_the_unit_meant() -> None:
    with pytest.raises(InputError) as err:
        check_lab_value("neutrophils", 3800, "10^9/L", field="labs.value")
    assert err.value.field == "labs.value" and err.value.value == 3800
    assert "impossible" in err.value.problem and "0 to 150 10^9/L" in err.value.problem
    assert "Did you mean 3800 /mm3 (3.8 10^9/L)?" in err.value.problem


def test_250000_platelets_in_10e9_per_litre_is_refused() -> None:
    with pytest.raises(InputError, match="impossible for Platelets"):
        check_lab_value("platelets", 250000, "10^9/L")
    assert check_lab_value("platelets", 250000, "/mm3").std_value == 250.0


def test_an_improbable_value_is_flagged_with_a_message() -> None:
    check = check_lab_value("neutrophils", 3.8, "/mm3")
    assert check.improbable and check.std_value == 0.0038 and check.std_unit == "10^9/L"
    assert "improbable" in check.message and "Did you mean 3.8 10^9/L?" in check.message
    assert not check_lab_value("neutrophils", 3.8, "10^9/L").improbable


@pytest.mark.parametrize(
    ("value", "unit", "field", "problem"),
    [
        (-1, "10^9/L", "value", "0 or more"), (math.nan, "10^9/L", "value", "finite"),
        (True, "10^9/L", "value", "a number"), ("3", "10^9/L", "value", "a number"),
        (3, "g/dL", "unit", "must be one of 10^9/L"),
    ],
)  # fmt: skip
def test_bad_values_and_units_name_the_field(
    value: object, unit: str, field: str, problem: str
) -> None:
    with pytest.raises(InputError) as err:
        check_lab_value("neutrophils", value, unit)  # type: ignore[arg-type]
    assert err.value.field == field and problem in err.value.problem


def test_qualitative_tests_take_a_result_not_a_value() -> None:
    assert lab_units("antiphospholipid") == ()
    assert check_lab_result("anti_ena", "negative") == "negative"
    with pytest.raises(InputError, match="qualitative"):
        check_lab_value("ana", 160, "IU/mL")
    with pytest.raises(InputError, match="quantitative"):
        check_lab_result("c3", "positive")
    with pytest.raises(InputError, match="must be one of"):
        check_lab_result("troponin", "positive")


def test_every_test_of_the_catalogue_is_consistent() -> None:
    for test in LAB_TESTS:
        a = ANALYTES[test]
        if a.kind == "quantitative":
            assert a.canonical_unit in a.units and a.default_unit == a.units[0]
            low, high = a.impossible
            assert high is not None and (low or 0) <= (a.improbable[0] or 0)
            assert a.improbable[1] is None or a.improbable[1] <= high
        else:
            assert a.results and not a.units and a.ctcae_term is None


@given(st.sampled_from([t for t in LAB_TESTS if ANALYTES[t].kind == "quantitative"]),
       st.floats(min_value=0, max_value=1e7, allow_nan=False))  # fmt: skip
def test_a_value_is_refused_exactly_when_outside_the_impossible_range(
    test: str, value: float
) -> None:
    a = ANALYTES[test]
    unit = a.units[-1]
    std = to_canonical(test, value, unit)
    low, high = a.impossible
    inside = (low is None or std >= low) and (high is None or std <= high)
    if inside:
        assert check_lab_value(test, value, unit).std_value == std
    else:
        with pytest.raises(InputError, match="impossible"):
            check_lab_value(test, value, unit)
