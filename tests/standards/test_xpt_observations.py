"""SAS transport observations encoded with NumPy: the bytes pyreadstat writes, value by value."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from tests.standards.package import adsl, dm, lb

from cletrial.errors import StandardsError
from cletrial.standards import xpt_observations
from cletrial.standards.metadata import Dataset
from cletrial.standards.xpt import read_xpt, transport_frame, write_xpt
from cletrial.standards.xpt_observations import ibm_doubles, text_cells

_TIMESTAMP = re.compile(rb"\d\d[A-Z]{3}\d\d:\d\d:\d\d:\d\d")


def _pyreadstat_bytes(frame: pd.DataFrame, path: Path, **options: object) -> bytes:
    pyreadstat.write_xport(frame, str(path), file_format_version=5, **options)
    return path.read_bytes()


def _observations(data: bytes, rows: int, row_length: int) -> bytes:
    """The observation bytes of a file pyreadstat wrote (after its headers)."""
    padded = -(-rows * row_length // 80) * 80
    return data[len(data) - padded :][: rows * row_length]


def _numbers() -> np.ndarray:
    rng = np.random.default_rng(5)
    bits = rng.integers(0, 2**64, 20_000, dtype=np.uint64, endpoint=False)
    special = [0.0, -0.0, 1.0, -1.0, 0.1, -118.625, 5e-324, -5e-324, 2.2e-308, 1e-78, 5.4e-79,
               1e75, 7.2e75, -7.3e75, 1e300, np.inf, -np.inf, 41.0, 21915.0, 1e-300]  # fmt: skip
    numbers = np.concatenate([bits.view(np.float64), special, rng.normal(0, 1e3, 5_000)])
    return numbers[~np.isnan(numbers)]  # NaN is written as missing; tested with the dataset


def test_ibm_doubles_are_readstats_for_every_exponent(tmp_path: Path) -> None:
    numbers = _numbers()
    data = _pyreadstat_bytes(pd.DataFrame({"X": numbers}), tmp_path / "x.xpt")
    assert ibm_doubles(numbers).tobytes() == _observations(data, len(numbers), 8)


def test_missing_numbers_and_texts(tmp_path: Path) -> None:
    frame = pd.DataFrame({"X": [np.nan, 2.0, np.nan]})
    data = _pyreadstat_bytes(frame, tmp_path / "x.xpt")
    assert ibm_doubles(frame["X"].to_numpy()).tobytes() == _observations(data, 3, 8)
    texts = np.array(["ab\x00cd", None, "é", "", float("nan"), "abcde"], dtype=object)
    shown = pd.DataFrame({"S": ["" if t is None or t != t else t for t in texts]})
    data = _pyreadstat_bytes(shown, tmp_path / "s.xpt")
    assert text_cells(texts, 5).tobytes() == _observations(data, len(texts), 5)


@pytest.mark.parametrize(("text", "size"), [("abcdef", 6), ("ééé", 6)])
def test_a_text_over_its_width_is_refused(text: str, size: int) -> None:
    with pytest.raises(StandardsError, match=f"'{text}' has {size} bytes, over its variable's"):
        text_cells(np.array(["a", text], dtype=object), 5)


def test_a_nul_ends_a_text_even_past_the_width() -> None:
    texts = np.array(["ab\x00cdefgh", "é\x00"], dtype=object)
    assert text_cells(texts, 5).tobytes() == b"ab   \xc3\xa9   "


def _normalised(data: bytes) -> bytes:
    return _TIMESTAMP.sub(b"T" * 16, data[:800]) + data[800:]


def _no_rows() -> Dataset:
    dataset = dm()
    return Dataset(dataset.spec, dataset.frame.iloc[:0])


@pytest.mark.parametrize("make", [dm, adsl, lb, _no_rows], ids=["dm", "adsl", "lb", "no-rows"])
@pytest.mark.parametrize("chunk", [xpt_observations.CHUNK_BYTES, 1, 150])
def test_the_file_is_pyreadstats_whole_frame(
    make, chunk: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same bytes as pyreadstat writing the whole frame (but the time of writing), in one
    chunk, a row a chunk, or a few rows a chunk."""
    monkeypatch.setattr(xpt_observations, "CHUNK_BYTES", chunk)
    dataset = make()
    spec = dataset.spec
    expected = _pyreadstat_bytes(
        transport_frame(dataset), tmp_path / "whole.xpt", file_label=spec.label,
        column_labels=[v.label for v in spec.variables], table_name=spec.name,
        variable_format={v.name: "DATE9." for v in spec.variables if v.type == "sas_date"},
    )  # fmt: skip
    written = write_xpt(dataset, tmp_path / "fast.xpt").read_bytes()
    assert _normalised(written) == _normalised(expected)


def test_many_rows_read_back_as_written(tmp_path: Path) -> None:
    base = adsl()
    frame = pd.concat([base.frame] * 4_000, ignore_index=True)
    frame["WEIGHTBL"] = np.linspace(-1e6, 1e6, len(frame))
    frame.loc[::7, "WEIGHTBL"] = np.nan
    frame["TRTSDT"] = [dt.date(1900, 1, 1) + dt.timedelta(days=i) for i in range(len(frame))]
    dataset = Dataset(base.spec, frame)
    back = read_xpt(write_xpt(dataset, tmp_path / "adsl.xpt"))
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)


def test_a_first_row_unlike_pyreadstats_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = xpt_observations.ibm_doubles
    monkeypatch.setattr(xpt_observations, "ibm_doubles", lambda values: real(values + 1))
    with pytest.raises(StandardsError, match="DM: the first observation encoded differs"):
        write_xpt(dm(), tmp_path / "dm.xpt")
    assert list(tmp_path.iterdir()) == []
