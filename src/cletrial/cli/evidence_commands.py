"""``cletrial evidence``: the published lenalidomide series in cutaneous lupus, pooled.

Only Typer and the standard library are imported at module level; the analysis (statsmodels,
scipy, matplotlib) is imported inside the command.
"""

from __future__ import annotations

import json
import textwrap
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from cletrial.cli._common import fail


class OutcomeChoice(StrEnum):
    """Which pooled outcome to show."""

    cr = "cr"
    response = "response"


class PopulationChoice(StrEnum):
    """Which denominator to pool over."""

    treated = "treated"
    evaluable = "evaluable"


_TITLES = {"cr": "complete response (CR)", "response": "response (CR or PR)"}
_WIDTH = 100


def _percent(count: int | None, total: int, low: float | None, high: float | None) -> str:
    if count is None or low is None or high is None:
        return "not reported"
    return f"{count:>2}/{total:<2} {100 * count / total:3.0f}% ({100 * low:.0f}-{100 * high:.0f})"


def _table(summary: Any) -> list[str]:
    """Rows: study, design, n, then ``x/n pct (exact CI)`` per pooled outcome."""
    outcomes = list(summary.pooled)
    head = f"{'series':<24}{'design':<15}{'n':>3}  " + "".join(
        f"{_TITLES[o]:<27}" for o in outcomes
    )
    lines = [head.rstrip(), "-" * len(head.rstrip())]
    for series in summary.series:
        n = series.denominator(summary.population)
        cells = []
        for outcome in outcomes:
            found = [s for s in summary.pooled[outcome].studies if s.study == series.id]
            p = found[0].proportion if found else None
            cells.append(_percent(series.events(outcome), n, p and p.ci_lower, p and p.ci_upper))
        lines.append(
            f"{series.label:<24}{series.design.replace('_', ' '):<15}{n:>3}  "
            + "".join(f"{cell:<27}" for cell in cells).rstrip()
        )
    return lines


def _text(summary: Any) -> list[str]:
    denominator = (
        "every patient who received lenalidomide"
        if summary.population == "treated"
        else "patients assessed for response"
    )
    lines = [
        "Lenalidomide in cutaneous lupus erythematosus: published series",
        f"Denominator: {denominator}. Per series: events/n, % (exact 95% CI).",
        "",
        *_table(summary),
        "",
    ]
    for outcome, pooled in summary.pooled.items():
        lines += [f"Pooled {_TITLES[outcome]}, {pooled.k} series:", f"  {pooled.text()}"]
        if summary.left_out.get(outcome):
            lines.append(f"  left out (not reported): {', '.join(summary.left_out[outcome])}")
    method = next(iter(summary.pooled.values())).method
    lines += textwrap.wrap(f"Method: {method}.", width=_WIDTH, subsequent_indent="  ")
    lines += [
        "Each series defines response its own way: see --json (definitions, provenance).",
        "",
        "Sources:",
    ]
    for series in summary.series:
        lines += textwrap.wrap(
            f"{series.label}: {series.citation.text()}",
            width=_WIDTH,
            initial_indent="  ",
            subsequent_indent="    ",
        )
    return lines


def evidence(
    as_json: bool = typer.Option(False, "--json", help="Print series and pooled results as JSON."),
    outcome: OutcomeChoice | None = typer.Option(
        None,
        "--outcome",
        help="Pool only complete responses ('cr') or only responses, CR or PR ('response'). "
        "Default: both.",
        case_sensitive=False,
    ),
    population: PopulationChoice = typer.Option(
        PopulationChoice.treated,
        "--population",
        help="Denominator: 'treated' (everyone who took lenalidomide; an early withdrawal "
        "counts as no response) or 'evaluable' (patients the authors assessed).",
        case_sensitive=False,
    ),
    plot: Path | None = typer.Option(
        None,
        "--plot",
        help="Also write a forest plot to this file (.png or .svg): exact 95% CI per series, "
        "pooled diamond.",
        dir_okay=False,
    ),
) -> None:
    """Pool the published lenalidomide series in cutaneous lupus (the design's prior evidence).

    Four series are bundled with their citations and where each figure comes from:
    Cortés-Hernández 2012 (prospective, n=15), Braunstein 2012 (prospective, n=5), Shah 2009
    (case series, n=2) and the Mayo Clinic 2016 review (retrospective, n=9). The proportion of
    patients with a complete response, and with any response, is pooled by a random-effects
    meta-analysis: Freeman-Tukey double-arcsine transform (0 and n events need no correction),
    DerSimonian-Laird tau² truncated at 0, back-transformed at the harmonic mean n (Miller
    1978). Per-series intervals are exact (Clopper-Pearson). The series define response
    differently and are small and uncontrolled: read the pooled figure as a rough prior, not as
    an efficacy estimate.
    """
    from cletrial.analysis.evidence import compute_evidence_summary
    from cletrial.errors import CletrialError

    if plot is not None and plot.suffix.lower() not in (".png", ".svg"):
        fail(f"--plot {plot}: the file name must end in .png or .svg")
    outcomes = [outcome.value] if outcome is not None else ["cr", "response"]
    try:
        summary = compute_evidence_summary(population=population.value, outcomes=outcomes)  # type: ignore[arg-type]
    except CletrialError as exc:
        fail(str(exc))
    if plot is not None:
        _write_plot(summary, plot)
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), indent=2, ensure_ascii=False))
        return
    typer.echo("\n".join(_text(summary)))
    if plot is not None:
        typer.echo(f"\nwrote {plot}")


def _write_plot(summary: Any, plot: Path) -> None:
    from cletrial.analysis.evidence_figures import render_forest_plot

    image = render_forest_plot(
        list(summary.pooled.values()),
        fmt="svg" if plot.suffix.lower() == ".svg" else "png",
    )
    try:
        plot.write_bytes(image)
    except OSError as exc:
        fail(f"cannot write the forest plot to {plot}: {exc.strerror}")


def register(app: typer.Typer) -> None:
    """Add ``evidence`` to ``app``."""
    app.command("evidence")(evidence)
