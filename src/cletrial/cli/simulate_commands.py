"""``cletrial simulate``: operating characteristics of a design, simulated on the protocol's rules.

Only Typer and the standard library are imported at module level; numpy, the design package
and Dask are imported inside the command.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import typer

from cletrial.cli._common import fail

_HYPOTHESES = ("both", "alternative", "null")
#: Runs of at least this many trials show a progress bar (on a terminal, on standard error).
_PROGRESS_FROM = 20_000


def _figure(value: dict[str, float], digits: int = 4) -> str:
    estimate, se = value["estimate"], value["mc_se"]
    if math.isnan(estimate):
        return "n/a"
    return f"{estimate:.{digits}f} (MC SE {se:.{digits}f})"


def _print_text(design_id: str, results: list[dict[str, Any]]) -> None:
    for r in results:
        label = "reject H0 (power)" if r["hypothesis"] == "alternative" else "reject H0 (type I)"
        typer.echo(
            f"{design_id}, under the {r['hypothesis']} ({r['trials']} trials, seed {r['seed']}, "
            f"{r['n_control']} + {r['n_experimental']} patients)"
        )
        typer.echo(f"  {label + ':':<28}{_figure(r['reject_rate'])}")
        typer.echo(
            f"  {'... without futility stops:':<28}{_figure(r['reject_rate_without_futility'])}"
        )
        typer.echo(f"  expected patients:          {_figure(r['expected_patients'], 2)}")
        if "expected_events" in r:
            typer.echo(f"  expected events:            {_figure(r['expected_events'], 2)}")
            typer.echo(f"  expected weeks to decision: {_figure(r['expected_weeks'], 2)}")
        for j, look in enumerate(r["looks"], 1):
            typer.echo(
                f"  look {j} (information {look['fraction']:.2f}): stop for efficacy "
                f"{_figure(look['stop_efficacy'])}, futility {_figure(look['stop_futility'])}"
            )
        e = r["estimate"]
        typer.echo(
            f"  bias of the {e['measure']}: {e['bias']:+.4f} (MC SE {e['mc_se']:.4f}; "
            f"truth {e['truth']:+.4f})"
        )
        if "lenalidomide_arm" in r:
            arm = r["lenalidomide_arm"]
            shares = ", ".join(f"{k} {v:.1%}" for k, v in arm["regimen_share"].items() if v)
            typer.echo(
                f"  lenalidomide arm at week {arm['week']}: {shares}; mean "
                f"{arm['mean_weekly_mg']:.1f} mg/week; "
                f"relapsed on taper {arm['relapsed_on_taper']:.1%}"
            )


def simulate(
    design: str = typer.Argument(
        ..., help="Design: a bundled id (see 'cletrial design --help') or a design YAML file."
    ),
    trials: int = typer.Option(10_000, "--trials", min=1, help="Simulated trials per hypothesis."),
    seed: int = typer.Option(
        ..., "--seed", min=0, help="Seed: the same seed gives the same figures."
    ),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Run on a Dask LocalCluster of K single-thread processes."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Run on a running Dask scheduler (e.g. tcp://host:8786)."
    ),
    hypothesis: str = typer.Option(
        "both", "--hypothesis", help="alternative (power), null (type I error) or both."
    ),
    n_per_arm: int | None = typer.Option(
        None,
        "--n-per-arm",
        min=2,
        help="Control patients (default: the design's n_per_arm, else its sample size).",
    ),
    events: int | None = typer.Option(
        None, "--events", min=1, help="Events at the final analysis (time-to-event designs)."
    ),
    taper_model: str = typer.Option(
        "exponential", "--taper-model", help="Withdrawal designs: exponential or protocol."
    ),
    response: str = typer.Option(
        "reached", "--response", help="CR endpoints: reached (by the week) or sustained (at it)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Simulate a design's trials with patients dosed and tapered by the protocol's rules.

    Each simulated patient on lenalidomide follows the protocol definition the design names
    (dose ladder, week-4 review, monthly taper after complete response, relapse and restart),
    with the disease course calibrated to the 2012 trial; control patients respond at the
    design's control rate; drop-outs have no endpoint. Trials are judged at the design's looks
    by its group-sequential bounds (non-binding futility). Reported with Monte Carlo standard
    errors: reject rate (power under the alternative, type I error under the null), stopping
    at each look, expected sample size, bias of the estimate. The same --seed gives the same
    figures serially, with --workers K or on a --scheduler. See docs/design.md ("Simulation").
    """
    from cletrial.errors import CletrialError

    if hypothesis not in _HYPOTHESES:
        fail(f"--hypothesis = {hypothesis!r}: must be one of {', '.join(_HYPOTHESES)}")
    if taper_model not in ("exponential", "protocol"):
        fail(f"--taper-model = {taper_model!r}: must be exponential or protocol")
    if response not in ("reached", "sustained"):
        fail(f"--response = {response!r}: must be reached or sustained")
    try:
        results = _run(design, trials, seed, workers, scheduler, hypothesis, n_per_arm, events,
                       taper_model, response)  # fmt: skip
    except CletrialError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps({"design": results[0], "results": results[1]}, indent=2))
    else:
        _print_text(results[0], results[1])


def _run(
    design: str,
    trials: int,
    seed: int,
    workers: int | None,
    scheduler: str | None,
    hypothesis: str,
    n_per_arm: int | None,
    events: int | None,
    taper_model: Any,
    response: Any,
) -> tuple[str, list[dict[str, Any]]]:
    from tqdm import tqdm

    from cletrial.design.model import load_design
    from cletrial.simulation import run_plans
    from cletrial.simulation.design_plan import design_plan

    loaded = load_design(design)
    chosen = ["alternative", "null"] if hypothesis == "both" else [hypothesis]
    plans = [
        design_plan(loaded, hypothesis=h, n_per_arm=n_per_arm, events=events,  # type: ignore[arg-type]
                    taper_model=taper_model, response=response)
        for h in chosen
    ]  # fmt: skip
    total = trials * len(plans)
    with tqdm(total=total, unit="trial", file=sys.stderr, disable=None if total >= _PROGRESS_FROM
              else True, desc="simulating") as bar:  # fmt: skip
        outs = run_plans(plans, trials, seed, workers, scheduler, progress=bar.update)
    return loaded.id, [oc.as_dict() for oc in outs]


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to ``app``."""
    app.command("simulate")(simulate)
