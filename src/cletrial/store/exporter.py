"""Read the database back into import-format rows (the inverse of the importer).

Rows are plain values (dates as ``datetime.date``) keyed by the import columns, sorted by their
natural keys, so an export is deterministic and re-importing it changes nothing. Visits carry
their CLASI and SLEDAI-2K as nested documents (a full form, or published scores), their CLA-IGA
grade as ``cla_iga`` and their Skindex-29+3 as ``skindex`` (answered item number -> response).

>>> from cletrial.store import UnitOfWork, create_engine_for, upgrade
>>> engine = create_engine_for("sqlite://"); upgrade(engine)
>>> with UnitOfWork(engine, user="ana") as uow:
...     _ = uow.studies.create(code="S", title="T", protocol_id="p", protocol_version="1")
>>> with engine.connect() as conn:
...     export_rows(conn)["studies"]
[{'study': 'S', 'title': 'T', 'protocol': 'p', 'protocol_version': '1'}]
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import Connection, select

from cletrial.errors import NotFoundError
from cletrial.store.fields import decode_medications, table_of
from cletrial.store.import_formats import KINDS
from cletrial.store.records import ClasiRecord, SkindexRecord, SledaiRecord

__all__ = ["export_rows"]


def _all(conn: Connection, table: str, **where: Any) -> list[dict[str, Any]]:
    t = table_of(table)
    query = select(t).where(*[t.c[k] == v for k, v in where.items()]).order_by(t.c.id)
    return [dict(r) for r in conn.execute(query).mappings()]


def _in(conn: Connection, table: str, column: str, ids: set[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    t = table_of(table)
    query = select(t).where(t.c[column].in_(sorted(ids))).order_by(t.c.id)
    return [dict(r) for r in conn.execute(query).mappings()]


def _clasi(row: dict[str, Any]) -> dict[str, Any]:
    record = ClasiRecord.from_row(row)
    if record.form is None:
        return {"activity": record.activity, "damage": record.damage}
    document: dict[str, Any] = msgspec.to_builtins(record.form)
    return document


def _sledai(row: dict[str, Any]) -> dict[str, Any]:
    record = SledaiRecord.from_row(row)
    if record.form is None:
        return {"score": record.score}
    document: dict[str, Any] = msgspec.to_builtins(record.form)
    return document


def _patient_rows(
    conn: Connection,
    patients: dict[int, dict[str, Any]],
    sites: dict[int, str],
    study_codes: dict[int, str],
    deidentify: bool,
) -> list[dict[str, Any]]:
    identities = {r["patient_id"]: r for r in _in(conn, "patient_identities", "patient_id",
                                                    set(patients))}  # fmt: skip
    out = []
    for p in patients.values():
        row = {"study": study_codes[p["study_id"]], "patient": p["study_code"],
               "site": sites[p["site_id"]]}  # fmt: skip
        for name in ("sex", "reproductive_potential", "irregular_cycles", "cle_subtype", "sle",
                     "diagnosis_date", "first_dose_date"):  # fmt: skip
            row[name] = p[name]
        identity = identities.get(p["id"])
        if identity is not None and not deidentify:
            row.update(full_name=identity["full_name"], date_of_birth=identity["date_of_birth"],
                       mrn=identity["mrn"])  # fmt: skip
        out.append(row)
    return out


def _visit_rows(conn: Connection, patients: dict[int, dict[str, Any]],
                ref: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:  # fmt: skip
    visits = _in(conn, "visits", "patient_id", set(patients))
    ids = {v["id"] for v in visits}
    clasi = {r["visit_id"]: r for r in _in(conn, "clasi_assessments", "visit_id", ids)}
    sledai = {r["visit_id"]: r for r in _in(conn, "sledai_assessments", "visit_id", ids)}
    skindex = {r["visit_id"]: r for r in _in(conn, "skindex_assessments", "visit_id", ids)}
    out = []
    for v in visits:
        row = {**ref[v["patient_id"]], "date": v["visit_date"], "kind": v["kind"],
               "label": v["label"], "medications": None, "notes": v["notes"],
               "cla_iga": v["cla_iga"]}  # fmt: skip
        meds = decode_medications(v["medications"])
        row["medications"] = None if meds is None else list(meds)
        if v["id"] in clasi:
            row["clasi"] = _clasi(clasi[v["id"]])
        if v["id"] in sledai:
            row["sledai"] = _sledai(sledai[v["id"]])
        if v["id"] in skindex:
            row["skindex"] = SkindexRecord.from_row(skindex[v["id"]]).form
        out.append(row)
    return out


#: kind -> (table, {import column: database column}) for the patient-level kinds.
_SIMPLE = {
    "labs": ("labs", {"date": "sample_date", "test": "test", "value": "value", "unit": "unit",
                      "lln": "lln", "ctcae_version": "ctcae_version",
                      "confirmed": "value_confirmed"}),
    "doses": ("doses", {"date": "start_date", "regimen": "regimen", "note": "note"}),
    "adverse_events": ("adverse_events", {"term": "term", "start": "start_date",
                                          "end": "end_date", "grade": "grade",
                                          "causality": "causality", "serious": "serious",
                                          "serious_criterion": "serious_criterion",
                                          "note": "note", "outcome": "outcome"}),
    "pregnancy_tests": ("pregnancy_tests", {"date": "test_date", "result": "result",
                                            "method": "method"}),
    "events": ("patient_events", {"date": "event_date", "type": "event_type", "note": "note"}),
    "deviations": ("protocol_deviations", {"date": "deviation_date", "category": "category",
                                           "description": "description"}),
    "screenings": ("screenings", {"date": "screening_date", "verdict": "verdict"}),
    "immunology": ("immunology_results", {"date": "sample_date", "test": "test",
                                          "result": "result"}),
    "nerve_conduction": ("nerve_conduction_studies", {"date": "study_date", "result": "result",
                                                      "note": "note"}),
    "medications": ("concomitant_medications", {"name": "name", "start": "start_date",
                                                "end": "end_date", "baseline": "baseline",
                                                "note": "note"}),
    "dispositions": ("dispositions", {"kind": "kind", "date": "disposition_date",
                                      "reason": "reason", "last_dose_date": "last_dose_date",
                                      "note": "note"}),
}  # fmt: skip


def _sort_key(kind: str) -> Any:
    from cletrial.store.import_formats import KEYS

    names = KEYS[kind]
    return lambda row: tuple((row.get(n) is not None, str(row.get(n))) for n in names)


def export_rows(
    conn: Connection, *, study: str | None = None, deidentify: bool = False
) -> dict[str, list[dict[str, Any]]]:
    """Return every record (of one study, or all) as import-format rows, kind by kind.

    ``deidentify`` leaves out the identifying data (name, date of birth, record number).
    Clinical dates stay: the result is pseudonymised, not anonymous.
    """
    studies = _all(conn, "studies", **({"code": study} if study else {}))
    if study and not studies:
        raise NotFoundError(f"studies {study}: no such study")
    study_codes = {s["id"]: s["code"] for s in studies}
    sites = {s["id"]: s for s in _in(conn, "sites", "study_id", set(study_codes))}
    patients = {p["id"]: p for p in _in(conn, "patients", "study_id", set(study_codes))}
    ref = {pid: {"study": study_codes[p["study_id"]], "patient": p["study_code"]}
           for pid, p in patients.items()}  # fmt: skip
    data: dict[str, list[dict[str, Any]]] = {
        "studies": [{"study": s["code"], "title": s["title"], "protocol": s["protocol_id"],
                     "protocol_version": s["protocol_version"]} for s in studies],
        "sites": [{"study": study_codes[s["study_id"]], "site": s["code"], "name": s["name"],
                   **({"country": s["country"]} if s.get("country") else {})}
                  for s in sites.values()],
        "patients": _patient_rows(conn, patients, {i: s["code"] for i, s in sites.items()},
                                  study_codes, deidentify),
        "visits": _visit_rows(conn, patients, ref),
    }  # fmt: skip
    for kind, (table, columns) in _SIMPLE.items():
        data[kind] = [
            {**ref[r["patient_id"]], **{col: r[db] for col, db in columns.items()}}
            for r in _in(conn, table, "patient_id", set(patients))
        ]
    for kind in KINDS:
        data[kind].sort(key=_sort_key(kind))
    return data
