"""ADQS: the Skindex-29+3 domain scores by visit, traced to their QS records, with baseline and
change; a domain with too few answers has no record; no ADQS without a Skindex."""

from __future__ import annotations

import datetime as dt

from cletrial.protocol import load_protocol
from cletrial.standards.sdtm.common import SubjectRef
from cletrial.standards.sdtm.source import StudySource, SubjectSource
from cletrial.standards.submission import build_submission

ALL_THREE = {str(i): 3 for i in range(1, 34)}  # every item "sometimes": 50 in each domain
NO_LUPUS = {str(i): 2 for i in range(1, 31)}  # items 31-33 unanswered: lupus-specific missing


def _study(*histories: dict[str, object]) -> StudySource:
    protocol = load_protocol().file
    subjects = tuple(
        SubjectSource(SubjectRef("S", "A", f"P{n}", dt.date(2024, 1, 15)), history=h, sex="F")
        for n, h in enumerate(histories, start=1)
    )
    return StudySource("S", "T", protocol.id, protocol.version, protocol, subjects=subjects)


def _history(baseline: dict[str, int] | None, week8: dict[str, int] | None) -> dict[str, object]:
    return {
        "patient_id": "P", "sex": "F",
        "baseline": {"date": "2024-01-15", "clasi": {"activity": 6}, "skindex": baseline},
        "assessments": [{"date": "2024-03-11", "clasi": {"activity": 2}, "skindex": week8}],
        "doses": [{"date": "2024-01-15", "regimen": "5_daily"}],
    }  # fmt: skip


def test_adqs_holds_each_scored_domain_traced_to_qs_with_change() -> None:
    sub = build_submission(_study(_history(ALL_THREE, NO_LUPUS), _history(None, ALL_THREE)))
    adqs = sub.adam["ADQS"].frame
    qs = sub.datasets["QS"].frame
    p1 = adqs[adqs["USUBJID"] == "S-A-P1"]
    rows = p1[["PARAMCD", "AVAL", "BASE", "CHG", "ABLFL", "ADY"]]
    got = [[None if v != v else v for v in r] for r in rows.values.tolist()]  # NaN -> None
    assert got == [
        ["SKX29SYM", 50.0, 50.0, None, "Y", 1.0], ["SKX29SYM", 25.0, 50.0, -25.0, None, 57.0],
        ["SKX29EMO", 50.0, 50.0, None, "Y", 1.0], ["SKX29EMO", 25.0, 50.0, -25.0, None, 57.0],
        ["SKX29FUN", 50.0, 50.0, None, "Y", 1.0], ["SKX29FUN", 25.0, 50.0, -25.0, None, 57.0],
        ["SKX3LUP", 50.0, 50.0, None, "Y", 1.0],  # week 8: too few lupus items, no record
    ]  # fmt: skip
    for record in adqs.to_dict("records"):  # every SRCSEQ is the QS record of that score
        found = qs[(qs["USUBJID"] == record["USUBJID"]) & (qs["QSSEQ"] == record["SRCSEQ"])]
        assert record["SRCDOM"] == "QS" and record["SRCVAR"] == "QSSTRESN"
        assert found["QSTESTCD"].tolist() == [record["PARAMCD"]]
        assert found["QSSTRESN"].tolist() == [record["AVAL"]]
    p2 = adqs[adqs["USUBJID"] == "S-A-P2"]  # no baseline Skindex: no BASE, no CHG
    assert p2["BASE"].isna().all() and p2["CHG"].isna().all() and len(p2) == 4
    assert {f.rule for f in sub.report.findings} == {"SD05"}  # DM.COUNTRY only


def test_no_adqs_without_a_skindex() -> None:
    sub = build_submission(_study(_history(None, None)))
    assert "ADQS" not in sub.adam and "ADSL" in sub.adam
