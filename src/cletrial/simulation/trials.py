"""One block of simulated trials, vectorised over trials and patients: test statistics at looks.

A block is a (trials x patients) array per arm. For a binary endpoint every look analyses the
first patients enrolled (its information fraction of each arm), by the two-proportion z-test
with the pooled variance among patients with an endpoint (drop-outs have none). For a time to
event, patients enter uniformly over the accrual period and each look is at the calendar time
of its share of the final analysis' events (or at the end of follow-up, whichever is first);
the statistic is the log-rank z and the estimate the exponential maximum likelihood log hazard
ratio. Positive z favours the experimental arm.

>>> from cletrial.simulation.plan import SimulationPlan
>>> plan = SimulationPlan("binary", "null", 50, 50, (0.5, 1.0), (2.8, 2.0), None,
...                       control_rate=0.3, treatment_rate=0.3, week=12)
>>> looks = simulate_looks(plan, np.random.default_rng(3), 4)
>>> looks.z.shape, looks.patients.tolist()
((4, 2), [[50, 100], [50, 100], [50, 100], [50, 100]])
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cletrial.simulation.course import cr_at_week
from cletrial.simulation.plan import SimulationPlan

__all__ = ["Looks", "simulate_looks"]

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


@dataclass
class Looks:
    """Per trial (rows) and look (columns): z, estimate, patients enrolled, events and week.

    ``final`` marks a look that had to be the final analysis (follow-up ended before its
    events); ``events`` and ``weeks`` are zero for a binary endpoint.
    """

    z: Floats
    estimate: Floats
    patients: npt.NDArray[np.int64]
    events: npt.NDArray[np.int64]
    weeks: Floats
    final: npt.NDArray[np.bool_]


def simulate_looks(plan: SimulationPlan, rng: np.random.Generator, trials: int) -> Looks:
    """Simulate ``trials`` trials of ``plan`` and return their statistics at every look.

    Parameters
    ----------
    plan : SimulationPlan
        What to simulate.
    rng : numpy.random.Generator
        The block's generator.
    trials : int
        Trials in the block.

    Returns
    -------
    Looks
        One row a trial, one column a look.
    """
    if plan.kind == "binary":
        return _binary(plan, rng, trials)
    return _time_to_event(plan, rng, trials)


def _responses(plan: SimulationPlan, rng: np.random.Generator, trials: int) -> Bools:
    size = trials * plan.n_experimental
    if plan.course is None or plan.cr_share is None:
        return rng.random(size) < plan.treatment_rate
    return cr_at_week(plan.course, rng, size, plan.cr_share, plan.week, plan.response)


def _cumulative(values: npt.NDArray[np.bool_], looks: tuple[int, ...]) -> Floats:
    """Sums of each row's first ``looks[k]`` values, one column a look."""
    edges = (0, *looks)
    parts = [values[:, a:b].sum(axis=1) for a, b in itertools.pairwise(edges)]
    return np.cumsum(np.stack(parts, axis=1), axis=1).astype(np.float64)


def _binary(plan: SimulationPlan, rng: np.random.Generator, trials: int) -> Looks:
    nc, ne = plan.n_control, plan.n_experimental
    yc = rng.random((trials, nc)) < plan.control_rate
    ye = _responses(plan, rng, trials).reshape(trials, ne)
    if plan.dropout > 0:
        kept_c = rng.random((trials, nc)) >= plan.dropout
        kept_e = rng.random((trials, ne)) >= plan.dropout
    else:
        kept_c = np.ones((trials, nc), bool)
        kept_e = np.ones((trials, ne), bool)
    xc = _cumulative(yc & kept_c, plan.looks_control)
    xe = _cumulative(ye & kept_e, plan.looks_experimental)
    mc = np.maximum(_cumulative(kept_c, plan.looks_control), 1.0)
    me = np.maximum(_cumulative(kept_e, plan.looks_experimental), 1.0)
    pooled = (xc + xe) / (mc + me)
    diff = xe / me - xc / mc
    se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / mc + 1.0 / me))
    z = np.divide(diff, se, out=np.zeros_like(diff), where=se > 0)
    k = len(plan.fractions)
    patients = np.asarray(plan.looks_control) + np.asarray(plan.looks_experimental)
    return Looks(
        z=z,
        estimate=diff,
        patients=np.broadcast_to(patients, (trials, k)).astype(np.int64),
        events=np.zeros((trials, k), np.int64),
        weeks=np.full((trials, k), float(plan.week)),
        final=np.zeros((trials, k), bool),
    )


def _taper_relapse(
    plan: SimulationPlan, rng: np.random.Generator, shape: tuple[int, int]
) -> Floats:
    """Weeks from randomisation to relapse in the taper arm under the protocol's ladder."""
    course = plan.course
    assert course is not None
    cal = course.calibration
    size = shape[0] * shape[1]
    weights = np.asarray(course.relapse_weights)
    tolerated = np.asarray(course.relapse_steps)[
        np.searchsorted(np.cumsum(weights / weights.sum()), rng.random(size), side="right")
    ]
    # step k of the taper (k = 0 at randomisation) begins k taper intervals later
    step_day = (tolerated - course.taper_steps[0]) * float(course.taper_interval)
    low, high = cal.relapse_delay_days
    delay = low + (high - low) * rng.beta(2.0, 2.5, size)
    relapses = rng.random(size) < cal.p_relapse
    return np.where(relapses, (step_day + delay) / 7.0, np.inf).reshape(shape)


def _event_times(plan: SimulationPlan, rng: np.random.Generator, trials: int) -> tuple[Floats, ...]:
    """Entry week, time to relapse and time to drop-out (weeks), control arm first.

    Exponential model: the taper (control) arm relapses at the design's median, the other arm
    at ``hazard_ratio`` times its hazard. Protocol model: every patient's time comes from the
    protocol's taper (:func:`_taper_relapse`), the experimental arm's stretched by
    ``1 / hazard_ratio`` (exactly proportional hazards for exponential times; the same
    distribution in both arms under the null)."""
    n = plan.n_control + plan.n_experimental
    shape = (trials, n)
    entry = rng.uniform(0.0, plan.accrual_weeks, shape)
    hazard = math.log(2.0) / plan.control_median_weeks
    rate = np.concatenate(
        [np.full(plan.n_control, hazard), np.full(plan.n_experimental, hazard * plan.hazard_ratio)]
    )
    if plan.taper_model == "protocol":  # accelerated failure time: continuing stretches by 1/HR
        relapse = _taper_relapse(plan, rng, shape)
        relapse[:, plan.n_control :] /= plan.hazard_ratio
    else:
        relapse = rng.exponential(1.0, shape) / rate
    drop = (
        rng.exponential(1.0 / plan.dropout_rate, shape)
        if plan.dropout_rate > 0
        else np.full(shape, np.inf)
    )
    return entry, relapse, drop


def _logrank(
    time: Floats, event: npt.NDArray[np.bool_], experimental: npt.NDArray[np.bool_]
) -> tuple[Floats, Floats]:
    """Row-wise log-rank z (positive: fewer events on the experimental arm) and the
    exponential MLE log hazard ratio (nan without events on an arm).

    ``time`` is infinite for patients not yet enrolled (they sort last and count nowhere);
    times are continuous, so there are no ties."""
    order = np.argsort(time, axis=1)
    ev = np.take_along_axis(event, order, axis=1)
    ex = np.take_along_axis(experimental, order, axis=1)
    enrolled = np.isfinite(time)
    at_risk = enrolled.sum(axis=1, keepdims=True) - np.arange(time.shape[1], dtype=np.float64)
    ex_risk = ex.sum(axis=1, keepdims=True) - np.cumsum(ex, axis=1) + ex
    share = np.divide(ex_risk, at_risk, out=np.zeros(at_risk.shape), where=at_risk > 0)
    observed_minus_expected = np.sum(ev * (ex - share), axis=1)
    variance = np.sum(ev * share * (1.0 - share), axis=1)
    z = np.divide(-observed_minus_expected, np.sqrt(variance), out=np.zeros(len(time)),
                  where=variance > 0)  # fmt: skip
    d_e = np.sum(event & experimental, axis=1)
    d_c = np.sum(event & ~experimental, axis=1)
    t_e = np.sum(np.where(experimental, time, 0.0), axis=1)
    t_c = np.sum(np.where(enrolled & ~experimental, time, 0.0), axis=1)
    ok = (d_e > 0) & (d_c > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_hr = np.log(d_e / t_e) - np.log(d_c / t_c)
    return z, np.where(ok, log_hr, np.nan)


def _time_to_event(plan: SimulationPlan, rng: np.random.Generator, trials: int) -> Looks:
    entry, relapse, drop = _event_times(plan, rng, trials)
    end = plan.accrual_weeks + plan.follow_up_weeks
    observed = np.minimum(relapse, drop)
    calendar = np.where(relapse <= drop, entry + relapse, np.inf)
    ordered = np.sort(calendar, axis=1)
    experimental = np.zeros(entry.shape[1], bool)
    experimental[plan.n_control :] = True
    ex = np.broadcast_to(experimental, entry.shape)
    k = len(plan.fractions)
    out = {name: np.zeros((trials, k)) for name in ("z", "estimate", "patients", "events", "weeks")}
    final = np.zeros((trials, k), bool)
    for j, needed in enumerate(plan.looks_events):
        cut = np.minimum(ordered[:, needed - 1], end)
        final[:, j] = ordered[:, needed - 1] > end
        enrolled = entry < cut[:, None]
        follow = np.where(enrolled, np.minimum(observed, cut[:, None] - entry), np.inf)
        event = enrolled & (calendar <= cut[:, None])
        z, log_hr = _logrank(follow, event, ex & enrolled)
        out["z"][:, j], out["estimate"][:, j] = z, log_hr
        out["patients"][:, j] = enrolled.sum(axis=1)
        out["events"][:, j] = event.sum(axis=1)
        out["weeks"][:, j] = cut
    return Looks(
        z=out["z"],
        estimate=out["estimate"],
        patients=out["patients"].astype(np.int64),
        events=out["events"].astype(np.int64),
        weeks=out["weeks"],
        final=np.maximum.accumulate(final, axis=1),
    )
