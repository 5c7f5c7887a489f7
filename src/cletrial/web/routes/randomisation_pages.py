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
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from cletrial.endpoints.course import course_from_history
from cletrial.endpoints.trial import TrialEndpointRules, compute_trial_endpoints
from cletrial.errors import CletrialError, InputError, NotFoundError
from cletrial.store.history_export import export_patient_history
from cletrial.store.randomisation import active_list, list_strata, randomisation_of
from cletrial.store.randomisation import randomise_patient as store_randomise
from cletrial.web.clinical import patient_in_scope
from cletrial.web.deps import FormItems, Randomiser, SessionDep, Viewer, write_uow
from cletrial.web.routes._common import RecordId
from cletrial.web.routes.randomisation_api import RandomiseRequest

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


def _render(request: Request, context: dict[str, Any], status: int = 200) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, "trial.html", context, status_code=status
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
