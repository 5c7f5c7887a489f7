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

from cletrial.protocol._dates import days
from cletrial.protocol.course import Course, Cycle, improvement_percent
from cletrial.protocol.decision import (
    DoseDecision,
    Explainer,
    move,
    pct,
    relapse_reason,
    schedule_of,
)
from cletrial.protocol.definition import ProtocolDefinition
from cletrial.protocol.taper import decide_maintenance, decide_nonresponse, decide_taper

__all__ = ["DoseDecision", "decide_dose"]


def _before_review(ex: Explainer, course: Course, cycle: Cycle, on: dt.date) -> None:
    p, decision = ex.p, ex.decision
    review = p.file.dosing.review
    due = cycle.start + days(review.week * 7)
    decision.target = cycle.regimen
    decision.action = move(course.current, cycle.regimen)
    decision.next_decision = (due, review.window_days, f"week-{review.week} review")
    if cycle.relapse is not None and on == cycle.start:
        decision.action = "restart"
        if ex.explain:
            relapse_reason(ex, course, "restart", cycle.regimen, cycle.relapse)
    if not ex.explain:
        return
    ex.reason(
        "DOSE-INDUCTION",
        f"Cycle {cycle.number} began {cycle.start.isoformat()}: continue "
        f"{schedule_of(p, cycle.regimen)} until the week-{review.week} review on "
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


def _review_missing(ex: Explainer, cycle: Cycle, on: dt.date) -> None:
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


def _after_review(ex: Explainer, course: Course, cycle: Cycle, on: dt.date) -> None:
    p, decision = ex.p, ex.decision
    response = p.file.response
    outcome = cycle.review
    target = p.escalation if outcome == "short" else cycle.regimen
    decision.target, decision.action = target, move(course.current, target)
    if not ex.explain:
        return
    data = {
        "review_date": cycle.review_date,
        "activity": cycle.review_activity,
        "reference": cycle.reference,
        "improvement_percent": pct(cycle.review_improvement),
        "partial_response_min_improvement_percent": p.n.pr_min,
        "escalation_below_improvement_percent": p.n.escalate_below,
    }
    said = (
        f"Week-{p.file.dosing.review.week} review on {cycle.review_date}: CLASI-A "
        f"{cycle.review_activity} against {cycle.reference} is "
        f"{pct(cycle.review_improvement)}% improvement"
    )
    if outcome == "short" and decision.action == "escalate":
        ex.reason(
            "REVIEW-ESCALATE",
            f"{said}, below the "
            f"{data['escalation_below_improvement_percent']}% threshold: escalate to "
            f"{schedule_of(p, target)}.",
            data,
        )
    elif outcome == "short":
        assert course.last is not None
        day, activity = course.last
        gain = pct(improvement_percent(cycle.reference, activity))
        data |= {
            "latest_activity": activity,
            "latest_date": day,
            "latest_improvement_percent": gain,
        }
        ex.reason(
            "ESCALATED-CONTINUE",
            f"Escalated after the week-{p.file.dosing.review.week} "
            f"review ({pct(cycle.review_improvement)}% improvement then): continue "
            f"{schedule_of(p, target)}; latest CLASI-A {activity} on {day.isoformat()} "
            f"({gain}% improvement).",
            data,
        )
    elif outcome == "pr":
        ex.reason(
            "REVIEW-PR",
            f"{said}, a partial response (at least "
            f"{response.partial_response_min_improvement_percent}%): stay on "
            f"{schedule_of(p, target)}.",
            data,
        )
    else:
        ex.reason(
            "REVIEW-MINOR",
            f"{said}, below partial response but not below the escalation "
            f"threshold: stay on {schedule_of(p, target)}.",
            data,
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
    ex = Explainer(p, decision, explain)
    cycle = course.cycle
    if not course.started or cycle is None:
        decision.action, decision.target = "start", p.start
        if explain:
            ex.reason(
                "DOSE-START",
                f"Start {schedule_of(p, p.start)}; the response review is at "
                f"week {p.file.dosing.review.week}.",
                {"regimen": p.regimens[p.start].id, "review_week": p.file.dosing.review.week},
            )
        return decision
    if course.pending is not None:
        kind, target, relapse = course.pending
        decision.action, decision.target = kind, target
        if explain:
            relapse_reason(ex, course, kind, target, relapse)
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
        decide_maintenance(ex, course, cycle, on)
        return decision
    review_from = p.n.review_day - p.n.review_window
    if cycle.cr_date is not None:
        decide_taper(ex, course, cycle, on)
    elif cycle.review is None and (on - cycle.start).days < review_from:
        _before_review(ex, course, cycle, on)
    elif cycle.review is None or cycle.review == "unknown":
        _review_missing(ex, cycle, on)
    else:
        _after_review(ex, course, cycle, on)
        if course.current == p.nonresponse and p.enabled("NONRESPONSE-STOP"):
            decide_nonresponse(ex, course, cycle, on)
    _hold_in_cr(ex, course)
    return decision


def _hold_in_cr(ex: Explainer, course: Course) -> None:
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
            f"{last[0].isoformat()}): {schedule_of(ex.p, course.current)} is not raised to "
            f"{schedule_of(ex.p, wanted)}.",
            {"activity": last[1], "not_raised_to": ex.p.regimens[wanted].id},
        )
