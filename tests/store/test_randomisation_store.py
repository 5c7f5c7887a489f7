"""Allocation lists in the store: sealed atomic import, refusals, audited allocation, and 16
simultaneous randomisations taking 16 distinct slots, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading

import pytest
from sqlalchemy import Engine, func, select

from cletrial.errors import AccessDeniedError, InputError
from cletrial.randomisation import AllocationList, generate_allocation_list
from cletrial.store import UnitOfWork, assert_audit_chain, verify_records_against_audit
from cletrial.store.audit import audit_log
from cletrial.store.fields import REDACTED, table_of
from cletrial.store.randomisation import import_allocation_list, randomise_patient
from cletrial.store.randomisation_reports import (
    allocation_listing,
    arm_of,
    balance,
    read_slots,
)

from .conftest import Seed, enrol

STRATA = {"subtype": ["DLE", "SCLE"], "site": ["BCN", "MAD"]}
ARMS = {"lenalidomide": 1, "placebo": 1}


def _plan(environment: str = "test", seed: int = 11, per_stratum: int = 4) -> AllocationList:
    return generate_allocation_list(
        STRATA,
        ARMS,
        block_sizes=[2, 4],
        per_stratum=per_stratum,
        seed=seed,
        environment=environment,
    )


def _import(engine: Engine, study_id: int, plan: AllocationList) -> int:
    with UnitOfWork(engine, user="stats") as uow:
        return import_allocation_list(uow, study_id, plan, environment=plan.environment).id


def _count(engine: Engine, table: str) -> int:
    with UnitOfWork(engine, read_only=True) as uow:
        return int(
            uow.connection.execute(select(func.count()).select_from(table_of(table))).scalar_one()
        )


def _audit(engine: Engine, table: str, action: str | None = None) -> list[dict[str, object]]:
    where = [audit_log.c.table_name == table]
    if action:
        where.append(audit_log.c.action == action)
    with UnitOfWork(engine, read_only=True) as uow:
        return [dict(r) for r in uow.connection.execute(select(audit_log).where(*where)).mappings()]


def test_import_records_the_sha256_and_seals_the_arm_in_the_audit_trail(seed: Seed) -> None:
    plan = _plan()
    list_id = _import(seed.engine, seed.study_id, plan)
    with UnitOfWork(seed.engine, read_only=True) as uow:
        stored = uow.get("allocation_lists", list_id)
        slots = read_slots(uow, list_id, role="statistician")
    assert stored["sha256"] == plan.sha256 and stored["sealed"] is True
    assert stored["imported_by"] == "stats" and stored["slot_count"] == len(plan.slots)
    assert [(s.stratum, s.sequence, s.arm, s.code) for s in slots] == [
        (s.stratum, s.sequence, s.arm, s.code) for s in plan.slots
    ]
    rows = _audit(seed.engine, "allocation_slots", "INSERT")
    assert len(rows) == len(plan.slots)
    assert all(json.loads(str(r["new_value"]))["arm"] == REDACTED for r in rows)
    assert not any(arm in str(r["new_value"]) for r in rows for arm in ARMS)
    assert len(_audit(seed.engine, "allocation_lists", "INSERT")) == 1


def test_a_bad_list_leaves_the_database_unchanged(seed: Seed) -> None:
    plan = _plan()
    last = dataclasses.replace(plan.slots[-1], code="X" * 41)  # too long for the column
    broken = dataclasses.replace(plan, slots=(*plan.slots[:-1], last))
    with pytest.raises(InputError, match=r"allocation_slots.code"):
        _import(seed.engine, seed.study_id, broken)
    assert _count(seed.engine, "allocation_lists") == 0
    assert _count(seed.engine, "allocation_slots") == 0
    assert _audit(seed.engine, "allocation_slots") == []


def test_the_same_list_twice_and_a_second_production_list_are_refused(seed: Seed) -> None:
    _import(seed.engine, seed.study_id, _plan("production", seed=1))
    with pytest.raises(InputError, match=r"sha256 = .*already imported"):
        _import(seed.engine, seed.study_id, _plan("production", seed=1))
    with pytest.raises(InputError, match="already has a production allocation list"):
        _import(seed.engine, seed.study_id, _plan("production", seed=2))
    _import(seed.engine, seed.study_id, _plan("test", seed=3))  # test lists are separate
    with (
        UnitOfWork(seed.engine, user="stats") as uow,
        pytest.raises(InputError, match="is a test list"),
    ):
        import_allocation_list(uow, seed.study_id, _plan("test", seed=4), environment="production")
    assert _count(seed.engine, "allocation_lists") == 2


def _patient(engine: Engine, seed: Seed, code: str, verdict: str | None = "eligible") -> int:
    with UnitOfWork(engine, user="admin") as uow:
        p = uow.patients.create(
            study_id=seed.study_id, site_id=seed.site_id, study_code=code, sex="M"
        )
        if verdict == "eligible":
            enrol(uow, p.id)
        elif verdict is not None:
            uow.screenings.save(
                p.id, screening_date=dt.date(2009, 1, 15), record={}, verdict=verdict
            )
        return p.id


def _randomise(engine: Engine, patient_id: int, subtype: str = "DLE", env: str = "test") -> str:
    with UnitOfWork(engine, user="dr.ruiz") as uow:
        done = randomise_patient(
            uow, patient_id, {"subtype": subtype}, environment=env, reason="eligible and consented"
        )
        return done.code


def test_randomisation_takes_the_next_slot_and_is_audited(seed: Seed) -> None:
    plan = _plan()
    _import(seed.engine, seed.study_id, plan)
    codes = [_randomise(seed.engine, seed.patient_id)]
    codes.append(_randomise(seed.engine, _patient(seed.engine, seed, "P02")))
    stratum = [s for s in plan.slots if s.stratum == "subtype=DLE|site=BCN"]
    assert codes == [stratum[0].code, stratum[1].code]
    rows = _audit(seed.engine, "randomisations", "INSERT")
    assert [r["actor"] for r in rows] == ["dr.ruiz", "dr.ruiz"]
    assert all(r["reason"] is None for r in rows)  # an INSERT carries no reason; its row does
    assert all(json.loads(str(r["new_value"]))["reason"] == "eligible and consented" for r in rows)
    updates = _audit(seed.engine, "allocation_slots", "UPDATE")
    assert {r["field"] for r in updates} == {"patient_id", "allocated_by", "allocated_at"}
    assert {r["reason"] for r in updates} == {"eligible and consented"}
    with UnitOfWork(seed.engine, read_only=True) as uow:
        assert arm_of(uow, seed.patient_id, role="statistician") == stratum[0].arm
        listing = allocation_listing(uow, seed.study_id, environment="test", role="statistician")
        blinded = allocation_listing(uow, seed.study_id, environment="test", role="monitor")
        assert_audit_chain(uow.connection)
        assert verify_records_against_audit(uow.connection) == []
    assert [(x.study_code, x.code, x.arm) for x in listing] == [
        ("P01", codes[0], stratum[0].arm),
        ("P02", codes[1], stratum[1].arm),
    ]
    assert all(len(x.audit_ids) == 4 for x in listing)  # the INSERT and the slot's 3 UPDATEs
    assert [x.arm for x in blinded] == [None, None]


@pytest.mark.parametrize(
    ("verdict", "override", "match"),
    [
        ("ineligible", False, r"screenings.verdict = \"ineligible\": not eligible"),
        ("undetermined", False, "incomplete"),
        (None, False, "no screening verdict"),
    ],
)
def test_a_patient_the_gate_keeps_out_is_refused(
    seed: Seed, verdict: str | None, override: bool, match: str
) -> None:
    _import(seed.engine, seed.study_id, _plan())
    patient = _patient(seed.engine, seed, "P09", verdict)
    with pytest.raises(InputError, match=match):
        _randomise(seed.engine, patient)
    assert _count(seed.engine, "randomisations") == 0


def test_an_override_lets_an_ineligible_patient_be_randomised(seed: Seed) -> None:
    _import(seed.engine, seed.study_id, _plan())
    patient = _patient(seed.engine, seed, "P09", "ineligible")
    with UnitOfWork(seed.engine, user="dr.ruiz") as uow:
        uow.overrides.add(
            patient_id=patient,
            override_date=dt.date(2009, 1, 20),
            reason="CLASI-A 3 at screening, 6 now",
            signed_name="Dr Ruiz",
        )
    assert _randomise(seed.engine, patient)


def test_withdrawn_consent_already_randomised_and_bad_strata_are_refused(seed: Seed) -> None:
    _import(seed.engine, seed.study_id, _plan())
    _randomise(seed.engine, seed.patient_id)
    with pytest.raises(InputError, match=r"randomisations.patient_id = .*already randomised"):
        _randomise(seed.engine, seed.patient_id)
    other = _patient(seed.engine, seed, "P03")
    with pytest.raises(InputError, match=r'strata.subtype = "ACLE": must be one of DLE, SCLE'):
        _randomise(seed.engine, other, subtype="ACLE")
    with (
        UnitOfWork(seed.engine, user="dr.ruiz") as uow,
        pytest.raises(InputError, match=r"strata.site = \"MAD\": must be the patient's site, BCN"),
    ):
        randomise_patient(uow, other, {"subtype": "DLE", "site": "MAD"}, environment="test")
    with pytest.raises(InputError, match="no production allocation list"):
        _randomise(seed.engine, other, env="production")
    with UnitOfWork(seed.engine, user="dr.ruiz") as uow:
        uow.events.add(
            patient_id=other, event_date=dt.date(2009, 2, 1), event_type="consent_withdrawn"
        )
    with pytest.raises(InputError, match="consent was withdrawn on 2009-02-01"):
        _randomise(seed.engine, other)
    assert _count(seed.engine, "randomisations") == 1


def test_an_exhausted_stratum_is_refused(seed: Seed) -> None:
    plan = generate_allocation_list(
        {"site": ["BCN"]}, ARMS, block_sizes=[2], per_stratum=2, seed=5, environment="test"
    )
    _import(seed.engine, seed.study_id, plan)
    patients = [seed.patient_id] + [_patient(seed.engine, seed, f"P1{i}") for i in range(2)]
    for patient in patients[:2]:
        with UnitOfWork(seed.engine, user="dr.ruiz") as uow:
            randomise_patient(uow, patient, {}, environment="test")
    with (
        UnitOfWork(seed.engine, user="dr.ruiz") as uow,
        pytest.raises(InputError, match=r'strata = "site=BCN": .*no free slot left .*all 2 used'),
    ):
        randomise_patient(uow, patients[2], {}, environment="test")


@pytest.mark.parametrize(
    "role", ["investigator", "coordinator", "monitor", "data_manager", "administrator"]
)
def test_a_blinded_role_cannot_read_the_slots_nor_the_arm(seed: Seed, role: str) -> None:
    list_id = _import(seed.engine, seed.study_id, _plan())
    _randomise(seed.engine, seed.patient_id)
    with UnitOfWork(seed.engine, read_only=True) as uow:
        with pytest.raises(AccessDeniedError, match="sealed"):
            read_slots(uow, list_id, role=role)
        with pytest.raises(AccessDeniedError, match="sealed"):
            arm_of(uow, seed.patient_id, role=role)
        lines = balance(uow, seed.study_id, environment="test", role=role)
        unblinded = balance(uow, seed.study_id, environment="test", role="statistician")
    assert all(line.by_arm is None for line in lines)
    assert [(x.stratum, x.slots, x.allocated) for x in lines] == [
        (x.stratum, x.slots, x.allocated) for x in unblinded
    ]
    assert sum(x.allocated for x in lines) == 1
    assert sum(sum((x.by_arm or {}).values()) for x in unblinded) == 1


RANDOMISERS = 16


def test_sixteen_simultaneous_randomisations_take_sixteen_distinct_slots(seed: Seed) -> None:
    _import(seed.engine, seed.study_id, _plan(per_stratum=RANDOMISERS))
    patients = [seed.patient_id] + [
        _patient(seed.engine, seed, f"C{i:02d}") for i in range(RANDOMISERS - 1)
    ]
    start = threading.Barrier(RANDOMISERS)
    codes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def randomiser(patient: int) -> None:
        try:
            start.wait(timeout=120)  # a safety net only: it breaks (and fails) if one died
            code = _randomise(seed.engine, patient)
            with lock:
                codes.append(code)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=randomiser, args=(p,)) for p in patients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(codes) == len(set(codes)) == RANDOMISERS
    with UnitOfWork(seed.engine, read_only=True) as uow:
        slots = table_of("allocation_slots")
        taken = uow.connection.execute(
            select(slots.c.sequence, slots.c.patient_id)
            .where(slots.c.patient_id.is_not(None))
            .order_by(slots.c.sequence)
        ).all()
        assert_audit_chain(uow.connection)
        assert verify_records_against_audit(uow.connection) == []
    assert [s for s, _ in taken] == list(range(1, RANDOMISERS + 1))  # the first 16, each once
    assert sorted(p for _, p in taken) == sorted(patients)
    assert len(_audit(seed.engine, "randomisations", "INSERT")) == RANDOMISERS
    updates = _audit(seed.engine, "allocation_slots", "UPDATE")
    assert len([u for u in updates if u["field"] == "patient_id"]) == RANDOMISERS
