"""The parts of a recommendation: reasons, alerts, deviations, undetermined parts, what is due.

Every part names the rule that produced it and the rule's source (``protocol``, ``label`` or
``default``); :meth:`Recommendation.as_dict` gives the JSON shape documented in
``docs/protocol.md``.

>>> Reason("DOSE-START", "protocol", "Start 5 mg every day.", {"regimen": "5_daily"}).rule
'DOSE-START'
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import msgspec

__all__ = [
    "Action",
    "Alert",
    "BlindingOut",
    "CourseSummary",
    "Deviation",
    "LabDue",
    "NextVisit",
    "PregnancyTestDue",
    "Reason",
    "Recommendation",
    "RegimenOut",
    "RelapseOut",
    "Undetermined",
]

#: What the recommendation asks for; ``hold``: do not start yet (pregnancy tests pending);
#: ``do_not_start``: the screening verdict is ineligible and nothing overrides it;
#: ``undetermined`` when the decision lacks data (the reasons name what is missing).
Action = Literal[
    "start", "continue", "escalate", "taper", "restart", "maintain", "hold", "do_not_start",
    "stop", "undetermined",
]  # fmt: skip
Source = str
Severity = Literal["info", "warning", "critical"]


class RegimenOut(msgspec.Struct, frozen=True, gc=False):
    """A step of the ladder: id, dose per administration (mg) and schedule text."""

    id: str
    dose_mg: float
    schedule: str


class Reason(msgspec.Struct, frozen=True, gc=False):
    """Why: the rule, its source, a sentence, and the data that fired it."""

    rule: str
    source: Source
    text: str
    data: dict[str, Any]


class Alert(msgspec.Struct, frozen=True, gc=False):
    """Something the coordinator must look at (overdue labs, neutropenia, missed window...)."""

    rule: str
    source: Source
    severity: Severity
    text: str
    data: dict[str, Any]


class Deviation(msgspec.Struct, frozen=True, gc=False):
    """A protocol deviation found in the history, with its date and field."""

    rule: str
    source: Source
    date: dt.date
    field: str
    text: str
    data: dict[str, Any]


class Undetermined(msgspec.Struct, frozen=True, gc=False):
    """A part of the recommendation that the history does not allow to decide, and why."""

    part: str
    rule: str
    source: Source
    missing: list[str]
    text: str


class NextVisit(msgspec.Struct, frozen=True, gc=False):
    """The next visit: target date and window; ``kind`` is ``scheduled`` or ``dosing``."""

    date: dt.date
    window_start: dt.date
    window_end: dt.date
    kind: Literal["scheduled", "dosing", "start"]
    label: str


class LabDue(msgspec.Struct, frozen=True, gc=False):
    """A laboratory test (or panel item) that is due."""

    name: str
    tests: list[str]
    due: dt.date
    overdue: bool
    rule: str
    source: Source
    text: str


class PregnancyTestDue(msgspec.Struct, frozen=True, gc=False):
    """A pregnancy test that is due, between ``due_from`` and ``due_by``."""

    due_from: dt.date
    due_by: dt.date
    overdue: bool
    rule: str
    source: Source
    text: str


class RelapseOut(msgspec.Struct, frozen=True, gc=False):
    """A relapse found in the history: date, CLASI-A and the regimen at relapse."""

    date: dt.date
    activity: int
    regimen: str


class CourseSummary(msgspec.Struct, frozen=True, gc=False):
    """Where the patient is in the protocol, as replayed from the history."""

    started: bool
    first_dose_date: dt.date | None
    cycle: int
    cycle_start: dt.date | None
    phase: str
    review: str | None
    complete_response_date: dt.date | None
    relapses: list[RelapseOut]
    stop_date: dt.date | None


class BlindingOut(msgspec.Struct, frozen=True, gc=False):
    """The masking of a randomised protocol's recommendation: the regimens name a dose level of
    ``product`` (the blinded study drug); which product the patient's kit holds is the arm,
    never shown here."""

    masked: str
    design: str
    product: str
    text: str


class Recommendation(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    """The engine's answer for one patient on one date; decision support, a clinician decides.

    ``regimen`` is the recommended regimen (``None`` when the dose decision is undetermined);
    ``current_regimen`` is the one in force on ``on`` according to the history. ``blinding``
    is present only for a masked randomised protocol (the answer is the same in every arm).
    """

    protocol_id: str
    protocol_version: str
    example_protocol: bool
    on: dt.date
    action: Action
    regimen: RegimenOut | None
    current_regimen: RegimenOut
    requires_physician_decision: bool
    disposition: str | None
    reasons: list[Reason]
    next_visit: NextVisit | None
    labs_due: list[LabDue]
    pregnancy_tests_due: list[PregnancyTestDue]
    alerts: list[Alert]
    deviations: list[Deviation]
    undetermined: list[Undetermined]
    course: CourseSummary
    blinding: BlindingOut | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON shape (dates as ISO strings), as documented in docs/protocol.md."""
        out: dict[str, Any] = msgspec.to_builtins(self)
        return out
