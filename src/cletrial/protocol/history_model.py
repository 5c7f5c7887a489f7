"""The patient history as it arrives (JSON): one msgspec structure a part, with its schema.

This is the wire format of ``docs/formats.md`` (section "Patient history"); unknown keys are
errors. :mod:`cletrial.protocol.history` validates the parts msgspec cannot (scores or forms,
date order, units) and builds the :class:`~cletrial.protocol.history.PatientHistory` the engine
reads.

>>> doc = msgspec.convert({"doses": [{"date": "2009-02-02", "regimen": "5_daily"}]}, HistoryDoc)
>>> doc.doses[0].date
datetime.date(2009, 2, 2)
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

import msgspec
from msgspec import Meta, Struct, field

from cletrial.instruments import CTCAE_TERMS
from cletrial.protocol.definition_model import CTCAE_TERM_OF_TEST
from cletrial.values import TEXT_PATTERN
from cletrial.vocabulary import DISPOSITION_REASON
from cletrial.vocabulary.types import (
    Causality,
    DispositionReason,
    ImmunologyResult,
    ImmunologyTest,
    LabTest,
    NerveConductionResult,
    PregnancyResult,
    Sex,
    Verdict,
)
from cletrial.vocabulary.types import HistoryEventType as EventType

__all__ = [
    "DISPOSITION_TERMS",
    "LAB_UNITS",
    "AdverseEventDoc",
    "AssessmentDoc",
    "BaselineDoc",
    "DoseDoc",
    "EligibilityDoc",
    "EndOfStudyDoc",
    "EndOfTreatmentDoc",
    "EventDoc",
    "HistoryDoc",
    "ImmunologyDoc",
    "LabDoc",
    "MedicationDoc",
    "NerveConductionDoc",
    "OverrideDoc",
    "PregnancyTestDoc",
]

#: Test -> units accepted for it (counts and haemoglobin: the CTCAE units of the instruments).
LAB_UNITS: Final[dict[str, frozenset[str]]] = {
    **{test: frozenset(CTCAE_TERMS[term].units) for test, term in CTCAE_TERM_OF_TEST.items()},
    "anti_dsdna": frozenset({"IU/mL", "IU/ml"}),
    "c3": frozenset({"mg/dL", "g/L"}),
    "c4": frozenset({"mg/dL", "g/L"}),
}

if TYPE_CHECKING:
    LabUnit = str
else:  # every unit of any test: decoded to one shared string object each (fast lookups)
    LabUnit = Literal[tuple(sorted(set().union(*LAB_UNITS.values())))]

#: Disposition reason (snake_case key) -> CDISC submission value of the NCOMPLT codelist.
DISPOSITION_TERMS: Final[dict[str, str]] = {t.value: t.submission for t in DISPOSITION_REASON.terms}
Name = Annotated[str, Meta(min_length=1, max_length=500, pattern=TEXT_PATTERN)]


class _Doc(Struct, forbid_unknown_fields=True, frozen=True, gc=False):
    """Base of every part of a history: unknown keys are errors."""


class BaselineDoc(_Doc, frozen=True):
    """The baseline visit (day 0): CLASI scores or form, SLEDAI-2K, concomitant medication, and
    optionally the CLA-IGA grade (0-4) and the Skindex-29+3 responses (item number -> 1-5)."""

    date: dt.date
    clasi: dict[str, Any] | None = None
    sledai: dict[str, Any] | None = None
    medications: list[Name] | None = None
    cla_iga: int | None = None
    skindex: dict[str, Any] | None = None


class AssessmentDoc(_Doc, frozen=True):
    """A dated assessment; an omitted instrument was not recorded (never read as 0)."""

    date: dt.date
    clasi: dict[str, Any] | None = None
    sledai: dict[str, Any] | None = None
    medications: list[Name] | None = None
    cla_iga: int | None = None
    skindex: dict[str, Any] | None = None


class LabDoc(_Doc, frozen=True):
    """A laboratory value; ``lln`` is the laboratory's lower limit of normal in ``unit``."""

    date: dt.date
    test: LabTest
    value: Annotated[float, Meta(ge=0, le=1e9)]
    unit: LabUnit
    lln: Annotated[float, Meta(ge=0, le=1e9)] | None = None


class DoseDoc(_Doc, frozen=True):
    """The regimen (a step of the protocol's ladder) in force from ``date`` on."""

    date: dt.date
    regimen: Annotated[str, Meta(min_length=1, max_length=40, pattern=TEXT_PATTERN)]


class AdverseEventDoc(_Doc, frozen=True):
    """An adverse event graded by NCI CTCAE (1-5)."""

    term: Name
    start: dt.date
    grade: Annotated[int, Meta(ge=1, le=5)]
    end: dt.date | None = None
    causality: Causality | None = None
    serious: bool | None = None


class PregnancyTestDoc(_Doc, frozen=True):
    """A pregnancy test result."""

    date: dt.date
    result: PregnancyResult


class EventDoc(_Doc, frozen=True):
    """An event such as consent withdrawal or pregnancy."""

    date: dt.date
    type: EventType


class ImmunologyDoc(_Doc, frozen=True):
    """A qualitative test of the baseline immunology panel (ANA, anti-ENA, antiphospholipid
    antibodies); anti-dsDNA, C3 and C4 are quantitative ``labs``."""

    date: dt.date
    test: ImmunologyTest
    result: ImmunologyResult


class NerveConductionDoc(_Doc, frozen=True):
    """A nerve conduction study (for prior thalidomide neuropathy or new neurological
    symptoms): normal or abnormal."""

    date: dt.date
    result: NerveConductionResult


class MedicationDoc(_Doc, frozen=True):
    """A concomitant medication with its dates; ``baseline`` when taken at the baseline visit
    (the protocol keeps baseline medication unchanged: a change is a deviation)."""

    name: Name
    start: dt.date | None = None
    end: dt.date | None = None
    baseline: bool = False


class OverrideDoc(_Doc, frozen=True):
    """A documented decision to enrol despite the screening verdict (a protocol deviation)."""

    date: dt.date
    by: Name
    reason: Name


class EligibilityDoc(_Doc, frozen=True):
    """The screening verdict (``cletrial eligibility``) and any override of it."""

    date: dt.date
    verdict: Verdict
    override: OverrideDoc | None = None


class EndOfTreatmentDoc(_Doc, frozen=True):
    """The end of study treatment: date, reason (a DISPOSITION_TERMS key), last dose date."""

    date: dt.date
    reason: DispositionReason
    last_dose_date: dt.date | None = None


class EndOfStudyDoc(_Doc, frozen=True):
    """The end of the patient's participation: date and reason (a DISPOSITION_TERMS key)."""

    date: dt.date
    reason: DispositionReason


class HistoryDoc(_Doc, frozen=True):
    """One patient's history (input of the protocol engine and the endpoints)."""

    patient_id: Annotated[str, Meta(max_length=200, pattern=TEXT_PATTERN)] | None = None
    protocol: Annotated[str, Meta(max_length=500, pattern=TEXT_PATTERN)] | None = None
    synthetic: bool | None = None
    sex: Sex | None = None
    reproductive_potential: bool | None = None
    irregular_cycles: bool | None = None
    first_dose_date: dt.date | None = None
    baseline: BaselineDoc | None = None
    assessments: list[AssessmentDoc] = field(default_factory=list)
    labs: list[LabDoc] = field(default_factory=list)
    doses: list[DoseDoc] = field(default_factory=list)
    adverse_events: list[AdverseEventDoc] = field(default_factory=list)
    pregnancy_tests: list[PregnancyTestDoc] = field(default_factory=list)
    events: list[EventDoc] = field(default_factory=list)
    eligibility: EligibilityDoc | None = None
    end_of_treatment: EndOfTreatmentDoc | None = None
    end_of_study: EndOfStudyDoc | None = None
    immunology: list[ImmunologyDoc] = field(default_factory=list)
    nerve_conduction: list[NerveConductionDoc] = field(default_factory=list)
    concomitant_medications: list[MedicationDoc] = field(default_factory=list)


#: Fast JSON decoder of one history.
HISTORY_DECODER = msgspec.json.Decoder(HistoryDoc)
