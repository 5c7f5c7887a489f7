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
* ``POST /api/patients/{patient_id}/unblind``: emergency unblinding by an investigator of the
  patient's site, e-signed (the password re-entered) with a reason of at least 10 characters;
  recorded and audited (:func:`cletrial.store.unblinding.unblind_patient`). This answer is the
  one place a site user is shown the arm. A wrong password is a 403 and records nothing.
* ``GET /api/unblindings``: every unblinding of the user's sites (who, role, signed name, when,
  why; never the arm), for monitors and every role that reads the audit trail.
* ``GET /api/randomisation/balance`` and ``GET /api/randomisation/listing`` (``environment``
  ``production`` by default, or ``test``): for each study of the user's sites, the list's
  slots and patients randomised by stratum, and the allocation audit listing (patient, site,
  stratum, slot, treatment code, who, when, why, the audit rows), restricted to the user's
  sites and blinded for every role: the arms are in the e-signed statistician's page and
  ``cletrial randomisation balance --unblinded``.

>>> RandomiseRequest.model_validate({"strata": {"subtype": "DLE"}}).environment
'production'
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from cletrial.store.randomisation import RandomisationRecord, randomisation_of, randomise_patient
from cletrial.store.unblinding import UnblindingRecord, unblind_patient, unblindings_of
from cletrial.web.clinical import patient_in_scope
from cletrial.web.deps import Auditor, Randomiser, SessionDep, Unblinder, Viewer, write_uow
from cletrial.web.randomisation_views import randomisation_reports
from cletrial.web.routes._common import RecordId, errors
from cletrial.web.schemas import Request as RequestBody
from cletrial.web.schemas_clinical import Note
from cletrial.web.signatures import check_signature_password

__all__ = [
    "BalancePublic",
    "ListingPublic",
    "RandomisationPublic",
    "RandomiseRequest",
    "UnblindRequest",
    "UnblindedPublic",
    "UnblindingPublic",
    "router",
]

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


class UnblindRequest(RequestBody):
    """Unblind a patient in an emergency: why, and the investigator's password, re-entered."""

    reason: Annotated[str, Field(min_length=10, max_length=2000)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class UnblindingPublic(BaseModel):
    """An unblinding as monitors see it: who, when, why; never the arm."""

    id: int
    patient_id: int
    study_code: str
    unblinded_by: str
    role: str
    signed_name: str
    unblinded_at: dt.datetime
    reason: str


class UnblindedPublic(UnblindingPublic):
    """The answer to the one who unblinds: the unblinding and the patient's arm."""

    arm: str


def unblinding_public(record: UnblindingRecord, study_code: str) -> UnblindingPublic:
    """The listing line of an unblinding (no arm)."""
    return UnblindingPublic(
        id=record.id, patient_id=record.patient_id, study_code=study_code,
        unblinded_by=record.unblinded_by, role=record.role, signed_name=record.signed_name,
        unblinded_at=record.unblinded_at, reason=record.reason,
    )  # fmt: skip


@router.post(
    "/patients/{patient_id}/unblind",
    response_model=UnblindedPublic,
    status_code=201,
    summary="Unblind a patient in an emergency (e-signed; the arm, to this user only)",
    responses=errors(404),
)
def post_unblind(
    patient_id: RecordId, body: UnblindRequest, request: Request, user: Unblinder
) -> UnblindedPublic:
    """Check the re-entered password, record the unblinding (audited) and return the arm."""
    check_signature_password(request, user, body.password)
    with write_uow(request, user, reason=body.reason) as uow:
        patient = patient_in_scope(uow, user, patient_id)
        record, arm = unblind_patient(
            uow, patient_id, role=user.role, signed_name=user.display_name, reason=body.reason
        )
        line = unblinding_public(record, patient.study_code)
    return UnblindedPublic(**line.model_dump(), arm=arm)


@router.get(
    "/unblindings",
    response_model=list[UnblindingPublic],
    summary="Unblindings at the user's sites (never the arm)",
    responses=errors(),
)
def get_unblindings(user: Auditor, uow: SessionDep) -> list[UnblindingPublic]:
    """Every emergency unblinding of the user's sites' patients, oldest first."""
    patients = {p.id: p for p in uow.patients.list() if p.site_id in user.site_ids}
    return [unblinding_public(u, patients[u.patient_id].study_code)
            for u in unblindings_of(uow, list(patients))]  # fmt: skip


Environment = Literal["test", "production"]


class BalancePublic(BaseModel):
    """A stratum of a study's list: its slots and the patients randomised (no arm)."""

    study_code: str
    environment: str
    stratum: str
    slots: int
    randomised: int


class ListingPublic(BaseModel):
    """A randomisation in the allocation audit listing (no arm)."""

    study_code: str
    environment: str
    patient: str
    site: str
    stratum: str
    sequence: int
    code: str
    randomised_by: str
    randomised_at: dt.datetime
    reason: str | None
    audit_rows: list[int]


@router.get(
    "/randomisation/balance",
    response_model=list[BalancePublic],
    summary="Balance of the allocation lists by stratum at the user's sites (no arm)",
    responses=errors(),
)
def get_balance(
    user: Auditor, uow: SessionDep, environment: Environment = "production"
) -> list[BalancePublic]:
    """Slots and patients randomised by stratum, for each study with a list."""
    reports = randomisation_reports(
        uow, user.site_ids, environment=environment, role="blinded", listing=False
    )
    return [
        BalancePublic(
            study_code=r.study_code,
            environment=environment,
            stratum=x.stratum,
            slots=x.slots,
            randomised=x.allocated,
        )
        for r in reports
        for x in r.balance
    ]


@router.get(
    "/randomisation/listing",
    response_model=list[ListingPublic],
    summary="Allocation audit listing of the user's sites (no arm)",
    responses=errors(),
)
def get_listing(
    user: Auditor, uow: SessionDep, environment: Environment = "production"
) -> list[ListingPublic]:
    """Every randomisation at the user's sites, in the order made, with its audit rows."""
    reports = randomisation_reports(uow, user.site_ids, environment=environment, role="blinded")
    return [
        ListingPublic(
            study_code=r.study_code,
            environment=environment,
            patient=x.study_code,
            site=x.site_code,
            stratum=x.stratum,
            sequence=x.sequence,
            code=x.code,
            randomised_by=x.randomised_by,
            randomised_at=x.randomised_at,
            reason=x.reason,
            audit_rows=list(x.audit_ids),
        )
        for r in reports
        for x in r.listing
    ]
