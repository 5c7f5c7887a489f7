"""Pooled evidence: random-effects meta-analysis of single proportions (pure).

Each series contributes ``x`` events (complete responses, or responders) out of ``n`` patients.
Proportions near 0 or 1 from small series are pooled on the Freeman-Tukey double-arcsine scale
(Freeman & Tukey 1950), defined with the factor 1/2 used by metafor's ``escalc(measure="PFT")``::

    y = (asin(sqrt(x / (n + 1))) + asin(sqrt((x + 1) / (n + 1)))) / 2,    var(y) = 1 / (4n + 2)

which is finite for ``x = 0`` and ``x = n``, so no continuity correction is needed. The
transformed values are combined by statsmodels' ``combine_effects`` with the DerSimonian-Laird
moment estimate of the between-series variance tau². statsmodels does not truncate that estimate
at zero (a negative tau² would give the random-effects weights ``1/(v - |tau²|)``); here a
negative estimate is set to 0, so the random-effects result equals the fixed-effect one, and the
untruncated value is kept in ``tau2_untruncated``. The pooled value and its Wald interval are
back-transformed with Miller's (1978) inverse at the harmonic mean of the series sizes (as
metafor's ``transf.ipft.hm``). Per-series intervals are exact (Clopper-Pearson,
:func:`cletrial.analysis.statistics.compute_proportion`). Heterogeneity: Cochran's Q with its
chi-squared P value, and I² = max(0, (Q - df) / Q) (Higgins & Thompson 2002).

>>> pooled = derive_pooled_proportion([12, 5], [15, 9])
>>> round(pooled.estimate, 3), pooled.tau2 >= 0, pooled.k
(0.707, True, 2)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects

from cletrial.analysis.evidence_data import (
    OUTCOMES,
    POPULATIONS,
    Outcome,
    Population,
    Series,
    load_published_series,
)
from cletrial.analysis.freeman_tukey import (
    compute_freeman_tukey,
    compute_harmonic_mean,
    compute_inverse_freeman_tukey,
)
from cletrial.analysis.statistics import Proportion, compute_proportion
from cletrial.errors import InputError

__all__ = [
    "METHOD",
    "EvidenceSummary",
    "PooledProportion",
    "RandomEffects",
    "StudyEstimate",
    "compute_evidence_summary",
    "compute_freeman_tukey",
    "compute_harmonic_mean",
    "compute_inverse_freeman_tukey",
    "derive_pooled_proportion",
    "derive_random_effects",
]

METHOD: Final = (
    "random effects, DerSimonian-Laird tau² truncated at 0 (statsmodels combine_effects); "
    "Freeman-Tukey double arcsine, back-transformed at the harmonic mean n (Miller 1978); "
    "Wald interval on the transformed scale; exact Clopper-Pearson intervals per series"
)


@dataclass(frozen=True)
class StudyEstimate:
    """One series in a pooled analysis: its exact proportion, transform and weights (0-1)."""

    study: str
    label: str
    proportion: Proportion
    ft: float
    ft_variance: float
    weight_fixed: float
    weight_random: float

    def as_dict(self) -> dict[str, Any]:
        """Stable JSON shape."""
        return {
            "study": self.study,
            "label": self.label,
            "events": self.proportion.count,
            "n": self.proportion.total,
            "proportion": round(self.proportion.proportion, 6),
            "ci_low": round(self.proportion.ci_lower, 6),
            "ci_high": round(self.proportion.ci_upper, 6),
            "ci_method": self.proportion.method,
            "ft": round(self.ft, 6),
            "ft_variance": round(self.ft_variance, 6),
            "weight_fixed": round(self.weight_fixed, 6),
            "weight_random": round(self.weight_random, 6),
        }


@dataclass(frozen=True)
class PooledProportion:
    """Pooled proportion (random effects) with heterogeneity, and the fixed-effect result."""

    outcome: str
    k: int
    estimate: float
    ci_low: float
    ci_high: float
    fixed_estimate: float
    fixed_ci_low: float
    fixed_ci_high: float
    tau2: float
    tau2_untruncated: float
    i2: float
    q: float
    q_df: int
    q_p_value: float
    harmonic_mean_n: float
    confidence: float
    studies: tuple[StudyEstimate, ...]
    method: str = METHOD

    def text(self) -> str:
        """One line: estimate, interval, tau², I², Q.

        >>> derive_pooled_proportion([3, 6, 10, 1], [11, 17, 21, 6]).text()
        '36% (95% CI 23-50%); tau² = 0, I² = 0%, Q = 2.18 (df 3, P = 0.537)'
        """
        level = round(100 * self.confidence)
        return (
            f"{100 * self.estimate:.0f}% ({level}% CI {100 * self.ci_low:.0f}-"
            f"{100 * self.ci_high:.0f}%); tau² = {self.tau2:.3g}, I² = {100 * self.i2:.0f}%, "
            f"Q = {self.q:.3g} (df {self.q_df}, P = {self.q_p_value:.3g})"
        )

    def as_dict(self) -> dict[str, Any]:
        """Stable JSON shape (floats rounded to 6 decimals)."""
        out: dict[str, Any] = {"outcome": self.outcome, "k": self.k}
        for key in (
            "estimate",
            "ci_low",
            "ci_high",
            "fixed_estimate",
            "fixed_ci_low",
            "fixed_ci_high",
            "tau2",
            "tau2_untruncated",
            "i2",
            "q",
        ):
            out[key] = round(float(getattr(self, key)), 6)
        out["q_df"] = self.q_df
        out["q_p_value"] = round(self.q_p_value, 6)
        out["harmonic_mean_n"] = round(self.harmonic_mean_n, 6)
        out["confidence"] = self.confidence
        out["method"] = self.method
        out["studies"] = [study.as_dict() for study in self.studies]
        return out


@dataclass(frozen=True)
class RandomEffects:
    """Inverse-variance pooling of effects: fixed effect and DerSimonian-Laird random effects.

    ``tau2`` is the DerSimonian-Laird estimate truncated at 0; ``tau2_untruncated`` is the value
    statsmodels returns. Weights are relative (they sum to 1).
    """

    mean: float
    se: float
    fixed_mean: float
    fixed_se: float
    tau2: float
    tau2_untruncated: float
    q: float
    q_df: int
    q_p_value: float
    i2: float
    weights_fixed: tuple[float, ...]
    weights_random: tuple[float, ...]


def derive_random_effects(effects: Sequence[float], variances: Sequence[float]) -> RandomEffects:
    """DerSimonian-Laird random-effects pooling (statsmodels ``combine_effects``), tau² >= 0.

    Parameters
    ----------
    effects : sequence of float
        One effect per study (e.g. Freeman-Tukey transformed proportions, log odds ratios).
    variances : sequence of float
        Their sampling variances, > 0; at least two studies.

    Returns
    -------
    RandomEffects

    Examples
    --------
    Two identical studies: Q = 0, the raw moment estimate is negative, tau² is 0.

    >>> re = derive_random_effects([0.5, 0.5], [0.01, 0.02])
    >>> re.tau2, re.tau2_untruncated < 0, re.i2, round(re.mean, 6) == round(re.fixed_mean, 6)
    (0.0, True, 0.0, True)
    """
    y = np.asarray(effects, dtype=float)
    v = np.asarray(variances, dtype=float)
    if y.shape != v.shape or y.ndim != 1 or len(y) < 2:
        raise InputError("effects", list(effects), "must pair with variances, two or more studies")
    if not np.all(np.isfinite(y)) or not np.all(np.isfinite(v)) or np.any(v <= 0):
        raise InputError("variances", list(variances), "must be finite and > 0 (effects finite)")
    with np.errstate(divide="ignore", invalid="ignore"):  # statsmodels' own I² when Q = 0
        res = combine_effects(y, v, method_re="dl")
    tau2_raw = float(res.tau2)
    tau2 = max(tau2_raw, 0.0)
    weights = 1.0 / (v + tau2)
    q, df = float(res.q), len(y) - 1
    return RandomEffects(
        mean=float(np.sum(weights * y) / np.sum(weights)),
        se=float(math.sqrt(1.0 / np.sum(weights))),
        fixed_mean=float(res.mean_effect_fe),
        fixed_se=float(res.sd_eff_w_fe),
        tau2=tau2,
        tau2_untruncated=tau2_raw,
        q=q,
        q_df=df,
        q_p_value=float(stats.chi2.sf(q, df)),
        i2=max(0.0, (q - df) / q) if q > 0 else 0.0,
        weights_fixed=tuple(float(w) for w in res.weights_rel_fe),
        weights_random=tuple(float(w) for w in weights / np.sum(weights)),
    )


def _interval(mean: float, se: float, z: float, n_hm: float) -> tuple[float, float, float]:
    return (
        compute_inverse_freeman_tukey(mean, n_hm),
        compute_inverse_freeman_tukey(mean - z * se, n_hm),
        compute_inverse_freeman_tukey(mean + z * se, n_hm),
    )


def _names(studies: Sequence[tuple[str, str]] | None, k: int) -> list[tuple[str, str]]:
    names = list(studies) if studies is not None else [(f"study{i}", f"Study {i}")
                                                       for i in range(1, k + 1)]  # fmt: skip
    if len(names) != k:
        raise InputError("studies", names, f"must name each of the {k} series")
    return names


def derive_pooled_proportion(
    events: Sequence[int],
    totals: Sequence[int],
    *,
    studies: Sequence[tuple[str, str]] | None = None,
    outcome: str = "proportion",
    confidence: float = 0.95,
) -> PooledProportion:
    """Random-effects (DerSimonian-Laird) pooled proportion on the Freeman-Tukey scale.

    Parameters
    ----------
    events, totals : sequence of int
        Events and patients per series (at least two series).
    studies : sequence of (id, label), optional
        Names of the series, in the same order (default ``study1``, ``study2``, ...).
    outcome : str
        Name of the outcome, carried into the result.
    confidence : float
        Level of every interval, strictly between 0 and 1.

    Returns
    -------
    PooledProportion

    Examples
    --------
    Miller (1978): the fixed-effect back-transformed estimate metafor documents is 0.3595.

    >>> pooled = derive_pooled_proportion([3, 6, 10, 1], [11, 17, 21, 6])
    >>> round(pooled.fixed_estimate, 4), pooled.tau2, pooled.tau2_untruncated < 0
    (0.3595, 0.0, True)
    """
    if len(events) != len(totals) or len(events) < 2:
        raise InputError("events", list(events), "must pair with totals, for two or more series")
    if not 0 < confidence < 1:
        raise InputError("confidence", confidence, "must be strictly between 0 and 1")
    names = _names(studies, len(events))
    transformed = [compute_freeman_tukey(x, n) for x, n in zip(events, totals, strict=True)]
    re = derive_random_effects([t[0] for t in transformed], [t[1] for t in transformed])
    z = float(stats.norm.isf((1 - confidence) / 2))
    n_hm = compute_harmonic_mean(list(totals))
    estimate, low, high = _interval(re.mean, re.se, z, n_hm)
    fixed, fixed_low, fixed_high = _interval(re.fixed_mean, re.fixed_se, z, n_hm)
    estimates = tuple(
        StudyEstimate(
            study=sid,
            label=label,
            proportion=compute_proportion(int(x), int(n), confidence=confidence),
            ft=transformed[i][0],
            ft_variance=transformed[i][1],
            weight_fixed=re.weights_fixed[i],
            weight_random=re.weights_random[i],
        )
        for i, ((sid, label), x, n) in enumerate(zip(names, events, totals, strict=True))
    )
    return PooledProportion(
        outcome=outcome,
        k=len(events),
        estimate=estimate,
        ci_low=low,
        ci_high=high,
        fixed_estimate=fixed,
        fixed_ci_low=fixed_low,
        fixed_ci_high=fixed_high,
        tau2=re.tau2,
        tau2_untruncated=re.tau2_untruncated,
        i2=re.i2,
        q=re.q,
        q_df=re.q_df,
        q_p_value=re.q_p_value,
        harmonic_mean_n=n_hm,
        confidence=confidence,
        studies=estimates,
    )


@dataclass(frozen=True)
class EvidenceSummary:
    """The published series and, per outcome, their pooled proportion."""

    population: str
    series: tuple[Series, ...]
    pooled: dict[str, PooledProportion]
    left_out: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The ``cletrial evidence --json`` shape: ``series`` and ``pooled`` per outcome."""
        series = []
        for s in self.series:
            series.append(
                {
                    "study": s.id,
                    "label": s.label,
                    "design": s.design,
                    "n": s.denominator(self.population),  # type: ignore[arg-type]
                    "n_treated": s.n_treated,
                    "n_evaluable": s.n_evaluable,
                    "cr": s.complete_responses,
                    "partial": s.partial_responses,
                    "responders": s.responders,
                    "relapses": s.relapses,
                    "citation": s.citation.text(),
                    "doi": s.citation.doi,
                    "pmid": s.citation.pmid,
                    "definitions": dict(s.definitions),
                    "provenance": dict(s.provenance),
                }
            )
        return {
            "population": self.population,
            "series": series,
            "pooled": {name: pooled.as_dict() for name, pooled in self.pooled.items()},
            "left_out": {name: list(ids) for name, ids in self.left_out.items()},
        }


def compute_evidence_summary(
    series: Sequence[Series] | None = None,
    *,
    population: Population = "treated",
    outcomes: Sequence[Outcome] = OUTCOMES,
    confidence: float = 0.95,
) -> EvidenceSummary:
    """Pool complete responses and responses over the published series.

    Parameters
    ----------
    series : sequence of Series, optional
        Default: :func:`~cletrial.analysis.evidence_data.load_published_series`.
    population : {"treated", "evaluable"}
        Denominator: every patient who received lenalidomide (default; a patient who stopped
        early counts as not responding) or only the patients the authors assessed.
    outcomes : sequence of {"cr", "response"}
        Outcomes to pool; a series that does not report an outcome is left out of that pool
        and listed in ``left_out``.
    confidence : float
        Level of every interval.

    Returns
    -------
    EvidenceSummary

    Examples
    --------
    >>> summary = compute_evidence_summary()
    >>> sorted(summary.pooled), summary.pooled["cr"].k
    (['cr', 'response'], 4)
    """
    chosen = tuple(series) if series is not None else load_published_series()
    if population not in POPULATIONS:
        raise InputError("population", population, f"must be one of {', '.join(POPULATIONS)}")
    pooled: dict[str, PooledProportion] = {}
    left_out: dict[str, tuple[str, ...]] = {}
    for outcome in outcomes:
        if outcome not in OUTCOMES:
            raise InputError("outcome", outcome, f"must be one of {', '.join(OUTCOMES)}")
        usable = [s for s in chosen if s.events(outcome) is not None]
        left_out[outcome] = tuple(s.id for s in chosen if s.events(outcome) is None)
        pooled[outcome] = derive_pooled_proportion(
            [int(s.events(outcome) or 0) for s in usable],
            [s.denominator(population) for s in usable],
            studies=[(s.id, s.label) for s in usable],
            outcome=outcome,
            confidence=confidence,
        )
    return EvidenceSummary(population=population, series=chosen, pooled=pooled, left_out=left_out)
