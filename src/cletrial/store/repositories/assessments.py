"""Further records the protocol asks for: the qualitative tests of the baseline immunology panel
(ANA, anti-ENA, antiphospholipid antibodies), nerve conduction studies, and concomitant
medication with its dates.

A change of baseline medication is a protocol deviation (protocol section 2): when a baseline
medication is given an end date, or another medication starts after the first dose, a deviation
(category ``medication``) is recorded in the same unit of work.

>>> import datetime as dt
>>> from cletrial.store import UnitOfWork, create_engine_for, upgrade
>>> engine = create_engine_for("sqlite://"); upgrade(engine)
>>> with UnitOfWork(engine, user="ana") as uow:
...     study = uow.studies.create(code="S", title="T", protocol_id="lenalidomide-cle-2012",
...                                protocol_version="1")
...     site = uow.sites.create(study_id=study.id, code="A", name="Site A")
...     p = uow.patients.create(study_id=study.id, site_id=site.id, study_code="P01",
...                             first_dose_date=dt.date(2009, 2, 2))
...     _ = uow.immunology.add(patient_id=p.id, sample_date=dt.date(2009, 2, 2), test="ana",
...                            result="positive")
...     _ = uow.medications.add(patient_id=p.id, name="prednisone 5 mg/day", baseline=False,
...                             start_date=dt.date(2009, 3, 2))
...     deviations = [(d.category, d.deviation_date) for d in uow.deviations.for_patient(p.id)]
>>> deviations
[('medication', datetime.date(2009, 3, 2))]
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cletrial.errors import InputError
from cletrial.store.records import ImmunologyRecord, MedicationRecord, NerveConductionRecord
from cletrial.store.repositories.base import PatientRecords

__all__ = ["ImmunologyRepository", "MedicationRepository", "NerveConductionRepository"]


class ImmunologyRepository(PatientRecords[ImmunologyRecord]):
    """ANA, anti-ENA and antiphospholipid antibodies (natural key: patient, date, test)."""

    table = "immunology_results"
    record = ImmunologyRecord
    order_by = ("patient_id", "sample_date", "test")

    def add(self, *, patient_id: int, sample_date: dt.date, test: str, result: str,
            visit_id: int | None = None) -> ImmunologyRecord:  # fmt: skip
        """Record a result: negative, positive or indeterminate."""
        return self._create({"patient_id": patient_id, "visit_id": visit_id, "test": test,
                             "sample_date": sample_date, "result": result})  # fmt: skip


class NerveConductionRepository(PatientRecords[NerveConductionRecord]):
    """Nerve conduction studies (natural key: patient, date)."""

    table = "nerve_conduction_studies"
    record = NerveConductionRecord
    order_by = ("patient_id", "study_date")

    def add(self, *, patient_id: int, study_date: dt.date, result: str, note: str | None = None,
            visit_id: int | None = None) -> NerveConductionRecord:  # fmt: skip
        """Record a study: normal or abnormal."""
        return self._create({"patient_id": patient_id, "visit_id": visit_id,
                             "study_date": study_date, "result": result, "note": note})  # fmt: skip


class MedicationRepository(PatientRecords[MedicationRecord]):
    """Concomitant medication (natural key: patient, name, start date)."""

    table = "concomitant_medications"
    record = MedicationRecord
    order_by = ("patient_id", "start_date", "name")

    def add(
        self, *, patient_id: int, name: str, baseline: bool, start_date: dt.date | None = None,
        end_date: dt.date | None = None, note: str | None = None,
    ) -> MedicationRecord:  # fmt: skip
        """Record a medication; a change of baseline medication also records a deviation."""
        values = {"patient_id": patient_id, "name": name, "baseline": baseline,
                  "start_date": start_date, "end_date": end_date, "note": note}  # fmt: skip
        _check_dates(values)
        record = self._create(values)
        self._record_deviation(record, None)
        return record

    def update(
        self, record_id: int, *, expected_version: int, reason: str | None = None, **changes: Any
    ) -> MedicationRecord:
        """Change a medication (e.g. give its end date); the same rules as :meth:`add`."""
        before = self.get(record_id)
        _check_dates({**self._uow.get(self.table, record_id), **changes})
        record = super().update(record_id, expected_version=expected_version, reason=reason,
                                **changes)  # fmt: skip
        self._record_deviation(record, before)
        return record

    def _record_deviation(self, record: MedicationRecord, before: MedicationRecord | None) -> None:
        change: tuple[dt.date, str] | None = None
        if (
            record.baseline
            and record.end_date is not None
            and (before is None or before.end_date != record.end_date)
        ):
            change = (record.end_date, f"baseline medication {record.name} stopped")
        first = self._uow.patients.get(record.patient_id).first_dose_date
        starts_later = record.start_date is not None and first is not None and (
            record.start_date > first)  # fmt: skip
        if not record.baseline and starts_later and before is None:
            assert record.start_date is not None
            change = (record.start_date, f"{record.name} started during treatment")
        if change is None:
            return
        day, what = change
        existing = self._uow.find("protocol_deviations", patient_id=record.patient_id,
                                  deviation_date=day, category="medication")  # fmt: skip
        if existing is None:
            self._uow.deviations.add(patient_id=record.patient_id, deviation_date=day,
                                     category="medication",
                                     description=f"concomitant medication changed: {what} (no "
                                     "change of baseline medication is allowed)")  # fmt: skip


def _check_dates(values: dict[str, Any]) -> None:
    start, end = values.get("start_date"), values.get("end_date")
    if start is not None and end is not None and end < start:
        raise InputError(
            "concomitant_medications.end_date",
            end.isoformat(),
            f"must not be before the start date ({start.isoformat()})",
        )
