"""The database's lock state as every page shows it: a banner when the database is frozen or
locked, read at most once every :data:`BANNER_TTL_S` seconds (a page render never waits on more
than one tiny query), and at once after a change made through the lock page.

>>> from cletrial.store import UnitOfWork, create_engine_for, upgrade
>>> engine = create_engine_for("sqlite://"); upgrade(engine)
>>> banner = LockBanner(engine, clock=lambda: 0.0)
>>> banner.state().state
'open'
>>> with UnitOfWork(engine, user="dm") as uow:
...     _ = uow.locks.apply("freeze", reason="interim analysis", signed_name="Dana")
>>> banner.state().state                  # cached: read again after the TTL or a forget()
'open'
>>> banner.forget(); banner.state().state, banner.state().text.startswith("The database is frozen")
('frozen', True)
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Engine

from cletrial.store.unit_of_work import UnitOfWork

__all__ = ["BANNER_TTL_S", "LockBanner", "LockView", "lock_refusal"]

#: Seconds a read lock state is reused before it is read again.
BANNER_TTL_S: Final = 2.0


@dataclass(frozen=True)
class LockView:
    """The state (``open``, ``frozen``, ``locked``), since when (UTC), and the sentence shown
    to site staff (empty when open)."""

    state: str
    since: dt.datetime | None

    @property
    def text(self) -> str:
        """What the banner says."""
        when = f" since {self.since.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC" if self.since else ""
        if self.state == "locked":
            return (f"The database is locked{when}: no data can be entered or changed until a "
                    "data manager unlocks it.")  # fmt: skip
        if self.state == "frozen":
            return (f"The database is frozen{when}: clinical data cannot be entered or changed; "
                    "queries and source data verification go on.")  # fmt: skip
        return ""


class LockBanner:
    """The lock state of one database, cached for ``ttl_s`` seconds (thread-safe)."""

    def __init__(
        self,
        engine: Engine,
        *,
        ttl_s: float = BANNER_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._ttl_s = ttl_s
        self._clock = clock
        self._cached: tuple[float, LockView] | None = None
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Read the state again at the next page (after a lock event)."""
        with self._lock:
            self._cached = None

    def state(self) -> LockView:
        """The current state (read from the database when the cached one is stale)."""
        now = self._clock()
        with self._lock:
            cached = self._cached
        if cached is not None and now - cached[0] < self._ttl_s:
            return cached[1]
        with UnitOfWork(self._engine, read_only=True) as uow:
            state, since = uow.locks.state()
        view = LockView(state, dt.datetime.fromisoformat(since) if since else None)
        with self._lock:
            self._cached = (now, view)
        return view


def lock_refusal(view: LockView, fallback: str) -> str:
    """The sentence shown on a form the database's lock refused (``fallback``, the store's own
    message, when the database is open: a signed visit).

    >>> lock_refusal(LockView("locked", None), "x")[:50]
    'Nothing was saved. The database is locked: no data'
    >>> lock_refusal(LockView("open", None), "the visit is signed")
    'the visit is signed'
    """
    return f"Nothing was saved. {view.text}" if view.state != "open" else fallback
