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
import signal
import time
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


def _writer(engine: Engine, patient_id: int, ack_path: Path) -> None:
    """Child process: save visits forever, acknowledging each after its commit."""
    fd = os.open(ack_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    day = 0
    while True:
        with UnitOfWork(engine, user="crash-writer") as uow:
            uow.visits.create(patient_id=patient_id, visit_date=BASE + dt.timedelta(days=day),
                              clasi=FORM)  # fmt: skip
        os.write(fd, f"{patient_id} {day}\n".encode())
        day += 1


def _spawn(engine: Engine, patient_id: int, ack_path: Path) -> int:
    engine.dispose()  # no connection crosses the fork; the child opens its own
    pid = os.fork()
    if pid == 0:  # child: never return into the parent's code
        code = 0
        try:
            _writer(engine, patient_id, ack_path)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    return pid


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


def _wait_for_growth(path: Path, size: int, timeout: float) -> None:
    """Wait until the writer acknowledged its first save (the file grew past ``size``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size > size:
            return
        time.sleep(0.0005)


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
    """
    rng = random.Random(seed)
    started = time.perf_counter()
    engine = create_engine_for(url)
    patients = _patients(engine, kills)
    ack_path = workdir / "acks.txt"
    for patient_id in patients:
        size = ack_path.stat().st_size if ack_path.exists() else 0
        pid = _spawn(engine, patient_id, ack_path)
        if rng.random() < startup_share:  # kill while the writer starts or saves its first visit
            time.sleep(rng.uniform(0.0, 4 * max_delay))
        else:  # kill at a random moment of the steady write loop
            _wait_for_growth(ack_path, size, timeout=5.0)
            time.sleep(rng.uniform(0.0, max_delay))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    engine.dispose()
    acks = _acknowledged(ack_path)
    report = CrashReport(kills=kills, acknowledged=len(acks), stored_visits=0)
    _check(url, acks, report)
    report.seconds = time.perf_counter() - started
    return report
