"""Prepared statements for the hot write path (record inserts, audit appends).

SQLAlchemy compiles each statement once per dialect here; the unit of work then executes it on
the DBAPI cursor of its own connection, inside the transaction SQLAlchemy began (so
``BEGIN IMMEDIATE`` and the commit stay with SQLAlchemy). Values go through the column types'
own bind processors, exactly as SQLAlchemy would convert them. This saves most of the per-statement
overhead on the path that saves a visit; everything else uses ordinary SQLAlchemy execution.

>>> from sqlalchemy.dialects import sqlite
>>> prepared = prepare_insert("doses", sqlite.dialect(), returning_id=True)
>>> prepared.sql
'INSERT INTO doses (version, patient_id, ...) VALUES (?, ?, ?, ?, ?) RETURNING id'
>>> import datetime as dt
>>> prepared.parameters({"version": 1, "patient_id": 3, "start_date": dt.date(2009, 2, 2),
...                      "regimen": "5_daily", "note": None})
(1, 3, '2009-02-02', '5_daily', None)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Dialect, insert
from sqlalchemy.exc import DBAPIError

from cletrial.store.fields import table_of

__all__ = ["PreparedInsert", "execute_insert", "prepare_insert"]

#: Drivers the fast path knows; others use ordinary SQLAlchemy execution.
FAST_DRIVERS = frozenset({("sqlite", "pysqlite"), ("postgresql", "psycopg")})


@dataclass(frozen=True)
class PreparedInsert:
    """An INSERT compiled for one dialect, with the parameter order and converters."""

    sql: str
    names: tuple[str, ...]
    positional: bool
    processors: tuple[Callable[[Any], Any] | None, ...]
    returning_id: bool

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """Convert one row of values into DBAPI parameters."""
        converted = [
            value if proc is None or value is None else proc(value)
            for value, proc in zip((values[n] for n in self.names), self.processors, strict=True)
        ]
        return (
            tuple(converted) if self.positional else dict(zip(self.names, converted, strict=True))
        )


@cache
def prepare_insert(table: str, dialect: Dialect, *, returning_id: bool) -> PreparedInsert:
    """Compile ``INSERT INTO table`` (every column but an autoincrement ``id``) for ``dialect``."""
    t = table_of(table)
    autoincrement_id = table != "audit_log"
    names = tuple(c.name for c in t.columns if not (c.name == "id" and autoincrement_id))
    if dialect.name == "postgresql":
        # Short positional SQL (no casts): psycopg caches its parsing and adapts the values.
        sql = (f"INSERT INTO {t.name} ({', '.join(names)}) "
               f"VALUES ({', '.join(['%s'] * len(names))})"
               + (" RETURNING id" if returning_id else ""))  # fmt: skip
        processors = tuple(
            t.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
        )
        return PreparedInsert(sql, names, True, processors, returning_id)
    stmt = insert(t).returning(t.c.id) if returning_id else insert(t)
    compiled = stmt.compile(dialect=dialect, column_keys=list(names))
    positional = bool(dialect.positional)
    order = tuple(compiled.positiontup or ()) if positional else names
    if positional and set(order) != set(names):
        raise RuntimeError(f"unexpected parameters compiling {table}: {order}")
    processors = tuple(
        t.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in order
    )
    return PreparedInsert(compiled.string, order, positional, processors, returning_id)


def execute_insert(
    conn: Connection, table: str, rows: Sequence[Mapping[str, Any]], *, returning_id: bool
) -> int | None:
    """Insert ``rows`` in the connection's current transaction; return the new id of a single
    row when ``returning_id``. Falls back to SQLAlchemy execution for other drivers."""
    dialect = conn.dialect
    if (dialect.name, dialect.driver) not in FAST_DRIVERS:
        return _insert_slow(conn, table, rows, returning_id=returning_id)
    if not conn.in_transaction():
        conn.begin()
    prepared = prepare_insert(table, dialect, returning_id=returning_id)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if returning_id:
            (row,) = rows
            cursor.execute(prepared.sql, prepared.parameters(row))
            fetched = cursor.fetchone()
            assert fetched is not None, "INSERT ... RETURNING gave no row"
            return int(fetched[0])
        params: list[Any] = [prepared.parameters(row) for row in rows]
        cursor.executemany(prepared.sql, params)
        return None
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(prepared.sql, None, exc, dialect.loaded_dbapi.Error) from exc
    finally:
        cursor.close()


def _insert_slow(
    conn: Connection, table: str, rows: Sequence[Mapping[str, Any]], *, returning_id: bool
) -> int | None:
    t = table_of(table)
    if returning_id:
        (row,) = rows
        return int(conn.execute(insert(t).returning(t.c.id), dict(row)).scalar_one())
    conn.execute(insert(t), [dict(row) for row in rows])
    return None
