"""The Freeman-Tukey double-arcsine transform of a proportion and Miller's (1978) inverse.

For ``x`` events of ``n`` (metafor's ``escalc(measure="PFT")`` convention, with the factor 1/2)::

    y = (asin(sqrt(x / (n + 1))) + asin(sqrt((x + 1) / (n + 1)))) / 2,    var(y) = 1 / (4n + 2)

The transform is finite at ``x = 0`` and ``x = n`` and stabilises the variance, which is why
small series with 0 or all events can be pooled without a continuity correction. A pooled value
has no sample size of its own: Miller suggested inverting it at the harmonic mean of the series
sizes (:func:`compute_harmonic_mean`), as metafor's ``transf.ipft.hm`` does.

>>> y, _ = compute_freeman_tukey(12, 15)
>>> round(compute_inverse_freeman_tukey(y, 15), 12)
0.8
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from cletrial.errors import InputError

__all__ = ["compute_freeman_tukey", "compute_harmonic_mean", "compute_inverse_freeman_tukey"]


def _check_counts(events: int, total: int, field_name: str = "events") -> None:
    if isinstance(total, bool) or not isinstance(total, int | np.integer) or total < 1:
        raise InputError("total", total, "must be a whole number >= 1")
    if isinstance(events, bool) or not isinstance(events, int | np.integer):
        raise InputError(field_name, events, f"must be a whole number from 0 to {total}")
    if not 0 <= events <= total:
        raise InputError(field_name, events, f"must be a whole number from 0 to {total}")


def compute_freeman_tukey(events: int, total: int) -> tuple[float, float]:
    """Freeman-Tukey double-arcsine transform of ``events/total`` and its sampling variance.

    Parameters
    ----------
    events : int
        Number of patients with the outcome, 0 <= events <= total.
    total : int
        Number of patients, >= 1.

    Returns
    -------
    tuple of float
        ``(y, v)``: the transformed value (metafor's convention, with the factor 1/2) and
        ``1 / (4 total + 2)``.

    Examples
    --------
    Miller (1978), first study: 3 of 11 (metafor's ``escalc`` prints 0.5695 and 0.0217).

    >>> y, v = compute_freeman_tukey(3, 11)
    >>> round(y, 4), round(v, 4)
    (0.5695, 0.0217)
    >>> compute_freeman_tukey(0, 10)[0] > 0   # finite at 0 events: no continuity correction
    True
    """
    _check_counts(events, total)
    y = 0.5 * (
        math.asin(math.sqrt(events / (total + 1)))
        + math.asin(math.sqrt((events + 1) / (total + 1)))
    )
    return y, 1.0 / (4 * total + 2)


def compute_inverse_freeman_tukey(value: float, total: float) -> float:
    """Miller's (1978) inverse of :func:`compute_freeman_tukey` for a series of size ``total``.

    Values at or beyond the transform of 0 (or of ``total``) events map to 0 (or 1); ``total``
    may be fractional (a harmonic mean).

    Parameters
    ----------
    value : float
        A Freeman-Tukey transformed proportion (factor 1/2 convention).
    total : float
        The sample size to invert with, > 0.

    Returns
    -------
    float
        A proportion in [0, 1].

    Examples
    --------
    >>> round(compute_inverse_freeman_tukey(compute_freeman_tukey(4, 10)[0], 10), 12)
    0.4
    >>> compute_inverse_freeman_tukey(compute_freeman_tukey(10, 10)[0], 10)
    1.0
    """
    if not total > 0:
        raise InputError("total", total, "must be > 0")
    if value <= 0.5 * math.asin(math.sqrt(1 / (total + 1))):
        return 0.0
    if value >= 0.5 * (math.asin(math.sqrt(total / (total + 1))) + math.pi / 2):
        return 1.0
    t = 2.0 * value  # Miller's transform omits the factor 1/2
    sin_t = math.sin(t)
    inner = 1.0 - (sin_t + (sin_t - 1.0 / sin_t) / total) ** 2
    p = 0.5 * (1.0 - math.copysign(1.0, math.cos(t)) * math.sqrt(max(inner, 0.0)))
    return min(max(p, 0.0), 1.0)


def compute_harmonic_mean(totals: Sequence[int]) -> float:
    """Harmonic mean of the series sizes (Miller's choice of n for the back-transform).

    >>> round(compute_harmonic_mean([11, 17, 21, 6]), 4)
    10.9885
    """
    if not totals or any(n <= 0 for n in totals):
        raise InputError("totals", list(totals), "must be one or more sizes > 0")
    return len(totals) / sum(1.0 / n for n in totals)
