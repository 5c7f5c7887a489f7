"""Monitoring through the REST API, on SQLite and PostgreSQL: every status change of a query
for every role, site-scoped; source data verification and its clearing; the database freeze
and lock on every path; the edit checks run on save and in batch; everything in the audit
trail, which still verifies."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import BASELINE, PASSWORD, ROLES, SCREENING, Study, make_visit

from cletrial.store import UnitOfWork, verify_audit_chain

H = dict[str, dict[str, str]]
SITE = ("investigator", "coordinator")
REVIEW = ("monitor", "data_manager")


@pytest.fixture
def study(db_study: Study) -> Study:
    """Run on SQLite and on PostgreSQL."""
    return db_study


def make_patient(client: TestClient, h: dict[str, str], site_id: int, code: str = "A-001") -> int:
    """Screen a patient (reproductive potential recorded, so no edit check asks for it)."""
    body = {
        "site_id": site_id,
        "study_code": code,
        "screening_date": "2024-01-10",
        "sex": "F",
        "reproductive_potential": False,
        "screening": SCREENING,
    }
    response = client.post("/api/patients", json=body, headers=h)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _lab_visit(client: TestClient, headers: H, study: Study) -> tuple[int, dict[str, Any]]:
    pid = make_patient(client, headers["coordinator"], study.site_a)
    return pid, make_visit(client, headers["coordinator"], pid)


def _raise(client: TestClient, h: dict[str, str], pid: int, **target: Any) -> Any:
    body = {"patient_id": pid, "subject": "Please check against the source", **target}
    return client.post("/api/queries", json=body, headers=h)


def _edit_lab(client: TestClient, h: dict[str, str], visit: dict[str, Any], value: float,
              reason: str) -> Any:  # fmt: skip
    lab = visit["labs"][0]
    body = {
        "version": visit["version"],
        "reason": reason,
        "lab_versions": {lab["test"]: lab["version"]},
        "labs": [{"test": lab["test"], "value": value, "unit": lab["unit"]}],
    }
    return client.patch(f"/api/visits/{visit['id']}", json=body, headers=h)


def _act(client: TestClient, h: dict[str, str], query: dict[str, Any], action: str,
         text: str = "see note", **extra: Any) -> Any:  # fmt: skip
    body = {"action": action, "text": text, "version": query["version"], **extra}
    return client.post(f"/api/queries/{query['id']}/actions", json=body, headers=h)


@pytest.mark.parametrize("role", ROLES)
def test_only_monitors_and_data_managers_raise_queries(
    client: TestClient, headers: H, study: Study, role: str
) -> None:
    pid, _ = _lab_visit(client, headers, study)
    r = _raise(client, headers[role], pid)
    assert r.status_code == (201 if role in REVIEW else 403), r.text
    if r.status_code == 201:
        assert r.json()["status"] == "new" and r.json()["opened_by"] == role


@pytest.mark.parametrize("role", ROLES)
def test_each_step_of_a_query_is_allowed_to_its_roles_only(
    client: TestClient, headers: H, study: Study, role: str
) -> None:
    pid, visit = _lab_visit(client, headers, study)
    lab = visit["labs"][0]
    steps = [
        ("acknowledge", SITE, "new", "open"),
        ("answer", SITE, "open", "answered"),
        ("close", REVIEW, "answered", "closed"),
        ("reopen", REVIEW, "closed", "open"),
    ]
    query = _raise(client, headers["monitor"], pid, table_name="labs", record_id=lab["id"],
                   field="value").json()  # fmt: skip
    for action, allowed, before, after in steps:
        assert query["status"] == before
        r = _act(client, headers[role], query, action)
        if role in allowed:
            assert r.status_code == 200, (action, r.text)
            query = r.json()
            assert query["status"] == after and query["messages"][-1]["author"] == role
        else:
            assert r.status_code == 403, (action, r.text)
            actor = allowed[0]
            query = _act(client, headers[actor], query, action).json()
            assert query["status"] == after
    comment = _act(client, headers[role], query, "comment", "a note")
    may_comment = role in SITE + REVIEW
    assert comment.status_code == (200 if may_comment else 403), comment.text


def test_a_step_that_does_not_follow_the_status_is_refused_and_named(
    client: TestClient, headers: H, study: Study
) -> None:
    pid, _ = _lab_visit(client, headers, study)
    query = _raise(client, headers["monitor"], pid).json()
    r = _act(client, headers["monitor"], query, "reopen")
    assert r.status_code == 422 and r.json()["field"] == "queries.status", r.text
    assert "cannot be reopened" in r.json()["message"]
    r = _act(client, headers["coordinator"], query, "answer", text="   ")
    assert r.status_code == 422 and r.json()["field"] == "query_messages.text"
    stale = {**query, "version": query["version"] + 5}
    assert _act(client, headers["coordinator"], stale, "answer").status_code == 409


def test_queries_are_scoped_to_the_users_sites(
    client: TestClient, headers: H, study: Study
) -> None:
    pid, _ = _lab_visit(client, headers, study)
    query = _raise(client, headers["monitor"], pid).json()
    assert client.get(f"/api/queries/{query['id']}", headers=headers["other"]).status_code == 403
    assert client.get("/api/queries", headers=headers["other"]).json() == []
    assert _act(client, headers["other"], query, "answer").status_code == 403
    listed = client.get("/api/queries", headers=headers["coordinator"]).json()
    assert [q["id"] for q in listed] == [query["id"]] and listed[0]["study_code"] == "A-001"


def test_an_answer_corrects_the_value_with_the_query_in_the_reason(
    client: TestClient, headers: H, study: Study
) -> None:
    pid, visit = _lab_visit(client, headers, study)
    lab = visit["labs"][0]
    query = _raise(client, headers["monitor"], pid, table_name="labs", record_id=lab["id"],
                   field="value").json()  # fmt: skip
    r = _act(client, headers["coordinator"], query, "answer", "source says 1900",
             correction={"value": 1900})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["messages"][-1]["correction"] == '{"value": [1190.0, 1900]}'
    with UnitOfWork(study.engine, read_only=True) as uow:
        stored = uow.labs.get(lab["id"])
        assert stored.value == 1900 and stored.ctcae_grade == 1  # regraded as any edit
        reasons = {row.reason for row in uow.history("labs", lab["id"]) if row.field == "value"}
    assert reasons == {f"query #{query['id']}: source says 1900"}
    bad = _raise(client, headers["monitor"], pid, table_name="labs", record_id=lab["id"],
                 field="value").json()  # fmt: skip
    r = _act(client, headers["coordinator"], bad, "answer", "x", correction={"value": -4})
    assert r.status_code == 422 and r.json()["field"] == "labs.value", r.text
    assert (
        client.get(f"/api/queries/{bad['id']}", headers=headers["monitor"]).json()["status"]
        == "new"
    )  # fmt: skip  (nothing half-written)


def test_a_clasi_item_is_corrected_and_rescored(
    client: TestClient, headers: H, study: Study
) -> None:
    pid, visit = _lab_visit(client, headers, study)
    clasi = visit["clasi"]
    query = _raise(client, headers["monitor"], pid, table_name="clasi_assessments",
                   record_id=clasi["id"], field="arms_erythema").json()  # fmt: skip
    r = _act(client, headers["coordinator"], query, "answer", "was 1",
             correction={"arms_erythema": 1})  # fmt: skip
    assert r.status_code == 200, r.text
    with UnitOfWork(study.engine, read_only=True) as uow:
        assert uow.clasi.get(clasi["id"]).activity == clasi["activity"] - 1


def test_a_query_on_a_record_of_another_patient_or_a_bad_field_is_refused(
    client: TestClient, headers: H, study: Study
) -> None:
    pid, visit = _lab_visit(client, headers, study)
    other = make_patient(client, headers["coordinator"], study.site_a, code="A-002")
    lab = visit["labs"][0]
    r = _raise(client, headers["monitor"], other, table_name="labs", record_id=lab["id"])
    assert r.status_code == 422 and "another patient" in r.json()["message"]
    r = _raise(client, headers["monitor"], pid, table_name="labs", record_id=lab["id"],
               field="colour")  # fmt: skip
    assert r.status_code == 422 and r.json()["field"] == "queries.field"
    assert _raise(client, headers["monitor"], pid, subject="").status_code == 422


def test_listing_filters_counts_and_csv(client: TestClient, headers: H, study: Study) -> None:
    pid, visit = _lab_visit(client, headers, study)
    m = headers["monitor"]
    first = _raise(client, m, pid, table_name="labs", record_id=visit["labs"][0]["id"]).json()
    _raise(client, m, pid)
    _act(client, headers["coordinator"], first, "answer")
    by_status = client.get("/api/queries", params={"status": "answered"}, headers=m).json()
    assert [q["id"] for q in by_status] == [first["id"]]
    assert len(client.get("/api/queries", params={"form": "labs"}, headers=m).json()) == 1
    assert client.get("/api/queries", params={"site": "B"}, headers=m).json() == []
    assert client.get("/api/queries", params={"older_than_days": 3}, headers=m).json() == []
    assert client.get("/api/queries/counts", headers=m).json() == {
        "new": 1,
        "open": 0,
        "answered": 1,
        "closed": 0,
    }
    csv = client.get("/api/queries.csv", headers=m)
    assert csv.status_code == 200 and csv.text.splitlines()[0].startswith("id,site_code,")
    assert len(csv.text.splitlines()) == 3


def test_an_edit_clears_the_verification_of_the_changed_value(
    client: TestClient, headers: H, study: Study
) -> None:
    pid, visit = _lab_visit(client, headers, study)
    lab = visit["labs"][0]
    for role in ("coordinator", "data_manager", "statistician"):
        r = client.post("/api/sdv", json={"table_name": "labs", "record_id": lab["id"]},
                        headers=headers[role])  # fmt: skip
        assert r.status_code == 403, role
    form = client.post("/api/sdv", json={"table_name": "labs", "record_id": lab["id"]},
                       headers=headers["monitor"]).json()  # fmt: skip
    field = client.post(
        "/api/sdv",
        json={"table_name": "labs", "record_id": lab["id"], "field": "unit"},
        headers=headers["monitor"],
    ).json()
    assert form["field"] == "*" and field["field"] == "unit"
    progress = client.get("/api/sdv/progress", params={"by": "form"}, headers=headers["monitor"])
    assert progress.status_code == 200 and progress.json()[0]["group"] in (
        "clasi_assessments",
        "labs",
        "doses",
    )
    r = _edit_lab(client, headers["coordinator"], visit, 1300, "transcription")
    assert r.status_code == 200, r.text
    marks = client.get(f"/api/patients/{pid}/sdv", headers=headers["monitor"]).json()
    assert [m["field"] for m in marks] == ["unit"]  # the form's mark went, the unit's stays
    with UnitOfWork(study.engine, read_only=True) as uow:
        deleted = [r for r in uow.history("sdv_marks", form["id"]) if r.action == "DELETE"]
    assert deleted and deleted[0].reason == (
        "source data verification cleared: std_value, value changed (transcription)"
    )


def _lock(client: TestClient, headers: H, action: str, password: str = PASSWORD) -> Any:
    body = {
        "action": action,
        "reason": "database lock for the final analysis",
        "password": password,
    }
    return client.post("/api/lock", json=body, headers=headers["data_manager"])


def test_the_lock_is_for_data_managers_with_their_password(
    client: TestClient, headers: H, study: Study
) -> None:
    for role in ("investigator", "monitor", "administrator"):
        r = client.post("/api/lock", json={"action": "lock", "reason": "x", "password": PASSWORD},
                        headers=headers[role])  # fmt: skip
        assert r.status_code == 403, role
    assert _lock(client, headers, "lock", "wrong password").status_code == 403
    assert _lock(client, headers, "unlock").status_code == 422  # not locked
    r = _lock(client, headers, "freeze")
    assert r.status_code == 200 and r.json()["state"] == "frozen"
    assert r.json()["events"][0]["signed_name"] == "Dr Data_Manager"


def test_a_freeze_stops_clinical_changes_but_not_queries_and_a_lock_stops_everything(
    client: TestClient, headers: H, study: Study
) -> None:
    pid, visit = _lab_visit(client, headers, study)
    lab = visit["labs"][0]
    c, m = headers["coordinator"], headers["monitor"]
    assert _lock(client, headers, "freeze").status_code == 200
    later = {**copy.deepcopy(BASELINE), "visit_date": "2024-02-12", "kind": "scheduled"}
    del later["dose"]
    r = client.post(f"/api/patients/{pid}/visits", json=later, headers=c)
    assert r.status_code == 423 and "frozen" in r.json()["message"], r.text
    query = _raise(client, m, pid, table_name="labs", record_id=lab["id"])
    assert query.status_code == 201  # queries go on while frozen
    assert client.post("/api/sdv", json={"table_name": "labs", "record_id": lab["id"]},
                       headers=m).status_code == 201  # fmt: skip
    assert _lock(client, headers, "lock").status_code == 200
    assert _act(client, c, query.json(), "answer").status_code == 423
    r = _edit_lab(client, c, visit, 1500, "x")
    assert r.status_code == 423 and "locked" in r.json()["message"]
    assert _lock(client, headers, "unlock").status_code == 200
    assert client.post(f"/api/patients/{pid}/visits", json=later, headers=c).status_code == 201
    with UnitOfWork(study.engine, read_only=True) as uow:
        assert [e.action for e in uow.locks.events()] == ["freeze", "lock", "unlock"]
        verify_audit_chain(uow.connection)


def test_an_edit_check_raises_a_query_on_save_and_closes_it_when_corrected(
    client: TestClient, headers: H, study: Study
) -> None:
    pid = make_patient(client, headers["coordinator"], study.site_a)
    body = {**copy.deepcopy(BASELINE),
            "labs": [{"test": "platelets", "value": 800, "unit": "10^9/L"}]}  # fmt: skip
    visit = make_visit(client, headers["coordinator"], pid, body)
    queries = client.get("/api/queries", headers=headers["monitor"]).json()
    assert [(q["check_id"], q["origin"], q["field"]) for q in queries] == [
        ("LAB-PLATELETS-QUERY", "edit_check", "std_value")
    ]
    r = _edit_lab(client, headers["coordinator"], visit, 300, "typing error")
    assert r.status_code == 200, r.text
    closed = client.get(f"/api/queries/{queries[0]['id']}", headers=headers["monitor"]).json()
    assert closed["status"] == "closed"
    assert closed["messages"][-1]["author_role"] == "system"


def test_the_batch_run_is_for_data_managers_and_keeps_a_monitors_close(
    client: TestClient, headers: H, study: Study
) -> None:
    pid = make_patient(client, headers["coordinator"], study.site_a)
    body = {**copy.deepcopy(BASELINE),
            "labs": [{"test": "platelets", "value": 800, "unit": "10^9/L"}]}  # fmt: skip
    make_visit(client, headers["coordinator"], pid, body)
    query = client.get("/api/queries", headers=headers["monitor"]).json()[0]
    _act(client, headers["monitor"], query, "close", "confirmed with the laboratory report")
    assert client.post("/api/checks/run", headers=headers["monitor"]).status_code == 403
    r = client.post("/api/checks/run", headers=headers["data_manager"])
    assert r.status_code == 200, r.text
    assert r.json()["findings"] == 1 and r.json()["queries_raised"] == 0  # the close stands
    assert r.json()["evaluations"] > 0
