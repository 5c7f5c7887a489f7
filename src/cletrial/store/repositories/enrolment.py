"""Enrolment and disposition: investigators' overrides of the enrolment gate, end of treatment
and end of study.

An override lets a patient whose screening is not ``eligible`` be dosed: it names the verdict
it overrides, the reason and the investigator's e-signature (printed name, time), and is also
recorded as a protocol deviation (category ``enrolment_override``). The e-signature itself
(password re-entry) is checked by the caller (the web application), as for visit sign-off.

>>> import datetime as dt
>>> from cletrial.store import UnitOfWork, create_engine_for, upgrade
>>> engine = create_engine_for("sqlite://"); upgrade(engine)
>>> with UnitOfWork(engine, user="dr.ruiz") as uow:
...     study = uow.studies.create(code="S", title="T", protocol_id="lenalidomide-cle-2012",
...                                protocol_version="1")
...     site = uow.sites.create(study_id=study.id, code="A", name="Site A")
...     p = uow.patients.create(study_id=study.id, site_id=site.id, study_code="P01", sex="M")
...     _ = uow.screenings.save(p.id, screening_date=dt.date(2009, 1, 20), record={},
...                             verdict="ineligible")
...     o = uow.overrides.add(patient_id=p.id, override_date=dt.date(2009, 1, 25),
...                           reason="CLASI-A 3 at screening, 6 last week", signed_name="Dr Ruiz")
...     _ = uow.doses.add(patient_id=p.id, start_date=dt.date(2009, 2, 2), regimen="5_daily")
...     end = uow.dispositions.add(patient_id=p.id, kind="end_of_treatment",
...                                disposition_date=dt.date(2009, 6, 1), reason="completed",
...                                last_dose_date=dt.date(2009, 5, 31))
...     deviations = [d.category for d in uow.deviations.for_patient(p.id)]
>>> o.verdict, deviations, end.reason
('ineligible', ['enrolment_override'], 'completed')
"""

from __future__ import annotations

import datetime as dt

from cletrial.errors import InputError
from cletrial.store.records import DispositionRecord, OverrideRecord
from cletrial.store.repositories.base import PatientRecords, Repository
from cletrial.store.types import utc_now

__all__ = ["DispositionRepository", "OverrideRepository"]


class OverrideRepository(Repository[OverrideRecord]):
    """Enrolment overrides (one per patient)."""

    table = "enrolment_overrides"
    record = OverrideRecord

    def for_patient(self, patient_id: int) -> OverrideRecord | None:
        """The patient's override, or ``None``."""
        return self._find(patient_id=patient_id)

    def add(
        self, *, patient_id: int, override_date: dt.date, reason: str, signed_name: str
    ) -> OverrideRecord:
        """Record the unit of work's user's override of the patient's screening verdict.

        Raises
        ------
        InputError
            No reason or printed name, no screening to override, or a verdict that is already
            ``eligible``.
        """
        if not reason or not reason.strip():
            raise InputError(
                "enrolment_overrides.reason",
                reason,
                "is required: say why the patient is treated despite the verdict",
            )
        if not signed_name or not signed_name.strip():
            raise InputError(
                "enrolment_overrides.signed_name",
                signed_name,
                "is required: the investigator's printed name",
            )
        screening = self._uow.screenings.for_patient(patient_id)
        if screening is None:
            raise InputError(
                "enrolment_overrides.patient_id",
                patient_id,
                "the patient has no screening: screen before overriding",
            )
        if screening.verdict == "eligible":
            raise InputError(
                "enrolment_overrides.verdict",
                screening.verdict,
                "the patient is eligible: there is nothing to override",
            )
        verdict = screening.verdict or "undetermined"
        record = self._create({
            "patient_id": patient_id, "override_date": override_date, "verdict": verdict,
            "reason": reason.strip(), "signed_by": self._uow.user,
            "signed_name": signed_name.strip(), "signed_at": utc_now(),
        })  # fmt: skip
        self._uow.deviations.add(
            patient_id=patient_id, deviation_date=override_date, category="enrolment_override",
            description=f"treated despite a screening verdict of {verdict} "
            f"({screening.screening_date.isoformat()}): {reason.strip()} "
            f"[e-signed by {signed_name.strip()}]",
        )  # fmt: skip
        return record


class DispositionRepository(PatientRecords[DispositionRecord]):
    """End of treatment and end of study (one of each per patient)."""

    table = "dispositions"
    record = DispositionRecord
    order_by = ("patient_id", "disposition_date", "kind")

    def add(
        self,
        *,
        patient_id: int,
        kind: str,
        disposition_date: dt.date,
        reason: str,
        last_dose_date: dt.date | None = None,
        note: str | None = None,
    ) -> DispositionRecord:
        """Record the end of treatment or of study, with its CDISC NCOMPLT reason (a key of
        :data:`cletrial.store.vocab.DISPOSITION_REASONS`); ``last_dose_date`` for the end of
        treatment."""
        return self._create({
            "patient_id": patient_id, "kind": kind, "disposition_date": disposition_date,
            "reason": reason, "last_dose_date": last_dose_date, "note": note,
        })  # fmt: skip
