"""The HTML study report: self-contained, complete, synthetic data labelled; golden numbers."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from tests.analysis.cohort_histories import cohort

from cletrial.analysis.claims import ClaimsAudit
from cletrial.analysis.report import (
    StudyReport,
    compute_cohort_report,
    compute_reference_report,
    render_report_html,
)

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("CLETRIAL_UPDATE_GOLDEN") == "1"


def _golden(name: str, data: object) -> None:
    """Compare ``data`` with golden/NAME (rewrite it when CLETRIAL_UPDATE_GOLDEN=1)."""
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with CLETRIAL_UPDATE_GOLDEN=1"
    assert json.loads(text) == json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reference_report() -> StudyReport:
    return compute_reference_report()


@pytest.fixture(scope="module")
def reference_html(reference_report: StudyReport) -> str:
    return render_report_html(reference_report)


def test_golden_claims_audit(audit: ClaimsAudit) -> None:
    _golden("claims.json", audit.as_dict())


def test_golden_reference_report_numbers(reference_report: StudyReport) -> None:
    _golden("report_reference.json", reference_report.numbers())


def test_golden_cohort_report_numbers() -> None:
    _golden("report_cohort.json", compute_cohort_report(cohort(), source="test").numbers())


def test_reference_html_is_self_contained(reference_html: str) -> None:
    assert reference_html.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)=["'](https?:|//|file:)""", reference_html)
    assert "<script" not in reference_html and "<link" not in reference_html
    assert reference_html.count('src="data:image/png;base64,') == 2


def test_reference_html_has_every_part(reference_html: str, audit: ClaimsAudit) -> None:
    for part in (
        "Table 1.",
        "Table 2.",
        "Table 3.",
        "Audit of the published claims",
        "Kaplan-Meier",
        "Course of each patient",
    ):
        assert part in reference_html
    assert reference_html.count('class="status-inconsistent"') == audit.counts["inconsistent"]
    assert "Figure 2 (CLASI activity and damage over time, mean ± SEM):</strong> not drawn" in (
        reference_html
    )
    assert "no visit-level data" in reference_html
    assert "SYNTHETIC" not in reference_html
    assert "doi:10.1186/ar4111" in reference_html


def test_cohort_report_is_labelled_synthetic() -> None:
    report = compute_cohort_report(cohort(), source="histories: test.jsonl")
    html = render_report_html(report)
    assert report.synthetic and 'class="banner"' in html
    assert html.count("[synthetic]") >= len(report.tables) + len(report.figures)
    assert report.title.startswith("SYNTHETIC DATA")
    assert {f.id for f in report.figures} >= {"swimmer", "figure2", "figure3", "km_time_to_CR"}
    assert report.claims is None and "Audit of the published claims" not in html


def test_real_cohort_is_not_labelled_synthetic() -> None:
    histories = [dict(h, synthetic=False) for h in cohort()]
    report = compute_cohort_report(histories, source="real")
    html = render_report_html(report)
    assert not report.synthetic and "SYNTHETIC" not in html and "[synthetic]" not in html


def test_text_is_escaped() -> None:
    histories = cohort()
    histories[0]["patient_id"] = "<b>x</b>"
    html = render_report_html(compute_cohort_report(histories, source="<script>"))
    assert "<script>" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_messy_random_cohorts_report_without_error_or_warning(seed: int) -> None:
    # The endpoints tests' deliberately messy histories (missing scores, duplicated days,
    # withdrawals, labs around the windows): the report must cope, and warnings are errors.
    from tests.endpoints.random_histories import random_cohort

    report = compute_cohort_report(random_cohort(seed, 12), source="random")
    numbers = report.numbers()
    assert len(numbers["tables"]) == 4 and numbers["figure_data"]["figure2"][0]["week"] == 0.0
    assert render_report_html(report).count("data:image/png;base64,") == len(report.figures)


def test_synthetic_cohort_from_the_generator() -> None:
    from cletrial.synthetic import generate_cohort

    report = compute_cohort_report(list(generate_cohort(20, seed=5)), source="synth")
    assert report.synthetic and report.numbers()["tables"][0]["rows"][1][1] == "20/20 (100%)"
