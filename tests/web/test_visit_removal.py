"""Removing a saved CLASI, SLEDAI-2K or lab result from a visit (it was not assessed): the
record is deleted with a reason and a version, the removal is in the visit's audit history,
and the form is then missing (never 0) in the visit, the history and the recommendation."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from tests.web.conftest import PASSWORD, Study, make_patient, make_visit

from cletrial.instruments import SLEDAI_WEIGHTS

H = dict[str, dict[str, str]]


@pytest.fixture
def study(db_study: Study) -> Study:
    """Run on SQLite and on PostgreSQL."""
    return db_study


def _visit(client: TestClient, headers: H, study: Study) -> tuple[int, dict[str, object]]:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    return pid, make_visit(client, h, pid)


def _patch(client: TestClient, h: dict[str, str], vid: object, **body: object) -> Response:
    return client.patch(f"/api/visits/{vid}", json=body, headers=h)


def test_remove_clasi_sledai_and_a_lab_with_a_reason(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["coordinator"]
    pid, visit = _visit(client, headers, study)
    vid, clasi, sledai = visit["id"], visit["clasi"], visit["sledai"]
    assert isinstance(clasi, dict) and isinstance(sledai, dict)
    r = client.patch(f"/api/visits/{vid}", headers=h, json={
        "version": 1, "reason": "CLASI and SLEDAI-2K were not assessed at this visit",
        "remove_clasi": True, "clasi_version": clasi["version"],
        "remove_sledai": True, "sledai_version": sledai["version"],
        "remove_labs": ["neutrophils"], "lab_versions": {"neutrophils": 1},
    })  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["clasi"] is None and body["sledai"] is None and body["labs"] == []
    assert body["version"] == 1  # the visit's own fields did not change
    history = client.get(f"/api/patients/{pid}/history", headers=h).json()
    assert "clasi" not in history["baseline"] and "sledai" not in history["baseline"]
    assert history["labs"] == []
    audit = client.get(f"/api/visits/{vid}/audit", headers=headers["monitor"]).json()
    deleted = {row["table_name"]: row for row in audit if row["action"] == "DELETE"}
    assert set(deleted) == {"clasi_assessments", "sledai_assessments", "labs"}
    for row in deleted.values():
        assert row["reason"] == "CLASI and SLEDAI-2K were not assessed at this visit"
        assert row["actor"] == "coordinator"
        assert json.loads(row["old_value"])["visit_id"] == vid
    created = [r for r in audit if r["table_name"] == "clasi_assessments"]
    assert [r["action"] for r in created] == ["INSERT", "DELETE"]  # the whole trail stays
    page = client.get(f"/visits/{vid}/audit", headers=headers["monitor"])
    assert page.status_code == 200 and page.text.count("deleted") >= 3
    assert "CLASI and SLEDAI-2K were not assessed" in page.text


def test_removal_needs_the_version_read_and_refuses_stale_or_mixed_edits(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["coordinator"]
    _pid, visit = _visit(client, headers, study)
    vid = visit["id"]
    no_version = _patch(client, h, vid, version=1, reason="x", remove_clasi=True)
    assert no_version.status_code == 422
    assert no_version.json()["field"] == "clasi_version"
    no_reason = _patch(client, h, vid, version=1, remove_clasi=True, clasi_version=1)
    assert no_reason.status_code == 422
    stale = _patch(client, h, vid, version=1, reason="x", remove_clasi=True, clasi_version=9)
    assert stale.status_code == 409
    both = _patch(client, h, vid, version=1, reason="x", remove_clasi=True, clasi_version=1,
                  clasi={"regions": {}})  # fmt: skip
    assert both.status_code == 422
    assert both.json()["field"] == "remove_clasi"
    lab = _patch(client, h, vid, version=1, reason="x", remove_labs=["neutrophils"])
    assert lab.status_code == 422
    stored = client.get(f"/api/visits/{vid}", headers=h).json()
    assert stored["clasi"] is not None and stored["labs"]  # nothing was removed
    monitor = _patch(client, headers["monitor"], vid, version=1, reason="x", remove_clasi=True,
                     clasi_version=1)  # fmt: skip
    assert monitor.status_code == 403
    other = _patch(client, headers["other"], vid, version=1, reason="x", remove_clasi=True,
                   clasi_version=1)  # fmt: skip
    assert other.status_code == 403


def test_removing_from_a_signed_visit_is_locked(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["investigator"]
    _pid, visit = _visit(client, headers, study)
    vid = visit["id"]
    signed = client.post(f"/api/visits/{vid}/sign", json={"version": 1, "password": PASSWORD},
                         headers=h)  # fmt: skip
    assert signed.status_code == 200
    locked = _patch(client, h, vid, version=2, reason="x", remove_sledai=True, sledai_version=1)
    assert locked.status_code == 423
    assert client.get(f"/api/visits/{vid}", headers=h).json()["sledai"] is not None


def test_unticking_assessed_on_the_edit_page_removes_the_saved_form(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["coordinator"]
    _pid, visit = _visit(client, headers, study)
    vid = visit["id"]
    form = client.get(f"/visits/{vid}/edit", headers=h)
    assert form.status_code == 200 and 'name="clasi_version" value="1"' in form.text
    data = {
        "version": "1", "clasi_version": "1", "sledai_version": "1",
        "lab.neutrophils.version": "1", "lab.neutrophils.value": "1190",
        "lab.neutrophils.unit": "/mm3", "visit_date": "2024-01-15", "kind": "baseline",
        "sledai_assessed": "on", **{f"sledai.{name}": "no" for name in SLEDAI_WEIGHTS},
        "sledai.rash": "yes",  # every descriptor answered; CLASI "assessed" unticked
        "reason": "CLASI was not assessed: entered by mistake",
    }  # fmt: skip
    saved = client.post(f"/visits/{vid}/edit", data=data, headers=h, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    stored = client.get(f"/api/visits/{vid}", headers=h).json()
    assert stored["clasi"] is None and stored["sledai"] is not None and stored["labs"]
    cleared = {**data, "version": "1", "lab.neutrophils.value": "", "clasi_version": "",
               "reason": "neutrophils belonged to another patient"}  # fmt: skip
    saved = client.post(f"/visits/{vid}/edit", data=cleared, headers=h, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    stored = client.get(f"/api/visits/{vid}", headers=h).json()
    assert stored["labs"] == [] and stored["sledai"] is not None
    audit = client.get(f"/visits/{vid}/audit", headers=h).text
    assert "CLASI was not assessed: entered by mistake" in audit
    assert "neutrophils belonged to another patient" in audit
