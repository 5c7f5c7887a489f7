"""Seeded: the same seed gives the same figures, whatever the number of workers or tasks."""

from __future__ import annotations

import pytest

from cletrial.design.model import load_design
from cletrial.errors import SimulationError
from cletrial.simulation import BLOCK_TRIALS, run_plans, run_simulation
from cletrial.simulation.design_plan import design_plan
from cletrial.simulation.runner import simulate_blocks

PLAN = design_plan(load_design("lenalidomide-vs-placebo"), n_per_arm=30)
TTE = design_plan(load_design("lenalidomide-withdrawal"), n_per_arm=40, events=50)


def test_the_same_seed_gives_the_same_figures_and_another_seed_others() -> None:
    a = run_simulation(PLAN, trials=2_500, seed=3)
    assert run_simulation(PLAN, trials=2_500, seed=3).as_dict() == a.as_dict()
    assert run_simulation(PLAN, trials=2_500, seed=4).total != a.total


def test_figures_do_not_depend_on_how_the_blocks_are_grouped_into_tasks() -> None:
    trials = 3 * BLOCK_TRIALS + 17
    whole = simulate_blocks(PLAN, 9, [0, 1, 2, 3], trials)
    apart = [s for block in (3, 1, 0, 2) for s in simulate_blocks(PLAN, 9, [block], trials)]
    assert whole == [apart[2], apart[1], apart[3], apart[0]]
    assert [s.trials for s in whole] == [1000, 1000, 1000, 17]


def test_a_local_cluster_of_two_workers_gives_exactly_the_serial_figures() -> None:
    trials = 4 * BLOCK_TRIALS + 300
    serial = run_plans([PLAN, TTE], trials, seed=12)
    seen: list[int] = []
    parallel = run_plans([PLAN, TTE], trials, seed=12, workers=2, progress=seen.append)
    assert [p.as_dict() for p in parallel] == [s.as_dict() for s in serial]
    assert sum(seen) == 2 * trials


def test_a_running_scheduler_gives_the_serial_figures() -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=40) as cluster:  # fmt: skip
        address = cluster.scheduler_address
        remote = run_simulation(PLAN, trials=1_500, seed=5, scheduler=address)
        # the same plan again on the same cluster (its scattered copy must not be lost)
        again = run_simulation(PLAN, trials=1_500, seed=5, scheduler=address)
    assert remote.as_dict() == again.as_dict()
    assert remote.as_dict() == run_simulation(PLAN, trials=1_500, seed=5).as_dict()


def test_progress_counts_every_trial() -> None:
    seen: list[int] = []
    run_simulation(PLAN, trials=2_100, seed=1, progress=seen.append)
    assert seen == [1000, 1000, 100]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"trials": 0, "seed": 1}, "trials"),
        ({"trials": 10, "seed": -1}, "seed"),
        ({"trials": 10, "seed": 1, "workers": 2, "scheduler": "tcp://127.0.0.1:1"}, "workers"),
        ({"trials": 10, "seed": 1, "workers": 0}, "workers"),
    ],
)
def test_bad_settings_name_the_setting(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(SimulationError) as caught:
        run_simulation(PLAN, **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_the_design_size_is_the_sample_size_of_cletrial_design() -> None:
    from cletrial.design.plan import design_boundaries
    from cletrial.design.sample_size import n_time_to_event, n_two_proportions

    parallel = load_design("lenalidomide-vs-placebo")
    bounds = design_boundaries(parallel)
    size = n_two_proportions(0.1, 0.733, parallel.alpha, parallel.power)
    expected = -(-size.n_raw * bounds.inflation // (1 - parallel.dropout))
    assert design_plan(parallel).n_control == int(expected)
    withdrawal = load_design("lenalidomide-withdrawal")
    tte = n_time_to_event(0.4, 4.4, 52, 24, 0.025, 0.8, 1.0, 0.005,
                          design_boundaries(withdrawal).inflation)  # fmt: skip
    plan = design_plan(withdrawal)
    assert (plan.n_control, plan.events) == (tte.n_control, tte.events)
