"""A record and its children in one call: a visit with its forms (one statement on PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import Engine, text

from cletrial.errors import InputError, NotFoundError
from cletrial.instruments import fill_absent_sledai_items
from cletrial.store import (
    UnitOfWork,
    fastpath,
    unit_of_work,
    verify_audit_chain,
    verify_records_against_audit,
)

from .conftest import FORM, Seed

D = dt.date(2009, 2, 2)
#: A complete SLEDAI-2K form (every descriptor entered).
SLEDAI = fill_absent_sledai_items({"rash": True, "alopecia": True})


def test_a_visit_with_its_forms_is_stored_and_audited_row_by_row(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow:
        visit = uow.visits.create(patient_id=seed.patient_id, visit_date=D, clasi=FORM,
                                  sledai=SLEDAI)  # fmt: skip
    with UnitOfWork(seed.engine, read_only=True) as uow:
        clasi = uow.clasi.for_visit(visit.id)
        sledai = uow.sledai.for_visit(visit.id)
        trail = [(uow.history(t, r.id), r.id) for t, r in
                 (("visits", visit), ("clasi_assessments", clasi), ("sledai_assessments", sledai))
                 if r is not None]  # fmt: skip
    assert clasi is not None and (clasi.activity, clasi.damage) == (10, 2)  # 6 + 3 + 1; 1 + 1
    assert sledai is not None and sledai.score == 4
    assert [len(rows) for rows, _ in trail] == [1, 1, 1]
    inserts = [rows[0] for rows, _ in trail]
    assert [a.action for a in inserts] == ["INSERT"] * 3
    assert inserts[0].txid == inserts[1].txid == inserts[2].txid
    assert inserts[0].id < inserts[1].id < inserts[2].id  # the visit first, then its forms
    assert json.loads(inserts[1].new_value or "{}")["visit_id"] == visit.id
    assert json.loads(inserts[2].new_value or "{}")["rash"] is True
    with seed.engine.connect() as conn:
        assert verify_audit_chain(conn).ok and verify_records_against_audit(conn) == []


def test_a_duplicate_visit_names_its_key_and_saves_none_of_its_forms(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow:
        uow.visits.create(patient_id=seed.patient_id, visit_date=D)
    duplicate = r"visits\.\(patient_id, visit_date\).*already exists"
    with pytest.raises(InputError, match=duplicate), UnitOfWork(seed.engine, user="a") as uow:
        uow.visits.create(patient_id=seed.patient_id, visit_date=D, clasi=FORM, sledai=SLEDAI)
    with seed.engine.connect() as conn:
        counts = [conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                  for t in ("visits", "clasi_assessments", "sledai_assessments")]  # fmt: skip
    assert counts == [1, 0, 0]


def test_an_unknown_patient_is_named(seed: Seed) -> None:
    missing = r"visits\.patient_id = 999"
    with pytest.raises(NotFoundError, match=missing), UnitOfWork(seed.engine, user="a") as uow:
        uow.visits.create(patient_id=999, visit_date=D, clasi=FORM)


def test_insert_with_children_returns_what_single_inserts_return(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow:
        visit, forms = uow.insert_with_children(
            "visits", {"patient_id": seed.patient_id, "visit_date": D, "kind": "scheduled",
                       "status": "open"},
            [("sledai_assessments", {"entry": "score", "score": 6})], link="visit_id",
        )  # fmt: skip
        assert forms == [{**forms[0], "visit_id": visit["id"], "version": 1}]
        assert uow.created_in_this_transaction("sledai_assessments", forms[0]["id"])
    with UnitOfWork(seed.engine, read_only=True) as uow:
        stored = uow.sledai.for_visit(visit["id"])
    assert stored is not None and stored.score == 6 and stored.version == 1


@pytest.mark.postgres
def test_postgresql_writes_a_visit_and_its_forms_in_one_statement(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with UnitOfWork(pg_engine, user="ana") as uow:
        study = uow.studies.create(code="S", title="T", protocol_id="p", protocol_version="1")
        site = uow.sites.create(study_id=study.id, code="A", name="Site A")
        patient = uow.patients.create(study_id=study.id, site_id=site.id, study_code="P01")
    calls: list[str] = []
    single, family = fastpath.execute_insert, fastpath.execute_insert_family

    def count_single(*args: Any, **kwargs: Any) -> Any:
        calls.append("single")
        return single(*args, **kwargs)

    def count_family(*args: Any, **kwargs: Any) -> Any:
        calls.append("family")
        return family(*args, **kwargs)

    monkeypatch.setattr(unit_of_work, "execute_insert", count_single)
    monkeypatch.setattr(unit_of_work, "execute_insert_family", count_family)
    monkeypatch.setattr(fastpath, "execute_insert", count_single)
    with UnitOfWork(pg_engine, user="ana") as uow:
        uow.visits.create(patient_id=patient.id, visit_date=D, clasi=FORM, sledai=SLEDAI)
    assert calls == ["family"]


def test_create_with_forms_returns_the_stored_forms(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow:
        saved = uow.visits.create_with_forms(patient_id=seed.patient_id, visit_date=D, clasi=FORM)
    with UnitOfWork(seed.engine, read_only=True) as uow:
        assert saved.visit == uow.visits.get(saved.visit.id)
        assert saved.clasi == uow.clasi.for_visit(saved.visit.id)
    assert saved.sledai is None  # not given: missing, not an empty form
