"""The database engine's own integrity check, run by ``cletrial audit verify``.

The audit chain proves the rows were not altered; it cannot see a corrupt index, which makes
lookups and unique constraints silently wrong. So the verification also asks the engine:

- **SQLite**: ``PRAGMA integrity_check`` (every page, every index against its table);
- **PostgreSQL**: the ``amcheck`` extension's ``bt_index_check(index, heapallindexed => true)``
  on every B-tree index of the project's schema. When the extension is not installed in the
  database (an administrator installs it once with ``CREATE EXTENSION amcheck``), the report
  says that indexes could not be checked; the verification does not install anything.

>>> from cletrial.store import create_engine_for, upgrade
>>> engine = create_engine_for("sqlite://"); upgrade(engine)
>>> with engine.connect() as conn:
...     report = check_database_integrity(conn)
>>> report.ok, report.checked, report.summary()
(True, True, 'database integrity: ok (SQLite PRAGMA integrity_check)')
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from cletrial.store.engine import is_sqlite

__all__ = ["IntegrityReport", "check_database_integrity"]

#: At most this many problems are listed (a badly damaged file can have thousands).
MAX_PROBLEMS = 50

_BTREE_INDEXES = text(
    "SELECT c.oid::regclass::text FROM pg_index i"
    " JOIN pg_class c ON c.oid = i.indexrelid"
    " JOIN pg_am am ON am.oid = c.relam"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE am.amname = 'btree' AND n.nspname = current_schema() AND i.indisvalid"
    " ORDER BY 1"
)


@dataclass(frozen=True)
class IntegrityReport:
    """What the engine's integrity check found.

    ``checked`` is false when the engine could not check (PostgreSQL without ``amcheck``);
    ``problems`` lists what is wrong (empty when sound); ``method`` names the check.
    """

    method: str
    checked: bool
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing wrong was found (also when the indexes could not be checked)."""
        return not self.problems

    def summary(self) -> str:
        """One line: the verdict and the method."""
        if self.problems:
            return (f"database integrity check FAILED ({self.method}): {len(self.problems)} "
                    "problem(s); restore the database from a backup or rebuild its indexes "
                    "(REINDEX) and verify again")  # fmt: skip
        if not self.checked:
            return f"database integrity: indexes NOT checked ({self.method})"
        return f"database integrity: ok ({self.method})"


def _sqlite_check(conn: Connection) -> IntegrityReport:
    method = "SQLite PRAGMA integrity_check"
    try:
        rows = conn.exec_driver_sql(f"PRAGMA integrity_check({MAX_PROBLEMS})").scalars().all()
    except DBAPIError as exc:
        return IntegrityReport(method, True, [f"the check could not run: {exc.orig}"])
    problems = [str(r) for r in rows if r != "ok"]
    return IntegrityReport(method, True, problems)


def _amcheck_installed(conn: Connection) -> bool:
    found = conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'amcheck'")).first()
    return found is not None


def _postgres_check(conn: Connection) -> IntegrityReport:
    if not _amcheck_installed(conn):
        return IntegrityReport(
            "the amcheck extension is not installed in this database; an administrator can "
            "install it with CREATE EXTENSION amcheck", False,
        )  # fmt: skip
    indexes = conn.execute(_BTREE_INDEXES).scalars().all()
    problems = []
    for index in indexes:
        savepoint = conn.begin_nested()
        try:
            conn.execute(text("SELECT bt_index_check(CAST(:ix AS regclass), true)"), {"ix": index})
            savepoint.commit()
        except DBAPIError as exc:
            savepoint.rollback()
            problems.append(f"index {index}: {str(exc.orig).strip().splitlines()[0]}")
            if len(problems) >= MAX_PROBLEMS:
                break
    method = f"PostgreSQL amcheck bt_index_check on {len(indexes)} B-tree indexes"
    return IntegrityReport(method, True, problems)


def check_database_integrity(conn: Connection) -> IntegrityReport:
    """Run the engine's integrity check on the database of ``conn``.

    Parameters
    ----------
    conn : Connection
        A connection to the study database (reads only).

    Returns
    -------
    IntegrityReport
        ``ok`` false, with the engine's messages, when a page or an index is corrupt.
    """
    if is_sqlite(conn):
        return _sqlite_check(conn)
    return _postgres_check(conn)
