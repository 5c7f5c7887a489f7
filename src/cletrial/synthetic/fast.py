"""A fast vectorised cohort generator that builds the columnar visit table directly.

Treating 100,000 patients through the protocol engine one visit at a time takes minutes, so the
derivation benchmark uses this generator instead. It simulates the same disease model as
:mod:`cletrial.synthetic.cohort` for all patients at once (numpy over patients, one loop step a
visit), and applies a vectorised copy of the protocol's main dosing rules instead of calling the
engine: week-4 review (CR: taper one step; PR: stay; otherwise 10 mg daily), monthly taper while
CLASI-A is 0, restart at 5 mg daily on a first relapse and maintenance one step above the relapse
step (at most 5 mg daily) from the second. Visits are every 2 weeks (+/-3 days) so that a
follow-up of about a year gives ~25 visits a patient (2.5 million for 100,000 patients); 5% of
visits lack CLASI and 10% lack SLEDAI-2K (missing, not zero). Output is labelled synthetic.

It is a load generator with realistic structure (responses, tapers, relapses, restarts,
maintenance, withdrawals, flares, laboratory values, adverse events), not a calibrated cohort:
use :func:`~cletrial.synthetic.cohort.generate_cohort` for that.

>>> table = generate_visit_table(50, seed=1)
>>> table.n_patients, bool(table.patients["synthetic"].all())
(50, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cletrial.endpoints.rules import EVENT_TYPES
from cletrial.endpoints.table import VisitTable
from cletrial.instruments.clasi import CLASI_ACTIVITY_MAX, CLASI_DAMAGE_MAX
from cletrial.synthetic.calibration import DEFAULT_CALIBRATION, Calibration

__all__ = ["generate_visit_table"]

_START, _TAPER, _OFF, _ESCALATE = 4, 1, 0, 5  # ladder ranks: 5_daily, step, off, 10_daily
_INTERVAL = 14


@dataclass
class _Cohort:
    """Per-patient traits and state, one array entry a patient."""

    n: int
    base_a: npt.NDArray[np.float64]
    base_d: npt.NDArray[np.float64]
    base_s: npt.NDArray[np.float64]
    withdrawal: npt.NDArray[np.bool_]
    partial: npt.NDArray[np.bool_]
    cr_days: npt.NDArray[np.float64]
    relapse_rank: npt.NDArray[np.int64]  # rank at or below which the remission breaks; -9 never
    second_rank: npt.NDArray[np.int64]
    followup: npt.NDArray[np.int64]
    flare_visit: npt.NDArray[np.int64]


def _traits(rng: np.random.Generator, n: int, cal: Calibration) -> _Cohort:
    base_a = np.rint(rng.normal(cal.clasi_a_mean, cal.clasi_a_sd, n))
    base_a = np.clip(base_a, cal.clasi_a_min, CLASI_ACTIVITY_MAX)
    r = cal.clasi_d_mean**2 / (cal.clasi_d_sd**2 - cal.clasi_d_mean)
    draws = rng.negative_binomial(r, r / (r + cal.clasi_d_mean), n)
    base_d = np.minimum(draws, CLASI_DAMAGE_MAX).astype(float)
    scores, probs = zip(*cal.sledai_probs, strict=True)
    base_s = rng.choice(np.array(scores, dtype=float), n, p=np.array(probs) / sum(probs))
    withdrawal = rng.random(n) < cal.p_early_withdrawal
    cr = ~withdrawal & (rng.random(n) < cal.p_complete_response)
    steps = cal.relapse_step_probs or {}
    ranks = np.array(
        [{"5_alternate": 3, "5_thrice_weekly": 2, "5_twice_weekly": 1, "off": 0}[k] for k in steps]
    )
    weights = np.array(list(steps.values()))
    first = rng.choice(ranks, n, p=weights / weights.sum())
    relapses = cr & (rng.random(n) < cal.p_relapse)
    modes, mode_p = zip(*cal.second_cycle_probs, strict=True)
    mode = rng.choice(len(modes), n, p=np.array(mode_p) / sum(mode_p))
    second_by_mode = {
        "again": first,
        "partial": np.full(n, -9),
        "after_withdrawal": np.zeros(n),
        "holds": np.full(n, -9),
    }
    second = np.select([mode == i for i in range(len(modes))], [second_by_mode[m] for m in modes])
    months = np.clip(
        np.exp(rng.normal(np.log(11.5), 0.35, n)), cal.followup_months_min, cal.followup_months_max
    )
    cr_weeks = np.clip(
        np.exp(rng.normal(np.log(cal.cr_weeks_median), cal.cr_weeks_sigma, n)),
        cal.cr_weeks_min,
        cal.cr_weeks_max,
    )
    flare = np.where(rng.random(n) < cal.p_mild_arthritis, rng.integers(3, 8, n), -1)
    return _Cohort(
        n=n,
        base_a=base_a,
        base_d=base_d,
        base_s=base_s,
        withdrawal=withdrawal,
        partial=~withdrawal & ~cr,
        cr_days=np.where(cr, cr_weeks * 7, np.inf),
        relapse_rank=np.where(relapses, first, -9).astype(np.int64),
        second_rank=np.where(relapses, second, -9).astype(np.int64),
        followup=np.rint(months * 30.44).astype(np.int64),
        flare_visit=flare,
    )


@dataclass
class _State:
    rank: npt.NDArray[np.int64]
    last_change: npt.NDArray[np.float64]
    reviewed: npt.NDArray[np.bool_]
    cycle: npt.NDArray[np.int64]
    cycle_start: npt.NDArray[np.float64]
    cycle_a0: npt.NDArray[np.float64]
    cycle_cr: npt.NDArray[np.float64]
    relapse_day: npt.NDArray[np.float64]
    relapsed: npt.NDArray[np.bool_]
    in_rem: npt.NDArray[np.bool_]
    n_rel: npt.NDArray[np.int64]
    maintenance: npt.NDArray[np.bool_]
    damage: npt.NDArray[np.float64]


def _activity(rng: np.random.Generator, c: _Cohort, st: _State, day: Any) -> tuple[Any, Any]:
    """CLASI-A at this slot for every patient, and who relapses now (updates the state)."""
    n = c.n
    tau = day - st.cycle_start
    level = st.cycle_a0 * np.exp(-np.log(2 * st.cycle_a0) * tau / st.cycle_cr)
    a = np.maximum(1.0, np.rint(level + 0.7 * rng.standard_normal(n)))
    partial = c.base_a * (0.3 + 0.7 * np.exp(-tau / 20.0))
    a = np.where(c.partial, np.maximum(1.0, np.rint(partial)), a)
    st.in_rem |= ~c.partial & (tau >= st.cycle_cr) & ~st.relapsed & np.isinf(st.relapse_day)
    a = np.where(st.in_rem & ~st.relapsed, 0.0, a)
    residual = np.isfinite(st.relapse_day) & (day < st.relapse_day)
    a = np.where(residual, rng.integers(1, 4, n), a)
    now = np.isfinite(st.relapse_day) & (day >= st.relapse_day)
    st.cycle_a0 = np.where(now, 4.0 + rng.poisson(3, n), st.cycle_a0)
    st.relapsed |= now
    st.in_rem &= ~now
    st.relapse_day = np.where(now, np.inf, st.relapse_day)
    return np.where(st.relapsed, st.cycle_a0, a), now


def _dose(
    rng: np.random.Generator, c: _Cohort, st: _State, day: Any, a: Any, now: Any, seen: Any
) -> Any:
    """The simplified protocol: returns the new rank (changes recorded by the caller)."""
    rank = st.rank.copy()
    review = seen & ~st.reviewed & (day >= 21)
    improved = (c.base_a - a) >= 0.5 * c.base_a
    rank = np.where(review & (a > 0) & ~improved, _ESCALATE, rank)
    st.reviewed |= review
    taper = seen & st.reviewed & (a == 0) & (day - st.last_change >= 21) & ~st.maintenance
    rank = np.where(taper & (rank > _OFF), np.minimum(rank, _START) - 1, rank)
    relapse = seen & now
    st.n_rel += relapse
    maintain = relapse & (st.n_rel >= 2)
    rank = np.where(relapse, np.where(maintain, np.minimum(st.rank + 1, _START), _START), rank)
    st.maintenance |= maintain
    st.cycle = np.where(relapse, st.cycle + 1, st.cycle)
    st.cycle_start = np.where(relapse, day, st.cycle_start)
    st.cycle_cr = np.where(relapse, rng.uniform(14, 42, c.n), st.cycle_cr)
    st.relapsed &= ~relapse
    limit = np.where(st.cycle == 0, c.relapse_rank, np.where(st.cycle == 1, c.second_rank, -9))
    falls = taper & (rank <= limit) & np.isinf(st.relapse_day)
    low, high = DEFAULT_CALIBRATION.relapse_delay_days
    st.relapse_day = np.where(
        falls, day + np.rint(low + (high - low) * rng.beta(2, 2.5, c.n)), st.relapse_day
    )
    return rank


def _simulate(rng: np.random.Generator, c: _Cohort) -> dict[str, Any]:
    """Run the visit slots; returns (patients x slots) arrays and the dose grid."""
    n = c.n
    slots = int(c.followup.max()) // _INTERVAL if n else 0
    days = _INTERVAL * np.arange(1, slots + 1)[None, :] + rng.integers(-3, 4, (n, slots))
    days[:, 0] = _INTERVAL
    seen = (days <= c.followup[:, None]) & ~c.withdrawal[:, None]
    st = _State(
        rank=np.where(c.withdrawal, _OFF, _START).astype(np.int64),
        last_change=np.zeros(n),
        reviewed=np.zeros(n, bool),
        cycle=np.zeros(n, np.int64),
        cycle_start=np.zeros(n),
        cycle_a0=c.base_a.copy(),
        cycle_cr=c.cr_days.copy(),
        relapse_day=np.full(n, np.inf),
        relapsed=np.zeros(n, bool),
        in_rem=np.zeros(n, bool),
        n_rel=np.zeros(n, np.int64),
        maintenance=np.zeros(n, bool),
        damage=c.base_d.copy(),
    )
    grid = {k: np.full((n, slots), np.nan) for k in ("a", "d", "s")}
    ranks = np.zeros((n, slots), np.int64)
    changed = np.zeros((n, slots), bool)
    for j in range(slots):
        day = days[:, j].astype(float)
        a, now = _activity(rng, c, st, day)
        st.damage += rng.random(n) < DEFAULT_CALIBRATION.damage_increase_per_visit
        new = _dose(rng, c, st, day, a, now, seen[:, j])
        changed[:, j] = seen[:, j] & (new != st.rank)
        st.last_change = np.where(changed[:, j], day, st.last_change)
        st.rank = np.where(seen[:, j], new, st.rank)
        ranks[:, j] = st.rank
        flare = (c.flare_visit >= 0) & ((c.flare_visit == j) | (c.flare_visit == j - 1))
        grid["a"][:, j] = np.where(rng.random(n) < 0.05, np.nan, a)
        grid["d"][:, j] = st.damage
        grid["s"][:, j] = np.where(rng.random(n) < 0.1, np.nan, c.base_s + 4 * flare)
    return {"days": days, "seen": seen, "ranks": ranks, "changed": changed, **grid}


def _ravel(mask: Any, **columns: Any) -> dict[str, Any]:
    """Flatten (patients x k) grids in patient-major order, keeping cells where ``mask``."""
    n, k = mask.shape
    pidx = np.broadcast_to(np.arange(n)[:, None], (n, k))
    seq = np.cumsum(mask, axis=1)
    out = {"pidx": pidx[mask], "seq": seq[mask]}
    out.update({name: np.broadcast_to(values, (n, k))[mask] for name, values in columns.items()})
    return out


def _doses(c: _Cohort, sim: dict[str, Any]) -> pd.DataFrame:
    n = c.n
    mask = np.concatenate([np.ones((n, 1), bool), c.withdrawal[:, None], sim["changed"]], axis=1)
    days = np.concatenate([np.zeros((n, 1)), np.full((n, 1), 7), sim["days"]], axis=1)
    ranks = np.concatenate([np.full((n, 1), _START), np.zeros((n, 1)), sim["ranks"]], axis=1)
    cols = _ravel(mask, day=days.astype(np.int64), rank=ranks.astype(np.int64))
    return pd.DataFrame({k: cols[k] for k in ("pidx", "day", "seq", "rank")})


def _labs(rng: np.random.Generator, c: _Cohort, sim: dict[str, Any]) -> pd.DataFrame:
    n = c.n
    seen = sim["seen"]
    last = np.where(seen.any(axis=1), np.max(np.where(seen, sim["days"], 0), axis=1), 7)
    positive = rng.random(n) < DEFAULT_CALIBRATION.p_anti_dsdna_positive
    base = np.stack(
        [
            np.where(positive, np.exp(rng.normal(4.3, 0.45, n)), rng.uniform(2, 14, n)),
            rng.normal(100, 20, n),
            rng.normal(20, 6, n),
        ],
        axis=1,
    )
    end = base * np.exp(rng.normal(0, 0.15, (n, 3)))
    days = np.concatenate([np.full((n, 3), -3), np.repeat(last[:, None], 3, axis=1)], axis=1)
    tests = np.tile(np.array([0, 1, 2, 0, 1, 2]), (n, 1))
    cols = _ravel(
        np.ones((n, 6), bool),
        day=days,
        test=tests,
        value=np.round(np.maximum(np.concatenate([base, end], axis=1), 0), 2),
    )
    return pd.DataFrame({k: cols[k] for k in ("pidx", "day", "seq", "test", "value")})


def _adverse_events(rng: np.random.Generator, c: _Cohort, cal: Calibration) -> pd.DataFrame:
    n = c.n
    neutropenia = ~c.withdrawal & (rng.random(n) < cal.p_neutropenia)
    mask = np.concatenate(
        [np.repeat(c.withdrawal[:, None], 4, axis=1), np.repeat(neutropenia[:, None], 2, axis=1)],
        axis=1,
    )
    terms = np.array(
        ["Vomiting", "Diarrhea", "Weight loss", "Fatigue", "Insomnia", "Neutropenia"], dtype=object
    )
    start = np.array([5, 5, 5, 5, 50, 56])
    cause = np.array([2, 2, 2, 2, 3, 2])  # possible / probable (CAUSALITY_TERMS order)
    cols = _ravel(
        mask,
        term=terms,
        start_day=start,
        end_day=start + 21.0,
        grade=2.0,
        causality=cause,
        serious=0,
    )
    return pd.DataFrame(
        {
            k: cols[k]
            for k in (
                "pidx",
                "seq",
                "term",
                "start_day",
                "end_day",
                "grade",
                "causality",
                "serious",
            )
        }
    )


def generate_visit_table(
    n_patients: int, seed: int, calibration: Calibration = DEFAULT_CALIBRATION
) -> VisitTable:
    """Build a synthetic :class:`~cletrial.endpoints.VisitTable` of ``n_patients`` directly.

    Parameters
    ----------
    n_patients : int
        Number of patients (about 25 visits each).
    seed : int
        Random seed (same seed, same table).
    calibration : Calibration
        Baseline distributions and course probabilities.

    Returns
    -------
    VisitTable
        Sorted as the derivations require; every patient ``synthetic`` with id ``SYN-...``.

    >>> generate_visit_table(3, seed=2).patients["patient_id"].tolist()
    ['SYN-0001', 'SYN-0002', 'SYN-0003']
    """
    rng = np.random.default_rng(seed)
    c = _traits(rng, n_patients, calibration)
    sim = _simulate(rng, c)
    visits = _ravel(
        sim["seen"],
        day=sim["days"].astype(np.int64),
        clasi_a=sim["a"],
        clasi_d=sim["d"],
        sledai=sim["s"],
    )
    patients = pd.DataFrame(
        {
            "patient_id": np.array([f"SYN-{i + 1:04d}" for i in range(n_patients)], dtype=object),
            "synthetic": np.ones(n_patients, bool),
            "treated": np.ones(n_patients, bool),
            "origin_date": pd.to_datetime("2009-01-05")
            + pd.to_timedelta(rng.integers(0, 725, n_patients), unit="D"),
            "clasi_a_base": c.base_a,
            "clasi_d_base": c.base_d,
            "sledai_base": c.base_s,
        }
    )
    events = _ravel(
        c.withdrawal[:, None],
        day=np.int64(7),
        type=np.int64(EVENT_TYPES.index("physician_decision")),
    )
    return VisitTable(
        patients=patients.astype({"origin_date": "datetime64[s]"}),
        visits=pd.DataFrame(
            {k: visits[k] for k in ("pidx", "day", "seq", "clasi_a", "clasi_d", "sledai")}
        ),
        doses=_doses(c, sim),
        labs=_labs(rng, c, sim),
        aes=_adverse_events(rng, c, calibration),
        events=pd.DataFrame({k: events[k] for k in ("pidx", "day", "seq", "type")}),
    )
