"""The CLA-IGA grade and the Skindex-29+3 of a visit through the API and the visit pages:
saved, shown, edited with a reason (audited), and every bad value refused naming its field."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import Study, make_patient

H = dict[str, dict[str, str]]
#: Every item "sometimes" (3), the lupus-specific items "all the time" (5).
SKINDEX = {**{str(i): 3 for i in range(1, 31)}, "31": 5, "32": 5, "33": 5}
VISIT = {"visit_date": "2024-01-15", "kind": "baseline", "cla_iga": 3, "skindex": SKINDEX}


def _post(client: TestClient, h: dict[str, str], pid: int, body: dict[str, Any]) -> Any:
    return client.post(f"/api/patients/{pid}/visits", json=body, headers=h)


def test_a_visit_keeps_its_grade_and_domain_scores(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    saved = _post(client, h, pid, VISIT)
    assert saved.status_code == 201, saved.text
    body = saved.json()
    assert body == client.get(f"/api/visits/{body['id']}", headers=h).json()
    assert body["cla_iga"] == 3 and body["skindex"]["form"] == SKINDEX
    assert body["skindex"]["scores"] == {"symptoms": 50.0, "emotions": 50.0,
                                         "functioning": 50.0, "lupus_specific": 100.0}  # fmt: skip
    assert client.get(f"/api/patients/{pid}/visits", headers=h).json() == [body]
    bare = _post(client, h, pid, {"visit_date": "2024-02-12"}).json()
    assert bare["cla_iga"] is None and bare["skindex"] is None


@pytest.mark.parametrize(
    ("change", "field", "value"),
    [
        ({"cla_iga": 5}, "cla_iga", 5),
        ({"cla_iga": -1}, "cla_iga", -1),
        ({"cla_iga": 2.5}, "cla_iga", 2.5),
        ({"cla_iga": "3"}, "cla_iga", "3"),
        ({"cla_iga": True}, "cla_iga", True),
        ({"skindex": {"34": 1}}, "skindex.34", 1),
        ({"skindex": {"3": 6}}, "skindex.3", 6),
        ({"skindex": {"3": 0}}, "skindex.3", 0),
        ({"skindex": {"3": "4"}}, "skindex.3", "4"),
        ({"skindex": {"3": None}}, "skindex", {"3": None}),
    ],
)
def test_a_bad_value_is_refused_naming_the_field_and_nothing_is_saved(
    client: TestClient, headers: H, study: Study, change: dict[str, Any], field: str, value: Any
) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    refused = _post(client, h, pid, {**VISIT, **change})
    assert refused.status_code == 422, refused.text
    error = refused.json()
    assert error["field"] == field and error["value"] == value, error
    assert client.get(f"/api/patients/{pid}/visits", headers=h).json() == []


def test_an_edit_is_audited_and_the_skindex_can_be_replaced_or_removed(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    visit = _post(client, h, pid, VISIT).json()
    url = f"/api/visits/{visit['id']}"
    edit = {"version": visit["version"], "reason": "re-graded by the investigator",
            "cla_iga": 1, "skindex": {**SKINDEX, "31": 1},
            "skindex_version": visit["skindex"]["version"]}  # fmt: skip
    changed = client.patch(url, json=edit, headers=h)
    assert changed.status_code == 200, changed.text
    assert changed.json()["cla_iga"] == 1
    assert changed.json()["skindex"]["scores"]["lupus_specific"] == pytest.approx(200 / 3)
    stale = client.patch(url, json={**edit, "cla_iga": 2}, headers=h)
    assert stale.status_code == 409
    bad = client.patch(url, headers=h, json={"version": changed.json()["version"],
                                             "reason": "x", "cla_iga": 9})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["field"] == "cla_iga"
    removed = client.patch(url, headers=h, json={
        "version": changed.json()["version"], "reason": "not assessed after all",
        "cla_iga": None, "remove_skindex": True,
        "skindex_version": changed.json()["skindex"]["version"]})  # fmt: skip
    assert removed.status_code == 200, removed.text
    assert removed.json()["cla_iga"] is None and removed.json()["skindex"] is None
    audit = client.get(f"{url}/audit", headers=headers["investigator"]).json()
    grades = [(e["old_value"], e["new_value"], e["reason"], e["actor"]) for e in audit
              if e["field"] == "cla_iga" and e["action"] == "UPDATE"]  # fmt: skip
    assert grades == [("3", "1", "re-graded by the investigator", "coordinator"),
                      ("1", "null", "not assessed after all", "coordinator")]  # fmt: skip
    item = [e for e in audit if e["field"] == "item_31" and e["action"] == "UPDATE"]
    assert [(e["old_value"], e["new_value"]) for e in item] == [("5", "1")]


def _page_form(**fields: str) -> dict[str, str]:
    return {"visit_date": "2024-01-15", "kind": "baseline", **fields}


def test_the_visit_page_saves_and_shows_the_grade_and_scores(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    form = client.get(f"/patients/{pid}/visits/new", headers=h).text
    assert 'name="cla_iga"' in form and 'name="skindex.33"' in form
    grade = re.search(r'<select id="f-cla_iga" name="cla_iga".*?</select>', form, re.S)
    assert grade is not None and '<option value="">not assessed</option>' in grade.group()
    assert "selected" not in grade.group()  # blank by default: not assessed
    answers = {f"skindex.{i}": "3" for i in (1, 7, 10, 16, 19, 24)}
    saved = client.post(f"/patients/{pid}/visits/new", headers=h, follow_redirects=False,
                        data=_page_form(cla_iga="2", **answers))  # fmt: skip
    assert saved.status_code == 303, saved.text
    visit = client.get(f"/api/patients/{pid}/visits", headers=h).json()[0]
    assert visit["cla_iga"] == 2 and visit["skindex"]["form"] == {k[8:]: 3 for k in answers}
    page = client.get(saved.headers["location"], headers=h).text
    assert "<strong>2</strong> (mild)" in page
    assert 'data-domain="symptoms">50.0<' in page
    assert page.count("missing (under 75% answered)") == 3
    edit = client.get(f"/visits/{visit['id']}/edit", headers=h).text
    assert '<option value="2" selected>' in edit and "skindex_version" in edit


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"cla_iga": "7"}, "cla_iga", "&#34;7&#34; is not allowed"),
        ({"cla_iga": "1.5"}, "cla_iga", "&#34;1.5&#34; is not allowed"),
        ({"skindex.3": "6"}, "skindex.3", "&#34;6&#34; is not allowed: choose 1 to 5"),
        ({"skindex.40": "2"}, "skindex.40", "unknown Skindex-29+3 item"),
    ],
)
def test_the_visit_page_refuses_a_bad_value_on_its_field(
    client: TestClient, headers: H, study: Study, fields: dict[str, str], field: str, message: str
) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    refused = client.post(f"/patients/{pid}/visits/new", headers=h, follow_redirects=False,
                          data=_page_form(**fields))  # fmt: skip
    assert refused.status_code == 422
    assert message in refused.text
    assert client.get(f"/api/patients/{pid}/visits", headers=h).json() == []


def test_the_live_panel_shows_the_grade_and_the_domain_scores(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    url = f"/patients/{pid}/visits/preview"
    live = client.post(
        url,
        headers=h,
        data=_page_form(
            **{"cla_iga": "1", "skindex.31": "5", "skindex.32": "5", "skindex.33": "5"}
        ),
    )
    assert live.status_code == 200
    assert 'id="cla-iga-live">1<' in live.text
    assert "Lupus-specific (photosensitivity and hair loss) 100.0" in live.text
    assert 'Symptoms <span class="muted">missing</span>' in live.text
    blank = client.post(url, headers=h, data=_page_form()).text
    assert 'id="cla-iga-live">—<' in blank and "skindex-live" not in blank
    refused = client.post(url, headers=h, data=_page_form(**{"cla_iga": "8"})).text
    assert 'id="cla-iga-live">—<' in refused and "is not allowed" in refused
