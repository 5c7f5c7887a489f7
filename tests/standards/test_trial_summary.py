"""SDTM TS: the trial summary parameters the FDA asks for, from the protocol and the study data.

Known answers come from the 2012 paper (shared/seeds/001_15a3922cfb243464.txt, NCT01408199):
the primary endpoint complete response (CLASI activity 0), the secondary endpoints (adverse
events, cutaneous relapse, SLEDAI-2K flares, CLASI damage, anti-dsDNA), the reasons for
stopping a patient's treatment, oral lenalidomide started at 5 mg daily on stable background
therapy; the NCI codes from SDTMIG 3.4's TS examples and pharmaverse's CT extract.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from cletrial.errors import ProtocolDefinitionError
from cletrial.protocol import load_protocol
from cletrial.protocol.definition import parse_protocol
from cletrial.protocol.definition_trial import DataCutoff
from cletrial.protocols import __file__ as protocols_init
from cletrial.standards.conformance import FDA_TS_PARAMETERS, check_conformance
from cletrial.standards.define_xml import DefineStudy, write_define_xml
from cletrial.standards.sdtm.build import build_sdtm, build_trial_design
from cletrial.standards.sdtm.common import SubjectRef
from cletrial.standards.sdtm.source import StudySource, SubjectSource
from cletrial.standards.sdtm.trial_summary import TS_SPEC, StudyFacts
from cletrial.standards.submission import build_submission
from cletrial.vocabulary import TS_PARAMETER
from cletrial.vocabulary.trial import TS_VALUE_CODELIST

PROTOCOL = load_protocol().file
PLACEBO = load_protocol("lenalidomide-vs-placebo-cle").file
WITHDRAWAL = load_protocol("lenalidomide-withdrawal-cle").file
NEW = ("ACTSUB", "COMPTRT", "CURTRT", "DCUTDESC", "DCUTDTC", "DOSE", "DOSFRQ", "DOSU",
       "EXTTIND", "OBJSEC", "OUTMSPRI", "OUTMSSEC", "PCLAS", "ROUTE", "SENDTC", "STOPRULE",
       "TDIGRP")  # fmt: skip


def _ts(protocol: Any = PROTOCOL, facts: StudyFacts | None = None) -> pd.DataFrame:
    frame = build_trial_design("S", protocol, facts)["TS"].frame
    return frame.astype(object).where(frame.notna(), None)


def _values(ts: pd.DataFrame, code: str) -> list[Any]:
    values: list[Any] = ts[ts["TSPARMCD"] == code]["TSVAL"].tolist()
    return values


def _row(ts: pd.DataFrame, code: str) -> dict[str, Any]:
    rows = ts[ts["TSPARMCD"] == code].to_dict("records")
    assert len(rows) == 1, code
    row: dict[str, Any] = rows[0]
    return row


def test_the_2012_protocol_has_every_new_parameter() -> None:
    ts = _ts(PROTOCOL, StudyFacts(actual_subjects=15))
    assert set(NEW) <= set(ts["TSPARMCD"])
    assert _values(ts, "OUTMSPRI") == ["Complete response, a CLASI activity score of 0"]
    secondary = _values(ts, "OUTMSSEC")
    assert len(secondary) == 5 and secondary[0] == "Any adverse event"
    assert any("4 or more after complete response" in v for v in secondary)  # relapse
    assert any("above 3 (mild) or above 12 (severe)" in v for v in secondary)  # SLEDAI-2K
    assert len(_values(ts, "OBJSEC")) == 3
    stops = _values(ts, "STOPRULE")
    assert len(stops) == 4 and "grade 3 or worse myelosuppression" in stops[0]
    assert _values(ts, "CURTRT") == ["Antimalarial", "Prednisone below 10 mg/day",
                                     "Immunosuppressive regimen"]  # fmt: skip
    assert _row(ts, "COMPTRT")["TSVAL"] is None and _row(ts, "COMPTRT")["TSVALNF"] == "NA"
    assert _values(ts, "TDIGRP") == ["Cutaneous lupus erythematosus"]
    assert _values(ts, "PCLAS") == ["Thalidomide Analog"] and _row(ts, "PCLAS")["TSVALCD"] is None
    assert _values(ts, "ACTSUB") == ["15"]


def test_the_2012_dose_is_the_start_of_the_ladder_with_its_codes() -> None:
    ts = _ts()
    got = {c: (_row(ts, c)["TSVAL"], _row(ts, c)["TSVALCD"]) for c in ("DOSE", "DOSU", "DOSFRQ",
                                                                       "ROUTE")}  # fmt: skip
    # 5 mg every day, by mouth (paper: "Oral lenalidomide"; "started at 5 mg/day")
    assert got == {"DOSE": ("5", None), "DOSU": ("mg", "C28253"), "DOSFRQ": ("QD", "C25473"),
                   "ROUTE": ("ORAL", "C38288")}  # fmt: skip
    assert _row(ts, "ROUTE")["TSVCDREF"] == "CDISC CT"
    trt = _row(ts, "TRT")
    assert (trt["TSVAL"], trt["TSVALCD"], trt["TSVCDREF"]) == ("LENALIDOMIDE", "F0P408N6V4", "UNII")


def test_unknown_dates_and_counts_carry_their_null_flavor() -> None:
    ts = _ts()
    for code in ("SENDTC", "DCUTDTC", "DCUTDESC", "ACTSUB"):
        assert (_row(ts, code)["TSVAL"], _row(ts, code)["TSVALNF"]) == (None, "UNK"), code
    cutoff = DataCutoff("2010-12-31", "DATABASE LOCK")
    ts = _ts(PROTOCOL, StudyFacts(actual_subjects=3, data_cutoff=cutoff))
    assert _values(ts, "DCUTDTC") == ["2010-12-31"] and _values(ts, "DCUTDESC") == ["DATABASE LOCK"]
    assert _row(ts, "DCUTDTC")["TSVCDREF"] == "ISO 8601"


def test_the_coded_values_carry_the_checked_codes() -> None:
    ts = _ts()
    coded = ("TBLIND", "TCNTRL", "INTMODEL", "STYPE", "INTTYPE", "SEXPOP", "TINDTP", "EXTTIND")
    codes = {c: _row(ts, c)["TSVALCD"] for c in coded}
    # SDTMIG 3.4 section 7.6.1, TS examples 1 and 4
    assert codes == {"TBLIND": "C49659", "TCNTRL": "C41132", "INTMODEL": "C82640",
                     "STYPE": "C98388", "INTTYPE": "C1909", "SEXPOP": "C49636",
                     "TINDTP": "C49656", "EXTTIND": "C49487"}  # fmt: skip
    assert ts[ts["TSPARMCD"] == "TTYPE"]["TSVALCD"].tolist() == ["C49666", "C49667"]


def test_the_placebo_template_names_its_comparator_and_interim_analysis() -> None:
    ts = _ts(PLACEBO)
    assert set(FDA_TS_PARAMETERS) <= set(ts["TSPARMCD"])
    comptrt = _row(ts, "COMPTRT")
    assert (comptrt["TSVAL"], comptrt["TSVALNF"]) == ("PLACEBO", None)
    assert (_row(ts, "TCNTRL")["TSVAL"], _row(ts, "TCNTRL")["TSVALCD"]) == ("PLACEBO", "C49648")
    assert (_row(ts, "TBLIND")["TSVAL"], _row(ts, "TBLIND")["TSVALCD"]) == ("DOUBLE BLIND",
                                                                            "C15228")  # fmt: skip
    assert _values(ts, "INTMODEL") == ["PARALLEL"] and _values(ts, "NARMS") == ["2"]
    assert _values(ts, "OUTMSPRI") == ["Complete response at week 12, a CLASI activity score of 0"]
    stops = _values(ts, "STOPRULE")
    assert stops[0].startswith("Study: one interim analysis") and len(stops) == 5
    # what the template does not restate is the 2012 trial's (extends)
    assert _values(ts, "DOSE") == ["5"] and _values(ts, "DOSFRQ") == ["QD"]
    assert _values(ts, "ROUTE") == ["ORAL"] and _values(ts, "TRT") == ["LENALIDOMIDE"]
    assert len(_values(ts, "CURTRT")) == 3 and len(_values(ts, "OUTMSSEC")) == 5
    assert (_row(ts, "SSTDTC")["TSVALNF"], _row(ts, "SENDTC")["TSVALNF"]) == ("UNK", "UNK")


def test_the_withdrawal_template_compares_with_the_taper() -> None:
    ts = _ts(WITHDRAWAL)
    assert _values(ts, "COMPTRT") == [
        "Lenalidomide tapered monthly to withdrawal, matching placebo"
    ]
    assert _values(ts, "OUTMSPRI")[0].startswith("Time to cutaneous relapse")
    assert not any("relapse" in v for v in _values(ts, "OUTMSSEC"))  # relapse is the primary


@pytest.mark.parametrize("protocol", [PROTOCOL, PLACEBO, WITHDRAWAL], ids=lambda p: p.id)
def test_the_bundled_trial_summaries_have_no_trial_design_findings(protocol: Any) -> None:
    datasets = build_trial_design("S", protocol, StudyFacts(actual_subjects=1))
    assert [f for f in check_conformance(datasets).findings if f.rule.startswith("TD")] == []


# ------------------------------------------------------------------------------------ ACTSUB


def _subject(pid: str, **kwargs: Any) -> SubjectSource:
    return SubjectSource(SubjectRef("S", "A", pid, kwargs.pop("first", None)), sex="F", age=40,
                         **kwargs)  # fmt: skip


def test_actsub_counts_the_enrolled_subjects_of_a_single_arm_study() -> None:
    dosed = {"doses": [{"date": "2009-03-02", "regimen": "5_daily"}]}
    subjects = (
        _subject("P1", first=dt.date(2009, 3, 2), history=dosed),
        _subject("P2", history={}, screening_verdict="eligible"),  # enrolled, never dosed
        _subject("P3", history={}, screening_verdict="ineligible"),  # screen failure
    )
    pkg = build_sdtm(StudySource("S", "T", PROTOCOL.id, PROTOCOL.version, PROTOCOL,
                                 subjects=subjects))  # fmt: skip
    dm = pkg.datasets["DM"].frame
    assert len(dm) == 3 and dm["ARMNRS"].tolist()[2] == "SCREEN FAILURE"
    assert _values(pkg.datasets["TS"].frame, "ACTSUB") == ["2"]


def test_actsub_counts_the_randomised_subjects_of_a_randomised_study() -> None:
    dosed = {"doses": [{"date": "2024-01-15", "regimen": "5_daily"}]}
    subjects = (
        _subject("P1", first=dt.date(2024, 1, 15), history=dosed, randomised=True, arm="PBO"),
        _subject("P2", history={}, randomised=True, arm="LEN"),
        _subject("P3", history={}),  # screened, not randomised: NOT ASSIGNED
    )
    pkg = build_sdtm(StudySource("S", "T", PLACEBO.id, PLACEBO.version, PLACEBO,
                                 subjects=subjects))  # fmt: skip
    assert _values(pkg.datasets["TS"].frame, "ACTSUB") == ["2"]


def test_actsub_of_a_package_is_its_subjects_and_survives_deidentification() -> None:
    dosed = {"patient_id": "P", "doses": [{"date": "2009-03-02", "regimen": "5_daily"}]}
    subjects = tuple(_subject(f"P{i}", first=dt.date(2009, 3, 2), history=dosed)
                     for i in range(1, 5))  # fmt: skip
    source = StudySource("S", "T", PROTOCOL.id, PROTOCOL.version, PROTOCOL, subjects=subjects)
    for deidentify in (False, True):
        sub = build_submission(source, deidentify=deidentify, key=b"k" * 32)
        assert _values(sub.datasets["TS"].frame, "ACTSUB") == [str(len(subjects))]
        assert len(sub.datasets["DM"].frame) == len(subjects)
        assert not [f for f in sub.report.findings if f.rule == "TD06"]


# -------------------------------------------------------------------- conformance and define


def test_td06_names_a_missing_fda_parameter() -> None:
    datasets = build_trial_design("S", PROTOCOL)
    ts = datasets["TS"]
    frame = ts.frame[~ts.frame["TSPARMCD"].isin(["STOPRULE", "ACTSUB"])].reset_index(drop=True)
    found = check_conformance({"TS": dataclasses.replace(ts, frame=frame)}).findings
    assert [(f.rule, f.variable, f.value) for f in found if f.rule == "TD06"] == [
        ("TD06", "TSPARMCD", "ACTSUB"), ("TD06", "TSPARMCD", "STOPRULE")]  # fmt: skip


def test_every_fda_parameter_and_coded_parameter_is_in_the_vocabulary_and_define() -> None:
    assert set(FDA_TS_PARAMETERS) <= set(TS_PARAMETER.values)
    covered = {v.value for v in TS_SPEC.value_level if v.variable == "TSVAL"}
    assert covered == set(TS_VALUE_CODELIST) and {"DOSFRQ", "DOSU", "ROUTE", "EXTTIND"} <= covered


def test_define_xml_gives_the_new_coded_parameters_their_codelists(tmp_path: Path) -> None:
    study = DefineStudy("ST.S", "S", "Title", "protocol")
    path = write_define_xml(list(build_trial_design("S", PROTOCOL).values()),
                            tmp_path / "define.xml", study,
                            created=dt.datetime(2026, 12, 7, tzinfo=dt.UTC))  # fmt: skip
    text = path.read_text(encoding="utf-8")
    for code in ("DOSFRQ", "DOSU", "ROUTE", "EXTTIND"):
        assert f'<def:WhereClauseDef OID="WC.TS.TSPARMCD.{code}">' in text
    for codelist in ("FREQ", "UNIT", "ROUTE"):
        assert f'CodeList OID="CL.{codelist}"' in text


# ------------------------------------------------------------------------------ the schema


def _refusal(change: dict[str, Any]) -> str:
    path = Path(protocols_init).parent / "lenalidomide-cle-2012.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    trial = copy.deepcopy(document["trial"])
    trial.update(change)
    with pytest.raises(ProtocolDefinitionError) as caught:
        parse_protocol({**document, "trial": {k: v for k, v in trial.items() if v != "DROP"}},
                       "p.yaml")  # fmt: skip
    return str(caught.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"route": "intravenous"}, 'trial.route = "intravenous": invalid enum value'),
        ({"drug_unii": "lenalidomide"}, 'trial.drug_unii = "lenalidomide"'),
        ({"comparator": "PLACEBO"}, 'trial.comparator = "PLACEBO": must be null'),
        ({"control": "placebo"}, "trial.comparator = null: must name the comparative treatment"),
        ({"current_treatments": []}, "trial.current_treatments = []: must name the treatments"),
        ({"diagnosis_group": None}, "trial.diagnosis_group = null: must name"),
        ({"end": "2008-12"}, 'trial.end = "2008-12": must not be before trial.start (2009-01)'),
        ({"data_cutoff": {"date": "2008", "description": "PRIMARY ANALYSIS"}},
         'trial.data_cutoff.date = "2008": must not be before trial.start'),
        ({"data_cutoff": {"date": "31/12/2010", "description": "LOCK"}},
         'trial.data_cutoff.date = "31/12/2010"'),
        ({"stopping_rules": []}, "trial.stopping_rules = []"),
        ({"primary_outcomes": ["x" * 201]}, "trial.primary_outcomes[0]"),
        ({"pharmacological_class": "DROP"}, "pharmacological_class"),
        ({"extension_trial": "no"}, 'trial.extension_trial = "no"'),
    ],
)  # fmt: skip
def test_a_bad_trial_summary_field_is_refused_naming_field_and_value(
    change: dict[str, Any], message: str
) -> None:
    assert message in _refusal(change)
