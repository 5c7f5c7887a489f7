"""Pages of a randomised trial for a site: randomise a patient, see the treatment code and the
trial endpoints at the named week.

* ``GET /patients/{patient_id}/trial``: the patient's randomisation (treatment code, stratum,
  who and when; never the arm) or, for an investigator while the patient is not randomised, the
  form that randomises them from the study's production list; and the trial endpoints at
  week 16 (CLASI-A at baseline and at the week, percent change, CLASI-50 and CLASI-70, CLA-IGA
  success), each missing value shown as missing with its reason
  (:func:`cletrial.endpoints.trial.compute_trial_endpoints`).
* ``POST /patients/{patient_id}/randomise``: the form (investigators; CSRF). The store takes
  the next free slot atomically and audits it
  (:func:`cletrial.store.randomisation.randomise_patient`); a refusal is shown next to its field
  with the value given (HTTP 422) and nothing is saved.
* ``POST /patients/{patient_id}/unblind``: emergency unblinding (investigators; a reason and the
  password re-entered). The answer, and only it, shows the arm; the unblinding is recorded,
  audited and listed on the page (without the arm) for every role of the site.
* ``GET /unblindings``: every unblinding of the user's sites (who, when, why; no arm), for
  monitors and every role that reads the audit trail.
* ``GET /randomisation``: the reports of each study of the user's sites — balance of the list
  by stratum (slots, patients randomised) and the allocation audit listing (patient, stratum,
  slot, treatment code, who, when, why, audit rows) — for the user's sites, blinded.
  ``?environment=test`` shows the test list.
* ``POST /randomisation``: the same reports **by arm**, for an unblinded role (statistician)
  who re-enters their password; the answer, and only it, shows the arms. Any other role is
  refused (HTTP 403) and a wrong password is shown next to its field (HTTP 422).
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from cletrial.endpoints.course import course_from_history
from cletrial.endpoints.trial import TrialEndpointRules, compute_trial_endpoints
from cletrial.errors import AccessDeniedError, CletrialError, InputError, NotFoundError
from cletrial.store.history_export import export_patient_history
from cletrial.store.randomisation import (
    UNBLINDED_ROLES,
    active_list,
    list_strata,
    randomisation_of,
)
from cletrial.store.randomisation import randomise_patient as store_randomise
from cletrial.store.unblinding import unblind_patient, unblindings_of
from cletrial.web.clinical import patient_in_scope
from cletrial.web.deps import (
    Auditor,
    FormItems,
    Randomiser,
    SessionDep,
    Unblinder,
    Viewer,
    write_uow,
)
from cletrial.web.randomisation_views import randomisation_reports
from cletrial.web.routes._common import RecordId
from cletrial.web.routes.randomisation_api import RandomiseRequest, UnblindRequest
from cletrial.web.signatures import check_signature_password

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

#: The week of the endpoints shown (the default of :class:`TrialEndpointRules`).
ENDPOINT_RULES: Final = TrialEndpointRules()

#: Why an endpoint is missing, in words (the notes of :func:`compute_trial_endpoints`).
MISSING_NOTES: Final = {
    "baseline_missing": "no baseline CLASI-A",
    "baseline_zero": "baseline CLASI-A is 0: a reduction is undetermined",
    "visit_missing": "no visit with CLASI in the window",
    "visit_missing_nri": "no visit in the window (counted as a non-responder)",
}


def _render(
    request: Request, context: dict[str, Any], status: int = 200, name: str = "trial.html"
) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, context, status_code=status
    )
    return response


def _context(uow: Any, user: Any, patient: Any) -> dict[str, Any]:
    """The patient's randomisation, the strata to ask for, and the trial endpoints."""
    try:
        randomised = randomisation_of(uow, patient.id)
    except NotFoundError:
        randomised = None
    strata: tuple[tuple[str, tuple[str, ...]], ...] = ()
    no_list = ""
    if randomised is None and user.can("randomise"):
        try:
            strata = list_strata(active_list(uow, patient.study_id, "production"))
        except InputError as exc:
            no_list = str(exc)
    course = course_from_history(export_patient_history(uow, patient.id))
    return {
        "patient": patient, "randomised": randomised, "no_list": no_list,
        "strata": [(name, [(level, level) for level in levels])
                   for name, levels in strata if name != "site"],
        "endpoints": compute_trial_endpoints(course, ENDPOINT_RULES), "rules": ENDPOINT_RULES,
        "missing_notes": MISSING_NOTES, "values": {}, "errors": {}, "notice": "",
        "unblindings": unblindings_of(uow, [patient.id]), "unblinded_arm": None,
        "unblind_errors": {},
    }  # fmt: skip


@router.get("/patients/{patient_id}/trial", response_class=HTMLResponse)
def trial_page(
    patient_id: RecordId, request: Request, user: Viewer, uow: SessionDep, randomised: int = 0
) -> Response:
    """The patient's treatment code (or the randomisation form) and trial endpoints."""
    patient = patient_in_scope(uow, user, patient_id)
    context = _context(uow, user, patient)
    context["notice"] = "Randomised." if randomised and context["randomised"] else ""
    return _render(request, context)


@router.post("/patients/{patient_id}/randomise", response_class=HTMLResponse)
def randomise_submit(
    patient_id: RecordId, request: Request, user: Randomiser, uow: SessionDep, items: FormItems
) -> Response:
    """Randomise the patient from the form, or show the refusal (HTTP 422)."""
    patient = patient_in_scope(uow, user, patient_id)
    values = {k: str(v) for k, v in dict(items).items() if k != "csrf_token"}
    strata = {k.removeprefix("stratum."): v for k, v in values.items()
              if k.startswith("stratum.") and v}  # fmt: skip
    errors: dict[str, str] = {}
    try:
        body = RandomiseRequest.model_validate(
            {"strata": strata, "reason": values.get("reason", "").strip() or None}
        )
        with write_uow(request, user, reason=body.reason) as wuow:
            store_randomise(wuow, patient_id, body.strata, environment="production",
                            reason=body.reason)  # fmt: skip
        return RedirectResponse(f"/patients/{patient_id}/trial?randomised=1", status_code=303)
    except ValidationError as exc:
        for problem in exc.errors():
            where = [str(part) for part in problem["loc"]]
            field = "stratum." + where[1] if where[:1] == ["strata"] and len(where) > 1 else (
                where[0] if where else "form")  # fmt: skip
            errors[field] = str(problem["msg"])
    except InputError as exc:
        errors[_form_field(exc.field)] = str(exc)
    except CletrialError as exc:
        errors["form"] = str(exc)
    context = _context(uow, user, patient)
    context.update(values=values, errors=errors)
    return _render(request, context, 422)


def _form_field(field: str) -> str:
    """The form field of a store refusal (``strata.subtype`` -> ``stratum.subtype``)."""
    if field.startswith("strata."):
        return "stratum." + field.removeprefix("strata.")
    return field if field in ("reason",) else "form"


@router.post("/patients/{patient_id}/unblind", response_class=HTMLResponse)
def unblind_submit(
    patient_id: RecordId, request: Request, user: Unblinder, uow: SessionDep, items: FormItems
) -> Response:
    """Unblind the patient (reason and password), showing the arm in this answer only; or the
    refusal next to its field (HTTP 422), nothing recorded."""
    patient = patient_in_scope(uow, user, patient_id)
    reason = str(dict(items).get("reason", "")).strip()
    errors: dict[str, str] = {}
    arm = None
    try:
        body = UnblindRequest.model_validate(
            {"reason": reason, "password": str(dict(items).get("password", ""))}
        )
        check_signature_password(request, user, body.password)
        with write_uow(request, user, reason=body.reason) as wuow:
            signed = {"role": user.role, "signed_name": user.display_name}
            _record, arm = unblind_patient(wuow, patient_id, reason=body.reason, **signed)
    except ValidationError as exc:
        for problem in exc.errors():
            field = str(problem["loc"][0]) if problem["loc"] else "form"
            errors["u-" + field] = (
                "give the reason (at least 10 characters): why the treatment must be known"
                if field == "reason" else str(problem["msg"])
            )  # fmt: skip
    except InputError as exc:
        errors["u-" + (exc.field if exc.field in ("reason",) else "form")] = str(exc)
    except CletrialError as exc:
        errors["u-password"] = str(exc)
    context = _context(uow, user, patient)
    context.update(unblinded_arm=arm, unblind_errors=errors, values={"reason": reason})
    return _render(request, context, 422 if errors else 200)


@router.get("/unblindings", response_class=HTMLResponse)
def unblindings_page(request: Request, user: Auditor, uow: SessionDep) -> Response:
    """Every emergency unblinding at the user's sites (no arm)."""
    patients = {p.id: p for p in uow.patients.list() if p.site_id in user.site_ids}
    rows = [(patients[u.patient_id], u) for u in unblindings_of(uow, list(patients))]
    return _render(request, {"rows": rows}, name="unblindings.html")


def _environment(value: str) -> str:
    return "test" if value == "test" else "production"


@router.get("/randomisation", response_class=HTMLResponse)
def randomisation_page(
    request: Request, user: Auditor, uow: SessionDep, environment: str = "production"
) -> Response:
    """Balance by stratum and the allocation audit listing of the user's sites (no arm)."""
    env = _environment(environment)
    reports = randomisation_reports(uow, user.site_ids, environment=env, role="blinded")
    context = {"reports": reports, "environment": env, "unblinded": False, "errors": {},
               "may_unblind": user.role in UNBLINDED_ROLES}  # fmt: skip
    return _render(request, context, name="randomisation.html")


@router.post("/randomisation", response_class=HTMLResponse)
def randomisation_unblinded(
    request: Request, user: Auditor, uow: SessionDep, items: FormItems
) -> Response:
    """The reports by arm, for an unblinded role who re-enters their password."""
    if user.role not in UNBLINDED_ROLES:
        raise AccessDeniedError(f"role {user.role!r} may not see the arms (the list is sealed)")
    form = dict(items)
    env = _environment(str(form.get("environment", "production")))
    errors: dict[str, str] = {}
    try:
        check_signature_password(request, user, str(form.get("password", "")))
    except CletrialError as exc:
        errors["password"] = str(exc)
    role = "blinded" if errors else user.role
    reports = randomisation_reports(uow, user.site_ids, environment=env, role=role)
    context = {"reports": reports, "environment": env, "unblinded": not errors,
               "errors": errors, "may_unblind": True}  # fmt: skip
    return _render(request, context, 422 if errors else 200, name="randomisation.html")
