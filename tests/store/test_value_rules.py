"""One rule per kind of value at the store boundary and in the import (dates 1900-2199, text
without control characters, codes), exports safe against formula injection, all or nothing,
and read back exactly by the importer."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from cletrial.errors import ImportFileError, InputError
from cletrial.store import UnitOfWork, create_engine_for, upgrade
from cletrial.store import import_export as ie
from cletrial.store.audit import audit_log
from cletrial.store.import_export import export_rows, export_to, import_path, write_json

from .conftest import IMPORT_DOCUMENT, Seed


def _snapshot(engine: Engine) -> tuple[int, str]:
    out = io.StringIO()
    with engine.connect() as conn:
        write_json(export_rows(conn), out)
        count = int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())
    return count, out.getvalue()


@pytest.mark.parametrize("day", [dt.date(1, 1, 1), dt.date(1899, 12, 31)])
def test_the_store_refuses_a_date_before_1900_on_every_write(seed: Seed, day: dt.date) -> None:
    with pytest.raises(InputError) as caught, UnitOfWork(seed.engine, user="ana") as uow:
        other = uow.patients.create(study_id=seed.study_id, site_id=seed.site_id,
                                    study_code="P09")  # fmt: skip
        uow.doses.add(patient_id=other.id, start_date=day, regimen="off")  # no gate for off
    assert (caught.value.field, caught.value.value) == ("doses.start_date", day.isoformat())
    assert caught.value.problem == "must be from 1900-01-01 to 2199-12-31"


def test_the_store_refuses_a_date_after_2199_where_no_future_rule_applies(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow:
        patient = uow.patients.get(seed.patient_id)
    with pytest.raises(InputError) as caught, UnitOfWork(seed.engine, user="ana") as uow:
        uow.patients.update(seed.patient_id, expected_version=patient.version, reason="typo",
                            first_dose_date=dt.date(9999, 12, 31))  # fmt: skip
    assert caught.value.field == "patients.first_dose_date"
    assert caught.value.value == "9999-12-31" and "2199-12-31" in caught.value.problem


@pytest.mark.parametrize("bad", ["Vall\x00Hebron", "bell\x07", "esc\x1b[31m"])
def test_the_store_refuses_control_characters_in_text(seed: Seed, bad: str) -> None:
    before = _snapshot(seed.engine)
    with pytest.raises(InputError) as caught, UnitOfWork(seed.engine, user="ana") as uow:
        uow.sites.create(study_id=seed.study_id, code="NEW", name=bad)
    assert caught.value.field == "sites.name" and "control characters" in caught.value.problem
    assert _snapshot(seed.engine) == before


def test_tab_newline_and_cr_stay_allowed_in_free_text(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow:
        dose = uow.doses.add(patient_id=seed.patient_id, start_date=dt.date(2009, 2, 2),
                             regimen="5_daily", note="line 1\r\n\tline 2")  # fmt: skip
    assert dose.note == "line 1\r\n\tline 2"


def test_the_store_refuses_a_code_the_api_refuses(seed: Seed) -> None:
    with pytest.raises(InputError) as caught, UnitOfWork(seed.engine, user="ana") as uow:
        uow.patients.create(study_id=seed.study_id, site_id=seed.site_id, study_code="P 01")
    assert (caught.value.field, caught.value.value) == ("patients.study_code", "P 01")


def test_a_login_name_with_nul_is_a_failed_login_not_an_error(seed: Seed) -> None:
    with UnitOfWork(seed.engine, read_only=True) as uow:
        assert uow.users.verify_password("ad\x00min", "whatever") is None


# ----------------------------------------------------------------------------- import


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2200-01-01"])
def test_an_import_with_a_date_out_of_range_is_refused_whole(
    db_engine: Engine, tmp_path: Path, day: str
) -> None:
    (tmp_path / "study.json").write_text(json.dumps(IMPORT_DOCUMENT))
    import_path(db_engine, tmp_path / "study.json", user="dm")
    before = _snapshot(db_engine)
    doses = tmp_path / "doses.csv"
    doses.write_text(f"study,patient,date,regimen\nLEN,P01,2009-04-06,off\nLEN,P02,{day},off\n")
    with pytest.raises(ImportFileError) as caught:
        import_path(db_engine, doses, user="dm")
    error = caught.value
    assert (error.file, error.row, error.column, error.value) == (str(doses), 3, "date", day)
    assert error.problem == "must be from 1900-01-01 to 2199-12-31"
    assert _snapshot(db_engine) == before


def test_an_import_with_a_control_character_or_a_bad_code_is_refused(
    db_engine: Engine, tmp_path: Path
) -> None:
    document = copy.deepcopy(IMPORT_DOCUMENT)
    document["sites"][1]["name"] = "Mad\x00rid"
    path = tmp_path / "study.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ImportFileError) as caught:
        import_path(db_engine, path, user="dm")
    assert (caught.value.row, caught.value.column) == (2, "name")
    assert "control characters" in caught.value.problem
    document = copy.deepcopy(IMPORT_DOCUMENT)
    document["patients"][1]["patient"] = "P 02"
    path.write_text(json.dumps(document))
    with pytest.raises(ImportFileError) as caught:
        import_path(db_engine, path, user="dm")
    assert (caught.value.file, caught.value.column) == (f"{path} [patients]", "patient")
    assert caught.value.value == "P 02" and "letters, digits" in caught.value.problem
    assert _snapshot(db_engine)[0] == 0


# ----------------------------------------------------------------------------- export


def _risky_document() -> dict[str, object]:
    document = copy.deepcopy(IMPORT_DOCUMENT)
    visit = document["visits"][0]  # type: ignore[index]
    visit["medications"] = ["vitamin D; 1000 IU", "=cmd|' /C calc'!A0", "back\\slash"]
    visit["label"] = "@SUM(A1)"
    document["doses"][1]["note"] = "-2 mg then stop"  # type: ignore[index]
    document["adverse_events"][0]["note"] = "'=already quoted"  # type: ignore[index]
    document["sites"][0]["name"] = "+34 hospital"  # type: ignore[index]
    return document


def test_a_csv_export_neutralises_formulas_and_reads_back_exactly(
    db_engine: Engine, tmp_path: Path
) -> None:
    (tmp_path / "study.json").write_text(json.dumps(_risky_document()))
    import_path(db_engine, tmp_path / "study.json", user="dm")
    export_to(db_engine, tmp_path / "csv", fmt="csv")
    visits = (tmp_path / "csv" / "visits.csv").read_text()
    assert "vitamin D\\; 1000 IU; =cmd" in visits and ",'@SUM(A1)," in visits
    assert "'-2 mg then stop" in (tmp_path / "csv" / "doses.csv").read_text()
    assert "''=already quoted" in (tmp_path / "csv" / "adverse_events.csv").read_text()
    assert "'+34 hospital" in (tmp_path / "csv" / "sites.csv").read_text()
    assert ",1190.0," in (tmp_path / "csv" / "labs.csv").read_text()
    assert ie._cell(-1.5) == "-1.5" and ie._cell(-3) == "-3"  # numbers are never quoted
    again = create_engine_for(f"sqlite:///{tmp_path / 'again.sqlite'}")
    upgrade(again)
    import_path(again, tmp_path / "csv", user="dm")
    with db_engine.connect() as a, again.connect() as b:
        assert export_rows(b) == export_rows(a)
    report = import_path(db_engine, tmp_path / "csv", user="dm")
    assert report.created == report.updated == 0


def _fail_at_labs(original: object) -> object:
    def flat(kind: str, data: object) -> object:
        if kind == "labs":
            raise OSError("disk full")
        return original(kind, data)  # type: ignore[operator]

    return flat


def test_a_failed_export_leaves_nothing_behind(
    db_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "study.json").write_text(json.dumps(IMPORT_DOCUMENT))
    import_path(db_engine, tmp_path / "study.json", user="dm")
    exports = tmp_path / "exports"
    old, old_json = exports / "old", exports / "old.json"
    export_to(db_engine, old, fmt="csv")
    export_to(db_engine, old_json)
    before = {p.name: p.read_bytes() for p in [*old.iterdir(), old_json]}
    with UnitOfWork(db_engine, user="dm") as uow:
        study = uow.studies.by_code("LEN")
        p01 = uow.patients.by_code(study.id, "P01") if study else None
        assert p01 is not None
        uow.doses.add(patient_id=p01.id, start_date=dt.date(2009, 4, 6), regimen="off")
    monkeypatch.setattr(ie, "_flat", _fail_at_labs(ie._flat))  # fails after four kinds
    for out in (exports / "new", old):
        with pytest.raises(OSError, match="disk full"):
            export_to(db_engine, out, fmt="csv")
    monkeypatch.setattr(ie, "write_json", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        export_to(db_engine, old_json)
    after = {p.name: p.read_bytes() for p in [*old.iterdir(), old_json]}
    assert after == before  # the old export is untouched, no temporary file is left
    assert sorted(p.name for p in exports.iterdir()) == ["old", "old.json"]


def test_a_reason_for_change_with_nul_is_refused_before_the_audit_row(seed: Seed) -> None:
    with UnitOfWork(seed.engine, user="ana") as uow:
        patient = uow.patients.get(seed.patient_id)
    before = _snapshot(seed.engine)
    with pytest.raises(InputError) as caught, UnitOfWork(seed.engine, user="ana") as uow:
        uow.patients.update(seed.patient_id, expected_version=patient.version,
                            reason="typo\x00", sex="M")  # fmt: skip
    assert caught.value.field == "reason" and "control characters" in caught.value.problem
    assert _snapshot(seed.engine) == before


@pytest.mark.parametrize("typed", ["\u0663", "\u00b2", "1_0", " 1", "1e3", "nan", "inf", "0x1", ""])
def test_typed_numbers_are_ascii_digits_only(typed: str) -> None:
    from cletrial.values import read_typed_decimal, read_typed_int

    with pytest.raises(ValueError):
        read_typed_int(typed)
    with pytest.raises(ValueError):
        read_typed_decimal(typed)


def test_an_adverse_event_label_with_a_non_ascii_digit_is_not_a_500() -> None:
    from cletrial.web.templating import field_label

    assert field_label("ae-\u00b2.grade") == "Ae-\u00b2 grade"
    assert field_label("ae-0.grade").startswith("Adverse event 1")
