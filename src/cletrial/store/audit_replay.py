"""Check the records against their audit trail: no record without its audit rows.

Replaying a table's audit rows (INSERT with every value, UPDATE field by field, DELETE) must give
exactly the records stored now, at the same version. A record written around the unit of work
(no INSERT audit row), a value changed directly in the database, or a record deleted without an
audit row is reported with its table, id and field.

>>> from cletrial.store import UnitOfWork, create_engine_for, upgrade
>>> engine = create_engine_for("sqlite://"); upgrade(engine)
>>> with UnitOfWork(engine, user="ana") as uow:
...     _ = uow.studies.create(code="S", title="T", protocol_id="p", protocol_version="1")
>>> with engine.begin() as conn:
...     _ = conn.exec_driver_sql("UPDATE studies SET title = 'X'")
...     [f.detail for f in verify_records_against_audit(conn)]
['studies 1.title: stored "X" but the audit trail says "T"']
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from cletrial.store.audit import audit_log
from cletrial.store.fields import AUDITED_TABLES, REDACTED, canonical_json, is_secret, table_of

__all__ = ["RecordFinding", "verify_records_against_audit"]


@dataclass(frozen=True, slots=True)
class RecordFinding:
    """A record that does not match its audit trail."""

    table: str
    record_id: int
    field: str | None
    detail: str


@dataclass
class _State:
    version: int
    values: dict[str, str]


def _replay(conn: Connection, table: str) -> tuple[dict[int, _State], set[int]]:
    """Replay the audit rows of one table: (live records, ids deleted through the trail)."""
    live: dict[int, _State] = {}
    deleted: set[int] = set()
    query = (
        select(audit_log.c.action, audit_log.c.record_id, audit_log.c.field,
               audit_log.c.new_value, audit_log.c.record_version)
        .where(audit_log.c.table_name == table)
        .order_by(audit_log.c.id)
    )  # fmt: skip
    for row in conn.execution_options(yield_per=5000).execute(query):
        if row.action == "INSERT":
            values = json.loads(row.new_value)
            live[row.record_id] = _State(
                row.record_version, {k: canonical_json(v) for k, v in values.items()}
            )
            deleted.discard(row.record_id)
        elif row.action == "UPDATE" and row.record_id in live:
            state = live[row.record_id]
            state.values[row.field] = row.new_value
            state.version = row.record_version
        elif row.action == "DELETE":
            live.pop(row.record_id, None)
            deleted.add(row.record_id)
    return live, deleted


def _compare(table: str, row: dict[str, Any], state: _State) -> list[RecordFinding]:
    found = []
    record_id = row["id"]
    if row["version"] != state.version:
        found.append(RecordFinding(table, record_id, "version",
                                   f"{table} {record_id}: version {row['version']} but the audit "
                                   f"trail says {state.version}"))  # fmt: skip
    for name, value in row.items():
        if name in ("id", "version") or is_secret(table, name):
            continue
        stored = canonical_json(value)
        expected = state.values.get(name, "null")
        if stored != expected and expected != canonical_json(REDACTED):
            found.append(RecordFinding(table, record_id, name,
                                       f"{table} {record_id}.{name}: stored {stored} but the "
                                       f"audit trail says {expected}"))  # fmt: skip
    return found


def verify_records_against_audit(
    conn: Connection, tables: tuple[str, ...] = AUDITED_TABLES
) -> list[RecordFinding]:
    """Replay the audit trail of each table and compare it with the stored records.

    Returns
    -------
    list of RecordFinding
        Empty when every record matches its audit trail.
    """
    findings: list[RecordFinding] = []
    for table in tables:
        live, deleted = _replay(conn, table)
        t = table_of(table)
        seen = set()
        for row in conn.execution_options(yield_per=5000).execute(select(t).order_by(t.c.id)):
            data = row._asdict()
            record_id = data["id"]
            seen.add(record_id)
            state = live.get(record_id)
            if state is None:
                why = (
                    "was deleted in the audit trail" if record_id in deleted else "has no audit row"
                )
                findings.append(RecordFinding(table, record_id, None,
                                              f"{table} {record_id}: {why}"))  # fmt: skip
                continue
            findings.extend(_compare(table, data, state))
        for record_id in sorted(set(live) - seen):
            findings.append(RecordFinding(table, record_id, None,
                                          f"{table} {record_id}: missing, but the audit trail "
                                          "has no DELETE for it"))  # fmt: skip
    return findings
