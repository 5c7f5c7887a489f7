"""Several server processes on one database: ``cletrial serve --workers 2``, and two separate
single-worker servers, on a SQLite (WAL) file and on PostgreSQL.

A session opened through one process is served by the other; logging out through one ends it
on both; 30 parallel wrong passwords spread over two processes get exactly the throttle's limit
of password checks, and the right password is refused afterwards.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import PASSWORD, Study, login, make_patient, make_visit

from cletrial.store import UnitOfWork
from cletrial.web import WebSettings, create_app, summaries

SRC = str(Path(__file__).resolve().parents[2] / "src")
LIMIT = 5


@pytest.fixture
def study(db_study: Study) -> Study:
    return db_study


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _serve(url: str, workers: int = 1) -> Iterator[str]:
    """``cletrial serve`` in a subprocess; yields its base URL once it answers."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": SRC, "CLETRIAL_WORKER_HEADER": "true",
           "CLETRIAL_LOGIN_MAX_FAILURES": str(LIMIT)}  # fmt: skip
    command = [sys.executable, "-m", "cletrial", "serve", "--database", url, "--port", str(port),
               "--workers", str(workers)]  # fmt: skip
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        assert server.stdout is not None
        for line in server.stdout:  # the banner is printed before uvicorn starts
            if "is running on" in line:
                break
        _wait_until_up(base, workers)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=60)
        if server.stdout is not None:
            server.stdout.close()


def _wait_until_up(base: str, workers: int) -> None:
    """Poll (every 50 ms, for at most a minute) until the server accepts connections."""
    for _ in range(1200):
        try:
            httpx.get(f"{base}/login", timeout=5)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"the server at {base} ({workers} workers) never answered")


def _login(base: str, password: str = PASSWORD, name: str = "monitor") -> httpx.Response:
    return httpx.post(f"{base}/api/auth/login", json={"username": name, "password": password},
                      timeout=60)  # fmt: skip


def _worker(response: httpx.Response) -> str:
    return response.headers["x-cletrial-worker"]


def _login_events(study: Study, event: str) -> int:
    with UnitOfWork(study.engine, read_only=True) as uow:
        return len(uow.login_events.list(event=event, limit=1000))


def test_two_servers_share_sessions_and_logout(study: Study) -> None:
    with _serve(study.url) as one, _serve(study.url) as two:
        login = _login(one)
        assert login.status_code == 200, login.text
        bearer = {"Authorization": f"Bearer {login.json()['token']}"}
        me = httpx.get(f"{two}/api/auth/me", headers=bearer, timeout=30)
        assert me.status_code == 200 and me.json()["username"] == "monitor"
        assert _worker(me) != _worker(login)
        assert httpx.post(f"{two}/api/auth/logout", headers=bearer, timeout=30).status_code == 204
        assert httpx.get(f"{one}/api/auth/me", headers=bearer, timeout=30).status_code == 401
    assert _login_events(study, "login") == 1 and _login_events(study, "logout") == 1


def test_serve_with_two_workers_serves_a_session_from_either(study: Study) -> None:
    with _serve(study.url, workers=2) as base:
        login = _login(base)
        assert login.status_code == 200, login.text
        bearer = {"Authorization": f"Bearer {login.json()['token']}"}
        seen = set()
        for _ in range(200):  # a new connection each time: the kernel hands it to either
            me = httpx.get(f"{base}/api/auth/me", headers=bearer, timeout=30)
            assert me.status_code == 200
            seen.add(_worker(me))
            if len(seen) == 2:
                break
        assert len(seen) == 2, "every request went to one worker"
        assert _worker(login) in seen


def test_lockout_holds_under_parallel_guesses_across_two_workers(study: Study) -> None:
    with _serve(study.url, workers=2) as base:
        with ThreadPoolExecutor(max_workers=30) as pool:
            answers = list(pool.map(lambda i: _login(base, f"wrong guess {i}"), range(30)))
        codes = sorted(a.status_code for a in answers)
        assert codes == [401] * LIMIT + [429] * (30 - LIMIT)
        assert _login(base).status_code == 429  # the right password, after the lock-out
    assert _login_events(study, "login_failed") == LIMIT  # passwords checked: exactly LIMIT
    assert _login_events(study, "lockout") == 1 and _login_events(study, "login") == 0


def test_dashboard_cache_of_one_process_sees_a_save_made_through_another(
    study: Study, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each process keeps its own cache of dashboard lines, keyed by fingerprints read from the
    database: a save through another process changes the key, so the line is recomputed."""
    computed: list[int] = []
    original = summaries._compute_line

    def counting(uow: Any, protocol: Any, patient: Any, today: Any) -> Any:
        computed.append(patient.id)
        return original(uow, protocol, patient, today)

    monkeypatch.setattr(summaries, "_compute_line", counting)
    one, two = (create_app(WebSettings(database_url=study.url), engine=study.engine)
                for _ in range(2))  # fmt: skip
    with TestClient(one) as a, TestClient(two) as b:
        ha, hb = login(a, "investigator"), login(b, "investigator")
        patient = make_patient(b, hb, study.site_a)
        assert a.get("/", headers=ha).status_code == 200 and computed == [patient]
        assert a.get("/", headers=ha).status_code == 200 and computed == [patient]  # cached
        make_visit(b, hb, patient)
        assert a.get("/", headers=ha).status_code == 200 and computed == [patient, patient]


def test_role_site_and_activation_changes_reach_every_process_at_once(study: Study) -> None:
    """An administrator working through one process changes a user whose session another
    process serves: the next request there sees the new role, sites and deactivation."""
    one, two = (create_app(WebSettings(database_url=study.url), engine=study.engine)
                for _ in range(2))  # fmt: skip
    with TestClient(one) as a, TestClient(two) as b:
        admin, monitor = login(a, "administrator"), login(b, "monitor")
        me = b.get("/api/auth/me", headers=monitor).json()
        assert me["role"] == "monitor" and me["site_ids"] == [study.site_a]
        changed = a.patch(f"/api/users/{me['id']}", headers=admin, json={
            "version": me["version"], "reason": "moved to data management",
            "role": "data_manager"})  # fmt: skip
        assert changed.status_code == 200
        assert b.get("/api/auth/me", headers=monitor).json()["role"] == "data_manager"
        granted = a.post(
            f"/api/users/{me['id']}/sites",
            headers=admin,
            json={"add": [study.site_b], "remove": [], "reason": "covers B"},
        )
        assert granted.status_code == 200, granted.text
        assert b.get("/api/auth/me", headers=monitor).json()["site_ids"] == [
            study.site_a,
            study.site_b,
        ]
        gone = a.patch(
            f"/api/users/{me['id']}",
            headers=admin,
            json={"version": changed.json()["version"], "reason": "left", "active": False},
        )
        assert gone.status_code == 200
        assert b.get("/api/auth/me", headers=monitor).status_code == 401
