"""The typed model of a protocol definition file (YAML), from which its JSON Schema is derived.

Every number the engine uses lives in one of these structures; the engine reads them, never a
constant of its own. The bundled files are under ``cletrial/protocols/``; the loader is
:mod:`cletrial.protocol.definition`.

>>> sorted(ProtocolFile.__struct_fields__)[:4]
['arms', 'blinding', 'citation', 'description']
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

import msgspec
from msgspec import Meta, Struct, field

from cletrial.instruments.clasi import CLASI_ACTIVITY_MAX, CLASI_DAMAGE_MAX
from cletrial.instruments.ctcae import CtcaeVersion
from cletrial.instruments.sledai import SLEDAI_MAX
from cletrial.protocol.definition_arms import Arm, Blinding
from cletrial.protocol.definition_trial import Trial
from cletrial.vocabulary import LAB_TEST
from cletrial.vocabulary.types import HISTORY_EVENT_TYPES, LabTest
from cletrial.vocabulary.types import HistoryEventType as EventType

__all__ = [
    "CHECK_KINDS",
    "CHECK_OPERATORS",
    "CHECK_SEVERITIES",
    "CTCAE_TERM_OF_TEST",
    "EVENT_TYPES",
    "LAB_TESTS",
    "RULE_SOURCES",
    "SDV_FORMS",
    "AdverseEventStop",
    "BeforeFirstDose",
    "BloodCounts",
    "ClasiDamageBelowBaselineCheck",
    "CompareCheck",
    "DoseStepCheck",
    "Dosing",
    "EditCheck",
    "EditCheckBase",
    "Eligibility",
    "LabLimit",
    "Monitoring",
    "ProtocolFile",
    "RangeCheck",
    "Regimen",
    "RequiredIfCheck",
    "Response",
    "RuleSetting",
    "Safety",
    "SledaiItemNeedsLabCheck",
    "SourceDataVerification",
    "VisitWindowCheck",
]

#: Laboratory tests a patient history may hold (see docs/formats.md).
LAB_TESTS = LAB_TEST.values

#: Laboratory test of a history -> the NCI CTCAE term that grades it (counts and haemoglobin).
CTCAE_TERM_OF_TEST = {
    "neutrophils": "neutrophil_count_decreased",
    "wbc": "white_blood_cell_decreased",
    "platelets": "platelet_count_decreased",
    "hemoglobin": "anemia",
}

#: Event types a patient history may hold (see docs/formats.md).
EVENT_TYPES = HISTORY_EVENT_TYPES

#: Where a rule comes from: the 2012 protocol, the lenalidomide label, or a default chosen where
#: the protocol is silent (shared/spec/protocol.md).
RULE_SOURCES = ("protocol", "label", "default")

RegimenId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_]*$", max_length=40)]
RuleId = Annotated[str, Meta(pattern=r"^[A-Z][A-Z0-9-]*$", max_length=60)]
Text = Annotated[str, Meta(min_length=1, max_length=2000)]
Days = Annotated[int, Meta(ge=0, le=3650)]
Weeks = Annotated[int, Meta(ge=1, le=520)]
Percent = Annotated[float, Meta(ge=0, le=100)]
Grade = Annotated[int, Meta(ge=1, le=5)]
ClasiActivity = Annotated[int, Meta(ge=0, le=CLASI_ACTIVITY_MAX)]


class _Model(Struct, forbid_unknown_fields=True, frozen=True):
    """Base of every part of the definition: unknown keys are errors."""


class Regimen(_Model, frozen=True):
    """One step of the dose ladder."""

    id: RegimenId
    dose_mg: Annotated[float, Meta(ge=0, description="Dose per administration, mg.")]
    administrations_per_week: Annotated[float, Meta(ge=0, le=7)]
    schedule: Text


class Response(_Model, frozen=True):
    """Response and relapse thresholds on CLASI activity (CLASI-A, 0-70)."""

    complete_response_max: ClasiActivity
    partial_response_min_improvement_percent: Annotated[float, Meta(gt=0, le=100)]
    relapse_min: Annotated[int, Meta(ge=1, le=CLASI_ACTIVITY_MAX)]
    reference: Literal["baseline", "cycle_start"] = "baseline"


class Review(_Model, frozen=True):
    """The first response review of a treatment cycle."""

    week: Weeks
    window_days: Days


class Escalation(_Model, frozen=True):
    """Escalate at the review when improvement is below a threshold."""

    regimen: RegimenId
    below_improvement_percent: Percent


class Taper(_Model, frozen=True):
    """Step down the ladder while complete response holds."""

    interval_weeks: Weeks
    tolerance_days: Days
    last_regimen: RegimenId


class Relapse(_Model, frozen=True):
    """What a relapse (CLASI-A >= relapse_min after CR, while tapering or off) restarts."""

    restart_regimen: RegimenId


class Maintenance(_Model, frozen=True):
    """Long-term maintenance after repeated relapses."""

    after_relapses: Annotated[int, Meta(ge=1, le=20)]
    steps_above_relapse: Annotated[int, Meta(ge=0, le=10)]
    highest_regimen: RegimenId


class Nonresponse(_Model, frozen=True):
    """Discontinuation for lack of efficacy on the escalated regimen."""

    week: Weeks
    regimen: RegimenId
    window_days: Days
    disposition: Text


class Dosing(_Model, frozen=True):
    """Start, review, escalation, taper, relapse, maintenance and non-response."""

    start_regimen: RegimenId
    review: Review
    escalation: Escalation
    taper: Taper
    relapse: Relapse
    maintenance: Maintenance
    nonresponse: Nonresponse
    assessment_max_age_days: Days


class Myelosuppression(_Model, frozen=True):
    """Stop at a CTCAE grade of a blood count."""

    stop_grade: Grade
    tests: Annotated[list[LabTest], Meta(min_length=1)]
    disposition: Text


class SleFlare(_Model, frozen=True):
    """SLEDAI-2K increase from baseline: stop above one value, alert above another."""

    stop_increase_above: Annotated[int, Meta(ge=0, le=SLEDAI_MAX)]
    alert_increase_above: Annotated[int, Meta(ge=0, le=SLEDAI_MAX)]
    disposition: Text


class LifeThreateningAdverseEvent(_Model, frozen=True):
    """An adverse event of this CTCAE grade or worse is a life-threatening complication."""

    min_grade: Grade
    disposition: Text


class StopEvent(_Model, frozen=True):
    """An event that stops treatment, with its rule and CDISC disposition term."""

    rule: RuleId
    disposition: Text


class AdverseEventStop(_Model, frozen=True):
    """Adverse events (by term, case-insensitive, at or above a grade) that stop treatment."""

    rule: RuleId
    terms: Annotated[list[Text], Meta(min_length=1)]
    min_grade: Grade
    disposition: Text


class NeutropeniaAlert(_Model, frozen=True):
    """Alert and more frequent counts while a count sits at a grade."""

    test: LabTest
    grade: Grade
    every_days: Annotated[int, Meta(ge=1, le=365)]


class Safety(_Model, frozen=True):
    """Stopping rules and safety alerts."""

    ctcae_version: CtcaeVersion
    myelosuppression: Myelosuppression
    sle_flare: SleFlare
    life_threatening_adverse_event: LifeThreateningAdverseEvent
    stop_events: dict[EventType, StopEvent]
    positive_pregnancy_test: StopEvent
    neutropenia_alert: NeutropeniaAlert
    adverse_event_stops: list[AdverseEventStop] = field(default_factory=list)


class Phase(_Model, frozen=True):
    """Every ``every_weeks`` from the previous phase's end until ``until_week`` (open if null)."""

    every_weeks: Weeks
    tolerance_days: Days
    until_week: Weeks | None = None
    irregular_cycles_every_weeks: Weeks | None = None


class VisitPhase(_Model, frozen=True):
    """Study visits every ``every_weeks`` until ``until_week`` (open if null), with a window."""

    every_weeks: Weeks
    window_days: Days
    until_week: Weeks | None = None


class BloodCounts(_Model, frozen=True):
    """Blood count monitoring; a count is recorded when any of ``tests`` is."""

    name: Text
    tests: Annotated[list[LabTest], Meta(min_length=1)]
    phases: Annotated[list[Phase], Meta(min_length=1)]


class PanelItem(_Model, frozen=True):
    """One baseline laboratory item; ``tests`` lists the history tests that record it."""

    name: Text
    tests: list[LabTest] = field(default_factory=list)


class BeforeFirstDose(_Model, frozen=True):
    """A negative pregnancy test required this many days before the first dose (inclusive)."""

    days_before_min: Days
    days_before_max: Days


class PregnancyTesting(_Model, frozen=True):
    """Pregnancy testing for females of reproductive potential."""

    before_first_dose: list[BeforeFirstDose]
    phases: Annotated[list[Phase], Meta(min_length=1)]
    withhold_start_until_negative: bool
    after_last_dose_days: Days


class Monitoring(_Model, frozen=True):
    """Visits, windows, blood counts, baseline panel and pregnancy testing."""

    visits: Annotated[list[VisitPhase], Meta(min_length=1)]
    visit_assessments: list[Text]
    plan_weeks: Weeks
    blood_counts: BloodCounts
    baseline_panel: list[PanelItem]
    baseline_panel_lookback_days: Days
    pregnancy_testing: PregnancyTesting
    follow_up_ends_on: list[EventType]


class LabLimit(_Model, frozen=True):
    """Exclusion when a value is strictly below ``below`` (given in ``unit``)."""

    below: Annotated[float, Meta(ge=0)]
    unit: Text


class Eligibility(_Model, frozen=True):
    """Numbers of the inclusion and exclusion criteria."""

    min_age_years: Annotated[int, Meta(ge=0, le=120)]
    min_erythema: Annotated[int, Meta(ge=0, le=3)]
    stable_therapy_min_days: Days
    prednisone_below_mg_per_day: Annotated[float, Meta(ge=0)]
    refractory_min_months: Annotated[float, Meta(ge=0)]
    bsa_above_percent: Percent
    lab_lookback_days: Days
    lab_exclusions: dict[LabTest, LabLimit]
    egfr_below: Annotated[float, Meta(ge=0)]


class RuleSetting(_Model, frozen=True):
    """Where a rule comes from and, for switchable rules, whether it is on."""

    source: Literal["protocol", "label", "default"]
    enabled: bool = True
    note: str = ""


# --- Edit checks: declared rules that find suspicious data so that a query can be opened. ---
# Semantics and placeholders: cletrial.protocol.edit_checks and docs/edit-checks.md. Forms and
# columns named are checked on load against cletrial.protocol.edit_check_forms.

#: Kinds of edit check (the ``kind`` of a declaration).
CHECK_KINDS = (
    "range",
    "required_if",
    "compare",
    "sledai_item_needs_lab",
    "visit_window",
    "clasi_damage_below_baseline",
    "dose_step",
)
#: Severities of an edit check finding.
CHECK_SEVERITIES = ("error", "warning")
#: Operators of a ``compare`` check: the row passes when ``field op other`` holds.
CHECK_OPERATORS = ("<", "<=", ">", ">=", "==", "!=")

CheckId = Annotated[str, Meta(pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$", max_length=60)]
Column = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]
Scalar = str | int | float | bool
#: Column -> value (or list of values, any of which matches); every entry must match.
Condition = dict[Column, Scalar | list[Scalar]]
LabTests = Annotated[list[LabTest], Meta(min_length=1)]


class EditCheckBase(_Model, frozen=True, tag_field="kind"):
    """What every edit check declares: ``id`` (unique, UPPER-KEBAB), ``form`` (a store table),
    ``message`` (a template, see docs/edit-checks.md) and ``severity``."""

    id: CheckId
    form: Column
    message: Text
    severity: Literal["error", "warning"]


class RangeCheck(EditCheckBase, frozen=True, tag="range"):
    """``field`` outside ``[min, max]`` (inclusive) in the rows matching ``where``; a missing
    value is not a range failure."""

    field: Column
    min: float | None = None
    max: float | None = None
    where: Condition = msgspec.field(default_factory=dict)


class RequiredIfCheck(EditCheckBase, frozen=True, tag="required_if"):
    """``field`` is required (not empty) in the rows matching ``when`` (every row if empty)."""

    field: Column
    when: Condition = msgspec.field(default_factory=dict)


class CompareCheck(EditCheckBase, frozen=True, tag="compare"):
    """``field op other`` must hold (two columns of the same row); skipped when either is
    missing."""

    field: Column
    op: Literal["<", "<=", ">", ">=", "==", "!="]
    other: Column


class SledaiItemNeedsLabCheck(EditCheckBase, frozen=True, tag="sledai_item_needs_lab"):
    """A SLEDAI-2K descriptor scored present needs a lab of one of its tests dated on the
    visit date or up to ``days`` days before it."""

    items: Annotated[dict[Column, LabTests], Meta(min_length=1)]
    days: Days = 0


class VisitWindowCheck(EditCheckBase, frozen=True, tag="visit_window"):
    """A scheduled visit outside the window of the nearest planned visit (``monitoring.visits``,
    days from the first dose)."""


class ClasiDamageBelowBaselineCheck(EditCheckBase, frozen=True, tag="clasi_damage_below_baseline"):
    """CLASI damage more than ``margin`` below the baseline visit's, the visit's notes empty."""

    margin: Annotated[int, Meta(ge=0, le=CLASI_DAMAGE_MAX)] = 0


class DoseStepCheck(EditCheckBase, frozen=True, tag="dose_step"):
    """A dose more than ``max_steps`` rungs of the ladder above the previous dose (a step up to
    the start or restart regimen is a new cycle, allowed unless ``allow_cycle_start`` is
    false); a regimen off the ladder gets ``off_ladder_message``. The data-level proxy for "a
    dose above the last recommendation" (the recommendation itself needs the engine)."""

    max_steps: Annotated[int, Meta(ge=0, le=10)] = 1
    allow_cycle_start: bool = True
    off_ladder_message: Text = (
        "the dose from {date} is regimen {value}, which is not a step of this protocol's dose "
        "ladder: its dose cannot be checked against the maximum of {maximum} mg"
    )


#: One edit check declaration (tagged by ``kind``).
EditCheck = (
    RangeCheck
    | RequiredIfCheck
    | CompareCheck
    | SledaiItemNeedsLabCheck
    | VisitWindowCheck
    | ClasiDamageBelowBaselineCheck
    | DoseStepCheck
)


#: Forms a monitor verifies against the source documents (store tables).
SdvForm = Literal[
    "screenings",
    "visits",
    "clasi_assessments",
    "sledai_assessments",
    "skindex_assessments",
    "labs",
    "doses",
    "adverse_events",
    "pregnancy_tests",
    "concomitant_medications",
    "dispositions",
    "immunology_results",
    "nerve_conduction_studies",
]


class SourceDataVerification(_Model, frozen=True):
    """The risk-based source data verification plan: every record of the ``full`` forms, and
    the fraction ``sample`` of the records of the others (a reproducible sample)."""

    full: list[SdvForm] = field(default_factory=lambda: list(get_args(SdvForm)))
    sample: Annotated[float, Meta(ge=0, le=1)] = 0.0


#: Every form of :data:`SdvForm`, in order.
SDV_FORMS: tuple[str, ...] = get_args(SdvForm)


class ProtocolFile(_Model, frozen=True):
    """A protocol definition file, version 1 of the format."""

    format: Literal["cletrial-protocol/1"]
    id: Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)]
    version: Text
    title: Text
    drug: Text
    example: bool
    citation: Text
    regimens: Annotated[list[Regimen], Meta(min_length=2)]
    maximum_dose_mg: Annotated[float, Meta(gt=0)]
    response: Response
    dosing: Dosing
    safety: Safety
    monitoring: Monitoring
    eligibility: Eligibility
    rules: dict[RuleId, RuleSetting]
    description: str = ""
    edit_checks: list[EditCheck] = field(default_factory=list)
    source_data_verification: SourceDataVerification = field(default_factory=SourceDataVerification)
    arms: list[Arm] = field(default_factory=list)
    blinding: Blinding | None = None
    #: The trial's summary and design for the SDTM trial design datasets (optional).
    trial: Trial | None = None


def model_json_schema() -> dict[str, object]:
    """Return msgspec's JSON Schema of :class:`ProtocolFile` (before the loader's additions).

    >>> model_json_schema()["$ref"]
    '#/$defs/ProtocolFile'
    """
    schema: dict[str, object] = msgspec.json.schema(ProtocolFile)
    return schema
