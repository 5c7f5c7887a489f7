"""A design's plan: boundaries, sizes and analytic power agree with the functions they join."""

from __future__ import annotations

import dataclasses
import math

import pytest
from scipy import stats

from cletrial.design import load_design
from cletrial.design.plan import design_boundaries, design_power, plan_sample_size, size_grid
from cletrial.design.sample_size import n_two_proportions
from cletrial.errors import DesignError


def test_group_sequential_maximum_is_the_fixed_size_times_the_inflation() -> None:
    design = load_design("lenalidomide-vs-placebo")
    plan = plan_sample_size(design)
    inflation = design_boundaries(design).inflation
    for row in plan.binary:
        assert row.max_n_control == math.ceil(row.size.n_raw * inflation - 1e-9)
        assert row.size == n_two_proportions(0.1, 0.733, 0.025, 0.9, 1.0, row.method,
                                             dropout=0.067)  # fmt: skip


def test_events_power_at_the_planned_events_is_the_target() -> None:
    design = load_design("lenalidomide-withdrawal")
    events = plan_sample_size(design).events
    assert events is not None
    result = design_power(design, events=events.events_exact)
    assert result.power == pytest.approx(0.8, abs=1e-6)


def test_under_the_null_power_is_alpha_and_futility_only_lowers_it() -> None:
    design = load_design("lenalidomide-vs-placebo")
    null = design_power(design, n_control=14, n_treatment=14, p_treatment=0.1)
    assert null.power_no_futility == pytest.approx(0.025, abs=1e-9)
    assert null.power < 0.025 and sum(null.p_futility) > 0.9


def test_one_look_power_is_the_wald_formula() -> None:
    design = dataclasses.replace(load_design("lenalidomide-vs-placebo"), looks=(1.0,),
                                 futility=None)  # fmt: skip
    result = design_power(design, n_control=20, n_treatment=20)
    drift = (0.733 - 0.1) / math.sqrt(0.1 * 0.9 / 20 + 0.733 * 0.267 / 20)
    assert result.power == pytest.approx(stats.norm.cdf(drift - stats.norm.isf(0.025)))
    assert result.expected_fraction == 1.0


def test_grid_skips_equal_rates_and_overrides_are_checked() -> None:
    design = load_design("lenalidomide-vs-placebo")
    rows = size_grid(design, [0.1, 0.3], [0.3, 0.5])
    assert [(r["p_control"], r["p_treatment"]) for r in rows] == [(0.1, 0.3), (0.1, 0.5),
                                                                  (0.3, 0.5)]  # fmt: skip
    with pytest.raises(DesignError, match=r"hazard_ratio = 0\.5: applies to time-to-event"):
        plan_sample_size(design, hazard_ratio=0.5)
    with pytest.raises(DesignError, match="n_control = null: give both arm sizes"):
        design_power(design)
    with pytest.raises(DesignError, match="a rate grid needs a binary"):
        size_grid(load_design("lenalidomide-withdrawal"), [0.1], [0.2])
