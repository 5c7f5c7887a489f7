"""``cletrial submission``: the study's CDISC package (SDTM as SAS transport, Dataset-JSON and
Define-XML, with a manifest and a conformance report)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from cletrial.cli._common import fail
from cletrial.cli.randomisation_commands import PasswordStdin, _signed
from cletrial.cli.store_commands import (
    DatabaseOption,
    JsonOption,
    UserOption,
    _engine,
    _guard,
    _print_json,
)

EXIT_NOT_CONFORMANT = 1


def submission(
    out: Annotated[Path, typer.Option("--out", help="Package directory to create.")],
    study: Annotated[
        str | None, typer.Option(help="Study code (needed when the database holds several).")
    ] = None,
    deidentify: Annotated[
        bool,
        typer.Option(
            "--deidentify",
            help="New subject codes, dates shifted per patient (intervals kept), ages over 89 "
            "as 90, identifying free text blanked. The key is random and never written.",
        ),
    ] = False,
    synthetic: Annotated[
        bool, typer.Option("--synthetic", help="Flag the data as synthetic (SUPPDM).")
    ] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing package.")] = False,
    odm: Annotated[
        bool,
        typer.Option(
            "--odm/--no-odm",
            help="Also add odm/study.xml, the ODM 1.3.2 export of the study database (design, "
            "clinical data, audit records; no names or dates of birth). Off by default: the "
            "export is built in memory (10,000 patients: about 110 s and 11 GiB). Never in a "
            "de-identified package: the ODM keeps the true dates and the audit trail.",
        ),
    ] = False,
    unblinded: Annotated[
        bool,
        typer.Option(
            "--unblinded",
            help="Put each randomised subject's arm in DM (and ADSL TRT01P/A): needed for a "
            "randomised study, for a statistician only (asks for the password, an "
            "e-signature). Without it a randomised study's package is refused.",
        ),
    ] = False,
    user: UserOption = None,
    password_stdin: PasswordStdin = False,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write the study's submission package to --out: SDTM and ADaM datasets (.xpt and
    Dataset-JSON), a define.xml for each, manifest.json (file, rows, SHA-256),
    conformance.json and, with --odm (not with --deidentify), odm/study.xml (the ODM 1.3.2
    export of the database, which `cletrial import` reads back).

    The package is written all or nothing. Exit status 0 when the conformance rules pass, 1
    when the package was written but a rule found an error (read conformance.json), 2 for bad
    input. The ADaM datasets (ADSL, ADRS, ADTTE, ADAE, ADLB) are in adam/ with their own
    define.xml.

    Example: cletrial submission --database sqlite:///var/cletrial.sqlite --out submission/
    """
    from tqdm import tqdm

    from cletrial.standards.package import PackageFile
    from cletrial.standards.submission import build_submission, write_submission
    from cletrial.store import UnitOfWork
    from cletrial.store.odm import render_odm
    from cletrial.store.submission_source import load_study_source

    if unblinded:
        _signed(user, database, password_stdin, "take the arms into a package")
    with UnitOfWork(_engine(database), read_only=True) as uow:
        codes = [s.code for s in uow.studies.list()]
        if study is None:
            if len(codes) != 1:
                fail(f"the database holds {len(codes)} studies ({', '.join(codes)}); give --study")
            study = codes[0]
        source = _guard(load_study_source, uow, study, synthetic=synthetic, unblinded=unblinded)
        odm_text = _guard(render_odm, uow.connection, study) if odm and not deidentify else None
    sub = _guard(build_submission, source, deidentify=deidentify)
    extra = [] if odm_text is None else [
        PackageFile("odm/study.xml", lambda path: path.write_text(odm_text, "utf-8"))]  # fmt: skip
    created = dt.datetime.now(dt.UTC).replace(microsecond=0)
    total = sub.file_count + len(extra)
    with tqdm(total=total, unit="file", disable=as_json, leave=False) as bar:
        manifest = _guard(write_submission, sub, out, created=created, overwrite=overwrite,
                          extra=extra, progress=lambda _path: bar.update())  # fmt: skip
    if as_json:
        _print_json({"manifest": manifest, "conformance": sub.report.as_dict()})
    else:
        rows = sum(f["rows"] or 0 for f in manifest["files"] if f["path"].endswith(".xpt"))
        datasets = len(sub.datasets) + len(sub.adam)
        typer.echo(f"wrote {out}: {len(manifest['files'])} files, {datasets} datasets, "
                   f"{rows:,} rows" + (" (de-identified)" if deidentify else ""))  # fmt: skip
        if odm_text is not None:
            typer.echo(f"odm/study.xml: the ODM 1.3.2 export of study {study}")
        elif odm:
            typer.echo("no odm/study.xml: a de-identified package leaves the ODM export out")
        verdict = "passed" if sub.report.passed else "FOUND ERRORS"
        typer.echo(f"conformance {verdict}: {len(sub.report.findings)} finding(s)")
        for f in sub.report.findings[:10]:
            where = ".".join(x for x in (f.dataset, f.variable) if x)
            typer.echo(f"  {f.rule} {where} row {f.row}: {f.message}")
    if not sub.report.passed:
        raise typer.Exit(EXIT_NOT_CONFORMANT)


def register(app: typer.Typer) -> None:
    """Add the standards command to ``app``."""
    app.command("submission")(submission)
