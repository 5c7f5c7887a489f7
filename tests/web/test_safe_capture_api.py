"""Safe data capture through the REST API: blanks, units, impossible and improbable values,
future dates, the enrolment gate and its e-signed override, pregnancy tests, dispositions, and a
signature that covers everything recorded at its visit."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import (
    BASELINE,
    PASSWORD,
    SCREENING,
    Study,
    make_patient,
    make_visit,
)

H = dict[str, dict[str, str]]
TODAY = dt.date.today()


@pytest.fixture
def study(db_study: Study) -> Study:
    """These rules are checked on SQLite and on PostgreSQL."""
    return db_study


def _screen(client: TestClient, h: dict[str, str], site: int, code: str, **record: Any) -> int:
    body = {"site_id": site, "study_code": code, "screening_date": "2024-01-10", "sex": "F",
            "screening": {**copy.deepcopy(SCREENING), **record}}  # fmt: skip
    response = client.post("/api/patients", json=body, headers=h)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _visits(client: TestClient, h: dict[str, str], pid: int) -> int:
    return len(client.get(f"/api/patients/{pid}/visits", headers=h).json())


def test_a_partly_filled_grid_is_refused_naming_the_empty_cells(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    body = {**BASELINE, "clasi": {"regions": {"arms": {"erythema": 2}}}}
    response = client.post(f"/api/patients/{pid}/visits", json=body, headers=h)
    assert response.status_code == 422
    error = response.json()
    assert error["field"] == "regions.scalp.erythema" and "never left blank" in error["message"]
    assert "regions.ears.scale" in error["message"] and _visits(client, h, pid) == 0


def test_a_lab_in_the_wrong_unit_or_impossible_is_refused_and_improbable_needs_confirming(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    wrong = {**BASELINE, "labs": [{"test": "neutrophils", "value": 3800, "unit": "10^9/L"}]}
    response = client.post(f"/api/patients/{pid}/visits", json=wrong, headers=h)
    assert response.status_code == 422 and response.json()["field"] == "labs[0].value"
    assert "Did you mean 3800 /mm3" in response.json()["message"]
    improbable = {**BASELINE, "labs": [{"test": "neutrophils", "value": 40, "unit": "10^9/L"}]}
    response = client.post(f"/api/patients/{pid}/visits", json=improbable, headers=h)
    assert response.status_code == 422 and "improbable" in response.json()["message"]
    assert _visits(client, h, pid) == 0  # nothing half-written
    confirmed = copy.deepcopy(improbable)
    confirmed["labs"][0]["confirmed"] = True
    response = client.post(f"/api/patients/{pid}/visits", json=confirmed, headers=h)
    assert response.status_code == 201, response.text
    (lab,) = response.json()["labs"]
    assert (lab["value_confirmed"], lab["std_value"], lab["std_unit"]) == (True, 40.0, "10^9/L")
    lab = {"test": "neutrophils", "value": 1190, "unit": "/mm3"}
    mm3 = client.post(f"/api/patients/{pid}/visits", headers=h,
                      json={"visit_date": "2024-01-22", "labs": [lab]})  # fmt: skip
    assert mm3.status_code == 201 and mm3.json()["labs"][0]["std_value"] == 1.19


def test_nothing_is_dated_in_the_future(client: TestClient, headers: H, study: Study) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    future = (TODAY + dt.timedelta(days=30)).isoformat()
    response = client.post(f"/api/patients/{pid}/visits", json={**BASELINE, "visit_date": future},
                           headers=h)  # fmt: skip
    assert response.status_code == 422 and response.json()["field"] == "visits.visit_date"
    assert "nothing may be dated in the future" in response.json()["message"]
    later = (TODAY + dt.timedelta(days=40)).isoformat()
    body = {
        "site_id": study.site_a,
        "study_code": "FUT-1",
        "sex": "F",
        "screening_date": later,
        "screening": {"screening_date": later},
    }
    response = client.post("/api/patients", json=body, headers=h)
    assert response.status_code == 422 and "future" in response.json()["message"]


def test_a_patient_not_eligible_is_not_dosed_until_an_investigator_overrides(
    client: TestClient, headers: H, study: Study
) -> None:
    h, inv = headers["coordinator"], headers["investigator"]
    pid = _screen(client, h, study.site_a, "INEL-1", age_years=16)
    reco = client.get(f"/api/patients/{pid}/recommendation", params={"on": "2024-01-15"},
                      headers=h).json()  # fmt: skip
    assert reco["action"] == "do_not_start" and reco["reasons"]
    response = client.post(f"/api/patients/{pid}/visits", json=BASELINE, headers=h)
    assert response.status_code == 422 and response.json()["field"] == "doses.regimen"
    assert "not enrolled" in response.json()["message"] and _visits(client, h, pid) == 0
    url = f"/api/patients/{pid}/enrolment-override"
    reason = "age 16 years 11 months; ethics committee approval on file"
    assert client.post(url, json={"reason": reason, "password": PASSWORD},
                       headers=h).status_code == 403  # a coordinator cannot  # fmt: skip
    wrong = client.post(url, json={"reason": reason, "password": "not it"}, headers=inv)
    assert wrong.status_code == 403
    done = client.post(url, json={"reason": reason, "password": PASSWORD}, headers=inv)
    assert done.status_code == 201, done.text
    assert (done.json()["verdict"], done.json()["signed_name"]) == ("ineligible", "Dr Investigator")
    assert client.post(f"/api/patients/{pid}/visits", json=BASELINE, headers=h).status_code == 201
    deviations = client.get("/api/deviations", headers=h).json()
    assert [d["category"] for d in deviations if d["patient_id"] == pid] == ["enrolment_override"]


def test_pregnancy_tests_are_for_female_patients_and_clear_their_due_item(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    url = f"/api/patients/{pid}/pregnancy-tests"
    saved = client.post(url, json={"test_date": "2024-01-12", "result": "negative",
                                   "method": "serum"}, headers=h)  # fmt: skip
    assert saved.status_code == 201, saved.text
    assert [t["result"] for t in client.get(url, headers=h).json()] == ["negative"]
    early = client.post(url, json={"test_date": "2023-12-01", "result": "negative"}, headers=h)
    assert early.status_code == 422 and "before the patient's screening" in early.json()["message"]
    male = make_patient(client, h, study.site_a, code="M-001")
    client.patch(f"/api/patients/{male}", json={"version": 1, "reason": "sex corrected",
                                                  "sex": "M"}, headers=h)  # fmt: skip
    refused = client.post(
        f"/api/patients/{male}/pregnancy-tests",
        json={"test_date": "2024-01-12", "result": "negative"},
        headers=h,
    )
    assert refused.status_code == 422 and "male" in refused.json()["message"]


def test_after_the_end_of_study_nothing_is_due_and_nothing_more_is_recorded(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    make_visit(client, h, pid)
    url = f"/api/patients/{pid}/dispositions"
    eot = {"kind": "end_of_treatment", "disposition_date": "2024-02-01",
           "reason": "withdrawal_by_subject", "last_dose_date": "2024-01-31"}  # fmt: skip
    assert client.post(url, json=eot, headers=h).status_code == 201
    early = {"kind": "end_of_study", "disposition_date": "2024-01-20", "reason": "completed"}
    assert client.post(url, json=early, headers=h).status_code == 422
    eos = {"kind": "end_of_study", "disposition_date": "2024-02-01",
           "reason": "withdrawal_by_subject"}  # fmt: skip
    assert client.post(url, json=eos, headers=h).status_code == 201
    reco = client.get(f"/api/patients/{pid}/recommendation", params={"on": "2024-06-01"},
                      headers=h).json()  # fmt: skip
    assert reco["next_visit"] is None and reco["labs_due"] == [] and reco["undetermined"] == []
    late = client.post(f"/api/patients/{pid}/visits",
                       json={"visit_date": "2024-03-01"}, headers=h)  # fmt: skip
    assert late.status_code == 422 and "end of study" in late.json()["message"]


def test_signing_locks_everything_recorded_at_the_visit_and_shows_the_manifest(
    client: TestClient, headers: H, study: Study
) -> None:
    h, inv = headers["coordinator"], headers["investigator"]
    pid = make_patient(client, h, study.site_a)
    body = {**BASELINE, "adverse_events": [{"term": "Fatigue", "start_date": "2024-01-15",
                                            "grade": 1, "causality": "possible"}]}  # fmt: skip
    visit = make_visit(client, h, pid, body)
    signed = client.post(
        f"/api/visits/{visit['id']}/sign",
        json={"version": visit["version"], "password": PASSWORD},
        headers=inv,
    )
    assert signed.status_code == 200, signed.text
    signature = signed.json()["signature"]
    assert signature["printed_name"] == "Dr Investigator" and signature["meaning"]
    (ae,) = client.get(f"/api/patients/{pid}/adverse-events", headers=h).json()
    change = client.patch(f"/api/adverse-events/{ae['id']}",
                          json={"version": ae["version"], "reason": "regrade", "grade": 2},
                          headers=h)  # fmt: skip
    assert change.status_code == 423, change.text
    (dose,) = client.get(f"/api/patients/{pid}/doses", headers=h).json()
    change = client.patch(f"/api/doses/{dose['id']}", json={"version": dose["version"],
                          "reason": "typo", "regimen": "10_daily"}, headers=h)  # fmt: skip
    assert change.status_code == 423


def test_immunology_nerve_conduction_and_medication_are_recorded_and_in_the_history(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    make_visit(client, h, pid)  # first dose 2024-01-15
    base = f"/api/patients/{pid}"
    assert (
        client.post(
            f"{base}/immunology",
            headers=h,
            json={"sample_date": "2024-01-15", "test": "ana", "result": "positive"},
        ).status_code
        == 201
    )
    bad = client.post(
        f"{base}/immunology",
        headers=h,
        json={"sample_date": "2024-01-15", "test": "ana", "result": "weak"},
    )
    assert bad.status_code == 422
    assert (
        client.post(
            f"{base}/nerve-conduction",
            headers=h,
            json={"study_date": "2024-01-15", "result": "normal"},
        ).status_code
        == 201
    )
    medication = {"name": "prednisone 5 mg/day", "baseline": False, "start_date": "2024-02-01"}
    assert client.post(f"{base}/medications", headers=h, json=medication).status_code == 201
    backwards = {"name": "aspirin", "baseline": False, "start_date": "2024-02-01",
                 "end_date": "2024-01-20"}  # fmt: skip
    refused = client.post(f"{base}/medications", headers=h, json=backwards)
    assert refused.status_code == 422 and "before the start date" in refused.json()["message"]
    history = client.get(f"{base}/history", headers=h).json()
    assert history["immunology"] == [{"date": "2024-01-15", "test": "ana", "result": "positive"}]
    assert history["nerve_conduction"] == [{"date": "2024-01-15", "result": "normal"}]
    assert history["concomitant_medications"][0]["name"] == "prednisone 5 mg/day"
    deviations = [d for d in client.get("/api/deviations", headers=h).json()
                  if d["patient_id"] == pid]  # fmt: skip
    assert [(d["category"], d["deviation_date"]) for d in deviations] == [
        ("medication", "2024-02-01")
    ]
    reco = client.get(f"{base}/recommendation", params={"on": "2024-02-05"}, headers=h).json()
    assert [d["rule"] for d in reco["deviations"]] == ["DEVIATION-MEDICATION"]
    page = client.get(f"/patients/{pid}", headers=h)
    assert "Nerve conduction" in page.text and "prednisone 5 mg/day" in page.text


def test_a_second_visit_on_the_same_day_is_refused_on_the_date_field(
    client: TestClient, headers: H, study: Study
) -> None:
    h = headers["coordinator"]
    pid = make_patient(client, h, study.site_a)
    make_visit(client, h, pid)
    page = client.post(f"/patients/{pid}/visits/new", headers=h,
                       data={"visit_date": "2024-01-15", "kind": "scheduled"})  # fmt: skip
    assert page.status_code == 422
    assert 'id="err-visit_date"' in page.text and "already has a visit on 2024-01-15" in page.text
