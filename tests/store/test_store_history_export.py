"""A stored patient exports to a patient history the protocol engine accepts."""

from __future__ import annotations

import datetime as dt

import pytest

from cletrial.errors import NotFoundError
from cletrial.instruments import fill_absent_sledai_items
from cletrial.protocol.history import parse_history
from cletrial.store import UnitOfWork, export_patient_history

from .conftest import FORM, Seed

D = dt.date(2009, 2, 2)


def _store_course(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow:
        uow.identities.save(seed.patient_id, full_name="Maria Example", mrn="H1")
        uow.visits.create(patient_id=seed.patient_id, visit_date=D, kind="baseline", clasi=FORM,
                          sledai=fill_absent_sledai_items({"arthritis": True}),
                          medications=["hydroxychloroquine 200 mg/day"])  # fmt: skip
        week4 = uow.visits.create(patient_id=seed.patient_id, visit_date=D + dt.timedelta(28))
        uow.clasi.save_scores(week4.id, activity=2, damage=2)
        uow.sledai.save_score(week4.id, 4)
        uow.visits.create(patient_id=seed.patient_id, visit_date=D + dt.timedelta(56))
        uow.labs.add(patient_id=seed.patient_id, sample_date=D + dt.timedelta(7),
                     test="neutrophils", value=1190, unit="/mm3", lln=1800)  # fmt: skip
        uow.doses.add(patient_id=seed.patient_id, start_date=D, regimen="5_daily")
        uow.adverse_events.add(patient_id=seed.patient_id, term="Insomnia", grade=2,
                               start_date=D + dt.timedelta(30), causality="probable",
                               serious=False)  # fmt: skip
        uow.pregnancy_tests.add(patient_id=seed.patient_id, test_date=D - dt.timedelta(12),
                                result="negative")  # fmt: skip
        uow.events.add(patient_id=seed.patient_id, event_date=D + dt.timedelta(100),
                       event_type="consent_withdrawn")  # fmt: skip
        uow.events.add(patient_id=seed.patient_id, event_date=D + dt.timedelta(101),
                       event_type="completed")  # fmt: skip


def test_export_matches_the_history_format_and_validates(seed: Seed) -> None:
    _store_course(seed)
    with UnitOfWork(seed.engine, read_only=True) as uow:
        history = export_patient_history(uow, seed.patient_id)
        assert export_patient_history(uow, "P01") == history
        assert export_patient_history(uow.connection, "P01", study_id=seed.study_id) == history
    assert history["patient_id"] == "P01" and history["protocol"] == "lenalidomide-cle-2012"
    assert history["first_dose_date"] == "2009-02-02" and history["sex"] == "F"
    assert history["baseline"]["clasi"]["regions"]["arms"]["erythema"] == 3
    assert history["baseline"]["sledai"] == {"arthritis": True}
    assert history["assessments"] == [
        {"date": "2009-03-02", "clasi": {"activity": 2, "damage": 2}, "sledai": {"score": 4}},
        {"date": "2009-03-30"},
    ]
    assert history["labs"] == [{"date": "2009-02-09", "test": "neutrophils", "value": 1190.0,
                                "unit": "/mm3", "lln": 1800.0}]  # fmt: skip
    assert history["events"] == [{"date": "2009-05-13", "type": "consent_withdrawn"}]
    assert "Maria" not in str(history) and "H1" not in str(history)
    parsed = parse_history(history)
    assert parsed.baseline is not None and parsed.baseline.clasi_activity == 10
    assert parsed.assessments[1].clasi_activity is None  # missing, not 0


def test_unknown_patient(seed: Seed) -> None:
    with UnitOfWork(seed.engine, read_only=True) as uow, pytest.raises(NotFoundError):
        export_patient_history(uow, 999)
