"""Browser tests: a real uvicorn server on a free 127.0.0.1 port, driven by Debian's chromium
through Playwright (explicit executable path; no browser is ever downloaded)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

pytestmark = pytest.mark.browser


@dataclass
class LiveServer:
    url: str
    credentials: dict[str, str]
    database_url: str = ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    import uvicorn

    from cletrial.store import create_engine_for, upgrade
    from cletrial.web import WebSettings, create_app
    from cletrial.web.demo import build_demo_study

    path = tmp_path_factory.mktemp("browser") / "demo.sqlite"
    engine = create_engine_for(f"sqlite:///{path}")
    upgrade(engine)
    credentials = {user: password for user, password, _ in build_demo_study(engine)}
    app = create_app(WebSettings(database_url=f"sqlite:///{path}", synthetic_data=True),
                     engine=engine)  # fmt: skip
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # a safety net only: start-up takes well under a second
    while not server.started:
        if not thread.is_alive():
            pytest.fail("the test server stopped before it started (see its log above)")
        if time.monotonic() > deadline:
            pytest.fail("the test server did not start within 60 s")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", credentials, f"sqlite:///{path}")
    server.should_exit = True
    thread.join(timeout=60)  # a safety net only: uvicorn checks should_exit every 0.1 s
    assert not thread.is_alive(), "the test server did not stop within 60 s"
    engine.dispose()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1400, "height": 1000},
        )  # fmt: skip
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    browser.clear_cookies()  # each test logs in afresh
    page = browser.new_page()
    page.set_default_timeout(15000)
    yield page
    page.close()


def shot(page: Any, name: str) -> None:
    """Save a full-page screenshot as a test artefact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
