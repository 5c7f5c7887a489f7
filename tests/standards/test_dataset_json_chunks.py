"""Dataset-JSON rows written a chunk at a time: the same file whatever the chunk size."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.standards.package import adsl, dm

from cletrial.standards import dataset_json
from cletrial.standards.dataset_json import read_dataset_json, write_dataset_json
from cletrial.standards.metadata import Dataset

WHEN = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)


def _many(dataset: Dataset) -> Dataset:
    frame = pd.concat([dataset.frame] * 50, ignore_index=True)
    return Dataset(dataset.spec, frame)


def _write(dataset: Dataset, path: Path) -> bytes:
    return write_dataset_json(dataset, path, study_oid="ST.S", metadata_version_oid="MDV.S",
                              created=WHEN).read_bytes()  # fmt: skip


@pytest.mark.parametrize("make", [dm, adsl])
def test_chunks_give_the_same_bytes(make, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dataset = _many(make())
    whole = _write(dataset, tmp_path / "whole.json")
    monkeypatch.setattr(dataset_json, "_CHUNK", 7)
    assert _write(dataset, tmp_path / "chunks.json") == whole
    frame = read_dataset_json(tmp_path / "chunks.json")
    pd.testing.assert_frame_equal(frame, dataset.frame, check_dtype=False)


def test_columns_all_missing_or_none_missing(tmp_path: Path) -> None:
    base = adsl()
    frame = base.frame.copy()
    frame["WEIGHTBL"] = np.nan
    frame["TRTSDT"] = None
    frame["SAFFL"] = "Y"
    path = tmp_path / "adsl.json"
    _write(Dataset(base.spec, frame), path)
    back = read_dataset_json(path)
    assert back["WEIGHTBL"].isna().all() and back["TRTSDT"].isna().all()
    assert back["SAFFL"].tolist() == ["Y"] * len(frame)


def test_a_numpy_nan_in_a_text_column_is_null(tmp_path: Path) -> None:
    base = dm()
    frame = base.frame.copy()
    frame.at[0, "SITENM"] = np.float64("nan")
    path = tmp_path / "dm.json"
    _write(Dataset(base.spec, frame), path)
    assert read_dataset_json(path)["SITENM"].tolist() == [None, "Charité", None]
