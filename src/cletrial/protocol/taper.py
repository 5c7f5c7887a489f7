"""Taper, maintenance and the non-response check: the dose decision after complete response,
on long-term maintenance, and at week 12 on the escalated regimen.

>>> from cletrial.protocol.definition import load_protocol
>>> from cletrial.protocol.course import Course, Cycle
>>> from cletrial.protocol.decision import DoseDecision
>>> protocol = load_protocol()
>>> course = Course(current=1, started=True, last_change=dt.date(2009, 2, 2))
>>> course.cycle = Cycle(1, dt.date(2009, 2, 2), 1, "induction", 10, review="cr",
...                      review_date=dt.date(2009, 3, 2), first_cr=dt.date(2009, 3, 2),
...                      cr_date=dt.date(2009, 3, 2))
>>> course.last = (dt.date(2009, 3, 2), 0)
>>> decision = DoseDecision("continue", 1)
>>> decide_taper(Explainer(protocol, decision, False), course, course.cycle, dt.date(2009, 3, 2))
>>> decision.action, protocol.regimens[decision.target].id
('taper', '5_alternate')
"""

from __future__ import annotations

import datetime as dt

from cletrial.protocol._dates import days
from cletrial.protocol.course import Course, Cycle, improvement_percent
from cletrial.protocol.decision import Explainer, pct, relapse_reason, schedule_of

__all__ = ["decide_maintenance", "decide_nonresponse", "decide_taper"]


def _cr_not_held(ex: Explainer, cycle: Cycle, current: int, day: dt.date, activity: int) -> None:
    p = ex.p
    response = p.file.response
    if not ex.explain:
        return
    if activity < response.relapse_min:
        ex.reason(
            "TAPER-PAUSED",
            f"CLASI-A {activity} on {day.isoformat()} is above complete "
            f"response ({response.complete_response_max}) and below the relapse "
            f"threshold ({response.relapse_min}): the taper pauses at "
            f"{schedule_of(p, current)} until complete response returns.",
            {"activity": activity, "date": day},
        )
        return
    assert cycle.cr_date is not None
    ex.decision.alerts.append(
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
        f"{schedule_of(p, current)}; the protocol is silent, review clinically.",
        {"activity": activity, "date": day},
    )


def _taper_wait(ex: Explainer, course: Course, day: dt.date, activity: int) -> None:
    p, taper = ex.p, ex.p.file.dosing.taper
    assert course.last_change is not None
    due = course.last_change + days(p.n.taper_interval)
    ex.decision.next_decision = (due, taper.tolerance_days, "taper step")
    if ex.explain:
        ex.reason(
            "TAPER-STEP",
            f"Complete response holds (CLASI-A {activity} on {day.isoformat()}): continue "
            f"{schedule_of(p, course.current)}; the next step down is due {due.isoformat()} "
            f"(one step every {taper.interval_weeks} weeks).",
            {"activity": activity, "interval_weeks": taper.interval_weeks, "next_step_due": due},
        )


def _taper_step_reasons(
    ex: Explainer, course: Course, cycle: Cycle, day: dt.date, activity: int, tapering: bool
) -> None:
    p, current = ex.p, course.current
    taper, response = p.file.dosing.taper, p.file.response
    if not tapering:
        review_week = p.file.dosing.review.week
        assert cycle.cr_date is not None
        when = (
            f"Week-{review_week} review on {cycle.review_date}"
            if cycle.review == "cr" and cycle.cr_date == cycle.review_date
            else f"After the week-{review_week} review, on {cycle.cr_date.isoformat()}"
        )
        ex.reason(
            "REVIEW-CR",
            f"{when}: complete response (CLASI-A at most "
            f"{response.complete_response_max}): begin the taper.",
            {"date": cycle.cr_date, "complete_response_max": response.complete_response_max},
        )
    ex.reason(
        "TAPER-STEP",
        f"Complete response holds (CLASI-A {activity} on {day.isoformat()}): step down from "
        f"{schedule_of(p, current)} to {schedule_of(p, current + 1)} (one step every "
        f"{taper.interval_weeks} weeks).",
        {
            "activity": activity,
            "from": p.regimens[current].id,
            "to": p.regimens[current + 1].id,
            "interval_weeks": taper.interval_weeks,
        },
    )
    ladder = [r.id for r in p.regimens[current : p.taper_last + 1]]
    ex.reason(
        "TAPER-LADDER", "Taper ladder from here: " + " -> ".join(ladder) + ".", {"ladder": ladder}
    )
    if tapering:
        assert course.last_change is not None
        ex.reason(
            "TAPER-TOLERANCE",
            f"A step is accepted from {taper.tolerance_days} days before it is due "
            f"({taper.interval_weeks} weeks after the last change on "
            f"{course.last_change.isoformat()}).",
            {"tolerance_days": taper.tolerance_days},
        )


def decide_taper(ex: Explainer, course: Course, cycle: Cycle, on: dt.date) -> None:
    """The decision once complete response was reached at or after the cycle's review.

    One step down the ladder per taper interval (accepted ``tolerance_days`` early) while CR
    holds, on a CLASI-A at most ``assessment_max_age_days`` old; CLASI-A above CR pauses it.
    """
    p, decision, n = ex.p, ex.decision, ex.p.n
    assert course.last is not None and cycle.cr_date is not None
    day, activity = course.last
    current = course.current
    decision.target, decision.action = current, "continue"
    if activity > n.cr_max:
        _cr_not_held(ex, cycle, current, day, activity)
        return
    if current >= p.taper_last:
        if ex.explain:
            ex.reason(
                "TAPER-COMPLETE",
                f"Taper complete: {schedule_of(p, current)} since {course.last_change} with "
                f"complete response (CLASI-A {activity} on {day.isoformat()}); follow up for "
                "relapse.",
                {"since": course.last_change, "activity": activity},
            )
        return
    tapering = cycle.pre_taper is not None and current > cycle.pre_taper
    assert course.last_change is not None
    due = course.last_change + days(n.taper_interval - n.taper_tolerance)
    if on < (due if tapering else cycle.cr_date):
        _taper_wait(ex, course, day, activity)
        return
    if (on - day).days > n.max_age:
        ex.missing(
            "DECISION-ASSESSMENT-AGE",
            [f"assessments[].clasi dated {(on - days(n.max_age)).isoformat()} or later"],
            f"A taper step is due: it needs a CLASI-A at most {n.max_age} days old, the "
            f"latest is from {day.isoformat()}.",
        )
        return
    decision.target, decision.action = current + 1, "taper"
    if ex.explain:
        _taper_step_reasons(ex, course, cycle, day, activity, tapering)


def decide_nonresponse(ex: Explainer, course: Course, cycle: Cycle, on: dt.date) -> None:
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
            f"The week-{nr.week} response check on {schedule_of(p, course.current)} is due: "
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
            f"{schedule_of(p, course.current)} with CLASI-A {last[1]} on "
            f"{last[0].isoformat()} ({pct(gain)}% improvement, short of the {threshold}% "
            "partial response): recommend discontinuation for lack of efficacy; this is "
            "a physician decision.",
            {
                "week": nr.week,
                "activity": last[1],
                "improvement_percent": pct(gain),
                "disposition": nr.disposition,
            },
        )


def decide_maintenance(ex: Explainer, course: Course, cycle: Cycle, on: dt.date) -> None:
    p, decision = ex.p, ex.decision
    decision.target, decision.action = cycle.regimen, "maintain"
    if not ex.explain:
        return
    if cycle.relapse is not None and on == cycle.start:
        relapse_reason(ex, course, "maintain", cycle.regimen, cycle.relapse)
    elif ex.explain:
        ex.reason(
            "MAINTAIN",
            f"Long-term maintenance since {cycle.start.isoformat()}: continue "
            f"{schedule_of(p, cycle.regimen)}.",
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
