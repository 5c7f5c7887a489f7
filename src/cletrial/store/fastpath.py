"""Prepared statements for the hot write path (record inserts, audit appends).

SQLAlchemy compiles each statement once per dialect here; the unit of work then executes it on
the DBAPI cursor of its own connection, inside the transaction SQLAlchemy began (so
``BEGIN IMMEDIATE`` and the commit stay with SQLAlchemy). Values go through the column types'
own bind processors, exactly as SQLAlchemy would convert them. This saves most of the per-statement
overhead on the path that saves a visit; everything else uses ordinary SQLAlchemy execution.

>>> from sqlalchemy.dialects import sqlite
>>> prepared = prepare_insert("doses", sqlite.dialect(), returning_id=True)
>>> prepared.sql
'INSERT INTO doses (version, patient_id, ...) VALUES (?, ?, ?, ?, ?, ?) RETURNING id'
>>> import datetime as dt
>>> prepared.parameters({"version": 1, "patient_id": 3, "start_date": dt.date(2009, 2, 2),
...                      "regimen": "5_daily", "note": None, "visit_id": None})
(1, 3, '2009-02-02', '5_daily', None, None)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Dialect, Select, insert
from sqlalchemy.exc import DBAPIError, InvalidRequestError

from cletrial.store.fields import table_of

__all__ = [
    "PreparedFamilyInsert", "PreparedInsert", "PreparedSelect", "execute_insert",
    "execute_insert_family", "fetch_all", "fetch_dicts", "fetch_first", "prepare_family_insert",
    "prepare_insert", "prepare_select",
]  # fmt: skip

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
        # Native $n placeholders, run on a psycopg RawCursor: psycopg sends the SQL as it is
        # (its %s parsing is cached only up to 50 parameters, and a CLASI row has 63).
        sql = (f"INSERT INTO {t.name} ({', '.join(names)}) "
               f"VALUES ({', '.join(f'${i}' for i in range(1, len(names) + 1))})"
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
    raw: Any = conn.connection.dbapi_connection
    cursor = raw.cursor() if dialect.name == "sqlite" else _raw_cursor(raw)
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


@dataclass(frozen=True)
class PreparedFamilyInsert:
    """One PostgreSQL statement inserting a record and its children (data-modifying CTEs).

    ``parts`` holds, for the parent then each child, its prepared single-row INSERT (for the
    parameter order and converters) and the position of its ``link`` column (``None`` for the
    parent), which the statement fills with the parent's new id.
    """

    sql: str
    parts: tuple[tuple[PreparedInsert, int | None], ...]

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> tuple[Any, ...]:
        """Convert the parent's and the children's values into one parameter tuple."""
        out: list[Any] = []
        for (prepared, link_at), row in zip(self.parts, rows, strict=True):
            values = prepared.parameters(row)
            assert isinstance(values, tuple)
            out.extend(values if link_at is None else values[:link_at] + values[link_at + 1 :])
        return tuple(out)


@cache
def prepare_family_insert(
    table: str, children: tuple[str, ...], link: str, dialect: Dialect
) -> PreparedFamilyInsert:
    """Compile, for PostgreSQL, one statement that inserts a ``table`` row and one row of each
    of ``children`` whose ``link`` column is the new row's id; it returns every new id.

    >>> from sqlalchemy.dialects import postgresql
    >>> family = prepare_family_insert("visits", ("sledai_assessments",), "visit_id",
    ...                                postgresql.dialect())
    >>> print(family.sql[:60])
    WITH p0 AS (INSERT INTO visits (version, patient_id, visit_d
    >>> family.sql.endswith("SELECT (SELECT id FROM p0), (SELECT id FROM p1)")
    True
    """
    parent = prepare_insert(table, dialect, returning_id=True)
    parts: list[tuple[PreparedInsert, int | None]] = [(parent, None)]
    ctes = [f"p0 AS ({parent.sql})"]
    number = len(parent.names)
    for index, child_table in enumerate(children, start=1):
        child = prepare_insert(child_table, dialect, returning_id=True)
        link_at = child.names.index(link)
        values = []
        for name in child.names:
            if name == link:
                values.append("(SELECT id FROM p0)")
            else:
                number += 1
                values.append(f"${number}")
        ctes.append(f"p{index} AS (INSERT INTO {child_table} ({', '.join(child.names)}) "
                    f"VALUES ({', '.join(values)}) RETURNING id)")  # fmt: skip
        parts.append((child, link_at))
    ids = ", ".join(f"(SELECT id FROM p{i})" for i in range(len(parts)))
    return PreparedFamilyInsert(f"WITH {', '.join(ctes)} SELECT {ids}", tuple(parts))


def execute_insert_family(
    conn: Connection,
    parent: tuple[str, Mapping[str, Any]],
    children: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    link: str,
) -> list[int]:
    """Insert a record and its children (each child's ``link`` set to the parent's new id) in
    the connection's current transaction; return the new ids, parent first.

    PostgreSQL with psycopg: one statement, one round trip. Otherwise one INSERT per row.
    """
    dialect = conn.dialect
    table, row = parent
    if (dialect.name, dialect.driver) != ("postgresql", "psycopg"):
        parent_id = execute_insert(conn, table, [row], returning_id=True)
        assert parent_id is not None
        ids = [parent_id]
        for child_table, child in children:
            child_id = execute_insert(conn, child_table, [{**child, link: parent_id}],
                                      returning_id=True)  # fmt: skip
            assert child_id is not None
            ids.append(child_id)
        return ids
    if not conn.in_transaction():
        conn.begin()
    family = prepare_family_insert(table, tuple(t for t, _ in children), link, dialect)
    params = family.parameters([row, *(child for _, child in children)])
    cursor = _raw_cursor(conn.connection.dbapi_connection)
    try:
        cursor.execute(family.sql, params)
        fetched = cursor.fetchone()
        assert fetched is not None, "the family INSERT gave no row"
        return [int(value) for value in fetched]
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(family.sql, None, exc, dialect.loaded_dbapi.Error) from exc
    finally:
        cursor.close()


def _raw_cursor(connection: Any) -> Any:
    """A psycopg cursor that takes ``$n`` placeholders as they are."""
    import psycopg

    return psycopg.RawCursor(connection)


def _insert_slow(
    conn: Connection, table: str, rows: Sequence[Mapping[str, Any]], *, returning_id: bool
) -> int | None:
    t = table_of(table)
    if returning_id:
        (row,) = rows
        return int(conn.execute(insert(t).returning(t.c.id), dict(row)).scalar_one())
    conn.execute(insert(t), [dict(row) for row in rows])
    return None


@dataclass(frozen=True)
class PreparedSelect:
    """A SELECT compiled for one dialect: its SQL, parameter order and result converters."""

    sql: str
    names: tuple[str, ...]
    positional: bool
    processors: tuple[Callable[[Any], Any] | None, ...]
    defaults: Mapping[str, Any]  # the statement's own literal parameters


@cache
def prepare_select(build: Callable[[], Select[Any]], dialect: Dialect) -> PreparedSelect:
    """Compile the statement ``build()`` returns (bound parameters by name) for ``dialect``.

    >>> from sqlalchemy import bindparam, select
    >>> from sqlalchemy.dialects import sqlite
    >>> def by_id() -> Select[Any]:
    ...     t = table_of("doses")
    ...     return select(t.c.start_date).where(t.c.id == bindparam("dose_id"))
    >>> prepare_select(by_id, sqlite.dialect()).sql
    'SELECT doses.start_date \\nFROM doses \\nWHERE doses.id = ?'
    """
    stmt = build()
    compiled = stmt.compile(dialect=dialect)
    positional = bool(dialect.positional)
    names = tuple(compiled.positiontup or ()) if positional else tuple(compiled.params)
    processors = tuple(_result_processor(column, dialect) for column in stmt.selected_columns)
    defaults = {name: bind.value for name, bind in compiled.binds.items() if bind.value is not None}
    return PreparedSelect(compiled.string, names, positional, processors, defaults)


def _result_processor(column: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column type's converter of fetched values. A type whose converter depends on the
    database's type code (numbers on psycopg, which already returns Python numbers) gets
    none."""
    try:
        processor: Callable[[Any], Any] | None = column.type.dialect_impl(dialect).result_processor(
            dialect, None
        )
    except (TypeError, InvalidRequestError):
        return None
    return processor


def fetch_first(
    conn: Connection, build: Callable[[], Select[Any]], params: Mapping[str, Any]
) -> tuple[Any, ...] | None:
    """The first row of the statement ``build()`` returns, run with ``params`` on the
    connection's DBAPI cursor (a statement on the hot path: compiled once per dialect); other
    drivers use SQLAlchemy execution. Values are converted by the column types, as SQLAlchemy
    would (e.g. SQLite's date strings to dates)."""
    dialect = conn.dialect
    if (dialect.name, dialect.driver) not in FAST_DRIVERS:
        row = conn.execute(build(), dict(params)).first()
        return None if row is None else tuple(row)
    prepared = prepare_select(build, dialect)
    fetched = _run_prepared(conn, prepared, params, all_rows=False)
    if fetched is None:
        return None
    return tuple(value if proc is None or value is None else proc(value)
                 for value, proc in zip(fetched, prepared.processors, strict=True))  # fmt: skip


def fetch_all(
    conn: Connection, build: Callable[[], Select[Any]], params: Mapping[str, Any]
) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """The column names and every row of the statement ``build()`` returns, run as
    :func:`fetch_first` runs it (compiled once per dialect, on the DBAPI cursor, values
    converted by the column types)."""
    dialect = conn.dialect
    if (dialect.name, dialect.driver) not in FAST_DRIVERS:
        result = conn.execute(build(), dict(params))
        return tuple(result.keys()), [tuple(row) for row in result]
    prepared = prepare_select(build, dialect)
    names = _column_names(build)
    fetched = _run_prepared(conn, prepared, params, all_rows=True)
    converters = [(i, proc) for i, proc in enumerate(prepared.processors) if proc is not None]
    if not converters:  # the driver's rows are tuples already (sqlite3, psycopg): as they are
        if not fetched or type(fetched[0]) is tuple:
            return names, list(fetched)
        return names, [tuple(row) for row in fetched]
    rows = []
    for row in fetched:
        values = list(row)
        for i, proc in converters:
            if values[i] is not None:
                values[i] = proc(values[i])
        rows.append(tuple(values))
    return names, rows


def fetch_dicts(
    conn: Connection, build: Callable[[], Select[Any]], params: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Every row of the statement ``build()`` returns as a dict (column name -> value), run as
    :func:`fetch_all` runs it. Each row becomes a dict in one step, its values converted by the
    column types on the way (a row builder made once per statement), not in a second pass.

    >>> from sqlalchemy import bindparam, create_engine, select
    >>> from cletrial.store import upgrade
    >>> engine = create_engine("sqlite://"); upgrade(engine)
    >>> def doses() -> Select[Any]:
    ...     t = table_of("doses")
    ...     return select(t.c.id, t.c.start_date).where(t.c.patient_id == bindparam("pid"))
    >>> with engine.connect() as conn:
    ...     fetch_dicts(conn, doses, {"pid": 1})
    []
    """
    dialect = conn.dialect
    if (dialect.name, dialect.driver) not in FAST_DRIVERS:
        result = conn.execute(build(), dict(params))
        keys = tuple(result.keys())
        return [dict(zip(keys, row, strict=True)) for row in result]
    prepared = prepare_select(build, dialect)
    make = _row_builder(build, dialect)
    return [make(row) for row in _run_prepared(conn, prepared, params, all_rows=True)]


@cache
def _row_builder(
    build: Callable[[], Select[Any]], dialect: Dialect
) -> Callable[[Sequence[Any]], dict[str, Any]]:
    """A function turning one fetched row of the statement (as prepared for ``dialect``) into
    a dict of converted values: ``{"id": row[0], "visit_date": None if row[3] is None else
    convert_3(row[3]), ...}``, compiled once (as :func:`collections.namedtuple` compiles its
    class)."""
    names, prepared = _column_names(build), prepare_select(build, dialect)
    scope: dict[str, Any] = {}
    items = []
    for i, (name, proc) in enumerate(zip(names, prepared.processors, strict=True)):
        if proc is None:
            items.append(f"{name!r}: row[{i}]")
        else:
            scope[f"convert_{i}"] = proc
            items.append(f"{name!r}: None if row[{i}] is None else convert_{i}(row[{i}])")
    source = "def make(row):\n    return {" + ", ".join(items) + "}\n"
    exec(source, scope)  # the source is built here from column names (as literals) and indices
    make: Callable[[Sequence[Any]], dict[str, Any]] = scope["make"]
    return make


def _run_prepared(
    conn: Connection, prepared: PreparedSelect, params: Mapping[str, Any], *, all_rows: bool
) -> Any:
    """Execute a prepared SELECT on the connection's DBAPI cursor, in its transaction; return
    the first row (``all_rows`` false) or every row, as the driver gives them."""
    dialect = conn.dialect
    if not conn.in_transaction():
        conn.begin()
    raw: Any = conn.connection.dbapi_connection
    cursor = raw.cursor()
    try:
        given = {**prepared.defaults, **params}
        args = (tuple(given[n] for n in prepared.names) if prepared.positional
                else {n: given[n] for n in prepared.names})  # fmt: skip
        cursor.execute(prepared.sql, args)
        return cursor.fetchall() if all_rows else cursor.fetchone()
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(prepared.sql, None, exc, dialect.loaded_dbapi.Error) from exc
    finally:
        cursor.close()


@cache
def _column_names(build: Callable[[], Select[Any]]) -> tuple[str, ...]:
    return tuple(str(column.key) for column in build().selected_columns)
