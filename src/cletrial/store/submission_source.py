"""Read a whole study for the SDTM builders: :func:`load_study_source`.

A fixed number of queries for each batch of :data:`BATCH` patients (one per table) reads every
patient of the study, a batch's rows let go once its subjects are built; each history is
assembled by the same code as :func:`export_patient_history`, so the two are equal. The date
of birth is read only to compute the age at screening, and the screening record is passed on
without its ``birth_date`` and ``patient_id``.

>>> from cletrial.store import UnitOfWork, create_engine_for, upgrade
>>> engine = create_engine_for("sqlite://"); upgrade(engine)
>>> with UnitOfWork(engine, user="ana") as uow:
...     study = uow.studies.create(code="S", title="T", protocol_id="lenalidomide-cle-2012",
...                                protocol_version="1.0.0")
...     site = uow.sites.create(study_id=study.id, code="A", name="Site A")
...     _ = uow.patients.create(study_id=study.id, site_id=site.id, study_code="P01", sex="F")
>>> with UnitOfWork(engine, read_only=True) as uow:
...     source = load_study_source(uow, "S")
>>> [s.usubjid for s in source.subjects], source.subjects[0].sex
(['S-A-P01'], 'F')
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from functools import cache, lru_cache
from typing import Any, Final

from sqlalchemy import Connection, Select, Table, bindparam, select
from sqlalchemy.orm import Session

from cletrial.collector import collector_paused
from cletrial.errors import NotFoundError
from cletrial.protocol import load_protocol
from cletrial.standards.sdtm.common import SubjectRef
from cletrial.standards.sdtm.source import (
    AeDetail,
    Deviation,
    LabDetail,
    StudySource,
    SubjectSource,
    VisitRef,
)
from cletrial.store.fastpath import fetch_dicts
from cletrial.store.fields import table_of
from cletrial.store.history_export import HISTORY_TABLES, _connection, assemble_history
from cletrial.store.unit_of_work import UnitOfWork

__all__ = ["load_study_source"]

Rows = dict[int, list[dict[str, Any]]]
#: The columns read of a table when not all are needed (what :func:`assemble_history` and
#: :func:`_details` read of the largest table, a study's lab results).
_READ: Final = {
    "labs": ("patient_id", "visit_id", "sample_date", "test", "value", "unit", "lln",
             "value_confirmed"),
}  # fmt: skip
#: The form tables of a visit, in the order :func:`assemble_history` takes them.
_FORM_TABLES: Final = ("clasi_assessments", "sledai_assessments", "skindex_assessments")
#: Screening record keys that identify a patient: never passed on.
_IDENTIFYING = ("birth_date", "patient_id")


#: Patients read at a time: the rows of a batch are let go once its subjects are built, so
#: the rows of the whole study are never held at once (peak memory).
BATCH: Final = 500


def _by_patient(conn: Connection, name: str, study_id: int, order: tuple[str, ...],
                ids: dict[str, int]) -> Rows:  # fmt: skip
    """Every row of ``name`` for the study's patients with an id from ``ids["lo"]`` to
    ``ids["hi"]``, grouped by patient, in ``order``."""
    grouped: Rows = defaultdict(list)
    query = _patient_rows_query(name, order)
    for row in fetch_dicts(conn, query, {"study_id": study_id, **ids}):
        grouped[row["patient_id"]].append(row)
    return grouped


@cache
def _patient_rows_query(name: str, order: tuple[str, ...]) -> Callable[[], Select[Any]]:
    """A builder of the rows of ``name`` of one study's patients (ids ``lo`` to ``hi``), by
    patient, in ``order`` (run by the store's prepared-statement path: compiled once, rows built
    as dicts in one step)."""

    def build() -> Select[Any]:
        t, patients = table_of(name), table_of("patients")
        wanted = _READ.get(name)
        columns = [t.c[c] for c in wanted] if wanted else [t]
        return (select(*columns).join(patients, patients.c.id == t.c.patient_id)
                .where(patients.c.study_id == bindparam("study_id"),
                       patients.c.id.between(bindparam("lo"), bindparam("hi")))
                .order_by(t.c.patient_id, *[t.c[c] for c in order]))  # fmt: skip

    return build


def _forms(conn: Connection, name: str, study_id: int,
           ids: dict[str, int]) -> dict[int, dict[str, Any]]:  # fmt: skip
    rows = fetch_dicts(conn, _form_rows_query(name), {"study_id": study_id, **ids})
    return {row["visit_id"]: row for row in rows}


@cache
def _form_rows_query(name: str) -> Callable[[], Select[Any]]:
    """A builder of the forms ``name`` filled at the visits of one study's patients (ids
    ``lo`` to ``hi``)."""

    def build() -> Select[Any]:
        t: Table = table_of(name)
        visits, patients = table_of("visits"), table_of("patients")
        return (select(t).join(visits, visits.c.id == t.c.visit_id)
                .join(patients, patients.c.id == visits.c.patient_id)
                .where(patients.c.study_id == bindparam("study_id"),
                       patients.c.id.between(bindparam("lo"), bindparam("hi"))))  # fmt: skip

    return build


def _age(birth: dt.date | None, on: dt.date | None, record: dict[str, Any]) -> int | None:
    if birth is not None and on is not None:
        return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    age = record.get("age_years")
    return age if isinstance(age, int) else None


@lru_cache(maxsize=1 << 12)
def _lab_detail(visit_date: dt.date | None, confirmed: bool | None) -> LabDetail:
    """One (frozen) LabDetail for equal details: most labs are not linked to a visit."""
    return LabDetail(visit_date, confirmed)


def _details(rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    visit_dates = {v["id"]: v["visit_date"] for v in rows["visits"]}
    return {
        "visits": tuple(VisitRef(v["visit_date"], v["kind"], v["label"]) for v in rows["visits"]),
        "labs": tuple(_lab_detail(visit_dates.get(r["visit_id"]), r["value_confirmed"])
                      for r in rows["labs"]),
        "adverse_events": tuple(AeDetail(r["serious_criterion"], r["outcome"])
                                for r in rows["adverse_events"]),
    }  # fmt: skip


def _subject(study: dict[str, Any], patient: dict[str, Any], site: str, birth: dt.date | None,
             rows: dict[str, list[dict[str, Any]]], forms: Any,
             deviations: list[dict[str, Any]]) -> SubjectSource:  # fmt: skip
    screening = rows["screenings"][0] if rows["screenings"] else None
    record = json.loads(screening["record_json"]) if screening else {}
    for key in _IDENTIFYING:
        record.pop(key, None)
    on = screening["screening_date"] if screening else None
    ref = SubjectRef(study["code"], site, patient["study_code"], patient["first_dose_date"])
    return SubjectSource(
        ref=ref, history=assemble_history(study["protocol_id"], patient, rows, forms),
        sex=patient["sex"], age=_age(birth, on, record), cle_subtype=patient["cle_subtype"],
        sle=patient["sle"], diagnosis_date=patient["diagnosis_date"], screening_date=on,
        screening_verdict=screening["verdict"] if screening else None, screening=record,
        deviations=tuple(Deviation(d["deviation_date"], d["category"], d["description"])
                         for d in deviations),
        **_details(rows),
    )  # fmt: skip


def _randomised(
    conn: Connection, study_id: int, unblinded: bool
) -> dict[int, tuple[str | None, dt.date | None]]:
    """Patient id -> (arm, day randomised), both ``None`` unless ``unblinded``, of every
    randomised patient."""
    r, s, p = table_of("randomisations"), table_of("allocation_slots"), table_of("patients")
    query = (
        select(r.c.patient_id, s.c.arm, r.c.randomised_at)
        .join(s, s.c.id == r.c.slot_id)
        .join(p, p.c.id == r.c.patient_id)
        .where(p.c.study_id == study_id)
    )
    return {int(pid): ((str(arm), at.date()) if unblinded else (None, None))
            for pid, arm, at in conn.execute(query)}  # fmt: skip


def load_study_source(
    source: UnitOfWork | Session | Connection,
    study_code: str,
    *,
    synthetic: bool = False,
    unblinded: bool = False,
) -> StudySource:
    """Read the study ``study_code`` and every patient of it.

    Parameters
    ----------
    source : UnitOfWork, Session or Connection
        Where to read from (a read-only unit of work is enough).
    study_code : str
        The study's code (``STUDYID``).
    synthetic : bool
        Whether the study's data are synthetic (flagged in ``SUPPDM``).
    unblinded : bool
        Load each randomised subject's arm (for the unblinded statistician only: the caller
        checks who asks). Otherwise a subject is only marked randomised.

    Returns
    -------
    StudySource
        Subjects by site code, then study code.

    Raises
    ------
    NotFoundError
        No study has that code.
    """
    with collector_paused():  # rows, dicts and lists only: no reference cycles to collect
        return _load(_connection(source), study_code, synthetic=synthetic, unblinded=unblinded)


def _load(conn: Connection, study_code: str, *, synthetic: bool, unblinded: bool) -> StudySource:
    studies = table_of("studies")
    found = conn.execute(select(studies).where(studies.c.code == study_code)).mappings().first()
    if found is None:
        raise NotFoundError(f"studies {study_code!r}: no study with that code; give the code "
                            "of a stored study")  # fmt: skip
    study = dict(found)
    sid = study["id"]
    site_rows = conn.execute(
        select(table_of("sites")).where(table_of("sites").c.study_id == sid)
    ).mappings()
    countries = {}
    sites = {}
    for r in site_rows:
        sites[r["id"]], countries[r["id"]] = r["code"], r["country"]
    patients = [
        dict(r)
        for r in conn.execute(
            select(table_of("patients")).where(table_of("patients").c.study_id == sid)
        ).mappings()
    ]
    patients.sort(key=lambda p: (sites[p["site_id"]], p["study_code"]))
    ids = sorted(p["id"] for p in patients)
    every = {"lo": ids[0], "hi": ids[-1]} if ids else {"lo": 0, "hi": -1}
    births = {
        pid: rows[0]["date_of_birth"]
        for pid, rows in _by_patient(conn, "patient_identities", sid, (), every).items()
    }
    deviations = _by_patient(conn, "protocol_deviations", sid, ("deviation_date", "category"),
                             every)  # fmt: skip
    randomised = _randomised(conn, sid, unblinded)
    built: dict[int, SubjectSource] = {}
    by_id = {p["id"]: p for p in patients}
    for start in range(0, len(ids), BATCH):  # a batch of patients at a time (peak memory)
        batch = ids[start : start + BATCH]
        span = {"lo": batch[0], "hi": batch[-1]}
        tables = {name: _by_patient(conn, name, sid, order, span)
                  for name, order in HISTORY_TABLES.items()}  # fmt: skip
        forms = tuple(_forms(conn, name, sid, span) for name in _FORM_TABLES)
        for pid in batch:  # each patient's rows are let go once its subject is built
            p = by_id[pid]
            rows = {name: by_patient.pop(pid, []) for name, by_patient in tables.items()}
            own = tuple({v["id"]: f for v in rows["visits"] if (f := kind.pop(v["id"], None))}
                        for kind in forms)  # fmt: skip
            subject = _subject(study, p, sites[p["site_id"]], births.get(pid), rows, own,
                               deviations.pop(pid, []))  # fmt: skip
            if countries[p["site_id"]] is not None:
                subject = replace(subject, country=countries[p["site_id"]])
            if pid in randomised:
                arm, on = randomised[pid]
                subject = replace(subject, randomised=True, arm=arm, randomised_on=on)
            built[pid] = subject
    subjects = [built[p["id"]] for p in patients]
    protocol = load_protocol(study["protocol_id"]).file
    return StudySource(study["code"], study["title"], study["protocol_id"],
                       study["protocol_version"], protocol, synthetic, tuple(subjects),
                       _locked_on(conn))  # fmt: skip


def _locked_on(conn: Connection) -> dt.date | None:
    """The day (UTC) the database was locked, if its last lock event left it locked."""
    t = table_of("lock_events")
    last = conn.execute(select(t.c.state_after, t.c.signed_at).order_by(t.c.id.desc()).limit(1))
    row = last.first()
    return row[1].date() if row is not None and row[0] == "locked" else None
