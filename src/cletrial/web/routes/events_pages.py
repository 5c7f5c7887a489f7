"""Pages to correct a patient's adverse events and doses after they were first recorded: edit
with a reason (a stale edit shows what changed, HTTP 409), remove a record entered in error with
a reason, and each record's audit history (also of a removed record, found by its DELETE row).

Each kind of record is a declaration (:class:`cletrial.web.events.RecordKind`, with its edit
form in :data:`FORMS`); one set of routes serves both:

* ``GET/POST /patients/{patient_id}/adverse-events/{record_id}/edit``
* ``POST /patients/{patient_id}/adverse-events/{record_id}/remove``
* ``GET /patients/{patient_id}/adverse-events/{record_id}/audit``
* the same under ``/patients/{patient_id}/doses/{record_id}/...``

A record of another site's patient is refused like every patient page (403, logged without
identifiers); a record that is not the patient's in the URL is not found (404). Finding, changing,
removing and auditing a record are :mod:`cletrial.web.events`' functions, which the REST API
(:mod:`cletrial.web.routes.events_api`) calls too; this module adds the forms and their errors.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cletrial.errors import ConflictError, InputError, ReasonRequiredError
from cletrial.store.records import PatientRecord
from cletrial.store.unit_of_work import UnitOfWork
from cletrial.web.accounts import WebUser
from cletrial.web.deps import Auditor, Editor, FormItems, SessionDep, write_uow
from cletrial.web.events import (
    ADVERSE_EVENT,
    DOSE,
    KINDS,
    RecordKind,
    field_of,
    record_audit,
    record_in_scope,
    remove_record,
    update_record,
)
from cletrial.web.forms_events import (
    AE_HINTS,
    AE_LABELS,
    DOSE_HINTS,
    DOSE_LABELS,
    FormField,
    check_adverse_event,
    parse_record_form,
    record_fields,
    record_values,
)
from cletrial.web.regimens import regimen_choices
from cletrial.web.routes._common import RecordId, parse_id
from cletrial.web.security import Permission
from cletrial.web.templating import label

__all__ = ["FORMS", "RecordForm", "router"]

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class RecordForm:
    """The edit form of a kind of record: field labels and hints, and rules across fields."""

    labels: Mapping[str, str]
    hints: Mapping[str, str]
    check: Callable[[Mapping[str, Any], dict[str, str]], None] | None = None


#: The edit form of each kind of record, by table.
FORMS: dict[str, RecordForm] = {
    ADVERSE_EVENT.table: RecordForm(AE_LABELS, AE_HINTS, check_adverse_event),
    DOSE.table: RecordForm(DOSE_LABELS, DOSE_HINTS),
}


def _route(kind: RecordKind, action: str) -> str:
    """The route template (logged on refused access; never a concrete path)."""
    return f"/patients/{{patient_id}}/{kind.segment}/{{record_id}}/{action}"


def _fields(request: Request, kind: RecordKind, record: Any) -> tuple[FormField, ...]:
    """The edit form's fields; a dose's regimen choices come from the protocol's ladder
    (plus the stored regimen if it is not on it, so an edit never changes it silently)."""
    choices: dict[str, list[tuple[str, str]]] = {}
    if kind is DOSE:
        ladder = regimen_choices(request.app.state.protocol.get())
        stored = field_of(record, "regimen")
        if stored not in {value for value, _ in ladder}:
            ladder.append((stored, f"{label(stored)} (not on the protocol's dose ladder)"))
        choices["regimen"] = ladder
    form = FORMS[kind.table]
    return record_fields(kind.table, form.labels, form.hints, choices)


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, context, status_code=status
    )
    return response


def _scoped(
    uow: UnitOfWork, user: WebUser, kind: RecordKind, patient_id: int, record_id: int,
    action: str,
) -> tuple[PatientRecord, Any]:  # fmt: skip
    """The patient (at one of the user's sites, else 403) and its record (else 404)."""
    return record_in_scope(uow, user, kind, record_id, _route(kind, action), patient_id)


def _version(values: Mapping[str, Any]) -> int:
    """The version the form was read at (its hidden field), refused (422) when tampered."""
    return parse_id("version", values.get("version"))


def _conflict(exc: ConflictError, fields: Sequence[FormField]) -> dict[str, Any]:
    names = {f.name: f.label for f in fields}
    changed = []
    for field, value in exc.changed.items():
        try:
            shown = json.loads(value) if isinstance(value, str) else value
        except ValueError:
            shown = value
        changed.append((names.get(field, "the record" if field == "*" else field),
                        "—" if shown is None else str(shown)))  # fmt: skip
    return {"message": str(exc), "changed": changed}


def _field_of(exc: InputError, fields: Sequence[FormField]) -> str:
    """The form field a store error is about (a unique key names several: the first shown)."""
    names = [f.name for f in fields]
    field = exc.field.split(".", 1)[-1].strip("()")
    for part in (p.strip() for p in field.split(",")):
        if part in names:
            return part
    return "form"


def _first_dose_hint(kind: RecordKind, patient: PatientRecord, record: Any) -> str:
    if kind is not DOSE or patient.first_dose_date != record.start_date:
        return ""
    return ("This is the patient's first dose: the patient's first dose date follows the "
            "earliest dose when its start date changes or it is removed (with the same "
            "reason).")  # fmt: skip


def _context(
    request: Request, kind: RecordKind, patient: PatientRecord, record: Any,
    values: Mapping[str, Any], errors: Mapping[str, str] | None = None,
    conflict: dict[str, Any] | None = None, remove_errors: Mapping[str, str] | None = None,
) -> dict[str, Any]:  # fmt: skip
    return {
        "kind": kind, "patient": patient, "record": record, "values": values,
        "fields": _fields(request, kind, record), "errors": dict(errors or {}),
        "conflict": conflict, "remove_errors": dict(remove_errors or {}),
        "description": kind.describe(record), "hint": _first_dose_hint(kind, patient, record),
        "base": f"/patients/{patient.id}/{kind.segment}/{record.id}",
    }  # fmt: skip


def _edit_page(request: Request, user: WebUser, uow: UnitOfWork, kind: RecordKind,
               patient_id: int, record_id: int) -> Response:  # fmt: skip
    patient, record = _scoped(uow, user, kind, patient_id, record_id, "edit")
    values = {**record_values(_fields(request, kind, record), record), "version": record.version}
    return _render(request, "event_edit.html", _context(request, kind, patient, record, values))


def _edit_submit(request: Request, user: WebUser, uow: UnitOfWork, kind: RecordKind,
                 patient_id: int, record_id: int, form: FormItems) -> Response:  # fmt: skip
    patient, record = _scoped(uow, user, kind, patient_id, record_id, "edit")
    values: dict[str, Any] = dict(form)
    fields = _fields(request, kind, record)
    changes, errors = parse_record_form(fields, values)
    check = FORMS[kind.table].check
    if check is not None:
        check(changes, errors)
    status, conflict, version = 422, None, _version(values)
    if not errors:
        try:
            with write_uow(request, user) as wuow:
                patient, current = _scoped(wuow, user, kind, patient_id, record_id, "edit")
                reason = str(values.get("reason", ""))
                saved = update_record(wuow, kind, patient, current, version=version,
                                      reason=reason, changes=changes)  # fmt: skip
            notice = "saved" if saved.version != version else "unchanged"
            return RedirectResponse(f"/patients/{patient_id}?{notice}=1#h-{kind.segment}", 303)
        except ConflictError as exc:
            status, conflict = 409, _conflict(exc, fields)
        except ReasonRequiredError as exc:
            errors["reason"] = str(exc)
        except InputError as exc:
            errors[_field_of(exc, fields)] = exc.problem
    context = _context(request, kind, patient, record, values, errors, conflict)
    return _render(request, "event_edit.html", context, status)


def _remove_submit(request: Request, user: WebUser, uow: UnitOfWork, kind: RecordKind,
                   patient_id: int, record_id: int, form: FormItems) -> Response:  # fmt: skip
    patient, record = _scoped(uow, user, kind, patient_id, record_id, "remove")
    values: dict[str, Any] = dict(form)
    version, reason = _version(values), str(values.get("remove_reason", ""))
    conflict, remove_errors, status = None, {}, 422
    try:
        with write_uow(request, user) as wuow:
            _scoped(wuow, user, kind, patient_id, record_id, "remove")
            remove_record(wuow, kind, patient, record_id, version=version, reason=reason)
        base = f"/patients/{patient_id}/{kind.segment}/{record_id}"
        target = f"{base}/audit?removed=1" if user.can(Permission.VIEW_AUDIT) else (
            f"/patients/{patient_id}?removed=1")  # fmt: skip
        return RedirectResponse(target, 303)
    except ConflictError as exc:
        status, conflict = 409, _conflict(exc, _fields(request, kind, record))
    except ReasonRequiredError as exc:
        remove_errors["remove_reason"] = str(exc)
    shown = {**record_values(_fields(request, kind, record), record), "version": version,
             "remove_reason": reason}  # fmt: skip
    context = _context(request, kind, patient, record, shown, None, conflict, remove_errors)
    return _render(request, "event_edit.html", context, status)


def _audit_page(request: Request, user: WebUser, uow: UnitOfWork, kind: RecordKind,
                patient_id: int, record_id: int, removed: int) -> Response:  # fmt: skip
    audit = record_audit(uow, user, kind, record_id, _route(kind, "audit"), patient_id)
    state = " (removed)" if audit.removed else ""
    return _render(request, "audit.html", {
        "patient": audit.patient, "visit": None, "rows": audit.rows, "removed": bool(removed),
        "title": f"{kind.noun} {kind.describe(audit.record)}{state}",
    })  # fmt: skip


def _install(kind: RecordKind) -> None:
    """Register the edit, remove and audit routes of ``kind``."""
    edit, remove, audit = _route(kind, "edit"), _route(kind, "remove"), _route(kind, "audit")

    def edit_page(patient_id: RecordId, record_id: RecordId, request: Request, user: Editor,
                  uow: SessionDep) -> Response:  # fmt: skip
        return _edit_page(request, user, uow, kind, patient_id, record_id)

    def edit_submit(patient_id: RecordId, record_id: RecordId, request: Request, user: Editor,
                    uow: SessionDep, form: FormItems) -> Response:  # fmt: skip
        return _edit_submit(request, user, uow, kind, patient_id, record_id, form)

    def remove_submit(patient_id: RecordId, record_id: RecordId, request: Request,
                      user: Editor, uow: SessionDep, form: FormItems) -> Response:  # fmt: skip
        return _remove_submit(request, user, uow, kind, patient_id, record_id, form)

    def audit_page(patient_id: RecordId, record_id: RecordId, request: Request, user: Auditor,
                   uow: SessionDep, removed: int = 0) -> Response:  # fmt: skip
        return _audit_page(request, user, uow, kind, patient_id, record_id, removed)

    name = kind.table
    router.add_api_route(edit, edit_page, methods=["GET"], response_class=HTMLResponse,
                         name=f"edit_{name}_page")  # fmt: skip
    router.add_api_route(edit, edit_submit, methods=["POST"], response_class=HTMLResponse,
                         name=f"edit_{name}_submit")  # fmt: skip
    router.add_api_route(remove, remove_submit, methods=["POST"], response_class=HTMLResponse,
                         name=f"remove_{name}")  # fmt: skip
    router.add_api_route(audit, audit_page, methods=["GET"], response_class=HTMLResponse,
                         name=f"{name}_audit_page")  # fmt: skip


for _kind in KINDS:
    _install(_kind)
