"""A stored patient as a patient history (``docs/formats.md``), the protocol engine's input.

Stored CLASI and SLEDAI-2K forms are exported item by item (the engine scores them); forms
stored as published scores only are exported as ``{"activity", "damage"}`` and ``{"score"}``.
The CLA-IGA grade is ``cla_iga`` and the Skindex-29+3 is ``skindex`` (the answered items, item
number -> response; the engine scores the domains). Nothing missing is filled in: a visit without
a CLASI has no ``clasi`` key, one without a CLA-IGA no ``cla_iga`` key, an unknown sex has no
``sex`` key. Disposition events ``completed`` are not history events and are left out.

>>> from cletrial.instruments import fill_absent_clasi_items
>>> from cletrial.store import UnitOfWork, create_engine_for, upgrade
>>> engine = create_engine_for("sqlite://"); upgrade(engine)
>>> with UnitOfWork(engine, user="ana") as uow:
...     study = uow.studies.create(code="S", title="T", protocol_id="lenalidomide-cle-2012",
...                                protocol_version="1")
...     site = uow.sites.create(study_id=study.id, code="A", name="Site A")
...     p = uow.patients.create(study_id=study.id, site_id=site.id, study_code="P01", sex="F")
...     _ = uow.visits.create(patient_id=p.id, visit_date=dt.date(2009, 2, 2), kind="baseline",
...                           clasi=fill_absent_clasi_items({"regions": {"arms": {"erythema": 2}}}),
...                           cla_iga=3, skindex={"31": 4, "32": 4, "33": 5})
>>> with UnitOfWork(engine, read_only=True) as uow:
...     history = export_patient_history(uow, p.id)
>>> history["patient_id"], history["baseline"]["clasi"]["regions"]["arms"]["erythema"]
('P01', 2)
>>> history["baseline"]["cla_iga"], history["baseline"]["skindex"]
(3, {'31': 4, '32': 4, '33': 5})
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from sys import intern
from typing import Any

import msgspec
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from cletrial.errors import InputError, NotFoundError
from cletrial.store.fields import decode_medications, table_of
from cletrial.store.records import ClasiRecord, SkindexRecord, SledaiRecord
from cletrial.store.unit_of_work import UnitOfWork

__all__ = ["HISTORY_TABLES", "assemble_history", "export_patient_history"]


def _connection(source: UnitOfWork | Session | Connection) -> Connection:
    if isinstance(source, UnitOfWork):
        return source.connection
    if isinstance(source, Session):
        return source.connection()
    return source


def _patient_row(conn: Connection, patient: int | str, study_id: int | None) -> dict[str, Any]:
    t = table_of("patients")
    if isinstance(patient, int) and not isinstance(patient, bool):
        query = select(t).where(t.c.id == patient)
    elif isinstance(patient, str):
        query = select(t).where(t.c.study_code == patient)
        if study_id is not None:
            query = query.where(t.c.study_id == study_id)
    else:
        raise InputError("patient_id", patient, "must be a patient id (int) or study code (str)")
    rows = conn.execute(query).mappings().all()
    if not rows:
        raise NotFoundError(f"patients {patient}: no such patient")
    if len(rows) > 1:
        raise InputError("patient_id", patient, "is used in several studies: give study_id")
    return dict(rows[0])


def _rows(conn: Connection, table: str, key: str, value: int, *order: str) -> list[dict[str, Any]]:
    t = table_of(table)
    query = select(t).where(t.c[key] == value).order_by(*[t.c[name] for name in order])
    return [dict(r) for r in conn.execute(query).mappings()]


def _forms(conn: Connection, table: str, visit_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not visit_ids:
        return {}
    t = table_of(table)
    rows = conn.execute(select(t).where(t.c.visit_id.in_(visit_ids))).mappings()
    return {row["visit_id"]: dict(row) for row in rows}


def _clasi_doc(row: dict[str, Any]) -> dict[str, Any]:
    record = ClasiRecord.from_row(row)
    if record.form is None:
        return {"activity": record.activity, "damage": record.damage}
    document: dict[str, Any] = msgspec.to_builtins(record.form)
    return document


def _sledai_doc(row: dict[str, Any]) -> dict[str, Any]:
    record = SledaiRecord.from_row(row)
    if record.form is None:
        return {"score": record.score}
    form: dict[str, Any] = msgspec.to_builtins(record.form)
    return {name: value for name, value in form.items() if value}


def _visit_doc(visit: dict[str, Any], clasi: Any, sledai: Any, skindex: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"date": visit["visit_date"].isoformat()}
    if clasi is not None:
        doc["clasi"] = _clasi_doc(clasi)
    if sledai is not None:
        doc["sledai"] = _sledai_doc(sledai)
    if visit.get("cla_iga") is not None:
        doc["cla_iga"] = visit["cla_iga"]
    if skindex is not None:
        doc["skindex"] = SkindexRecord.from_row(skindex).form
    medications = decode_medications(visit["medications"])
    if medications is not None:
        doc["medications"] = list(medications)
    return doc


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else _iso_text(value)


@lru_cache(maxsize=1 << 15)
def _iso_text(value: dt.date) -> str:
    """The ISO text of a date, one string for each date (a study's histories hold millions of
    dates and a few thousand distinct ones)."""
    return value.isoformat()


#: The form tables of a visit, in the order :func:`assemble_history` takes their rows.
_FORM_TABLES = ("clasi_assessments", "sledai_assessments", "skindex_assessments")

#: The tables a history is assembled from, each with the order its rows are exported in.
HISTORY_TABLES: dict[str, tuple[str, ...]] = {
    "visits": ("visit_date",),
    "labs": ("sample_date", "test"),
    "doses": ("start_date",),
    "adverse_events": ("start_date", "term"),
    "pregnancy_tests": ("test_date",),
    "patient_events": ("event_date", "event_type"),
    "screenings": ("id",),
    "enrolment_overrides": ("id",),
    "immunology_results": ("sample_date", "test"),
    "nerve_conduction_studies": ("study_date",),
    "concomitant_medications": ("id",),
    "dispositions": ("disposition_date",),
}


def _patient_lists(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    labs = []
    for lab in rows["labs"]:
        item = {"date": _iso(lab["sample_date"]), "test": intern(lab["test"]),
                "value": lab["value"], "unit": intern(lab["unit"])}  # fmt: skip
        if lab["lln"] is not None:
            item["lln"] = lab["lln"]
        labs.append(item)
    adverse_events = [
        {"term": ae["term"], "start": _iso(ae["start_date"]), "end": _iso(ae["end_date"]),
         "grade": ae["grade"], "causality": ae["causality"], "serious": ae["serious"]}
        for ae in rows["adverse_events"]
    ]  # fmt: skip
    return {
        "labs": labs,
        "doses": [{"date": _iso(d["start_date"]), "regimen": d["regimen"]} for d in rows["doses"]],
        "adverse_events": adverse_events,
        "pregnancy_tests": [{"date": _iso(t["test_date"]), "result": t["result"]}
                            for t in rows["pregnancy_tests"]],
        "events": [{"date": _iso(e["event_date"]), "type": e["event_type"]}
                   for e in rows["patient_events"] if e["event_type"] != "completed"],
    }  # fmt: skip


def _enrolment_docs(rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The screening verdict (with any override), the immunology panel, nerve conduction
    studies, concomitant medication and the dispositions, as history keys."""
    docs: dict[str, Any] = {}
    screening = rows["screenings"]
    if screening and screening[0]["verdict"] is not None:
        eligibility: dict[str, Any] = {"date": _iso(screening[0]["screening_date"]),
                                       "verdict": screening[0]["verdict"]}  # fmt: skip
        override = rows["enrolment_overrides"]
        if override:
            eligibility["override"] = {"date": _iso(override[0]["override_date"]),
                                       "by": override[0]["signed_name"],
                                       "reason": override[0]["reason"]}  # fmt: skip
        docs["eligibility"] = eligibility
    immunology = [{"date": _iso(r["sample_date"]), "test": r["test"], "result": r["result"]}
                  for r in rows["immunology_results"]]  # fmt: skip
    nerve = [{"date": _iso(r["study_date"]), "result": r["result"]}
             for r in rows["nerve_conduction_studies"]]  # fmt: skip
    medications = [
        {"name": r["name"], "start": _iso(r["start_date"]), "end": _iso(r["end_date"]),
         "baseline": r["baseline"]}
        for r in rows["concomitant_medications"]
    ]  # fmt: skip
    for key, items in (("immunology", immunology), ("nerve_conduction", nerve),
                       ("concomitant_medications", medications)):  # fmt: skip
        if items:
            docs[key] = items
    for row in rows["dispositions"]:
        doc = {"date": _iso(row["disposition_date"]), "reason": row["reason"]}
        if row["kind"] == "end_of_treatment":
            doc["last_dose_date"] = _iso(row["last_dose_date"])
        docs[row["kind"]] = doc
    return docs


def assemble_history(
    protocol_id: str,
    patient: dict[str, Any],
    rows: dict[str, list[dict[str, Any]]],
    forms: tuple[dict[int, dict[str, Any]], ...],
) -> dict[str, Any]:
    """Assemble one patient's history from their rows (the single place the shape is built).

    Parameters
    ----------
    protocol_id : str
        The study's protocol id.
    patient : dict
        The patient's ``patients`` row.
    rows : dict
        Table name -> the patient's rows of every table of :data:`HISTORY_TABLES`, each in
        its export order.
    forms : tuple of dict
        CLASI, SLEDAI-2K and (optionally) Skindex-29+3 rows by visit id.

    Returns
    -------
    dict
        The history (see :func:`export_patient_history`).
    """
    history: dict[str, Any] = {"patient_id": patient["study_code"], "protocol": protocol_id}
    for name in ("sex", "reproductive_potential", "irregular_cycles"):
        if patient[name] is not None:
            history[name] = patient[name]
    if patient["first_dose_date"] is not None:
        history["first_dose_date"] = _iso(patient["first_dose_date"])
    clasi, sledai, *more = forms
    skindex = more[0] if more else {}
    assessments = []
    for visit in rows["visits"]:
        vid = visit["id"]
        doc = _visit_doc(visit, clasi.get(vid), sledai.get(vid), skindex.get(vid))
        if visit["kind"] == "baseline":
            history["baseline"] = doc
        else:
            assessments.append(doc)
    history["assessments"] = assessments
    history.update(_patient_lists(rows))
    history.update(_enrolment_docs(rows))
    return history


def export_patient_history(
    source: UnitOfWork | Session | Connection, patient_id: int | str, *, study_id: int | None = None
) -> dict[str, Any]:
    """Return a stored patient as a patient history dict (``docs/formats.md``).

    Parameters
    ----------
    source : UnitOfWork, Session or Connection
        Where to read from (a read-only unit of work is enough).
    patient_id : int or str
        The patient's database id, or their pseudonymous study code (then ``study_id`` when
        the code is used in several studies).
    study_id : int, optional
        The study, to resolve a study code.

    Returns
    -------
    dict
        JSON-ready: dates as ``YYYY-MM-DD`` strings; identifying data is never included.

    Raises
    ------
    NotFoundError
        No such patient.
    """
    conn = _connection(source)
    patient = _patient_row(conn, patient_id, study_id)
    pid = patient["id"]
    study = conn.execute(
        select(table_of("studies")).where(table_of("studies").c.id == patient["study_id"])
    ).mappings().one()  # fmt: skip
    rows = {name: _rows(conn, name, "patient_id", pid, *order)
            for name, order in HISTORY_TABLES.items()}  # fmt: skip
    ids = [v["id"] for v in rows["visits"]]
    forms = tuple(_forms(conn, name, ids) for name in _FORM_TABLES)
    return assemble_history(study["protocol_id"], patient, rows, forms)
