"""The GRIM test: can a printed mean be the mean of n integer scores?

Brown NJL, Heathers JAJ. The GRIM test: a simple technique detects numerous anomalies in the
reporting of results in psychology. Soc Psychol Personal Sci 2017;8:363-9. CLASI and SLEDAI-2K
scores are integers, so their mean over n patients is a multiple of 1/n; a printed mean that no
such multiple rounds (or truncates) to cannot be right for that n.

>>> compute_grim("3.26", 15).truncated
True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from cletrial.errors import InputError

__all__ = ["GrimResult", "compute_grim"]


def _check_n(field: str, n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InputError(field, n, "must be an integer >= 1")


@dataclass(frozen=True)
class GrimResult:
    """Whether a printed mean can be the mean of ``n`` integer scores (the GRIM test).

    ``rounded``: some integer total gives the printed mean when rounded half up; ``truncated``:
    some total gives it when cut after the printed decimals. ``nearest`` lists the achievable
    means next to the printed one, at the printed precision (rounded half up).
    """

    reported: str
    n: int
    rounded: bool
    truncated: bool
    nearest: tuple[str, ...]

    @property
    def consistent(self) -> bool:
        """True when the printed mean is achievable by rounding or by truncation."""
        return self.rounded or self.truncated

    def as_dict(self) -> dict[str, Any]:
        """Stable JSON shape."""
        return asdict(self) | {"nearest": list(self.nearest), "consistent": self.consistent}


def compute_grim(reported_mean: str, n: int, *, items: int = 1) -> GrimResult:
    """GRIM test: can ``reported_mean`` (as printed) be a mean of ``n`` integer scores?

    Brown NJL, Heathers JAJ. The GRIM test. Soc Psychol Personal Sci 2017;8:363-9. Scores that
    are sums of ``items`` integer items have granularity 1 / (n x items).

    Parameters
    ----------
    reported_mean : str
        The mean exactly as printed (its decimals set the precision), e.g. ``"3.26"``.
    n : int
        Number of patients, >= 1.
    items : int
        Number of integer items averaged per patient (1 for a total score).

    Returns
    -------
    GrimResult

    Examples
    --------
    >>> r = compute_grim("3.26", 15)          # 49/15 = 3.2667
    >>> (r.rounded, r.truncated, r.nearest)
    (False, True, ('3.20', '3.27'))
    >>> compute_grim("4.13", 14).consistent   # 57/14 = 4.071, 58/14 = 4.143
    False
    """
    _check_n("n", n)
    _check_n("items", items)
    try:
        mean = Decimal(reported_mean)
    except ArithmeticError:
        raise InputError("reported_mean", reported_mean, "must be a number as printed") from None
    exponent = mean.as_tuple().exponent
    quantum = Decimal(1).scaleb(exponent if isinstance(exponent, int) else 0)
    granules = n * items
    centre = int(mean * granules)
    rounded = truncated = False
    for total in range(max(centre - 2, 0), centre + 3):
        exact = Decimal(total) / Decimal(granules)
        rounded |= exact.quantize(quantum, rounding=ROUND_HALF_UP) == mean
        truncated |= exact.quantize(quantum, rounding=ROUND_DOWN) == mean
    below = (Decimal(int(mean * granules)) / granules).quantize(quantum, rounding=ROUND_HALF_UP)
    above = (Decimal(int(mean * granules) + 1) / granules).quantize(quantum, rounding=ROUND_HALF_UP)
    return GrimResult(
        reported_mean, n, rounded, truncated, tuple(dict.fromkeys((str(below), str(above))))
    )
