"""The records the edit checks read on save, partly from the process cache, are the stored ones.

The cache (``cletrial.store.patient_forms``) keeps rows by ``(id, version)`` once the unit of
work that read them has committed. These tests check that a save reads exactly what a full read
of the database returns, after inserts, updates, deletes, a rollback that frees an id, and in a
second database with the same ids.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.store.conftest import FORM, Seed, enrol

from cletrial.store import UnitOfWork
from cletrial.store.edit_check_runner import load_patient_forms
from cletrial.store.patient_forms import load_one_patient

TABLES = ("patients", "visits", "clasi_assessments", "labs", "doses")
DAY = dt.date(2009, 2, 2)


class RollbackError(Exception):
    """Raised to leave a unit of work without committing."""


def _lab(uow: UnitOfWork, patient_id: int, value: float, day: dt.date = DAY) -> int:
    lab = uow.labs.add(patient_id=patient_id, sample_date=day, test="platelets", value=value,
                       unit="10^9/L")  # fmt: skip
    return lab.id


def _fresh(engine: Engine, patient_id: int, other_id: int) -> dict[str, list[dict[str, Any]]]:
    """The patient's rows read in full (the path of many patients, which never caches)."""
    with UnitOfWork(engine, user="dm", read_only=True) as uow:
        found = load_patient_forms(uow, [patient_id, other_id], TABLES)[patient_id]
    return {table: sorted(found.get(table, []), key=lambda r: r["id"]) for table in TABLES}


def _on_save(engine: Engine, patient_id: int) -> dict[str, list[dict[str, Any]]]:
    with UnitOfWork(engine, user="dm") as uow:
        found = load_one_patient(uow, patient_id, TABLES)
    return {table: sorted(found.get(table, []), key=lambda r: r["id"]) for table in TABLES}


def _other_patient(seed: Seed) -> int:
    with UnitOfWork(seed.engine, user="coord") as uow:
        other = uow.patients.create(study_id=seed.study_id, site_id=seed.site_id,
                                    study_code="P02", sex="M")  # fmt: skip
        enrol(uow, other.id)
        _lab(uow, other.id, 150)
    return other.id


def test_a_save_reads_what_is_stored_after_inserts_updates_and_deletes(seed: Seed) -> None:
    other = _other_patient(seed)
    pid = seed.patient_id
    with UnitOfWork(seed.engine, user="coord") as uow:
        visit, *_ = uow.visits.create_with_forms(patient_id=pid, visit_date=DAY,
                                                   kind="baseline", clasi=FORM)  # fmt: skip
        first = _lab(uow, pid, 800)
        second = _lab(uow, pid, 200, DAY + dt.timedelta(days=1))
    assert _on_save(seed.engine, pid) == _fresh(seed.engine, pid, other)  # all read, then kept
    with UnitOfWork(seed.engine, user="coord") as uow:
        uow.labs.update(first, expected_version=1, value=300, reason="typing error")
        uow.labs.delete(second, expected_version=1, reason="entered for the wrong patient")
        uow.visits.update(visit.id, expected_version=1, notes="seen by the nurse", reason="added")
        _lab(uow, pid, 250, DAY + dt.timedelta(days=2))
    on_save = _on_save(seed.engine, pid)
    assert on_save == _fresh(seed.engine, pid, other)
    assert [(lab["value"], lab["version"]) for lab in on_save["labs"]] == [(300, 2), (250, 1)]
    assert on_save["visits"][0]["notes"] == "seen by the nurse"


def test_records_read_in_a_rolled_back_unit_of_work_are_not_kept(seed: Seed) -> None:
    """On SQLite a rolled back insert frees its id (and version 1) for the next insert: the
    rows read before the rollback must not stand for the new record."""
    other = _other_patient(seed)
    pid = seed.patient_id
    with pytest.raises(RollbackError), UnitOfWork(seed.engine, user="coord") as uow:
        _lab(uow, pid, 800)
        assert [lab["value"] for lab in load_one_patient(uow, pid, TABLES)["labs"]] == [800]
        raise RollbackError
    with UnitOfWork(seed.engine, user="coord") as uow:
        _lab(uow, pid, 120)
    assert [lab["value"] for lab in _on_save(seed.engine, pid)["labs"]] == [120]
    assert _on_save(seed.engine, pid) == _fresh(seed.engine, pid, other)


def test_a_second_database_with_the_same_ids_is_read_as_itself(
    seed: Seed, fresh_engine: Engine
) -> None:
    pid = seed.patient_id
    with UnitOfWork(seed.engine, user="coord") as uow:
        _lab(uow, pid, 800)
    assert [lab["value"] for lab in _on_save(seed.engine, pid)["labs"]] == [800]
    with UnitOfWork(fresh_engine, user="admin") as uow:  # the same ids, other values
        study = uow.studies.create(code="LEN", title="T", protocol_id="lenalidomide-cle-2012",
                                   protocol_version="1")  # fmt: skip
        site = uow.sites.create(study_id=study.id, code="BCN", name="B")
        uow.sites.create(study_id=study.id, code="MAD", name="M")
        patient = uow.patients.create(study_id=study.id, site_id=site.id, study_code="P01")
        enrol(uow, patient.id)
        _lab(uow, patient.id, 90)
    assert patient.id == pid
    assert [lab["value"] for lab in _on_save(fresh_engine, pid)["labs"]] == [90]


def test_the_check_run_on_save_sees_a_corrected_value(seed: Seed) -> None:
    """A lab out of range raises a query on save; its correction closes it (the corrected
    record is read, not the one kept from the first save)."""
    pid = seed.patient_id
    with UnitOfWork(seed.engine, user="coord", edit_checks=True) as uow:
        lab = _lab(uow, pid, 800)
    with UnitOfWork(seed.engine, user="dm", read_only=True) as uow:
        raised = [q for q in uow.queries.active_checks([pid]) if q.record_id == lab]
    assert [q.check_id for q in raised] == ["LAB-PLATELETS-QUERY"]
    with UnitOfWork(seed.engine, user="coord", edit_checks=True) as uow:
        uow.labs.update(lab, expected_version=1, value=300, reason="typing error")
    with UnitOfWork(seed.engine, user="dm", read_only=True) as uow:
        assert [q for q in uow.queries.active_checks([pid]) if q.is_active] == []


def test_an_unchanged_patient_is_handed_the_same_rows_in_a_new_list(seed: Seed) -> None:
    """While a table's ``(id, version)`` listing is unchanged its rows are not read again: the
    same row objects come back (the edit-check memo keys on them) in a list the caller owns."""
    pid = seed.patient_id
    with UnitOfWork(seed.engine, user="coord") as uow:
        _lab(uow, pid, 800)
    with UnitOfWork(seed.engine, user="dm") as uow:
        first = load_one_patient(uow, pid, TABLES)
    with UnitOfWork(seed.engine, user="dm") as uow:
        second = load_one_patient(uow, pid, TABLES)
    assert second["labs"] is not first["labs"]
    assert [id(row) for row in second["labs"]] == [id(row) for row in first["labs"]]
    second["labs"].clear()  # the caller's list: clearing it leaves the cache whole
    with UnitOfWork(seed.engine, user="coord") as uow:
        third = load_one_patient(uow, pid, TABLES)
        _lab(uow, pid, 200, DAY + dt.timedelta(days=1))
    assert [lab["value"] for lab in third["labs"]] == [800]
    assert [lab["value"] for lab in _on_save(seed.engine, pid)["labs"]] == [800, 200]
