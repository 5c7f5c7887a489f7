"""The unit of work: audit rows for every change, reasons, versions, locks, atomicity."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import Engine, func, select, text

from cletrial.errors import (
    ConflictError,
    FormError,
    InputError,
    LockedRecordError,
    NotFoundError,
    ReasonRequiredError,
    StoreError,
)
from cletrial.instruments import fill_absent_clasi_items, fill_absent_sledai_items
from cletrial.store import UnitOfWork, audit_history, create_user, verify_password
from cletrial.store.audit import audit_log
from cletrial.store.tables import Study

from .conftest import FORM, Seed

D = dt.date(2009, 2, 2)
#: A complete SLEDAI-2K form (every descriptor entered): arthritis 4 + rash 2.
SLEDAI = fill_absent_sledai_items({"arthritis": True, "rash": True})


def _audit_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())


def test_insert_writes_one_audit_row_with_every_value(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow:
        dose = uow.doses.add(patient_id=seed.patient_id, start_date=D, regimen="5_daily")
    with UnitOfWork(seed.engine, read_only=True) as uow:
        (row,) = uow.history("doses", dose.id)
    assert (row.action, row.actor, row.table_name, row.record_id, row.field) == (
        "INSERT", "ana", "doses", dose.id, None)  # fmt: skip
    assert row.new == {"patient_id": seed.patient_id, "start_date": "2009-02-02",
                       "regimen": "5_daily", "note": None, "visit_id": None}  # fmt: skip
    assert row.record_version == 1
    assert row.occurred_at.tzinfo is not None and row.occurred_at.utcoffset() == dt.timedelta(0)


def test_update_writes_one_audit_row_per_changed_field_with_reason(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow:
        ae = uow.adverse_events.add(patient_id=seed.patient_id, term="Insomnia", start_date=D,
                                    grade=1, causality="possible", serious=False)  # fmt: skip
    with UnitOfWork(seed.engine, user="bob") as uow:
        updated = uow.adverse_events.update(
            ae.id,
            expected_version=1,
            reason="source check",
            grade=2,
            causality="possible",
            note="worse",
        )
    assert updated.version == 2 and updated.grade == 2
    with seed.engine.connect() as conn:
        rows = audit_history(conn, "adverse_events", ae.id)
    changes = {(r.field, r.old, r.new, r.reason, r.actor, r.record_version) for r in rows[1:]}
    assert changes == {("grade", 1, 2, "source check", "bob", 2),
                       ("note", None, "worse", "source check", "bob", 2)}  # fmt: skip


def test_update_without_change_writes_nothing(seed: Seed) -> None:
    before = _audit_count(seed.engine)
    with UnitOfWork(seed.engine, user="ana") as uow:
        patient = uow.patients.update(seed.patient_id, expected_version=1, sex="F")
    assert patient.version == 1
    assert _audit_count(seed.engine) == before


def test_delete_writes_the_old_record_and_needs_a_reason(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow:
        test = uow.pregnancy_tests.add(patient_id=seed.patient_id, test_date=D, result="negative")
    with UnitOfWork(seed.engine, user="ana") as uow, pytest.raises(ReasonRequiredError):
        uow.pregnancy_tests.delete(test.id, expected_version=1)
    with UnitOfWork(seed.engine, user="ana") as uow:
        uow.pregnancy_tests.delete(test.id, expected_version=1, reason="entered twice")
    with seed.engine.connect() as conn:
        rows = audit_history(conn, "pregnancy_tests", test.id)
    assert [r.action for r in rows] == ["INSERT", "DELETE"]
    assert rows[1].old == {"patient_id": seed.patient_id, "test_date": "2009-02-02",
                           "result": "negative", "method": None, "visit_id": None}  # fmt: skip
    assert rows[1].reason == "entered twice"


def test_reason_required_after_first_save_but_not_before(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow:
        dose = uow.doses.add(patient_id=seed.patient_id, start_date=D, regimen="5_daily")
        dose = uow.doses.update(dose.id, expected_version=1, note="same transaction")
    with UnitOfWork(seed.engine, user="ana") as uow, pytest.raises(ReasonRequiredError) as err:
        uow.doses.update(dose.id, expected_version=2, regimen="10_daily")
    assert f"doses {dose.id}" in str(err.value)
    with UnitOfWork(seed.engine, user="ana", reason="dose escalation at week 4") as uow:
        uow.doses.update(dose.id, expected_version=2, regimen="10_daily")
    with seed.engine.connect() as conn:
        assert audit_history(conn, "doses", dose.id)[-1].reason == "dose escalation at week 4"


def test_stale_write_is_refused_naming_the_record_and_the_change(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana", reason="r") as uow:
        uow.patients.update(seed.patient_id, expected_version=1, cle_subtype="DLE")
    with (
        UnitOfWork(seed.engine, user="bob", reason="r") as uow,
        pytest.raises(ConflictError) as err,
    ):
        uow.patients.update(seed.patient_id, expected_version=1, cle_subtype="SCLE")
    assert err.value.table == "patients" and err.value.record_id == seed.patient_id
    assert (err.value.expected, err.value.actual) == (1, 2)
    assert err.value.changed == {"cle_subtype": '"DLE"'}
    with UnitOfWork(seed.engine, read_only=True) as uow:
        assert uow.patients.get(seed.patient_id).cle_subtype == "DLE"


def test_a_failing_unit_of_work_leaves_nothing_behind(seed: Seed) -> None:
    before = _audit_count(seed.engine)
    bad = fill_absent_clasi_items({"regions": {"arms": {"scale": 3}}})  # complete, scale > 2
    with (
        pytest.raises(FormError, match=r"regions\.arms\.scale"),
        UnitOfWork(seed.engine, user="ana") as uow,
    ):
        uow.doses.add(patient_id=seed.patient_id, start_date=D, regimen="5_daily")
        uow.visits.create(patient_id=seed.patient_id, visit_date=D, kind="baseline", clasi=bad)
    with UnitOfWork(seed.engine, read_only=True) as uow:
        assert uow.doses.for_patient(seed.patient_id) == []
        assert uow.visits.for_patient(seed.patient_id) == []
    assert _audit_count(seed.engine) == before


def test_visit_with_clasi_is_scored_and_stored_item_by_item(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow:
        visit = uow.visits.create(patient_id=seed.patient_id, visit_date=D, kind="baseline",
                                  medications=["hydroxychloroquine 200 mg/day"], clasi=FORM,
                                  sledai=SLEDAI)  # fmt: skip
    with UnitOfWork(seed.engine, read_only=True) as uow:
        clasi = uow.clasi.for_visit(visit.id)
        sledai = uow.sledai.for_visit(visit.id)
        stored = uow.visits.get(visit.id)
        columns = uow.connection.execute(
            text("SELECT arms_erythema, nose_scarring, scalp_scale FROM clasi_assessments")
        ).one()
    assert clasi is not None and sledai is not None
    assert (clasi.activity, clasi.damage, clasi.activity_severity) == (10, 2, "moderate")
    assert clasi.form.regions.arms.scale == 2
    assert tuple(columns) == (3, 1, 1)
    assert sledai.score == 6 and sledai.form.arthritis
    assert stored.medications == ("hydroxychloroquine 200 mg/day",)


def test_clasi_edit_audits_only_the_changed_items_and_rescoring(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow:
        visit = uow.visits.create(patient_id=seed.patient_id, visit_date=D, clasi=FORM)
    changed = json.loads(json.dumps(FORM))
    changed["regions"]["arms"]["erythema"] = 1
    with UnitOfWork(seed.engine, user="ana", reason="transcription error") as uow:
        record = uow.clasi.for_visit(visit.id)
        assert record is not None
        new = uow.clasi.save(visit.id, changed, expected_version=record.version)
    assert new.activity == 8 and new.version == 2
    with seed.engine.connect() as conn:
        fields = {r.field: (r.old, r.new) for r in audit_history(conn, "clasi_assessments",
                                                                   new.id)[1:]}  # fmt: skip
    assert fields == {
        "arms_erythema": (3, 1),
        "activity": (10, 8),
        "activity_severity": ("moderate", "mild"),
    }


def test_missing_clasi_is_missing_not_zero(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow:
        visit = uow.visits.create(patient_id=seed.patient_id, visit_date=D)
        assert uow.clasi.for_visit(visit.id) is None
        scores = uow.clasi.save_scores(visit.id, activity=6, damage=2)
    assert scores.form is None and scores.entry == "scores"


def test_signed_visit_is_locked_until_unlocked_with_a_reason(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow:
        visit = uow.visits.create(patient_id=seed.patient_id, visit_date=D, clasi=FORM)
        lab = uow.labs.add(patient_id=seed.patient_id, visit_id=visit.id, sample_date=D,
                           test="neutrophils", value=1190, unit="/mm3")  # fmt: skip
    with UnitOfWork(seed.engine, user="dr.ordi") as uow:
        signed = uow.visits.sign(visit.id, expected_version=visit.version)
    assert signed.locked and signed.signed_by == "dr.ordi" and signed.signed_at is not None
    with UnitOfWork(seed.engine, user="ana", reason="typo") as uow:
        with pytest.raises(LockedRecordError):
            uow.visits.update(visit.id, expected_version=signed.version, notes="x")
        with pytest.raises(LockedRecordError):
            uow.clasi.save(visit.id, {**FORM, "recent_hair_loss": 0}, expected_version=1)
        with pytest.raises(LockedRecordError):
            uow.labs.update(lab.id, expected_version=1, value=1500.0)
        with pytest.raises(LockedRecordError):
            uow.sledai.save(visit.id, SLEDAI)
    with UnitOfWork(seed.engine, user="dr.ordi") as uow, pytest.raises(InputError):
        uow.visits.unlock(visit.id, expected_version=signed.version, reason=" ")
    with UnitOfWork(seed.engine, user="dr.ordi") as uow:
        opened = uow.visits.unlock(visit.id, expected_version=signed.version,
                                   reason="correct neutrophil count")  # fmt: skip
        uow.labs.update(lab.id, expected_version=1, reason="lab report", value=1500.0)
    assert not opened.locked
    with seed.engine.connect() as conn:
        reasons = [r.reason for r in audit_history(conn, "visits", visit.id) if r.field == "status"]
    # The signer has no user row here: the printed name falls back to the username.
    assert reasons == ["signature: reviewed and approved (dr.ordi)", "correct neutrophil count"]


def test_labs_are_graded_and_regraded(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow:
        lab = uow.labs.add(patient_id=seed.patient_id, sample_date=D, test="neutrophils",
                           value=1190, unit="/mm3")  # fmt: skip
        dsdna = uow.labs.add(patient_id=seed.patient_id, sample_date=D, test="anti_dsdna",
                             value=123, unit="IU/ml")  # fmt: skip
    assert (lab.ctcae_term, lab.ctcae_grade, lab.lln_source) == (
        "neutrophil_count_decreased", 2, "default")  # fmt: skip
    assert dsdna.ctcae_grade is None
    with UnitOfWork(seed.engine, user="ana", reason="re-read") as uow:
        lab = uow.labs.update(lab.id, expected_version=1, value=900.0)
        with pytest.raises(InputError, match=r"labs\.unit"):
            uow.labs.add(patient_id=seed.patient_id, sample_date=D, test="wbc", value=3,
                         unit="g/dL")  # fmt: skip
    assert lab.ctcae_grade == 3


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda u, s: u.doses.add(patient_id=s.patient_id, start_date=D, regimen="7_daily"),
         "doses.regimen"),
        (lambda u, s: u.adverse_events.add(patient_id=s.patient_id, term="Rash", start_date=D,
                                           grade=6, causality="possible", serious=False),
         "adverse_events.grade = 6: must be from 1 to 5"),
        (lambda u, s: u.patients.update(s.patient_id, expected_version=1, reason="r",
                                        diagnosis_date="2005-13"), "patients.diagnosis_date"),
        (lambda u, s: u.patients.update(s.patient_id, expected_version=1, reason="r",
                                        study_code=""), "patients.study_code"),
        (lambda u, s: u.patients.update(s.patient_id, expected_version=1, reason="r",
                                        site_id=s.other_site_id), "cannot be changed"),
    ],
)  # fmt: skip
def test_bad_values_name_the_field_and_value(seed: Seed, call: object, message: str) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow, pytest.raises(InputError, match=message):
        call(uow, seed)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"end_date": dt.date(2009, 1, 1)},
         'adverse_events.end_date = "2009-01-01": must not be before the start date'),
        ({"start_date": dt.date(2009, 4, 1)},
         'adverse_events.end_date = "2009-03-02": must not be before the start date'),
        ({"serious": False}, 'adverse_events.serious_criterion = "hospitalisation": is only given'),
    ],
)  # fmt: skip
def test_an_adverse_event_changed_keeps_the_rules_of_a_new_one(
    seed: Seed, changes: dict[str, object], message: str
) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow:
        ae = uow.adverse_events.add(patient_id=seed.patient_id, term="Rash", start_date=D,
                                    end_date=dt.date(2009, 3, 2), grade=3, causality="possible",
                                    serious=True, serious_criterion="hospitalisation")  # fmt: skip
    before = _audit_count(seed.engine)
    with UnitOfWork(seed.engine, user="ana") as uow, pytest.raises(InputError, match=message):
        uow.adverse_events.update(ae.id, expected_version=1, reason="correction", **changes)
    assert _audit_count(seed.engine) == before
    with UnitOfWork(seed.engine, user="ana") as uow:  # the same change, made whole, is accepted
        uow.adverse_events.update(ae.id, expected_version=1, reason="correction",
                                  **{**changes, "end_date": None, "serious": False,
                                     "serious_criterion": None})  # fmt: skip


def test_unknown_parent_and_duplicate_keys(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow, pytest.raises(NotFoundError, match="9999"):
        uow.doses.add(patient_id=9999, start_date=D, regimen="5_daily")
    with UnitOfWork(seed.engine, user="ana") as uow:
        uow.visits.create(patient_id=seed.patient_id, visit_date=D, kind="baseline")
    with UnitOfWork(seed.engine, user="ana") as uow, pytest.raises(InputError, match="already"):
        uow.visits.create(patient_id=seed.patient_id, visit_date=D)
    with UnitOfWork(seed.engine, user="ana") as uow, pytest.raises(InputError, match="already"):
        uow.visits.create(patient_id=seed.patient_id, visit_date=D.replace(day=9), kind="baseline")


def test_after_a_database_error_the_unit_of_work_refuses_more_work(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow:
        with pytest.raises(InputError):
            uow.studies.create(code="LEN", title="dup", protocol_id="p", protocol_version="1")
        with pytest.raises(StoreError, match="rolled back"):
            uow.studies.list()


def test_orm_session_reads_but_cannot_write(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow:
        study = uow.session.get(Study, seed.study_id)
        assert study is not None and study.code == "LEN"
        study.title = "changed behind the audit trail"
        with pytest.raises(StoreError, match="audited"):
            uow.session.flush()


def test_read_only_and_dry_run(seed: Seed) -> None:
    with UnitOfWork(seed.engine, read_only=True) as uow, pytest.raises(StoreError):
        uow.doses.add(patient_id=seed.patient_id, start_date=D, regimen="5_daily")
    with UnitOfWork(seed.engine, user="ana", dry_run=True) as uow:
        uow.doses.add(patient_id=seed.patient_id, start_date=D, regimen="5_daily")
    assert [(c.action, c.table_name) for c in uow.changes] == [("INSERT", "doses")]
    with UnitOfWork(seed.engine, read_only=True) as uow:
        assert uow.doses.for_patient(seed.patient_id) == []
    with pytest.raises(InputError, match="user"):
        UnitOfWork(seed.engine)


def test_users_passwords_roles_and_sites(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="admin") as uow:
        user = create_user(uow, "ana", "correct horse", role="investigator",
                           site_ids=[seed.site_id])  # fmt: skip
        with pytest.raises(InputError, match="role"):
            create_user(uow, "eve", "correct horse", role="hacker")
        with pytest.raises(InputError) as short:
            create_user(uow, "sam", "short", role="monitor")
    assert "short" not in str(short.value)
    assert user.site_ids == (seed.site_id,)
    with UnitOfWork(seed.engine, read_only=True) as uow:
        assert verify_password(uow, "ana", "correct horse") == user
        assert verify_password(uow, "ana", "wrong password") is None
        assert verify_password(uow, "nobody", "correct horse") is None
        assert [u.username for u in uow.users.list(site_id=seed.site_id)] == ["ana"]
        (row,) = uow.history("users", user.id)
    assert row.new["password_hash"] == "[redacted]"
    assert "argon2" not in (row.new_value or "")
    with UnitOfWork(seed.engine, user="admin", reason="reset") as uow:
        user = uow.users.set_password(user.id, "new password!", expected_version=1)
        uow.users.update(user.id, expected_version=user.version, active=False)
    with UnitOfWork(seed.engine, read_only=True) as uow:
        assert verify_password(uow, "ana", "new password!") is None  # deactivated


def test_patients_listed_by_site_and_identity_kept_apart(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow:
        uow.patients.create(study_id=seed.study_id, site_id=seed.other_site_id, study_code="P02")
        uow.identities.save(seed.patient_id, full_name="Maria Example",
                            date_of_birth=dt.date(1970, 5, 4), mrn="H123")  # fmt: skip
        with pytest.raises(InputError, match="not a site of"):
            uow.patients.create(study_id=seed.study_id + 99, site_id=seed.site_id,
                                study_code="P03")  # fmt: skip
    with UnitOfWork(seed.engine, read_only=True) as uow:
        assert [p.study_code for p in uow.patients.list(site_id=seed.site_id)] == ["P01"]
        assert [p.study_code for p in uow.patients.list(study_id=seed.study_id)] == ["P01", "P02"]
        identity = uow.identities.for_patient(seed.patient_id)
        patient_columns = set(uow.connection.execute(text("SELECT * FROM patients")).keys())
    assert identity is not None and identity.mrn == "H123"
    assert not patient_columns & {"full_name", "date_of_birth", "mrn"}


def test_screening_record_round_trip(seed: Seed) -> None:
    record = {"age_years": 40, "clasi": {"regions": {"arms": {"erythema": 2}}}}
    with UnitOfWork(seed.engine, user="ana") as uow:  # P02: not yet screened
        patient = uow.patients.create(study_id=seed.study_id, site_id=seed.site_id,
                                      study_code="P02", sex="F")  # fmt: skip
        saved = uow.screenings.save(patient.id, screening_date=D, record=record,
                                    verdict="eligible")  # fmt: skip
    assert saved.version == 1 and saved.record == record
    with UnitOfWork(seed.engine, user="ana", reason="age corrected") as uow:
        changed = uow.screenings.save(patient.id, screening_date=D,
                                      record={**record, "age_years": 41},
                                      expected_version=saved.version)  # fmt: skip
    assert changed.record["age_years"] == 41 and changed.verdict == "eligible"


def test_commit_inside_the_block_and_continue(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow:
        dose = uow.doses.add(patient_id=seed.patient_id, start_date=D, regimen="5_daily")
        uow.commit()
        with pytest.raises(ReasonRequiredError):
            uow.doses.update(dose.id, expected_version=1, regimen="10_daily")


def test_identifying_values_are_not_repeated_in_errors(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow, pytest.raises(InputError) as err:
        uow.identities.save(seed.patient_id, full_name="Maria " + "X" * 300)
    assert "Maria" not in str(err.value) and "patient_identities.full_name" in str(err.value)


def test_a_failed_commit_saves_nothing_and_says_so(seed: Seed) -> None:
    """If the audit rows cannot be written, the change is not written either."""
    with seed.engine.begin() as conn:  # occupy the next audit id behind the chain's back
        if seed.engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_log_moves_head"))
        else:
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_moves_head"))
        conn.execute(text(
            "INSERT INTO audit_log (id, chain, chain_seq, occurred_at, actor, action, "
            "table_name, record_id, field, old_value, new_value, reason, record_version, txid, "
            "prev_hash, row_hash) SELECT id + 1, chain, 0, occurred_at, actor, action, "
            "table_name, record_id, field, old_value, new_value, reason, record_version, txid, "
            "row_hash, row_hash FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)"
        ))  # fmt: skip
    with pytest.raises(StoreError, match="commit failed"), UnitOfWork(seed.engine, user="a") as uow:
        uow.doses.add(patient_id=seed.patient_id, start_date=D, regimen="5_daily")
    with UnitOfWork(seed.engine, read_only=True) as uow:
        assert uow.doses.for_patient(seed.patient_id) == []
