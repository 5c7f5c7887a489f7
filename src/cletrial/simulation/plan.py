"""What one simulation run simulates: a design's numbers, its boundaries and the protocol course.

A :class:`SimulationPlan` is built from a :class:`~cletrial.design.model.Design` by
:func:`plan_from_design` (under the design's alternative, or under the null hypothesis with
the experimental arm set to the control arm's rate or hazard); it is plain data so that it
pickles to Dask workers.

>>> from cletrial.design.model import load_design
>>> plan = plan_from_design(load_design("lenalidomide-vs-placebo"), [2.797, 1.977], n_per_arm=40)
>>> plan.kind, plan.n_control, plan.looks_control
('binary', 40, (20, 40))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from cletrial.design.model import Design
from cletrial.errors import DesignError, SimulationError
from cletrial.protocol.definition import load_protocol
from cletrial.simulation.course import (
    CourseSummary,
    ProtocolCourse,
    Response,
    calibrate_complete_response,
)

__all__ = ["Hypothesis", "SimulationPlan", "TaperModel", "plan_from_design"]

Hypothesis = Literal["alternative", "null"]
#: How the taper arm of a withdrawal design relapses: the design's exponential, or the
#: protocol's ladder with the 2012 calibration's tolerated step and delay.
TaperModel = Literal["exponential", "protocol"]


@dataclass(frozen=True)
class SimulationPlan:
    """Everything a block of simulated trials needs (rates, sizes, looks, boundaries, course).

    Arm "control" is the design's first arm (placebo, or the taper arm of a withdrawal
    design), "experimental" the second. ``efficacy_z`` and ``futility_z`` are the z-scale
    bounds at the looks (futility ``None`` when the design has none; non-binding).
    """

    kind: Literal["binary", "time_to_event"]
    hypothesis: Hypothesis
    n_control: int
    n_experimental: int
    fractions: tuple[float, ...]
    efficacy_z: tuple[float, ...]
    futility_z: tuple[float, ...] | None
    dropout: float = 0.0
    control_rate: float = 0.0
    treatment_rate: float = 0.0
    week: int = 0
    response: Response = "reached"
    cr_share: float | None = None
    course: ProtocolCourse | None = None
    course_summary: CourseSummary | None = None
    control_median_weeks: float = 0.0
    hazard_ratio: float = 1.0
    accrual_weeks: float = 0.0
    follow_up_weeks: float = 0.0
    dropout_rate: float = 0.0
    events: int = 0
    taper_model: TaperModel = "exponential"

    @property
    def looks_control(self) -> tuple[int, ...]:
        """Control patients enrolled at each look (binary endpoint)."""
        return tuple(max(1, math.ceil(f * self.n_control - 1e-9)) for f in self.fractions)

    @property
    def looks_experimental(self) -> tuple[int, ...]:
        """Experimental patients enrolled at each look (binary endpoint)."""
        return tuple(max(1, math.ceil(f * self.n_experimental - 1e-9)) for f in self.fractions)

    @property
    def looks_events(self) -> tuple[int, ...]:
        """Events at each look (time-to-event endpoint)."""
        return tuple(max(1, math.ceil(f * self.events - 1e-9)) for f in self.fractions)

    @property
    def truth(self) -> float:
        """The true effect: difference in proportions, or log hazard ratio."""
        if self.kind == "binary":
            return self.treatment_rate - self.control_rate
        return math.log(self.hazard_ratio)


def _bounds(
    design: Design, efficacy_z: Sequence[float], futility_z: Sequence[float] | None
) -> tuple[tuple[float, ...], tuple[float, ...] | None]:
    k = len(design.looks)
    efficacy = tuple(float(z) for z in efficacy_z)
    if len(efficacy) != k:
        raise SimulationError(
            "efficacy_z", list(efficacy), f"needs one bound for each of {k} looks"
        )
    if futility_z is None:
        return efficacy, None
    futility = tuple(float(z) for z in futility_z)
    if len(futility) != k:
        raise SimulationError(
            "futility_z", list(futility), f"needs one bound for each of {k} looks"
        )
    return efficacy, futility


def plan_from_design(
    design: Design,
    efficacy_z: Sequence[float],
    futility_z: Sequence[float] | None = None,
    *,
    n_per_arm: int | None = None,
    events: int | None = None,
    hypothesis: Hypothesis = "alternative",
    taper_model: TaperModel = "exponential",
    response: Response = "reached",
) -> SimulationPlan:
    """Build the plan of ``design`` with the given z-scale boundaries.

    Parameters
    ----------
    design : Design
        The design (rates, looks, drop-out, protocol).
    efficacy_z, futility_z : sequence of float
        Efficacy and (optional, non-binding) futility bounds, one a look.
    n_per_arm : int, optional
        Control patients (the experimental arm has ``allocation_ratio`` times as many);
        default the design's ``n_per_arm``.
    events : int, optional
        Events at the final analysis of a time-to-event design.
    hypothesis : {"alternative", "null"}
        Under ``null`` the experimental arm gets the control arm's rate (hazard ratio 1).
    taper_model : {"exponential", "protocol"}
        Withdrawal designs: how the taper arm relapses.
    response : {"reached", "sustained"}
        Binary CR endpoints on lenalidomide: CR reached by the week (the 2012 "time to CR"),
        or still in CR at the week after the protocol's taper and relapses.

    Raises
    ------
    SimulationError
        A size or bound is missing or out of range.
    DesignError
        The treatment rate cannot be reached under the protocol's taper.

    >>> from cletrial.design.model import load_design
    >>> plan = plan_from_design(
    ...     load_design("lenalidomide-vs-placebo"), [1.96, 1.96], n_per_arm=30, hypothesis="null"
    ... )
    >>> plan.treatment_rate
    0.1
    """
    n = n_per_arm if n_per_arm is not None else design.n_per_arm
    if n is None or n < 2:
        raise SimulationError("n_per_arm", n, "give at least 2 patients a control arm")
    efficacy, futility = _bounds(design, efficacy_z, futility_z)
    plan = SimulationPlan(
        kind=design.endpoint.kind,
        hypothesis=hypothesis,
        n_control=n,
        n_experimental=max(2, round(n * design.allocation_ratio)),
        fractions=tuple(design.looks),
        efficacy_z=efficacy,
        futility_z=futility,
        dropout=design.dropout,
    )
    if design.endpoint.kind == "binary":
        return _binary(design, replace(plan, response=response))
    return _time_to_event(design, plan, events, taper_model)


def _course(design: Design) -> ProtocolCourse | None:
    return None if design.protocol is None else ProtocolCourse.of(load_protocol(design.protocol))


def _binary(design: Design, plan: SimulationPlan) -> SimulationPlan:
    week = int(design.endpoint.week or 0)
    control = float(design.control_rate or 0.0)
    target = control if plan.hypothesis == "null" else float(design.treatment_rate or 0.0)
    course = _course(design)
    share, summary = (None, None)
    if course is not None:
        share, summary = calibrate_complete_response(course, week, target, plan.response)
    return replace(
        plan,
        control_rate=control,
        treatment_rate=target,
        week=week,
        course=course,
        cr_share=share,
        course_summary=summary,
    )


def _time_to_event(
    design: Design, plan: SimulationPlan, events: int | None, taper_model: TaperModel
) -> SimulationPlan:
    total = plan.n_control + plan.n_experimental
    if events is None or not 1 <= events <= total:
        raise SimulationError(
            "events", events, f"give the events of the final analysis (1 to {total} patients)"
        )
    course = _course(design) if taper_model == "protocol" else None
    if taper_model == "protocol" and course is None:
        raise DesignError("protocol", None, "a protocol taper model needs the design's protocol")
    return replace(
        plan,
        control_median_weeks=float(design.control_median_weeks or 0.0),
        hazard_ratio=1.0 if plan.hypothesis == "null" else float(design.hazard_ratio or 1.0),
        accrual_weeks=float(design.accrual_weeks or 0.0),
        follow_up_weeks=float(design.follow_up_weeks or 0.0),
        dropout_rate=design.dropout_rate,
        events=events,
        taper_model=taper_model,
        course=course,
    )
