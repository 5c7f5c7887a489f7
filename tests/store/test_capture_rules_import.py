"""The capture rules through import, on SQLite and PostgreSQL: a row that breaks one stops the
import at its file, row and column, and nothing is stored."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from cletrial.errors import ImportFileError
from cletrial.store import UnitOfWork
from cletrial.store.audit import audit_log
from cletrial.store.import_export import export_rows, import_path, write_json

from .conftest import IMPORT_DOCUMENT

FUTURE = dt.date.today() + dt.timedelta(days=30)


def _snapshot(engine: Engine) -> tuple[int, str]:
    out = io.StringIO()
    with engine.connect() as conn:
        write_json(export_rows(conn), out)
        count = int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())
    return count, out.getvalue()


def test_a_dose_for_an_unscreened_patient_stops_the_import(db_engine: Engine,
                                                           tmp_path: Path) -> None:  # fmt: skip
    document = copy.deepcopy(IMPORT_DOCUMENT)
    document["screenings"] = [s for s in document["screenings"] if s["patient"] != "P01"]
    path = tmp_path / "study.json"
    path.write_text(json.dumps(document))
    before = _snapshot(db_engine)
    with pytest.raises(ImportFileError) as caught:
        import_path(db_engine, path, user="dm")
    error = caught.value
    assert (error.file, error.row, error.column, error.value) == (
        f"{path} [doses]", 1, "regimen", "5_daily")  # fmt: skip
    assert "not enrolled" in error.problem and "no screening" in error.problem
    assert _snapshot(db_engine) == before


def test_a_future_dated_lab_in_a_csv_import_is_refused(db_engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "study.json").write_text(json.dumps(IMPORT_DOCUMENT))
    import_path(db_engine, tmp_path / "study.json", user="dm")
    before = _snapshot(db_engine)
    labs = tmp_path / "labs.csv"
    labs.write_text("study,patient,date,test,value,unit\n"
                    "LEN,P01,2009-03-09,wbc,4.1,10^9/L\n"
                    f"LEN,P01,{FUTURE.isoformat()},wbc,4.2,10^9/L\n")  # fmt: skip
    with pytest.raises(ImportFileError) as caught:
        import_path(db_engine, labs, user="dm")
    error = caught.value
    assert (error.file, error.row, error.column) == (str(labs), 3, "date")
    assert error.value == FUTURE.isoformat() and "after today" in error.problem
    assert _snapshot(db_engine) == before


def test_screenings_are_imported_before_the_doses_they_allow(db_engine: Engine,
                                                             tmp_path: Path) -> None:  # fmt: skip
    """A directory whose doses.csv sorts before screenings.csv still imports: kinds are applied
    in dependency order, so the screening is stored before the dose it allows."""
    (tmp_path / "base.json").write_text(json.dumps(
        {key: IMPORT_DOCUMENT[key] for key in ("format", "version", "study", "studies", "sites",
                                               "patients")}))  # fmt: skip
    import_path(db_engine, tmp_path / "base.json", user="dm")
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "doses.csv").write_text("study,patient,date,regimen\nLEN,P02,2009-05-04,5_daily\n")
    (folder / "screenings.csv").write_text(
        "study,patient,date,verdict\nLEN,P02,2009-05-01,eligible\n"
    )
    report = import_path(db_engine, folder, user="dm")
    assert report.created == 2
    with UnitOfWork(db_engine, read_only=True) as uow:
        study = uow.studies.by_code("LEN")
        assert study is not None
        patient = uow.patients.by_code(study.id, "P02")
        assert patient is not None
        screening = uow.screenings.for_patient(patient.id)
        assert screening is not None and screening.verdict == "eligible"
        assert [d.regimen for d in uow.doses.for_patient(patient.id)] == ["5_daily"]


def test_a_new_visit_with_a_partial_grid_stops_the_import(db_engine: Engine,
                                                          tmp_path: Path) -> None:  # fmt: skip
    import_path(db_engine, _write_json(tmp_path / "study.json", IMPORT_DOCUMENT), user="dm")
    before = _snapshot(db_engine)
    for name, header, problem in (
        ("visits.csv", "clasi_arms_erythema", "every CLASI item must be entered"),
        ("visits2.csv", "sledai_rash", "every SLEDAI-2K descriptor must be entered"),
    ):
        path = tmp_path / name
        path.write_text(
            f"study,patient,date,{header}\nLEN,P01,2009-04-02,2\n".replace(
                ",2\n", ",true\n" if header.startswith("sledai") else ",2\n"
            )
        )
        with pytest.raises(ImportFileError, match=problem):
            import_path(db_engine, path, user="dm", kind="visits")
        assert _snapshot(db_engine) == before  # nothing stored


def _write_json(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document))
    return path
