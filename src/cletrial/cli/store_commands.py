"""The study database commands: ``db``, ``audit``, ``import``, ``export``, ``export-history``,
``user add``.

Every command takes ``--database URL`` (default: ``$CLETRIAL_DATABASE_URL`` or
``./var/cletrial.sqlite``). Heavy modules are imported inside the commands.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from cletrial.cli._common import fail

db_app = typer.Typer(help="Create and upgrade the study database schema (Alembic migrations).",
                     no_args_is_help=True)  # fmt: skip
audit_app = typer.Typer(help="Check and read the audit trail.", no_args_is_help=True)
user_app = typer.Typer(help="Manage users of the web application.", no_args_is_help=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database", help="Database URL, e.g. sqlite:///var/cletrial.sqlite or "
                 "postgresql://user@host/db. Default: $CLETRIAL_DATABASE_URL or "
                 "./var/cletrial.sqlite."),
]  # fmt: skip
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
UserOption = Annotated[
    str | None,
    typer.Option("--user", help="Your username, recorded in the audit trail (default: your "
                 "login name)."),
]  # fmt: skip


class ExportFormat(StrEnum):
    """Export file formats."""

    json = "json"
    csv = "csv"
    odm = "odm"


def _actor(user: str | None) -> str:
    """The name recorded in the audit trail: --user, else the login name."""
    if user:
        return user
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        fail("cannot tell who you are: give --user NAME (recorded in the audit trail)")


def _engine(database: str | None) -> Any:
    """The command's engine; without a connection pool, so no connection outlives its use."""
    from cletrial.errors import CletrialError
    from cletrial.store import create_engine_for

    try:
        return create_engine_for(database, pool_size=0)
    except CletrialError as exc:
        fail(str(exc))


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def _guard(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a store call; report cletrial and database errors as bad input (exit 2)."""
    from sqlalchemy.exc import SQLAlchemyError

    from cletrial.errors import CletrialError

    try:
        return function(*args, **kwargs)
    except CletrialError as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        fail(f"database error: {getattr(exc, 'orig', None) or exc}")


@db_app.command("upgrade")
def db_upgrade(
    database: DatabaseOption = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Create the tables or upgrade them to the newest schema (safe to run again)."""
    from cletrial.store import current_revision, upgrade

    engine = _engine(database)
    before = _guard(current_revision, engine)
    _guard(upgrade, engine, revision)
    after = current_revision(engine)
    typer.echo(f"schema at {after}" + (f" (was {before})" if before != after else " (unchanged)"))


@db_app.command("current")
def db_current(database: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """Show the schema revision of the database and whether it is the newest."""
    from cletrial.store import current_revision, head_revision

    current = _guard(current_revision, _engine(database))
    head = head_revision()
    if as_json:
        _print_json({"current": current, "head": head, "up_to_date": current == head})
        return
    state = (
        "up to date" if current == head else f"behind (newest: {head}; run `cletrial db upgrade`)"
    )
    typer.echo(f"{current or 'empty (no schema)'}: {state}")


@db_app.command("history")
def db_history(as_json: JsonOption = False) -> None:
    """List the migrations shipped with this version of cletrial, oldest first."""
    from cletrial.store import migration_history

    items = migration_history()
    if as_json:
        _print_json([dataclasses.asdict(m) for m in items])
        return
    for m in items:
        typer.echo(f"{m.down_revision or 'base'} -> {m.revision}: {m.description}")


@audit_app.command("verify")
def audit_verify(
    database: DatabaseOption = None,
    as_json: JsonOption = False,
    anchor: Annotated[
        list[str] | None,
        typer.Option(
            help="ROW:HASH recorded earlier outside the database (a chain head printed by an "
            "earlier verify); the trail must still hold that row with that hash. Repeat it "
            "for each chain."
        ),
    ] = None,
    records: Annotated[
        bool, typer.Option(help="Also replay the audit trail against every stored record.")
    ] = True,
) -> None:
    """Verify the audit trail: recompute the hash chains and report each altered, deleted or
    inserted row by id; also check that every record matches its audit rows, and run the
    database engine's integrity check (SQLite PRAGMA integrity_check; PostgreSQL amcheck on
    every B-tree index when the extension is installed, else it says indexes were not checked).
    Prints each chain's head (ROW:HASH): keep them outside the database to use as --anchor later.

    Exit status 0 when it verifies, 1 when it does not, 2 for bad input.
    """
    from cletrial.store import verify_audit_chain, verify_records_against_audit
    from cletrial.store.integrity import check_database_integrity

    anchors = []
    for given in anchor or []:
        row, _, digest = given.partition(":")
        if not row.isdigit() or len(digest) != 64:
            fail(f"--anchor {given}: must be ROW:HASH (a row id and a 64-character hash)")
        anchors.append((int(row), digest))
    from cletrial.store.engine import read_connection

    with read_connection(_engine(database)) as conn:
        integrity = check_database_integrity(conn)
        chain = _guard(verify_audit_chain, conn, anchors=anchors)
        mismatches = _guard(verify_records_against_audit, conn) if records else []
    ok = chain.ok and not mismatches and integrity.ok
    if as_json:
        _print_json({"ok": ok, "integrity": dataclasses.asdict(integrity),
                     "rows_checked": chain.rows_checked, "head_id": chain.head_id,
                     "head_hash": chain.head_hash,
                     "heads": [dataclasses.asdict(h) for h in chain.heads],
                     "findings": [dataclasses.asdict(f) for f in chain.findings],
                     "record_mismatches": [f.detail for f in mismatches]})  # fmt: skip
    else:
        typer.echo(integrity.summary())
        for problem in integrity.problems:
            typer.echo(f"  {problem}")
        typer.echo(chain.summary())
        for finding in chain.findings:
            typer.echo(f"  row {finding.row_id}: {finding.kind}: {finding.detail}")
        for mismatch in mismatches:
            typer.echo(f"  record: {mismatch.detail}")
        if records and not mismatches:
            typer.echo("every record matches its audit trail")
    if not ok:
        raise typer.Exit(1)


@audit_app.command("show")
def audit_show(
    table: Annotated[str, typer.Argument(help="Table, e.g. visits, clasi_assessments, labs.")],
    record_id: Annotated[int, typer.Argument(help="The record's id.")],
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the audit trail of one record: who changed what, when, from what, to what, why."""
    from cletrial.store import audit_history
    from cletrial.store.engine import read_connection
    from cletrial.store.fields import table_of

    _guard(table_of, table)
    with read_connection(_engine(database)) as conn:
        rows = _guard(audit_history, conn, table, record_id)
    if as_json:
        _print_json([dataclasses.asdict(r) for r in rows])
        return
    if not rows:
        fail(f"{table} {record_id}: no audit rows (no such record)")
    for r in rows:
        what = (f"{r.field}: {r.old_value} -> {r.new_value}" if r.action == "UPDATE"
                else (r.new_value or r.old_value or ""))  # fmt: skip
        why = f" (reason: {r.reason})" if r.reason else ""
        typer.echo(f"#{r.id} {r.occurred_at.isoformat()} {r.actor} {r.action} "
                   f"v{r.record_version} {what}{why}")  # fmt: skip


def import_file(
    path: Annotated[
        Path,
        typer.Argument(
            help="A .csv file (one kind of record), a .json file, "
            "or a directory of them (imported together); or a CDISC ODM 1.3.2 .xml file "
            "written by export --format odm (into an empty database only)."
        ),
    ],
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Check everything and print the changes, then save nothing."
        ),
    ] = False,
    reason: Annotated[
        str | None,
        typer.Option(help="Reason for change; required when the file changes saved records."),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            help="Kind of records of a CSV file whose name "
            "does not start with one (visits, labs, ...)."
        ),
    ] = None,
    study: Annotated[str | None, typer.Option(help="Study code for rows that give none.")] = None,
    user: UserOption = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import patients, visits with CLASI items, labs, doses, adverse events (CSV or JSON).

    All or nothing: one bad row and nothing is saved; the error names the file, row and column.
    Records are matched by natural key, so importing the same file again changes nothing; a
    blank cell never erases stored data. Formats: docs/store.md.
    """
    from cletrial.store.import_export import import_path

    if not path.exists():
        fail(f"{path}: no such file or directory")
    actor = _actor(user)
    if path.suffix.lower() == ".xml":
        _import_odm(path, actor, dry_run, database, as_json)
        return
    report = _guard(import_path, _engine(database), path, user=actor, reason=reason,
                    dry_run=dry_run, kind=kind, study=study)  # fmt: skip
    if as_json:
        _print_json({"dry_run": dry_run, "files": report.files, "rows": report.rows,
                     "created": report.created, "updated": report.updated,
                     "unchanged": report.unchanged,
                     "changes": [c.describe() for c in report.changes]})  # fmt: skip
        return
    if dry_run:
        for change in report.changes:
            typer.echo(change.describe())
    typer.echo(("dry run, nothing saved: " if dry_run else "") + report.summary())


def _import_odm(path: Path, actor: str, dry_run: bool, database: str | None,
                as_json: bool) -> None:  # fmt: skip
    from cletrial.store.odm import import_odm_file

    created = _guard(import_odm_file, _engine(database), path, user=actor, dry_run=dry_run)
    if as_json:
        _print_json({"dry_run": dry_run, "files": [str(path)], "created": created})
        return
    verb = "dry run, nothing saved: would create" if dry_run else "created"
    typer.echo(f"ODM {path}: {verb} {created} record(s)")


def export(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Output: a .json file, a directory for CSV, a .xml file for ODM "
            "(default: JSON on standard output).",
        ),
    ] = None,
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="json (one file), csv (one file per kind of record) or odm (CDISC ODM 1.3.2: "
            "design, clinical data and audit records of one study).",
        ),
    ] = ExportFormat.json,
    study: Annotated[str | None, typer.Option(help="Only this study (its code).")] = None,
    deidentify: Annotated[
        bool,
        typer.Option("--deidentify", help="Leave out names, dates of birth and record numbers."),
    ] = False,
    include_identities: Annotated[
        bool,
        typer.Option(
            "--include-identities",
            help="ODM only: also write names, dates of birth and record numbers (left out by "
            "default).",
        ),
    ] = False,
    database: DatabaseOption = None,
) -> None:
    """Export the database in the import formats (re-importing it changes nothing), or one
    study as CDISC ODM 1.3.2 (importing it into an empty database and exporting again gives
    the same bytes)."""
    from cletrial.store.import_export import export_rows, export_to, write_json

    engine = _engine(database)
    if fmt is ExportFormat.odm:
        _export_odm(engine, out, study, include_identities)
        return
    if fmt is ExportFormat.csv and out is None:
        fail("--format csv needs --out DIRECTORY")
    if out is None:
        from cletrial.store.engine import read_connection
        from cletrial.store.monitoring_rules import compute_lock_stamp

        with read_connection(engine) as conn:
            data = _guard(export_rows, conn, study=study, deidentify=deidentify)
            stamp = compute_lock_stamp(conn)
        write_json(data, sys.stdout, database=stamp)
        return
    files = _guard(export_to, engine, out, fmt=fmt.value, study=study, deidentify=deidentify)
    typer.echo(f"wrote {len(files)} file(s): {', '.join(str(f) for f in files)}", err=True)


def _export_odm(engine: Any, out: Path | None, study: str | None, identities: bool) -> None:
    from cletrial.store.odm import export_odm_file

    if out is None:
        fail("--format odm needs --out FILE.xml")
    written = _guard(export_odm_file, engine, out, study=study, include_identities=identities)
    note = " WITH names, dates of birth and record numbers" if identities else ""
    typer.echo(f"wrote {written}{note}", err=True)


def export_history(
    patients: Annotated[
        list[str] | None, typer.Argument(help="Patient study codes (default: every patient).")
    ] = None,
    study: Annotated[
        str | None, typer.Option(help="Study code (needed when codes repeat across studies).")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Print stored patients as patient histories (JSON Lines, one patient a line), the input
    of `cletrial recommend` and the endpoint derivations. No identifying data."""
    from cletrial.store import UnitOfWork, export_patient_history

    with UnitOfWork(_engine(database), read_only=True) as uow:
        study_id = None
        if study is not None:
            found = _guard(uow.studies.by_code, study)
            if found is None:
                fail(f"--study {study}: no such study")
            study_id = found.id
        codes = patients or [p.study_code for p in uow.patients.list(study_id=study_id)]
        for code in codes:
            history = _guard(export_patient_history, uow, code, study_id=study_id)
            typer.echo(json.dumps(history, ensure_ascii=False))
        from cletrial.store.import_export import describe_lock_stamp
        from cletrial.store.monitoring_rules import compute_lock_stamp

        typer.echo(describe_lock_stamp(compute_lock_stamp(uow.connection)), err=True)


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[
        str,
        typer.Option(
            help="investigator, coordinator, monitor, data_manager, statistician or administrator."
        ),
    ],
    site: Annotated[
        list[str] | None, typer.Option(help="Site code the user works at (repeat for several).")
    ] = None,
    study: Annotated[str | None, typer.Option(help="Study of the --site codes.")] = None,
    display_name: Annotated[str | None, typer.Option(help="Name shown in the interface.")] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Read the password from standard input (else prompt)."
        ),
    ] = False,
    user: UserOption = None,
    database: DatabaseOption = None,
) -> None:
    """Create a user (the password is stored as an argon2 hash)."""
    from cletrial.store import UnitOfWork, create_user

    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    )
    with UnitOfWork(_engine(database), user=_actor(user)) as uow:
        site_ids = []
        if site:
            found = _guard(uow.studies.by_code, study) if study else None
            if found is None:
                fail("--site needs --study CODE of an existing study")
            for code in site:
                record = uow.sites.by_code(found.id, code)
                if record is None:
                    fail(f"--site {code}: no such site in study {study}")
                site_ids.append(record.id)
        created = _guard(create_user, uow, username, password, role=role,
                         display_name=display_name, site_ids=site_ids)  # fmt: skip
    typer.echo(f"created user {created.username} ({created.role})")


def register(app: typer.Typer) -> None:
    """Add the database commands to ``app``."""
    app.add_typer(db_app, name="db")
    app.add_typer(audit_app, name="audit")
    app.add_typer(user_app, name="user")
    app.command("import")(import_file)
    app.command("export")(export)
    app.command("export-history")(export_history)
