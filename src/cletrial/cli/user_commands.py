"""``cletrial user password`` and ``cletrial user logins``: change a password after checking
the current one, and list the login events (administrators' view of who logged in).

Both take ``--database URL``; they are added to the ``user`` group of
:mod:`cletrial.cli.store_commands`.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cletrial.cli._common import fail
from cletrial.cli.store_commands import DatabaseOption, JsonOption, _engine, _print_json, user_app


def _read_passwords(stdin: bool) -> tuple[str, str]:
    if stdin:
        current = sys.stdin.readline().rstrip("\n")
        return current, sys.stdin.readline().rstrip("\n")
    current = typer.prompt("Current password", hide_input=True)
    return current, typer.prompt("New password", hide_input=True, confirmation_prompt=True)


@user_app.command("password")
def user_password(
    username: Annotated[str, typer.Argument(help="The user whose password changes.")],
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the current password, then the new one, "
            "one a line from standard input (else prompt).",
        ),
    ] = False,
    database: DatabaseOption = None,
) -> None:
    """Change a user's password: the current one is checked (under the login lock-out), the new
    one must pass the password policy; every session of the user ends."""
    from cletrial.errors import CletrialError
    from cletrial.store import UnitOfWork
    from cletrial.web.accounts import change_password, web_user
    from cletrial.web.security import LoginThrottle, SessionRegistry
    from cletrial.web.settings import WebSettings

    engine = _engine(database)
    settings = WebSettings.from_env()
    current, new = _read_passwords(password_stdin)
    with UnitOfWork(engine, read_only=True) as uow:
        record = uow.users.by_username(username)
    if record is None:
        fail(f"user {username}: no such user")
    throttle = LoginThrottle(engine, max_failures=settings.login_max_failures,
                             lockout_s=settings.login_lockout_s)  # fmt: skip
    sessions = SessionRegistry(engine, idle_timeout_s=settings.session_idle_timeout_s,
                               absolute_timeout_s=settings.session_absolute_timeout_s)  # fmt: skip
    try:
        ended = change_password(engine, throttle, sessions, web_user(record), current, new,
                                keep_token=None, channel="cli")  # fmt: skip
    except CletrialError as exc:
        fail(str(exc))
    typer.echo(f"password of {username} changed; {ended} session(s) ended")


@user_app.command("logins")
def user_logins(
    username: Annotated[str | None, typer.Option("--user", help="Only this user name.")] = None,
    event: Annotated[
        str | None,
        typer.Option(help="Only login, login_failed, lockout, logout, password_changed."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100000, help="Newest events shown.")] = 50,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """List logins, failed logins, lock-outs, logouts and password changes, newest first."""
    from cletrial.store import UnitOfWork

    with UnitOfWork(_engine(database), read_only=True) as uow:
        rows = uow.login_events.list(username=username, event=event, limit=limit)
    if as_json:
        _print_json([{"id": r.id, "event": r.event, "username": r.username,
                      "user_id": r.user_id, "channel": r.channel, "detail": r.detail,
                      "occurred_at": r.occurred_at.isoformat()} for r in rows])  # fmt: skip
        return
    for r in rows:
        detail = f" ({r.detail})" if r.detail else ""
        typer.echo(f"#{r.id} {r.occurred_at.isoformat()} {r.event} "
                   f"{r.username or '-'} via {r.channel}{detail}")  # fmt: skip


def register(app: typer.Typer) -> None:
    """The commands register on the ``user`` group when this module is imported."""
    del app
