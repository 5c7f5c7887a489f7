"""The audit trail's hash chain and the records-against-audit check catch tampering."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, select, text

from cletrial.errors import AuditChainError
from cletrial.store import (
    UnitOfWork,
    assert_audit_chain,
    verify_audit_chain,
    verify_records_against_audit,
)
from cletrial.store.audit import audit_log, compute_row_hash

from .conftest import FORM, Seed

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


def test_untouched_chain_verifies(seed: Seed) -> None:
    _fill(seed)
    with seed.engine.connect() as conn:
        result = assert_audit_chain(conn)
        assert verify_records_against_audit(conn) == []
    assert result.ok and result.rows_checked == result.head_id == 14  # 4 seed + 2 per visit


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
        row = conn.execute(select(audit_log).where(audit_log.c.id == 5)).mappings().one()
        forged = {**row, "reason": "nothing to see"}
        conn.execute(text("UPDATE audit_log SET reason = :r, row_hash = :h WHERE id = 5"),
                     {"r": forged["reason"], "h": compute_row_hash(forged)})  # fmt: skip
    with seed.engine.connect() as conn:
        findings = verify_audit_chain(conn).findings
    assert [(f.row_id, f.kind) for f in findings] == [(6, "chain_broken")]


def test_deleted_rows_are_reported(seed: Seed) -> None:
    _fill(seed)
    with tamper(seed.engine) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id IN (8, 9)"))
    with seed.engine.connect() as conn:
        findings = verify_audit_chain(conn).findings
    assert [(f.row_id, f.kind) for f in findings] == [(8, "deleted")]
    assert "rows 8-9 missing" in findings[0].detail


def test_rows_deleted_at_the_end_are_reported(seed: Seed) -> None:
    _fill(seed)
    with tamper(seed.engine) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id >= 13"))
    with seed.engine.connect() as conn:
        findings = verify_audit_chain(conn).findings
    assert [(f.row_id, f.kind) for f in findings] == [(13, "deleted")]


def test_inserted_row_is_reported(seed: Seed) -> None:
    _fill(seed, visits=2)
    with seed.engine.begin() as conn:  # INSERT is allowed by the triggers; the hash is not
        conn.execute(text(
            "INSERT INTO audit_log SELECT id + 100, occurred_at, 'mallory', action, table_name, "
            "record_id, field, old_value, new_value, reason, record_version, txid, prev_hash, "
            "row_hash FROM audit_log WHERE id = 3"))  # fmt: skip
    with seed.engine.connect() as conn:
        kinds = {(f.row_id, f.kind) for f in verify_audit_chain(conn).findings}
    assert (103, "altered") in kinds and (9, "deleted") in kinds


def test_anchor_catches_a_rewritten_chain(seed: Seed) -> None:
    _fill(seed, visits=2)
    with seed.engine.connect() as conn:
        anchor = (3, conn.execute(text("SELECT row_hash FROM audit_log WHERE id = 3")).scalar_one())
        assert verify_audit_chain(conn, expect_head=anchor).ok
    with tamper(seed.engine) as conn:
        conn.execute(text("UPDATE audit_log SET row_hash = :h WHERE id = 3"), {"h": "0" * 64})
    with seed.engine.connect() as conn:
        assert any(
            "anchor" in f.detail for f in verify_audit_chain(conn, expect_head=anchor).findings
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
        ids = conn.execute(text("SELECT id FROM audit_log ORDER BY id")).scalars().all()
        assert verify_records_against_audit(conn) == []
    assert ids == list(range(1, result.head_id + 1)) and result.head_id == 4 + 64


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
