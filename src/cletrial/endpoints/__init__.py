"""Endpoint derivations from visit-level data (pure: no storage, no printing, no globals).

From patient histories (``docs/formats.md``) to one row per patient and ADaM-shaped tables:
best CLASI response and time to CR, relapses after taper or withdrawal, treatment cycles,
long-term maintenance, sustained remission, SLEDAI-2K flares (the paper's rule and SELENA),
CLASI-D change at 12 months, immunology at baseline against end of treatment, adverse events,
and the trial endpoints at a named week (CLASI-50/70, CLA-IGA success, Skindex-29+3 change).
Rules and windows live in :class:`EndpointRules` (protocol specification, section 5).

Two paths compute the same values: :func:`compute_patient_endpoints` per patient (the reference)
and :func:`derive_endpoints` over a columnar :class:`VisitTable` (vectorised; used by the
command line, the report and the benchmark).

>>> histories = [{"patient_id": "P1", "first_dose_date": "2009-02-02",
...     "baseline": {"date": "2009-02-02", "clasi": {"activity": 6, "damage": 2}},
...     "assessments": [{"date": "2009-03-02", "clasi": {"activity": 0, "damage": 2}}],
...     "doses": [{"date": "2009-02-02", "regimen": "5_daily"}]}]
>>> table = build_visit_table(course_from_history(h) for h in histories)
>>> derive_endpoints(table).subjects[["patient_id", "best_response", "cr_day"]].values.tolist()
[['P1', 'CR', 28]]
"""

from __future__ import annotations

from cletrial.endpoints.adam import derive_adae, derive_adrs, derive_adsl, derive_adtte
from cletrial.endpoints.course import Course, course_from_history
from cletrial.endpoints.rules import (
    ADRS_PARAMETERS,
    ADTTE_PARAMETERS,
    DEFAULT_RULES,
    EndpointRules,
    EventSource,
    FlareRule,
)
from cletrial.endpoints.subject import (
    Endpoints,
    PatientEndpoints,
    compute_patient_endpoints,
    derive_endpoints,
    subject_columns,
)
from cletrial.endpoints.table import (
    VisitTable,
    build_visit_table,
    iter_courses,
    table_from_histories,
    validate_visit_table,
)
from cletrial.endpoints.trial import (
    TrialEndpointRules,
    compute_clasi_percent_change,
    compute_clasi_responder,
    compute_trial_endpoints,
    derive_clasi_percent_change,
    derive_clasi_responders,
    derive_trial_endpoints,
    trial_columns,
)

__all__ = [
    "ADRS_PARAMETERS",
    "ADTTE_PARAMETERS",
    "DEFAULT_RULES",
    "Course",
    "EndpointRules",
    "Endpoints",
    "EventSource",
    "FlareRule",
    "PatientEndpoints",
    "TrialEndpointRules",
    "VisitTable",
    "build_visit_table",
    "compute_clasi_percent_change",
    "compute_clasi_responder",
    "compute_patient_endpoints",
    "compute_trial_endpoints",
    "course_from_history",
    "derive_adae",
    "derive_adrs",
    "derive_adsl",
    "derive_adtte",
    "derive_clasi_percent_change",
    "derive_clasi_responders",
    "derive_endpoints",
    "derive_trial_endpoints",
    "iter_courses",
    "subject_columns",
    "table_from_histories",
    "trial_columns",
    "validate_visit_table",
]
