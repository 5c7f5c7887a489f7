"""CLA-IGA and Skindex-29+3 in SDTM QS (grade, item responses by number, domain scores) and the
ADRS CLA-IGA success record traced to its QS record; the package stays conformant."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cletrial.endpoints.trial import TrialEndpointRules
from cletrial.errors import FormError
from cletrial.protocol import load_protocol
from cletrial.standards.sdtm.common import SubjectRef
from cletrial.standards.sdtm.scores import build_qs
from cletrial.standards.sdtm.source import StudySource, SubjectSource
from cletrial.standards.submission import Submission, build_submission

START = dt.date(2009, 3, 2)
WEEK16 = (START + dt.timedelta(days=112)).isoformat()
#: Symptoms answered 4 (75), emotions only 2 of 10 (missing), the lupus items 5 (100).
SKINDEX = {**{str(i): 4 for i in (1, 7, 10, 16, 19, 24, 27)}, "3": 2, "6": 2,
           "31": 5, "32": 5, "33": 5}  # fmt: skip


def _history(code: str, base: int | None, week16: int | None, clasi: bool = True) -> dict[str, Any]:
    baseline: dict[str, Any] = {"date": START.isoformat(), "clasi": {"activity": 10, "damage": 1}}
    if base is not None:
        baseline.update(cla_iga=base, skindex=SKINDEX)
    later: dict[str, Any] = {"date": WEEK16}
    if clasi:
        later["clasi"] = {"activity": 4, "damage": 1}
    if week16 is not None:
        later["cla_iga"] = week16
    return {"patient_id": code, "first_dose_date": START.isoformat(),
            "doses": [{"date": START.isoformat(), "regimen": "5_daily"}],
            "baseline": baseline, "assessments": [later]}  # fmt: skip


def _source() -> StudySource:
    # P5's week-16 visit has only a CLA-IGA grade (no CLASI): its CLASIRSP is NE, unsourced
    cases = {
        "P1": (3, 1, True),
        "P2": (2, 1, True),
        "P3": (3, None, True),
        "P4": (None, 1, True),
        "P5": (4, 0, False),
    }
    subjects = tuple(
        SubjectSource(SubjectRef("S", "A", code, START), sex="F", age=40,
                      history=_history(code, *case))
        for code, case in cases.items()
    )  # fmt: skip
    p = load_protocol().file
    return StudySource("S", "Title", p.id, p.version, p, subjects=subjects)


@pytest.fixture(scope="module")
def submission() -> Submission:
    return build_submission(_source(), trial=TrialEndpointRules(week=16, nri=True))


def test_qs_holds_the_grade_the_answered_items_and_the_scored_domains(
    submission: Submission,
) -> None:
    qs = submission.datasets["QS"].frame
    p1 = qs[qs["USUBJID"] == "S-A-P1"]
    grade = p1[p1["QSCAT"] == "CLA-IGA"]
    assert grade[["QSTESTCD", "QSORRES", "QSSTRESN", "QSDTC"]].values.tolist() == [
        ["CLAIGA", "3", 3.0, START.isoformat()], ["CLAIGA", "1", 1.0, WEEK16]]  # fmt: skip
    skindex = p1[p1["QSCAT"] == "SKINDEX-29+3"]
    items = skindex[skindex["QSDRVFL"].isna()]
    assert sorted(items["QSTESTCD"]) == sorted(f"SKX{int(i):02d}" for i in SKINDEX)
    domains = skindex[skindex["QSDRVFL"] == "Y"]
    assert dict(zip(domains["QSTESTCD"], domains["QSSTRESN"], strict=True)) == {
        "SKX29SYM": 75.0,
        "SKX3LUP": 100.0,
    }  # emotions and functioning: too few answered
    assert not qs["QSTEST"].str.contains("itch|burn|embarrass", case=False).any()


def test_adrs_cla_iga_success_is_traced_to_the_qs_grade_record(submission: Submission) -> None:
    adrs = submission.adam["ADRS"].frame
    rows = adrs[adrs["PARAMCD"] == "CLAIGAS"].set_index("USUBJID")
    assert rows["AVALC"].to_dict() == {"S-A-P1": "Y", "S-A-P2": "N", "S-A-P3": "N", "S-A-P5": "Y"}
    assert rows.loc["S-A-P3", "SRCDOM"] is None  # imputed (nri): no visit graded at week 16
    assert "S-A-P4" not in rows.index  # no baseline grade: undetermined, no record
    qs = submission.datasets["QS"].frame.set_index(["USUBJID", "QSSEQ"])
    for usubjid in ("S-A-P1", "S-A-P2", "S-A-P5"):
        row = rows.loc[usubjid]
        assert row["SRCDOM"] == "QS" and row["SRCVAR"] == "QSSTRESN"
        source = qs.loc[(usubjid, row["SRCSEQ"])]
        assert (source["QSTESTCD"], source["QSDTC"]) == ("CLAIGA", WEEK16)
    assert rows.loc["S-A-P1", "PARAM"].startswith("CLA-IGA success at week 16")
    p5 = adrs[(adrs["USUBJID"] == "S-A-P5") & (adrs["PARAMCD"] == "CLASIRSP")]
    assert p5[["AVALC", "SRCDOM"]].values.tolist() == [["NE", None]]
    # every SRCSEQ resolves (AD03); the minimal DM here has no COUNTRY, nothing else is found
    findings = {(f.rule, f.dataset, f.variable) for f in submission.report.findings}
    assert findings == {("SD05", "DM", "COUNTRY")}, findings


def test_without_a_named_week_there_is_no_cla_iga_record() -> None:
    adrs = build_submission(_source()).adam["ADRS"].frame
    assert "CLAIGAS" not in set(adrs["PARAMCD"])


@pytest.mark.parametrize(
    ("visit", "message"),
    [({"cla_iga": 7}, "cla_iga = 7"), ({"skindex": {"40": 1}}, "40 = 1: unknown item")],
)
def test_qs_refuses_an_impossible_grade_or_item(visit: dict[str, Any], message: str) -> None:
    history = {"baseline": {"date": START.isoformat(), **visit}}
    with pytest.raises(FormError, match=message):
        build_qs([(SubjectRef("S", "A", "P1", START), history)])
