"""Visits with their CLASI and SLEDAI-2K forms; signing and unlocking a visit.

A visit also keeps its CLA-IGA grade (``cla_iga``, 0-4, ``None`` = not assessed) and may be
recorded with its Skindex-29+3 (:mod:`cletrial.store.repositories.skindex`).

Forms are validated and scored with :mod:`cletrial.instruments` before anything is written:
CLASI-A, CLASI-D and the activity severity with ``compute_clasi``, SLEDAI-2K with
``compute_sledai``. A signed visit and its forms cannot change until unlocked with a reason.

The forms of many visits are read at once, in one query per 500 visits, by ``for_visits``:

Forms typed by a person must be complete (every item, 0 when absent); a machine-written form
whose omitted items mean absent is written out first with ``fill_absent_clasi_items``:

>>> import datetime as dt
>>> from cletrial.instruments import fill_absent_clasi_items, fill_absent_sledai_items
>>> from cletrial.store import UnitOfWork, create_engine_for, upgrade
>>> engine = create_engine_for("sqlite://"); upgrade(engine)
>>> with UnitOfWork(engine, user="ana") as uow:
...     study = uow.studies.create(code="S", title="T", protocol_id="lenalidomide-cle-2012",
...                                protocol_version="1")
...     site = uow.sites.create(study_id=study.id, code="A", name="Site A")
...     p = uow.patients.create(study_id=study.id, site_id=site.id, study_code="P01")
...     clasi = fill_absent_clasi_items({"regions": {"arms": {"erythema": 2}}})
...     v1 = uow.visits.create(patient_id=p.id, visit_date=dt.date(2009, 2, 2), kind="baseline",
...                            clasi=clasi, sledai=fill_absent_sledai_items({"rash": True}))
...     v2 = uow.visits.create(patient_id=p.id, visit_date=dt.date(2009, 3, 2))
>>> with UnitOfWork(engine, read_only=True) as uow:
...     clasi = uow.clasi.for_visits([v1.id, v2.id])
...     sledai = uow.sledai.for_visits([v1.id, v2.id])
>>> clasi[v1.id].activity, v2.id in clasi, sledai[v1.id].score
(2, False, 2)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple, Required, TypedDict, TypeVar, Unpack

from cletrial.errors import InputError, LockedRecordError
from cletrial.instruments import (
    ClasiForm,
    compute_clasi,
    compute_clasi_severity,
    compute_sledai,
    require_complete_clasi,
    require_complete_sledai,
    validate_cla_iga,
)
from cletrial.store.fields import validate_field
from cletrial.store.records import (
    ClasiRecord,
    SkindexRecord,
    SledaiRecord,
    VisitRecord,
    clasi_form_to_columns,
)
from cletrial.store.repositories.base import Repository
from cletrial.store.tables_forms import CLASI_ITEM_COLUMNS, SLEDAI_ITEM_COLUMNS
from cletrial.store.types import utc_now

__all__ = [
    "ClasiRepository", "FormRepository", "NewVisit", "NewVisitFields", "SledaiRepository",
    "VisitRepository", "clasi_values", "sledai_values",
]  # fmt: skip


class NewVisitFields(TypedDict, total=False):
    """The fields of a new visit (the keyword arguments of ``VisitRepository.create``)."""

    patient_id: Required[int]
    visit_date: Required[dt.date]
    kind: str
    label: str | None
    medications: Sequence[str] | None
    notes: str | None
    clasi: Mapping[str, Any] | Any | None
    sledai: Mapping[str, Any] | Any | None
    cla_iga: int | None
    skindex: Mapping[str, Any] | None


class NewVisit(NamedTuple):
    """A visit just recorded, with the forms recorded with it (``None`` when not given)."""

    visit: VisitRecord
    clasi: ClasiRecord | None
    sledai: SledaiRecord | None
    skindex: SkindexRecord | None = None


def clasi_values(form: ClasiForm) -> dict[str, Any]:
    """The stored columns of a validated CLASI form: its items and its scores."""
    score = compute_clasi(form)
    return {**clasi_form_to_columns(form), "entry": "items", "activity": score.activity,
            "damage": score.damage, "activity_severity": score.activity_severity}  # fmt: skip


def sledai_values(form: Any) -> dict[str, Any]:
    """The stored columns of a validated SLEDAI-2K form (``SledaiForm``): its descriptors and
    its score."""
    values: dict[str, Any] = {n: bool(getattr(form, n)) for n in SLEDAI_ITEM_COLUMNS}
    values.update(entry="items", score=compute_sledai(form))
    return values


R = TypeVar("R", ClasiRecord, SledaiRecord, SkindexRecord)


class VisitRepository(Repository[VisitRecord]):
    """Visits of a patient (natural key: patient and ``visit_date``)."""

    table = "visits"
    record = VisitRecord
    order_by = ("patient_id", "visit_date")

    def create(self, **visit: Unpack[NewVisitFields]) -> VisitRecord:
        """Record a visit, optionally with its CLASI and SLEDAI-2K forms (scored and stored).

        Fields (:class:`NewVisitFields`): ``patient_id`` and ``visit_date`` (required);
        ``kind`` baseline (one per patient), scheduled (default) or unscheduled; ``label``;
        ``medications`` the concomitant medications (``None``: not recorded); ``notes``;
        ``clasi`` and ``sledai`` the forms; ``cla_iga`` the CLA-IGA grade 0-4 and ``skindex``
        the Skindex-29+3 (item number -> 1-5), ``None`` when not assessed. Forms are validated
        before anything is written (FormError names the field). :meth:`create_with_forms` also
        returns the stored forms.
        """
        return self.create_with_forms(**visit).visit

    def create_with_forms(
        self,
        *,
        patient_id: int,
        visit_date: dt.date,
        kind: str = "scheduled",
        label: str | None = None,
        medications: Sequence[str] | None = None,
        notes: str | None = None,
        clasi: Mapping[str, Any] | Any | None = None,
        sledai: Mapping[str, Any] | Any | None = None,
        cla_iga: int | None = None,
        skindex: Mapping[str, Any] | None = None,
    ) -> NewVisit:
        """As :meth:`create`, returning the visit and its stored forms (``None`` when not given).

        The visit and its forms are written together (one statement on PostgreSQL).
        """
        from cletrial.store.repositories.skindex import SkindexRepository, skindex_values

        clasi_form = None if clasi is None else require_complete_clasi(clasi)
        sledai_form = None if sledai is None else require_complete_sledai(sledai)
        grade = None if cla_iga is None else validate_cla_iga(cla_iga)
        forms: list[tuple[str, dict[str, Any]]] = []
        if clasi_form is not None:
            forms.append((ClasiRepository.table, clasi_values(clasi_form)))
        if sledai_form is not None:
            forms.append((SledaiRepository.table, sledai_values(sledai_form)))
        if skindex is not None:
            forms.append((SkindexRepository.table, skindex_values(skindex)))
        row, stored = self._uow.insert_with_children(self.table, {
            "patient_id": patient_id, "visit_date": visit_date, "kind": kind, "label": label,
            "medications": None if medications is None else list(medications), "notes": notes,
            "status": "open", "cla_iga": grade,
        }, forms, link="visit_id")  # fmt: skip
        rows = iter(stored)
        return NewVisit(
            VisitRecord.from_row(row),
            None if clasi_form is None else ClasiRecord.from_row(next(rows), form=clasi_form),
            None if sledai_form is None else SledaiRecord.from_row(next(rows), form=sledai_form),
            None if skindex is None else SkindexRecord.from_row(next(rows)),
        )

    def for_patient(self, patient_id: int) -> list[VisitRecord]:
        """Visits of a patient, by date."""
        return self._list(self._t.c.patient_id == patient_id)

    def by_date(self, patient_id: int, visit_date: dt.date) -> VisitRecord | None:
        """The patient's visit on this date, or ``None``."""
        return self._find(patient_id=patient_id, visit_date=visit_date)

    def update(
        self, record_id: int, *, expected_version: int, reason: str | None = None, **changes: Any
    ) -> VisitRecord:
        """Change visit fields (date, kind, label, medications, notes, the CLA-IGA grade, where
        ``None`` means not assessed); refused while signed."""
        if changes.get("cla_iga") is not None:
            changes["cla_iga"] = validate_cla_iga(changes["cla_iga"])
        if "medications" in changes and changes["medications"] is not None:
            changes["medications"] = list(changes["medications"])
        return super().update(record_id, expected_version=expected_version, reason=reason,
                              **changes)  # fmt: skip

    def sign(
        self, visit_id: int, *, expected_version: int, meaning: str = "reviewed and approved"
    ) -> VisitRecord:
        """Sign a visit as the unit of work's user; the visit and everything recorded at it
        (forms, labs, doses, adverse events, pregnancy tests, deviations) become locked.

        The manifest keeps the signer's printed name (``users.display_name``), the time (UTC)
        and the meaning; the audit reason is ``signature: <meaning> (<printed name>)``.
        """
        current = self._uow.get(self.table, visit_id, lock=True)
        if current["status"] == "signed":
            raise LockedRecordError(
                f"visits {visit_id} is already signed by {current['signed_by']}"
            )
        if not meaning or not meaning.strip():
            raise InputError("visits.sign.meaning", meaning, "must say what the signature means")
        user = self._uow.users.by_username(self._uow.user)
        name = user.display_name if user is not None else self._uow.user
        changes = {"status": "signed", "signed_by": self._uow.user, "signed_at": utc_now(),
                   "signed_name": name, "sign_meaning": meaning.strip()}  # fmt: skip
        row = self._uow.update(self.table, visit_id, changes, expected_version=expected_version,
                               reason=f"signature: {meaning.strip()} ({name})",
                               system=True)  # fmt: skip
        return VisitRecord.from_row(row)

    def unlock(self, visit_id: int, *, expected_version: int, reason: str) -> VisitRecord:
        """Unlock a signed visit so it can be corrected; ``reason`` is required."""
        if not reason or not reason.strip():
            raise InputError("visits.unlock.reason", reason, "a reason is required to unlock")
        current = self._uow.get(self.table, visit_id, lock=True)
        if current["status"] != "signed":
            raise InputError(
                "visits.status", current["status"], "only a signed visit can be unlocked"
            )
        changes = {"status": "open", "signed_by": None, "signed_at": None, "signed_name": None,
                   "sign_meaning": None}  # fmt: skip
        row = self._uow.update(self.table, visit_id, changes, expected_version=expected_version,
                               reason=reason, system=True)  # fmt: skip
        return VisitRecord.from_row(row)


class FormRepository(Repository[R]):
    """Shared reads by visit and insert-or-update of a visit's single form record."""

    def _by_visit(self, visit_ids: Iterable[int]) -> dict[int, R]:
        rows = self._rows_in("visit_id", visit_ids)
        return {row["visit_id"]: self.record.from_row(row) for row in rows}

    def _save(
        self,
        visit_id: int,
        values: dict[str, Any],
        expected_version: int | None,
        reason: str | None,
    ) -> dict[str, Any]:
        new_visit = self._uow.created_in_this_transaction("visits", visit_id)
        current = None if new_visit else self._uow.find(self.table, visit_id=visit_id)
        if current is None:
            return dict(self._uow.insert(self.table, {"visit_id": visit_id, **values}))
        if expected_version is None:
            raise InputError(
                f"{self.table}.expected_version",
                None,
                "is required to change a saved form (the version you edited)",
            )
        return dict(self._uow.update(self.table, current["id"], values,
                                     expected_version=expected_version, reason=reason,
                                     system=True))  # fmt: skip


class ClasiRepository(FormRepository[ClasiRecord]):
    """The CLASI form of each visit, item by item, with CLASI-A, CLASI-D and severity."""

    table = "clasi_assessments"
    record = ClasiRecord

    def for_visit(self, visit_id: int) -> ClasiRecord | None:
        """The visit's CLASI, or ``None`` when none was recorded (missing, not zero)."""
        return self._find(visit_id=visit_id)

    def for_visits(self, visit_ids: Iterable[int]) -> dict[int, ClasiRecord]:
        """The CLASI of each of these visits, by visit id, read in one query per 500 visits.

        A visit without a CLASI (or an unknown id) has no key: use ``.get(visit_id)``, which
        gives ``None`` as :meth:`for_visit` does. No ids, no query.
        """
        return self._by_visit(visit_ids)

    def save(
        self,
        visit_id: int,
        form: Mapping[str, Any] | Any,
        *,
        expected_version: int | None = None,
        reason: str | None = None,
    ) -> ClasiRecord:
        """Store a CLASI form (a mapping or ``ClasiForm``) item by item and its scores.

        A mapping must give every item (0 when absent): a blank is missing, never 0
        (:func:`cletrial.instruments.require_complete_clasi` names the empty items).

        A second save of the same visit's form is an edit: give ``expected_version`` (and a
        reason once saved); only the items that change are written to the audit trail.
        """
        validated = require_complete_clasi(form)
        row = self._save(visit_id, clasi_values(validated), expected_version, reason)
        return ClasiRecord.from_row(row, form=validated)

    def save_scores(
        self,
        visit_id: int,
        *,
        activity: int,
        damage: int,
        expected_version: int | None = None,
        reason: str | None = None,
    ) -> ClasiRecord:
        """Store only CLASI-A (0-70) and CLASI-D (0-56) when the items are not known."""
        validate_field(self.table, "activity", activity)
        validate_field(self.table, "damage", damage)
        values = {
            **dict.fromkeys(CLASI_ITEM_COLUMNS),
            "entry": "scores",
            "activity": activity,
            "damage": damage,
            "activity_severity": compute_clasi_severity(activity),
        }
        return ClasiRecord.from_row(self._save(visit_id, values, expected_version, reason))


class SledaiRepository(FormRepository[SledaiRecord]):
    """The SLEDAI-2K form of each visit, descriptor by descriptor, with its score."""

    table = "sledai_assessments"
    record = SledaiRecord

    def for_visit(self, visit_id: int) -> SledaiRecord | None:
        """The visit's SLEDAI-2K, or ``None`` when none was recorded."""
        return self._find(visit_id=visit_id)

    def for_visits(self, visit_ids: Iterable[int]) -> dict[int, SledaiRecord]:
        """The SLEDAI-2K of each of these visits, by visit id, in one query per 500 visits.

        A visit without a SLEDAI-2K (or an unknown id) has no key: use ``.get(visit_id)``.
        """
        return self._by_visit(visit_ids)

    def save(
        self,
        visit_id: int,
        form: Mapping[str, Any] | Any,
        *,
        expected_version: int | None = None,
        reason: str | None = None,
    ) -> SledaiRecord:
        """Store a SLEDAI-2K form (descriptor -> bool) and its score; a mapping must give every
        descriptor (:func:`cletrial.instruments.require_complete_sledai`)."""
        validated = require_complete_sledai(form)
        row = self._save(visit_id, sledai_values(validated), expected_version, reason)
        return SledaiRecord.from_row(row, form=validated)

    def save_score(
        self,
        visit_id: int,
        score: int,
        *,
        expected_version: int | None = None,
        reason: str | None = None,
    ) -> SledaiRecord:
        """Store only the SLEDAI-2K total (0-105) when the descriptors are not known."""
        validate_field(self.table, "score", score)
        values = {**dict.fromkeys(SLEDAI_ITEM_COLUMNS), "entry": "score", "score": score}
        return SledaiRecord.from_row(self._save(visit_id, values, expected_version, reason))
