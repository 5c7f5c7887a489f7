"""ADaM-shaped tables: ADSL, ADRS, ADTTE and ADAE, with their sources."""

from __future__ import annotations

from typing import Any

import pandas as pd
from tests.endpoints.helpers import history

from cletrial.endpoints import (
    VisitTable,
    build_visit_table,
    course_from_history,
    derive_adae,
    derive_adrs,
    derive_adsl,
    derive_adtte,
    derive_endpoints,
)

INSOMNIA = {
    "term": "Insomnia",
    "start": "2009-03-01",
    "grade": 2,
    "causality": "probable",
    "serious": False,
}


def cohort() -> tuple[Any, VisitTable]:
    hs = [
        history(
            patient_id="A",
            visits=[(28, 0), (56, 0), (84, 6)],
            aes=[INSOMNIA],
            doses=[(0, "5_daily"), (28, "5_alternate"), (56, "5_thrice_weekly"), (84, "5_daily")],
        ),
        history(
            patient_id="B",
            base=3,
            doses=[(0, "5_daily"), (7, "off")],
            events=[(7, "physician_decision")],
        ),
        history(patient_id="C", visits=[(28, 6), (84, 3)]),
    ]
    table = build_visit_table(course_from_history(h) for h in hs)
    return derive_endpoints(table), table


def test_adsl_one_row_per_patient_with_flags() -> None:
    endpoints, table = cohort()
    adsl = derive_adsl(endpoints, table)
    assert adsl["USUBJID"].tolist() == ["A", "B", "C"]
    assert adsl["BESTRSP"].tolist() == ["CR", "WITHDRAWN", "PR"]
    assert adsl["CRFL"].tolist() == ["Y", "N", "N"]
    assert adsl["RELFL"].tolist() == ["Y", None, None]  # only patients with CR can relapse
    assert adsl["NCYCLES"].tolist() == [2, 1, 1]
    assert adsl["DCTREAS"].tolist() == [None, "physician_decision", None]
    assert adsl["TRTSDT"].iloc[0] == pd.Timestamp("2009-01-05")
    assert adsl["EOTDT"].iloc[1] == pd.Timestamp("2009-01-12")


def test_adrs_records_trace_to_their_source() -> None:
    endpoints, table = cohort()
    adrs = derive_adrs(endpoints, table)
    a = adrs[adrs["USUBJID"] == "A"].set_index("PARAMCD")
    assert list(a.index) == ["BESTRSP", "CR", "RESPWK12", "RELAPSE"]
    assert (a.loc["CR", "AVALC"], a.loc["CR", "ADY"], a.loc["CR", "SRCSEQ"]) == ("Y", 29, 1)
    relapse = a.loc["RELAPSE"]
    assert (relapse["AVAL"], relapse["AVALC"], relapse["RELACT"]) == (
        4.0,
        "5_thrice_weekly",
        "restart",
    )
    assert (relapse["SRCDOM"], relapse["SRCVAR"], relapse["SRCSEQ"]) == (
        "assessments",
        "clasi.activity",
        3,
    )
    b = adrs[adrs["USUBJID"] == "B"].set_index("PARAMCD")
    assert (b.loc["BESTRSP", "SRCDOM"], b.loc["BESTRSP", "SRCVAR"]) == ("events", "type")


def test_adtte_events_and_censoring() -> None:
    endpoints, table = cohort()
    tte = derive_adtte(endpoints, table)
    rows = {(r.USUBJID, r.PARAMCD): r for r in tte.itertuples()}
    assert (rows["A", "TTCR"].AVAL, rows["A", "TTCR"].CNSR) == (4.0, 0)
    assert (rows["A", "RFS"].AVAL, rows["A", "RFS"].CNSR) == (8.0, 0)  # CR day 28 -> day 84
    # withdrawn before any assessment: censored at the origin, and said so
    assert (rows["B", "TTCR"].AVAL, rows["B", "TTCR"].CNSR) == (0.0, 1)
    assert "censored at origin" in rows["B", "TTCR"].CNSDTDSC
    # PR patient: censored at the last assessment (day 84 = 12 weeks)
    assert (rows["C", "TTCR"].AVAL, rows["C", "TTCR"].CNSR, rows["C", "TTCR"].SRCSEQ) == (
        12.0,
        1,
        2,
    )
    assert ("B", "RFS") not in rows and ("C", "RFS") not in rows


def test_adae_study_days_and_flags() -> None:
    rash = {"term": "Rash", "start": "2009-01-02", "grade": 1, "causality": None}
    h = history(aes=[INSOMNIA, rash])
    table = build_visit_table([course_from_history(h)])
    adae = derive_adae(table)
    # sorted by start; day 1 = first dose, no day 0
    assert adae["ASTDY"].tolist() == [-3, 56]
    assert adae["TRTEMFL"].tolist() == ["N", "Y"]
    assert adae["RELFL"].tolist() == [None, "Y"]
    assert adae["SRCSEQ"].tolist() == [1, 2]  # the history lists adverse events by start
