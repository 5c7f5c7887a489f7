"""Patients (pseudonymous), their identifying data (kept apart) and screening records."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cletrial.errors import InputError
from cletrial.store.fields import canonical_json
from cletrial.store.records import IdentityRecord, PatientRecord, ScreeningRecord
from cletrial.store.repositories.base import Repository

__all__ = ["IdentityRepository", "PatientRepository", "ScreeningRepository"]

_PATIENT_FIELDS = (
    "sex", "reproductive_potential", "irregular_cycles", "cle_subtype", "sle", "diagnosis_date",
    "first_dose_date",
)  # fmt: skip


class PatientRepository(Repository[PatientRecord]):
    """Patients of a study, known by their pseudonymous study code."""

    table = "patients"
    record = PatientRecord
    order_by = ("study_id", "study_code")

    def create(
        self, *, study_id: int, site_id: int, study_code: str, **fields: Any
    ) -> PatientRecord:
        """Enrol a patient at a site of a study.

        ``fields`` may give ``sex`` (F or M), ``reproductive_potential``, ``irregular_cycles``,
        ``sle`` (booleans), ``cle_subtype`` (text), ``diagnosis_date`` (partial date ``YYYY``,
        ``YYYY-MM`` or ``YYYY-MM-DD``) and ``first_dose_date`` (a date). Omitted is unknown.
        """
        for name in fields:
            if name not in _PATIENT_FIELDS:
                raise InputError(f"patients.{name}", fields[name], "unknown field of patients")
        site = self._uow.get("sites", site_id)
        if site["study_id"] != study_id:
            raise InputError("patients.site_id", site_id, f"is not a site of studies {study_id}")
        return self._create({"study_id": study_id, "site_id": site_id, "study_code": study_code,
                             **fields})  # fmt: skip

    def by_code(self, study_id: int, study_code: str) -> PatientRecord | None:
        """Return the patient with this study code, or ``None``."""
        return self._find(study_id=study_id, study_code=study_code)

    def list(
        self, *, study_id: int | None = None, site_id: int | None = None
    ) -> list[PatientRecord]:
        """Patients of a study and/or a site, by study code."""
        where = []
        if study_id is not None:
            where.append(self._t.c.study_id == study_id)
        if site_id is not None:
            where.append(self._t.c.site_id == site_id)
        return self._list(*where)


class IdentityRepository(Repository[IdentityRecord]):
    """Identifying data (name, date of birth, medical record number), one record a patient."""

    table = "patient_identities"
    record = IdentityRecord

    def for_patient(self, patient_id: int) -> IdentityRecord | None:
        """Return the identifying data of a patient, or ``None`` if none was recorded."""
        return self._find(patient_id=patient_id)

    def save(
        self,
        patient_id: int,
        *,
        full_name: str | None = None,
        date_of_birth: dt.date | None = None,
        mrn: str | None = None,
        expected_version: int | None = None,
        reason: str | None = None,
    ) -> IdentityRecord:
        """Record (first time) or change the identifying data; ``None`` leaves a field as it is."""
        given = {k: v for k, v in (("full_name", full_name), ("date_of_birth", date_of_birth),
                                   ("mrn", mrn)) if v is not None}  # fmt: skip
        current = self.for_patient(patient_id)
        if current is None:
            return self._create({"patient_id": patient_id, **given})
        if expected_version is None:
            raise InputError("patient_identities.expected_version", None,
                             "is required to change recorded identifying data")  # fmt: skip
        return self.update(current.id, expected_version=expected_version, reason=reason, **given)


class ScreeningRepository(Repository[ScreeningRecord]):
    """The screening record of each patient (the eligibility input, as a JSON document)."""

    table = "screenings"
    record = ScreeningRecord

    def for_patient(self, patient_id: int) -> ScreeningRecord | None:
        """Return the patient's screening record, or ``None``."""
        return self._find(patient_id=patient_id)

    def save(
        self,
        patient_id: int,
        *,
        screening_date: dt.date,
        record: dict[str, Any],
        verdict: str | None = None,
        expected_version: int | None = None,
        reason: str | None = None,
    ) -> ScreeningRecord:
        """Record or replace the screening record; ``verdict`` is eligible, ineligible or
        undetermined (as computed by the protocol's eligibility check)."""
        if not isinstance(record, dict):
            raise InputError("screenings.record", record, "must be a JSON object")
        values: dict[str, Any] = {"screening_date": screening_date,
                                  "record_json": canonical_json(record)}  # fmt: skip
        if verdict is not None:
            values["verdict"] = verdict
        current = self.for_patient(patient_id)
        if current is None:
            return self._create({"patient_id": patient_id, **values})
        if expected_version is None:
            raise InputError("screenings.expected_version", None,
                             "is required to change a saved screening record")  # fmt: skip
        row = self._uow.update(self.table, current.id, values, expected_version=expected_version,
                               reason=reason)  # fmt: skip
        return ScreeningRecord.from_row(row)
