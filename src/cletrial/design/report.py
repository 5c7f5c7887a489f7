"""The design report: the evidence a design rests on, the design, its sample size over a grid of
assumptions, its group-sequential boundaries and its simulated operating characteristics, in one
self-contained HTML file.

:func:`compute_design_report` assembles the numbers (pooled evidence from
:mod:`cletrial.analysis.evidence`, sizes and boundaries from :mod:`cletrial.design.plan`,
power curves simulated by :mod:`cletrial.simulation`); :func:`render_design_report_html` renders
them with the Jinja2 template ``templates/design_report.html.j2`` (autoescaped; figures embedded
as SVG data URIs, no external resource). Every figure's numbers are also in a table.
:meth:`DesignReport.numbers` is the figure-free JSON that the same seed reproduces.

>>> from cletrial.design.model import load_design
>>> report = compute_design_report(load_design("lenalidomide-withdrawal"), trials=100, seed=1)
>>> [f.id for f in report.figures]
['forest', 'boundaries', 'power']
>>> render_design_report_html(report).startswith("<!DOCTYPE html>")
True
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cletrial import __version__
from cletrial.analysis.evidence import EvidenceSummary, compute_evidence_summary
from cletrial.design.boundaries import Boundaries
from cletrial.design.model import RATE_FIELDS, Design
from cletrial.design.plan import SizePlan, design_boundaries, plan_sample_size
from cletrial.design.report_data import (
    PowerCurve,
    SizeGrid,
    compute_power_curve,
    compute_size_grids,
)
from cletrial.errors import DesignError

__all__ = [
    "DEFAULT_TRIALS",
    "DesignFigure",
    "DesignReport",
    "compute_design_report",
    "render_design_report_html",
]

#: Simulated trials per effect size by default (six points: a few seconds on one core).
DEFAULT_TRIALS = 2000


@dataclass(frozen=True)
class DesignFigure:
    """A figure: SVG bytes with a title and a caption; ``table`` names the table of its numbers."""

    id: str
    title: str
    caption: str
    svg: bytes
    table: str

    @property
    def data_uri(self) -> str:
        """``data:image/svg+xml;base64,...`` for an ``<img>`` (no script can run in it)."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg).decode("ascii")


@dataclass(frozen=True)
class DesignReport:
    """Everything the design report shows."""

    design: Design
    evidence: EvidenceSummary
    plan: SizePlan
    grids: tuple[SizeGrid, ...]
    boundaries: Boundaries
    curve: PowerCurve
    figures: tuple[DesignFigure, ...]

    @property
    def assumptions(self) -> list[dict[str, Any]]:
        """The design's assumed numbers with their sources (field, value, kind, citation)."""
        out = []
        for name in RATE_FIELDS:
            value = getattr(self.design, name)
            source = self.design.source_of(name)
            if value is None or source is None:
                continue
            out.append({"field": name, "value": value, "kind": source.kind,
                        "citation": source.citation, "note": source.note})  # fmt: skip
        return out

    def series_rows(self) -> list[dict[str, Any]]:
        """The series table: per series n, CR and responders with exact 95% CIs."""
        rows = []
        for series in self.evidence.series:
            row: dict[str, Any] = {"label": series.label, "design": series.design,
                                   "n": series.denominator(self.evidence.population),  # type: ignore[arg-type]
                                   "definitions": dict(series.definitions),
                                   "citation": series.citation.text()}  # fmt: skip
            for outcome, pooled in self.evidence.pooled.items():
                found = [s.proportion for s in pooled.studies if s.study == series.id]
                row[outcome] = found[0] if found else None
            rows.append(row)
        return rows

    def numbers(self) -> dict[str, Any]:
        """Every number shown, as JSON-ready data without the images (floats to 6 decimals)."""
        from cletrial.analysis.report import _rounded

        numbers: dict[str, Any] = _rounded(
            {
                "design": dataclasses.asdict(self.design),
                "evidence": self.evidence.as_dict(),
                "sample_size": self.plan.as_dict(),
                "grids": [g.as_dict() for g in self.grids],
                "boundaries": self.boundaries.as_dict(),
                "power_curve": self.curve.as_dict(),
                "figures": [{"id": f.id, "title": f.title, "table": f.table} for f in self.figures],
            }
        )
        return numbers


def _figures(evidence: EvidenceSummary, bounds: Boundaries, curve: PowerCurve,
             design: Design) -> tuple[DesignFigure, ...]:  # fmt: skip
    from cletrial.analysis.evidence_figures import render_forest_plot
    from cletrial.design.report_figures import render_boundary_plot, render_power_curve

    return (
        DesignFigure(
            "forest",
            "Forest plot of the published series",
            "Squares: each series' proportion (area by random-effects weight) with its exact "
            "95% interval; diamond: the pooled random-effects estimate and its interval.",
            render_forest_plot(list(evidence.pooled.values()), fmt="svg"),
            "evidence-series",
        ),
        DesignFigure(
            "boundaries",
            "Group-sequential boundaries",
            "The trial stops for efficacy when z reaches the upper bound at a look; it may stop "
            "for futility below the lower bound (non-binding). Numbers: the table of looks.",
            render_boundary_plot(bounds),
            "boundaries-table",
        ),
        DesignFigure(
            "power",
            "Power and expected sample size against the true effect",
            f"Points: {curve.trials} simulated trials each (seed {curve.seed}, the same random "
            "numbers for every point), error bars 1.96 Monte Carlo standard errors; line: the "
            "analytic power of the same boundaries (normal approximation). The null point is "
            f"the type I error (one-sided alpha {design.alpha:g}).",
            render_power_curve(curve, design.alpha),
            "power-table",
        ),
    )


def compute_design_report(
    design: Design,
    *,
    trials: int = DEFAULT_TRIALS,
    seed: int,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> DesignReport:
    """Assemble the report of ``design``.

    Parameters
    ----------
    design : Design
        A loaded design (:func:`cletrial.design.model.load_design`).
    trials : int
        Simulated trials per effect size (six sizes, from the null to 1.25 times the design's
        effect).
    seed : int
        Seed of the simulation: the same seed and trials give the same numbers.
    workers : int, optional
        Simulate on a Dask LocalCluster of this many processes (same numbers as serially).
    progress : callable, optional
        Called with the trials of each finished block (for a progress bar).

    Returns
    -------
    DesignReport

    Raises
    ------
    DesignError
        ``trials`` below 1 (the simulation raises SimulationError for other settings).

    Examples
    --------
    >>> from cletrial.design.model import load_design
    >>> r = compute_design_report(load_design("lenalidomide-vs-placebo"), trials=100, seed=2)
    >>> r.plan.binary[0].size.n_control, [round(z, 3) for z in r.boundaries.efficacy_z]
    (11, [2.963, 1.969])
    """
    if trials < 1:
        raise DesignError("trials", trials, "must be at least 1")
    evidence = compute_evidence_summary()
    bounds = design_boundaries(design)
    curve = compute_power_curve(design, trials, seed, workers=workers, progress=progress)
    return DesignReport(
        design=design,
        evidence=evidence,
        plan=plan_sample_size(design),
        grids=compute_size_grids(design),
        boundaries=bounds,
        curve=curve,
        figures=_figures(evidence, bounds, curve, design),
    )


def render_design_report_html(report: DesignReport) -> str:
    """Render the report as one self-contained HTML page (UTF-8 text, figures inline).

    Examples
    --------
    >>> from cletrial.design.model import load_design
    >>> r = compute_design_report(load_design("lenalidomide-vs-placebo"), trials=50, seed=1)
    >>> html = render_design_report_html(r)
    >>> "data:image/svg+xml;base64," in html, "<script" in html
    (True, False)
    """
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("cletrial.design", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = env.get_template("design_report.html.j2")
    return template.render(r=report, d=report.design, version=__version__)
