"""ADaM rebuilt on SDTM: each defect of issue 13's list, and agreement with the engine."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from tests.endpoints.helpers import history

from cletrial.endpoints import derive_endpoints, table_from_histories
from cletrial.standards.adam import build_adam, sequence_lookup
from cletrial.standards.metadata import Dataset, DatasetSpec, Variable
from cletrial.synthetic import generate_cohort

_DM = ("STUDYID", "USUBJID", "SUBJID", "SITEID", "AGE", "AGEU", "SEX", "ARM", "ACTARM")


def dm_of(histories: dict[str, Any]) -> Dataset:
    rows = [{"STUDYID": "CLE", "USUBJID": u, "SUBJID": u.split("-")[-1], "SITEID": "H01",
             "AGE": 40.0, "AGEU": "YEARS", "SEX": "F", "ARM": "Lenalidomide",
             "ACTARM": "Lenalidomide"} for u in histories]  # fmt: skip
    spec = DatasetSpec("DM", "Demographics", "SPECIAL PURPOSE", "One record per subject",
                       ("STUDYID", "USUBJID"),
                       tuple(Variable(n, n, "integer" if n == "AGE" else "text") for n in _DM),
                       "SDTMIG 3.4")  # fmt: skip
    return Dataset(spec, pd.DataFrame(rows, columns=list(_DM))).check()


def cohort() -> dict[str, dict[str, Any]]:
    return {
        "CLE-H01-A": history(patient_id="A", visits=[(28, 0), (56, 0), (84, 6)],
                             doses=[(0, "5_daily"), (28, "5_alternate"), (84, "5_daily")]),
        "CLE-H01-B": history(patient_id="B", doses=[(0, "5_daily"), (7, "off")],
                             events=[(7, "physician_decision")]),
        "CLE-H01-C": history(patient_id="C", visits=[(28, 4), (84, 3)]),
        "CLE-H01-D": history(patient_id="D", treated=False, visits=[(28, None)]),
        "CLE-H01-E": history(patient_id="E", visits=[(28, None)]),
    }  # fmt: skip


def adam() -> dict[str, Dataset]:
    hs = cohort()
    return build_adam(dm_of(hs), hs, sequence_lookup(hs))


def test_identifiers_come_from_dm_and_every_usubjid_is_in_dm() -> None:
    out = adam()
    adsl = out["ADSL"].frame
    assert adsl["STUDYID"].eq("CLE").all()  # old: no STUDYID
    assert adsl["USUBJID"].tolist()[0] == "CLE-H01-A"  # old: the raw patient id "A"
    for name, ds in out.items():
        ds.check()
        assert set(ds.frame["USUBJID"]) <= set(adsl["USUBJID"]), name


def test_adsl_has_demographics_treatment_and_populations() -> None:
    adsl = adam()["ADSL"].frame.set_index("SUBJID")
    assert adsl.loc["B", "TRTEDT"] == dt.date(2009, 1, 11)  # old EOTDT: the off day, 01-12
    assert adsl.loc["B", "EOTSTT"] == "DISCONTINUED"
    assert adsl.loc["B", "DCTREAS"] == "PHYSICIAN DECISION"  # old: physician_decision
    assert adsl.loc["D", "SAFFL"] == "N" and adsl.loc["D", "TRT01A"] is None
    assert adsl.loc["A", "TTCRDY"] == 28  # old: weeks
    assert adsl.loc["E", "BESTRSP"] == "NE"
    assert adsl.loc["C", "BESTRSP"] == "PR"


def test_adrs_aval_and_avalc_map_one_to_one() -> None:
    adrs = adam()["ADRS"].frame
    coded = adrs[adrs["AVALC"].notna()]
    pairs = coded.groupby(["PARAMCD", "AVALC"])["AVAL"].nunique()
    assert (pairs == 1).all()
    back = coded.groupby(["PARAMCD", "AVAL"])["AVALC"].nunique()
    assert (back == 1).all()
    relapse = adrs[adrs["PARAMCD"] == "RELAPSE"]
    assert set(relapse["AVALC"]) <= {"Y", "N"}  # old: AVALC held the regimen


def test_adtte_in_days_equal_to_dates_difference_and_srcseq_from_lookup() -> None:
    hs = cohort()
    look = sequence_lookup(hs)
    tte = build_adam(dm_of(hs), hs, look)["ADTTE"].frame
    days = [(b - a).days for a, b in zip(tte["STARTDT"], tte["ADT"], strict=True)]
    assert tte["AVAL"].tolist() == days
    first = tte.iloc[0]
    assert first["SRCDOM"] == "QS"  # old: "assessments"
    assert first["SRCSEQ"] == look(first["USUBJID"], "assessments", 0)[1]


def test_synthetic_endpoints_equal_cletrial_derive() -> None:
    raw = list(generate_cohort(30, seed=7))
    hs = {f"CLE-H01-{h['patient_id']}": h for h in raw}
    out = build_adam(dm_of(hs), hs, sequence_lookup(hs))
    subjects = derive_endpoints(table_from_histories(raw)).subjects
    adsl = out["ADSL"].frame
    assert adsl["BESTRSP"].tolist() == subjects["best_response"].tolist()
    weeks = subjects["time_to_cr_weeks"].astype("float64") * 7
    assert adsl["TTCRDY"].fillna(-1).tolist() == weeks.round().fillna(-1).tolist()
    ttcr = out["ADTTE"].frame.query("PARAMCD == 'TTCR' and CNSR == 0")
    assert sorted(ttcr["AVAL"]) == sorted(weeks.dropna().round())
