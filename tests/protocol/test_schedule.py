"""The planned schedule and its iCalendar (RFC 5545) export."""

from __future__ import annotations

import datetime as dt

from cletrial.protocol import ProtocolDefinition, plan_schedule, write_icalendar

START = dt.date(2009, 2, 2)
STAMP = dt.datetime(2009, 1, 1, 12, 0, 0)


def test_visits_monthly_to_week_24_then_quarterly(protocol: ProtocolDefinition) -> None:
    plan = plan_schedule(START, protocol, weeks=60)
    visits = [(v.week, (v.window_end - v.date).days) for v in plan if v.kind == "visit"]
    assert visits == [
        (0, 0),
        (4, 7),
        (8, 7),
        (12, 7),
        (16, 7),
        (20, 7),
        (24, 7),
        (36, 14),
        (48, 14),
        (60, 14),
    ]


def test_blood_counts_weekly_for_8_weeks_then_every_4(protocol: ProtocolDefinition) -> None:
    plan = plan_schedule(START, protocol, weeks=20)
    counts = [v.day for v in plan if "blood count (WBC with differential)" in v.items]
    assert counts == [7, 14, 21, 28, 35, 42, 49, 56, 84, 112, 140]
    lab_only = next(v for v in plan if v.day == 7)
    assert (lab_only.kind, (lab_only.window_end - lab_only.date).days) == ("lab", 2)


def test_pregnancy_tests_only_for_reproductive_potential(protocol: ProtocolDefinition) -> None:
    assert not any(
        "pregnancy" in item for v in plan_schedule(START, protocol, weeks=12) for item in v.items
    )
    plan = plan_schedule(START, protocol, weeks=16, reproductive_potential=True)
    tests = [v.day for v in plan if any("pregnancy test" in i for i in v.items)]
    assert tests == [-10, 0, 7, 14, 21, 28, 56, 84, 112]
    before = plan[0]
    assert (before.kind, before.window_start, before.date) == (
        "pre-dose",
        START - dt.timedelta(14),
        START - dt.timedelta(10),
    )
    irregular = plan_schedule(
        START, protocol, weeks=8, reproductive_potential=True, irregular_cycles=True
    )
    assert [v.day for v in irregular if "pregnancy test" in v.items] == [7, 14, 21, 28, 42, 56]


def test_baseline_lists_the_panel(protocol: ProtocolDefinition) -> None:
    baseline = plan_schedule(START, protocol, weeks=1)[0]
    assert baseline.label == "baseline (first dose)"
    assert "baseline antiphospholipid antibodies" in baseline.items


def test_icalendar_is_rfc5545_shaped(protocol: ProtocolDefinition) -> None:
    plan = plan_schedule(START, protocol, weeks=12, reproductive_potential=True)
    text = write_icalendar(plan, calendar_name="Site 1; CLE, trial", stamp=STAMP)
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    assert text.count("BEGIN:VEVENT") == len(plan) == text.count("END:VEVENT")
    unfolded = text.replace("\r\n ", "")
    assert "X-WR-CALNAME:Site 1\\; CLE\\, trial" in unfolded
    assert "DTSTAMP:20090101T120000Z" in unfolded
    assert "DTSTART;VALUE=DATE:20090302\r\nDTEND;VALUE=DATE:20090303" in unfolded
    assert "DESCRIPTION:Window 2009-02-23 to 2009-03-09.\\nstudy visit" in unfolded
    uids = [line for line in unfolded.split("\r\n") if line.startswith("UID:")]
    assert len(set(uids)) == len(uids)


def test_icalendar_is_reproducible(protocol: ProtocolDefinition) -> None:
    plan = plan_schedule(START, protocol, weeks=8)
    first = write_icalendar(plan, calendar_name="CLE", stamp=STAMP)
    assert first == write_icalendar(plan, calendar_name="CLE", stamp=STAMP)


def test_icalendar_folds_multibyte_text_safely(protocol: ProtocolDefinition) -> None:
    plan = plan_schedule(START, protocol, weeks=1)
    text = write_icalendar(plan, calendar_name="Cortés-Hernández " * 8, stamp=STAMP)
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75
    assert "Cortés-Hernández Cortés" in text.replace("\r\n ", "")
