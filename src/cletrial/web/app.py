"""The application factory: ``create_app(settings)`` builds one FastAPI application.

Nothing is built at import time. The factory creates the database engine from the settings
(or takes one, for tests and benchmarks), the session registry and the login throttle (both in
the database, shared by every worker process), the templates and the per-process caches, and
keeps them on ``app.state``; the engine is disposed of at shutdown. The schema is
not migrated here: ``cletrial serve`` (and the tests) call :func:`cletrial.store.migrate.upgrade`.

Every change the pages make and every record they show is also available through the REST API
under ``/api`` (OpenAPI document at ``/api/openapi.json``); only the computed summaries of the
dashboard and the patient list are page-only (the API gives each patient's recommendation, and
the study report to the roles that may see it).

>>> app = create_app(WebSettings(database_url="sqlite://"))
>>> app.title
'cletrial'
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cletrial.instruments.analytes import prepare_unit_factors
from cletrial.store.engine import create_engine_for
from cletrial.web.deps import UserCache
from cletrial.web.handlers import install_error_handlers
from cletrial.web.lock_banner import LockBanner
from cletrial.web.openapi import install_openapi
from cletrial.web.protocol_cache import ProtocolCache
from cletrial.web.routes import ROUTERS
from cletrial.web.security import LoginThrottle, SessionRegistry
from cletrial.web.settings import WebSettings
from cletrial.web.summaries import SummaryCache
from cletrial.web.templating import make_templates

__all__ = ["create_app"]

_SECURITY_HEADERS: Final = (
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)


class SecurityHeaders:
    """ASGI middleware adding security headers; pages and API answers are never cached.

    ``worker_header`` adds ``X-Cletrial-Worker: <pid>`` (tests of several worker processes
    only: :attr:`~cletrial.web.settings.WebSettings.worker_header`).
    """

    def __init__(self, app: ASGIApp, worker_header: bool = False) -> None:
        self.app = app
        self.extra = ((b"x-cletrial-worker", str(os.getpid()).encode()),) if worker_header else ()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(_SECURITY_HEADERS)
                headers.extend(self.extra)
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: WebSettings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """Build the web application.

    Parameters
    ----------
    settings : WebSettings, optional
        Configuration (default :class:`WebSettings` with its defaults).
    engine : Engine, optional
        An engine to use instead of creating one from ``settings.database_url`` (the caller
        then owns it and disposes of it).

    Returns
    -------
    FastAPI
        The application; run it with uvicorn (``cletrial serve``).
    """
    settings = settings or WebSettings()
    owns_engine = engine is None
    db = engine if engine is not None else create_engine_for(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        prepare_unit_factors()  # pint's registry, built once per process, before any request
        yield
        if owns_engine:
            db.dispose()

    app = FastAPI(
        title="cletrial",
        version=_version(),
        summary="Trial sites' web application for lenalidomide in refractory CLE.",
        description=(
            "Decision support: every recommendation carries its rule, its data and the protocol "
            "version; a clinician decides. Authenticate with `POST /api/auth/login`, then send "
            "`Authorization: Bearer <token>`."
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    state: Any = app.state
    state.settings = settings
    state.engine = db
    state.sessions = SessionRegistry(
        db,
        idle_timeout_s=settings.session_idle_timeout_s,
        absolute_timeout_s=settings.session_absolute_timeout_s,
    )
    state.throttle = LoginThrottle(
        db, max_failures=settings.login_max_failures, lockout_s=settings.login_lockout_s
    )
    state.user_cache = UserCache()
    state.templates = make_templates()
    state.write_lock = threading.Lock()
    state.protocol = ProtocolCache(settings.protocol)
    state.summaries = SummaryCache()
    state.lock_banner = LockBanner(db)
    install_error_handlers(app)
    app.mount("/static", StaticFiles(packages=[("cletrial.web", "static")]), name="static")
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(SecurityHeaders, worker_header=settings.worker_header)
    install_openapi(app)
    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cletrial")
    except PackageNotFoundError:
        return "0"
