"""SAS transport v5: a dataset reads back as written; the v5 limits are refused, never cut."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
from tests.standards.package import adsl, dm, with_value

from cletrial.errors import StandardsError
from cletrial.standards.metadata import Dataset, Variable
from cletrial.standards.xpt import read_xpt, write_xpt


@pytest.mark.parametrize("make", [dm, adsl])
def test_round_trip_values_names_labels_types(make, tmp_path: Path) -> None:
    dataset = make()
    frame = read_xpt(write_xpt(dataset, tmp_path / f"{dataset.name.lower()}.xpt"))
    pd.testing.assert_frame_equal(frame, dataset.frame, check_dtype=False)
    assert frame.attrs["name"] == dataset.name
    assert frame.attrs["label"] == dataset.spec.label
    assert frame.attrs["labels"] == {v.name: v.label for v in dataset.spec.variables}
    numeric = {"integer", "float", "sas_date"}
    assert frame.attrs["types"] == {
        v.name: "double" if v.type in numeric else "string" for v in dataset.spec.variables
    }
    for var in dataset.spec.variables:
        assert frame[var.name].dtype == ("float64" if var.type in ("integer", "float") else object)
        if var.type in ("text", "iso8601"):
            assert frame.attrs["widths"][var.name] == dataset.text_length(var.name)


def test_dates_come_back_as_dates_with_date9(tmp_path: Path) -> None:
    frame = read_xpt(write_xpt(adsl(), tmp_path / "adsl.xpt"))
    assert frame.attrs["formats"] == {"TRTSDT": "DATE9."}
    assert [type(v).__name__ for v in frame["TRTSDT"]] == ["date", "date", "NoneType"]


def _spec_with(dataset: Dataset, index: int, **change: object) -> Dataset:
    variables = list(dataset.spec.variables)
    variables[index] = dataclasses.replace(variables[index], **change)  # type: ignore[arg-type]
    spec = dataclasses.replace(dataset.spec, variables=tuple(variables))
    return Dataset(spec, dataset.frame.set_axis(spec.names, axis=1))


@pytest.mark.parametrize(
    ("make_bad", "message"),
    [
        (lambda: _spec_with(dm(), 2, name="AGEINYRS9"), r"DM\.AGEINYRS9: .*at most 8 characters"),
        (lambda: _spec_with(dm(), 2, label="A" * 41), r"DM\.AGE: label 'A{41}' has 41 characters"),
        (lambda: with_value(_spec_with(dm(), 5, length=None), "SITENM", "x" * 201),
         r"DM\.SITENM, row 1 = 'x+\.\.\.: 201 bytes; at most 200"),
        (lambda: with_value(_spec_with(dm(), 5, length=None), "SITENM", "é" * 101),
         r"DM\.SITENM, row 1 = 'é+\.\.\.: 202 bytes; at most 200"),
        (lambda: with_value(dm(), "SITENM", "é" * 21), r"DM\.SITENM, row 1 .*42 bytes; at most 40"),
        (lambda: with_value(dm(), "AGE", "41"), r"DM\.AGE, row 1 = '41': an integer value must"),
        (lambda: with_value(adsl(), "TRTSDT", "2024-01-05"),
         r"ADSL\.TRTSDT, row 1 = '2024-01-05': a sas_date value must be a datetime\.date"),
    ],
    ids=["9-char-name", "41-char-label", "201-bytes", "non-ascii-202-bytes",
         "over-declared-length", "text-for-integer", "text-for-date"],
)  # fmt: skip
def test_refusals_name_the_value_and_write_nothing(make_bad, message: str, tmp_path: Path) -> None:
    target = tmp_path / "out.xpt"
    with pytest.raises(StandardsError, match=message) as caught:
        write_xpt(make_bad(), target)
    assert "out.xpt: nothing was written; correct the dataset" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_a_value_of_exactly_200_bytes_is_kept_whole(tmp_path: Path) -> None:
    dataset = with_value(_spec_with(dm(), 5, length=None), "SITENM", "é" * 100)
    frame = read_xpt(write_xpt(dataset, tmp_path / "dm.xpt"))
    assert frame["SITENM"][0] == "é" * 100
    assert frame.attrs["widths"]["SITENM"] == 200


def test_a_failed_write_keeps_the_previous_file(tmp_path: Path) -> None:
    target = write_xpt(dm(), tmp_path / "dm.xpt")
    before = target.read_bytes()
    with pytest.raises(StandardsError):
        write_xpt(with_value(dm(), "AGE", "x"), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["dm.xpt"]


def test_the_variable_check_is_the_shared_one() -> None:
    with pytest.raises(StandardsError, match="at most 8"):
        Variable("TOOLONGNM", "Label", "text").check("DM")
