"""The CLA-IGA and Skindex-29+3 of a visit in headless chromium: choose a grade and answer a few
numbered items, save, and read the grade and the domain scores on the visit page; a tampered
grade is refused on its field and nothing is saved. Screenshots go to test-artifacts/browser/."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select
from tests.browser.conftest import LiveServer, shot
from tests.browser.test_flows import log_in

from cletrial.store import create_engine_for
from cletrial.store.fields import table_of

pytestmark = pytest.mark.browser

#: The seven symptoms items of the Skindex-29 (the stated-default assignment).
SYMPTOMS = (1, 7, 10, 16, 19, 24, 27)


def _open_visit_form(page: Any, server: LiveServer) -> None:
    log_in(page, server, "investigator")
    page.goto(f"{server.url}/patients")
    page.get_by_role("link", name="SYN-0009").click()
    page.get_by_role("link", name="Enter a visit").click()
    page.get_by_label("Kind of visit").select_option("unscheduled")


def _visit_count(server: LiveServer) -> int:
    engine = create_engine_for(server.database_url)
    try:
        with engine.connect() as conn:
            query = select(func.count()).select_from(table_of("visits"))
            return int(conn.execute(query).scalar_one())
    finally:
        engine.dispose()


def test_enter_a_grade_and_skindex_items_then_see_them_on_the_visit(
    page: Any, live_server: LiveServer
) -> None:
    _open_visit_form(page, live_server)
    grade = page.get_by_label("CLA-IGA grade (investigator's global assessment)")
    expect(grade).to_have_value("")  # blank by default: not assessed
    grade.select_option("2")
    expect(page.locator("#cla-iga-live")).to_have_text("2")  # the live panel follows
    for item in SYMPTOMS:
        page.get_by_label(f"Item {item}", exact=True).select_option("4")
    expect(page.locator("#skindex-live")).to_contain_text("Symptoms 75.0")
    shot(page, "20-trial-scores-form")
    page.get_by_role("button", name="Save visit").click()
    page.wait_for_url(re.compile(r"/visits/\d+\?saved=1"))
    expect(page.locator("#cla-iga")).to_contain_text("2 (mild)")
    scores = page.locator("#skindex")
    expect(scores.locator('[data-domain="symptoms"]')).to_have_text("75.0")
    expect(scores.locator('[data-domain="emotions"]')).to_contain_text("missing")
    shot(page, "21-trial-scores-saved")
    page.get_by_role("link", name="Edit visit").click()
    expect(page.get_by_label("CLA-IGA grade (investigator's global assessment)")).to_have_value("2")
    expect(page.get_by_label("Item 7", exact=True)).to_have_value("4")


def test_a_tampered_grade_is_refused_on_its_field_and_nothing_is_saved(
    page: Any, live_server: LiveServer
) -> None:
    _open_visit_form(page, live_server)
    page.locator("#f-visit_date").fill("2024-03-01")
    before = _visit_count(live_server)
    page.evaluate("""() => {
      const option = document.querySelector('#f-cla_iga option[value="4"]');
      option.value = "9";
      option.selected = true;
    }""")
    page.get_by_role("button", name="Save visit").click()
    expect(page.locator("#err-cla_iga")).to_contain_text('"9" is not allowed')
    shot(page, "22-trial-scores-refused")
    assert _visit_count(live_server) == before


@pytest.mark.parametrize("width", [1400, 390])
def test_a_monitor_queries_an_item_the_site_corrects_it_and_the_form_is_verified(
    page: Any, live_server: LiveServer, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    _open_visit_form(page, live_server)
    day = dt.date.today() - dt.timedelta(days=2 if width == 390 else 4)
    page.locator("#f-visit_date").fill(day.isoformat())
    for item in SYMPTOMS:
        page.get_by_label(f"Item {item}", exact=True).select_option("3")
    page.get_by_role("button", name="Save visit").click()
    page.wait_for_url(re.compile(r"/visits/\d+\?saved=1"))
    visit_url = str(page.url).split("?")[0]
    expect(page.locator('#skindex [data-domain="symptoms"]')).to_have_text("50.0")

    page.context.clear_cookies()
    log_in(page, live_server, "monitor")
    page.goto(visit_url)
    page.locator("#skindex-items summary").click()
    page.locator("a[data-raise$='-item_7']").click()
    expect(page.locator("#raise-current")).to_have_text("3")
    page.get_by_label("Your question to the site").fill("Item 7: the patient's sheet says 5.")
    page.get_by_role("button", name="Raise the query").click()
    page.wait_for_url(re.compile(r"/visits/\d+\?raised=\d+"))
    number = int(str(page.url).split("raised=")[1])
    flag = page.locator("[data-flag$='-item_7']")
    expect(flag).to_be_visible()  # the items open by themselves while a query is active
    shot(page, f"25-skindex-item-query-{width}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.context.clear_cookies()
    log_in(page, live_server, "investigator")
    page.goto(f"{live_server.url}/queries/{number}")
    page.get_by_label(re.compile("Corrected value of item 7")).fill("6")
    page.get_by_label("Your message").fill("Corrected from the patient's sheet")
    page.get_by_role("button", name="Answer").click()
    expect(page.locator("#err-correction")).to_contain_text("must be 1, 2, 3, 4 or 5")
    page.get_by_label(re.compile("Corrected value of item 7")).fill("5")
    page.get_by_role("button", name="Answer").click()
    expect(page.get_by_role("status")).to_contain_text("the query is now answered")
    page.goto(visit_url)
    expect(page.locator('#skindex [data-domain="symptoms"]')).to_have_text("57.1")

    page.context.clear_cookies()
    log_in(page, live_server, "monitor")
    page.goto(visit_url)
    page.get_by_role("button", name="Mark Skindex-29+3 verified").click()
    expect(page.locator("[data-verified^='skindex_assessments-']")).to_be_visible()
    shot(page, f"26-skindex-verified-{width}")
