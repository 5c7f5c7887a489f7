"""Bayesian monitoring of a response rate: beta-binomial posterior probabilities and the
predictive probability of success at an interim analysis.

Each arm's response rate has a Beta(a, b) prior; after x responses in n patients the posterior
is Beta(a + x, b + n - x). The posterior probability that the experimental rate beats control,
P(p_t > p_c | data), is computed in closed form when the experimental posterior's first
parameter is a whole number (Cook 2005; the sum below), otherwise by numerical integration. The
predictive probability of success (Lee and Liu 2008) averages, over the beta-binomial
distribution of the responses still to come, the indicator that the final analysis succeeds
(posterior probability at or above the success threshold).

>>> round(probability_superior(1, 1, 0, 0), 6)  # Beta(2, 1) against Beta(1, 1): 2/3
0.666667
>>> round(probability_above(16, 23, 0.6, prior_a=0.6, prior_b=0.4), 3)
0.836
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import integrate, special, stats

from cletrial.errors import DesignError

__all__ = [
    "Interim",
    "predictive_probability",
    "predictive_probability_single",
    "probability_above",
    "probability_superior",
]

Array = NDArray[np.float64]


def _check_counts(field: str, x: int, n: int) -> None:
    if n < 0 or not 0 <= x <= n:
        raise DesignError(field, f"{x}/{n}", "must be responses/patients with 0 <= x <= n")


def _check_prior(a: float, b: float) -> None:
    for name, v in (("prior_a", a), ("prior_b", b)):
        if not (v > 0 and math.isfinite(v)):
            raise DesignError(name, v, "must be a positive number")


def _superior(at: float, bt: float, ac: Array, bc: Array) -> Array:
    """P(X > Y) for X ~ Beta(at, bt) and Y ~ Beta(ac, bc), vectorised over (ac, bc)."""
    if float(at).is_integer() and at <= 10_000:
        i = np.arange(int(at), dtype=float)[:, None]
        log_terms = (
            special.betaln(ac + i, bc + bt)
            - np.log(bt + i)
            - special.betaln(1.0 + i, bt)
            - special.betaln(ac, bc)
        )
        return np.asarray(np.exp(special.logsumexp(log_terms, axis=0)), dtype=float)
    out = [_superior_quad(at, bt, a, b) for a, b in zip(np.ravel(ac), np.ravel(bc), strict=True)]
    return np.asarray(out, dtype=float).reshape(np.shape(ac))


def _superior_quad(at: float, bt: float, ac: float, bc: float) -> float:
    def integrand(p: float) -> float:
        return float(stats.beta.pdf(p, at, bt) * stats.beta.cdf(p, ac, bc))

    return float(integrate.quad(integrand, 0.0, 1.0, limit=200)[0])


def probability_superior(
    x_t: int, n_t: int, x_c: int, n_c: int, prior_a: float = 1.0, prior_b: float = 1.0
) -> float:
    """Posterior probability P(p_t > p_c | data), the same Beta prior on each arm.

    Parameters
    ----------
    x_t, n_t : int
        Responses and patients on the experimental arm.
    x_c, n_c : int
        Responses and patients on control.
    prior_a, prior_b : float
        Beta prior parameters.

    Examples
    --------
    >>> round(probability_superior(1, 1, 0, 1), 6)  # Beta(2, 1) against Beta(1, 2): 5/6
    0.833333
    >>> round(probability_superior(11, 15, 2, 15), 4)
    0.9995
    """
    _check_counts("treatment", x_t, n_t)
    _check_counts("control", x_c, n_c)
    _check_prior(prior_a, prior_b)
    at, bt = prior_a + x_t, prior_b + n_t - x_t
    ac, bc = np.array([prior_a + x_c]), np.array([prior_b + n_c - x_c])
    return float(np.clip(_superior(at, bt, ac, bc)[0], 0.0, 1.0))


def probability_above(
    x: int, n: int, threshold: float, prior_a: float = 1.0, prior_b: float = 1.0
) -> float:
    """Posterior probability that a single arm's rate exceeds ``threshold``.

    Examples
    --------
    >>> round(probability_above(0, 0, 0.3), 6)  # uniform prior: 1 - 0.3
    0.7
    """
    _check_counts("arm", x, n)
    _check_prior(prior_a, prior_b)
    if not 0.0 < threshold < 1.0:
        raise DesignError("threshold", threshold, "must be a rate between 0 and 1")
    return float(stats.beta.sf(threshold, prior_a + x, prior_b + n - x))


@dataclass(frozen=True, slots=True)
class Interim:
    """Interim data of both arms and the final sizes they will reach."""

    x_t: int
    n_t: int
    x_c: int
    n_c: int
    final_n_t: int
    final_n_c: int

    def check(self) -> None:
        """Raise DesignError naming a count that is impossible."""
        _check_counts("treatment", self.x_t, self.n_t)
        _check_counts("control", self.x_c, self.n_c)
        if self.final_n_t < self.n_t:
            raise DesignError("final_n_t", self.final_n_t, f"must be at least n_t ({self.n_t})")
        if self.final_n_c < self.n_c:
            raise DesignError("final_n_c", self.final_n_c, f"must be at least n_c ({self.n_c})")


def _future(x: int, n: int, m: int, a: float, b: float) -> Array:
    """Beta-binomial probabilities of 0..m responses among m further patients."""
    return np.asarray(stats.betabinom.pmf(np.arange(m + 1), m, a + x, b + n - x), dtype=float)


def predictive_probability(
    interim: Interim, success_threshold: float = 0.975, prior_a: float = 1.0,
    prior_b: float = 1.0,
) -> float:  # fmt: skip
    """Predictive probability that the final analysis finds P(p_t > p_c) >= threshold.

    Examples
    --------
    >>> pp = predictive_probability(Interim(6, 8, 1, 8, 16, 16))
    >>> bool(0.5 < pp < 1.0)
    True
    """
    interim.check()
    _check_prior(prior_a, prior_b)
    m_t, m_c = interim.final_n_t - interim.n_t, interim.final_n_c - interim.n_c
    w_t = _future(interim.x_t, interim.n_t, m_t, prior_a, prior_b)
    w_c = _future(interim.x_c, interim.n_c, m_c, prior_a, prior_b)
    y_c = np.arange(m_c + 1, dtype=float)
    ac = prior_a + interim.x_c + y_c
    bc = prior_b + interim.final_n_c - interim.x_c - y_c
    total = 0.0
    for y_t in range(m_t + 1):
        at = prior_a + interim.x_t + y_t
        bt = prior_b + interim.final_n_t - interim.x_t - y_t
        success = _superior(at, bt, ac, bc) >= success_threshold
        total += w_t[y_t] * float(np.sum(w_c[success]))
    return min(max(total, 0.0), 1.0)


def predictive_probability_single(
    x: int, n: int, final_n: int, threshold: float, success_threshold: float,
    prior_a: float = 1.0, prior_b: float = 1.0,
) -> float:  # fmt: skip
    """Predictive probability that a single arm ends with P(p > threshold) >= success_threshold
    (Lee and Liu 2008).

    Examples
    --------
    >>> round(predictive_probability_single(16, 23, 40, 0.6, 0.9, 0.6, 0.4), 4)
    0.5656
    """
    _check_counts("arm", x, n)
    _check_prior(prior_a, prior_b)
    if final_n < n:
        raise DesignError("final_n", final_n, f"must be at least n ({n})")
    y = np.arange(final_n - n + 1)
    final = stats.beta.sf(threshold, prior_a + x + y, prior_b + final_n - x - y)
    weight = _future(x, n, final_n - n, prior_a, prior_b)
    return float(np.sum(weight[final >= success_threshold]))
