"""REST API of visits: list, create, read, edit (version + reason), sign, unlock, audit history.

A visit is saved with its CLASI, SLEDAI-2K, labs (graded by CTCAE), adverse events and dose in
one unit of work. An edit quotes the version it read; a stale edit gets HTTP 409 with what
changed. A signed visit is locked (HTTP 423) until unlocked with a reason.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cletrial.web.audit_views import visit_audit_entries
from cletrial.web.clinical import (
    compose_visit_public,
    create_visit,
    patient_in_scope,
    update_visit,
    visit_in_scope,
    visit_public,
    visits_public,
)
from cletrial.web.deps import (
    Auditor,
    Editor,
    ScopedPatient,
    SessionDep,
    Signer,
    Unlocker,
    Viewer,
    write_uow,
)
from cletrial.web.routes._common import RecordId, errors, json_response
from cletrial.web.schemas_clinical import (
    AuditEntryPublic,
    SignRequest,
    UnlockRequest,
    VisitCreate,
    VisitPublic,
    VisitUpdate,
)
from cletrial.web.signatures import sign_visit

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["visits"])


@router.get(
    "/patients/{patient_id}/visits",
    response_model=list[VisitPublic],
    summary="Visits of a patient",
    responses=errors(404),
)
def list_visits(patient: ScopedPatient, user: Viewer, uow: SessionDep) -> list[VisitPublic]:
    """Every visit of the patient, by date, with forms and labs."""
    return visits_public(uow, uow.visits.for_patient(patient.id))


@router.post(
    "/patients/{patient_id}/visits",
    response_model=VisitPublic,
    status_code=201,
    summary="Record a visit",
    responses=errors(404, 423),
)
def post_visit(patient_id: RecordId, body: VisitCreate, request: Request, user: Editor) -> Response:
    """Record a visit with its CLASI, SLEDAI-2K, labs, adverse events and dose."""
    with write_uow(request, user) as uow:
        patient = patient_in_scope(uow, user, patient_id)
        saved = create_visit(uow, patient, body)
    # Built from the records as written (nothing read back) and serialised here, once: the
    # answer is a VisitPublic, as documented, without FastAPI validating it a second time.
    return json_response(compose_visit_public(saved), status_code=201)


@router.get(
    "/visits/{visit_id}", response_model=VisitPublic, summary="A visit", responses=errors(404)
)
def get_visit(visit_id: RecordId, user: Viewer, uow: SessionDep) -> VisitPublic:
    """The visit with its forms, labs and signature."""
    visit, _ = visit_in_scope(uow, user, visit_id)
    return visit_public(uow, visit)


@router.patch(
    "/visits/{visit_id}",
    response_model=VisitPublic,
    summary="Edit a visit (version and reason required)",
    responses=errors(404, 409, 423),
)
def patch_visit(
    visit_id: RecordId, body: VisitUpdate, request: Request, user: Editor
) -> VisitPublic:
    """Change a visit, its forms or labs. Quote the version read; give the reason for change."""
    with write_uow(request, user) as uow:
        visit, _ = visit_in_scope(uow, user, visit_id)
        updated = update_visit(uow, visit, body)
        return visit_public(uow, updated)


@router.post(
    "/visits/{visit_id}/sign",
    response_model=VisitPublic,
    summary="Sign a visit (password re-entry)",
    responses=errors(404, 409, 423, 429),
)
def post_sign(visit_id: RecordId, body: SignRequest, request: Request, user: Signer) -> VisitPublic:
    """Electronic signature by the investigator: printed name, time and meaning are recorded;
    the visit and its forms are locked. A wrong password is refused (403) and nothing changes."""
    return sign_visit(request, user, visit_id, body)


@router.post(
    "/visits/{visit_id}/unlock",
    response_model=VisitPublic,
    summary="Unlock a signed visit (reason required)",
    responses=errors(404, 409),
)
def post_unlock(
    visit_id: RecordId, body: UnlockRequest, request: Request, user: Unlocker
) -> VisitPublic:
    """Unlock a signed visit so it can be corrected; the reason is in the audit trail."""
    with write_uow(request, user) as uow:
        visit_in_scope(uow, user, visit_id)
        unlocked = uow.visits.unlock(visit_id, expected_version=body.version, reason=body.reason)
        return visit_public(uow, unlocked)


@router.get(
    "/visits/{visit_id}/audit",
    response_model=list[AuditEntryPublic],
    summary="Audit history of a visit and its forms and labs",
    responses=errors(404),
)
def get_visit_audit(visit_id: RecordId, user: Auditor, uow: SessionDep) -> list[AuditEntryPublic]:
    """Who changed what, when, why, from what to what: the visit, its CLASI, SLEDAI-2K, labs
    (also those removed since, with the reason)."""
    visit, _ = visit_in_scope(uow, user, visit_id)
    return visit_audit_entries(uow, visit.id)
