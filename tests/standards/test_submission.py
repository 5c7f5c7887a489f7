"""The submission package checks each dataset once: when it is built, not again per writer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cletrial.protocol import load_protocol
from cletrial.standards.metadata import Dataset
from cletrial.standards.sdtm.common import SubjectRef
from cletrial.standards.sdtm.source import StudySource, SubjectSource
from cletrial.standards.submission import build_submission, write_submission

CREATED = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)


def _source() -> StudySource:
    doses = [{"date": "2009-03-02", "regimen": "5_daily"}]
    subjects = tuple(
        SubjectSource(
            SubjectRef("S", "A", f"P{i}", dt.date(2009, 3, 2)),
            sex="F",
            age=40 + i,
            history={"patient_id": f"P{i}", "doses": doses},
        )
        for i in range(3)
    )
    p = load_protocol().file
    return StudySource("S", "Title", p.id, p.version, p, subjects=subjects)


def _count_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    original = Dataset.check

    def counted(self: Dataset) -> Dataset:
        calls.append(self.name)
        return original(self)

    monkeypatch.setattr(Dataset, "check", counted)
    return calls


@pytest.mark.parametrize("deidentify", [False, True])
def test_each_dataset_is_checked_once_and_not_again_when_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deidentify: bool
) -> None:
    calls = _count_checks(monkeypatch)
    sub = build_submission(_source(), deidentify=deidentify)
    built = len(calls)
    assert set(sub.adam) == {"ADSL", "ADRS", "ADTTE", "ADAE", "ADLB"}
    assert set(calls) == {*sub.datasets, *sub.adam}  # every dataset checked when built
    manifest = write_submission(sub, tmp_path / "pkg", created=CREATED)
    assert len(calls) == built  # the XPT, Dataset-JSON and Define-XML writers did not check
    written = {f["dataset"] for f in manifest["files"] if f["dataset"]}
    assert written == {*sub.datasets, *sub.adam}
