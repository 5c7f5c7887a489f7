"""The monitoring commands, run as a data manager would: ``checks run``, ``checks list``,
``queries export`` and ``lock`` (the e-signature is the data manager's own password)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cletrial.cli import app

from .conftest import IMPORT_DOCUMENT

runner = CliRunner()
PASSWORD = "long enough password\n"


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert runner.invoke(app, ["db", "upgrade", "--database", url]).exit_code == 0
    return url


def _run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def _study(database: str, tmp_path: Path) -> None:
    document = json.loads(json.dumps(IMPORT_DOCUMENT))
    document["labs"].append({"patient": "P01", "date": "2009-02-02", "test": "platelets",
                             "value": 820, "unit": "10^9/L"})  # fmt: skip
    path = tmp_path / "study.json"
    path.write_text(json.dumps(document))
    assert _run("import", str(path), "--database", database)[0] == 0
    for name, role in (("dana", "data_manager"), ("carla", "coordinator")):
        code, _, err = _run("user", "add", name, "--role", role, "--password-stdin",
                            "--display-name", f"{name.title()} Example", "--database", database,
                            input=PASSWORD)  # fmt: skip
        assert code == 0, err


def test_checks_run_raises_queries_once_and_exports_them(database: str, tmp_path: Path) -> None:
    _study(database, tmp_path)
    code, out, _ = _run("checks", "run", "--user", "dana", "--database", database, "--json")
    assert code == 0, out
    first = json.loads(out)
    assert first["queries_raised"] >= 1 and first["evaluations"] > first["forms"] > 0
    code, out, _ = _run("checks", "run", "--user", "dana", "--database", database)
    assert code == 0 and "0 queries raised" in out and "form checks/s" in out
    code, out, _ = _run("queries", "export", "--database", database)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert "LAB-PLATELETS-QUERY" in {r["check_id"] for r in rows}
    assert len(rows) == first["queries_raised"]
    code, _, err = _run("checks", "run", "--patient", "NOPE", "--user", "dana",
                        "--database", database)  # fmt: skip
    assert code == 2 and "NOPE" in err


def test_checks_list_names_every_bundled_check() -> None:
    code, out, _ = _run("checks", "list", "--json")
    ids = [c["id"] for c in json.loads(out)]
    assert code == 0 and "LAB-PLATELETS-QUERY" in ids and "VISIT-OUT-OF-WINDOW" in ids


def test_lock_needs_a_data_manager_and_the_password(database: str, tmp_path: Path) -> None:
    _study(database, tmp_path)
    code, _, err = _run("lock", "lock", "--reason", "final", "--user", "carla",
                        "--password-stdin", "--database", database, input=PASSWORD)  # fmt: skip
    assert code == 2 and "only a data manager" in err
    code, _, err = _run("lock", "lock", "--reason", "final", "--user", "dana",
                        "--password-stdin", "--database", database, input="wrong\n")  # fmt: skip
    assert code == 2 and "password not recognised" in err
    code, out, _ = _run("lock", "lock", "--reason", "final analysis", "--user", "dana",
                        "--password-stdin", "--database", database, input=PASSWORD)  # fmt: skip
    assert code == 0 and "database locked" in out and "Dana Example" in out
    code, out, _ = _run("lock", "status", "--database", database, "--json")
    assert json.loads(out)["state"] == "locked"
    path = tmp_path / "again.json"
    path.write_text(json.dumps(IMPORT_DOCUMENT | {"doses": [
        {"patient": "P01", "date": "2009-06-01", "regimen": "off"}]}))  # fmt: skip
    code, _, err = _run("import", str(path), "--database", database)
    assert code == 2 and "the database is locked" in err
    code, _, err = _run("export-history", "--database", database)
    assert code == 0 and err.startswith("database locked since ")
    code, out, _ = _run("lock", "unlock", "--reason", "late results", "--user", "dana",
                        "--password-stdin", "--database", database, input=PASSWORD)  # fmt: skip
    assert code == 0 and "database open" in out


def test_monitoring_commands_have_help() -> None:
    for command in (["checks", "run"], ["checks", "list"], ["queries", "export"],
                    ["lock", "status"], ["lock", "freeze"], ["lock", "unlock"]):  # fmt: skip
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and len(result.stdout) > 150, command
