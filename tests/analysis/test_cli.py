"""``cletrial reproduce`` and ``cletrial report``, run as a user would."""

from __future__ import annotations

import json
from pathlib import Path

from tests.analysis.cohort_histories import cohort
from typer.testing import CliRunner

from cletrial.cli import app
from cletrial.instruments import fill_absent_clasi_items

runner = CliRunner()


def test_reproduce_json() -> None:
    result = runner.invoke(app, ["reproduce", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["counts"]["inconsistent"] >= 10
    statuses = {c["id"]: c["status"] for c in data["claims"]}
    assert statuses["results_lowest_relapse_dose"] == "inconsistent"


def test_reproduce_readable() -> None:
    result = runner.invoke(app, ["reproduce"])
    assert result.exit_code == 0
    assert "[inconsistent] results_time_to_cr_lupus_profundus" in result.stdout
    assert "published:  4 to 32 weeks, median time of 13 weeks" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith(f"{len(_claims())} claims:")


def _claims() -> list[object]:
    return json.loads(runner.invoke(app, ["reproduce", "--json"]).stdout)["claims"]


def test_report_reference(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "--study", "reference", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    numbers = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert "Audit of the published claims" in html and numbers["synthetic"] is False
    assert "wrote" in result.stdout and "SYNTHETIC" not in result.stdout


def test_report_from_json_lines_is_labelled_synthetic(tmp_path: Path) -> None:
    path = tmp_path / "cohort.jsonl"
    path.write_text("\n".join(json.dumps(h) for h in cohort()) + "\n\n", encoding="utf-8")
    result = runner.invoke(
        app, ["report", "--study", str(path), "--out", str(tmp_path / "o"), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["synthetic"] is True
    assert "SYNTHETIC DATA" in (tmp_path / "o" / "index.html").read_text(encoding="utf-8")


def test_bad_inputs_exit_2_without_traceback(tmp_path: Path) -> None:
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text('{"patient_id": "A"}\n{not json\n', encoding="utf-8")
    bad_history = tmp_path / "history.jsonl"
    bad_history.write_text(
        json.dumps(dict(cohort()[0], first_dose_date="2010-02-30")) + "\n", encoding="utf-8"
    )
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    cases = [
        (str(tmp_path / "missing.jsonl"), "cannot read"),
        (str(bad_json), "line 2: not valid JSON"),
        (str(bad_history), 'line 1: first_dose_date = "2010-02-30"'),
        (str(empty), "no patient history found"),
    ]
    for study, message in cases:
        result = runner.invoke(app, ["report", "--study", study, "--out", str(tmp_path / "x")])
        assert result.exit_code == 2, (study, result.output)
        assert message in result.stderr, (study, result.stderr)
        assert "Traceback" not in result.output


def test_help_texts() -> None:
    for command in ("reproduce", "report"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0
    assert "JSON Lines" in runner.invoke(app, ["report", "--help"]).stdout


def _study_database(path: Path, studies: int = 1) -> str:
    """A SQLite study database with two patients (one CR, one not yet assessed)."""
    import datetime as dt

    from cletrial.store import UnitOfWork, create_engine_for, upgrade

    url = f"sqlite:///{path}"
    engine = create_engine_for(url)
    upgrade(engine)
    with UnitOfWork(engine, user="tester") as uow:
        for number in range(studies):
            study = uow.studies.create(
                code=f"LEN{number}",
                title="Lenalidomide in CLE",
                protocol_id="lenalidomide-cle-2012",
                protocol_version="1",
            )
            site = uow.sites.create(study_id=study.id, code="A", name="Site A")
            start = dt.date(2010, 1, 4)
            for code, follow_up in (("P01", fill_absent_clasi_items({})), ("P02", None)):
                patient = uow.patients.create(
                    study_id=study.id,
                    site_id=site.id,
                    study_code=code,
                    sex="F",
                    first_dose_date=start,
                )
                uow.screenings.save(
                    patient.id,
                    screening_date=start - dt.timedelta(7),
                    record={},
                    verdict="eligible",
                )  # the enrolment gate
                uow.visits.create(
                    patient_id=patient.id,
                    visit_date=start,
                    kind="baseline",
                    clasi=fill_absent_clasi_items(
                        {"regions": {"arms": {"erythema": 2, "scale": 1}}}
                    ),
                )
                uow.doses.add(patient_id=patient.id, start_date=start, regimen="5_daily")
                if follow_up is not None:
                    uow.visits.create(
                        patient_id=patient.id, visit_date=start + dt.timedelta(28), clasi=follow_up
                    )
    engine.dispose()
    return url


def test_report_from_a_study_database(tmp_path: Path) -> None:
    url = _study_database(tmp_path / "study.sqlite")
    result = runner.invoke(app, ["report", "--study", url, "--out", str(tmp_path / "db"), "--json"])
    assert result.exit_code == 0, result.output
    numbers = json.loads(result.stdout)
    assert numbers["synthetic"] is False and "study LEN0" in numbers["source"]
    rows = dict(numbers["tables"][1]["rows"])
    assert rows["Complete response, intention to treat (all treated patients)"].startswith("1/2")


def test_database_with_several_studies_needs_a_code(tmp_path: Path) -> None:
    url = _study_database(tmp_path / "two.sqlite", studies=2)
    out = str(tmp_path / "x")
    result = runner.invoke(app, ["report", "--study", url, "--out", out])
    assert result.exit_code == 2 and "choose one with --study-code" in result.stderr
    result = runner.invoke(app, ["report", "--study", url, "--study-code", "NOPE", "--out", out])
    assert result.exit_code == 2 and "no such study" in result.stderr
    result = runner.invoke(app, ["report", "--study", url, "--study-code", "LEN1", "--out", out])
    assert result.exit_code == 0, result.output


def test_database_errors_do_not_show_the_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"  # no tables: not migrated
    result = runner.invoke(app, ["report", "--study", url, "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "cannot read the study database (sqlite://...)" in (
        result.stderr
    )
    assert str(tmp_path) not in result.stderr and "Traceback" not in result.output
