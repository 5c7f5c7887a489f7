"""Patient-level records: labs (graded by NCI CTCAE), doses, adverse events, pregnancy tests,
disposition events and protocol deviations."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from cletrial.errors import InputError
from cletrial.instruments import grade_lab
from cletrial.store import vocab
from cletrial.store.fields import field_specs, validate_field
from cletrial.store.records import (
    AdverseEventRecord,
    DeviationRecord,
    DoseRecord,
    LabRecord,
    PatientEventRecord,
    PregnancyTestRecord,
    StoredRecord,
)
from cletrial.store.repositories.base import Repository

__all__ = [
    "AdverseEventRepository",
    "DeviationRepository",
    "DoseRepository",
    "LabRepository",
    "PatientEventRepository",
    "PregnancyTestRepository",
    "compute_lab_grade",
]

R = TypeVar("R", bound=StoredRecord)


class _PatientRecords(Repository[R]):
    """Records that belong to a patient and are listed by date."""

    def for_patient(self, patient_id: int) -> list[R]:
        """The patient's records, oldest first."""
        return self._list(self._t.c.patient_id == patient_id)


def compute_lab_grade(values: dict[str, Any]) -> dict[str, Any]:
    """Return the CTCAE columns of a lab result (all ``None`` for tests CTCAE does not grade).

    >>> compute_lab_grade({"test": "neutrophils", "value": 1190.0, "unit": "/mm3", "lln": None,
    ...                    "ctcae_version": None})["ctcae_grade"]
    2
    """
    test, unit = values["test"], values["unit"]
    validate_field("labs", "test", test)
    if unit not in vocab.LAB_UNITS[test]:
        allowed = ", ".join(vocab.LAB_UNITS[test])
        raise InputError("labs.unit", unit, f"must be one of {allowed} for {test}")
    term = vocab.LAB_CTCAE_TERMS.get(test)
    if term is None:
        return dict.fromkeys(("ctcae_term", "ctcae_grade", "ctcae_version", "lln_source"))
    try:
        grade = grade_lab(term, values["value"], unit, lln=values["lln"],
                          version=values.get("ctcae_version") or "5.0")  # fmt: skip
    except InputError as exc:
        raise InputError(f"labs.{exc.field}", exc.value, exc.problem) from None
    return {"ctcae_term": term, "ctcae_grade": grade.grade, "ctcae_version": grade.ctcae_version,
            "lln_source": grade.lln_source}  # fmt: skip


class LabRepository(_PatientRecords[LabRecord]):
    """Lab results (natural key: patient, sample date, test); graded when stored or changed."""

    table = "labs"
    record = LabRecord
    order_by = ("patient_id", "sample_date", "test")

    def add(
        self,
        *,
        patient_id: int,
        sample_date: dt.date,
        test: str,
        value: float,
        unit: str,
        lln: float | None = None,
        visit_id: int | None = None,
        ctcae_version: str = "5.0",
    ) -> LabRecord:
        """Store a lab result; neutrophils, WBC, platelets and haemoglobin get a CTCAE grade.

        ``test`` is one of :data:`cletrial.store.vocab.LAB_TESTS`; ``unit`` one of that test's
        units (e.g. ``/mm3`` or ``10^9/L`` for counts, ``g/dL`` for haemoglobin); ``lln`` the
        laboratory's lower limit of normal in the same unit (without it the CTCAE default is
        used and ``lln_source`` says ``default``).
        """
        values = {"patient_id": patient_id, "visit_id": visit_id, "sample_date": sample_date,
                  "test": test, "value": value, "unit": unit, "lln": lln}  # fmt: skip
        validate_field("labs", "value", value)
        graded = compute_lab_grade({**values, "ctcae_version": ctcae_version})
        return self._create({**values, **graded})

    def update(
        self, record_id: int, *, expected_version: int, reason: str | None = None, **changes: Any
    ) -> LabRecord:
        """Change a lab result (date, test, value, unit, LLN); the grade is recomputed."""
        current = self._uow.get(self.table, record_id)
        merged = {**current, **changes}
        specs = field_specs("labs")
        for name, value in changes.items():
            if name not in specs or not (specs[name].editable or name == "ctcae_version"):
                raise InputError(f"labs.{name}", value, "cannot be changed")
            validate_field("labs", name, value)
        graded = compute_lab_grade(merged)
        row = self._uow.update(
            self.table,
            record_id,
            {**changes, **graded},
            expected_version=expected_version,
            reason=reason,
            system=True,
        )
        return LabRecord.from_row(row)  # fmt: skip


class DoseRepository(_PatientRecords[DoseRecord]):
    """Regimens given (natural key: patient, start date)."""

    table = "doses"
    record = DoseRecord
    order_by = ("patient_id", "start_date")

    def add(self, *, patient_id: int, start_date: dt.date, regimen: str,
            note: str | None = None) -> DoseRecord:  # fmt: skip
        """Record the regimen in force from ``start_date`` (a ladder step id, or ``off``)."""
        return self._create({"patient_id": patient_id, "start_date": start_date,
                             "regimen": regimen, "note": note})  # fmt: skip


class AdverseEventRepository(_PatientRecords[AdverseEventRecord]):
    """Adverse events (natural key: patient, term, start date)."""

    table = "adverse_events"
    record = AdverseEventRecord
    order_by = ("patient_id", "start_date", "term")

    def add(
        self,
        *,
        patient_id: int,
        term: str,
        start_date: dt.date,
        grade: int,
        causality: str,
        serious: bool,
        end_date: dt.date | None = None,
        serious_criterion: str | None = None,
        note: str | None = None,
    ) -> AdverseEventRecord:
        """Record an adverse event: CTCAE ``grade`` 1-5, ``causality`` (unrelated, unlikely,
        possible, probable, definite), ``serious`` with its criterion when serious."""
        if end_date is not None and end_date < start_date:
            raise InputError("adverse_events.end_date", end_date.isoformat(),
                             f"must not be before start_date {start_date.isoformat()}")  # fmt: skip
        if serious_criterion is not None and not serious:
            raise InputError("adverse_events.serious_criterion", serious_criterion,
                             "is only given for a serious event")  # fmt: skip
        return self._create({
            "patient_id": patient_id, "term": term, "start_date": start_date,
            "end_date": end_date, "grade": grade, "causality": causality, "serious": serious,
            "serious_criterion": serious_criterion, "note": note,
        })  # fmt: skip


class PregnancyTestRepository(_PatientRecords[PregnancyTestRecord]):
    """Pregnancy tests (natural key: patient, test date)."""

    table = "pregnancy_tests"
    record = PregnancyTestRecord
    order_by = ("patient_id", "test_date")

    def add(self, *, patient_id: int, test_date: dt.date, result: str) -> PregnancyTestRecord:
        """Record a pregnancy test result: negative or positive."""
        return self._create({"patient_id": patient_id, "test_date": test_date, "result": result})


class PatientEventRepository(_PatientRecords[PatientEventRecord]):
    """Disposition events (natural key: patient, date, type)."""

    table = "patient_events"
    record = PatientEventRecord
    order_by = ("patient_id", "event_date", "event_type")

    def add(self, *, patient_id: int, event_date: dt.date, event_type: str,
            note: str | None = None) -> PatientEventRecord:  # fmt: skip
        """Record a disposition event (see :data:`cletrial.store.vocab.EVENT_TYPES`)."""
        return self._create({"patient_id": patient_id, "event_date": event_date,
                             "event_type": event_type, "note": note})  # fmt: skip


class DeviationRepository(_PatientRecords[DeviationRecord]):
    """Protocol deviations (natural key: patient, date, category)."""

    table = "protocol_deviations"
    record = DeviationRecord
    order_by = ("patient_id", "deviation_date", "category")

    def add(self, *, patient_id: int, deviation_date: dt.date, category: str, description: str,
            visit_id: int | None = None) -> DeviationRecord:  # fmt: skip
        """Record a protocol deviation, optionally tied to a visit."""
        return self._create({"patient_id": patient_id, "visit_id": visit_id,
                             "deviation_date": deviation_date, "category": category,
                             "description": description})  # fmt: skip
