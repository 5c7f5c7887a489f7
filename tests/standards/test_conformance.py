"""The conformance rules: each fires on the defect it names, and only there."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import pandas as pd
import pytest

from cletrial.standards.conformance import RULES, check_conformance
from cletrial.standards.metadata import Dataset, DatasetSpec, Variable


def _id(name: str, label: str) -> Variable:
    return Variable(name, label, "text", role="Identifier", core="Req")


def _dm(rows: Sequence[Mapping[str, object]]) -> Dataset:
    spec = DatasetSpec(
        "DM", "Demographics", "SPECIAL PURPOSE", "One record per subject",
        ("STUDYID", "USUBJID"),
        (_id("STUDYID", "Study Identifier"), _id("DOMAIN", "Domain Abbreviation"),
         _id("USUBJID", "Unique Subject Identifier"),
         Variable("RFSTDTC", "Subject Reference Start Date/Time", "iso8601", core="Exp"),
         Variable("SEX", "Sex", "text", codelist="SEX", core="Req")),
        "SDTMIG 3.4",
    )  # fmt: skip
    return Dataset(spec, pd.DataFrame(rows, columns=list(spec.names)))


def _ae(rows: Sequence[Mapping[str, object]]) -> Dataset:
    spec = DatasetSpec(
        "AE", "Adverse Events", "EVENTS", "One record per adverse event per subject",
        ("STUDYID", "USUBJID", "AESEQ"),
        (_id("STUDYID", "Study Identifier"), _id("DOMAIN", "Domain Abbreviation"),
         _id("USUBJID", "Unique Subject Identifier"),
         Variable("AESEQ", "Sequence Number", "integer", core="Req"),
         Variable("AETERM", "Reported Term for the Adverse Event", "text", core="Req"),
         Variable("AESTDTC", "Start Date/Time of Adverse Event", "iso8601", core="Exp"),
         Variable("AESTDY", "Study Day of Start of Adverse Event", "integer", core="Perm")),
        "SDTMIG 3.4",
    )  # fmt: skip
    return Dataset(spec, pd.DataFrame(rows, columns=list(spec.names)))


def _adrs(rows: Sequence[Mapping[str, object]]) -> Dataset:
    spec = DatasetSpec(
        "ADRS", "Response Analysis Dataset", "BASIC DATA STRUCTURE",
        "One record per subject per parameter per visit", ("USUBJID", "PARAMCD"),
        (_id("STUDYID", "Study Identifier"), _id("USUBJID", "Unique Subject Identifier"),
         Variable("PARAMCD", "Parameter Code", "text", core="Req"),
         Variable("AVAL", "Analysis Value", "float"),
         Variable("AVALC", "Analysis Value (C)", "text"),
         Variable("SRCDOM", "Source Data", "text"),
         Variable("SRCSEQ", "Source Sequence Number", "integer")),
        "ADaMIG 1.3",
    )  # fmt: skip
    return Dataset(spec, pd.DataFrame(rows, columns=list(spec.names)))


def _adsl(subjects: list[str]) -> Dataset:
    spec = DatasetSpec(
        "ADSL", "Subject-Level Analysis Dataset", "SUBJECT LEVEL ANALYSIS DATASET",
        "One record per subject", ("USUBJID",),
        (_id("STUDYID", "Study Identifier"), _id("USUBJID", "Unique Subject Identifier")),
        "ADaMIG 1.3",
    )  # fmt: skip
    return Dataset(spec, pd.DataFrame({"STUDYID": ["S"] * len(subjects), "USUBJID": subjects}))


DM = [{"STUDYID": "S", "DOMAIN": "DM", "USUBJID": "S-1", "RFSTDTC": "2009-03-02", "SEX": "F"}]
AE = {"STUDYID": "S", "DOMAIN": "AE", "USUBJID": "S-1", "AESEQ": 1.0, "AETERM": "Rash",
      "AESTDTC": "2009-03-05", "AESTDY": 4.0}  # fmt: skip
RS = {"STUDYID": "S", "USUBJID": "S-1", "PARAMCD": "CLASIRSP", "AVAL": 1.0, "AVALC": "CR",
      "SRCDOM": "AE", "SRCSEQ": 1.0}  # fmt: skip


def _rules(**datasets: Dataset) -> list[str]:
    return sorted(f.rule for f in check_conformance(datasets).findings)


def test_a_clean_package_passes() -> None:
    report = check_conformance(
        {"DM": _dm(DM), "AE": _ae([AE]), "ADSL": _adsl(["S-1"]), "ADRS": _adrs([RS])}
    )
    assert report.passed, report.findings
    assert report.as_dict()["scope"].startswith("structural subset")
    assert set(report.rules) == set(RULES)


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"DOMAIN": "XX"}, "SD02"),
        ({"AESEQ": 1.5}, "ST01"),
        ({"USUBJID": "S-9"}, "SD04"),
        ({"AETERM": None}, "SD05"),
        ({"AESTDY": 3.0}, "SD06"),
        ({"AESTDY": None}, "SD06"),
    ],
)
def test_each_sdtm_rule_fires_on_its_defect(change: dict[str, object], rule: str) -> None:
    assert _rules(DM=_dm(DM), AE=_ae([{**AE, **change}])) == [rule]


def test_study_day_has_no_day_zero() -> None:
    before = {**AE, "AESTDTC": "2009-03-01", "AESTDY": -1.0}
    assert _rules(DM=_dm(DM), AE=_ae([before])) == []
    zero = {**AE, "AESTDTC": "2009-03-01", "AESTDY": 0.0}
    assert _rules(DM=_dm(DM), AE=_ae([zero])) == ["SD06"]


def test_seq_repeated_within_a_subject() -> None:
    assert _rules(DM=_dm(DM), AE=_ae([AE, {**AE, "AESTDTC": "2009-03-06", "AESTDY": 5.0}])) == [
        "SD03"
    ]


def test_codelist_values_are_submission_values() -> None:
    assert _rules(DM=_dm([{**DM[0], "SEX": "female"}])) == ["CT01"]


def test_dm_without_subject_rows_and_missing_identifiers() -> None:
    assert _rules(DM=_dm([*DM, *DM])) == ["SD04"]
    assert _rules(AE=_ae([AE])) == ["SD04"]


def test_adam_traceability_and_subjects() -> None:
    base = {"DM": _dm(DM), "AE": _ae([AE]), "ADSL": _adsl(["S-1"])}
    assert _rules(**base, ADRS=_adrs([{**RS, "SRCSEQ": 2.0}])) == ["AD03"]
    assert _rules(**base, ADRS=_adrs([{**RS, "SRCDOM": "LB"}])) == ["AD03"]
    assert _rules(**base, ADRS=_adrs([{**RS, "USUBJID": "S-2"}])) == ["AD02", "AD03"]
    extra = {**base, "ADSL": _adsl(["S-1", "S-3"])}
    assert _rules(**extra, ADRS=_adrs([RS])) == ["AD01"]


def test_aval_and_avalc_map_one_to_one() -> None:
    base = {"DM": _dm(DM), "AE": _ae([AE]), "ADSL": _adsl(["S-1"])}
    two = [RS, {**RS, "AVALC": "PR", "SRCSEQ": None, "SRCDOM": None}]
    assert _rules(**base, ADRS=_adrs(two)) == ["AD04"]


def test_findings_are_capped_and_a_capped_report_fails() -> None:
    rows = [{**AE, "AESEQ": float(i), "AETERM": None} for i in range(1, 31)]
    report = check_conformance({"DM": _dm(DM), "AE": _ae(rows)})
    assert len([f for f in report.findings if f.rule == "SD05"]) == 20
    assert report.truncated == {"SD05 AE": 10}
    assert not report.passed
    assert report.findings[0].row == 1 and report.findings[0].variable == "AETERM"


def test_dates_in_frames_are_refused_by_the_type_check() -> None:
    bad = {**AE, "AESTDTC": dt.date(2009, 3, 5)}
    assert _rules(DM=_dm(DM), AE=_ae([bad])) == ["ST01"]


def _plain(name: str, *names: str) -> Dataset:
    spec = DatasetSpec(name, name, "SPECIAL PURPOSE", "One record", (),
                       tuple(_id(n, n) for n in names), "SDTMIG 3.4")  # fmt: skip
    return Dataset(spec, pd.DataFrame({n: ["S-1" if n == "USUBJID" else "X"] for n in names}))


def test_supplemental_and_subject_visits_follow_their_own_keys() -> None:
    supp = _plain("SUPPDM", "STUDYID", "RDOMAIN", "USUBJID")
    sv = _plain("SV", "STUDYID", "DOMAIN", "USUBJID")
    sv.frame["DOMAIN"] = "SV"
    assert _rules(DM=_dm(DM), SUPPDM=supp, SV=sv) == []
    assert _rules(DM=_dm(DM), SUPPDM=_plain("SUPPDM", "STUDYID", "USUBJID")) == ["SD01"]
