"""The simulation plan of a design with the design's own boundaries (from :mod:`cletrial.design`).

Without a size the design's own is used, or else the size of :mod:`cletrial.design.sample_size`
for its rates, alpha and power (normal approximation, pooled variance) scaled by the
group-sequential inflation factor of its boundaries and divided by 1 - drop-out; a
time-to-event design's events are Schoenfeld's, inflated the same way.

>>> from cletrial.design.model import load_design
>>> plan = design_plan(load_design("lenalidomide-vs-placebo"), n_per_arm=20)
>>> [round(z, 3) for z in plan.efficacy_z], [round(z, 3) for z in plan.futility_z]
([2.963, 1.969], [0.267, 1.969])
>>> design_plan(load_design("lenalidomide-vs-placebo")).n_control
12
"""

from __future__ import annotations

import math

from cletrial.design.boundaries import Boundaries, compute_boundaries
from cletrial.design.model import Design
from cletrial.design.sample_size import n_time_to_event, n_two_proportions
from cletrial.simulation.course import Response
from cletrial.simulation.plan import Hypothesis, SimulationPlan, TaperModel, plan_from_design

__all__ = ["design_boundaries", "design_plan"]


def design_boundaries(design: Design) -> Boundaries:
    """The design's group-sequential boundaries (efficacy spending, non-binding futility).

    >>> from cletrial.design.model import load_design
    >>> design_boundaries(load_design("lenalidomide-withdrawal")).fractions
    (0.5, 1.0)
    """
    futility = design.futility
    return compute_boundaries(
        design.looks,
        design.alpha,
        design.efficacy_spending,
        futility=None if futility is None else futility.spending,
        beta=design.futility_beta if futility is not None else 1.0 - design.power,
    )


def design_plan(
    design: Design,
    *,
    hypothesis: Hypothesis = "alternative",
    n_per_arm: int | None = None,
    events: int | None = None,
    taper_model: TaperModel = "exponential",
    response: Response = "reached",
) -> SimulationPlan:
    """The plan of ``design`` under ``hypothesis``, with the design's boundaries.

    Parameters are those of :func:`~cletrial.simulation.plan.plan_from_design`.

    >>> from cletrial.design.model import load_design
    >>> design_plan(load_design("lenalidomide-vs-placebo"), n_per_arm=20).treatment_rate
    0.733
    """
    bounds = design_boundaries(design)
    if n_per_arm is None and design.n_per_arm is None:
        n_per_arm, planned = _design_size(design, bounds)
        events = planned if events is None else events
    elif events is None and design.endpoint.kind == "time_to_event":
        events = _design_size(design, bounds)[1]
    return plan_from_design(
        design,
        bounds.efficacy_z,
        bounds.futility_z,
        n_per_arm=n_per_arm,
        events=events,
        hypothesis=hypothesis,
        taper_model=taper_model,
        response=response,
    )


def _design_size(design: Design, bounds: Boundaries) -> tuple[int, int | None]:
    """Control patients to enrol (and events) for the design's alternative, alpha and power."""
    power = design.power
    ratio = design.allocation_ratio
    if design.endpoint.kind == "binary":
        size = n_two_proportions(
            float(design.control_rate or 0.0), float(design.treatment_rate or 0.0),
            design.alpha, power, ratio,
        )  # fmt: skip
        evaluable = size.n_raw * bounds.inflation
        return math.ceil(evaluable / (1.0 - design.dropout) - 1e-9), None
    tte = n_time_to_event(
        float(design.hazard_ratio or 1.0), float(design.control_median_weeks or 1.0),
        float(design.accrual_weeks or 0.0), float(design.follow_up_weeks or 0.0),
        design.alpha, power, ratio, design.dropout_rate, bounds.inflation,
    )  # fmt: skip
    return tte.n_control, tte.events
