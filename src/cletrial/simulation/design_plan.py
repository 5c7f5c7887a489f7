"""The simulation plan of a design with the design's own boundaries (from :mod:`cletrial.design`).

Boundaries are :func:`cletrial.design.plan.design_boundaries`. Without a size the design's own
is used, or else the group-sequential maximum of :func:`cletrial.design.plan.plan_sample_size`
(normal approximation, pooled variance, times the boundaries' inflation factor) divided by
1 - drop-out; a time-to-event design's events and patients are its Schoenfeld events, inflated.

>>> from cletrial.design.model import load_design
>>> plan = design_plan(load_design("lenalidomide-vs-placebo"), n_per_arm=20)
>>> [round(z, 3) for z in plan.efficacy_z], [round(z, 3) for z in plan.futility_z]
([2.963, 1.969], [0.267, 1.969])
>>> design_plan(load_design("lenalidomide-vs-placebo")).n_control
12
"""

from __future__ import annotations

import math

from cletrial.design.boundaries import Boundaries
from cletrial.design.model import Design
from cletrial.design.plan import design_boundaries, plan_sample_size
from cletrial.simulation.course import Response
from cletrial.simulation.plan import Hypothesis, SimulationPlan, TaperModel, plan_from_design

__all__ = ["design_plan"]


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
    sizes = plan_sample_size(design, methods=("normal",))
    if design.endpoint.kind == "binary":
        evaluable = sizes.binary[0].max_n_control
        return math.ceil(evaluable / (1.0 - design.dropout) - 1e-9), None
    assert sizes.events is not None
    return sizes.events.n_control, sizes.events.events
