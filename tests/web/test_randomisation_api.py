"""POST /api/patients/{id}/randomise: investigators only, CSRF on cookie sessions, the
treatment code and never the arm, refusals naming the field; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import PASSWORD, Study, make_patient

from cletrial.randomisation import AllocationList, generate_allocation_list
from cletrial.store import UnitOfWork
from cletrial.store.randomisation import import_allocation_list

H = dict[str, dict[str, str]]
ARMS = ("lenalidomide", "placebo")


@pytest.fixture
def study(db_study: Study) -> Study:
    return db_study


@pytest.fixture
def plan(study: Study) -> AllocationList:
    allocation = generate_allocation_list(
        {"subtype": ["DLE", "SCLE"], "site": ["A", "B"]},
        dict.fromkeys(ARMS, 1),
        block_sizes=[2, 4],
        per_stratum=4,
        seed=99,
        environment="production",
    )
    with UnitOfWork(study.engine, user="statistician") as uow:
        import_allocation_list(uow, study.study_id, allocation, environment="production")
    return allocation


def _randomise(client: TestClient, h: dict[str, str], patient: int, **body: object):  # type: ignore[no-untyped-def]
    body = {"strata": {"subtype": "DLE"}, "reason": "eligible, consent signed", **body}
    return client.post(f"/api/patients/{patient}/randomise", json=body, headers=h)


def test_an_investigator_gets_the_code_and_never_the_arm(
    client: TestClient, headers: H, study: Study, plan: AllocationList
) -> None:
    patient = make_patient(client, headers["investigator"], study.site_a)
    answer = _randomise(client, headers["investigator"], patient)
    assert answer.status_code == 201, answer.text
    first = next(s for s in plan.slots if s.stratum == "subtype=DLE|site=A")
    assert answer.json()["code"] == first.code and answer.json()["stratum"] == first.stratum
    assert "arm" not in answer.json() and not any(arm in answer.text for arm in ARMS)
    for role in ("investigator", "coordinator", "monitor"):
        shown = client.get(f"/api/patients/{patient}/randomisation", headers=headers[role])
        assert shown.status_code == 200 and shown.json()["code"] == first.code
        assert not any(arm in shown.text for arm in ARMS)
    again = _randomise(client, headers["investigator"], patient)
    assert again.status_code == 422
    assert "randomisations.patient_id" in again.text and "already randomised" in again.text


@pytest.mark.parametrize(
    "role", ["coordinator", "monitor", "data_manager", "statistician", "administrator"]
)
def test_only_investigators_randomise(
    client: TestClient, headers: H, study: Study, plan: AllocationList, role: str
) -> None:
    patient = make_patient(client, headers["investigator"], study.site_a)
    assert _randomise(client, headers[role], patient).status_code == 403


def test_an_investigator_of_another_site_is_refused(
    client: TestClient, headers: H, study: Study, plan: AllocationList
) -> None:
    patient = make_patient(client, headers["investigator"], study.site_a)
    assert _randomise(client, headers["other"], patient).status_code == 403
    assert (
        client.get(
            f"/api/patients/{patient}/randomisation", headers=headers["investigator"]
        ).status_code
        == 404
    )


def test_refusals_name_the_field_and_the_value(
    client: TestClient, headers: H, study: Study, plan: AllocationList
) -> None:
    h = headers["investigator"]
    patient = make_patient(client, h, study.site_a)
    bad = _randomise(client, h, patient, strata={"subtype": "LUPUS"})
    assert bad.status_code == 422 and 'strata.subtype = \\"LUPUS\\"' in bad.text
    assert _randomise(client, h, patient, environment="test").status_code == 422
    with UnitOfWork(study.engine, user="setup") as uow:
        other = uow.patients.create(
            study_id=study.study_id, site_id=study.site_a, study_code="A-900", sex="M"
        )
        uow.screenings.save(
            other.id, screening_date=dt.date(2024, 1, 10), record={}, verdict="ineligible"
        )
    refused = _randomise(client, h, other.id)
    assert refused.status_code == 422
    assert "screenings.verdict" in refused.text and "ineligible" in refused.text


def test_a_cookie_session_needs_the_csrf_token(
    client: TestClient, study: Study, plan: AllocationList, headers: H
) -> None:
    patient = make_patient(client, headers["investigator"], study.site_a)
    client.get("/login")
    token = client.cookies.get("cletrial_login_csrf")
    client.post(
        "/login",
        data={
            "username": "investigator",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/patients",
        },
    )
    body = json.dumps({"strata": {"subtype": "DLE"}})
    url = f"/api/patients/{patient}/randomise"
    plain = {"content-type": "application/json"}
    refused = client.post(url, content=body, headers=plain)
    assert refused.status_code == 403 and refused.json()["error"] == "csrf"
    csrf = client.get("/patients").text.split('name="csrf-token" content="')[1].split('"')[0]
    done = client.post(url, content=body, headers={**plain, "X-CSRF-Token": csrf})
    assert done.status_code == 201, done.text
