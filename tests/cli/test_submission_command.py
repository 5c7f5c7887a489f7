"""`cletrial submission` on a stored demo study: files, manifest, conformance, de-identification."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cletrial.cli import app
from cletrial.standards.package import verify_package
from cletrial.standards.xpt import read_xpt
from cletrial.store import create_engine_for, upgrade
from cletrial.web.demo import build_demo_study

runner = CliRunner()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'demo.sqlite'}"
    engine = create_engine_for(url)
    upgrade(engine)
    build_demo_study(engine, patients=6)
    engine.dispose()
    return url


def _run(database: str, out: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["submission", "--database", database, "--out", str(out), *extra])
    return result.exit_code, result.output


def test_package_is_written_with_manifest_and_conformance(database: str, tmp_path: Path) -> None:
    code, output = _run(database, tmp_path / "pkg", "--synthetic")
    # The demo's sites have their country (DM.COUNTRY, required): every rule passes, status 0.
    assert code == 0, output
    assert "conformance passed: 0 finding(s)" in output
    assert verify_package(tmp_path / "pkg") == []
    manifest = json.loads((tmp_path / "pkg" / "manifest.json").read_text())
    assert manifest["about"]["deidentified"] is False
    files = {f["path"]: f for f in manifest["files"]}
    assert {"sdtm/define.xml", "conformance.json", "sdtm/dm.xpt", "sdtm/lb.json"} <= set(files)
    dm = read_xpt(tmp_path / "pkg" / "sdtm" / "dm.xpt")
    assert len(dm) == files["sdtm/dm.xpt"]["rows"] == 6
    assert dm["SUBJID"].tolist()[0].startswith("SYN-")
    report = json.loads((tmp_path / "pkg" / "conformance.json").read_text())
    assert report["findings"] == []  # the SDTM and ADaM rules all pass
    names = ("adsl", "adrs", "adtte", "adae", "adlb")
    adam = {"adam/define.xml"} | {f"adam/{n}.{x}" for n in names for x in ("xpt", "json")}
    assert adam <= set(files)
    adsl = read_xpt(tmp_path / "pkg" / "adam" / "adsl.xpt")
    assert sorted(adsl["USUBJID"]) == sorted(dm["USUBJID"])


def test_deidentified_package_holds_no_study_code(database: str, tmp_path: Path) -> None:
    code, output = _run(database, tmp_path / "pkg", "--deidentify")
    assert code == 0, output
    assert "(de-identified)" in output
    report = json.loads((tmp_path / "pkg" / "conformance.json").read_text())
    assert report["findings"] == []  # ADaM subjects are DM's
    dm = read_xpt(tmp_path / "pkg" / "sdtm" / "dm.xpt")
    adsl = read_xpt(tmp_path / "pkg" / "adam" / "adsl.xpt")
    assert sorted(adsl["USUBJID"]) == sorted(dm["USUBJID"])
    for path in (tmp_path / "pkg").rglob("*"):
        if path.is_file():
            assert b"SYN-" not in path.read_bytes(), path


def test_an_existing_package_is_refused_and_kept(database: str, tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "keep.txt").write_text("mine")
    code, output = _run(database, tmp_path / "pkg")
    assert code == 2 and "already exists" in output
    assert (tmp_path / "pkg" / "keep.txt").read_text() == "mine"


def test_json_output_and_unknown_study(database: str, tmp_path: Path) -> None:
    code, output = _run(database, tmp_path / "pkg", "--json")
    assert code == 0
    document = json.loads(output)
    assert document["conformance"]["passed"] is True
    assert document["manifest"]["files"]
    code, output = _run(database, tmp_path / "other", "--study", "NOPE")
    assert code == 2 and "NOPE" in output
    assert not (tmp_path / "other").exists()


def test_qs_and_rs_visits_are_numbered_as_in_sv(database: str, tmp_path: Path) -> None:
    code, output = _run(database, tmp_path / "pkg")
    assert code == 0, output
    qs = read_xpt(tmp_path / "pkg" / "sdtm" / "qs.xpt")
    sv = read_xpt(tmp_path / "pkg" / "sdtm" / "sv.xpt")
    columns = (sv["USUBJID"], sv["SVSTDTC"], sv["VISITNUM"], sv["VISIT"])
    planned = {(u, d): (n, v) for u, d, n, v in zip(*columns, strict=True)}
    assert len(qs) > 0
    for u, d, n, v in zip(qs["USUBJID"], qs["QSDTC"], qs["VISITNUM"], qs["VISIT"], strict=True):
        assert planned[(u, d)] == (n, v), (u, d)
    rs = read_xpt(tmp_path / "pkg" / "sdtm" / "rs.xpt")
    assert len(rs) > 0 and set(rs["RSORRES"]) <= {"CR", "PR", "NR", "NE"}
    for u, d, n, v in zip(rs["USUBJID"], rs["RSDTC"], rs["VISITNUM"], rs["VISIT"], strict=True):
        assert planned[(u, d)] == (n, v), (u, d)
    # every RS record is a visit with a CLASI-A in QS
    totals = qs[qs["QSTESTCD"] == "CLASIA"]
    clasi = set(zip(totals["USUBJID"], totals["QSDTC"], strict=True))
    assert set(zip(rs["USUBJID"], rs["RSDTC"], strict=True)) <= clasi


def test_the_package_holds_the_odm_export_which_imports_back(database: str, tmp_path: Path) -> None:
    from cletrial.store import UnitOfWork
    from cletrial.store.odm import import_odm_file, render_odm, validate_odm

    code, output = _run(database, tmp_path / "pkg", "--odm")
    assert code == 0 and "odm/study.xml: the ODM 1.3.2 export" in output, output
    manifest = json.loads((tmp_path / "pkg" / "manifest.json").read_text())
    assert "odm/study.xml" in {f["path"] for f in manifest["files"]}
    assert verify_package(tmp_path / "pkg") == []  # its SHA-256 is the manifest's
    written = tmp_path / "pkg" / "odm" / "study.xml"
    validate_odm(written)
    fresh = create_engine_for(f"sqlite:///{tmp_path / 'again.sqlite'}")
    upgrade(fresh)
    import_odm_file(fresh, written, user="data_manager")
    with UnitOfWork(fresh, read_only=True) as uow:
        code_of_study = uow.studies.list()[0].code
        again = render_odm(uow.connection, code_of_study)
    fresh.dispose()
    assert again == written.read_text("utf-8")  # export -> import -> export: identical


def test_no_odm_unless_asked_and_never_de_identified(database: str, tmp_path: Path) -> None:
    for options, out in (((), "a"), (("--no-odm",), "b"), (("--odm", "--deidentify"), "c")):
        code, output = _run(database, tmp_path / out, *options)
        assert code == 0, output
        assert not (tmp_path / out / "odm").exists()
    assert "a de-identified package leaves the ODM export out" in output
