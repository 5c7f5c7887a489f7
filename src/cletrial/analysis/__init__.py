"""Statistics, tables, figures, the published-claims audit and the study report (pure).

::

    reference.py      Tables 1-3 and summary statistics of the 2012 paper, parsed and validated
    statistics.py     n (%), exact Clopper-Pearson intervals, mean ± SD, median (range),
                      named tests (also from summary statistics)
    grim.py           the GRIM test (can a printed mean come from n integer scores?)
    survival.py       Kaplan-Meier (lifelines); time-to-CR records of the reference study
    claims.py         the published-claims audit (claims.yaml + claim_checks.py)
    tables.py         Tables 1-3 as listings and summaries (reference study)
    cohort.py         visit-level cohorts through cletrial.endpoints (+ cohort_tables.py)
    lanes.py          swimmer-plot lanes, recorded and inferred parts marked
    figures.py        matplotlib figures (Agg canvas, no pyplot) as PNG bytes
    report.py         the self-contained HTML report (templates/report.html.j2)
    evidence_data.py  the published lenalidomide CLE series (cited YAML), loaded and checked
    freeman_tukey.py  Freeman-Tukey double arcsine and Miller's (1978) inverse
    evidence.py       random-effects pooled proportions of the series (statsmodels, DL)
    evidence_figures.py  forest plot of the pooled evidence (PNG or SVG)

Heavy libraries (lifelines, matplotlib) are imported only when a function needs them.

>>> compute_proportion(12, 15).text(ci=True)
'12/15 (80%); 95% CI 52-96%'
>>> compute_claims_audit().counts["inconsistent"] > 0
True
"""

from __future__ import annotations

from cletrial.analysis.claims import ClaimResult, ClaimsAudit, compute_claims_audit
from cletrial.analysis.evidence import (
    EvidenceSummary,
    PooledProportion,
    compute_evidence_summary,
    derive_pooled_proportion,
)
from cletrial.analysis.evidence_data import Series, load_published_series
from cletrial.analysis.grim import GrimResult, compute_grim
from cletrial.analysis.reference import ReferenceStudy, load_reference_study
from cletrial.analysis.report import (
    StudyReport,
    compute_cohort_report,
    compute_reference_report,
    render_report_html,
)
from cletrial.analysis.statistics import (
    Distribution,
    Proportion,
    TestResult,
    compute_distribution,
    compute_implied_paired_correlation,
    compute_mann_whitney,
    compute_paired_ttest_from_stats,
    compute_proportion,
    compute_ttest,
    compute_ttest_from_stats,
    compute_wilcoxon,
)
from cletrial.analysis.survival import KaplanMeier, compute_kaplan_meier

__all__ = [
    "ClaimResult",
    "ClaimsAudit",
    "Distribution",
    "EvidenceSummary",
    "GrimResult",
    "KaplanMeier",
    "PooledProportion",
    "Proportion",
    "ReferenceStudy",
    "Series",
    "StudyReport",
    "TestResult",
    "compute_claims_audit",
    "compute_cohort_report",
    "compute_distribution",
    "compute_evidence_summary",
    "compute_grim",
    "compute_implied_paired_correlation",
    "compute_kaplan_meier",
    "compute_mann_whitney",
    "compute_paired_ttest_from_stats",
    "compute_proportion",
    "compute_reference_report",
    "compute_ttest",
    "compute_ttest_from_stats",
    "compute_wilcoxon",
    "derive_pooled_proportion",
    "load_published_series",
    "load_reference_study",
    "render_report_html",
]
