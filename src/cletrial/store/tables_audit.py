"""The audit trail tables: ``audit_log`` (append-only, hash-chained) and its chain head.

The trail is one or more hash chains: one on SQLite, ``AUDIT_CHAINS_POSTGRESQL`` (8) on
PostgreSQL, so that concurrent commits need not wait for each other. ``audit_log.id`` is unique
and increasing; ``chain`` and ``chain_seq`` say which chain the row belongs to and its position
in it (1, 2, 3, ... without gaps). Each row stores the hash of the previous row of its chain
(``prev_hash``) and the hash of its own canonical content (``row_hash``). ``audit_head`` has one
row per chain (``id`` = the chain) holding the id and hash of its last row and its length;
a writer locks one head, which keeps that chain linear under concurrent writers. Triggers
created by the migrations refuse UPDATE and DELETE on ``audit_log`` on both engines.

>>> [c.name for c in AuditRow.__table__.primary_key]
['id']
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy import BigInteger, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from cletrial.store.tables_base import Base
from cletrial.store.types import UTCDateTime

__all__ = ["GENESIS_HASH", "AuditHead", "AuditRow", "OdmProvenance"]

#: ``prev_hash`` of the first row of the chain.
GENESIS_HASH: Final = "0" * 64


class AuditRow(Base):
    """One audit record: who changed which field of which record, when, why, from what to what.

    ``action`` is ``INSERT`` (``field`` empty, ``new_value`` the whole record as canonical JSON),
    ``UPDATE`` (one row per changed field; ``old_value`` and ``new_value`` are JSON values) or
    ``DELETE`` (``old_value`` the whole record). ``record_version`` is the record's version after
    the change. Rows written in one transaction share ``txid``.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_record", "table_name", "record_id"),
        Index("ix_audit_log_action", "table_name", "action"),
    )
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    chain: Mapped[int] = mapped_column(Integer)
    chain_seq: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(6))
    table_name: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column(BigInteger)
    field: Mapped[str | None] = mapped_column(String(60))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    record_version: Mapped[int] = mapped_column(Integer)
    txid: Mapped[str] = mapped_column(String(32))
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The head of one audit chain (``id`` is the chain; chain 1 always exists)."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
    length: Mapped[int] = mapped_column(BigInteger)


class OdmProvenance(Base):
    """An element of an imported ODM file that the store has no table for, kept verbatim.

    An ODM import writes the source's ``AuditRecord`` elements (``kind`` = ``audit``) and its
    ``User`` elements (``kind`` = ``user``) here, in file order (``position``), each as the
    canonical JSON of its fields (``payload``), so that an ODM export of the imported database
    gives them back unchanged (:mod:`cletrial.store.odm_export`). The import's own audit rows
    record who imported the file and when; their transaction is the one that inserted these rows.
    """

    __tablename__ = "odm_provenance"
    __table_args__ = ({"sqlite_autoincrement": True},)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-10)
    version: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default=text("1"), sort_order=-9
    )
    kind: Mapped[str] = mapped_column(String(8))
    position: Mapped[int] = mapped_column(Integer)
    oid: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)
