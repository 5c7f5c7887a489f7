"""Day arithmetic without building a new ``timedelta`` each time (the engine's hot path).

>>> import datetime as dt
>>> dt.date(2009, 3, 2) + days(28)
datetime.date(2009, 3, 30)
>>> days(-3) == dt.timedelta(days=-3), days(5000) == dt.timedelta(days=5000)
(True, True)
"""

from __future__ import annotations

import datetime as dt
from typing import Final

__all__ = ["days"]

#: Immutable table of the common offsets (0 to 1,023 days).
_SMALL: Final = tuple(dt.timedelta(days=i) for i in range(1024))


def days(n: int) -> dt.timedelta:
    """Return ``timedelta(days=n)``, from a constant table for 0 <= n < 1024.

    Parameters
    ----------
    n : int
        Number of days, any sign.
    """
    return _SMALL[n] if 0 <= n < 1024 else dt.timedelta(days=n)
