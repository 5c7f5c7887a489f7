"""The capture rules the unit of work applies to every write, on SQLite and PostgreSQL: no future
dates, nothing before screening, the enrolment gate and its override, dispositions, pregnancy
tests for female patients, lab plausibility, complete forms, locks through ``visit_id``, and
the same rules through import."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from cletrial.errors import (
    ConfirmationRequiredError,
    FormError,
    InputError,
    LockedRecordError,
)
from cletrial.store import UnitOfWork, create_user
from cletrial.store.audit import audit_log
from cletrial.store.capture_rules import compute_study_today
from cletrial.store.import_export import export_rows, write_json

from .conftest import FORM, SCREENING_DATE, Seed

D = dt.date(2009, 2, 2)
FUTURE = dt.date.today() + dt.timedelta(days=30)
Call = Callable[[UnitOfWork, int], object]


def _snapshot(engine: Engine) -> tuple[int, str]:
    """The audit row count and the whole export: equal before and after means nothing stored."""
    out = io.StringIO()
    with engine.connect() as conn:
        write_json(export_rows(conn), out)
        count = int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())
    return count, out.getvalue()


def _refused(engine: Engine, call: Call, patient_id: int, error: type[InputError] = InputError
             ) -> InputError:  # fmt: skip
    """Run ``call`` in a unit of work, expect ``error``, and check nothing was stored."""
    before = _snapshot(engine)
    with pytest.raises(error) as caught, UnitOfWork(engine, user="ana") as uow:
        call(uow, patient_id)
    assert _snapshot(engine) == before
    return caught.value


def _new_patient(seed: Seed, code: str = "P02", sex: str = "F", verdict: str | None = None
                 ) -> int:  # fmt: skip
    """Another patient of the study, screened on ``SCREENING_DATE`` when a verdict is given."""
    with UnitOfWork(seed.engine, user="admin") as uow:
        patient = uow.patients.create(study_id=seed.study_id, site_id=seed.site_id,
                                      study_code=code, sex=sex)  # fmt: skip
        if verdict is not None:
            uow.screenings.save(patient.id, screening_date=SCREENING_DATE, record={},
                                verdict=verdict)  # fmt: skip
    return patient.id


# -- no future dates ------------------------------------------------------------------------

FUTURE_WRITES: dict[str, tuple[str, Call]] = {
    "visit": ("visits.visit_date",
              lambda u, p: u.visits.create(patient_id=p, visit_date=FUTURE)),
    "lab": ("labs.sample_date",
            lambda u, p: u.labs.add(patient_id=p, sample_date=FUTURE, test="neutrophils",
                                    value=1190, unit="/mm3")),
    "dose": ("doses.start_date",
             lambda u, p: u.doses.add(patient_id=p, start_date=FUTURE, regimen="5_daily")),
    "AE start": ("adverse_events.start_date",
                 lambda u, p: u.adverse_events.add(patient_id=p, term="Rash", start_date=FUTURE,
                                                   grade=1, causality="possible",
                                                   serious=False)),
    "AE end": ("adverse_events.end_date",
               lambda u, p: u.adverse_events.add(patient_id=p, term="Rash", start_date=D,
                                                 end_date=FUTURE, grade=1, causality="possible",
                                                 serious=False, outcome="recovered")),
    "pregnancy test": ("pregnancy_tests.test_date",
                       lambda u, p: u.pregnancy_tests.add(patient_id=p, test_date=FUTURE,
                                                          result="negative", method="serum")),
    "screening": ("screenings.screening_date",
                  lambda u, p: u.screenings.save(p, screening_date=FUTURE, record={},
                                                 verdict="eligible", expected_version=1,
                                                 reason="re-screened")),
}  # fmt: skip


@pytest.mark.parametrize("what", list(FUTURE_WRITES))
def test_a_future_date_is_refused_naming_the_field_and_today(seed: Seed, what: str) -> None:
    field, call = FUTURE_WRITES[what]
    error = _refused(seed.engine, call, seed.patient_id)
    today = compute_study_today(None)  # the seeded study has no time zone: UTC
    assert error.field == field and error.value == FUTURE.isoformat()
    assert f"is after today ({today.isoformat()})" in error.problem


def test_a_future_date_is_refused_on_update_too(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow:
        visit = uow.visits.create(patient_id=seed.patient_id, visit_date=D)
    error = _refused(
        seed.engine,
        lambda u, p: u.visits.update(
            visit.id, expected_version=1, reason="typo", visit_date=FUTURE
        ),
        seed.patient_id,
    )
    assert error.field == "visits.visit_date" and "after today" in error.problem


# -- screening comes first ------------------------------------------------------------------

BEFORE = SCREENING_DATE - dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("field", "call"),
    [("visits.visit_date", lambda u, p: u.visits.create(patient_id=p, visit_date=BEFORE)),
     ("labs.sample_date", lambda u, p: u.labs.add(patient_id=p, sample_date=BEFORE,
                                                  test="wbc", value=4.0, unit="10^9/L")),
     ("doses.start_date", lambda u, p: u.doses.add(patient_id=p, start_date=BEFORE,
                                                   regimen="5_daily"))],
)  # fmt: skip
def test_a_record_before_the_screening_is_refused(seed: Seed, field: str, call: Call) -> None:
    error = _refused(seed.engine, call, seed.patient_id)
    assert error.field == field and error.value == BEFORE.isoformat()
    assert f"before the patient's screening ({SCREENING_DATE.isoformat()})" in error.problem


def test_a_screening_after_an_existing_visit_is_refused(seed: Seed) -> None:
    patient_id = _new_patient(seed)
    with UnitOfWork(seed.engine, user="ana") as uow:
        uow.visits.create(patient_id=patient_id, visit_date=D)
    error = _refused(
        seed.engine,
        lambda u, p: u.screenings.save(
            p, screening_date=D + dt.timedelta(days=1), record={}, verdict="eligible"
        ),
        patient_id,
    )
    assert error.field == "screenings.screening_date"
    assert f"after the patient's visit of {D.isoformat()}" in error.problem
    with UnitOfWork(seed.engine, user="ana") as uow:  # on the day of the visit: allowed
        uow.screenings.save(patient_id, screening_date=D, record={}, verdict="eligible")


# -- the enrolment gate ---------------------------------------------------------------------


def _dose(uow: UnitOfWork, patient_id: int, regimen: str = "5_daily") -> object:
    return uow.doses.add(patient_id=patient_id, start_date=D, regimen=regimen)


@pytest.mark.parametrize(
    ("verdict", "problem"),
    [(None, "no screening is recorded"),
     ("ineligible", "says ineligible"),
     ("undetermined", "says undetermined")],
)  # fmt: skip
def test_a_dose_needs_an_eligible_screening(seed: Seed, verdict: str | None, problem: str
                                            ) -> None:  # fmt: skip
    patient_id = _new_patient(seed, verdict=verdict)
    error = _refused(seed.engine, _dose, patient_id)
    assert error.field == "doses.regimen" and error.value == "5_daily"
    assert "the patient is not enrolled" in error.problem and problem in error.problem


def test_a_dose_is_allowed_with_an_eligible_verdict_and_off_without_enrolment(seed: Seed) -> None:
    eligible, unscreened = _new_patient(seed, verdict="eligible"), _new_patient(seed, "P03")
    with UnitOfWork(seed.engine, user="ana") as uow:
        _dose(uow, eligible)
        _dose(uow, unscreened, regimen="off")
        assert [d.regimen for d in uow.doses.for_patient(eligible)] == ["5_daily"]
        assert [d.regimen for d in uow.doses.for_patient(unscreened)] == ["off"]


def test_an_override_opens_the_gate_and_is_recorded_as_a_deviation(seed: Seed) -> None:
    patient_id = _new_patient(seed, verdict="ineligible")
    with UnitOfWork(seed.engine, user="dr.ruiz") as uow:
        override = uow.overrides.add(patient_id=patient_id, override_date=D - dt.timedelta(3),
                                     reason="CLASI-A 3 at screening, 6 last week",
                                     signed_name="Dr Ruiz")  # fmt: skip
        _dose(uow, patient_id)
    with UnitOfWork(seed.engine, read_only=True) as uow:
        assert uow.overrides.for_patient(patient_id) == override
        (deviation,) = uow.deviations.for_patient(patient_id)
        assert [d.regimen for d in uow.doses.for_patient(patient_id)] == ["5_daily"]
    assert (override.verdict, override.signed_by, override.signed_name) == (
        "ineligible", "dr.ruiz", "Dr Ruiz")  # fmt: skip
    assert deviation.category == "enrolment_override"
    assert deviation.deviation_date == override.override_date
    assert "CLASI-A 3 at screening" in deviation.description and "Dr Ruiz" in deviation.description


@pytest.mark.parametrize(
    ("verdict", "reason", "name", "field"),
    [("ineligible", "", "Dr Ruiz", "enrolment_overrides.reason"),
     ("ineligible", "   ", "Dr Ruiz", "enrolment_overrides.reason"),
     ("ineligible", "responding", "", "enrolment_overrides.signed_name"),
     ("eligible", "responding", "Dr Ruiz", "enrolment_overrides.verdict"),
     (None, "responding", "Dr Ruiz", "enrolment_overrides.patient_id")],
)  # fmt: skip
def test_an_override_needs_a_reason_a_name_and_a_verdict_to_override(
    seed: Seed, verdict: str | None, reason: str, name: str, field: str
) -> None:
    patient_id = _new_patient(seed, verdict=verdict)
    error = _refused(
        seed.engine,
        lambda u, p: u.overrides.add(
            patient_id=p, override_date=D, reason=reason, signed_name=name
        ),
        patient_id,
    )
    assert error.field == field
    with UnitOfWork(seed.engine, read_only=True) as uow:
        assert uow.overrides.for_patient(patient_id) is None
        assert uow.deviations.for_patient(patient_id) == []
    if verdict != "eligible":
        _refused(seed.engine, _dose, patient_id)  # still not enrolled


# -- sex and dispositions -------------------------------------------------------------------


def test_a_pregnancy_test_is_refused_for_a_male_patient(seed: Seed) -> None:
    patient_id = _new_patient(seed, sex="M", verdict="eligible")
    error = _refused(
        seed.engine,
        lambda u, p: u.pregnancy_tests.add(
            patient_id=p, test_date=D, result="negative", method="urine"
        ),
        patient_id,
    )
    assert error.field == "pregnancy_tests.result" and "male" in error.problem


def _end(uow: UnitOfWork, patient_id: int, kind: str, on: dt.date, **extra: Any) -> object:
    return uow.dispositions.add(patient_id=patient_id, kind=kind, disposition_date=on,
                                reason="completed", **extra)  # fmt: skip


EOT, EOS = dt.date(2009, 6, 1), dt.date(2009, 7, 1)


def test_dispositions_bound_what_comes_after(seed: Seed) -> None:
    p = seed.patient_id
    error = _refused(
        seed.engine,
        lambda u, p: _end(u, p, "end_of_treatment", EOT, last_dose_date=EOT + dt.timedelta(1)),
        p,
    )
    assert error.field == "dispositions.last_dose_date"
    with UnitOfWork(seed.engine, user="ana") as uow:
        _end(uow, p, "end_of_treatment", EOT, last_dose_date=EOT - dt.timedelta(1))
    error = _refused(seed.engine, lambda u, p: _end(u, p, "end_of_study", EOT - dt.timedelta(1)),
                     p)  # fmt: skip
    assert error.field == "dispositions.disposition_date" and "end of treatment" in error.problem
    error = _refused(
        seed.engine,
        lambda u, p: u.doses.add(
            patient_id=p, start_date=EOT + dt.timedelta(14), regimen="5_daily"
        ),
        p,
    )
    assert error.field == "doses.start_date" and EOT.isoformat() in error.problem
    with UnitOfWork(seed.engine, user="ana") as uow:
        uow.visits.create(patient_id=p, visit_date=EOT + dt.timedelta(14))  # follow-up: allowed
        _end(uow, p, "end_of_study", EOS)
    later = EOS + dt.timedelta(14)
    error = _refused(seed.engine, lambda u, p: u.visits.create(patient_id=p, visit_date=later), p)
    assert error.field == "visits.visit_date" and f"end of study ({EOS})" in error.problem
    with UnitOfWork(seed.engine, user="ana") as uow:  # a deviation may still be recorded
        uow.deviations.add(patient_id=p, deviation_date=later, category="other",
                           description="late report of a missed visit")  # fmt: skip


# -- lab values -----------------------------------------------------------------------------


def _lab(value: float, unit: str = "10^9/L", test: str = "neutrophils", **extra: Any) -> Call:
    return lambda u, p: u.labs.add(patient_id=p, sample_date=D, test=test, value=value,
                                   unit=unit, **extra)  # fmt: skip


def test_an_impossible_lab_value_is_refused_naming_the_range(seed: Seed) -> None:
    error = _refused(seed.engine, _lab(250000, test="platelets"), seed.patient_id)
    assert error.field == "labs.value" and error.value == 250000
    assert "impossible" in error.problem and "0 to 3000 10^9/L" in error.problem
    _refused(seed.engine, _lab(250000, test="platelets", value_confirmed=True), seed.patient_id)


def test_an_improbable_lab_value_needs_a_confirmation_and_loses_it_when_changed(
    seed: Seed,
) -> None:
    error = _refused(seed.engine, _lab(40), seed.patient_id, ConfirmationRequiredError)
    assert error.field == "labs.value" and "0.1 to 30 10^9/L" in error.problem
    with UnitOfWork(seed.engine, user="ana") as uow:
        lab = _lab(40, value_confirmed=True)(uow, seed.patient_id)
        plain = uow.labs.add(patient_id=seed.patient_id, sample_date=D, test="wbc",
                             value=3500, unit="/mm3")  # fmt: skip
    assert (lab.value_confirmed, lab.std_value, lab.std_unit) == (True, 40.0, "10^9/L")
    assert (plain.value_confirmed, plain.std_value, plain.std_unit) == (None, 3.5, "10^9/L")
    with pytest.raises(ConfirmationRequiredError), UnitOfWork(seed.engine, user="a") as uow:
        uow.labs.update(lab.id, expected_version=1, reason="re-read", value=41.0)
    with UnitOfWork(seed.engine, user="ana", reason="re-read") as uow:
        changed = uow.labs.update(lab.id, expected_version=1, value=1190.0, unit="/mm3")
    assert (changed.value_confirmed, changed.std_value, changed.std_unit) == (
        None, 1.19, "10^9/L")  # fmt: skip
    assert changed.ctcae_grade == 2


# -- complete forms -------------------------------------------------------------------------


def _counts(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return [
            int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
            for t in ("visits", "clasi_assessments", "sledai_assessments", "audit_log")
        ]


def test_a_partial_clasi_form_is_refused_naming_the_missing_items(seed: Seed) -> None:
    partial = json.loads(json.dumps(FORM))
    del partial["regions"]["hands"]["scale"], partial["recent_hair_loss"]
    before = _counts(seed.engine)
    with pytest.raises(FormError) as caught, UnitOfWork(seed.engine, user="ana") as uow:
        uow.visits.create(patient_id=seed.patient_id, visit_date=D, clasi=partial)
    assert _counts(seed.engine) == before
    assert "2 are missing: regions.hands.scale, recent_hair_loss" in str(caught.value)
    with UnitOfWork(seed.engine, user="ana") as uow:
        visit = uow.visits.create(patient_id=seed.patient_id, visit_date=D)
    before = _counts(seed.engine)
    with (
        pytest.raises(FormError, match=r"regions\.hands\.scale"),
        UnitOfWork(seed.engine, user="a") as uow,
    ):
        uow.clasi.save(visit.id, partial)
    with (
        pytest.raises(FormError, match="every SLEDAI-2K descriptor"),
        UnitOfWork(seed.engine, user="a") as uow,
    ):
        uow.sledai.save(visit.id, {"rash": True})
    assert _counts(seed.engine) == before


# -- signature locks everything recorded at the visit ---------------------------------------


def test_signing_a_visit_locks_its_records_and_keeps_the_manifest(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="admin") as uow:
        create_user(uow, "dr.ordi", "correct horse", role="investigator",
                    display_name="Dr Ordi", site_ids=[seed.site_id])  # fmt: skip
    p = seed.patient_id
    with UnitOfWork(seed.engine, user="ana") as uow:
        visit = uow.visits.create(patient_id=p, visit_date=D, clasi=FORM)
        linked = {
            "doses": uow.doses.add(patient_id=p, start_date=D, regimen="5_daily",
                                   visit_id=visit.id),
            "adverse_events": uow.adverse_events.add(
                patient_id=p, term="Rash", start_date=D, grade=1, causality="possible",
                serious=False, visit_id=visit.id),
            "pregnancy_tests": uow.pregnancy_tests.add(patient_id=p, test_date=D,
                                                       result="negative", method="serum",
                                                       visit_id=visit.id),
        }  # fmt: skip
        loose = uow.adverse_events.add(patient_id=p, term="Insomnia", start_date=D, grade=1,
                                       causality="possible", serious=False)  # fmt: skip
    assert all(r.visit_id == visit.id for r in linked.values())
    assert linked["pregnancy_tests"].method == "serum"  # type: ignore[attr-defined]
    with UnitOfWork(seed.engine, user="dr.ordi") as uow:
        signed = uow.visits.sign(visit.id, expected_version=visit.version, meaning="reviewed")
    assert (signed.signed_by, signed.signed_name, signed.sign_meaning) == (
        "dr.ordi", "Dr Ordi", "reviewed")  # fmt: skip
    changes = {"doses": {"note": "x"}, "adverse_events": {"grade": 2},
               "pregnancy_tests": {"result": "positive"}}  # fmt: skip
    for table, record in linked.items():
        before = _snapshot(seed.engine)
        with pytest.raises(LockedRecordError), UnitOfWork(seed.engine, user="a") as uow:
            uow.update(table, record.id, changes[table], expected_version=1, reason="typo")
        assert _snapshot(seed.engine) == before, table
    with UnitOfWork(seed.engine, user="ana", reason="source check") as uow:  # not at the visit
        assert uow.adverse_events.update(loose.id, expected_version=1, grade=2).grade == 2
    with UnitOfWork(seed.engine, user="dr.ordi") as uow:
        opened = uow.visits.unlock(visit.id, expected_version=signed.version, reason="AE grade")
    assert (opened.signed_name, opened.sign_meaning) == (None, None)
    with UnitOfWork(seed.engine, user="ana", reason="AE grade") as uow:
        ae = linked["adverse_events"]
        assert uow.adverse_events.update(ae.id, expected_version=1, grade=2).grade == 2
