"""REST API of patients: screening and enrolment, the patient record, history, recommendation,
adverse events, doses and disposition events. Every read and write is limited to the user's
sites; a request for another site's patient is refused (403) and logged without identifiers.

Editing, removing and auditing one adverse event or dose is in
:mod:`cletrial.web.routes.events_api`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request

from cletrial.errors import NotFoundError
from cletrial.store import export_patient_history
from cletrial.web.audit_views import audit_entries
from cletrial.web.clinical import create_patient, patient_in_scope, patient_public
from cletrial.web.decisions import assess_screening, recommend_for
from cletrial.web.deps import (
    Auditor,
    Editor,
    ScopedPatient,
    Screener,
    SessionDep,
    Viewer,
    write_uow,
)
from cletrial.web.events import as_public
from cletrial.web.routes._common import RecordId, errors
from cletrial.web.schemas_clinical import (
    AdverseEventCreate,
    AdverseEventPublic,
    AuditEntryPublic,
    DoseCreate,
    DosePublic,
    EventCreate,
    EventPublic,
    PatientCreate,
    PatientPublic,
    PatientUpdate,
)

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["patients"])


def _verdict(uow: SessionDep, patient_id: RecordId) -> str | None:
    screening = uow.screenings.for_patient(patient_id)
    return None if screening is None else screening.verdict


@router.get(
    "/patients",
    response_model=list[PatientPublic],
    summary="Patients of my sites",
    responses=errors(),
)
def list_patients(user: Viewer, uow: SessionDep) -> list[PatientPublic]:
    """Patients of the user's sites, by study code (identifying data is never returned)."""
    out = []
    for site_id in sorted(user.site_ids):
        for patient in uow.patients.list(site_id=site_id):
            out.append(patient_public(patient, _verdict(uow, patient.id)))
    return out


@router.post(
    "/patients",
    response_model=PatientPublic,
    status_code=201,
    summary="Screen a patient",
    responses=errors(404),
)
def post_patient(body: PatientCreate, request: Request, user: Screener) -> PatientPublic:
    """Record a patient at one of the user's sites with their screening record; the verdict
    (eligible, ineligible, undetermined) is computed by the protocol and stored with it."""
    user.check_site(body.site_id, route="/api/patients")
    verdict = assess_screening(request.app.state.protocol, body.screening).get("verdict")
    with write_uow(request, user) as uow:
        patient = create_patient(uow, user, body, str(verdict) if verdict else None)
        return patient_public(patient, str(verdict) if verdict else None)


@router.get(
    "/patients/{patient_id}",
    response_model=PatientPublic,
    summary="A patient",
    responses=errors(404),
)
def get_patient(patient: ScopedPatient, user: Viewer, uow: SessionDep) -> PatientPublic:
    """The patient record (pseudonymous)."""
    return patient_public(patient, _verdict(uow, patient.id))


@router.patch(
    "/patients/{patient_id}",
    response_model=PatientPublic,
    summary="Edit a patient (version and reason required)",
    responses=errors(404, 409),
)
def patch_patient(
    patient_id: RecordId, body: PatientUpdate, request: Request, user: Editor
) -> PatientPublic:
    """Change patient fields; quote the version read and give the reason for change."""
    changes = body.model_dump(exclude={"version", "reason"}, exclude_unset=True)
    with write_uow(request, user) as uow:
        patient_in_scope(uow, user, patient_id)
        patient = uow.patients.update(
            patient_id, expected_version=body.version, reason=body.reason, **changes
        )
        return patient_public(patient, _verdict(uow, patient.id))


@router.get(
    "/patients/{patient_id}/screening",
    summary="The screening record and its eligibility",
    responses=errors(404),
)
def get_screening(
    patient_id: RecordId, request: Request, user: Viewer, uow: SessionDep
) -> dict[str, Any]:
    """The stored screening record, its stored verdict and the eligibility assessed now."""
    patient_in_scope(uow, user, patient_id)
    screening = uow.screenings.for_patient(patient_id)
    if screening is None:
        raise NotFoundError(f"patients {patient_id} has no screening record")
    return {
        "id": screening.id,
        "version": screening.version,
        "screening_date": screening.screening_date.isoformat(),
        "record": screening.record,
        "verdict": screening.verdict,
        "eligibility": assess_screening(request.app.state.protocol, screening.record),
    }


@router.get(
    "/patients/{patient_id}/history",
    summary="The patient history (engine input)",
    responses=errors(404),
)
def get_history(
    patient_id: RecordId, request: Request, user: Viewer, uow: SessionDep
) -> dict[str, Any]:
    """The patient as a history document (``docs/formats.md``); patient_id is the study code."""
    patient_in_scope(uow, user, patient_id)
    return export_patient_history(uow, patient_id)


@router.get(
    "/patients/{patient_id}/recommendation",
    summary="The protocol's recommendation for a patient",
    responses=errors(404),
)
def get_recommendation(
    patient_id: RecordId,
    request: Request,
    user: Viewer,
    uow: SessionDep,
    on: dt.date | None = None,
) -> dict[str, Any]:
    """Action, regimen, reasons (rule, data, source), next visit, labs due, alerts (``on``
    defaults to today). Decision support: a clinician decides."""
    patient_in_scope(uow, user, patient_id)
    history = export_patient_history(uow, patient_id)
    return recommend_for(request.app.state.protocol, history, on)


@router.get(
    "/patients/{patient_id}/audit",
    response_model=list[AuditEntryPublic],
    summary="Audit history of a patient record",
    responses=errors(404),
)
def get_patient_audit(
    patient: ScopedPatient, user: Auditor, uow: SessionDep
) -> list[AuditEntryPublic]:
    """Changes of the patient record and its screening record."""
    rows = audit_entries(uow, "patients", patient.id)
    screening = uow.screenings.for_patient(patient.id)
    if screening is not None:
        rows += audit_entries(uow, "screenings", screening.id)
    return sorted(rows, key=lambda r: r.id)


# ----------------------------------------------------------------------------- events, AEs, doses


@router.get(
    "/patients/{patient_id}/adverse-events",
    response_model=list[AdverseEventPublic],
    summary="Adverse events of a patient",
    responses=errors(404),
)
def list_adverse_events(
    patient: ScopedPatient, user: Viewer, uow: SessionDep
) -> list[AdverseEventPublic]:
    """Adverse events by start date."""
    return [as_public(AdverseEventPublic, ae) for ae in uow.adverse_events.for_patient(patient.id)]


@router.post(
    "/patients/{patient_id}/adverse-events",
    response_model=AdverseEventPublic,
    status_code=201,
    summary="Record an adverse event",
    responses=errors(404),
)
def post_adverse_event(
    patient_id: RecordId, body: AdverseEventCreate, request: Request, user: Editor
) -> AdverseEventPublic:
    """Record an adverse event (CTCAE grade, causality, seriousness)."""
    with write_uow(request, user) as uow:
        patient_in_scope(uow, user, patient_id)
        return as_public(
            AdverseEventPublic, uow.adverse_events.add(patient_id=patient_id, **body.model_dump())
        )


@router.get(
    "/patients/{patient_id}/doses",
    response_model=list[DosePublic],
    summary="Regimens given to a patient",
    responses=errors(404),
)
def list_doses(patient: ScopedPatient, user: Viewer, uow: SessionDep) -> list[DosePublic]:
    """The regimens in force, each from its start date."""
    return [as_public(DosePublic, d) for d in uow.doses.for_patient(patient.id)]


@router.post(
    "/patients/{patient_id}/doses",
    response_model=DosePublic,
    status_code=201,
    summary="Record a regimen change",
    responses=errors(404),
)
def post_dose(patient_id: RecordId, body: DoseCreate, request: Request, user: Editor) -> DosePublic:
    """Record the regimen given from ``start_date`` on (default today)."""
    with write_uow(request, user) as uow:
        patient_in_scope(uow, user, patient_id)
        dose = uow.doses.add(
            patient_id=patient_id,
            start_date=body.start_date or dt.date.today(),
            regimen=body.regimen,
            note=body.note,
        )
        return as_public(DosePublic, dose)


@router.get(
    "/patients/{patient_id}/events",
    response_model=list[EventPublic],
    summary="Disposition events of a patient",
    responses=errors(404),
)
def list_events(patient: ScopedPatient, user: Viewer, uow: SessionDep) -> list[EventPublic]:
    """Consent withdrawal, pregnancy, thrombosis, death, completion, ... by date (as the
    patient page lists them; the history document leaves ``completed`` out)."""
    return [as_public(EventPublic, e) for e in uow.events.for_patient(patient.id)]


@router.post(
    "/patients/{patient_id}/events",
    response_model=EventPublic,
    status_code=201,
    summary="Record a disposition event",
    responses=errors(404),
)
def post_event(
    patient_id: RecordId, body: EventCreate, request: Request, user: Editor
) -> EventPublic:
    """Record consent withdrawal, pregnancy, thrombosis, death, completion, ..."""
    with write_uow(request, user) as uow:
        patient_in_scope(uow, user, patient_id)
        event = uow.events.add(patient_id=patient_id, **body.model_dump())
        return as_public(EventPublic, event)
