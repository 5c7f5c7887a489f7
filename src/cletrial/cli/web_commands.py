"""``cletrial serve``: start the web application for trial sites."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cletrial.cli._common import fail

DEMO_DATABASE = "var/cletrial-demo.sqlite"


def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on (127.0.0.1: this computer only).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port to listen on.")] = 8000,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help=(
                "Database URL, e.g. sqlite:///var/cletrial.sqlite or "
                "postgresql://user@host/db. Default: $CLETRIAL_DATABASE_URL or "
                f"./var/cletrial.sqlite ({DEMO_DATABASE}, rebuilt, with --demo)."
            ),
        ),
    ] = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help=(
                "Load the demo study: a SYNTHETIC reconstruction of the 2012 reference cohort "
                "(15 patients), with one user per role; prints their passwords."
            ),
        ),
    ] = False,
    protocol: Annotated[
        str, typer.Option(help="Protocol id or definition file the study runs.")
    ] = "lenalidomide-cle-2012",
    secure_cookies: Annotated[
        bool, typer.Option("--secure-cookies", help="Send cookies over HTTPS only (behind TLS).")
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Worker processes. Sessions, the login lock-out and the login events are in "
            "the database, so any worker serves any session (SQLite file or PostgreSQL).",
        ),
    ] = 1,
) -> None:
    """Start the web application (pages and REST API) on http://HOST:PORT.

    The database schema is created or upgraded first. With --demo, a synthetic demo study is
    built and the demo users' credentials are printed. Other settings are read from
    CLETRIAL_* variables (e.g. CLETRIAL_SESSION_IDLE_TIMEOUT_S). Stop with Ctrl+C.
    """

    from cletrial.errors import CletrialError
    from cletrial.store.engine import create_engine_for, default_database_url
    from cletrial.store.migrate import upgrade
    from cletrial.web import WebSettings

    url = database or (f"sqlite:///{DEMO_DATABASE}" if demo else default_database_url())
    if workers > 1 and _in_memory(url):
        fail(f"--workers {workers}: an in-memory database is not shared between processes; "
             "give --database a SQLite file or a PostgreSQL URL")  # fmt: skip
    try:
        if demo and database is None:
            _remove_sqlite_file(DEMO_DATABASE)
        engine = create_engine_for(url)
        upgrade(engine)
        credentials: list[tuple[str, str, str]] = []
        if demo:
            from cletrial.web.demo import build_demo_study

            credentials = build_demo_study(engine)
        flags: dict[str, Any] = {"cookie_secure": True} if secure_cookies else {}
        settings = WebSettings.from_env(None, database_url=url, protocol=protocol,
                                        synthetic_data=demo, **flags)  # fmt: skip
    except CletrialError as exc:
        fail(str(exc))
    if credentials:
        typer.echo("Demo study loaded: SYNTHETIC data (a reconstruction of the 2012 cohort).")
        typer.echo("Demo users (user name / password / role):")
        for username, password, role in credentials:
            typer.echo(f"  {username:<14} {password:<24} {role}")
    _run(settings, engine, host=host, port=port, workers=workers)


def _run(settings: Any, engine: Any, *, host: str, port: int, workers: int) -> None:
    """Serve with uvicorn: the application object (one worker) or the factory (several)."""
    import os

    import uvicorn

    from cletrial.web import create_app
    from cletrial.web.server import (
        APP_FACTORY,
        settings_environment,
        tune_gc_for_serving,
        uvicorn_options,
    )

    processes = f" with {workers} worker processes" if workers > 1 else ""
    typer.echo(f"cletrial is running on http://{host}:{port}/{processes}  (Ctrl+C to stop)")
    if workers == 1:
        app = create_app(settings, engine=engine)
        tune_gc_for_serving()
        uvicorn.run(app, host=host, port=port, **uvicorn_options())
        engine.dispose()
        return
    engine.dispose()  # each worker opens its own
    os.environ.update(settings_environment(settings))
    uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, **uvicorn_options(workers))


def _in_memory(url: str) -> bool:
    rest = url.split(":", 1)[-1]
    return url.startswith("sqlite") and rest in ("", "//", "///", "///:memory:")


def _remove_sqlite_file(path: str) -> None:
    from pathlib import Path

    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the command line."""
    app.command("serve")(serve)
