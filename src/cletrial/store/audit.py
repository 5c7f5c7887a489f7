"""The audit trail: append rows to the hash chains, read a record's history, verify the chains.

Each row's ``row_hash`` is the SHA-256 of ``prev_hash`` (the hash of the row before it in its
chain), its ``id`` and its canonical content (UTC time, actor, action, table, record, field, old
and new value, reason, record version, transaction id). The trail is one chain on SQLite and
several on PostgreSQL (see :mod:`cletrial.store.tables_audit`); within a chain, ``chain_seq``
counts 1, 2, 3, ... Verification recomputes every hash and reports, by row id, rows that were
altered (content no longer matches its hash), deleted (a gap in a chain's positions, or rows
missing before a chain's head), or inserted (rows after a chain's head, or a broken link to the
previous row).

Appending locks one ``audit_head`` row (PostgreSQL: a free chain's head, in the
``cletrial_append_audit`` function; SQLite's ``BEGIN IMMEDIATE`` already serialises writers), so
each chain stays linear under concurrent writers while writers on different chains commit in
parallel; a trigger moves the head to each inserted row. Only
:class:`cletrial.store.UnitOfWork` appends, in the same transaction as the change.

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
from collections.abc import Mapping, Sequence
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
    "ChainHead",
    "append_audit_entries",
    "assert_audit_chain",
    "audit_history",
    "compute_row_content",
    "compute_row_hash",
    "removed_records",
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
    chain: int
    chain_seq: int
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
    select(audit_head.c.last_id, audit_head.c.last_hash, audit_head.c.length)
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
    """Append ``entries`` to a chain inside the caller's transaction.

    Locks a chain head until the transaction ends: call this last, just before commit. On
    PostgreSQL one call of the ``cletrial_append_audit`` function locks the head of a free
    chain, hashes and inserts the rows on the server; with ``commit`` the COMMIT travels in the
    same message, so the head is not held while the client waits for its turn on the CPU. The
    caller still ends the transaction with ``conn.commit()`` (then a no-op on the server).
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
    last_id, prev_hash, length = _read_head(conn)
    for offset, row in enumerate(rows, start=1):
        row.update(id=last_id + offset, chain=1, chain_seq=length + offset, prev_hash=prev_hash)
        prev_hash = row["row_hash"] = compute_row_hash(row)
        row["occurred_at"] = occurred_at
    execute_insert(conn, "audit_log", rows, returning_id=False)  # a trigger moves the head


def _read_head(conn: Connection) -> tuple[int, str, int]:
    """Chain 1's head (last id, hash, length), locked (SQLite: the write transaction already
    excludes other writers). Only PostgreSQL databases have more than one chain."""
    if conn.dialect.driver != "pysqlite":
        head = conn.execute(_LOCK_HEAD).one()
        return int(head.last_id), str(head.last_hash), int(head.length)
    if not conn.in_transaction():
        conn.begin()
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        row = cursor.execute(
            "SELECT last_id, last_hash, length FROM audit_head WHERE id = 1"
        ).fetchone()
    finally:
        cursor.close()
    return int(row[0]), str(row[1]), int(row[2])


_APPEND_PG = text("SELECT cletrial_append_audit(:at, :txid, CAST(:rows AS jsonb))")
_APPEND_AND_COMMIT = "SELECT cletrial_append_audit(%s, %s, %s::jsonb); COMMIT"


def _append_and_commit_psycopg(conn: Connection, params: dict[str, Any]) -> None:
    """Send the append and the COMMIT in one message (two statements, one round trip; the
    values are quoted by psycopg's ``ClientCursor``). The server commits right after the
    append; a failing append aborts the transaction and the COMMIT is not run."""
    import psycopg

    raw: Any = conn.connection.dbapi_connection
    dbapi = conn.dialect.loaded_dbapi
    try:
        with psycopg.ClientCursor(raw) as cursor:
            cursor.execute(_APPEND_AND_COMMIT, (params["at"], params["txid"], params["rows"]))
    except dbapi.Error as exc:
        raise DBAPIError.instance(_APPEND_AND_COMMIT, None, exc, dbapi.Error) from exc


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


def removed_records(
    conn: Connection, tables: Sequence[str], parent_field: str, parent_id: int
) -> list[tuple[str, int]]:
    """Return ``(table, record_id)`` of the records of ``tables`` deleted while they belonged to
    one parent (``parent_field == parent_id`` in the record as it was), oldest removal first.

    Reads only the DELETE rows of those tables (index ``ix_audit_log_action``); the parent is
    matched in the database on the whole old record kept in ``old_value``.

    Parameters
    ----------
    conn : Connection
        Any connection (for example ``uow.connection``).
    tables : sequence of str
        Table names, e.g. ``("labs",)``.
    parent_field : str
        The field of the removed record naming its parent, e.g. ``visit_id``.
    parent_id : int
        The parent's id.

    Examples
    --------
    >>> from cletrial.store import UnitOfWork, create_engine_for, upgrade
    >>> engine = create_engine_for("sqlite://")
    >>> upgrade(engine)
    >>> with UnitOfWork(engine, read_only=True) as uow:
    ...     removed_records(uow.connection, ("labs",), "visit_id", 1)
    []
    """
    if conn.dialect.name == "postgresql":
        parent = text("(old_value::jsonb ->> :field)::bigint = :parent")
    else:
        parent = text("json_extract(old_value, '$.' || :field) = :parent")
    query = (
        select(audit_log.c.table_name, audit_log.c.record_id)
        .where(audit_log.c.table_name.in_(tuple(tables)), audit_log.c.action == "DELETE")
        .where(parent.bindparams(field=parent_field, parent=parent_id))
        .order_by(audit_log.c.id)
    )
    return [(str(table), int(record_id)) for table, record_id in conn.execute(query)]


FindingKind = Literal["altered", "deleted", "inserted", "chain_broken", "head_mismatch"]


@dataclass(frozen=True, slots=True)
class AuditFinding:
    """One problem found: the row id concerned, what happened, a sentence, and the chain.

    For deleted rows ``row_id`` is the row after the gap in its chain, or at the end of a chain
    the id its head still records (the last deleted row).
    """

    row_id: int
    kind: FindingKind
    detail: str
    chain: int = 1


@dataclass(frozen=True, slots=True)
class ChainHead:
    """One chain's head as stored: its last row's id and hash, and its length."""

    chain: int
    last_id: int
    last_hash: str
    length: int


@dataclass(frozen=True)
class AuditVerification:
    """Result of :func:`verify_audit_chain`.

    ``heads`` lists every chain's head; ``head_id`` and ``head_hash`` are those of the most
    recently written chain (the only one on SQLite). Record the heads outside the database to
    check them later as anchors.
    """

    rows_checked: int
    head_id: int
    head_hash: str
    findings: list[AuditFinding] = field(default_factory=list)
    heads: tuple[ChainHead, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the chain verifies."""
        return not self.findings

    def summary(self) -> str:
        """The verdict, the rows checked and the chain heads (``ROW:HASH``, usable as anchors;
        one line per chain in use when there are several chains)."""
        if not self.ok:
            count = len(self.findings)
            return f"audit trail does NOT verify: {count} problem(s) in {self.rows_checked} rows"
        if len(self.heads) <= 1:
            return (
                f"audit trail verifies: {self.rows_checked} rows, "
                f"head row {self.head_id} hash {self.head_hash}"
            )
        lines = [f"audit trail verifies: {self.rows_checked} rows in {len(self.heads)} chains"]
        used = [h for h in self.heads if h.length]
        if used:
            lines[0] += "; heads as ROW:HASH (keep them to check later with --anchor):"
        lines += [f"  chain {h.chain}: {h.length} rows, head {h.last_id}:{h.last_hash}"
                  for h in used]  # fmt: skip
        return "\n".join(lines)


@dataclass
class _ChainWalk:
    """Where the walk through one chain has got to."""

    seq: int = 0
    last_id: int = 0
    last_hash: str = GENESIS_HASH
    rows: int = 0


def _positions(first: int, last: int) -> str:
    return f"position {first}" if first == last else f"positions {first}-{last}"


def _check_row(data: Mapping[str, Any], walk: _ChainWalk, findings: list[AuditFinding]) -> None:
    """Check one row against the walk of its chain, then advance the walk."""
    row_id, chain, seq = data["id"], data["chain"], data["chain_seq"]
    expected = walk.seq + 1
    gap = seq != expected
    if seq > expected:
        findings.append(AuditFinding(row_id, "deleted",
                                     f"chain {chain}: {_positions(expected, seq - 1)} missing "
                                     f"before row {row_id} (deleted)", chain))  # fmt: skip
    elif seq < expected:
        findings.append(AuditFinding(row_id, "inserted",
                                     f"chain {chain}: row {row_id} claims position {seq}, "
                                     f"already taken (inserted)", chain))  # fmt: skip
    if compute_row_hash(data) != data["row_hash"]:
        findings.append(AuditFinding(row_id, "altered",
                                     f"row {row_id}: content does not match its hash "
                                     "(altered)", chain))  # fmt: skip
    elif data["prev_hash"] != walk.last_hash and not gap:
        before = f"row {walk.last_id}" if walk.last_id else "the chain's start"
        findings.append(AuditFinding(row_id, "chain_broken",
                                     f"row {row_id}: does not link to {before}, the row before "
                                     f"it in chain {chain} (a row before it was altered or "
                                     "replaced, or this row was inserted)", chain))  # fmt: skip
    walk.seq, walk.last_id, walk.last_hash = max(seq, walk.seq), row_id, data["row_hash"]
    walk.rows += 1


def _check_head(head: ChainHead, walk: _ChainWalk, findings: list[AuditFinding]) -> None:
    """Compare where a chain's rows end with what its head records."""
    chain = head.chain
    if walk.seq > head.length:
        findings.append(AuditFinding(walk.last_id, "inserted",
                                     f"chain {chain}: {_positions(head.length + 1, walk.seq)} "
                                     f"after the chain head (row {head.last_id}): inserted",
                                     chain))  # fmt: skip
    elif walk.seq < head.length:
        findings.append(AuditFinding(head.last_id, "deleted",
                                     f"chain {chain}: {_positions(walk.seq + 1, head.length)} "
                                     f"missing at the end of the chain, up to row "
                                     f"{head.last_id} (deleted)", chain))  # fmt: skip
    elif walk.last_hash != head.last_hash or walk.last_id != head.last_id:
        findings.append(AuditFinding(walk.last_id, "head_mismatch",
                                     f"row {walk.last_id}: differs from the head of chain "
                                     f"{chain} (row {head.last_id})", chain))  # fmt: skip


def verify_audit_chain(
    conn: Connection, *, anchors: Sequence[tuple[int, str]] = ()
) -> AuditVerification:
    """Recompute every audit chain and report each altered, deleted or inserted row.

    Parameters
    ----------
    conn : Connection
        A connection to the study database (read only; use
        :func:`cletrial.store.engine.read_connection` for one consistent snapshot).
    anchors : sequence of (int, str), optional
        Row ids and hashes recorded earlier outside the database (for example the heads printed
        by ``cletrial audit verify``): each row must still exist with that hash.

    Returns
    -------
    AuditVerification
        ``ok`` when nothing was found; otherwise ``findings`` name the rows.

    Examples
    --------
    >>> from cletrial.store import UnitOfWork, create_engine_for, upgrade
    >>> engine = create_engine_for("sqlite://"); upgrade(engine)
    >>> with UnitOfWork(engine, user="ana") as uow:
    ...     _ = uow.studies.create(code="S", title="T", protocol_id="p", protocol_version="1")
    >>> with engine.connect() as conn:
    ...     verify_audit_chain(conn).summary()[:42]
    'audit trail verifies: 1 rows, head row 1 h'
    """
    findings: list[AuditFinding] = []
    result = conn.execution_options(yield_per=2000).execute(
        select(*[audit_log.c[name] for name in (*HASHED_FIELDS, "chain", "chain_seq",
                                                "row_hash")]).order_by(audit_log.c.id)
    )  # fmt: skip
    walks: dict[int, _ChainWalk] = {}
    seen = 0
    for row in result:
        data = row._asdict()
        _check_row(data, walks.setdefault(data["chain"], _ChainWalk()), findings)
        seen += 1
    heads = tuple(
        ChainHead(int(h.id), int(h.last_id), str(h.last_hash), int(h.length))
        for h in conn.execute(select(audit_head).order_by(audit_head.c.id))
    )
    for head in heads:
        _check_head(head, walks.pop(head.chain, _ChainWalk()), findings)
    for chain, walk in sorted(walks.items()):
        findings.append(AuditFinding(walk.last_id, "inserted",
                                     f"chain {chain}: {walk.rows} row(s) in a chain that has no "
                                     "head (inserted)", chain))  # fmt: skip
    for row_id, expected in anchors:
        _check_anchor(conn, row_id, expected, findings)
    latest = max(heads, key=lambda h: h.last_id, default=ChainHead(1, 0, GENESIS_HASH, 0))
    return AuditVerification(seen, latest.last_id, latest.last_hash, findings, heads)


def _check_anchor(
    conn: Connection, row_id: int, expected: str, findings: list[AuditFinding]
) -> None:
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
