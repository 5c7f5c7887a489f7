"""Patient-level records: labs (graded by NCI CTCAE), doses, adverse events, pregnancy tests,
disposition events, dispositions, protocol deviations and enrolment overrides.

Lab results are listed by patient, by visit, or for many visits at once (one query per 500
visits); a dose needs an eligible screening verdict (or an override) and its regimen must be a
step of the ladder of the protocol its study runs:

>>> from cletrial.store import UnitOfWork, create_engine_for, upgrade
>>> engine = create_engine_for("sqlite://"); upgrade(engine)
>>> with UnitOfWork(engine, user="ana") as uow:
...     study = uow.studies.create(code="S", title="T", protocol_id="lenalidomide-cle-2012",
...                                protocol_version="1")
...     site = uow.sites.create(study_id=study.id, code="A", name="Site A")
...     p = uow.patients.create(study_id=study.id, site_id=site.id, study_code="P01")
...     _ = uow.screenings.save(p.id, screening_date=dt.date(2009, 1, 20), record={},
...                             verdict="eligible")
...     v = uow.visits.create(patient_id=p.id, visit_date=dt.date(2009, 2, 2), kind="baseline")
...     _ = uow.labs.add(patient_id=p.id, visit_id=v.id, sample_date=dt.date(2009, 2, 2),
...                      test="neutrophils", value=1190, unit="/mm3")
...     _ = uow.doses.add(patient_id=p.id, start_date=dt.date(2009, 2, 2), regimen="5_daily")
>>> with UnitOfWork(engine, read_only=True) as uow:
...     grades = [lab.ctcae_grade for lab in uow.labs.for_visit(v.id)]
...     counts = {k: len(labs) for k, labs in uow.labs.for_visits([v.id, 99]).items()}
>>> grades, counts
([2], {1: 1, 99: 0})
>>> with UnitOfWork(engine, user="ana") as uow:
...     uow.doses.add(patient_id=p.id, start_date=dt.date(2009, 3, 2), regimen="50_daily")
Traceback (most recent call last):
...
cletrial.errors.InputError: doses.regimen = "50_daily": must be one of 10_daily, 5_daily, ...
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Final

from sqlalchemy import select

from cletrial.errors import ConfirmationRequiredError, InputError
from cletrial.instruments import check_lab_value, grade_lab
from cletrial.store import vocab
from cletrial.store.fields import field_specs, table_of, validate_field
from cletrial.store.records import (
    AdverseEventRecord,
    DeviationRecord,
    DoseRecord,
    LabRecord,
    PatientEventRecord,
    PregnancyTestRecord,
)
from cletrial.store.repositories.base import PatientRecords

__all__ = [
    "AdverseEventRepository",
    "DeviationRepository",
    "DoseRepository",
    "LabRepository",
    "PatientEventRepository",
    "PregnancyTestRepository",
    "compute_lab_grade",
]


def compute_lab_grade(values: dict[str, Any]) -> dict[str, Any]:
    """Return the derived columns of a lab result: the CTCAE grade (all ``None`` for tests
    CTCAE does not grade) and the value in the test's canonical unit.

    The value must be possible for the test (:func:`cletrial.instruments.check_lab_value`);
    an improbable one needs ``value_confirmed`` (else :class:`ConfirmationRequiredError`).

    >>> compute_lab_grade({"test": "neutrophils", "value": 1190.0, "unit": "/mm3", "lln": None,
    ...                    "ctcae_version": None})["ctcae_grade"]
    2
    """
    test, unit = values["test"], values["unit"]
    validate_field("labs", "test", test)
    if unit not in vocab.LAB_UNITS[test]:
        allowed = ", ".join(vocab.LAB_UNITS[test])
        raise InputError("labs.unit", unit, f"must be one of {allowed} for {test}")
    checked = check_lab_value(test, values["value"], unit, field="labs.value",
                              unit_field="labs.unit")  # fmt: skip
    if checked.improbable and not values.get("value_confirmed"):
        raise ConfirmationRequiredError("labs.value", values["value"], checked.message)
    standard = {"std_value": checked.std_value, "std_unit": checked.std_unit}
    term = vocab.LAB_CTCAE_TERMS.get(test)
    if term is None:
        return {**dict.fromkeys(("ctcae_term", "ctcae_grade", "ctcae_version", "lln_source")),
                **standard}  # fmt: skip
    try:
        grade = grade_lab(term, values["value"], unit, lln=values["lln"],
                          version=values.get("ctcae_version") or "5.0")  # fmt: skip
    except InputError as exc:
        raise InputError(f"labs.{exc.field}", exc.value, exc.problem) from None
    return {"ctcae_term": term, "ctcae_grade": grade.grade, "ctcae_version": grade.ctcae_version,
            "lln_source": grade.lln_source, **standard}  # fmt: skip


class LabRepository(PatientRecords[LabRecord]):
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
        value_confirmed: bool | None = None,
    ) -> LabRecord:
        """Store a lab result; neutrophils, WBC, platelets and haemoglobin get a CTCAE grade.

        ``test`` is one of :data:`cletrial.store.vocab.LAB_TESTS`; ``unit`` one of that test's
        units (e.g. ``/mm3`` or ``10^9/L`` for counts, ``g/dL`` for haemoglobin); ``lln`` the
        laboratory's lower limit of normal in the same unit (without it the CTCAE default is
        used and ``lln_source`` says ``default``). An impossible value is refused; an improbable
        one (e.g. neutrophils 3800 given in 10^9/L) is stored only with ``value_confirmed``.
        """
        values = {"patient_id": patient_id, "visit_id": visit_id, "sample_date": sample_date,
                  "test": test, "value": value, "unit": unit, "lln": lln,
                  "value_confirmed": value_confirmed or None}  # fmt: skip
        validate_field("labs", "value", value)
        graded = compute_lab_grade({**values, "ctcae_version": ctcae_version})
        return self._create({**values, **graded})

    def for_visit(self, visit_id: int) -> list[LabRecord]:
        """The lab results recorded with a visit (``labs.visit_id``), by sample date and test.

        One indexed query; results of the patient not tied to this visit are not included.
        """
        return self._list(self._t.c.visit_id == visit_id)

    def for_visits(self, visit_ids: Iterable[int]) -> dict[int, list[LabRecord]]:
        """The lab results of each of these visits, by visit id, in one query per 500 visits.

        Every id given is a key (an empty list when the visit has no results); each list is
        ordered by sample date and test, as :meth:`for_visit` orders it.
        """
        wanted = list(dict.fromkeys(visit_ids))
        found: dict[int, list[LabRecord]] = {visit_id: [] for visit_id in wanted}
        for row in self._rows_in("visit_id", wanted):
            found[row["visit_id"]].append(LabRecord.from_row(row))
        return found

    def update(
        self, record_id: int, *, expected_version: int, reason: str | None = None, **changes: Any
    ) -> LabRecord:
        """Change a lab result (date, test, value, unit, LLN); the grade is recomputed."""
        current = self._uow.get(self.table, record_id)
        if changes.keys() & {"value", "unit", "test"} and "value_confirmed" not in changes:
            changes["value_confirmed"] = None  # a confirmation covers the value it was given for
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


class DoseRepository(PatientRecords[DoseRecord]):
    """Regimens given (natural key: patient, start date), each a step of the dose ladder of the
    protocol the patient's study runs, or ``off``."""

    table = "doses"
    record = DoseRecord
    order_by = ("patient_id", "start_date")

    def add(self, *, patient_id: int, start_date: dt.date, regimen: str,
            note: str | None = None, visit_id: int | None = None) -> DoseRecord:  # fmt: skip
        """Record the regimen in force from ``start_date``.

        ``regimen`` is a step id of the dose ladder of the protocol the patient's study runs
        (``studies.protocol_id``), or ``off``: see :meth:`allowed_regimens`. When the study's
        protocol is not a bundled definition (a path, or an unknown id) its ladder is not known
        to the store, and any id of :func:`cletrial.store.vocab.regimen_vocabulary` is accepted.

        Raises
        ------
        InputError
            Naming ``doses.regimen``, the value and the ids allowed.
        """
        self._check_regimen(patient_id, regimen)
        return self._create({"patient_id": patient_id, "start_date": start_date,
                             "regimen": regimen, "note": note, "visit_id": visit_id})  # fmt: skip

    def update(
        self, record_id: int, *, expected_version: int, reason: str | None = None, **changes: Any
    ) -> DoseRecord:
        """Change a dose (start date, regimen, note); a new regimen follows the rule of
        :meth:`add`."""
        if "regimen" in changes:
            current = self._uow.get(self.table, record_id)
            if changes["regimen"] != current["regimen"]:
                self._check_regimen(current["patient_id"], changes["regimen"])
        return super().update(record_id, expected_version=expected_version, reason=reason,
                              **changes)  # fmt: skip

    def allowed_regimens(self, patient_id: int) -> tuple[str, ...]:
        """The regimen ids a dose of this patient may record, highest dose first, then ``off``.

        The ladder of the bundled protocol definition the patient's study runs; for a study on
        a protocol that is not bundled (or a patient that does not exist), every id of
        :func:`cletrial.store.vocab.regimen_vocabulary`.
        """
        return self._study_ladder(patient_id)[1] or vocab.regimen_vocabulary()

    def _study_ladder(self, patient_id: int) -> tuple[str | None, tuple[str, ...] | None]:
        """The protocol id of the patient's study and its ladder (``None`` when not bundled)."""
        patients, studies = table_of("patients"), table_of("studies")
        query = (
            select(studies.c.protocol_id)
            .join_from(patients, studies, patients.c.study_id == studies.c.id)
            .where(patients.c.id == patient_id)
        )
        protocol_id = self._uow.connection.execute(query).scalar_one_or_none()
        if protocol_id is None:
            return None, None
        return protocol_id, vocab.protocol_regimens(protocol_id)

    def _check_regimen(self, patient_id: int, regimen: Any) -> None:
        protocol_id, ladder = self._study_ladder(patient_id)
        if ladder is None:
            validate_field(self.table, "regimen", regimen)
        elif regimen not in ladder:
            raise InputError(
                "doses.regimen",
                regimen,
                f"must be one of {', '.join(ladder)} (the dose ladder of protocol "
                f"{protocol_id}, which the patient's study runs)",
            )


class AdverseEventRepository(PatientRecords[AdverseEventRecord]):
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
        outcome: str | None = None,
        visit_id: int | None = None,
    ) -> AdverseEventRecord:
        """Record an adverse event: CTCAE ``grade`` 1-5, ``causality`` (unrelated, unlikely,
        possible, probable, definite), ``serious`` with its criterion when serious, and its
        ``outcome`` when known (``vocab.AE_OUTCOMES``: recovered, recovered_with_sequelae,
        recovering, not_recovered, fatal, unknown).

        Raises
        ------
        InputError
            A field is invalid, or the rules of :func:`find_adverse_event_problems` are broken.
        """
        values = {
            "patient_id": patient_id, "term": term, "start_date": start_date,
            "end_date": end_date, "grade": grade, "causality": causality, "serious": serious,
            "serious_criterion": serious_criterion, "note": note, "outcome": outcome,
            "visit_id": visit_id,
        }  # fmt: skip
        _raise_adverse_event_problems(values)
        return self._create(values)

    def update(
        self, record_id: int, *, expected_version: int, reason: str | None = None, **changes: Any
    ) -> AdverseEventRecord:
        """Change an adverse event; the record as changed must keep the rules of :meth:`add`."""
        if changes.keys() & _RULED_FIELDS:
            current = self._uow.get(self.table, record_id)
            _raise_adverse_event_problems({**current, **changes})
        return super().update(record_id, expected_version=expected_version, reason=reason,
                              **changes)  # fmt: skip


#: Fields whose change is checked against the rules across fields.
_RULED_FIELDS: Final = frozenset(
    {"start_date", "end_date", "grade", "serious", "serious_criterion", "outcome"}
)
#: Outcomes of an event that is over (it has an end date) and of one still going on (none).
_ENDED: Final = frozenset({"recovered", "recovered_with_sequelae"})
_ONGOING: Final = frozenset({"recovering", "not_recovered"})


def find_adverse_event_problems(values: Mapping[str, Any]) -> dict[str, str]:
    """The rules across fields of an adverse event, broken by ``values``: field -> problem.

    An event does not end before it starts; a seriousness criterion is given only for a
    serious event. The outcome, when recorded, agrees with the rest: ``fatal`` exactly for
    CTCAE grade 5 (death related to the event); a recovered event has its end date, one still
    recovering or not recovered has none. A missing outcome is missing, never assumed.

    >>> problems = find_adverse_event_problems({"start_date": dt.date(2024, 2, 1),
    ...     "end_date": dt.date(2024, 1, 1), "serious": False, "serious_criterion": "death"})
    >>> problems["end_date"]
    'must not be before the start date (2024-02-01)'
    >>> problems["serious_criterion"]
    'is only given for a serious event'
    >>> find_adverse_event_problems({"grade": 3, "outcome": "fatal"})["outcome"]
    'fatal is the outcome of a CTCAE grade 5 event only (grade 3 given)'
    >>> find_adverse_event_problems({"grade": 2, "outcome": "recovered"})["outcome"]
    'recovered needs the end date of the event'
    """
    problems = {}
    start, end = values.get("start_date"), values.get("end_date")
    if start is not None and end is not None and end < start:
        problems["end_date"] = f"must not be before the start date ({start.isoformat()})"
    if values.get("serious_criterion") and not values.get("serious"):
        problems["serious_criterion"] = "is only given for a serious event"
    outcome, grade = values.get("outcome"), values.get("grade")
    if outcome is None:
        return problems
    if (outcome == "fatal") != (grade == 5) and grade is not None:
        problems["outcome"] = (
            f"fatal is the outcome of a CTCAE grade 5 event only (grade {grade} given)"
            if outcome == "fatal"
            else "must be fatal for a CTCAE grade 5 event (death related to the event)"
        )
    elif outcome in _ENDED and end is None:
        problems["outcome"] = f"{outcome} needs the end date of the event"
    elif outcome in _ONGOING and end is not None:
        problems["outcome"] = f"{outcome}: the event is still going on, so it has no end date"
    return problems


def _raise_adverse_event_problems(values: Mapping[str, Any]) -> None:
    for name, problem in find_adverse_event_problems(values).items():
        value = values[name]
        shown = value.isoformat() if isinstance(value, dt.date) else value
        raise InputError(f"adverse_events.{name}", shown, problem)


class PregnancyTestRepository(PatientRecords[PregnancyTestRecord]):
    """Pregnancy tests (natural key: patient, test date)."""

    table = "pregnancy_tests"
    record = PregnancyTestRecord
    order_by = ("patient_id", "test_date")

    def add(
        self, *, patient_id: int, test_date: dt.date, result: str, method: str | None = None,
        visit_id: int | None = None,
    ) -> PregnancyTestRecord:  # fmt: skip
        """Record a pregnancy test result (negative or positive) and its method (serum or
        urine); for female patients only."""
        return self._create({"patient_id": patient_id, "test_date": test_date, "result": result,
                             "method": method, "visit_id": visit_id})  # fmt: skip


class PatientEventRepository(PatientRecords[PatientEventRecord]):
    """Disposition events (natural key: patient, date, type)."""

    table = "patient_events"
    record = PatientEventRecord
    order_by = ("patient_id", "event_date", "event_type")

    def add(self, *, patient_id: int, event_date: dt.date, event_type: str,
            note: str | None = None) -> PatientEventRecord:  # fmt: skip
        """Record a disposition event (see :data:`cletrial.store.vocab.EVENT_TYPES`)."""
        return self._create({"patient_id": patient_id, "event_date": event_date,
                             "event_type": event_type, "note": note})  # fmt: skip


class DeviationRepository(PatientRecords[DeviationRecord]):
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

    def for_patients(self, patient_ids: Iterable[int]) -> list[DeviationRecord]:
        """The deviations of these patients, by patient and date (one query per 500)."""
        return [DeviationRecord.from_row(row) for row in self._rows_in("patient_id", patient_ids)]
