"""The rules every write of clinical data keeps, whatever path it takes (pages, API, import).

The unit of work calls :meth:`CaptureRules.check` before each insert and update, so no path
can skip them:

- **no future dates**: nothing is dated after today in the study's time zone
  (``studies.time_zone``, UTC when empty);
- **nothing before screening**: a patient's records are not dated before the screening date,
  and a screening is not dated after a record already stored;
- **enrolment gate**: a dose other than ``off`` needs an ``eligible`` screening verdict, or an
  investigator's e-signed override (:class:`~cletrial.store.records.OverrideRecord`);
- **disposition**: no dose starts after the end of treatment, nothing but a disposition is
  dated after the end of study, and the end of study is not before the end of treatment;
- **pregnancy tests** are recorded for female patients only.

>>> from cletrial.store import UnitOfWork, create_engine_for, upgrade
>>> engine = create_engine_for("sqlite://"); upgrade(engine)
>>> with UnitOfWork(engine, user="ana") as uow:
...     study = uow.studies.create(code="S", title="T", protocol_id="lenalidomide-cle-2012",
...                                protocol_version="1")
...     site = uow.sites.create(study_id=study.id, code="A", name="Site A")
...     p = uow.patients.create(study_id=study.id, site_id=site.id, study_code="P01")
...     uow.doses.add(patient_id=p.id, start_date=dt.date(2009, 2, 2), regimen="5_daily")
Traceback (most recent call last):
...
cletrial.errors.InputError: doses.regimen = "5_daily": the patient is not enrolled: no ...
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, bindparam, select

from cletrial.errors import InputError
from cletrial.store.fastpath import fetch_first
from cletrial.store.fields import table_of
from cletrial.store.vocab import OFF

if TYPE_CHECKING:
    from cletrial.store.unit_of_work import UnitOfWork

__all__ = ["DATED_FIELDS", "CaptureRules", "PatientContext", "compute_study_today"]

#: Table -> its date fields that may not lie in the future (the first is the record's date).
DATED_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "screenings": ("screening_date",),
    "visits": ("visit_date",),
    "labs": ("sample_date",),
    "doses": ("start_date",),
    "adverse_events": ("start_date", "end_date"),
    "pregnancy_tests": ("test_date",),
    "patient_events": ("event_date",),
    "protocol_deviations": ("deviation_date",),
    "dispositions": ("disposition_date", "last_dose_date"),
    "enrolment_overrides": ("override_date",),
    "immunology_results": ("sample_date",),
    "nerve_conduction_studies": ("study_date",),
    "concomitant_medications": ("start_date", "end_date"),
    "patient_identities": ("date_of_birth",),
}
#: Tables whose date must not be before the screening date.
_AFTER_SCREENING: Final = frozenset(DATED_FIELDS) - {
    "screenings",
    "patient_identities",
    "concomitant_medications",  # medication predates it
}
#: Tables whose change alters the context of a patient.
_CONTEXT_TABLES: Final = frozenset(
    {"patients", "screenings", "enrolment_overrides", "dispositions", "studies"}
)


@cache
def _context_query() -> Select[Any]:
    """One statement (built once) reading a patient's context: sex, the study's time zone, the
    screening, the override and the dispositions."""
    patients, studies = table_of("patients"), table_of("studies")
    screenings, overrides = table_of("screenings"), table_of("enrolment_overrides")
    dispositions = table_of("dispositions")

    def ended(kind: str) -> Any:
        return (
            select(dispositions.c.disposition_date)
            .where(dispositions.c.patient_id == patients.c.id, dispositions.c.kind == kind)
            .scalar_subquery()
            .label(kind)
        )

    return (
        select(patients.c.sex, studies.c.time_zone, screenings.c.screening_date,
               screenings.c.verdict, overrides.c.override_date, ended("end_of_treatment"),
               ended("end_of_study"))
        .join_from(patients, studies, patients.c.study_id == studies.c.id)
        .outerjoin(screenings, screenings.c.patient_id == patients.c.id)
        .outerjoin(overrides, overrides.c.patient_id == patients.c.id)
        .where(patients.c.id == bindparam("patient_id"))
    )  # fmt: skip


def compute_study_today(time_zone: str | None) -> dt.date:
    """Today's date in the study's time zone (UTC when none is set).

    >>> compute_study_today("Europe/Madrid") >= dt.date(2026, 1, 1)
    True
    >>> compute_study_today("Mars/Olympus")
    Traceback (most recent call last):
    ...
    cletrial.errors.InputError: studies.time_zone = "Mars/Olympus": is not an IANA time zone ...
    """
    try:
        zone = ZoneInfo(time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            "studies.time_zone", time_zone, "is not an IANA time zone (e.g. Europe/Madrid)"
        ) from None
    return dt.datetime.now(zone).date()


@dataclass(frozen=True)
class PatientContext:
    """What the rules need to know about a patient, read once per unit of work."""

    today: dt.date
    sex: str | None
    screening_date: dt.date | None
    verdict: str | None
    override_date: dt.date | None
    end_of_treatment: dt.date | None
    end_of_study: dt.date | None

    def enrolment_problem(self) -> str | None:
        """Why the patient may not be dosed, or ``None`` when the gate is open."""
        if self.override_date is not None or self.verdict == "eligible":
            return None
        if self.screening_date is None:
            return "no screening is recorded; screen the patient first"
        return (
            f"the screening of {self.screening_date.isoformat()} says {self.verdict or 'nothing'}"
            "; dosing needs an eligible verdict, or an investigator's override with a reason "
            "and e-signature"
        )


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


class CaptureRules:
    """The capture rules of one unit of work (patient contexts cached until they change)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._contexts: dict[int, PatientContext] = {}

    def forget(self, table: str) -> None:
        """Drop cached contexts after a write to ``table`` that may change them."""
        if table in _CONTEXT_TABLES:
            self._contexts.clear()

    def context(self, patient_id: int) -> PatientContext | None:
        """The patient's context (``None`` when there is no such patient)."""
        found = self._contexts.get(patient_id)
        if found is None:
            found = self._read_context(patient_id)
            if found is not None:
                self._contexts[patient_id] = found
        return found

    def _read_context(self, patient_id: int) -> PatientContext | None:
        row = fetch_first(self._uow.connection, _context_query, {"patient_id": patient_id})
        if row is None:
            return None
        sex, time_zone, screened, verdict, overridden, eot, eos = row
        return PatientContext(today=compute_study_today(time_zone), sex=sex,
                              screening_date=screened, verdict=verdict, override_date=overridden,
                              end_of_treatment=eot, end_of_study=eos)  # fmt: skip

    def check(self, table: str, row: Mapping[str, Any], changed: frozenset[str] | None) -> None:
        """Check a record about to be written (``row``: its values after the change;
        ``changed``: the fields changed by an update, ``None`` for an insert).

        Raises
        ------
        InputError
            Naming the field, its value and what is allowed.
        """
        fields = DATED_FIELDS.get(table)
        if fields is None:
            return
        patient_id = row.get("patient_id")
        context = None if patient_id is None else self.context(int(patient_id))
        today = context.today if context is not None else compute_study_today(None)
        for name in fields:
            value = row.get(name)
            if value is None or (changed is not None and name not in changed):
                continue
            if value > today:
                raise InputError(
                    f"{table}.{name}", value.isoformat(),
                    f"is after today ({today.isoformat()}): nothing may be dated in the future",
                )  # fmt: skip
        if context is None or table == "patient_identities":
            return
        self._check_patient_rules(table, row, context, changed)

    def _check_patient_rules(
        self, table: str, row: Mapping[str, Any], context: PatientContext,
        changed: frozenset[str] | None,
    ) -> None:  # fmt: skip
        name = DATED_FIELDS[table][0]
        date = row.get(name)
        relevant = changed is None or bool(changed & {name, "regimen", "result", "kind"})
        if date is None or not relevant:
            return
        path = f"{table}.{name}"
        screened = context.screening_date
        if table in _AFTER_SCREENING and screened is not None and date < screened:
            raise InputError(
                path,
                date.isoformat(),
                "is before the patient's screening "
                f"({screened.isoformat()}); record a date on or after it",
            )
        if table == "screenings":
            self._check_screening_date(row, date)
        eos = context.end_of_study
        if eos is not None and table not in ("dispositions", "protocol_deviations") and date > eos:
            raise InputError(path, date.isoformat(), "is after the patient's end of study "
                             f"({eos.isoformat()}): nothing is recorded after it")  # fmt: skip
        if table == "doses":
            self._check_dose(row, context)
        elif table == "pregnancy_tests" and context.sex == "M":
            raise InputError("pregnancy_tests.result", row.get("result"),
                             "the patient is recorded as male: pregnancy tests are for female "
                             "patients only")  # fmt: skip
        elif table == "dispositions":
            self._check_disposition(row, context)

    def _check_dose(self, row: Mapping[str, Any], context: PatientContext) -> None:
        regimen, start = row.get("regimen"), row["start_date"]
        if regimen == OFF:
            return
        problem = context.enrolment_problem()
        if problem is not None:
            raise InputError("doses.regimen", regimen, f"the patient is not enrolled: {problem}")
        eot = context.end_of_treatment
        if eot is not None and start > eot:
            raise InputError("doses.start_date", start.isoformat(),
                             f"is after the patient's end of treatment ({eot.isoformat()}): no "
                             "dose starts after it")  # fmt: skip

    def _check_disposition(self, row: Mapping[str, Any], context: PatientContext) -> None:
        date, kind = row["disposition_date"], row.get("kind")
        eot = context.end_of_treatment
        if kind == "end_of_study" and eot is not None and date < eot:
            raise InputError("dispositions.disposition_date", date.isoformat(),
                             f"the end of study must not be before the end of treatment "
                             f"({eot.isoformat()})")  # fmt: skip
        last = row.get("last_dose_date")
        if last is not None and last > date:
            raise InputError(
                "dispositions.last_dose_date",
                last.isoformat(),
                f"must not be after the end of treatment ({date.isoformat()})",
            )

    def _check_screening_date(self, row: Mapping[str, Any], date: dt.date) -> None:
        earliest = self._earliest_record(int(row["patient_id"]))
        if earliest is not None and earliest[1] < date:
            what, when = earliest
            raise InputError("screenings.screening_date", date.isoformat(),
                             f"is after the patient's {what} of {when.isoformat()}; the "
                             "screening comes first")  # fmt: skip

    def _earliest_record(self, patient_id: int) -> tuple[str, dt.date] | None:
        found: tuple[str, dt.date] | None = None
        for table, what in (("visits", "visit"), ("doses", "dose"), ("labs", "lab result")):
            t = table_of(table)
            column = t.c[DATED_FIELDS[table][0]]
            first = self._uow.connection.execute(
                select(column).where(t.c.patient_id == patient_id).order_by(column).limit(1)
            ).scalar_one_or_none()
            if first is not None and (found is None or first < found[1]):
                found = (what, first)
        return found
