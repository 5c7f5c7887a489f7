"""``cletrial synth`` and ``cletrial derive`` as a user runs them (exit codes, formats)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from tests.endpoints.helpers import history
from typer.testing import CliRunner

from cletrial.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def cohort_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synth") / "cohort.jsonl"
    result = runner.invoke(app, ["synth", "--patients", "12", "--seed", "3", "--out", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_synth_writes_labelled_json_lines(cohort_file: Path) -> None:
    lines = cohort_file.read_text().splitlines()
    assert len(lines) == 12
    first = json.loads(lines[0])
    assert first["patient_id"] == "SYN-0001" and first["synthetic"] is True


def test_synth_to_stdout_is_reproducible(cohort_file: Path) -> None:
    result = runner.invoke(app, ["synth", "--patients", "12", "--seed", "3", "--out", "-"])
    assert result.exit_code == 0
    assert result.stdout == cohort_file.read_text()


def test_derive_readable_table(cohort_file: Path) -> None:
    result = runner.invoke(app, ["derive", str(cohort_file)])
    assert result.exit_code == 0, result.output
    assert "best_response" in result.stdout and "SYN-0012" in result.stdout
    assert "use --csv or --json for all" in result.stdout


def test_derive_json_has_every_column(cohort_file: Path) -> None:
    result = runner.invoke(app, ["derive", str(cohort_file), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 12 and rows[0]["patient_id"] == "SYN-0001"
    assert "flare_selena_severe" in rows[0] and "anti_dsdna_change" in rows[0]


@pytest.mark.parametrize("table", ["adsl", "adrs", "adtte", "adae", "relapses"])
def test_derive_csv_tables(cohort_file: Path, table: str) -> None:
    result = runner.invoke(app, ["derive", str(cohort_file), "--csv", "--table", table])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    if table == "adsl":
        assert len(rows) == 12 and rows[0]["SYNTHFL"] == "Y"
    if table == "adtte":
        assert {r["PARAMCD"] for r in rows} <= {"TTCR", "RFS"} and rows
        assert all(r["CNSR"] in ("0", "1") for r in rows)


def test_derive_json_dates_are_iso(cohort_file: Path) -> None:
    result = runner.invoke(app, ["derive", str(cohort_file), "--json", "--table", "adtte"])
    row = json.loads(result.stdout)[0]
    assert len(row["ADT"]) == 10 and row["ADT"][4] == "-"


def test_derive_reads_stdin_and_a_single_pretty_printed_history() -> None:
    text = json.dumps(history(visits=[(28, 0)]), indent=2)
    result = runner.invoke(app, ["derive", "-", "--json"], input=text)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["best_response"] == "CR"


def test_derive_bad_history_exits_2_naming_line_field_and_value(tmp_path: Path) -> None:
    bad = history(visits=[(28, 0)])
    bad["doses"][0]["regimen"] = "7_daily"
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(history()) + "\n" + json.dumps(bad) + "\n")
    result = runner.invoke(app, ["derive", str(path)])
    assert result.exit_code == 2
    assert 'line 2: doses[0].regimen = "7_daily"' in result.stderr
    assert "Traceback" not in result.output


def test_derive_invalid_json_and_missing_file_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text(json.dumps(history()) + "\n{not json\n")
    result = runner.invoke(app, ["derive", str(path)])
    assert result.exit_code == 2 and "line 2: not valid JSON" in result.stderr
    result = runner.invoke(app, ["derive", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2 and "cannot read" in result.stderr


def test_derive_json_and_csv_exclude_each_other(cohort_file: Path) -> None:
    result = runner.invoke(app, ["derive", str(cohort_file), "--json", "--csv"])
    assert result.exit_code == 2 and "exclude each other" in result.stderr


def test_synth_rejects_negative_sizes_and_unknown_protocols(tmp_path: Path) -> None:
    out = str(tmp_path / "x.jsonl")
    assert (
        runner.invoke(app, ["synth", "--patients", "-1", "--seed", "1", "--out", out]).exit_code
        == 2
    )
    result = runner.invoke(
        app, ["synth", "--patients", "1", "--seed", "1", "--out", out, "--protocol", "nope"]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_help_texts() -> None:
    for command in ("derive", "synth"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "Example:" in result.stdout
