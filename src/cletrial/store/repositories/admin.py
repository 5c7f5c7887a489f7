"""Studies, sites and users (with argon2 password hashes)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from cletrial.errors import NotFoundError
from cletrial.store.capture_rules import compute_study_today
from cletrial.store.fields import table_of
from cletrial.store.password_policy import MIN_PASSWORD_LENGTH, check_password
from cletrial.store.records import SiteRecord, StudyRecord, UserRecord
from cletrial.store.repositories.base import Repository
from cletrial.values import problem_text

__all__ = ["MIN_PASSWORD_LENGTH", "SiteRepository", "StudyRepository", "UserRepository"]

_HASHER: Final = PasswordHasher()
#: A hash to verify against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH: Final = _HASHER.hash("cletrial-no-such-user")


def _hash_password(password: str, *, username: str, display_name: str = "") -> str:
    """The argon2 hash of a password the policy accepts (:mod:`cletrial.store.password_policy`)."""
    check_password(password, username=username, display_name=display_name)
    return _HASHER.hash(password)


class StudyRepository(Repository[StudyRecord]):
    """Studies (natural key: ``code``)."""

    table = "studies"
    record = StudyRecord

    def create(
        self, *, code: str, title: str, protocol_id: str, protocol_version: str,
        time_zone: str | None = None,
    ) -> StudyRecord:  # fmt: skip
        """Create a study running protocol ``protocol_id`` at ``protocol_version``; its
        ``time_zone`` (IANA, e.g. ``Europe/Madrid``; UTC when not given) sets "today" for the
        rule that nothing is dated in the future."""
        if time_zone is not None:
            compute_study_today(time_zone)  # refuses a zone that does not exist
        return self._create({"code": code, "title": title, "protocol_id": protocol_id,
                             "protocol_version": protocol_version,
                             "time_zone": time_zone})  # fmt: skip

    def update(
        self, record_id: int, *, expected_version: int, reason: str | None = None, **changes: Any
    ) -> StudyRecord:
        """Change a study; a new ``time_zone`` must be an IANA zone."""
        if changes.get("time_zone") is not None:
            compute_study_today(changes["time_zone"])
        return super().update(record_id, expected_version=expected_version, reason=reason,
                              **changes)  # fmt: skip

    def by_code(self, code: str) -> StudyRecord | None:
        """Return the study with this code, or ``None``."""
        return self._find(code=code)

    def list(self) -> list[StudyRecord]:
        """Every study, by id."""
        return self._list()


class SiteRepository(Repository[SiteRecord]):
    """Sites of a study (natural key: study and ``code``)."""

    table = "sites"
    record = SiteRecord
    order_by = ("study_id", "code")

    def create(
        self, *, study_id: int, code: str, name: str, country: str | None = None
    ) -> SiteRecord:
        """Add a site to a study; ``country`` is its ISO 3166-1 alpha-3 code (``ESP``)."""
        return self._create({"study_id": study_id, "code": code, "name": name,
                             "country": country})  # fmt: skip

    def by_code(self, study_id: int, code: str) -> SiteRecord | None:
        """Return the site of the study with this code, or ``None``."""
        return self._find(study_id=study_id, code=code)

    def list(self, study_id: int | None = None) -> list[SiteRecord]:
        """Sites of one study (or of every study)."""
        where = [] if study_id is None else [self._t.c.study_id == study_id]
        return self._list(*where)


class UserRepository(Repository[UserRecord]):
    """Users, their role and sites; passwords are stored as argon2 hashes only."""

    table = "users"
    record = UserRecord
    order_by = ("username",)

    def _site_ids(self, user_id: int) -> tuple[int, ...]:
        t = table_of("user_sites")
        query = select(t.c.site_id).where(t.c.user_id == user_id).order_by(t.c.site_id)
        return tuple(self._uow.connection.execute(query).scalars())

    def _with_sites(self, row: dict[str, Any]) -> UserRecord:
        return UserRecord.from_row({**row, "site_ids": self._site_ids(row["id"])})

    def get(self, record_id: int) -> UserRecord:
        """Return the user with this id, with their site ids."""
        return self._with_sites(self._uow.get(self.table, record_id))

    def create(
        self,
        *,
        username: str,
        password: str,
        role: str,
        display_name: str | None = None,
        site_ids: Iterable[int] = (),
        active: bool = True,
    ) -> UserRecord:
        """Create a user; the password (see :func:`~cletrial.store.password_policy.check_password`)
        is stored as an argon2 hash."""
        password_hash = _hash_password(password, username=username,
                                       display_name=display_name or "")  # fmt: skip
        row = self._uow.insert(self.table, {
            "username": username, "display_name": display_name or username, "role": role,
            "password_hash": password_hash, "active": active,
        })  # fmt: skip
        for site_id in site_ids:
            self._uow.insert("user_sites", {"user_id": row["id"], "site_id": site_id})
        return self._with_sites(row)

    def by_username(self, username: str) -> UserRecord | None:
        """Return the user with this username, or ``None`` (also for a name breaking the text
        rule, e.g. with a NUL byte, which no user can have and PostgreSQL cannot compare)."""
        if problem_text(username) is not None:
            return None
        row = self._uow.find(self.table, username=username)
        return None if row is None else self._with_sites(row)

    def list(self, site_id: int | None = None) -> list[UserRecord]:
        """Users, by username; with ``site_id``, only those working at that site."""
        where = []
        if site_id is not None:
            us = table_of("user_sites")
            where.append(self._t.c.id.in_(select(us.c.user_id).where(us.c.site_id == site_id)))
        return [self._with_sites(row) for row in self._rows(*where)]

    def set_password(
        self, user_id: int, password: str, *, expected_version: int, reason: str | None = None
    ) -> UserRecord:
        """Replace a user's password (the audit trail shows that it changed, not the hash)."""
        current = self._uow.get(self.table, user_id)
        password_hash = _hash_password(password, username=current["username"],
                                       display_name=current["display_name"])  # fmt: skip
        row = self._uow.update(
            self.table,
            user_id,
            {"password_hash": password_hash},
            expected_version=expected_version,
            reason=reason,
            system=True,
        )
        return self._with_sites(row)  # fmt: skip

    def add_site(self, user_id: int, site_id: int) -> UserRecord:
        """Let a user work at one more site."""
        self._uow.insert("user_sites", {"user_id": user_id, "site_id": site_id})
        return self.get(user_id)

    def remove_site(self, user_id: int, site_id: int, *, reason: str | None = None) -> UserRecord:
        """Stop a user working at a site."""
        row = self._uow.find("user_sites", user_id=user_id, site_id=site_id)
        if row is None:
            raise NotFoundError(f"users {user_id} does not work at sites {site_id}")
        self._uow.delete("user_sites", row["id"], expected_version=row["version"], reason=reason)
        return self.get(user_id)

    def verify_password(self, username: str, password: str) -> UserRecord | None:
        """Return the active user if the password is right, else ``None`` (same effort
        either way). A name breaking the text rule (a NUL byte, say) matches no user."""
        valid = problem_text(username) is None
        row = self._uow.find(self.table, username=username) if valid else None
        stored = row["password_hash"] if row is not None else _DUMMY_HASH
        try:
            _HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or not row["active"]:
            return None
        return self._with_sites(row)
