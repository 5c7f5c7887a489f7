"""The instrument commands, run as a user would (exit codes, messages, formats)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cletrial.cli import app

runner = CliRunner()

FORM = {
    "regions": {
        "scalp": {"erythema": 2, "scale": 1},
        "nose": {"erythema": 1, "dyspigmentation": 1, "scarring": 1},
    }
}


def test_score_clasi_json_single_form(tmp_path: Path) -> None:
    path = tmp_path / "form.json"
    path.write_text(json.dumps(FORM, indent=2))
    result = runner.invoke(app, ["score", "clasi", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"activity": 4, "damage": 2, "activity_severity": "mild"}


def test_score_clasi_json_lines_from_stdin() -> None:
    lines = "\n".join(json.dumps(f) for f in [FORM, {}, {"regions": {"arms": {"erythema": 3}}}])
    result = runner.invoke(app, ["score", "clasi", "-", "--json"], input=lines + "\n")
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    assert [r["activity"] for r in rows] == [4, 0, 3]


def test_score_clasi_table_output() -> None:
    result = runner.invoke(app, ["score", "clasi", "-"], input=json.dumps(FORM))
    assert result.exit_code == 0
    assert "activity_severity" in result.stdout
    assert "mild" in result.stdout


def test_invalid_line_exits_2_naming_line_field_and_value() -> None:
    lines = json.dumps(FORM) + "\n" + json.dumps({"regions": {"arms": {"scale": 3}}}) + "\n"
    result = runner.invoke(app, ["score", "clasi", "-", "--json"], input=lines)
    assert result.exit_code == 2
    assert "line 2: regions.arms.scale = 3: must be 0, 1 or 2" in result.stderr
    assert "Traceback" not in result.output


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["score", "clasi", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "cannot read" in result.stderr


def test_score_sledai() -> None:
    result = runner.invoke(
        app,
        ["score", "sledai", "-", "--json"],
        input='{"rash": true, "leukopenia": true, "leukopenia_drug_induced": true}',
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"score": 2}
    bad = runner.invoke(app, ["score", "sledai", "-"], input='{"rash": "yes"}')
    assert bad.exit_code == 2
    assert 'rash = "yes": must be true or false' in bad.stderr


def test_grade_json_and_text() -> None:
    result = runner.invoke(
        app, ["grade", "neutrophil_count_decreased", "1190", "--unit", "/mm3", "--json"]
    )
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["grade"] == 2 and out["ctcae_version"] == "5.0" and out["lln_source"] == "default"
    text = runner.invoke(app, ["grade", "anemia", "6.4", "--unit", "g/dL", "--ctcae", "3.0"])
    assert "grade 4" in text.stdout


def test_grade_bad_unit_exits_2() -> None:
    result = runner.invoke(app, ["grade", "anemia", "10", "--unit", "/mm3"])
    assert result.exit_code == 2
    assert 'unit = "/mm3"' in result.stderr


def test_schema_commands_print_json_schema() -> None:
    for name, title in [("clasi", "CLASI form"), ("sledai", "SLEDAI-2K form")]:
        result = runner.invoke(app, ["schema", name])
        assert result.exit_code == 0
        assert json.loads(result.stdout)["title"] == title


def test_help_is_helpful() -> None:
    result = runner.invoke(app, ["score", "clasi", "--help"])
    assert result.exit_code == 0
    assert "activity" in result.stdout and "JSON Lines" in result.stdout
