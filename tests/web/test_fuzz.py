"""Fuzz the REST API with schemathesis against its own OpenAPI schema: no request, valid or
not, may produce a server error (5xx), and every answer must match the documented schema.

The CI budget is small (``CLETRIAL_FUZZ_EXAMPLES``, default 3 examples per operation); the
documented long run uses 1,000 (see docs/web.md)::

    CLETRIAL_FUZZ_EXAMPLES=1000 python3 -m pytest tests/web/test_fuzz.py -p no:cacheprovider
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.web.conftest import PASSWORD, SCREENING, build_study

EXAMPLES = int(os.environ.get("CLETRIAL_FUZZ_EXAMPLES", "3"))


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from fastapi.testclient import TestClient

    from cletrial.web import WebSettings, create_app

    path: Path = tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite"
    study = build_study(f"sqlite:///{path}")
    # generous login throttle: the fuzzer sends many wrong passwords on purpose
    app = create_app(WebSettings(database_url=study.url, login_max_failures=1_000_000),
                     engine=study.engine)  # fmt: skip
    with TestClient(app) as client:
        token = client.post(
            "/api/auth/login", json={"username": "investigator", "password": PASSWORD}
        ).json()["token"]
        visit = {"visit_date": "2024-01-15", "kind": "baseline"}
        patient = client.post(
            "/api/patients",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "site_id": study.site_a,
                "study_code": "FUZZ-1",
                "screening_date": "2024-01-10",
                "screening": SCREENING,  # eligible: the enrolment gate lets it be dosed
            },
        ).json()
        auth = {"Authorization": f"Bearer {token}"}
        client.post(f"/api/patients/{patient['id']}/visits", json=visit, headers=auth)
        # Adverse events and doses with small ids, so that generated ids reach their edit,
        # removal and audit paths, not only 404.
        for day in range(1, 11):
            ae = client.post(f"/api/patients/{patient['id']}/adverse-events", headers=auth,
                        json={"term": f"Event {day}", "start_date": f"2024-02-{day:02d}",
                              "grade": 1 + day % 4, "causality": "possible",
                              "serious": False})  # fmt: skip
            dose = {"regimen": "5_daily", "start_date": f"2024-02-{day:02d}"}
            given = client.post(f"/api/patients/{patient['id']}/doses", headers=auth, json=dose)
            assert (ae.status_code, given.status_code) == (201, 201), (ae.text, given.text)
    app.state.fuzz_token = token
    yield app
    study.engine.dispose()


schema = schemathesis.pytest.from_fixture("fuzz_schema")


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_app: Any) -> Any:
    return schemathesis.openapi.from_asgi("/api/openapi.json", fuzz_app)


@schema.parametrize()
@settings(max_examples=EXAMPLES, suppress_health_check=list(HealthCheck))
def test_api_has_no_server_errors(case: Any, fuzz_app: Any) -> None:
    headers = {"Authorization": f"Bearer {fuzz_app.state.fuzz_token}"}
    if case.path == "/api/auth/logout":
        return  # would end the fuzzer's own session
    case.call_and_validate(
        headers=headers,
        checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                response_schema_conformance],
    )  # fmt: skip
