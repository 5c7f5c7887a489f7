"""``cletrial derive --csv`` writes text cells a spreadsheet cannot run (numbers unchanged)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cletrial.cli import app

EXAMPLE = Path(__file__).parents[2] / "examples" / "history-p15-neutropenia.json"


def test_derive_csv_quotes_a_formula_in_a_text_cell(tmp_path: Path) -> None:
    history = json.loads(EXAMPLE.read_text())
    history["patient_id"] = "=1+1"
    path = tmp_path / "cohort.jsonl"
    path.write_text(json.dumps(history) + "\n")
    result = CliRunner().invoke(app, ["derive", str(path), "--table", "adsl", "--csv"])
    assert result.exit_code == 0, result.output
    header, row = result.stdout.splitlines()[:2]
    cells = dict(zip(header.split(","), row.split(","), strict=True))
    assert cells["USUBJID"] == "'=1+1" and cells["BCLASIA"] == "10.0"
