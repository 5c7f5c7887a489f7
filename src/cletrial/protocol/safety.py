"""Stopping rules and safety alerts from laboratory values, events, adverse events and SLEDAI-2K.

Blood counts are graded with :func:`cletrial.instruments.grade_lab` (NCI CTCAE); a quick
pre-screen in the count's canonical unit skips values that cannot reach the grades of interest.
Every threshold comes from the protocol definition; label-derived rules fire only when switched
on there.

>>> from cletrial.protocol.definition import load_protocol
>>> from cletrial.protocol.history import parse_history
>>> history = parse_history({"labs": [
...     {"date": "2009-03-02", "test": "neutrophils", "value": 900, "unit": "/mm3"}]})
>>> result = assess_safety(history, load_protocol(), dt.date(2009, 3, 3), since=None)
>>> [(s.rule, s.disposition) for s in result.stops]
[('STOP-MYELOSUPPRESSION', 'ADVERSE EVENT')]
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cletrial.instruments import grade_lab
from cletrial.protocol.definition import LabScreen, ProtocolDefinition
from cletrial.protocol.history import PatientHistory
from cletrial.protocol.results import Alert, Reason, Undetermined

__all__ = ["SafetyResult", "Stop", "assess_safety"]


@dataclass(slots=True, frozen=True)
class Stop:
    """A stopping rule that fired: date, rule, CDISC disposition term and the reason."""

    date: dt.date
    rule: str
    disposition: str
    reason: Reason


class SafetyResult:
    """Stops (by date), alerts, undetermined safety checks and monitoring facts."""

    __slots__ = ("alerts", "last_count", "neutropenia_grade", "stops", "undetermined")

    def __init__(self) -> None:
        self.stops: list[Stop] = []
        self.alerts: list[Alert] = []
        self.undetermined: list[Undetermined] = []
        self.neutropenia_grade: int | None = None
        self.last_count: dt.date | None = None


def _stop(
    p: ProtocolDefinition,
    out: SafetyResult,
    day: dt.date,
    rule: str,
    disposition: str,
    text: str,
    data: dict[str, Any],
) -> None:
    reason = Reason(rule, p.rule_source[rule], text, data)
    out.stops.append(Stop(day, rule, disposition, reason))


def _grade(p: ProtocolDefinition, screen: LabScreen, lab: Any) -> int:
    """CTCAE grade of ``lab``, or 0 when the screen shows it cannot reach ``screen.grade``."""
    if lab.value < screen.limits[lab.unit]:
        version = p.file.safety.ctcae_version
        return grade_lab(screen.term, lab.value, lab.unit, lln=lab.lln, version=version).grade
    return 0


def _labs(
    p: ProtocolDefinition, history: PatientHistory, out: SafetyResult, since: dt.date | None
) -> None:
    labs = history.labs
    first = 0
    if since is not None:
        while first < len(labs) and labs[first].date < since:
            first += 1
    myelo = p.file.safety.myelosuppression
    limits = p.stop_lab_limits
    low = [i for i, lab in enumerate(labs) if lab.value < limits[lab.test][lab.unit]]
    for i in low:
        lab = labs[i]
        if i < first:
            continue
        grade = _grade(p, p.stop_screens[lab.test], lab)
        if grade >= myelo.stop_grade:
            version = p.file.safety.ctcae_version
            _stop(
                p,
                out,
                lab.date,
                "STOP-MYELOSUPPRESSION",
                myelo.disposition,
                f"{lab.test} {lab.value:g} {lab.unit} on {lab.date.isoformat()} is NCI CTCAE "
                f"v{version} grade {grade} (stop at grade {myelo.stop_grade} or worse): stop "
                "treatment.",
                {
                    "field": f"labs[{i}]",
                    "test": lab.test,
                    "value": lab.value,
                    "unit": lab.unit,
                    "grade": grade,
                    "ctcae_version": version,
                    "stop_grade": myelo.stop_grade,
                },
            )
    counts = p.file.monitoring.blood_counts.tests
    alert_test = p.file.safety.neutropenia_alert.test
    for i in range(len(labs) - 1, first - 1, -1):
        if labs[i].test in counts:
            out.last_count = labs[i].date
            break
    for i in range(len(labs) - 1, first - 1, -1):
        if labs[i].test == alert_test:
            out.neutropenia_grade = _grade(p, p.alert_screen, labs[i])
            break


def _events(p: ProtocolDefinition, history: PatientHistory, out: SafetyResult) -> None:
    if not history.events and not history.pregnancy_tests:
        return
    for i, event in enumerate(history.events):
        stop = p.stop_events.get(event.type)
        if stop is not None and p.enabled(stop.rule):
            _stop(
                p,
                out,
                event.date,
                stop.rule,
                stop.disposition,
                f"Event {event.type.replace('_', ' ')} on {event.date.isoformat()}: stop "
                f"treatment ({stop.disposition}).",
                {"field": f"events[{i}]", "type": event.type},
            )
        elif event.type not in p.file.monitoring.follow_up_ends_on:
            out.alerts.append(
                Alert(
                    "EVENT-UNHANDLED",
                    p.rule_source["EVENT-UNHANDLED"],
                    "warning",
                    f"Event {event.type} on {event.date.isoformat()}: "
                    "no enabled rule of this protocol acts on it; review it.",
                    {"field": f"events[{i}]", "type": event.type},
                )
            )
    positive = p.file.safety.positive_pregnancy_test
    for i, test in enumerate(history.pregnancy_tests):
        if test.result == "positive":
            _stop(
                p,
                out,
                test.date,
                positive.rule,
                positive.disposition,
                f"Positive pregnancy test on {test.date.isoformat()}: stop treatment.",
                {"field": f"pregnancy_tests[{i}]"},
            )


def _adverse_events(p: ProtocolDefinition, history: PatientHistory, out: SafetyResult) -> None:
    if not history.adverse_events:
        return
    life = p.file.safety.life_threatening_adverse_event
    life_on = p.enabled("STOP-LIFE-THREATENING-AE")
    for i, ae in enumerate(history.adverse_events):
        data = {"field": f"adverse_events[{i}]", "term": ae.term, "grade": ae.grade}
        if life_on and ae.grade >= life.min_grade:
            _stop(
                p,
                out,
                ae.start,
                "STOP-LIFE-THREATENING-AE",
                life.disposition,
                f"Adverse event {ae.term!r} grade {ae.grade} from {ae.start.isoformat()} "
                f"(grade {life.min_grade} or worse is a life-threatening complication): stop "
                "treatment.",
                data,
            )
        term = ae.term.casefold()
        for stop, terms in p.adverse_event_stops:
            if term in terms and ae.grade >= stop.min_grade and p.enabled(stop.rule):
                _stop(
                    p,
                    out,
                    ae.start,
                    stop.rule,
                    stop.disposition,
                    f"Adverse event {ae.term!r} grade {ae.grade} from {ae.start.isoformat()}: "
                    f"stop treatment ({p.rule_source[stop.rule]}-derived rule).",
                    data,
                )


def _sledai(p: ProtocolDefinition, history: PatientHistory, out: SafetyResult) -> None:
    flare = p.file.safety.sle_flare
    base = history.baseline.sledai if history.baseline is not None else None
    scored = [(i, v) for i, v in enumerate(history.assessments) if v.sledai is not None]
    if base is None:
        if scored or history.first_dose_date is not None:
            out.undetermined.append(
                Undetermined(
                    "safety.sle_flare",
                    "SLE-FLARE-DATA",
                    p.rule_source["SLE-FLARE-DATA"],
                    ["baseline.sledai"],
                    "A severe systemic flare (SLEDAI-2K increase above "
                    f"{flare.stop_increase_above}) cannot be excluded without the baseline "
                    "SLEDAI-2K.",
                )
            )
        return
    latest = None
    for i, visit in scored:
        rise = visit.sledai - base  # type: ignore[operator]
        latest = (i, visit, rise)
        if rise > flare.stop_increase_above:
            _stop(
                p,
                out,
                visit.date,
                "STOP-SLE-FLARE",
                flare.disposition,
                f"SLEDAI-2K {visit.sledai} on {visit.date.isoformat()} is {rise} above baseline "
                f"{base} (severe flare: more than {flare.stop_increase_above}): stop treatment "
                "if the flare requires other treatment.",
                {
                    "field": f"assessments[{i}].sledai",
                    "score": visit.sledai,
                    "baseline": base,
                    "increase": rise,
                },
            )
    if latest is not None and p.enabled("SLE-MILD-FLARE"):
        i, visit, rise = latest
        if flare.alert_increase_above < rise <= flare.stop_increase_above:
            out.alerts.append(
                Alert(
                    "SLE-MILD-FLARE",
                    p.rule_source["SLE-MILD-FLARE"],
                    "warning",
                    f"SLEDAI-2K {visit.sledai} on {visit.date.isoformat()} is "
                    f"{rise} above baseline {base}: mild systemic flare (more "
                    f"than {flare.alert_increase_above}).",
                    {"field": f"assessments[{i}].sledai", "increase": rise},
                )
            )


def assess_safety(
    history: PatientHistory, protocol: ProtocolDefinition, on: dt.date, since: dt.date | None
) -> SafetyResult:
    """Apply the stopping rules and safety alerts to a history (all data dated up to ``on``).

    Parameters
    ----------
    history : PatientHistory
        The validated history.
    protocol : ProtocolDefinition
        The compiled protocol.
    on : date
        The recommendation date (the history holds nothing later).
    since : date or None
        Laboratory values before this date (screening) are not treatment data.

    Returns
    -------
    SafetyResult
        ``stops`` sorted by date (the first one decides the disposition).
    """
    out = SafetyResult()
    _labs(protocol, history, out, since)
    _events(protocol, history, out)
    _adverse_events(protocol, history, out)
    _sledai(protocol, history, out)
    out.stops.sort(key=lambda s: s.date)
    if out.neutropenia_grade is not None and protocol.enabled("LABEL-NEUTROPENIA"):
        alert = protocol.file.safety.neutropenia_alert
        if alert.grade <= out.neutropenia_grade < protocol.file.safety.myelosuppression.stop_grade:
            out.alerts.append(
                Alert(
                    "LABEL-NEUTROPENIA",
                    protocol.rule_source["LABEL-NEUTROPENIA"],
                    "warning",
                    f"The latest {alert.test} count is CTCAE grade "
                    f"{out.neutropenia_grade}: blood counts every "
                    f"{alert.every_days} days until it resolves.",
                    {"grade": out.neutropenia_grade, "every_days": alert.every_days},
                )
            )
    return out
