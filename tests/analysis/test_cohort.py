"""The cohort path: hand-written histories through cletrial.endpoints into tables and figures."""

from __future__ import annotations

import pytest
from tests.analysis.cohort_histories import cohort

from cletrial.analysis.cohort import (
    Cohort,
    compute_clasi_time_points,
    compute_cohort_kaplan_meier,
    compute_immunology_panels,
    derive_cohort,
    derive_cohort_lanes,
)
from cletrial.analysis.cohort_tables import (
    compute_cohort_adverse_event_table,
    compute_cohort_relapse_table,
    compute_cohort_response_table,
)
from cletrial.errors import HistoryError


@pytest.fixture(scope="module")
def six() -> Cohort:
    return derive_cohort(cohort())


def test_best_responses(six: Cohort) -> None:
    assert six.subjects["best_response"].tolist() == ["CR", "CR", "PR", "WITHDRAWN", "CR", "NE"]
    assert six.n_synthetic == 6


def test_response_table_per_protocol_and_itt(six: Cohort) -> None:
    rows = dict(compute_cohort_response_table(six).rows)
    # CR: S1, S2, S5. The efficacy population excludes S4 (withdrawn): 3/5; ITT (treated) 3/6.
    efficacy = "Complete response, efficacy population (treated, baseline, not withdrawn)"
    assert rows[efficacy].startswith("3/5 (60%)")
    assert rows["Complete response, intention to treat (all treated patients)"].startswith("3/6")
    reason = "Outside a population: withdrawn_before_first_assessment: physician_decision"
    assert rows[reason] == "1"
    assert rows["Time to CR, weeks, median (range)"] == "4.0 (4.0-8.0) (n = 3)"


def test_relapse_table(six: Cohort) -> None:
    rows = compute_cohort_relapse_table(six).rows
    table = dict(rows)
    # S1 relapses at day 84 on 5 mg alternate days, 8 weeks after the reduction on day 28.
    assert table["Relapse after CR (of CR with a known status)"].startswith("1/3")
    assert table["Regimen at first relapse: 5_alternate"] == "1"
    assert table["First relapse setting: during_taper"] == "1"
    assert table["Two or more treatment cycles (of CR)"].startswith("1/3")
    assert any(r[1].startswith("Paired t-test") for r in rows)
    assert any(r[1].startswith("Wilcoxon signed-rank test") for r in rows)


def test_adverse_event_table(six: Cohort) -> None:
    rows = dict(compute_cohort_adverse_event_table(six).rows)
    assert rows["Adverse events of grade 2"] == "2"
    assert rows["Adverse events without a grade"] == "0"  # the history requires a grade
    assert rows["Treatment stopped: physician_decision"] == "1"


def test_kaplan_meier_from_adtte(six: Cohort) -> None:
    ttcr = compute_cohort_kaplan_meier(six, "TTCR", "time to CR")
    assert ttcr is not None and ttcr.events == 3
    rfs = compute_cohort_kaplan_meier(six, "RFS", "relapse-free time")
    assert rfs is not None and (rfs.n, rfs.events) == (3, 1)
    assert compute_cohort_kaplan_meier(six, "NOPE", "x") is None


def test_figure2_points_use_the_closest_visit_in_window(six: Cohort) -> None:
    points = {p.week: p for p in compute_clasi_time_points(six)}
    assert points[0.0].activity_n == 6 and points[0.0].activity_mean == pytest.approx(65 / 6)
    # Week 2 (day 14): S1 6, S2 8, S3 11, S5 4, S6 7 -> mean 7.2.
    assert points[2.0].activity_n == 5 and points[2.0].activity_mean == pytest.approx(7.2)
    # Week 8 (day 56): S6 has a visit without CLASI: missing, not 0.
    assert points[8.0].activity_n == 4


def test_figure3_panels(six: Cohort) -> None:
    panels = compute_immunology_panels(six)
    assert [p.label for p in panels] == ["Anti-dsDNA", "C3", "C4"]
    assert panels[0].pairs == ((40.0, 35.0),)
    assert "no test (1 pair(s) with both values)" in panels[0].test_text


def test_lanes(six: Cohort) -> None:
    lanes = derive_cohort_lanes(six)
    s1 = lanes[0]
    assert [(s.regimen, s.start, s.end) for s in s1.segments][:2] == [
        ("5_daily", 0.0, 4.0),
        ("5_alternate", 4.0, 12.0),
    ]
    assert [(m.kind, m.time) for m in s1.markers] == [("CR", 4.0), ("relapse", 12.0)]
    assert [m.kind for m in lanes[3].markers] == ["stop"]
    assert len(derive_cohort_lanes(six, limit=2)) == 2


def test_bad_history_is_located() -> None:
    histories = cohort()
    histories[2]["first_dose_date"] = "2010-13-01"
    with pytest.raises(HistoryError) as info:
        derive_cohort(histories)
    assert info.value.line == 3 and "first_dose_date" in str(info.value)
    with pytest.raises(HistoryError, match="no patient history"):
        derive_cohort([])
