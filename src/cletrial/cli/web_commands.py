"""``cletrial serve``: start the web application for trial sites."""

from __future__ import annotations

from typing import Annotated

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
) -> None:
    """Start the web application (pages and REST API) on http://HOST:PORT.

    The database schema is created or upgraded first. With --demo, a synthetic demo study is
    built and the demo users' credentials are printed. Stop with Ctrl+C.
    """
    import uvicorn

    from cletrial.errors import CletrialError
    from cletrial.store.engine import create_engine_for, default_database_url
    from cletrial.store.migrate import upgrade
    from cletrial.web import WebSettings, create_app
    from cletrial.web.server import uvicorn_options

    url = database or (f"sqlite:///{DEMO_DATABASE}" if demo else default_database_url())
    try:
        if demo and database is None:
            _remove_sqlite_file(DEMO_DATABASE)
        engine = create_engine_for(url)
        upgrade(engine)
        credentials: list[tuple[str, str, str]] = []
        if demo:
            from cletrial.web.demo import build_demo_study

            credentials = build_demo_study(engine)
        settings = WebSettings(
            database_url=url,
            protocol=protocol,
            cookie_secure=secure_cookies,
            synthetic_data=demo,
        )
        app = create_app(settings, engine=engine)
    except CletrialError as exc:
        fail(str(exc))
    if credentials:
        typer.echo("Demo study loaded: SYNTHETIC data (a reconstruction of the 2012 cohort).")
        typer.echo("Demo users (user name / password / role):")
        for username, password, role in credentials:
            typer.echo(f"  {username:<14} {password:<24} {role}")
    typer.echo(f"cletrial is running on http://{host}:{port}/  (Ctrl+C to stop)")
    uvicorn.run(app, host=host, port=port, **uvicorn_options())
    engine.dispose()


def _remove_sqlite_file(path: str) -> None:
    from pathlib import Path

    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the command line."""
    app.command("serve")(serve)
