"""``cletrial score clasi|sledai`` and ``cletrial grade``: the clinical instruments."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from enum import StrEnum
from typing import Any

import typer

from cletrial.cli._common import fail, iter_lines

score_app = typer.Typer(
    help="Score clinical forms (CLASI, SLEDAI-2K) from JSON or JSON Lines.",
    no_args_is_help=True,
)

_FILE_HELP = (
    "JSON file with one form, or JSON Lines with one form a line (a whole registry is streamed). "
    "Use - for standard input."
)
_JSON_HELP = "Print one JSON object a form instead of a table."


def iter_documents(path: str) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line number, JSON text)`` for each form of a JSON or JSON Lines input.

    A file whose first non-blank line is not a complete JSON value is read whole, as one
    (pretty-printed) JSON document.
    """
    import msgspec

    lines = iter_lines(path)
    first = 0
    for first, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            msgspec.json.decode(line)
        except msgspec.DecodeError:
            yield first, line + b"".join(lines)
            return
        yield first, line
        break
    else:
        return
    for lineno, line in enumerate(lines, first + 1):
        if line.strip():
            yield lineno, line


def _emit(rows: Iterable[dict[str, Any]], as_json: bool, columns: tuple[str, ...]) -> None:
    import msgspec

    out = sys.stdout.buffer
    if as_json:
        encode = msgspec.json.Encoder().encode
        chunk: list[bytes] = []
        try:
            for row in rows:
                chunk.append(encode(row))
                if len(chunk) >= 4096:
                    out.write(b"\n".join(chunk) + b"\n")
                    chunk.clear()
        finally:  # rows scored before a bad line are still written
            if chunk:
                out.write(b"\n".join(chunk) + b"\n")
            out.flush()
        return
    widths = [max(len(c), 10) for c in columns]
    header = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    out.write((header + "\n" + "  ".join("-" * w for w in widths) + "\n").encode())
    for row in rows:
        cells = (str(row[c]).ljust(w) for c, w in zip(columns, widths, strict=True))
        out.write(("  ".join(cells).rstrip() + "\n").encode())
    out.flush()


def _score_rows(
    path: str, score: Callable[[bytes], dict[str, Any]], with_line: bool
) -> Iterator[dict[str, Any]]:
    from cletrial.errors import InputError

    for lineno, text in iter_documents(path):
        try:
            row = score(text)
        except InputError as exc:
            fail(str(exc.at_line(lineno)))
        if with_line:
            row = {"line": lineno, **row}
        yield row


def _clasi_row(text: bytes) -> dict[str, Any]:
    from cletrial.instruments.clasi import compute_clasi, decode_clasi_json

    return compute_clasi(decode_clasi_json(text)).as_dict()


def _sledai_row(text: bytes) -> dict[str, Any]:
    from cletrial.instruments.sledai import compute_sledai, decode_sledai_json

    return {"score": compute_sledai(decode_sledai_json(text))}


@score_app.command("clasi")
def score_clasi(
    file: str = typer.Argument(..., help=_FILE_HELP),
    as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),
) -> None:
    """Score CLASI forms: activity (0-70), damage (0-56) and the activity severity band
    (mild 0-9, moderate 10-20, severe 21-70).

    A form: {"regions": {"arms": {"erythema": 2, "scale": 1, "dyspigmentation": 0, "scarring": 0}},
    "mucous_membrane_lesions": 0, "recent_hair_loss": 0, "nonscarring_alopecia": 0,
    "scarring_alopecia": 0, "dyspigmentation_persistent": false}. Omitted regions and items are
    absent (0). See `cletrial schema clasi`. Invalid input exits with status 2 and names the
    line, field and value.
    """
    rows = _score_rows(file, _clasi_row, with_line=not as_json)
    columns = ("line", "activity", "damage", "activity_severity")
    _emit(rows, as_json, columns)


@score_app.command("sledai")
def score_sledai(
    file: str = typer.Argument(..., help=_FILE_HELP),
    as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),
) -> None:
    """Score SLEDAI-2K forms (0-105).

    A form is an object of descriptor -> true/false, e.g. {"arthritis": true, "rash": true};
    omitted descriptors are absent. Thrombocytopenia and leukopenia with
    "thrombocytopenia_drug_induced" / "leukopenia_drug_induced" true do not score. See
    `cletrial schema sledai`.
    """
    _emit(_score_rows(file, _sledai_row, with_line=not as_json), as_json, ("line", "score"))


class Term(StrEnum):
    """CTCAE laboratory terms."""

    neutrophil_count_decreased = "neutrophil_count_decreased"
    white_blood_cell_decreased = "white_blood_cell_decreased"
    platelet_count_decreased = "platelet_count_decreased"
    anemia = "anemia"


class CtcaeVersion(StrEnum):
    """Supported CTCAE versions."""

    v5 = "5.0"
    v3 = "3.0"


def grade(
    term: Term = typer.Argument(..., help="The CTCAE term."),
    value: float = typer.Argument(..., help="The laboratory value, in --unit."),
    unit: str = typer.Option(
        ...,
        "--unit",
        help="Counts: 10^9/L, 10^3/uL, /mm3 or /uL. Haemoglobin: g/dL, g/L or mmol/L.",
    ),
    lln: float | None = typer.Option(
        None,
        "--lln",
        help="The laboratory's lower limit of normal, in --unit. Without it a stated default "
        "is used (neutrophils 2.0, WBC 4.0, platelets 150 x10^9/L; haemoglobin 12.0 g/dL).",
    ),
    ctcae: CtcaeVersion = typer.Option(
        CtcaeVersion.v5, "--ctcae", help="CTCAE version (3.0 differs for haemoglobin)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON object."),
) -> None:
    """Grade a laboratory value with NCI CTCAE (grade 0-4).

    A value exactly on a threshold falls in the milder grade: an ANC of 1.0 x10^9/L is grade 2.
    Example: cletrial grade neutrophil_count_decreased 1190 --unit /mm3
    """
    import json

    from cletrial.errors import InputError
    from cletrial.instruments.ctcae import grade_lab

    try:
        result = grade_lab(term.value, value, unit, lln=lln, version=ctcae.value)
    except InputError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    source = "laboratory" if result.lln_source == "given" else "default, no --lln given"
    typer.echo(f"{result.term}: grade {result.grade} (NCI CTCAE v{result.ctcae_version})")
    typer.echo(f"  value {result.value:g} {result.unit}; LLN {result.lln_used:g} ({source})")
    if result.note:
        typer.echo(f"  note: {result.note}")


def register(app: typer.Typer) -> None:
    """Add ``score`` and ``grade`` to ``app``."""
    app.add_typer(score_app, name="score")
    app.command("grade")(grade)
