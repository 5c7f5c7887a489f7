"""The pages that correct an adverse event or a dose after it was recorded: edit with a reason
(audit row with old and new values and the reason), the store's "reason required" error next to
the field, a stale edit answered 409 naming what changed, removal with a reason, each record's
audit history, object-level access (other site 403, another patient's record 404), read-only
roles, CSRF, and the regimen choices read from the protocol definition."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import PASSWORD, Study, make_patient, make_visit

from cletrial.protocol import load_protocol
from cletrial.store import UnitOfWork
from cletrial.store.fields import field_specs
from cletrial.web import WebSettings, create_app
from cletrial.web.regimens import regimen_choices
from cletrial.web.timeline import build_timeline_svg

H = dict[str, dict[str, str]]

AE = {"term": "Insomnia", "start_date": "2024-02-01", "grade": 2, "causality": "probable"}
#: The edit form of AE as the page posts it back (unticked checkboxes are not sent).
AE_FORM = {"version": "1", "term": "Insomnia", "start_date": "2024-02-01", "end_date": "",
           "grade": "2", "causality": "probable", "serious_criterion": "", "note": ""}  # fmt: skip


def _patient_with_ae(client: TestClient, headers: H, study: Study) -> tuple[int, int]:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    r = client.post(f"/api/patients/{pid}/adverse-events", json=AE, headers=h)
    assert r.status_code == 201, r.text
    return pid, int(r.json()["id"])


def _stored_ae(client: TestClient, headers: H, pid: int) -> dict[str, object]:
    r = client.get(f"/api/patients/{pid}/adverse-events", headers=headers["monitor"])
    (ae,) = r.json()
    return dict(ae)


def _error_of(page: str, field: str) -> str:
    found = re.search(rf'<span class="field-error" id="err-{field}">(.*?)</span>', page)
    assert found, f"no error shown next to {field}"
    return html.unescape(found.group(1))


def _audit_rows(study: Study, table: str, record_id: int) -> list[tuple[object, ...]]:
    with UnitOfWork(study.engine, read_only=True) as uow:
        return [(r.action, r.field, r.old_value, r.new_value, r.reason, r.actor)
                for r in uow.history(table, record_id)]  # fmt: skip


def test_edit_form_offers_every_editable_field_with_a_label(
    client: TestClient, headers: H, study: Study
) -> None:
    pid, aid = _patient_with_ae(client, headers, study)
    page = client.get(f"/patients/{pid}/adverse-events/{aid}/edit", headers=headers["coordinator"])
    assert page.status_code == 200
    editable = [n for n, spec in field_specs("adverse_events").items() if spec.editable]
    assert editable == ["term", "start_date", "end_date", "grade", "causality", "serious",
                        "serious_criterion", "outcome", "note"]  # fmt: skip
    for name in [*editable, "reason"]:
        assert f'for="f-{name}"' in page.text, name
        assert f'id="f-{name}" name="{name}"' in page.text, name
    assert 'name="version" value="1"' in page.text
    assert 'name="csrf_token"' in page.text
    form = page.text.split('id="record-form"')[1].split("</form>")[0]
    assert 'name="patient_id"' not in form and 'name="id"' not in form  # keys are not editable


def test_edit_with_a_reason_writes_old_and_new_values_and_the_reason(
    client: TestClient, headers: H, study: Study
) -> None:
    pid, aid = _patient_with_ae(client, headers, study)
    form = {**AE_FORM, "end_date": "2024-02-20", "grade": "3", "reason": "resolved; re-graded"}
    r = client.post(f"/patients/{pid}/adverse-events/{aid}/edit", data=form,
                    headers=headers["coordinator"], follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/patients/{pid}?saved=1#h-adverse-events"
    stored = _stored_ae(client, headers, pid)
    assert (stored["end_date"], stored["grade"], stored["version"]) == ("2024-02-20", 3, 2)
    updates = [row for row in _audit_rows(study, "adverse_events", aid) if row[0] == "UPDATE"]
    assert sorted(updates) == [
        ("UPDATE", "end_date", "null", '"2024-02-20"', "resolved; re-graded", "coordinator"),
        ("UPDATE", "grade", "2", "3", "resolved; re-graded", "coordinator"),
    ]
    page = client.get(f"/patients/{pid}?saved=1", headers=headers["coordinator"])
    assert "Saved." in page.text and "2024-02-20" in page.text
    audit = client.get(f"/patients/{pid}/adverse-events/{aid}/audit", headers=headers["monitor"])
    assert audit.status_code == 200
    assert "resolved; re-graded" in audit.text and "adverse event Insomnia" in audit.text
    assert "<del>2</del> → <ins>3</ins>" in audit.text


def test_missing_reason_shows_the_stores_error_next_to_the_field(
    client: TestClient, headers: H, study: Study
) -> None:
    pid, aid = _patient_with_ae(client, headers, study)
    form = {**AE_FORM, "end_date": "2024-02-20", "reason": "  "}
    r = client.post(f"/patients/{pid}/adverse-events/{aid}/edit", data=form,
                    headers=headers["coordinator"])  # fmt: skip
    assert r.status_code == 422
    assert "a reason for change is required" in _error_of(r.text, "reason")
    assert 'id="f-reason" name="reason"' in r.text and 'aria-invalid="true"' in r.text
    assert 'value="2024-02-20"' in r.text  # the entries are kept
    stored = _stored_ae(client, headers, pid)
    assert stored["end_date"] is None and stored["version"] == 1
    assert [row[0] for row in _audit_rows(study, "adverse_events", aid)] == ["INSERT"]


def test_invalid_values_are_shown_next_to_their_fields_and_nothing_is_saved(
    client: TestClient, headers: H, study: Study
) -> None:
    pid, aid = _patient_with_ae(client, headers, study)
    form = {**AE_FORM, "end_date": "2024-01-20", "grade": "7", "term": "",
            "serious_criterion": "death", "reason": "typo"}  # fmt: skip
    r = client.post(f"/patients/{pid}/adverse-events/{aid}/edit", data=form,
                    headers=headers["coordinator"])  # fmt: skip
    assert r.status_code == 422
    assert _error_of(r.text, "term") == "is required"
    assert _error_of(r.text, "grade") == "must be one of 1, 2, 3, 4, 5"
    assert _error_of(r.text, "end_date") == "must not be before the start date (2024-02-01)"
    assert _error_of(r.text, "serious_criterion") == "is only given for a serious event"
    assert _stored_ae(client, headers, pid)["version"] == 1


def test_stale_version_is_409_naming_what_changed(
    client: TestClient, headers: H, study: Study
) -> None:
    pid, aid = _patient_with_ae(client, headers, study)
    other = client.patch(f"/api/adverse-events/{aid}", headers=headers["investigator"],
                         json={"version": 1, "reason": "seen at the clinic",
                               "end_date": "2024-02-10"})  # fmt: skip
    assert other.status_code == 200
    form = {**AE_FORM, "grade": "1", "reason": "milder than recorded"}  # read at version 1
    r = client.post(f"/patients/{pid}/adverse-events/{aid}/edit", data=form,
                    headers=headers["coordinator"])  # fmt: skip
    assert r.status_code == 409
    conflict = r.text.split('id="conflict"')[1].split("</div>")[0]
    assert "End date (empty while ongoing) → 2024-02-10" in html.unescape(conflict)
    assert "you edited version 1, the stored version is 2" in conflict
    assert f'href="/patients/{pid}/adverse-events/{aid}/edit"' in conflict
    stored = _stored_ae(client, headers, pid)
    assert (stored["grade"], stored["end_date"], stored["version"]) == (2, "2024-02-10", 2)


def test_nothing_changed_saves_nothing(client: TestClient, headers: H, study: Study) -> None:
    pid, aid = _patient_with_ae(client, headers, study)
    r = client.post(f"/patients/{pid}/adverse-events/{aid}/edit", data=AE_FORM,
                    headers=headers["coordinator"], follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and "unchanged=1" in r.headers["location"]
    assert _stored_ae(client, headers, pid)["version"] == 1


def test_another_site_is_refused_and_another_patients_record_is_not_found(
    client: TestClient, headers: H, study: Study, caplog: pytest.LogCaptureFixture
) -> None:
    pid, aid = _patient_with_ae(client, headers, study)
    edit = f"/patients/{pid}/adverse-events/{aid}/edit"
    with caplog.at_level("WARNING", logger="cletrial.web.access"):
        for method, url in (("GET", edit), ("POST", edit),
                            ("POST", f"/patients/{pid}/adverse-events/{aid}/remove"),
                            ("GET", f"/patients/{pid}/adverse-events/{aid}/audit")):  # fmt: skip
            data = {**AE_FORM, "grade": "4", "reason": "x", "remove_reason": "x"}
            r = client.request(method, url, data=data if method == "POST" else None,
                               headers=headers["other"])  # fmt: skip
            assert r.status_code == 403, (method, url)
            assert "not at one of your sites" in r.text
    assert "A-001" not in caplog.text and f"/{pid}/" not in caplog.text
    # A patient of the other site cannot reach site A's record through its own patient id.
    own = make_patient(client, headers["other"], study.site_b, code="B-001")
    for url in (f"/patients/{own}/adverse-events/{aid}/edit",
                f"/patients/{own}/adverse-events/{aid}/audit"):  # fmt: skip
        assert client.get(url, headers=headers["other"]).status_code == 404
    # Nor can site A reach its own record under another of its patients.
    second = make_patient(client, headers["coordinator"], study.site_a, code="A-002")
    wrong = client.post(f"/patients/{second}/adverse-events/{aid}/edit",
                        data={**AE_FORM, "grade": "4", "reason": "x"},
                        headers=headers["coordinator"])  # fmt: skip
    assert wrong.status_code == 404
    assert client.get(f"/patients/{pid}/doses/{aid}/edit",
                      headers=headers["coordinator"]).status_code == 404  # fmt: skip
    assert _stored_ae(client, headers, pid)["grade"] == 2


@pytest.mark.parametrize("role", ["monitor", "statistician"])
def test_read_only_roles_get_no_edit_link_and_are_refused(
    client: TestClient, headers: H, study: Study, role: str
) -> None:
    pid, aid = _patient_with_ae(client, headers, study)
    page = client.get(f"/patients/{pid}", headers=headers[role]).text
    assert f"/adverse-events/{aid}/edit" not in page and ">Edit<" not in page
    assert f"/patients/{pid}/adverse-events/{aid}/audit" in page  # history is still linked
    base = f"/patients/{pid}/adverse-events/{aid}"
    assert client.get(f"{base}/edit", headers=headers[role]).status_code == 403
    data = {**AE_FORM, "grade": "4", "reason": "x", "remove_reason": "x"}
    for action in ("edit", "remove"):
        r = client.post(f"{base}/{action}", data=data, headers=headers[role])
        assert r.status_code == 403 and "does not allow this" in r.text
    assert _stored_ae(client, headers, pid)["version"] == 1
    editor = client.get(f"/patients/{pid}", headers=headers["coordinator"]).text
    assert f'href="{base}/edit"' in editor
    assert re.search(r'>Edit<span class="visually-hidden"> adverse event Insomnia from '
                     r"2024-02-01</span>", editor)  # fmt: skip


def _cookie_login(client: TestClient, username: str) -> str:
    page = client.get("/login")
    token = page.cookies.get("cletrial_login_csrf") or client.cookies.get("cletrial_login_csrf")
    r = client.post("/login", data={"username": username, "password": PASSWORD,
                                    "csrf_token": token, "next": "/"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    return client.get("/").text.split('name="csrf-token" content="')[1].split('"')[0]


def test_a_form_without_its_csrf_token_is_refused(
    client: TestClient, headers: H, study: Study
) -> None:
    pid, aid = _patient_with_ae(client, headers, study)
    assert _stored_ae(client, headers, pid)["version"] == 1  # (API logins before the cookie's)
    csrf = _cookie_login(client, "coordinator")
    url = f"/patients/{pid}/adverse-events/{aid}/edit"
    form = {**AE_FORM, "end_date": "2024-02-20", "reason": "resolved"}
    for token in (None, "forged"):
        data = form if token is None else {**form, "csrf_token": token}
        r = client.post(url, data=data, follow_redirects=False)
        assert r.status_code == 403 and "security token" in r.text
    removal = client.post(f"/patients/{pid}/adverse-events/{aid}/remove",
                          data={"version": "1", "remove_reason": "x"})  # fmt: skip
    assert removal.status_code == 403
    assert _stored_ae(client, headers, pid)["version"] == 1
    ok = client.post(url, data={**form, "csrf_token": csrf}, follow_redirects=False)
    assert ok.status_code == 303, ok.text
    assert "saved=1" in ok.headers["location"], ok.headers["location"]
    assert _stored_ae(client, headers, pid)["end_date"] == "2024-02-20"


def test_remove_with_a_reason_keeps_it_in_the_audit_history(
    client: TestClient, headers: H, study: Study
) -> None:
    pid, aid = _patient_with_ae(client, headers, study)
    h = headers["coordinator"]
    url = f"/patients/{pid}/adverse-events/{aid}/remove"
    blank = client.post(url, data={"version": "1", "remove_reason": ""}, headers=h)
    assert blank.status_code == 422
    assert "a reason for change is required" in _error_of(blank.text, "remove_reason")
    stale = client.post(url, data={"version": "3", "remove_reason": "x"}, headers=h)
    assert stale.status_code == 409 and 'id="conflict"' in stale.text
    assert len(client.get(f"/api/patients/{pid}/adverse-events", headers=h).json()) == 1
    r = client.post(url, data={"version": "1", "remove_reason": "recorded for the wrong patient"},
                    headers=h, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert r.headers["location"] == f"/patients/{pid}/adverse-events/{aid}/audit?removed=1"
    assert client.get(f"/api/patients/{pid}/adverse-events", headers=h).json() == []
    audit = client.get(r.headers["location"], headers=h)
    assert audit.status_code == 200 and "Removed." in audit.text
    assert "adverse event Insomnia from 2024-02-01 (removed)" in audit.text
    assert "recorded for the wrong patient" in audit.text and "deleted" in audit.text
    rows = _audit_rows(study, "adverse_events", aid)
    assert [(row[0], row[4]) for row in rows] == [
        ("INSERT", None), ("DELETE", "recorded for the wrong patient")]  # fmt: skip
    assert client.get(f"/patients/{pid}/adverse-events/{aid}/edit", headers=h).status_code == 404
    other = make_patient(client, h, study.site_a, code="A-002")
    assert client.get(f"/patients/{other}/adverse-events/{aid}/audit", headers=h).status_code == 404


def test_dose_edit_offers_the_protocols_ladder_and_moves_the_first_dose_date(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    make_visit(client, h, pid)  # baseline 2024-01-15 with 5 mg daily: the first dose
    (dose,) = client.get(f"/api/patients/{pid}/doses", headers=h).json()
    url = f"/patients/{pid}/doses/{dose['id']}/edit"
    page = client.get(url, headers=h)
    assert page.status_code == 200 and "first dose" in page.text
    offered = re.findall(r'<option value="([^"]*)"', page.text.split('id="f-regimen"')[1]
                         .split("</select>")[0])  # fmt: skip
    assert offered == [rid for rid, _ in regimen_choices(load_protocol("lenalidomide-cle-2012"))]
    assert offered == ["10_daily", "5_daily", "5_alternate", "5_thrice_weekly", "5_twice_weekly",
                       "off"]  # fmt: skip
    form = {"version": "1", "start_date": "2024-01-16", "regimen": "5_daily", "note": "",
            "reason": "first tablet taken the day after the visit"}  # fmt: skip
    r = client.post(url, data=form, headers=h, follow_redirects=False)
    assert r.status_code == 303, r.text
    (stored,) = client.get(f"/api/patients/{pid}/doses", headers=h).json()
    assert (stored["start_date"], stored["version"]) == ("2024-01-16", 2)
    patient = client.get(f"/api/patients/{pid}", headers=h).json()
    assert patient["first_dose_date"] == "2024-01-16"
    audit = client.get(f"/api/patients/{pid}/audit", headers=h).json()
    assert any(row["field"] == "first_dose_date" and row["new_value"] == '"2024-01-16"'
               and row["reason"] == form["reason"] for row in audit)  # fmt: skip
    bad = client.post(url, data={**form, "version": "2", "regimen": "20_daily"}, headers=h)
    assert bad.status_code == 422 and _error_of(bad.text, "regimen").startswith("must be one of")
    page = client.get(f"/patients/{pid}/doses/{dose['id']}/audit", headers=headers["monitor"])
    assert "first tablet taken the day after the visit" in page.text


def test_dose_on_a_taken_start_date_is_shown_next_to_the_field(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    for start, regimen in (("2024-01-15", "5_daily"), ("2024-02-12", "10_daily")):
        r = client.post(f"/api/patients/{pid}/doses", headers=h,
                        json={"start_date": start, "regimen": regimen})  # fmt: skip
        assert r.status_code == 201
    second = r.json()["id"]
    form = {"version": "1", "start_date": "2024-01-15", "regimen": "10_daily", "note": "",
            "reason": "date typo"}  # fmt: skip
    page = client.post(f"/patients/{pid}/doses/{second}/edit", data=form, headers=h)
    assert page.status_code == 422
    assert _error_of(page.text, "start_date") == "a record with this value already exists"
    assert [d["start_date"] for d in client.get(f"/api/patients/{pid}/doses", headers=h).json()] \
        == ["2024-01-15", "2024-02-12"]  # fmt: skip


def test_regimen_choices_come_from_the_protocol_definition(study: Study) -> None:
    thalidomide = load_protocol("thalidomide-cle-example")
    assert regimen_choices(thalidomide) == [
        ("100_daily", "100 mg every day"), ("50_daily", "50 mg every day"),
        ("50_alternate", "50 mg on alternate days"), ("50_twice_weekly", "50 mg twice a week"),
        ("off", "off (no thalidomide)"),
    ]  # fmt: skip
    history = {"assessments": [], "doses": [{"date": "2024-01-01", "regimen": "50_daily"},
                                            {"date": "2024-03-01", "regimen": "off"}]}  # fmt: skip
    svg = build_timeline_svg(history, None, thalidomide)
    assert ">50 mg/d</text>" in svg and ">off</text>" in svg
    assert 'fill="#0b5cad"' in build_timeline_svg(
        {"doses": [{"date": "2024-01-01", "regimen": "5_daily"}]}, None,
        load_protocol("lenalidomide-cle-2012"))  # fmt: skip
    app = create_app(WebSettings(database_url=study.url, protocol="thalidomide-cle-example"),
                     engine=study.engine)  # fmt: skip
    with TestClient(app) as client:
        login = client.post("/api/auth/login", json={"username": "coordinator",
                                                     "password": PASSWORD})  # fmt: skip
        h = {"Authorization": f"Bearer {login.json()['token']}"}
        pid = make_patient(client, h, study.site_a)
        form = client.get(f"/patients/{pid}/visits/new", headers=h).text
        assert '<option value="100_daily" >100 mg every day</option>' in form
        assert "10_daily" not in form
