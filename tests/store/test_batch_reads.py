"""Reads by visit in batches: ``uow.clasi.for_visits``, ``uow.sledai.for_visits``,
``uow.labs.for_visits`` and ``uow.labs.for_visit``, on SQLite and PostgreSQL.

The batch readers give the same records as the per-visit readers, in one statement per 500
visits (counted with a ``before_cursor_execute`` listener on the engine).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import Engine, text
from tests.statements import count_statements
from tests.store.conftest import FORM, Seed

from cletrial.instruments import fill_absent_sledai_items
from cletrial.store import UnitOfWork
from cletrial.store.repositories.base import IN_LIST_CHUNK

DAY0 = dt.date(2009, 2, 2)
#: Complete SLEDAI-2K forms (every descriptor entered).
SLEDAI_FORM = fill_absent_sledai_items({"rash": True, "arthritis": True})
RASH_ONLY = fill_absent_sledai_items({"rash": True})


def _visits(seed: Seed) -> list[int]:
    """Six visits of P01 with every mix of forms and labs, plus data that must not be read:
    a lab of P01 without a visit and a visit of another patient with its own forms and lab."""
    with UnitOfWork(seed.engine, user="ana") as uow:
        ids = []
        for week in range(6):
            day = DAY0 + dt.timedelta(weeks=4 * week)
            visit = uow.visits.create(patient_id=seed.patient_id, visit_date=day,
                                      kind="baseline" if week == 0 else "scheduled")  # fmt: skip
            ids.append(visit.id)
            if week in (0, 2):
                uow.clasi.save(visit.id, FORM)
            if week == 3:
                uow.clasi.save_scores(visit.id, activity=4, damage=1)
            if week in (0, 3):
                uow.sledai.save(visit.id, SLEDAI_FORM if week == 0 else RASH_ONLY)
            if week == 4:
                uow.sledai.save_score(visit.id, 6)
            if week in (0, 2, 4):
                for test, value, unit in (("platelets", 90.0, "10^9/L"),
                                          ("neutrophils", 1190.0, "/mm3")):  # fmt: skip
                    uow.labs.add(patient_id=seed.patient_id, visit_id=visit.id, sample_date=day,
                                 test=test, value=value, unit=unit)  # fmt: skip
            if week == 2:  # a result sampled the day after the visit, still tied to it
                uow.labs.add(patient_id=seed.patient_id, visit_id=visit.id,
                             sample_date=day + dt.timedelta(days=1), test="neutrophils",
                             value=900.0, unit="/mm3")  # fmt: skip
        uow.labs.add(patient_id=seed.patient_id, sample_date=DAY0 + dt.timedelta(days=3),
                     test="hemoglobin", value=11.0, unit="g/dL")  # fmt: skip
        other = uow.patients.create(study_id=seed.study_id, site_id=seed.site_id,
                                    study_code="P02", sex="M")  # fmt: skip
        theirs = uow.visits.create(patient_id=other.id, visit_date=DAY0, kind="baseline",
                                   clasi=FORM, sledai=RASH_ONLY)  # fmt: skip
        uow.labs.add(patient_id=other.id, visit_id=theirs.id, sample_date=DAY0,
                     test="wbc", value=2.5, unit="10^9/L")  # fmt: skip
    return ids


def test_batch_readers_give_what_the_per_visit_readers_give(seed: Seed) -> None:
    ids = _visits(seed)
    with UnitOfWork(seed.engine, read_only=True) as uow:
        clasi, sledai = uow.clasi.for_visits(ids), uow.sledai.for_visits(ids)
        labs = uow.labs.for_visits(ids)
        for visit_id in ids:
            assert clasi.get(visit_id) == uow.clasi.for_visit(visit_id)
            assert sledai.get(visit_id) == uow.sledai.for_visit(visit_id)
            assert labs[visit_id] == uow.labs.for_visit(visit_id)
    # Missing forms are missing (no key), never a zero score; every visit has its lab list.
    assert sorted(clasi) == [ids[0], ids[2], ids[3]]
    assert sorted(sledai) == [ids[0], ids[3], ids[4]]
    assert clasi[ids[3]].entry == "scores" and clasi[ids[3]].form is None
    assert sledai[ids[4]].entry == "score" and sledai[ids[4]].score == 6
    assert clasi[ids[0]].form == clasi[ids[2]].form is not None
    assert sorted(labs) == sorted(ids)
    assert [len(labs[i]) for i in ids] == [2, 0, 3, 0, 2, 0]
    # Each visit's results by sample date then test; nothing of another visit or none.
    assert [(lab.sample_date - DAY0).days for lab in labs[ids[2]]] == [56, 56, 57]
    assert [lab.test for lab in labs[ids[2]]] == ["neutrophils", "platelets", "neutrophils"]
    assert {lab.visit_id for i in ids for lab in labs[i]} == {ids[0], ids[2], ids[4]}
    assert all(lab.patient_id == seed.patient_id for i in ids for lab in labs[i])
    assert labs[ids[0]][0].ctcae_grade == 2  # neutrophils 1190 /mm3: graded as stored


def test_lab_for_visit_leaves_out_results_of_other_visits_and_none(seed: Seed) -> None:
    ids = _visits(seed)
    with UnitOfWork(seed.engine, read_only=True) as uow:
        everything = uow.labs.for_patient(seed.patient_id)
        by_visit = [lab for i in ids for lab in uow.labs.for_visit(i)]
        unknown = uow.labs.for_visit(10**9)
    assert len(everything) == 8 and len(by_visit) == 7
    assert {lab.id for lab in everything} - {lab.id for lab in by_visit} == {
        lab.id for lab in everything if lab.visit_id is None
    }
    assert unknown == []


def _count(engine: Engine, read: Callable[[UnitOfWork], object]) -> tuple[int, object]:
    """How many statements ``read`` sends, in a read-only unit of work already begun (so the
    transaction's own set-up is not counted), and what it returns."""
    with UnitOfWork(engine, read_only=True) as uow:
        uow.connection.execute(text("SELECT 1"))
        with count_statements(engine) as statements:
            result = read(uow)
    return len(statements), result


def test_one_statement_per_reader_whatever_the_number_of_visits(seed: Seed) -> None:
    ids = _visits(seed)
    for reader in ("clasi", "sledai", "labs"):
        few, _ = _count(seed.engine, lambda uow, r=reader: getattr(uow, r).for_visits(ids[:2]))
        many, _ = _count(seed.engine, lambda uow, r=reader: getattr(uow, r).for_visits(ids))
        assert few == many == 1, reader
        none, result = _count(seed.engine, lambda uow, r=reader: getattr(uow, r).for_visits([]))
        assert none == 0 and result == {}, reader


def test_long_id_lists_are_read_in_chunks_of_500(seed: Seed) -> None:
    ids = _visits(seed)
    # 1,200 unknown ids first, then the real ones (with a repeat): the real ones fall in the
    # third chunk, so a reader that dropped or mixed up chunks would miss them.
    unknown = list(range(10**6, 10**6 + 2 * IN_LIST_CHUNK + 200))
    wanted = [*unknown, *ids, ids[0]]
    assert IN_LIST_CHUNK == 500
    with UnitOfWork(seed.engine, read_only=True) as uow:
        expected_clasi = uow.clasi.for_visits(ids)
        expected_labs = uow.labs.for_visits(ids)
    count, clasi = _count(seed.engine, lambda uow: uow.clasi.for_visits(wanted))
    assert count == 3
    assert clasi == expected_clasi
    count, labs = _count(seed.engine, lambda uow: uow.labs.for_visits(wanted))
    assert count == 3
    assert isinstance(labs, dict)
    assert {k: v for k, v in labs.items() if k in ids} == expected_labs
    assert all(labs[k] == [] for k in unknown) and len(labs) == len(unknown) + len(ids)
    count, sledai = _count(seed.engine, lambda uow: uow.sledai.for_visits(iter(wanted)))
    assert count == 3 and isinstance(sledai, dict) and sorted(sledai) == [ids[0], ids[3], ids[4]]
