"""The protocol engine: protocol definitions, eligibility, the dose recommendation, the schedule.

Decision support: every recommendation carries the rule that fired, its source (``protocol``,
``label`` or ``default``), the data that fired it and the protocol version; a clinician decides.

::

    load_protocol(id_or_path)            -> ProtocolDefinition   (parse once, reuse)
    parse_screening(obj) / assess_eligibility(screening, protocol) -> EligibilityResult
    parse_history(obj) / decode_history(bytes)                     -> PatientHistory
    recommend(history, protocol, on)                               -> Recommendation
    recommend_at_visits(history, protocol, dates)                  -> [Recommendation]
    plan_schedule(start, protocol) / write_icalendar(visits, ...)
    compile_edit_checks(protocol).run(forms)                       -> [CheckFinding]

>>> import datetime as dt
>>> protocol = load_protocol()
>>> history = {"sex": "M", "baseline": {"date": "2009-02-02", "clasi": {"activity": 6},
...            "sledai": {"score": 2}}}
>>> rec = recommend(history, protocol, dt.date(2009, 2, 2))
>>> rec.action, rec.reasons[0].rule            # no screening verdict: no first dose
('undetermined', 'ENROL-GATE')
>>> history["eligibility"] = {"date": "2009-01-26", "verdict": "eligible"}
>>> rec = recommend(history, protocol, dt.date(2009, 2, 2))
>>> rec.action, rec.regimen.schedule
('start', '5 mg every day')
"""

from __future__ import annotations

from cletrial.protocol.definition import (
    DEFAULT_PROTOCOL,
    ProtocolDefinition,
    list_protocols,
    load_protocol,
    parse_protocol,
    protocol_json_schema,
)
from cletrial.protocol.edit_checks import (
    CheckFinding,
    CheckMemo,
    CompiledChecks,
    compile_edit_checks,
)
from cletrial.protocol.eligibility import CriterionResult, EligibilityResult, assess_eligibility
from cletrial.protocol.engine import assert_dose_within_maximum, recommend, recommend_at_visits
from cletrial.protocol.history import (
    PatientHistory,
    Visit,
    decode_history,
    history_json_schema,
    parse_history,
    truncate_history,
)
from cletrial.protocol.history_model import DISPOSITION_TERMS
from cletrial.protocol.results import (
    Alert,
    CourseSummary,
    Deviation,
    LabDue,
    NextVisit,
    PregnancyTestDue,
    Reason,
    Recommendation,
    RegimenOut,
    Undetermined,
)
from cletrial.protocol.schedule import PlannedVisit, plan_schedule, write_icalendar
from cletrial.protocol.screening import Screening, parse_screening, screening_json_schema

__all__ = [
    "DEFAULT_PROTOCOL",
    "DISPOSITION_TERMS",
    "Alert",
    "CheckFinding",
    "CheckMemo",
    "CompiledChecks",
    "CourseSummary",
    "CriterionResult",
    "Deviation",
    "EligibilityResult",
    "LabDue",
    "NextVisit",
    "PatientHistory",
    "PlannedVisit",
    "PregnancyTestDue",
    "ProtocolDefinition",
    "Reason",
    "Recommendation",
    "RegimenOut",
    "Screening",
    "Undetermined",
    "Visit",
    "assert_dose_within_maximum",
    "assess_eligibility",
    "compile_edit_checks",
    "decode_history",
    "history_json_schema",
    "list_protocols",
    "load_protocol",
    "parse_history",
    "parse_protocol",
    "parse_screening",
    "plan_schedule",
    "protocol_json_schema",
    "recommend",
    "recommend_at_visits",
    "screening_json_schema",
    "truncate_history",
    "write_icalendar",
]
