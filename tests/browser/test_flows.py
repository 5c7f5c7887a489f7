"""The real flows in headless chromium: log in, screen a patient, enter a visit and watch the
scores and the recommendation update, edit with a reason and find it in the audit history,
sign a visit, and be refused another site's patient. Screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import expect
from tests.browser.conftest import LiveServer, shot

pytestmark = pytest.mark.browser


def log_in(page: Any, server: LiveServer, user: str) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(server.credentials[user])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server.url}/")


def fill_blank_cells(page: Any, prefix: str) -> None:
    """Choose 0 in every still blank cell whose field starts with ``prefix`` (a person who has
    examined every region and found nothing there)."""
    page.evaluate(_FILL_ZEROS, prefix)


_FILL_ZEROS = """(prefix) => {
  for (const s of document.querySelectorAll('select[name^="' + prefix + '"]')) {
    if (s.value === '') {
      s.value = '0';
      s.dispatchEvent(new Event('change', {bubbles: true}));
    }
  }
}"""


def test_login_refuses_a_wrong_password_then_logs_in(page: Any, live_server: LiveServer) -> None:
    page.goto(f"{live_server.url}/patients")
    assert "/login" in page.url  # not logged in: sent to the login page
    page.get_by_label("User name").fill("investigator")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text().startswith("user name or password")
    shot(page, "01-login-refused")
    log_in(page, live_server, "investigator")
    assert page.get_by_role("heading", name=re.compile("Study dashboard")).is_visible()
    assert "SYNTHETIC DEMO DATA" in page.content()
    shot(page, "02-dashboard")


def test_screen_a_patient_with_live_eligibility(page: Any, live_server: LiveServer) -> None:
    log_in(page, live_server, "coordinator")
    page.get_by_role("link", name="Screen a patient").click()
    page.get_by_label("Study code").fill("NEW-001")
    page.get_by_label("Age at screening (years)").fill("16")
    live = page.locator("#eligibility-live")
    i1 = live.locator("tr", has_text="I1")
    expect(i1).to_contain_text("not met")  # updated live
    expect(live.locator("#verdict")).to_contain_text("ineligible")
    page.get_by_label("Age at screening (years)").fill("44")
    page.locator("input[name=clasi_assessed]").check()
    fill_blank_cells(page, "clasi.")
    page.get_by_label("Arms", exact=True).select_option("2")
    expect(live.locator("#verdict")).to_contain_text("undetermined")
    expect(i1).not_to_contain_text("not met")
    expect(live.locator("tr", has_text="I3")).to_contain_text("met")
    assert "missing" in live.inner_text()
    shot(page, "03-screening-live")
    page.get_by_role("button", name="Save screening").click()
    page.wait_for_url(re.compile(r"/patients/\d+\?screened=1"))
    assert page.get_by_role("heading", name=re.compile("Patient NEW-001")).is_visible()
    shot(page, "04-patient-screened")


def test_enter_a_visit_scores_and_recommendation_update(page: Any, live_server: LiveServer) -> None:
    log_in(page, live_server, "investigator")
    page.goto(f"{live_server.url}/patients")
    page.get_by_role("link", name="SYN-0009").click()  # still on study
    assert page.locator("#reco-action").inner_text()
    shot(page, "05-patient-page")
    page.get_by_role("link", name="Enter a visit").click()
    page.get_by_label("Kind of visit").select_option("unscheduled")
    page.locator("input[name=clasi_assessed]").check()
    fill_blank_cells(page, "clasi.")
    activity = page.locator("#clasi-activity")
    page.locator("#f-clasi-arms-erythema").select_option("3")
    expect(activity).to_have_text("3")
    page.locator("#f-clasi-arms-scale").select_option("2")
    expect(activity).to_have_text("5")
    page.get_by_label("Neutrophils", exact=True).fill("0.9")
    page.get_by_label("Neutrophils unit").select_option("10^9/L")
    expect(page.locator("#lab-grades")).to_contain_text("grade 3")
    expect(page.locator("#reco-action")).to_contain_text("Stop")  # CTCAE grade 3
    expect(page.locator("#visit-live")).to_contain_text("STOP-MYELOSUPPRESSION")
    shot(page, "06-visit-live")
    page.get_by_role("button", name="Save visit").click()
    page.wait_for_url(re.compile(r"/visits/\d+\?saved=1"))
    assert page.get_by_role("status").inner_text() == "Saved."
    shot(page, "07-visit-saved")


def test_edit_with_reason_shows_in_audit_then_sign(page: Any, live_server: LiveServer) -> None:
    log_in(page, live_server, "investigator")
    page.goto(f"{live_server.url}/patients")
    page.get_by_role("link", name="SYN-0009").click()
    page.get_by_role("link", name="Enter a visit").click()
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()  # the other test saves today
    page.locator("#f-visit_date").fill(yesterday)
    page.get_by_label("Kind of visit").select_option("unscheduled")
    page.locator("input[name=clasi_assessed]").check()
    fill_blank_cells(page, "clasi.")
    page.locator("#f-clasi-nose-erythema").select_option("1")
    page.get_by_role("button", name="Save visit").click()
    page.wait_for_url(re.compile(r"/visits/\d+\?saved=1"))
    visit_url = page.url.split("?")[0]
    page.get_by_role("link", name="Edit visit").click()
    page.locator("#f-clasi-nose-erythema").select_option("2")
    page.get_by_role("button", name="Save changes").click()  # no reason given
    assert "give the reason" in page.locator("#err-reason").inner_text()
    shot(page, "08-edit-needs-reason")
    page.get_by_label("Why is this saved record being changed?").fill("erythema re-graded")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(re.compile(r"/visits/\d+\?saved=1"))
    page.get_by_role("link", name="Audit history").click()
    table = page.locator("#audit-table")
    assert "erythema re-graded" in table.inner_text()
    assert "nose_erythema" in table.inner_text()
    shot(page, "09-audit-history")
    page.goto(visit_url)
    page.get_by_role("link", name="Sign visit").click()
    page.get_by_label("Re-enter your password").fill("wrong password")
    page.get_by_role("button", name="Sign and lock").click()
    assert "password not recognised" in page.locator("#err-password").inner_text()
    page.get_by_label("Re-enter your password").fill(live_server.credentials["investigator"])
    page.get_by_role("button", name="Sign and lock").click()
    page.wait_for_url(re.compile(r"/visits/\d+\?saved=1"))
    assert "Signed by Dr Ana Investigator (demo)" in page.locator("#signature").inner_text()
    assert page.get_by_role("link", name="Edit visit").count() == 0
    shot(page, "10-visit-signed")


def test_another_sites_patient_is_refused(page: Any, live_server: LiveServer) -> None:
    log_in(page, live_server, "investigator_b")
    page.goto(f"{live_server.url}/patients")
    assert page.get_by_role("link", name="SYN-0013").is_visible()
    assert page.get_by_role("link", name="SYN-0001").count() == 0
    page.goto(f"{live_server.url}/patients/1")
    assert page.get_by_role("heading", name="Access refused").is_visible()
    assert "not at one of your sites" in page.get_by_role("alert").inner_text()
    shot(page, "11-cross-site-refused")
