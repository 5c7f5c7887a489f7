"""Types of the coded fields, derived from the codelists: the one place a form, a history or the
database gets the values a coded field may take.

At run time each alias is ``Literal[<codelist>.values]``, so msgspec (histories, protocol files)
and pydantic (the web API) accept exactly the codelist's stored values and publish them as the
field's ``enum`` in their JSON Schemas. For mypy each alias is ``str``: the values are not
repeated in the source (``tests/test_vocabulary.py`` checks there is no second declaration).

>>> import typing
>>> typing.get_args(Causality)
('unrelated', 'unlikely', 'possible', 'probable', 'definite')
>>> HISTORY_EVENT_TYPES[-1], "completed" in HISTORY_EVENT_TYPES
('lost_to_follow_up', False)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Literal

from cletrial.vocabulary import (
    AE_CAUSALITY,
    AE_OUTCOME,
    AE_SERIOUS_CRITERION,
    CONTROL_TYPE,
    CRITERION_CATEGORY,
    DISPOSITION_EVENT,
    DISPOSITION_KIND,
    DISPOSITION_REASON,
    EPOCH,
    IMMUNOLOGY_RESULT,
    IMMUNOLOGY_TEST,
    INTERVENTION_MODEL,
    INTERVENTION_TYPE,
    LAB_TEST,
    NERVE_CONDUCTION_RESULT,
    PREGNANCY_METHOD,
    PREGNANCY_RESULT,
    ROUTE,
    SCREENING_VERDICT,
    SEX,
    SEX_POPULATION,
    STUDY_TYPE,
    TRIAL_BLINDING,
    TRIAL_INDICATION_TYPE,
    TRIAL_PHASE,
    TRIAL_TYPE,
    VISIT_KIND,
)

__all__ = [
    "HISTORY_EVENT_TYPES",
    "AeOutcome",
    "Causality",
    "ControlType",
    "CriterionKind",
    "DispositionKind",
    "DispositionReason",
    "Epoch",
    "EventType",
    "HistoryEventType",
    "ImmunologyResult",
    "ImmunologyTest",
    "InterventionModel",
    "InterventionType",
    "LabTest",
    "NerveConductionResult",
    "PregnancyMethod",
    "PregnancyResult",
    "Route",
    "SeriousCriterion",
    "Sex",
    "SexPopulation",
    "StudyType",
    "TrialBlinding",
    "TrialIndicationType",
    "TrialPhase",
    "TrialType",
    "Verdict",
    "VisitKind",
]

#: Events of a patient history (``events[].type``): every patient event but ``completed``,
#: which a history records as the reason of its end of study.
HISTORY_EVENT_TYPES: Final = tuple(v for v in DISPOSITION_EVENT.values if v != "completed")

if TYPE_CHECKING:
    AeOutcome = str
    Causality = str
    CriterionKind = str
    DispositionKind = str
    DispositionReason = str
    EventType = str
    HistoryEventType = str
    ImmunologyResult = str
    ImmunologyTest = str
    LabTest = str
    NerveConductionResult = str
    PregnancyMethod = str
    PregnancyResult = str
    Route = str
    SeriousCriterion = str
    Sex = str
    Verdict = str
    VisitKind = str
    ControlType = str
    Epoch = str
    InterventionModel = str
    InterventionType = str
    SexPopulation = str
    StudyType = str
    TrialBlinding = str
    TrialIndicationType = str
    TrialPhase = str
    TrialType = str
else:
    AeOutcome = Literal[AE_OUTCOME.values]
    Causality = Literal[AE_CAUSALITY.values]
    CriterionKind = Literal[CRITERION_CATEGORY.values]
    DispositionKind = Literal[DISPOSITION_KIND.values]
    DispositionReason = Literal[DISPOSITION_REASON.values]
    EventType = Literal[DISPOSITION_EVENT.values]
    HistoryEventType = Literal[HISTORY_EVENT_TYPES]
    ImmunologyResult = Literal[IMMUNOLOGY_RESULT.values]
    ImmunologyTest = Literal[IMMUNOLOGY_TEST.values]
    LabTest = Literal[LAB_TEST.values]
    NerveConductionResult = Literal[NERVE_CONDUCTION_RESULT.values]
    PregnancyMethod = Literal[PREGNANCY_METHOD.values]
    PregnancyResult = Literal[PREGNANCY_RESULT.values]
    Route = Literal[ROUTE.values]
    SeriousCriterion = Literal[AE_SERIOUS_CRITERION.values]
    Sex = Literal[SEX.values]
    Verdict = Literal[SCREENING_VERDICT.values]
    VisitKind = Literal[VISIT_KIND.values]
    ControlType = Literal[CONTROL_TYPE.values]
    Epoch = Literal[EPOCH.values]
    InterventionModel = Literal[INTERVENTION_MODEL.values]
    InterventionType = Literal[INTERVENTION_TYPE.values]
    SexPopulation = Literal[SEX_POPULATION.values]
    StudyType = Literal[STUDY_TYPE.values]
    TrialBlinding = Literal[TRIAL_BLINDING.values]
    TrialIndicationType = Literal[TRIAL_INDICATION_TYPE.values]
    TrialPhase = Literal[TRIAL_PHASE.values]
    TrialType = Literal[TRIAL_TYPE.values]
