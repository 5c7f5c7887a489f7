"""The simulation plan of a design with the design's own boundaries (from :mod:`cletrial.design`).

>>> from cletrial.design.model import load_design
>>> plan = design_plan(load_design("lenalidomide-vs-placebo"), n_per_arm=20)
>>> [round(z, 3) for z in plan.efficacy_z], [round(z, 3) for z in plan.futility_z]
([2.963, 1.969], [0.267, 1.969])
"""

from __future__ import annotations

from cletrial.design.boundaries import Boundaries, compute_boundaries
from cletrial.design.model import Design
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
