"""REST API of randomisation: randomise an eligible patient, read a patient's treatment code.

* ``POST /api/patients/{patient_id}/randomise``: investigators only (CSRF as every unsafe
  request of a cookie session). The body gives the patient's stratum values (``site`` may be
  left out: it is the patient's site code), the ``environment`` of the list (``production``
  by default) and a reason. The store takes the next free slot of the patient's stratum
  atomically and audits it (:func:`cletrial.store.randomisation.randomise_patient`); the
  answer names the treatment (kit) code, never the arm. A refusal (not eligible, consent
  withdrawn, already randomised, a bad stratum value, no slot left) is a 422 naming the field
  and the value.
* ``GET /api/patients/{patient_id}/randomisation``: the patient's treatment code (any role of
  the patient's site; 404 when not randomised). No role gets the arm here.

>>> RandomiseRequest.model_validate({"strata": {"subtype": "DLE"}}).environment
'production'
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from cletrial.store.randomisation import RandomisationRecord, randomisation_of, randomise_patient
from cletrial.web.clinical import patient_in_scope
from cletrial.web.deps import Randomiser, SessionDep, Viewer, write_uow
from cletrial.web.routes._common import RecordId, errors
from cletrial.web.schemas import Note
from cletrial.web.schemas import Request as RequestBody

__all__ = ["RandomisationPublic", "RandomiseRequest", "router"]

router = APIRouter(prefix="/api", tags=["randomisation"])

StratumValue = Annotated[str, Field(min_length=1, max_length=40)]


class RandomiseRequest(RequestBody):
    """Randomise a patient: their level of each stratification factor, the list, the reason."""

    strata: Annotated[dict[StratumValue, StratumValue], Field(max_length=20, default_factory=dict)]
    environment: Literal["test", "production"] = "production"
    reason: Note | None = None


class RandomisationPublic(BaseModel):
    """A patient's randomisation as a blinded role sees it: the treatment code, no arm."""

    patient_id: int
    code: str
    stratum: str
    randomised_by: str
    randomised_at: dt.datetime
    reason: str | None


def _public(record: RandomisationRecord) -> RandomisationPublic:
    return RandomisationPublic(
        patient_id=record.patient_id,
        code=record.code,
        stratum=record.stratum,
        randomised_by=record.randomised_by,
        randomised_at=record.randomised_at,
        reason=record.reason,
    )


@router.post(
    "/patients/{patient_id}/randomise",
    response_model=RandomisationPublic,
    status_code=201,
    summary="Randomise an eligible patient (the treatment code, never the arm)",
    responses=errors(404),
)
def post_randomise(
    patient_id: RecordId, body: RandomiseRequest, request: Request, user: Randomiser
) -> RandomisationPublic:
    """Take the next free slot of the patient's stratum (atomic, audited) and return its
    treatment code."""
    with write_uow(request, user, reason=body.reason) as uow:
        patient_in_scope(uow, user, patient_id)
        record = randomise_patient(
            uow, patient_id, body.strata, environment=body.environment, reason=body.reason
        )
        return _public(record)


@router.get(
    "/patients/{patient_id}/randomisation",
    response_model=RandomisationPublic,
    summary="A patient's treatment code",
    responses=errors(404),
)
def get_randomisation(patient_id: RecordId, user: Viewer, uow: SessionDep) -> RandomisationPublic:
    """The patient's randomisation: the treatment code, the stratum, who and when."""
    patient_in_scope(uow, user, patient_id)
    return _public(randomisation_of(uow, patient_id))
