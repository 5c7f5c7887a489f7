"""SDTM SV (subject visits) and the visit numbering every findings domain shares.

``VISITNUM`` follows the protocol's schedule (``monitoring.visits``): 0 is the screening, 1 the
baseline (week 0), then 2, 3, ... the scheduled visits in order (``VISIT`` ``WEEK 4``, ...). A
stored scheduled visit takes the planned visit nearest its study day; a visit recorded as
unscheduled (or a second visit for the same planned one, or any visit before the first dose is
known) is numbered after the visit before it: ``x.1``, ``x.2``, ... (``UNSCHEDULED x.1``).

>>> from cletrial.protocol import load_protocol
>>> [(n, w) for n, w in planned_visits(load_protocol().file, 40)]
[(1, 0), (2, 4), (3, 8), (4, 12), (5, 16), (6, 20), (7, 24), (8, 36)]
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from typing import Any

from cletrial.protocol.definition_model import ProtocolFile
from cletrial.standards.metadata import Dataset
from cletrial.standards.sdtm._frame import STUDYID, USUBJID, collect, domain_spec, to_dataset, var
from cletrial.standards.sdtm.common import Provenance, iso, study_day
from cletrial.standards.sdtm.source import SubjectSource

__all__ = ["SV_SPEC", "build_sv", "planned_visits", "visit_numbers"]

#: How far ahead the schedule is laid out (weeks; the format's maximum).
HORIZON_WEEKS = 520


def planned_visits(protocol: ProtocolFile, weeks: int = HORIZON_WEEKS) -> list[tuple[int, int]]:
    """``(VISITNUM, week)`` of every planned visit up to ``weeks``, baseline first."""
    plan, week = [(1, 0)], 0
    for phase in protocol.monitoring.visits:
        until = weeks if phase.until_week is None else min(phase.until_week, weeks)
        while week + phase.every_weeks <= until:
            week += phase.every_weeks
            plan.append((len(plan) + 1, week))
    return plan


def _unscheduled(base: float, k: int) -> tuple[float, str]:
    number = round(int(base) + (k / 10 if k < 10 else 0.9 + (k - 9) / 100), 2)
    return number, f"UNSCHEDULED {number:g}"


def visit_numbers(
    subject: SubjectSource, plan: list[tuple[int, int]]
) -> dict[dt.date, tuple[float, str]]:
    """Stored visit date -> ``(VISITNUM, VISIT)`` of one subject."""
    days = [week * 7 for _n, week in plan]
    first = subject.ref.rfstdtc
    out: dict[dt.date, tuple[float, str]] = {}
    taken: set[int] = set()
    last, k = 0.0, 0
    for visit in sorted(subject.visits, key=lambda v: v.date):
        if visit.kind == "baseline":
            out[visit.date], last, k = (1.0, "BASELINE"), 1.0, 0
            taken.add(1)
            continue
        if visit.kind == "scheduled" and first is not None:
            day = (visit.date - first).days
            i = bisect_left(days, day)
            near = [j for j in (i - 1, i) if 0 <= j < len(plan)]
            j = min(near, key=lambda j: abs(days[j] - day))
            number, week = plan[j]
            if number not in taken and number > last:
                taken.add(number)
                out[visit.date], last, k = (float(number), f"WEEK {week}"), float(number), 0
                continue
        k += 1
        out[visit.date] = _unscheduled(last, k)
    return out


SV_SPEC = domain_spec(
    "SV",
    "Subject Visits",
    "SPECIAL PURPOSE",
    "One record per subject per actual visit",
    ("STUDYID", "USUBJID", "VISITNUM"),
    [
        STUDYID,
        var("DOMAIN", "Domain Abbreviation", "text", "Identifier", "Req", origin="Assigned"),
        USUBJID,
        var(
            "VISITNUM",
            "Visit Number",
            "float",
            "Topic",
            "Req",
            origin="Derived",
            derivation="Planned visit of the protocol schedule nearest the study day; "
            "unscheduled visits x.1, x.2 after the visit before them",
        ),
        var(
            "VISIT",
            "Visit Name",
            "text",
            "Synonym Qualifier",
            "Perm",
            origin="Derived",
            derivation="SCREENING, BASELINE, WEEK n or UNSCHEDULED x.k",
        ),
        var("SVSTDTC", "Start Date/Time of Visit", "iso8601", "Timing", "Exp"),
        var("SVENDTC", "End Date/Time of Visit", "iso8601", "Timing", "Exp"),
        var(
            "SVSTDY",
            "Study Day of Start of Visit",
            "integer",
            "Timing",
            "Perm",
            origin="Derived",
            derivation="Study day of SVSTDTC relative to RFSTDTC (no day 0)",
        ),
        var("SVUPDES", "Description of Unplanned Visit", "text", "Record Qualifier", "Perm"),
    ],
)


def _array_index(subject: SubjectSource) -> dict[str, tuple[str, int | None]]:
    where: dict[str, tuple[str, int | None]] = {}
    baseline = subject.history.get("baseline")
    if baseline:
        where[baseline["date"]] = ("baseline", None)
    for i, doc in enumerate(subject.history.get("assessments") or []):
        where[doc["date"]] = ("assessments", i)
    return where


def build_sv(
    subjects: list[SubjectSource], protocol: ProtocolFile, provenance: list[Provenance]
) -> tuple[Dataset, dict[str, dict[dt.date, tuple[float, str]]]]:
    """SV of every subject, and each subject's visit numbers (``USUBJID`` -> date ->
    ``(VISITNUM, VISIT)``) for the findings domains."""
    plan = planned_visits(protocol)
    records: list[dict[str, Any]] = []
    numbers: dict[str, dict[dt.date, tuple[float, str]]] = {}
    for s in subjects:
        base: dict[str, Any] = {"STUDYID": s.ref.studyid, "DOMAIN": "SV", "USUBJID": s.usubjid}
        numbered = numbers[s.usubjid] = visit_numbers(s, plan)
        rows: list[dict[str, Any]] = []
        if s.screening_date is not None:
            rows.append({**base, "VISITNUM": 0.0, "VISIT": "SCREENING",
                         "SVSTDTC": iso(s.screening_date), "SVENDTC": iso(s.screening_date),
                         "SVSTDY": study_day(s.screening_date, s.ref.rfstdtc),
                         "_src": (None, None)})  # fmt: skip
        where = _array_index(s)
        labels = {v.date: v.label for v in s.visits}
        for date, (number, name) in sorted(numbered.items(), key=lambda kv: kv[1][0]):
            rows.append({**base, "VISITNUM": number, "VISIT": name, "SVSTDTC": iso(date),
                         "SVENDTC": iso(date), "SVSTDY": study_day(date, s.ref.rfstdtc),
                         "SVUPDES": labels.get(date) if not float(number).is_integer() else None,
                         "_src": where.get(date.isoformat(), (None, None))})  # fmt: skip
        for seq, row in enumerate(rows, start=1):
            row["SVSEQ"] = seq  # SV has no --SEQ variable: the key is VISITNUM
        collect(rows, "SV", records, provenance)
    for row in records:
        del row["SVSEQ"]
    return to_dataset(SV_SPEC, records), numbers
