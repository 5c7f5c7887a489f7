"""REST API of enrolment and disposition: pregnancy tests, end of treatment and end of study,
the investigator's e-signed override of the enrolment gate, and the study's protocol deviations.

* ``GET/POST /api/patients/{patient_id}/pregnancy-tests``: female patients only; not dated
  after today or before screening.
* ``GET/POST /api/patients/{patient_id}/dispositions``: ``end_of_treatment`` (with the last
  dose date) and ``end_of_study``, each with a CDISC NCOMPLT reason. After the end of
  treatment no dose may start; after the end of study nothing is recorded and nothing is due.
* ``POST /api/patients/{patient_id}/enrolment-override``: investigators only; the reason and
  the re-entered password (the e-signature). It is recorded as a protocol deviation.
* ``GET/POST /api/patients/{patient_id}/immunology`` (ANA, anti-ENA, antiphospholipid
  antibodies), ``.../nerve-conduction``, ``.../medications`` (concomitant medication with
  dates; a change of baseline medication records a deviation).
* ``GET /api/deviations``: every protocol deviation of the user's sites (overrides included).

The store enforces every rule (:mod:`cletrial.store.capture_rules`), so the pages and the
import refuse the same things, with the same messages.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from cletrial.web.clinical import patient_in_scope, study_today
from cletrial.web.deps import Editor, SessionDep, Signer, Viewer, write_uow
from cletrial.web.events import as_public
from cletrial.web.routes._common import RecordId, errors
from cletrial.web.schemas_enrolment import (
    DeviationPublic,
    DispositionCreate,
    DispositionPublic,
    ImmunologyCreate,
    ImmunologyPublic,
    MedicationCreate,
    MedicationPublic,
    NerveConductionCreate,
    NerveConductionPublic,
    OverridePublic,
    OverrideRequest,
    PregnancyTestCreate,
    PregnancyTestPublic,
)
from cletrial.web.signatures import check_signature_password

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["enrolment"])


@router.post("/patients/{patient_id}/enrolment-override", response_model=OverridePublic,
             status_code=201, summary="Override the enrolment gate (e-signed)",
             responses=errors(404, 429))  # fmt: skip
def post_override(
    patient_id: RecordId, body: OverrideRequest, request: Request, user: Signer
) -> OverridePublic:
    """Let a patient whose screening is ineligible or undetermined be dosed: the investigator's
    reason and password (e-signature); recorded as a protocol deviation and listed."""
    check_signature_password(request, user, body.password)
    with write_uow(request, user) as uow:
        patient_in_scope(uow, user, patient_id)
        override = uow.overrides.add(
            patient_id=patient_id,
            override_date=body.override_date or study_today(uow, patient_id),
            reason=body.reason, signed_name=user.display_name,
        )  # fmt: skip
        return as_public(OverridePublic, override)


def _records(kind: str, create: type[Any], public: type[Any], what: str) -> None:
    """List and record one kind of patient record (``uow.<kind>``) under
    ``/api/patients/{patient_id}/<path>``."""
    path = "/patients/{patient_id}/" + kind.replace("_", "-")

    def listing(patient_id: RecordId, user: Viewer, uow: SessionDep) -> list[Any]:
        patient_in_scope(uow, user, patient_id)
        return [as_public(public, r) for r in getattr(uow, kind).for_patient(patient_id)]

    def record(patient_id: RecordId, body: Any, request: Request, user: Editor) -> Any:
        with write_uow(request, user) as uow:
            patient_in_scope(uow, user, patient_id)
            stored = getattr(uow, kind).add(patient_id=patient_id, **body.model_dump())
            return as_public(public, stored)

    listing.__doc__ = f"{what} of the patient, by date."
    record.__doc__ = f"Record {what.lower()} (the store's capture rules apply)."
    record.__annotations__["body"] = create  # the body model of this kind, for FastAPI
    listed: Any = list[public]  # type: ignore[valid-type]
    router.get(path, response_model=listed, summary=f"{what} of a patient",
               responses=errors(404), name=f"list_{kind}")(listing)  # fmt: skip
    router.post(path, response_model=public, status_code=201, summary=f"Record {what.lower()}",
                responses=errors(404), name=f"post_{kind}")(record)  # fmt: skip


_records(
    "pregnancy_tests",
    PregnancyTestCreate,
    PregnancyTestPublic,
    "Pregnancy tests (female patients; label-derived schedule)",
)
_records("dispositions", DispositionCreate, DispositionPublic, "End of treatment and end of study")
_records("immunology", ImmunologyCreate, ImmunologyPublic, "Immunology panel results")
_records(
    "nerve_conduction", NerveConductionCreate, NerveConductionPublic, "Nerve conduction studies"
)
_records("medications", MedicationCreate, MedicationPublic, "Concomitant medications")


@router.get("/deviations", response_model=list[DeviationPublic],
            summary="Protocol deviations of the user's sites", responses=errors())  # fmt: skip
def list_deviations(user: Viewer, uow: SessionDep) -> list[DeviationPublic]:
    """Every protocol deviation of the patients of the user's sites, by patient and date."""
    ids = [p.id for p in uow.patients.list() if p.site_id in user.site_ids]
    return [as_public(DeviationPublic, d) for d in uow.deviations.for_patients(ids)]
