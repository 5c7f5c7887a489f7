"""The rules of the database lock and of source data verification, kept on every write.

The unit of work calls :meth:`MonitoringRules.check_lock` before each insert, update and
delete, and :meth:`MonitoringRules.clear_verification` after each update or delete of a record,
so no path (pages, API, import) can skip them:

- **freeze and lock**: when the database is ``frozen`` no clinical record may change, though
  queries may still be raised and answered and forms verified; when it is ``locked`` nothing
  may change but accounts and the lock itself (unlock, with a reason);
- **a verified value that changes loses its verification**: the mark of the whole form, or of
  the changed field, is deleted with a reason saying which fields changed and why.

On PostgreSQL a writer holds ``ROW SHARE`` on ``lock_events`` while it reads the state, and
the lock takes ``EXCLUSIVE`` on it, so no change can commit after a lock it did not see.

>>> import datetime as dt
>>> from cletrial.store import UnitOfWork, create_engine_for, upgrade
>>> engine = create_engine_for("sqlite://"); upgrade(engine)
>>> with UnitOfWork(engine, user="dm") as uow:
...     study = uow.studies.create(code="S", title="T", protocol_id="lenalidomide-cle-2012",
...                                protocol_version="1")
...     _ = uow.locks.apply("lock", reason="final analysis", signed_name="Dana Manager")
>>> with UnitOfWork(engine, user="ana") as uow:
...     _ = uow.sites.create(study_id=study.id, code="A", name="Site A")
Traceback (most recent call last):
...
cletrial.errors.LockedRecordError: sites: the database is locked (...): unlock it with a reason ...
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Connection, Select, bindparam, select, text

from cletrial.errors import LockedRecordError
from cletrial.store.engine import is_sqlite
from cletrial.store.fastpath import fetch_all, fetch_first
from cletrial.store.fields import table_of
from cletrial.store.tables_monitoring import WHOLE_FORM
from cletrial.store.types import utc_now

if TYPE_CHECKING:
    from cletrial.store.unit_of_work import UnitOfWork

__all__ = ["FREEZE_EXEMPT", "LOCK_EXEMPT", "SDV_EXEMPT", "MonitoringRules", "compute_lock_stamp"]

#: Tables that stay writable when the database is locked (accounts, their logins, the lock).
LOCK_EXEMPT: Final = frozenset({"users", "user_sites", "lock_events", "login_events"})
#: Tables that stay writable when it is frozen: also queries and verification marks.
FREEZE_EXEMPT: Final = LOCK_EXEMPT | {"queries", "query_messages", "sdv_marks"}
#: Tables whose records are never verified against the source.
SDV_EXEMPT: Final = FREEZE_EXEMPT | {"studies", "sites", "patient_identities"}


def compute_lock_stamp(conn: Connection) -> dict[str, str | None]:
    """What an export says of the database: its state, since when (the lock time when locked),
    and when the export was made (ISO times, UTC).

    >>> from cletrial.store import create_engine_for, upgrade
    >>> engine = create_engine_for("sqlite://"); upgrade(engine)
    >>> with engine.connect() as conn:
    ...     stamp = compute_lock_stamp(conn)
    >>> stamp["state"], stamp["since"]
    ('open', None)
    """
    state, since = _read_state(conn)
    return {"state": state, "since": since or None, "exported_at": utc_now().isoformat()}


def _last_lock_event() -> Select[Any]:
    t = table_of("lock_events")
    return select(t.c.state_after, t.c.signed_at).order_by(t.c.id.desc()).limit(1)


def _marks_of_record() -> Select[Any]:
    t = table_of("sdv_marks")
    return select(t.c.id, t.c.version, t.c.field).where(
        t.c.table_name == bindparam("table_name"), t.c.record_id == bindparam("record_id")
    )


def _read_state(conn: Connection) -> tuple[str, str]:
    """The last lock event's state and time (ISO), ``("open", "")`` when there is none."""
    row = fetch_first(conn, _last_lock_event, {})
    return ("open", "") if row is None else (row[0], row[1].isoformat())


class MonitoringRules:
    """The lock state and verification marks seen by one unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._state: tuple[str, str] | None = None

    def forget(self) -> None:
        """Read the lock state again at the next write (after a lock event or a commit)."""
        self._state = None

    def state(self) -> tuple[str, str]:
        """The database's state (``open``, ``frozen``, ``locked``) and since when (ISO time,
        empty when never locked)."""
        if self._state is None:
            conn = self._uow.connection
            if not self._uow.read_only and not is_sqlite(conn):
                conn.execute(text("LOCK TABLE lock_events IN ROW SHARE MODE"))
            self._state = _read_state(conn)
        return self._state

    def check_lock(self, table: str) -> None:
        """Refuse a write to ``table`` that the database's state forbids.

        Raises
        ------
        LockedRecordError
            Naming the state, since when, and what to do.
        """
        if table in LOCK_EXEMPT:
            return
        state, since = self.state()
        if state == "open" or (state == "frozen" and table in FREEZE_EXEMPT):
            return
        action = "unlock" if state == "locked" else "unfreeze"
        raise LockedRecordError(
            f"{table}: the database is {state} (since {since}): {action} it with a reason "
            "before changing data"
        )

    def clear_verification(
        self, table: str, record_id: int, fields: Iterable[str] | None, reason: str | None
    ) -> None:
        """Delete the verification marks a change of ``fields`` (``None``: the record was
        deleted) of a record invalidates, each with the reason why."""
        if table in SDV_EXEMPT:
            return
        params = {"table_name": table, "record_id": record_id}
        marks = fetch_all(self._uow.connection, _marks_of_record, params)[1]
        if not marks:
            return
        changed = None if fields is None else sorted(fields)
        what = "the record was deleted" if changed is None else f"{', '.join(changed)} changed"
        why = f"source data verification cleared: {what}" + (f" ({reason})" if reason else "")
        for mark_id, version, field in marks:
            if changed is None or field == WHOLE_FORM or field in changed:
                self._uow.delete("sdv_marks", mark_id, expected_version=version, reason=why)
