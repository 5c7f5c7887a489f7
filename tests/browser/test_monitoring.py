"""Monitoring and data management in headless chromium: a monitor's query on a CLASI value is
answered with a correction and closed, an edit check raises a query on save and closes it when
the value is corrected, an edit of a verified form clears its verification, and after the data
manager locks the database nothing is written through the pages, the API or an import. The
monitoring pages fit the viewport. Screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine, func, select
from tests.browser.conftest import LiveServer, shot
from tests.browser.test_flows import fill_blank_cells, log_in

from cletrial.errors import ImportFileError
from cletrial.store import UnitOfWork, create_engine_for
from cletrial.store.audit import audit_log
from cletrial.store.import_export import import_path

pytestmark = pytest.mark.browser

#: A demo patient still on study at site A.
ON_STUDY = "SYN-0009"
TODAY = dt.date.today()


@pytest.fixture(scope="module")
def engine(live_server: LiveServer) -> Iterator[Engine]:
    """The live server's database, for what the pages do not show (and for cleaning up)."""
    db = create_engine_for(live_server.database_url)
    yield db
    db.dispose()


def _as(page: Any, server: LiveServer, user: str) -> None:
    page.context.clear_cookies()
    log_in(page, server, user)


def _patient_id(engine: Engine, code: str = ON_STUDY) -> int:
    with UnitOfWork(engine, read_only=True) as uow:
        found = uow.find("patients", study_code=code)
    assert found is not None
    return int(found["id"])


def _new_visit(
    page: Any, server: LiveServer, engine: Engine, days_ago: int,
    clasi: dict[str, str] | None = None, labs: dict[str, str] | None = None,
) -> str:  # fmt: skip
    """Enter an unscheduled visit through the form; return the visit page's URL."""
    page.goto(f"{server.url}/patients/{_patient_id(engine)}/visits/new")
    page.locator("#f-visit_date").fill((TODAY - dt.timedelta(days=days_ago)).isoformat())
    page.locator("#f-kind").select_option("unscheduled")
    if clasi is not None:
        page.locator("input[name=clasi_assessed]").check()
        fill_blank_cells(page, "clasi.")
        for cell, value in clasi.items():
            page.locator(f"#f-clasi-{cell}").select_option(value)
    for test, value in (labs or {}).items():
        page.locator(f"#f-lab-{test}-value").fill(value)
        page.locator(f"#f-lab-{test}-unit").select_option("10^9/L")
    page.get_by_role("button", name="Save visit").click()
    page.wait_for_url(re.compile(r"/visits/\d+\?saved=1"))
    return str(page.url).split("?")[0]


def _edit_visit(page: Any, visit_url: str, reason: str, **changes: str) -> None:
    page.goto(visit_url + "/edit")
    for selector, value in changes.items():
        field = page.locator(f"#{selector}")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    page.get_by_label("Why is this saved record being changed?").fill(reason)
    page.get_by_role("button", name="Save changes").click()


def test_a_query_on_a_clasi_value_is_answered_with_a_correction_then_closed(
    page: Any, live_server: LiveServer, engine: Engine
) -> None:
    log_in(page, live_server, "coordinator")
    visit_url = _new_visit(page, live_server, engine, 3, clasi={"arms-erythema": "2"})
    expect(page.locator("#clasi-activity")).to_have_text("2")
    cell_flag = page.locator("[data-flag$='-arms_erythema']")
    expect(cell_flag).to_have_count(0)

    _as(page, live_server, "monitor")
    page.goto(visit_url)
    page.locator("a[data-raise$='-arms_erythema']").click()
    expect(page.locator("#raise-current")).to_have_text("2")
    page.get_by_role("button", name="Raise the query").click()  # no question
    expect(page.locator("#err-subject")).to_contain_text("write the question")
    page.get_by_label("Your question to the site").fill("Arms erythema 2? The source says 1.")
    page.get_by_role("button", name="Raise the query").click()
    page.wait_for_url(re.compile(r"/visits/\d+\?raised=\d+"))
    number = int(str(page.url).split("raised=")[1])
    expect(cell_flag).to_be_visible()
    expect(cell_flag).to_have_attribute("title", "open query")
    shot(page, "40-query-flag-on-clasi")

    _as(page, live_server, "coordinator")
    page.goto(visit_url)
    cell_flag.click()
    page.locator(f"#queries-table a[href='/queries/{number}']").first.click()
    expect(page.locator("#query-subject")).to_contain_text("The source says 1")
    page.get_by_label(re.compile("Corrected value of Arms erythema")).fill("7")
    page.get_by_label("Your message").fill("Typing error, corrected from the source")
    page.get_by_role("button", name="Answer").click()
    expect(page.locator("#err-correction")).to_contain_text("must be 0, 1, 2 or 3")
    shot(page, "41-query-correction-refused")
    page.get_by_label(re.compile("Corrected value of Arms erythema")).fill("1")
    page.get_by_role("button", name="Answer").click()
    expect(page.get_by_role("status")).to_contain_text("the query is now answered")
    expect(page.locator("#query-thread")).to_contain_text("Arms erythema: 2 → 1")
    page.goto(visit_url)
    expect(page.locator("#clasi-activity")).to_have_text("1")
    expect(cell_flag).to_be_visible()  # answered: waits for the monitor

    _as(page, live_server, "monitor")
    page.goto(f"{live_server.url}/queries/{number}")
    page.get_by_label("Your message").fill("Agrees with the source")
    page.get_by_role("button", name="Close").click()
    expect(page.get_by_role("status")).to_contain_text("the query is now closed")
    shot(page, "42-query-closed")
    page.goto(visit_url)
    expect(cell_flag).to_have_count(0)
    page.get_by_role("link", name="Audit history").click()
    audit = page.locator("#audit-table")
    expect(audit).to_contain_text(f"query #{number}: Typing error, corrected from the source")
    expect(audit).to_contain_text("arms_erythema")


def test_an_edit_check_raises_a_query_on_save_and_closes_it_once_corrected(
    page: Any, live_server: LiveServer, engine: Engine
) -> None:
    log_in(page, live_server, "coordinator")
    visit_url = _new_visit(page, live_server, engine, 5, labs={"platelets": "800"})
    platelets = page.locator("tr[data-lab=platelets]")
    expect(platelets.locator(".flag")).to_be_visible()  # raised by the check, on save
    page.goto(f"{live_server.url}/queries?patient={ON_STUDY}&status=new")
    row = page.locator("#queries-table tbody tr", has_text="LAB-PLATELETS-QUERY")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("800")
    shot(page, "43-edit-check-query-listed")
    number = row.get_attribute("data-query")
    _edit_visit(page, visit_url, "platelets re-read from the laboratory report",
                **{"f-lab-platelets-value": "300"})  # fmt: skip
    page.wait_for_url(re.compile(r"/visits/\d+\?saved=1"))
    expect(platelets.locator(".flag")).to_have_count(0)
    page.goto(f"{live_server.url}/queries/{number}")
    expect(page.locator("h1")).to_contain_text("closed")
    expect(page.locator("#query-thread")).to_contain_text("closed by edit check")


def test_an_edit_of_a_verified_form_clears_its_verification(
    page: Any, live_server: LiveServer, engine: Engine
) -> None:
    log_in(page, live_server, "coordinator")
    visit_url = _new_visit(page, live_server, engine, 7, clasi={"nose-erythema": "1"})
    _as(page, live_server, "monitor")
    page.goto(visit_url)
    page.locator("[id^='sdv-clasi_assessments-'] button").click()
    page.wait_for_url(re.compile(r"verified=1"))
    mark = page.locator("[data-verified^='clasi_assessments-']")
    expect(mark).to_contain_text("Verified against the source by monitor")
    shot(page, "44-clasi-verified")
    _as(page, live_server, "coordinator")
    _edit_visit(page, visit_url, "nose erythema re-graded from the photograph",
                **{"f-clasi-nose-erythema": "2"})  # fmt: skip
    page.wait_for_url(re.compile(r"/visits/\d+\?saved=1"))
    expect(mark).to_have_count(0)
    expect(page.locator("[id^='sdv-clasi_assessments-']")).to_contain_text("Not verified yet")
    page.get_by_role("link", name="Audit history").click()
    audit = page.locator("#audit-table")
    expect(audit).to_contain_text(
        re.compile(r"source data verification cleared: [a-z_, ]*nose_erythema[a-z_, ]* changed")
    )
    expect(audit).to_contain_text("nose erythema re-graded from the photograph")


def _snapshot(engine: Engine) -> tuple[int, int]:
    """Audit rows of study data (logins stay recorded while locked) and the patient's labs."""
    with engine.connect() as conn:
        rows = select(func.count()).select_from(audit_log)
        rows = rows.where(audit_log.c.table_name != "login_events")
        audit = int(conn.execute(rows).scalar_one())
    with UnitOfWork(engine, read_only=True) as uow:
        labs = len(uow.labs.for_patient(_patient_id(engine)))
    return audit, labs


def _sign_lock(page: Any, server: LiveServer, action: str, reason: str) -> None:
    page.goto(f"{server.url}/lock")
    page.locator(f"input[name=action][value={action}]").check()
    page.get_by_role("textbox", name="Reason").fill(reason)
    page.get_by_label("Re-enter your password").fill(server.credentials["data_manager"])
    page.get_by_role("button", name="Sign").click()
    page.wait_for_url(re.compile(r"/lock\?saved=1"))


def test_a_locked_database_refuses_pages_api_and_imports(
    page: Any, live_server: LiveServer, engine: Engine, tmp_path: Path
) -> None:
    log_in(page, live_server, "coordinator")
    visit_url = _new_visit(page, live_server, engine, 9)
    _as(page, live_server, "data_manager")
    try:
        page.goto(f"{live_server.url}/lock")
        page.locator("input[name=action][value=lock]").check()
        page.get_by_role("textbox", name="Reason").fill("database lock for the final analysis")
        page.get_by_label("Re-enter your password").fill("not my password")
        page.get_by_role("button", name="Sign").click()
        expect(page.locator("#err-password")).to_contain_text("password not recognised")
        expect(page.locator("#lock-state")).to_contain_text("open")
        _sign_lock(page, live_server, "lock", "database lock for the final analysis")
        expect(page.locator("#lock-state")).to_contain_text("locked")
        expect(page.locator("#lock-events")).to_contain_text("Dana Data Manager (demo)")
        expect(page.locator("#lock-banner")).to_contain_text("The database is locked since")
        shot(page, "45-database-locked")
        before = _snapshot(engine)

        _as(page, live_server, "coordinator")
        expect(page.locator("#lock-banner")).to_contain_text("no data can be entered or changed")
        _edit_visit(page, visit_url, "late correction", **{"f-notes": "changed after the lock"})
        refusal = page.locator("#locked")
        expect(refusal).to_contain_text("Nothing was saved. The database is locked since")
        expect(page.locator("#f-notes")).to_have_value("changed after the lock")  # kept
        shot(page, "46-visit-edit-refused-locked")
        token = page.locator("meta[name=csrf-token]").get_attribute("content")
        answer = page.request.post(
            f"{live_server.url}/api/patients/{_patient_id(engine)}/visits",
            data={"visit_date": (TODAY - dt.timedelta(days=11)).isoformat(),
                  "kind": "unscheduled"},
            headers={"X-CSRF-Token": token},
        )  # fmt: skip
        assert answer.status == 423, answer.text()
        assert "the database is locked" in answer.json()["message"]

        labs = tmp_path / "labs.csv"
        labs.write_text("study,patient,date,test,value,unit\n"
                        f"LEN-CLE-DEMO,{ON_STUDY},{(TODAY - dt.timedelta(days=2)).isoformat()},"
                        "wbc,4.1,10^9/L\n")  # fmt: skip
        with pytest.raises(ImportFileError, match="the database is locked"):
            import_path(engine, labs, user="data_manager")
        assert _snapshot(engine) == before  # nothing written by any path
        _as(page, live_server, "data_manager")
        _sign_lock(page, live_server, "unlock", "end of the lock test")
        expect(page.locator("#lock-state")).to_contain_text("open")
        expect(page.locator("#lock-banner")).to_have_count(0)
    finally:  # whatever failed, the other tests find the database open
        with UnitOfWork(engine, user="data_manager") as uow:
            if uow.locks.state()[0] != "open":
                uow.locks.apply("unlock", reason="end of the lock test", signed_name="Dana")
        page.goto(f"{live_server.url}/lock")  # the banner reads the state again


@pytest.fixture(scope="module")
def query_id(engine: Engine) -> int:
    """A query to show (raised through the store)."""
    with UnitOfWork(engine, user="monitor") as uow:
        query = uow.queries.raise_query(patient_id=_patient_id(engine), role="monitor",
                                        subject="Consent form version 2 is not in the file: "
                                                "please check the patient's consent")  # fmt: skip
    return int(query.id)


@pytest.mark.parametrize("width", [390, 1366])
def test_the_monitoring_pages_are_no_wider_than_the_viewport(
    page: Any, live_server: LiveServer, engine: Engine, query_id: int, width: int
) -> None:
    with UnitOfWork(engine, read_only=True) as uow:  # a demo visit with its SLEDAI-2K and labs
        visit = next(v.id for v in reversed(uow.visits.for_patient(_patient_id(engine)))
                     if uow.labs.for_visit(v.id) and uow.sledai.for_visit(v.id))  # fmt: skip
    patient = f"/patients/{_patient_id(engine)}"
    pages = {
        "data_manager": {"queries": "/queries", "query": f"/queries/{query_id}", "sdv": "/sdv",
                         "lock": "/lock", "worklist": "/worklist", "checks": "/checks",
                         "raise": f"/queries/new?patient_id={_patient_id(engine)}"},
        "monitor": {"visit": f"/visits/{visit}", "patient": patient, "worklist": "/worklist"},
        "coordinator": {"worklist": "/worklist", "query": f"/queries/{query_id}"},
    }  # fmt: skip
    page.set_viewport_size({"width": width, "height": 900})
    for user, paths in pages.items():
        _as(page, live_server, user)
        for name, path in paths.items():
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            assert page.locator("h1").count() == 1, name
            scroll = page.evaluate("document.documentElement.scrollWidth")
            shot(page, f"47-{name}-{user}-{width}")
            assert scroll <= width, f"{name} ({user}) is {scroll} px wide at {width} px"
