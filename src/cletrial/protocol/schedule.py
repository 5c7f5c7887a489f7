"""The planned schedule of a patient from the first dose: visits, blood counts and pregnancy
tests, each with its window, and an iCalendar (RFC 5545) export a coordinator can import.

Study visits follow ``monitoring.visits`` of the protocol; blood counts and pregnancy tests
follow their phases (pregnancy tests only for females of reproductive potential). Every date of a
day is one :class:`PlannedVisit` listing all that is due that day.

>>> from cletrial.protocol.definition import load_protocol
>>> plan = plan_schedule(dt.date(2009, 2, 2), load_protocol(), weeks=8)
>>> [(v.week, v.kind) for v in plan][:3]
[(0, 'visit'), (1, 'lab'), (2, 'lab')]
>>> plan[-1].date, plan[-1].window_start
(datetime.date(2009, 3, 30), datetime.date(2009, 3, 23))
>>> plan[-1].items
['study visit', 'blood count (WBC with differential)']
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any, Literal

import msgspec

from cletrial.protocol._dates import days
from cletrial.protocol.definition import ProtocolDefinition
from cletrial.protocol.definition_model import Phase

__all__ = ["PlannedVisit", "plan_schedule", "write_icalendar"]


class PlannedVisit(msgspec.Struct, frozen=True):
    """What is due on one date: ``kind`` is ``visit`` (a study visit), ``lab`` (laboratory
    only) or ``pre-dose`` (before the first dose). ``week`` may be negative before day 0."""

    date: dt.date
    day: int
    week: int
    kind: Literal["visit", "lab", "pre-dose"]
    label: str
    window_start: dt.date
    window_end: dt.date
    items: list[str]

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON shape (dates as ISO strings)."""
        out: dict[str, Any] = msgspec.to_builtins(self)
        return out


def _phase_days(phases: list[Phase], horizon: int, irregular: bool) -> list[tuple[int, int]]:
    days: list[tuple[int, int]] = []
    day = 0
    for phase in phases:
        every = phase.every_weeks
        if irregular and phase.irregular_cycles_every_weeks is not None:
            every = phase.irregular_cycles_every_weeks
        until = horizon if phase.until_week is None else min(phase.until_week * 7, horizon)
        while day + every * 7 <= until:
            day += every * 7
            days.append((day, phase.tolerance_days))
    return days


def plan_schedule(
    start: dt.date,
    protocol: ProtocolDefinition,
    *,
    weeks: int | None = None,
    reproductive_potential: bool = False,
    irregular_cycles: bool = False,
) -> list[PlannedVisit]:
    """Plan visits and tests from the first dose on ``start`` (day 0).

    Parameters
    ----------
    start : date
        Date of the first dose (the baseline visit, day 0).
    protocol : ProtocolDefinition
        Supplies the visit, blood count and pregnancy test schedules and windows.
    weeks : int, optional
        How far to plan, in weeks (default ``monitoring.plan_weeks`` of the protocol).
    reproductive_potential : bool
        Female of reproductive potential: add the pregnancy tests.
    irregular_cycles : bool
        Irregular menstrual cycles: the shorter pregnancy test interval where the protocol
        sets one.

    Returns
    -------
    list of PlannedVisit
        In date order, one entry per date.
    """
    monitoring = protocol.file.monitoring
    horizon = (monitoring.plan_weeks if weeks is None else weeks) * 7
    slots: dict[int, dict[str, Any]] = {}

    def add(day: int, window: int, item: str, visit: bool) -> None:
        slot = slots.setdefault(day, {"window": window, "items": [], "visit": False})
        slot["items"].append(item)
        if visit:  # a study visit's window governs its day; labs alone keep the tightest
            slot["window"], slot["visit"] = window, True
        elif not slot["visit"]:
            slot["window"] = min(slot["window"], window)

    baseline = ["baseline visit: " + ", ".join(monitoring.visit_assessments)]
    baseline += ["baseline " + item.name for item in monitoring.baseline_panel]
    for item in baseline:
        add(0, 0, item, True)
    for _week, day, window in protocol.visit_plan[1:]:
        if day > horizon:
            break
        add(day, window, "study visit", True)
    for day, tolerance in _phase_days(monitoring.blood_counts.phases, horizon, False):
        add(day, tolerance, monitoring.blood_counts.name, False)
    testing = monitoring.pregnancy_testing
    if reproductive_potential and protocol.enabled("LABEL-PREGNANCY-TESTING"):
        for w in testing.before_first_dose:
            add(
                -w.days_before_min,
                w.days_before_max - w.days_before_min,
                f"pregnancy test {w.days_before_min}-{w.days_before_max} days before the first "
                "dose",
                False,
            )
        for day, tolerance in _phase_days(testing.phases, horizon, irregular_cycles):
            add(day, tolerance, "pregnancy test", False)
    return [_planned(start, day, slot) for day, slot in sorted(slots.items())]


def _planned(start: dt.date, day: int, slot: dict[str, Any]) -> PlannedVisit:
    window = slot["window"]
    if day < 0:
        date = start + days(day)
        return PlannedVisit(
            date,
            day,
            -((-day) // 7),
            "pre-dose",
            "before the first dose",
            date - days(window),
            date,
            slot["items"],
        )
    kind: Literal["visit", "lab"] = "visit" if slot["visit"] else "lab"
    week = day // 7
    label = (
        "baseline (first dose)"
        if day == 0
        else f"week {week} {'visit' if slot['visit'] else 'labs'}"
    )
    date = start + days(day)
    return PlannedVisit(
        date, day, week, kind, label, date - days(window), date + days(window), slot["items"]
    )


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    out: list[str] = []
    current = b""
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > (75 if not out else 74):
            out.append(current.decode("utf-8"))
            current = b""
        current += encoded
    out.append(current.decode("utf-8"))
    return "\r\n ".join(out)


def write_icalendar(
    visits: Sequence[PlannedVisit], *, calendar_name: str, stamp: dt.datetime
) -> str:
    """Write planned visits as an iCalendar file (RFC 5545): one all-day event per date.

    Parameters
    ----------
    visits : sequence of PlannedVisit
        From :func:`plan_schedule`.
    calendar_name : str
        Name of the calendar and prefix of each event's summary (no patient identifiers).
    stamp : datetime
        The DTSTAMP of every event (UTC); pass a fixed value for reproducible files.

    Returns
    -------
    str
        The calendar text with CRLF line ends.

    >>> from cletrial.protocol.definition import load_protocol
    >>> plan = plan_schedule(dt.date(2009, 2, 2), load_protocol(), weeks=1)
    >>> text = write_icalendar(plan, calendar_name="CLE trial", stamp=dt.datetime(2009, 1, 1))
    >>> text.splitlines()[0], "DTSTART;VALUE=DATE:20090209" in text
    ('BEGIN:VCALENDAR', True)
    """
    stamp_text = stamp.strftime("%Y%m%dT%H%M%SZ")
    salt = hashlib.sha256(calendar_name.encode("utf-8")).hexdigest()[:12]
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//cletrial//protocol schedule//EN",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_escape(calendar_name)}",
    ]
    for visit in visits:
        description = (
            f"Window {visit.window_start.isoformat()} to "
            f"{visit.window_end.isoformat()}.\n" + "\n".join(visit.items)
        )
        lines += [
            "BEGIN:VEVENT",
            f"UID:{visit.date:%Y%m%d}-day{visit.day}-{salt}@cletrial",
            f"DTSTAMP:{stamp_text}",
            f"DTSTART;VALUE=DATE:{visit.date:%Y%m%d}",
            f"DTEND;VALUE=DATE:{visit.date + days(1):%Y%m%d}",
            f"SUMMARY:{_escape(f'{calendar_name}: {visit.label}')}",
            f"DESCRIPTION:{_escape(description)}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
