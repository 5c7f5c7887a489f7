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

The registry of sessions lives in one application instance (``app.state``), never in a module
global; ``cletrial serve`` runs one worker process.

>>> sorted(p.value for p in ROLE_PERMISSIONS[Role.MONITOR])
['query', 'verify', 'view', 'view_audit']
>>> registry = SessionRegistry(idle_timeout_s=60, absolute_timeout_s=3600, clock=lambda: 0.0)
>>> token, session = registry.create(user_id=7)
>>> len(token) >= 43 and registry.get(token) is session
True
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "LOGIN_CSRF_COOKIE",
    "ROLE_PERMISSIONS",
    "SESSION_COOKIE",
    "LoginThrottle",
    "Permission",
    "Role",
    "SessionRegistry",
    "WebSession",
    "compute_permissions",
    "new_token",
    "tokens_match",
]

SESSION_COOKIE: Final = "cletrial_session"
LOGIN_CSRF_COOKIE: Final = "cletrial_login_csrf"
CSRF_HEADER: Final = "X-CSRF-Token"
CSRF_FIELD: Final = "csrf_token"

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
        }
    ),
    Role.COORDINATOR: frozenset(
        {Permission.VIEW, Permission.VIEW_AUDIT, Permission.SCREEN, Permission.EDIT,
         Permission.ANSWER}
    ),
    Role.MONITOR: frozenset(
        {Permission.VIEW, Permission.VIEW_AUDIT, Permission.QUERY, Permission.VERIFY}
    ),
    Role.DATA_MANAGER: frozenset(
        {Permission.VIEW, Permission.VIEW_AUDIT, Permission.QUERY, Permission.CHECKS,
         Permission.LOCK, Permission.EXPORT}
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


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class WebSession:
    """One logged-in session (the token itself is not kept, only its digest).

    Times are seconds on the registry's clock.
    """

    user_id: int
    csrf_token: str
    created_at: float
    last_seen: float
    digest: str = field(repr=False, default="")
    user: Any = field(repr=False, default=None)  # snapshot of the user, see deps.USER_CACHE_S
    user_loaded_at: float = 0.0

    def forget_user(self) -> None:
        """Drop the user snapshot so the next request reloads it."""
        self.user = None


class SessionRegistry:
    """Server-side sessions with idle and absolute timeouts (thread-safe).

    Parameters
    ----------
    idle_timeout_s : float
        A session unused for longer than this ends.
    absolute_timeout_s : float
        A session older than this ends, however active.
    clock : callable, optional
        Returns the current time in seconds (default :func:`time.monotonic`); tests pass a
        fake clock.

    >>> now = [0.0]
    >>> reg = SessionRegistry(idle_timeout_s=10, absolute_timeout_s=25, clock=lambda: now[0])
    >>> token, _ = reg.create(user_id=1)
    >>> now[0] = 9.0; reg.get(token) is not None
    True
    >>> now[0] = 20.0; reg.get(token) is None   # idle for 11 s
    True
    """

    def __init__(
        self,
        *,
        idle_timeout_s: float,
        absolute_timeout_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle_timeout_s = idle_timeout_s
        self.absolute_timeout_s = absolute_timeout_s
        self._clock = clock
        self._sessions: dict[str, WebSession] = {}
        self._lock = threading.Lock()

    def create(self, user_id: int, *, replaces: str | None = None) -> tuple[str, WebSession]:
        """Start a session for ``user_id`` and return ``(token, session)``.

        ``replaces`` is the token the client held before logging in; it is revoked, so a
        session token is never carried across a login (no session fixation).
        """
        token = new_token()
        now = self._clock()
        session = WebSession(
            user_id=user_id,
            csrf_token=new_token(),
            created_at=now,
            last_seen=now,
            digest=_digest(token),
        )
        with self._lock:
            if replaces:
                self._sessions.pop(_digest(replaces), None)
            self._purge(now)
            self._sessions[session.digest] = session
        return token, session

    def get(self, token: str | None, *, touch: bool = True) -> WebSession | None:
        """Return the live session of ``token`` (and mark it used), or None if none or expired."""
        if not token:
            return None
        digest = _digest(token)
        now = self._clock()
        with self._lock:
            session = self._sessions.get(digest)
            if session is None:
                return None
            if self._expired(session, now):
                del self._sessions[digest]
                return None
            if touch:
                session.last_seen = now
            return session

    def revoke(self, token: str | None) -> None:
        """End the session of ``token`` (logout); unknown tokens are ignored."""
        if token:
            with self._lock:
                self._sessions.pop(_digest(token), None)

    def forget_user(self, user_id: int) -> None:
        """Make every session of ``user_id`` reload the user on its next request."""
        with self._lock:
            for session in self._sessions.values():
                if session.user_id == user_id:
                    session.forget_user()

    def revoke_user(self, user_id: int) -> int:
        """End every session of ``user_id`` (deactivation, password change); return how many."""
        with self._lock:
            doomed = [k for k, s in self._sessions.items() if s.user_id == user_id]
            for key in doomed:
                del self._sessions[key]
        return len(doomed)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def expires_in(self, session: WebSession) -> float:
        """Seconds until ``session`` ends if it stays idle."""
        idle_end = session.last_seen + self.idle_timeout_s
        absolute_end = session.created_at + self.absolute_timeout_s
        return max(0.0, min(idle_end, absolute_end) - self._clock())

    def _expired(self, session: WebSession, now: float) -> bool:
        return (
            now - session.last_seen > self.idle_timeout_s
            or now - session.created_at > self.absolute_timeout_s
        )

    def _purge(self, now: float) -> None:
        doomed = [k for k, s in self._sessions.items() if self._expired(s, now)]
        for key in doomed:
            del self._sessions[key]


class LoginThrottle:
    """Refuse logins for a user name after repeated failures (in-memory, thread-safe).

    Parameters
    ----------
    max_failures : int
        Failures within ``lockout_s`` after which the name is locked.
    lockout_s : float
        Seconds the name stays locked after its last failure.
    clock : callable, optional
        Seconds, default :func:`time.monotonic`.

    >>> t = LoginThrottle(max_failures=2, lockout_s=60, clock=lambda: 0.0)
    >>> t.record_failure("ana"); t.locked("ana")
    False
    >>> t.record_failure("ana"); t.locked("ana")
    True
    >>> t.record_success("ana"); t.locked("ana")
    False
    """

    def __init__(
        self, *, max_failures: int, lockout_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self._clock = clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> list[float]:
        times = [t for t in self._failures.get(key, []) if now - t < self.lockout_s]
        if times:
            self._failures[key] = times
        else:
            self._failures.pop(key, None)
        return times

    def locked(self, username: str) -> bool:
        """True while ``username`` has too many recent failures."""
        key = username.casefold()
        with self._lock:
            return len(self._recent(key, self._clock())) >= self.max_failures

    def record_failure(self, username: str) -> None:
        """Count a failed login for ``username``."""
        key = username.casefold()
        with self._lock:
            now = self._clock()
            self._failures[key] = [*self._recent(key, now), now]

    def record_success(self, username: str) -> None:
        """Forget the failures of ``username`` after a successful login."""
        with self._lock:
            self._failures.pop(username.casefold(), None)
