"""Descriptive statistics, named tests and Kaplan-Meier estimates, as result objects.

Every result is a frozen object with ``summary`` (a one-table :class:`pandas.DataFrame`, the way
lifelines presents its fitters), ``as_dict()`` (stable JSON) and a readable text form. The
statistics come from well-kept libraries: exact Clopper-Pearson intervals from statsmodels
(``proportion_confint(method="beta")``) and tests from scipy.stats. Kaplan-Meier estimates
(lifelines) live in :mod:`cletrial.analysis.survival`, so that importing this module stays light.
Every test result carries the name of the test that produced it.

Missing values (``None`` or NaN) are never dropped silently: :func:`compute_distribution` counts
them in ``n_missing`` and the text forms show them.

>>> compute_proportion(12, 14).text()
'12/14 (86%)'
>>> compute_distribution([6, 7, None]).text_mean_sd(1)
'6.5 ± 0.7 (n = 2; 1 missing)'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from cletrial.errors import InputError

__all__ = [
    "Distribution",
    "Proportion",
    "TestResult",
    "compute_distribution",
    "compute_implied_paired_correlation",
    "compute_mann_whitney",
    "compute_paired_ttest_from_stats",
    "compute_proportion",
    "compute_ttest",
    "compute_ttest_from_stats",
    "compute_wilcoxon",
    "format_number",
    "format_p_value",
]

CLOPPER_PEARSON = "Clopper-Pearson exact (statsmodels proportion_confint, method='beta')"


def format_number(value: float, decimals: int) -> str:
    """Round half away from zero (as printed in papers, not Python's half-to-even).

    >>> format_number(12.5, 0), format_number(2.335, 2), round(12.5)
    ('13', '2.34', 12)
    """
    quantum = Decimal(1).scaleb(-decimals)
    return str(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))


def format_p_value(p: float) -> str:
    """Format a P value: three significant digits, ``P < 0.0001`` below 0.0001.

    >>> format_p_value(0.000903), format_p_value(0.3981), format_p_value(2e-7)
    ('P = 0.000903', 'P = 0.398', 'P < 0.0001')
    """
    if p < 1e-4:
        return "P < 0.0001"
    return f"P = {float(f'{p:.3g}')}"


def _frame(record: dict[str, Any], index: str) -> pd.DataFrame:
    return pd.DataFrame([record], index=pd.Index([index]))


@dataclass(frozen=True)
class Proportion:
    """``count`` of ``total`` with an exact (Clopper-Pearson) confidence interval."""

    count: int
    total: int
    proportion: float
    ci_lower: float
    ci_upper: float
    confidence: float
    method: str = CLOPPER_PEARSON

    def text(self, decimals: int = 0, *, ci: bool = False) -> str:
        """``12/14 (86%)``, optionally followed by the interval in percent."""
        out = f"{self.count}/{self.total} ({format_number(100 * self.proportion, decimals)}%)"
        if ci:
            low = format_number(100 * self.ci_lower, decimals)
            high = format_number(100 * self.ci_upper, decimals)
            out += f"; {round(100 * self.confidence)}% CI {low}-{high}%"
        return out

    @property
    def summary(self) -> pd.DataFrame:
        """One-row table: count, total, proportion, interval, method."""
        return _frame(self.as_dict(), "proportion")

    def as_dict(self) -> dict[str, Any]:
        """Stable JSON shape (floats rounded to 6 decimals)."""
        out = asdict(self)
        for key in ("proportion", "ci_lower", "ci_upper"):
            out[key] = round(out[key], 6)
        return out


def compute_proportion(count: int, total: int, *, confidence: float = 0.95) -> Proportion:
    """Proportion ``count/total`` with its exact Clopper-Pearson interval.

    Parameters
    ----------
    count : int
        Number of patients with the outcome, 0 <= count <= total.
    total : int
        Denominator (patients), >= 1.
    confidence : float
        Confidence level, strictly between 0 and 1 (default 0.95).

    Returns
    -------
    Proportion

    Examples
    --------
    >>> p = compute_proportion(12, 15)
    >>> p.text(ci=True)
    '12/15 (80%); 95% CI 52-96%'
    """
    if isinstance(total, bool) or not isinstance(total, int) or total < 1:
        raise InputError("total", total, "must be an integer >= 1")
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= total:
        raise InputError("count", count, f"must be an integer from 0 to total ({total})")
    if not 0 < confidence < 1:
        raise InputError("confidence", confidence, "must be strictly between 0 and 1")
    low, high = proportion_confint(count, total, alpha=1 - confidence, method="beta")
    return Proportion(count, total, count / total, float(low), float(high), confidence)


@dataclass(frozen=True)
class Distribution:
    """Mean, SD (n - 1), SEM, median and range of the non-missing values; counts the missing."""

    n: int
    n_missing: int
    mean: float | None
    sd: float | None
    sem: float | None
    median: float | None
    minimum: float | None
    maximum: float | None

    def _missing(self) -> str:
        return f"; {self.n_missing} missing" if self.n_missing else ""

    def text_mean_sd(self, decimals: int = 1) -> str:
        """``10.9 ± 5.9 (n = 15)``; ``not available`` when there is no value."""
        if self.mean is None:
            return f"not available (n = 0{self._missing()})"
        sd = "n/a" if self.sd is None else format_number(self.sd, decimals)
        return f"{format_number(self.mean, decimals)} ± {sd} (n = {self.n}{self._missing()})"

    def text_median_range(self, decimals: int = 1) -> str:
        """``15 (7-30)`` followed by n and missing count."""
        if self.median is None or self.minimum is None or self.maximum is None:
            return f"not available (n = 0{self._missing()})"
        med, low, high = (
            format_number(v, decimals) for v in (self.median, self.minimum, self.maximum)
        )
        return f"{med} ({low}-{high}) (n = {self.n}{self._missing()})"

    @property
    def summary(self) -> pd.DataFrame:
        """One-row table of the statistics."""
        return _frame(self.as_dict(), "distribution")

    def as_dict(self) -> dict[str, Any]:
        """Stable JSON shape (floats rounded to 6 decimals)."""
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def _is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def compute_distribution(values: Iterable[float | int | None]) -> Distribution:
    """Describe numeric values; ``None``/NaN count as missing, never as zero.

    Parameters
    ----------
    values : iterable of float, int or None
        Observations in one unit (the caller names it).

    Returns
    -------
    Distribution
        SD is the sample SD (n - 1 denominator); SEM = SD / sqrt(n). With one value SD and SEM
        are ``None``.

    Examples
    --------
    >>> d = compute_distribution([15, 12, None, 12, 19])
    >>> (d.n, d.n_missing, d.median, d.minimum, d.maximum)
    (4, 1, 13.5, 12.0, 19.0)
    """
    items = list(values)
    for index, value in enumerate(items):
        if not _is_missing(value) and (
            isinstance(value, bool) or not isinstance(value, int | float)
        ):
            raise InputError(f"values[{index}]", value, "must be a number or missing (None)")
    present: npt.NDArray[np.float64] = np.array(
        [float(v) for v in items if v is not None and not _is_missing(v)], dtype=np.float64
    )
    n = int(present.size)
    if n == 0:
        return Distribution(0, len(items), None, None, None, None, None, None)
    sd = float(np.std(present, ddof=1)) if n > 1 else None
    return Distribution(
        n=n,
        n_missing=len(items) - n,
        mean=float(np.mean(present)),
        sd=sd,
        sem=None if sd is None else sd / math.sqrt(n),
        median=float(np.median(present)),
        minimum=float(np.min(present)),
        maximum=float(np.max(present)),
    )


@dataclass(frozen=True)
class TestResult:
    """A named hypothesis test: statistic, degrees of freedom, two-sided P value, sample sizes."""

    test: str
    statistic_name: str
    statistic: float
    df: float | None
    p_value: float
    n: tuple[int, ...]
    note: str = ""

    def text(self) -> str:
        """``Welch t-test: t = 3.79, df = 23.6, P = 0.000903 (n = 15, 14; note)``."""
        df = f", df = {self.df:.1f}" if self.df is not None else ""
        sizes = ", ".join(str(n) for n in self.n)
        note = f"; {self.note}" if self.note else ""
        return (
            f"{self.test}: {self.statistic_name} = {self.statistic:.3g}{df}, "
            f"{format_p_value(self.p_value)} (n = {sizes}{note})"
        )

    @property
    def summary(self) -> pd.DataFrame:
        """One-row table: test, statistic, df, P."""
        return _frame(self.as_dict(), self.test)

    def as_dict(self) -> dict[str, Any]:
        """Stable JSON shape (statistic and df to 6 decimals, P to 8 significant digits)."""
        return {
            "test": self.test,
            "statistic_name": self.statistic_name,
            "statistic": round(self.statistic, 6),
            "df": None if self.df is None else round(self.df, 6),
            "p_value": float(f"{self.p_value:.8g}"),
            "n": list(self.n),
            "note": self.note,
        }


_T_TESTS = {"student": "Student t-test", "welch": "Welch t-test"}


def _check_n(field: str, n: int, minimum: int = 2) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < minimum:
        raise InputError(field, n, f"must be an integer >= {minimum}")


def compute_ttest_from_stats(
    mean1: float,
    sd1: float,
    n1: int,
    mean2: float,
    sd2: float,
    n2: int,
    *,
    test: Literal["student", "welch"],
) -> TestResult:
    """Two-sample t-test from published means, SDs and sizes (scipy ``ttest_ind_from_stats``).

    Parameters
    ----------
    mean1, sd1, n1, mean2, sd2, n2 : float, float, int
        Group summaries in the same unit; SD > 0, n >= 2.
    test : {"student", "welch"}
        Student (pooled variance) or Welch (unequal variances).

    Returns
    -------
    TestResult
        Two-sided; Welch df by the Welch-Satterthwaite formula.

    Examples
    --------
    >>> r = compute_ttest_from_stats(11, 5.9, 15, 4.13, 3.66, 14, test="welch")
    >>> r.text()
    'Welch t-test: t = 3.79, df = 23.6, P = 0.000903 (n = 15, 14; from summary statistics)'
    """
    if test not in _T_TESTS:
        raise InputError("test", test, "must be 'student' or 'welch'")
    _check_n("n1", n1)
    _check_n("n2", n2)
    for field, sd in (("sd1", sd1), ("sd2", sd2)):
        if not sd > 0:
            raise InputError(field, sd, "must be > 0")
    result = stats.ttest_ind_from_stats(mean1, sd1, n1, mean2, sd2, n2, equal_var=test == "student")
    if test == "student":
        df = float(n1 + n2 - 2)
    else:
        v1, v2 = sd1**2 / n1, sd2**2 / n2
        df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
    return TestResult(
        _T_TESTS[test],
        "t",
        float(result.statistic),
        df,
        float(result.pvalue),
        (n1, n2),
        "from summary statistics",
    )


def compute_paired_ttest_from_stats(
    mean1: float, sd1: float, mean2: float, sd2: float, n: int, correlation: float
) -> TestResult:
    """Paired t-test from two means and SDs of the same ``n`` patients and their correlation.

    The SD of the differences is sqrt(sd1^2 + sd2^2 - 2 r sd1 sd2); the t distribution with
    n - 1 degrees of freedom comes from scipy.

    Examples
    --------
    >>> compute_paired_ttest_from_stats(3.08, 3.15, 2.39, 2.96, 13, 0.5).text()
    'Paired t-test: t = 0.813, df = 12.0, P = 0.432 (n = 13; from summary statistics, r = 0.5)'
    """
    _check_n("n", n)
    if not -1 <= correlation <= 1:
        raise InputError("correlation", correlation, "must be between -1 and 1")
    variance = sd1**2 + sd2**2 - 2 * correlation * sd1 * sd2
    if variance <= 0:
        raise InputError("correlation", correlation, "leaves no variance of the differences")
    t = (mean1 - mean2) / math.sqrt(variance / n)
    p = float(2 * stats.t.sf(abs(t), n - 1))
    return TestResult(
        "Paired t-test",
        "t",
        t,
        float(n - 1),
        p,
        (n,),
        f"from summary statistics, r = {correlation}",
    )


def compute_implied_paired_correlation(
    mean1: float, sd1: float, mean2: float, sd2: float, n: int, p_value: float
) -> float | None:
    """Correlation between paired measurements that a paired t-test needs to give ``p_value``.

    Returns ``None`` when no correlation in [-1, 1] gives that P value.

    Examples
    --------
    >>> round(compute_implied_paired_correlation(3.08, 3.15, 2.39, 2.96, 13, 0.398), 2)
    0.57
    """
    _check_n("n", n)
    if not 0 < p_value < 1:
        raise InputError("p_value", p_value, "must be strictly between 0 and 1")
    t = float(stats.t.isf(p_value / 2, n - 1))
    sd_diff = abs(mean1 - mean2) * math.sqrt(n) / t
    r = (sd1**2 + sd2**2 - sd_diff**2) / (2 * sd1 * sd2)
    return r if -1 <= r <= 1 else None


def _clean(field: str, values: Sequence[float]) -> npt.NDArray[np.float64]:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or np.isnan(array).any():
        raise InputError(field, list(values), "must be a list of numbers without missing values")
    return array


def compute_ttest(
    a: Sequence[float], b: Sequence[float], *, test: Literal["student", "welch", "paired"]
) -> TestResult:
    """Student, Welch or paired t-test on patient-level values (scipy.stats).

    Examples
    --------
    >>> compute_ttest([6, 7, 3, 6], [0, 2, 1, 0], test="paired").test
    'Paired t-test'
    """
    x, y = _clean("a", a), _clean("b", b)
    _check_n("len(a)", int(x.size))
    _check_n("len(b)", int(y.size))
    if test == "paired":
        if x.size == y.size and float(np.ptp(x - y)) == 0.0:
            raise InputError(
                "b",
                list(b),
                "gives identical differences: the paired t-test is undefined (no variance)",
            )
        if x.size != y.size:
            raise InputError(
                "b", list(b), f"must have as many values as a ({x.size}) for a paired test"
            )
        result = stats.ttest_rel(x, y)
        return TestResult(
            "Paired t-test",
            "t",
            float(result.statistic),
            float(x.size - 1),
            float(result.pvalue),
            (int(x.size),),
        )
    if test not in _T_TESTS:
        raise InputError("test", test, "must be 'student', 'welch' or 'paired'")
    if float(np.ptp(x)) == 0.0 and float(np.ptp(y)) == 0.0:
        raise InputError("b", list(b), "and a have no variance: the t-test is undefined")
    result = stats.ttest_ind(x, y, equal_var=test == "student")
    return TestResult(
        _T_TESTS[test],
        "t",
        float(result.statistic),
        float(result.df),
        float(result.pvalue),
        (int(x.size), int(y.size)),
    )


def compute_mann_whitney(a: Sequence[float], b: Sequence[float]) -> TestResult:
    """Mann-Whitney U test, two-sided (scipy ``mannwhitneyu``, method chosen by scipy).

    Examples
    --------
    >>> compute_mann_whitney([1, 2, 3], [4, 5, 6]).p_value
    0.1
    """
    x, y = _clean("a", a), _clean("b", b)
    _check_n("len(a)", int(x.size), 1)
    _check_n("len(b)", int(y.size), 1)
    result = stats.mannwhitneyu(x, y, alternative="two-sided")
    return TestResult(
        "Mann-Whitney U test",
        "U",
        float(result.statistic),
        None,
        float(result.pvalue),
        (int(x.size), int(y.size)),
    )


def compute_wilcoxon(a: Sequence[float], b: Sequence[float]) -> TestResult:
    """Wilcoxon signed-rank test of paired values, two-sided (scipy ``wilcoxon``).

    Pairs with no difference are dropped (``zero_method="wilcox"``) and the note says how many.

    Examples
    --------
    >>> compute_wilcoxon([6, 7, 3, 6, 19], [0, 2, 1, 0, 6]).p_value
    0.0625
    """
    x, y = _clean("a", a), _clean("b", b)
    if x.size != y.size:
        raise InputError(
            "b", list(b), f"must have as many values as a ({x.size}) for a paired test"
        )
    zeros = int(np.count_nonzero(x == y))
    _check_n("non-zero differences", int(x.size) - zeros, 1)
    method = "exact" if zeros == 0 and x.size <= 50 else "approx"
    result = stats.wilcoxon(x, y, zero_method="wilcox", method=method)
    note = f"{zeros} pair(s) without difference dropped" if zeros else ""
    return TestResult(
        "Wilcoxon signed-rank test",
        "W",
        float(result.statistic),
        None,
        float(result.pvalue),
        (int(x.size),),
        note,
    )
