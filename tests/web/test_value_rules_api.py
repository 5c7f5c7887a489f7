"""One rule per kind of value on the API and the pages (dates 1900-2199, no control characters
in text), a patient page that survives any date already stored, and CSV downloads that a
spreadsheet cannot run."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.web.conftest import PASSWORD, Study, make_patient

H = dict[str, dict[str, str]]
AE = {"term": "Insomnia", "start_date": "2024-02-01", "grade": 2, "causality": "probable"}


@pytest.fixture
def study(db_study: Study) -> Study:
    """Run on SQLite and on PostgreSQL."""
    return db_study


@pytest.mark.parametrize(
    ("path", "body", "field", "value"),
    [
        ("doses", {"regimen": "off", "start_date": "0001-01-01"}, "start_date", "0001-01-01"),
        ("doses", {"regimen": "off", "start_date": "9999-12-31"}, "start_date", "9999-12-31"),
        ("adverse-events", {**AE, "end_date": "2200-01-01"}, "end_date", "2200-01-01"),
    ],
)
def test_a_date_out_of_range_is_a_422_naming_field_and_value(
    client: TestClient, headers: H, study: Study, path: str, body: dict[str, object],
    field: str, value: str,
) -> None:  # fmt: skip
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    response = client.post(f"/api/patients/{pid}/{path}", json=body, headers=h)
    assert response.status_code == 422, response.text
    error = response.json()
    assert (error["field"], error["errors"][0]["value"]) == (field, value)
    assert "must be from 1900-01-01 to 2199-12-31" in error["message"]


def test_a_first_dose_date_out_of_range_is_refused_and_the_page_still_shows(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    body = {"version": 1, "reason": "typo", "first_dose_date": "9999-12-31"}
    response = client.patch(f"/api/patients/{pid}", json=body, headers=h)
    assert response.status_code == 422 and response.json()["field"] == "first_dose_date"
    assert client.get(f"/patients/{pid}", headers=h).status_code == 200


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_the_patient_page_survives_any_date_already_stored(
    client: TestClient, headers: H, study: Study, day: str
) -> None:
    """A date stored before the rule (written here by SQL, below the store) never makes the
    patient page or its API a server error."""
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    with study.engine.begin() as conn:
        conn.execute(text("INSERT INTO doses (version, patient_id, start_date, regimen) "
                          "VALUES (1, :p, :d, 'off')"), {"p": pid, "d": day})  # fmt: skip
    assert client.get(f"/patients/{pid}", headers=h).status_code == 200
    assert client.get(f"/api/patients/{pid}", headers=h).status_code == 200


@pytest.mark.parametrize("bad", ["Insom\x00nia", "Insomnia\x1b[2J", "\x08Insomnia"])
def test_control_characters_in_text_are_a_422_not_a_server_error(
    client: TestClient, headers: H, study: Study, bad: str
) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    response = client.post(f"/api/patients/{pid}/adverse-events", json={**AE, "term": bad},
                           headers=h)  # fmt: skip
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["field"] == "term" and "control characters" in error["message"]
    note = {**AE, "note": "first line\r\n\tsecond line"}
    created = client.post(f"/api/patients/{pid}/adverse-events", json=note, headers=h)
    assert created.status_code == 201, created.text


def test_a_login_name_with_nul_is_a_failed_login(client: TestClient, study: Study) -> None:
    api = client.post("/api/auth/login", json={"username": "moni\x00tor", "password": PASSWORD})
    assert api.status_code == 422 and api.json()["field"] == "username"
    page = client.get("/login")
    token = page.cookies.get("cletrial_login_csrf") or client.cookies.get("cletrial_login_csrf")
    form = client.post("/login", data={"username": "moni\x00tor", "password": PASSWORD,
                                       "csrf_token": token}, follow_redirects=False)  # fmt: skip
    assert form.status_code == 401 and "cletrial_session" not in form.headers.get("set-cookie", "")


def test_queries_csv_neutralises_formulas_in_text_cells_only(
    client: TestClient, headers: H, study: Study
) -> None:
    pid = make_patient(client, headers["coordinator"], study.site_a, code="-A-001")
    for subject in ('=HYPERLINK("http://evil","click")', "@SUM(1)", "plain"):
        body = {"patient_id": pid, "subject": subject}
        assert client.post("/api/queries", json=body, headers=headers["monitor"]).status_code == 201
    lines = client.get("/api/queries.csv", headers=headers["monitor"]).text.splitlines()
    assert any(',"\'=HYPERLINK(""http://evil"",""click"")",' in line for line in lines)
    assert any(",'@SUM(1)," in line for line in lines)
    assert all(",'-A-001," in line for line in lines[1:])  # a study code is text
    assert all(line.split(",")[0].isdigit() for line in lines[1:])  # numbers stay numbers


def test_a_site_filter_with_nul_is_a_422(client: TestClient, headers: H, study: Study) -> None:
    response = client.get("/api/queries", params={"site": "A\x00"}, headers=headers["monitor"])
    assert response.status_code == 422 and response.json()["field"] == "site"
