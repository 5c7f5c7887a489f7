"""Helpers for the web layer's login: create a user, check a password.

>>> from cletrial.store import UnitOfWork, create_engine_for, upgrade
>>> engine = create_engine_for("sqlite://"); upgrade(engine)
>>> with UnitOfWork(engine, user="admin") as uow:
...     user = create_user(uow, "ana", "correct horse", role="investigator")
>>> with UnitOfWork(engine, read_only=True) as uow:
...     verify_password(uow, "ana", "correct horse").role, verify_password(uow, "ana", "wrong")
('investigator', None)
"""

from __future__ import annotations

from collections.abc import Iterable

from cletrial.store.records import UserRecord
from cletrial.store.unit_of_work import UnitOfWork

__all__ = ["create_user", "verify_password"]


def create_user(
    uow: UnitOfWork,
    username: str,
    password: str,
    *,
    role: str,
    display_name: str | None = None,
    site_ids: Iterable[int] = (),
) -> UserRecord:
    """Create a user with an argon2 password hash.

    Parameters
    ----------
    uow : UnitOfWork
        A writable unit of work (its user is recorded as the creator).
    username : str
        Unique login name (at most 80 characters).
    password : str
        At least 8 characters; only its argon2 hash is stored.
    role : str
        investigator, coordinator, monitor, statistician or administrator.
    display_name : str, optional
        Name shown in the interface (defaults to the username).
    site_ids : iterable of int
        Sites the user works at.
    """
    return uow.users.create(username=username, password=password, role=role,
                            display_name=display_name, site_ids=site_ids)  # fmt: skip


def verify_password(uow: UnitOfWork, username: str, password: str) -> UserRecord | None:
    """Return the active user when ``password`` is right, else ``None``.

    Takes the same time whether or not the user exists.
    """
    return uow.users.verify_password(username, password)
