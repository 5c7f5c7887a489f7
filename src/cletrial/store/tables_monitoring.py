"""The monitoring tables: queries (discrepancy notes) and their messages, source data
verification marks, and the database lock's events.

A **query** asks the site about a patient, one of its forms (``table_name`` + ``record_id``) or
one field of a form (``field``). It is raised by hand (``origin`` ``manual``) or by an edit
check of the protocol (``origin`` ``edit_check``, ``check_id``) and goes through the statuses of
:data:`cletrial.store.vocab.QUERY_STATUSES`; every step is a :class:`QueryMessage`.

A **source data verification mark** says that a monitor compared a form (``field`` ``*``) or
one field with the source documents, at ``record_version``; a later change of the value
removes the mark (see :mod:`cletrial.store.monitoring_rules`).

The **lock events** are the history of the database's freeze and lock; the last one gives its
state (``open``, ``frozen`` or ``locked``).

>>> sorted(t for t in Base.metadata.tables if t in ("queries", "sdv_marks", "lock_events"))
['lock_events', 'queries', 'sdv_marks']
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cletrial.store.tables_base import NO_REUSE, Base, Versioned
from cletrial.store.types import UTCDateTime

__all__ = ["WHOLE_FORM", "LockEvent", "Query", "QueryMessage", "SdvMark"]

#: ``sdv_marks.field`` of a mark that covers the whole form.
WHOLE_FORM: Final = "*"


class Query(Versioned, Base):
    """A question to the site about a patient, a form or a field."""

    __tablename__ = "queries"
    __table_args__ = (
        Index("ix_queries_target", "table_name", "record_id"),
        Index("ix_queries_status", "status"),
        NO_REUSE,
    )
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    table_name: Mapped[str | None] = mapped_column(String(40))
    record_id: Mapped[int | None] = mapped_column(Integer)
    field: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(10))
    origin: Mapped[str] = mapped_column(String(10))
    check_id: Mapped[str | None] = mapped_column(String(60))
    severity: Mapped[str | None] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(Text)
    opened_by: Mapped[str] = mapped_column(String(80))
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status_by: Mapped[str] = mapped_column(String(80))
    status_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class QueryMessage(Versioned, Base):
    """One step of a query's thread: who did what (``action``), when, with which words."""

    __tablename__ = "query_messages"
    __table_args__ = (NO_REUSE,)
    query_id: Mapped[int] = mapped_column(ForeignKey("queries.id"), index=True)
    action: Mapped[str] = mapped_column(String(12))
    status_after: Mapped[str] = mapped_column(String(10))
    author: Mapped[str] = mapped_column(String(80))
    author_role: Mapped[str] = mapped_column(String(20))
    posted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    text: Mapped[str] = mapped_column(Text)
    correction: Mapped[str | None] = mapped_column(Text)


class SdvMark(Versioned, Base):
    """A form (``field`` ``*``) or field verified against the source documents."""

    __tablename__ = "sdv_marks"
    __table_args__ = (UniqueConstraint("table_name", "record_id", "field"), NO_REUSE)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    table_name: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(60))
    record_version: Mapped[int] = mapped_column(Integer)
    verified_by: Mapped[str] = mapped_column(String(80))
    verified_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class LockEvent(Versioned, Base):
    """A freeze, lock, unfreeze or unlock of the database, e-signed with its reason."""

    __tablename__ = "lock_events"
    __table_args__ = (NO_REUSE,)
    action: Mapped[str] = mapped_column(String(10))
    state_after: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    signed_by: Mapped[str] = mapped_column(String(80))
    signed_name: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
