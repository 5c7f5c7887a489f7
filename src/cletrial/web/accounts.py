"""The logged-in user as the web layer sees it, and checks of what they may do.

A :class:`WebUser` is a snapshot of a ``users`` row with its sites and the permissions of its
role, reloaded on every request so that a deactivated user or a changed role takes effect at
once. Object-level access: a user sees only the patients of their own sites
(:meth:`WebUser.check_site`); a refusal is logged with the user id, the route and the site, never
a patient identifier.

Logins, failed logins, lock-outs, logouts and password changes are recorded as
``login_events`` through the unit of work (each with its audit row), in the same transaction as
the session or throttle change they go with. A failed login for a name that is no account is
recorded without the name (only the first 12 hex digits of its SHA-256: a name typed may be a
password typed in the wrong field); passwords are never recorded nor logged.

>>> u = WebUser(id=1, username="ana", display_name="Ana", role="monitor", active=True,
...             site_ids=frozenset({1}), version=1)
>>> u.can("view"), u.can("edit")
(True, False)
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import Engine

from cletrial.errors import AccessDeniedError, NotFoundError
from cletrial.store.password_policy import check_password
from cletrial.store.records import UserRecord
from cletrial.store.unit_of_work import UnitOfWork
from cletrial.web.handlers import LoginLockedError
from cletrial.web.schemas import UserPublic
from cletrial.web.security import (
    LoginThrottle,
    Permission,
    SessionRegistry,
    WebSession,
    compute_permissions,
    name_digest,
)

__all__ = [
    "ANONYMOUS",
    "CURRENT_ROUTE",
    "WebUser",
    "authenticate",
    "change_password",
    "end_session",
    "load_user",
    "start_session",
    "throttled_check",
    "user_public",
    "verify_user_password",
    "web_user",
]

#: The route template of the request being served (``/api/visits/{visit_id}``), set when the
#: user is identified; logged when access to another site's record is refused.
CURRENT_ROUTE: ContextVar[str] = ContextVar("cletrial_route", default="?")

#: The actor recorded for a failed login with a name that is no account.
ANONYMOUS: Final = "anonymous"

log = logging.getLogger("cletrial.web.access")


@dataclass(frozen=True)
class WebUser:
    """A user of the web application (no password hash).

    Parameters
    ----------
    role : str
        investigator, coordinator, monitor, statistician or administrator.
    site_ids : frozenset of int
        Sites whose patients the user may see.
    """

    id: int
    username: str
    display_name: str
    role: str
    active: bool
    site_ids: frozenset[int]
    version: int
    permissions: frozenset[str] = field(default=frozenset())

    def __post_init__(self) -> None:
        if not self.permissions:
            object.__setattr__(self, "permissions", compute_permissions([self.role]))

    def can(self, permission: Permission | str) -> bool:
        """True when the user's role grants ``permission``."""
        return str(permission) in self.permissions

    def check(self, permission: Permission | str) -> None:
        """Raise :class:`~cletrial.errors.AccessDeniedError` unless the role grants it."""
        if not self.can(permission):
            raise AccessDeniedError(
                f"your role ({self.role}) does not allow this ({permission}): "
                "ask the study administrator if you need it"
            )

    def check_site(self, site_id: int, *, route: str | None = None) -> None:
        """Refuse (and log) access to a record of a site the user does not work at.

        The log names the user id, the route template (by default the current request's,
        :data:`CURRENT_ROUTE`) and the site, not the patient.
        """
        if site_id not in self.site_ids:
            route = route or CURRENT_ROUTE.get()
            log.warning(
                "refused cross-site access: user %s (%s) on %s, record of site %s",
                self.id,
                self.role,
                route,
                site_id,
            )
            raise AccessDeniedError(
                "this patient is not at one of your sites: access refused (the attempt is logged)"
            )


def web_user(record: UserRecord) -> WebUser:
    """The web view of a stored user."""
    return WebUser(
        id=record.id,
        username=record.username,
        display_name=record.display_name,
        role=record.role,
        active=bool(record.active),
        site_ids=frozenset(record.site_ids),
        version=record.version,
    )


def load_user(engine: Engine, user_id: int) -> WebUser | None:
    """Load user ``user_id`` with their sites, or None if there is no such user."""
    with UnitOfWork(engine, read_only=True) as uow:
        try:
            return web_user(uow.users.get(user_id))
        except NotFoundError:
            return None


def authenticate(engine: Engine, username: str, password: str) -> WebUser | None:
    """Return the active user with this name and password, or None (never says which failed)."""
    with UnitOfWork(engine, read_only=True) as uow:
        record = uow.users.verify_password(username, password)
    return None if record is None else web_user(record)


def verify_user_password(engine: Engine, user: WebUser, password: str) -> bool:
    """Check a password re-entered for an electronic signature."""
    return authenticate(engine, user.username, password) is not None


def _locked_error(action: str) -> LoginLockedError:
    return LoginLockedError(f"too many wrong passwords for this user name: wait 15 minutes "
                            f"before {action} again, or ask an administrator")  # fmt: skip


def throttled_check(
    engine: Engine, throttle: LoginThrottle, username: str, password: str, *, channel: str,
    action: str = "logging in", detail: str | None = None,
) -> WebUser | None:  # fmt: skip
    """Check a password under the login throttle: the active user, or None (recorded).

    A password check is taken atomically *before* hashing; when none is left the password is
    not checked at all and :class:`~cletrial.web.handlers.LoginLockedError` is raised. A wrong
    password is recorded as a ``login_failed`` event (and a ``lockout`` when it used the last
    check of the window).

    Parameters
    ----------
    channel : str
        ``page``, ``api`` or ``cli``.
    action : str
        What the user was doing, for the lock-out message ("signing", ...).
    detail : str, optional
        Recorded with a failure (e.g. "password re-entered to sign").

    Examples
    --------
    >>> from cletrial.store import create_engine_for, upgrade
    >>> engine = create_engine_for("sqlite://"); upgrade(engine)
    >>> with UnitOfWork(engine, user="admin") as uow:
    ...     _ = uow.users.create(username="ana", password="correct horse", role="monitor")
    >>> throttle = LoginThrottle(engine, max_failures=1, lockout_s=60)
    >>> throttled_check(engine, throttle, "ana", "wrong horse", channel="api") is None
    True
    >>> throttled_check(engine, throttle, "ana", "correct horse", channel="api")
    Traceback (most recent call last):
    ...
    cletrial.web.handlers.LoginLockedError: too many wrong passwords for this user name: ...
    >>> with UnitOfWork(engine, read_only=True) as uow:
    ...     [e.event for e in uow.login_events.list()]
    ['lockout', 'login_failed']
    """
    number = throttle.reserve(username)
    if number is None:
        log.warning("password not checked: too many failures for one user name")
        raise _locked_error(action)
    user = authenticate(engine, username, password)
    if user is None:
        _record_failure(engine, throttle, username, number >= throttle.max_failures,
                        channel=channel, detail=detail)  # fmt: skip
    return user


def _record_failure(
    engine: Engine, throttle: LoginThrottle, username: str, last: bool, *, channel: str,
    detail: str | None,
) -> None:  # fmt: skip
    with UnitOfWork(engine, read_only=True) as uow:
        account = uow.users.by_username(username)
    name, user_id = (account.username, account.id) if account else (None, None)
    if account is None:
        detail = f"unknown user name (sha256 {name_digest(username)[:12]})"
    with UnitOfWork(engine, user=name or ANONYMOUS) as uow:
        throttle.failed(username, conn=uow.connection)
        events = ("login_failed", "lockout") if last else ("login_failed",)
        for event in events:
            uow.login_events.record_event(event, username=name, user_id=user_id,
                                          channel=channel, detail=detail)  # fmt: skip
    log.info("failed login%s", "; user name locked" if last else "")


def start_session(
    engine: Engine, throttle: LoginThrottle, sessions: SessionRegistry, user: WebUser, *,
    typed_name: str, replaces: str | None, channel: str,
) -> tuple[str, WebSession]:  # fmt: skip
    """After a right password: forget the name's failures, start a session (revoking the
    token held before) and record the login, in one transaction."""
    with UnitOfWork(engine, user=user.username) as uow:
        throttle.succeeded(typed_name, conn=uow.connection)
        token, session = sessions.create(user.id, replaces=replaces, conn=uow.connection)
        uow.login_events.record_event("login", username=user.username, user_id=user.id,
                                      channel=channel)  # fmt: skip
    log.info("login: user %s", user.id)
    return token, session


def end_session(
    engine: Engine, sessions: SessionRegistry, user: WebUser, token: str | None, *, channel: str
) -> None:
    """Log out: end the session of ``token`` and record it, in one transaction."""
    with UnitOfWork(engine, user=user.username) as uow:
        sessions.revoke(token, conn=uow.connection)
        uow.login_events.record_event("logout", username=user.username, user_id=user.id,
                                      channel=channel)  # fmt: skip


def change_password(
    engine: Engine, throttle: LoginThrottle, sessions: SessionRegistry | None, user: WebUser,
    current: str, new: str, *, keep_token: str | None, channel: str,
) -> int:  # fmt: skip
    """Change ``user``'s password after re-checking the current one (under the throttle);
    end every other session of the user; return how many ended.

    Raises
    ------
    InputError
        The new password is refused by the policy (nothing is checked nor changed).
    LoginLockedError
        Too many wrong passwords for the name.
    AccessDeniedError
        The current password is wrong (recorded as a failed login).
    """
    check_password(new, username=user.username, display_name=user.display_name)
    if throttled_check(engine, throttle, user.username, current, channel=channel,
                       action="changing your password",
                       detail="current password re-entered to change it") is None:  # fmt: skip
        raise AccessDeniedError("current password not recognised: the password is unchanged")
    with UnitOfWork(engine, user=user.username, reason="password changed by its user") as uow:
        throttle.succeeded(user.username, conn=uow.connection)
        record = uow.users.get(user.id)
        uow.users.set_password(user.id, new, expected_version=record.version)
        ended = 0
        if sessions is not None:
            ended = sessions.revoke_user(user.id, keep=keep_token, conn=uow.connection)
        uow.login_events.record_event("password_changed", username=user.username,
                                      user_id=user.id, channel=channel,
                                      detail=f"{ended} other session(s) ended")  # fmt: skip
    log.info("password changed: user %s", user.id)
    return ended


def user_public(user: WebUser) -> UserPublic:
    """The public shape of a user."""
    return UserPublic(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        active=user.active,
        site_ids=sorted(user.site_ids),
        permissions=sorted(user.permissions),
        version=user.version,
    )
