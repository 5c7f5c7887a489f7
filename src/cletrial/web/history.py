"""A stored patient as a patient history (``docs/formats.md``), the protocol engine's input.

Uses the store's ``export_patient_history`` when the store provides it; otherwise builds the same
document from the records read through the unit of work. Missing data stays missing: a visit
without a CLASI has no ``clasi`` key (never a CLASI of 0).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cletrial.store.records import ClasiRecord, SledaiRecord
from cletrial.store.unit_of_work import UnitOfWork
from cletrial.web.clinical import form_as_dict

__all__ = ["patient_history"]


def _clasi(record: ClasiRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    form = form_as_dict(record.form)
    return form if form is not None else {"activity": record.activity, "damage": record.damage}


def _sledai(record: SledaiRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    form = form_as_dict(record.form)
    return form if form is not None else {"score": record.score}


def _assessment(uow: UnitOfWork, visit: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"date": visit.visit_date.isoformat()}
    clasi = _clasi(uow.clasi.for_visit(visit.id))
    if clasi is not None:
        out["clasi"] = clasi
    sledai = _sledai(uow.sledai.for_visit(visit.id))
    if sledai is not None:
        out["sledai"] = sledai
    if visit.medications is not None:
        out["medications"] = list(visit.medications)
    return out


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def patient_history(uow: UnitOfWork, patient_id: int, protocol_id: str) -> dict[str, Any]:
    """The history document of a stored patient (pseudonymous: ``patient_id`` is the study code).

    Parameters
    ----------
    uow : UnitOfWork
        An open (read-only) unit of work.
    patient_id : int
        The patient's record id.
    protocol_id : str
        Id of the protocol the study runs (written to ``protocol``).
    """
    patient = uow.patients.get(patient_id)
    visits = uow.visits.for_patient(patient_id)
    history: dict[str, Any] = {"patient_id": patient.study_code, "protocol": protocol_id}
    for name in ("sex", "reproductive_potential", "irregular_cycles"):
        value = getattr(patient, name)
        if value is not None:
            history[name] = value
    if patient.first_dose_date is not None:
        history["first_dose_date"] = patient.first_dose_date.isoformat()
    assessments = [_assessment(uow, v) for v in visits]
    baseline = [a for v, a in zip(visits, assessments, strict=True) if v.kind == "baseline"]
    if baseline:
        history["baseline"] = baseline[0]
    history["assessments"] = [
        a for v, a in zip(visits, assessments, strict=True) if v.kind != "baseline"
    ]
    history["labs"] = [
        {"date": lab.sample_date.isoformat(), "test": lab.test, "value": lab.value,
         "unit": lab.unit, **({"lln": lab.lln} if lab.lln is not None else {})}
        for lab in uow.labs.for_patient(patient_id)
    ]  # fmt: skip
    history["doses"] = [
        {"date": d.start_date.isoformat(), "regimen": d.regimen}
        for d in uow.doses.for_patient(patient_id)
    ]
    history["adverse_events"] = [
        {"term": ae.term, "start": ae.start_date.isoformat(), "end": _iso(ae.end_date),
         "grade": ae.grade, "causality": ae.causality, "serious": ae.serious}
        for ae in uow.adverse_events.for_patient(patient_id)
    ]  # fmt: skip
    history["pregnancy_tests"] = [
        {"date": t.test_date.isoformat(), "result": t.result}
        for t in uow.pregnancy_tests.for_patient(patient_id)
    ]
    history["events"] = [
        {"date": e.event_date.isoformat(), "type": e.event_type}
        for e in uow.events.for_patient(patient_id)
        if e.event_type != "completed"
    ]
    return history
