"""load_study_source: the histories equal export_patient_history, in a fixed number of queries;
the age comes from the date of birth, which never leaves the store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, event

from cletrial.standards.sdtm.build import build_sdtm
from cletrial.store import UnitOfWork
from cletrial.store.history_export import export_patient_history
from cletrial.store.submission_source import load_study_source
from cletrial.web.demo import build_demo_study


@pytest.fixture
def demo(db_engine: Engine) -> Iterator[Engine]:
    build_demo_study(db_engine, today=dt.date(2025, 6, 1), patients=6)
    yield db_engine


def _count_queries(engine: Engine, code: str) -> int:
    seen: list[str] = []

    def count(*_args: object) -> None:
        seen.append("q")

    event.listen(engine, "before_cursor_execute", count)
    try:
        with UnitOfWork(engine, read_only=True) as uow:
            load_study_source(uow, code)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def _one_patient_study(engine: Engine) -> None:
    with UnitOfWork(engine, user="ana") as uow:
        study = uow.studies.create(code="ONE", title="One", protocol_id="lenalidomide-cle-2012",
                                   protocol_version="1.0.0")  # fmt: skip
        site = uow.sites.create(study_id=study.id, code="Z", name="Site Z")
        p = uow.patients.create(study_id=study.id, site_id=site.id, study_code="Q01", sex="M",
                                cle_subtype="SCLE", diagnosis_date="2004")  # fmt: skip
        uow.identities.save(p.id, date_of_birth=dt.date(1970, 6, 15))
        uow.screenings.save(p.id, screening_date=dt.date(2009, 6, 14), verdict="eligible",
                            record={"screening_date": "2009-06-14", "birth_date": "1970-06-15",
                                    "age_years": 99})  # fmt: skip
        uow.deviations.add(patient_id=p.id, deviation_date=dt.date(2009, 7, 1),
                           category="visit_window", description="visit late")  # fmt: skip


def test_histories_equal_the_per_patient_export(demo: Engine) -> None:
    with UnitOfWork(demo, read_only=True) as uow:
        source = load_study_source(uow, "LEN-CLE-DEMO", synthetic=True)
        study_id = uow.studies.list()[0].id
        assert len(source.subjects) == 6
        for subject in source.subjects:
            exported = export_patient_history(uow, subject.ref.subjid, study_id=study_id)
            assert subject.history == exported
            assert len(subject.labs) == len(exported["labs"])
            assert len(subject.adverse_events) == len(exported["adverse_events"])
    package = build_sdtm(source)
    assert len(package.datasets["DM"].frame) == 6
    suppdm = package.datasets["SUPPDM"].frame
    assert (suppdm["QNAM"] == "SYNTHET").sum() == 6


def test_a_fixed_number_of_queries_whatever_the_number_of_patients(demo: Engine) -> None:
    _one_patient_study(demo)
    assert _count_queries(demo, "ONE") == _count_queries(demo, "LEN-CLE-DEMO")


def test_age_from_date_of_birth_which_is_not_passed_on(demo: Engine) -> None:
    _one_patient_study(demo)
    with UnitOfWork(demo, read_only=True) as uow:
        (subject,) = load_study_source(uow, "ONE").subjects
    assert subject.age == 38  # the day before the 39th birthday
    assert "birth_date" not in subject.screening
    assert (subject.usubjid, subject.cle_subtype, subject.diagnosis_date) == (
        "ONE-Z-Q01",
        "SCLE",
        "2004",
    )
    assert [(d.date, d.category) for d in subject.deviations] == [
        (dt.date(2009, 7, 1), "visit_window")
    ]


def _ts(engine: Engine) -> dict[str, tuple[object, object]]:
    with UnitOfWork(engine, read_only=True) as uow:
        source = load_study_source(uow, "ONE")
    ts = build_sdtm(source).datasets["TS"].frame.set_index("TSPARMCD")
    return {
        code: (ts.loc[code, "TSVAL"], ts.loc[code, "TSVALNF"]) for code in ("DCUTDTC", "DCUTDESC")
    }


def test_the_data_cutoff_is_the_day_of_the_database_lock(demo: Engine) -> None:
    _one_patient_study(demo)
    assert _ts(demo)["DCUTDTC"] == (None, "UNK")  # open: no cutoff yet
    with UnitOfWork(demo, user="dana") as uow:
        uow.locks.apply("freeze", reason="cleaning", signed_name="Dana Manager")
    assert _ts(demo)["DCUTDTC"] == (None, "UNK")  # frozen is not locked
    with UnitOfWork(demo, user="dana") as uow:
        event = uow.locks.apply("lock", reason="final analysis", signed_name="Dana Manager")
    assert _ts(demo) == {"DCUTDTC": (event.signed_at.date().isoformat(), None),
                         "DCUTDESC": ("Database lock", None)}  # fmt: skip
    with UnitOfWork(demo, user="dana") as uow:
        uow.locks.apply("unlock", reason="a late correction", signed_name="Dana Manager")
    assert _ts(demo)["DCUTDTC"] == (None, "UNK")  # unlocked: the old cutoff no longer holds
