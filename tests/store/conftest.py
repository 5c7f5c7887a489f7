"""Fixtures of the store tests: a study with a site, a patient and an investigator."""

from __future__ import annotations

import datetime as dt
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text

from cletrial.instruments import fill_absent_clasi_items, fill_absent_sledai_items
from cletrial.store import UnitOfWork

#: A complete CLASI form (every item entered; the store refuses blanks).
FORM = fill_absent_clasi_items(
    {
        "regions": {
            "scalp": {"erythema": 2, "scale": 1},
            "arms": {"erythema": 3, "scale": 2, "dyspigmentation": 1},
            "nose": {"erythema": 1, "scarring": 1},
        },
        "recent_hair_loss": 1,
    }
)
#: The date of P01's screening (eligible), before the first dose.
SCREENING_DATE = dt.date(2009, 1, 15)


def enrol(uow: UnitOfWork, patient_id: int, on: dt.date = SCREENING_DATE) -> None:
    """Record an eligible screening for a patient (the enrolment gate for doses)."""
    uow.screenings.save(patient_id, screening_date=on, record={}, verdict="eligible")


def fail_lock_waits(engine: Engine, timeout: str = "10s") -> None:
    """Make a PostgreSQL writer that waits for a lock fail instead (``lock_timeout``).

    For tests whose writers must never wait: a wait becomes an error naming the lock after
    ``timeout``, not a hang and not a pass. Applies to the connections opened afterwards (the
    engine's pooled ones are closed).
    """
    with engine.connect() as conn:
        name = conn.exec_driver_sql("SELECT current_database()").scalar_one()
        conn.exec_driver_sql(f"ALTER DATABASE \"{name}\" SET lock_timeout = '{timeout}'")
        conn.commit()
    engine.dispose()


def wait_until_blocked_by(holder: Connection, timeout: float = 60.0) -> int:
    """Wait until another PostgreSQL session waits for a lock ``holder`` holds; return its pid.

    The definite sign (``pg_blocking_pids``, read afresh from the lock manager on each query)
    that a writer queues behind ``holder``'s transaction. ``timeout`` is only a safety net: when
    no session is blocked by then the test fails, naming what it waited for.
    """
    own = holder.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    query = text(
        "SELECT DISTINCT pid FROM pg_locks WHERE NOT granted AND :own = ANY(pg_blocking_pids(pid))"
    )
    deadline = time.monotonic() + timeout
    while (pid := holder.execute(query, {"own": own}).scalar()) is None:
        if time.monotonic() > deadline:
            pytest.fail(f"no session waited for a lock held by backend {own} within {timeout} s")
        time.sleep(0.01)
    return int(pid)


@dataclass(frozen=True)
class Seed:
    """Ids of the seeded records."""

    engine: Engine
    study_id: int
    site_id: int
    other_site_id: int
    patient_id: int


@pytest.fixture
def seed(db_engine: Engine) -> Seed:
    """A study LEN with sites BCN and MAD and patient P01 at BCN, on each engine."""
    with UnitOfWork(db_engine, user="admin") as uow:
        study = uow.studies.create(
            code="LEN",
            title="Lenalidomide in refractory CLE",
            protocol_id="lenalidomide-cle-2012",
            protocol_version="1",
        )
        site = uow.sites.create(study_id=study.id, code="BCN", name="Vall d'Hebron")
        other = uow.sites.create(study_id=study.id, code="MAD", name="Madrid")
        patient = uow.patients.create(
            study_id=study.id,
            site_id=site.id,
            study_code="P01",
            sex="F",
            reproductive_potential=True,
            irregular_cycles=False,
            diagnosis_date="2005-03",
            first_dose_date=dt.date(2009, 2, 2),
        )
        enrol(uow, patient.id)
    return Seed(db_engine, study.id, site.id, other.id, patient.id)


@pytest.fixture
def fresh_engine(
    db_engine: Engine, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Engine]:
    """A second, empty migrated database on the same engine as ``db_engine``."""
    from cletrial.store import create_engine_for

    if db_engine.dialect.name == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "second.sqlite"
        shutil.copy(template, path)
        engine = create_engine_for(f"sqlite:///{path}")
        yield engine
        engine.dispose()
        return
    server = request.getfixturevalue("pg_server")
    name = f"t2_{uuid.uuid4().hex[:12]}"
    engine = create_engine_for(
        server.create_database(name, template=request.getfixturevalue("pg_template"))
    )
    yield engine
    engine.dispose()


IMPORT_DOCUMENT: dict[str, Any] = {
    "format": "cletrial-import",
    "version": 1,
    "study": "LEN",
    "studies": [{"study": "LEN", "title": "Lenalidomide in refractory CLE",
                 "protocol": "lenalidomide-cle-2012", "protocol_version": "1"}],
    "sites": [{"site": "BCN", "name": "Vall d'Hebron"}, {"site": "MAD", "name": "Madrid"}],
    "patients": [
        {"patient": "P01", "site": "BCN", "sex": "F", "reproductive_potential": True,
         "cle_subtype": "DLE (L)", "sle": False, "diagnosis_date": "2005",
         "first_dose_date": "2009-02-02", "full_name": "Maria Example",
         "date_of_birth": "1970-05-04", "mrn": "H123"},
        {"patient": "P02", "site": "MAD", "sex": "F", "diagnosis_date": "2001-07"},
    ],
    "screenings": [{"patient": "P01", "date": "2009-01-15", "verdict": "eligible"},
                   {"patient": "P02", "date": "2009-05-01", "verdict": "eligible"}],
    "visits": [
        {"patient": "P01", "date": "2009-02-02", "kind": "baseline", "label": "day 0",
         "medications": ["hydroxychloroquine 200 mg/day", "prednisone 5 mg/day"],
         "clasi": fill_absent_clasi_items({
             "regions": {"scalp": {"erythema": 2, "scale": 1},
                         "arms": {"erythema": 3, "dyspigmentation": 1}},
             "recent_hair_loss": 1}),
         "sledai": fill_absent_sledai_items({"arthritis": True, "rash": True})},
        {"patient": "P01", "date": "2009-03-02", "label": "week 4",
         "clasi": {"activity": 2, "damage": 1}, "sledai": {"score": 2}},
        {"patient": "P02", "date": "2009-05-04", "kind": "baseline"},
    ],
    "labs": [
        {"patient": "P01", "date": "2009-02-09", "test": "neutrophils", "value": 1190,
         "unit": "/mm3"},
        {"patient": "P01", "date": "2009-02-09", "test": "anti_dsdna", "value": 123,
         "unit": "IU/ml"},
    ],
    "doses": [{"patient": "P01", "date": "2009-02-02", "regimen": "5_daily"},
              {"patient": "P01", "date": "2009-03-02", "regimen": "5_alternate",
               "note": "complete response: taper"}],
    "adverse_events": [{"patient": "P01", "term": "Insomnia", "start": "2009-04-01",
                        "grade": 2, "causality": "probable", "serious": False,
                        "outcome": "not_recovered"}],
    "pregnancy_tests": [{"patient": "P01", "date": "2009-01-21", "result": "negative"}],
    "events": [{"patient": "P02", "date": "2009-06-01", "type": "consent_withdrawn"}],
    "deviations": [{"patient": "P01", "date": "2009-03-02", "category": "medication",
                    "description": "prednisone raised to 7.5 mg/day"}],
}  # fmt: skip
