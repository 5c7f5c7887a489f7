"""Statistics: checked against independent computations with scipy, not against themselves."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from cletrial.analysis.grim import compute_grim
from cletrial.analysis.statistics import (
    compute_distribution,
    compute_implied_paired_correlation,
    compute_mann_whitney,
    compute_paired_ttest_from_stats,
    compute_proportion,
    compute_ttest,
    compute_ttest_from_stats,
    compute_wilcoxon,
    format_number,
    format_p_value,
)
from cletrial.errors import InputError


def _sample(mean: float, sd: float, n: int, seed: int) -> np.ndarray:
    """n values with exactly this mean and sample SD."""
    z = np.random.default_rng(seed).normal(size=n)
    z = (z - z.mean()) / z.std(ddof=1)
    return mean + sd * z


def test_clopper_pearson_matches_the_beta_quantiles() -> None:
    # Exact interval: lower = Beta(0.025; x, n-x+1), upper = Beta(0.975; x+1, n-x).
    p = compute_proportion(12, 15)
    assert p.ci_lower == pytest.approx(stats.beta.ppf(0.025, 12, 4))
    assert p.ci_upper == pytest.approx(stats.beta.ppf(0.975, 13, 3))
    assert p.text(ci=True) == "12/15 (80%); 95% CI 52-96%"
    assert "Clopper-Pearson" in p.method


def test_clopper_pearson_edges() -> None:
    zero, full = compute_proportion(0, 6), compute_proportion(6, 6)
    assert zero.ci_lower == 0.0 and zero.ci_upper == pytest.approx(1 - 0.025 ** (1 / 6))
    assert full.ci_upper == 1.0 and full.ci_lower == pytest.approx(0.025 ** (1 / 6))


@pytest.mark.parametrize(("count", "total"), [(-1, 5), (6, 5), (1, 0), (True, 5), (1.5, 5)])
def test_proportion_rejects_bad_counts(count: object, total: int) -> None:
    with pytest.raises(InputError):
        compute_proportion(count, total)  # type: ignore[arg-type]


@settings(max_examples=60)
@given(st.integers(1, 200).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_interval_contains_the_estimate(pair: tuple[int, int]) -> None:
    p = compute_proportion(*pair)
    assert 0.0 <= p.ci_lower <= p.proportion <= p.ci_upper <= 1.0


def test_distribution_counts_missing_and_uses_n_minus_1() -> None:
    d = compute_distribution([15, 12, 12, 19, None, float("nan")])
    assert (d.n, d.n_missing) == (4, 2)
    assert d.sd == pytest.approx(np.std([15, 12, 12, 19], ddof=1))
    assert d.sem == pytest.approx(d.sd / 2)
    assert d.text_median_range(0) == "14 (12-19) (n = 4; 2 missing)"
    empty = compute_distribution([None])
    assert empty.mean is None and empty.text_mean_sd() == "not available (n = 0; 1 missing)"
    with pytest.raises(InputError, match=r"values\[1\]"):
        compute_distribution([1, "2"])  # type: ignore[list-item]


@settings(max_examples=60)
@given(st.lists(st.one_of(st.none(), st.integers(0, 70)), min_size=1, max_size=40))
def test_distribution_properties(values: list[int | None]) -> None:
    d = compute_distribution(values)
    assert d.n + d.n_missing == len(values)
    if d.n:
        assert d.minimum is not None and d.maximum is not None and d.mean is not None
        assert d.minimum <= d.mean <= d.maximum and d.minimum <= (d.median or 0) <= d.maximum


def test_format_number_rounds_half_up() -> None:
    assert [format_number(v, 0) for v in (0.5, 1.5, 2.5, 85.714)] == ["1", "2", "3", "86"]
    assert format_p_value(0.0009033) == "P = 0.000903"
    assert format_p_value(0.00001) == "P < 0.0001"


@pytest.mark.parametrize("test", ["student", "welch"])
def test_ttest_from_stats_equals_the_test_on_raw_data(test: str) -> None:
    a, b = _sample(11, 5.9, 15, 1), _sample(4.13, 3.66, 14, 2)
    from_stats = compute_ttest_from_stats(11, 5.9, 15, 4.13, 3.66, 14, test=test)  # type: ignore[arg-type]
    raw = compute_ttest(a.tolist(), b.tolist(), test=test)  # type: ignore[arg-type]
    assert from_stats.p_value == pytest.approx(raw.p_value, rel=1e-9)
    assert from_stats.df == pytest.approx(raw.df, rel=1e-9)
    assert (
        from_stats.test == raw.test == {"student": "Student t-test", "welch": "Welch t-test"}[test]
    )


def test_week2_p_value_of_the_paper() -> None:
    # The paper prints P = 0.0009 for 11 ± 5.9 (entry) against 4.13 ± 3.66 (week 2).
    welch = compute_ttest_from_stats(11, 5.9, 15, 4.13, 3.66, 14, test="welch")
    student = compute_ttest_from_stats(11, 5.9, 15, 4.13, 3.66, 14, test="student")
    assert round(welch.p_value, 4) == 0.0009 and round(student.p_value, 4) == 0.0009


def test_paired_from_stats_equals_ttest_rel_on_data_with_that_correlation() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(3, 3, 13)
    y = 0.6 * x + rng.normal(0, 2, 13)
    r = float(np.corrcoef(x, y)[0, 1])
    result = compute_paired_ttest_from_stats(
        float(x.mean()), float(x.std(ddof=1)), float(y.mean()), float(y.std(ddof=1)), 13, r
    )
    assert result.p_value == pytest.approx(stats.ttest_rel(x, y).pvalue, rel=1e-9)


@settings(max_examples=40)
@given(st.floats(-0.9, 0.95), st.integers(5, 30))
def test_implied_correlation_round_trips(r: float, n: int) -> None:
    p = compute_paired_ttest_from_stats(3.08, 3.15, 2.39, 2.96, n, r).p_value
    if 1e-12 < p < 1:
        implied = compute_implied_paired_correlation(3.08, 3.15, 2.39, 2.96, n, p)
        assert implied == pytest.approx(r, abs=1e-6)


def test_implied_correlation_none_when_impossible() -> None:
    assert compute_implied_paired_correlation(10, 1, 0, 1, 10, 0.9) is None


def test_paired_ttest_needs_equal_lengths_and_numbers() -> None:
    with pytest.raises(InputError, match="as many values"):
        compute_ttest([1, 2, 3], [1, 2], test="paired")
    with pytest.raises(InputError):
        compute_ttest([1, float("nan")], [1, 2], test="welch")
    with pytest.raises(InputError):
        compute_ttest_from_stats(1, 0, 5, 1, 1, 5, test="welch")


def test_rank_tests_are_named_and_match_scipy() -> None:
    a, b = [6, 7, 3, 6, 19, 19, 20], [0, 2, 1, 0, 6, 0, 1]
    mw = compute_mann_whitney(a, b)
    assert mw.test == "Mann-Whitney U test"
    assert mw.p_value == pytest.approx(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)
    w = compute_wilcoxon(a, b)
    assert w.test == "Wilcoxon signed-rank test" and w.note == ""
    assert w.p_value == pytest.approx(stats.wilcoxon(a, b).pvalue)
    with_zero = compute_wilcoxon([1, 2, 3, 4], [1, 1, 1, 1])
    assert "1 pair(s) without difference dropped" in with_zero.text()


def test_grim_known_cases() -> None:
    # 164/15 = 10.93 -> "11"; 49/15 = 3.2667 rounds to 3.27 (not 3.26) but truncates to 3.26.
    assert compute_grim("11", 15).rounded
    sledai = compute_grim("3.26", 15)
    assert (sledai.rounded, sledai.truncated) == (False, True)
    assert compute_grim("4.13", 15).rounded and not compute_grim("4.13", 14).consistent
    assert not any(compute_grim("2.39", n).consistent for n in range(8, 16))
    assert compute_grim("2.5", 4, items=2).consistent  # 20 / 8


@settings(max_examples=80)
@given(st.integers(1, 40), st.integers(0, 2000), st.integers(0, 3))
def test_grim_accepts_every_real_mean(n: int, total: int, decimals: int) -> None:
    printed = format_number(total / n, decimals)
    assert compute_grim(printed, n).rounded


def test_results_have_stable_json() -> None:
    result = compute_ttest_from_stats(11, 5.9, 15, 4.13, 3.66, 14, test="welch").as_dict()
    assert result["test"] == "Welch t-test" and result["n"] == [15, 14]
    assert math.isclose(result["p_value"], 0.00090330271, rel_tol=1e-6)
    assert list(compute_proportion(1, 2).summary.columns)[:3] == ["count", "total", "proportion"]


def test_t_tests_without_variance_are_refused_not_warned() -> None:
    with pytest.raises(InputError, match="identical differences"):
        compute_ttest([2.0, 3.0, 4.0], [1.0, 2.0, 3.0], test="paired")
    with pytest.raises(InputError, match="no variance"):
        compute_ttest([1.0, 1.0], [2.0, 2.0], test="student")
