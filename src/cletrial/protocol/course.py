"""Replay a treatment course: cycles, the response review, taper, relapses and maintenance.

The replay walks the history's CLASI activity scores (CLASI-A) and the regimens given, in date
order (on the same date the assessment comes first: the visit decides, then the dose is given),
and keeps the protocol state: the current cycle and its review outcome, complete response (CR),
the taper, relapses and a pending restart. Each regimen change is compared with what the
protocol called for at that moment; a difference is a deviation. Every number comes from the
protocol definition.

>>> from cletrial.protocol.definition import load_protocol
>>> from cletrial.protocol.history import parse_history
>>> protocol = load_protocol()
>>> history = parse_history({
...     "baseline": {"date": "2009-02-02", "clasi": {"activity": 6}},
...     "assessments": [{"date": "2009-03-02", "clasi": {"activity": 0}}],
...     "doses": [{"date": "2009-02-02", "regimen": "5_daily"}]})
>>> course = replay_course(history, protocol, stop_date=None)
>>> course.cycle.review, course.cycle.cr_date
('cr', datetime.date(2009, 3, 2))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from cletrial.errors import HistoryError
from cletrial.protocol.definition import ProtocolDefinition
from cletrial.protocol.history import PatientHistory
from cletrial.protocol.results import Deviation

__all__ = ["Course", "Cycle", "Relapse", "improvement_percent", "replay_course"]


@dataclass(slots=True)
class Relapse:
    """A relapse: date, CLASI-A, the regimen (ladder index) at relapse and its number."""

    date: dt.date
    activity: int
    regimen: int
    number: int


@dataclass(slots=True)
class Cycle:
    """One treatment cycle: started at ``start`` on ``regimen`` (ladder index)."""

    number: int
    start: dt.date
    regimen: int
    mode: str  # "induction" or "maintenance"
    reference: int | None
    relapse: Relapse | None = None
    review: str | None = None  # "cr", "pr", "minor", "short" or "unknown"
    review_date: dt.date | None = None
    review_activity: int | None = None
    review_improvement: float | None = None
    first_cr: dt.date | None = None
    cr_date: dt.date | None = None
    pre_taper: int | None = None
    flare: tuple[dt.date, int] | None = None


@dataclass(slots=True)
class Course:
    """The protocol state of a patient, as replayed from the history."""

    current: int
    started: bool = False
    first_dose: dt.date | None = None
    last_change: dt.date | None = None
    cycle: Cycle | None = None
    last: tuple[dt.date, int] | None = None
    relapses: list[Relapse] = field(default_factory=list)
    pending: tuple[str, int, Relapse] | None = None
    resolved: tuple[Relapse, dt.date] | None = None
    discontinued: dt.date | None = None
    deviations: list[Deviation] = field(default_factory=list)


def improvement_percent(reference: int | None, activity: int) -> float | None:
    """Percent fall of CLASI-A from ``reference`` (``None`` when it cannot be computed).

    >>> improvement_percent(6, 3), improvement_percent(4, 6), improvement_percent(0, 0)
    (50.0, -50.0, None)
    """
    if reference is None or reference <= 0:
        return None
    return (reference - activity) * 100.0 / reference


def _review_outcome(p: ProtocolDefinition, cycle: Cycle, activity: int) -> str:
    n = p.n
    if activity <= n.cr_max:
        return "cr"
    gain = improvement_percent(cycle.reference, activity)
    cycle.review_improvement = gain
    if gain is None:
        return "unknown"
    if gain >= n.pr_min:
        return "pr"
    return "short" if gain < n.escalate_below else "minor"


def _relapse(p: ProtocolDefinition, course: Course, day: dt.date, activity: int) -> None:
    relapse = Relapse(day, activity, course.current, len(course.relapses) + 1)
    course.relapses.append(relapse)
    maintenance = p.file.dosing.maintenance
    if relapse.number >= maintenance.after_relapses and p.enabled("RELAPSE-MAINTAIN"):
        target = max(course.current - maintenance.steps_above_relapse, p.maintenance_highest)
        kind = "maintain"
    else:
        target, kind = p.restart, "restart"
    if target >= course.current:  # already on that dose (or higher): the cycle begins now
        _new_cycle(p, course, day, course.current, kind, relapse)
    else:
        course.pending = (kind, target, relapse)


def _new_cycle(
    p: ProtocolDefinition, course: Course, day: dt.date, regimen: int, kind: str, relapse: Relapse
) -> None:
    assert course.cycle is not None
    reference = relapse.activity if p.n.cycle_reference else course.cycle.reference
    course.cycle = Cycle(
        number=course.cycle.number + 1,
        start=day,
        regimen=regimen,
        mode="maintenance" if kind == "maintain" else "induction",
        reference=reference,
        relapse=relapse,
    )
    course.pending = None


def _assess(p: ProtocolDefinition, course: Course, day: dt.date, activity: int) -> None:
    cycle = course.cycle
    if cycle is None:
        return
    n = p.n
    in_cr = activity <= n.cr_max
    course.last = (day, activity)
    if course.pending is not None:
        if in_cr:
            course.resolved = (course.pending[2], day)
            course.pending = None
        return
    if cycle.mode == "maintenance":
        if in_cr and cycle.cr_date is None:
            cycle.cr_date = cycle.first_cr = day
        elif cycle.cr_date is not None and activity >= n.relapse_min:
            cycle.flare = (day, activity)
        return
    tapering = cycle.pre_taper is not None and course.current > cycle.pre_taper
    if cycle.first_cr is not None and tapering and activity >= n.relapse_min:
        _relapse(p, course, day, activity)
        return
    if cycle.review is None and (day - cycle.start).days >= n.review_day - n.review_window:
        cycle.review = _review_outcome(p, cycle, activity)
        cycle.review_date, cycle.review_activity = day, activity
    if in_cr:
        if cycle.first_cr is None:
            cycle.first_cr = day
        if cycle.review is not None and cycle.cr_date is None:
            cycle.cr_date = day


def _first_dose(p: ProtocolDefinition, course: Course, day: dt.date, regimen: int) -> None:
    course.started, course.first_dose = True, day
    course.current, course.last_change = regimen, day
    reference = None
    course.cycle = Cycle(1, day, regimen, "induction", reference)
    if regimen != p.start:
        given, wanted = p.regimens[regimen], p.regimens[p.start]
        course.deviations.append(
            Deviation(
                "DEVIATION-DOSE",
                p.rule_source["DEVIATION-DOSE"],
                day,
                "doses[0].regimen",
                f"First regimen {given.schedule} ({given.id}); the protocol starts at "
                f"{wanted.schedule} ({wanted.id}).",
                {"given": given.id, "protocol": wanted.id},
            )
        )


def _dose(
    p: ProtocolDefinition,
    course: Course,
    i: int,
    day: dt.date,
    regimen: int,
    stop_date: dt.date | None,
    judged: tuple[str, int | None],
) -> None:
    cycle = course.cycle
    assert cycle is not None
    if regimen == course.current:
        return
    given = p.regimens[regimen]
    action, target = judged
    if action == "stop" and regimen == p.off:
        course.discontinued = day
    if stop_date is not None and day >= stop_date and regimen != p.off:
        course.deviations.append(
            Deviation(
                "DEVIATION-DOSE-AFTER-STOP",
                p.rule_source["DEVIATION-DOSE-AFTER-STOP"],
                day,
                f"doses[{i}].regimen",
                f"{given.schedule} given from {day.isoformat()}, after a "
                f"stopping rule fired on {stop_date.isoformat()}.",
                {"given": given.id},
            )
        )
    elif target is not None and target != regimen:
        wanted = p.regimens[target]
        course.deviations.append(
            Deviation(
                "DEVIATION-DOSE",
                p.rule_source["DEVIATION-DOSE"],
                day,
                f"doses[{i}].regimen",
                f"{given.schedule} ({given.id}) from {day.isoformat()}; the protocol called for "
                f"{wanted.schedule} ({wanted.id}) then.",
                {"given": given.id, "protocol": wanted.id},
            )
        )
    if course.pending is not None and regimen < course.current:
        kind, _target, relapse = course.pending
        _new_cycle(p, course, day, regimen, kind, relapse)
    elif regimen > course.current and cycle.first_cr is not None and cycle.pre_taper is None:
        cycle.pre_taper = course.current
    course.current, course.last_change = regimen, day


def replay_course(
    history: PatientHistory,
    protocol: ProtocolDefinition,
    *,
    stop_date: dt.date | None,
    judge: Callable[[Course, dt.date], tuple[str, int | None]] | None = None,
) -> Course:
    """Replay the history's assessments and regimens through the protocol's dosing rules.

    Parameters
    ----------
    history : PatientHistory
        A validated history whose regimens are steps of ``protocol``'s ladder.
    protocol : ProtocolDefinition
        The compiled protocol.
    stop_date : date or None
        Date a stopping rule fired; regimens given after it are deviations.
    judge : callable, optional
        ``judge(course, day) -> (action, ladder index or None)``: what the protocol called for
        on a day, used to report regimen changes that differ from it (``None``: undetermined)
        and to recognise a discontinuation the protocol recommended.

    Raises
    ------
    HistoryError
        A regimen that is not on the protocol's ladder, or a first dose of no treatment.
    """
    index = protocol.regimen_index
    doses = history.doses
    regimens = [index.get(dose.regimen, -1) for dose in doses]
    if -1 in regimens:
        i = regimens.index(-1)
        dose = doses[i]
        raise HistoryError(
            f"doses[{i}].regimen",
            dose.regimen,
            f"must be a step of {protocol.id}'s ladder: " + ", ".join(index),
        )
    if regimens and regimens[0] == protocol.off:
        raise HistoryError(
            "doses[0].regimen",
            doses[0].regimen,
            "the first dose record must start a regimen, not stop one",
        )
    course = Course(current=protocol.off)
    baseline = history.baseline
    reference = baseline.clasi_activity if baseline is not None else None
    visits = [v for v in history.assessments if v.clasi_activity is not None]
    n_visits, k = len(visits), 0
    for i, dose in enumerate(doses):
        day = dose.date
        while k < n_visits and visits[k].date <= day:
            _assess(protocol, course, visits[k].date, visits[k].clasi_activity)  # type: ignore[arg-type]
            k += 1
        if not course.started:
            _first_dose(protocol, course, day, regimens[i])
            assert course.cycle is not None
            course.cycle.reference = reference
            continue
        changed = regimens[i] != course.current
        judged = judge(course, day) if judge is not None and changed else ("", None)
        _dose(protocol, course, i, day, regimens[i], stop_date, judged)
    while k < n_visits:
        _assess(protocol, course, visits[k].date, visits[k].clasi_activity)  # type: ignore[arg-type]
        k += 1
    return course
