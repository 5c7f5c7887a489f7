"""The audit trail: append rows to the hash chain, read a record's history, verify the chain.

Each row's ``row_hash`` is the SHA-256 of ``prev_hash`` (the hash of the row before it), its
``id`` and its canonical content (UTC time, actor, action, table, record, field, old and new
value, reason, record version, transaction id). Ids are consecutive chain positions. Verification
recomputes every hash and reports, by row id, rows that were altered (content no longer matches
its hash), deleted (a gap in the ids, or rows missing before the chain head), or inserted (rows
after the chain head, or a broken link to the previous row).

Appending locks the single ``audit_head`` row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` already serialises writers), so the chain stays linear under concurrent
writers; a trigger moves the head to each inserted row. Only :class:`cletrial.store.UnitOfWork`
appends, in the same transaction as the change.

>>> row = {"id": 1, "occurred_at": "2024-01-02T03:04:05.000000Z", "actor": "ana",
...        "action": "INSERT", "table_name": "visits", "record_id": 7, "field": None,
...        "old_value": None, "new_value": "{}", "reason": None, "record_version": 1,
...        "txid": "t1", "prev_hash": GENESIS_HASH}
>>> len(compute_row_hash(row))
64
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import DBAPIError

from cletrial.errors import AuditChainError
from cletrial.store.fastpath import execute_insert
from cletrial.store.fields import encode_value
from cletrial.store.tables_audit import GENESIS_HASH, AuditHead, AuditRow

__all__ = [
    "GENESIS_HASH",
    "AuditEntry",
    "AuditFinding",
    "AuditRecord",
    "AuditVerification",
    "append_audit_entries",
    "assert_audit_chain",
    "audit_history",
    "compute_row_content",
    "compute_row_hash",
    "verify_audit_chain",
]

audit_log = AuditRow.__table__
audit_head = AuditHead.__table__

#: Fields hashed, in order (``row_hash`` itself excluded).
HASHED_FIELDS = (
    "id", "occurred_at", "actor", "action", "table_name", "record_id", "field", "old_value",
    "new_value", "reason", "record_version", "txid", "prev_hash",
)  # fmt: skip

Action = Literal["INSERT", "UPDATE", "DELETE"]

_ENCODER = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """A change waiting to be written to the audit trail (values already as JSON text)."""

    actor: str
    action: Action
    table_name: str
    record_id: int
    field: str | None
    old_value: str | None
    new_value: str | None
    reason: str | None
    record_version: int


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One stored audit row. ``old_value``/``new_value`` are JSON text (see :attr:`old`)."""

    id: int
    occurred_at: dt.datetime
    actor: str
    action: str
    table_name: str
    record_id: int
    field: str | None
    old_value: str | None
    new_value: str | None
    reason: str | None
    record_version: int
    txid: str
    prev_hash: str
    row_hash: str

    @property
    def old(self) -> Any:
        """The old value decoded from JSON (``None`` when there was none)."""
        return None if self.old_value is None else json.loads(self.old_value)

    @property
    def new(self) -> Any:
        """The new value decoded from JSON (``None`` when there is none)."""
        return None if self.new_value is None else json.loads(self.new_value)


#: Fields of the hashed content, in order (``id`` and ``prev_hash`` are hashed around it).
CONTENT_FIELDS = HASHED_FIELDS[1:-1]


def compute_row_content(row: Mapping[str, Any]) -> str:
    """Return the canonical content of an audit row: a compact JSON array of its fields
    (``occurred_at`` as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``), without ``id`` and the hashes.

    >>> compute_row_content({"occurred_at": "2024-01-02T03:04:05.000000Z", "actor": "ana",
    ...     "action": "INSERT", "table_name": "doses", "record_id": 7, "field": None,
    ...     "old_value": None, "new_value": "{}", "reason": None, "record_version": 1,
    ...     "txid": "t1"})
    '["2024-01-02T03:04:05.000000Z","ana","INSERT","doses",7,null,null,"{}",null,1,"t1"]'
    """
    content = [row[name] for name in CONTENT_FIELDS]
    content[0] = encode_value(content[0])
    return _ENCODER.encode(content).decode("utf-8")


def compute_row_hash(row: Mapping[str, Any]) -> str:
    """Return ``SHA-256(prev_hash + "|" + id + "|" + content)`` in hex (see
    :func:`compute_row_content`); PostgreSQL computes the same in ``cletrial_append_audit``.
    """
    data = f"{row['prev_hash']}|{row['id']}|{compute_row_content(row)}"
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


_LOCK_HEAD = (
    select(audit_head.c.last_id, audit_head.c.last_hash)
    .where(audit_head.c.id == 1)
    .with_for_update()
)


def append_audit_entries(
    conn: Connection,
    entries: Sequence[AuditEntry],
    *,
    occurred_at: dt.datetime,
    txid: str,
    commit: bool = False,
) -> None:
    """Append ``entries`` to the chain inside the caller's transaction.

    Locks the chain head until the transaction ends: call this last, just before commit. On
    PostgreSQL one call of the ``cletrial_append_audit`` function locks the head, hashes and
    inserts the rows on the server; with ``commit`` the COMMIT is pipelined right behind it, so
    the head is not held while the client waits for its turn on the CPU. The caller
    still ends the transaction with ``conn.commit()`` (then a no-op on the server).
    """
    if not entries:
        return
    when = encode_value(occurred_at)
    rows = [
        {"occurred_at": when, "actor": e.actor, "action": e.action, "table_name": e.table_name,
         "record_id": e.record_id, "field": e.field, "old_value": e.old_value,
         "new_value": e.new_value, "reason": e.reason, "record_version": e.record_version,
         "txid": txid}
        for e in entries
    ]  # fmt: skip
    if conn.dialect.name == "postgresql":
        for row in rows:
            row["content"] = compute_row_content(row)
        params = {"at": occurred_at, "txid": txid, "rows": _ENCODER.encode(rows).decode()}
        if commit and conn.dialect.driver == "psycopg":
            _append_and_commit_psycopg(conn, params)
        else:
            conn.execute(_APPEND_PG, params)
        return
    last_id, prev_hash = _read_head(conn)
    for offset, row in enumerate(rows, start=1):
        row.update(id=last_id + offset, prev_hash=prev_hash)
        prev_hash = row["row_hash"] = compute_row_hash(row)
        row["occurred_at"] = occurred_at
    execute_insert(conn, "audit_log", rows, returning_id=False)  # a trigger moves the head


def _read_head(conn: Connection) -> tuple[int, str]:
    """The chain head, locked (SQLite: the write transaction already excludes other writers)."""
    if conn.dialect.driver != "pysqlite":
        head = conn.execute(_LOCK_HEAD).one()
        return int(head.last_id), str(head.last_hash)
    if not conn.in_transaction():
        conn.begin()
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        row = cursor.execute("SELECT last_id, last_hash FROM audit_head WHERE id = 1").fetchone()
    finally:
        cursor.close()
    return int(row[0]), str(row[1])


_APPEND_PG = text("SELECT cletrial_append_audit(:at, :txid, CAST(:rows AS jsonb))")
_APPEND_PSYCOPG = "SELECT cletrial_append_audit(%s, %s, %s::jsonb)"


def _append_and_commit_psycopg(conn: Connection, params: dict[str, Any]) -> None:
    """Send the append and the COMMIT together in a psycopg pipeline: the server commits right
    after the append (a failing append aborts the transaction, and the COMMIT with it)."""
    raw: Any = conn.connection.dbapi_connection
    dbapi = conn.dialect.loaded_dbapi
    try:
        with raw.pipeline():
            with raw.cursor() as cursor:
                cursor.execute(_APPEND_PSYCOPG, (params["at"], params["txid"], params["rows"]))
            raw.commit()
    except dbapi.Error as exc:
        raise DBAPIError.instance(_APPEND_PSYCOPG, None, exc, dbapi.Error) from exc


def audit_history(conn: Connection, table: str, record_id: int) -> list[AuditRecord]:
    """Return every audit row of one record, oldest first.

    Parameters
    ----------
    conn : Connection
        Any connection (for example ``uow.connection``).
    table : str
        Table name, e.g. ``visits``.
    record_id : int
        The record's id.
    """
    result = conn.execute(
        select(audit_log)
        .where(audit_log.c.table_name == table, audit_log.c.record_id == record_id)
        .order_by(audit_log.c.id)
    )
    return [AuditRecord(**row._asdict()) for row in result]


FindingKind = Literal["altered", "deleted", "inserted", "chain_broken", "head_mismatch"]


@dataclass(frozen=True, slots=True)
class AuditFinding:
    """One problem found in the chain: the row id concerned, what happened, and a sentence."""

    row_id: int
    kind: FindingKind
    detail: str


@dataclass(frozen=True)
class AuditVerification:
    """Result of :func:`verify_audit_chain`."""

    rows_checked: int
    head_id: int
    head_hash: str
    findings: list[AuditFinding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the chain verifies."""
        return not self.findings

    def summary(self) -> str:
        """One line for people: the verdict, the rows checked and the chain head."""
        if self.ok:
            return (
                f"audit trail verifies: {self.rows_checked} rows, "
                f"head row {self.head_id} hash {self.head_hash}"
            )
        count = len(self.findings)
        return f"audit trail does NOT verify: {count} problem(s) in {self.rows_checked} rows"


def _check_rows(rows: Iterable[Any], findings: list[AuditFinding]) -> tuple[int, int, str]:
    """Walk the rows in id order; return (rows seen, last id, last stored hash)."""
    expected_id, last_hash, seen = 1, GENESIS_HASH, 0
    for row in rows:
        seen += 1
        data = row._asdict()
        gap = data["id"] != expected_id
        if gap:
            first, last = expected_id, data["id"] - 1
            span = f"row {first}" if first == last else f"rows {first}-{last}"
            findings.append(AuditFinding(first, "deleted", f"{span} missing (deleted)"))
        if compute_row_hash(data) != data["row_hash"]:
            findings.append(AuditFinding(data["id"], "altered",
                                         f"row {data['id']}: content does not match its hash "
                                         "(altered)"))  # fmt: skip
        elif data["prev_hash"] != last_hash and not gap:
            findings.append(AuditFinding(data["id"], "chain_broken",
                                         f"row {data['id']}: does not link to row "
                                         f"{data['id'] - 1} (a row before it was altered or "
                                         "replaced, or this row was inserted)"))  # fmt: skip
        expected_id, last_hash = data["id"] + 1, data["row_hash"]
    return seen, expected_id - 1, last_hash


def verify_audit_chain(
    conn: Connection, *, expect_head: tuple[int, str] | None = None
) -> AuditVerification:
    """Recompute the audit chain and report every altered, deleted or inserted row.

    Parameters
    ----------
    conn : Connection
        A connection to the study database (read only).
    expect_head : (int, str), optional
        A row id and hash recorded earlier outside the database (an anchor): the chain must
        still hold that row with that hash.

    Returns
    -------
    AuditVerification
        ``ok`` when nothing was found; otherwise ``findings`` name the rows.
    """
    findings: list[AuditFinding] = []
    result = conn.execution_options(yield_per=2000).execute(
        select(*[audit_log.c[name] for name in (*HASHED_FIELDS, "row_hash")]).order_by(
            audit_log.c.id
        )
    )
    seen, last_id, last_hash = _check_rows(result, findings)
    head = conn.execute(select(audit_head).where(audit_head.c.id == 1)).one_or_none()
    head_id, head_hash = (int(head.last_id), str(head.last_hash)) if head else (0, GENESIS_HASH)
    if last_id > head_id:
        findings.append(AuditFinding(head_id + 1, "inserted",
                                     f"rows {head_id + 1}-{last_id} are after the chain head "
                                     f"(row {head_id}): inserted"))  # fmt: skip
    elif last_id < head_id:
        findings.append(AuditFinding(last_id + 1, "deleted",
                                     f"rows {last_id + 1}-{head_id} missing at the end of the "
                                     "chain (deleted)"))  # fmt: skip
    elif last_hash != head_hash:
        findings.append(
            AuditFinding(
                last_id, "head_mismatch", f"row {last_id}: hash differs from the chain head"
            )
        )
    if expect_head is not None:
        _check_anchor(conn, expect_head, findings)
    return AuditVerification(seen, head_id, head_hash, findings)


def _check_anchor(conn: Connection, anchor: tuple[int, str], findings: list[AuditFinding]) -> None:
    row_id, expected = anchor
    stored = conn.execute(
        select(audit_log.c.row_hash).where(audit_log.c.id == row_id)
    ).scalar_one_or_none()
    if stored != expected:
        findings.append(AuditFinding(row_id, "altered",
                                     f"row {row_id}: hash {stored} differs from the recorded "
                                     f"anchor {expected}"))  # fmt: skip


def assert_audit_chain(conn: Connection) -> AuditVerification:
    """Verify the chain and raise :class:`~cletrial.errors.AuditChainError` if it fails.

    The error message lists the findings (row ids and what happened).
    """
    verification = verify_audit_chain(conn)
    if not verification.ok:
        lines = "; ".join(f.detail for f in verification.findings[:20])
        raise AuditChainError(f"{verification.summary()}: {lines}")
    return verification
