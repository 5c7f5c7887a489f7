"""REST API of a patient's recorded adverse events and doses, one by one: edit with a reason,
remove one entered in error with a reason, and each record's audit history (also once removed).

* ``PATCH /api/adverse-events/{event_id}``, ``PATCH /api/doses/{dose_id}``: the version read, the
  reason and the fields that change (a stale version is 409 naming what changed).
* ``DELETE /api/adverse-events/{event_id}``, ``DELETE /api/doses/{dose_id}``: a JSON body
  ``{"version", "reason"}`` (both required); 204 when removed. The store keeps the whole record
  and the reason in the audit trail.
* ``GET /api/adverse-events/{event_id}/audit``, ``GET /api/doses/{dose_id}/audit``: the record's
  audit rows, also of a removed record (found by its DELETE row).

Listing and recording them is in :mod:`cletrial.web.routes.patients_api`. These routes and the
pages (:mod:`cletrial.web.routes.events_pages`) call the same functions
(:mod:`cletrial.web.events`), so access is the pages': a record of another site's patient is
refused (403, logged without identifiers), an unknown id is 404, and only roles that may edit
change or remove a record.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cletrial.web.accounts import WebUser
from cletrial.web.deps import Auditor, Editor, SessionDep, write_uow
from cletrial.web.events import (
    ADVERSE_EVENT,
    DOSE,
    RecordKind,
    as_public,
    record_audit,
    record_in_scope,
    remove_record,
    update_record,
)
from cletrial.web.routes._common import RecordId, errors
from cletrial.web.schemas_clinical import (
    AdverseEventPublic,
    AdverseEventUpdate,
    AuditEntryPublic,
    DosePublic,
    DoseUpdate,
    RemoveRequest,
)

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["patients"])


def _route(request: Request) -> str:
    """The route template, logged when access is refused (never the concrete path)."""
    return str(request.scope["route"].path)


def _update(
    request: Request, user: WebUser, kind: RecordKind, record_id: int,
    body: AdverseEventUpdate | DoseUpdate,
) -> Any:  # fmt: skip
    changes = body.model_dump(exclude={"version", "reason"}, exclude_unset=True)
    with write_uow(request, user) as uow:
        patient, record = record_in_scope(uow, user, kind, record_id, _route(request))
        return update_record(uow, kind, patient, record, version=body.version,
                             reason=body.reason, changes=changes)  # fmt: skip


def _remove(
    request: Request, user: WebUser, kind: RecordKind, record_id: int, body: RemoveRequest
) -> Response:
    with write_uow(request, user) as uow:
        patient, _record = record_in_scope(uow, user, kind, record_id, _route(request))
        remove_record(uow, kind, patient, record_id, version=body.version, reason=body.reason)
    return Response(status_code=204)


def _audit(
    request: Request, user: WebUser, uow: SessionDep, kind: RecordKind, record_id: int
) -> list[AuditEntryPublic]:
    return record_audit(uow, user, kind, record_id, _route(request)).rows


_REMOVED: dict[int | str, dict[str, Any]] = {
    204: {"description": "Removed; the record and the reason stay in the audit trail."}
}


# ----------------------------------------------------------------------------- adverse events


@router.patch(
    "/adverse-events/{event_id}",
    response_model=AdverseEventPublic,
    summary="Edit an adverse event (version and reason required)",
    responses=errors(404, 409),
)
def patch_adverse_event(
    event_id: RecordId, body: AdverseEventUpdate, request: Request, user: Editor
) -> AdverseEventPublic:
    """Change an adverse event (e.g. its end date or grade)."""
    return as_public(AdverseEventPublic, _update(request, user, ADVERSE_EVENT, event_id, body))


@router.delete(
    "/adverse-events/{event_id}",
    status_code=204,
    response_class=Response,
    summary="Remove an adverse event recorded in error (version and reason required)",
    responses={**_REMOVED, **errors(404, 409)},
)
def delete_adverse_event(
    event_id: RecordId, body: RemoveRequest, request: Request, user: Editor
) -> Response:
    """Remove an adverse event entered in error; its audit history keeps it with the reason."""
    return _remove(request, user, ADVERSE_EVENT, event_id, body)


@router.get(
    "/adverse-events/{event_id}/audit",
    response_model=list[AuditEntryPublic],
    summary="Audit history of an adverse event (also once removed)",
    responses=errors(404),
)
def get_adverse_event_audit(
    event_id: RecordId, request: Request, user: Auditor, uow: SessionDep
) -> list[AuditEntryPublic]:
    """Who recorded, changed or removed the adverse event, when, why, from what to what."""
    return _audit(request, user, uow, ADVERSE_EVENT, event_id)


# ----------------------------------------------------------------------------- doses


@router.patch(
    "/doses/{dose_id}",
    response_model=DosePublic,
    summary="Edit a dose (version and reason required)",
    responses=errors(404, 409),
)
def patch_dose(dose_id: RecordId, body: DoseUpdate, request: Request, user: Editor) -> DosePublic:
    """Change a dose's start date, regimen (a step of the study protocol's dose ladder, or
    ``off``) or note. Moving the patient's first dose moves their first dose date too."""
    return as_public(DosePublic, _update(request, user, DOSE, dose_id, body))


@router.delete(
    "/doses/{dose_id}",
    status_code=204,
    response_class=Response,
    summary="Remove a dose recorded in error (version and reason required)",
    responses={**_REMOVED, **errors(404, 409)},
)
def delete_dose(dose_id: RecordId, body: RemoveRequest, request: Request, user: Editor) -> Response:
    """Remove a dose entered in error; its audit history keeps it with the reason."""
    return _remove(request, user, DOSE, dose_id, body)


@router.get(
    "/doses/{dose_id}/audit",
    response_model=list[AuditEntryPublic],
    summary="Audit history of a dose (also once removed)",
    responses=errors(404),
)
def get_dose_audit(
    dose_id: RecordId, request: Request, user: Auditor, uow: SessionDep
) -> list[AuditEntryPublic]:
    """Who recorded, changed or removed the dose, when, why, from what to what."""
    return _audit(request, user, uow, DOSE, dose_id)
