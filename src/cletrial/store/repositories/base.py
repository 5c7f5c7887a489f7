"""The shape every repository shares: get, list, update, delete and history of one table.

A repository is a thin typed layer over :class:`cletrial.store.UnitOfWork`: it validates with
the table's field rules, writes through the unit of work (so every change is audited) and
returns immutable records (:mod:`cletrial.store.records`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, TypeVar

from sqlalchemy import ColumnElement, Table, select

from cletrial.store.audit import AuditRecord, audit_history
from cletrial.store.fields import table_of
from cletrial.store.records import StoredRecord

if TYPE_CHECKING:
    from cletrial.store.unit_of_work import UnitOfWork

__all__ = ["IN_LIST_CHUNK", "PatientRecords", "Repository"]

R = TypeVar("R", bound=StoredRecord)

#: Most ids sent in one ``IN (...)`` list by the batch readers (``for_visits``): longer lists
#: are read in several queries, far below the bound-parameter limits of SQLite and PostgreSQL.
IN_LIST_CHUNK: Final = 500


class Repository(Generic[R]):
    """Typed access to one table through a unit of work."""

    table: ClassVar[str]
    record: type[R]
    #: Columns listed records are sorted by.
    order_by: ClassVar[tuple[str, ...]] = ("id",)

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    @property
    def _t(self) -> Table:
        return table_of(self.table)

    def get(self, record_id: int) -> R:
        """Return the record with this id (raises NotFoundError)."""
        return self.record.from_row(self._uow.get(self.table, record_id))

    def _rows(self, *where: ColumnElement[bool]) -> list[dict[str, Any]]:
        t = self._t
        query = select(t).where(*where).order_by(*[t.c[name] for name in self.order_by])
        return [dict(r) for r in self._uow.connection.execute(query).mappings()]

    def _rows_in(self, column: str, values: Iterable[int]) -> list[dict[str, Any]]:
        """Rows whose ``column`` is one of ``values``: one query per :data:`IN_LIST_CHUNK`
        distinct values (none for no values), each chunk in the repository's order."""
        wanted = list(dict.fromkeys(values))
        rows: list[dict[str, Any]] = []
        for start in range(0, len(wanted), IN_LIST_CHUNK):
            rows += self._rows(self._t.c[column].in_(wanted[start : start + IN_LIST_CHUNK]))
        return rows

    def _list(self, *where: ColumnElement[bool]) -> list[R]:
        return [self.record.from_row(row) for row in self._rows(*where)]

    def _find(self, **natural_key: Any) -> R | None:
        row = self._uow.find(self.table, **natural_key)
        return None if row is None else self.record.from_row(row)

    def _create(self, values: dict[str, Any]) -> R:
        return self.record.from_row(self._uow.insert(self.table, values))

    def update(
        self, record_id: int, *, expected_version: int, reason: str | None = None, **changes: Any
    ) -> R:
        """Change fields of a record read at ``expected_version``; return the new record.

        Raises ConflictError when the record changed since, ReasonRequiredError without a reason
        (for a saved record), LockedRecordError for data of a signed visit, InputError for a bad
        value or a field that cannot be changed.
        """
        row = self._uow.update(
            self.table, record_id, changes, expected_version=expected_version, reason=reason
        )
        return self.record.from_row(row)

    def delete(self, record_id: int, *, expected_version: int, reason: str | None = None) -> None:
        """Delete a record read at ``expected_version`` (audited; a reason once saved)."""
        self._uow.delete(self.table, record_id, expected_version=expected_version, reason=reason)

    def history(self, record_id: int) -> list[AuditRecord]:
        """Return the audit trail of one record, oldest first."""
        return audit_history(self._uow.connection, self.table, record_id)


class PatientRecords(Repository[R]):
    """Records that belong to a patient, listed in the repository's order (by date)."""

    def for_patient(self, patient_id: int) -> list[R]:
        """The patient's records, oldest first."""
        return self._list(self._t.c.patient_id == patient_id)
