"""The REST API of one adverse event or dose: edit (``PATCH``), removal (``DELETE`` with the
version and the reason) and audit history (also once removed), role by role, with the pages'
object-level access (another site 403 and logged without identifiers, unknown ids 404), the
store's rules (reason required, stale version 409 naming what changed, a regimen off the study
protocol's dose ladder 422 naming ``doses.regimen``), and the pages and the API agreeing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import PASSWORD, ROLES, Study, make_patient, make_visit

from cletrial.store import UnitOfWork


@pytest.fixture
def study(db_study: Study) -> Study:
    """Run on SQLite and on PostgreSQL."""
    return db_study


H = dict[str, dict[str, str]]

AE = {"term": "Insomnia", "start_date": "2024-02-01", "grade": 2, "causality": "probable"}
DOSE = {"regimen": "5_daily", "start_date": "2024-01-15"}
EDITORS = ("investigator", "coordinator")

#: Every new operation: method, path template ({ae} / {dose} is the record id), body. In this
#: order on one record, each removal quotes the version the edit before it wrote.
OPERATIONS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("PATCH", "/api/adverse-events/{ae}", {"version": 1, "reason": "x", "grade": 3}),
    ("DELETE", "/api/adverse-events/{ae}", {"version": 2, "reason": "x"}),
    ("GET", "/api/adverse-events/{ae}/audit", None),
    ("PATCH", "/api/doses/{dose}", {"version": 1, "reason": "x", "regimen": "off"}),
    ("DELETE", "/api/doses/{dose}", {"version": 2, "reason": "x"}),
    ("GET", "/api/doses/{dose}/audit", None),
]


def _records(client: TestClient, headers: H, study: Study, code: str = "A-001") -> tuple[int, ...]:
    """A patient of site A with one adverse event and one dose: (patient, ae, dose) ids."""
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a, code=code)
    ae = client.post(f"/api/patients/{pid}/adverse-events", json=AE, headers=h)
    dose = client.post(f"/api/patients/{pid}/doses", json=DOSE, headers=h)
    assert ae.status_code == dose.status_code == 201, (ae.text, dose.text)
    return pid, int(ae.json()["id"]), int(dose.json()["id"])


def _call(client: TestClient, method: str, url: str, body: Any, h: dict[str, str]) -> Any:
    return client.request(method, url, json=body, headers=h)


def _stored(study: Study, table: str, record_id: int) -> Any:
    with UnitOfWork(study.engine, read_only=True) as uow:
        return getattr(uow, table).get(record_id)


def _audit_rows(study: Study, table: str, record_id: int) -> list[tuple[Any, ...]]:
    with UnitOfWork(study.engine, read_only=True) as uow:
        return [(r.action, r.field, r.old_value, r.new_value, r.reason, r.actor)
                for r in uow.history(table, record_id)]  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_by_role(client: TestClient, headers: H, study: Study, role: str) -> None:
    pid, ae, dose = _records(client, headers, study)
    h = headers[role]
    may_edit = role in EDITORS
    for method, path, body in OPERATIONS:
        r = _call(client, method, path.format(ae=ae, dose=dose), body, h)
        if method == "GET":  # every role may read audit histories
            assert r.status_code == 200, (role, method, path, r.text)
            assert r.json()[0]["action"] == "INSERT"
        elif may_edit:
            expected = 200 if method == "PATCH" else 204
            assert r.status_code == expected, (role, method, path, r.text)
        else:
            assert r.status_code == 403, (role, method, path, r.text)
            assert r.json()["error"] == "forbidden" and "does not allow" in r.json()["message"]
    listed = client.get(f"/api/patients/{pid}/adverse-events", headers=h).json()
    doses = client.get(f"/api/patients/{pid}/doses", headers=h).json()
    if may_edit:  # edited, then removed
        assert listed == [] and doses == []
        assert [row[0] for row in _audit_rows(study, "doses", dose)] == ["INSERT", "UPDATE",
                                                                         "DELETE"]  # fmt: skip
    else:  # nothing changed
        assert [(a["grade"], a["version"]) for a in listed] == [(2, 1)]
        assert [(d["regimen"], d["version"]) for d in doses] == [("5_daily", 1)]


@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS)
def test_another_sites_record_is_refused_and_logged_without_identifiers(
    client: TestClient, headers: H, study: Study, caplog: pytest.LogCaptureFixture,
    method: str, path: str, body: dict[str, Any] | None,
) -> None:  # fmt: skip
    pid, ae, dose = _records(client, headers, study, code="SECRET-77")
    with caplog.at_level("WARNING", logger="cletrial.web.access"):
        r = _call(client, method, path.format(ae=ae, dose=dose), body, headers["other"])
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "forbidden" and "not at one of your sites" in r.text
    assert "refused cross-site access" in caplog.text
    assert path.replace("{ae}", "{event_id}").replace("{dose}", "{dose_id}") in caplog.text
    assert "SECRET-77" not in caplog.text and f"/{ae}" not in caplog.text
    assert f"/{dose}" not in caplog.text and f"/{pid}" not in caplog.text
    assert _stored(study, "adverse_events", ae).version == 1
    assert _stored(study, "doses", dose).version == 1


def test_a_removed_record_of_another_site_is_refused_too(
    client: TestClient, headers: H, study: Study
) -> None:
    _, ae, dose = _records(client, headers, study)
    for segment, record_id in (("adverse-events", ae), ("doses", dose)):
        url = f"/api/{segment}/{record_id}"
        r = _call(client, "DELETE", url, {"version": 1, "reason": "wrong patient"},
                  headers["coordinator"])  # fmt: skip
        assert r.status_code == 204, r.text
        assert client.get(f"{url}/audit", headers=headers["other"]).status_code == 403
        assert client.get(f"{url}/audit", headers=headers["monitor"]).status_code == 200


@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS)
def test_unknown_ids_are_not_found(
    client: TestClient, headers: H, method: str, path: str, body: dict[str, Any] | None
) -> None:
    r = _call(client, method, path.format(ae=987654, dose=987654), body, headers["coordinator"])
    assert r.status_code == 404, r.text
    assert r.json()["error"] == "not_found"


def test_missing_or_blank_reason_is_422_and_changes_nothing(
    client: TestClient, headers: H, study: Study
) -> None:
    _, ae, dose = _records(client, headers, study)
    h = headers["coordinator"]
    for method, url, body in (
        ("PATCH", f"/api/doses/{dose}", {"version": 1, "regimen": "off"}),
        ("PATCH", f"/api/adverse-events/{ae}", {"version": 1, "grade": 3}),
        ("DELETE", f"/api/doses/{dose}", {"version": 1}),
        ("DELETE", f"/api/adverse-events/{ae}", {"version": 1}),
    ):
        missing = _call(client, method, url, body, h)
        assert missing.status_code == 422, (method, url, missing.text)
        assert missing.json()["errors"][0]["field"] == "reason"
        empty = _call(client, method, url, {**body, "reason": ""}, h)
        assert empty.status_code == 422 and empty.json()["field"] == "reason"
        blank = _call(client, method, url, {**body, "reason": "   "}, h)
        assert blank.status_code == 422, (method, url, blank.text)
        assert blank.json()["error"] == "reason_required" and blank.json()["field"] == "reason"
        assert "a reason for change is required" in blank.json()["message"]
    for table, record_id in (("adverse_events", ae), ("doses", dose)):
        assert [row[0] for row in _audit_rows(study, table, record_id)] == ["INSERT"]


def test_a_delete_needs_its_version_and_no_other_fields(
    client: TestClient, headers: H, study: Study
) -> None:
    _, ae, _ = _records(client, headers, study)
    url = f"/api/adverse-events/{ae}"
    h = headers["coordinator"]
    r = _call(client, "DELETE", url, {"reason": "duplicate"}, h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "version"
    r = _call(client, "DELETE", url, {"version": 1, "reason": "duplicate", "grade": 3}, h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "grade"
    r = client.request("DELETE", url, headers=h)  # no body at all
    assert r.status_code == 422
    assert _stored(study, "adverse_events", ae).version == 1


def test_stale_version_is_409_naming_what_changed(
    client: TestClient, headers: H, study: Study
) -> None:
    _, ae, dose = _records(client, headers, study)
    h, other_editor = headers["coordinator"], headers["investigator"]
    first = client.patch(
        f"/api/doses/{dose}",
        headers=other_editor,
        json={"version": 1, "reason": "seen at the clinic", "regimen": "off"},
    )
    assert first.status_code == 200 and first.json()["version"] == 2  # fmt: skip
    stale = client.patch(f"/api/doses/{dose}", headers=h,
                         json={"version": 1, "reason": "typo", "note": "late edit"})  # fmt: skip
    assert stale.status_code == 409, stale.text
    body = stale.json()
    assert body["error"] == "conflict"
    assert (body["expected_version"], body["actual_version"]) == (1, 2)
    assert body["changed"] == {"regimen": '"off"'}
    client.patch(f"/api/adverse-events/{ae}", headers=other_editor,
                 json={"version": 1, "reason": "resolved", "end_date": "2024-02-20"})  # fmt: skip
    for url, changed in ((f"/api/adverse-events/{ae}", {"end_date": '"2024-02-20"'}),
                         (f"/api/doses/{dose}", {"regimen": '"off"'})):  # fmt: skip
        removal = _call(client, "DELETE", url, {"version": 1, "reason": "duplicate"}, h)
        assert removal.status_code == 409, removal.text
        assert removal.json()["actual_version"] == 2 and removal.json()["changed"] == changed
    assert _stored(study, "adverse_events", ae).end_date.isoformat() == "2024-02-20"
    assert _stored(study, "doses", dose).note is None


def test_dose_regimen_must_be_on_the_study_protocols_ladder(
    client: TestClient, headers: H, study: Study
) -> None:
    _, _, dose = _records(client, headers, study)
    h = headers["coordinator"]
    # 100_daily is a step of the (bundled) thalidomide protocol, not of lenalidomide's ladder
    # that the study runs; 20_daily is on no ladder at all.
    for regimen in ("100_daily", "20_daily"):
        r = client.patch(f"/api/doses/{dose}", headers=h,
                         json={"version": 1, "reason": "x", "regimen": regimen})  # fmt: skip
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["error"] == "invalid" and body["field"] == "doses.regimen"
        assert body["value"] == regimen and "lenalidomide-cle-2012" in body["message"]
        assert "5_daily" in body["errors"][0]["message"]
    ok = client.patch(
        f"/api/doses/{dose}",
        headers=h,
        json={"version": 1, "reason": "dose reduced", "regimen": "5_alternate"},
    )
    assert ok.status_code == 200, ok.text  # fmt: skip
    assert (ok.json()["regimen"], ok.json()["version"]) == ("5_alternate", 2)


def test_a_new_dose_off_the_study_protocols_ladder_is_422_and_nothing_is_saved(
    client: TestClient, headers: H, study: Study
) -> None:
    pid, _, _ = _records(client, headers, study)
    h = headers["coordinator"]
    before = client.get(f"/api/patients/{pid}/doses", headers=h).json()
    visits = client.get(f"/api/patients/{pid}/visits", headers=h).json()
    r = client.post(f"/api/patients/{pid}/doses", headers=h,
                    json={"regimen": "100_daily", "start_date": "2024-03-01"})  # fmt: skip
    assert r.status_code == 422, r.text
    assert (r.json()["field"], r.json()["value"]) == ("doses.regimen", "100_daily")
    visit = client.post(f"/api/patients/{pid}/visits", headers=h,
                        json={"visit_date": "2024-03-04", "kind": "scheduled",
                              "dose": {"regimen": "100_daily"}})  # fmt: skip
    assert visit.status_code == 422, visit.text
    assert visit.json()["field"] == "doses.regimen"
    assert client.get(f"/api/patients/{pid}/doses", headers=h).json() == before
    assert client.get(f"/api/patients/{pid}/visits", headers=h).json() == visits


def test_dose_patch_moving_the_first_dose_moves_the_first_dose_date(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["investigator"]
    pid = make_patient(client, h, study.site_a)
    make_visit(client, h, pid)  # baseline 2024-01-15 with 5 mg daily: the first dose
    (dose,) = client.get(f"/api/patients/{pid}/doses", headers=h).json()
    reason = "first tablet taken the day after the visit"
    r = client.patch(
        f"/api/doses/{dose['id']}",
        headers=h,
        json={"version": 1, "reason": reason, "start_date": "2024-01-16"},
    )
    assert r.status_code == 200, r.text  # fmt: skip
    assert (r.json()["start_date"], r.json()["regimen"]) == ("2024-01-16", "5_daily")
    assert client.get(f"/api/patients/{pid}", headers=h).json()["first_dose_date"] == "2024-01-16"
    audit = client.get(f"/api/patients/{pid}/audit", headers=h).json()
    assert any(row["field"] == "first_dose_date" and row["reason"] == reason for row in audit)


def _add_dose(client: TestClient, h: dict[str, str], pid: int, start: str) -> Any:
    body = {"regimen": "10_daily", "start_date": start}
    return client.post(f"/api/patients/{pid}/doses", headers=h, json=body).json()


def _first_dose_date(client: TestClient, h: dict[str, str], pid: int) -> Any:
    return client.get(f"/api/patients/{pid}", headers=h).json()["first_dose_date"]


def test_the_first_dose_date_follows_the_earliest_dose(
    client: TestClient, headers: H, study: Study
) -> None:
    """Moving the first dose after the next one, or removing it, keeps the patient's first
    dose date on the earliest dose left (the protocol engine refuses any other); removing the
    last dose clears it."""
    h = headers["investigator"]
    pid = make_patient(client, h, study.site_a)
    make_visit(client, h, pid)  # baseline 2024-01-15 with 5 mg daily: the first dose
    (first,) = client.get(f"/api/patients/{pid}/doses", headers=h).json()
    second = _add_dose(client, h, pid, "2024-02-12")
    moved = {"version": 1, "reason": "date typo", "start_date": "2024-03-11"}
    r = client.patch(f"/api/doses/{first['id']}", headers=h, json=moved)
    assert r.status_code == 200, r.text
    assert _first_dose_date(client, h, pid) == "2024-02-12"
    reason = "dose recorded for the wrong patient"
    r = _call(client, "DELETE", f"/api/doses/{second['id']}", {"version": 1, "reason": reason}, h)
    assert r.status_code == 204, r.text
    assert _first_dose_date(client, h, pid) == "2024-03-11"
    audit = client.get(f"/api/patients/{pid}/audit", headers=h).json()
    assert any(row["field"] == "first_dose_date" and row["reason"] == reason
               and row["new_value"] == '"2024-03-11"' for row in audit)  # fmt: skip
    r = _call(client, "DELETE", f"/api/doses/{first['id']}", {"version": 2, "reason": reason}, h)
    assert r.status_code == 204, r.text
    assert _first_dose_date(client, h, pid) is None
    assert client.get(f"/api/patients/{pid}/recommendation", headers=h).status_code == 200


def test_removing_a_later_dose_keeps_the_first_dose_date(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["investigator"]
    pid = make_patient(client, h, study.site_a)
    make_visit(client, h, pid)
    later = _add_dose(client, h, pid, "2024-02-12")
    r = _call(client, "DELETE", f"/api/doses/{later['id']}", {"version": 1, "reason": "typo"}, h)
    assert r.status_code == 204, r.text
    assert _first_dose_date(client, h, pid) == "2024-01-15"
    audit = client.get(f"/api/patients/{pid}/audit", headers=h).json()
    assert not any(row["field"] == "first_dose_date" and row["reason"] == "typo" for row in audit)


def test_a_start_date_taken_by_another_dose_is_422_naming_the_field(
    client: TestClient, headers: H, study: Study
) -> None:
    pid, _, dose = _records(client, headers, study)
    h = headers["coordinator"]
    later = client.post(f"/api/patients/{pid}/doses", headers=h,
                        json={"regimen": "10_daily", "start_date": "2024-02-12"})  # fmt: skip
    r = client.patch(
        f"/api/doses/{later.json()['id']}",
        headers=h,
        json={"version": 1, "reason": "date typo", "start_date": "2024-01-15"},
    )
    assert r.status_code == 422, r.text  # fmt: skip
    assert "start_date" in r.json()["field"] and r.json()["error"] == "invalid"
    assert _stored(study, "doses", dose).version == 1


def test_an_adverse_event_edit_ending_before_it_starts_is_422_naming_the_field(
    client: TestClient, headers: H, study: Study
) -> None:
    _, ae, _ = _records(client, headers, study)
    r = client.patch(
        f"/api/adverse-events/{ae}",
        headers=headers["coordinator"],
        json={"version": 1, "reason": "resolved", "end_date": "1999-01-01"},
    )
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "adverse_events.end_date"
    assert _stored(study, "adverse_events", ae).version == 1


def test_removal_then_audit_shows_the_delete_row_with_the_reason(
    client: TestClient, headers: H, study: Study
) -> None:
    pid, ae, dose = _records(client, headers, study)
    h = headers["coordinator"]
    for table, segment, record_id in (("adverse_events", "adverse-events", ae),
                                      ("doses", "doses", dose)):  # fmt: skip
        url = f"/api/{segment}/{record_id}"
        reason = f"{segment} recorded for the wrong patient"
        r = _call(client, "DELETE", url, {"version": 1, "reason": reason}, h)
        assert r.status_code == 204 and r.content == b"", r.text
        audit = client.get(f"{url}/audit", headers=headers["monitor"])
        assert audit.status_code == 200, audit.text
        rows = audit.json()
        assert [(row["action"], row["reason"]) for row in rows] == [
            ("INSERT", None),
            ("DELETE", reason),
        ]
        assert all(row["table_name"] == table and row["record_id"] == record_id for row in rows)
        assert rows[1]["actor"] == "coordinator" and '"patient_id":' in rows[1]["old_value"]
        # the API answers what the store holds, row for row
        assert [(row["action"], row["field"], row["old_value"], row["new_value"], row["reason"],
                 row["actor"]) for row in rows] == _audit_rows(study, table, record_id)  # fmt: skip
        # gone: no edit, no second removal; the page shows the same history
        assert _call(client, "PATCH", url, {"version": 2, "reason": "x"}, h).status_code == 404
        assert _call(client, "DELETE", url, {"version": 2, "reason": "x"}, h).status_code == 404
        page = client.get(f"/patients/{pid}/{segment}/{record_id}/audit", headers=h)
        assert page.status_code == 200 and reason in page.text and "(removed)" in page.text
    assert client.get(f"/api/patients/{pid}/adverse-events", headers=h).json() == []
    assert client.get(f"/api/patients/{pid}/doses", headers=h).json() == []


def test_a_page_edit_is_in_the_api_audit_and_an_api_edit_on_the_page(
    client: TestClient, headers: H, study: Study
) -> None:
    pid, ae, _ = _records(client, headers, study)
    h = headers["coordinator"]
    form = {"version": "1", "term": "Insomnia", "start_date": "2024-02-01", "end_date": "",
            "grade": "3", "causality": "probable", "serious_criterion": "", "note": "",
            "reason": "re-graded at the visit"}  # fmt: skip
    saved = client.post(f"/patients/{pid}/adverse-events/{ae}/edit", data=form, headers=h,
                        follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303, saved.text
    rows = client.get(f"/api/adverse-events/{ae}/audit", headers=h).json()
    assert [(r["field"], r["old_value"], r["new_value"], r["reason"]) for r in rows[1:]] == [
        ("grade", "2", "3", "re-graded at the visit")]  # fmt: skip
    r = client.patch(
        f"/api/adverse-events/{ae}",
        headers=h,
        json={"version": 2, "reason": "resolved", "end_date": "2024-02-20"},
    )
    assert r.status_code == 200 and r.json()["version"] == 3  # fmt: skip
    page = client.get(f"/patients/{pid}/adverse-events/{ae}/audit", headers=h)
    assert "re-graded at the visit" in page.text and "resolved" in page.text


def test_cookie_sessions_need_the_csrf_token_to_remove(
    client: TestClient, headers: H, study: Study
) -> None:
    _, ae, _ = _records(client, headers, study)
    page = client.get("/login")
    token = page.cookies.get("cletrial_login_csrf") or client.cookies.get("cletrial_login_csrf")
    r = client.post("/login", data={"username": "coordinator", "password": PASSWORD,
                                    "csrf_token": token, "next": "/"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    csrf = client.get("/").text.split('name="csrf-token" content="')[1].split('"')[0]
    body = {"version": 1, "reason": "duplicate"}
    refused = client.request("DELETE", f"/api/adverse-events/{ae}", json=body)
    assert refused.status_code == 403 and refused.json()["error"] == "csrf"
    assert _stored(study, "adverse_events", ae).version == 1
    ok = client.request("DELETE", f"/api/adverse-events/{ae}", json=body,
                        headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert ok.status_code == 204, ok.text


def test_openapi_documents_the_operations(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    for segment, param in (("adverse-events", "event_id"), ("doses", "dose_id")):
        item = paths[f"/api/{segment}/{{{param}}}"]
        assert set(item) == {"patch", "delete"}
        delete = item["delete"]
        assert delete["requestBody"]["required"] is True
        schema = delete["requestBody"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/RemoveRequest"}
        assert {"204", "403", "404", "409", "422"} <= set(delete["responses"])
        assert "409" in item["patch"]["responses"]
        audit = paths[f"/api/{segment}/{{{param}}}/audit"]["get"]
        ref = audit["responses"]["200"]["content"]["application/json"]["schema"]["items"]["$ref"]
        assert ref == "#/components/schemas/AuditEntryPublic"


def test_disposition_events_are_listed_like_the_patient_page_lists_them(
    client: TestClient, headers: H, study: Study, caplog: pytest.LogCaptureFixture
) -> None:
    pid, _, _ = _records(client, headers, study)
    h = headers["coordinator"]
    for event in ({"event_type": "completed", "event_date": "2024-06-01"},
                  {"event_type": "consent_withdrawn", "event_date": "2024-05-01"}):  # fmt: skip
        assert client.post(f"/api/patients/{pid}/events", json=event, headers=h).status_code == 201
    for role in ROLES:
        r = client.get(f"/api/patients/{pid}/events", headers=headers[role])
        assert r.status_code == 200, (role, r.text)
        assert [(e["event_date"], e["event_type"]) for e in r.json()] == [
            ("2024-05-01", "consent_withdrawn"), ("2024-06-01", "completed")]  # fmt: skip
    page = client.get(f"/patients/{pid}", headers=h).text
    assert "2024-06-01: Completed" in page  # (left out of the history document)
    with caplog.at_level("WARNING", logger="cletrial.web.access"):
        r = client.get(f"/api/patients/{pid}/events", headers=headers["other"])
    assert r.status_code == 403 and "refused cross-site access" in caplog.text
    assert f"/{pid}/" not in caplog.text


def test_an_adverse_event_outcome_is_recorded_and_checked_against_the_grade(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    url = f"/api/patients/{pid}/adverse-events"
    bad = client.post(url, headers=h, json={**AE, "outcome": "fatal"})
    assert bad.status_code == 422, bad.text
    assert (bad.json()["field"], bad.json()["value"]) == ("adverse_events.outcome", "fatal")
    assert "grade 5" in bad.json()["message"]
    unknown = client.post(url, headers=h, json={**AE, "outcome": "cured"})
    assert unknown.status_code == 422, unknown.text
    ae = client.post(url, headers=h, json={**AE, "outcome": "not_recovered"})
    assert ae.status_code == 201 and ae.json()["outcome"] == "not_recovered", ae.text
    listed = client.get(url, headers=h).json()
    assert [(e["term"], e["outcome"]) for e in listed] == [(AE["term"], "not_recovered")]
    r = client.patch(f"/api/adverse-events/{ae.json()['id']}", headers=h,
                     json={"version": 1, "reason": "resolved", "outcome": "recovered"})  # fmt: skip
    assert r.status_code == 422 and "end date" in r.json()["message"], r.text
    r = client.patch(
        f"/api/adverse-events/{ae.json()['id']}",
        headers=h,
        json={"version": 1, "reason": "resolved", "outcome": "recovered", "end_date": "2024-03-01"},
    )
    assert r.status_code == 200 and r.json()["outcome"] == "recovered", r.text
    page = client.get(f"/patients/{pid}", headers=h)
    assert "Recovered" in page.text
