"""Benchmark: simulated trials per second per core at n = 100 per arm, and 2 Dask workers over 1.

Three plans at 100 patients an arm, two looks (information 0.5 and 1) with the design's
O'Brien-Fleming-type efficacy and non-binding futility bounds:

- parallel, CR at week 12, lenalidomide arm dosed and tapered by the 2012 protocol (the
  bundled ``lenalidomide-vs-placebo`` design, 6.7% drop-out);
- the same with a plain Bernoulli experimental arm (no protocol course), to show its cost;
- withdrawal, time to relapse, log-rank at 100 and 200 events (``lenalidomide-withdrawal``).

The serial figure is trials per second of CPU time on one core, with the wall-clock rate beside
it (the plan, with its one-off calibration pilot, is built before the clock starts). The Dask
figure is the wall-clock rate of ``--workers 1`` and ``--workers 2`` LocalClusters, cluster
start-up excluded (a warm-up task runs first), and their ratio. The load average is printed
with the figures: the machine may be shared. Target (issue 14): at least 2,000 trials per
second per core.

Usage::

    python3 benchmarks/bench_simulation.py                 # 200,000 trials serial, 400,000 Dask
    python3 benchmarks/bench_simulation.py --trials 50000 --dask-trials 100000
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

from cletrial.design.model import load_design
from cletrial.simulation import SimulationPlan, run_plans
from cletrial.simulation.design_plan import design_plan
from cletrial.simulation.runner import _on_client


def _plans() -> dict[str, SimulationPlan]:
    parallel = design_plan(load_design("lenalidomide-vs-placebo"), n_per_arm=100)
    plain = dataclasses.replace(parallel, course=None, cr_share=None, course_summary=None)
    withdrawal = design_plan(load_design("lenalidomide-withdrawal"), n_per_arm=100, events=200)
    return {
        "parallel CR, protocol course": parallel,
        "parallel CR, Bernoulli arm": plain,
        "withdrawal, log-rank": withdrawal,
    }


def _serial(plan: SimulationPlan, trials: int) -> tuple[float, float]:
    """Trials per CPU second and per wall-clock second."""
    start, wall = time.process_time(), time.perf_counter()
    run_plans([plan], trials, seed=1)
    return trials / (time.process_time() - start), trials / (time.perf_counter() - wall)


def _dask(plan: SimulationPlan, trials: int, workers: int) -> float:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
        ) as cluster,  # fmt: skip
        Client(cluster) as client,
    ):
        _on_client(client, [plan], 1, 2_000 * workers, None)  # warm-up: imports, the plan
        start = time.perf_counter()
        _on_client(client, [plan], 1, trials, None)
        return trials / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200_000)
    parser.add_argument("--dask-trials", type=int, default=400_000)
    args = parser.parse_args()
    plans = _plans()
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()}")
    for name, plan in plans.items():
        rate, wall = _serial(plan, args.trials)
        print(f"{name}: {rate:,.0f} trials/s per core (CPU time; wall clock {wall:,.0f}/s; "
              f"{args.trials:,} trials, n = 100 per arm)")  # fmt: skip
    plan = plans["parallel CR, protocol course"]
    one = _dask(plan, args.dask_trials, 1)
    two = _dask(plan, args.dask_trials, 2)
    print(f"Dask LocalCluster, parallel CR with protocol course, {args.dask_trials:,} trials:")
    print(f"  1 worker {one:,.0f} trials/s, 2 workers {two:,.0f} trials/s, ratio {two / one:.2f}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
