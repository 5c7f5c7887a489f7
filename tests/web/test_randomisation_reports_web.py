"""The randomisation reports of the web application: balance by stratum and the allocation
audit listing (API and page), restricted to the user's sites, blinded for every role; the arms
only in the answer to the statistician's re-entered password."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.web.conftest import PASSWORD, Study, make_patient

from cletrial.randomisation import AllocationList, generate_allocation_list
from cletrial.store import UnitOfWork
from cletrial.store.audit import audit_log
from cletrial.store.randomisation import import_allocation_list

H = dict[str, dict[str, str]]
ARMS = ("armqz7xk", "armk4p9w")
REASON = "eligible and consented"


@pytest.fixture
def plan(study: Study) -> AllocationList:
    allocation = generate_allocation_list(
        {"subtype": ["DLE", "SCLE"], "site": ["A", "B"]}, dict.fromkeys(ARMS, 1),
        block_sizes=[2], per_stratum=4, seed=11, environment="production",
    )  # fmt: skip
    with UnitOfWork(study.engine, user="statistician") as uow:
        import_allocation_list(uow, study.study_id, allocation, environment="production")
    return allocation


def _randomise(client: TestClient, h: dict[str, str], site: int, code: str, subtype: str) -> None:
    pid = make_patient(client, h, site, code=code)
    body = {"strata": {"subtype": subtype}, "reason": REASON}
    answer = client.post(f"/api/patients/{pid}/randomise", json=body, headers=h)
    assert answer.status_code == 201, answer.text


@pytest.fixture
def randomised(client: TestClient, headers: H, study: Study, plan: AllocationList) -> None:
    _randomise(client, headers["investigator"], study.site_a, "A-001", "DLE")
    _randomise(client, headers["investigator"], study.site_a, "A-002", "DLE")
    _randomise(client, headers["other"], study.site_b, "B-001", "SCLE")


def _shows_an_arm(text: str) -> bool:
    return any(arm in html.unescape(text) for arm in ARMS)


def test_the_balance_counts_by_stratum_at_the_users_sites_without_arms(
    client: TestClient, headers: H, randomised: None
) -> None:
    answer = client.get("/api/randomisation/balance", headers=headers["monitor"])
    assert answer.status_code == 200 and not _shows_an_arm(answer.text)
    lines = {x["stratum"]: (x["slots"], x["randomised"]) for x in answer.json()}
    # site A's monitor sees site A's strata only: 4 slots each, two DLE patients randomised
    assert lines == {"subtype=DLE|site=A": (4, 2), "subtype=SCLE|site=A": (4, 0)}
    other = client.get("/api/randomisation/balance", headers=headers["other"]).json()
    assert {x["stratum"]: x["randomised"] for x in other} == {
        "subtype=DLE|site=B": 0, "subtype=SCLE|site=B": 1}  # fmt: skip
    for role in ("investigator", "coordinator", "data_manager", "statistician"):
        seen = client.get("/api/randomisation/balance", headers=headers[role])
        assert seen.status_code == 200 and not _shows_an_arm(seen.text), role


def test_the_listing_names_code_who_why_and_audit_rows_of_the_users_sites(
    client: TestClient, headers: H, randomised: None, plan: AllocationList, study: Study
) -> None:
    listing = client.get("/api/randomisation/listing", headers=headers["monitor"])
    assert listing.status_code == 200 and not _shows_an_arm(listing.text)
    rows = listing.json()
    assert [(r["patient"], r["site"], r["sequence"]) for r in rows] == [
        ("A-001", "A", 1), ("A-002", "A", 2)]  # fmt: skip
    slots = {(s.stratum, s.sequence): s.code for s in plan.slots}
    assert [r["code"] for r in rows] == [slots[("subtype=DLE|site=A", n)] for n in (1, 2)]
    assert all(r["randomised_by"] == "investigator" and r["reason"] == REASON for r in rows)
    with UnitOfWork(study.engine, read_only=True) as uow:
        for row in rows:
            audited = uow.connection.execute(
                select(audit_log.c.table_name, audit_log.c.action, audit_log.c.field)
                .where(audit_log.c.id.in_(row["audit_rows"]))
                .order_by(audit_log.c.id)
            ).all()
            # the slot's update (patient, who, when) and the randomisation row
            assert {(t, a) for t, a, _ in audited} == {
                ("allocation_slots", "UPDATE"),
                ("randomisations", "INSERT"),
            }, audited
            assert {f for t, _, f in audited if t == "allocation_slots"} >= {"patient_id"}
    assert [r["patient"] for r in client.get(
        "/api/randomisation/listing", headers=headers["other"]).json()] == ["B-001"]  # fmt: skip


def test_the_test_list_is_asked_for_by_name(
    client: TestClient, headers: H, randomised: None
) -> None:
    assert client.get("/api/randomisation/balance?environment=test",
                      headers=headers["monitor"]).json() == []  # fmt: skip
    bad = client.get("/api/randomisation/balance?environment=staging", headers=headers["monitor"])
    assert bad.status_code == 422 and "staging" in bad.text
    page = client.get("/randomisation?environment=test", headers=headers["monitor"])
    assert page.status_code == 200 and "has no test allocation list" in html.unescape(page.text)


def test_the_page_is_blinded_and_shows_arms_to_the_statisticians_password_only(
    client: TestClient, headers: H, randomised: None
) -> None:
    for role in ("monitor", "investigator", "statistician"):
        page = client.get("/randomisation", headers=headers[role])
        assert page.status_code == 200 and not _shows_an_arm(page.text), role
        assert "subtype=DLE|site=A" in page.text and "A-002" in page.text
    assert 'id="show-arms"' in client.get("/randomisation", headers=headers["statistician"]).text
    assert 'id="show-arms"' not in client.get("/randomisation", headers=headers["monitor"]).text
    refused = client.post("/randomisation", data={"password": PASSWORD}, headers=headers["monitor"])
    assert refused.status_code == 403 and not _shows_an_arm(refused.text)
    wrong = client.post("/randomisation", data={"password": "not mine"},
                        headers=headers["statistician"])  # fmt: skip
    assert wrong.status_code == 422 and not _shows_an_arm(wrong.text)
    assert "password not recognised" in html.unescape(wrong.text)
    shown = client.post("/randomisation", data={"password": PASSWORD},
                        headers=headers["statistician"])  # fmt: skip
    assert shown.status_code == 200 and _shows_an_arm(shown.text)
    assert 'id="unblinded-reports"' in shown.text
    # two DLE patients at site A from one balanced block of 2: one in each arm
    row = shown.text.split("subtype=DLE|site=A</td>", 1)[1].split("</tr>", 1)[0]
    assert row.replace(" ", "").replace("\n", "") == "<td>4</td><td>2</td><td>1</td><td>1</td>"
    again = client.get("/randomisation", headers=headers["statistician"])
    assert not _shows_an_arm(again.text)
