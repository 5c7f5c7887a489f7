"""Schema, migrations, engine settings and append-only triggers, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from cletrial.errors import StoreError
from cletrial.instruments import CLASI_REGIONS, SLEDAI_WEIGHTS
from cletrial.store import (
    UnitOfWork,
    create_engine_for,
    current_revision,
    head_revision,
    migration_history,
    upgrade,
    verify_audit_chain,
    vocab,
)
from cletrial.store.audit import GENESIS_HASH, compute_row_content, compute_row_hash
from cletrial.store.engine import DATABASE_URL_ENV, default_database_url
from cletrial.store.migrate import downgrade
from cletrial.store.tables import Base
from cletrial.store.tables_forms import CLASI_REGION_KEYS, SLEDAI_ITEM_COLUMNS


def test_migrated_schema_matches_the_models(db_engine: Engine) -> None:
    with db_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert current_revision(db_engine) == head_revision()


def test_downgrade_to_base_and_upgrade_again(db_engine: Engine) -> None:
    downgrade(db_engine, "base")
    assert current_revision(db_engine) is None
    upgrade(db_engine)
    assert current_revision(db_engine) == head_revision()
    with db_engine.connect() as conn:
        assert conn.execute(text("SELECT max(last_id) FROM audit_head")).scalar_one() == 0


def test_upgrading_from_one_chain_keeps_old_rows_verifiable(db_engine: Engine) -> None:
    """Rows written under 0001 (one chain, id = position) become chain 1 and still verify;
    going back below 0002 is refused once other chains hold rows."""
    downgrade(db_engine, "0001")
    rows = [{"occurred_at": "2024-01-02T03:04:05.000000Z", "actor": "ana", "action": "INSERT",
             "table_name": "studies", "record_id": i, "field": None, "old_value": None,
             "new_value": "{}", "reason": None, "record_version": 1, "txid": "t1"}
            for i in (1, 2)]  # fmt: skip
    with db_engine.begin() as conn:
        if db_engine.dialect.name == "postgresql":  # the 0001 function hashes on the server
            payload = [{**row, "content": compute_row_content(row)} for row in rows]
            conn.execute(text("SELECT cletrial_append_audit(:at, 't1', CAST(:rows AS jsonb))"),
                         {"at": "2024-01-02T03:04:05Z", "rows": json.dumps(payload)})  # fmt: skip
        else:
            prev = GENESIS_HASH
            for row_id, row in enumerate(rows, start=1):
                full = {**row, "id": row_id, "prev_hash": prev}
                prev = full["row_hash"] = compute_row_hash(full)
                conn.execute(text(
                    "INSERT INTO audit_log VALUES (:id, :occurred_at, :actor, :action, "
                    ":table_name, :record_id, :field, :old_value, :new_value, :reason, "
                    ":record_version, :txid, :prev_hash, :row_hash)"), full)  # fmt: skip
    upgrade(db_engine)
    with UnitOfWork(db_engine, user="ana") as uow:
        uow.studies.create(code="S", title="T", protocol_id="p", protocol_version="1")
    with db_engine.connect() as conn:
        result = verify_audit_chain(conn)
        stored = conn.execute(text("SELECT id, chain, chain_seq FROM audit_log ORDER BY id")).all()
    assert result.ok and result.rows_checked == 3
    assert [tuple(r) for r in stored[:2]] == [(1, 1, 1), (2, 1, 2)] and stored[2][0] == 3
    if db_engine.dialect.name == "sqlite":  # one chain: going back loses nothing
        downgrade(db_engine, "0001")
        assert current_revision(db_engine) == "0001"
        return
    with db_engine.begin() as conn:  # a row in chain 2 (a transaction may name its chain)
        conn.execute(text("SELECT set_config('cletrial.chain', '2', true)"))
        payload = [{**rows[0], "content": compute_row_content(rows[0])}]
        conn.execute(text("SELECT cletrial_append_audit(:at, 't1', CAST(:rows AS jsonb))"),
                     {"at": "2024-01-02T03:04:05Z", "rows": json.dumps(payload)})  # fmt: skip
    with db_engine.connect() as conn:
        assert verify_audit_chain(conn).ok
    with pytest.raises(RuntimeError, match="cannot downgrade below 0002"):
        downgrade(db_engine, "0001")
    assert current_revision(db_engine) == "0002"  # each migration is its own transaction
    with db_engine.connect() as conn:
        assert verify_audit_chain(conn).ok


def test_history_lists_the_initial_migration() -> None:
    history = migration_history()
    assert history[0].down_revision is None
    assert history[-1].revision == head_revision()
    assert "audit" in history[0].description


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"])
def test_audit_log_refuses_update_and_delete(db_engine: Engine, statement: str) -> None:
    with UnitOfWork(db_engine, user="ana") as uow:
        uow.studies.create(code="S", title="T", protocol_id="p", protocol_version="1")
    with db_engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text(statement))
    with db_engine.connect() as conn:
        assert conn.execute(text("SELECT actor FROM audit_log")).scalars().all() == ["ana"]


@pytest.mark.postgres
def test_audit_log_refuses_truncate_on_postgresql(pg_engine: Engine) -> None:
    with pg_engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text("TRUNCATE audit_log"))


def test_audit_head_only_moves_forward(db_engine: Engine) -> None:
    with UnitOfWork(db_engine, user="ana") as uow:
        uow.studies.create(code="S", title="T", protocol_id="p", protocol_version="1")
    with db_engine.connect() as conn, pytest.raises(DBAPIError, match="forward"):
        conn.execute(text("UPDATE audit_head SET last_id = 0"))
    with db_engine.connect() as conn, pytest.raises(DBAPIError):
        conn.execute(text("DELETE FROM audit_head"))


def test_sqlite_connections_use_wal_full_sync_foreign_keys_and_busy_timeout(
    sqlite_engine: Engine,
) -> None:
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000


def test_sqlite_write_transactions_begin_immediate(sqlite_engine: Engine) -> None:
    """A writing unit of work holds the write lock from its first statement: another writer
    cannot start, while a reader can."""
    path = sqlite_engine.url.database
    assert path is not None
    with UnitOfWork(sqlite_engine, user="ana") as uow:
        uow.find("studies", code="none")  # first statement: BEGIN IMMEDIATE
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            assert other.execute("SELECT count(*) FROM studies").fetchone() == (0,)
        finally:
            other.close()


def test_sqlite_writers_wait_instead_of_failing(sqlite_engine: Engine) -> None:
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            for j in range(10):
                with UnitOfWork(sqlite_engine, user=f"w{i}") as uow:
                    uow.studies.create(code=f"S{i}-{j}", title="T", protocol_id="p",
                                       protocol_version="1")  # fmt: skip
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with UnitOfWork(sqlite_engine, read_only=True) as uow:
        assert len(uow.studies.list()) == 80


def test_default_url_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, "postgresql://u@h/db")
    assert default_database_url() == "postgresql://u@h/db"
    monkeypatch.delenv(DATABASE_URL_ENV)
    assert default_database_url() == "sqlite:///var/cletrial.sqlite"


def test_unknown_database_url_is_refused_without_showing_the_password() -> None:
    with pytest.raises(StoreError) as caught:
        create_engine_for("mysql://user:secret@host/db")
    assert "secret" not in str(caught.value)


def test_postgresql_urls_use_psycopg() -> None:
    engine = create_engine_for("postgresql://user@localhost:1/db")
    assert engine.dialect.driver == "psycopg"


def test_form_columns_follow_the_instruments() -> None:
    assert CLASI_REGION_KEYS == CLASI_REGIONS
    assert SLEDAI_ITEM_COLUMNS[: len(SLEDAI_WEIGHTS)] == tuple(SLEDAI_WEIGHTS)


def test_vocabularies_follow_the_history_format() -> None:
    from cletrial.protocol.definition_model import CTCAE_TERM_OF_TEST, EVENT_TYPES, LAB_TESTS
    from cletrial.protocol.history import LAB_UNITS

    assert vocab.LAB_TESTS == LAB_TESTS
    assert vocab.LAB_CTCAE_TERMS == CTCAE_TERM_OF_TEST
    assert {k: set(v) for k, v in vocab.LAB_UNITS.items()} == {
        k: set(v) for k, v in LAB_UNITS.items()
    }
    assert set(EVENT_TYPES) == set(vocab.EVENT_TYPES) - {"completed"}


def test_nested_writing_units_of_work_fail_fast_instead_of_waiting(sqlite_engine: Engine) -> None:
    with UnitOfWork(sqlite_engine, user="ana") as outer:
        outer.studies.create(code="S", title="T", protocol_id="p", protocol_version="1")
        with (
            pytest.raises(StoreError, match="this thread"),
            UnitOfWork(sqlite_engine, user="ana") as inner,
        ):
            inner.studies.list()
        with UnitOfWork(sqlite_engine, read_only=True) as reader:
            assert reader.studies.list() == []  # the outer write is not committed yet
    with UnitOfWork(sqlite_engine, user="ana") as again:
        assert [s.code for s in again.studies.list()] == ["S"]
