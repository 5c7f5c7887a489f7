"""Tables of the web tier: sessions and the login throttle (infrastructure), and the login
events (audited).

* ``web_sessions``: one row per live session, keyed by the SHA-256 of its token (the token
  itself is never stored). Times are seconds since the epoch (``time.time()``), the same on
  every worker process. ``user_epoch`` grows when the user's sites or role change, so every
  process reloads its snapshot of the user at the next request.
* ``login_throttle``: per user name (the SHA-256 of the name as typed, case-folded: a name
  typed by mistake may be a password), the password checks counted in the current window and
  the time the window ends.
* ``login_events``: logins, failed logins, logouts, lock-outs and password changes, written
  through the unit of work like every record (so each one has its audit row).

Session and throttle rows are not clinical data: they are not audited (a session is touched
every minute it is used) and :data:`INFRASTRUCTURE_TABLES` keeps them out of the audit checks.

>>> sorted(INFRASTRUCTURE_TABLES)
['login_throttle', 'web_sessions']
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy import Float, ForeignKey, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from cletrial.store.tables_base import Base, Versioned
from cletrial.store.types import UTCDateTime

__all__ = [
    "INFRASTRUCTURE_TABLES",
    "LOGIN_CHANNELS",
    "LOGIN_EVENT_KINDS",
    "LoginEvent",
    "LoginThrottleRow",
    "WebSessionRow",
]

#: What a login event records.
LOGIN_EVENT_KINDS: Final = ("login", "login_failed", "lockout", "logout", "password_changed")
#: Where it happened: the pages (cookie), the REST API (bearer token), the command line.
LOGIN_CHANNELS: Final = ("page", "api", "cli")

#: Tables that are neither audited nor part of the study data.
INFRASTRUCTURE_TABLES: Final = frozenset({"web_sessions", "login_throttle"})


class WebSessionRow(Base):
    """A logged-in session (only the SHA-256 of its token)."""

    __tablename__ = "web_sessions"
    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    last_seen: Mapped[float] = mapped_column(Float)
    user_epoch: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class LoginThrottleRow(Base):
    """Password checks of one user name in the current window."""

    __tablename__ = "login_throttle"
    name_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    checks: Mapped[int] = mapped_column(Integer)
    window_end: Mapped[float] = mapped_column(Float)


class LoginEvent(Versioned, Base):
    """A login, failed login, logout, lock-out or password change (audited).

    ``username`` is the account's name when the name typed belongs to an account; for an
    unknown name it is null and ``detail`` gives the first 12 hex digits of the SHA-256 of the
    name typed (never the name: it may be a password typed in the wrong field).
    """

    __tablename__ = "login_events"
    __table_args__ = ({"sqlite_autoincrement": True},)
    event: Mapped[str] = mapped_column(String(20))
    username: Mapped[str | None] = mapped_column(String(80), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(10))
    detail: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
