"""The ``trial`` section of a protocol definition: what the SDTM trial design datasets say.

The section is optional. When present it declares the trial's summary (title, phase, indication,
design, sponsor, registry id, planned number of subjects and length of follow-up, objectives and
outcome measures, stopping rules, background and comparative treatments, the drug's route,
pharmacological class and UNII, the study's end and data cutoff: SDTM TS) and its arms as
sequences of elements (TA, TE). The visits (TV) and the eligibility criteria (TI)
come from the definition's ``monitoring`` and ``eligibility`` sections, not from here. Coded
fields take the stored values of the trial codelists (:mod:`cletrial.vocabulary.trial`).

Loading checks what the schema cannot (``definition_checks.check_trial``): element and arm
codes are unique, every element an arm names is declared, the maximum age is not below the
eligibility's minimum, an add-on trial names its current treatments, a controlled trial its
comparator (and an uncontrolled one none), a trial of patients its diagnosis group, and the
study does not end or cut its data before it starts. Errors name the field path and the value.

>>> from cletrial.protocol import load_protocol
>>> trial = load_protocol().file.trial
>>> trial.registry_id, trial.phase, [a.code for a in trial.arms]
('NCT01408199', 'phase_2', ['LENA'])
"""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, Struct

from cletrial.values import TEXT_PATTERN
from cletrial.vocabulary.types import (
    ControlType,
    Epoch,
    InterventionModel,
    InterventionType,
    Route,
    SexPopulation,
    StudyType,
    TrialBlinding,
    TrialIndicationType,
    TrialPhase,
    TrialType,
)

__all__ = ["ArmElement", "DataCutoff", "Trial", "TrialArm", "TrialElement", "find_summary_problem"]

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
#: FDA Unique Ingredient Identifier: 10 characters, digits and capital letters.
Unii = Annotated[str, Meta(pattern=r"^[0-9A-Z]{10}$")]
#: Texts of one TS parameter (one record each, TSSEQ 1, 2, ...).
Texts = Annotated[list[SdtmText], Meta(max_length=20)]


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


class DataCutoff(_Model, frozen=True):
    """The data cutoff of the package (TS ``DCUTDTC``, ``DCUTDESC``)."""

    date: PartialDate
    description: SdtmText


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
    registry_id: Annotated[str, Meta(pattern=r"^NCT[0-9]{8}$")] | None
    sponsor: SdtmText
    countries: Annotated[list[Country], Meta(min_length=1)]
    start: PartialDate | None
    primary_objective: SdtmText
    elements: Annotated[list[TrialElement], Meta(min_length=1)]
    arms: Annotated[list[TrialArm], Meta(min_length=1)]
    primary_outcomes: Annotated[list[SdtmText], Meta(min_length=1, max_length=20)]
    stopping_rules: Annotated[list[SdtmText], Meta(min_length=1, max_length=20)]
    route: Route
    pharmacological_class: SdtmText
    extension_trial: bool
    max_age_years: Annotated[int, Meta(ge=0, le=120)] | None = None
    secondary_objectives: Texts = []
    secondary_outcomes: Texts = []
    current_treatments: Texts = []
    comparator: SdtmText | None = None
    diagnosis_group: SdtmText | None = None
    drug_unii: Unii | None = None
    end: PartialDate | None = None
    data_cutoff: DataCutoff | None = None


def find_summary_problem(trial: Trial) -> tuple[str, Any, str] | None:
    """The first disagreement of the trial's summary with its design, as ``(field path, value,
    problem)``, or ``None``; the loader raises it naming the file
    (``definition_checks.check_trial``).

    An add-on trial names its current treatments; a controlled trial names its comparator and
    an uncontrolled one has none; a trial of patients names their diagnosis group; the study
    neither ends nor cuts its data before it starts.

    >>> from cletrial.protocol import load_protocol
    >>> import msgspec
    >>> trial = load_protocol().file.trial
    >>> find_summary_problem(trial) is None
    True
    >>> find_summary_problem(msgspec.structs.replace(trial, comparator="PLACEBO"))
    ('trial.comparator', 'PLACEBO', 'must be null: the trial has no control (control is none)')
    """
    if trial.add_on and not trial.current_treatments:
        problem = "must name the treatments the study drug is added on to (add_on is true)"
        return ("trial.current_treatments", trial.current_treatments, problem)
    if trial.control == "none" and trial.comparator is not None:
        return ("trial.comparator", trial.comparator,
                "must be null: the trial has no control (control is none)")  # fmt: skip
    if trial.control != "none" and trial.comparator is None:
        return ("trial.comparator", None,
                f"must name the comparative treatment (control is {trial.control})")  # fmt: skip
    if not trial.healthy_subjects and trial.diagnosis_group is None:
        return ("trial.diagnosis_group", None,
                "must name the subjects' diagnosis (healthy_subjects is false)")  # fmt: skip
    cutoff = trial.data_cutoff.date if trial.data_cutoff else None
    for where, value in (("trial.end", trial.end), ("trial.data_cutoff.date", cutoff)):
        if value is not None and trial.start is not None and value < trial.start[: len(value)]:
            return (where, value, f"must not be before trial.start ({trial.start})")
    return None
