"""ADRS CLASI-50/70 records at a named week: opt-in, traced to the CLASI-A record, missing
stays missing, non-responder imputation shows as a record without a source."""

from __future__ import annotations

from typing import Any

from cletrial.endpoints.trial import TrialEndpointRules
from cletrial.standards.adam import build_adam, example_arguments

COLUMNS = ["PARAMCD", "PARAM", "AVAL", "AVALC", "AVISIT", "ADY", "SRCDOM", "SRCSEQ"]


def _trial_rows(trial: TrialEndpointRules | None) -> list[list[Any]]:
    frame = build_adam(*example_arguments(), trial=trial)["ADRS"].frame
    rows = frame[frame["PARAMCD"].str.startswith("CLASI") & (frame["PARAMCD"] != "CLASIA")]
    return rows[rows["PARAMCD"] != "CLASIRSP"][COLUMNS].values.tolist()


def test_without_a_named_week_adrs_is_unchanged() -> None:
    assert _trial_rows(None) == []


def test_week_4_responders_traced_to_the_clasi_record() -> None:
    # the example patient: baseline CLASI-A 7, 0 on day 28 (week 4): a 100% reduction
    rows = _trial_rows(TrialEndpointRules(week=4))
    assert rows == [
        ["CLASI50", "CLASI-50 response at week 4 (CLASI-A reduced >= 50% from baseline)",
         1.0, "Y", "WEEK 4", 29.0, "QS", 2.0],
        ["CLASI70", "CLASI-70 response at week 4 (CLASI-A reduced >= 70% from baseline)",
         1.0, "Y", "WEEK 4", 29.0, "QS", 2.0],
    ]  # fmt: skip


def test_no_visit_at_week_16_gives_no_record_unless_nri() -> None:
    assert _trial_rows(TrialEndpointRules(week=16)) == []
    rows = _trial_rows(TrialEndpointRules(week=16, nri=True))
    assert [r[:5] for r in rows] == [
        ["CLASI50", rows[0][1], 0.0, "N", "WEEK 16"],
        ["CLASI70", rows[1][1], 0.0, "N", "WEEK 16"],
    ]
    assert all(r[6] is None for r in rows)  # imputed: no source record
