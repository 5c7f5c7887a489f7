"""``cletrial derive --table trial``: the trial endpoints at a named week, as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cletrial.cli import app

runner = CliRunner()


def _history(patient: str, week16: dict[str, Any]) -> dict[str, Any]:
    return {
        "patient_id": patient,
        "first_dose_date": "2024-01-08",
        "doses": [{"date": "2024-01-08", "regimen": "5_daily"}],
        "baseline": {"date": "2024-01-08", "clasi": {"activity": 12}, "cla_iga": 3,
                     "skindex": {"31": 4, "32": 4, "33": 4}},
        "assessments": [{"date": "2024-04-29", **week16}],  # day 112 = week 16
    }  # fmt: skip


@pytest.fixture
def cohort(tmp_path: Path) -> Path:
    path = tmp_path / "trial.jsonl"
    rows = [
        _history("R1", {"clasi": {"activity": 3}, "cla_iga": 1, "skindex": {"31": 2, "32": 2,
                                                                             "33": 2}}),
        _history("R2", {"clasi": {"activity": 7}, "cla_iga": 2}),
        _history("R3", {}),  # the week-16 visit recorded nothing
    ]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_week_16_endpoints_per_patient(cohort: Path) -> None:
    result = runner.invoke(app, ["derive", str(cohort), "--table", "trial", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["patient_id"]: r for r in json.loads(result.stdout)}
    # R1: 12 -> 3 = -75%: CLASI-50 and CLASI-70; IGA 3 -> 1 success; lupus-specific 75 -> 25
    assert rows["R1"]["clasi_pct_change"] == -75.0
    assert (rows["R1"]["clasi50"], rows["R1"]["clasi70"]) == (True, True)
    assert rows["R1"]["cla_iga_success"] is True
    assert rows["R1"]["skindex_lupus_specific_chg"] == -50.0
    # R2: 12 -> 7 = -41.7%: neither; IGA 3 -> 2 not a success
    assert (rows["R2"]["clasi50"], rows["R2"]["cla_iga_success"]) == (False, False)
    # R3: nothing at week 16: missing, not non-responder
    assert (rows["R3"]["clasi50"], rows["R3"]["clasi_note"]) == (None, "visit_missing")
    assert rows["R3"]["cla_iga_success"] is None


def test_nri_and_another_week(cohort: Path) -> None:
    result = runner.invoke(app, ["derive", str(cohort), "--table", "trial", "--json", "--nri"])
    rows = {r["patient_id"]: r for r in json.loads(result.stdout)}
    assert (rows["R3"]["clasi50"], rows["R3"]["clasi_note"]) == (False, "visit_missing_nri")
    result = runner.invoke(app, ["derive", str(cohort), "--table", "trial", "--week", "24"])
    assert result.exit_code == 0 and "visit_missing" in result.stdout


def test_an_impossible_week_exits_2_naming_it(cohort: Path) -> None:
    result = runner.invoke(app, ["derive", str(cohort), "--table", "trial", "--week", "0"])
    assert result.exit_code == 2
    assert "week = 0: must be a whole number of weeks from 1 to 520" in result.output


def test_an_impossible_grade_exits_2_naming_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(_history("B1", {"cla_iga": 7})) + "\n")
    result = runner.invoke(app, ["derive", str(path), "--table", "trial"])
    assert result.exit_code == 2
    assert "line 1: assessments[0].cla_iga = 7: must be 0, 1, 2, 3 or 4" in result.output
