"""Adverse events and doses after they were recorded: find one in the user's scope, change it
with a reason, remove it with a reason, and read its audit history (also once it is removed).

The pages (:mod:`cletrial.web.routes.events_pages`) and the REST API
(:mod:`cletrial.web.routes.events_api`) call these same functions, so both refuse, change and
audit a record the same way:

* :func:`record_in_scope`: the record and its patient; a patient of another site is refused
  (403, logged without identifiers, :func:`cletrial.web.clinical.patient_in_scope`), an unknown
  record is not found (404), and so is a record that is not the patient named in a page's URL.
* :func:`update_record`: the store's update (version and reason required, a stale version is a
  :class:`~cletrial.errors.ConflictError` naming what changed); moving the start of a patient's
  first dose moves the patient's first dose date too, with the same reason.
* :func:`remove_record`: the store's delete (version and reason required; audited by a DELETE
  row holding the whole old record and the reason).
* :func:`record_audit`: the record's audit rows; a removed record is found by its DELETE row.

Each kind of record is a declaration (:class:`RecordKind`):

>>> import datetime as dt
>>> [(kind.table, kind.segment, kind.noun) for kind in KINDS]
[('adverse_events', 'adverse-events', 'adverse event'), ('doses', 'doses', 'dose')]
>>> ADVERSE_EVENT.describe({"term": "Rash", "start_date": dt.date(2024, 2, 1)})
'Rash from 2024-02-01'
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from cletrial.errors import NotFoundError
from cletrial.store.records import PatientRecord
from cletrial.store.unit_of_work import UnitOfWork
from cletrial.web.accounts import WebUser
from cletrial.web.audit_views import audit_entries
from cletrial.web.clinical import patient_in_scope
from cletrial.web.schemas_clinical import AuditEntryPublic

__all__ = [
    "ADVERSE_EVENT",
    "DOSE",
    "KINDS",
    "RecordAudit",
    "RecordKind",
    "as_public",
    "field_of",
    "record_audit",
    "record_in_scope",
    "remove_record",
    "update_record",
]

M = TypeVar("M", bound=BaseModel)


def field_of(record: Any, name: str) -> Any:
    """A field of a stored record, or of a removed one (a mapping read from its DELETE row).

    >>> field_of({"term": "Rash"}, "term")
    'Rash'
    """
    return record.get(name) if isinstance(record, Mapping) else getattr(record, name)


def _date(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


@dataclass(frozen=True)
class RecordKind:
    """A kind of patient record that is edited, removed and audited one by one.

    ``table`` is the store's table (and repository) name, ``segment`` the URL segment of the
    pages and of the API (``/api/<segment>/{id}``), ``noun`` how the record is named to users,
    ``describe`` a short description of one record (the term and start of an adverse event).
    """

    table: str
    segment: str
    noun: str
    describe: Callable[[Any], str]

    def repository(self, uow: UnitOfWork) -> Any:
        """The store repository of this kind (``uow.adverse_events``, ``uow.doses``)."""
        return getattr(uow, self.table)

    def not_found(self, record_id: int) -> NotFoundError:
        """The error for a record that is not the given patient's (HTTP 404)."""
        return NotFoundError(f"{self.table} {record_id}: no such {self.noun} of this patient")


ADVERSE_EVENT = RecordKind(
    table="adverse_events", segment="adverse-events", noun="adverse event",
    describe=lambda r: f"{field_of(r, 'term')} from {_date(field_of(r, 'start_date'))}",
)  # fmt: skip
DOSE = RecordKind(
    table="doses", segment="doses", noun="dose",
    describe=lambda r: f"from {_date(field_of(r, 'start_date'))}",
)  # fmt: skip
#: The kinds of record with edit, removal and audit operations (pages and API).
KINDS: tuple[RecordKind, ...] = (ADVERSE_EVENT, DOSE)


def _owned(
    uow: UnitOfWork, user: WebUser, kind: RecordKind, record_id: int, record: Any,
    patient: PatientRecord | None, route: str,
) -> PatientRecord:  # fmt: skip
    """The record's patient, checked to be at one of the user's sites (else 403); when a page
    named the patient, the record must be that patient's (else 404)."""
    if patient is None:
        return patient_in_scope(uow, user, int(field_of(record, "patient_id")), route)
    if field_of(record, "patient_id") != patient.id:
        raise kind.not_found(record_id)
    return patient


def record_in_scope(
    uow: UnitOfWork, user: WebUser, kind: RecordKind, record_id: int, route: str,
    patient_id: int | None = None,
) -> tuple[PatientRecord, Any]:  # fmt: skip
    """The patient and the stored record, if the patient is at one of the user's sites.

    Parameters
    ----------
    uow : UnitOfWork
        The request's unit of work (read-only, or the one that will write).
    user : WebUser
        The logged-in user.
    kind : RecordKind
        :data:`ADVERSE_EVENT` or :data:`DOSE`.
    record_id : int
        The record's id.
    route : str
        The route template, logged when access is refused (never a concrete path).
    patient_id : int, optional
        The patient a page's URL names: checked first, and the record must be theirs.

    Raises
    ------
    NotFoundError
        No such record (or patient), or the record is not the named patient's (HTTP 404).
    AccessDeniedError
        The patient is at none of the user's sites (HTTP 403, logged without identifiers).
    """
    named = None if patient_id is None else patient_in_scope(uow, user, patient_id, route)
    record = kind.repository(uow).get(record_id)
    return _owned(uow, user, kind, record_id, record, named, route), record


def update_record(
    uow: UnitOfWork, kind: RecordKind, patient: PatientRecord, record: Any, *, version: int,
    reason: str, changes: Mapping[str, Any],
) -> Any:  # fmt: skip
    """Write ``changes`` to ``record`` read at ``version``; return the stored record.

    Fields whose value does not change are not written (nothing changed: no new version). A
    patient's first dose date that was the date of their earliest dose stays so: when a dose
    change moves the earliest date, the first dose date follows (same reason). ``uow`` must be
    the writing unit of work in which ``patient`` and ``record`` were read
    (:func:`record_in_scope`).

    Raises
    ------
    ConflictError
        ``version`` is stale: names what changed since (HTTP 409).
    ReasonRequiredError
        No reason given (HTTP 422).
    InputError
        A value the store refuses, naming ``table.field`` and the value (HTTP 422); for a dose,
        a regimen that is not a step of the dose ladder of the patient's study's protocol.
    """
    before = _earliest_dose(uow, patient) if kind is DOSE else None
    saved = kind.repository(uow).update(
        record.id, expected_version=version, reason=reason, **changes
    )
    if kind is DOSE:
        _follow_earliest_dose(uow, patient, before, reason)
    return saved


def remove_record(
    uow: UnitOfWork, kind: RecordKind, patient: PatientRecord, record_id: int, *, version: int,
    reason: str,
) -> None:  # fmt: skip
    """Delete a record entered in error, read at ``version``, with the ``reason``.

    The store keeps the whole record and the reason in a DELETE audit row
    (:func:`record_audit` still finds it). Removing the patient's earliest dose moves their
    first dose date to the next dose, or clears it when no dose is left (same reason). Raises
    as :func:`update_record` does.
    """
    before = _earliest_dose(uow, patient) if kind is DOSE else None
    kind.repository(uow).delete(record_id, expected_version=version, reason=reason)
    if kind is DOSE:
        _follow_earliest_dose(uow, patient, before, reason)


def _earliest_dose(uow: UnitOfWork, patient: PatientRecord) -> dt.date | None:
    return min((d.start_date for d in uow.doses.for_patient(patient.id)), default=None)


def _follow_earliest_dose(
    uow: UnitOfWork, patient: PatientRecord, before: dt.date | None, reason: str
) -> None:
    """Keep the first dose date on the earliest dose when it was there before the change (the
    protocol reads the first dose date as the start of the first regimen recorded)."""
    if patient.first_dose_date is None or patient.first_dose_date != before:
        return
    after = _earliest_dose(uow, patient)
    if after != before:
        uow.patients.update(patient.id, expected_version=patient.version, reason=reason,
                            first_dose_date=after)  # fmt: skip


@dataclass(frozen=True)
class RecordAudit:
    """A record's audit history: its patient, the record (a mapping of the old values read from
    its DELETE row once removed) and the rows, oldest first."""

    patient: PatientRecord
    record: Any
    rows: list[AuditEntryPublic]

    @property
    def removed(self) -> bool:
        """Whether the record was removed (only its audit rows remain)."""
        return isinstance(self.record, Mapping)


def _stored_or_removed(
    uow: UnitOfWork, kind: RecordKind, record_id: int, rows: Sequence[AuditEntryPublic]
) -> Any:
    """The stored record, or for a removed one the record its DELETE row holds (else 404)."""
    try:
        return kind.repository(uow).get(record_id)
    except NotFoundError:
        for row in rows:
            if row.action == "DELETE" and row.old_value:
                return {"id": record_id, **json.loads(row.old_value)}
        raise


def record_audit(
    uow: UnitOfWork, user: WebUser, kind: RecordKind, record_id: int, route: str,
    patient_id: int | None = None,
) -> RecordAudit:  # fmt: skip
    """The audit history of one record, also after its removal; access as
    :func:`record_in_scope` (403 for another site's patient, 404 for no such record)."""
    named = None if patient_id is None else patient_in_scope(uow, user, patient_id, route)
    rows = audit_entries(uow, kind.table, record_id)
    record = _stored_or_removed(uow, kind, record_id, rows)
    return RecordAudit(_owned(uow, user, kind, record_id, record, named, route), record, rows)


def as_public(model: type[M], record: Any) -> M:
    """The public shape ``model`` of a stored record (its fields, read by name).

    >>> import datetime as dt
    >>> from cletrial.web.schemas_clinical import DosePublic
    >>> as_public(DosePublic, {"id": 1, "version": 2, "patient_id": 3, "regimen": "off",
    ...                        "start_date": dt.date(2024, 1, 15), "note": None}).regimen
    'off'
    """
    return model(**{name: field_of(record, name) for name in model.model_fields})
