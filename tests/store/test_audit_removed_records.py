"""``removed_records``: the forms and labs removed from one visit, found by their DELETE audit
rows (indexed), and only those of that visit, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from tests.store.conftest import Seed

from cletrial.store import UnitOfWork
from cletrial.store.audit import removed_records

DAY0 = dt.date(2009, 2, 2)


def _two_visits_with_a_lab_each(seed: Seed) -> tuple[int, int, int, int]:
    with UnitOfWork(seed.engine, user="ana") as uow:
        visits, labs = [], []
        for week in (0, 4):
            day = DAY0 + dt.timedelta(weeks=week)
            visit = uow.visits.create(patient_id=seed.patient_id, visit_date=day,
                                      kind="baseline" if week == 0 else "scheduled")  # fmt: skip
            lab = uow.labs.add(patient_id=seed.patient_id, visit_id=visit.id, sample_date=day,
                               test="platelets", value=90.0, unit="10^9/L")  # fmt: skip
            visits.append(visit.id)
            labs.append(lab.id)
    return visits[0], visits[1], labs[0], labs[1]


def test_only_the_visits_own_removed_labs(seed: Seed) -> None:
    first, second, lab_a, lab_b = _two_visits_with_a_lab_each(seed)
    with UnitOfWork(seed.engine, user="ana") as uow:
        uow.labs.delete(lab_a, expected_version=1, reason="entered on the wrong visit")
        uow.labs.delete(lab_b, expected_version=1, reason="not done")
    with UnitOfWork(seed.engine, read_only=True) as uow:
        assert removed_records(uow.connection, ("labs",), "visit_id", first) == [("labs", lab_a)]
        assert removed_records(uow.connection, ("labs",), "visit_id", second) == [("labs", lab_b)]
        assert removed_records(uow.connection, ("clasi_assessments",), "visit_id", first) == []


def test_the_query_reads_the_action_index(seed: Seed) -> None:
    with UnitOfWork(seed.engine, read_only=True) as uow:
        if uow.connection.dialect.name != "sqlite":
            return
        plan = uow.connection.execute(text(
            "EXPLAIN QUERY PLAN SELECT table_name, record_id FROM audit_log "
            "WHERE table_name IN ('labs') AND action = 'DELETE'"
        )).all()  # fmt: skip
    assert any("ix_audit_log_action" in str(row) for row in plan), plan
