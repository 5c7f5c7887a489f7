"""SQL helpers of the unit of work: cached statements, audit values, constraint names.

>>> audit_json("users", {"username": "ana", "password_hash": "$argon2id$...", "version": 1})
'{"password_hash":"[redacted]","username":"ana"}'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from cletrial.errors import StoreError
from cletrial.store.fields import REDACTED, canonical_json, field_specs, is_secret, table_of

__all__ = [
    "audit_json",
    "audit_value",
    "by_id",
    "foreign_keys",
    "refuse_orm_writes",
    "secret_fields",
    "select_by_id",
    "select_where",
    "unique_columns",
]


def audit_json(table: str, values: Mapping[str, Any]) -> str:
    """The whole record as canonical JSON for an INSERT or DELETE audit row (secrets hidden)."""
    shown = {k: v for k, v in values.items() if k != "version"}
    for name in secret_fields(table):
        if name in shown:
            shown[name] = REDACTED
    return canonical_json(shown)


@cache
def secret_fields(table: str) -> tuple[str, ...]:
    """Fields of ``table`` shown as ``[redacted]`` in the audit trail."""
    return tuple(name for name in field_specs(table) if is_secret(table, name))


@cache
def foreign_keys(table: str) -> tuple[tuple[str, str], ...]:
    """(column, parent table) of every foreign key of ``table``."""
    return tuple(
        (column.name, fk.column.table.name)
        for column in table_of(table).columns
        for fk in column.foreign_keys
    )


def audit_value(table: str, name: str, value: Any) -> str:
    """One value as canonical JSON for an UPDATE audit row (secrets hidden)."""
    return canonical_json(REDACTED if is_secret(table, name) else value)


@cache
def select_by_id(table: str, lock: bool) -> Select[Any]:
    """``SELECT * FROM table WHERE id = :record_id`` (``FOR UPDATE`` when ``lock``)."""
    t = table_of(table)
    query = select(t).where(t.c.id == bindparam("record_id"))
    return query.with_for_update() if lock else query


@cache
def by_id(table: str, lock: bool) -> Callable[[], Select[Any]]:
    """A builder of :func:`select_by_id` (one per table and lock, so that the fast path of
    :mod:`cletrial.store.fastpath` compiles each once)."""

    def build() -> Select[Any]:
        return select_by_id(table, lock)

    return build


@cache
def select_where(table: str, names: tuple[str, ...]) -> Select[Any]:
    """``SELECT * FROM table WHERE name = :name AND ...``."""
    t = table_of(table)
    return select(t).where(*[t.c[name] == bindparam(name) for name in names])


def unique_columns(table: str, message: str) -> list[str]:
    """Which unique key of ``table`` a driver's error message names."""
    t = table_of(table)
    keys: list[tuple[str | None, list[str]]] = []
    for constraint in t.constraints:
        columns = [c.name for c in getattr(constraint, "columns", [])]
        if columns and constraint.__class__.__name__ == "UniqueConstraint":
            keys.append((str(constraint.name), columns))
    keys += [(str(i.name), [c.name for c in i.columns]) for i in t.indexes if i.unique]
    for column in t.columns:
        if column.unique:
            keys.append((None, [column.name]))
    for name, columns in keys:
        sqlite_form = ", ".join(f"{table}.{c}" for c in columns)
        if (name and f'"{name}"' in message) or message.endswith(sqlite_form):
            return columns
    return []


def table_of_error(error: Exception, tables: Sequence[str]) -> str | None:
    """Which of ``tables`` a driver's integrity error is about, when it says so.

    PostgreSQL names the table in the error's diagnostics; SQLite names ``table.column`` in
    the message of a unique key (not of a foreign key).

    >>> table_of_error(Exception("UNIQUE constraint failed: visits.patient_id"),
    ...                ["visits", "clasi_assessments"])
    'visits'
    """
    original = getattr(error, "orig", error)
    named = getattr(getattr(original, "diag", None), "table_name", None)
    if named in tables:
        return str(named)
    message = str(original)
    return next((t for t in tables if f" {t}." in message), None)


def refuse_orm_writes(session: Session, _context: Any, _instances: Any) -> None:
    """``before_flush`` hook: writes must go through the unit of work."""
    if session.new or session.dirty or session.deleted:
        raise StoreError(
            "write through the unit of work (uow.insert/update/delete or a repository), "
            "not the ORM session, so that the change is audited"
        )
