"""Dataset.check: its vectorised fast path never lets a bad value through; the error still names
the dataset, variable, row and value."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from cletrial.errors import StandardsError
from cletrial.standards.metadata import Dataset, DatasetSpec, Variable


def _dataset(type_: Any, values: list[Any], length: int | None = None) -> Dataset:
    spec = DatasetSpec(name="XX", label="Example", domain_class="EVENTS", structure="rows",
                       keys=(), standard="SDTMIG 3.4",
                       variables=(Variable("V", "Value", type_, length=length),))  # fmt: skip
    return Dataset(spec, pd.DataFrame({"V": pd.Series(values, dtype=None)}))


@pytest.mark.parametrize(("type_", "values", "length", "problem"), [
    ("integer", [1.0, 2.5], None, "row 2 = 2.5: an integer value must be a whole number"),
    ("float", [1.0, math.inf], None, "row 2 = inf: must be finite"),
    ("text", ["a", 3], None, "row 2 = 3: a text value must be a string"),
    ("text", ["a", "x" * 201], None, "201 bytes; at most 200"),
    ("text", ["ab", "é" * 3], 5, "6 bytes; at most 5"),
    ("iso8601", ["2009-03-02", "2009-3-2"], None, "must be an ISO 8601 date"),
    ("iso8601", ["2009-03-02", "02/03/2009"], None, "must be an ISO 8601 date"),
])  # fmt: skip
def test_bad_values_are_refused(type_: Any, values: list[Any], length: int | None,
                                problem: str) -> None:  # fmt: skip
    with pytest.raises(StandardsError, match=r"XX\.V, row 2") as error:
        _dataset(type_, values, length).check()
    assert problem in str(error.value)


@pytest.mark.parametrize(("type_", "values"), [
    ("integer", [1.0, math.nan, -3.0]),
    ("float", [0.5, math.nan]),
    ("text", ["a", None, math.nan, "é" * 50]),
    ("iso8601", ["2009", "2009-03", "2009-03-02", None]),
    ("text", []),
])  # fmt: skip
def test_good_values_and_missing_pass(type_: Any, values: list[Any]) -> None:
    assert _dataset(type_, values).check().name == "XX"
