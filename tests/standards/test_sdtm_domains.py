"""SDTM domain builders on hand-worked subjects: dates, study days, --SEQ, CDISC terms, an
untreated subject and a screen failure, missing data left missing."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest

from cletrial.protocol import load_protocol
from cletrial.standards.sdtm.build import SdtmPackage, build_sdtm
from cletrial.standards.sdtm.common import SubjectRef
from cletrial.standards.sdtm.source import (
    AeDetail,
    Deviation,
    LabDetail,
    StudySource,
    SubjectSource,
    VisitRef,
)

D = dt.date
PROTOCOL = load_protocol().file


def _treated() -> SubjectSource:
    history: dict[str, Any] = {
        "doses": [{"date": "2009-03-02", "regimen": "5_daily"},
                  {"date": "2009-03-30", "regimen": "10_daily"},
                  {"date": "2009-05-04", "regimen": "5_alternate"},
                  {"date": "2009-06-01", "regimen": "off"}],
        "baseline": {"date": "2009-03-02"},
        "assessments": [{"date": "2009-03-31"}, {"date": "2009-04-10"}, {"date": "2009-04-27"}],
        "labs": [{"date": "2009-04-10", "test": "neutrophils", "value": 800, "unit": "/mm3",
                  "lln": 1500},
                 {"date": "2009-03-31", "test": "hemoglobin", "value": 6.206, "unit": "mmol/L"}],
        "adverse_events": [
            {"term": "Rash", "start": "2009-04-20", "end": "2009-04-30", "grade": 3,
             "causality": "definite", "serious": True},
            {"term": "Fatigue", "start": "2009-03-05", "end": None, "grade": 1,
             "causality": "unrelated", "serious": False}],
        "concomitant_medications": [
            {"name": "hydroxychloroquine", "start": "2008-01-01", "end": None, "baseline": True}],
        "end_of_treatment": {"date": "2009-06-01", "reason": "adverse_event",
                             "last_dose_date": "2009-05-31"},
        "end_of_study": {"date": "2009-07-01", "reason": "adverse_event"},
    }  # fmt: skip
    return SubjectSource(
        ref=SubjectRef("CLE", "A", "P01", D(2009, 3, 2)), history=history, sex="F", age=41,
        cle_subtype="DLE", sle=True, diagnosis_date="2005-06", screening_date=D(2009, 2, 23),
        screening_verdict="eligible", screening={"conventional_treatment": {"refractory": True}},
        visits=(VisitRef(D(2009, 3, 2), "baseline"), VisitRef(D(2009, 3, 31), "scheduled"),
                VisitRef(D(2009, 4, 10), "unscheduled", "rash"),
                VisitRef(D(2009, 4, 27), "scheduled")),
        labs=(LabDetail(D(2009, 4, 10), confirmed=True), LabDetail(D(2009, 3, 31))),
        adverse_events=(AeDetail("hospitalisation", "recovered"), AeDetail()),
        deviations=(Deviation(D(2009, 4, 1), "baseline_medication", "HCQ dose changed"),),
    )  # fmt: skip


def _assigned_not_treated() -> SubjectSource:
    return SubjectSource(
        ref=SubjectRef("CLE", "A", "P02"),
        history={"assessments": []},
        sex="M",
        screening_date=D(2009, 2, 1),
        screening_verdict="eligible",
    )


def _screen_failure() -> SubjectSource:
    return SubjectSource(
        ref=SubjectRef("CLE", "B", "P03"),
        history={},
        sex=None,
        screening_date=D(2009, 2, 3),
        screening_verdict="ineligible",
    )


@pytest.fixture(scope="module")
def package() -> SdtmPackage:
    subjects = (_treated(), _assigned_not_treated(), _screen_failure())
    study = StudySource("CLE", "Test", PROTOCOL.id, PROTOCOL.version, PROTOCOL, synthetic=True,
                        subjects=subjects)  # fmt: skip
    return build_sdtm(study)


def _records(package: SdtmPackage, name: str, usubjid: str = "CLE-A-P01") -> list[dict[str, Any]]:
    frame = package.datasets[name].frame
    rows: list[dict[str, Any]] = frame[frame["USUBJID"] == usubjid].to_dict("records")
    return rows


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def test_dm_treated_untreated_and_screen_failure(package: SdtmPackage) -> None:
    rows = {r["USUBJID"]: r for r in package.datasets["DM"].frame.to_dict("records")}
    treated = rows["CLE-A-P01"]
    assert (treated["RFSTDTC"], treated["RFENDTC"], treated["RFXENDTC"]) == (
        "2009-03-02",
        "2009-05-31",
        "2009-05-31",
    )
    assert (treated["ARMCD"], treated["ACTARMCD"], treated["ARM"]) == (
        "LENA",
        "LENA",
        "Lenalidomide",
    )
    assert (treated["AGE"], treated["AGEU"], treated["SEX"], treated["SITEID"]) == (
        41.0,
        "YEARS",
        "F",
        "A",
    )
    assert _missing(treated["ARMNRS"]) and _missing(treated["DTHFL"])
    untreated = rows["CLE-A-P02"]
    assert (untreated["ARMCD"], untreated["ARMNRS"]) == ("LENA", "ASSIGNED, NOT TREATED")
    assert _missing(untreated["ACTARMCD"]) and _missing(untreated["RFSTDTC"])
    assert _missing(untreated["AGE"]) and _missing(untreated["AGEU"])
    failure = rows["CLE-B-P03"]
    assert _missing(failure["ARMCD"]) and failure["ARMNRS"] == "SCREEN FAILURE"
    assert _missing(failure["SEX"])  # unknown sex is missing, never filled


def test_ex_one_record_per_regimen_period_clipped_at_the_last_dose(package: SdtmPackage) -> None:
    ex = [(r["EXSEQ"], r["EXDOSE"], r["EXDOSFRQ"], r["EXSTDTC"], r["EXENDTC"], r["EXSTDY"],
           r["EXENDY"]) for r in _records(package, "EX")]  # fmt: skip
    assert ex == [
        (1.0, 5.0, "QD", "2009-03-02", "2009-03-29", 1.0, 28.0),
        (2.0, 10.0, "QD", "2009-03-30", "2009-05-03", 29.0, 63.0),
        (3.0, 5.0, "QOD", "2009-05-04", "2009-05-31", 64.0, 91.0),
    ]
    row = _records(package, "EX")[0]
    assert (row["EXTRT"], row["EXDOSU"], row["EXROUTE"]) == ("LENALIDOMIDE", "mg", "ORAL")
    assert _records(package, "EX", "CLE-A-P02") == []
    assert package.record("CLE-A-P01", "doses", 2) == ("EX", 3)


def test_ae_terms_flags_study_days_and_seq_by_date(package: SdtmPackage) -> None:
    fatigue, rash = _records(package, "AE")
    assert (fatigue["AESEQ"], fatigue["AETERM"], fatigue["AESTDY"]) == (1.0, "Fatigue", 4.0)
    assert _missing(fatigue["AEENDTC"]) and _missing(fatigue["AEENDY"])
    assert _missing(fatigue["AEOUT"]) and _missing(fatigue["AESHOSP"])
    assert (fatigue["AESER"], fatigue["AEREL"], fatigue["AETOXGR"]) == ("N", "NOT RELATED", "1")
    assert (rash["AESER"], rash["AEREL"], rash["AEOUT"]) == ("Y", "RELATED", "RECOVERED/RESOLVED")
    assert (rash["AESHOSP"], rash["AESDTH"], rash["AESMIE"]) == ("Y", "N", "N")
    assert (rash["AESTDTC"], rash["AEENDTC"], rash["AESTDY"], rash["AEENDY"]) == (
        "2009-04-20",
        "2009-04-30",
        50.0,
        60.0,
    )
    assert package.record("CLE-A-P01", "adverse_events", 1) == ("AE", 1)


def test_sv_visit_numbers_from_the_schedule_and_unscheduled_as_x_1(package: SdtmPackage) -> None:
    sv = [(r["VISITNUM"], r["VISIT"], r["SVSTDTC"], r["SVSTDY"]) for r in _records(package, "SV")]
    assert sv == [
        (0.0, "SCREENING", "2009-02-23", -7.0),
        (1.0, "BASELINE", "2009-03-02", 1.0),
        (2.0, "WEEK 4", "2009-03-31", 30.0),
        (2.1, "UNSCHEDULED 2.1", "2009-04-10", 40.0),
        (3.0, "WEEK 8", "2009-04-27", 57.0),
    ]
    assert _records(package, "SV")[3]["SVUPDES"] == "rash"


def test_lb_units_grades_and_missing_reference_range(package: SdtmPackage) -> None:
    hgb, neut = _records(package, "LB")
    assert (hgb["LBSEQ"], hgb["LBTESTCD"], hgb["LBORRES"], hgb["LBORRESU"]) == (
        1.0,
        "HGB",
        "6.206",
        "mmol/L",
    )
    assert (hgb["LBSTRESN"], hgb["LBSTRESU"], hgb["VISITNUM"], hgb["VISIT"]) == (
        10.0,
        "g/dL",
        2.0,
        "WEEK 4",
    )
    assert _missing(hgb["LBORNRLO"]) and _missing(hgb["LBNRIND"])  # no LLN given
    assert (hgb["LBTOX"], hgb["LBTOXGR"]) == ("ANEMIA", "1")  # 10.0 g/dL: not below 10
    assert (neut["LBSTRESN"], neut["LBSTRESU"], neut["LBORNRLO"], neut["LBNRIND"]) == (
        0.8,
        "10^9/L",
        "1500",
        "LOW",
    )
    assert (neut["LBTOXGR"], neut["VISITNUM"], neut["LBDY"]) == ("3", 2.1, 40.0)
    assert package.record("CLE-A-P01", "labs", 0) == ("LB", 2)


def test_ds_dispositions_with_ncomplt_and_the_screening_milestone(package: SdtmPackage) -> None:
    ds = [(r["DSSEQ"], r["DSCAT"], r["DSSCAT"], r["DSDECOD"], r["DSSTDTC"])
          for r in _records(package, "DS")]  # fmt: skip
    assert ds == [
        (1.0, "PROTOCOL MILESTONE", None, "ELIGIBILITY CRITERIA MET", "2009-02-23"),
        (2.0, "DISPOSITION EVENT", "END OF TREATMENT", "ADVERSE EVENT", "2009-06-01"),
        (3.0, "DISPOSITION EVENT", "END OF STUDY", "ADVERSE EVENT", "2009-07-01"),
    ]
    failure = _records(package, "DS", "CLE-B-P03")
    assert [r["DSDECOD"] for r in failure] == ["ELIGIBILITY CRITERIA NOT MET"]


def test_cm_mh_dv_and_supplemental_qualifiers(package: SdtmPackage) -> None:
    (cm,) = _records(package, "CM")
    assert (cm["CMTRT"], cm["CMCAT"], cm["CMBLFL"], cm["CMSTDY"]) == (
        "hydroxychloroquine",
        "BASELINE MEDICATION",
        "Y",
        -426.0,
    )
    assert _missing(cm["CMENDTC"])
    mh = [(r["MHCAT"], r["MHTERM"], r["MHSTDTC"]) for r in _records(package, "MH")]
    assert mh == [
        ("PRIMARY DIAGNOSIS", "CUTANEOUS LUPUS ERYTHEMATOSUS, DLE", "2005-06"),
        ("MEDICAL HISTORY", "SYSTEMIC LUPUS ERYTHEMATOSUS", None),
        ("REASON FOR INCLUSION", "REFRACTORY TO CONVENTIONAL TREATMENT", None),
    ]
    (dv,) = _records(package, "DV")
    assert (dv["DVTERM"], dv["DVCAT"], dv["DVSTDY"]) == (
        "HCQ dose changed",
        "BASELINE_MEDICATION",
        31.0,
    )
    (conf,) = _records(package, "SUPPLB")
    assert (conf["IDVAR"], conf["IDVARVAL"], conf["QNAM"], conf["QVAL"]) == (
        "LBSEQ",
        "2",
        "LBCONF",
        "Y",
    )
    suppdm = package.datasets["SUPPDM"].frame
    assert sorted(suppdm[suppdm["QNAM"] == "SYNTHET"]["USUBJID"]) == [
        "CLE-A-P01",
        "CLE-A-P02",
        "CLE-B-P03",
    ]


def test_every_domain_checks_names_subjects_in_dm_and_unique_seq(package: SdtmPackage) -> None:
    subjects = set(package.datasets["DM"].frame["USUBJID"])
    for name, dataset in package.datasets.items():
        dataset.check()
        if dataset.spec.domain_class == "TRIAL DESIGN":  # TA, TE, TV, TI, TS: no subjects
            assert "USUBJID" not in dataset.spec.names, name
            continue
        assert set(dataset.frame["USUBJID"]) <= subjects, name
        seq = f"{name}SEQ"
        if seq in dataset.frame.columns:
            keys = list(zip(dataset.frame["USUBJID"], dataset.frame[seq], strict=True))
            assert len(keys) == len(set(keys)), name
    for p in package.provenance:
        if p.array is not None and p.index is not None:
            assert package.record(p.usubjid, p.array, p.index) == (p.domain, p.seq)


def test_stop_events_of_the_history_are_ds_other_events_and_resolve_for_adam() -> None:
    # Found by the end-to-end package benchmark: a patient event (consent withdrawn, ...) had no
    # SDTM record, so ADaM could not resolve SRCSEQ of events[0].
    ref = SubjectRef("S", "A", "P1", dt.date(2009, 3, 2))
    history = {"doses": [{"date": "2009-03-02", "regimen": "5_daily"}],
               "events": [{"date": "2009-04-01", "type": "consent_withdrawn"}]}  # fmt: skip
    protocol = load_protocol().file
    pkg = build_sdtm(StudySource("S", "T", protocol.id, protocol.version, protocol,
                                 subjects=(SubjectSource(ref, history=history),)))  # fmt: skip
    ds = pkg.datasets["DS"].frame
    other = ds[ds["DSCAT"] == "OTHER EVENT"]
    assert other[["DSDECOD", "DSSTDTC"]].values.tolist() == [
        ["WITHDRAWAL BY SUBJECT", "2009-04-01"]
    ]
    domain, seq = pkg.record("S-A-P1", "events", 0)
    assert domain == "DS" and float(seq) in set(other["DSSEQ"])
