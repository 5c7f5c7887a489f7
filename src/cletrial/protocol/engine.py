"""The recommendation: what to do for one patient on one date, and why.

:func:`recommend` checks the history against the date (nothing may be dated later) and the
protocol (regimens on its ladder), applies the stopping rules, replays the course to decide the
dose, and adds what is due (visits, blood counts, pregnancy tests), alerts and protocol
deviations. Parts the history cannot decide are listed as ``undetermined``, never guessed.

>>> from cletrial.protocol.definition import load_protocol
>>> protocol = load_protocol()
>>> history = {
...     "sex": "F", "reproductive_potential": False,
...     "baseline": {"date": "2009-02-02", "clasi": {"activity": 6}, "sledai": {"score": 2}},
...     "assessments": [{"date": "2009-03-02", "clasi": {"activity": 4}, "sledai": {"score": 2}}],
...     "doses": [{"date": "2009-02-02", "regimen": "5_daily"}]}
>>> rec = recommend(history, protocol, dt.date(2009, 3, 2))
>>> rec.action, rec.regimen.id, rec.reasons[0].rule, rec.reasons[0].source
('escalate', '10_daily', 'REVIEW-ESCALATE', 'default')
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from cletrial.errors import HistoryError, ProtocolDefinitionError
from cletrial.protocol.blinding import compute_blinding
from cletrial.protocol.course import Course, replay_course
from cletrial.protocol.definition import ProtocolDefinition
from cletrial.protocol.disposition import apply_disposition, clear_after_stop, follow_up_end
from cletrial.protocol.dosing import DoseDecision, decide_dose
from cletrial.protocol.due import due_before_start, due_on_course
from cletrial.protocol.enrolment import enrolment_deviations, gate_first_dose
from cletrial.protocol.history import (
    PatientHistory,
    assert_date_in_range,
    parse_history,
    truncate_history,
)
from cletrial.protocol.monitoring import (
    medication_deviations,
)
from cletrial.protocol.parts import Parts
from cletrial.protocol.results import (
    Alert,
    CourseSummary,
    Reason,
    Recommendation,
    RegimenOut,
    RelapseOut,
    Undetermined,
)
from cletrial.protocol.safety import SafetyResult, assess_safety

__all__ = ["assert_dose_within_maximum", "recommend", "recommend_at_visits"]


def _check_after(name: str, items: list[Any], on: dt.date, attr: str = "date") -> None:
    if not items or getattr(items[-1], attr) <= on:
        return
    i = len(items) - 1
    while i > 0 and getattr(items[i - 1], attr) > on:
        i -= 1
    raise HistoryError(
        f"{name}[{i}].{attr}",
        getattr(items[i], attr).isoformat(),
        f"is after the recommendation date {on.isoformat()}: give only data "
        "known on that date (truncate_history drops later data)",
    )


def check_history_date(history: PatientHistory, on: dt.date) -> None:
    """Raise :class:`HistoryError` naming the first field dated after ``on``."""
    doc = history.document
    elig, eot, eos = doc.eligibility, doc.end_of_treatment, doc.end_of_study
    for name, value in (
        ("baseline.date", doc.baseline.date if doc.baseline else None),
        ("first_dose_date", doc.first_dose_date),
        ("eligibility.date", elig.date if elig else None),
        ("eligibility.override.date", elig.override.date if elig and elig.override else None),
        ("end_of_treatment.date", eot.date if eot else None),
        ("end_of_study.date", eos.date if eos else None),
    ):
        if value is not None and value > on:
            raise HistoryError(
                name, value.isoformat(), f"is after the recommendation date {on.isoformat()}"
            )
    for name, items in (
        ("assessments", doc.assessments),
        ("labs", doc.labs),
        ("doses", doc.doses),
        ("pregnancy_tests", doc.pregnancy_tests),
        ("events", doc.events),
    ):
        if items and items[-1].date > on:  # lists are in date order (checked on parsing)
            _check_after(name, items, on)
    if not doc.adverse_events:
        return
    _check_after("adverse_events", doc.adverse_events, on, "start")
    for i, ae in enumerate(doc.adverse_events):
        if ae.end is not None and ae.end > on:
            raise HistoryError(
                f"adverse_events[{i}].end",
                ae.end.isoformat(),
                f"is after the recommendation date {on.isoformat()}",
            )


def assert_dose_within_maximum(protocol: ProtocolDefinition, regimen: int | None) -> None:
    """Raise if ``regimen`` (ladder index) exceeds the protocol's maximum dose.

    >>> from cletrial.protocol.definition import load_protocol
    >>> assert_dose_within_maximum(load_protocol(), 0)
    """
    if regimen is None:
        return
    dose = protocol.regimens[regimen].dose_mg
    if dose > protocol.file.maximum_dose_mg:
        raise ProtocolDefinitionError(
            f"{protocol.origin}: regimens[{regimen}].dose_mg = {dose}: exceeds maximum_dose_mg "
            f"{protocol.file.maximum_dose_mg}; no recommendation may exceed it"
        )


def _out(protocol: ProtocolDefinition, index: int) -> RegimenOut:
    r = protocol.regimens[index]
    return RegimenOut(r.id, r.dose_mg, r.schedule)


def _phase(course: Course, p: ProtocolDefinition, stop: bool) -> str:
    cycle = course.cycle
    if stop:
        return "stopped"
    if not course.started or cycle is None:
        return "not_started"
    if course.pending is not None:
        return "relapse"
    if cycle.mode == "maintenance":
        return "maintenance"
    if cycle.cr_date is not None:
        return "off_in_remission" if course.current >= p.taper_last else "taper"
    if cycle.review is None:
        return "induction"
    return "escalated" if course.current == p.escalation != p.start else "review_" + cycle.review


def _summary(
    course: Course, p: ProtocolDefinition, safety: SafetyResult, history: PatientHistory
) -> CourseSummary:
    cycle = course.cycle
    stop_date = safety.stops[0].date if safety.stops else None
    ended = history.end_of_treatment or history.end_of_study
    if ended is not None and (stop_date is None or ended.date < stop_date):
        stop_date = ended.date
    relapses = [RelapseOut(r.date, r.activity, p.regimens[r.regimen].id) for r in course.relapses]
    phase = _phase(course, p, stop_date is not None)
    if cycle is None:
        return CourseSummary(
            course.started, course.first_dose, 0, None, phase, None, None, relapses, stop_date
        )
    return CourseSummary(
        course.started,
        course.first_dose,
        cycle.number,
        cycle.start,
        phase,
        cycle.review,
        cycle.first_cr,
        relapses,
        stop_date,
    )


#: Undetermined parts that leave the action undetermined (the others are reported beside it).
_DECIDING_PARTS = frozenset({"dose", "enrolment", "pregnancy_testing"})


def _explain_undetermined(parts: Parts) -> None:
    """An undetermined action always has reasons, each naming what is missing."""
    parts.reasons = [r for r in parts.reasons if r.rule != "DOSE-START"]
    why = [
        Reason(
            u.rule,
            u.source,
            f"Undetermined ({u.part}): {u.text} Missing: {', '.join(u.missing)}.",
            {"part": u.part, "missing": list(u.missing)},
        )
        for u in parts.undetermined
        if u.part in _DECIDING_PARTS
    ]
    parts.reasons[:0] = why


def _finish(
    parts: Parts,
    history: PatientHistory,
    p: ProtocolDefinition,
    course: Course,
    safety: SafetyResult,
    decision: DoseDecision,
) -> None:
    for rule, text, data in decision.alerts:
        parts.dosing_alerts.append(Alert(rule, p.rule_source[rule], "warning", text, data))
    if course.resolved is not None:
        relapse, day = course.resolved
        parts.reasons.append(
            Reason(
                "RELAPSE-RESOLVED",
                p.rule_source["RELAPSE-RESOLVED"],
                f"The relapse of {relapse.date.isoformat()} was not treated "
                f"and complete response returned on {day.isoformat()}.",
                {"relapse_date": relapse.date},
            )
        )
    deviations, missing = medication_deviations(history, p)
    parts.deviations.extend(deviations)
    if missing:
        parts.undetermined.append(
            Undetermined(
                "deviations.medication",
                "DEVIATION-MEDICATION",
                p.rule_source["DEVIATION-MEDICATION"],
                missing,
                "Changes of concomitant medication cannot be judged without the baseline list.",
            )
        )
    parts.disposition, parts.physician_decision = decision.disposition, decision.physician_decision
    if safety.stops:
        parts.action, parts.target = "stop", p.off
        parts.disposition, parts.physician_decision = safety.stops[0].disposition, False
        parts.reasons = [stop.reason for stop in safety.stops]
        parts.alerts.insert(
            0,
            Alert(
                safety.stops[0].rule,
                safety.stops[0].reason.source,
                "critical",
                safety.stops[0].reason.text,
                {},
            ),
        )
    apply_disposition(parts, history, p, follow_up_end(history, p))
    if parts.action == "stop":
        clear_after_stop(parts)
    else:
        parts.disposition, parts.physician_decision = None, False
        parts.alerts.extend(parts.dosing_alerts)
    if parts.action == "undetermined":
        _explain_undetermined(parts)
    if p.example:
        parts.alerts.insert(
            0,
            Alert(
                "EXAMPLE-PROTOCOL",
                p.rule_source["EXAMPLE-PROTOCOL"],
                "warning",
                f"{p.id} is an EXAMPLE protocol definition, not for clinical use.",
                {},
            ),
        )
    if len(parts.deviations) > 1:
        parts.deviations.sort(key=lambda d: d.date)


def recommend(
    history: PatientHistory | Mapping[str, Any], protocol: ProtocolDefinition, on: dt.date
) -> Recommendation:
    """Recommend what to do for one patient on date ``on``, with reasons (decision support).

    Parameters
    ----------
    history : PatientHistory or mapping
        The patient's history (a mapping is validated with :func:`parse_history`).
    protocol : ProtocolDefinition
        From :func:`~cletrial.protocol.load_protocol`; parse it once and reuse it.
    on : date
        The date of the decision; the history may hold nothing dated later.

    Returns
    -------
    Recommendation
        Action (start, continue, escalate, taper, restart, maintain, hold, do_not_start, stop
        or undetermined), regimen, reasons, next visit, labs and pregnancy tests due, alerts,
        deviations and undetermined parts.

    Raises
    ------
    HistoryError
        Data dated after ``on``, a regimen off the protocol's ladder, a history for another
        protocol, or any validation error of the history.
    """
    if not isinstance(history, PatientHistory):
        history = parse_history(history)
    named = history.document.protocol
    if named is not None and named not in (protocol.id, protocol.origin):
        raise HistoryError(
            "protocol",
            named,
            f"this history is for another protocol than {protocol.id}; give the matching protocol",
        )
    assert_date_in_range("on", on)
    check_history_date(history, on)
    baseline = history.baseline
    since = baseline.date if baseline is not None else history.first_dose_date
    safety = assess_safety(history, protocol, on, since)
    stop_date = safety.stops[0].date if safety.stops else None

    def judge(course: Course, day: dt.date) -> tuple[str, int | None]:
        judged = decide_dose(course, protocol, day, False)
        return judged.action, judged.target

    course = replay_course(history, protocol, stop_date=stop_date, judge=judge)
    decision = decide_dose(course, protocol, on, True)
    parts = Parts(decision, safety, course)
    if course.started:
        due_on_course(parts, history, protocol, on, course, safety, decision)
        enrolment_deviations(parts, history, protocol)
    else:
        due_before_start(parts, history, protocol, on)
        gate_first_dose(parts, history, protocol)
    _finish(parts, history, protocol, course, safety, decision)
    assert_dose_within_maximum(protocol, parts.target)
    file = protocol.file
    return Recommendation(  # positional: the field order of Recommendation
        file.id,
        file.version,
        file.example,
        on,
        parts.action,  # type: ignore[arg-type]
        None if parts.target is None else _out(protocol, parts.target),
        _out(protocol, course.current),
        parts.physician_decision,
        parts.disposition,
        parts.reasons,
        parts.next_visit,
        parts.labs_due,
        parts.pregnancy,
        parts.alerts,
        parts.deviations,
        parts.undetermined,
        _summary(course, protocol, safety, history),
        compute_blinding(protocol),
    )


def recommend_at_visits(
    history: PatientHistory | Mapping[str, Any],
    protocol: ProtocolDefinition,
    dates: Iterable[dt.date] | None = None,
) -> list[Recommendation]:
    """Replay a course: the recommendation at each date, from the history known on that date.

    At each date the history is cut as it stood when that visit was deciding the dose: data
    dated on or before it, except regimens started that very day (the decision comes first).

    Parameters
    ----------
    history : PatientHistory or mapping
        The full history.
    protocol : ProtocolDefinition
        The compiled protocol.
    dates : iterable of date, optional
        Decision dates; default the dates of the history's assessments.

    >>> from cletrial.protocol.definition import load_protocol
    >>> recs = recommend_at_visits({
    ...     "sex": "M", "baseline": {"date": "2009-02-02", "clasi": {"activity": 6}},
    ...     "assessments": [{"date": "2009-03-02", "clasi": {"activity": 0}}],
    ...     "doses": [{"date": "2009-02-02", "regimen": "5_daily"}]}, load_protocol())
    >>> [(r.on.isoformat(), r.action, r.regimen.id) for r in recs]
    [('2009-03-02', 'taper', '5_alternate')]
    """
    if not isinstance(history, PatientHistory):
        history = parse_history(history)
    days = [a.date for a in history.assessments] if dates is None else list(dates)
    return [
        recommend(truncate_history(history, day, doses_on_date=False), protocol, day)
        for day in days
    ]
