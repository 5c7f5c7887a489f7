"""The command line: ``cletrial export --format csv`` with a ``;`` in a medication, and
``cletrial audit verify`` on a database whose index is corrupt (SQLite, PostgreSQL amcheck)."""

from __future__ import annotations

import copy
import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from cletrial.cli import app
from cletrial.store import create_engine_for

from .conftest import IMPORT_DOCUMENT

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _imported(url: str, tmp_path: Path, document: object = IMPORT_DOCUMENT) -> None:
    assert _run("db", "upgrade", "--database", url)[0] == 0
    path = tmp_path / "study.json"
    path.write_text(json.dumps(document))
    assert _run("import", str(path), "--database", url)[0] == 0


def test_export_csv_with_a_semicolon_in_a_medication_completes_and_reads_back(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    document = copy.deepcopy(IMPORT_DOCUMENT)
    document["visits"][0]["medications"] = ["calcium; vitamin D", "=1+1"]
    _imported(url, tmp_path, document)
    out = tmp_path / "csv"
    code, _, err = _run("export", "--database", url, "--format", "csv", "--out", str(out))
    assert code == 0, err
    assert len(list(out.iterdir())) == 16 and "calcium\\; vitamin D; =1+1" in (
        out / "visits.csv").read_text()  # fmt: skip
    copy_url = f"sqlite:///{tmp_path / 'b.sqlite'}"
    assert _run("db", "upgrade", "--database", copy_url)[0] == 0
    assert _run("import", str(out), "--database", copy_url)[0] == 0
    code, again, _ = _run("export", "--database", copy_url)
    visit = json.loads(again)["visits"][0]
    assert visit["medications"] == ["calcium; vitamin D", "=1+1"]


def _flip_a_byte_of_the_adverse_event_unique_index(path: Path) -> None:
    """Change one byte of the AE term stored in the unique index's page (not in the table)."""
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (root,) = con.execute("SELECT rootpage FROM sqlite_master WHERE type = 'index' AND "
                              "tbl_name = 'adverse_events' AND sql IS NULL").fetchone()  # fmt: skip
        (size,) = con.execute("PRAGMA page_size").fetchone()
    con.close()
    data = bytearray(path.read_bytes())
    start = (root - 1) * size
    at = data.index(b"Insomnia", start, start + size)
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_audit_verify_fails_on_a_corrupt_sqlite_index(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    url = f"sqlite:///{path}"
    _imported(url, tmp_path)
    code, out, _ = _run("audit", "verify", "--database", url)
    assert code == 0 and "database integrity: ok (SQLite PRAGMA integrity_check)" in out
    _flip_a_byte_of_the_adverse_event_unique_index(path)
    code, out, _ = _run("audit", "verify", "--database", url)
    assert code == 1 and "database integrity check FAILED" in out
    assert "missing from index sqlite_autoindex_adverse_events_1" in out
    assert "audit trail verifies" in out  # the chain alone would have passed
    code, out, _ = _run("audit", "verify", "--database", url, "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False and report["integrity"]["problems"]


@pytest.mark.postgres
def test_audit_verify_checks_postgresql_indexes_with_amcheck(pg_url: str, tmp_path: Path) -> None:
    _imported(pg_url, tmp_path)
    code, out, _ = _run("audit", "verify", "--database", pg_url)
    assert code == 0 and "indexes NOT checked" in out and "CREATE EXTENSION amcheck" in out
    engine = create_engine_for(pg_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION amcheck"))
    code, out, _ = _run("audit", "verify", "--database", pg_url)
    assert code == 0 and "database integrity: ok (PostgreSQL amcheck bt_index_check on" in out
    # An index built with a function declared immutable that then changes: the index no
    # longer matches its table, which only the engine's check can see.
    with engine.begin() as conn:
        conn.execute(text("CREATE FUNCTION shifted(i integer) RETURNS integer IMMUTABLE "
                          "LANGUAGE sql AS 'SELECT i'"))  # fmt: skip
        conn.execute(text("CREATE INDEX ix_ae_shifted ON adverse_events (shifted(id))"))
        conn.execute(text("CREATE OR REPLACE FUNCTION shifted(i integer) RETURNS integer "
                          "IMMUTABLE LANGUAGE sql AS 'SELECT i + 1'"))  # fmt: skip
    engine.dispose()
    code, out, _ = _run("audit", "verify", "--database", pg_url)
    assert code == 1 and "database integrity check FAILED" in out
    assert "index ix_ae_shifted:" in out and "audit trail verifies" in out
