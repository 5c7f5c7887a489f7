"""Pages of enrolment and disposition: record a pregnancy test, an immunology panel result, a
nerve conduction study or a concomitant medication, record the end of treatment or of study,
override the enrolment gate (investigators, e-signed), and list protocol deviations.

* ``GET/POST /patients/{patient_id}/pregnancy-tests/new``
* ``GET/POST /patients/{patient_id}/dispositions/new``
* ``GET/POST /patients/{patient_id}/immunology/new``, ``.../nerve-conduction/new``,
  ``.../medications/new``
* ``GET/POST /patients/{patient_id}/override``
* ``GET /deviations``

Each form is validated by the API's body model and then by the store's capture rules; an error
is shown next to its field, in words, with the value given, and nothing is saved.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from cletrial.errors import CletrialError, InputError
from cletrial.store.vocab import DISPOSITION_CDISC
from cletrial.web.clinical import patient_in_scope, study_today
from cletrial.web.deps import Editor, FormItems, SessionDep, Signer, Viewer, write_uow
from cletrial.web.routes._common import RecordId
from cletrial.web.schemas_enrolment import (
    DispositionCreate,
    ImmunologyCreate,
    MedicationCreate,
    NerveConductionCreate,
    OverrideRequest,
    PregnancyTestCreate,
)
from cletrial.web.signatures import check_signature_password

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


#: The forms: title, body model, fields as (name, label, kind, choices).
FORMS: Final[dict[str, dict[str, Any]]] = {
    "pregnancy-tests": {
        "title": "Record a pregnancy test",
        "model": PregnancyTestCreate,
        "records": "pregnancy_tests",
        "fields": (
            ("test_date", "Test date", "date", ()),
            ("result", "Result", "select", (("negative", "negative"), ("positive", "positive"))),
            ("method", "Method", "select", (("serum", "serum"), ("urine", "urine (>= 25 mIU/mL)"))),
        ),
        "note": "Label-derived (lenalidomide REMS): two negative tests before the first dose, "
                "weekly for 4 weeks, then every 4 weeks (every 2 weeks with irregular cycles).",
    },
    "dispositions": {
        "title": "Record the end of treatment or of study",
        "model": DispositionCreate,
        "records": "dispositions",
        "fields": (
            ("kind", "What ends", "select", (("end_of_treatment", "end of treatment"),
                                             ("end_of_study", "end of study"))),
            ("disposition_date", "Date", "date", ()),
            ("reason", "Reason (CDISC NCOMPLT)", "select",
             tuple((key, term.lower()) for key, term in DISPOSITION_CDISC.items())),
            ("last_dose_date", "Date of the last dose (end of treatment)", "date", ()),
            ("note", "Note", "text", ()),
        ),
        "note": "After the end of treatment no dose may start and no blood count is due; after "
                "the end of study nothing is recorded and nothing is due.",
    },
    "immunology": {
        "title": "Record an immunology panel result",
        "model": ImmunologyCreate,
        "records": "immunology",
        "fields": (
            ("sample_date", "Sample date", "date", ()),
            ("test", "Test", "select", (("ana", "ANA"), ("anti_ena", "anti-ENA"),
                                        ("antiphospholipid", "antiphospholipid antibodies"))),
            ("result", "Result", "select", (("negative", "negative"), ("positive", "positive"),
                                            ("indeterminate", "indeterminate"))),
        ),
        "note": "The baseline immunology panel (protocol section 4); anti-dsDNA, C3 and C4 are "
                "entered with the visit's laboratory values.",
    },
    "nerve-conduction": {
        "title": "Record a nerve conduction study",
        "model": NerveConductionCreate,
        "records": "nerve_conduction",
        "fields": (
            ("study_date", "Study date", "date", ()),
            ("result", "Result", "select", (("normal", "normal"), ("abnormal", "abnormal"))),
            ("note", "Note", "text", ()),
        ),
        "note": "For prior thalidomide neuropathy or new neurological symptoms.",
    },
    "medications": {
        "title": "Record a concomitant medication",
        "model": MedicationCreate,
        "records": "medications",
        "fields": (
            ("name", "Medication and dose", "text", ()),
            ("baseline", "Taken at the baseline visit", "select",
             (("true", "yes"), ("false", "no"))),
            ("start_date", "Start date (if known)", "date", ()),
            ("end_date", "End date (if stopped)", "date", ()),
            ("note", "Note", "text", ()),
        ),
        "note": "Baseline medication may not change: stopping a baseline medication, or "
                "starting another after the first dose, is recorded as a protocol deviation.",
    },
}  # fmt: skip


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, context, status_code=status
    )
    return response


def _errors(exc: ValidationError) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in exc.errors():
        name = str(item["loc"][-1]) if item["loc"] else "form"
        given = item.get("input")
        shown = f'"{given}": ' if isinstance(given, str | int | float) and given != "" else ""
        found.setdefault(name, shown + ("is required" if item["type"] == "missing" or given == ""
                                        else str(item["msg"]).lower()))  # fmt: skip
    return found


def _store_error(exc: InputError) -> dict[str, str]:
    name = exc.field.rsplit(".", 1)[-1] if exc.field else "form"
    return {name: f'"{exc.value}": {exc.problem}' if exc.value not in (None, "") else exc.problem}


def _validated(model: type[BaseModel], values: dict[str, Any]) -> BaseModel:
    return model.model_validate({k: v for k, v in values.items() if v not in ("", None)})


@router.get("/patients/{patient_id}/{form}/new", response_class=HTMLResponse)
def record_form(
    patient_id: RecordId, form: str, request: Request, user: Editor, uow: SessionDep
) -> Response:
    """An empty form (dates default to nothing: the date must be typed)."""
    if form not in FORMS:
        return _render(request, "error.html", {"status": 404, "message": "no such form"}, 404)
    patient = patient_in_scope(uow, user, patient_id)
    return _render(request, "enrolment_form.html", {
        "patient": patient, "form": form, "spec": FORMS[form], "values": {}, "errors": {},
        "today": study_today(uow, patient_id),
    })  # fmt: skip


@router.post("/patients/{patient_id}/{form}/new", response_class=HTMLResponse)
def record_submit(
    patient_id: RecordId, form: str, request: Request, user: Editor, uow: SessionDep,
    items: FormItems,
) -> Response:  # fmt: skip
    """Save the form, or show it again with each error next to its field (HTTP 422)."""
    if form not in FORMS:
        return _render(request, "error.html", {"status": 404, "message": "no such form"}, 404)
    patient = patient_in_scope(uow, user, patient_id)
    values = {k: str(v).strip() for k, v in dict(items).items() if k != "csrf_token"}
    errors: dict[str, str] = {}
    try:
        body = _validated(FORMS[form]["model"], values)
        with write_uow(request, user) as wuow:
            records = getattr(wuow, FORMS[form]["records"])
            records.add(patient_id=patient_id, **body.model_dump())
        return RedirectResponse(f"/patients/{patient_id}?saved=1", status_code=303)
    except ValidationError as exc:
        errors = _errors(exc)
    except InputError as exc:
        errors = _store_error(exc)
    return _render(request, "enrolment_form.html", {
        "patient": patient, "form": form, "spec": FORMS[form], "values": values,
        "errors": errors, "today": study_today(uow, patient_id),
    }, 422)  # fmt: skip


@router.get("/patients/{patient_id}/override", response_class=HTMLResponse)
def override_form(
    patient_id: RecordId, request: Request, user: Signer, uow: SessionDep
) -> Response:
    """The override of the enrolment gate: the verdict, its reasons, the e-signature."""
    patient = patient_in_scope(uow, user, patient_id)
    return _render(request, "override.html", _override_context(uow, patient, {}, {}))


def _override_context(
    uow: SessionDep, patient: Any, values: dict[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    return {"patient": patient, "screening": uow.screenings.for_patient(patient.id),
            "override": uow.overrides.for_patient(patient.id), "values": values,
            "errors": errors, "now": dt.datetime.now(dt.UTC)}  # fmt: skip


@router.post("/patients/{patient_id}/override", response_class=HTMLResponse)
def override_submit(
    patient_id: RecordId, request: Request, user: Signer, uow: SessionDep, items: FormItems
) -> Response:
    """Record the override (reason and password required), or show the errors (HTTP 422)."""
    patient = patient_in_scope(uow, user, patient_id)
    values = {k: str(v) for k, v in dict(items).items() if k != "csrf_token"}
    errors: dict[str, str] = {}
    try:
        body = OverrideRequest.model_validate(
            {"reason": values.get("reason", "").strip(), "password": values.get("password", "")}
        )
        check_signature_password(request, user, body.password)
        with write_uow(request, user) as wuow:
            wuow.overrides.add(patient_id=patient_id, override_date=study_today(wuow, patient_id),
                               reason=body.reason, signed_name=user.display_name)  # fmt: skip
        return RedirectResponse(f"/patients/{patient_id}?saved=1", status_code=303)
    except ValidationError as exc:
        errors = _errors(exc)
        if "reason" in errors:
            errors["reason"] = "give the reason (at least 10 characters): why treat despite it"
    except InputError as exc:
        errors = _store_error(exc)
    except CletrialError as exc:
        errors = {"password": str(exc)}
    values.pop("password", None)
    return _render(request, "override.html", _override_context(uow, patient, values, errors), 422)


@router.get("/deviations", response_class=HTMLResponse)
def deviations_page(request: Request, user: Viewer, uow: SessionDep) -> Response:
    """Every protocol deviation of the user's sites (enrolment overrides included)."""
    patients = {p.id: p for p in uow.patients.list() if p.site_id in user.site_ids}
    rows = uow.deviations.for_patients(patients)
    return _render(request, "deviations.html", {"rows": rows, "patients": patients})
