"""``cletrial eligibility``, ``recommend``, ``schedule`` and ``schema``, run as a user would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from cletrial.cli import app

from .conftest import HistoryFactory, day

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _write(tmp_path: Path, data: Any, name: str = "history.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_recommend_json(tmp_path: Path, make_history: HistoryFactory) -> None:
    path = _write(tmp_path, make_history(10, [(4, 6)]))
    result = runner.invoke(app, ["recommend", path, "--on", day(4).isoformat(), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["action"], data["regimen"]["id"]) == ("escalate", "10_daily")
    assert data["reasons"][0]["rule"] == "REVIEW-ESCALATE"
    assert data["protocol_id"] == "lenalidomide-cle-2012"


def test_recommend_table(tmp_path: Path, make_history: HistoryFactory) -> None:
    path = _write(tmp_path, make_history(10, [(4, 0)]))
    result = runner.invoke(app, ["recommend", path, "--on", day(4).isoformat()])
    assert result.exit_code == 0, result.output
    assert "Action:   TAPER -> 5 mg on alternate days (5_alternate)" in result.stdout
    assert "[protocol] REVIEW-CR:" in result.stdout
    assert "a clinician decides" in result.stdout


def test_recommend_table_without_a_dose(tmp_path: Path, make_history: HistoryFactory) -> None:
    ineligible = {"date": day(-1).isoformat(), "verdict": "ineligible"}
    path = _write(tmp_path, make_history(10, [], [], eligibility=ineligible))
    result = runner.invoke(app, ["recommend", path, "--on", day(0).isoformat()])
    assert result.exit_code == 0, result.output
    assert "Action:   DO_NOT_START -> no dose" in result.stdout
    assert "[protocol] ENROL-INELIGIBLE:" in result.stdout
    path = _write(tmp_path, make_history(10, [], [], screened=False))
    result = runner.invoke(app, ["recommend", path, "--on", day(0).isoformat()])
    assert "Action:   UNDETERMINED -> undetermined" in result.stdout
    assert "[protocol] ENROL-GATE:" in result.stdout


def test_recommend_bad_input_exits_2_without_traceback(
    tmp_path: Path, make_history: HistoryFactory
) -> None:
    path = _write(tmp_path, make_history(10, [(4, 6), (8, 3)]))
    result = runner.invoke(app, ["recommend", path, "--on", day(5).isoformat()])
    assert result.exit_code == 2
    assert 'assessments[1].date = "2009-03-30": is after the recommendation date' in result.stderr
    assert "Traceback" not in result.output
    bad_date = runner.invoke(app, ["recommend", path, "--on", "yesterday"])
    assert bad_date.exit_code == 2 and "--on = 'yesterday'" in bad_date.stderr
    unknown = runner.invoke(app, ["recommend", path, "--on", "2010-01-01", "--protocol", "nope"])
    assert unknown.exit_code == 2 and "no protocol 'nope'" in unknown.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    assert runner.invoke(app, ["recommend", str(broken)]).exit_code == 2


def test_recommend_json_lines(tmp_path: Path, make_history: HistoryFactory) -> None:
    lines = [json.dumps(make_history(10, [(4, a)])) for a in (0, 5, 6)]
    path = tmp_path / "cohort.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["recommend", str(path), "--lines", "--on", day(4).isoformat()])
    assert result.exit_code == 0, result.output
    actions = [json.loads(line)["action"] for line in result.stdout.splitlines()]
    assert actions == ["taper", "continue", "escalate"]
    path.write_text(lines[0] + "\n" + '{"sex": "X"}\n', encoding="utf-8")
    failed = runner.invoke(app, ["recommend", str(path), "--lines", "--on", "2010-01-01"])
    assert failed.exit_code == 2 and failed.stderr.startswith('error: line 2: sex = "X"')


def test_eligibility_commands(tmp_path: Path) -> None:
    path = str(EXAMPLES / "screening.json")
    result = runner.invoke(app, ["eligibility", path, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verdict"] == "eligible"
    table = runner.invoke(app, ["eligibility", path])
    assert "ELIGIBLE" in table.stdout and "I6  met" in table.stdout
    record = json.loads(Path(path).read_text(encoding="utf-8"))
    record["hiv"] = "no"
    bad = runner.invoke(app, ["eligibility", _write(tmp_path, record, "s.json")])
    assert bad.exit_code == 2 and 'hiv = "no"' in bad.stderr


def test_schedule_formats() -> None:
    table = runner.invoke(app, ["schedule", "--start", "2009-02-02", "--weeks", "8"])
    assert table.exit_code == 0 and "2009-03-02  week 4 visit" in table.stdout
    as_json = runner.invoke(
        app,
        [
            "schedule",
            "--start",
            "2009-02-02",
            "--format",
            "json",
            "--weeks",
            "4",
            "--reproductive-potential",
        ],
    )
    rows = json.loads(as_json.stdout)
    assert rows[0]["kind"] == "pre-dose" and rows[-1]["date"] == "2009-03-02"
    ics = runner.invoke(app, ["schedule", "--start", "2009-02-02", "--format", "ics"])
    assert ics.stdout.startswith("BEGIN:VCALENDAR") and "END:VCALENDAR" in ics.stdout
    wrong = runner.invoke(app, ["schedule", "--start", "2009-02-02", "--format", "pdf"])
    assert wrong.exit_code == 2 and "--format = 'pdf'" in wrong.stderr
    example = runner.invoke(
        app,
        [
            "schedule",
            "--start",
            "2009-02-02",
            "--protocol",
            "thalidomide-cle-example",
            "--weeks",
            "40",
        ],
    )
    assert "2009-09-14  week 32 visit" in example.stdout  # every 8 weeks after week 24
    assert "week 28 visit" not in example.stdout


@pytest.mark.parametrize("name", ["screening", "history", "protocol"])
def test_schema_command_prints_valid_schemas(name: str) -> None:
    result = runner.invoke(app, ["schema", name])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)


def test_examples_validate_against_the_published_schemas() -> None:
    history_schema = json.loads(runner.invoke(app, ["schema", "history"]).stdout)
    for path in sorted(EXAMPLES.glob("history-*.json")):
        jsonschema.validate(json.loads(path.read_text(encoding="utf-8")), history_schema)
    screening_schema = json.loads(runner.invoke(app, ["schema", "screening"]).stdout)
    jsonschema.validate(json.loads((EXAMPLES / "screening.json").read_text()), screening_schema)


def test_bundled_protocols_validate_against_the_published_schema() -> None:
    from importlib import resources

    import yaml

    schema = json.loads(runner.invoke(app, ["schema", "protocol"]).stdout)
    folder = resources.files("cletrial.protocols")
    for name in ("lenalidomide-cle-2012.yaml", "thalidomide-cle-example.yaml"):
        jsonschema.validate(yaml.safe_load(folder.joinpath(name).read_text("utf-8")), schema)
    document = yaml.safe_load(folder.joinpath("lenalidomide-cle-2012.yaml").read_text("utf-8"))
    del document["rules"]["TAPER-STEP"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)


@pytest.mark.parametrize("command", ["eligibility", "recommend", "schedule"])
def test_help_explains_the_command(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.stdout
    if command == "recommend":
        for word in ("HISTORY", "--on", "action", "reasons", "undetermined", "maximum"):
            assert word in result.stdout
