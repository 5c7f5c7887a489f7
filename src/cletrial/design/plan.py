"""A design's numbers in one place: its boundaries, its sample size by every method (fixed and
group-sequential), and sample-size tables over a grid of assumed rates.

>>> from cletrial.design.model import load_design
>>> plan = plan_sample_size(load_design("lenalidomide-vs-placebo"))
>>> [(row.method, row.size.n_control) for row in plan.binary]
[('normal', 11), ('normal_cc', 14), ('exact', 13)]
>>> plan.binary[2].max_n_control, plan.binary[2].max_enrolled_total
(14, 32)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cletrial.design.boundaries import Boundaries, compute_boundaries, crossing_probabilities
from cletrial.design.model import Design
from cletrial.design.sample_size import (
    METHODS,
    BinarySize,
    EventSize,
    Method,
    n_time_to_event,
    n_two_proportions,
)
from cletrial.errors import DesignError

__all__ = [
    "BinaryRow",
    "DesignPower",
    "SizePlan",
    "design_boundaries",
    "design_power",
    "plan_sample_size",
    "size_grid",
]


def design_boundaries(design: Design, looks: Sequence[float] | None = None) -> Boundaries:
    """The design's group-sequential boundaries (its own looks unless ``looks`` is given).

    Examples
    --------
    >>> from cletrial.design.model import load_design
    >>> b = design_boundaries(load_design("lenalidomide-vs-placebo"), [1 / 3, 2 / 3, 1])
    >>> [round(z, 2) for z in b.efficacy_z]
    [3.71, 2.51, 1.99]
    """
    futility = design.futility.spending if design.futility is not None else None
    beta = design.futility_beta if design.futility is not None else 1.0 - design.power
    return compute_boundaries(
        tuple(looks) if looks is not None else design.looks,
        design.alpha,
        design.efficacy_spending,
        futility=futility,
        beta=beta,
    )


@dataclass(frozen=True, slots=True)
class BinaryRow:
    """A fixed-design size and the group-sequential maximum (fixed size times the inflation)."""

    method: Method
    size: BinarySize
    max_n_control: int
    max_n_treatment: int
    max_enrolled_total: int


@dataclass(frozen=True, slots=True)
class SizePlan:
    """Sample size of a design: ``binary`` rows (one per method) or ``events``."""

    design_id: str
    endpoint: str
    alpha: float
    power: float
    ratio: float
    looks: tuple[float, ...]
    inflation: float
    expected_fraction_h0: float
    expected_fraction_h1: float
    binary: tuple[BinaryRow, ...] = ()
    events: EventSize | None = None
    events_fixed: EventSize | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values (sizes flattened with their totals)."""
        out: dict[str, Any] = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in ("binary", "events", "events_fixed")
        }
        out["binary"] = [
            {
                **_size_dict(row.size),
                "max_n_control": row.max_n_control,
                "max_n_treatment": row.max_n_treatment,
                "max_enrolled_total": row.max_enrolled_total,
            }
            for row in self.binary
        ]
        for name in ("events_fixed", "events"):
            size = getattr(self, name)
            out[name] = None if size is None else _size_dict(size)
        return out


def _size_dict(size: BinarySize | EventSize) -> dict[str, Any]:
    out = {f.name: getattr(size, f.name) for f in dataclasses.fields(size)}
    out["n_total"] = size.n_total
    if isinstance(size, BinarySize):
        out["enrolled_total"] = size.enrolled_total
    return out


def _binary_row(design: Design, method: Method, p_c: float, p_t: float,
                inflation: float) -> BinaryRow:  # fmt: skip
    size = n_two_proportions(
        p_c, p_t, design.alpha, design.power, design.allocation_ratio, method,
        dropout=design.dropout,
    )  # fmt: skip
    max_c = math.ceil(size.n_raw * inflation - 1e-9)
    max_t = math.ceil(size.n_raw * design.allocation_ratio * inflation - 1e-9)
    keep = 1.0 - design.dropout
    enrolled = math.ceil(max_c / keep - 1e-9) + math.ceil(max_t / keep - 1e-9)
    return BinaryRow(method, size, max_c, max_t, enrolled)


def plan_sample_size(
    design: Design,
    *,
    p_control: float | None = None,
    p_treatment: float | None = None,
    hazard_ratio: float | None = None,
    methods: Sequence[Method] = METHODS,
) -> SizePlan:
    """Sample size of ``design`` (its rates unless overridden), fixed and group-sequential.

    Raises
    ------
    DesignError
        An override that does not fit the endpoint, or a bad rate.

    Examples
    --------
    >>> from cletrial.design.model import load_design
    >>> plan = plan_sample_size(load_design("lenalidomide-vs-placebo"), p_control=0.2)
    >>> [row.size.n_control for row in plan.binary]
    [17, 20, 21]
    """
    bounds = design_boundaries(design)
    common: dict[str, Any] = {
        "design_id": design.id,
        "endpoint": design.endpoint.name,
        "alpha": design.alpha,
        "power": design.power,
        "ratio": design.allocation_ratio,
        "looks": design.looks,
        "inflation": bounds.inflation,
        "expected_fraction_h0": bounds.expected_fraction_h0,
        "expected_fraction_h1": bounds.expected_fraction_h1,
    }
    if design.endpoint.kind == "binary":
        if hazard_ratio is not None:
            raise DesignError("hazard_ratio", hazard_ratio, "applies to time-to-event designs")
        p_c = p_control if p_control is not None else design.control_rate
        p_t = p_treatment if p_treatment is not None else design.treatment_rate
        assert p_c is not None and p_t is not None  # checked by the loader
        rows = tuple(_binary_row(design, m, p_c, p_t, bounds.inflation) for m in methods)
        return SizePlan(**common, binary=rows)
    if p_control is not None or p_treatment is not None:
        raise DesignError("p0", p_control or p_treatment, "applies to binary endpoints")
    return SizePlan(**common, events_fixed=_events(design, hazard_ratio, 1.0),
                    events=_events(design, hazard_ratio, bounds.inflation))  # fmt: skip


def _events(design: Design, hazard_ratio: float | None, inflation: float) -> EventSize:
    hr = hazard_ratio if hazard_ratio is not None else design.hazard_ratio
    assert hr is not None and design.control_median_weeks is not None  # checked by the loader
    assert design.accrual_weeks is not None and design.follow_up_weeks is not None
    return n_time_to_event(
        hr, design.control_median_weeks, design.accrual_weeks, design.follow_up_weeks,
        design.alpha, design.power, design.allocation_ratio, design.dropout_rate, inflation,
    )  # fmt: skip


def size_grid(
    design: Design, p_controls: Sequence[float], p_treatments: Sequence[float],
    method: Method = "normal_cc",
) -> list[dict[str, Any]]:  # fmt: skip
    """Fixed-design sizes over a grid of control and treatment rates (pairs with equal rates
    are skipped), for the sample-size table of a design report.

    Examples
    --------
    >>> from cletrial.design.model import load_design
    >>> rows = size_grid(load_design("lenalidomide-vs-placebo"), [0.1, 0.2], [0.5, 0.733])
    >>> [(r["p_control"], r["p_treatment"], r["n_control"]) for r in rows]
    [(0.1, 0.5, 31), (0.1, 0.733, 14), (0.2, 0.5, 58), (0.2, 0.733, 20)]
    """
    if design.endpoint.kind != "binary":
        raise DesignError("endpoint.kind", design.endpoint.kind, "a rate grid needs a binary one")
    rows = []
    for p_c in p_controls:
        for p_t in p_treatments:
            if p_c == p_t:
                continue
            size = n_two_proportions(
                p_c, p_t, design.alpha, design.power, design.allocation_ratio, method,
                dropout=design.dropout,
            )  # fmt: skip
            rows.append(_size_dict(size))
    return rows


@dataclass(frozen=True, slots=True)
class DesignPower:
    """Analytic operating characteristics of a design at given sizes: ``power`` with the
    futility bounds obeyed, ``power_no_futility`` ignoring them, the probability of stopping
    for efficacy and for futility at each look, the expected information fraction, and the
    drift E[Z_K] (Wald statistic for two proportions, Schoenfeld for events)."""

    drift: float
    power: float
    power_no_futility: float
    p_efficacy: tuple[float, ...]
    p_futility: tuple[float, ...]
    expected_fraction: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def _drift(design: Design, n_control: int | None, n_treatment: int | None,
           events: float | None, p_c: float | None, p_t: float | None,
           hazard_ratio: float | None) -> float:  # fmt: skip
    if design.endpoint.kind == "time_to_event":
        hr = hazard_ratio if hazard_ratio is not None else design.hazard_ratio
        if events is None or events <= 0 or hr is None:
            raise DesignError("events", events, "must be a positive number of events")
        share = design.allocation_ratio / (1.0 + design.allocation_ratio)
        return math.sqrt(events * share * (1.0 - share)) * -math.log(hr)
    p_c = p_c if p_c is not None else design.control_rate
    p_t = p_t if p_t is not None else design.treatment_rate
    if not n_control or not n_treatment or n_control < 1 or n_treatment < 1:
        raise DesignError("n_control", n_control, "give both arm sizes, 1 or more")
    assert p_c is not None and p_t is not None  # checked by the loader
    var = p_c * (1.0 - p_c) / n_control + p_t * (1.0 - p_t) / n_treatment
    return (p_t - p_c) / math.sqrt(var)


def design_power(
    design: Design, *, n_control: int | None = None, n_treatment: int | None = None,
    events: float | None = None, p_control: float | None = None,
    p_treatment: float | None = None, hazard_ratio: float | None = None,
) -> DesignPower:  # fmt: skip
    """Analytic power of the design's group-sequential test at these (maximum) sizes and the
    design's (or the given) effect; the boundaries are the design's own.

    Examples
    --------
    >>> from cletrial.design.model import load_design
    >>> w = load_design("lenalidomide-withdrawal")
    >>> full = plan_sample_size(w).events
    >>> round(design_power(w, events=full.events_exact).power, 6)
    0.8
    """
    b = design_boundaries(design)
    drift = _drift(design, n_control, n_treatment, events, p_control, p_treatment,
                   hazard_ratio)  # fmt: skip
    up, low = crossing_probabilities(b.fractions, b.efficacy_z, b.futility_z, drift)
    plain, _ = crossing_probabilities(b.fractions, b.efficacy_z, None, drift)
    steps = [t - s for s, t in zip((0.0, *b.fractions[:-1]), b.fractions, strict=True)]
    reached, expected = 1.0, 0.0
    for step, u, lo in zip(steps, up, low, strict=True):
        expected += step * reached
        reached -= u + lo
    return DesignPower(drift, sum(up), sum(plain), tuple(up), tuple(low), expected)
