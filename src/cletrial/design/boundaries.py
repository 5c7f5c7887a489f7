"""Group-sequential boundaries by Lan-DeMets error spending, computed by numerical integration.

The z statistics Z_1..Z_K at information fractions t_1 < ... < t_K = 1 are jointly normal with
Cov(Z_j, Z_k) = sqrt(t_j / t_k) and mean delta * sqrt(t_k) (delta = 0 under the null). The
probability of crossing a bound at each look is computed by the recursive numerical integration
of Armitage, McPherson and Rowe (1969) on the grid of Jennison and Turnbull (2000, chapter 19):
Simpson's rule on about 12r points per look (r = 18), the method gsDesign uses.

Efficacy bounds spend one-sided alpha by an O'Brien-Fleming-type (``obf``) or Pocock-type
(``pocock``) Lan-DeMets function; futility bounds spend beta under the alternative by the same
families, non-binding: the efficacy bounds are computed as if futility never stopped the trial
(gsDesign's ``test.type = 4``), so stopping for futility is optional and alpha is kept whether
or not it is. The drift of the alternative is found so that the last futility bound meets the
last efficacy bound; its ratio to the fixed-design drift gives the inflation factor of the
maximum sample size.

>>> b = compute_boundaries([1 / 3, 2 / 3, 1], alpha=0.025, spending="obf")
>>> [round(z, 2) for z in b.efficacy_z]
[3.71, 2.51, 1.99]
>>> round(b.alpha_spent[-1], 6)
0.025
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, stats

from cletrial.errors import DesignError

__all__ = [
    "Boundaries",
    "classical_constant",
    "compute_boundaries",
    "crossing_probabilities",
    "inflation_factor",
    "spend",
]

#: A spending function: ``obf``, ``pocock`` or ``hsd:<gamma>`` (Hwang-Shih-DeCani, e.g. ``hsd:-4``).
Spending = str
Array = NDArray[np.float64]

#: Grid size parameter of Jennison and Turnbull (gsDesign's default ``r = 18``).
GRID_R: Final = 18
#: Largest bound searched (a bound that spends less than 1e-15 is set here).
Z_MAX: Final = 20.0


def spend(spending: Spending, total: float, t: float) -> float:
    """Cumulative error spent by information fraction ``t``.

    ``obf`` (Lan and DeMets 1983, O'Brien-Fleming type): 2 - 2 Phi(z_{1-total/2} / sqrt(t));
    ``pocock`` (Lan and DeMets 1983, Pocock type): total * ln(1 + (e - 1) t);
    ``hsd:<gamma>`` (Hwang, Shih and DeCani 1990): total (1 - e^{-gamma t}) / (1 - e^{-gamma}).

    Examples
    --------
    >>> round(spend("obf", 0.025, 0.5), 6), spend("obf", 0.025, 1.0)
    (0.001525, 0.025)
    >>> round(spend("pocock", 0.025, 0.5), 6)
    0.015503
    """
    if t <= 0:
        return 0.0
    if t >= 1:
        return total
    if spending == "obf":
        return float(2.0 * stats.norm.sf(stats.norm.isf(total / 2.0) / math.sqrt(t)))
    if spending == "pocock":
        return total * math.log(1.0 + (math.e - 1.0) * t)
    gamma = _hsd_gamma(spending)
    if gamma == 0.0:
        return total * t
    return total * (1.0 - math.exp(-gamma * t)) / (1.0 - math.exp(-gamma))


def _hsd_gamma(spending: str) -> float:
    name, _, value = spending.partition(":")
    try:
        gamma = float(value)
    except ValueError:
        gamma = math.nan
    if name != "hsd" or not math.isfinite(gamma) or not -40.0 <= gamma <= 40.0:
        raise DesignError(
            "spending", spending, 'must be "obf", "pocock" or "hsd:<gamma>" (gamma -40 to 40)'
        )
    return gamma


def _grid(mean: float, lower: float, upper: float, r: int = GRID_R) -> tuple[Array, Array]:
    """Points and Simpson weights on (lower, upper) around ``mean`` (Jennison-Turnbull 19.2)."""
    i = np.arange(1, 6 * r, dtype=float)
    x = np.where(
        i < r,
        -3.0 - 4.0 * np.log(r / i),
        np.where(i <= 5 * r, -3.0 + 3.0 * (i - r) / (2.0 * r), 3.0 + 4.0 * np.log(r / (6 * r - i))),
    )
    x = mean + x
    lo, hi = max(lower, float(x[0])), min(upper, float(x[-1]))
    if hi <= lo:  # an empty continuation region: nothing goes on
        return np.array([lo]), np.array([0.0])
    odd = np.concatenate(([lo], x[(x > lo) & (x < hi)], [hi]))
    z = np.empty(2 * odd.size - 1)
    z[0::2] = odd
    z[1::2] = (odd[:-1] + odd[1:]) / 2.0
    w = np.empty_like(z)
    gaps = np.diff(odd)
    w[1::2] = 4.0 * gaps / 6.0
    w[0::2] = 0.0
    w[0:-1:2] += gaps / 6.0
    w[2::2] += gaps / 6.0
    return z, w


@dataclass(frozen=True, slots=True)
class _State:
    """Sub-density of Z_k on its continuation region, as points times Simpson weights."""

    t: float
    z: Array
    mass: Array  # weight * density


def _first(t: float, drift: float, lower: float, upper: float) -> _State:
    z, w = _grid(drift * math.sqrt(t), lower, upper)
    return _State(t, z, w * stats.norm.pdf(z - drift * math.sqrt(t)))


def _step(state: _State, t: float, drift: float, lower: float, upper: float) -> _State:
    dt = t - state.t
    mean = drift * math.sqrt(t)
    z, w = _grid(mean, lower, upper)
    shift = z[:, None] * math.sqrt(t) - state.z[None, :] * math.sqrt(state.t) - drift * dt
    dens = stats.norm.pdf(shift / math.sqrt(dt)) * math.sqrt(t / dt)
    return _State(t, z, w * (dens @ state.mass))


def _tails(state: _State | None, t: float, drift: float) -> Callable[[float], tuple[float, float]]:
    """A function bound -> (P(continue and Z_t >= bound), P(continue and Z_t < bound))."""
    if state is None:
        mean = drift * math.sqrt(t)
        return lambda c: (float(stats.norm.sf(c - mean)), float(stats.norm.cdf(c - mean)))
    dt = t - state.t
    centre = (state.z * math.sqrt(state.t) + drift * dt) / math.sqrt(dt)
    scale = math.sqrt(t / dt)

    def tails(c: float) -> tuple[float, float]:
        u = c * scale - centre
        return float(stats.norm.sf(u) @ state.mass), float(stats.norm.cdf(u) @ state.mass)

    return tails


def _solve(f: Callable[[float], float], target: float, upper_tail: bool) -> float:
    """The bound c in [-Z_MAX, Z_MAX] at which the tail probability f(c) equals target."""
    if target <= 1e-15:
        return Z_MAX if upper_tail else -Z_MAX
    sign = 1.0 if upper_tail else -1.0

    def g(c: float) -> float:
        return sign * (f(c) - target)

    if g(-Z_MAX) * g(Z_MAX) > 0:
        return -Z_MAX if upper_tail else Z_MAX
    return float(optimize.brentq(g, -Z_MAX, Z_MAX, xtol=1e-10))


def crossing_probabilities(
    fractions: Sequence[float], efficacy: Sequence[float], futility: Sequence[float] | None,
    drift: float,
) -> tuple[list[float], list[float]]:  # fmt: skip
    """Probabilities of first crossing the efficacy (upper) and futility (lower) bound at each
    look when E[Z_k] = drift * sqrt(t_k).

    Examples
    --------
    >>> up, low = crossing_probabilities([0.5, 1.0], [2.797, 1.977], None, 0.0)
    >>> round(sum(up), 4), low
    (0.025, [0.0, 0.0])
    """
    lower = list(futility) if futility is not None else [-math.inf] * len(fractions)
    up: list[float] = []
    low: list[float] = []
    state: _State | None = None
    for k, t in enumerate(fractions):
        a, b = max(lower[k], -Z_MAX), min(efficacy[k], Z_MAX)
        tails = _tails(state, t, drift)
        up.append(tails(b)[0])
        low.append(tails(a)[1] if futility is not None else 0.0)
        if k + 1 < len(fractions):
            state = _first(t, drift, a, b) if state is None else _step(state, t, drift, a, b)
    return up, low


def _upper(tails: Callable[[float], tuple[float, float]]) -> Callable[[float], float]:
    return lambda c: tails(c)[0]


def _lower(tails: Callable[[float], tuple[float, float]]) -> Callable[[float], float]:
    return lambda c: tails(c)[1]


def _efficacy(fractions: Sequence[float], alpha: float, spending: Spending) -> list[float]:
    bounds: list[float] = []
    state: _State | None = None
    previous = 0.0
    for t in fractions:
        spent = spend(spending, alpha, t)
        tails = _tails(state, t, 0.0)
        b = _solve(_upper(tails), spent - previous, upper_tail=True)
        bounds.append(b)
        previous = spent
        state = _first(t, 0.0, -Z_MAX, b) if state is None else _step(state, t, 0.0, -Z_MAX, b)
    return bounds


def _futility(
    fractions: Sequence[float], efficacy: Sequence[float], beta: float, spending: Spending,
    drift: float,
) -> tuple[list[float], float]:  # fmt: skip
    """Futility bounds spending beta under ``drift`` and the total beta they spend with the
    last bound set to the last efficacy bound."""
    bounds: list[float] = []
    state: _State | None = None
    previous, total = 0.0, 0.0
    for k, t in enumerate(fractions):
        tails = _tails(state, t, drift)
        if k == len(fractions) - 1:
            bounds.append(efficacy[k])
            return bounds, total + tails(efficacy[k])[1]
        spent = spend(spending, beta, t)
        a = min(_solve(_lower(tails), spent - previous, upper_tail=False), efficacy[k])
        total += tails(a)[1]
        previous = spent
        bounds.append(a)
        state = _first(t, drift, a, efficacy[k]) if state is None else _step(
            state, t, drift, a, efficacy[k])  # fmt: skip
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Boundaries:
    """Group-sequential boundaries on the z scale (reject for Z_k >= efficacy_z[k]; stop for
    futility, optionally, for Z_k < futility_z[k]).

    ``alpha_spent`` and ``beta_spent`` are cumulative; ``nominal_p`` is the one-sided p-value of
    each efficacy bound; ``inflation`` is the maximum sample size (or events) over the fixed
    design's for the same alpha and power (beta); ``drift`` is E[Z_K] under the alternative.
    ``p_efficacy_h0/h1`` and ``p_futility_h0/h1`` are the probabilities of stopping at each look,
    ``expected_fraction_h0/h1`` the expected information as a fraction of the maximum.
    """

    fractions: tuple[float, ...]
    alpha: float
    beta: float
    spending: Spending
    futility_spending: Spending | None
    efficacy_z: tuple[float, ...]
    futility_z: tuple[float, ...] | None
    alpha_spent: tuple[float, ...]
    beta_spent: tuple[float, ...] | None
    nominal_p: tuple[float, ...]
    inflation: float
    drift: float
    p_efficacy_h0: tuple[float, ...]
    p_efficacy_h1: tuple[float, ...]
    p_futility_h0: tuple[float, ...]
    p_futility_h1: tuple[float, ...]
    expected_fraction_h0: float
    expected_fraction_h1: float

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready values."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def _check_inputs(fractions: Sequence[float], alpha: float, beta: float) -> tuple[float, ...]:
    looks = tuple(float(t) for t in fractions)
    if not looks:
        raise DesignError("looks", [], "must list at least the final analysis (1.0)")
    for i, t in enumerate(looks):
        if not 0.0 < t <= 1.0:
            raise DesignError(f"looks[{i}]", t, "must be an information fraction in (0, 1]")
        if i and t <= looks[i - 1]:
            raise DesignError(f"looks[{i}]", t, f"must be above the previous look {looks[i - 1]}")
    if looks[-1] != 1.0:
        raise DesignError(f"looks[{len(looks) - 1}]", looks[-1], "the last look must be 1.0")
    if not 0.0 < alpha < 0.5:
        raise DesignError("alpha", alpha, "must be between 0 and 0.5 (one-sided)")
    if not 0.0 < beta < 1.0 - alpha:
        raise DesignError("beta", beta, f"must be between 0 and {1.0 - alpha:g} (1 - alpha)")
    return looks


def compute_boundaries(
    fractions: Sequence[float],
    alpha: float = 0.025,
    spending: Spending = "obf",
    futility: Spending | None = None,
    beta: float | None = None,
) -> Boundaries:
    """Lan-DeMets spending boundaries at any information fractions.

    Parameters
    ----------
    fractions : sequence of float
        Information fractions of the analyses, increasing, the last 1.0.
    alpha : float
        One-sided type I error.
    spending : {"obf", "pocock"}
        Efficacy spending function (O'Brien-Fleming-type or Pocock-type Lan-DeMets).
    futility : {"obf", "pocock"}, optional
        Beta-spending function of non-binding futility bounds; none when omitted.
    beta : float, optional
        Type II error (1 - power) of the alternative, 0.1 when omitted: spent by the futility
        bounds and used for the inflation factor.

    Returns
    -------
    Boundaries

    Raises
    ------
    DesignError
        A fraction, alpha or beta out of range; names it and its value.

    Examples
    --------
    >>> b = compute_boundaries([0.5, 1.0], 0.025, "obf", futility="obf", beta=0.1)
    >>> [round(z, 3) for z in b.efficacy_z], [round(z, 3) for z in b.futility_z]
    ([2.963, 1.969], [0.267, 1.969])
    >>> round(b.inflation, 3) > 1.0
    True
    """
    beta = 0.1 if beta is None else float(beta)
    looks = _check_inputs(fractions, alpha, beta)
    efficacy = _efficacy(looks, alpha, spending)
    fixed = float(stats.norm.isf(alpha) + stats.norm.isf(beta))
    lower: list[float] | None = None
    if futility is None:
        drift = _drift_for_power(looks, efficacy, 1.0 - beta, fixed)
    else:
        drift, lower = _drift_for_futility(looks, efficacy, beta, futility, fixed)
    return _summarise(looks, alpha, beta, spending, futility, efficacy, lower, drift, fixed)


def _drift_for_power(looks: tuple[float, ...], efficacy: list[float], power: float,
                     fixed: float) -> float:  # fmt: skip
    def short(d: float) -> float:
        return sum(crossing_probabilities(looks, efficacy, None, d)[0]) - power

    return _root_above(short, fixed)


def _root_above(f: Callable[[float], float], fixed: float) -> float:
    """The root of ``f``, monotone in the drift, bracketed from the fixed design's
    drift (the group-sequential drift is never below it) by doubling."""
    low, high = 0.5 * fixed, 2.0 * fixed
    while f(high) * f(low) > 0:
        if high > 40.0 * fixed:
            raise DesignError("beta", None, "no alternative reaches this power; check the looks")
        low, high = high, 2.0 * high
    return float(optimize.brentq(f, low, high, xtol=1e-10))


def _drift_for_futility(
    looks: tuple[float, ...], efficacy: list[float], beta: float, spending: Spending, fixed: float
) -> tuple[float, list[float]]:
    if len(looks) == 1:
        return fixed, [efficacy[0]]

    def excess(d: float) -> float:
        return _futility(looks, efficacy, beta, spending, d)[1] - beta

    drift = _root_above(excess, fixed)
    return drift, _futility(looks, efficacy, beta, spending, drift)[0]


def _summarise(
    looks: tuple[float, ...], alpha: float, beta: float, spending: Spending,
    futility: Spending | None, efficacy: list[float], lower: list[float] | None, drift: float,
    fixed: float,
) -> Boundaries:  # fmt: skip
    up0, _ = crossing_probabilities(looks, efficacy, None, 0.0)
    up0_f, low0 = crossing_probabilities(looks, efficacy, lower, 0.0)
    up1, low1 = crossing_probabilities(looks, efficacy, lower, drift)
    steps = np.diff(np.concatenate(([0.0], looks)))
    stopped0 = np.array(up0_f) + np.array(low0)
    stopped1 = np.array(up1) + np.array(low1)
    return Boundaries(
        fractions=looks,
        alpha=alpha,
        beta=beta,
        spending=spending,
        futility_spending=futility,
        efficacy_z=tuple(efficacy),
        futility_z=None if lower is None else tuple(lower),
        alpha_spent=tuple(float(x) for x in np.cumsum(up0)),
        beta_spent=None if lower is None else tuple(float(x) for x in np.cumsum(low1)),
        nominal_p=tuple(float(stats.norm.sf(b)) for b in efficacy),
        inflation=(drift / fixed) ** 2,
        drift=drift,
        p_efficacy_h0=tuple(up0_f),
        p_efficacy_h1=tuple(up1),
        p_futility_h0=tuple(low0),
        p_futility_h1=tuple(low1),
        expected_fraction_h0=_expected(looks, steps, stopped0),
        expected_fraction_h1=_expected(looks, steps, stopped1),
    )


def _expected(looks: tuple[float, ...], steps: Array, stopped: Array) -> float:
    """Expected information fraction: a trial reaches look k unless it stopped before."""
    reach = 1.0 - np.concatenate(([0.0], np.cumsum(stopped)[:-1]))
    return float(np.sum(steps * reach))


def classical_constant(k: int, alpha: float, kind: Literal["obf", "pocock"]) -> float:
    """The constant C of the classical one-sided O'Brien-Fleming (bounds C sqrt(K / k)) or
    Pocock (bounds C) test with K equally spaced looks and overall one-sided level ``alpha``.

    Examples
    --------
    >>> round(classical_constant(3, 0.025, "pocock"), 3)
    2.289
    >>> round(classical_constant(3, 0.025, "obf"), 3)
    2.004
    """
    if k < 1:
        raise DesignError("looks", k, "must be 1 or more")
    looks = [(i + 1) / k for i in range(k)]

    def level(c: float) -> float:
        bounds = [c * math.sqrt(k / (i + 1)) if kind == "obf" else c for i in range(k)]
        return sum(crossing_probabilities(looks, bounds, None, 0.0)[0]) - alpha

    return float(optimize.brentq(level, 0.5, 6.0, xtol=1e-10))


def inflation_factor(
    fractions: Sequence[float], efficacy_z: Sequence[float], alpha: float, beta: float
) -> float:
    """Maximum over fixed sample size of a test with the given efficacy bounds (no futility)
    to keep power 1 - beta: (drift / (z_{1-alpha} + z_{1-beta}))^2.

    Examples
    --------
    >>> c = classical_constant(5, 0.025, "pocock")
    >>> round(inflation_factor([0.2, 0.4, 0.6, 0.8, 1.0], [c] * 5, 0.025, 0.2), 3)
    1.229
    """
    looks = _check_inputs(fractions, alpha, beta)
    fixed = float(stats.norm.isf(alpha) + stats.norm.isf(beta))
    return (_drift_for_power(looks, list(efficacy_z), 1.0 - beta, fixed) / fixed) ** 2
