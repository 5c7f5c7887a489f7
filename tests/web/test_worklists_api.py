"""Worklists through the REST API, on SQLite and PostgreSQL: who may see which list, what is
on each (visits to sign, planned visits missing, queries to answer or to close, forms to
verify), in which order, scoped to the user's sites, cut at ``limit`` with the total in a
header."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import PASSWORD, SCREENING, Study, make_visit

H = dict[str, dict[str, str]]


@pytest.fixture
def study(db_study: Study) -> Study:
    """Run on SQLite and on PostgreSQL."""
    return db_study


def _patient(client: TestClient, h: dict[str, str], site_id: int, code: str = "A-001") -> int:
    body = {"site_id": site_id, "study_code": code, "screening_date": "2024-01-10", "sex": "F",
            "reproductive_potential": False, "screening": SCREENING}  # fmt: skip
    response = client.post("/api/patients", json=body, headers=h)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _worklist(client: TestClient, h: dict[str, str], kind: str, **params: Any) -> Any:
    response = client.get(f"/api/worklists/{kind}", headers=h, params=params)
    assert response.status_code == 200, response.text
    return response


def _raise(client: TestClient, h: dict[str, str], pid: int, subject: str) -> dict[str, Any]:
    response = client.post("/api/queries", json={"patient_id": pid, "subject": subject},
                           headers=h)  # fmt: skip
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.mark.parametrize(("role", "kinds"), [
    ("coordinator", {"coordinator"}), ("investigator", {"coordinator", "investigator"}),
    ("monitor", {"monitor"}), ("data_manager", {"monitor"}), ("statistician", set()),
    ("administrator", set()),
])  # fmt: skip
def test_each_role_sees_its_own_worklists_only(
    client: TestClient, headers: H, role: str, kinds: set[str]
) -> None:
    for kind in ("coordinator", "investigator", "monitor"):
        response = client.get(f"/api/worklists/{kind}", headers=headers[role])
        assert response.status_code == (200 if kind in kinds else 403), (kind, response.text)
        if kind not in kinds:
            assert f"has no {kind} worklist" in response.json()["message"]
    assert client.get("/api/worklists/janitor", headers=headers[role]).status_code == 422


def test_visits_await_signature_until_signed(client: TestClient, headers: H, study: Study) -> None:
    pid = _patient(client, headers["coordinator"], study.site_a)
    visit = make_visit(client, headers["coordinator"], pid)
    (item,) = _worklist(client, headers["investigator"], "investigator").json()
    assert (item["kind"], item["status"], item["link"]) == ("to_sign", "to sign",
                                                            f"/visits/{visit['id']}")  # fmt: skip
    assert (item["study_code"], item["site_code"], item["date"]) == ("A-001", "A", "2024-01-15")
    assert _worklist(client, headers["other"], "investigator").json() == []  # site B
    signed = client.post(f"/api/visits/{visit['id']}/sign", headers=headers["investigator"],
                         json={"version": visit["version"], "password": PASSWORD})  # fmt: skip
    assert signed.status_code == 200, signed.text
    assert _worklist(client, headers["investigator"], "investigator").json() == []


def test_planned_visits_missing_from_the_schedule_are_listed_for_the_site(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["coordinator"]
    pid = _patient(client, h, study.site_a)
    make_visit(client, h, pid)  # baseline, first dose 2024-01-15: week 4 is 2024-02-12 +- 7 days
    items = _worklist(client, h, "coordinator", limit=5000).json()
    missing = [i for i in items if i["kind"] == "missing_visit"]
    assert missing[0]["what"] == "week 4 visit: none recorded from 2024-02-05 to 2024-02-19"
    assert (missing[0]["date"], missing[0]["status"]) == ("2024-02-12", "missing")
    rank = {"overdue": 0, "missing": 1, "new": 2, "open": 2, "due": 3}
    assert [rank[i["status"]] for i in items] == sorted(rank[i["status"]] for i in items)
    make_visit(client, h, pid, {"visit_date": "2024-02-16", "kind": "scheduled"})
    after = [i["what"] for i in _worklist(client, h, "coordinator", limit=5000).json()
             if i["kind"] == "missing_visit"]  # fmt: skip
    assert after[0].startswith("week 8 visit") and len(after) == len(missing) - 1
    assert _worklist(client, headers["other"], "coordinator").json() == []


def test_the_site_sees_the_queries_to_answer_and_the_monitor_the_answered_first(
    client: TestClient, headers: H, study: Study
) -> None:
    pid = _patient(client, headers["coordinator"], study.site_a)
    first = _raise(client, headers["monitor"], pid, "Consent form version 2 missing")
    second = _raise(client, headers["monitor"], pid, "Date of diagnosis?")
    site = [i for i in _worklist(client, headers["coordinator"], "coordinator").json()
            if i["kind"] == "query"]  # fmt: skip
    assert [i["link"] for i in site] == [f"/queries/{first['id']}", f"/queries/{second['id']}"]
    answer = {"action": "answer", "text": "1998-03", "version": second["version"]}
    answered = client.post(f"/api/queries/{second['id']}/actions", json=answer,
                           headers=headers["coordinator"])  # fmt: skip
    assert answered.status_code == 200, answered.text
    site = [i["link"] for i in _worklist(client, headers["coordinator"], "coordinator").json()
            if i["kind"] == "query"]  # fmt: skip
    assert site == [f"/queries/{first['id']}"]  # answered: no longer waits for the site
    listed = _worklist(client, headers["monitor"], "monitor").json()
    monitor = [(i["status"], i["link"]) for i in listed if i["kind"] == "query"]
    assert monitor == [("answered", f"/queries/{second['id']}"),
                       ("new", f"/queries/{first['id']}")]  # fmt: skip
    assert (
        "Date of diagnosis?" in _worklist(client, headers["monitor"], "monitor").json()[0]["what"]
    )


def test_forms_awaiting_verification_leave_the_list_once_verified_and_the_list_is_cut(
    client: TestClient, headers: H, study: Study
) -> None:
    pid = _patient(client, headers["coordinator"], study.site_a)
    visit = make_visit(client, headers["coordinator"], pid)
    response = _worklist(client, headers["monitor"], "monitor")
    forms = [i for i in response.json() if i["kind"] == "sdv"]
    total = int(response.headers["X-Total-Count"])
    assert total == len(response.json()) >= 3  # screening, CLASI, dose (the plan's full forms)
    clasi = [i for i in forms if i["what"] == "verify CLASI"]
    assert clasi and clasi[0]["link"] == f"/visits/{visit['id']}"
    assert {i["status"] for i in forms} == {"to verify"}
    mark = client.post("/api/sdv", json={"table_name": "clasi_assessments",
                                         "record_id": visit["clasi"]["id"]},
                       headers=headers["monitor"])  # fmt: skip
    assert mark.status_code == 201, mark.text
    after = _worklist(client, headers["monitor"], "monitor", limit=1)
    assert int(after.headers["X-Total-Count"]) == total - 1 and len(after.json()) == 1
    listed = _worklist(client, headers["monitor"], "monitor").json()
    assert "verify CLASI" not in [i["what"] for i in listed]
