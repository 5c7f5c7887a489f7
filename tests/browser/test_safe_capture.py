"""Safe data capture in headless chromium: a blank is never a zero, a lab needs its unit and a
possible value, nothing is dated in the future, an ineligible patient is not dosed without an
e-signed override, pregnancy tests and dispositions can be recorded, a signature shows its
manifest, pages fit the viewport, the CLASI grid has one tab rhythm, and a changed form warns
before it is left. Screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import expect
from tests.browser.conftest import LiveServer, shot
from tests.browser.test_flows import log_in

pytestmark = pytest.mark.browser

#: A demo patient still on study at site A (its history ends two weeks before today).
ON_STUDY = "SYN-0009"


def _open_patient(page: Any, server: LiveServer, code: str) -> str:
    page.goto(f"{server.url}/patients")
    page.get_by_role("link", name=code, exact=True).first.click()
    page.wait_for_url(re.compile(r"/patients/\d+$"))
    return str(page.url)


def _visit_rows(page: Any, patient_url: str) -> int:
    page.goto(patient_url)
    return int(page.locator("#visits-table tbody tr").count())


def _new_visit(page: Any, server: LiveServer) -> str:
    patient_url = _open_patient(page, server, ON_STUDY)
    page.goto(patient_url + "/visits/new")
    return patient_url


def test_an_untouched_visit_form_assesses_nothing_and_a_partial_grid_names_its_blanks(
    page: Any, live_server: LiveServer
) -> None:
    log_in(page, live_server, "coordinator")
    patient_url = _open_patient(page, live_server, ON_STUDY)
    before = _visit_rows(page, patient_url)
    page.goto(patient_url + "/visits/new")
    expect(page.locator("input[name=clasi_assessed]")).not_to_be_checked()
    expect(page.locator("input[name=sledai_assessed]")).not_to_be_checked()
    assert page.locator("#f-clasi-arms-erythema").input_value() == ""  # blank, not 0
    assert "complete response" not in page.locator("#visit-form").inner_text().lower()
    page.locator("input[name=clasi_assessed]").check()
    page.locator("#f-clasi-arms-erythema").select_option("2")
    page.get_by_role("button", name="Save visit").click()
    summary = page.locator("#form-errors")
    expect(summary).to_contain_text("CLASI items are blank")
    expect(summary).to_contain_text("scalp erythema")
    expect(page.locator("#f-clasi-scalp-erythema")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-clasi-arms-erythema")).not_to_have_attribute("aria-invalid", "true")
    shot(page, "20-partial-clasi-refused")
    assert _visit_rows(page, patient_url) == before  # nothing saved


def test_a_lab_needs_its_unit_and_a_possible_value(page: Any, live_server: LiveServer) -> None:
    log_in(page, live_server, "coordinator")
    _new_visit(page, live_server)
    page.locator("#f-lab-neutrophils-value").fill("3800")
    page.locator("#f-lab-neutrophils-unit").select_option("10^9/L")
    page.locator("#f-lab-platelets-value").fill("250")
    page.get_by_role("button", name="Save visit").click()
    neutrophils = page.locator("#err-lab-neutrophils-value")
    expect(neutrophils).to_contain_text("impossible")
    expect(neutrophils).to_contain_text("Did you mean 3800 /mm3")
    expect(page.locator("#err-lab-platelets-unit")).to_contain_text("choose the unit")
    shot(page, "21-lab-unit-and-impossible-value")


def test_an_improbable_lab_is_saved_only_once_confirmed(page: Any, live_server: LiveServer) -> None:
    log_in(page, live_server, "coordinator")
    patient_url = _new_visit(page, live_server)
    page.locator("#f-visit_date").fill("")
    page.locator("#f-visit_date").fill((dt.date.today() - dt.timedelta(days=1)).isoformat())
    page.locator("#f-kind").select_option("unscheduled")
    page.locator("#f-lab-neutrophils-value").fill("45")
    page.locator("#f-lab-neutrophils-unit").select_option("10^9/L")
    page.get_by_role("button", name="Save visit").click()
    expect(page.locator("#err-lab-neutrophils-value")).to_contain_text("improbable")
    page.locator("#f-lab-neutrophils-confirmed").check()
    page.get_by_role("button", name="Save visit").click()
    page.wait_for_url(re.compile(r"/visits/\d+"))
    assert "45" in page.content()
    page.goto(patient_url)


def test_a_future_visit_date_is_refused_on_its_field(page: Any, live_server: LiveServer) -> None:
    log_in(page, live_server, "coordinator")
    _new_visit(page, live_server)
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    page.locator("#f-visit_date").fill(future)
    page.get_by_role("button", name="Save visit").click()
    expect(page.locator("#err-visit_date")).to_contain_text("in the future")
    shot(page, "22-future-date-refused")


def test_an_empty_screening_is_undetermined_not_ineligible(
    page: Any, live_server: LiveServer
) -> None:
    log_in(page, live_server, "coordinator")
    page.goto(f"{live_server.url}/screening/new")
    expect(page.locator("input[name=clasi_assessed]")).not_to_be_checked()
    expect(page.locator("#verdict")).to_contain_text("undetermined")
    page.locator("input[name=clasi_assessed]").check()
    page.get_by_label("Arms", exact=True).select_option("2")
    page.get_by_label("Study code").fill("BLANK-01")
    page.get_by_role("button", name="Save screening").click()
    expect(page.locator("#form-errors")).to_contain_text("regions are blank")
    page.get_by_label("Screening date").fill((dt.date.today() + dt.timedelta(days=40)).isoformat())
    page.get_by_role("button", name="Save screening").click()
    expect(page.locator("#err-screening_date")).to_contain_text("in the future")


def test_an_ineligible_patient_is_not_dosed_until_an_investigator_overrides(
    page: Any, live_server: LiveServer
) -> None:
    log_in(page, live_server, "investigator")
    page.goto(f"{live_server.url}/screening/new")
    page.get_by_label("Study code").fill("INEL-01")
    page.get_by_label("Age at screening (years)").fill("16")
    page.get_by_role("button", name="Save screening").click()
    page.wait_for_url(re.compile(r"/patients/\d+\?screened=1"))
    status = page.locator("#enrolment-status")
    expect(status).to_contain_text("ineligible")
    expect(status).to_contain_text("Not enrolled")
    reco = page.locator("#h-reco").locator("..")
    expect(reco).not_to_contain_text(re.compile(r"\bStart\b 5 mg"))
    expect(reco).to_contain_text(re.compile("do not start|do_not_start", re.IGNORECASE))
    shot(page, "23-ineligible-not-enrolled")
    page.locator("#override-link").click()
    page.get_by_label("Reason for treating despite the verdict").fill("short")
    page.get_by_label("Re-enter your password").fill(live_server.credentials["investigator"])
    page.get_by_role("button", name="Sign the override").click()
    expect(page.locator("#err-reason")).to_contain_text("at least 10 characters")
    page.get_by_label("Reason for treating despite the verdict").fill(
        "Age 16 and 11 months; ethics committee approval on file"
    )
    page.get_by_label("Re-enter your password").fill("wrong password")
    page.get_by_role("button", name="Sign the override").click()
    expect(page.locator("#err-password")).to_contain_text("password not recognised")
    page.get_by_label("Re-enter your password").fill(live_server.credentials["investigator"])
    page.get_by_role("button", name="Sign the override").click()
    page.wait_for_url(re.compile(r"/patients/\d+\?saved=1"))
    expect(page.locator("#enrolment-status")).to_contain_text("Overridden")
    expect(page.locator("#enrolment-status")).to_contain_text("Dr Ana Investigator (demo)")
    page.goto(f"{live_server.url}/deviations")
    expect(page.locator("#deviations-table")).to_contain_text("INEL-01")
    shot(page, "24-override-listed")


def test_pregnancy_test_and_disposition_forms(page: Any, live_server: LiveServer) -> None:
    log_in(page, live_server, "coordinator")
    patient_url = _open_patient(page, live_server, ON_STUDY)
    page.locator("#add-pregnancy-test").click()
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    page.get_by_label("Test date").fill(future)
    page.get_by_label("Result").select_option("negative")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#form-errors")).to_contain_text("future")
    page.get_by_label("Test date").fill(dt.date.today().isoformat())
    page.get_by_label("Method").select_option("serum")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"\?saved=1"))
    expect(page.locator("#pregnancy-table")).to_contain_text(dt.date.today().isoformat())
    page.goto(patient_url + "/dispositions/new")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#form-errors")).to_contain_text("is required")
    shot(page, "25-disposition-blank-refused")


def test_a_signed_visit_shows_its_manifest(page: Any, live_server: LiveServer) -> None:
    log_in(page, live_server, "monitor")
    page.goto(f"{live_server.url}/visits/1")
    expect(page.locator("#signed-name")).to_have_text("Dr Ana Investigator (demo)")
    expect(page.locator("#sign-meaning")).to_contain_text("I am the investigator")
    expect(page.locator("#signature")).to_contain_text("UTC")


@pytest.mark.parametrize("width", [390, 1366])
def test_pages_are_no_wider_than_the_viewport(
    page: Any, live_server: LiveServer, width: int
) -> None:
    log_in(page, live_server, "investigator")
    patient_url = _open_patient(page, live_server, ON_STUDY)
    page.set_viewport_size({"width": width, "height": 900})
    for name, url in (("dashboard", f"{live_server.url}/"), ("patient", patient_url),
                      ("visit-form", patient_url + "/visits/new"),
                      ("screening", f"{live_server.url}/screening/new")):  # fmt: skip
        page.goto(url)
        page.wait_for_load_state("networkidle")
        scroll = page.evaluate("document.documentElement.scrollWidth")
        shot(page, f"30-{name}-{width}")
        assert scroll <= width, f"{name} is {scroll} px wide at {width} px"


def test_the_clasi_grid_has_four_tab_stops_in_every_row(page: Any, live_server: LiveServer) -> None:
    log_in(page, live_server, "coordinator")
    _new_visit(page, live_server)
    page.locator("#f-clasi-scalp-erythema").focus()
    for _ in range(4):
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-clasi-ears-erythema"


def test_leaving_a_changed_form_asks_first(page: Any, live_server: LiveServer) -> None:
    log_in(page, live_server, "coordinator")
    _new_visit(page, live_server)
    page.locator("#f-notes").fill("typed but not saved")
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", answer)
    with page.expect_event("dialog"):  # fails when the page closes (or times out) without one
        page.close(run_before_unload=True)
    assert asked == ["beforeunload"]
