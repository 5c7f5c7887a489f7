"""FastAPI dependencies: settings, database, the logged-in user, permissions, CSRF.

Use them as ``Annotated`` types in route signatures::

    def show(patient_id: int, user: CurrentUser, db: SessionDep) -> ...

* :data:`SessionDep` is a read-only unit of work of the store (never commits, never blocks
  SQLite writers); writes open their own unit of work (:func:`write_uow`), the only place
  that commits.
* :data:`CurrentUser` resolves the session token (cookie or ``Authorization: Bearer``) with one
  indexed query on the shared ``web_sessions`` table, enforces the idle and absolute timeouts,
  reloads the user when their version changed (a deactivated user is logged out at once, on
  every worker process) and checks the CSRF token of every unsafe request authenticated by the
  cookie.
* :func:`require` builds a dependency that also checks a permission.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine

from cletrial.store.records import PatientRecord
from cletrial.store.unit_of_work import UnitOfWork
from cletrial.web.accounts import CURRENT_ROUTE, WebUser, load_user
from cletrial.web.clinical import patient_in_scope
from cletrial.web.handlers import CsrfError, NotAuthenticatedError
from cletrial.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    UNSAFE_METHODS,
    Permission,
    SessionRegistry,
    WebSession,
    tokens_match,
)
from cletrial.web.settings import WebSettings

__all__ = [
    "Admin",
    "Answerer",
    "Auditor",
    "Checker",
    "CurrentUser",
    "Editor",
    "EngineDep",
    "Exporter",
    "FormItems",
    "Locker",
    "OptionalUser",
    "Querier",
    "Randomiser",
    "Reporter",
    "ScopedPatient",
    "Screener",
    "SessionDep",
    "SettingsDep",
    "Signer",
    "Unblinder",
    "Unlocker",
    "UserCache",
    "Verifier",
    "Viewer",
    "get_db",
    "get_engine",
    "get_form_items",
    "get_settings",
    "read_token",
    "require",
    "write_uow",
]


def get_settings(request: Request) -> WebSettings:
    """The application's settings."""
    settings: WebSettings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    """The application's database engine."""
    engine: Engine = request.app.state.engine
    return engine


def get_db(request: Request) -> Iterator[UnitOfWork]:
    """A read-only unit of work for the request (never writes; never blocks SQLite writers)."""
    with UnitOfWork(get_engine(request), read_only=True) as uow:
        yield uow


SettingsDep = Annotated[WebSettings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[UnitOfWork, Depends(get_db)]


def read_token(request: Request) -> tuple[str | None, bool]:
    """Return ``(token, from_cookie)``: the bearer token if sent, else the session cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    return request.cookies.get(SESSION_COOKIE), True


async def _csrf_token_of(request: Request) -> str | None:
    given = request.headers.get(CSRF_HEADER)
    if given:
        return given
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def _live_session(request: Request) -> tuple[WebSession, bool] | None:
    registry: SessionRegistry = request.app.state.sessions
    token, from_cookie = read_token(request)
    if not token:
        return None
    # One primary-key query. On SQLite (a local read that never waits for writers) on the
    # event loop; on PostgreSQL (a round trip) in the threadpool.
    if registry.reads_are_local:
        session = registry.lookup(token)
    else:
        session = await run_in_threadpool(registry.lookup, token)
    if session is None:
        return None
    if registry.needs_touch(session):  # at most once a minute a session
        await run_in_threadpool(registry.touch, session)
    return session, from_cookie


async def _check_csrf(request: Request, session: WebSession, from_cookie: bool) -> None:
    unsafe = request.method in UNSAFE_METHODS and from_cookie
    if unsafe and not tokens_match(session.csrf_token, await _csrf_token_of(request)):
        raise CsrfError(
            "the form or request is missing its security token (CSRF) or it is stale: "
            "reload the page and try again"
        )


#: Seconds a process keeps its snapshot of a user before reloading it from the database. A
#: change of the user's role or activation (a new ``users.version``) or of their sites made
#: through this application (a new session ``user_epoch``) reloads it at once, on every
#: process; other changes within this many seconds.
USER_CACHE_S = 5.0


class UserCache:
    """Snapshots of users by id, each with the key (user version, session epoch) it was read
    at (one per process, thread-safe)."""

    def __init__(self) -> None:
        self._users: dict[int, tuple[tuple[int, int], float, WebUser]] = {}
        self._lock = threading.Lock()

    def get(self, user_id: int, key: tuple[int, int], now: float) -> WebUser | None:
        """The snapshot read at ``key`` less than :data:`USER_CACHE_S` ago, or None."""
        with self._lock:
            found = self._users.get(user_id)
        if found is None or found[0] != key or now - found[1] >= USER_CACHE_S:
            return None
        return found[2]

    def put(self, user_id: int, key: tuple[int, int], now: float, user: WebUser) -> None:
        """Keep a snapshot."""
        with self._lock:
            self._users[user_id] = (key, now, user)


async def _cached_user(request: Request, session: WebSession) -> WebUser | None:
    cache: UserCache = request.app.state.user_cache
    now = time.monotonic()
    user = cache.get(session.user_id, session.user_key, now)
    if user is not None:
        return user
    # A database read: in the threadpool, never on the event loop.
    loaded = await run_in_threadpool(load_user, get_engine(request), session.user_id)
    if loaded is not None:
        cache.put(session.user_id, session.user_key, now, loaded)
    return loaded


async def _optional_user(request: Request) -> WebUser | None:
    found = await _live_session(request)
    if found is None:
        return None
    session, from_cookie = found
    user = await _cached_user(request, session) if session.user_active else None
    if user is None or not user.active:
        await run_in_threadpool(request.app.state.sessions.revoke, read_token(request)[0])
        return None
    await _check_csrf(request, session, from_cookie)
    route = request.scope.get("route")
    CURRENT_ROUTE.set(str(getattr(route, "path", "?")))
    request.state.web_session = session
    request.state.user = user
    return user


async def _current_user(request: Request) -> WebUser:
    user = await _optional_user(request)
    if user is None:
        raise NotAuthenticatedError("log in first: no session, or the session has ended")
    return user


async def get_form_items(request: Request) -> list[tuple[str, str]]:
    """The fields of a posted HTML form as ``(name, value)`` pairs (uploaded files ignored).

    The body is read on the event loop, so the page route itself can be a plain ``def`` that
    FastAPI runs in its threadpool (database work and password hashing never block the loop).
    """
    form = await request.form()
    return [(name, value) for name, value in form.multi_items() if isinstance(value, str)]


#: The posted form's fields, in order (a name may repeat, e.g. ticked ``site_ids``).
FormItems = Annotated[list[tuple[str, str]], Depends(get_form_items)]

OptionalUser = Annotated[WebUser | None, Depends(_optional_user)]
CurrentUser = Annotated[WebUser, Depends(_current_user)]


@contextmanager
def write_uow(request: Request, user: WebUser, reason: str | None = None) -> Iterator[UnitOfWork]:
    """A unit of work that writes as ``user``; commits when the ``with`` block ends.

    Call it from plain ``def`` routes (FastAPI's threadpool), never on the event loop. On SQLite
    (one writer at a time) writers of this process queue on an in-process lock, which wakes the
    next one as soon as a commit ends, instead of polling SQLite's busy handler.
    """
    engine = get_engine(request)
    lock = request.app.state.write_lock if engine.dialect.name == "sqlite" else nullcontext()
    with lock, UnitOfWork(engine, user=user.username, reason=reason, edit_checks=True) as uow:
        yield uow


def require(permission: Permission) -> Callable[..., Any]:
    """A dependency returning the current user if their role grants ``permission``.

    >>> callable(require(Permission.SIGN))
    True
    """

    async def dependency(user: CurrentUser) -> WebUser:
        user.check(permission)
        return user

    dependency.__name__ = f"require_{permission.value}"
    return dependency


def _scoped_patient(
    patient_id: Annotated[int, Path(ge=1, le=2_147_483_647, description="patient id")],
    user: CurrentUser,
    uow: SessionDep,
) -> PatientRecord:
    return patient_in_scope(uow, user, patient_id)


#: The patient of the ``{patient_id}`` path parameter, read in the request's unit of work:
#: 404 when there is none, 403 (logged with the route template) when it is at another site.
ScopedPatient = Annotated[PatientRecord, Depends(_scoped_patient)]

# One alias per permission: ``user: Editor`` in a route signature is the signed-in user, refused
# (403) unless their role grants the permission.
Viewer = Annotated[WebUser, Depends(require(Permission.VIEW))]
Auditor = Annotated[WebUser, Depends(require(Permission.VIEW_AUDIT))]
Screener = Annotated[WebUser, Depends(require(Permission.SCREEN))]
Editor = Annotated[WebUser, Depends(require(Permission.EDIT))]
Signer = Annotated[WebUser, Depends(require(Permission.SIGN))]
Unlocker = Annotated[WebUser, Depends(require(Permission.UNLOCK))]
Reporter = Annotated[WebUser, Depends(require(Permission.REPORT))]
Exporter = Annotated[WebUser, Depends(require(Permission.EXPORT))]
Admin = Annotated[WebUser, Depends(require(Permission.ADMIN))]
Querier = Annotated[WebUser, Depends(require(Permission.QUERY))]
Answerer = Annotated[WebUser, Depends(require(Permission.ANSWER))]
Verifier = Annotated[WebUser, Depends(require(Permission.VERIFY))]
Locker = Annotated[WebUser, Depends(require(Permission.LOCK))]
Checker = Annotated[WebUser, Depends(require(Permission.CHECKS))]
Randomiser = Annotated[WebUser, Depends(require(Permission.RANDOMISE))]
Unblinder = Annotated[WebUser, Depends(require(Permission.UNBLIND))]
