"""Login hardening on SQLite and PostgreSQL: the lock-out holds under parallel guesses, logins
are in the audit trail, the password policy refuses common passwords, and a password change
needs the current password and ends the user's other sessions (API, page, command line)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.web.conftest import PASSWORD, Study, login
from typer.testing import CliRunner

from cletrial.cli import app as cli_app
from cletrial.store import UnitOfWork
from cletrial.web import WebSettings, create_app
from cletrial.web.accounts import throttled_check
from cletrial.web.handlers import LoginLockedError

NEW_PASSWORD = "a new long passphrase"


@pytest.fixture
def study(db_study: Study) -> Study:
    return db_study


def _events(study: Study, event: str | None = None) -> list[object]:
    with UnitOfWork(study.engine, read_only=True) as uow:
        return list(uow.login_events.list(event=event, limit=1000))


def _try(app: object, password: str) -> str:
    state = app.state  # type: ignore[attr-defined]
    try:
        user = throttled_check(state.engine, state.throttle, "monitor", password, channel="api")
    except LoginLockedError:
        return "locked"
    return "in" if user is not None else "wrong"


def test_parallel_guesses_get_exactly_the_limit_of_password_checks(
    app: object, study: Study
) -> None:
    limit = app.state.settings.login_max_failures  # type: ignore[attr-defined]
    with ThreadPoolExecutor(max_workers=30) as pool:
        outcomes = list(pool.map(lambda i: _try(app, f"wrong guess {i}"), range(30)))
    assert sorted(outcomes) == ["locked"] * (30 - limit) + ["wrong"] * limit
    assert _try(app, PASSWORD) == "locked"  # the right password is not even checked
    assert len(_events(study, "login_failed")) == limit
    assert len(_events(study, "lockout")) == 1


def test_logins_failures_lockouts_and_logouts_are_audited(client: TestClient, study: Study) -> None:
    h = login(client, "monitor")
    assert client.post("/api/auth/login", json={"username": "monitor", "password": "nope nope"}
                       ).status_code == 401  # fmt: skip
    typo = client.post("/api/auth/login", json={"username": PASSWORD, "password": PASSWORD})
    assert typo.status_code == 401
    assert client.post("/api/auth/logout", headers=h).status_code == 204
    events = {(e.event, e.username) for e in _events(study)}  # type: ignore[attr-defined]
    assert events == {("login", "monitor"), ("login_failed", "monitor"), ("logout", "monitor"),
                      ("login_failed", None)}  # fmt: skip
    unknown = next(e for e in _events(study) if e.username is None)  # type: ignore[attr-defined]
    assert unknown.detail.startswith("unknown user name (sha256 ")  # type: ignore[attr-defined]
    with study.engine.connect() as conn:
        trail = conn.execute(text("SELECT actor, new_value FROM audit_log "
                                  "WHERE table_name = 'login_events'")).all()  # fmt: skip
    assert len(trail) == 4 and {row[0] for row in trail} == {"monitor", "anonymous"}
    assert not any(PASSWORD in row[1] or "nope nope" in row[1] for row in trail)
    admin = login(client, "administrator")
    listed = client.get("/api/auth/events?username=monitor", headers=admin)
    assert listed.status_code == 200
    assert [e["event"] for e in listed.json()] == ["logout", "login_failed", "login"]
    assert client.get("/api/auth/events", headers=login(client, "monitor")).status_code == 403


@pytest.mark.parametrize(
    "password", ["password", "12345678", "        ", "Password123!", "qwertyuiop", "abcdefghij",
                 "newcomer", "newcomer2024", "iloveyou"],
)  # fmt: skip
def test_weak_passwords_are_refused_for_new_users(client: TestClient, password: str) -> None:
    admin = login(client, "administrator")
    body = {"username": "newcomer", "password": password, "role": "monitor", "site_ids": []}
    refused = client.post("/api/users", json=body, headers=admin)
    assert refused.status_code == 422, password
    assert refused.json()["field"] == "users.password"
    assert refused.json()["value"] == "[hidden]"
    ok = client.post("/api/users", json={**body, "password": "tall green walnut tree"},
                     headers=admin)  # fmt: skip
    assert ok.status_code == 201


def _change(client: TestClient, h: dict[str, str], current: str, new: str) -> object:
    return client.post("/api/auth/password", headers=h,
                       json={"current_password": current, "new_password": new})  # fmt: skip


def test_password_change_needs_the_current_password_and_ends_other_sessions(
    client: TestClient, study: Study
) -> None:
    mine, other = login(client, "coordinator"), login(client, "coordinator")
    wrong = _change(client, mine, "not my password", NEW_PASSWORD)
    assert wrong.status_code == 403  # type: ignore[attr-defined]
    weak = _change(client, mine, PASSWORD, "coordinator1")
    assert weak.status_code == 422  # type: ignore[attr-defined]
    done = _change(client, mine, PASSWORD, NEW_PASSWORD)
    assert done.json() == {"other_sessions_ended": 1}  # type: ignore[attr-defined]
    assert client.get("/api/auth/me", headers=other).status_code == 401
    assert client.get("/api/auth/me", headers=mine).status_code == 200
    old = client.post("/api/auth/login", json={"username": "coordinator", "password": PASSWORD})
    assert old.status_code == 401
    new = client.post("/api/auth/login",
                      json={"username": "coordinator", "password": NEW_PASSWORD})  # fmt: skip
    assert new.status_code == 200
    kinds = [e.event for e in _events(study)]  # type: ignore[attr-defined]
    assert kinds.count("password_changed") == 1 and kinds.count("login_failed") == 2
    with UnitOfWork(study.engine, read_only=True) as uow:
        user = uow.users.by_username("coordinator")
        assert user is not None
        changed = [r for r in uow.history("users", user.id) if r.field == "password_hash"]
    assert len(changed) == 1 and NEW_PASSWORD not in str(changed[0])


def test_password_page_changes_the_password_with_the_csrf_token(client: TestClient) -> None:
    page = client.get("/login")
    token = page.cookies.get("cletrial_login_csrf") or client.cookies.get("cletrial_login_csrf")
    client.post("/login", data={"username": "monitor", "password": PASSWORD,
                                "csrf_token": token, "next": "/"})  # fmt: skip
    form = client.get("/password")
    assert form.status_code == 200 and 'name="new_password"' in form.text
    assert 'href="/password"' in form.text  # the account menu links to it
    csrf = form.text.split('name="csrf-token" content="')[1].split('"')[0]
    fields = {"current_password": PASSWORD, "new_password": NEW_PASSWORD,
              "confirm_password": NEW_PASSWORD}  # fmt: skip
    assert client.post("/password", data=fields).status_code == 403  # no CSRF token
    differ = client.post("/password", data={**fields, "confirm_password": "x",
                                            "csrf_token": csrf})  # fmt: skip
    assert differ.status_code == 422 and "differ" in differ.text
    done = client.post("/password", data={**fields, "csrf_token": csrf})
    assert done.status_code == 200 and "Password changed." in done.text
    relog = client.post("/api/auth/login", json={"username": "monitor", "password": NEW_PASSWORD})
    assert relog.status_code == 200


def test_command_line_changes_a_password_and_lists_logins(study: Study) -> None:
    app = create_app(WebSettings(database_url=study.url), engine=study.engine)
    with TestClient(app) as client:
        h = login(client, "statistician")
    runner = CliRunner()
    args = ["user", "password", "statistician", "--password-stdin", "--database", study.url]
    weak = runner.invoke(cli_app, args, input=f"{PASSWORD}\npassword1\n")
    assert weak.exit_code == 2 and "common password" in weak.output
    wrong = runner.invoke(cli_app, args, input=f"wrong one!\n{NEW_PASSWORD}\n")
    assert wrong.exit_code == 2 and "not recognised" in wrong.output
    done = runner.invoke(cli_app, args, input=f"{PASSWORD}\n{NEW_PASSWORD}\n")
    assert done.exit_code == 0 and "1 session(s) ended" in done.output
    with TestClient(app) as client:
        assert client.get("/api/auth/me", headers=h).status_code == 401
    listed = runner.invoke(cli_app, ["user", "logins", "--user", "statistician", "--json",
                                     "--database", study.url])  # fmt: skip
    assert listed.exit_code == 0
    assert [e["event"] for e in json.loads(listed.output)] == [
        "password_changed", "login_failed", "login"]  # fmt: skip
    assert json.loads(listed.output)[0]["channel"] == "cli"


@pytest.mark.parametrize("state", ["freeze", "lock"])
def test_users_log_in_and_out_while_the_database_is_frozen_or_locked(
    client: TestClient, study: Study, state: str
) -> None:
    """A locked database refuses clinical changes, not the login events of its readers."""
    with UnitOfWork(study.engine, user="data_manager") as uow:
        uow.locks.apply(state, reason="final analysis", signed_name="Dana")
    h = login(client, "monitor")
    assert client.post("/api/auth/logout", headers=h).status_code == 204
    assert sorted(e.event for e in _events(study)) == ["login", "logout"]  # type: ignore[attr-defined]
