"""Typed records of the monitoring tables: queries, their messages, source data verification
marks and lock events (see :mod:`cletrial.store.tables_monitoring`).

>>> import datetime as dt
>>> now = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
>>> q = QueryRecord.from_row({"id": 1, "version": 1, "patient_id": 3, "table_name": "labs",
...     "record_id": 7, "field": "value", "status": "new", "origin": "manual", "check_id": None,
...     "severity": None, "subject": "Value matches the source?", "opened_by": "mon",
...     "opened_at": now, "status_by": "mon", "status_at": now})
>>> q.target, q.is_active
('labs 7 value', True)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import ClassVar

from cletrial.store.records import StoredRecord

__all__ = ["LockEventRecord", "QueryMessageRecord", "QueryRecord", "SdvMarkRecord"]


@dataclasses.dataclass(frozen=True, slots=True)
class QueryRecord(StoredRecord):
    """A query on a patient (no ``table_name``), a form (no ``field``) or a field."""

    table: ClassVar[str] = "queries"
    patient_id: int
    table_name: str | None
    record_id: int | None
    field: str | None
    status: str
    origin: str
    check_id: str | None
    severity: str | None
    subject: str
    opened_by: str
    opened_at: dt.datetime
    status_by: str
    status_at: dt.datetime

    @property
    def target(self) -> str:
        """What the query is about, e.g. ``labs 7 value`` (``patient`` for the patient)."""
        if self.table_name is None:
            return "patient"
        parts = [self.table_name, str(self.record_id)]
        return " ".join([*parts, self.field] if self.field else parts)

    @property
    def is_active(self) -> bool:
        """Whether the query still waits for someone (not closed)."""
        return self.status != "closed"


@dataclasses.dataclass(frozen=True, slots=True)
class QueryMessageRecord(StoredRecord):
    """One step of a query's thread; ``correction`` is the change it made, as JSON."""

    table: ClassVar[str] = "query_messages"
    query_id: int
    action: str
    status_after: str
    author: str
    author_role: str
    posted_at: dt.datetime
    text: str
    correction: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class SdvMarkRecord(StoredRecord):
    """A form (``field`` ``*``) or a field verified against the source at ``record_version``."""

    table: ClassVar[str] = "sdv_marks"
    patient_id: int
    table_name: str
    record_id: int
    field: str
    record_version: int
    verified_by: str
    verified_at: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class LockEventRecord(StoredRecord):
    """A freeze, unfreeze, lock or unlock of the database."""

    table: ClassVar[str] = "lock_events"
    action: str
    state_after: str
    reason: str
    signed_by: str
    signed_name: str
    signed_at: dt.datetime


#: The monitoring record classes, registered in :func:`cletrial.store.records.record_class`.
MONITORING_RECORDS: tuple[type[StoredRecord], ...] = (
    QueryRecord, QueryMessageRecord, SdvMarkRecord, LockEventRecord,
)  # fmt: skip
