"""The lists of a recommendation while :func:`~cletrial.protocol.engine.recommend` assembles it.

>>> from cletrial.protocol.decision import DoseDecision
>>> from cletrial.protocol.safety import SafetyResult
>>> from cletrial.protocol.course import Course
>>> parts = Parts(DoseDecision("start", 1), SafetyResult(), Course(current=5))
>>> parts.action, parts.target, parts.undetermined
('start', 1, [])
"""

from __future__ import annotations

from typing import Any

from cletrial.protocol.course import Course
from cletrial.protocol.decision import DoseDecision
from cletrial.protocol.results import Alert, NextVisit, Reason
from cletrial.protocol.safety import SafetyResult

__all__ = ["Parts"]


class Parts:
    """Action, target regimen (ladder index or ``None``), reasons, alerts, deviations,
    undetermined parts, what is due, the next visit (and the scheduled one, to fall back on when
    a pending dose decision is dropped), dosing alerts (added unless the action is a stop),
    disposition and the physician-decision flag."""

    __slots__ = (
        "action", "alerts", "deviations", "disposition", "dosing_alerts", "labs_due",
        "next_visit", "physician_decision", "pregnancy", "reasons", "scheduled", "target",
        "undetermined",
    )  # fmt: skip

    def __init__(self, decision: DoseDecision, safety: SafetyResult, course: Course) -> None:
        self.action, self.target = decision.action, decision.target
        self.reasons: list[Reason] = decision.reasons
        self.alerts: list[Alert] = safety.alerts
        self.undetermined = [*safety.undetermined, *decision.undetermined]
        self.deviations = list(course.deviations)
        self.labs_due: list[Any] = []
        self.pregnancy: list[Any] = []
        self.next_visit: NextVisit | None = None
        self.scheduled: NextVisit | None = None
        self.dosing_alerts: list[Alert] = []
        self.disposition: str | None = None
        self.physician_decision = False
