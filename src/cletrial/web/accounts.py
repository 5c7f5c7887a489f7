"""The logged-in user as the web layer sees it, and checks of what they may do.

A :class:`WebUser` is a snapshot of a ``users`` row with its sites and the permissions of its
role, reloaded on every request so that a deactivated user or a changed role takes effect at
once. Object-level access: a user sees only the patients of their own sites
(:meth:`WebUser.check_site`); a refusal is logged with the user id, the route and the site, never
a patient identifier.

>>> u = WebUser(id=1, username="ana", display_name="Ana", role="monitor", active=True,
...             site_ids=frozenset({1}), version=1)
>>> u.can("view"), u.can("edit")
(True, False)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine

from cletrial.errors import AccessDeniedError, NotFoundError
from cletrial.store.records import UserRecord
from cletrial.store.unit_of_work import UnitOfWork
from cletrial.web.security import Permission, compute_permissions

__all__ = ["WebUser", "authenticate", "load_user", "verify_user_password"]

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

    def check_site(self, site_id: int, *, route: str = "?") -> None:
        """Refuse (and log) access to a record of a site the user does not work at.

        The log names the user id, the route template and the site, not the patient.
        """
        if site_id not in self.site_ids:
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


def _web_user(record: UserRecord) -> WebUser:
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
            return _web_user(uow.users.get(user_id))
        except NotFoundError:
            return None


def authenticate(engine: Engine, username: str, password: str) -> WebUser | None:
    """Return the active user with this name and password, or None (never says which failed)."""
    with UnitOfWork(engine, read_only=True) as uow:
        record = uow.users.verify_password(username, password)
    return None if record is None else _web_user(record)


def verify_user_password(engine: Engine, user: WebUser, password: str) -> bool:
    """Check a password re-entered for an electronic signature."""
    return authenticate(engine, user.username, password) is not None
