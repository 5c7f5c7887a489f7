"""Kill a writer process with SIGKILL at random moments, then check that nothing was lost.

The writer (a forked child) saves visits with a scored CLASI form, one unit of work each, and
appends the visit's key to an acknowledgement file only after the commit returned. The parent
kills it after a random delay (during start-up, mid-transaction, during the commit, between
saves), many times, then checks:

- every acknowledged save is in the database (visit and its CLASI);
- no visit exists without its CLASI (a save is all or nothing);
- the audit chain verifies and every record matches its audit trail (no record without its
  audit rows);
- on SQLite, ``PRAGMA integrity_check`` says ``ok``.

Used by ``tests/store/test_store_crash.py`` and ``benchmarks/crash_store.py``.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import select
import signal
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, text

from cletrial.instruments import fill_absent_clasi_items
from cletrial.store import (
    UnitOfWork,
    create_engine_for,
    verify_audit_chain,
    verify_records_against_audit,
)

BASE = dt.date(2000, 1, 1)
#: A complete CLASI form (every item entered; the store refuses blanks).
FORM = fill_absent_clasi_items({"regions": {"scalp": {"erythema": 2, "scale": 1},
                                            "arms": {"erythema": 3}},
                                "recent_hair_loss": 1})  # fmt: skip


@dataclass
class CrashReport:
    """Outcome of a crash campaign."""

    kills: int
    acknowledged: int
    stored_visits: int
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when nothing acknowledged was lost and every check passed."""
        return not self.problems


def _writer(engine: Engine, patient_id: int, ack_path: Path, ready: int) -> None:
    """Child process: save visits forever, acknowledging each after its commit; after the
    first acknowledgement, tell the parent through the pipe ``ready``."""
    fd = os.open(ack_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    day = 0
    while True:
        with UnitOfWork(engine, user="crash-writer") as uow:
            uow.visits.create(patient_id=patient_id, visit_date=BASE + dt.timedelta(days=day),
                              clasi=FORM)  # fmt: skip
        os.write(fd, f"{patient_id} {day}\n".encode())
        if day == 0:
            os.write(ready, b"1")
            os.close(ready)
        day += 1


def _spawn(engine: Engine, patient_id: int, ack_path: Path) -> tuple[int, int]:
    """Fork a writer; return its pid and the read end of its "first save acknowledged" pipe."""
    engine.dispose()  # no connection crosses the fork; the child opens its own
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never return into the parent's code
        code = 0
        try:
            os.close(ready_r)
            _writer(engine, patient_id, ack_path, ready_w)
        except BaseException:
            traceback.print_exc()  # the parent reports the exit; this says why
            code = 1
        finally:
            os._exit(code)
    os.close(ready_w)  # the read end sees end-of-file once the child has gone
    return pid, ready_r


def _acknowledged(ack_path: Path) -> set[tuple[int, int]]:
    if not ack_path.exists():
        return set()
    acks = set()
    for line in ack_path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and all(p.isdigit() for p in parts):  # a torn last line is not an ack
            acks.add((int(parts[0]), int(parts[1])))
    return acks


def _patients(engine: Engine, count: int) -> list[int]:
    """Create the patients (one per kill) and warm the engine up with one save."""
    with UnitOfWork(engine, user="crash-setup") as uow:
        study = uow.studies.create(code="CRASH", title="Crash test", protocol_id="p",
                                   protocol_version="1")  # fmt: skip
        site = uow.sites.create(study_id=study.id, code="S", name="Site")
        ids = [
            uow.patients.create(study_id=study.id, site_id=site.id, study_code=f"C{i:05d}").id
            for i in range(count + 1)
        ]
    with UnitOfWork(engine, user="crash-setup") as uow:
        uow.visits.create(patient_id=ids[-1], visit_date=BASE, clasi=FORM)
    return ids[:-1]


def _check(url: str, acks: set[tuple[int, int]], report: CrashReport) -> None:
    engine = create_engine_for(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT v.patient_id, v.visit_date, c.id FROM visits v "
                "LEFT JOIN clasi_assessments c ON c.visit_id = v.id"
            )).all()  # fmt: skip
            stored = {}
            for patient_id, visit_date, clasi_id in rows:
                day = (dt.date.fromisoformat(str(visit_date)[:10]) - BASE).days
                stored[(patient_id, day)] = clasi_id
            report.stored_visits = len(stored)
            lost = sorted(acks - set(stored))
            if lost:
                report.problems.append(f"{len(lost)} acknowledged saves lost, e.g. {lost[:3]}")
            halves = [key for key, clasi_id in stored.items() if clasi_id is None]
            if halves:
                report.problems.append(f"{len(halves)} visits saved without their CLASI")
            chain = verify_audit_chain(conn)
            report.problems += [f.detail for f in chain.findings]
            report.problems += [f.detail for f in verify_records_against_audit(conn)]
            if engine.dialect.name == "sqlite":
                verdict = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
                if verdict != "ok":
                    report.problems.append(f"integrity_check: {verdict}")
    finally:
        engine.dispose()


class WriterFailedError(RuntimeError):
    """A writer of the campaign ended, or hung, before it acknowledged a save."""


def _wait_for_first_ack(pid: int, ready: int, timeout: float) -> None:
    """Block until writer ``pid`` says its first save is acknowledged (a byte on ``ready``).

    Raises :class:`WriterFailedError` when the writer exits first (end-of-file on the pipe) or,
    as a safety net against a hang, when nothing comes within ``timeout`` seconds.
    """
    readable, _, _ = select.select([ready], [], [], timeout)
    if not readable:
        raise WriterFailedError(f"writer {pid} acknowledged no save within {timeout} s")
    if os.read(ready, 1) != b"1":
        ended = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # left for _kill to reap
        raise WriterFailedError(
            f"writer {pid} exited with status {ended.si_status} before it acknowledged a save "
            "(its traceback is on stderr)"
        )


def _kill(pid: int) -> None:
    """SIGKILL writer ``pid`` and reap it (a writer that already exited is not yet reaped, so
    its pid cannot have gone to another process)."""
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def run_crash_campaign(
    url: str,
    workdir: Path,
    *,
    kills: int = 200,
    seed: int = 20120,
    max_delay: float = 0.005,
    startup_share: float = 0.1,
) -> CrashReport:
    """Kill ``kills`` writers at random moments, then check the database.

    Most kills come a random 0 to ``max_delay`` seconds after the writer's first acknowledged
    save (so they land anywhere in a save: before, inside or during the commit); a
    ``startup_share`` of them come during start-up. ``url`` must be a migrated, empty database.
    Raises :class:`WriterFailedError` when a writer fails before its first acknowledged save.
    """
    rng = random.Random(seed)
    started = time.perf_counter()
    engine = create_engine_for(url)
    patients = _patients(engine, kills)
    ack_path = workdir / "acks.txt"
    for patient_id in patients:
        pid, ready = _spawn(engine, patient_id, ack_path)
        try:
            if rng.random() < startup_share:  # kill while it starts or saves its first visit
                time.sleep(rng.uniform(0.0, 4 * max_delay))
            else:  # kill at a random moment of the steady write loop
                _wait_for_first_ack(pid, ready, timeout=120.0)
                time.sleep(rng.uniform(0.0, max_delay))
        finally:
            os.close(ready)
            _kill(pid)
    engine.dispose()
    acks = _acknowledged(ack_path)
    report = CrashReport(kills=kills, acknowledged=len(acks), stored_visits=0)
    _check(url, acks, report)
    report.seconds = time.perf_counter() - started
    return report
