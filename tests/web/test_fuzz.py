"""Fuzz the REST API with schemathesis against its own OpenAPI schema: no request, valid or
not, may produce a server error (5xx), and every answer must match the documented schema.

A second run sends every operation with a JSON body hostile bodies: the generated body with
one of its values (or the whole body) replaced by ``NaN``, ``Infinity``, ``1e400``, a lone
UTF-16 surrogate, a NUL character, an integer of 5,000 digits or nesting 65 to 3,000 levels
deep, or with a key that is a lone surrogate. Each must be refused (400, naming the field)
except NUL, which is valid JSON and must only never be a server error.

The CI budget is small (``CLETRIAL_FUZZ_EXAMPLES``, default 3 examples per operation, and
``CLETRIAL_FUZZ_HOSTILE_EXAMPLES``, default 10); the documented long run uses 1,000 (see
docs/web.md)::

    CLETRIAL_FUZZ_EXAMPLES=1000 CLETRIAL_FUZZ_HOSTILE_EXAMPLES=1000 \\
        python3 -m pytest tests/web/test_fuzz.py -p no:cacheprovider
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.web.conftest import PASSWORD, SCREENING, build_study

EXAMPLES = int(os.environ.get("CLETRIAL_FUZZ_EXAMPLES", "3"))
HOSTILE_EXAMPLES = int(os.environ.get("CLETRIAL_FUZZ_HOSTILE_EXAMPLES", "10"))

#: Raw JSON put in place of a generated value, and the words of its refusal (``None``: valid
#: JSON, which may be accepted or refused but never answered with a 5xx).
HOSTILE_VALUES: dict[bytes, str | None] = {
    b"NaN": "NaN is not allowed",
    b"Infinity": "Infinity is not allowed",
    b"-Infinity": "-Infinity is not allowed",
    b"1e400": "is out of range",
    b"-1e999": "is out of range",
    b'"\\ud800"': "lone UTF-16 surrogate",
    b'"ok \\udfff"': "lone UTF-16 surrogate",
    b"1" + b"0" * 5000: "5001 digits is out of range",
    b'"\\u0000"': None,
    b'"a\\u0000b"': None,
}
_MARK = "\x00cletrial-fuzz-mark\x00"
_MARKED = json.dumps(_MARK).encode()
#: The refusal expected for each hostile body generated (``None``: none is).
_EXPECTED: dict[bytes, str | None] = {}


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


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path to ``value`` and to every value inside it."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replaced(value[path[0]], path[1:], new)
    return copy


def _render(body: Any, path: tuple[Any, ...], raw: bytes, depth: int, key: bool) -> bytes:
    """``body`` as JSON with the value at ``path`` replaced by ``raw`` nested ``depth`` deep,
    or (``key``) with a lone surrogate key added to the object at ``path``."""
    target = body
    for step in path:
        target = target[step]
    if key and isinstance(target, dict):
        text = json.dumps(_replaced(body, path, {**target, _MARK: 1}), ensure_ascii=True)
        rendered = text.encode().replace(_MARKED, b'"\\udc80"', 1)
        _EXPECTED[rendered] = "lone UTF-16 surrogate"
        return rendered
    text = json.dumps(_replaced(body, path, _MARK), ensure_ascii=True)
    rendered = text.encode().replace(_MARKED, b"[" * depth + raw + b"]" * depth, 1)
    _EXPECTED[rendered] = "nested deeper than 64 levels" if depth else HOSTILE_VALUES[raw]
    return rendered


def flatmap_body(ctx: Any, body: Any) -> Any:
    """A hostile variant of a generated JSON body (see the module's docstring)."""
    if not isinstance(body, dict | list | str | int | float | bool | None):
        return st.just(body)  # not a JSON body
    depth = st.sampled_from([0, 0, 0, 65, 200, 3000])
    return st.builds(_render, st.just(body), st.sampled_from(_paths(body)),
                     st.sampled_from(list(HOSTILE_VALUES)), depth, st.booleans())  # fmt: skip


hostile_schema = schemathesis.pytest.from_fixture("fuzz_hostile_schema")


@pytest.fixture(scope="module")
def fuzz_hostile_schema(fuzz_app: Any) -> Any:
    """The schema, generating bodies through :func:`flatmap_body` (fuzzing phase only: the
    coverage phase's cases, thousands, are not built by hooks and are in the run above)."""
    loaded = schemathesis.openapi.from_asgi("/api/openapi.json", fuzz_app)
    loaded.config.phases.update(phases=["fuzzing"])
    loaded.hook(flatmap_body)
    return loaded


_WITH_BODY = hostile_schema.include(method=["POST", "PUT", "PATCH"])


@_WITH_BODY.exclude(path="/api/auth/logout").parametrize()  # logout would end the session
@settings(max_examples=HOSTILE_EXAMPLES, suppress_health_check=list(HealthCheck))
def test_api_refuses_hostile_bodies(case: Any, fuzz_app: Any) -> None:
    headers = {"Authorization": f"Bearer {fuzz_app.state.fuzz_token}"}
    response = case.call(headers=headers)
    shown = case.body[:300] if isinstance(case.body, bytes) else case.body
    assert response.status_code < 500, (case.path, shown, response.text[:300])
    expected = _EXPECTED.get(case.body) if isinstance(case.body, bytes) else None
    if expected is not None:
        assert response.status_code == 400, (case.path, shown, response.text[:300])
        assert expected in response.json()["message"], response.text[:300]
