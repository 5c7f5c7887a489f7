"""Dose regimens come from the protocol definitions, on SQLite and PostgreSQL.

The store accepts the regimen ids of every bundled protocol's dose ladder plus ``off``; a dose
added through ``uow.doses`` (and through import) must be a step of the ladder of the protocol
its patient's study runs. A study on a protocol that is not bundled falls back to the global
vocabulary.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from cletrial.errors import ImportFileError, InputError
from cletrial.protocol import list_protocols, load_protocol
from cletrial.store import UnitOfWork, vocab
from cletrial.store.audit import audit_log
from cletrial.store.fields import field_specs, validate_field
from cletrial.store.import_export import export_rows, import_path, write_json

from .conftest import enrol

LENALIDOMIDE = "lenalidomide-cle-2012"
THALIDOMIDE = "thalidomide-cle-example"
DAY0 = dt.date(2024, 1, 15)
#: Every patient is screened eligible a week before the first dose (the enrolment gate).
SCREENED = DAY0 - dt.timedelta(weeks=1)


def _ladder(protocol_id: str) -> tuple[str, ...]:
    """The regimen ids of a bundled definition's ladder, read here straight from the YAML."""
    return tuple(regimen.id for regimen in load_protocol(protocol_id).regimens)


# -- the vocabulary ------------------------------------------------------------------------------


def test_vocabulary_is_every_bundled_ladder_plus_off() -> None:
    ladders = {protocol_id: _ladder(protocol_id) for protocol_id in list_protocols()}
    assert {LENALIDOMIDE, THALIDOMIDE} <= set(ladders)
    expected = {regimen for ladder in ladders.values() for regimen in ladder} | {"off"}
    vocabulary = vocab.regimen_vocabulary()
    assert set(vocabulary) == expected and len(vocabulary) == len(expected)
    assert vocabulary[-1] == "off" and {"5_daily", "50_daily", "100_daily"} <= set(vocabulary)
    for protocol_id, ladder in ladders.items():
        assert vocab.protocol_regimens(protocol_id) == ladder  # both bundled ladders end in off
    assert field_specs("doses")["regimen"].choices == vocabulary
    assert validate_field("doses", "regimen", "50_twice_weekly") == "50_twice_weekly"
    with pytest.raises(InputError) as caught:
        validate_field("doses", "regimen", "7_daily")
    assert caught.value.field == "doses.regimen" and caught.value.value == "7_daily"
    assert "50_daily" in caught.value.problem and "5_daily" in caught.value.problem


def test_regimens_constant_stays_the_lenalidomide_ladder() -> None:
    assert vocab.REGIMENS == _ladder(LENALIDOMIDE) == vocab.protocol_regimens(LENALIDOMIDE)


def test_protocols_that_are_not_bundled_have_no_ladder_in_the_store() -> None:
    for protocol_id in ("protocols/local.yaml", "local.yaml", "no-such-protocol", "p", ""):
        assert vocab.protocol_regimens(protocol_id) is None


# -- doses of a study ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Patients:
    """A patient of each study: on lenalidomide, on the thalidomide example, on a local file."""

    engine: Engine
    len_id: int
    thal_id: int
    local_id: int


@pytest.fixture
def patients(db_engine: Engine) -> Patients:
    ids = {}
    with UnitOfWork(db_engine, user="admin") as uow:
        for code, protocol_id in (("LEN", LENALIDOMIDE), ("THAL", THALIDOMIDE),
                                  ("LOCAL", "protocols/local-variant.yaml")):  # fmt: skip
            study = uow.studies.create(code=code, title=f"{code} study", protocol_id=protocol_id,
                                       protocol_version="1")  # fmt: skip
            site = uow.sites.create(study_id=study.id, code="A", name="Site A")
            patient = uow.patients.create(study_id=study.id, site_id=site.id, study_code="P01",
                                          sex="F")  # fmt: skip
            enrol(uow, patient.id, on=SCREENED)
            ids[code] = patient.id
    return Patients(db_engine, ids["LEN"], ids["THAL"], ids["LOCAL"])


def _doses(engine: Engine, patient_id: int) -> list[str]:
    with UnitOfWork(engine, read_only=True) as uow:
        return [dose.regimen for dose in uow.doses.for_patient(patient_id)]


def _add_all(engine: Engine, patient_id: int, regimens: tuple[str, ...]) -> None:
    with UnitOfWork(engine, user="ana") as uow:
        for week, regimen in enumerate(regimens):
            uow.doses.add(patient_id=patient_id, start_date=DAY0 + dt.timedelta(weeks=week),
                          regimen=regimen)  # fmt: skip


@pytest.mark.parametrize(
    ("study", "own", "other"),
    [("THAL", THALIDOMIDE, LENALIDOMIDE), ("LEN", LENALIDOMIDE, THALIDOMIDE)],
)
def test_a_study_stores_its_own_ladder_and_refuses_the_other(
    patients: Patients, study: str, own: str, other: str
) -> None:
    patient_id = patients.thal_id if study == "THAL" else patients.len_id
    _add_all(patients.engine, patient_id, _ladder(own))
    assert _doses(patients.engine, patient_id) == list(_ladder(own))
    for regimen in _ladder(other):
        if regimen == "off":
            continue
        with pytest.raises(InputError) as caught, UnitOfWork(patients.engine, user="ana") as uow:
            uow.doses.add(patient_id=patient_id, start_date=DAY0 + dt.timedelta(weeks=20),
                          regimen=regimen)  # fmt: skip
        error = caught.value
        assert error.field == "doses.regimen" and error.value == regimen
        assert str(error).startswith(f'doses.regimen = "{regimen}": must be one of ')
        assert ", ".join(_ladder(own)) in error.problem and own in error.problem
    assert _doses(patients.engine, patient_id) == list(_ladder(own))


def test_off_is_accepted_on_every_ladder(patients: Patients) -> None:
    for patient_id in (patients.len_id, patients.thal_id, patients.local_id):
        _add_all(patients.engine, patient_id, ("off",))
        assert _doses(patients.engine, patient_id) == ["off"]


def test_allowed_regimens_follow_the_study(patients: Patients) -> None:
    with UnitOfWork(patients.engine, read_only=True) as uow:
        assert uow.doses.allowed_regimens(patients.len_id) == _ladder(LENALIDOMIDE)
        assert uow.doses.allowed_regimens(patients.thal_id) == _ladder(THALIDOMIDE)
        assert uow.doses.allowed_regimens(patients.local_id) == vocab.regimen_vocabulary()


def test_a_study_on_a_protocol_file_falls_back_to_the_global_vocabulary(
    patients: Patients,
) -> None:
    _add_all(patients.engine, patients.local_id, ("5_daily", "50_daily", "off"))
    assert _doses(patients.engine, patients.local_id) == ["5_daily", "50_daily", "off"]
    with pytest.raises(InputError) as caught, UnitOfWork(patients.engine, user="ana") as uow:
        uow.doses.add(patient_id=patients.local_id, start_date=DAY0 + dt.timedelta(weeks=9),
                      regimen="7_daily")  # fmt: skip
    assert caught.value.field == "doses.regimen" and caught.value.value == "7_daily"
    assert ", ".join(vocab.regimen_vocabulary()) in caught.value.problem


def test_a_changed_regimen_must_be_on_the_ladder_too(patients: Patients) -> None:
    _add_all(patients.engine, patients.thal_id, ("50_daily",))
    with UnitOfWork(patients.engine, read_only=True) as uow:
        (dose,) = uow.doses.for_patient(patients.thal_id)
    with pytest.raises(InputError) as caught, UnitOfWork(patients.engine, user="ana") as uow:
        uow.doses.update(dose.id, expected_version=dose.version, reason="typo",
                         regimen="5_daily")  # fmt: skip
    assert caught.value.field == "doses.regimen" and caught.value.value == "5_daily"
    assert "100_daily, 50_daily, 50_alternate, 50_twice_weekly, off" in caught.value.problem
    with UnitOfWork(patients.engine, user="ana") as uow:
        changed = uow.doses.update(dose.id, expected_version=dose.version, reason="escalated",
                                   regimen="100_daily", note="CLASI-A not improving")  # fmt: skip
    assert (changed.regimen, changed.version) == ("100_daily", 2)
    assert _doses(patients.engine, patients.thal_id) == ["100_daily"]


def test_invalid_types_are_still_refused_naming_the_field(patients: Patients) -> None:
    for patient_id in (patients.len_id, patients.local_id):
        for bad in (None, 5, ""):
            with pytest.raises(InputError) as caught, UnitOfWork(patients.engine, user="a") as uow:
                uow.doses.add(patient_id=patient_id, start_date=DAY0, regimen=bad)  # type: ignore[arg-type]
            assert caught.value.field == "doses.regimen"
    assert _doses(patients.engine, patients.len_id) == []


# -- import ------------------------------------------------------------------------------------


def _snapshot(engine: Engine) -> tuple[int, str]:
    """The audit row count and the whole export: equal before and after means unchanged."""
    out = io.StringIO()
    with engine.connect() as conn:
        write_json(export_rows(conn), out)
        count = int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())
    return count, out.getvalue()


def _document(study: str, protocol_id: str, regimens: list[str]) -> dict[str, object]:
    return {
        "format": "cletrial-import", "version": 1, "study": study,
        "studies": [{"study": study, "title": f"{study} study", "protocol": protocol_id,
                     "protocol_version": "1"}],
        "sites": [{"site": "BCN", "name": "Vall d'Hebron"}],
        "patients": [{"patient": "P01", "site": "BCN", "sex": "F"}],
        "screenings": [{"patient": "P01", "date": SCREENED.isoformat(), "verdict": "eligible"}],
        "doses": [{"patient": "P01", "date": (DAY0 + dt.timedelta(weeks=4 * i)).isoformat(),
                   "regimen": regimen} for i, regimen in enumerate(regimens)],
    }  # fmt: skip


def test_import_applies_the_ladder_of_the_study_atomically(
    db_engine: Engine, tmp_path: Path
) -> None:
    thal = tmp_path / "thal.json"
    thal.write_text(json.dumps(_document("THAL", THALIDOMIDE, ["50_daily", "50_alternate"])))
    assert import_path(db_engine, thal, user="dm").created == 6
    before = _snapshot(db_engine)
    # A new study and patient, then a good dose row and a thalidomide regimen on lenalidomide.
    bad = tmp_path / "len.json"
    bad.write_text(json.dumps(_document("LEN", LENALIDOMIDE, ["5_daily", "50_daily"])))
    with pytest.raises(ImportFileError) as caught:
        import_path(db_engine, bad, user="dm")
    error = caught.value
    where = (error.file, error.row, error.column, error.value)
    assert where == (f"{bad} [doses]", 2, "regimen", "50_daily")
    assert "5_daily" in error.problem and LENALIDOMIDE in error.problem
    assert str(error).startswith(f'{bad} [doses], row 2, column regimen = "50_daily": ')
    assert _snapshot(db_engine) == before


def test_import_refuses_a_regimen_change_off_the_ladder(db_engine: Engine, tmp_path: Path) -> None:
    thal = tmp_path / "thal.json"
    thal.write_text(json.dumps(_document("THAL", THALIDOMIDE, ["50_daily", "50_alternate"])))
    import_path(db_engine, thal, user="dm")
    before = _snapshot(db_engine)
    week4 = (DAY0 + dt.timedelta(weeks=4)).isoformat()
    doses = tmp_path / "doses.csv"
    doses.write_text(
        "study,patient,date,regimen,note\n"
        f"THAL,P01,{DAY0.isoformat()},100_daily,escalated\n"
        f"THAL,P01,{week4},5_alternate,\n"
    )
    with pytest.raises(ImportFileError) as caught:
        import_path(db_engine, doses, user="dm", reason="correction")
    error = caught.value
    where = (error.file, error.row, error.column, error.value)
    assert where == (str(doses), 3, "regimen", "5_alternate")
    assert THALIDOMIDE in error.problem
    assert _snapshot(db_engine) == before
    doses.write_text(f"study,patient,date,regimen\nTHAL,P01,{week4},50_twice_weekly\n")
    assert import_path(db_engine, doses, user="dm", reason="correction").updated == 1
