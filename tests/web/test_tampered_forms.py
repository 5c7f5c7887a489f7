"""A page's hidden ids and versions, and the ids of its links, tampered with: each is refused
(HTTP 422, naming the field), never a 500, and nothing is saved. Only ASCII digits from 1 to
2^31-1 are read: ``str.isdigit`` and ``int`` would take "²" (and fail), Arabic-Indic digits,
"1_0" and spaces. On SQLite and PostgreSQL."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import PASSWORD, Study, make_patient, make_visit

from cletrial.instruments.sledai import SLEDAI_WEIGHTS

H = dict[str, dict[str, str]]

#: Values a tampered form or link may carry instead of an id or a version.
TAMPERED = ["abc", "1.5", "99999999999999999999999", "2147483648", "\u00b2", "\u0663",
            "\u06f1", "-1", "0", "", " 1", "1_0", "0x1", "1\x00"]  # fmt: skip


@pytest.fixture
def study(db_study: Study) -> Study:
    return db_study


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text[:2000]
    text = html.unescape(response.text)
    assert field in text and "must be a whole number from" in text, text[:3000]


def _visit(client: TestClient, headers: H, study: Study) -> tuple[int, int]:
    pid = make_patient(client, headers["coordinator"], study.site_a)
    return pid, int(str(make_visit(client, headers["coordinator"], pid)["id"]))


def _stored(client: TestClient, headers: H, vid: int) -> tuple[int, str]:
    visit = client.get(f"/api/visits/{vid}", headers=headers["monitor"]).json()
    return visit["version"], visit["status"]


def test_sign_and_unlock_refuse_a_tampered_version(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["investigator"]
    _pid, vid = _visit(client, headers, study)
    for bad in TAMPERED:
        r = client.post(f"/visits/{vid}/sign", data={"version": bad, "password": PASSWORD},
                        headers=h)  # fmt: skip
        _refused(r, "version")
    assert _stored(client, headers, vid) == (1, "open")
    signed = client.post(f"/api/visits/{vid}/sign", json={"version": 1, "password": PASSWORD},
                         headers=h)  # fmt: skip
    assert signed.status_code == 200, signed.text
    for bad in TAMPERED:
        r = client.post(f"/visits/{vid}/unlock", data={"version": bad, "reason": "typo"},
                        headers=h)  # fmt: skip
        _refused(r, "version")
    assert _stored(client, headers, vid) == (2, "signed")


#: The edit form of the conftest BASELINE visit with CLASI unticked (so it is removed).
def _edit_form() -> dict[str, str]:
    return {
        "version": "1", "clasi_version": "1", "sledai_version": "1",
        "lab.neutrophils.version": "1", "lab.neutrophils.value": "1190",
        "lab.neutrophils.unit": "/mm3", "visit_date": "2024-01-15", "kind": "baseline",
        "sledai_assessed": "on", **{f"sledai.{name}": "no" for name in SLEDAI_WEIGHTS},
        "sledai.rash": "yes", "reason": "CLASI was not assessed",
    }  # fmt: skip


@pytest.mark.parametrize("field", ["version", "clasi_version", "lab.neutrophils.version"])
def test_visit_edit_refuses_a_tampered_version(
    client: TestClient, headers: H, study: Study, field: str
) -> None:
    h = headers["coordinator"]
    _pid, vid = _visit(client, headers, study)
    for bad in TAMPERED if field == "version" else [t for t in TAMPERED if t]:  # blank: unsaved
        r = client.post(f"/visits/{vid}/edit", data={**_edit_form(), field: bad}, headers=h)
        assert r.status_code == 422, (bad, r.text[:2000])
        assert "must be a whole number from 1 to 2147483647" in html.unescape(r.text), bad
    assert _stored(client, headers, vid) == (1, "open")
    saved = client.post(f"/visits/{vid}/edit", data=_edit_form(), headers=h,
                        follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303, saved.text  # the same form untampered is saved


@pytest.mark.parametrize("segment", ["adverse-events", "doses"])
def test_event_edit_and_removal_refuse_a_tampered_version(
    client: TestClient, headers: H, study: Study, segment: str
) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    body: dict[str, Any] = (
        {"term": "Insomnia", "start_date": "2024-02-01", "grade": 2, "causality": "probable"}
        if segment == "adverse-events"
        else {"regimen": "5_daily", "start_date": "2024-02-01"}
    )
    created = client.post(f"/api/patients/{pid}/{segment}", json=body, headers=h)
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    form = {k: str(v) for k, v in body.items()} | {"reason": "re-graded"}
    for bad in TAMPERED:
        edit = client.post(f"/patients/{pid}/{segment}/{rid}/edit", headers=h,
                           data={**form, "version": bad})  # fmt: skip
        _refused(edit, "version")
        removal = client.post(f"/patients/{pid}/{segment}/{rid}/remove", headers=h,
                              data={"version": bad, "remove_reason": "entered twice"})  # fmt: skip
        _refused(removal, "version")
    (stored,) = client.get(f"/api/patients/{pid}/{segment}", headers=h).json()
    assert stored["version"] == 1


def test_admin_user_form_refuses_tampered_site_ids(client: TestClient, headers: H) -> None:
    h = headers["administrator"]
    for number, bad in enumerate(TAMPERED):
        r = client.post("/admin/users", headers=h, data={
            "username": f"new{number}", "password": "a long password here", "role": "monitor",
            "site_ids": bad})  # fmt: skip
        _refused(r, "site_ids")
    names = {u["username"] for u in client.get("/api/users", headers=h).json()}
    assert not any(name.startswith("new") for name in names)


def test_raising_a_query_refuses_a_tampered_record_or_patient(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["monitor"]
    pid, vid = _visit(client, headers, study)
    before = client.get("/api/queries", headers=h).json()  # the edit checks' own
    for bad in TAMPERED:
        q = quote(bad)
        _refused(client.get(f"/queries/new?table=visits&record={q}", headers=h), "record")
        _refused(client.get(f"/queries/new?patient_id={q}", headers=h), "patient_id")
        for data in ({"table": "visits", "record": bad, "subject": "check"},
                     {"patient_id": bad, "subject": "check"}):  # fmt: skip
            r = client.post("/queries/new", data=data, headers=h)
            _refused(r, "record" if "record" in data else "patient_id")
    assert client.get("/api/queries", headers=h).json() == before
    assert client.get(f"/queries/new?table=visits&record={vid}", headers=h).status_code == 200
    assert client.get(f"/queries/new?patient_id={pid}", headers=h).status_code == 200


def test_query_steps_sdv_and_the_query_list_refuse_tampered_numbers(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["monitor"]
    pid, vid = _visit(client, headers, study)
    raised = client.post("/api/queries", headers=h, json={
        "patient_id": pid, "subject": "Please check", "table_name": "visits",
        "record_id": vid})  # fmt: skip
    assert raised.status_code == 201, raised.text
    qid = raised.json()["id"]
    for bad in TAMPERED:
        step = client.post(f"/queries/{qid}", headers=h,
                           data={"action": "comment", "text": "see", "version": bad})  # fmt: skip
        _refused(step, "version")
        sdv = client.post("/sdv/verify", data={"table_name": "visits", "record_id": bad},
                          headers=h)  # fmt: skip
        _refused(sdv, "record_id")
        if bad.strip() not in ("", "1"):  # the filters are typed: blank and spaces are fine
            _refused(client.get(f"/queries?record={quote(bad)}", headers=h), "record")
            listing = client.get(f"/queries?age={quote(bad)}", headers=h)
            assert listing.status_code == (200 if bad == "0" else 422), (bad, listing.text[:500])
    query = client.get(f"/api/queries/{qid}", headers=h).json()
    assert query["version"] == 1 and len(query["messages"]) == 1
    assert client.get(f"/api/patients/{pid}/sdv", headers=h).json() == []
    assert client.get(f"/queries?record={vid}&age=0", headers=h).status_code == 200


@pytest.mark.parametrize("typed", ["\u0661\u0661\u0669\u0660", "1_190", "1e3", "nan", "\u00b9190"])
def test_a_lab_value_typed_in_another_script_or_notation_is_refused(
    client: TestClient, headers: H, study: Study, typed: str
) -> None:
    """``float`` reads "١١٩٠" (Arabic-Indic digits) as 1190 and "1_190" as 1190: a form must not."""
    h = headers["coordinator"]
    _pid, vid = _visit(client, headers, study)
    form = {**_edit_form(), "clasi_version": "", "lab.neutrophils.value": typed}
    r = client.post(f"/visits/{vid}/edit", data=form, headers=h)
    assert r.status_code == 422, (typed, r.text[:2000])
    assert "lab.neutrophils.value" in r.text or "Neutrophils value" in html.unescape(r.text)
    assert _stored(client, headers, vid) == (1, "open")
