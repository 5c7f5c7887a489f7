"""The numbers of a design report: sample-size grids around the design's assumptions and
simulated power curves beside the analytic ones (pure; the simulation is
:mod:`cletrial.simulation`, the sizes :mod:`cletrial.design.plan`).

A :class:`SizeGrid` holds one table: rows are control rates (or control medians), columns
treatment rates (or hazard ratios), each cell a fixed-design size; the design's own cell is
``highlight``. A :class:`PowerCurve` holds, at a few effect sizes (fractions of the design's
effect, 0 being the null), the simulated reject rate with its Monte Carlo standard error,
the analytic power of :func:`~cletrial.design.plan.design_power`, the expected sample size and
the probability of stopping at each look; every point is simulated at the design's own size.

>>> from cletrial.design.model import load_design
>>> grids = compute_size_grids(load_design("lenalidomide-vs-placebo"))
>>> [g.method for g in grids], grids[0].highlight
(['normal', 'normal_cc', 'exact'], (1, 4))
>>> grids[2].cells[1][4]["n_control"]
13
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from cletrial.design.model import Design
from cletrial.design.plan import design_power, plan_sample_size
from cletrial.design.sample_size import METHODS, n_time_to_event, n_two_proportions

__all__ = [
    "EFFECT_FRACTIONS",
    "PowerCurve",
    "PowerPoint",
    "SizeGrid",
    "compute_power_curve",
    "compute_size_grids",
]

#: Effects simulated, as fractions of the design's own (difference in rates, or log HR); 0 is
#: the null (type I error).
EFFECT_FRACTIONS: Final = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25)
_CONTROL_RATES: Final = (0.05, 0.1, 0.15, 0.2, 0.25)
_TREATMENT_RATES: Final = (0.4, 0.5, 0.6, 0.7, 0.8)
_CONTROL_MEDIANS: Final = (3.0, 6.0, 8.0, 12.0)
_HAZARD_RATIOS: Final = (0.3, 0.5, 0.6, 0.7)
_ANALYTIC_POINTS: Final = 25
_MAX_RATE: Final = 0.97

Progress = Callable[[int], None]


def _with(values: Sequence[float], own: float) -> tuple[float, ...]:
    """``values`` with the design's own value added, sorted, without duplicates."""
    return tuple(sorted({round(v, 6) for v in (*values, own)}))


@dataclass(frozen=True, slots=True)
class SizeGrid:
    """One sample-size table: ``cells[i][j]`` is the size at ``rows[i]`` and ``columns[j]``
    (``None`` where the two rates are equal); ``highlight`` the (row, column) of the design."""

    method: str
    title: str
    row_label: str
    column_label: str
    rows: tuple[float, ...]
    columns: tuple[float, ...]
    cells: tuple[tuple[dict[str, Any] | None, ...], ...]
    highlight: tuple[int, int]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


_METHOD_TITLES: Final = {
    "normal": "Normal approximation (pooled variance, Fleiss)",
    "normal_cc": "Normal approximation with continuity correction (Fleiss, Tytun and Ury)",
    "exact": "Fisher's exact test (exact power)",
}


def _binary_grids(design: Design) -> list[SizeGrid]:
    assert design.control_rate is not None and design.treatment_rate is not None
    rows = _with(_CONTROL_RATES, design.control_rate)
    columns = _with(_TREATMENT_RATES, design.treatment_rate)
    own = (rows.index(round(design.control_rate, 6)),
           columns.index(round(design.treatment_rate, 6)))  # fmt: skip
    grids = []
    for method in METHODS:
        cells = tuple(
            tuple(None if p_c == p_t else _binary_cell(design, method, p_c, p_t) for p_t in columns)
            for p_c in rows
        )
        grids.append(SizeGrid(method, _METHOD_TITLES[method], "control rate", "treatment rate",
                              rows, columns, cells, own))  # fmt: skip
    return grids


def _binary_cell(design: Design, method: Any, p_c: float, p_t: float) -> dict[str, Any]:
    size = n_two_proportions(p_c, p_t, design.alpha, design.power, design.allocation_ratio,
                             method, dropout=design.dropout)  # fmt: skip
    return {"n_control": size.n_control, "n_treatment": size.n_treatment,
            "enrolled_total": size.enrolled_total, "power": size.power}  # fmt: skip


def _event_grids(design: Design) -> list[SizeGrid]:
    assert design.control_median_weeks is not None and design.hazard_ratio is not None
    rows = _with(_CONTROL_MEDIANS, design.control_median_weeks)
    columns = _with(_HAZARD_RATIOS, design.hazard_ratio)
    own = (rows.index(round(design.control_median_weeks, 6)),
           columns.index(round(design.hazard_ratio, 6)))  # fmt: skip
    inflation = plan_sample_size(design).inflation
    grids = []
    for method, factor, title in (
        ("schoenfeld", 1.0, "Schoenfeld events and patients, fixed design"),
        ("schoenfeld_gs", inflation, f"Group-sequential maximum (inflation {inflation:.4f})"),
    ):
        cells = tuple(
            tuple(_event_cell(design, median, hr, factor) for hr in columns) for median in rows
        )
        grids.append(SizeGrid(method, title, "control median (weeks)", "hazard ratio", rows,
                              columns, cells, own))  # fmt: skip
    return grids


def _event_cell(design: Design, median: float, hr: float, inflation: float) -> dict[str, Any]:
    assert design.accrual_weeks is not None and design.follow_up_weeks is not None
    size = n_time_to_event(hr, median, design.accrual_weeks, design.follow_up_weeks, design.alpha,
                           design.power, design.allocation_ratio, design.dropout_rate,
                           inflation)  # fmt: skip
    return {"events": size.events, "n_control": size.n_control, "n_treatment": size.n_treatment,
            "n_total": size.n_total}  # fmt: skip


def compute_size_grids(design: Design) -> tuple[SizeGrid, ...]:
    """Sample-size tables over a grid of assumptions around the design's own (included).

    Binary endpoints: one table per method (normal, normal_cc, exact), rows control rates,
    columns treatment rates, cells the evaluable patients per arm. Time to event: Schoenfeld
    events and patients over control medians (rows) and hazard ratios (columns), fixed and
    group-sequential.

    Examples
    --------
    >>> from cletrial.design.model import load_design
    >>> grid = compute_size_grids(load_design("lenalidomide-withdrawal"))[0]
    >>> grid.rows[grid.highlight[0]], grid.columns[grid.highlight[1]]
    (4.4, 0.4)
    >>> grid.cells[grid.highlight[0]][grid.highlight[1]]["events"]
    38
    """
    if design.endpoint.kind == "binary":
        return tuple(_binary_grids(design))
    return tuple(_event_grids(design))


@dataclass(frozen=True, slots=True)
class PowerPoint:
    """One simulated effect: ``effect`` is the treatment rate (binary) or the hazard ratio;
    ``reject`` and ``reject_se`` the simulated reject rate and its Monte Carlo SE; ``analytic``
    the analytic power; ``stop_efficacy``/``stop_futility`` the simulated probability of
    stopping at each look; ``expected_n`` the simulated expected patients (events for a time
    to event) with its SE and ``analytic_expected_n`` the analytic one."""

    fraction: float
    effect: float
    reject: float
    reject_se: float
    analytic: float
    expected_n: float
    expected_n_se: float
    analytic_expected_n: float
    stop_efficacy: tuple[float, ...]
    stop_futility: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class PowerCurve:
    """Simulated and analytic power over effect sizes at the design's own size."""

    effect_label: str
    null_effect: float
    design_effect: float
    n_control: int
    n_experimental: int
    events: int | None
    size_label: str
    trials: int
    seed: int
    points: tuple[PowerPoint, ...]
    analytic_line: tuple[tuple[float, float], ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["points"] = [dataclasses.asdict(p) for p in self.points]
        return out


def _effect(design: Design, fraction: float) -> float:
    """The treatment rate or hazard ratio at ``fraction`` of the design's effect."""
    if design.endpoint.kind == "binary":
        assert design.control_rate is not None and design.treatment_rate is not None
        rate = design.control_rate + fraction * (design.treatment_rate - design.control_rate)
        return round(min(max(rate, 1.0 - _MAX_RATE), _MAX_RATE), 4)
    assert design.hazard_ratio is not None
    return round(math.exp(fraction * math.log(design.hazard_ratio)), 4)


def _at(design: Design, effect: float) -> Design:
    if design.endpoint.kind == "binary":
        return dataclasses.replace(design, treatment_rate=effect)
    return dataclasses.replace(design, hazard_ratio=effect)


def _analytic(design: Design, effect: float, sizes: dict[str, Any]) -> tuple[float, float]:
    """(power, expected sample size) of the design's boundaries at ``effect``."""
    if design.endpoint.kind == "binary":
        power = design_power(design, n_control=sizes["n_control"],
                             n_treatment=sizes["n_treatment"], p_treatment=effect)  # fmt: skip
        return power.power, power.expected_fraction * sizes["enrolled"]
    power = design_power(design, events=sizes["events"], hazard_ratio=effect)
    return power.power, power.expected_fraction * sizes["events"]


def _sizes(design: Design) -> dict[str, Any]:
    """The design's group-sequential maximum: evaluable per arm (binary) or events."""
    plan = plan_sample_size(design, methods=("normal",))
    if design.endpoint.kind == "binary":
        row = plan.binary[0]
        return {"n_control": row.max_n_control, "n_treatment": row.max_n_treatment,
                "enrolled": row.max_enrolled_total}  # fmt: skip
    assert plan.events is not None
    return {"events": plan.events.events, "n_control": plan.events.n_control}


def compute_power_curve(
    design: Design,
    trials: int,
    seed: int,
    *,
    workers: int | None = None,
    fractions: Sequence[float] = EFFECT_FRACTIONS,
    progress: Progress | None = None,
) -> PowerCurve:
    """Simulate the design at ``fractions`` of its effect (same seed for every point: common
    random numbers) and set the analytic power beside each.

    Parameters
    ----------
    design : Design
        The design; simulated at its own size (:func:`cletrial.simulation.design_plan`).
    trials, seed : int
        Trials per point and the seed of the run (see :func:`cletrial.simulation.run_plans`).
    workers : int, optional
        Run on a Dask LocalCluster of this many processes.
    fractions : sequence of float
        Effects as fractions of the design's (0: the null hypothesis).
    progress : callable, optional
        Called with the trials each finished block holds.

    Returns
    -------
    PowerCurve

    Examples
    --------
    >>> from cletrial.design.model import load_design
    >>> curve = compute_power_curve(load_design("lenalidomide-vs-placebo"), 200, 1,
    ...                             fractions=(0.0, 1.0))
    >>> [p.effect for p in curve.points], curve.n_control
    ([0.1, 0.733], 12)
    """
    from cletrial.simulation import run_plans
    from cletrial.simulation.design_plan import design_plan

    base = design_plan(design)
    events = base.events if design.endpoint.kind == "time_to_event" else None
    effects = [_effect(design, f) for f in fractions]
    plans = [
        design_plan(design, hypothesis="null", n_per_arm=base.n_control, events=events)
        if f == 0.0
        else design_plan(_at(design, e), n_per_arm=base.n_control, events=events)
        for f, e in zip(fractions, effects, strict=True)
    ]
    results = run_plans(plans, trials, seed, workers, progress=progress)
    sizes = _sizes(design)
    points = tuple(
        _point(design, f, e, oc.as_dict(), sizes)
        for f, e, oc in zip(fractions, effects, results, strict=True)
    )
    return PowerCurve(
        effect_label="treatment rate" if design.endpoint.kind == "binary" else "hazard ratio",
        null_effect=_effect(design, 0.0),
        design_effect=_effect(design, 1.0),
        n_control=base.n_control,
        n_experimental=base.n_experimental,
        events=events,
        size_label="patients" if design.endpoint.kind == "binary" else "events",
        trials=trials,
        seed=seed,
        points=points,
        analytic_line=_line(design, min(fractions), max(fractions), sizes),
    )


def _point(design: Design, fraction: float, effect: float, oc: dict[str, Any],
           sizes: dict[str, Any]) -> PowerPoint:  # fmt: skip
    power, expected = _analytic(design, effect, sizes)
    size = oc["expected_patients"] if design.endpoint.kind == "binary" else oc["expected_events"]
    return PowerPoint(
        fraction=fraction,
        effect=effect,
        reject=oc["reject_rate"]["estimate"],
        reject_se=oc["reject_rate"]["mc_se"],
        analytic=power,
        expected_n=size["estimate"],
        expected_n_se=size["mc_se"],
        analytic_expected_n=expected,
        stop_efficacy=tuple(look["stop_efficacy"]["estimate"] for look in oc["looks"]),
        stop_futility=tuple(look["stop_futility"]["estimate"] for look in oc["looks"]),
    )


def _line(design: Design, low: float, high: float,
          sizes: dict[str, Any]) -> tuple[tuple[float, float], ...]:  # fmt: skip
    """The analytic power at evenly spaced fractions of the effect (the curve's line)."""
    step = (high - low) / (_ANALYTIC_POINTS - 1)
    out = []
    for i in range(_ANALYTIC_POINTS):
        effect = _effect(design, low + i * step)
        out.append((effect, _analytic(design, effect, sizes)[0]))
    return tuple(out)
