"""The submission package as a download from the web application: the same package as
``cletrial submission`` (manifest SHA-256s match the files), de-identified on request, refused
to roles without export and to users who lack a site of the study."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

from fastapi.testclient import TestClient
from tests.web.conftest import BASELINE, Study, make_patient

H = dict[str, dict[str, str]]
URL = "/api/exports/submission.zip"


def _patient(client: TestClient, headers: H, study: Study) -> None:
    h = headers["investigator"]
    pid = make_patient(client, h, study.site_a)
    assert client.post(f"/api/patients/{pid}/visits", json=BASELINE, headers=h).status_code == 201


def test_the_package_downloads_with_its_manifest(
    client: TestClient, headers: H, study: Study
) -> None:
    _patient(client, headers, study)
    # the statistician of site A: give them site B too (the package covers every site)
    from cletrial.store import UnitOfWork

    with UnitOfWork(study.engine, user="admin") as uow:
        user = uow.users.by_username("statistician")
        assert user is not None
        uow.users.add_site(user.id, study.site_b)
    answer = client.get(URL, headers=headers["statistician"])
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert 'filename="LEN-submission.zip"' in answer.headers["content-disposition"]
    assert answer.headers["x-database-state"] == "open"
    assert answer.headers["x-conformance-passed"] in ("true", "false")
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    names = set(archive.namelist())
    assert {"manifest.json", "conformance.json", "sdtm/dm.xpt", "sdtm/define.xml",
            "adam/adsl.xpt", "adam/define.xml"} <= names  # fmt: skip
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["about"]["study"] == "LEN" and manifest["about"]["deidentified"] is False
    for entry in manifest["files"]:
        assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
    dm = json.loads(archive.read("sdtm/dm.json"))
    assert dm["records"] == 1
    deidentified = client.get(URL + "?deidentify=true", headers=headers["statistician"])
    archive = zipfile.ZipFile(io.BytesIO(deidentified.content))
    assert json.loads(archive.read("manifest.json"))["about"]["deidentified"] is True
    assert b"A-001" not in archive.read("sdtm/dm.json")  # new subject codes


def test_refused_without_export_or_without_every_site(
    client: TestClient, headers: H, study: Study
) -> None:
    for role in ("investigator", "coordinator", "monitor"):
        assert client.get(URL, headers=headers[role]).status_code == 403, role
    lacking = client.get(URL, headers=headers["statistician"])  # site A only
    assert lacking.status_code == 403 and "no access to site(s) B" in lacking.text
    unknown = client.get(URL + "?study=NOPE", headers=headers["data_manager"])
    assert unknown.status_code == 422 and "NOPE" in unknown.text
