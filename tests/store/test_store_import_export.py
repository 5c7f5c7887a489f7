"""Import and export: atomic, idempotent, never erasing, errors located, round trip exact."""

from __future__ import annotations

import copy
import io
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from cletrial.errors import ImportFileError
from cletrial.store import UnitOfWork, verify_audit_chain, verify_records_against_audit
from cletrial.store.audit import audit_log
from cletrial.store.import_export import export_rows, export_to, import_path, write_json
from cletrial.store.import_formats import KINDS

from .conftest import IMPORT_DOCUMENT


def _write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


def _audit_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())


def _export_json(engine: Engine, **options: Any) -> str:
    out = io.StringIO()
    with engine.connect() as conn:
        write_json(export_rows(conn, **options), out)
    return out.getvalue()


@pytest.fixture
def imported(db_engine: Engine, tmp_path: Path) -> Engine:
    """The database after importing :data:`IMPORT_DOCUMENT`."""
    report = import_path(db_engine, _write(tmp_path / "import.json", IMPORT_DOCUMENT), user="dm")
    assert report.created == 18 and report.updated == report.unchanged == 0
    return db_engine


def test_json_import_stores_everything_audited_and_scored(imported: Engine) -> None:
    with UnitOfWork(imported, read_only=True) as uow:
        study = uow.studies.by_code("LEN")
        assert study is not None
        p01 = uow.patients.by_code(study.id, "P01")
        assert p01 is not None and p01.diagnosis_date == "2005"
        baseline, week4 = uow.visits.for_patient(p01.id)
        clasi = uow.clasi.for_visit(baseline.id)
        assert clasi is not None and (clasi.activity, clasi.damage) == (7, 1)
        scores = uow.clasi.for_visit(week4.id)
        assert scores is not None and scores.form is None and scores.activity == 2
        (neutrophils,) = [lab for lab in uow.labs.for_patient(p01.id) if lab.test == "neutrophils"]
        assert neutrophils.ctcae_grade == 2
        identity = uow.identities.for_patient(p01.id)
        assert identity is not None and identity.mrn == "H123"
        assert verify_audit_chain(uow.connection).ok
        assert verify_records_against_audit(uow.connection) == []


def test_importing_the_same_file_again_changes_nothing(imported: Engine, tmp_path: Path) -> None:
    before = _audit_rows(imported)
    report = import_path(imported, tmp_path / "import.json", user="dm")
    assert (report.created, report.updated, report.unchanged) == (0, 0, 18)
    assert report.changes == [] and _audit_rows(imported) == before


def test_blank_cells_never_erase(imported: Engine, tmp_path: Path) -> None:
    (tmp_path / "patients.csv").write_text(
        "study,patient,site,sex,cle_subtype,diagnosis_date,full_name\nLEN,P01,BCN,,,,\n"
    )
    visits = "study,patient,date,kind,notes,clasi_arms_erythema,sledai_rash\n"
    (tmp_path / "visits.csv").write_text(visits + "LEN,P01,2009-02-02,,,,\n")
    before = _audit_rows(imported)
    for name in ("patients.csv", "visits.csv"):
        assert import_path(imported, tmp_path / name, user="dm").unchanged == 1
    assert _audit_rows(imported) == before


def test_given_items_merge_into_the_stored_form(imported: Engine, tmp_path: Path) -> None:
    path = _write(tmp_path / "visits-fix.csv",
                  "study,patient,date,clasi_arms_erythema\nLEN,P01,2009-02-02,1\n")  # fmt: skip
    with pytest.raises(ImportFileError, match="reason"):
        import_path(imported, path, user="dm")
    report = import_path(imported, path, user="dm", reason="source data verification")
    assert report.updated == 1
    fields = {c.field: (c.old, c.new) for c in report.changes}
    assert fields == {"arms_erythema": ("3", "1"), "activity": ("7", "5")}
    with UnitOfWork(imported, read_only=True) as uow:
        clasi = uow.clasi.get(1)
    assert clasi.form.regions.scalp.erythema == 2  # not in the file: kept
    assert clasi.form.regions.arms.dyspigmentation == 1


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        ("visits.csv", "study,patient,date\nLEN,P01,2009-02-02\nLEN,P01,02/03/2009\n",
         "visits.csv, row 3, column date"),
        ("labs.csv", "study,patient,date,test,value,unit\nLEN,P01,2009-02-09,wbc,abc,10^9/L\n",
         "labs.csv, row 2, column value"),
        ("labs.csv", "study,patient,date,test,value,unit\nLEN,P01,2009-02-09,wbc,3,g/dL\n",
         "labs.csv, row 2, column unit"),
        ("visits.csv", "study,patient,date,clasi_arms_scale\nLEN,P09,2009-02-02,1\n",
         "visits.csv, row 2, column patient"),
        ("visits.csv", "study,patient,date,clasi_arms_scale\nLEN,P01,2009-04-02,3\n",
         "visits.csv, row 2, column clasi_arms_scale = 3: must be 0, 1 or 2"),
        ("doses.csv", "study,patient,date,regimen\nLEN,P01,2009-05-02,7_daily\n",
         "doses.csv, row 2, column regimen"),
        ("events.csv", "study,patient,date,type,colour\n", "events.csv, row 1, column colour"),
        ("x.json", {"visits": [{"study": "LEN", "patient": "P01", "date": "2009-06-01"},
                               {"study": "LEN", "patient": "P01", "date": "2009-07-01",
                                "clasi": {"regions": {"arms": {"scale": 3}}}}]},
         "x.json [visits], row 2, column clasi.regions.arms.scale = 3"),
        ("y.json", {"labs": [{"study": "LEN", "patient": "P01", "date": "2009-06-01",
                              "test": "wbc", "value": "3", "unit": "10^9/L"}]},
         "y.json [labs], row 1, column value"),
    ],
)  # fmt: skip
def test_errors_name_file_row_and_column_and_leave_the_database_unchanged(
    imported: Engine, tmp_path: Path, name: str, content: Any, where: str
) -> None:
    before = _export_json(imported)
    audit = _audit_rows(imported)
    path = _write(tmp_path / name, content)
    with pytest.raises(ImportFileError) as err:
        import_path(imported, path, user="dm", reason="r")
    assert where in str(err.value)
    assert _export_json(imported) == before and _audit_rows(imported) == audit


def test_a_failed_import_is_all_or_nothing(db_engine: Engine, tmp_path: Path) -> None:
    document = copy.deepcopy(IMPORT_DOCUMENT)
    document["adverse_events"].append(
        {
            "patient": "P01",
            "term": "Rash",
            "start": "2009-05-01",
            "grade": 9,
            "causality": "possible",
            "serious": False,
        }
    )
    with pytest.raises(ImportFileError, match=r"\[adverse_events\], row 2, column grade"):
        import_path(db_engine, _write(tmp_path / "bad.json", document), user="dm")
    assert _audit_rows(db_engine) == 0
    with UnitOfWork(db_engine, read_only=True) as uow:
        assert uow.studies.list() == []


def test_dry_run_lists_the_changes_and_saves_nothing(imported: Engine, tmp_path: Path) -> None:
    document = copy.deepcopy(IMPORT_DOCUMENT)
    document["doses"][1]["regimen"] = "5_thrice_weekly"
    document["pregnancy_tests"].append({"patient": "P01", "date": "2009-02-01",
                                        "result": "negative"})  # fmt: skip
    before = _export_json(imported)
    report = import_path(imported, _write(tmp_path / "d.json", document), user="dm",
                         reason="monitor query 12", dry_run=True)  # fmt: skip
    lines = [c.describe() for c in report.changes]
    assert report.dry_run and (report.created, report.updated) == (1, 1)
    assert any('regimen "5_alternate" -> "5_thrice_weekly"' in line for line in lines)
    assert any("create pregnancy_tests LEN/P01/2009-02-01" in line for line in lines)
    assert _export_json(imported) == before


def test_duplicate_keys_in_one_import_are_refused(db_engine: Engine, tmp_path: Path) -> None:
    document = copy.deepcopy(IMPORT_DOCUMENT)
    document["doses"].append({"patient": "P01", "date": "2009-02-02", "regimen": "10_daily"})
    with pytest.raises(ImportFileError, match="row 1"):
        import_path(db_engine, _write(tmp_path / "dup.json", document), user="dm")


def test_json_round_trip_is_exact(imported: Engine, fresh_engine: Engine, tmp_path: Path) -> None:
    first = _export_json(imported)
    import_path(fresh_engine, _write(tmp_path / "export.json", first), user="dm")
    assert _export_json(fresh_engine) == first
    assert import_path(imported, tmp_path / "export.json", user="dm").changes == []


def test_csv_round_trip_is_exact(imported: Engine, fresh_engine: Engine, tmp_path: Path) -> None:
    files = export_to(imported, tmp_path / "csv", fmt="csv")
    names = sorted(f.name for f in files)
    # one file per kind, every kind, and what the database's lock state was at the export
    assert names == sorted([*(f"{kind}.csv" for kind in KINDS), "database.txt"])
    assert (tmp_path / "csv" / "database.txt").read_text().startswith("database open; exported")
    assert {"screenings.csv", "dispositions.csv", "doses.csv", "visits.csv"} <= set(names)
    report = import_path(fresh_engine, tmp_path / "csv", user="dm")
    assert report.created == 18
    export_to(fresh_engine, tmp_path / "csv2", fmt="csv")
    for file in files:
        if file.name == "database.txt":
            continue  # says when each export was made
        assert (tmp_path / "csv2" / file.name).read_bytes() == file.read_bytes(), file.name
    assert _export_json(fresh_engine) == _export_json(imported)
    assert import_path(imported, tmp_path / "csv", user="dm").changes == []


def test_deidentified_export_has_no_identifying_data(imported: Engine, tmp_path: Path) -> None:
    text = _export_json(imported, deidentify=True)
    assert "Maria" not in text and "H123" not in text and "1970-05-04" not in text
    export_to(imported, tmp_path / "csv", fmt="csv", deidentify=True)
    header = (tmp_path / "csv" / "patients.csv").read_text().splitlines()[0]
    assert "full_name" not in header and "mrn" not in header
    report = import_path(imported, _write(tmp_path / "deid.json", text), user="dm")
    assert report.changes == []  # identifying data is kept, not erased


@pytest.fixture
def far_time_zone() -> Iterator[None]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = "Pacific/Kiritimati"  # UTC+14
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


@pytest.mark.usefixtures("far_time_zone")
def test_dates_do_not_shift_with_the_time_zone(imported: Engine) -> None:
    rows = json.loads(_export_json(imported))
    assert [v["date"] for v in rows["visits"]][:2] == ["2009-02-02", "2009-03-02"]
    assert rows["patients"][0]["diagnosis_date"] == "2005"
    assert rows["patients"][1]["diagnosis_date"] == "2001-07"


def test_signed_visits_are_not_changed_by_import(imported: Engine, tmp_path: Path) -> None:
    with UnitOfWork(imported, user="dr") as uow:
        visit = uow.visits.get(1)
        uow.visits.sign(visit.id, expected_version=visit.version)
    path = _write(tmp_path / "visits.csv", "study,patient,date,notes\nLEN,P01,2009-02-02,late\n")
    with pytest.raises(ImportFileError) as err:
        import_path(imported, path, user="dm", reason="r")
    assert 'visits.csv, row 2, column date = "2009-02-02"' in str(err.value)
    assert "signed" in str(err.value)
