"""Pages of the study and its patients: dashboard, patient list, screening with live
eligibility, the patient page (recommendation panel, timeline, visits, labs, adverse events,
doses) and the patient's audit history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from cletrial.errors import CletrialError, InputError
from cletrial.instruments import CLASI_REGIONS, RULE_OF_NINES
from cletrial.store import export_patient_history
from cletrial.store.vocab import LAB_UNITS
from cletrial.web.accounts import WebUser
from cletrial.web.audit_views import audit_entries
from cletrial.web.clinical import create_patient, patient_in_scope, study_today
from cletrial.web.decisions import assess_screening, recommend_for
from cletrial.web.deps import Auditor, FormItems, Screener, SessionDep, Viewer, write_uow
from cletrial.web.forms_screening import (
    SCREENING_SECTIONS,
    parse_screening_form,
    screening_lab_tests,
)
from cletrial.web.monitoring import sdv_plan
from cletrial.web.monitoring_views import ACTIVE_STATUSES, field_title, form_title
from cletrial.web.regimens import regimen_choices
from cletrial.web.routes._common import RecordId
from cletrial.web.schemas_clinical import PatientCreate
from cletrial.web.timeline import build_timeline_svg, timeline_points
from cletrial.web.worklists import (
    compute_due_items,
    compute_unverified_forms,
    study_day,
    summaries_in_scope,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, context, status_code=status
    )
    return response


def _summaries(
    request: Request, uow: SessionDep, user: WebUser, today: dt.date
) -> list[dict[str, Any]]:
    """Summary lines of the user's patients (cached per patient, see cletrial.web.summaries)."""
    return summaries_in_scope(uow, user, request.app.state, today)


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, user: Viewer, uow: SessionDep) -> Response:
    """Enrolment, response status, visits and labs due or overdue, open alerts grouped by
    patient and severity (patients on study only), and the visits awaiting signature."""
    today = _study_today(request)
    rows = _summaries(request, uow, user, today)
    counts: dict[str, int] = {"screened": len(rows), "eligible": 0, "ineligible": 0,
                              "undetermined": 0, "treated": 0, "off_study": 0}  # fmt: skip
    responses: dict[str, int] = {}
    groups: list[dict[str, Any]] = []
    for row in rows:
        if row["verdict"] in counts:
            counts[row["verdict"]] += 1
        if row["patient"].first_dose_date is not None:
            counts["treated"] += 1
            key = row["best_response"] or "not yet assessed"
            responses[key] = responses.get(key, 0) + 1
        if not row["on_study"]:
            counts["off_study"] += 1
            continue  # off study: nothing is due, no alert is open
        reco = row["reco"]
        if reco is not None and reco.get("alerts"):
            groups.append(_alert_group(row["patient"], reco["alerts"]))
    due = compute_due_items(rows, today)
    groups.sort(key=lambda g: (g["rank"], g["patient"].study_code))
    to_sign = [row for row in rows if row["open_visits"]] if user.can("sign") else []
    sites = {s.id: s for s in uow.sites.list()}
    return _render(request, "dashboard.html", {
        "rows": rows, "counts": counts, "responses": responses, "due": due[:40],
        "due_total": len(due), "alert_groups": groups,
        "alert_total": sum(len(g["alerts"]) for g in groups), "today": today, "sites": sites,
        "to_sign": to_sign, "query_counts": uow.queries.counts(site_ids=sorted(user.site_ids)),
    })  # fmt: skip


#: Alert severities, most urgent first.
SEVERITY_RANK: Final = {"critical": 0, "warning": 1, "info": 2}


def _alert_group(patient: Any, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    """One patient's alerts, most severe first, with a count by severity."""
    ordered = sorted(alerts, key=lambda a: SEVERITY_RANK.get(a.get("severity", "info"), 3))
    counts: dict[str, int] = {}
    for alert in ordered:
        counts[alert.get("severity", "info")] = counts.get(alert.get("severity", "info"), 0) + 1
    rank = SEVERITY_RANK.get(ordered[0].get("severity", "info"), 3)
    return {"patient": patient, "alerts": ordered, "counts": counts, "rank": rank}


@router.get("/patients", response_class=HTMLResponse)
def patients(request: Request, user: Viewer, uow: SessionDep) -> Response:
    """The patients of the user's sites."""
    today = _study_today(request)
    rows = _summaries(request, uow, user, today)
    sites = {s.id: s for s in uow.sites.list()}
    return _render(request, "patients.html", {"rows": rows, "sites": sites})


#: Notices of the patient page after a change (``?saved=1`` and so on).
NOTICES = {
    "saved": "Saved.",
    "unchanged": "Nothing was changed, so nothing was saved.",
    "removed": "Removed. The record and the reason are kept in the audit history.",
    "verified": "Marked verified against the source.",
}


def _protocol(request: Request) -> Any:
    """The loaded protocol, or ``None`` when its definition does not load (the recommendation
    panel then says why)."""
    try:
        return request.app.state.protocol.get()
    except CletrialError:
        return None


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(
    patient_id: RecordId, request: Request, user: Viewer, uow: SessionDep,
    saved: int = 0, unchanged: int = 0, removed: int = 0, raised: int = 0, verified: int = 0,
) -> Response:  # fmt: skip
    """The patient: recommendation with reasons, timeline, visits, labs, AEs, doses (with
    edit and audit history links for each adverse event and dose)."""
    patient = patient_in_scope(uow, user, patient_id)
    history = export_patient_history(uow, patient_id)
    reco, missing = None, ""
    try:
        reco = recommend_for(request.app.state.protocol, history, study_today(uow, patient_id))
    except CletrialError as exc:
        missing = str(exc)
    protocol = _protocol(request)
    flags = {"saved": saved, "unchanged": unchanged, "removed": removed, "verified": verified}
    queries = uow.queries.listing(patient_id=patient_id, statuses=ACTIVE_STATUSES)
    unverified = compute_unverified_forms(uow, sdv_plan(request), patient_ids=[patient_id]) \
        if user.can("verify") else []  # fmt: skip
    return _render(request, "patient.html", {
        "patient": patient, "site": uow.sites.get(patient.site_id), "reco": reco,
        "notice": next((NOTICES[k] for k, on in flags.items() if on), ""),
        "regimen_labels": dict(regimen_choices(protocol)),
        "reco_missing": missing, "timeline": build_timeline_svg(history, reco, protocol),
        "points": timeline_points(history), "visits": uow.visits.for_patient(patient_id),
        "labs": uow.labs.for_patient(patient_id), "doses": uow.doses.for_patient(patient_id),
        "adverse_events": uow.adverse_events.for_patient(patient_id),
        "events": uow.events.for_patient(patient_id),
        "screening": uow.screenings.for_patient(patient_id),
        "override": uow.overrides.for_patient(patient_id),
        "pregnancy_tests": uow.pregnancy_tests.for_patient(patient_id),
        "dispositions": uow.dispositions.for_patient(patient_id),
        "immunology": uow.immunology.for_patient(patient_id),
        "nerve_conduction": uow.nerve_conduction.for_patient(patient_id),
        "medications": uow.medications.for_patient(patient_id),
        "queries": queries, "raised": raised, "unverified": unverified,
        "form_title": form_title, "field_title": field_title,
    })  # fmt: skip


@router.get("/patients/{patient_id}/audit", response_class=HTMLResponse)
def patient_audit(
    patient_id: RecordId, request: Request, user: Auditor, uow: SessionDep
) -> Response:
    """Audit history of the patient record and its screening record."""
    patient = patient_in_scope(uow, user, patient_id)
    rows = audit_entries(uow, "patients", patient_id)
    screening = uow.screenings.for_patient(patient_id)
    if screening is not None:
        rows += audit_entries(uow, "screenings", screening.id)
    rows.sort(key=lambda r: r.id)
    return _render(request, "audit.html", {"patient": patient, "visit": None, "rows": rows,
                                           "title": "patient and screening records"})  # fmt: skip


def _screening_context(
    request: Request, uow: SessionDep, user: WebUser, values: dict[str, Any],
    errors: dict[str, str], eligibility: dict[str, Any] | None, problem: str = "",
) -> dict[str, Any]:  # fmt: skip
    sites = [s for s in uow.sites.list() if s.id in user.site_ids]
    return {
        "values": values, "errors": errors, "eligibility": eligibility, "problem": problem,
        "sections": SCREENING_SECTIONS, "regions": CLASI_REGIONS, "areas": list(RULE_OF_NINES),
        "lab_tests": screening_lab_tests(), "lab_units": LAB_UNITS,
        "site_options": [(str(s.id), f"{s.code} — {s.name}") for s in sites],
    }  # fmt: skip


def _study_today(request: Request) -> dt.date:
    """Today in the time zone of the study the application serves (UTC when not set)."""
    return study_day(request.app.state)


def _assess(request: Request, values: dict[str, Any]) -> tuple[Any, dict[str, str], str]:
    record, _patient, errors = parse_screening_form(values, _study_today(request))
    if "screening_date" not in record:
        return None, errors, "enter the screening date"
    try:
        return assess_screening(request.app.state.protocol, record), errors, ""
    except InputError as exc:
        return None, {**errors, exc.field or "form": exc.problem}, str(exc)


@router.get("/screening/new", response_class=HTMLResponse)
def screening_form(request: Request, user: Screener, uow: SessionDep) -> Response:
    """The screening form with live eligibility."""
    values = {"screening_date": _study_today(request).isoformat()}
    if len(user.site_ids) == 1:
        values["site_id"] = str(next(iter(user.site_ids)))
    eligibility, _errors, problem = _assess(request, values)
    return _render(
        request,
        "screening.html",
        _screening_context(request, uow, user, values, {}, eligibility, problem),
    )


@router.post("/screening/preview", response_class=HTMLResponse)
def screening_preview(request: Request, user: Screener, form: FormItems) -> Response:
    """The live eligibility fragment."""
    eligibility, errors, problem = _assess(request, dict(form))
    return _render(
        request,
        "partials/eligibility.html",
        {"eligibility": eligibility, "problem": problem, "errors": errors},
    )


@router.post("/screening/new", response_class=HTMLResponse)
def screening_submit(
    request: Request, user: Screener, uow: SessionDep, form: FormItems
) -> Response:
    """Save the screened patient (any verdict is recorded), then show the patient."""
    values: dict[str, Any] = dict(form)
    record, patient_fields, errors = parse_screening_form(values, _study_today(request))
    eligibility, more, problem = _assess(request, values)
    errors.update(more)
    if not errors and eligibility is not None:
        try:
            body = PatientCreate.model_validate({**patient_fields, "screening": record})
            with write_uow(request, user) as wuow:
                patient = create_patient(wuow, user, body, eligibility["verdict"])
            return RedirectResponse(f"/patients/{patient.id}?screened=1", status_code=303)
        except ValidationError as exc:
            errors = {".".join(map(str, e["loc"])): str(e["msg"]) for e in exc.errors()}
        except InputError as exc:
            name = exc.field.removeprefix("patients.").removeprefix("(")
            errors = {("study_code" if "study_code" in name else name or "form"): exc.problem}
    context = _screening_context(request, uow, user, values, errors, eligibility, problem)
    return _render(request, "screening.html", context, 422)
