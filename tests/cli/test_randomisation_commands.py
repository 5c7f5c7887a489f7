"""``cletrial randomisation``: generate (reproducible file and SHA-256), import (e-signed by a
statistician, sealed, once), balance and audit (arms only --unblinded), as docs/randomisation.md
shows them."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cletrial.cli import app
from cletrial.store import UnitOfWork, create_engine_for
from cletrial.store.audit import audit_log
from cletrial.store.randomisation import randomise_patient

runner = CliRunner()
PASSWORD = "long enough password\n"
GENERATE = [
    "randomisation",
    "generate",
    "--strata",
    "subtype=DLE,SCLE,ACLE",
    "--strata",
    "site=01,02",
    "--arms",
    "lenalidomide:1,placebo:1",
    "--blocks",
    "2,4",
    "--per-stratum",
    "40",
    "--seed",
    "20261203",
]


def _run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'trial.sqlite'}"
    assert _run("db", "upgrade", "--database", url)[0] == 0
    (tmp_path / "studies.csv").write_text(
        "study,title,protocol,protocol_version\n"
        "LEN2,Lenalidomide against placebo,"
        "lenalidomide-cle-2012,1\n"
    )
    (tmp_path / "sites.csv").write_text("study,site,name\nLEN2,01,Site 01\nLEN2,02,Site 02\n")
    for name in ("studies.csv", "sites.csv"):
        assert _run("import", str(tmp_path / name), "--user", "dm", "--database", url)[0] == 0
    for user, role in (("sara", "statistician"), ("dr.ruiz", "investigator")):
        code, _, err = _run(
            "user",
            "add",
            user,
            "--role",
            role,
            "--password-stdin",
            "--user",
            "admin",
            "--database",
            url,
            input=PASSWORD * 2,
        )
        assert code == 0, err
    return url


def test_generate_writes_the_same_file_for_the_same_seed(tmp_path: Path) -> None:
    outs = [tmp_path / "one.json", tmp_path / "two.json"]
    for out in outs:
        code, text, err = _run(*GENERATE, "--environment", "test", "--out", str(out), "--json")
        assert code == 0, err
    summary = json.loads(text)
    assert outs[0].read_bytes() == outs[1].read_bytes()
    assert summary["sha256"] == hashlib.sha256(outs[0].read_bytes()).hexdigest()
    assert summary["slots"] >= 6 * 40 and summary["strata"] == 6
    code, _, err = _run(
        *GENERATE[:-2],
        "--seed",
        "1",
        "--blocks",
        "3",
        "--environment",
        "test",
        "--out",
        str(tmp_path / "bad.json"),
    )
    assert code == 2 and "block_sizes = 3: must be a multiple" in err


def test_import_balance_and_audit(database: str, tmp_path: Path) -> None:
    out = tmp_path / "list.json"
    assert _run(*GENERATE, "--environment", "production", "--out", str(out))[0] == 0
    imported = ["randomisation", "import", str(out), "--environment", "production", "--user"]
    code, _, err = _run(
        *imported, "dr.ruiz", "--password-stdin", "--database", database, input=PASSWORD
    )
    assert code == 2 and "only a statistician may import" in err
    code, text, err = _run(
        *imported, "sara", "--password-stdin", "--database", database, "--json", input=PASSWORD
    )
    assert code == 0, err
    assert json.loads(text)["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    code, _, err = _run(
        *imported, "sara", "--password-stdin", "--database", database, input=PASSWORD
    )
    assert code == 2 and "already imported" in err
    engine = create_engine_for(database)
    with UnitOfWork(engine, user="dr.ruiz") as uow:
        site = uow.sites.list()[0]
        patient = uow.patients.create(study_id=site.study_id, site_id=site.id, study_code="P1")
        uow.screenings.save(
            patient.id, screening_date=dt.date(2024, 1, 10), record={}, verdict="eligible"
        )
        randomise_patient(
            uow, patient.id, {"subtype": "SCLE"}, environment="production", reason="consented"
        )
    engine.dispose()
    code, text, _ = _run("randomisation", "balance", "--database", database, "--json")
    assert code == 0 and "lenalidomide" not in text and "placebo" not in text
    assert sum(line["randomised"] for line in json.loads(text)) == 1
    code, text, _ = _run(
        "randomisation",
        "balance",
        "--database",
        database,
        "--unblinded",
        "--user",
        "sara",
        "--password-stdin",
        "--json",
        input=PASSWORD,
    )
    assert code == 0
    assert sum(sum(x["by_arm"].values()) for x in json.loads(text)) == 1
    code, text, _ = _run("randomisation", "audit", "--database", database, "--json")
    (line,) = json.loads(text)
    assert code == 0 and "arm" not in line and line["patient"] == "P1"
    assert line["stratum"] == "subtype=SCLE|site=01" and line["reason"] == "consented"
    assert len(line["audit_rows"]) == 4
    code, text, _ = _run(
        "randomisation",
        "audit",
        "--database",
        database,
        "--unblinded",
        "--user",
        "sara",
        "--password-stdin",
        "--json",
        input=PASSWORD,
    )
    assert json.loads(text)[0]["arm"] in ("lenalidomide", "placebo")
    code, _, err = _run(
        "randomisation",
        "audit",
        "--database",
        database,
        "--unblinded",
        "--user",
        "dr.ruiz",
        "--password-stdin",
        input=PASSWORD,
    )
    assert code == 2 and "only a statistician" in err


def test_unblind_is_for_the_patients_investigator_e_signed(database: str, tmp_path: Path) -> None:
    out = tmp_path / "list.json"
    assert _run(*GENERATE, "--environment", "production", "--out", str(out))[0] == 0
    signed = ("--password-stdin", "--database", database)
    assert _run("randomisation", "import", str(out), "--environment", "production",
                "--user", "sara", *signed, input=PASSWORD)[0] == 0  # fmt: skip
    add = ("user", "add", "dr.site1", "--role", "investigator", "--site", "01", "--study",
           "LEN2", "--password-stdin", "--user", "admin", "--database", database)  # fmt: skip
    assert _run(*add, input=PASSWORD * 2)[0] == 0
    engine = create_engine_for(database)
    with UnitOfWork(engine, user="dr.site1") as uow:
        site = next(s for s in uow.sites.list() if s.code == "01")
        patient = uow.patients.create(study_id=site.study_id, site_id=site.id, study_code="P1")
        uow.screenings.save(
            patient.id, screening_date=dt.date(2024, 1, 10), record={}, verdict="eligible"
        )
        randomise_patient(
            uow, patient.id, {"subtype": "SCLE", "site": "01"}, environment="production",
            reason="consented",
        )  # fmt: skip
    engine.dispose()
    why = ("--reason", "suspected anaphylaxis: the treatment must be known")
    unblind = ("randomisation", "unblind", "P1", *why, "--user")
    code, _, err = _run(*unblind, "sara", *signed, input=PASSWORD)
    assert code == 2 and "only an investigator may unblind" in err  # the statistician may not
    code, _, err = _run(*unblind, "dr.ruiz", *signed, input=PASSWORD)  # no site of P1
    assert code == 2 and "works at no site of patient P1" in err
    code, _, err = _run(*unblind, "dr.site1", *signed, input="wrong\n")
    assert code == 2 and "password not recognised" in err
    short = ("randomisation", "unblind", "P1", "--reason", "urgent", "--user", "dr.site1")
    code, _, err = _run(*short, *signed, input=PASSWORD)
    assert code == 2 and "at least 10 characters" in err
    code, text, err = _run(*unblind, "dr.site1", *signed, "--json", input=PASSWORD)
    assert code == 0, err
    arm = json.loads(text)["arm"]
    assert arm in ("lenalidomide", "placebo") and json.loads(text)["unblinded_by"] == "dr.site1"
    engine = create_engine_for(database)
    with UnitOfWork(engine, read_only=True) as uow:
        assert uow.find("unblindings", patient_id=patient.id)["signed_name"]
        audited = (
            uow.connection.execute(
                select(audit_log.c.new_value).where(audit_log.c.table_name == "unblindings")
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert audited and not any(arm == v for v in audited)  # the arm is not copied
