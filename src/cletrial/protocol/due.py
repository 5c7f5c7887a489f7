"""What is due on the decision date, added to the recommendation being assembled.

Before the first dose: the baseline panel, the first visit and the pregnancy tests required
before it (a female of reproductive potential without them is held). Once dosed: the next
blood count and pregnancy test (weekly while the neutropenia alert is on; none after the end of
treatment except the label's pregnancy tests after the last dose; nothing after the end of
follow-up), the next visit or earlier dose decision, and alerts for what is overdue.

>>> from cletrial.protocol.definition import load_protocol
>>> from cletrial.protocol.engine import recommend
>>> import datetime as dt
>>> rec = recommend({"sex": "M", "eligibility": {"date": "2009-01-26", "verdict": "eligible"}},
...                 load_protocol(), dt.date(2009, 2, 2))
>>> rec.next_visit.label
'week 4 visit (if started on 2009-02-02)'
"""

from __future__ import annotations

import datetime as dt

from cletrial.protocol._dates import days
from cletrial.protocol.course import Course
from cletrial.protocol.decision import DoseDecision
from cletrial.protocol.definition import ProtocolDefinition
from cletrial.protocol.disposition import follow_up_end, pregnancy_after_treatment
from cletrial.protocol.history import PatientHistory
from cletrial.protocol.monitoring import (
    baseline_panel_due,
    blood_counts_due,
    female_of_reproductive_potential,
    pregnancy_deviation,
    pregnancy_tests_before_start,
    pregnancy_tests_on_treatment,
    visit_windows,
)
from cletrial.protocol.parts import Parts
from cletrial.protocol.results import Alert, NextVisit, Reason, Undetermined
from cletrial.protocol.safety import SafetyResult

__all__ = ["due_before_start", "due_on_course"]


def due_before_start(
    parts: Parts, history: PatientHistory, p: ProtocolDefinition, on: dt.date
) -> None:
    """What is due before the first dose: the baseline panel, the first visit, and the
    pregnancy tests of a female of reproductive potential (or the start is held)."""
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


def due_on_course(
    parts: Parts,
    history: PatientHistory,
    p: ProtocolDefinition,
    on: dt.date,
    course: Course,
    safety: SafetyResult,
    decision: DoseDecision,
) -> None:
    """What is due once dosed: blood counts and pregnancy tests (on treatment, or after it up
    to the label's limit), the next visit or dose decision, and the alerts when overdue."""
    first = course.first_dose
    assert first is not None
    end = follow_up_end(history, p)
    eot = history.end_of_treatment
    on_drug = course.current != p.off and end is None and eot is None
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
            if eot is not None and end is None:
                after = pregnancy_after_treatment(history, p, on, first, eot)
                if after is not None:
                    parts.pregnancy.append(after)
                    if after.overdue:
                        alert = Alert(after.rule, after.source, "warning", after.text, {})
                        parts.alerts.append(alert)
            elif on_drug:
                test = pregnancy_tests_on_treatment(history, p, on, first)
                parts.pregnancy.append(test)
                if test.overdue:
                    parts.alerts.append(Alert(test.rule, test.source, "warning", test.text, {}))
    scheduled, alerts = visit_windows(history, p, on, first, end)
    parts.alerts.extend(alerts)
    parts.next_visit = parts.scheduled = scheduled
    if decision.next_decision is not None and end is None and eot is None:
        day, window, label = decision.next_decision
        if day + days(window) >= on and (scheduled is None or day < scheduled.date):
            parts.next_visit = NextVisit(
                day, day - days(window), day + days(window), "dosing", label
            )
