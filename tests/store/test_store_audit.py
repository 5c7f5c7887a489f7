"""The audit trail's hash chain and the records-against-audit check catch tampering."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, select, text

from cletrial.errors import AuditChainError
from cletrial.store import (
    UnitOfWork,
    assert_audit_chain,
    verify_audit_chain,
    verify_records_against_audit,
)
from cletrial.store.audit import audit_log, compute_row_hash

from .conftest import FORM, Seed, fail_lock_waits, wait_until_blocked_by

D = dt.date(2009, 2, 2)


def _fill(seed: Seed, visits: int = 5) -> None:
    for i in range(visits):
        with UnitOfWork(seed.engine, user="ana") as uow:
            uow.visits.create(patient_id=seed.patient_id, visit_date=D + dt.timedelta(days=28 * i),
                              clasi=FORM)  # fmt: skip


@contextmanager
def tamper(engine: Engine) -> Iterator[Connection]:
    """A connection with the append-only triggers switched off (what an attacker would do)."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        else:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        yield conn


def _chain_of(conn: Connection, row_id: int) -> list[int]:
    """Ids of the rows of the chain holding ``row_id``, in chain order."""
    chain = conn.execute(text("SELECT chain FROM audit_log WHERE id = :i"), {"i": row_id})
    return list(conn.execute(
        text("SELECT id FROM audit_log WHERE chain = :c ORDER BY chain_seq"),
        {"c": chain.scalar_one()},
    ).scalars())  # fmt: skip


def test_untouched_chain_verifies(seed: Seed) -> None:
    _fill(seed)
    with seed.engine.connect() as conn:
        result = assert_audit_chain(conn)
        assert verify_records_against_audit(conn) == []
    assert result.ok and result.rows_checked == 15  # 5 seed (with the screening) + 2 per visit
    assert sum(h.length for h in result.heads) == 15
    assert result.head_id == 15 and "verifies: 15 rows" in result.summary()


def test_postgresql_has_eight_chains_and_sqlite_one(db_engine: Engine) -> None:
    with db_engine.connect() as conn:
        heads = verify_audit_chain(conn).heads
    expected = 1 if db_engine.dialect.name == "sqlite" else 8
    assert [h.chain for h in heads] == list(range(1, expected + 1))
    assert all(h.length == h.last_id == 0 for h in heads)


def test_one_changed_byte_is_caught_with_its_row(seed: Seed) -> None:
    _fill(seed)
    with tamper(seed.engine) as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'anb' WHERE id = 7"))
    with seed.engine.connect() as conn:
        result = verify_audit_chain(conn)
        with pytest.raises(AuditChainError, match="row 7"):
            assert_audit_chain(conn)
    assert [(f.row_id, f.kind) for f in result.findings] == [(7, "altered")]


def test_rehashed_row_breaks_the_link_of_the_next(seed: Seed) -> None:
    _fill(seed)
    with tamper(seed.engine) as conn:
        chain = _chain_of(conn, 5)
        row = conn.execute(select(audit_log).where(audit_log.c.id == 5)).mappings().one()
        forged = {**row, "reason": "nothing to see"}
        conn.execute(text("UPDATE audit_log SET reason = :r, row_hash = :h WHERE id = 5"),
                     {"r": forged["reason"], "h": compute_row_hash(forged)})  # fmt: skip
    with seed.engine.connect() as conn:
        findings = verify_audit_chain(conn).findings
    after = chain[chain.index(5) + 1]
    assert [(f.row_id, f.kind) for f in findings] == [(after, "chain_broken")]


def test_deleted_rows_are_reported(seed: Seed) -> None:
    _fill(seed)
    with tamper(seed.engine) as conn:
        chain = _chain_of(conn, 8)
        gone = chain[chain.index(8) : chain.index(8) + 2]
        positions = [chain.index(i) + 1 for i in gone]
        conn.execute(text(f"DELETE FROM audit_log WHERE id IN ({gone[0]}, {gone[1]})"))
    with seed.engine.connect() as conn:
        findings = verify_audit_chain(conn).findings
    after = chain[chain.index(gone[1]) + 1]
    assert [(f.row_id, f.kind) for f in findings] == [(after, "deleted")]
    assert f"positions {positions[0]}-{positions[1]} missing before row {after}" in (
        findings[0].detail
    )


def test_rows_deleted_at_the_end_are_reported(seed: Seed) -> None:
    _fill(seed)
    with tamper(seed.engine) as conn:
        chain = _chain_of(conn, 14)
        conn.execute(text(f"DELETE FROM audit_log WHERE id IN ({chain[-2]}, {chain[-1]})"))
    with seed.engine.connect() as conn:
        findings = verify_audit_chain(conn).findings
    assert [(f.row_id, f.kind) for f in findings] == [(chain[-1], "deleted")]
    assert "missing at the end of the chain" in findings[0].detail


def test_inserted_row_is_reported(seed: Seed) -> None:
    _fill(seed, visits=2)
    with seed.engine.begin() as conn:  # INSERT is allowed by the triggers; the hash is not
        conn.execute(text(
            "INSERT INTO audit_log (id, chain, chain_seq, occurred_at, actor, action, "
            "table_name, record_id, field, old_value, new_value, reason, record_version, txid, "
            "prev_hash, row_hash) SELECT id + 100, chain, chain_seq + 100, occurred_at, "
            "'mallory', action, table_name, record_id, field, old_value, new_value, reason, "
            "record_version, txid, prev_hash, row_hash FROM audit_log WHERE id = 3"))  # fmt: skip
    with seed.engine.connect() as conn:
        kinds = {(f.row_id, f.kind) for f in verify_audit_chain(conn).findings}
    assert (103, "altered") in kinds and (103, "deleted") in kinds


def test_a_row_moved_to_another_chain_is_reported(pg_engine: Engine) -> None:
    with UnitOfWork(pg_engine, user="ana") as uow:
        for i in range(3):
            uow.studies.create(code=f"S{i}", title="T", protocol_id="p", protocol_version="1")
    with tamper(pg_engine) as conn:
        chain = conn.execute(text("SELECT chain FROM audit_log WHERE id = 2")).scalar_one()
        conn.execute(text("UPDATE audit_log SET chain = :c WHERE id = 2"),
                     {"c": chain % 8 + 1})  # fmt: skip
    with pg_engine.connect() as conn:
        findings = verify_audit_chain(conn).findings
    found = {(f.row_id, f.kind, f.chain) for f in findings}
    assert (3, "deleted", chain) in found  # a gap in its own chain
    assert (2, "inserted", chain % 8 + 1) in found  # beyond the other chain's head


def test_anchor_catches_a_rewritten_chain(seed: Seed) -> None:
    _fill(seed, visits=2)
    with seed.engine.connect() as conn:
        anchor = (3, conn.execute(text("SELECT row_hash FROM audit_log WHERE id = 3")).scalar_one())
        assert verify_audit_chain(conn, anchors=[anchor]).ok
    with tamper(seed.engine) as conn:
        conn.execute(text("UPDATE audit_log SET row_hash = :h WHERE id = 3"), {"h": "0" * 64})
    with seed.engine.connect() as conn:
        assert any(
            "anchor" in f.detail for f in verify_audit_chain(conn, anchors=[anchor]).findings
        )


def test_records_changed_around_the_unit_of_work_are_reported(seed: Seed) -> None:
    _fill(seed, visits=2)
    with seed.engine.begin() as conn:
        conn.execute(text("UPDATE clasi_assessments SET arms_erythema = 0 WHERE id = 1"))
        conn.execute(
            text(
                "INSERT INTO doses (patient_id, start_date, regimen, version) "
                "VALUES (:p, :d, '10_daily', 1)"
            ),
            {"p": seed.patient_id, "d": D},
        )
        conn.execute(text("DELETE FROM clasi_assessments WHERE id = 2"))
    with seed.engine.connect() as conn:
        details = sorted(f.detail for f in verify_records_against_audit(conn))
    assert details == [
        "clasi_assessments 1.arms_erythema: stored 0 but the audit trail says 3",
        "clasi_assessments 2: missing, but the audit trail has no DELETE for it",
        "doses 1: has no audit row",
    ]


def test_chain_stays_linear_under_concurrent_writers(seed: Seed) -> None:
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            for j in range(8):
                with UnitOfWork(seed.engine, user=f"w{i}") as uow:
                    uow.doses.add(patient_id=seed.patient_id, regimen="5_daily",
                                  start_date=D + dt.timedelta(days=100 * i + j))  # fmt: skip
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with seed.engine.connect() as conn:
        result = assert_audit_chain(conn)
        rows = conn.execute(text("SELECT chain, chain_seq FROM audit_log ORDER BY id")).all()
        assert verify_records_against_audit(conn) == []
    assert result.rows_checked == len(rows) == 5 + 64  # the seed with its screening
    chains = {chain for chain, _seq in rows}
    for chain in chains:  # each chain is numbered 1, 2, 3, ... in id order
        assert [seq for c, seq in rows if c == chain] == list(
            range(1, sum(1 for c, _ in rows if c == chain) + 1)
        )
    # Which chains the writers took depends on how their commits overlapped; that a writer
    # takes a free chain rather than wait is pinned without threads in
    # test_a_writer_takes_a_free_chain_when_its_own_is_busy.


def test_flipping_one_byte_of_the_sqlite_file_is_caught(sqlite_engine: Engine) -> None:
    with UnitOfWork(sqlite_engine, user="ana") as uow:
        study = uow.studies.create(code="S", title="T", protocol_id="p", protocol_version="1")
    with UnitOfWork(sqlite_engine, user="ana", reason="QUITE-UNIQUE-REASON-TEXT") as uow:
        uow.studies.update(study.id, expected_version=1, title="T2")
    sqlite_engine.dispose()  # checkpoint: everything is in the main file
    path = Path(str(sqlite_engine.url.database))
    data = bytearray(path.read_bytes())
    at = data.find(b"QUITE-UNIQUE-REASON-TEXT")
    assert at > 0
    data[at] = ord("K")
    path.write_bytes(bytes(data))
    with sqlite_engine.connect() as conn:
        findings = verify_audit_chain(conn).findings
    assert [(f.row_id, f.kind) for f in findings] == [(2, "altered")]


def test_verification_during_writes_sees_one_consistent_snapshot(seed: Seed) -> None:
    from cletrial.store.engine import read_connection

    stop = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        day = 0
        try:
            while not stop.is_set():
                with UnitOfWork(seed.engine, user="w") as uow:
                    uow.doses.add(patient_id=seed.patient_id, regimen="5_daily",
                                  start_date=D + dt.timedelta(days=day))  # fmt: skip
                day += 1
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        for _ in range(15):
            with read_connection(seed.engine) as conn:
                assert verify_audit_chain(conn).findings == []
                assert verify_records_against_audit(conn) == []
    finally:
        stop.set()
        writer.join()
    assert errors == []


def _write_study(engine: Engine, code: str) -> int:
    """Save one study; return the chain its audit row went to."""
    with UnitOfWork(engine, user="ana") as uow:
        study = uow.studies.create(code=code, title="T", protocol_id="p", protocol_version="1")
    query = text("SELECT chain FROM audit_log WHERE table_name = 'studies' AND record_id = :i")
    with engine.connect() as conn:
        return int(conn.execute(query, {"i": study.id}).scalar_one())


@pytest.mark.postgres
def test_a_writer_takes_a_free_chain_when_its_own_is_busy(pg_engine: Engine) -> None:
    fail_lock_waits(pg_engine)  # a writer that waited for the busy chain would fail, not pass
    own = _write_study(pg_engine, "S1")  # the writer's preferred chain, while all are free
    assert _write_study(pg_engine, "S2") == own  # the same connection prefers the same chain
    locker = create_engine(pg_engine.url)  # another connection than the writer's
    try:
        with locker.connect() as other:
            other.execute(text("SELECT 1 FROM audit_head WHERE id = :c FOR UPDATE"), {"c": own})
            taken = _write_study(pg_engine, "S3")  # while `own` is held: takes another at once
            other.rollback()
    finally:
        locker.dispose()
    assert taken != own
    assert _write_study(pg_engine, "S4") == own
    with pg_engine.connect() as conn:
        assert verify_audit_chain(conn).ok


@pytest.mark.postgres
def test_a_writer_waits_when_every_chain_is_busy(pg_engine: Engine) -> None:
    errors: list[BaseException] = []

    def write() -> None:
        try:
            _write_study(pg_engine, "S1")
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    with pg_engine.connect() as other:
        other.execute(text("SELECT 1 FROM audit_head FOR UPDATE"))
        writer = threading.Thread(target=write)
        writer.start()
        wait_until_blocked_by(other)  # the writer queues for a head held here
        assert writer.is_alive() and errors == []  # waiting for a head, not failing
        other.rollback()
    writer.join(timeout=60)  # a safety net only: the head is free now
    assert not writer.is_alive(), "the writer still waits after every head was released"
    assert errors == []
    with pg_engine.connect() as conn:
        result = verify_audit_chain(conn)
    assert result.ok and result.rows_checked == 1
