"""Correcting an adverse event in headless chromium: from the patient page, edit its end date
and grade, be told the reason is required, give it, and find the change with its reason in the
adverse event's audit history. Screenshots go to test-artifacts/browser/."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import expect
from tests.browser.conftest import LiveServer, shot
from tests.browser.test_flows import log_in

pytestmark = pytest.mark.browser


def test_edit_an_adverse_event_with_a_reason_then_see_it_in_its_history(
    page: Any, live_server: LiveServer
) -> None:
    log_in(page, live_server, "investigator")
    page.goto(f"{live_server.url}/patients")
    page.get_by_role("link", name="SYN-0007").click()  # the demo patient with adverse events
    ae_table = page.locator("#ae-table")
    expect(ae_table).to_contain_text("Insomnia")
    page.get_by_role("link", name=re.compile(r"^Edit adverse event Insomnia from")).click()
    page.wait_for_url(re.compile(r"/patients/\d+/adverse-events/\d+/edit$"))
    start = dt.date.fromisoformat(page.get_by_label("Start date").input_value())
    end = (start + dt.timedelta(days=3)).isoformat()
    page.get_by_label("End date (empty while ongoing)").fill(end)
    page.get_by_label("CTCAE grade").select_option("3")
    page.get_by_role("button", name="Save changes").click()  # no reason given
    expect(page.locator("#err-reason")).to_contain_text("a reason for change is required")
    expect(page.get_by_label("End date (empty while ongoing)")).to_have_value(end)  # kept
    shot(page, "12-adverse-event-needs-reason")
    page.get_by_label("Why is this saved record being changed?").fill(
        "event resolved; severity corrected from the clinic notes"
    )
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(re.compile(r"/patients/\d+\?saved=1"))
    assert page.get_by_role("status").inner_text() == "Saved."
    row = ae_table.locator("tr", has_text="Insomnia")
    expect(row).to_contain_text(end)
    expect(row).to_contain_text("grade 3")
    shot(page, "13-adverse-event-saved")
    page.get_by_role("link", name=re.compile(r"^History of adverse event Insomnia from")).click()
    table = page.locator("#audit-table")
    expect(table).to_contain_text("event resolved; severity corrected from the clinic notes")
    updates = table.locator("tr", has_text="update adverse events")
    expect(updates.filter(has_text="end_date")).to_contain_text(end)
    expect(updates.filter(has_text="grade")).to_contain_text("3")
    assert updates.count() == 2
    shot(page, "14-adverse-event-audit")
