"""Security layer of the web application: roles, sessions, CSRF tokens, login throttling.

Design
------
* **Passwords** are hashed by the study database (argon2id, ``cletrial.store``); this module only
  decides who may do what once a user is known.
* **Sessions** are server-side. The browser holds an opaque token of 256 bits
  (``secrets.token_urlsafe(32)``) in an ``HttpOnly``, ``SameSite=Strict`` cookie; the server keeps
  only the SHA-256 of the token, so a memory or log dump does not reveal live tokens. A new token
  is issued at every login (the old one, if any, is revoked). A session ends after
  ``idle_timeout_s`` without a request, and ``absolute_timeout_s`` after login whatever the
  activity. API clients may send the same token as ``Authorization: Bearer <token>``.
* **CSRF**: every session carries its own random token. Every unsafe request (POST, PUT, PATCH,
  DELETE) authenticated by the cookie must repeat it in the ``X-CSRF-Token`` header or a
  ``csrf_token`` form field. Requests authenticated by the ``Authorization`` header are not
  exposed to CSRF (browsers never add that header on their own). The login form, sent before
  there is a session, uses a double-submit cookie.
* **Roles** map to permissions in :data:`ROLE_PERMISSIONS`; object-level access (a user sees only
  the patients of their own sites) is checked by the routes against the user's sites.

Sessions and the login throttle live in the study database (``web_sessions`` and
``login_throttle``, :mod:`cletrial.store.repositories.web_tier`), so ``cletrial serve --workers
N`` runs N processes that share them. Looking a session up is one primary-key query (joined to
the user's version and activation); its last use is written at most every
:data:`TOUCH_INTERVAL_S` seconds, so a session may end up to that much before its idle timeout
(never after). The throttle takes a password check atomically *before* the password is hashed.

>>> sorted(p.value for p in ROLE_PERMISSIONS[Role.MONITOR])
['query', 'verify', 'view', 'view_audit']
>>> from cletrial.store import UnitOfWork, create_engine_for, upgrade
>>> engine = create_engine_for("sqlite://"); upgrade(engine)
>>> with UnitOfWork(engine, user="admin") as uow:
...     ana = uow.users.create(username="ana", password="correct horse", role="monitor")
>>> registry = SessionRegistry(engine, idle_timeout_s=60, absolute_timeout_s=3600)
>>> token, session = registry.create(user_id=ana.id)
>>> len(token) >= 43 and registry.get(token).csrf_token == session.csrf_token
True
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from sqlalchemy import Connection, Engine

from cletrial.store.engine import BEGIN_MODE_OPTION, is_sqlite
from cletrial.store.repositories.web_tier import LoginThrottleStore, SessionRow, SessionStore

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "LOGIN_CSRF_COOKIE",
    "ROLE_PERMISSIONS",
    "SESSION_COOKIE",
    "TOUCH_INTERVAL_S",
    "LoginThrottle",
    "Permission",
    "Role",
    "SessionRegistry",
    "WebSession",
    "compute_permissions",
    "name_digest",
    "new_token",
    "tokens_match",
]

SESSION_COOKIE: Final = "cletrial_session"
LOGIN_CSRF_COOKIE: Final = "cletrial_login_csrf"
CSRF_HEADER: Final = "X-CSRF-Token"
CSRF_FIELD: Final = "csrf_token"

#: Seconds between two writes of a session's last use (at most one write a minute a session).
TOUCH_INTERVAL_S: Final = 60.0

#: HTTP methods that change state and therefore need a CSRF token.
UNSAFE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Role(StrEnum):
    """The roles of a study user."""

    INVESTIGATOR = "investigator"
    COORDINATOR = "coordinator"
    MONITOR = "monitor"
    DATA_MANAGER = "data_manager"
    STATISTICIAN = "statistician"
    ADMINISTRATOR = "administrator"


class Permission(StrEnum):
    """What a role allows."""

    VIEW = "view"  # see patients of the user's sites, the dashboard and recommendations
    VIEW_AUDIT = "view_audit"  # see a record's audit history
    SCREEN = "screen"  # screen and enrol patients
    EDIT = "edit"  # enter and edit visits, labs, adverse events, doses
    SIGN = "sign"  # sign visits (electronic signature)
    UNLOCK = "unlock"  # unlock a signed visit, with a reason
    REPORT = "report"  # see the study report
    EXPORT = "export"  # download data exports
    ADMIN = "admin"  # manage users and sites
    QUERY = "query"  # raise, close and reopen queries
    ANSWER = "answer"  # acknowledge and answer queries (and correct the value)
    VERIFY = "verify"  # mark forms and fields verified against the source (SDV)
    LOCK = "lock"  # freeze, lock, unfreeze and unlock the database (e-signed)
    CHECKS = "checks"  # run the protocol's edit checks over the study
    RANDOMISE = "randomise"  # randomise an eligible patient (takes the next allocation slot)
    UNBLIND = "unblind"  # unblind one randomised patient in an emergency (e-signed, a reason)


#: Role -> permissions. Monitors read, query and verify; data managers query, run the edit
#: checks and lock, but enter no clinical data; statisticians are read-only with exports.
ROLE_PERMISSIONS: Final[dict[Role, frozenset[Permission]]] = {
    Role.INVESTIGATOR: frozenset(
        {
            Permission.VIEW,
            Permission.VIEW_AUDIT,
            Permission.SCREEN,
            Permission.EDIT,
            Permission.SIGN,
            Permission.UNLOCK,
            Permission.REPORT,
            Permission.ANSWER,
            Permission.RANDOMISE,
            Permission.UNBLIND,
        }
    ),
    Role.COORDINATOR: frozenset(
        {
            Permission.VIEW,
            Permission.VIEW_AUDIT,
            Permission.SCREEN,
            Permission.EDIT,
            Permission.ANSWER,
        }
    ),
    Role.MONITOR: frozenset(
        {Permission.VIEW, Permission.VIEW_AUDIT, Permission.QUERY, Permission.VERIFY}
    ),
    Role.DATA_MANAGER: frozenset(
        {
            Permission.VIEW,
            Permission.VIEW_AUDIT,
            Permission.QUERY,
            Permission.CHECKS,
            Permission.LOCK,
            Permission.EXPORT,
        }
    ),
    Role.STATISTICIAN: frozenset(
        {Permission.VIEW, Permission.VIEW_AUDIT, Permission.REPORT, Permission.EXPORT}
    ),
    Role.ADMINISTRATOR: frozenset(
        {
            Permission.VIEW,
            Permission.VIEW_AUDIT,
            Permission.UNLOCK,
            Permission.REPORT,
            Permission.EXPORT,
            Permission.ADMIN,
        }
    ),
}


def compute_permissions(roles: tuple[str, ...] | list[str] | frozenset[str]) -> frozenset[str]:
    """Union of the permissions of ``roles`` (unknown role names grant nothing).

    Parameters
    ----------
    roles : sequence of str
        Role names, each one of investigator, coordinator, monitor, data_manager, statistician,
        administrator.

    >>> sorted(compute_permissions(["monitor", "statistician"]))
    ['export', 'query', 'report', 'verify', 'view', 'view_audit']
    >>> compute_permissions(["janitor"])
    frozenset()
    """
    granted: set[str] = set()
    for name in roles:
        try:
            granted |= {p.value for p in ROLE_PERMISSIONS[Role(name)]}
        except ValueError:
            continue
    return frozenset(granted)


def new_token() -> str:
    """Return a new random token of 256 bits, URL-safe (43 characters).

    >>> len(new_token())
    43
    """
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Compare two tokens in constant time; missing or empty tokens never match.

    >>> tokens_match("abc", "abc"), tokens_match("abc", "abd"), tokens_match(None, None)
    (True, False, False)
    """
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


@dataclass
class WebSession:
    """One logged-in session as read for a request (the token itself is not kept).

    Times are seconds on the registry's clock (``time.time()``: the same on every process).
    ``user_key`` (the user's version and the session's user epoch) changes whenever the
    user's role, sites or activation change, so a process's snapshot of the user is reloaded.
    """

    user_id: int
    csrf_token: str
    created_at: float
    last_seen: float
    digest: str = field(repr=False, default="")
    user_key: tuple[int, int] = (0, 0)
    user_active: bool = True


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def name_digest(username: str) -> str:
    """The key of a user name in the login throttle: SHA-256 of the case-folded name.

    >>> name_digest("Ana") == name_digest("ANA") != name_digest("ana2")
    True
    """
    return hashlib.sha256(username.casefold().encode()).hexdigest()


class _Database:
    """Short connections on the study database: reads that never block writers, writes in
    their own transaction, or on a connection the caller gives (a unit of work)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._read_options = {BEGIN_MODE_OPTION: "DEFERRED"} if is_sqlite(engine) else {}

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn.execution_options(**self._read_options) if self._read_options else conn

    @contextmanager
    def write(self, conn: Connection | None = None) -> Iterator[Connection]:
        if conn is not None:
            yield conn
            return
        with self.engine.begin() as own:
            yield own


class SessionRegistry:
    """Server-side sessions in the database, with idle and absolute timeouts.

    Parameters
    ----------
    engine : Engine
        The study database (sessions are shared by every process using it).
    idle_timeout_s : float
        A session unused for longer than this ends.
    absolute_timeout_s : float
        A session older than this ends, however active.
    clock : callable, optional
        Seconds since the epoch (default :func:`time.time`); tests pass a fake clock.
    touch_interval_s : float, optional
        Seconds between two writes of a session's last use (default :data:`TOUCH_INTERVAL_S`,
        at most a tenth of the idle timeout).

    Every method that writes takes an optional ``conn``: given, the change is part of the
    caller's transaction (a unit of work that also records the login event).

    >>> from cletrial.store import UnitOfWork, create_engine_for, upgrade
    >>> engine = create_engine_for("sqlite://"); upgrade(engine)
    >>> with UnitOfWork(engine, user="admin") as uow:
    ...     ana = uow.users.create(username="ana", password="correct horse", role="monitor")
    >>> now = [0.0]
    >>> reg = SessionRegistry(engine, idle_timeout_s=10, absolute_timeout_s=25,
    ...                       clock=lambda: now[0])
    >>> token, _ = reg.create(user_id=ana.id)
    >>> now[0] = 9.0; reg.get(token) is not None
    True
    >>> now[0] = 20.0; reg.get(token) is None   # idle for 11 s
    True
    """

    def __init__(
        self,
        engine: Engine,
        *,
        idle_timeout_s: float,
        absolute_timeout_s: float,
        clock: Callable[[], float] = time.time,
        touch_interval_s: float | None = None,
    ) -> None:
        self.idle_timeout_s = idle_timeout_s
        self.absolute_timeout_s = absolute_timeout_s
        self.touch_interval_s = (
            min(TOUCH_INTERVAL_S, idle_timeout_s / 10) if touch_interval_s is None
            else touch_interval_s
        )  # fmt: skip
        self._clock = clock
        self._db = _Database(engine)
        self._store = SessionStore()
        #: Lookups are local reads that never wait for writers (SQLite): fine on the event loop.
        self.reads_are_local = is_sqlite(engine)

    def create(
        self, user_id: int, *, replaces: str | None = None, conn: Connection | None = None
    ) -> tuple[str, WebSession]:
        """Start a session for ``user_id`` and return ``(token, session)``.

        ``replaces`` is the token the client held before logging in; it is revoked, so a
        session token is never carried across a login (no session fixation). Ended sessions
        are deleted on the way.
        """
        token = new_token()
        now = self._clock()
        session = WebSession(user_id=user_id, csrf_token=new_token(), created_at=now,
                             last_seen=now, digest=_digest(token))  # fmt: skip
        with self._db.write(conn) as c:
            if replaces:
                self._store.revoke(c, _digest(replaces))
            self._store.purge(c, now=now, idle_s=self.idle_timeout_s,
                              absolute_s=self.absolute_timeout_s)  # fmt: skip
            self._store.create(c, digest=session.digest, user_id=user_id,
                               csrf_token=session.csrf_token, now=now)  # fmt: skip
        return token, session

    def lookup(self, token: str | None) -> WebSession | None:
        """The live session of ``token`` (one indexed query, no write), or None."""
        if not token:
            return None
        row = self._store.lookup_fast(self._db.engine, _digest(token))
        return None if row is None else self._live(row)

    def _live(self, row: SessionRow) -> WebSession | None:
        now = self._clock()
        if (now - row.last_seen > self.idle_timeout_s
                or now - row.created_at > self.absolute_timeout_s):  # fmt: skip
            return None
        return WebSession(user_id=row.user_id, csrf_token=row.csrf_token,
                          created_at=row.created_at, last_seen=row.last_seen,
                          digest=row.token_digest, user_key=(row.user_version, row.user_epoch),
                          user_active=bool(row.user_active))  # fmt: skip

    def needs_touch(self, session: WebSession) -> bool:
        """Whether the session's last use is old enough to be written again."""
        return self._clock() - session.last_seen >= self.touch_interval_s

    def touch(self, session: WebSession) -> None:
        """Write the session's last use (now)."""
        now = self._clock()
        with self._db.write() as conn:
            self._store.touch(conn, session.digest, now)
        session.last_seen = now

    def get(self, token: str | None, *, touch: bool = True) -> WebSession | None:
        """The live session of ``token`` (its last use written when due), or None."""
        session = self.lookup(token)
        if session is not None and touch and self.needs_touch(session):
            self.touch(session)
        return session

    def revoke(self, token: str | None, *, conn: Connection | None = None) -> None:
        """End the session of ``token`` (logout); unknown tokens are ignored."""
        if token:
            with self._db.write(conn) as c:
                self._store.revoke(c, _digest(token))

    def forget_user(self, user_id: int, *, conn: Connection | None = None) -> None:
        """Make every session of ``user_id``, on every process, reload the user."""
        with self._db.write(conn) as c:
            self._store.forget_user(c, user_id)

    def revoke_user(
        self, user_id: int, *, keep: str | None = None, conn: Connection | None = None
    ) -> int:
        """End every session of ``user_id`` but the one of token ``keep`` (deactivation,
        password change); return how many ended."""
        with self._db.write(conn) as c:
            return self._store.revoke_user(c, user_id, keep=_digest(keep) if keep else None)

    def __len__(self) -> int:
        with self._db.read() as conn:
            return self._store.count(conn)

    def expires_in(self, session: WebSession) -> float:
        """Seconds until ``session`` ends if it stays idle."""
        idle_end = session.last_seen + self.idle_timeout_s
        absolute_end = session.created_at + self.absolute_timeout_s
        return max(0.0, min(idle_end, absolute_end) - self._clock())


class LoginThrottle:
    """At most ``max_failures`` password checks per user name and window, on every process.

    A login first takes a check (:meth:`reserve`, atomic), then hashes the password; a wrong
    password keeps the check (:meth:`failed`), a right one gives them all back
    (:meth:`succeeded`). Once the checks are taken, no password of that name is checked until
    ``lockout_s`` seconds after the last failure.

    Parameters
    ----------
    engine : Engine
        The study database.
    max_failures : int
        Password checks allowed per window.
    lockout_s : float
        Seconds the name stays locked after its last failure.
    clock : callable, optional
        Seconds since the epoch, default :func:`time.time`.

    >>> from cletrial.store import create_engine_for, upgrade
    >>> engine = create_engine_for("sqlite://"); upgrade(engine)
    >>> t = LoginThrottle(engine, max_failures=2, lockout_s=60, clock=lambda: 0.0)
    >>> [t.reserve("ana"), t.reserve("ANA"), t.reserve("ana")]
    [1, 2, None]
    >>> t.locked("ana"), t.succeeded("ana"), t.locked("ana")
    (True, None, False)
    """

    def __init__(
        self,
        engine: Engine,
        *,
        max_failures: int,
        lockout_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self._clock = clock
        self._db = _Database(engine)
        self._store = LoginThrottleStore(limit=max_failures, window_s=lockout_s)

    def reserve(self, username: str) -> int | None:
        """Take a password check for ``username`` (its number, 1 to ``max_failures``), or
        None when the name is locked: then check no password."""
        with self._db.write() as conn:
            return self._store.reserve(conn, name_digest(username), now=self._clock())

    def failed(self, username: str, *, conn: Connection | None = None) -> None:
        """The password checked was wrong: the check stays taken."""
        with self._db.write(conn) as c:
            self._store.failed(c, name_digest(username), now=self._clock())

    def succeeded(self, username: str, *, conn: Connection | None = None) -> None:
        """The password checked was right: forget the name's failures."""
        with self._db.write(conn) as c:
            self._store.succeeded(c, name_digest(username))

    def locked(self, username: str) -> bool:
        """True while no password check is left for ``username``."""
        with self._db.read() as conn:
            return self._store.locked(conn, name_digest(username), now=self._clock())
