"""The REST API, route by route and role by role, including refused cross-site access."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import BASELINE, PASSWORD, ROLES, Study, login, make_patient, make_visit

from cletrial.instruments import fill_absent_clasi_items, fill_absent_sledai_items


@pytest.fixture
def study(db_study: Study) -> Study:
    """Run on SQLite and on PostgreSQL."""
    return db_study


H = dict[str, dict[str, str]]


def test_every_api_route_needs_a_session(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    for path, operations in schema["paths"].items():
        if path == "/api/auth/login":
            continue
        for method in operations:
            url = path.replace("{patient_id}", "1").replace("{visit_id}", "1")
            url = url.replace("{event_id}", "1").replace("{user_id}", "1")
            response = client.request(method.upper(), url, json={})
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["error"] == "unauthenticated"


def test_login_gives_a_fresh_token_and_logout_revokes_it(client: TestClient) -> None:
    first = login(client, "monitor")
    second = login(client, "monitor")
    assert first != second
    assert client.get("/api/auth/me", headers=first).json()["role"] == "monitor"
    assert client.post("/api/auth/logout", headers=first).status_code == 204
    assert client.get("/api/auth/me", headers=first).status_code == 401
    assert client.get("/api/auth/me", headers=second).status_code == 200


def test_wrong_password_then_lockout(client: TestClient) -> None:
    for _ in range(5):
        r = client.post("/api/auth/login", json={"username": "monitor", "password": "nope-nope"})
        assert r.status_code == 401
    r = client.post("/api/auth/login", json={"username": "monitor", "password": PASSWORD})
    assert r.status_code == 429 and r.json()["error"] == "locked_out"


def test_cookie_session_needs_csrf_on_unsafe_requests(client: TestClient) -> None:
    page = client.get("/login")
    token = page.cookies.get("cletrial_login_csrf") or client.cookies.get("cletrial_login_csrf")
    r = client.post("/login", data={"username": "investigator", "password": PASSWORD,
                                    "csrf_token": token, "next": "/patients"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/patients"
    assert "httponly" in r.headers["set-cookie"].lower()
    assert "samesite=strict" in r.headers["set-cookie"].lower()
    body = json.dumps(fill_absent_clasi_items({"regions": {"arms": {"erythema": 2}}})).encode()
    json_headers = {"content-type": "application/json"}
    refused = client.post("/api/score/clasi", content=body, headers=json_headers)
    assert refused.status_code == 403 and refused.json()["error"] == "csrf"
    html = client.get("/patients").text
    csrf = html.split('name="csrf-token" content="')[1].split('"')[0]
    ok = client.post(
        "/api/score/clasi", content=body, headers={**json_headers, "X-CSRF-Token": csrf}
    )
    assert ok.status_code == 200 and ok.json()["activity"] == 2


def test_login_form_without_its_csrf_cookie_is_refused(client: TestClient) -> None:
    r = client.post("/login", data={"username": "investigator", "password": PASSWORD,
                                    "csrf_token": "forged"})  # fmt: skip
    assert r.status_code == 403
    assert "expired" in r.text


def test_live_scoring(client: TestClient, headers: H) -> None:
    h = headers["monitor"]
    form = fill_absent_clasi_items({"regions": {"arms": {"erythema": 3, "scale": 2}},
                                    "nonscarring_alopecia": 2})  # fmt: skip
    r = client.post("/api/score/clasi", json=form, headers=h)
    assert r.json() == {"activity": 7, "damage": 0, "activity_severity": "mild",
                        "max_erythema": 3}  # fmt: skip
    bad = client.post("/api/score/clasi", json={"regions": {"arms": {"scale": 3}}}, headers=h)
    assert bad.status_code == 422
    assert bad.json()["field"] == "regions.arms.scale" and bad.json()["value"] == 3
    sparse = client.post("/api/score/clasi", json={"regions": {"arms": {"erythema": 3}}},
                         headers=h)  # fmt: skip
    assert sparse.status_code == 422 and "never left blank" in sparse.json()["message"]
    r = client.post(
        "/api/score/sledai",
        json=fill_absent_sledai_items(
            {"seizure": True, "leukopenia": True, "leukopenia_drug_induced": True}
        ),
        headers=h,
    )
    assert r.json() == {"score": 8, "scored": {"seizure": 8}}
    r = client.post("/api/grade", json={"test": "neutrophils", "value": 1190, "unit": "/mm3"},
                    headers=h)  # fmt: skip
    assert r.json()["grade"] == 2 and r.json()["lln_source"] == "default"
    r = client.post("/api/score/bsa", json={"involvement": {"anterior_trunk": 1.0}}, headers=h)
    assert r.json() == {"percent": 18.0}
    r = client.post("/api/eligibility", json={"screening_date": "2024-01-10", "age_years": 17},
                    headers=h)  # fmt: skip
    assert r.json()["verdict"] == "ineligible"
    assert r.json()["criteria"][0]["id"] == "I1" and r.json()["criteria"][0]["status"] == "not_met"
    history = {"first_dose_date": "2024-01-15",
               "baseline": {"date": "2024-01-15", "clasi": {"activity": 10, "damage": 1}},
               "assessments": [{"date": "2024-02-12", "clasi": {"activity": 0, "damage": 1}}],
               "doses": [{"date": "2024-01-15", "regimen": "5_daily"}]}  # fmt: skip
    r = client.post("/api/recommendation", json={"history": history, "on": "2024-02-12"},
                    headers=h)  # fmt: skip
    assert r.status_code == 200
    assert r.json()["action"] == "taper" and r.json()["reasons"]


def test_unsupported_body_is_refused(client: TestClient, headers: H) -> None:
    r = client.post("/api/score/clasi", content=b"[1, 2]", headers={
        **headers["monitor"], "content-type": "application/json"})  # fmt: skip
    assert r.status_code == 422
    r = client.post("/api/score/clasi", content=b"x", headers={
        **headers["monitor"], "content-type": "text/plain"})  # fmt: skip
    assert r.status_code == 422 and r.json()["field"] == "content-type"


@pytest.mark.parametrize("role", ROLES)
def test_screening_by_role(client: TestClient, headers: H, study: Study, role: str) -> None:
    body = {
        "site_id": study.site_a,
        "study_code": f"R-{role}",
        "screening_date": "2024-01-10",
        "screening": {"screening_date": "2024-01-10", "age_years": 40},
    }
    r = client.post("/api/patients", json=body, headers=headers[role])
    allowed = role in ("investigator", "coordinator")
    assert r.status_code == (201 if allowed else 403), r.text
    if allowed:
        assert r.json()["screening_verdict"] == "undetermined"


@pytest.mark.parametrize("role", ROLES)
def test_visit_entry_by_role(client: TestClient, headers: H, study: Study, role: str) -> None:
    pid = make_patient(client, headers["investigator"], study.site_a)
    r = client.post(f"/api/patients/{pid}/visits", json=BASELINE, headers=headers[role])
    assert r.status_code == (201 if role in ("investigator", "coordinator") else 403), r.text
    listed = client.get(f"/api/patients/{pid}/visits", headers=headers[role])
    assert listed.status_code == 200  # every role may read patients of its sites


def test_visit_saves_scores_grades_dose_and_first_dose(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    visit = make_visit(client, h, pid)
    assert visit["clasi"]["activity"] == 6 and visit["clasi"]["damage"] == 0  # type: ignore[index]
    assert visit["sledai"]["score"] == 2  # type: ignore[index]
    assert visit["labs"][0]["ctcae_grade"] == 2  # type: ignore[index]
    patient = client.get(f"/api/patients/{pid}", headers=h).json()
    assert patient["first_dose_date"] == "2024-01-15"
    doses = client.get(f"/api/patients/{pid}/doses", headers=h).json()
    assert [d["regimen"] for d in doses] == ["5_daily"]
    history = client.get(f"/api/patients/{pid}/history", headers=h).json()
    assert history["baseline"]["clasi"]["regions"]["nose"]["erythema"] == 3
    assert history["patient_id"] == "A-001"
    reco = client.get(f"/api/patients/{pid}/recommendation?on=2024-01-16", headers=h).json()
    assert reco["action"] in {"continue", "start"} and reco["reasons"]
    assert all({"rule", "source", "text", "data"} <= set(r) for r in reco["reasons"])


def test_missing_forms_stay_missing(client: TestClient, headers: H, study: Study) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    visit = make_visit(client, h, pid, {"visit_date": "2024-01-15", "kind": "baseline"})
    assert visit["clasi"] is None and visit["sledai"] is None
    history = client.get(f"/api/patients/{pid}/history", headers=h).json()
    assert "clasi" not in history["baseline"]


def test_edit_needs_version_and_reason_and_conflict_is_409(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["investigator"]
    pid = make_patient(client, h, study.site_a)
    visit = make_visit(client, h, pid)
    vid = visit["id"]
    no_reason = client.patch(f"/api/visits/{vid}", json={"version": 1, "notes": "x"}, headers=h)
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    first = client.patch(
        f"/api/visits/{vid}",
        json={"version": 1, "reason": "typo", "notes": "first edit"},
        headers=h,
    )
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = client.patch(
        f"/api/visits/{vid}",
        json={"version": 1, "reason": "late", "notes": "stale edit"},
        headers=h,
    )
    assert stale.status_code == 409
    body = stale.json()
    assert body["error"] == "conflict" and body["expected_version"] == 1
    assert body["actual_version"] == 2 and "notes" in body["changed"]
    clasi = fill_absent_clasi_items({"regions": {"arms": {"erythema": 1}}})
    stale_form = client.patch(
        f"/api/visits/{vid}",
        json={"version": 2, "reason": "regrade", "clasi": clasi, "clasi_version": 7},
        headers=h,
    )
    assert stale_form.status_code == 409
    ok = client.patch(f"/api/visits/{vid}", json={
        "version": 2, "reason": "regrade", "clasi": clasi, "clasi_version": 1,
        "labs": [{"test": "neutrophils", "value": 800, "unit": "/mm3"}],
        "lab_versions": {"neutrophils": 1}}, headers=h)  # fmt: skip
    assert ok.status_code == 200, ok.text
    assert ok.json()["clasi"]["activity"] == 1 and ok.json()["labs"][0]["ctcae_grade"] == 3
    audit = client.get(f"/api/visits/{vid}/audit", headers=headers["monitor"]).json()
    reasons = {row["reason"] for row in audit}
    assert {"typo", "regrade"} <= reasons
    assert any(row["field"] == "arms_erythema" for row in audit)


def test_sign_with_password_locks_and_unlock_needs_reason(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["investigator"]
    pid = make_patient(client, h, study.site_a)
    vid = make_visit(client, h, pid)["id"]
    wrong = client.post(f"/api/visits/{vid}/sign", json={"version": 1, "password": "wrong-one"},
                        headers=h)  # fmt: skip
    assert wrong.status_code == 403 and wrong.json()["error"] == "signature_refused"
    for role in ("coordinator", "monitor", "statistician", "administrator"):
        refused = client.post(f"/api/visits/{vid}/sign", json={"version": 1,
                              "password": PASSWORD}, headers=headers[role])  # fmt: skip
        assert refused.status_code == 403, role
    signed = client.post(f"/api/visits/{vid}/sign", json={"version": 1, "password": PASSWORD},
                         headers=h)  # fmt: skip
    assert signed.status_code == 200
    assert signed.json()["status"] == "signed" and signed.json()["signed_by"] == "investigator"
    locked = client.patch(f"/api/visits/{vid}", json={"version": 2, "reason": "x", "notes": "y"},
                          headers=headers["coordinator"])  # fmt: skip
    assert locked.status_code == 423 and locked.json()["error"] == "locked"
    audit = client.get(f"/api/visits/{vid}/audit", headers=h).json()
    signature = [r for r in audit if r["field"] == "status" and r["new_value"] == '"signed"']
    assert signature and "Dr Investigator" in signature[0]["reason"]
    assert "approve" in signature[0]["reason"]
    no_reason = client.post(f"/api/visits/{vid}/unlock", json={"version": 2, "reason": ""},
                            headers=h)  # fmt: skip
    assert no_reason.status_code == 422
    refused = client.post(f"/api/visits/{vid}/unlock", json={"version": 2, "reason": "fix"},
                          headers=headers["coordinator"])  # fmt: skip
    assert refused.status_code == 403
    unlocked = client.post(
        f"/api/visits/{vid}/unlock",
        json={"version": 2, "reason": "correct a lab value"},
        headers=headers["administrator"],
    )
    assert unlocked.status_code == 200 and unlocked.json()["status"] == "open"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/patients/{pid}"),
        ("GET", "/api/patients/{pid}/visits"),
        ("GET", "/api/patients/{pid}/history"),
        ("GET", "/api/patients/{pid}/recommendation"),
        ("GET", "/api/patients/{pid}/screening"),
        ("GET", "/api/patients/{pid}/audit"),
        ("GET", "/api/patients/{pid}/adverse-events"),
        ("GET", "/api/patients/{pid}/doses"),
        ("GET", "/api/visits/{vid}"),
        ("GET", "/api/visits/{vid}/audit"),
        ("POST", "/api/patients/{pid}/visits"),
        ("PATCH", "/api/visits/{vid}"),
        ("POST", "/api/visits/{vid}/sign"),
        ("POST", "/api/visits/{vid}/unlock"),
        ("PATCH", "/api/patients/{pid}"),
        ("POST", "/api/patients/{pid}/adverse-events"),
        ("POST", "/api/patients/{pid}/doses"),
        ("POST", "/api/patients/{pid}/events"),
        ("GET", "/patients/{pid}"),
        ("GET", "/visits/{vid}"),
        ("GET", "/visits/{vid}/audit"),
    ],
)
def test_another_sites_patient_is_refused_and_logged(
    client: TestClient, headers: H, study: Study, method: str, path: str,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    pid = make_patient(client, headers["investigator"], study.site_a, code="SECRET-77")
    vid = make_visit(client, headers["investigator"], pid)["id"]
    bodies = {
        "/api/patients/{pid}/visits": BASELINE | {"visit_date": "2024-02-01", "kind": "scheduled"},
        "/api/visits/{vid}": {"version": 1, "reason": "x", "notes": "y"},
        "/api/visits/{vid}/sign": {"version": 1, "password": PASSWORD},
        "/api/visits/{vid}/unlock": {"version": 1, "reason": "x"},
        "/api/patients/{pid}": {"version": 1, "reason": "x", "sex": "M"},
        "/api/patients/{pid}/adverse-events": {"term": "Rash", "start_date": "2024-02-01",
                                               "grade": 1, "causality": "possible"},
        "/api/patients/{pid}/doses": {"regimen": "off"},
        "/api/patients/{pid}/events": {"event_type": "completed", "event_date": "2024-03-01"},
    }  # fmt: skip
    url = path.format(pid=pid, vid=vid)
    with caplog.at_level("WARNING", logger="cletrial.web.access"):
        r = client.request(method, url, json=bodies.get(path), headers=headers["other"])
    assert r.status_code == 403, r.text
    assert "not at one of your sites" in r.text
    assert "refused cross-site access" in caplog.text
    assert "SECRET-77" not in caplog.text and f"/{pid}" not in caplog.text
    template = path.replace("{pid}", "{patient_id}").replace("{vid}", "{visit_id}")
    assert f" on {template}, record of site" in caplog.text  # the route template, from the request


def test_patient_list_is_limited_to_own_sites(client: TestClient, headers: H, study: Study) -> None:
    make_patient(client, headers["investigator"], study.site_a, code="A-1")
    make_patient(client, headers["other"], study.site_b, code="B-1")
    codes_a = {
        p["study_code"] for p in client.get("/api/patients", headers=headers["monitor"]).json()
    }
    codes_b = {
        p["study_code"] for p in client.get("/api/patients", headers=headers["other"]).json()
    }
    assert codes_a == {"A-1"} and codes_b == {"B-1"}
    r = client.post("/api/patients", json={"site_id": study.site_b, "study_code": "X",
                                           "screening_date": "2024-01-10"},
                    headers=headers["investigator"])  # fmt: skip
    assert r.status_code == 403


def test_adverse_events_doses_events(client: TestClient, headers: H, study: Study) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    ae = client.post(f"/api/patients/{pid}/adverse-events", json={
        "term": "Insomnia", "start_date": "2024-02-01", "grade": 2, "causality": "probable"},
        headers=h)  # fmt: skip
    assert ae.status_code == 201
    bad = client.post(f"/api/patients/{pid}/adverse-events", json={
        "term": "Rash", "start_date": "2024-02-01", "grade": 6, "causality": "probable"},
        headers=h)  # fmt: skip
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "grade"
    changed = client.patch(f"/api/adverse-events/{ae.json()['id']}", json={
        "version": 1, "reason": "resolved", "end_date": "2024-02-20"}, headers=h)  # fmt: skip
    assert changed.status_code == 200 and changed.json()["end_date"] == "2024-02-20"
    assert (
        client.post(
            f"/api/patients/{pid}/doses",
            json={"regimen": "10_daily", "start_date": "2024-02-12"},
            headers=h,
        ).status_code
        == 201
    )
    assert (
        client.post(
            f"/api/patients/{pid}/doses", json={"regimen": "20_daily"}, headers=h
        ).status_code
        == 422
    )
    ev = client.post(f"/api/patients/{pid}/events", json={"event_type": "consent_withdrawn",
                     "event_date": "2024-03-01"}, headers=h)  # fmt: skip
    assert ev.status_code == 201
    monitor = client.post(f"/api/patients/{pid}/doses", json={"regimen": "off"},
                          headers=headers["monitor"])  # fmt: skip
    assert monitor.status_code == 403


def test_patient_edit(client: TestClient, headers: H, study: Study) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    r = client.patch(f"/api/patients/{pid}", json={"version": 1, "reason": "recorded wrongly",
                                                   "sex": "M"}, headers=h)  # fmt: skip
    assert r.status_code == 200 and r.json()["sex"] == "M"
    audit = client.get(f"/api/patients/{pid}/audit", headers=h).json()
    assert any(row["field"] == "sex" and row["reason"] == "recorded wrongly" for row in audit)
    screening = client.get(f"/api/patients/{pid}/screening", headers=h).json()
    assert screening["eligibility"]["verdict"] == screening["verdict"]


@pytest.mark.parametrize("role", ROLES)
def test_report_and_exports_by_role(
    client: TestClient, headers: H, study: Study, role: str
) -> None:
    pid = make_patient(client, headers["investigator"], study.site_a)
    make_visit(client, headers["investigator"], pid)
    report = client.get("/api/report", headers=headers[role])
    assert report.status_code == (
        200 if role in ("investigator", "statistician", "administrator") else 403
    )
    exports = client.get("/api/exports/histories.jsonl", headers=headers[role])
    exporters = ("statistician", "administrator", "data_manager")
    assert exports.status_code == (200 if role in exporters else 403)
    if exports.status_code == 200:
        assert exports.text.count("\n") == 1 and '"A-001"' in exports.text
        csv = client.get("/api/exports/endpoints.csv", headers=headers[role])
        assert csv.status_code == 200 and csv.text.startswith(csv.text.split("\n")[0])


@pytest.mark.parametrize("role", ROLES)
def test_administration_by_role(client: TestClient, headers: H, study: Study, role: str) -> None:
    r = client.get("/api/users", headers=headers[role])
    assert r.status_code == (200 if role == "administrator" else 403)
    assert client.get("/api/sites", headers=headers[role]).status_code == 200


def test_administrator_manages_users_and_sites(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["administrator"]
    site = client.post("/api/sites", json={"code": "C", "name": "Site C"}, headers=h)
    assert site.status_code == 201
    user = client.post("/api/users", json={"username": "newbie", "password": "long password",
                                           "role": "coordinator", "site_ids": [study.site_a]},
                       headers=h)  # fmt: skip
    assert user.status_code == 201 and user.json()["site_ids"] == [study.site_a]
    assert "password" not in user.text
    short = client.post("/api/users", json={"username": "x", "password": "short",
                                            "role": "monitor"}, headers=h)  # fmt: skip
    assert short.status_code == 422
    moved = client.post(
        f"/api/users/{user.json()['id']}/sites",
        json={"add": [site.json()["id"]], "remove": [study.site_a], "reason": "moved"},
        headers=h,
    )
    assert moved.status_code == 200 and moved.json()["site_ids"] == [site.json()["id"]]
    newbie = client.post(
        "/api/auth/login", json={"username": "newbie", "password": "long password"}
    ).json()["token"]
    nh = {"Authorization": f"Bearer {newbie}"}
    assert client.get("/api/auth/me", headers=nh).status_code == 200
    off = client.patch(f"/api/users/{user.json()['id']}", json={
        "version": user.json()["version"], "reason": "left the study", "active": False},
        headers=h)  # fmt: skip
    assert off.status_code == 200 and off.json()["active"] is False
    assert client.get("/api/auth/me", headers=nh).status_code == 401  # logged out at once


def test_openapi_documents_the_instrument_forms(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    assert "ClasiForm" in schema["components"]["schemas"]
    body = schema["paths"]["/api/score/clasi"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("/ClasiForm")
    visit = schema["components"]["schemas"]["VisitCreate"]["properties"]["clasi"]
    assert "ClasiForm" in str(visit)


def test_security_headers(client: TestClient) -> None:
    r = client.get("/login")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-store"


def test_a_site_country_is_iso_alpha_3_or_refused_naming_it(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["administrator"]
    for bad in ("ZZZ", "esp", "Spain"):
        r = client.post("/api/sites", json={"code": "D", "name": "Site D", "country": bad},
                        headers=h)  # fmt: skip
        assert r.status_code == 422, r.text
        assert "country" in r.text and bad in r.text
    assert all(s["code"] != "D" for s in client.get("/api/sites", headers=h).json())
    made = client.post("/api/sites", json={"code": "D", "name": "Site D", "country": "PRT"},
                       headers=h)  # fmt: skip
    assert made.status_code == 201 and made.json()["country"] == "PRT"
