"""Emergency unblinding in the store: the arm to the unblinding user only, each unblinding
recorded and audited (never the arm), refusals that change nothing; SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from cletrial.errors import AccessDeniedError, InputError, NotFoundError
from cletrial.store import UnitOfWork, assert_audit_chain
from cletrial.store.audit import audit_log
from cletrial.store.unblinding import unblind_patient, unblindings_of

from .conftest import Seed
from .test_randomisation_store import ARMS, _count, _import, _plan, _randomise

REASON = "suspected anaphylaxis: the treatment must be known"


def _unblind(seed: Seed, role: str = "investigator", reason: str = REASON) -> str:
    with UnitOfWork(seed.engine, user="dr.ruiz") as uow:
        _record, arm = unblind_patient(uow, seed.patient_id, role=role,
                                       signed_name="Dr Rosa Ruiz", reason=reason)  # fmt: skip
        return arm


def test_the_unblinding_user_gets_the_arm_and_the_record_holds_none(seed: Seed) -> None:
    plan = _plan()
    _import(seed.engine, seed.study_id, plan)
    code = _randomise(seed.engine, seed.patient_id)
    slot = next(s for s in plan.slots if s.code == code)
    assert _unblind(seed) == slot.arm
    assert _unblind(seed) == slot.arm  # a second unblinding is allowed, and recorded too
    with UnitOfWork(seed.engine, read_only=True) as uow:
        done = unblindings_of(uow, [seed.patient_id])
        query = select(audit_log).where(audit_log.c.table_name == "unblindings")
        rows = [dict(r) for r in uow.connection.execute(query).mappings()]
    assert [(u.unblinded_by, u.role, u.signed_name, u.reason) for u in done] == [
        ("dr.ruiz", "investigator", "Dr Rosa Ruiz", REASON)] * 2  # fmt: skip
    assert [r["action"] for r in rows] == ["INSERT", "INSERT"]
    assert all(json.loads(str(r["new_value"]))["reason"] == REASON for r in rows)
    assert not any(arm in str(r["new_value"]) for r in rows for arm in ARMS)
    with UnitOfWork(seed.engine, read_only=True) as uow:
        assert_audit_chain(uow.connection)


@pytest.mark.parametrize(
    ("role", "reason", "error", "message"),
    [
        ("coordinator", REASON, AccessDeniedError, "may not unblind"),
        ("monitor", REASON, AccessDeniedError, "may not unblind"),
        ("investigator", "", InputError, 'reason = "": give the reason'),
        ("investigator", "   urgent ", InputError, "at least 10 characters"),
    ],
)
def test_refusals_record_nothing(
    seed: Seed, role: str, reason: str, error: type[Exception], message: str
) -> None:
    _import(seed.engine, seed.study_id, _plan())
    _randomise(seed.engine, seed.patient_id)
    with pytest.raises(error, match=message):
        _unblind(seed, role, reason)
    assert _count(seed.engine, "unblindings") == 0


def test_a_patient_not_randomised_is_refused(seed: Seed) -> None:
    with pytest.raises(NotFoundError, match="not randomised"):
        _unblind(seed)
    assert _count(seed.engine, "unblindings") == 0
