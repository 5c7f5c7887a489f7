"""What is due and what went off plan: blood counts, baseline panel, pregnancy tests, visit
windows and changes of concomitant baseline medication.

Schedules are anchored on the first dose (day 0) and read from the protocol definition's
``monitoring`` section; nothing here holds a clinical number of its own.

>>> from cletrial.protocol.definition import load_protocol
>>> phases = load_protocol().file.monitoring.blood_counts.phases
>>> phase_interval(phases, 10, False), phase_interval(phases, 60, False)
((7, 2), (28, 7))
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cletrial.protocol._dates import days
from cletrial.protocol.definition import ProtocolDefinition
from cletrial.protocol.definition_model import Phase
from cletrial.protocol.history import PatientHistory
from cletrial.protocol.results import Alert, Deviation, LabDue, NextVisit, PregnancyTestDue

__all__ = [
    "baseline_panel_due",
    "blood_counts_due",
    "female_of_reproductive_potential",
    "medication_deviations",
    "phase_interval",
    "pregnancy_deviation",
    "pregnancy_tests_before_start",
    "pregnancy_tests_on_treatment",
    "visit_windows",
]

_date = dt.date.fromordinal


def phase_interval(phases: list[Phase], day: int, irregular: bool) -> tuple[int, int]:
    """Return ``(interval days, tolerance days)`` of the phase that holds study ``day``.

    Parameters
    ----------
    phases : list of Phase
        Monitoring phases from the protocol (the last one open-ended).
    day : int
        Days since the first dose.
    irregular : bool
        Use ``irregular_cycles_every_weeks`` where a phase sets it (pregnancy testing).
    """
    for phase in phases:
        if phase.until_week is None or day < phase.until_week * 7:
            weeks = phase.every_weeks
            if irregular and phase.irregular_cycles_every_weeks is not None:
                weeks = phase.irregular_cycles_every_weeks
            return weeks * 7, phase.tolerance_days
    raise AssertionError("the last monitoring phase is open-ended (checked on load)")


def female_of_reproductive_potential(history: PatientHistory) -> bool | None:
    """True, False, or None when sex or reproductive potential is not recorded.

    >>> from cletrial.protocol.history import parse_history
    >>> female_of_reproductive_potential(parse_history({"sex": "F"})) is None
    True
    """
    doc = history.document
    if doc.sex == "M" or doc.reproductive_potential is False:
        return False
    if doc.sex == "F" and doc.reproductive_potential:
        return True
    return None


def blood_counts_due(
    history: PatientHistory,
    p: ProtocolDefinition,
    on: dt.date,
    first_dose: dt.date,
    last_count: dt.date | None,
    neutropenia: bool,
) -> LabDue:
    """The next blood count while on treatment (weekly while the neutropenia alert is on)."""
    counts = p.file.monitoring.blood_counts
    last = last_count if last_count is not None and last_count >= first_dose else first_dose
    interval, tolerance = phase_interval(counts.phases, (last - first_dose).days, False)
    why, rule = f"every {interval} days at this stage of treatment", "BLOOD-COUNTS"
    every = p.file.safety.neutropenia_alert.every_days
    if neutropenia and every < interval:
        interval, rule = every, "LABEL-NEUTROPENIA"
        why = f"every {every} days while the neutropenia alert is on"
    due = last + days(interval)
    overdue = on > due + days(tolerance)
    text = f"{counts.name} due {due.isoformat()} ({why}; last {last.isoformat()})" + (
        f": OVERDUE by more than {tolerance} days." if overdue else "."
    )
    return LabDue(counts.name, list(counts.tests), due, overdue, rule, p.rule_source[rule], text)


def baseline_panel_due(history: PatientHistory, p: ProtocolDefinition, on: dt.date) -> list[LabDue]:
    """Baseline panel items not recorded in the look-back period before ``on``."""
    monitoring = p.file.monitoring
    since = on - days(monitoring.baseline_panel_lookback_days)
    recorded = {lab.test for lab in history.labs if since <= lab.date <= on}
    source = p.rule_source["BASELINE-PANEL"]
    due = []
    for item in monitoring.baseline_panel:
        if item.tests and all(test in recorded for test in item.tests):
            continue
        note = "" if item.tests else " (not captured in the history format: record it locally)"
        due.append(
            LabDue(
                item.name,
                list(item.tests),
                on,
                False,
                "BASELINE-PANEL",
                source,
                f"Baseline {item.name} before the first dose{note}.",
            )
        )
    return due


def _negative_dates(history: PatientHistory) -> list[dt.date]:
    return [t.date for t in history.pregnancy_tests if t.result == "negative"]


def pregnancy_tests_before_start(
    history: PatientHistory, p: ProtocolDefinition, on: dt.date
) -> tuple[bool, dt.date, list[PregnancyTestDue]]:
    """Whether the first dose may be given on ``on``; else the earliest start and tests due.

    Returns ``(ready, earliest start, tests due)``: for each required window (days before the
    first dose) without a negative test, the dates between which one is due.
    """
    windows = p.file.monitoring.pregnancy_testing.before_first_dose
    negatives = _negative_dates(history)
    horizon = max((w.days_before_max for w in windows), default=0) + 1
    source = p.rule_source["LABEL-PREGNANCY-TESTING"]
    for shift in range(horizon + 1):
        start = on + days(shift)
        due: list[PregnancyTestDue] = []
        feasible = True
        for w in windows:
            first, last = start - days(w.days_before_max), start - days(w.days_before_min)
            if any(first <= d <= last for d in negatives):
                continue
            if last < on:
                feasible = False
                break
            due.append(
                PregnancyTestDue(
                    max(first, on),
                    last,
                    False,
                    "LABEL-PREGNANCY-TESTING",
                    source,
                    f"Negative pregnancy test {w.days_before_min}-"
                    f"{w.days_before_max} days before the first dose "
                    f"(first dose on {start.isoformat()} at the earliest).",
                )
            )
        if feasible:
            return not due, start, due
    raise AssertionError("a start date within the longest window is always feasible")


def pregnancy_tests_on_treatment(
    history: PatientHistory, p: ProtocolDefinition, on: dt.date, first_dose: dt.date
) -> PregnancyTestDue:
    """The next pregnancy test while on treatment (weekly, then every 4 or 2 weeks)."""
    testing = p.file.monitoring.pregnancy_testing
    tests = history.pregnancy_tests
    last = first_dose
    for i in range(len(tests) - 1, -1, -1):  # the latest negative test since the first dose
        if tests[i].result == "negative":
            last = max(tests[i].date, first_dose)
            break
    irregular = bool(history.document.irregular_cycles)
    interval, tolerance = phase_interval(testing.phases, (last - first_dose).days, irregular)
    due = last + days(interval)
    overdue = on > due + days(tolerance)
    return PregnancyTestDue(
        due - days(tolerance),
        due + days(tolerance),
        overdue,
        "LABEL-PREGNANCY-TESTING",
        p.rule_source["LABEL-PREGNANCY-TESTING"],
        f"Pregnancy test due {due.isoformat()} (every {interval} days at this stage; last "
        f"{last.isoformat()})" + (": OVERDUE." if overdue else "."),
    )


def pregnancy_deviation(
    history: PatientHistory, p: ProtocolDefinition, first_dose: dt.date
) -> Deviation | None:
    """A first dose given without the negative tests required before it."""
    before = []  # negative tests up to the first dose (tests are in date order)
    for test in history.pregnancy_tests:
        if test.date > first_dose:
            break
        if test.result == "negative":
            before.append(test.date)
    missing = []
    for w in p.file.monitoring.pregnancy_testing.before_first_dose:
        first = first_dose - days(w.days_before_max)
        last = first_dose - days(w.days_before_min)
        if not any(first <= day <= last for day in before):
            missing.append(f"{w.days_before_min}-{w.days_before_max} days before")
    if not missing:
        return None
    return Deviation(
        "DEVIATION-PREGNANCY-TESTS",
        p.rule_source["DEVIATION-PREGNANCY-TESTS"],
        first_dose,
        "pregnancy_tests",
        "First dose on "
        f"{first_dose.isoformat()} without a negative pregnancy test "
        + " and ".join(missing)
        + " it.",
        {"missing_windows": missing},
    )


def visit_windows(
    history: PatientHistory,
    p: ProtocolDefinition,
    on: dt.date,
    first_dose: dt.date,
    follow_up_end: dt.date | None,
) -> tuple[NextVisit | None, list[Alert]]:
    """The next scheduled visit, and alerts for past visits with no assessment in the window."""
    days = [a.date.toordinal() for a in history.assessments]
    alerts: list[Alert] = []
    report = p.enabled("VISIT-WINDOW")
    day0, now = first_dose.toordinal(), on.toordinal()
    stop = follow_up_end.toordinal() if follow_up_end is not None else None
    k, n = 0, len(days)
    for week, day, window in p.visit_plan[1:]:
        target = day0 + day
        start, end = target - window, target + window
        while k < n and days[k] < start:
            k += 1
        done = k < n and days[k] <= end
        if stop is not None and start > stop:
            return None, alerts
        if done:
            continue
        if end >= now:
            if stop is not None:
                return None, alerts
            return NextVisit(
                _date(target), _date(start), _date(end), "scheduled", f"week {week} visit"
            ), alerts
        if report:
            alerts.append(
                Alert(
                    "VISIT-WINDOW",
                    p.rule_source["VISIT-WINDOW"],
                    "info",
                    f"No assessment within the window of the week {week} visit "
                    f"({_date(start).isoformat()} to {_date(end).isoformat()}).",
                    {"week": week, "target": _date(target)},
                )
            )
    return None, alerts


def _normal(names: list[str]) -> frozenset[str]:
    return frozenset(" ".join(name.split()).casefold() for name in names)


def medication_deviations(
    history: PatientHistory, p: ProtocolDefinition
) -> tuple[list[Deviation], list[str]]:
    """Changes of concomitant medication from baseline; and what is missing to judge them.

    Two sources: the medication lists of the visits against the baseline visit's list, and the
    dated ``concomitant_medications`` (a baseline medication that ends, or another one that
    starts after the first dose).
    """
    dated = _dated_medication_deviations(history, p)
    lists, missing = _list_medication_deviations(history, p)
    return dated + lists, missing


def _dated_medication_deviations(history: PatientHistory, p: ProtocolDefinition) -> list[Deviation]:
    first = history.first_dose_date
    out: list[Deviation] = []
    source = p.rule_source["DEVIATION-MEDICATION"]
    for i, med in enumerate(history.document.concomitant_medications):
        if med.baseline and med.end is not None:
            day, what = med.end, f"baseline medication {med.name} stopped"
        elif not med.baseline and med.start is not None and first is not None and med.start > first:
            day, what = med.start, f"{med.name} started during treatment"
        else:
            continue
        out.append(Deviation(
            "DEVIATION-MEDICATION", source, day, f"concomitant_medications[{i}]",
            f"Concomitant medication changed on {day.isoformat()}: {what} (no change of "
            "baseline medication is allowed).", {"medication": med.name, "date": day},
        ))  # fmt: skip
    return out


def _list_medication_deviations(
    history: PatientHistory, p: ProtocolDefinition
) -> tuple[list[Deviation], list[str]]:
    baseline = history.baseline
    recorded = [(i, v) for i, v in enumerate(history.assessments) if v.medications is not None]
    if baseline is None or baseline.medications is None:
        return [], (["baseline.medications"] if recorded else [])
    raw: list[str] | None = baseline.medications
    if all(visit.medications == raw for _, visit in recorded):
        return [], []  # the common case: the very same list at every visit
    previous = _normal(baseline.medications)
    out: list[Deviation] = []
    source = p.rule_source["DEVIATION-MEDICATION"]
    for i, visit in recorded:
        if visit.medications == raw:
            continue
        raw = visit.medications
        current = _normal(raw or [])
        if current != previous:
            data: dict[str, Any] = {
                "added": sorted(current - previous),
                "removed": sorted(previous - current),
            }
            out.append(
                Deviation(
                    "DEVIATION-MEDICATION",
                    source,
                    visit.date,
                    f"assessments[{i}].medications",
                    "Concomitant medication "
                    f"changed on {visit.date.isoformat()}: added "
                    f"{data['added'] or 'none'}, removed {data['removed'] or 'none'} "
                    "(no change of baseline medication is allowed).",
                    data,
                )
            )
            previous = current
    return out, []
