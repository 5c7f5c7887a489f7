"""16 writers updating the same records: no lost update, every conflict reported."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field

from sqlalchemy import Engine, text

from cletrial.errors import ConflictError
from cletrial.store import (
    UnitOfWork,
    assert_audit_chain,
    verify_records_against_audit,
)

from .conftest import Seed

WRITERS = 16
UPDATES = 4  # per writer and record


@dataclass
class Tally:
    """What the writers saw."""

    conflicts: int = 0
    saved: int = 0
    errors: list[BaseException] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _append_token(
    engine: Engine, visit_id: int, token: str, tally: Tally, read: threading.Barrier | None = None
) -> None:
    """Read-modify-write a visit's notes, retrying with a fresh read after each conflict.

    With ``read``, the first read is followed by a wait for every writer to have read too.
    """
    while True:
        with UnitOfWork(engine, read_only=True) as uow:
            visit = uow.visits.get(visit_id)
        if read is not None:
            read.wait(timeout=120)  # a safety net only: it breaks (and fails) if a writer died
            read = None
        try:
            with UnitOfWork(engine, user=token.split(".")[0], reason="concurrency test") as uow:
                uow.visits.update(visit_id, expected_version=visit.version,
                                  notes=(visit.notes or "") + token + ";")  # fmt: skip
        except ConflictError as exc:
            assert exc.record_id == visit_id and exc.expected == visit.version
            assert exc.actual > exc.expected and "notes" in exc.changed
            with tally.lock:
                tally.conflicts += 1
            continue
        with tally.lock:
            tally.saved += 1
        return


def test_sixteen_writers_lose_no_update_and_see_conflicts(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow:
        visits = [
            uow.visits.create(patient_id=seed.patient_id, visit_date=dt.date(2009, 2, 2 + i)).id
            for i in range(2)
        ]
    tally = Tally()
    # Every writer reads the first visit before any of them writes it, so all but one of
    # their first updates carry a stale version: conflicts are certain, not left to timing.
    read = threading.Barrier(WRITERS)

    def writer(i: int) -> None:
        try:
            for k in range(UPDATES):
                for visit_id in visits:
                    wait = read if k == 0 and visit_id == visits[0] else None
                    _append_token(seed.engine, visit_id, f"w{i}.{k}", tally, wait)
        except BaseException as exc:  # collected for the assertion below
            tally.errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert tally.errors == []
    assert tally.saved == WRITERS * UPDATES * len(visits)
    assert tally.conflicts >= WRITERS - 1  # at least every stale first update
    expected = sorted(f"w{i}.{k}" for i in range(WRITERS) for k in range(UPDATES))
    with UnitOfWork(seed.engine, read_only=True) as uow:
        for visit_id in visits:
            visit = uow.visits.get(visit_id)
            tokens = (visit.notes or "").rstrip(";").split(";")
            assert sorted(tokens) == expected  # every update kept, none twice
            assert visit.version == 1 + WRITERS * UPDATES
            history = uow.history("visits", visit_id)
            assert [r.record_version for r in history] == list(range(1, visit.version + 1))
        conn = uow.connection
        assert_audit_chain(conn)
        assert verify_records_against_audit(conn) == []
        rows = conn.execute(text("SELECT count(*) FROM audit_log WHERE field = 'notes'")).scalar()
    assert rows == tally.saved
