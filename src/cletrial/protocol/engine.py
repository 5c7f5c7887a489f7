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
from cletrial.protocol._dates import days
from cletrial.protocol.course import Course, replay_course
from cletrial.protocol.definition import ProtocolDefinition
from cletrial.protocol.dosing import DoseDecision, decide_dose
from cletrial.protocol.history import (
    PatientHistory,
    assert_date_in_range,
    parse_history,
    truncate_history,
)
from cletrial.protocol.monitoring import (
    baseline_panel_due,
    blood_counts_due,
    female_of_reproductive_potential,
    medication_deviations,
    pregnancy_deviation,
    pregnancy_tests_before_start,
    pregnancy_tests_on_treatment,
    visit_windows,
)
from cletrial.protocol.results import (
    Alert,
    CourseSummary,
    NextVisit,
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
    for name, value in (
        ("baseline.date", doc.baseline.date if doc.baseline else None),
        ("first_dose_date", doc.first_dose_date),
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


def _summary(course: Course, p: ProtocolDefinition, safety: SafetyResult) -> CourseSummary:
    cycle = course.cycle
    stop_date = safety.stops[0].date if safety.stops else None
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


class _Parts:
    """Collects the lists of a recommendation while it is assembled."""

    def __init__(self, decision: DoseDecision, safety: SafetyResult, course: Course) -> None:
        self.action, self.target = decision.action, decision.target
        self.reasons: list[Reason] = decision.reasons
        self.alerts = safety.alerts
        self.undetermined = [*safety.undetermined, *decision.undetermined]
        self.deviations = list(course.deviations)
        self.labs_due: list[Any] = []
        self.pregnancy: list[Any] = []
        self.next_visit: NextVisit | None = None


def _not_started(
    parts: _Parts, history: PatientHistory, p: ProtocolDefinition, on: dt.date
) -> None:
    parts.labs_due = baseline_panel_due(history, p, on)
    first_visit = p.visit_plan[1]
    target = on + days(first_visit[1])
    parts.next_visit = NextVisit(
        target,
        target - days(first_visit[2]),
        target + days(first_visit[2]),
        "scheduled",
        f"week {first_visit[0]} visit (if started on {on.isoformat()})",
    )
    if not p.enabled("LABEL-PREGNANCY-TESTING"):
        return
    frp = female_of_reproductive_potential(history)
    withhold = p.file.monitoring.pregnancy_testing.withhold_start_until_negative
    if frp is None:
        parts.undetermined.append(
            Undetermined(
                "pregnancy_testing",
                "LABEL-PREGNANCY-TESTING",
                p.rule_source["LABEL-PREGNANCY-TESTING"],
                ["sex", "reproductive_potential"],
                "Whether pregnancy tests are required before the "
                "first dose depends on sex and reproductive potential, which are not recorded.",
            )
        )
        if parts.action == "start" and withhold:
            parts.action, parts.target = "undetermined", None
        return
    if not frp:
        return
    ready, start, due = pregnancy_tests_before_start(history, p, on)
    parts.pregnancy = due
    if parts.action == "start" and not ready and withhold:
        parts.action, parts.target = "hold", p.off
        parts.next_visit = NextVisit(start, start, start, "start", "earliest first dose")
        parts.reasons.insert(
            0,
            Reason(
                "LABEL-PREGNANCY-TESTING",
                p.rule_source["LABEL-PREGNANCY-TESTING"],
                "Do not start yet: a female of reproductive potential needs negative pregnancy "
                f"tests before the first dose; the earliest first dose is {start.isoformat()}.",
                {"earliest_start": start},
            ),
        )


def _started(
    parts: _Parts,
    history: PatientHistory,
    p: ProtocolDefinition,
    on: dt.date,
    course: Course,
    safety: SafetyResult,
    decision: DoseDecision,
) -> None:
    first = course.first_dose
    assert first is not None
    ends = p.file.monitoring.follow_up_ends_on
    end = next((e.date for e in history.events if e.type in ends), None)
    on_drug = course.current != p.off and end is None
    if on_drug:
        neutropenia = parts.alerts and any(a.rule == "LABEL-NEUTROPENIA" for a in parts.alerts)
        counts = blood_counts_due(history, p, on, first, safety.last_count, bool(neutropenia))
        parts.labs_due.append(counts)
        if counts.overdue:
            parts.alerts.append(Alert(counts.rule, counts.source, "warning", counts.text, {}))
            parts.undetermined.append(
                Undetermined(
                    "safety.myelosuppression",
                    "BLOOD-COUNTS",
                    p.rule_source["BLOOD-COUNTS"],
                    [f"labs[] {counts.name} since {counts.due.isoformat()}"],
                    "Grade 3 myelosuppression cannot be excluded: the blood count is overdue.",
                )
            )
    frp = female_of_reproductive_potential(history)
    if p.enabled("LABEL-PREGNANCY-TESTING"):
        if frp is None and on_drug:
            parts.undetermined.append(
                Undetermined(
                    "pregnancy_testing",
                    "LABEL-PREGNANCY-TESTING",
                    p.rule_source["LABEL-PREGNANCY-TESTING"],
                    ["sex", "reproductive_potential"],
                    "Pregnancy testing depends on sex and reproductive potential, not recorded.",
                )
            )
        elif frp:
            deviation = pregnancy_deviation(history, p, first)
            if deviation is not None:
                parts.deviations.append(deviation)
            if on_drug:
                test = pregnancy_tests_on_treatment(history, p, on, first)
                parts.pregnancy.append(test)
                if test.overdue:
                    parts.alerts.append(Alert(test.rule, test.source, "warning", test.text, {}))
    scheduled, alerts = visit_windows(history, p, on, first, end)
    parts.alerts.extend(alerts)
    parts.next_visit = scheduled
    if decision.next_decision is not None and end is None:
        day, window, label = decision.next_decision
        if day + days(window) >= on and (scheduled is None or day < scheduled.date):
            parts.next_visit = NextVisit(
                day, day - days(window), day + days(window), "dosing", label
            )


def _finish(
    parts: _Parts,
    history: PatientHistory,
    p: ProtocolDefinition,
    course: Course,
    safety: SafetyResult,
    decision: DoseDecision,
) -> None:
    for rule, text, data in decision.alerts:
        parts.alerts.append(Alert(rule, p.rule_source[rule], "warning", text, data))
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
    if safety.stops:
        parts.action, parts.target = "stop", p.off
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
        Action (start, continue, escalate, taper, restart, maintain, hold, stop or
        undetermined), regimen, reasons, next visit, labs and pregnancy tests due, alerts,
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
    parts = _Parts(decision, safety, course)
    if course.started:
        _started(parts, history, protocol, on, course, safety, decision)
    else:
        _not_started(parts, history, protocol, on)
    _finish(parts, history, protocol, course, safety, decision)
    assert_dose_within_maximum(protocol, parts.target)
    stopping = parts.action == "stop"
    disposition = None
    if stopping:
        disposition = safety.stops[0].disposition if safety.stops else decision.disposition
    file = protocol.file
    return Recommendation(  # positional: the field order of Recommendation
        file.id,
        file.version,
        file.example,
        on,
        parts.action,  # type: ignore[arg-type]
        None if parts.target is None else _out(protocol, parts.target),
        _out(protocol, course.current),
        decision.physician_decision and stopping and not safety.stops,
        disposition,
        parts.reasons,
        parts.next_visit,
        parts.labs_due,
        parts.pregnancy,
        parts.alerts,
        parts.deviations,
        parts.undetermined,
        _summary(course, protocol, safety),
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
