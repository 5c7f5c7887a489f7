"""Pooled evidence: worked examples of maintained packages, truncation, transforms, the data file.

Worked examples (published output quoted with its source):

* metafor's analysis example "Miller (1978)" (https://www.metafor-project.org/doku.php/analyses:
  miller1978; the same figures are asserted in metafor's own test suite,
  tests/testthat/test_analysis_example_miller1978.r): Freeman-Tukey transform, Miller's inverse
  at the harmonic mean, fixed-effect pooling, and a data set with 0 and n events.
* metafor's analysis example "DerSimonian & Kacker (2007)" (https://www.metafor-project.org/
  doku.php/analyses:dersimonian2007; tests/testthat/test_analysis_example_dersimonian2007.r):
  the CLASP trials, DerSimonian-Laird tau, mu and se from Tables 3 and 4 of the paper.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any

import numpy as np
import pytest
import yaml
from statsmodels.stats.meta_analysis import combine_effects

from cletrial.analysis.evidence import (
    compute_evidence_summary,
    derive_pooled_proportion,
    derive_random_effects,
)
from cletrial.analysis.evidence_data import (
    SERIES_FILE,
    Series,
    load_published_series,
    parse_series,
)
from cletrial.analysis.evidence_figures import build_forest_figure, render_forest_plot
from cletrial.analysis.freeman_tukey import (
    compute_freeman_tukey,
    compute_harmonic_mean,
    compute_inverse_freeman_tukey,
)
from cletrial.analysis.reference import load_reference_study
from cletrial.analysis.statistics import compute_proportion
from cletrial.errors import InputError

MILLER_X = [3, 6, 10, 1]
MILLER_N = [11, 17, 21, 6]


# --- worked example 1: metafor, Miller (1978) ---------------------------------------------------


def test_freeman_tukey_values_match_miller_1978_page_138() -> None:
    # metafor: "expect_equivalent(dat$yi*2, c(1.1391, 1.2888, 1.5253, 0.9515))" and
    # "expect_equivalent(dat$vi*4, c(0.0870, 0.0571, 0.0465, 0.1538))" (Miller's table omits
    # the factor 1/2, hence *2 and *4).
    pairs = [compute_freeman_tukey(x, n) for x, n in zip(MILLER_X, MILLER_N, strict=True)]
    assert [round(2 * y, 4) for y, _ in pairs] == [1.1391, 1.2888, 1.5253, 0.9515]
    assert [round(4 * v, 4) for _, v in pairs] == [0.0870, 0.0571, 0.0465, 0.1538]


def test_fixed_effect_back_transform_matches_metafor_miller_1978() -> None:
    # metafor: rma(method="EE") then predict(transf=transf.ipft.hm) -> 0.3595 (weighted) and,
    # with weighted=FALSE, 0.3164 (the plain mean of the transformed values).
    pooled = derive_pooled_proportion(MILLER_X, MILLER_N)
    assert round(pooled.fixed_estimate, 4) == 0.3595
    ys = [compute_freeman_tukey(x, n)[0] for x, n in zip(MILLER_X, MILLER_N, strict=True)]
    unweighted = compute_inverse_freeman_tukey(float(np.mean(ys)), compute_harmonic_mean(MILLER_N))
    assert round(unweighted, 4) == 0.3164


def test_zero_and_all_events_match_metafor_example() -> None:
    # metafor: xi = (0, 4, 9, 16, 20), ni = (10, 10, 15, 20, 20); transf.ipft gives back
    # (0.0, 0.4, 0.6, 0.8, 1.0); the EE estimate is 0.6886 with CI 0.5734 to 0.7943.
    events, totals = [0, 4, 9, 16, 20], [10, 10, 15, 20, 20]
    back = [
        compute_inverse_freeman_tukey(compute_freeman_tukey(x, n)[0], n)
        for x, n in zip(events, totals, strict=True)
    ]
    assert back == pytest.approx([0.0, 0.4, 0.6, 0.8, 1.0], abs=1e-12)
    pooled = derive_pooled_proportion(events, totals)
    assert round(pooled.fixed_estimate, 4) == 0.6886
    assert round(pooled.fixed_ci_low, 4) == 0.5734
    assert round(pooled.fixed_ci_high, 4) == 0.7943


# --- worked example 2: metafor, DerSimonian & Kacker (2007), CLASP --------------------------------


def test_dersimonian_laird_matches_dersimonian_kacker_2007_clasp() -> None:
    # metafor: escalc(measure="OR") then rma(method="DL"): tau = 0.2323, mu = -0.3240,
    # se = 0.1540 ("compare with results on page 111-112 (Tables 3 and 4)").
    n1 = np.array([156, 303, 565, 1570, 103, 4659])
    n2 = np.array([74, 303, 477, 1565, 105, 4650])
    a = np.array([5, 5, 12, 69, 9, 313])
    c = np.array([8, 17, 9, 94, 11, 352])
    b, d = n1 - a, n2 - c
    log_or = np.log(a * d / (b * c))
    variance = 1 / a + 1 / b + 1 / c + 1 / d
    result = derive_random_effects(log_or.tolist(), variance.tolist())
    assert round(math.sqrt(result.tau2), 4) == 0.2323
    assert round(result.mean, 4) == -0.3240
    assert round(result.se, 4) == 0.1540
    assert result.tau2 == result.tau2_untruncated  # positive: nothing truncated


# --- DerSimonian-Laird truncation at 0 ------------------------------------------------------------


def test_negative_dl_tau2_from_statsmodels_is_truncated_to_zero() -> None:
    effects, variances = [0.70, 0.72, 0.69], [0.02, 0.03, 0.05]
    with np.errstate(invalid="ignore"):  # statsmodels takes sqrt of a negative RE variance
        raw = combine_effects(np.array(effects), np.array(variances), method_re="dl")
    assert raw.tau2 < 0  # statsmodels does not truncate ...
    assert raw.mean_effect_re != pytest.approx(raw.mean_effect_fe, abs=1e-6)  # ... and it shows
    result = derive_random_effects(effects, variances)
    assert result.tau2 == 0.0 and result.tau2_untruncated == pytest.approx(raw.tau2)
    assert result.mean == pytest.approx(raw.mean_effect_fe, abs=1e-12)
    assert result.se == pytest.approx(raw.sd_eff_w_fe, abs=1e-12)
    assert result.weights_random == pytest.approx(result.weights_fixed)
    assert result.i2 == 0.0


def test_truncation_applies_to_the_bundled_response_pool() -> None:
    pooled = compute_evidence_summary(outcomes=["response"]).pooled["response"]
    assert pooled.tau2_untruncated < 0 and pooled.tau2 == 0.0
    assert pooled.estimate == pytest.approx(pooled.fixed_estimate, abs=1e-12)


def test_identical_studies_give_q_zero_without_warnings() -> None:
    result = derive_random_effects([0.5, 0.5, 0.5], [0.01, 0.01, 0.01])
    assert result.q == 0.0 and result.i2 == 0.0 and result.tau2 == 0.0


# --- Freeman-Tukey round trip and edges -----------------------------------------------------------


@pytest.mark.parametrize("total", [1, 2, 5, 9, 15, 40])
def test_freeman_tukey_round_trip_for_every_count(total: int) -> None:
    for events in range(total + 1):
        y, v = compute_freeman_tukey(events, total)
        assert v == 1 / (4 * total + 2)
        assert compute_inverse_freeman_tukey(y, total) == pytest.approx(events / total, abs=1e-9)


def test_inverse_clamps_beyond_the_ends() -> None:
    assert compute_inverse_freeman_tukey(-0.3, 10) == 0.0
    assert compute_inverse_freeman_tukey(math.pi / 2 + 0.1, 10) == 1.0


@pytest.mark.parametrize(("events", "total"), [(-1, 5), (6, 5), (1, 0), (True, 5), (1.5, 5)])
def test_freeman_tukey_refuses_impossible_counts(events: Any, total: Any) -> None:
    with pytest.raises(InputError):
        compute_freeman_tukey(events, total)


def test_pooled_proportion_needs_two_series() -> None:
    with pytest.raises(InputError, match="two or more series"):
        derive_pooled_proportion([3], [11])


# --- exact per-series intervals -------------------------------------------------------------------


def test_exact_intervals_match_closed_forms() -> None:
    # Clopper-Pearson closed forms: 0/n -> (0, 1 - 0.025**(1/n)); n/n -> (0.025**(1/n), 1);
    # 1/2 -> (1 - sqrt(0.975), sqrt(0.975)).
    summary = compute_evidence_summary()
    cr = {s.study: s.proportion for s in summary.pooled["cr"].studies}
    assert cr["braunstein_2012"].ci_upper == pytest.approx(1 - 0.025 ** (1 / 5), abs=1e-9)
    assert cr["shah_2009"].ci_upper == pytest.approx(1 - 0.025 ** (1 / 2), abs=1e-9)
    resp = {s.study: s.proportion for s in summary.pooled["response"].studies}
    assert resp["shah_2009"].ci_lower == pytest.approx(1 - math.sqrt(0.975), abs=1e-9)
    assert resp["shah_2009"].ci_upper == pytest.approx(math.sqrt(0.975), abs=1e-9)
    evaluable = compute_evidence_summary(population="evaluable", outcomes=["response"])
    full = {s.study: s.proportion for s in evaluable.pooled["response"].studies}
    assert full["cortes_hernandez_2012"].ci_lower == pytest.approx(0.025 ** (1 / 14), abs=1e-9)
    assert cr["cortes_hernandez_2012"] == compute_proportion(12, 15)


# --- the data file: every figure as its source prints it ------------------------------------------

# (n_enrolled, n_treated, n_evaluable, CR, PR, NR, responders, relapses) with where they stand.
SOURCE_FIGURES = {
    # seed 001: Abstract (15 enrolled; 12 CR = 86% of 14; relapse in 75%); Table 2: 12 CR, 2 PR,
    # 1 withdrawn after a week, 9 relapses among the 12 CR.
    "cortes_hernandez_2012": (15, 15, 14, 12, 2, 0, 14, 9),
    # PubMed abstract (PMID 21821308): 5 treated, 4 improved, 1 did not; seed 001, Discussion:
    # the 4 responses were partial.
    "braunstein_2012": (5, 5, 5, 0, 4, 1, 4, None),
    # seed 002: 2 treated, 1 improved, 1 did not.
    "shah_2009": (2, 2, 2, 0, 1, 1, 1, None),
    # seed 004: 9 treated; 5 CR, 2 PR, 2 no response.
    "mayo_clinic_2016": (9, 9, 9, 5, 2, 2, 7, None),
}


def _figures(s: Series) -> tuple[int | None, ...]:
    return (
        s.n_enrolled,
        s.n_treated,
        s.n_evaluable,
        s.complete_responses,
        s.partial_responses,
        s.non_responders,
        s.responders,
        s.relapses,
    )


def test_each_series_equals_its_source_counts() -> None:
    series = load_published_series()
    assert {s.id: _figures(s) for s in series} == SOURCE_FIGURES
    for s in series:
        assert s.citation.doi and s.citation.year and s.provenance["complete_responses"]
        assert set(s.definitions) == {"complete_response", "partial_response", "relapse"}


def test_cortes_hernandez_counts_equal_the_bundled_table_2() -> None:
    table2 = load_reference_study().table2
    outcomes = [row.outcome for row in table2]
    s = load_published_series()[0]
    assert len(table2) == s.n_treated
    assert outcomes.count("CR") == s.complete_responses
    assert outcomes.count("PR") == s.partial_responses
    assert len(table2) - outcomes.count("withdrawn") == s.n_evaluable
    assert sum(1 for row in table2 if row.relapse) == s.relapses


def _document() -> dict[str, Any]:
    from importlib import resources

    text = resources.files("cletrial").joinpath(*SERIES_FILE).read_text(encoding="utf-8")
    return dict(yaml.safe_load(text))


def test_counts_that_do_not_add_up_are_refused_with_the_field() -> None:
    document = copy.deepcopy(_document())
    document["series"][3]["responders"] = 8
    with pytest.raises(InputError, match=r"series\[3\]\.responders = 8: must equal complete"):
        parse_series(document)


def test_a_figure_without_provenance_is_refused() -> None:
    document = copy.deepcopy(_document())
    del document["series"][1]["provenance"]["relapses"]
    with pytest.raises(InputError, match=r"series\[1\]\.provenance.*relapses"):
        parse_series(document)


def test_relapses_cannot_exceed_complete_responses() -> None:
    document = copy.deepcopy(_document())
    document["series"][0]["relapses"] = 13
    with pytest.raises(InputError, match=r"series\[0\]\.relapses = 13"):
        parse_series(document)


# --- summary and figure ---------------------------------------------------------------------------


def test_a_series_without_the_outcome_is_left_out_and_listed() -> None:
    series = list(load_published_series())
    series[1] = dataclasses.replace(series[1], complete_responses=None, partial_responses=None)
    summary = compute_evidence_summary(series, outcomes=["cr", "response"])
    assert summary.pooled["cr"].k == 3 and summary.left_out["cr"] == ("braunstein_2012",)
    assert summary.pooled["response"].k == 4 and summary.left_out["response"] == ()


def test_summary_json_shape() -> None:
    data = compute_evidence_summary().as_dict()
    assert set(data) == {"population", "series", "pooled", "left_out"}
    assert [s["n"] for s in data["series"]] == [15, 5, 2, 9]
    for pooled in data["pooled"].values():
        assert {"estimate", "ci_low", "ci_high", "tau2", "i2", "method"} <= set(pooled)
        assert pooled["ci_low"] <= pooled["estimate"] <= pooled["ci_high"]


def test_forest_figure_has_one_panel_per_outcome_and_both_formats() -> None:
    pooled = list(compute_evidence_summary().pooled.values())
    figure = build_forest_figure(pooled)
    assert len(figure.axes) == 2
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert labels == [
        "Cortés-Hernández 2012",
        "Braunstein 2012",
        "Shah 2009",
        "Mayo Clinic 2016",
        "Pooled (random effects)",
    ]
    assert render_forest_plot(pooled, fmt="png")[:8] == b"\x89PNG\r\n\x1a\n"
    assert render_forest_plot(pooled, fmt="svg") == render_forest_plot(pooled, fmt="svg")
    with pytest.raises(InputError, match="png or svg"):
        render_forest_plot(pooled, fmt="pdf")  # type: ignore[arg-type]
