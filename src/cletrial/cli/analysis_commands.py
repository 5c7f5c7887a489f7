"""``cletrial reproduce`` (the published-claims audit) and ``cletrial report`` (the study report).

Only Typer and the standard library are imported at module level; the analysis package (pandas,
scipy, statsmodels, lifelines, matplotlib) is imported inside the commands.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import typer

from cletrial.cli._common import fail, iter_lines

_STUDY_HELP = (
    "Which study: 'reference' (Tables 1-3 of Cortés-Hernández et al. 2012), a JSON Lines file of "
    "patient histories (one history per line, docs/formats.md; e.g. from 'cletrial synth'), or "
    "a database URL (sqlite:///file.sqlite, postgresql://user@host/db) read through cletrial.store."
)


def reproduce(
    as_json: bool = typer.Option(False, "--json", help="Print the audit as JSON (for machines)."),
) -> None:
    """Recompute every quantitative claim of the 2012 paper from its own Tables 1-3.

    Each claim is listed with where it stands in the paper, the published figure, the
    recomputed figure, a status (consistent, inconsistent, not reproducible) and a one-line
    explanation. Exit status 0 whatever the statuses: the audit reports, it does not judge.
    """
    from cletrial.analysis.claims import compute_claims_audit
    from cletrial.errors import CletrialError

    try:
        audit = compute_claims_audit()
    except CletrialError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(audit.as_dict(), indent=2, ensure_ascii=False))
        return
    for result in audit.results:
        typer.echo(f"[{result.status}] {result.id}  ({result.section})")
        typer.echo(f"    published:  {result.reported_text}")
        typer.echo(f"    recomputed: {result.recomputed_text}")
        typer.echo(
            textwrap.fill(
                result.explanation,
                width=100,
                initial_indent="    why:        ",
                subsequent_indent=" " * 16,
            )
        )
    counts = ", ".join(f"{n} {status}" for status, n in audit.counts.items())
    typer.echo(f"\n{len(audit.results)} claims: {counts}")


def _read_histories(path: str) -> list[dict[str, Any]]:
    histories = []
    for number, raw in enumerate(iter_lines(path), start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            fail(f"{path}, line {number}: not valid JSON ({exc})")
        if not isinstance(item, dict):
            fail(f"{path}, line {number}: must be one patient history object")
        histories.append(item)
    if not histories:
        fail(f"{path}: no patient history found")
    return histories


def _pick_study(studies: list[Any], code: str | None) -> Any:
    codes = ", ".join(sorted(study.code for study in studies)) or "none"
    if code is not None:
        for study in studies:
            if study.code == code:
                return study
        fail(f"--study-code {code}: no such study in the database (studies: {codes})")
    if len(studies) != 1:
        fail(f"the database holds {len(studies)} studies ({codes}): choose one with --study-code")
    return studies[0]


def _database_histories(url: str, study_code: str | None) -> tuple[list[dict[str, Any]], str]:
    """Every patient of one study of the database, as patient histories (read only)."""
    from sqlalchemy.exc import SQLAlchemyError

    from cletrial.store import UnitOfWork, create_engine_for, export_patient_history

    scheme = url.split("://", 1)[0]
    engine = None
    try:
        engine = create_engine_for(url)
        with UnitOfWork(engine, read_only=True) as uow:
            study = _pick_study(list(uow.studies.list()), study_code)
            patients = uow.patients.list(study_id=study.id)
            histories = [export_patient_history(uow, patient.id) for patient in patients]
    except SQLAlchemyError as exc:
        fail(f"cannot read the study database ({scheme}://...): {type(exc).__name__}")
    finally:
        if engine is not None:
            engine.dispose()
    if not histories:
        fail(f"study {study.code} in the database has no patient")
    return histories, f"database ({scheme}), study {study.code}: {study.title}"


def report(
    out: Path = typer.Option(
        ...,
        "--out",
        help="Directory to write index.html and report.json to.",
        file_okay=False,
        dir_okay=True,
        writable=True,
    ),
    study: str = typer.Option("reference", "--study", help=_STUDY_HELP),
    study_code: str | None = typer.Option(
        None, "--study-code", help="With a database URL: the study to report (its code)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Also print the report's numbers as JSON."),
) -> None:
    """Write a self-contained HTML study report to OUT/index.html (and its numbers to
    OUT/report.json): Tables 1-3, the claims audit (reference study), a swimmer plot,
    Kaplan-Meier curves, and Figures 2 and 3 where visit-level data exist. Synthetic data are
    labelled synthetic throughout."""
    from cletrial.analysis.report import (
        compute_cohort_report,
        compute_reference_report,
        render_report_html,
    )
    from cletrial.errors import CletrialError

    try:
        if study == "reference":
            result = compute_reference_report()
        elif "://" in study:
            histories, source = _database_histories(study, study_code)
            result = compute_cohort_report(histories, source=source)
        else:
            result = compute_cohort_report(_read_histories(study), source=f"histories: {study}")
        html = render_report_html(result)
    except CletrialError as exc:
        shown = f"{study.split('://', 1)[0]}://..." if "://" in study else study
        fail(f"{shown}: {exc}")
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "index.html").write_text(html, encoding="utf-8")
        numbers = json.dumps(result.numbers(), indent=2, ensure_ascii=False)
        (out / "report.json").write_text(numbers + "\n", encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write the report to {out}: {exc.strerror}")
    if as_json:
        typer.echo(numbers)
    else:
        label = " (SYNTHETIC DATA)" if result.synthetic else ""
        typer.echo(f"wrote {out / 'index.html'}{label}")


def register(app: typer.Typer) -> None:
    """Add ``reproduce`` and ``report`` to ``app``."""
    app.command("reproduce")(reproduce)
    app.command("report")(report)
