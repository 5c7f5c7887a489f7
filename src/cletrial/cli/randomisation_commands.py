"""The randomisation commands: ``generate`` (the statistician's allocation list, seeded),
``import`` (into the study database, sealed), ``balance`` and ``audit`` (reports).

``import`` and the unblinded reports (``--unblinded``) are e-signed: the user's password is
checked and the account must have an unblinded role (statistician). Without ``--unblinded``
the reports show no arm. Heavy modules are imported inside the commands.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from cletrial.cli._common import fail, read_bytes
from cletrial.cli.store_commands import (
    DatabaseOption,
    JsonOption,
    UserOption,
    _actor,
    _engine,
    _guard,
    _print_json,
)

randomisation_app = typer.Typer(
    help=(
        "Randomisation: generate a stratified permuted-block allocation list from a seed, "
        "import it sealed into the study database (test and production lists apart), report "
        "the balance by stratum and arm and the allocation audit listing. Patients are "
        "randomised by investigators (POST /api/patients/{id}/randomise). See "
        "docs/randomisation.md."
    ),
    no_args_is_help=True,
)


class Environment(StrEnum):
    """Which list: training and acceptance (test) or the trial's own (production)."""

    test = "test"
    production = "production"


EnvironmentOption = Annotated[
    Environment,
    typer.Option(
        "--environment", help="test or production (kept apart; one production list a study)."
    ),
]
StudyOption = Annotated[
    str | None, typer.Option("--study", help="Study code (default: the database's only study).")
]
PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from standard input (else prompt)."),
]
UnblindedOption = Annotated[
    bool,
    typer.Option("--unblinded", help="Show the arms (statisticians only; asks for the password)."),
]


@randomisation_app.command("generate")
def generate(
    strata: Annotated[
        list[str],
        typer.Option(
            "--strata",
            help="A stratification factor and its levels, "
            "factor=level,level,... (repeat for each factor), e.g. "
            "subtype=DLE,SCLE,ACLE.",
        ),
    ],
    arms: Annotated[
        str, typer.Option("--arms", help="Arms and ratios, e.g. lenalidomide:1,placebo:1.")
    ],
    blocks: Annotated[
        str,
        typer.Option(
            "--blocks",
            help="Block sizes drawn at random for each block, multiples "
            "of the ratio sum, e.g. 2,4.",
        ),
    ],
    per_stratum: Annotated[
        int, typer.Option("--per-stratum", help="Least number of slots of each stratum.")
    ],
    seed: Annotated[
        int, typer.Option("--seed", help="Seed (0 or more): keep it with the randomisation plan.")
    ],
    environment: EnvironmentOption,
    out: Annotated[Path, typer.Option("--out", help="The list file to write (JSON).")],
    list_id: Annotated[
        str | None, typer.Option("--list-id", help="Id of the list (default: drawn).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Generate an allocation list: stratified permuted blocks with random block sizes.

    The same options and seed give the same file, byte for byte (canonical JSON); its SHA-256
    (``sha256sum FILE``) is printed and recorded by ``import``. The file names every slot's
    arm: keep it where only the trial statistician can read it.
    """
    from cletrial.randomisation import (
        generate_allocation_list,
        parse_arms,
        parse_block_sizes,
        parse_strata,
    )
    from cletrial.store.atomic import write_atomically

    allocation = _guard(
        lambda: generate_allocation_list(
            parse_strata(strata),
            parse_arms(arms),
            block_sizes=parse_block_sizes(blocks),
            per_stratum=per_stratum,
            seed=seed,
            environment=environment.value,
            list_id=list_id,
        )
    )
    text = allocation.to_json()
    write_atomically({out: lambda f: f.write(text)})
    summary = {
        "list_id": allocation.list_id,
        "environment": allocation.environment,
        "file": str(out),
        "sha256": allocation.sha256,
        "slots": len(allocation.slots),
        "strata": len({s.stratum for s in allocation.slots}),
    }
    if as_json:
        _print_json(summary)
        return
    typer.echo(
        f"{summary['list_id']} ({summary['environment']}): {summary['slots']} slots in "
        f"{summary['strata']} strata written to {out}\nsha256 {summary['sha256']}"
    )


def _account(
    user: str | None,
    database: str | None,
    password_stdin: bool,
    what: str,
    roles: Any,
    why: str = "",
) -> Any:
    """Check the user's password (their e-signature) and that their role is one of ``roles``;
    return the account."""
    from cletrial.store import UnitOfWork, verify_password

    actor = _actor(user)
    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else typer.prompt("Password (your e-signature)", hide_input=True)
    )
    with UnitOfWork(_engine(database), read_only=True) as uow:
        account = verify_password(uow, actor, password)
    if account is None:
        fail(f"{actor}: password not recognised; {what} needs your own password")
    if account.role not in roles:
        allowed = " or ".join(sorted(roles))
        an = "an" if allowed[0] in "aeiou" else "a"
        fail(f"{actor} is a {account.role}: only {an} {allowed} may {what}{why}")
    return account


def _signed(user: str | None, database: str | None, password_stdin: bool, what: str) -> str:
    """Check the user's password and unblinded role; return the user name."""
    from cletrial.store.randomisation import UNBLINDED_ROLES

    account = _account(user, database, password_stdin, what, UNBLINDED_ROLES,
                       " (the list is sealed)")  # fmt: skip
    return str(account.username)


def _study_id(uow: Any, code: str | None) -> int:
    studies = uow.studies.list()
    if code is not None:
        found = [s for s in studies if s.code == code]
        if not found:
            fail(f"--study {code}: no such study")
        return int(found[0].id)
    if len(studies) != 1:
        fail(f"the database has {len(studies)} studies: name one with --study CODE")
    return int(studies[0].id)


@randomisation_app.command("import")
def import_list(
    file: Annotated[str, typer.Argument(help="The list written by generate ('-': stdin).")],
    environment: EnvironmentOption,
    study: StudyOption = None,
    user: UserOption = None,
    database: DatabaseOption = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOption = False,
) -> None:
    """Import an allocation list, sealed, all or nothing (statisticians; e-signed).

    Records the SHA-256 of the list's canonical JSON; refuses the same list twice, a second
    production list for the study, and a list of another environment than --environment.
    """
    from cletrial.randomisation import AllocationList
    from cletrial.store import UnitOfWork
    from cletrial.store.randomisation import import_allocation_list

    allocation = _guard(AllocationList.from_json, read_bytes(file))
    actor = _signed(user, database, password_stdin, "import an allocation list")
    with UnitOfWork(_engine(database), user=actor) as uow:
        study_id = _study_id(uow, study)
        stored = _guard(
            import_allocation_list, uow, study_id, allocation, environment=environment.value
        )
    if as_json:
        _print_json(
            {
                "id": stored.id,
                "list_id": stored.list_code,
                "environment": stored.environment,
                "sha256": stored.sha256,
                "slots": stored.slot_count,
                "imported_by": stored.imported_by,
                "imported_at": stored.imported_at.isoformat(),
            }
        )
        return
    typer.echo(
        f"imported {stored.list_code} ({stored.environment}, {stored.slot_count} slots, "
        f"sealed) by {stored.imported_by}\nsha256 {stored.sha256}"
    )


def _role(unblinded: bool, user: str | None, database: str | None, stdin: bool) -> str:
    if unblinded:
        _signed(user, database, stdin, "see the arms")
        return "statistician"
    return "blinded"


@randomisation_app.command("balance")
def balance_report(
    environment: EnvironmentOption = Environment.production,
    study: StudyOption = None,
    unblinded: UnblindedOption = False,
    user: UserOption = None,
    database: DatabaseOption = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOption = False,
) -> None:
    """Balance of the list by stratum: slots, patients randomised and (--unblinded) by arm."""
    from cletrial.store import UnitOfWork
    from cletrial.store.randomisation_reports import balance

    role = _role(unblinded, user, database, password_stdin)
    with UnitOfWork(_engine(database), read_only=True) as uow:
        lines = _guard(
            balance, uow, _study_id(uow, study), environment=environment.value, role=role
        )
    rows = [
        {
            "stratum": x.stratum,
            "slots": x.slots,
            "randomised": x.allocated,
            **({"by_arm": x.by_arm} if x.by_arm is not None else {}),
        }
        for x in lines
    ]
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        arms = "  " + ", ".join(f"{a} {n}" for a, n in row["by_arm"].items()) if unblinded else ""
        typer.echo(f"{row['stratum']}: {row['randomised']} of {row['slots']} slots{arms}")
    typer.echo(f"total: {sum(r['randomised'] for r in rows)} randomised")


@randomisation_app.command("audit")
def audit_listing(
    environment: EnvironmentOption = Environment.production,
    study: StudyOption = None,
    unblinded: UnblindedOption = False,
    user: UserOption = None,
    database: DatabaseOption = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOption = False,
) -> None:
    """Allocation audit listing: every randomisation in order (patient, site, stratum, slot,
    treatment code, who, when, why, its audit rows; the arm with --unblinded)."""
    from cletrial.store import UnitOfWork
    from cletrial.store.randomisation_reports import allocation_listing

    role = _role(unblinded, user, database, password_stdin)
    with UnitOfWork(_engine(database), read_only=True) as uow:
        lines = _guard(
            allocation_listing, uow, _study_id(uow, study), environment=environment.value, role=role
        )
    rows = [
        {
            "patient": x.study_code,
            "site": x.site_code,
            "stratum": x.stratum,
            "sequence": x.sequence,
            "code": x.code,
            "randomised_by": x.randomised_by,
            "randomised_at": x.randomised_at.isoformat(),
            "reason": x.reason,
            "audit_rows": list(x.audit_ids),
            **({"arm": x.arm} if unblinded else {}),
        }
        for x in lines
    ]
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        arm = f" {row['arm']}" if unblinded else ""
        typer.echo(
            f"{row['randomised_at']} {row['patient']} ({row['site']}) {row['stratum']} "
            f"#{row['sequence']} {row['code']}{arm} by {row['randomised_by']}: "
            f"{row['reason'] or '-'} [audit {', '.join(map(str, row['audit_rows']))}]"
        )
    typer.echo(f"{len(rows)} randomisation(s)")


@randomisation_app.command("unblind")
def unblind(
    patient: Annotated[str, typer.Argument(help="The patient's study code.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why the treatment must be known (10+ characters).")
    ],
    study: StudyOption = None,
    user: UserOption = None,
    database: DatabaseOption = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOption = False,
) -> None:
    """Emergency unblinding of one randomised patient: investigators of the patient's site,
    e-signed (the password re-entered). Prints the arm; records who, when and why (audited,
    listed to the monitors without the arm). Every unblinding is recorded, a repeat too.

    Example: cletrial randomisation unblind A-001 --reason "suspected anaphylaxis" --user dr.ruiz
    """
    from cletrial.store import UnitOfWork
    from cletrial.store.unblinding import UNBLINDING_ROLES, unblind_patient

    account = _account(user, database, password_stdin, "unblind a patient", UNBLINDING_ROLES)
    with UnitOfWork(_engine(database), user=account.username, reason=reason) as uow:
        study_id = _study_id(uow, study)
        found = uow.find("patients", study_id=study_id, study_code=patient)
        if found is None:
            fail(f"{patient}: no patient with that study code in the study")
        if found["site_id"] not in account.site_ids:
            fail(f"{account.username} works at no site of patient {patient}: only an "
                 "investigator of the patient's site may unblind them")  # fmt: skip
        record, arm = _guard(unblind_patient, uow, int(found["id"]), role=account.role,
                             signed_name=account.display_name, reason=reason)  # fmt: skip
    if as_json:
        when = record.unblinded_at.isoformat()
        _print_json({"patient": patient, "arm": arm, "unblinded_by": record.unblinded_by,
                     "unblinded_at": when, "reason": record.reason})  # fmt: skip
        return
    when = f"{record.unblinded_at:%Y-%m-%d %H:%M} UTC"
    typer.echo(f"patient {patient}: arm {arm}\nunblinding recorded by {record.unblinded_by} at "
               f"{when}; the monitors see it, not the arm")  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add the randomisation commands to ``app``."""
    app.add_typer(randomisation_app, name="randomisation")
