"""Monitoring of the Skindex-29+3 and the CLA-IGA grade in the web application: a query on one
item, its correction (the domains scored again), source data verification of the form, and
what the visit page shows of them."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from tests.web.conftest import Study, make_patient

H = dict[str, dict[str, str]]
SKINDEX = {str(i): 3 for i in range(1, 34)}


def _visit(client: TestClient, headers: H, study: Study) -> tuple[int, dict[str, Any]]:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    body = {"visit_date": "2024-01-15", "kind": "baseline", "cla_iga": 3, "skindex": SKINDEX}
    saved = client.post(f"/api/patients/{pid}/visits", headers=h, json=body)
    assert saved.status_code == 201, saved.text
    return pid, saved.json()


def _raise(client: TestClient, headers: H, pid: int, table: str, rid: int, field: str) -> Any:
    body = {"patient_id": pid, "subject": "Please check against the source",
            "table_name": table, "record_id": rid, "field": field}  # fmt: skip
    r = client.post("/api/queries", json=body, headers=headers["monitor"])
    assert r.status_code == 201, r.text
    return r.json()


def test_a_queried_item_is_corrected_and_its_domain_scored_again(
    client: TestClient, headers: H, study: Study
) -> None:
    pid, visit = _visit(client, headers, study)
    skindex = visit["skindex"]
    query = _raise(client, headers, pid, "skindex_assessments", skindex["id"], "item_1")
    body = {"action": "answer", "text": "source says 5", "version": query["version"],
            "correction": {"item_1": 5}}  # fmt: skip
    r = client.post(f"/api/queries/{query['id']}/actions", json=body,
                    headers=headers["coordinator"])  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["messages"][-1]["correction"] == '{"item_1": [3, 5]}'
    after = client.get(f"/api/visits/{visit['id']}", headers=headers["monitor"]).json()
    assert after["skindex"]["form"]["1"] == 5
    assert after["skindex"]["scores"]["symptoms"] > skindex["scores"]["symptoms"]
    assert after["skindex"]["scores"]["emotions"] == skindex["scores"]["emotions"]


def test_a_correction_of_a_domain_score_or_out_of_range_is_refused_and_nothing_changes(
    client: TestClient, headers: H, study: Study
) -> None:
    pid, visit = _visit(client, headers, study)
    rid = visit["skindex"]["id"]
    for field, value, named in (("symptoms", 80, "symptoms"), ("item_2", 6, "skindex.2")):
        query = _raise(client, headers, pid, "skindex_assessments", rid, field)
        body = {"action": "answer", "text": "x", "version": query["version"],
                "correction": {field: value}}  # fmt: skip
        r = client.post(f"/api/queries/{query['id']}/actions", json=body,
                        headers=headers["coordinator"])  # fmt: skip
        assert r.status_code == 422, r.text
        assert named in r.text
        status = client.get(f"/api/queries/{query['id']}", headers=headers["monitor"]).json()
        assert status["status"] == "new"
    again = client.get(f"/api/visits/{visit['id']}", headers=headers["monitor"]).json()
    assert again["skindex"] == visit["skindex"]


def test_the_form_is_verified_and_the_page_flags_its_items(
    client: TestClient, headers: H, study: Study
) -> None:
    pid, visit = _visit(client, headers, study)
    rid = visit["skindex"]["id"]
    _raise(client, headers, pid, "skindex_assessments", rid, "item_12")
    _raise(client, headers, pid, "visits", visit["id"], "cla_iga")
    page = client.get(f"/visits/{visit['id']}", headers=headers["monitor"]).text
    assert f'data-flag="skindex_assessments-{rid}-item_12"' in page
    assert f'data-raise="skindex_assessments-{rid}-item_33"' in page
    assert f'data-flag="visits-{visit["id"]}-cla_iga"' in page
    assert f'id="sdv-skindex_assessments-{rid}"' in page and "Mark Skindex-29+3 verified" in page
    marked = client.post("/api/sdv", json={"table_name": "skindex_assessments", "record_id": rid},
                         headers=headers["monitor"])  # fmt: skip
    assert marked.status_code == 201, marked.text
    page = client.get(f"/visits/{visit['id']}", headers=headers["monitor"]).text
    assert f'data-verified="skindex_assessments-{rid}"' in page
    listing = client.get("/api/queries", params={"form": "skindex_assessments"},
                         headers=headers["monitor"]).json()  # fmt: skip
    assert [q["field"] for q in listing] == ["item_12"]
