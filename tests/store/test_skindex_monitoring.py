"""Monitoring of the Skindex-29+3: a query on an item, its correction, source verification."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from cletrial.store import UnitOfWork
from cletrial.store.fields import table_of
from cletrial.store.repositories.verification import SdvPlan

from .conftest import Seed

D = dt.date(2009, 2, 2)
FULL = {str(i): 3 for i in range(1, 34)}


def _visit(seed: Seed) -> tuple[int, int]:
    with UnitOfWork(seed.engine, user="ana") as uow:
        visit = uow.visits.create(patient_id=seed.patient_id, visit_date=D, kind="baseline",
                                  skindex=FULL)  # fmt: skip
        form = uow.skindex.for_visit(visit.id)
        assert form is not None
        return visit.id, form.id


def test_a_corrected_item_rescores_its_domain(seed: Seed) -> None:
    visit_id, form_id = _visit(seed)
    with UnitOfWork(seed.engine, user="mona") as uow:
        query = uow.queries.raise_query(patient_id=seed.patient_id, subject="item 1 is 5 in source",
                                        role="monitor", table_name="skindex_assessments",
                                        record_id=form_id, field="item_1")  # fmt: skip
    with UnitOfWork(seed.engine, user="ana") as uow:
        uow.queries.act(query.id, "answer", role="investigator", expected_version=query.version,
                        text="transcription error", correction={"item_1": 5})  # fmt: skip
    with UnitOfWork(seed.engine, read_only=True) as uow:
        form = uow.skindex.for_visit(visit_id)
    assert form is not None and form.responses[1] == 5
    with seed.engine.connect() as conn:
        row = conn.execute(select(table_of("skindex_assessments"))).mappings().one()
    assert row["item_1"] == 5
    assert row["symptoms"] == form.score.symptoms
    assert form.score.symptoms is not None and form.score.symptoms > 50


def test_a_plan_verifying_every_skindex_counts_it_and_a_mark_is_kept(seed: Seed) -> None:
    _, form_id = _visit(seed)
    plan = SdvPlan(full=frozenset({"skindex_assessments"}))
    with UnitOfWork(seed.engine, user="mona") as uow:
        before = uow.sdv.progress(by="form", plan=plan)
        uow.sdv.verify("skindex_assessments", form_id)
        after = uow.sdv.progress(by="form", plan=plan)
    assert before == [{"form": "skindex_assessments", "required": 1, "verified": 0,
                       "percent": 0.0}]  # fmt: skip
    assert after[0]["verified"] == 1 and after[0]["percent"] == 100.0
