"""ODM 1.3.2 export and import: schema-valid, byte-identical round trip on both engines,
refusals that change nothing, no patient identifiers unless asked for."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from tests.store.conftest import IMPORT_DOCUMENT
from typer.testing import CliRunner

from cletrial.cli import app
from cletrial.errors import ImportFileError, InputError
from cletrial.store import UnitOfWork, create_engine_for, upgrade
from cletrial.store.import_export import import_path
from cletrial.store.odm import export_odm, export_odm_file, import_odm_file, validate_odm
from cletrial.store.tables_audit import AuditRow, OdmProvenance
from cletrial.web.demo import build_demo_study

TODAY = dt.date(2026, 12, 1)


def _export(engine: Engine, path: Path) -> str:
    export_odm_file(engine, path)
    return path.read_text(encoding="utf-8")


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        audit = conn.execute(select(func.count()).select_from(AuditRow)).scalar_one()
        kept = conn.execute(select(func.count()).select_from(OdmProvenance)).scalar_one()
    return audit, kept


#: Kinds the demo study has none of, for its first patient (texts with a newline and a tab).
EXTRA = {
    "format": "cletrial-import", "version": 1, "study": "LEN-CLE-DEMO",
    "events": [{"patient": "SYN-0001", "date": "2023-10-01", "type": "thrombosis",
                "note": "line one\n\tline two & <three>"}],
    "deviations": [{"patient": "SYN-0001", "date": "2023-09-01", "category": "medication",
                    "description": "baseline \"medication\" changed"}],
    "immunology": [{"patient": "SYN-0001", "date": "2023-08-22", "test": "ana",
                    "result": "positive"}],
    "nerve_conduction": [{"patient": "SYN-0001", "date": "2023-08-22", "result": "abnormal",
                          "note": "mild sensory neuropathy"}],
    "medications": [{"patient": "SYN-0001", "name": "hydroxychloroquine 200 mg/day",
                     "start": "2020-01-01", "baseline": True}],
}  # fmt: skip


@pytest.fixture
def demo_file(db_engine: Engine, tmp_path: Path) -> Path:
    build_demo_study(db_engine, today=TODAY)
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps(EXTRA), encoding="utf-8")
    import_path(db_engine, extra, user="dm")
    path = tmp_path / "one.xml"
    _export(db_engine, path)
    return path


def test_export_is_valid_odm_with_every_kind_of_record(demo_file: Path) -> None:
    root = validate_odm(demo_file)
    text = demo_file.read_text(encoding="utf-8")
    forms = set(re.findall(r'<FormData FormOID="([A-Z_.]+)"', text))
    assert forms == {"F.PATIENTS", "F.SCREENINGS", "F.VISITS", "F.CLASI", "F.SLEDAI", "F.LABS",
                     "F.DOSES", "F.ADVERSE_EVENTS", "F.PREGNANCY_TESTS", "F.EVENTS",
                     "F.DEVIATIONS", "F.DISPOSITIONS", "F.IMMUNOLOGY", "F.NERVE_CONDUCTION",
                     "F.MEDICATIONS"}  # fmt: skip
    assert root.get("CreationDateTime") == re.findall(r"<DateTimeStamp>(.*?)<", text)[-1]
    assert '<RangeCheck Comparator="LE" SoftHard="Hard">' in text
    assert "<SourceID>1</SourceID>" in text and "password" not in text.lower()
    assert text.count("<SignatureRef ") == text.count("<Signature>") > 100


def test_two_exports_of_one_database_are_byte_identical(demo_file: Path, db_engine: Engine,
                                                        tmp_path: Path) -> None:  # fmt: skip
    assert _export(db_engine, tmp_path / "again.xml") == demo_file.read_text(encoding="utf-8")


def _signed(engine: Engine) -> list[tuple[object, ...]]:
    query = text("SELECT visit_date, signed_by, signed_at, signed_name, sign_meaning FROM visits "
                 "WHERE status = 'signed' ORDER BY visit_date, signed_at")  # fmt: skip
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(query)]


def test_export_import_export_is_byte_identical(
    demo_file: Path, db_engine: Engine, fresh_engine: Engine, tmp_path: Path
) -> None:
    created = import_odm_file(fresh_engine, demo_file, user="importer")
    assert created > 1000
    second = _export(fresh_engine, tmp_path / "two.xml")
    assert second == demo_file.read_text(encoding="utf-8")
    audit, kept = _counts(fresh_engine)
    assert audit > created and kept > 0  # the import's own rows, and the source's trail kept
    assert _signed(fresh_engine) == _signed(db_engine) and len(_signed(db_engine)) > 100


def test_second_generation_round_trip_is_identical(demo_file: Path, tmp_path: Path) -> None:
    engines = []
    for name in ("b", "c"):
        engine = create_engine_for(f"sqlite:///{tmp_path / name}.sqlite")
        upgrade(engine)
        engines.append(engine)
    import_odm_file(engines[0], demo_file, user="importer")
    middle = _export(engines[0], tmp_path / "b.xml")
    import_odm_file(engines[1], tmp_path / "b.xml", user="importer")
    assert _export(engines[1], tmp_path / "c.xml") == middle == demo_file.read_text("utf-8")
    for engine in engines:
        engine.dispose()


def test_later_changes_after_an_import_are_exported_after_the_source_trail(
    demo_file: Path, fresh_engine: Engine, tmp_path: Path
) -> None:
    import_odm_file(fresh_engine, demo_file, user="importer")
    with UnitOfWork(fresh_engine, user="dm") as uow:
        site = uow.sites.list()[0]
        uow.update("sites", site.id, {"name": "Renamed site"}, expected_version=site.version,
                   reason="site renamed")  # fmt: skip
    text = _export(fresh_engine, tmp_path / "later.xml")
    assert 'Name="Renamed site"' in text
    last = text.rindex("<AuditRecord ")
    assert 'ID="AR.L' in text[last:] and "<ReasonForChange>site renamed<" in text[last:]


def _tampered(source: Path, tmp_path: Path, old: str, new: str) -> Path:
    """The file with the first ``old`` of its ClinicalData (or, failing that, of the whole
    file) replaced by ``new``."""
    text = source.read_text(encoding="utf-8")
    start = text.index("<ClinicalData")
    at = text.find(old, start) if old in text[start:] else text.index(old)
    path = tmp_path / "tampered.xml"
    path.write_text(text[:at] + new + text[at + len(old) :], encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('ItemOID="IT.LABS.VALUE"', 'ItemOID="IT.LABS.VALUX"', "IT.LABS.VALUX"),
        ('<ItemRef ItemOID="IT.LABS.UNIT"', '<ItemRef ItemOID="IT.LABS.UNITS"', "IT.LABS.UNITS"),
        (
            '<ItemGroupData ItemGroupOID="IG.DOSES"',
            '<ItemGroupData ItemGroupOID="IG.NOPE"',
            "IG.NOPE",
        ),
        (
            'ItemOID="IT.ADVERSE_EVENTS.GRADE" Value="',
            'ItemOID="IT.ADVERSE_EVENTS.GRADE" Value="9',
            "grade",
        ),
        ('ItemOID="IT.VISITS.DATE" Value="', 'ItemOID="IT.VISITS.DATE" Value="x', "date"),
        ("<GlobalVariables>", "<GlobalVariables><Bogus/>", "not valid ODM 1.3.2"),
        ("</ClinicalData>", "", "not well-formed XML"),
    ],
    ids=[
        "unknown-item",
        "unknown-design-item",
        "unknown-group",
        "range",
        "tampered-date",
        "schema",
        "malformed",
    ],
)
def test_a_bad_file_changes_nothing(demo_file: Path, fresh_engine: Engine, tmp_path: Path,
                                    old: str, new: str, message: str) -> None:  # fmt: skip
    before = _counts(fresh_engine)
    with pytest.raises(ImportFileError, match=re.escape(message)):
        import_odm_file(fresh_engine, _tampered(demo_file, tmp_path, old, new), user="imp")
    assert _counts(fresh_engine) == before
    with UnitOfWork(fresh_engine, read_only=True) as uow:
        assert uow.studies.list() == []


def test_errors_name_the_element_path_the_oid_and_the_value(demo_file: Path, fresh_engine: Engine,
                                                            tmp_path: Path) -> None:  # fmt: skip
    old = 'ItemOID="IT.VISITS.DATE" Value="'
    path = _tampered(demo_file, tmp_path, old, old + "x")
    with pytest.raises(ImportFileError) as caught:
        import_odm_file(fresh_engine, path, user="imp")
    message = str(caught.value)
    assert (
        "SubjectData[@SubjectKey=" in message and "ItemData[@ItemOID='IT.VISITS.DATE']" in message
    )
    assert "x20" in message and "must be a date" in message


def test_a_non_empty_database_is_refused_and_unchanged(demo_file: Path, db_engine: Engine) -> None:
    before = _counts(db_engine)
    with pytest.raises(InputError, match="empty database"):
        import_odm_file(db_engine, demo_file, user="imp")
    assert _counts(db_engine) == before


def test_no_identifier_in_the_export_unless_asked(sqlite_engine: Engine, tmp_path: Path) -> None:
    source = tmp_path / "import.json"
    source.write_text(json.dumps(IMPORT_DOCUMENT), encoding="utf-8")
    import_path(sqlite_engine, source, user="dm")
    text = _export(sqlite_engine, tmp_path / "plain.xml")
    for identifier in ("Maria Example", "1970-05-04", "H123", "FULL_NAME", "MRN"):
        assert identifier not in text
    with UnitOfWork(sqlite_engine, read_only=True) as uow:
        export_odm(uow, "LEN", tmp_path / "named.xml", include_identities=True)
    named = (tmp_path / "named.xml").read_text(encoding="utf-8")
    assert "Maria Example" in named and "H123" in named


def test_cli_export_odm_and_import_xml(demo_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    target = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert runner.invoke(app, ["db", "upgrade", "--database", target]).exit_code == 0
    result = runner.invoke(app, ["import", str(demo_file), "--database", target, "--user", "dm"])
    assert result.exit_code == 0, result.output
    assert re.search(r"ODM .*: created \d+ record\(s\)", result.stdout)
    out = tmp_path / "cli.xml"
    result = runner.invoke(app, ["export", "--format", "odm", "--out", str(out),
                                 "--database", target])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == demo_file.read_text(encoding="utf-8")
    result = runner.invoke(app, ["import", str(demo_file), "--database", target, "--user", "dm"])
    assert result.exit_code == 2 and "empty database" in result.output
