"""The monitoring commands: ``checks run`` and ``checks list`` (the protocol's edit checks),
``queries export`` (CSV of the queries) and ``lock`` (state, freeze, lock, unfreeze, unlock).

Every command takes ``--database URL`` like the other database commands.
"""

from __future__ import annotations

import csv
import sys
import time
from typing import Annotated

import typer

from cletrial.cli._common import fail
from cletrial.cli.store_commands import (
    DatabaseOption,
    JsonOption,
    UserOption,
    _actor,
    _engine,
    _guard,
    _print_json,
)

checks_app = typer.Typer(help="Run the protocol's edit checks and list them.",
                         no_args_is_help=True)  # fmt: skip
queries_app = typer.Typer(help="Read the queries (discrepancy notes).", no_args_is_help=True)
lock_app = typer.Typer(
    help="Freeze and lock the database (data managers; e-signed with your password).",
    no_args_is_help=True,
)

#: Columns of the queries CSV export.
QUERY_COLUMNS = ("id", "site_code", "study_code", "table_name", "record_id", "field", "status",
                 "origin", "check_id", "severity", "subject", "opened_by", "opened_at",
                 "status_by", "status_at")  # fmt: skip


@checks_app.command("run")
def checks_run(
    patient: Annotated[
        list[str] | None,
        typer.Option(help="Study code of a patient to check (repeat); default all."),
    ] = None,
    user: UserOption = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run every edit check of each study's protocol over the stored patients: raise a query
    for each new finding, close the queries whose data now pass. Prints what it did and the
    speed (form checks per second)."""
    from tqdm import tqdm

    from cletrial.store import UnitOfWork
    from cletrial.store.edit_check_runner import run_edit_checks

    started = time.perf_counter()
    with UnitOfWork(_engine(database), user=_actor(user)) as uow:
        ids = None
        if patient:
            by_code = {p.study_code: p.id for p in uow.patients.list()}
            missing = [code for code in patient if code not in by_code]
            if missing:
                fail(f"--patient {missing[0]}: no such patient")
            ids = [by_code[code] for code in patient]
        total = len(ids) if ids is not None else len(uow.patients.list())
        with tqdm(total=total, unit=" patients", file=sys.stderr, disable=None, leave=False,
                  desc="checking") as bar:  # fmt: skip
            done = [0]

            def advance(n: int) -> None:
                bar.update(n - done[0])
                done[0] = n

            run = _guard(run_edit_checks, uow, patient_ids=ids, progress=advance)
    seconds = time.perf_counter() - started
    rate = run.evaluations / run.check_s if run.check_s else 0.0
    summary = {
        "patients": run.patients, "forms": run.forms, "evaluations": run.evaluations,
        "findings": run.findings, "queries_raised": run.opened, "queries_closed": run.closed,
        "seconds": round(seconds, 3), "read_s": round(run.read_s, 3),
        "check_s": round(run.check_s, 3), "write_s": round(run.write_s, 3),
        "form_checks_per_s": round(rate),
    }  # fmt: skip
    if as_json:
        _print_json(summary)
        return
    typer.echo(
        f"{run.patients} patients, {run.forms} forms, {run.evaluations} form checks: "
        f"{run.findings} findings; {run.opened} queries raised, {run.closed} closed "
        f"({seconds:.2f} s; checking {rate:,.0f} form checks/s)"
    )


@checks_app.command("list")
def checks_list(
    protocol: Annotated[
        str | None, typer.Option(help="Protocol id or file (default: bundled).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List the edit checks of a protocol: id, kind, form, severity, message."""
    from cletrial.protocol import load_protocol

    definition = _guard(load_protocol, protocol)
    rows = [{"id": c.id, "kind": c.__struct_config__.tag, "form": c.form, "severity": c.severity,
             "message": c.message} for c in definition.edit_checks]  # fmt: skip
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        typer.echo(f"{row['id']:<32} {row['kind']:<28} {row['form']:<24} {row['severity']}")


@queries_app.command("export")
def queries_export(
    status: Annotated[list[str] | None, typer.Option(help="Only this status (repeat).")] = None,
    database: DatabaseOption = None,
) -> None:
    """Write every query as CSV to standard output (newest first)."""
    from cletrial.store import UnitOfWork
    from cletrial.store.csv_safe import neutralise_row

    with UnitOfWork(_engine(database), read_only=True) as uow:
        rows = _guard(uow.queries.listing, statuses=status, limit=10_000_000)
    writer = csv.DictWriter(sys.stdout, fieldnames=QUERY_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(neutralise_row(row) for row in rows)


@lock_app.command("status")
def lock_status(database: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """Show the database's state (open, frozen, locked) and its lock events."""
    from cletrial.store import UnitOfWork

    with UnitOfWork(_engine(database), read_only=True) as uow:
        state, since = _guard(uow.locks.state)
        events = uow.locks.events()
    if as_json:
        _print_json({"state": state, "since": since or None, "events": [
            {"action": e.action, "state_after": e.state_after, "reason": e.reason,
             "signed_by": e.signed_by, "signed_name": e.signed_name,
             "signed_at": e.signed_at.isoformat()} for e in events]})  # fmt: skip
        return
    typer.echo(f"database {state}" + (f" since {since}" if since else ""))
    for e in events:
        typer.echo(f"  {e.signed_at.isoformat()} {e.action} by {e.signed_name} ({e.signed_by}):"
                   f" {e.reason}")  # fmt: skip


def _apply(action: str, reason: str, user: str | None, database: str | None,
           password_stdin: bool) -> None:  # fmt: skip
    from cletrial.store import UnitOfWork, verify_password

    actor = _actor(user)
    password = (sys.stdin.readline().rstrip("\n") if password_stdin
                else typer.prompt("Password (your e-signature)", hide_input=True))  # fmt: skip
    engine = _engine(database)
    with UnitOfWork(engine, read_only=True) as uow:
        account = verify_password(uow, actor, password)
    if account is None:
        fail(f"{actor}: password not recognised; the e-signature needs your own password")
    if account.role != "data_manager":
        fail(f"{actor} is a {account.role}: only a data manager may {action} the database")
    with UnitOfWork(engine, user=actor) as uow:
        event = _guard(uow.locks.apply, action, reason=reason, signed_name=account.display_name)
    typer.echo(f"database {event.state_after} ({action} e-signed by {event.signed_name} at "
               f"{event.signed_at.isoformat()})")  # fmt: skip


ReasonOption = Annotated[str, typer.Option("--reason", help="Why (recorded with the event).")]
PasswordStdin = Annotated[bool, typer.Option("--password-stdin",
                          help="Read the password from standard input (else prompt).")]  # fmt: skip


def _lock_command(action: str, doc: str) -> None:
    def command(
        reason: ReasonOption,
        user: UserOption = None,
        database: DatabaseOption = None,
        password_stdin: PasswordStdin = False,
    ) -> None:
        _apply(action, reason, user, database, password_stdin)

    command.__doc__ = doc
    lock_app.command(action)(command)


_lock_command("freeze", "Freeze the database: no clinical change; queries and verification go on.")
_lock_command("unfreeze", "Unfreeze a frozen database (data entry resumes).")
_lock_command("lock", "Lock the database for analysis: nothing changes until unlocked.")
_lock_command("unlock", "Unlock a locked database, with the reason (data entry resumes).")


def register(app: typer.Typer) -> None:
    """Add the monitoring commands to ``app``."""
    app.add_typer(checks_app, name="checks")
    app.add_typer(queries_app, name="queries")
    app.add_typer(lock_app, name="lock")
