"""``cletrial design``: a randomised trial's design as data, its sample size, group-sequential
boundaries and Bayesian monitoring (cletrial.design).

Only Typer and the standard library are imported here; the design code is imported inside each
command so that ``cletrial --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from cletrial.cli._common import fail

design_app = typer.Typer(
    help=(
        "Design the randomised trial: sample size, group-sequential boundaries, Bayesian "
        "monitoring.\n\nA design is a YAML file (bundled: lenalidomide-vs-placebo, "
        "lenalidomide-withdrawal; see `cletrial design show`): arms, endpoint, one-sided alpha, "
        "power, assumed rates with their sources, interim looks and spending functions. All "
        "tests are one-sided. docs/design.md explains the methods."
    ),
    no_args_is_help=True,
)

DesignArg = Annotated[
    str | None,
    typer.Argument(help="A bundled design id or a design YAML file (optional where the "
                   "numbers are given as options)."),
]  # fmt: skip
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def _emit(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _floats(text: str | None, option: str) -> list[float] | None:
    if text is None:
        return None
    from fractions import Fraction

    try:
        return [float(Fraction(part.strip())) for part in text.split(",") if part.strip()]
    except (ValueError, ZeroDivisionError):
        fail(f"{option} = {text!r}: must be numbers separated by commas, e.g. 0.1,0.2 or 1/3,2/3,1")


def _call(function: Any, *args: Any, **kwargs: Any) -> Any:
    from cletrial.errors import CletrialError

    try:
        return function(*args, **kwargs)
    except CletrialError as exc:
        fail(str(exc))


def _design(id_or_path: str | None, **overrides: Any) -> Any:
    import dataclasses

    from cletrial.design import load_design

    design = _call(load_design, id_or_path)
    changes = {k: v for k, v in overrides.items() if v is not None}
    return dataclasses.replace(design, **changes) if changes else design


def show(design: Annotated[str, typer.Argument(help="A bundled design id or a YAML file.")],
         as_json: JsonOpt = False) -> None:  # fmt: skip
    """Show a design: arms, endpoint, error rates, looks and the source of every assumed rate.

    Example: cletrial design show lenalidomide-vs-placebo
    """
    import dataclasses

    d = _design(design)
    if as_json:
        _emit(dataclasses.asdict(d))
        return
    typer.echo(f"{d.id} v{d.version} ({d.kind}): {d.title}")
    arms = ", ".join(f"{a.id} ({a.label}, ratio {a.ratio:g})" for a in d.arms)
    typer.echo(f"  arms (control first): {arms}")
    week = f" at week {d.endpoint.week}" if d.endpoint.week else ""
    typer.echo(f"  endpoint: {d.endpoint.name} ({d.endpoint.kind}){week}")
    typer.echo(f"  one-sided alpha {d.alpha:g}, power {d.power:g}, looks {list(d.looks)}")
    for s in d.sources:
        values = ", ".join(f"{f} = {getattr(d, f)}" for f in s.fields)
        typer.echo(f"  {values} [{s.kind}]: {s.citation}")


def list_designs() -> None:
    """List the bundled designs (ids to give to the other commands)."""
    from cletrial.design import list_designs as bundled

    typer.echo("\n".join(bundled()))


def sample_size(
    design: DesignArg = None,
    p0: Annotated[str | None, typer.Option("--p0", help="Control rate(s), e.g. 0.1 or "
                                           "0.05,0.1,0.2 for a table.")] = None,
    p1: Annotated[str | None, typer.Option("--p1", help="Treatment rate(s).")] = None,
    hr: Annotated[float | None, typer.Option("--hr", help="Hazard ratio (time to event).")] = None,
    alpha: Annotated[float | None, typer.Option(help="One-sided alpha.")] = None,
    power: Annotated[float | None, typer.Option(help="Power.")] = None,
    ratio: Annotated[float, typer.Option(help="Treatment per control patient "
                                         "(without a design).")] = 1.0,
    as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """Patients (or events) the design needs, by every method.

    Binary endpoints: normal approximation, with continuity correction (Fleiss), and Fisher's
    exact test; the fixed size, the group-sequential maximum (fixed size times the inflation of
    the design's boundaries) and enrolment after drop-out. Time to event: Schoenfeld events and
    the patients that produce them. --p0/--p1 override the design's rates; lists give a table.

    Examples: cletrial design sample-size lenalidomide-vs-placebo --json;
    cletrial design sample-size --p0 0.1 --p1 0.5 --alpha 0.025 --power 0.9
    """
    p0s, p1s = _floats(p0, "--p0"), _floats(p1, "--p1")
    if design is None:
        _adhoc(p0s, p1s, alpha or 0.025, power or 0.9, ratio, as_json)
        return
    d = _design(design, alpha=alpha, power=power)
    if (p0s and len(p0s) > 1) or (p1s and len(p1s) > 1):
        _grid(d, p0s, p1s, as_json)
        return
    from cletrial.design.plan import plan_sample_size

    plan = _call(plan_sample_size, d, p_control=p0s[0] if p0s else None,
                 p_treatment=p1s[0] if p1s else None, hazard_ratio=hr)  # fmt: skip
    if as_json:
        _emit(plan.as_dict())
        return
    _print_plan(plan)


def _print_plan(plan: Any) -> None:
    looks = list(plan.looks)
    typer.echo(f"{plan.design_id}: {plan.endpoint}, one-sided alpha {plan.alpha:g}, power "
               f"{plan.power:g}, looks {looks} (inflation {plan.inflation:.4f})")  # fmt: skip
    for row in plan.binary:
        s = row.size
        typer.echo(f"  {s.method:<9} p0 {s.p_control:g} p1 {s.p_treatment:g}: n {s.n_control}"
                   f" + {s.n_treatment} (power {s.power:.3f}); enrol {s.enrolled_total}; "
                   f"group-sequential max {row.max_n_control} + {row.max_n_treatment}, "
                   f"enrol {row.max_enrolled_total}")  # fmt: skip
    for label, e in (("fixed", plan.events_fixed), ("group-sequential", plan.events)):
        if e is not None:
            typer.echo(f"  {label}: HR {e.hazard_ratio:g}: {e.events} events, patients "
                       f"{e.n_control} + {e.n_treatment} (P(event) {e.p_event_control:.3f} / "
                       f"{e.p_event_treatment:.3f})")  # fmt: skip


def _grid(d: Any, p0s: list[float] | None, p1s: list[float] | None, as_json: bool) -> None:
    from cletrial.design.plan import size_grid

    rows = _call(size_grid, d, p0s or [d.control_rate], p1s or [d.treatment_rate])
    if as_json:
        _emit(rows)
        return
    typer.echo(f"{d.id}: normal approximation with continuity correction, one-sided alpha "
               f"{d.alpha:g}, power {d.power:g}, drop-out {d.dropout:g}")  # fmt: skip
    for r in rows:
        typer.echo(f"  p0 {r['p_control']:<6g} p1 {r['p_treatment']:<6g} n/arm "
                   f"{r['n_control']:>4}  enrol {r['enrolled_total']:>5}")  # fmt: skip


def _adhoc(p0s: list[float] | None, p1s: list[float] | None, alpha: float, power: float,
           ratio: float, as_json: bool) -> None:  # fmt: skip
    from cletrial.design.sample_size import METHODS, n_two_proportions

    if not p0s or not p1s:
        fail("give a DESIGN, or both --p0 and --p1")
    rows = []
    for p_c in p0s:
        for p_t in p1s:
            for method in METHODS:
                size = _call(n_two_proportions, p_c, p_t, alpha, power, ratio, method)
                rows.append({"method": method, "p_control": p_c, "p_treatment": p_t,
                             "n_control": size.n_control, "n_treatment": size.n_treatment,
                             "power": size.power})  # fmt: skip
    if as_json:
        _emit(rows)
        return
    for r in rows:
        typer.echo(f"{r['method']:<9} p0 {r['p_control']:g} p1 {r['p_treatment']:g}: "
                   f"n {r['n_control']} + {r['n_treatment']} (power {r['power']:.3f})")  # fmt: skip


def boundaries(
    design: DesignArg = None,
    looks: Annotated[str | None, typer.Option(
        help="Information fractions, e.g. 1/3,2/3,1 or 0.5,1 (default: the design's).")] = None,
    spending: Annotated[str | None, typer.Option(help="Efficacy spending: obf, pocock or "
                                                 "hsd:<gamma>.")] = None,
    futility: Annotated[str | None, typer.Option(help="Non-binding futility spending "
                                                 "(none: no futility bounds).")] = None,
    alpha: Annotated[float | None, typer.Option(help="One-sided alpha.")] = None,
    beta: Annotated[float | None, typer.Option(help="Type II error (1 - power).")] = None,
    as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """Group-sequential boundaries by Lan-DeMets spending (efficacy and non-binding futility).

    Prints per look the efficacy and futility z bounds, the cumulative alpha spent, the nominal
    one-sided p-value of the efficacy bound, and the probabilities of stopping under the null
    and the alternative; and the inflation of the maximum sample size.

    Examples: cletrial design boundaries lenalidomide-vs-placebo --looks 0.33,0.67,1;
    cletrial design boundaries --looks 0.5,1 --spending pocock --json
    """
    from cletrial.design.boundaries import compute_boundaries

    fractions = _floats(looks, "--looks")
    if design is not None:
        d = _design(design)
        fractions = fractions or list(d.looks)
        spending = spending or d.efficacy_spending
        if futility is None and d.futility is not None:
            futility = d.futility.spending
        alpha = alpha or d.alpha
        beta = beta or d.futility_beta or 1.0 - d.power
    futility = None if futility == "none" else futility
    b = _call(compute_boundaries, fractions or [1.0], alpha or 0.025, spending or "obf",
              futility=futility, beta=beta)  # fmt: skip
    if as_json:
        _emit(b.as_dict())
        return
    _print_boundaries(b)


def _print_boundaries(b: Any) -> None:
    typer.echo(f"efficacy {b.spending}, futility {b.futility_spending or 'none'} "
               f"(non-binding), one-sided alpha {b.alpha:g}, beta {b.beta:g}")  # fmt: skip
    for k, t in enumerate(b.fractions):
        fut = f"{b.futility_z[k]:8.4f}" if b.futility_z else "       -"
        h0 = b.p_efficacy_h0[k] + b.p_futility_h0[k]
        h1 = b.p_efficacy_h1[k] + b.p_futility_h1[k]
        typer.echo(f"  look {k + 1} at {t:.3f}: efficacy z {b.efficacy_z[k]:.4f} (p "
                   f"{b.nominal_p[k]:.5f}), futility z {fut}, alpha spent "
                   f"{b.alpha_spent[k]:.5f}; P(cross) H0 {h0:.3f}, H1 {h1:.3f}")  # fmt: skip
    typer.echo(f"  inflation {b.inflation:.4f}; expected information H0 "
               f"{b.expected_fraction_h0:.3f}, H1 {b.expected_fraction_h1:.3f}")  # fmt: skip


def _counts(text: str, option: str) -> tuple[int, int]:
    try:
        x, n = (int(v) for v in text.split("/"))
    except ValueError:
        fail(f"{option} = {text!r}: must be responses/patients, e.g. 3/10")
    return x, n


def bayes(
    design: DesignArg = None,
    control: Annotated[str, typer.Option(help="Control responses/patients, e.g. 1/8.")] = "0/0",
    treatment: Annotated[str, typer.Option(help="Treatment responses/patients.")] = "0/0",
    final_n: Annotated[int | None, typer.Option(
        help="Patients per arm at the final analysis (default: the design's n_per_arm).")] = None,
    threshold: Annotated[float | None, typer.Option(help="Success threshold of "
                                                    "P(p_t > p_c).")] = None,
    prior: Annotated[str | None, typer.Option(help="Beta prior a,b (default 1,1).")] = None,
    as_json: JsonOpt = False,
) -> None:  # fmt: skip
    """Bayesian monitoring: P(p_t > p_c | data) and, at an interim, the predictive probability
    that the final analysis succeeds (beta-binomial, the same Beta prior on each arm).

    Example: cletrial design bayes lenalidomide-vs-placebo --control 1/7 --treatment 5/7
    --final-n 14
    """
    from cletrial.design.bayes import Interim, predictive_probability, probability_superior

    x_c, n_c = _counts(control, "--control")
    x_t, n_t = _counts(treatment, "--treatment")
    settings = _design(design).bayes if design is not None else None
    a, b = (_floats(prior, "--prior") or []) or (
        [settings.prior_a, settings.prior_b] if settings else [1.0, 1.0])  # fmt: skip
    success = threshold or (settings.success_threshold if settings else 0.975)
    final = final_n or (_design(design).n_per_arm if design is not None else None)
    posterior = _call(probability_superior, x_t, n_t, x_c, n_c, a, b)
    out: dict[str, Any] = {"posterior_probability": posterior, "success_threshold": success,
                           "prior": [a, b], "predictive_probability": None}  # fmt: skip
    if final is not None:
        interim = Interim(x_t, n_t, x_c, n_c, final, final)
        out["predictive_probability"] = _call(predictive_probability, interim, success, a, b)
        out["final_n_per_arm"] = final
    if as_json:
        _emit(out)
        return
    typer.echo(f"P(p_t > p_c | {x_t}/{n_t} vs {x_c}/{n_c}) = {posterior:.4f} "
               f"(success at {success:g}, prior Beta({a:g}, {b:g}))")  # fmt: skip
    if out["predictive_probability"] is not None:
        typer.echo(f"predictive probability of success with {final} per arm: "
                   f"{out['predictive_probability']:.4f}")  # fmt: skip


def report(
    design: Annotated[str, typer.Argument(help="A bundled design id or a design YAML file.")],
    out: Annotated[Path, typer.Option("--out", dir_okay=False,
                                      help="The HTML file to write.")] = Path("design_report.html"),
    trials: Annotated[int, typer.Option("--trials", min=1, help="Simulated trials per effect "
                                        "size (six sizes).")] = 2000,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the simulation: the same "
                                      "seed gives the same numbers.")] = 1,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="Simulate on a Dask "
                                                "LocalCluster of K processes.")] = None,
) -> None:  # fmt: skip
    """Write the design report: one self-contained HTML file (no network resources).

    Sections: the pooled published evidence (series table, forest plot, random-effects
    estimates with tau² and I²); the design (arms, endpoint, alpha, power, assumed rates and
    their sources); sample-size tables over a grid of rates (or hazard ratios), the design's
    cell highlighted; the group-sequential boundaries (table and plot); and power curves
    simulated on the protocol's rules at six effect sizes (Monte Carlo error bars, the analytic
    power beside them, the type I error at the null), with the expected sample size and the
    probability of stopping at each look. Every figure's numbers are also in a table. The
    default (2000 trials a point) takes a few seconds on one core.

    Example: cletrial design report lenalidomide-vs-placebo --out report.html --seed 1
    """
    import sys

    from tqdm import tqdm

    from cletrial.design.report import compute_design_report, render_design_report_html
    from cletrial.design.report_data import EFFECT_FRACTIONS

    d = _design(design)
    with tqdm(total=len(EFFECT_FRACTIONS) * trials, unit="trial", file=sys.stderr, disable=None,
              desc="simulating") as bar:  # fmt: skip
        built = _call(compute_design_report, d, trials=trials, seed=seed, workers=workers,
                      progress=bar.update)  # fmt: skip
    html = render_design_report_html(built)
    try:
        out.write_text(html, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write the report to {out}: {exc.strerror}")
    typer.echo(f"wrote {out} ({len(html.encode('utf-8')) // 1024} KiB): {d.id}, {trials} trials "
               f"per effect size, seed {seed}")  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add the design commands to ``app``."""
    design_app.command("list")(list_designs)
    design_app.command("show")(show)
    design_app.command("sample-size")(sample_size)
    design_app.command("boundaries")(boundaries)
    design_app.command("bayes")(bayes)
    design_app.command("report")(report)
    app.add_typer(design_app, name="design")
