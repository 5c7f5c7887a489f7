"""Audit histories as the web shows them: one record's rows, and a visit's with its forms and
labs (those removed since included, with the reason of their removal).

Used by the visit, patient and event routes (API and pages); the reads are the store's
(:func:`cletrial.store.audit.audit_history`, :func:`cletrial.store.audit.removed_records`).
"""

from __future__ import annotations

from typing import Final

from cletrial.store import UnitOfWork
from cletrial.store.audit import audit_history, removed_records
from cletrial.web.clinical import labs_of_visit
from cletrial.web.schemas_clinical import AuditEntryPublic

__all__ = ["VISIT_CHILD_TABLES", "audit_entries", "visit_audit_entries"]

#: Tables whose records belong to a visit (``visit_id``) and are shown in its audit history.
VISIT_CHILD_TABLES: Final = ("clasi_assessments", "sledai_assessments", "skindex_assessments",
                              "labs")  # fmt: skip


def audit_entries(uow: UnitOfWork, table: str, record_id: int) -> list[AuditEntryPublic]:
    """Audit rows of one record, oldest first."""
    return [
        AuditEntryPublic(
            id=row.id,
            occurred_at=row.occurred_at,
            actor=row.actor,
            action=row.action,
            table_name=row.table_name,
            record_id=row.record_id,
            field=row.field,
            old_value=row.old_value,
            new_value=row.new_value,
            reason=row.reason,
            record_version=row.record_version,
        )
        for row in audit_history(uow.connection, table, record_id)
    ]


def visit_audit_entries(uow: UnitOfWork, visit_id: int) -> list[AuditEntryPublic]:
    """The audit history of a visit, its CLASI, SLEDAI-2K, Skindex-29+3 and labs, including
    forms and results removed since (with the reason of their removal), oldest first."""
    records: list[tuple[str, int]] = [("visits", visit_id)]
    for table, form in (("clasi_assessments", uow.clasi.for_visit(visit_id)),
                        ("sledai_assessments", uow.sledai.for_visit(visit_id)),
                        ("skindex_assessments", uow.skindex.for_visit(visit_id))):  # fmt: skip
        if form is not None:
            records.append((table, form.id))
    records += [("labs", lab.id) for lab in labs_of_visit(uow, visit_id)]
    records += removed_records(uow.connection, VISIT_CHILD_TABLES, "visit_id", visit_id)
    rows = [row for table, rid in dict.fromkeys(records) for row in audit_entries(uow, table, rid)]
    return sorted(rows, key=lambda r: r.id)
