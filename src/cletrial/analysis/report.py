"""The study report: tables, claims audit, Kaplan-Meier estimates and figures in one HTML file.

:func:`compute_reference_report` builds the report of the 2012 paper's own data (Tables 1-3:
no visit-level data, so Figures 2 and 3 are not drawn and the report says why);
:func:`compute_cohort_report` builds it from patient histories through :mod:`cletrial.endpoints`.
:func:`render_report_html` renders either with the Jinja2 template
``templates/report.html.j2`` into one self-contained page (figures embedded as base64 PNG, no
external files). :meth:`StudyReport.numbers` is the figure-free JSON the golden tests pin.

>>> report = compute_reference_report()
>>> [t.id for t in report.tables][:3]
['table1', 'baseline_summary', 'table2']
>>> "synthetic" in render_report_html(report).lower()
False
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cletrial import __version__
from cletrial.analysis.claims import ClaimsAudit, compute_claims_audit
from cletrial.analysis.reference import ReferenceStudy, load_reference_study
from cletrial.analysis.survival import (
    KaplanMeier,
    compute_kaplan_meier,
    derive_reference_time_to_cr,
)
from cletrial.analysis.tables import (
    ReportTable,
    compute_adverse_event_summary,
    compute_baseline_summary,
    compute_response_summary,
    compute_table1,
    compute_table2,
    compute_table3,
)

__all__ = [
    "ReportFigure",
    "StudyReport",
    "compute_cohort_report",
    "compute_reference_report",
    "render_report_html",
]


@dataclass(frozen=True)
class ReportFigure:
    """A figure: PNG bytes with a title and a caption saying what is recorded and inferred."""

    id: str
    title: str
    caption: str
    png: bytes

    @property
    def data_uri(self) -> str:
        """``data:image/png;base64,...`` for embedding."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass(frozen=True)
class StudyReport:
    """Everything the HTML report shows; ``synthetic`` puts a warning on every page part."""

    title: str
    source: str
    synthetic: bool
    notes: tuple[str, ...]
    tables: tuple[ReportTable, ...]
    claims: ClaimsAudit | None
    survival: tuple[KaplanMeier, ...]
    figures: tuple[ReportFigure, ...]
    missing_figures: tuple[tuple[str, str], ...]
    figure_data: Mapping[str, Any]
    citation: Mapping[str, Any] | None = None

    def numbers(self) -> dict[str, Any]:
        """Stable JSON of every number shown (tables, claims, Kaplan-Meier, figure data), without
        images; floats rounded to 6 decimals."""
        numbers: dict[str, Any] = _rounded(
            {
                "title": self.title,
                "source": self.source,
                "synthetic": self.synthetic,
                "notes": list(self.notes),
                "tables": [t.as_dict() for t in self.tables],
                "claims": None if self.claims is None else self.claims.as_dict(),
                "survival": [km.as_dict() for km in self.survival],
                "figures": [
                    {"id": f.id, "title": f.title, "caption": f.caption} for f in self.figures
                ],
                "missing_figures": [list(m) for m in self.missing_figures],
                "figure_data": dict(self.figure_data),
            }
        )
        return numbers


def _rounded(value: Any) -> Any:
    """``value`` with every float rounded to 6 decimals (tuples become lists), for stable JSON."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def _patients(study: ReferenceStudy, outcome: str) -> str:
    return ", ".join(str(r.patient) for r in study.table2 if r.outcome == outcome)


def _reference_figures(
    study: ReferenceStudy, km: KaplanMeier, lanes: list[Any]
) -> tuple[ReportFigure, ...]:
    """The swimmer plot and the time-to-CR curve, captions saying what is inferred."""
    from cletrial.analysis.figures import render_kaplan_meier, render_swimmer

    withdrawn, partial = _patients(study, "withdrawn"), _patients(study, "PR")
    swimmer = ReportFigure(
        "swimmer",
        "Course of each patient (Table 2)",
        "Bars run to the end of follow-up (months x 4.348 weeks). Solid: 5 mg daily to CR (the "
        "start dose; CR patients' maximum dose was 5 mg). Hatched, inferred: the PR patients' "
        f"({partial}) dose after the week-4 review (10 mg where Table 2 gives a 10 mg maximum) "
        "and the period after CR, whose taper, relapse and re-treatment dates the paper does "
        f"not give. Withdrawn patient(s) {withdrawn}: stopped at week 1 (Results text). Relapse "
        "doses are from Table 2; their times are not reported.",
        render_swimmer(lanes, title="Reference study: each patient's course"),
    )
    curve = ReportFigure(
        "km_time_to_cr",
        "Time to complete response (Kaplan-Meier)",
        f"{km.text()}. Events: CR at the Table 2 week. Censored: withdrawn patient(s) "
        f"{withdrawn} at week 1, PR patients {partial} at the end of follow-up."
        + (f" Note: {km.median_note}." if km.median_note else ""),
        render_kaplan_meier(
            [km],
            title="Time to complete response",
            ylabel="Proportion with complete response",
            cumulative=True,
        ),
    )
    return swimmer, curve


def compute_reference_report(study: ReferenceStudy | None = None) -> StudyReport:
    """The report of the reference study (Tables 1-3 and summary statistics of the 2012 paper).

    Examples
    --------
    >>> r = compute_reference_report()
    >>> r.survival[0].text()
    'time to CR: n = 15, 12 events, 3 censored, median 4 weeks (95% CI 3 to 12)'
    """
    from cletrial.analysis.lanes import derive_reference_lanes

    study = study if study is not None else load_reference_study()
    records = derive_reference_time_to_cr(study)
    km = compute_kaplan_meier(
        [r["time_weeks"] for r in records], [r["event"] for r in records], label="time to CR"
    )
    lanes = derive_reference_lanes(study)
    figures = _reference_figures(study, km, lanes)
    no_visits = "the reference study publishes no visit-level data (only Tables 1-3)"
    return StudyReport(
        title="Lenalidomide in refractory CLE: reference study (Cortés-Hernández et al. 2012)",
        source="reference: Tables 1-3 and summary statistics of the published paper",
        synthetic=False,
        notes=(
            "Relapse-free time cannot be estimated: Table 2 gives no relapse times.",
            "CLASI at week 2 and one year, SLEDAI-2K, anti-dsDNA over time and complement are "
            "published only as summaries; see the claims audit.",
        ),
        tables=(
            compute_table1(study),
            compute_baseline_summary(study),
            compute_table2(study),
            compute_response_summary(study),
            compute_table3(study),
            compute_adverse_event_summary(study),
        ),
        claims=compute_claims_audit(study),
        survival=(km,),
        figures=figures,
        missing_figures=(
            ("Figure 2 (CLASI activity and damage over time, mean ± SEM)", no_visits),
            ("Figure 3 (anti-dsDNA, C3, C4 at baseline and end)", no_visits),
        ),
        figure_data={"swimmer": [lane.as_dict() for lane in lanes], "time_to_cr": records},
        citation=study.citation,
    )


def _cohort_figures(
    cohort: Any, tag: str
) -> tuple[list[ReportFigure], list[KaplanMeier], dict[str, Any]]:
    """Swimmer, Kaplan-Meier (TTCR, RFS), Figure 2 and Figure 3 of a cohort, with their data."""
    from cletrial.analysis import cohort as c
    from cletrial.analysis import figures as f

    curves = [
        km
        for km in (
            c.compute_cohort_kaplan_meier(cohort, "TTCR", "time to CR"),
            c.compute_cohort_kaplan_meier(cohort, "RFS", "relapse-free time"),
        )
        if km is not None
    ]
    lanes = c.derive_cohort_lanes(cohort)
    points = c.compute_clasi_time_points(cohort)
    panels = c.compute_immunology_panels(cohort)
    figures = [
        ReportFigure(
            "swimmer",
            "Course of each patient",
            f"Recorded dose changes, CR, relapses and stops; first {len(lanes)} "
            f"of {cohort.n_patients} patients.",
            f.render_swimmer(lanes, title=f"{tag}Course of each patient"),
        )
    ]
    figures += [
        ReportFigure(
            f"km_{km.label.replace(' ', '_')}",
            f"{km.label} (Kaplan-Meier)",
            km.text() + (f". Note: {km.median_note}" if km.median_note else ""),
            f.render_kaplan_meier(
                [km], title=f"{tag}{km.label}", ylabel="Proportion with the event", cumulative=True
            ),
        )
        for km in curves
    ]
    figures.append(
        ReportFigure(
            "figure2",
            "Figure 2: CLASI activity and damage over time",
            "Mean ± SEM at baseline and nominal visits (closest visit within "
            "the window); n under each point.",
            f.render_clasi_over_time(points, title=f"{tag}CLASI over 12 months"),
        )
    )
    figures.append(
        ReportFigure(
            "figure3",
            "Figure 3: immunology at baseline and end of treatment",
            "; ".join(f"{p.label}: {p.test_text}" for p in panels),
            f.render_immunology(panels, title=f"{tag}Immunology"),
        )
    )
    data = {
        "swimmer": [lane.as_dict() for lane in lanes],
        "figure2": [dataclasses.asdict(p) for p in points],
        "figure3": [dataclasses.asdict(p) for p in panels],
    }
    return figures, curves, data


def compute_cohort_report(histories: Iterable[Mapping[str, Any]], *, source: str) -> StudyReport:
    """The report of a visit-level cohort (patient histories, e.g. from ``cletrial synth``).

    Endpoints are derived by :mod:`cletrial.endpoints`. When any history is marked synthetic,
    the whole report is labelled synthetic.

    >>> from cletrial.analysis.cohort import _example_histories
    >>> report = compute_cohort_report(_example_histories(), source="example")
    >>> report.synthetic, report.title[:16], [f.id for f in report.figures][-2:]
    (True, 'SYNTHETIC DATA -', ['figure2', 'figure3'])
    """
    from cletrial.analysis import cohort as c
    from cletrial.analysis import cohort_tables as ct

    cohort = c.derive_cohort(histories)
    synthetic = cohort.n_synthetic > 0
    tag = "SYNTHETIC DATA - " if synthetic else ""
    figures, curves, data = _cohort_figures(cohort, tag)
    return StudyReport(
        title=f"{tag}Lenalidomide in refractory CLE: cohort report",
        source=source,
        synthetic=synthetic,
        notes=(
            f"{cohort.n_synthetic} of {cohort.n_patients} histories are synthetic: not evidence."
            if synthetic
            else "",
            "Endpoints derived by cletrial.endpoints (protocol specification section 5).",
        ),
        tables=(
            ct.compute_cohort_baseline_table(cohort),
            ct.compute_cohort_response_table(cohort),
            ct.compute_cohort_relapse_table(cohort),
            ct.compute_cohort_adverse_event_table(cohort),
        ),
        claims=None,
        survival=tuple(curves),
        figures=tuple(figures),
        missing_figures=(),
        figure_data=data,
    )


def render_report_html(report: StudyReport) -> str:
    """Render the report as one self-contained HTML page (UTF-8 text, figures inline).

    Examples
    --------
    >>> html = render_report_html(compute_reference_report())
    >>> html.startswith("<!DOCTYPE html>"), "data:image/png;base64," in html
    (True, True)
    """
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("cletrial.analysis", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = env.get_template("report.html.j2")
    return template.render(report=report, notes=[n for n in report.notes if n], version=__version__)
