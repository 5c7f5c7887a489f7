"""One line per patient for the dashboard and the patient list, cached per patient.

A line holds the screening verdict, the latest CLASI-A, the number of open (unsigned) visits,
the best response and the protocol's recommendation for today. Computing it exports the
patient's history and runs the protocol engine and the endpoint derivation (several
milliseconds a patient), so lines are kept in memory and recomputed only for patients whose
records changed, or on a new day.

A patient's records are recognised as unchanged by a fingerprint read with a few grouped
queries for all patients at once: for each table of patient data, the number of the patient's
records, the sum of their ids and of their versions, and their largest id. Record ids are never
reused and every saved change increases a version, so an insert raises the largest id, a delete
lowers the count and an update raises the version sum: any change gives a new fingerprint.

>>> cache = SummaryCache()
>>> cache.get(1, ("2025-06-01", ())) is None
True
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from typing import Any, Final

from sqlalchemy import Connection, func, select

from cletrial.errors import CletrialError
from cletrial.store import export_patient_history
from cletrial.store.fields import table_of
from cletrial.store.records import PatientRecord
from cletrial.store.unit_of_work import UnitOfWork
from cletrial.web.decisions import recommend_for
from cletrial.web.protocol_cache import ProtocolCache
from cletrial.web.timeline import timeline_points

__all__ = ["PATIENT_TABLES", "SummaryCache", "compute_fingerprints", "patient_summaries"]

#: Tables of patient data with a ``patient_id`` column that a summary line depends on.
PATIENT_TABLES: Final = (
    "screenings", "visits", "labs", "doses", "adverse_events", "pregnancy_tests",
    "patient_events", "dispositions", "enrolment_overrides", "protocol_deviations",
    "immunology_results", "nerve_conduction_studies", "concomitant_medications",
)  # fmt: skip
#: Forms that belong to a visit (``visit_id``).
VISIT_TABLES: Final = ("clasi_assessments", "sledai_assessments")

Fingerprint = tuple[Any, ...]


def _aggregates(table: Any, owner: Any) -> Any:
    return select(owner, func.count(table.c.id), func.sum(table.c.id),
                  func.sum(table.c.version), func.max(table.c.id))  # fmt: skip


def compute_fingerprints(conn: Connection, patient_ids: Iterable[int]) -> dict[int, Fingerprint]:
    """The fingerprint of each patient's records (one grouped query per table).

    Parameters
    ----------
    conn : Connection
        A connection (e.g. ``uow.connection`` of a read-only unit of work: one snapshot).
    patient_ids : iterable of int
        The patients wanted.

    Returns
    -------
    dict
        Patient id -> a tuple that changes whenever any of the patient's records changes.

    >>> from cletrial.store import create_engine_for, upgrade
    >>> engine = create_engine_for("sqlite://"); upgrade(engine)
    >>> with UnitOfWork(engine, user="ana") as uow:
    ...     study = uow.studies.create(code="S", title="T", protocol_id="p", protocol_version="1")
    ...     site = uow.sites.create(study_id=study.id, code="A", name="A")
    ...     p = uow.patients.create(study_id=study.id, site_id=site.id, study_code="P01")
    >>> with UnitOfWork(engine, read_only=True) as uow:
    ...     before = compute_fingerprints(uow.connection, [p.id])[p.id]
    >>> with UnitOfWork(engine, user="ana") as uow:
    ...     _ = uow.visits.create(patient_id=p.id, visit_date=dt.date(2024, 1, 2))
    >>> with UnitOfWork(engine, read_only=True) as uow:
    ...     compute_fingerprints(uow.connection, [p.id])[p.id] != before
    True
    """
    wanted = set(patient_ids)
    parts: dict[int, list[Any]] = {pid: [] for pid in wanted}
    patients = table_of("patients")
    for pid, version in conn.execute(select(patients.c.id, patients.c.version)):
        if pid in parts:
            parts[pid].append(version)
    visits = table_of("visits")
    queries = [
        _aggregates(t, t.c.patient_id).group_by(t.c.patient_id)
        for t in map(table_of, PATIENT_TABLES)
    ]
    queries += [
        _aggregates(t, visits.c.patient_id)
        .join_from(t, visits, t.c.visit_id == visits.c.id)
        .group_by(visits.c.patient_id)
        for t in map(table_of, VISIT_TABLES)
    ]
    for query in queries:
        found = {row[0]: tuple(row[1:]) for row in conn.execute(query)}
        for pid, out in parts.items():
            out.append(found.get(pid, (0, 0, 0, 0)))
    return {pid: tuple(out) for pid, out in parts.items()}


class SummaryCache:
    """Summary lines by patient id, each with the key it was computed for (thread-safe)."""

    def __init__(self) -> None:
        self._lines: dict[int, tuple[Any, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, patient_id: int, key: Any) -> dict[str, Any] | None:
        """The line computed for ``key``, or None (never computed, or stale)."""
        with self._lock:
            found = self._lines.get(patient_id)
        return found[1] if found is not None and found[0] == key else None

    def put(self, patient_id: int, key: Any, line: dict[str, Any]) -> None:
        """Keep the line computed for ``key``."""
        with self._lock:
            self._lines[patient_id] = (key, line)

    def __len__(self) -> int:
        with self._lock:
            return len(self._lines)


def _compute_line(
    uow: UnitOfWork, protocol: ProtocolCache, patient: PatientRecord, today: dt.date
) -> dict[str, Any]:
    from cletrial.endpoints import EndpointRules, compute_patient_endpoints, course_from_history

    history = export_patient_history(uow, patient.id)
    screening = uow.screenings.for_patient(patient.id)
    line: dict[str, Any] = {"verdict": screening.verdict if screening else None, "reco": None,
                            "error": "", "best_response": None, "last_activity": None,
                            "open_visits": 0}  # fmt: skip
    points = timeline_points(history)
    if points:
        line["last_activity"] = points[-1]["activity"]
    line["open_visits"] = sum(1 for v in uow.visits.for_patient(patient.id) if not v.locked)
    end = history.get("end_of_study")
    line["on_study"] = end is None or dt.date.fromisoformat(end["date"]) > today
    line["end_of_study"] = None if end is None else end
    try:  # the recommendation first: an endpoint that cannot be derived never hides it
        line["reco"] = recommend_for(protocol, history, today)
    except CletrialError as exc:
        line["error"] = str(exc)
    try:
        if patient.first_dose_date is not None:
            rules = EndpointRules.from_protocol(protocol.get())
            endpoints = compute_patient_endpoints(course_from_history(history, rules))
            line["best_response"] = endpoints.subject.get("best_response")
    except CletrialError as exc:
        line["error"] = line["error"] or f"endpoints: {exc}"
    return line


def patient_summaries(
    uow: UnitOfWork, protocol: ProtocolCache, cache: SummaryCache,
    patients: list[PatientRecord], today: dt.date,
) -> list[dict[str, Any]]:  # fmt: skip
    """The summary line of each patient (``{"patient": record, ...}``), from the cache when the
    patient's records and the day are unchanged; lines are shared: do not modify them."""
    fingerprints = compute_fingerprints(uow.connection, [p.id for p in patients])
    rows = []
    for patient in patients:
        key = (today.isoformat(), fingerprints[patient.id])
        line = cache.get(patient.id, key)
        if line is None:
            line = _compute_line(uow, protocol, patient, today)
            cache.put(patient.id, key, line)
        rows.append({"patient": patient, **line})
    return rows
