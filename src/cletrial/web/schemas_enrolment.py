"""Request and response bodies of the enrolment and disposition API: pregnancy tests, end of
treatment and end of study (CDISC NCOMPLT reasons), and the investigator's override of the
enrolment gate (e-signed).

>>> DispositionCreate.model_validate({"kind": "end_of_treatment", "disposition_date":
...     "2009-06-01", "reason": "withdrawal_by_subject"}).reason
'withdrawal_by_subject'
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field

from cletrial.vocabulary.types import (
    DispositionKind,
    DispositionReason,
    ImmunologyResult,
    ImmunologyTest,
    NerveConductionResult,
    PregnancyMethod,
    PregnancyResult,
)
from cletrial.web.schemas import Request
from cletrial.web.schemas_clinical import Note

__all__ = [
    "DeviationPublic",
    "DispositionCreate",
    "DispositionPublic",
    "ImmunologyCreate",
    "ImmunologyPublic",
    "MedicationCreate",
    "MedicationPublic",
    "NerveConductionCreate",
    "NerveConductionPublic",
    "OverridePublic",
    "OverrideRequest",
    "PregnancyTestCreate",
    "PregnancyTestPublic",
]


class PregnancyTestCreate(Request):
    """A pregnancy test of a female patient: date (not after today), result, method."""

    test_date: dt.date
    result: PregnancyResult
    method: PregnancyMethod | None = None
    visit_id: int | None = Field(default=None, ge=1, le=2_147_483_647)


class PregnancyTestPublic(BaseModel):
    """A stored pregnancy test."""

    id: int
    version: int
    patient_id: int
    test_date: dt.date
    result: str
    method: str | None
    visit_id: int | None


class DispositionCreate(Request):
    """End of treatment (with the last dose date) or end of study, with its reason."""

    kind: DispositionKind
    disposition_date: dt.date
    reason: DispositionReason
    last_dose_date: dt.date | None = None
    note: Note | None = None


class DispositionPublic(BaseModel):
    """A stored disposition."""

    id: int
    version: int
    patient_id: int
    kind: str
    disposition_date: dt.date
    reason: str
    last_dose_date: dt.date | None
    note: str | None


class OverrideRequest(Request):
    """Treat a patient whose screening is not eligible: the reason and the investigator's
    password, re-entered (the electronic signature)."""

    reason: Annotated[str, Field(min_length=10, max_length=2000)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    override_date: dt.date | None = None


class OverridePublic(BaseModel):
    """A stored override: the verdict overridden, the reason and the signature."""

    id: int
    version: int
    patient_id: int
    override_date: dt.date
    verdict: str
    reason: str
    signed_by: str
    signed_name: str
    signed_at: dt.datetime


class DeviationPublic(BaseModel):
    """A protocol deviation (e.g. ``enrolment_override``, a change of baseline medication)."""

    id: int
    version: int
    patient_id: int
    visit_id: int | None
    deviation_date: dt.date
    category: str
    description: str


class ImmunologyCreate(Request):
    """A qualitative test of the baseline immunology panel."""

    sample_date: dt.date
    test: ImmunologyTest
    result: ImmunologyResult
    visit_id: int | None = Field(default=None, ge=1, le=2_147_483_647)


class ImmunologyPublic(BaseModel):
    """A stored immunology result."""

    id: int
    version: int
    patient_id: int
    visit_id: int | None
    sample_date: dt.date
    test: str
    result: str


class NerveConductionCreate(Request):
    """A nerve conduction study: normal or abnormal, with a note."""

    study_date: dt.date
    result: NerveConductionResult
    note: Note | None = None
    visit_id: int | None = Field(default=None, ge=1, le=2_147_483_647)


class NerveConductionPublic(BaseModel):
    """A stored nerve conduction study."""

    id: int
    version: int
    patient_id: int
    visit_id: int | None
    study_date: dt.date
    result: str
    note: str | None


class MedicationCreate(Request):
    """A concomitant medication with its dates (``baseline``: taken at the baseline visit)."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    baseline: bool
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    note: Note | None = None


class MedicationPublic(BaseModel):
    """A stored concomitant medication."""

    id: int
    version: int
    patient_id: int
    name: str
    start_date: dt.date | None
    end_date: dt.date | None
    baseline: bool
    note: str | None
