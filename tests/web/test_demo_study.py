"""The demo study through the API: every patient's history is the store's export, and the
recommendation shown for every demo patient is the protocol engine's answer for the SYNTHETIC
history the demo was built from (nothing is lost or changed between generator, store and page).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cletrial.protocol import load_protocol, parse_history, recommend
from cletrial.store import UnitOfWork, create_engine_for, export_patient_history, upgrade
from cletrial.web import WebSettings, create_app
from cletrial.web.demo import build_demo_study, demo_histories, demo_history_keys

TODAY = dt.date(2025, 6, 1)


@dataclass
class Demo:
    engine: Engine
    client: TestClient
    headers: dict[str, str]
    patients: dict[str, int]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    path: Path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    engine = create_engine_for(f"sqlite:///{path}")
    upgrade(engine)
    passwords = {user: password for user, password, _ in build_demo_study(engine, today=TODAY)}
    with UnitOfWork(engine, read_only=True) as uow:
        patients = {p.study_code: p.id for p in uow.patients.list()}
    app = create_app(WebSettings(database_url=f"sqlite:///{path}", synthetic_data=True),
                     engine=engine)  # fmt: skip
    with TestClient(app) as client:
        body = {"username": "monitor", "password": passwords["monitor"]}
        login = client.post("/api/auth/login", json=body)
        assert login.status_code == 200, login.text
        yield Demo(engine, client, {"Authorization": f"Bearer {login.json()['token']}"}, patients)
    engine.dispose()


def test_history_is_the_stores_export(demo: Demo) -> None:
    assert len(demo.patients) == 15
    with UnitOfWork(demo.engine, read_only=True) as uow:
        for patient_id in demo.patients.values():
            got = demo.client.get(f"/api/patients/{patient_id}/history", headers=demo.headers)
            assert got.status_code == 200, got.text
            assert got.json() == export_patient_history(uow, patient_id)


@pytest.mark.parametrize("days_after", [0, 28])
def test_recommendation_of_every_demo_patient_is_that_of_its_source_history(
    demo: Demo, days_after: int
) -> None:
    protocol = load_protocol()
    on = TODAY + dt.timedelta(days=days_after)
    sources = {
        h["patient_id"]: {**h, **demo_history_keys(h, number, TODAY, protocol)}
        for number, h in enumerate(demo_histories(TODAY, protocol), 1)
    }
    assert set(sources) == set(demo.patients)
    actions: set[str] = set()
    for code, patient_id in demo.patients.items():
        history = parse_history(sources[code])
        expected: dict[str, Any] = recommend(history, protocol, on=on).as_dict()
        got = demo.client.get(f"/api/patients/{patient_id}/recommendation",
                              params={"on": on.isoformat()}, headers=demo.headers)  # fmt: skip
        assert got.status_code == 200, got.text
        assert got.json() == expected, code
        actions.add(str(expected.get("action")))
    assert actions  # the comparison saw real recommendations


def test_dashboard_and_patient_pages_show_every_demo_patient(demo: Demo) -> None:
    page = demo.client.get("/patients", headers=demo.headers)
    assert page.status_code == 200
    for code in demo.patients:
        assert code in page.text
    assert demo.client.get("/", headers=demo.headers).status_code == 200
    for patient_id in list(demo.patients.values())[:3]:
        assert demo.client.get(f"/patients/{patient_id}", headers=demo.headers).status_code == 200


def test_the_dashboard_shows_due_items_and_alerts_of_patients_on_study_only(demo: Demo) -> None:
    protocol = load_protocol()
    finished = {
        h["patient_id"]
        for number, h in enumerate(demo_histories(TODAY, protocol), 1)
        if "end_of_study" in demo_history_keys(h, number, TODAY, protocol)
    }
    assert finished and len(finished) < len(demo.patients)  # both kinds exist in the demo
    page = demo.client.get("/", headers=demo.headers).text
    assert f'<span id="count-off-study">{len(finished)}</span>' in page
    due = page.split('id="h-due"', 1)[1].split("</section>", 1)[0]
    alerts = page.split('id="h-alerts"', 1)[1].split("</section>", 1)[0]
    for code in finished:
        assert f">{code}<" not in due and f">{code}<" not in alerts, code
