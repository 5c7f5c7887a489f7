"""A randomised trial in headless chromium: an investigator randomises an eligible patient from
the patient's trial page (the treatment code shows, never the arm), enters the week-16 visit
with the CLASI grid, and the page shows the CLASI-50 response. Screenshots go to
test-artifacts/browser/."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from tests.browser.conftest import LiveServer, shot
from tests.browser.test_flows import fill_blank_cells, log_in
from tests.web.conftest import BASELINE, SCREENING

from cletrial.randomisation import generate_allocation_list
from cletrial.store import UnitOfWork, create_engine_for

pytestmark = pytest.mark.browser

#: Arm names that cannot appear on a page by accident.
ARMS = ("armqz7xk", "armk4p9w")


def _prepare(server: LiveServer) -> tuple[int, str]:
    """Import a production list for the demo study and enrol an eligible patient with a
    baseline visit (CLASI-A 6, first dose 2024-01-15) through the API: the patient's id and the
    code of the slot it will get."""
    from cletrial.store.randomisation import import_allocation_list

    engine = create_engine_for(server.database_url)
    try:
        with UnitOfWork(engine, user="statistician") as uow:
            study_id = int(uow.studies.list()[0].id)
            allocation = generate_allocation_list(
                {"subtype": ["DLE", "SCLE"]}, dict.fromkeys(ARMS, 1), block_sizes=[2, 4],
                per_stratum=4, seed=11, environment="production",
            )  # fmt: skip
            import_allocation_list(uow, study_id, allocation, environment="production")
    finally:
        engine.dispose()
    with httpx.Client(base_url=server.url, timeout=30) as http:
        credentials = {"username": "investigator", "password": server.credentials["investigator"]}
        login = http.post("/api/auth/login", json=credentials)
        assert login.status_code == 200, login.text
        h = {"Authorization": f"Bearer {login.json()['token']}"}
        site_id = http.get("/api/auth/me", headers=h).json()["site_ids"][0]
        patient = http.post("/api/patients", headers=h, json={
            "site_id": site_id, "study_code": "RND-001", "screening_date": "2024-01-10",
            "sex": "F", "screening": SCREENING})  # fmt: skip
        assert patient.status_code == 201, patient.text
        pid = int(patient.json()["id"])
        visit = http.post(f"/api/patients/{pid}/visits", json=BASELINE, headers=h)
        assert visit.status_code == 201, visit.text
    first = next(slot for slot in allocation.slots if slot.stratum == "subtype=DLE")
    return pid, first.code


@pytest.fixture(scope="module")
def prepared(live_server: LiveServer) -> tuple[int, str]:
    """The patient to randomise and the code of its slot (one list for the module)."""
    return _prepare(live_server)


def test_randomise_then_record_a_week_16_clasi_50_response(
    page: Any, live_server: LiveServer, prepared: tuple[int, str]
) -> None:
    pid, code = prepared
    if _randomised(live_server, pid):
        pytest.skip("the patient was randomised by another test of this module")
    log_in(page, live_server, "investigator")
    page.goto(f"{live_server.url}/patients/{pid}")
    page.get_by_role("link", name="Randomisation and trial endpoints").click()
    endpoints = page.locator("#trial-endpoints")
    expect(endpoints.locator("#clasi50")).to_contain_text("missing: no visit with CLASI")
    page.get_by_role("button", name="Randomise").click()  # nothing chosen: refused
    expect(page.get_by_role("alert")).to_contain_text("strata.subtype = null: is required")
    page.get_by_label("Subtype").select_option("DLE")
    page.get_by_label("Reason (recorded in the audit trail)").fill("eligible, consent signed")
    shot(page, "20-randomise-form")
    page.get_by_role("button", name="Randomise").click()
    page.wait_for_url(re.compile(rf"/patients/{pid}/trial\?randomised=1"))
    expect(page.locator("#treatment-code")).to_have_text(code)
    assert not any(arm in page.content() for arm in ARMS)
    shot(page, "21-randomised")
    page.goto(f"{live_server.url}/patients/{pid}/visits/new")
    page.locator("#f-visit_date").fill("2024-05-06")  # day 112 after the first dose
    page.get_by_label("Kind of visit").select_option("scheduled")
    page.locator("input[name=clasi_assessed]").check()
    fill_blank_cells(page, "clasi.")
    page.locator("#f-clasi-arms-erythema").select_option("2")
    expect(page.locator("#clasi-activity")).to_have_text("2")
    page.get_by_role("button", name="Save visit").click()
    page.wait_for_url(re.compile(r"/visits/\d+\?saved=1"))
    page.goto(f"{live_server.url}/patients/{pid}/trial")
    expect(endpoints.locator("#clasi50")).to_contain_text("responder")
    expect(endpoints.locator("#clasi50")).not_to_contain_text("non-responder")
    expect(endpoints.locator("#clasi70")).to_contain_text("non-responder")
    expect(endpoints).to_contain_text("-67%")
    expect(page.locator("#treatment-code")).to_have_text(code)
    shot(page, "22-week-16-clasi-50")


def _randomised(server: LiveServer, pid: int, *, randomise: bool = False) -> bool:
    """Whether the patient is randomised (randomising them through the API if asked)."""
    with httpx.Client(base_url=server.url, timeout=30) as http:
        credentials = {"username": "investigator", "password": server.credentials["investigator"]}
        token = http.post("/api/auth/login", json=credentials).json()["token"]
        h = {"Authorization": f"Bearer {token}"}
        if http.get(f"/api/patients/{pid}/randomisation", headers=h).status_code == 200:
            return True
        if randomise:
            body = {"strata": {"subtype": "DLE"}, "reason": "eligible, consent signed"}
            answer = http.post(f"/api/patients/{pid}/randomise", json=body, headers=h)
            assert answer.status_code == 201, answer.text
        return False


def test_the_statistician_sees_the_balance_blinded_then_by_arm_with_a_password(
    page: Any, live_server: LiveServer, prepared: tuple[int, str]
) -> None:
    pid, code = prepared
    _randomised(live_server, pid, randomise=True)
    log_in(page, live_server, "statistician")
    page.get_by_role("link", name="Randomisation", exact=True).click()
    page.wait_for_url(re.compile(r"/randomisation$"))
    expect(page.locator("table.balance").first).to_contain_text("subtype=DLE")
    expect(page.locator("table.listing").first).to_contain_text(code)
    assert not any(arm in page.content() for arm in ARMS)
    shot(page, "23-randomisation-blinded")
    page.get_by_role("button", name="Show the arms").click()  # no password: refused
    expect(page.get_by_role("alert")).to_contain_text("password not recognised")
    assert not any(arm in page.content() for arm in ARMS)
    page.get_by_label("Re-enter your password").fill(live_server.credentials["statistician"])
    page.get_by_role("button", name="Show the arms").click()
    expect(page.locator("#unblinded-reports")).to_be_visible()
    header = page.locator("table.balance").first.locator("thead")
    for arm in ARMS:
        expect(header).to_contain_text(arm)
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "24-randomisation-by-arm-390px")
