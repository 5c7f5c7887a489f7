"""Simulated operating characteristics agree with theory within their Monte Carlo error.

Type I error: under the null the reject rate (without the non-binding futility stops) is
within 3 Monte Carlo standard errors of the design's one-sided alpha, and at most that with
futility. Power: under the alternative the reject rate matches the normal-approximation power
of the two-proportion z-test (Fleiss, Levin and Paik, Statistical Methods for Rates and
Proportions, 3rd ed., 2003, eq. 4.14), for one look and, through the bivariate normal of the
two looks' z statistics (correlation sqrt(t1)), for two; and the log-rank power of Schoenfeld
(Biometrika 1981;68:316-319): Phi(sqrt(D r) |log HR| / (1 + r) - z_alpha) with r = 1.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

from cletrial.design.model import load_design
from cletrial.design.plan import design_boundaries
from cletrial.simulation import plan_from_design, run_simulation
from cletrial.simulation.design_plan import design_plan

PARALLEL = load_design("lenalidomide-vs-placebo")
WITHDRAWAL = load_design("lenalidomide-withdrawal")


def _within(value: dict[str, float], expected: float, k: float = 3.0) -> bool:
    return abs(value["estimate"] - expected) <= k * value["mc_se"]


def _fleiss_parts(p0: float, p1: float, n: int) -> tuple[float, float, float]:
    """Mean difference, SE under H1 (unpooled) and under H0 (pooled), n a arm."""
    pbar = (p0 + p1) / 2
    return (
        p1 - p0,
        math.sqrt((p0 * (1 - p0) + p1 * (1 - p1)) / n),
        math.sqrt(2 * pbar * (1 - pbar) / n),
    )


def test_type_one_error_of_the_group_sequential_design_is_alpha() -> None:
    plan = design_plan(PARALLEL, hypothesis="null", n_per_arm=60)
    result = run_simulation(plan, trials=40_000, seed=101).as_dict()
    assert _within(result["reject_rate_without_futility"], PARALLEL.alpha)
    assert result["reject_rate"]["estimate"] <= PARALLEL.alpha + 3 * result["reject_rate"]["mc_se"]
    assert abs(result["estimate"]["truth"]) == 0.0


def test_power_of_one_look_matches_the_normal_approximation() -> None:
    design = dataclasses.replace(PARALLEL, looks=(1.0,), futility=None, dropout=0.0,
                                 control_rate=0.3, treatment_rate=0.5, protocol=None)  # fmt: skip
    n, z = 100, float(stats.norm.isf(design.alpha))
    plan = plan_from_design(design, [z], n_per_arm=n)
    delta, se1, se0 = _fleiss_parts(0.3, 0.5, n)
    analytic = float(stats.norm.cdf((delta - z * se0) / se1))
    result = run_simulation(plan, trials=20_000, seed=7).as_dict()
    assert _within(result["reject_rate"], analytic), (result["reject_rate"], analytic)


def test_power_of_two_looks_matches_the_bivariate_normal() -> None:
    design = dataclasses.replace(PARALLEL, control_rate=0.3, treatment_rate=0.5, futility=None,
                                 dropout=0.0)  # fmt: skip
    n = 120
    bounds = design_boundaries(design)
    plan = plan_from_design(design, bounds.efficacy_z, None, n_per_arm=n)
    assert plan.course is not None  # the lenalidomide arm follows the protocol
    delta, se1, se0 = _fleiss_parts(0.3, 0.5, n)
    t1 = design.looks[0]
    # Z_k (pooled) ~ N(delta sqrt(t_k) / se1, (se1 / se0)^2); reject at the first crossing
    means = np.array([delta * math.sqrt(t1) / se0, delta / se0])
    sd = se1 / se0
    cov = sd**2 * np.array([[1.0, math.sqrt(t1)], [math.sqrt(t1), 1.0]])
    e1, e2 = bounds.efficacy_z
    neither = stats.multivariate_normal(means, cov).cdf(np.array([e1, e2]))
    first = stats.norm.sf(e1, means[0], sd)
    analytic = float(first + (1 - first) - neither)
    result = run_simulation(plan, trials=20_000, seed=8).as_dict()
    assert _within(result["reject_rate"], analytic), (result["reject_rate"], analytic)
    assert _within(result["looks"][0]["stop_efficacy"], float(first))


@pytest.mark.parametrize("taper_model", ["exponential", "protocol"])
def test_log_rank_type_one_error_is_alpha(taper_model: str) -> None:
    design = dataclasses.replace(WITHDRAWAL, looks=(1.0,), futility=None)
    z = float(stats.norm.isf(design.alpha))
    plan = plan_from_design(design, [z], n_per_arm=80, events=100, hypothesis="null",
                            taper_model=taper_model)  # type: ignore[arg-type]  # fmt: skip
    result = run_simulation(plan, trials=12_000, seed=21).as_dict()
    assert _within(result["reject_rate"], design.alpha), result["reject_rate"]


def test_log_rank_power_matches_schoenfeld() -> None:
    design = dataclasses.replace(WITHDRAWAL, looks=(1.0,), futility=None, hazard_ratio=0.75)
    events, z = 300, float(stats.norm.isf(design.alpha))
    plan = plan_from_design(design, [z], n_per_arm=200, events=events)
    analytic = float(stats.norm.cdf(math.sqrt(events / 4) * abs(math.log(0.75)) - z))
    result = run_simulation(plan, trials=6_000, seed=22).as_dict()
    assert _within(result["reject_rate"], analytic), (result["reject_rate"], analytic)
    assert _within(
        {"estimate": result["estimate"]["bias"], "mc_se": result["estimate"]["mc_se"]}, 0.0
    )


def test_drop_outs_leave_the_test_to_the_patients_with_an_endpoint() -> None:
    design = dataclasses.replace(PARALLEL, looks=(1.0,), futility=None, dropout=0.3,
                                 control_rate=0.3, treatment_rate=0.5, protocol=None)  # fmt: skip
    n, z = 100, float(stats.norm.isf(design.alpha))
    plan = plan_from_design(design, [z], n_per_arm=n)
    # the normal-approximation power averaged over the binomial numbers with an endpoint
    kept = np.arange(n + 1)
    weight = stats.binom.pmf(kept, n, 0.7)
    nc, ne = np.meshgrid(kept[1:], kept[1:], indexing="ij")
    pbar = (0.3 * nc + 0.5 * ne) / (nc + ne)
    se0 = np.sqrt(pbar * (1 - pbar) * (1 / nc + 1 / ne))
    se1 = np.sqrt(0.21 / nc + 0.25 / ne)
    power = stats.norm.cdf((0.2 - z * se0) / se1)
    analytic = float(np.sum(np.outer(weight[1:], weight[1:]) * power))
    result = run_simulation(plan, trials=20_000, seed=9).as_dict()
    assert _within(result["reject_rate"], analytic), (result["reject_rate"], analytic)
    without = run_simulation(dataclasses.replace(plan, dropout=0.0), trials=20_000, seed=9)
    assert without.reject_rate["estimate"] > result["reject_rate"]["estimate"] + 0.1


def test_group_sequential_log_rank_matches_the_design_power() -> None:
    from cletrial.design.plan import design_power

    design = dataclasses.replace(WITHDRAWAL, hazard_ratio=0.7)  # two looks, OBF, futility
    analytic = design_power(design, events=300)
    result = run_simulation(design_plan(design, n_per_arm=300, events=300), 10_000, 31).as_dict()
    assert _within(result["reject_rate"], analytic.power)
    assert _within(result["reject_rate_without_futility"], analytic.power_no_futility)
    first = result["looks"][0]
    assert _within(first["stop_efficacy"], analytic.p_efficacy[0])
    assert _within(first["stop_futility"], analytic.p_futility[0])
