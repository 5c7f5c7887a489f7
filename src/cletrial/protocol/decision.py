"""Shared parts of the dose decision: the decision object and how reasons are added.

>>> from cletrial.protocol.definition import load_protocol
>>> decision = DoseDecision("continue", 1)
>>> ex = Explainer(load_protocol(), decision, True)
>>> ex.reason("TAPER-LADDER", "Taper ladder: 5_daily -> off.", {})
>>> decision.reasons[0].source
'default'
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cletrial.protocol.course import Course
from cletrial.protocol.definition import ProtocolDefinition
from cletrial.protocol.results import Reason, Undetermined

__all__ = ["DoseDecision", "Explainer", "move", "pct", "relapse_reason", "schedule_of"]


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


def pct(value: float | None) -> float | None:
    """Round a percentage for display (``None`` stays ``None``)."""
    return None if value is None else round(value, 1)


class Explainer:
    """Adds reasons (only when ``explain``: replays judge many dates without explaining) and
    undetermined parts to a :class:`DoseDecision`."""

    __slots__ = ("decision", "explain", "p")

    def __init__(self, p: ProtocolDefinition, decision: DoseDecision, explain: bool) -> None:
        self.p, self.decision, self.explain = p, decision, explain

    def reason(self, rule: str, text: str, data: dict[str, Any]) -> None:
        """Add a reason: the rule, its source from the protocol, a sentence and its data."""
        self.decision.reasons.append(Reason(rule, self.p.rule_source[rule], text, data))

    def missing(self, rule: str, missing: list[str], text: str) -> None:
        """Make the dose decision undetermined, naming what is missing."""
        decision = self.decision
        decision.action, decision.target = "undetermined", None
        decision.undetermined.append(
            Undetermined("dose", rule, self.p.rule_source[rule], missing, text)
        )


def schedule_of(p: ProtocolDefinition, index: int) -> str:
    """The schedule text of ladder step ``index``."""
    return p.regimens[index].schedule


def move(current: int, target: int) -> str:
    """The action that moves from ladder step ``current`` to ``target``."""
    if target < current:
        return "escalate"
    return "taper" if target > current else "continue"


def relapse_reason(ex: Explainer, course: Course, kind: str, target: int, relapse: Any) -> None:
    """Explain a restart or a maintenance dose after ``relapse``."""
    p = ex.p
    data = {
        "date": relapse.date,
        "activity": relapse.activity,
        "relapse_min": p.file.response.relapse_min,
        "regimen_at_relapse": p.regimens[relapse.regimen].id,
        "relapse_number": relapse.number,
        "regimen": p.regimens[target].id,
    }
    where = f"on {schedule_of(p, relapse.regimen)}"
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
            f"step, not above {m.highest_regimen}: {schedule_of(p, target)}.",
            data,
        )
    else:
        ex.reason(
            "RELAPSE-RESTART",
            f"Relapse on {relapse.date.isoformat()}: CLASI-A "
            f"{relapse.activity} >= {p.file.response.relapse_min} after complete response, "
            f"{where}: restart {schedule_of(p, target)} as a new treatment cycle.",
            data,
        )
