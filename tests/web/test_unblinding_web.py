"""Emergency unblinding through the API and the pages, and the scan: after a patient is
randomised and unblinded, no GET route of the application nor the CLI export (JSON, CSV, ODM)
shows the arm to any role; only the unblinding answer does (which proves the scan finds an arm
when shown)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import PASSWORD, Study, make_patient, make_visit
from typer.testing import CliRunner

from cletrial.cli import app as cli_app
from cletrial.randomisation import AllocationList, generate_allocation_list
from cletrial.store import UnitOfWork
from cletrial.store.randomisation import import_allocation_list
from cletrial.web.routes import ROUTERS

H = dict[str, dict[str, str]]
#: Arm names that cannot appear in a response by accident.
ARMS = ("armqz7xk", "armk4p9w")
ROLES = ("investigator", "coordinator", "monitor", "data_manager", "statistician",
         "administrator")  # fmt: skip
REASON = "suspected anaphylaxis: the treatment must be known"


@pytest.fixture
def plan(study: Study) -> AllocationList:
    allocation = generate_allocation_list(
        {"subtype": ["DLE", "SCLE"]}, dict.fromkeys(ARMS, 1), block_sizes=[2, 4],
        per_stratum=4, seed=5, environment="production",
    )  # fmt: skip
    with UnitOfWork(study.engine, user="statistician") as uow:
        import_allocation_list(uow, study.study_id, allocation, environment="production")
    return allocation


def _randomised(client: TestClient, headers: H, study: Study) -> int:
    h = headers["investigator"]
    pid = make_patient(client, h, study.site_a)
    body = {"strata": {"subtype": "DLE"}, "reason": "eligible, consented"}
    assert client.post(f"/api/patients/{pid}/randomise", json=body, headers=h).status_code == 201
    return pid


def _shows_an_arm(text: str) -> bool:
    return any(arm in html.unescape(text) for arm in ARMS)


def test_an_investigator_unblinds_with_password_and_reason(
    client: TestClient, headers: H, study: Study, plan: AllocationList
) -> None:
    pid = _randomised(client, headers, study)
    h, url = headers["investigator"], f"/api/patients/{pid}/unblind"
    wrong = client.post(url, json={"reason": REASON, "password": "not mine"}, headers=h)
    assert wrong.status_code == 403 and not _shows_an_arm(wrong.text)
    short = client.post(url, json={"reason": "urgent", "password": PASSWORD}, headers=h)
    assert short.status_code == 422 and "reason" in short.text
    for role in ("coordinator", "monitor", "statistician", "other"):
        refused = client.post(url, json={"reason": REASON, "password": PASSWORD},
                              headers=headers[role])  # fmt: skip
        assert refused.status_code == 403, role
    assert client.get("/api/unblindings", headers=headers["monitor"]).json() == []
    done = client.post(url, json={"reason": REASON, "password": PASSWORD}, headers=h)
    assert done.status_code == 201, done.text
    first = next(s for s in plan.slots if s.stratum == "subtype=DLE")
    assert done.json()["arm"] == first.arm and _shows_an_arm(done.text)
    listed = client.get("/api/unblindings", headers=headers["monitor"])
    assert [(u["study_code"], u["unblinded_by"], u["reason"]) for u in listed.json()] == [
        ("A-001", "investigator", REASON)]  # fmt: skip
    assert not _shows_an_arm(listed.text)
    audit = client.get(f"/api/patients/{pid}/audit", headers=headers["monitor"])
    assert audit.status_code == 200
    assert client.get("/api/unblindings", headers=headers["other"]).json() == []


def test_the_page_shows_the_arm_once_and_the_listing_after(
    client: TestClient, headers: H, study: Study, plan: AllocationList
) -> None:
    pid = _randomised(client, headers, study)
    h = headers["investigator"]
    bad = client.post(f"/patients/{pid}/unblind", data={"reason": REASON, "password": "x"},
                      headers=h)  # fmt: skip
    assert bad.status_code == 422 and not _shows_an_arm(bad.text)
    assert "password not recognised" in html.unescape(bad.text)
    shown = client.post(f"/patients/{pid}/unblind", data={"reason": REASON,
                        "password": PASSWORD}, headers=h)  # fmt: skip
    assert shown.status_code == 200 and _shows_an_arm(shown.text)
    again = client.get(f"/patients/{pid}/trial", headers=h)
    assert REASON in html.unescape(again.text) and not _shows_an_arm(again.text)
    page = client.get("/unblindings", headers=headers["monitor"])
    assert page.status_code == 200 and REASON in html.unescape(page.text)
    assert not _shows_an_arm(page.text)


def _urls(pid: int, ids: dict[str, int]) -> list[str]:
    """Every GET route of the application, its path parameters filled with this patient's
    records (forms and worklists by each of their names)."""
    fillers = {"patient_id": [pid], "visit_id": [ids["visit"]], "query_id": [ids["query"]],
               "event_id": [ids["ae"]], "dose_id": [ids["dose"]],
               "record_id": [ids["ae"], ids["dose"]],
               "kind": ["coordinator", "investigator", "monitor"],
               "form": ["pregnancy-tests", "dispositions", "immunology", "nerve-conduction",
                        "medications"]}  # fmt: skip
    urls = ["/api/openapi.json"]
    for router in ROUTERS:
        for route in router.routes:
            if "GET" not in (getattr(route, "methods", None) or ()):
                continue
            paths = [str(route.path)]  # type: ignore[attr-defined]
            for name in re.findall(r"\{(\w+)\}", paths[0]):
                paths = [p.replace("{" + name + "}", str(v)) for p in paths for v in fillers[name]]
            urls += paths
    return urls


def test_no_get_route_nor_export_shows_the_arm_to_any_role(
    client: TestClient, headers: H, study: Study, plan: AllocationList, tmp_path: Path
) -> None:
    pid = _randomised(client, headers, study)
    h = headers["investigator"]
    visit = make_visit(client, h, pid)
    ae = client.post(f"/api/patients/{pid}/adverse-events", headers=h, json={
        "term": "Rash maculo-papular", "start_date": "2024-01-20", "grade": 1,
        "causality": "possible", "serious": False}).json()  # fmt: skip
    dose = client.get(f"/api/patients/{pid}/doses", headers=h).json()[0]
    query = client.post("/api/queries", headers=headers["monitor"], json={
        "patient_id": pid, "subject": "Please check against the source"}).json()  # fmt: skip
    unblind = client.post(f"/api/patients/{pid}/unblind", headers=h,
                          json={"reason": REASON, "password": PASSWORD})  # fmt: skip
    assert unblind.status_code == 201 and _shows_an_arm(unblind.text)  # the scan can see one
    ids = {"visit": int(visit["id"]), "ae": int(ae["id"]), "dose": int(dose["id"]),
           "query": int(query["id"])}  # fmt: skip
    urls = _urls(pid, ids)
    assert len(urls) > 60
    answered = 0
    for role in ROLES:
        for url in urls:
            response = client.get(url, headers=headers[role])
            assert response.status_code < 500, (role, url, response.text[:300])
            assert not _shows_an_arm(response.text), (role, url)
            assert not any(_shows_an_arm(v) for v in response.headers.values()), (role, url)
            answered += response.status_code == 200
    assert answered > 3 * len(urls)  # most routes answered, not only refused
    exports = (("json", tmp_path / "all.json"), ("csv", tmp_path / "csv"),
               ("odm", tmp_path / "study.xml"))  # fmt: skip
    for fmt, out in exports:
        result = CliRunner().invoke(cli_app, ["export", "--database", study.url,
                                              "--format", fmt, "--out", str(out)])  # fmt: skip
        assert result.exit_code == 0, result.output
        files = [out] if out.is_file() else list(out.rglob("*"))
        assert files and not any(_shows_an_arm(f.read_text("utf-8")) for f in files if f.is_file())
