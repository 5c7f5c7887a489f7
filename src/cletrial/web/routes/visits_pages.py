"""Pages of visits: entry with the CLASI grid and live scores, view, edit with a reason, live
preview (scores, lab grades, the recommendation if saved), sign-off, unlock and audit history.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from cletrial.errors import (
    CletrialError,
    ConfirmationRequiredError,
    ConflictError,
    InputError,
    LockedRecordError,
)
from cletrial.instruments import CLASI_REGIONS, SLEDAI_WEIGHTS, grade_lab
from cletrial.store import export_patient_history
from cletrial.store.vocab import (
    AE_CAUSALITY,
    AE_OUTCOMES,
    LAB_CTCAE_TERMS,
    LAB_UNITS,
    SERIOUS_CRITERIA,
)
from cletrial.web.audit_views import visit_audit_entries
from cletrial.web.clinical import (
    create_visit,
    labs_of_visit,
    patient_in_scope,
    study_today,
    update_visit,
    visit_in_scope,
    visit_public,
)
from cletrial.web.decisions import recommend_for
from cletrial.web.deps import (
    Auditor,
    Editor,
    FormItems,
    SessionDep,
    Signer,
    Unlocker,
    Viewer,
    write_uow,
)
from cletrial.web.forms import (
    AE_ROWS,
    CLASI_ONCE_ITEMS,
    LAB_FORM_TESTS,
    parse_visit_form,
    preview_trial_scores,
    region_items,
    visit_form_values,
)
from cletrial.web.handlers import SignatureRefusedError
from cletrial.web.lock_banner import lock_refusal
from cletrial.web.monitoring_views import sdv_audit_entries, visit_annotations
from cletrial.web.regimens import regimen_choices
from cletrial.web.routes._common import RecordId, parse_id, parse_optional_id
from cletrial.web.schemas_clinical import SignRequest, VisitCreate, VisitUpdate
from cletrial.web.scores import score_clasi_form, score_sledai_form
from cletrial.web.signatures import sign_visit

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, context, status_code=status
    )
    return response


def _field_of(exc: InputError, body: dict[str, Any] | None = None) -> str:
    """Map a store or instrument error's field path to the form field name."""
    field = exc.field
    lab = re.fullmatch(r"labs\[(\d+)\]\.(\w+)", field)
    labs = (body or {}).get("labs") or []
    if lab is not None and int(lab.group(1)) < len(labs):
        return f"lab.{labs[int(lab.group(1))]['test']}.{lab.group(2)}"
    for prefix in ("visits.", "labs.", "adverse_events.", "doses."):
        if field.startswith(prefix):
            field = field[len(prefix) :]
    if field.startswith("regions."):
        return "clasi." + field[len("regions.") :]
    if field in ("mucous_membrane_lesions", "recent_hair_loss", "nonscarring_alopecia",
                 "scarring_alopecia"):  # fmt: skip
        return "clasi." + field
    return field


#: A cell of the CLASI grid or a SLEDAI-2K descriptor: its error is shown on the cell, and the
#: live panel shows the section's summary instead.
_CELL = re.compile(r"(clasi\.[a-z_]+(\.[a-z_]+)?|sledai\.[a-z_]+)")


def _section_errors(errors: dict[str, str], section: str) -> bool:
    return any(name.startswith(f"{section}.") or name == f"{section}_assessed" for name in errors)


def _store_errors(exc: InputError, body: dict[str, Any]) -> dict[str, str]:
    """The store's refusal shown on its field (and the confirmation box of an improbable lab)."""
    if exc.field == "visits.(patient_id, visit_date)":
        day = body.get("visit_date")
        return {"visit_date": f"this patient already has a visit on {day}: open that visit to "
                              "change it, or choose another date"}  # fmt: skip
    field = _field_of(exc, body)
    errors = {field: exc.problem}
    if isinstance(exc, ConfirmationRequiredError) and field.endswith(".value"):
        errors[field.removesuffix(".value") + ".confirmed"] = "tick to confirm this value is right"
    return errors


def _preview(
    request: Request, uow: SessionDep, patient_id: RecordId, body: dict[str, Any],
    errors: dict[str, str], replace_visit: Any = None,
) -> dict[str, Any]:  # fmt: skip
    preview: dict[str, Any] = {"errors": dict(errors), "clasi": None, "sledai": None,
                               "grades": [], "reco": None, "baseline_activity": None,
                               "reco_missing": "complete the visit date"}  # fmt: skip
    preview["summary"] = {name: problem for name, problem in errors.items()
                          if not _CELL.fullmatch(name)}  # fmt: skip
    try:
        if body.get("clasi") is not None and not _section_errors(errors, "clasi"):
            preview["clasi"] = score_clasi_form(body["clasi"])
        if body.get("sledai") is not None and not _section_errors(errors, "sledai"):
            preview["sledai"] = score_sledai_form(body["sledai"])
    except InputError as exc:
        preview["errors"][_field_of(exc)] = preview["summary"][_field_of(exc)] = exc.problem
    preview.update(preview_trial_scores(body, errors))
    for lab in body.get("labs", []):
        term = LAB_CTCAE_TERMS.get(lab["test"])
        if term is None:
            continue
        try:
            grade = grade_lab(term, lab["value"], lab["unit"], lln=lab.get("lln"))
        except InputError as exc:
            preview["errors"][f"lab.{lab['test']}.{exc.field}"] = exc.problem
            continue
        preview["grades"].append({"test": lab["test"], **grade.as_dict()})
    history = export_patient_history(uow, patient_id)
    baseline = history.get("baseline", {}).get("clasi")
    if baseline is not None:
        try:
            preview["baseline_activity"] = score_clasi_form(baseline).activity
        except InputError:
            preview["baseline_activity"] = baseline.get("activity")
    if body.get("visit_date") is None or preview["errors"]:
        preview["reco_missing"] = "correct the form first" if preview["errors"] else (
            "enter the visit date")  # fmt: skip
        return preview
    draft = _draft_history(history, body, replace_visit)
    try:
        preview["reco"] = recommend_for(request.app.state.protocol, draft, body["visit_date"])
    except CletrialError as exc:
        preview["reco_missing"] = str(exc)
    return preview


def _draft_history(history: dict[str, Any], body: dict[str, Any], replace: Any) -> dict[str, Any]:
    """The stored history with the visit being entered (replacing the stored one if edited)."""
    day = body["visit_date"].isoformat()
    draft = dict(history)
    entry: dict[str, Any] = {"date": day}
    for key in ("clasi", "sledai", "medications", "cla_iga", "skindex"):
        if body.get(key) is not None:
            entry[key] = body[key]
    old_day = replace.visit_date.isoformat() if replace is not None else None
    kept = [a for a in history.get("assessments", []) if a["date"] not in (day, old_day)]
    if body.get("kind") == "baseline":
        draft["baseline"] = entry
    else:
        if draft.get("baseline", {}).get("date") in (day, old_day):
            draft.pop("baseline", None)
        kept.append(entry)
    draft["assessments"] = sorted(kept, key=lambda a: a["date"])
    labs = [lab for lab in history.get("labs", []) if lab["date"] != day]
    for lab in body.get("labs", []):
        labs.append({"date": day, **{k: v for k, v in lab.items() if k != "sample_date"}})
    draft["labs"] = sorted(labs, key=lambda lab: (lab["date"], lab["test"]))
    if body.get("dose"):
        start = (body["dose"].get("start_date") or body["visit_date"]).isoformat()
        doses = [d for d in history.get("doses", []) if d["date"] != start]
        doses.append({"date": start, "regimen": body["dose"]["regimen"]})
        draft["doses"] = sorted(doses, key=lambda d: d["date"])
        if body.get("kind") == "baseline" and "first_dose_date" not in draft:
            draft["first_dose_date"] = start
    for ae in body.get("adverse_events", []):
        if ae.get("start_date") and ae.get("grade"):
            draft.setdefault("adverse_events", []).append(
                {"term": ae["term"], "start": ae["start_date"].isoformat(), "grade": ae["grade"],
                 "end": ae["end_date"].isoformat() if ae.get("end_date") else None}
            )  # fmt: skip
    return draft


def _form_context(
    request: Request, patient: Any, visit: Any, values: dict[str, Any], errors: dict[str, str],
    preview: dict[str, Any], conflict: dict[str, Any] | None = None, locked: str = "",
) -> dict[str, Any]:  # fmt: skip
    base = f"/visits/{visit.id}" if visit else f"/patients/{patient.id}/visits"
    return {
        "patient": patient, "visit": visit, "values": values, "errors": errors,
        "preview": preview, "conflict": conflict, "locked": locked,
        "action": f"{base}/edit" if visit else f"{base}/new",
        "preview_url": f"{base}/preview",
        "regions": CLASI_REGIONS, "region_items": region_items, "once_items": CLASI_ONCE_ITEMS,
        "sledai_weights": SLEDAI_WEIGHTS, "lab_tests": LAB_FORM_TESTS, "lab_units": LAB_UNITS,
        "ae_rows": max(AE_ROWS, _ae_rows(values)), "causalities": AE_CAUSALITY,
        "serious_criteria": SERIOUS_CRITERIA, "ae_outcomes": AE_OUTCOMES,
        "regimens": regimen_choices(request.app.state.protocol.get()),
    }  # fmt: skip


def _ae_rows(values: dict[str, Any]) -> int:
    rows = {k.split(".")[0] for k in values if k.startswith("ae-")}
    return len(rows)


@router.get("/patients/{patient_id}/visits/new", response_class=HTMLResponse)
def new_visit(patient_id: RecordId, request: Request, user: Editor, uow: SessionDep) -> Response:
    """The visit entry form."""
    patient = patient_in_scope(uow, user, patient_id)
    has_baseline = any(v.kind == "baseline" for v in uow.visits.for_patient(patient_id))
    values: dict[str, Any] = {
        "visit_date": study_today(uow, patient_id).isoformat(),
        "kind": "scheduled" if has_baseline else "baseline",
    }  # a new form assesses nothing until ticked, and every cell starts blank
    body, errors = parse_visit_form(values, study_today(uow, patient_id))
    preview = _preview(request, uow, patient_id, body, errors)
    return _render(request, "visit_form.html",
                   _form_context(request, patient, None, values, {}, preview))  # fmt: skip


@router.post("/patients/{patient_id}/visits/preview", response_class=HTMLResponse)
def preview_new_visit(
    patient_id: RecordId, request: Request, user: Editor, uow: SessionDep, form: FormItems
) -> Response:
    """The live preview fragment of a visit being entered."""
    patient_in_scope(uow, user, patient_id)
    body, errors = parse_visit_form(dict(form), study_today(uow, patient_id))
    preview = _preview(request, uow, patient_id, body, errors)
    return _render(request, "partials/visit_preview.html", {"preview": preview})


@router.post("/patients/{patient_id}/visits/new", response_class=HTMLResponse)
def save_new_visit(
    patient_id: RecordId, request: Request, user: Editor, uow: SessionDep, form: FormItems
) -> Response:
    """Save a new visit, or show the form again with the errors next to their fields."""
    patient = patient_in_scope(uow, user, patient_id)
    values: dict[str, Any] = dict(form)
    body, errors = parse_visit_form(values, study_today(uow, patient_id))
    if not errors:
        try:
            payload = VisitCreate.model_validate(body)
            with write_uow(request, user) as wuow:
                saved = create_visit(wuow, patient, payload)
            return RedirectResponse(f"/visits/{saved.visit.id}?saved=1", status_code=303)
        except ValidationError as exc:
            errors = _pydantic_errors(exc)
        except InputError as exc:
            errors = _store_errors(exc, body)
        except LockedRecordError as exc:
            return _refused(request, uow, patient, None, values, body, exc)
    preview = _preview(request, uow, patient_id, body, errors)
    return _render(request, "visit_form.html",
                   _form_context(request, patient, None, values, errors, preview), 422)  # fmt: skip


def _refused(
    request: Request, uow: SessionDep, patient: Any, visit: Any, values: dict[str, Any],
    body: dict[str, Any], exc: LockedRecordError,
) -> Response:  # fmt: skip
    """The form again, with the lock's refusal at its top (HTTP 423): nothing was saved."""
    banner = request.app.state.lock_banner
    banner.forget()
    preview = _preview(request, uow, patient.id, body, {}, replace_visit=visit)
    context = _form_context(request, patient, visit, values, {}, preview,
                            locked=lock_refusal(banner.state(), str(exc)))  # fmt: skip
    return _render(request, "visit_form.html", context, 423)


def _pydantic_errors(exc: ValidationError) -> dict[str, str]:
    out = {}
    for item in exc.errors():
        loc = ".".join(str(p) for p in item["loc"])
        out[loc or "form"] = str(item["msg"])
    return out


def _view_context(
    request: Request, uow: SessionDep, visit: Any, patient: Any, **extra: Any
) -> dict[str, Any]:
    """What the visit's page shows: its forms, labs, the dose and adverse events recorded at
    it, and their active queries and verification marks."""
    public = visit_public(uow, visit)
    doses = [d for d in uow.doses.for_patient(patient.id) if d.visit_id == visit.id]
    events = [a for a in uow.adverse_events.for_patient(patient.id) if a.visit_id == visit.id]
    records = {"visits": [visit.id], "labs": [lab.id for lab in public.labs],
               "clasi_assessments": [public.clasi.id] if public.clasi else [],
               "sledai_assessments": [public.sledai.id] if public.sledai else [],
               "skindex_assessments": [public.skindex.id] if public.skindex else [],
               "doses": [d.id for d in doses],
               "adverse_events": [a.id for a in events]}  # fmt: skip
    protocol = None
    with contextlib.suppress(CletrialError):
        protocol = request.app.state.protocol.get()
    return {
        "patient": patient, "visit": public, "saved": False, "raised": 0, "verified": False,
        "regions": CLASI_REGIONS, "region_items": region_items,
        "sledai_weights": SLEDAI_WEIGHTS, "doses": doses, "adverse_events": events,
        "regimen_labels": dict(regimen_choices(protocol)),
        "notes": visit_annotations(uow, patient, visit.id, records), **extra,
    }  # fmt: skip


@router.get("/visits/{visit_id}", response_class=HTMLResponse)
def show_visit(
    visit_id: RecordId, request: Request, user: Viewer, uow: SessionDep, saved: int = 0,
    raised: int = 0, verified: int = 0,
) -> Response:  # fmt: skip
    """A visit: forms, labs with grades, signature; sign, unlock, edit and audit actions; the
    flags of active queries, the verification marks, and (monitors) the controls that raise a
    query on a value and mark a form verified."""
    visit, patient = visit_in_scope(uow, user, visit_id)
    return _render(
        request,
        "visit_view.html",
        _view_context(
            request, uow, visit, patient, saved=bool(saved), raised=raised, verified=bool(verified)
        ),
    )


def _edit_values(uow: SessionDep, visit: Any) -> dict[str, Any]:
    labs = labs_of_visit(uow, visit.id)
    return visit_form_values(visit, uow.clasi.for_visit(visit.id), uow.sledai.for_visit(visit.id),
                             labs, uow.skindex.for_visit(visit.id))  # fmt: skip


@router.get("/visits/{visit_id}/edit", response_class=HTMLResponse)
def edit_visit(visit_id: RecordId, request: Request, user: Editor, uow: SessionDep) -> Response:
    """The edit form of an open (unsigned) visit; a signed visit must be unlocked first."""
    visit, patient = visit_in_scope(uow, user, visit_id)
    if visit.locked:
        raise LockedRecordError(
            f"the visit of {visit.visit_date} is signed: unlock it with a reason before editing"
        )
    values = _edit_values(uow, visit)
    body, errors = parse_visit_form(values, study_today(uow, patient.id))
    preview = _preview(request, uow, patient.id, body, errors, replace_visit=visit)
    return _render(request, "visit_form.html",
                   _form_context(request, patient, visit, values, {}, preview))  # fmt: skip


@router.post("/visits/{visit_id}/preview", response_class=HTMLResponse)
def preview_edit(
    visit_id: RecordId, request: Request, user: Editor, uow: SessionDep, form: FormItems
) -> Response:
    """The live preview fragment of a visit being edited."""
    visit, patient = visit_in_scope(uow, user, visit_id)
    body, errors = parse_visit_form(dict(form), study_today(uow, patient.id))
    preview = _preview(request, uow, patient.id, body, errors, replace_visit=visit)
    return _render(request, "partials/visit_preview.html", {"preview": preview})


def _update_body(body: dict[str, Any], values: dict[str, Any]) -> VisitUpdate:
    def version(name: str) -> int | None:
        return parse_optional_id(name, values.get(name))

    payload: dict[str, Any] = {
        "version": parse_id("version", values.get("version")),
        "reason": str(values.get("reason", "")).strip(),
        **{k: body.get(k) for k in ("visit_date", "kind", "label", "medications", "notes",
                                    "cla_iga")},
        "labs": body["labs"],
        "lab_versions": {
            test: v for test in LAB_FORM_TESTS if (v := version(f"lab.{test}.version"))
        },
    }  # fmt: skip
    for name in ("clasi", "sledai", "skindex"):
        stored_version = version(f"{name}_version")
        if body.get(name) is not None:
            payload.update({name: body[name], f"{name}_version": stored_version})
        elif stored_version is not None:  # "assessed" unticked on a saved form: remove it
            payload.update({f"remove_{name}": True, f"{name}_version": stored_version})
    given = {lab["test"] for lab in body["labs"]}
    payload["remove_labs"] = [test for test in payload["lab_versions"] if test not in given]
    return VisitUpdate.model_validate(payload)


@router.post("/visits/{visit_id}/edit", response_class=HTMLResponse)
def save_edit(
    visit_id: RecordId, request: Request, user: Editor, uow: SessionDep, form: FormItems
) -> Response:
    """Save an edit (reason required); a stale edit shows what changed (HTTP 409)."""
    visit, patient = visit_in_scope(uow, user, visit_id)
    values: dict[str, Any] = dict(form)
    body, errors = parse_visit_form(values, study_today(uow, patient.id))
    if not str(values.get("reason", "")).strip():
        errors["reason"] = "give the reason for changing this saved visit"
    status, conflict = 422, None
    if not errors:
        try:
            payload = _update_body(body, values)
            with write_uow(request, user) as wuow:
                update_visit(wuow, visit, payload)
            return RedirectResponse(f"/visits/{visit_id}?saved=1", status_code=303)
        except ValidationError as exc:
            errors = _pydantic_errors(exc)
        except ConflictError as exc:
            status = 409
            conflict = {"message": str(exc), "changed": exc.changed}
        except InputError as exc:
            errors = _store_errors(exc, body)
        except LockedRecordError as exc:
            return _refused(request, uow, patient, visit, values, body, exc)
    preview = _preview(request, uow, patient.id, body, errors, replace_visit=visit)
    context = _form_context(request, patient, visit, values, errors, preview, conflict)
    return _render(request, "visit_form.html", context, status)


@router.get("/visits/{visit_id}/sign", response_class=HTMLResponse)
def sign_form(visit_id: RecordId, request: Request, user: Signer, uow: SessionDep) -> Response:
    """The electronic signature form: meaning, password re-entry."""
    visit, patient = visit_in_scope(uow, user, visit_id)
    return _render(request, "sign.html", {"visit": visit, "patient": patient, "error": "",
                                          "now": dt.datetime.now(dt.UTC)})  # fmt: skip


@router.post("/visits/{visit_id}/sign", response_class=HTMLResponse)
def sign_submit(
    visit_id: RecordId, request: Request, user: Signer, uow: SessionDep, form: FormItems
) -> Response:
    """Sign the visit (password re-entered); a wrong password is shown next to the field."""
    visit, patient = visit_in_scope(uow, user, visit_id)
    values: dict[str, Any] = dict(form)
    error = ""
    try:
        body = SignRequest.model_validate({
            "version": parse_id("version", values.get("version")),
            "password": values.get("password", ""),
            **({"meaning": values["meaning"]} if values.get("meaning") else {}),
        })  # fmt: skip
        sign_visit(request, user, visit_id, body)
        return RedirectResponse(f"/visits/{visit_id}?saved=1", status_code=303)
    except ValidationError:
        error = "enter your password and choose the meaning of the signature"
    except SignatureRefusedError as exc:
        error = str(exc)
    except (LockedRecordError, ConflictError) as exc:
        error = str(exc)
    return _render(request, "sign.html", {"visit": visit, "patient": patient, "error": error,
                                          "now": dt.datetime.now(dt.UTC)}, 403)  # fmt: skip


@router.post("/visits/{visit_id}/unlock", response_class=HTMLResponse)
def unlock_submit(
    visit_id: RecordId, request: Request, user: Unlocker, uow: SessionDep, form: FormItems
) -> Response:
    """Unlock a signed visit with a reason (required)."""
    visit, patient = visit_in_scope(uow, user, visit_id)
    values: dict[str, Any] = dict(form)
    version = parse_id("version", values.get("version"))
    reason = str(values.get("reason", "")).strip()
    if not reason:
        return _render(
            request,
            "visit_view.html",
            _view_context(
                request,
                uow,
                visit,
                patient,
                unlock_error="give the reason for unlocking this signed visit",
            ),
            422,
        )
    with write_uow(request, user) as wuow:
        wuow.visits.unlock(visit_id, expected_version=version, reason=reason)
    return RedirectResponse(f"/visits/{visit_id}?saved=1", status_code=303)


@router.get("/visits/{visit_id}/audit", response_class=HTMLResponse)
def visit_audit(visit_id: RecordId, request: Request, user: Auditor, uow: SessionDep) -> Response:
    """The audit history of the visit, its forms and labs."""
    visit, patient = visit_in_scope(uow, user, visit_id)
    rows = visit_audit_entries(uow, visit.id)
    shown = {(r.table_name, r.record_id) for r in rows}
    rows = sorted(rows + sdv_audit_entries(uow, patient.id, shown), key=lambda r: r.id)
    return _render(request, "audit.html", {"patient": patient, "visit": visit, "rows": rows,
                                           "title": f"visit of {visit.visit_date}"})  # fmt: skip
