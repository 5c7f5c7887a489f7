"""Disposition in the recommendation: end of treatment, end of study, and what a stop clears.

- ``end_of_treatment`` recorded (on or before the decision date): the action is ``stop`` with no
  regimen (END-OF-TREATMENT), the disposition its CDISC term; blood counts are no longer due.
  Pregnancy tests of a female of reproductive potential stay due until
  ``monitoring.pregnancy_testing.after_last_dose_days`` (28, the lenalidomide label) after the
  last dose (LABEL-PREGNANCY-AFTER-TREATMENT, switchable).
- ``end_of_study`` recorded, or an event that ends follow-up (``monitoring.follow_up_ends_on``:
  consent withdrawn, death, lost to follow-up): nothing is due any more (no visit, laboratory
  value or pregnancy test) and no alert about overdue items is raised.
- Any stop: the recommendation carries no undetermined parts, no pending dose decision and no
  dosing alerts (a review that will not happen).

>>> DISPOSITION_TERMS["lost_to_follow_up"]
'LOST TO FOLLOW-UP'
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from cletrial.protocol._dates import days
from cletrial.protocol.definition import ProtocolDefinition
from cletrial.protocol.history import PatientHistory
from cletrial.protocol.history_model import DISPOSITION_TERMS, EndOfTreatmentDoc
from cletrial.protocol.monitoring import phase_interval
from cletrial.protocol.parts import Parts
from cletrial.protocol.results import PregnancyTestDue, Reason

__all__ = [
    "DISPOSITION_TERMS",
    "apply_disposition",
    "clear_after_stop",
    "follow_up_end",
    "pregnancy_after_treatment",
]

#: Alerts about items that are due or overdue: none once follow-up has ended.
_DUE_ALERTS: Final = frozenset(
    {
        "VISIT-WINDOW",
        "BLOOD-COUNTS",
        "LABEL-NEUTROPENIA",
        "LABEL-PREGNANCY-TESTING",
        "LABEL-PREGNANCY-AFTER-TREATMENT",
        "REVIEW-MISSING",
    }
)


def follow_up_end(history: PatientHistory, p: ProtocolDefinition) -> dt.date | None:
    """The date follow-up ended: the end of study or the first event that ends follow-up."""
    ends = p.file.monitoring.follow_up_ends_on
    end = next((e.date for e in history.events if e.type in ends), None) if history.events else None
    eos = history.end_of_study
    if eos is not None and (end is None or eos.date < end):
        return eos.date
    return end


def pregnancy_after_treatment(
    history: PatientHistory,
    p: ProtocolDefinition,
    on: dt.date,
    first_dose: dt.date,
    eot: EndOfTreatmentDoc,
) -> PregnancyTestDue | None:
    """The next pregnancy test after the end of treatment, or ``None`` when none is due.

    Tests follow the on-treatment schedule up to ``after_last_dose_days`` after the last dose
    (``end_of_treatment.last_dose_date``, else its ``date``); the last one falls on that day.
    """
    rule = "LABEL-PREGNANCY-AFTER-TREATMENT"
    if not p.enabled(rule):
        return None
    testing = p.file.monitoring.pregnancy_testing
    last_dose = eot.last_dose_date or eot.date
    end = last_dose + days(testing.after_last_dose_days)
    if on > end:
        return None
    last = first_dose
    for test in reversed(history.pregnancy_tests):
        if test.result == "negative":
            last = max(test.date, first_dose)
            break
    if last >= end:
        return None
    irregular = bool(history.document.irregular_cycles)
    interval, tolerance = phase_interval(testing.phases, (last - first_dose).days, irregular)
    due = min(last + days(interval), end)
    due_by = min(due + days(tolerance), end)
    overdue = on > due_by
    known = "" if eot.last_dose_date else " (last dose date not recorded: end of treatment used)"
    return PregnancyTestDue(
        due - days(tolerance),
        due_by,
        overdue,
        rule,
        p.rule_source[rule],
        f"Pregnancy test due {due.isoformat()}: testing continues until "
        f"{testing.after_last_dose_days} days after the last dose ({last_dose.isoformat()}"
        f"{known}), that is until {end.isoformat()}; last negative {last.isoformat()}"
        + (": OVERDUE." if overdue else "."),
    )


def apply_disposition(
    parts: Parts, history: PatientHistory, p: ProtocolDefinition, ended: dt.date | None
) -> None:
    """Turn a recorded end of treatment or end of study into a stop; clear what is due after
    the end of follow-up (``ended``, from :func:`follow_up_end`)."""
    eot, eos = history.end_of_treatment, history.end_of_study
    record, rule = (eot, "END-OF-TREATMENT") if eot is not None else (eos, "END-OF-STUDY")
    if record is not None:
        term = DISPOSITION_TERMS[record.reason]
        what = "end of treatment" if rule == "END-OF-TREATMENT" else "end of study"
        reason = Reason(
            rule,
            p.rule_source[rule],
            f"{what.capitalize()} recorded on {record.date.isoformat()} "
            f"({record.reason.replace('_', ' ')}, CDISC {term}): no further treatment.",
            {"date": record.date, "reason": record.reason, "disposition": term},
        )
        stops = parts.reasons if parts.action == "stop" and parts.target is not None else []
        parts.reasons = [reason, *[r for r in stops if r.rule != "NONRESPONSE-STOP"]]
        parts.action, parts.target = "stop", None
        parts.disposition, parts.physician_decision = term, False
    if ended is not None:
        parts.next_visit = parts.scheduled = None
        parts.labs_due, parts.pregnancy = [], []
        parts.alerts = [a for a in parts.alerts if a.rule not in _DUE_ALERTS]


def clear_after_stop(parts: Parts) -> None:
    """A stop leaves nothing pending: no undetermined parts, dose decision or dosing alerts."""
    parts.undetermined = []
    parts.dosing_alerts = []
    if parts.next_visit is not None and parts.next_visit.kind == "dosing":
        parts.next_visit = parts.scheduled
