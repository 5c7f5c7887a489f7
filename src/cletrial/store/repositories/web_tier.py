"""The web tier's state in the database: sessions, the login throttle, the login events.

Several server processes share it, so a session opened through one worker is served by any
other, and the login lock-out holds whatever the number of workers.

* :class:`SessionStore` and :class:`LoginThrottleStore` write infrastructure rows (not clinical
  data, not audited) with single statements on a connection the caller gives: its own short
  transaction, or that of a unit of work when the change goes with an audited login event.
* :class:`LoginEventRepository` (``uow.login_events``) records logins, failures, logouts,
  lock-outs and password changes through the unit of work, each with its audit row.

The throttle is atomic: :meth:`LoginThrottleStore.reserve` takes one of the user name's
password checks with a single ``UPDATE ... WHERE checks < limit RETURNING`` before the
password is hashed, so however many logins run at once on however many processes, at most
``limit`` passwords are checked per window.

>>> from cletrial.store import create_engine_for, upgrade
>>> engine = create_engine_for("sqlite://"); upgrade(engine)
>>> throttle = LoginThrottleStore(limit=2, window_s=60)
>>> with engine.begin() as conn:
...     [throttle.reserve(conn, "k", now=0.0) for _ in range(3)]
[1, 2, None]
>>> with engine.begin() as conn:
...     throttle.reserve(conn, "k", now=61.0)   # the window has ended
1
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, ClassVar, Final

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    bindparam,
    case,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from cletrial.store.records import StoredRecord
from cletrial.store.repositories.base import Repository
from cletrial.store.tables import User
from cletrial.store.tables_web import LoginThrottleRow, WebSessionRow
from cletrial.store.types import utc_now

__all__ = [
    "LoginEventRecord",
    "LoginEventRepository",
    "LoginThrottleStore",
    "SessionRow",
    "SessionStore",
]

_S: Final[Table] = WebSessionRow.__table__  # type: ignore[assignment]
_T: Final[Table] = LoginThrottleRow.__table__  # type: ignore[assignment]
_U: Final[Table] = User.__table__  # type: ignore[assignment]


@dataclasses.dataclass(frozen=True, slots=True)
class SessionRow:
    """A session as stored, with the version and activation of its user (one query)."""

    token_digest: str
    user_id: int
    csrf_token: str
    created_at: float
    last_seen: float
    user_epoch: int
    user_version: int
    user_active: bool


#: The session lookup: one primary-key probe of ``web_sessions`` joined to ``users`` by id.
_LOOKUP: Final = (
    select(_S.c.token_digest, _S.c.user_id, _S.c.csrf_token, _S.c.created_at, _S.c.last_seen,
           _S.c.user_epoch, _U.c.version, _U.c.active)
    .join_from(_S, _U, _U.c.id == _S.c.user_id)
    .where(_S.c.token_digest == bindparam("digest"))
)  # fmt: skip


#: The same lookup as SQL text for the DBAPI cursor (``{}``: the driver's placeholder).
_LOOKUP_SQL: Final = (
    "SELECT s.token_digest, s.user_id, s.csrf_token, s.created_at, s.last_seen, s.user_epoch, "
    "u.version, u.active FROM web_sessions AS s JOIN users AS u ON u.id = s.user_id "
    "WHERE s.token_digest = {}"
)


class SessionStore:
    """Sessions by token digest; every method takes the connection to run on."""

    def create(
        self, conn: Connection, *, digest: str, user_id: int, csrf_token: str, now: float
    ) -> None:
        """Store a new session."""
        conn.execute(insert(_S).values(token_digest=digest, user_id=user_id,
                                       csrf_token=csrf_token, created_at=now, last_seen=now,
                                       user_epoch=0))  # fmt: skip

    def lookup(self, conn: Connection, digest: str) -> SessionRow | None:
        """The session of ``digest`` with its user's version and activation, or None."""
        row = conn.execute(_LOOKUP, {"digest": digest}).first()
        return None if row is None else SessionRow(*row)

    def lookup_fast(self, engine: Engine, digest: str) -> SessionRow | None:
        """:meth:`lookup` on a pooled DBAPI connection, in autocommit: one statement, one
        round trip, no transaction to begin and roll back (a request's hot path)."""
        postgres = engine.dialect.name == "postgresql"
        sql = _LOOKUP_SQL.format("%s" if postgres else "?")
        raw = engine.raw_connection()
        try:
            driver: Any = raw.driver_connection
            if postgres:
                driver.autocommit = True
            try:
                cursor = raw.cursor()
                cursor.execute(sql, (digest,))
                row = cursor.fetchone()
                cursor.close()
            finally:
                if postgres:
                    driver.autocommit = False
        finally:
            raw.close()
        return None if row is None else SessionRow(*row)

    def touch(self, conn: Connection, digest: str, now: float) -> None:
        """Mark the session used at ``now``."""
        conn.execute(update(_S).where(_S.c.token_digest == digest).values(last_seen=now))

    def revoke(self, conn: Connection, digest: str) -> int:
        """End one session; return how many ended (0 or 1)."""
        return int(conn.execute(delete(_S).where(_S.c.token_digest == digest)).rowcount)

    def revoke_user(self, conn: Connection, user_id: int, *, keep: str | None = None) -> int:
        """End every session of ``user_id`` (but the one of digest ``keep``); return how many."""
        where = [_S.c.user_id == user_id] + ([_S.c.token_digest != keep] if keep else [])
        return int(conn.execute(delete(_S).where(*where)).rowcount)

    def forget_user(self, conn: Connection, user_id: int) -> None:
        """Make every process reload the user of these sessions at their next request."""
        conn.execute(update(_S).where(_S.c.user_id == user_id)
                     .values(user_epoch=_S.c.user_epoch + 1))  # fmt: skip

    def purge(self, conn: Connection, *, now: float, idle_s: float, absolute_s: float) -> int:
        """Delete the sessions that have ended; return how many."""
        ended = or_(_S.c.last_seen < now - idle_s, _S.c.created_at < now - absolute_s)
        return int(conn.execute(delete(_S).where(ended)).rowcount)

    def count(self, conn: Connection) -> int:
        """How many sessions are stored (live or not yet purged)."""
        return len(conn.execute(select(_S.c.token_digest)).all())


class LoginThrottleStore:
    """Password checks per user name, at most ``limit`` per window of ``window_s`` seconds.

    A window starts at the first check and ends ``window_s`` seconds after the last failed
    one. Rows are keyed by a digest of the name (the caller's choice).
    """

    def __init__(self, *, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s

    def reserve(self, conn: Connection, key: str, *, now: float) -> int | None:
        """Take one password check for ``key``: its number in the window (1 to ``limit``), or
        None when none is left (the name is locked).

        One atomic statement (after creating the row if missing): concurrent callers on any
        number of connections or processes never take more than ``limit`` checks per window,
        and each number is taken once.
        """
        ended = _T.c.window_end <= now
        take = (
            update(_T)
            .where(_T.c.name_digest == key, or_(ended, _T.c.checks < self.limit))
            .values(checks=_checks_after(ended), window_end=now + self.window_s)
            .returning(_T.c.checks)
        )
        taken = conn.execute(take).first()
        if taken is None:
            inserted = conn.execute(_insert_new(conn).values(
                name_digest=key, checks=1, window_end=now + self.window_s
            ).returning(_T.c.checks)).first()  # fmt: skip
            if inserted is not None:
                return 1
            taken = conn.execute(take).first()
        return None if taken is None else int(taken[0])

    def failed(self, conn: Connection, key: str, *, now: float) -> None:
        """Keep the check taken as a failure: the window runs on from ``now``."""
        conn.execute(update(_T).where(_T.c.name_digest == key)
                     .values(window_end=now + self.window_s))  # fmt: skip

    def succeeded(self, conn: Connection, key: str) -> None:
        """Forget the name's checks after a right password."""
        conn.execute(delete(_T).where(_T.c.name_digest == key))

    def locked(self, conn: Connection, key: str, *, now: float) -> bool:
        """Whether no check is left for ``key`` (read only)."""
        row = conn.execute(select(_T.c.checks).where(
            and_(_T.c.name_digest == key, _T.c.window_end > now))).first()  # fmt: skip
        return row is not None and int(row[0]) >= self.limit


def _checks_after(ended: Any) -> Any:
    return case((ended, 1), else_=_T.c.checks + 1)


def _insert_new(conn: Connection) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` on the connection's engine."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(_T).on_conflict_do_nothing(index_elements=[_T.c.name_digest])


@dataclasses.dataclass(frozen=True, slots=True)
class LoginEventRecord(StoredRecord):
    """A login event (see :class:`cletrial.store.tables_web.LoginEvent`)."""

    table: ClassVar[str] = "login_events"
    event: str
    username: str | None
    user_id: int | None
    channel: str
    detail: str | None
    occurred_at: dt.datetime


class LoginEventRepository(Repository[LoginEventRecord]):
    """Logins, failed logins, logouts, lock-outs and password changes (audited)."""

    table = "login_events"
    record = LoginEventRecord

    def record_event(
        self, event: str, *, username: str | None, user_id: int | None, channel: str,
        detail: str | None = None,
    ) -> LoginEventRecord:  # fmt: skip
        """Record one event now (its audit row is written with the unit of work's commit)."""
        return self._create({"event": event, "username": username, "user_id": user_id,
                             "channel": channel, "detail": detail,
                             "occurred_at": utc_now()})  # fmt: skip

    def list(
        self, *, username: str | None = None, event: str | None = None, limit: int = 200
    ) -> list[LoginEventRecord]:
        """The newest events first, optionally of one user name or one kind."""
        t = self._t
        query = select(t)
        if username is not None:
            query = query.where(t.c.username == username)
        if event is not None:
            query = query.where(t.c.event == event)
        rows = self._uow.connection.execute(query.order_by(t.c.id.desc()).limit(limit))
        return [self.record.from_row(dict(row)) for row in rows.mappings()]
