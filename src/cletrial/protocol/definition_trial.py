"""The ``trial`` section of a protocol definition: what the SDTM trial design datasets say.

The section is optional. When present it declares the trial's summary (title, phase, indication,
design, sponsor, registry id, planned number of subjects and length of follow-up: SDTM TS) and
its arms as sequences of elements (TA, TE). The visits (TV) and the eligibility criteria (TI)
come from the definition's ``monitoring`` and ``eligibility`` sections, not from here. Coded
fields take the stored values of the trial codelists (:mod:`cletrial.vocabulary.trial`).

Loading checks what the schema cannot: element and arm codes are unique, every element an arm
names is declared, the maximum age is not below the eligibility's minimum. Errors name the field
path and the value.

>>> from cletrial.protocol import load_protocol
>>> trial = load_protocol().file.trial
>>> trial.registry_id, trial.phase, [a.code for a in trial.arms]
('NCT01408199', 'phase_2', ['LENA'])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from msgspec import Meta, Struct, field

from cletrial.values import TEXT_PATTERN
from cletrial.vocabulary.types import (
    ControlType,
    Epoch,
    InterventionModel,
    InterventionType,
    SexPopulation,
    StudyType,
    TrialBlinding,
    TrialIndicationType,
    TrialPhase,
    TrialType,
)

if TYPE_CHECKING:
    from cletrial.protocol.definition_model import ProtocolFile

__all__ = ["ArmElement", "Trial", "TrialArm", "TrialElement", "check_trial"]

#: Text of an SDTM value: at most 200 characters (SAS transport), no control characters.
SdtmText = Annotated[str, Meta(min_length=1, max_length=200, pattern=TEXT_PATTERN)]
#: ``ETCD``: at most 8 characters (SDTMIG 3.4 section 7.2.2).
ElementCode = Annotated[str, Meta(pattern=r"^[A-Z][A-Z0-9]{0,7}$")]
#: ``ARMCD``: at most 20 characters (SDTMIG 3.4 section 7.2.1).
ArmCode = Annotated[str, Meta(pattern=r"^[A-Z][A-Z0-9_]{0,19}$")]
Weeks = Annotated[int, Meta(ge=1, le=520)]
#: ISO 3166-1 alpha-3 country code.
Country = Annotated[str, Meta(pattern=r"^[A-Z]{3}$")]
#: ISO 8601 date, possibly partial (``2009-01``).
PartialDate = Annotated[str, Meta(pattern=r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$")]


class _Model(Struct, forbid_unknown_fields=True, frozen=True):
    """Base of the section's parts: unknown keys are errors."""


class TrialElement(_Model, frozen=True):
    """One element (TE): a planned period of the trial with its start and end rules."""

    code: ElementCode
    name: SdtmText
    start_rule: SdtmText
    end_rule: SdtmText | None = None
    duration_weeks: Weeks | None = None


class ArmElement(_Model, frozen=True):
    """One step of an arm (TA): the element, its epoch, and where the arm branches or moves on."""

    element: ElementCode
    epoch: Epoch
    branch: SdtmText | None = None
    transition: SdtmText | None = None


class TrialArm(_Model, frozen=True):
    """A planned arm (TA): code (DM ``ARMCD``), description (``ARM``) and its elements in order."""

    code: ArmCode
    name: SdtmText
    elements: Annotated[list[ArmElement], Meta(min_length=1)]


class Trial(_Model, frozen=True):
    """The trial's summary and design (SDTM TS, TA, TE)."""

    title: SdtmText
    phase: TrialPhase
    indication: SdtmText
    indication_type: TrialIndicationType
    trial_types: Annotated[list[TrialType], Meta(min_length=1)]
    study_type: StudyType
    intervention_model: InterventionModel
    intervention_type: InterventionType
    blinding: TrialBlinding
    control: ControlType
    randomised: bool
    add_on: bool
    adaptive: bool
    healthy_subjects: bool
    sex_population: SexPopulation
    planned_subjects: Annotated[int, Meta(ge=1, le=1_000_000)]
    planned_weeks: Annotated[Weeks, Meta(description="Planned follow-up of a patient, weeks.")]
    registry_id: Annotated[str, Meta(pattern=r"^NCT[0-9]{8}$")]
    sponsor: SdtmText
    countries: Annotated[list[Country], Meta(min_length=1)]
    start: PartialDate
    primary_objective: SdtmText
    elements: Annotated[list[TrialElement], Meta(min_length=1)]
    arms: Annotated[list[TrialArm], Meta(min_length=1)]
    max_age_years: Annotated[int, Meta(ge=0, le=120)] | None = None
    citations: list[SdtmText] = field(default_factory=list)


def check_trial(file: ProtocolFile, origin: str) -> None:
    """Check the ``trial`` section of ``file`` against itself and the rest of the definition.

    Raises
    ------
    ProtocolDefinitionError
        Naming the field path and the value (a repeated code, an undeclared element, a
        maximum age below the minimum).

    >>> from cletrial.protocol import load_protocol
    >>> check_trial(load_protocol().file, "lenalidomide-cle-2012.yaml") is None
    True
    """
    from cletrial.protocol.definition_checks import fail

    trial = file.trial
    if trial is None:
        return
    codes: set[str] = set()
    for i, element in enumerate(trial.elements):
        if element.code in codes:
            raise fail(origin, f"trial.elements[{i}].code", element.code, "repeats a code")
        codes.add(element.code)
    arms: set[str] = set()
    for i, arm in enumerate(trial.arms):
        if arm.code in arms:
            raise fail(origin, f"trial.arms[{i}].code", arm.code, "repeats an arm code")
        arms.add(arm.code)
        for j, step in enumerate(arm.elements):
            if step.element not in codes:
                known = ", ".join(sorted(codes))
                where = f"trial.arms[{i}].elements[{j}].element"
                raise fail(origin, where, step.element, f"must be the code of an element: {known}")
    minimum = file.eligibility.min_age_years
    if trial.max_age_years is not None and trial.max_age_years < minimum:
        raise fail(origin, "trial.max_age_years", trial.max_age_years,
                   f"must not be below eligibility.min_age_years ({minimum})")  # fmt: skip
