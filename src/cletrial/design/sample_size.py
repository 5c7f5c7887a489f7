"""Sample sizes: two proportions (normal approximation with and without continuity correction,
and Fisher's exact test) and time to event (Schoenfeld's events, converted to patients).

All tests are one-sided at ``alpha`` (the experimental arm better: a higher response rate, a
hazard ratio below 1); ``ratio`` is patients on the experimental arm per patient on control.

* Normal approximation (Fleiss 1981, eq. 3.14, pooled variance under the null; or Chow, Shao
  and Wang 2008, section 4.2, unpooled variance)::

      n_c = [z_a sqrt(pbar qbar (1 + 1/k)) + z_b sqrt(p_c q_c + p_t q_t / k)]^2 / delta^2

* Continuity correction (Fleiss, Tytun and Ury 1980)::

      n_c' = n_c / 4 * [1 + sqrt(1 + 2 (k + 1) / (k n_c |delta|))]^2

* Exact: the smallest n per arm (searched upwards from 0.8 times the normal approximation) at
  which the one-sided Fisher exact test (conditional, hypergeometric) has the power, computed
  exactly over all outcomes (no simulation).
* Time to event (Schoenfeld 1983): events D = (z_a + z_b)^2 / (pi (1 - pi) ln(HR)^2), with pi
  the experimental share; patients N = D / P(event), P(event) for exponential event and drop-out
  times, uniform accrual over A weeks and F weeks of further follow-up.

>>> size = n_two_proportions(0.5, 0.75, alpha=0.025, power=0.9)
>>> size.n_control, size.n_treatment
(77, 77)
>>> math.ceil(events_schoenfeld(0.7, alpha=0.025, power=0.9))
331
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import special, stats

from cletrial.errors import DesignError

__all__ = [
    "BinarySize",
    "EventSize",
    "events_schoenfeld",
    "n_time_to_event",
    "n_two_proportions",
    "power_fisher_exact",
    "power_schoenfeld",
    "power_two_proportions",
    "probability_of_event",
]

Method = Literal["normal", "normal_cc", "exact"]
Variance = Literal["pooled", "unpooled"]
Array = NDArray[np.float64]
METHODS: Final = ("normal", "normal_cc", "exact")
#: Largest n per arm the exact search goes to (its cost grows as n squared per step).
EXACT_MAX_N: Final = 1500


@dataclass(frozen=True, slots=True)
class BinarySize:
    """Patients for a comparison of two proportions: ``n_control``/``n_treatment`` are the
    evaluable patients the test needs; ``enrolled_*`` add the drop-outs (n / (1 - dropout));
    ``power`` is the power at the integer sizes by the method's own power function; ``n_raw``
    the unrounded control-arm size of the formula (the exact method: the integer found)."""

    method: Method
    p_control: float
    p_treatment: float
    alpha: float
    target_power: float
    ratio: float
    n_control: int
    n_treatment: int
    power: float
    dropout: float
    enrolled_control: int
    enrolled_treatment: int
    n_raw: float

    @property
    def n_total(self) -> int:
        """Evaluable patients in both arms."""
        return self.n_control + self.n_treatment

    @property
    def enrolled_total(self) -> int:
        """Patients to enrol in both arms."""
        return self.enrolled_control + self.enrolled_treatment


@dataclass(frozen=True, slots=True)
class EventSize:
    """Events and patients for a log-rank comparison (Schoenfeld)."""

    hazard_ratio: float
    alpha: float
    target_power: float
    ratio: float
    events_exact: float
    events: int
    p_event_control: float
    p_event_treatment: float
    n_control: int
    n_treatment: int

    @property
    def n_total(self) -> int:
        """Patients in both arms."""
        return self.n_control + self.n_treatment


def _check_common(alpha: float, power: float, ratio: float) -> None:
    if not 0.0 < alpha < 0.5:
        raise DesignError("alpha", alpha, "must be between 0 and 0.5 (one-sided)")
    if not alpha < power < 1.0:
        raise DesignError("power", power, f"must be between alpha ({alpha:g}) and 1")
    if not 0.0 < ratio <= 100.0:
        raise DesignError("ratio", ratio, "must be more than 0 and at most 100")


def _check_rates(p_control: float, p_treatment: float) -> None:
    for name, p in (("control_rate", p_control), ("treatment_rate", p_treatment)):
        if not 0.0 < p < 1.0:
            raise DesignError(name, p, "must be a proportion between 0 and 1")
    if p_control == p_treatment:
        raise DesignError("treatment_rate", p_treatment, "must differ from the control rate")


def _terms(p_c: float, p_t: float, k: float) -> tuple[float, float]:
    """(sd under the null, sd under the alternative) of one control patient's contribution."""
    pbar = (p_c + k * p_t) / (1.0 + k)
    null = math.sqrt(pbar * (1.0 - pbar) * (1.0 + 1.0 / k))
    alt = math.sqrt(p_c * (1.0 - p_c) + p_t * (1.0 - p_t) / k)
    return null, alt


def _n_normal(p_c: float, p_t: float, alpha: float, power: float, k: float,
              variance: Variance, corrected: bool) -> float:  # fmt: skip
    za, zb = float(stats.norm.isf(alpha)), float(stats.norm.isf(1.0 - power))
    null, alt = _terms(p_c, p_t, k)
    if variance == "unpooled":
        null = alt
    delta = abs(p_t - p_c)
    n = ((za * null + zb * alt) / delta) ** 2
    if corrected:
        n = n / 4.0 * (1.0 + math.sqrt(1.0 + 2.0 * (k + 1.0) / (k * n * delta))) ** 2
    return n


def power_two_proportions(
    n_control: int, n_treatment: int, p_control: float, p_treatment: float,
    alpha: float = 0.025, method: Method = "normal", variance: Variance = "pooled",
) -> float:  # fmt: skip
    """Power of the one-sided comparison of two proportions with these group sizes.

    ``method``: ``normal`` (z test), ``normal_cc`` (with Yates' continuity correction) or
    ``exact`` (Fisher's exact test, computed exactly).

    Examples
    --------
    >>> round(power_two_proportions(50, 50, 0.5, 0.75, alpha=0.025), 4)
    0.7402
    >>> round(power_two_proportions(20, 20, 0.1, 0.6, method="exact"), 3)
    0.908
    """
    _check_rates(p_control, p_treatment)
    if method == "exact":
        return power_fisher_exact(n_control, n_treatment, p_control, p_treatment, alpha)
    k = n_treatment / n_control
    null, alt = _terms(p_control, p_treatment, k)
    if variance == "unpooled":
        null = alt
    delta = abs(p_treatment - p_control)
    if method == "normal_cc":
        delta = max(delta - 0.5 * (1.0 / n_control + 1.0 / n_treatment), 0.0)
    z = (delta * math.sqrt(n_control) - float(stats.norm.isf(alpha)) * null) / alt
    return float(stats.norm.cdf(z))


def power_fisher_exact(
    n_control: int, n_treatment: int, p_control: float, p_treatment: float, alpha: float = 0.025
) -> float:
    """Exact power of the one-sided Fisher exact test (reject when the hypergeometric p-value
    of the treatment successes given the total is at most ``alpha``).

    Examples
    --------
    >>> round(power_fisher_exact(10, 10, 0.1, 0.8), 4)
    0.8413
    """
    better = p_treatment > p_control
    p_c, p_t = (p_control, p_treatment) if better else (1.0 - p_control, 1.0 - p_treatment)
    total = n_control + n_treatment
    log_fact = special.gammaln(np.arange(total + 2, dtype=float) + 1.0)  # ln k!

    def log_choose(n: int, k: Array) -> Array:
        return np.asarray(log_fact[n] - log_fact[k] - log_fact[n - k], dtype=float)

    x_all = np.arange(total + 1)
    log_t = log_choose(n_treatment, np.minimum(x_all, n_treatment))
    log_c = log_choose(n_control, np.minimum(x_all, n_control))
    power = 0.0
    for s in range(total + 1):  # condition on the total responses s
        x = np.arange(max(0, s - n_control), min(s, n_treatment) + 1)
        tables = log_t[x] + log_c[s - x]
        null = np.exp(tables - log_choose(total, np.array([s]))[0])
        p_value = np.cumsum(null[::-1])[::-1]  # P(X_t >= x | s) under the null
        reject = x[p_value <= alpha * (1.0 + 1e-12)]
        if reject.size:
            log_alt = (reject * math.log(p_t) + (n_treatment - reject) * math.log(1.0 - p_t)
                       + (s - reject) * math.log(p_c)
                       + (n_control - s + reject) * math.log(1.0 - p_c))  # fmt: skip
            power += float(np.sum(np.exp(log_t[reject] + log_c[s - reject] + log_alt)))
    return power


def _exact_n(p_c: float, p_t: float, alpha: float, power: float, k: float, start: float) -> int:
    n = max(2, math.floor(0.8 * start))
    while n <= EXACT_MAX_N:
        if power_fisher_exact(n, math.ceil(k * n), p_c, p_t, alpha) >= power:
            return n
        n += 1
    raise DesignError(
        "method", "exact", f"needs more than {EXACT_MAX_N} patients per arm; use normal_cc"
    )


def n_two_proportions(
    p_control: float, p_treatment: float, alpha: float = 0.025, power: float = 0.9,
    ratio: float = 1.0, method: Method = "normal", variance: Variance = "pooled",
    dropout: float = 0.0,
) -> BinarySize:  # fmt: skip
    """Patients per arm to compare two proportions with a one-sided test.

    Parameters
    ----------
    p_control, p_treatment : float
        Response rates assumed on control and on the experimental arm.
    alpha : float
        One-sided type I error.
    power : float
        Power at the assumed rates.
    ratio : float
        Experimental patients per control patient.
    method : {"normal", "normal_cc", "exact"}
        Normal approximation, with continuity correction, or Fisher's exact test.
    variance : {"pooled", "unpooled"}
        Variance under the null of the normal approximations (Fleiss: pooled).
    dropout : float
        Probability that a patient has no primary endpoint; enrolment is n / (1 - dropout).

    Returns
    -------
    BinarySize

    Examples
    --------
    >>> n_two_proportions(0.5, 0.75, method="normal_cc").n_control
    85
    >>> n_two_proportions(0.1, 0.733, method="exact", dropout=0.067).enrolled_total
    28
    """
    _check_common(alpha, power, ratio)
    _check_rates(p_control, p_treatment)
    if not 0.0 <= dropout < 1.0:
        raise DesignError("dropout", dropout, "must be a probability from 0 to below 1")
    if method not in METHODS:
        raise DesignError("method", method, "must be normal, normal_cc or exact")
    corrected = method != "normal"
    raw = _n_normal(p_control, p_treatment, alpha, power, ratio, variance, corrected)
    if method == "exact":
        plain = _n_normal(p_control, p_treatment, alpha, power, ratio, variance, False)
        n_c = _exact_n(p_control, p_treatment, alpha, power, ratio, plain)
        n_t = math.ceil(ratio * n_c)
    else:
        n_c, n_t = math.ceil(raw - 1e-9), math.ceil(ratio * raw - 1e-9)
    achieved = power_two_proportions(n_c, n_t, p_control, p_treatment, alpha, method, variance)
    keep = 1.0 - dropout
    return BinarySize(
        method, p_control, p_treatment, alpha, power, ratio, n_c, n_t, achieved, dropout,
        math.ceil(n_c / keep - 1e-9), math.ceil(n_t / keep - 1e-9),
        float(n_c) if method == "exact" else raw,
    )  # fmt: skip


def events_schoenfeld(
    hazard_ratio: float, alpha: float = 0.025, power: float = 0.9, ratio: float = 1.0
) -> float:
    """Events for a one-sided log-rank test (Schoenfeld 1983), not rounded.

    Examples
    --------
    >>> round(events_schoenfeld(0.5, alpha=0.025, power=0.8), 2)
    65.35
    """
    _check_common(alpha, power, ratio)
    if not hazard_ratio > 0.0 or hazard_ratio == 1.0:
        raise DesignError("hazard_ratio", hazard_ratio, "must be positive and not 1")
    share = ratio / (1.0 + ratio)
    z = float(stats.norm.isf(alpha) + stats.norm.isf(1.0 - power))
    return z**2 / (share * (1.0 - share) * math.log(hazard_ratio) ** 2)


def power_schoenfeld(
    events: float, hazard_ratio: float, alpha: float = 0.025, ratio: float = 1.0
) -> float:
    """Power of the one-sided log-rank test with ``events`` events (Schoenfeld).

    Examples
    --------
    >>> round(power_schoenfeld(100, 0.7), 3)
    0.43
    """
    share = ratio / (1.0 + ratio)
    drift = math.sqrt(events * share * (1.0 - share)) * abs(math.log(hazard_ratio))
    return float(stats.norm.cdf(drift - stats.norm.isf(alpha)))


def probability_of_event(
    hazard: float, accrual_weeks: float, follow_up_weeks: float, dropout_hazard: float = 0.0
) -> float:
    """Probability that a patient has the event by the analysis: exponential event (``hazard``
    per week) and drop-out (``dropout_hazard``) times, entry uniform over ``accrual_weeks``,
    analysis ``follow_up_weeks`` after the last entry.

    Examples
    --------
    >>> round(probability_of_event(math.log(2) / 12, 24, 12), 4)
    0.7295
    """
    if accrual_weeks <= 0 or follow_up_weeks < 0:
        raise DesignError("accrual_weeks", accrual_weeks, "must be above 0 (follow-up 0 or more)")
    rate = hazard + dropout_hazard
    a, f = accrual_weeks, follow_up_weeks
    unexposed = (math.exp(-rate * f) - math.exp(-rate * (a + f))) / (rate * a)
    return hazard / rate * (1.0 - unexposed)


def n_time_to_event(
    hazard_ratio: float, control_median_weeks: float, accrual_weeks: float,
    follow_up_weeks: float, alpha: float = 0.025, power: float = 0.9, ratio: float = 1.0,
    dropout_rate: float = 0.0, inflation: float = 1.0,
) -> EventSize:  # fmt: skip
    """Events (Schoenfeld) and patients for a time-to-event comparison; ``inflation`` (from
    :func:`cletrial.design.boundaries.compute_boundaries`) scales the events of a group-sequential
    design.

    Examples
    --------
    >>> size = n_time_to_event(0.4, 4.4, 52, 24, alpha=0.025, power=0.8, dropout_rate=0.005)
    >>> size.events, size.n_total
    (38, 42)
    """
    if control_median_weeks <= 0:
        raise DesignError("control_median_weeks", control_median_weeks, "must be above 0")
    exact = events_schoenfeld(hazard_ratio, alpha, power, ratio) * inflation
    events = math.ceil(exact - 1e-9)
    hazard_c = math.log(2.0) / control_median_weeks
    p_c = probability_of_event(hazard_c, accrual_weeks, follow_up_weeks, dropout_rate)
    p_t = probability_of_event(hazard_c * hazard_ratio, accrual_weeks, follow_up_weeks,
                               dropout_rate)  # fmt: skip
    share = ratio / (1.0 + ratio)
    total = events / ((1.0 - share) * p_c + share * p_t)
    return EventSize(
        hazard_ratio, alpha, power, ratio, exact, events, p_c, p_t,
        math.ceil(total * (1.0 - share) - 1e-9), math.ceil(total * share - 1e-9),
    )  # fmt: skip
