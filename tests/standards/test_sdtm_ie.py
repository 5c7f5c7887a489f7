"""SDTM IE: the inclusion/exclusion criteria each subject's screening record fails, assessed by
the protocol's own eligibility rules; an undecided criterion is not reported as failed."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from cletrial.errors import StandardsError
from cletrial.protocol import load_protocol
from cletrial.standards.conformance import check_conformance
from cletrial.standards.sdtm.build import build_sdtm
from cletrial.standards.sdtm.common import SubjectRef
from cletrial.standards.sdtm.eligibility import build_ie
from cletrial.standards.sdtm.source import StudySource, SubjectSource

PROTOCOL = load_protocol().file
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "screening.json"


def _eligible() -> dict[str, Any]:
    """examples/screening.json as the store passes it on (no date of birth)."""
    record: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    record.pop("birth_date", None)
    return record


def _subject(code: str, record: dict[str, Any], age: int | None = 41) -> SubjectSource:
    return SubjectSource(SubjectRef("CLE", "A", code), history={}, sex="F", age=age,
                         screening_date=dt.date.fromisoformat(record["screening_date"]),
                         screening=record)  # fmt: skip


def _ie(*subjects: SubjectSource) -> list[tuple[str, str, str, str]]:
    frame = build_ie(list(subjects), PROTOCOL).frame
    return [tuple(r) for r in frame[["USUBJID", "IETESTCD", "IECAT", "IEORRES"]].values.tolist()]


def test_an_eligible_subject_has_no_record() -> None:
    assert _ie(_subject("P01", _eligible())) == []


def test_each_failed_criterion_is_a_record_in_protocol_order() -> None:
    record = {**_eligible(), "hiv": True, "cle_histology_confirmed": False}
    frame = build_ie([_subject("P02", record)], PROTOCOL).frame
    assert frame[["IESEQ", "IETESTCD", "IECAT", "IEORRES", "IESTRESC"]].values.tolist() == [
        [1.0, "I2", "INCLUSION", "N", "N"], [2.0, "E9", "EXCLUSION", "Y", "Y"]]  # fmt: skip
    assert set(frame["EPOCH"]) == {"SCREENING"}
    assert set(frame["IEDTC"]) == {record["screening_date"]}
    ti = build_sdtm(StudySource("CLE", "T", PROTOCOL.id, PROTOCOL.version, PROTOCOL,
                                subjects=())).datasets["TI"].frame  # fmt: skip
    texts = dict(zip(ti["IETESTCD"], ti["IETEST"], strict=True))
    assert frame["IETEST"].tolist() == [texts["I2"], texts["E9"]]


def test_the_age_criterion_uses_the_age_the_store_computed() -> None:
    assert _ie(_subject("P03", _eligible(), age=17)) == [("CLE-A-P03", "I1", "INCLUSION", "N")]
    assert _ie(_subject("P04", _eligible(), age=18)) == []


def test_an_undecided_criterion_is_not_reported_as_failed() -> None:
    record = _eligible()
    del record["hiv"]  # not recorded: E9 cannot be decided
    assert _ie(_subject("P05", record), _subject("P06", _eligible(), age=None)) == []


def test_a_subject_without_a_screening_record_has_none() -> None:
    bare = SubjectSource(SubjectRef("CLE", "A", "P07"), history={})
    assert _ie(bare) == []


def test_a_stored_record_the_rules_refuse_names_the_subject() -> None:
    record = {**_eligible(), "egfr": "high"}
    with pytest.raises(StandardsError, match=r"CLE-A-P08 .*egfr"):
        build_ie([_subject("P08", record)], PROTOCOL)


def test_ie_is_in_the_package_and_its_codes_are_criteria_of_ti() -> None:
    failing = _subject("P09", {**_eligible(), "thrombosis_history": True})
    source = StudySource("CLE", "T", PROTOCOL.id, PROTOCOL.version, PROTOCOL,
                         subjects=(failing, _subject("P10", _eligible())))  # fmt: skip
    datasets = build_sdtm(source).datasets
    assert datasets["IE"].frame["IETESTCD"].tolist() == ["E5"]
    report = check_conformance(datasets)
    assert not [f for f in report.findings if f.rule == "TD03"]
    datasets["IE"].frame.loc[0, "IETESTCD"] = "E99"
    assert [f.value for f in check_conformance(datasets).findings if f.rule == "TD03"] == ["E99"]
