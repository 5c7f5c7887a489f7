"""The statistician's path: the web export ``histories.jsonl`` and ``cletrial export-history`` of
the demo study (with a patient screened and never dosed, and finished patients with their
dispositions) go through ``cletrial derive`` and ``cletrial report`` without an abort."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cletrial.cli import app as cli
from cletrial.store import UnitOfWork, create_engine_for, upgrade
from cletrial.web import WebSettings, create_app
from cletrial.web.demo import build_demo_study

runner = CliRunner()


def _demo_with_a_never_dosed_patient(path: Path) -> dict[str, str]:
    engine = create_engine_for(f"sqlite:///{path}")
    upgrade(engine)
    passwords = {u: p for u, p, _ in build_demo_study(engine, today=dt.date(2025, 6, 1))}
    with UnitOfWork(engine, user="coordinator") as uow:
        study = uow.studies.list()[0]
        site = uow.sites.list()[0]
        patient = uow.patients.create(study_id=study.id, site_id=site.id, study_code="NEVER-1",
                                      sex="F")  # fmt: skip
        uow.screenings.save(patient.id, screening_date=dt.date(2025, 5, 1), record={},
                            verdict="ineligible")  # fmt: skip
    engine.dispose()
    return passwords


def test_web_export_and_export_history_go_through_derive_and_report(tmp_path: Path) -> None:
    db = tmp_path / "demo.sqlite"
    passwords = _demo_with_a_never_dosed_patient(db)
    url = f"sqlite:///{db}"
    with TestClient(create_app(WebSettings(database_url=url, synthetic_data=True))) as client:
        login = client.post(
            "/api/auth/login",
            json={"username": "statistician", "password": passwords["statistician"]},
        )
        token = login.json()["token"]
        web = client.get("/api/exports/histories.jsonl",
                         headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert web.status_code == 200, web.text
    exported = runner.invoke(cli, ["export-history", "--database", url])
    assert exported.exit_code == 0, exported.output
    for name, text in (("web.jsonl", web.text), ("cli.jsonl", exported.stdout)):
        lines = [json.loads(line) for line in text.splitlines() if line.strip()]
        assert len(lines) == 16 and any(h.get("end_of_study") for h in lines)
        (tmp_path / name).write_text(text)
        derived = runner.invoke(cli, ["derive", str(tmp_path / name), "--table", "adsl", "--csv"])
        assert derived.exit_code == 0, derived.output
        rows = {r["USUBJID"]: r for r in csv.DictReader(io.StringIO(derived.stdout))}
        never = rows["NEVER-1"]
        assert never["SAFFL"] == "N" and never["ITTFL"] == "N" and never["POPEXCL"]
        assert sum(r["SAFFL"] == "Y" for r in rows.values()) == 15
        report = runner.invoke(
            cli,
            [
                "report",
                "--study",
                str(tmp_path / name),
                "--out",
                str(tmp_path / name.replace(".", "-")),
            ],
        )
        assert report.exit_code == 0, report.output
        assert (tmp_path / name.replace(".", "-") / "index.html").stat().st_size > 10_000
