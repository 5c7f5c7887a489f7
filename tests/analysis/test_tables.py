"""Tables 1-3 and their summaries, cell by cell against the paper."""

from __future__ import annotations

from cletrial.analysis.reference import ReferenceStudy
from cletrial.analysis.tables import (
    NOT_REPORTED,
    compute_adverse_event_summary,
    compute_baseline_summary,
    compute_response_summary,
    compute_table1,
    compute_table2,
    compute_table3,
)


def test_table1_listing(study: ReferenceStudy) -> None:
    table = compute_table1(study)
    assert len(table.rows) == 15 and len(table.columns) == 10
    row7 = table.rows[6]
    assert row7[2] == "SCLE" and row7[6] == "83" and row7[8] == "20/1"
    assert table.rows[1][6] == "negative"


def test_table2_listing_spells_out_missing(study: ReferenceStudy) -> None:
    rows = {r[0]: r for r in compute_table2(study).rows}
    assert rows["3"][1] == "Withdrawn (week 1)" and rows["3"][3] == NOT_REPORTED
    assert rows["5"][5] == NOT_REPORTED
    assert rows["9"][5] == "not applicable (no CR)"
    assert rows["11"][6] == "5 mg twice weekly"


def test_table3_fills_the_blank_grade_from_ctcae(study: ReferenceStudy) -> None:
    rows = compute_table3(study).rows
    assert rows[0] == ("3", "Vomiting", "Grade 2", "Possible")
    assert "grade 2 by CTCAE v5.0" in rows[-1][2] and "blank in Table 3" in rows[-1][2]


def test_summaries(study: ReferenceStudy) -> None:
    baseline = dict(compute_baseline_summary(study).rows)
    assert baseline["Subtype: DLE"] == "9/15 (60%)"
    assert baseline["CLASI damage, mean ± SD"] == "2.33 ± 2.97 (n = 15)"
    response = dict(compute_response_summary(study).rows)
    assert response["Complete response, per protocol (excluding the withdrawn patient)"] == (
        "12/14 (86%); 95% CI 57-98%"
    )
    assert response["Relapse after CR (of CR with a known status)"].startswith("9/11 (82%)")
    assert response["Follow-up, months, median (range)"] == "15 (7-30) (n = 14; 1 missing)"
    safety = compute_adverse_event_summary(study)
    assert dict(safety.rows)["Events without a grade in Table 3"] == "1"
    assert safety.as_dict()["columns"] == ["Measure", "Value"]
