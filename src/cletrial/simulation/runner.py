"""Run a simulation: blocks of trials, seeded, serially or on Dask distributed.

Trials are simulated in blocks of :data:`BLOCK_TRIALS`; block ``i`` draws from
``numpy.random.SeedSequence(seed, spawn_key=(i,))`` (the ``i``-th child of the run's seed
sequence), and block summaries are combined in block order. The figures therefore depend on
the seed and the number of trials only: the same on one core, on a
``distributed.LocalCluster`` of ``workers`` processes, or on a running scheduler.

>>> from cletrial.simulation.plan import SimulationPlan
>>> plan = SimulationPlan("binary", "null", 20, 20, (1.0,), (1.96,), None,
...                       control_rate=0.3, treatment_rate=0.3, week=12)
>>> a = run_simulation(plan, trials=1500, seed=7)
>>> b = run_simulation(plan, trials=1500, seed=7)
>>> a.total == b.total, a.total.trials
(True, 1500)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from cletrial.design.model import Design
from cletrial.errors import SimulationError
from cletrial.simulation.course import Response
from cletrial.simulation.plan import Hypothesis, SimulationPlan, TaperModel
from cletrial.simulation.sequential import (
    BlockSummary,
    OperatingCharacteristics,
    combine,
    summarise,
)
from cletrial.simulation.trials import simulate_looks

__all__ = ["BLOCK_TRIALS", "run_plans", "run_simulation", "simulate_blocks"]

#: Trials a block (the unit of seeding): part of the reproducibility contract.
BLOCK_TRIALS = 1000
_TASKS_PER_WORKER = 4

Progress = Callable[[int], None]


def simulate_blocks(
    plan: SimulationPlan, seed: int, blocks: list[int], trials: int
) -> list[BlockSummary]:
    """Simulate the listed blocks of a run of ``trials`` trials (one summary a block).

    >>> from cletrial.simulation.plan import SimulationPlan
    >>> plan = SimulationPlan("binary", "null", 10, 10, (1.0,), (1.96,), None,
    ...                       control_rate=0.5, treatment_rate=0.5, week=4)
    >>> [s.trials for s in simulate_blocks(plan, 1, [0, 1], 1200)]
    [1000, 200]
    """
    out = []
    for block in blocks:
        size = min(BLOCK_TRIALS, trials - block * BLOCK_TRIALS)
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,)))
        out.append(summarise(plan, simulate_looks(plan, rng, size)))
    return out


def _tasks(n_blocks: int, workers: int) -> list[list[int]]:
    """Consecutive runs of blocks, about four tasks a worker."""
    per_task = max(1, math.ceil(n_blocks / (workers * _TASKS_PER_WORKER)))
    return [list(range(i, min(i + per_task, n_blocks))) for i in range(0, n_blocks, per_task)]


def _serial(
    plans: list[SimulationPlan], seed: int, trials: int, progress: Progress | None
) -> list[list[BlockSummary]]:
    results: list[list[BlockSummary]] = []
    for plan in plans:
        results.append([])
        for block in range(math.ceil(trials / BLOCK_TRIALS)):
            summary = simulate_blocks(plan, seed, [block], trials)
            results[-1] += summary
            if progress is not None:
                progress(summary[0].trials)
    return results


def _on_client(
    client: Any, plans: list[SimulationPlan], seed: int, trials: int, progress: Progress | None
) -> list[list[BlockSummary]]:
    from distributed import as_completed

    n_blocks = math.ceil(trials / BLOCK_TRIALS)
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    tasks = _tasks(n_blocks, workers)
    per_plan = []
    # a unique key a call: a deterministic key could be released by an earlier call's cleanup
    scattered = [client.scatter(plan, broadcast=True, hash=False) for plan in plans]
    for shared in scattered:
        per_plan.append(
            [
                client.submit(simulate_blocks, shared, seed, task, trials, pure=False)
                for task in tasks
            ]
        )
    every = [f for futures in per_plan for f in futures]
    for future in as_completed(every):  # type: ignore[no-untyped-call]
        if progress is not None:
            progress(sum(s.trials for s in future.result()))
    return [[s for f in futures for s in f.result()] for futures in per_plan]


def _distributed(
    plans: list[SimulationPlan],
    seed: int,
    trials: int,
    workers: int | None,
    scheduler: str | None,
    progress: Progress | None,
) -> list[list[BlockSummary]]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - dask is a declared dependency
        raise SimulationError(
            "workers", workers, "needs Dask distributed: python3 -m pip install 'cletrial[dask]'"
        ) from None
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")  # type: ignore[no-untyped-call]
        except OSError as exc:
            raise SimulationError(
                "scheduler", scheduler, f"cannot be reached ({exc}); start one or use --workers"
            ) from None
        with client:
            return _on_client(client, plans, seed, trials, progress)
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        return _on_client(client, plans, seed, trials, progress)


def _check(trials: int, seed: int, workers: int | None, scheduler: str | None) -> None:
    if trials < 1:
        raise SimulationError("trials", trials, "must be at least 1")
    if seed < 0:
        raise SimulationError("seed", seed, "must be 0 or more")
    if workers is not None and scheduler is not None:
        raise SimulationError("workers", workers, "give workers or a scheduler, not both")
    if workers is not None and not 1 <= workers <= 256:
        raise SimulationError("workers", workers, "must be 1 to 256 worker processes")


def run_simulation(
    design: Design | SimulationPlan,
    trials: int,
    seed: int,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    *,
    hypothesis: Hypothesis = "alternative",
    n_per_arm: int | None = None,
    events: int | None = None,
    taper_model: TaperModel = "exponential",
    response: Response = "reached",
) -> OperatingCharacteristics:
    """Simulate ``trials`` trials of a design and return its operating characteristics.

    Parameters
    ----------
    design : Design or SimulationPlan
        A design (its boundaries and sizes are computed with :mod:`cletrial.design`) or a
        ready plan (see :func:`~cletrial.simulation.plan.plan_from_design`).
    trials : int
        Number of simulated trials.
    seed : int
        Seed of the run: the same seed and trials give the same figures however run.
    workers : int, optional
        Run on a new ``distributed.LocalCluster`` of this many single-thread processes.
    scheduler : str, optional
        Run on the Dask scheduler at this address (``tcp://host:8786``).
    progress : callable, optional
        Called with the number of trials each finished block or task holds.
    hypothesis, n_per_arm, events, taper_model, response
        Passed to :func:`~cletrial.simulation.design_plan.design_plan` for a design.

    Returns
    -------
    OperatingCharacteristics
        Reject rate, early stopping by look, expected sample size, bias, with Monte Carlo
        standard errors.

    Raises
    ------
    SimulationError
        A setting is out of range or the scheduler cannot be reached.

    >>> from cletrial.simulation.plan import SimulationPlan
    >>> plan = SimulationPlan("binary", "alternative", 50, 50, (1.0,), (1.96,), None,
    ...                       control_rate=0.1, treatment_rate=0.5, week=12)
    >>> run_simulation(plan, trials=2000, seed=1).reject_rate["estimate"] > 0.95
    True
    """
    if isinstance(design, SimulationPlan):
        plan = design
    else:
        from cletrial.simulation.design_plan import design_plan

        plan = design_plan(design, hypothesis=hypothesis, n_per_arm=n_per_arm, events=events,
                           taper_model=taper_model, response=response)  # fmt: skip
    return run_plans([plan], trials, seed, workers, scheduler, progress)[0]


def run_plans(
    plans: list[SimulationPlan],
    trials: int,
    seed: int,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> list[OperatingCharacteristics]:
    """Simulate several plans with the same seed (common random numbers) on one cluster.

    The arguments are those of :func:`run_simulation`; each plan gets ``trials`` trials.

    >>> from cletrial.simulation.plan import SimulationPlan
    >>> plan = SimulationPlan("binary", "null", 10, 10, (1.0,), (1.96,), None,
    ...                       control_rate=0.5, treatment_rate=0.5, week=4)
    >>> [oc.total.trials for oc in run_plans([plan, plan], 100, seed=2)]
    [100, 100]
    """
    _check(trials, seed, workers, scheduler)
    if workers is None and scheduler is None:
        blocks = _serial(plans, seed, trials, progress)
    else:
        blocks = _distributed(plans, seed, trials, workers, scheduler, progress)
    return [
        OperatingCharacteristics(plan=plan, seed=seed, total=combine(b))
        for plan, b in zip(plans, blocks, strict=True)
    ]
