"""The dose decision on a date, from the replayed course: what regimen the protocol calls for.

:func:`decide_dose` reads a :class:`~cletrial.protocol.course.Course` and returns a
:class:`DoseDecision`: the action, the target regimen (ladder index, ``None`` when undetermined),
the reasons with the settings they used, what is undetermined, and when the next dose decision
falls due. Stopping rules from safety data are applied by the engine on top of this.

>>> from cletrial.protocol.definition import load_protocol
>>> from cletrial.protocol.course import Course
>>> protocol = load_protocol()
>>> decision = decide_dose(Course(current=protocol.off), protocol, dt.date(2009, 2, 2), True)
>>> decision.action, protocol.regimens[decision.target].id
('start', '5_daily')
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cletrial.protocol._dates import days
from cletrial.protocol.course import Course, Cycle, improvement_percent
from cletrial.protocol.definition import ProtocolDefinition
from cletrial.protocol.results import Reason, Undetermined

__all__ = ["DoseDecision", "decide_dose"]


class DoseDecision:
    """The dosing part of a recommendation: action, target regimen (ladder index, ``None`` when
    undetermined), reasons, undetermined parts, the next decision ``(date, window days,
    label)``, the physician-decision flag, a disposition and alerts ``(rule, text, data)``."""

    __slots__ = (
        "action", "alerts", "disposition", "next_decision", "physician_decision", "reasons",
        "target", "undetermined",
    )  # fmt: skip

    def __init__(self, action: str, target: int | None) -> None:
        self.action = action
        self.target = target
        self.reasons: list[Reason] = []
        self.undetermined: list[Undetermined] = []
        self.next_decision: tuple[dt.date, int, str] | None = None
        self.physician_decision = False
        self.disposition: str | None = None
        self.alerts: list[tuple[str, str, dict[str, Any]]] = []


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


class _Explainer:
    """Builds reasons only when asked to (replays judge many dates without explaining)."""

    __slots__ = ("decision", "explain", "p")

    def __init__(self, p: ProtocolDefinition, decision: DoseDecision, explain: bool) -> None:
        self.p, self.decision, self.explain = p, decision, explain

    def reason(self, rule: str, text: str, data: dict[str, Any]) -> None:
        self.decision.reasons.append(Reason(rule, self.p.rule_source[rule], text, data))

    def missing(self, rule: str, missing: list[str], text: str) -> None:
        decision = self.decision
        decision.action, decision.target = "undetermined", None
        decision.undetermined.append(
            Undetermined("dose", rule, self.p.rule_source[rule], missing, text)
        )


def _schedule(p: ProtocolDefinition, index: int) -> str:
    return p.regimens[index].schedule


def _move(current: int, target: int) -> str:
    if target < current:
        return "escalate"
    return "taper" if target > current else "continue"


def _relapse_reason(ex: _Explainer, course: Course, kind: str, target: int, relapse: Any) -> None:
    p = ex.p
    data = {
        "date": relapse.date,
        "activity": relapse.activity,
        "relapse_min": p.file.response.relapse_min,
        "regimen_at_relapse": p.regimens[relapse.regimen].id,
        "relapse_number": relapse.number,
        "regimen": p.regimens[target].id,
    }
    where = f"on {_schedule(p, relapse.regimen)}"
    if kind == "maintain":
        m = p.file.dosing.maintenance
        data |= {
            "after_relapses": m.after_relapses,
            "steps_above_relapse": m.steps_above_relapse,
            "highest_regimen": m.highest_regimen,
        }
        ex.reason(
            "RELAPSE-MAINTAIN",
            f"Relapse number {relapse.number} on "
            f"{relapse.date.isoformat()} (CLASI-A {relapse.activity} >= "
            f"{p.file.response.relapse_min} after complete response, {where}): hold a "
            f"long-term maintenance dose {m.steps_above_relapse} step(s) above the relapse "
            f"step, not above {m.highest_regimen}: {_schedule(p, target)}.",
            data,
        )
    else:
        ex.reason(
            "RELAPSE-RESTART",
            f"Relapse on {relapse.date.isoformat()}: CLASI-A "
            f"{relapse.activity} >= {p.file.response.relapse_min} after complete response, "
            f"{where}: restart {_schedule(p, target)} as a new treatment cycle.",
            data,
        )


def _before_review(ex: _Explainer, course: Course, cycle: Cycle, on: dt.date) -> None:
    p, decision = ex.p, ex.decision
    review = p.file.dosing.review
    due = cycle.start + days(review.week * 7)
    decision.target = cycle.regimen
    decision.action = _move(course.current, cycle.regimen)
    decision.next_decision = (due, review.window_days, f"week-{review.week} review")
    if cycle.relapse is not None and on == cycle.start:
        decision.action = "restart"
        if ex.explain:
            _relapse_reason(ex, course, "restart", cycle.regimen, cycle.relapse)
    if not ex.explain:
        return
    ex.reason(
        "DOSE-INDUCTION",
        f"Cycle {cycle.number} began {cycle.start.isoformat()}: continue "
        f"{_schedule(p, cycle.regimen)} until the week-{review.week} review on "
        f"{due.isoformat()} (window +/- {review.window_days} days).",
        {
            "cycle": cycle.number,
            "cycle_start": cycle.start,
            "review_week": review.week,
            "review_date": due,
            "window_days": review.window_days,
        },
    )
    if cycle.first_cr is not None:
        ex.reason(
            "CR-BEFORE-REVIEW",
            f"Complete response on {cycle.first_cr.isoformat()}, before "
            f"the week-{review.week} review: the taper begins at the review if it holds.",
            {"date": cycle.first_cr},
        )


def _review_missing(ex: _Explainer, cycle: Cycle, on: dt.date) -> None:
    p = ex.p
    review = p.file.dosing.review
    due = cycle.start + days(review.week * 7)
    first, last = due - days(review.window_days), due + days(review.window_days)
    if cycle.review == "unknown":
        ex.missing(
            "REFERENCE-MISSING",
            ["baseline.clasi" if p.file.response.reference == "baseline" else "relapse CLASI-A"],
            f"The week-{review.week} review on {cycle.review_date} needs the reference CLASI-A "
            f"({p.file.response.reference}) to measure improvement, and it is missing.",
        )
        return
    ex.missing(
        "REVIEW-MISSING",
        [f"assessments[].clasi dated {first.isoformat()} or later"],
        f"The week-{review.week} review of cycle {cycle.number} is due (window "
        f"{first.isoformat()} to {last.isoformat()}) but no CLASI activity is recorded in "
        "it: record the CLASI at the review visit.",
    )
    ex.decision.next_decision = (due, review.window_days, f"week-{review.week} review")
    if on > last:
        ex.decision.alerts.append(
            (
                "REVIEW-MISSING",
                f"The week-{review.week} review window "
                f"ended {last.isoformat()} without a CLASI activity score.",
                {"window_end": last},
            )
        )


def _taper(ex: _Explainer, course: Course, cycle: Cycle, on: dt.date) -> None:
    p, decision = ex.p, ex.decision
    assert course.last is not None and cycle.cr_date is not None
    day, activity = course.last
    response, taper, n = p.file.response, p.file.dosing.taper, p.n
    current = course.current
    decision.target, decision.action = current, "continue"
    if activity > n.cr_max:
        if ex.explain and activity < response.relapse_min:
            ex.reason(
                "TAPER-PAUSED",
                f"CLASI-A {activity} on {day.isoformat()} is above complete "
                f"response ({response.complete_response_max}) and below the relapse "
                f"threshold ({response.relapse_min}): the taper pauses at "
                f"{_schedule(p, current)} until complete response returns.",
                {"activity": activity, "date": day},
            )
        elif ex.explain:
            decision.alerts.append(
                (
                    "CR-LOST",
                    f"Complete response of {cycle.cr_date.isoformat()} "
                    f"lost before any dose reduction (CLASI-A {activity}).",
                    {"activity": activity, "date": day},
                )
            )
            ex.reason(
                "CR-LOST",
                f"Complete response of {cycle.cr_date.isoformat()} was lost before "
                f"any dose reduction (CLASI-A {activity} on {day.isoformat()}): continue "
                f"{_schedule(p, current)}; the protocol is silent, review clinically.",
                {"activity": activity, "date": day},
            )
        return
    if current >= p.taper_last:
        if ex.explain:
            ex.reason(
                "TAPER-COMPLETE",
                f"Taper complete: {_schedule(p, current)} since "
                f"{course.last_change} with complete response (CLASI-A {activity} on "
                f"{day.isoformat()}); follow up for relapse.",
                {"since": course.last_change, "activity": activity},
            )
        return
    tapering = cycle.pre_taper is not None and current > cycle.pre_taper
    interval = days(n.taper_interval)
    assert course.last_change is not None
    due = (
        course.last_change + days(n.taper_interval - n.taper_tolerance)
        if tapering
        else cycle.cr_date
    )
    if on < due:
        decision.next_decision = (course.last_change + interval, taper.tolerance_days, "taper step")
        if ex.explain:
            ex.reason(
                "TAPER-STEP",
                f"Complete response holds (CLASI-A {activity} on "
                f"{day.isoformat()}): continue {_schedule(p, current)}; the next step down "
                f"is due {(course.last_change + interval).isoformat()} (one step every "
                f"{taper.interval_weeks} weeks).",
                {
                    "activity": activity,
                    "interval_weeks": taper.interval_weeks,
                    "next_step_due": (course.last_change + interval),
                },
            )
        return
    age = n.max_age
    if (on - day).days > age:
        ex.missing(
            "DECISION-ASSESSMENT-AGE",
            [f"assessments[].clasi dated {(on - days(age)).isoformat()} or later"],
            f"A taper step is due: it needs "
            f"a CLASI-A at most {age} days old, the latest is from {day.isoformat()}.",
        )
        return
    decision.target, decision.action = current + 1, "taper"
    if ex.explain and not tapering:
        review_week = p.file.dosing.review.week
        when = (
            f"Week-{review_week} review on {cycle.review_date}"
            if cycle.review == "cr" and cycle.cr_date == cycle.review_date
            else f"After the week-{review_week} review, on {cycle.cr_date.isoformat()}"
        )
        ex.reason(
            "REVIEW-CR",
            f"{when}: complete response (CLASI-A at most "
            f"{response.complete_response_max}): begin the taper.",
            {
                "date": cycle.cr_date,
                "complete_response_max": response.complete_response_max,
            },
        )
    if ex.explain:
        ladder = [r.id for r in p.regimens[current : p.taper_last + 1]]
        ex.reason(
            "TAPER-STEP",
            f"Complete response holds (CLASI-A {activity} on "
            f"{day.isoformat()}): step down from {_schedule(p, current)} to "
            f"{_schedule(p, current + 1)} (one step every {taper.interval_weeks} weeks).",
            {
                "activity": activity,
                "from": p.regimens[current].id,
                "to": p.regimens[current + 1].id,
                "interval_weeks": taper.interval_weeks,
            },
        )
        ex.reason(
            "TAPER-LADDER",
            "Taper ladder from here: " + " -> ".join(ladder) + ".",
            {"ladder": ladder},
        )
        if tapering:
            ex.reason(
                "TAPER-TOLERANCE",
                f"A step is accepted from {taper.tolerance_days} days "
                f"before it is due ({taper.interval_weeks} weeks after the last change on "
                f"{course.last_change.isoformat()}).",
                {"tolerance_days": taper.tolerance_days},
            )


def _after_review(ex: _Explainer, course: Course, cycle: Cycle, on: dt.date) -> None:
    p, decision = ex.p, ex.decision
    response = p.file.response
    outcome = cycle.review
    target = p.escalation if outcome == "short" else cycle.regimen
    decision.target, decision.action = target, _move(course.current, target)
    if not ex.explain:
        return
    data = {
        "review_date": cycle.review_date,
        "activity": cycle.review_activity,
        "reference": cycle.reference,
        "improvement_percent": _pct(cycle.review_improvement),
        "partial_response_min_improvement_percent": p.n.pr_min,
        "escalation_below_improvement_percent": p.n.escalate_below,
    }
    said = (
        f"Week-{p.file.dosing.review.week} review on {cycle.review_date}: CLASI-A "
        f"{cycle.review_activity} against {cycle.reference} is "
        f"{_pct(cycle.review_improvement)}% improvement"
    )
    if outcome == "short" and decision.action == "escalate":
        ex.reason(
            "REVIEW-ESCALATE",
            f"{said}, below the "
            f"{data['escalation_below_improvement_percent']}% threshold: escalate to "
            f"{_schedule(p, target)}.",
            data,
        )
    elif outcome == "short":
        assert course.last is not None
        day, activity = course.last
        gain = _pct(improvement_percent(cycle.reference, activity))
        data |= {
            "latest_activity": activity,
            "latest_date": day,
            "latest_improvement_percent": gain,
        }
        ex.reason(
            "ESCALATED-CONTINUE",
            f"Escalated after the week-{p.file.dosing.review.week} "
            f"review ({_pct(cycle.review_improvement)}% improvement then): continue "
            f"{_schedule(p, target)}; latest CLASI-A {activity} on {day.isoformat()} "
            f"({gain}% improvement).",
            data,
        )
    elif outcome == "pr":
        ex.reason(
            "REVIEW-PR",
            f"{said}, a partial response (at least "
            f"{response.partial_response_min_improvement_percent}%): stay on "
            f"{_schedule(p, target)}.",
            data,
        )
    else:
        ex.reason(
            "REVIEW-MINOR",
            f"{said}, below partial response but not below the escalation "
            f"threshold: stay on {_schedule(p, target)}.",
            data,
        )


def _nonresponse(ex: _Explainer, course: Course, cycle: Cycle, on: dt.date) -> None:
    p, decision = ex.p, ex.decision
    nr = p.file.dosing.nonresponse
    due = cycle.start + days(nr.week * 7)
    opens = due - days(nr.window_days)
    if on < opens:
        decision.next_decision = (due, nr.window_days, f"week-{nr.week} response check")
        return
    last = course.last
    if last is None or last[0] < opens:
        ex.missing(
            "NONRESPONSE-STOP",
            [f"assessments[].clasi dated {opens.isoformat()} or later"],
            f"The week-{nr.week} response check on {_schedule(p, course.current)} is due: "
            "it needs a CLASI activity score from its window.",
        )
        return
    gain = improvement_percent(cycle.reference, last[1])
    if gain is None:
        ex.missing(
            "REFERENCE-MISSING",
            ["baseline.clasi"],
            f"The week-{nr.week} response check needs the reference CLASI-A, which is missing.",
        )
        return
    threshold = p.file.response.partial_response_min_improvement_percent
    if last[1] <= p.file.response.complete_response_max or gain >= threshold:
        return
    decision.action, decision.target = "stop", p.off
    decision.physician_decision, decision.disposition = True, nr.disposition
    decision.reasons.clear()
    if ex.explain:
        ex.reason(
            "NONRESPONSE-STOP",
            f"Week {nr.week} of cycle {cycle.number} on "
            f"{_schedule(p, course.current)} with CLASI-A {last[1]} on "
            f"{last[0].isoformat()} ({_pct(gain)}% improvement, short of the {threshold}% "
            "partial response): recommend discontinuation for lack of efficacy; this is "
            "a physician decision.",
            {
                "week": nr.week,
                "activity": last[1],
                "improvement_percent": _pct(gain),
                "disposition": nr.disposition,
            },
        )


def _maintenance(ex: _Explainer, course: Course, cycle: Cycle, on: dt.date) -> None:
    p, decision = ex.p, ex.decision
    decision.target, decision.action = cycle.regimen, "maintain"
    if not ex.explain:
        return
    if cycle.relapse is not None and on == cycle.start:
        _relapse_reason(ex, course, "maintain", cycle.regimen, cycle.relapse)
    elif ex.explain:
        ex.reason(
            "MAINTAIN",
            f"Long-term maintenance since {cycle.start.isoformat()}: continue "
            f"{_schedule(p, cycle.regimen)}.",
            {"since": cycle.start, "regimen": p.regimens[cycle.regimen].id},
        )
    if cycle.flare is not None and p.enabled("MAINTENANCE-FLARE"):
        decision.alerts.append(
            (
                "MAINTENANCE-FLARE",
                f"CLASI-A {cycle.flare[1]} on "
                f"{cycle.flare[0].isoformat()} reached the relapse threshold on "
                "maintenance: the protocol is silent; physician review.",
                {"date": cycle.flare[0], "activity": cycle.flare[1]},
            )
        )


def decide_dose(course: Course, p: ProtocolDefinition, on: dt.date, explain: bool) -> DoseDecision:
    """Return what the protocol calls for on ``on``, given the replayed ``course``.

    Parameters
    ----------
    course : Course
        The replayed course (data up to ``on``).
    p : ProtocolDefinition
        The compiled protocol.
    on : date
        The decision date.
    explain : bool
        Build reasons (False when only the target is wanted, e.g. to judge past doses).
    """
    decision = DoseDecision("continue", course.current)
    ex = _Explainer(p, decision, explain)
    cycle = course.cycle
    if not course.started or cycle is None:
        decision.action, decision.target = "start", p.start
        if explain:
            ex.reason(
                "DOSE-START",
                f"Start {_schedule(p, p.start)}; the response review is at "
                f"week {p.file.dosing.review.week}.",
                {"regimen": p.regimens[p.start].id, "review_week": p.file.dosing.review.week},
            )
        return decision
    if course.pending is not None:
        kind, target, relapse = course.pending
        decision.action, decision.target = kind, target
        if explain:
            _relapse_reason(ex, course, kind, target, relapse)
        return decision
    if course.discontinued is not None and course.current == p.off:
        nr = p.file.dosing.nonresponse
        decision.action, decision.target = "stop", p.off
        decision.physician_decision, decision.disposition = True, nr.disposition
        if explain:
            ex.reason(
                "NONRESPONSE-STOP",
                f"Treatment was discontinued on "
                f"{course.discontinued.isoformat()} for lack of efficacy (week-{nr.week} "
                "response check); restarting would be a physician decision outside the "
                "protocol.",
                {"date": course.discontinued, "disposition": nr.disposition},
            )
        return decision
    if cycle.mode == "maintenance":
        _maintenance(ex, course, cycle, on)
        return decision
    review_from = p.n.review_day - p.n.review_window
    if cycle.cr_date is not None:
        _taper(ex, course, cycle, on)
    elif cycle.review is None and (on - cycle.start).days < review_from:
        _before_review(ex, course, cycle, on)
    elif cycle.review is None or cycle.review == "unknown":
        _review_missing(ex, cycle, on)
    else:
        _after_review(ex, course, cycle, on)
        if course.current == p.nonresponse and p.enabled("NONRESPONSE-STOP"):
            _nonresponse(ex, course, cycle, on)
    _hold_in_cr(ex, course)
    return decision


def _hold_in_cr(ex: _Explainer, course: Course) -> None:
    """Complete response never raises the dose (the taper only goes down)."""
    decision, last = ex.decision, course.last
    if (
        decision.target is None
        or decision.target >= course.current
        or last is None
        or last[1] > ex.p.n.cr_max
    ):
        return
    wanted = decision.target
    decision.target = course.current
    decision.action = "maintain" if decision.action == "maintain" else "continue"
    if ex.explain:
        ex.reason(
            "CR-NO-ESCALATION",
            f"Complete response (CLASI-A {last[1]} on "
            f"{last[0].isoformat()}): {_schedule(ex.p, course.current)} is not raised to "
            f"{_schedule(ex.p, wanted)}.",
            {"activity": last[1], "not_raised_to": ex.p.regimens[wanted].id},
        )
