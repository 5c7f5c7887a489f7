"""The database commands, run as a user would: exit codes, messages, formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from cletrial.cli import app
from cletrial.store import create_engine_for

from .conftest import IMPORT_DOCUMENT, fail_lock_waits

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    result = runner.invoke(app, ["db", "upgrade", "--database", url])
    assert result.exit_code == 0, result.output
    return url


def _run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def test_db_upgrade_current_history(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    code, out, _ = _run("db", "current", "--database", url, "--json")
    assert code == 0 and json.loads(out)["up_to_date"] is False
    code, out, _ = _run("db", "upgrade", "--database", url)
    assert code == 0 and "schema at 0012 (was None)" in out
    code, out, _ = _run("db", "upgrade", "--database", url)
    assert "unchanged" in out
    code, out, _ = _run("db", "current", "--database", url)
    assert out.strip() == "0012: up to date"
    code, out, _ = _run("db", "history", "--json")
    revisions = [m["revision"] for m in json.loads(out)]
    assert revisions == [f"{n:04d}" for n in range(1, 13)]


def test_import_dry_run_then_import_then_again(database: str, tmp_path: Path) -> None:
    path = tmp_path / "study.json"
    path.write_text(json.dumps(IMPORT_DOCUMENT))
    code, out, _ = _run("import", str(path), "--dry-run", "--database", database)
    assert code == 0 and "dry run, nothing saved" in out
    assert "create visits LEN/P01/2009-02-02" in out
    code, out, _ = _run("import", str(path), "--database", database, "--user", "dm", "--json")
    assert code == 0 and json.loads(out)["created"] == 18
    code, out, _ = _run("import", str(path), "--database", database)
    assert code == 0 and "created 0, updated 0, unchanged 18" in out
    code, out, _ = _run("audit", "verify", "--database", database)
    assert code == 0 and "audit trail verifies" in out
    code, out, _ = _run("audit", "show", "visits", "1", "--database", database, "--json")
    assert json.loads(out)[0]["actor"] == "dm"


def test_import_errors_exit_2_naming_file_row_column(database: str, tmp_path: Path) -> None:
    path = tmp_path / "visits.csv"
    path.write_text("study,patient,date\nLEN,P01,2009-13-40\n")
    code, _, err = _run("import", str(path), "--database", database)
    assert code == 2
    assert f"{path}, row 2, column date" in err and "Traceback" not in err
    code, _, err = _run("import", str(tmp_path / "missing.csv"), "--database", database)
    assert code == 2 and "no such file" in err


def test_audit_verify_reports_tampering_with_exit_1(database: str, tmp_path: Path) -> None:
    path = tmp_path / "study.json"
    path.write_text(json.dumps(IMPORT_DOCUMENT))
    assert _run("import", str(path), "--database", database)[0] == 0
    engine = create_engine_for(database)
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text("UPDATE audit_log SET reason = 'x' WHERE id = 4"))
    engine.dispose()
    code, out, _ = _run("audit", "verify", "--database", database, "--json")
    assert code == 1
    assert [(f["row_id"], f["kind"]) for f in json.loads(out)["findings"]] == [(4, "altered")]
    code, out, _ = _run("audit", "verify", "--database", database)
    assert code == 1 and "row 4: altered" in out


def test_export_formats_and_history(database: str, tmp_path: Path) -> None:
    path = tmp_path / "study.json"
    path.write_text(json.dumps(IMPORT_DOCUMENT))
    assert _run("import", str(path), "--database", database)[0] == 0
    code, out, _ = _run("export", "--database", database, "--deidentify")
    assert code == 0 and "H123" not in out and json.loads(out)["visits"][0]["patient"] == "P01"
    code, _, _ = _run("export", "--database", database, "--format", "csv", "--out",
                      str(tmp_path / "csv"))  # fmt: skip
    assert code == 0 and (tmp_path / "csv" / "visits.csv").exists()
    code, _, err = _run("export", "--database", database, "--format", "csv")
    assert code == 2 and "--out" in err
    code, out, _ = _run("export-history", "P01", "--study", "LEN", "--database", database)
    assert code == 0 and json.loads(out)["baseline"]["date"] == "2009-02-02"
    code, out, _ = _run("export-history", "--database", database)
    assert [json.loads(line)["patient_id"] for line in out.splitlines()] == ["P01", "P02"]


def test_user_add(database: str, tmp_path: Path) -> None:
    path = tmp_path / "study.json"
    path.write_text(json.dumps(IMPORT_DOCUMENT))
    assert _run("import", str(path), "--database", database)[0] == 0
    code, out, _ = _run("user", "add", "ana", "--role", "investigator", "--study", "LEN",
                        "--site", "BCN", "--password-stdin", "--database", database,
                        input="long enough password\n")  # fmt: skip
    assert code == 0 and "created user ana" in out
    code, _, err = _run("user", "add", "bob", "--role", "boss", "--password-stdin",
                        "--database", database, input="long enough password\n")  # fmt: skip
    assert code == 2 and "users.role" in err


def test_every_command_has_help() -> None:
    for command in (["db", "upgrade"], ["db", "current"], ["db", "history"], ["audit", "verify"],
                    ["audit", "show"], ["import"], ["export"], ["export-history"],
                    ["user", "add"]):  # fmt: skip
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and len(result.stdout) > 150, command


def test_docs_mention_every_command() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "store.md").read_text()
    for command in ("cletrial db upgrade", "cletrial db current", "cletrial db history",
                    "cletrial audit verify", "cletrial audit show", "cletrial import",
                    "cletrial export", "cletrial export-history", "cletrial user add"):  # fmt: skip
        assert command in docs, command


@pytest.mark.postgres
def test_audit_verify_prints_every_chain_head_to_use_as_anchors(pg_url: str) -> None:
    """On PostgreSQL the trail has several chains: verify names each head in use, and each
    can be checked later with a repeated --anchor.

    The rows go to at least three chains for certain, without relying on threads overlapping:
    for each of two rounds another connection locks the heads of the chains used so far, so
    the round's writer must take a free chain (it never waits: a lock wait would fail).
    """
    from cletrial.store import UnitOfWork

    engine = create_engine_for(pg_url)
    try:
        fail_lock_waits(engine)
        with UnitOfWork(engine, user="ana") as uow:
            study = uow.studies.create(code="S", title="T", protocol_id="p", protocol_version="1")
        for i in range(2):
            with engine.connect() as blocker:
                blocker.execute(text("SELECT id FROM audit_head WHERE length > 0 FOR UPDATE"))
                for j in range(18):
                    with UnitOfWork(engine, user="ana") as uow:
                        uow.sites.create(study_id=study.id, code=f"S{i}-{j}", name="Site")
                blocker.rollback()
    finally:
        engine.dispose()
    code, out, _ = _run("audit", "verify", "--database", pg_url, "--json")
    heads = [h for h in json.loads(out)["heads"] if h["length"]]
    assert code == 0 and len(json.loads(out)["heads"]) == 8 and len(heads) >= 3
    assert sum(h["length"] for h in heads) == json.loads(out)["rows_checked"] == 37
    code, out, _ = _run("audit", "verify", "--database", pg_url)
    anchors = [f"{h['last_id']}:{h['last_hash']}" for h in heads]
    assert code == 0 and all(anchor in out for anchor in anchors)
    args = [arg for anchor in anchors for arg in ("--anchor", anchor)]
    assert _run("audit", "verify", "--database", pg_url, *args)[0] == 0
    forged = [*args[:-1], anchors[-1][:-1] + ("0" if anchors[-1][-1] != "0" else "1")]
    code, out, _ = _run("audit", "verify", "--database", pg_url, *forged)
    assert code == 1 and "differs from the recorded anchor" in out
