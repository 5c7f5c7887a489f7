"""Group-sequential decisions on simulated looks, block summaries, and operating characteristics.

At each look a trial stops for efficacy when z reaches the efficacy bound, and (before the
last look) for futility when z is at or below the futility bound; futility is non-binding, so
the type I error the bounds were computed for is an upper limit and the reject rate without
futility stops is reported too. Every block is reduced to exact counts and float sums
(:class:`BlockSummary`); summaries are combined in block order, so a run's figures depend only
on its seed and number of trials, never on how the blocks were spread over workers.

>>> z = np.array([[3.0, 0.0], [1.0, 2.5], [-1.0, 2.5]])
>>> decide(z, np.array([2.8, 2.0]), np.array([0.0, 2.0]), np.zeros((3, 2), bool))
(array([0, 1, 0]), array([1, 1, 2]))
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from cletrial.simulation.plan import SimulationPlan
from cletrial.simulation.trials import Looks

__all__ = ["BlockSummary", "OperatingCharacteristics", "combine", "decide", "summarise"]

Ints = npt.NDArray[np.int64]
EFFICACY, FUTILITY, ACCEPTED = 1, 2, 3  # reasons a trial stopped (ACCEPTED: final, no rejection)


def decide(
    z: npt.NDArray[np.float64],
    efficacy: npt.NDArray[np.float64],
    futility: npt.NDArray[np.float64] | None,
    final: npt.NDArray[np.bool_],
) -> tuple[Ints, Ints]:
    """The look each trial stops at and why (1 efficacy, 2 futility, 3 final without rejection).

    A look marked ``final`` (follow-up ended first) is judged by the last efficacy bound.
    """
    trials, k = z.shape
    last = np.zeros(k, bool)
    last[-1] = True
    ends = final | last
    bound = np.where(ends, efficacy[-1], efficacy)
    crossed = z >= bound
    low = np.full((trials, k), -np.inf) if futility is None else np.where(ends, -np.inf, futility)
    stops = crossed | (z <= low) | ends
    look = np.argmax(stops, axis=1)
    at = np.arange(trials)
    reason = np.where(crossed[at, look], EFFICACY, np.where(ends[at, look], ACCEPTED, FUTILITY))
    return look.astype(np.int64), reason.astype(np.int64)


@dataclass
class BlockSummary:
    """Exact counts and sums over one block of trials."""

    trials: int
    efficacy: list[int]
    futility: list[int]
    reject: int
    reject_without_futility: int
    sums: dict[str, float] = field(default_factory=dict)


def _sums(name: str, values: npt.NDArray[np.float64]) -> dict[str, float]:
    ok = values[np.isfinite(values)]
    return {
        f"{name}_n": float(ok.size),
        f"{name}_sum": float(ok.sum()),
        f"{name}_sq": float(np.square(ok).sum()),
    }


def summarise(plan: SimulationPlan, looks: Looks) -> BlockSummary:
    """Reduce one block's looks to a :class:`BlockSummary`.

    >>> from cletrial.simulation.trials import simulate_looks
    >>> plan = SimulationPlan("binary", "null", 20, 20, (1.0,), (1.96,), None,
    ...                       control_rate=0.4, treatment_rate=0.4, week=12)
    >>> summarise(plan, simulate_looks(plan, np.random.default_rng(1), 100)).trials
    100
    """
    efficacy = np.asarray(plan.efficacy_z)
    futility = None if plan.futility_z is None else np.asarray(plan.futility_z)
    look, reason = decide(looks.z, efficacy, futility, looks.final)
    at = np.arange(look.size)
    k = len(plan.fractions)
    early = ~looks.final[at, look]
    sums: dict[str, float] = {}
    sums |= _sums("patients", looks.patients[at, look].astype(np.float64))
    sums |= _sums("estimate", looks.estimate[at, look] - plan.truth)
    sums |= _sums("events", looks.events[at, look].astype(np.float64))
    sums |= _sums("weeks", looks.weeks[at, look])
    _, plain_reason = decide(looks.z, efficacy, None, looks.final)
    return BlockSummary(
        trials=int(look.size),
        efficacy=np.bincount(look[reason == EFFICACY], minlength=k).tolist(),
        futility=np.bincount(look[(reason == FUTILITY) & early], minlength=k).tolist(),
        reject=int(np.sum(reason == EFFICACY)),
        reject_without_futility=int(np.sum(plain_reason == EFFICACY)),
        sums=sums,
    )


def combine(blocks: list[BlockSummary]) -> BlockSummary:
    """Add block summaries in the order given (the order fixes the float sums exactly).

    >>> a = BlockSummary(10, [1, 2], [3, 0], 3, 4, {"x_sum": 0.5})
    >>> combine([a, a]).efficacy, combine([a, a]).sums
    ([2, 4], {'x_sum': 1.0})
    """
    total = BlockSummary(0, [0] * len(blocks[0].efficacy), [0] * len(blocks[0].futility), 0, 0)
    for b in blocks:
        total.trials += b.trials
        total.efficacy = [x + y for x, y in zip(total.efficacy, b.efficacy, strict=True)]
        total.futility = [x + y for x, y in zip(total.futility, b.futility, strict=True)]
        total.reject += b.reject
        total.reject_without_futility += b.reject_without_futility
        for key, value in b.sums.items():
            total.sums[key] = total.sums.get(key, 0.0) + value
    return total


def _share(count: int, trials: int) -> dict[str, float]:
    p = count / trials
    return {"estimate": p, "mc_se": math.sqrt(p * (1.0 - p) / trials)}


def _mean(sums: dict[str, float], name: str) -> dict[str, float]:
    n = sums.get(f"{name}_n", 0.0)
    if n == 0:
        return {"estimate": math.nan, "mc_se": math.nan, "trials": 0}
    mean = sums[f"{name}_sum"] / n
    var = max(sums[f"{name}_sq"] / n - mean * mean, 0.0) * n / max(n - 1.0, 1.0)
    return {"estimate": mean, "mc_se": math.sqrt(var / n), "trials": int(n)}


@dataclass(frozen=True)
class OperatingCharacteristics:
    """A run's figures, each with its Monte Carlo standard error (see :meth:`as_dict`)."""

    plan: SimulationPlan
    seed: int
    total: BlockSummary

    @property
    def reject_rate(self) -> dict[str, float]:
        """Share of trials that rejected H0 (power, or type I error under the null)."""
        return _share(self.total.reject, self.total.trials)

    def as_dict(self) -> dict[str, Any]:
        """The figures as plain data (the JSON of ``cletrial simulate``)."""
        plan, t = self.plan, self.total
        looks = [
            {
                "fraction": f,
                "efficacy_z": plan.efficacy_z[j],
                "futility_z": None if plan.futility_z is None else plan.futility_z[j],
                "stop_efficacy": _share(t.efficacy[j], t.trials),
                "stop_futility": _share(t.futility[j], t.trials),
            }
            for j, f in enumerate(plan.fractions)
        ]
        bias = _mean(t.sums, "estimate")
        out: dict[str, Any] = {
            "trials": t.trials,
            "seed": self.seed,
            "hypothesis": plan.hypothesis,
            "endpoint": plan.kind,
            "n_control": plan.n_control,
            "n_experimental": plan.n_experimental,
            "reject_rate": self.reject_rate,
            "reject_rate_without_futility": _share(t.reject_without_futility, t.trials),
            "expected_patients": _mean(t.sums, "patients"),
            "looks": looks,
            "estimate": {
                "measure": "difference in proportions" if plan.kind == "binary" else "log HR",
                "truth": plan.truth,
                "bias": bias["estimate"],
                "mc_se": bias["mc_se"],
                "trials_with_estimate": bias["trials"],
            },
        }
        if plan.kind == "time_to_event":
            out["events"] = plan.events
            out["expected_events"] = _mean(t.sums, "events")
            out["expected_weeks"] = _mean(t.sums, "weeks")
            out["taper_model"] = plan.taper_model
        if plan.course_summary is not None:
            s = plan.course_summary
            out["lenalidomide_arm"] = {
                "week": s.week,
                "cr_share": s.cr_share,
                "relapsed_on_taper": s.relapsed,
                "mean_weekly_mg": s.mean_weekly_mg,
                "regimen_share": s.regimen_share,
            }
        return out
