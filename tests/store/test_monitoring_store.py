"""Monitoring in the store, on SQLite and PostgreSQL: the database lock refuses every write on
every path (the import too, atomically), exports carry the lock time, verification marks go with
the value they verified, and queries keep their thread in the audit trail."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from cletrial.errors import AccessDeniedError, ImportFileError, InputError, LockedRecordError
from cletrial.store import UnitOfWork, verify_audit_chain
from cletrial.store.import_export import export_to, import_path

from .conftest import IMPORT_DOCUMENT, wait_until_blocked_by
from .test_capture_rules_import import _snapshot


def _imported(engine: Engine, tmp_path: Path) -> Path:
    path = tmp_path / "study.json"
    path.write_text(json.dumps(IMPORT_DOCUMENT))
    import_path(engine, path, user="dm")
    return path


def _lock(engine: Engine, action: str) -> None:
    with UnitOfWork(engine, user="dm") as uow:
        uow.locks.apply(action, reason="final analysis", signed_name="Dana Manager")


def test_a_locked_database_refuses_an_import_and_keeps_everything(
    db_engine: Engine, tmp_path: Path
) -> None:
    path = _imported(db_engine, tmp_path)
    document = json.loads(path.read_text())
    document["doses"].append({"patient": "P01", "date": "2009-06-01", "regimen": "5_daily"})
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(document))
    _lock(db_engine, "lock")
    before = _snapshot(db_engine)
    with pytest.raises(ImportFileError, match=r"\[doses\], row 3.*the database is locked"):
        import_path(db_engine, changed, user="dm")
    assert _snapshot(db_engine)[0] == before[0]  # no audit row: nothing was written
    _lock(db_engine, "unlock")
    assert import_path(db_engine, changed, user="dm").created == 1


def test_a_freeze_allows_queries_but_no_clinical_change(db_engine: Engine, tmp_path: Path) -> None:
    _imported(db_engine, tmp_path)
    _lock(db_engine, "freeze")
    with UnitOfWork(db_engine, user="mon") as uow:
        patient = uow.patients.list()[0]
        query = uow.queries.raise_query(patient_id=patient.id, subject="Consent date?",
                                        role="monitor")  # fmt: skip
    with UnitOfWork(db_engine, user="coord") as uow, pytest.raises(LockedRecordError):
        uow.doses.add(patient_id=patient.id, start_date=dt.date(2009, 6, 1), regimen="off")
    with UnitOfWork(db_engine, user="coord") as uow:
        answered = uow.queries.act(
            query.id,
            "answer",
            role="coordinator",
            expected_version=query.version,
            text="2009-01-10",
        )
    assert answered.status == "answered"
    with UnitOfWork(db_engine, user="dm") as uow, pytest.raises(InputError, match="frozen"):
        uow.locks.apply("freeze", reason="again", signed_name="Dana Manager")


def test_exports_carry_the_lock_time(db_engine: Engine, tmp_path: Path) -> None:
    _imported(db_engine, tmp_path)
    _lock(db_engine, "lock")
    with UnitOfWork(db_engine, read_only=True) as uow:
        locked_at = uow.locks.events()[-1].signed_at.isoformat()
    [json_file] = export_to(db_engine, tmp_path / "export.json")
    database = json.loads(json_file.read_text())["database"]
    assert database["state"] == "locked" and database["since"] == locked_at
    files = export_to(db_engine, tmp_path / "csv", fmt="csv")
    info = next(f for f in files if f.name == "database.txt").read_text()
    assert info.startswith(f"database locked since {locked_at}; exported at ")


def test_a_verified_record_that_is_deleted_loses_its_mark_with_a_reason(
    db_engine: Engine, tmp_path: Path
) -> None:
    _imported(db_engine, tmp_path)
    with UnitOfWork(db_engine, user="mon") as uow:
        dose = uow.doses.for_patient(uow.patients.list()[0].id)[-1]
        mark = uow.sdv.verify("doses", dose.id)
        assert uow.sdv.verify("doses", dose.id) == mark  # marking again changes nothing
        with pytest.raises(InputError, match="not a field"):
            uow.sdv.verify("doses", dose.id, "colour")
    with UnitOfWork(db_engine, user="coord") as uow:
        uow.doses.delete(dose.id, expected_version=dose.version, reason="entered twice")
        assert uow.sdv.for_patient(dose.patient_id) == []
    with UnitOfWork(db_engine, read_only=True) as uow:
        [deleted] = [r for r in uow.history("sdv_marks", mark.id) if r.action == "DELETE"]
    assert deleted.reason == "source data verification cleared: the record was deleted " \
        "(entered twice)"  # fmt: skip


def test_a_query_thread_is_audited_and_the_chain_verifies(
    db_engine: Engine, tmp_path: Path
) -> None:
    _imported(db_engine, tmp_path)
    with UnitOfWork(db_engine, user="mon") as uow:
        patient = uow.patients.list()[0]
        query = uow.queries.raise_query(patient_id=patient.id, subject="Date of consent?",
                                        role="monitor")  # fmt: skip
        with pytest.raises(AccessDeniedError):
            uow.queries.raise_query(patient_id=patient.id, subject="x", role="coordinator")
    steps = [("coord", "coordinator", "acknowledge"), ("coord", "coordinator", "answer"),
             ("mon", "monitor", "reopen"), ("coord", "coordinator", "answer"),
             ("mon", "monitor", "close")]  # fmt: skip
    for user, role, action in steps:
        with UnitOfWork(db_engine, user=user) as uow:
            query = uow.queries.act(query.id, action, role=role, expected_version=query.version,
                                    text=f"{action} text")  # fmt: skip
    with UnitOfWork(db_engine, read_only=True) as uow:
        statuses = [r.new_value for r in uow.history("queries", query.id) if r.field == "status"]
        messages = uow.queries.messages(query.id)
        result = verify_audit_chain(uow.connection)
    assert statuses == ['"open"', '"answered"', '"open"', '"answered"', '"closed"']
    assert [(m.author, m.action) for m in messages] == [("mon", "raise"), *(
        (u, a) for u, _r, a in steps)]  # fmt: skip
    assert result.ok


@pytest.mark.postgres
def test_on_postgresql_a_lock_waits_for_the_writers_that_saw_the_database_open(
    pg_engine: Engine, tmp_path: Path
) -> None:
    import threading

    _imported(pg_engine, tmp_path)
    locked = threading.Event()
    errors: list[BaseException] = []

    def lock() -> None:
        try:
            _lock(pg_engine, "lock")
            locked.set()
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    with UnitOfWork(pg_engine, user="coord") as uow:
        patient = uow.patients.list()[0]
        uow.doses.add(patient_id=patient.id, start_date=dt.date(2009, 6, 1), regimen="off")
        locker = threading.Thread(target=lock)
        locker.start()
        wait_until_blocked_by(uow.connection)  # the lock queues behind this writer
        assert not locked.is_set() and errors == []  # it waits for this writer, which saw "open"
    locker.join(timeout=60)  # a safety net only: the writer has committed
    assert not locker.is_alive(), "the lock still waits after the writer committed"
    assert errors == [] and locked.is_set()
    with UnitOfWork(pg_engine, read_only=True) as uow:
        assert uow.doses.for_patient(patient.id)[-1].start_date == dt.date(2009, 6, 1)
        assert uow.locks.state()[0] == "locked"
