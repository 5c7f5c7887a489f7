"""``cletrial derive`` (endpoints from visit data) and ``cletrial synth`` (synthetic cohorts)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

import typer

from cletrial.cli._common import fail, iter_lines


class Table(StrEnum):
    """The tables ``cletrial derive`` can print."""

    subjects = "subjects"
    relapses = "relapses"
    adsl = "adsl"
    adrs = "adrs"
    adtte = "adtte"
    adae = "adae"
    trial = "trial"


#: Columns of the readable (default) output; --csv and --json give every column.
READABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "subjects": (
        "patient_id",
        "best_response",
        "time_to_cr_weeks",
        "n_relapses",
        "first_relapse_weeks_from_reduction",
        "first_relapse_regimen",
        "n_cycles",
        "maintenance",
        "sustained_remission",
        "flare_paper_mild",
        "clasi_d_change_12m",
        "n_ae",
    ),
    "relapses": (
        "patient_id",
        "relapse_no",
        "day",
        "weeks_from_reduction",
        "regimen",
        "setting",
        "action",
    ),
    "adsl": (
        "USUBJID",
        "SYNTHFL",
        "BESTRSP",
        "TTCRWK",
        "RELFL",
        "NRELAPSE",
        "NCYCLES",
        "MAINTFL",
        "SUSREMFL",
        "CHGD12",
        "AEFL",
    ),
    "adrs": ("USUBJID", "PARAMCD", "AVAL", "AVALC", "ADY", "SRCDOM", "SRCSEQ"),
    "adtte": ("USUBJID", "PARAMCD", "AVAL", "CNSR", "ADY", "SRCDOM", "SRCSEQ"),
    "adae": ("USUBJID", "AESEQ", "AETERM", "ASTDY", "AETOXGR", "AEREL", "AESER", "TRTEMFL"),
    "trial": (
        "patient_id",
        "week",
        "clasi_a_base",
        "clasi_a_wk",
        "clasi_pct_change",
        "clasi50",
        "clasi70",
        "clasi_note",
        "cla_iga_base",
        "cla_iga_wk",
        "cla_iga_success",
    ),
}


def _progress(items: Iterator[Any], desc: str, total: int | None = None) -> Iterator[Any]:
    """Wrap ``items`` in a tqdm progress bar on standard error (shown on a terminal only)."""
    from tqdm import tqdm

    yield from tqdm(
        items, desc=desc, total=total, unit=" patients", file=sys.stderr, disable=None, leave=False
    )


def _histories(path: str) -> Iterator[Any]:
    """Validate a JSON Lines cohort (or one JSON document: a history or a list of them).

    Each history goes through the one history parser (:mod:`cletrial.protocol.history`), the
    same as ``cletrial recommend``; errors name the line.
    """
    import msgspec

    from cletrial.errors import InputError
    from cletrial.protocol.history import decode_history, parse_history

    lines = iter_lines(path)
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield decode_history(line)
        except InputError as exc:
            if exc.problem.startswith("not valid JSON") and (
                number == 1 or not line.strip().startswith(b"{")
            ):
                try:
                    value = msgspec.json.decode(line + b"".join(lines))
                except msgspec.DecodeError:
                    fail(f"line {number}: {exc.problem}")
                for index, item in enumerate(value if isinstance(value, list) else [value], 1):
                    try:
                        yield parse_history(item)
                    except InputError as error:
                        raise error.at_line(index) from None
                return
            raise exc.at_line(number) from None


def _rules(protocol: str | None, first: Any) -> Any:
    """The endpoint rules of ``--protocol``, else of the protocol the first history names."""
    from cletrial.endpoints import EndpointRules
    from cletrial.protocol.definition import load_protocol

    chosen = protocol or (None if first is None else first.document.protocol)
    return EndpointRules.from_protocol(load_protocol(chosen))


def _same_protocol(histories: Iterator[Any], protocol: str | None) -> Iterator[Any]:
    """Refuse a cohort whose histories name different protocols (unless --protocol is given)."""
    from cletrial.errors import HistoryError

    named = None
    for line, history in enumerate(histories, 1):
        name = history.document.protocol
        if protocol is None and name is not None:
            if named is not None and name != named:
                raise HistoryError(
                    "protocol", name, f"differs from the cohort's {named!r}: give --protocol"
                ).at_line(line)
            named = name
        yield history


def _build(path: str, protocol: str | None) -> tuple[Any, Any]:
    from itertools import chain

    from cletrial.endpoints import derive_endpoints, table_from_histories
    from cletrial.errors import CletrialError

    try:
        histories = _same_protocol(_progress(_histories(path), "reading"), protocol)
        first = next(histories, None)
        rules = _rules(protocol, first)
        table = table_from_histories(chain([first] if first else [], histories), rules)
        return derive_endpoints(table, rules), table
    except CletrialError as exc:
        fail(str(exc))


def _trial(path: str, protocol: str | None, week: int, nri: bool) -> Any:
    """The trial endpoints at ``week`` (CLASI-50/70, CLA-IGA success, Skindex-29+3 change)."""
    from cletrial.endpoints import TrialEndpointRules, course_from_history, derive_trial_endpoints
    from cletrial.errors import CletrialError

    try:
        trial_rules = TrialEndpointRules(week=week, nri=nri)
        histories = list(_same_protocol(_progress(_histories(path), "reading"), protocol))
        rules = _rules(protocol, histories[0] if histories else None)
        courses = [course_from_history(h, rules) for h in histories]
        return derive_trial_endpoints(courses, trial_rules)
    except CletrialError as exc:
        fail(str(exc))


def _frame(which: Table, endpoints: Any, table: Any) -> Any:
    from cletrial.endpoints import derive_adae, derive_adrs, derive_adsl, derive_adtte

    if which is Table.subjects:
        return endpoints.subjects
    if which is Table.relapses:
        return endpoints.relapses
    builders = {Table.adsl: derive_adsl, Table.adrs: derive_adrs, Table.adtte: derive_adtte}
    if which is Table.adae:
        return derive_adae(table)
    return builders[which](endpoints, table)


def _json_ready(frame: Any) -> list[dict[str, Any]]:
    """Rows with ISO dates and None for every missing marker."""
    import pandas as pd

    out = frame.copy()
    for name in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[name]):
            out[name] = out[name].dt.strftime("%Y-%m-%d")
    out = out.astype(object).where(out.notna(), None)
    rows: list[dict[str, Any]] = out.to_dict("records")
    return rows


def derive(
    visits: str = typer.Argument(
        ...,
        help="Patient histories: JSON Lines, one history a line (docs/formats.md); - for stdin.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array of records."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV with every column."),
    table: Table = typer.Option(
        Table.subjects,
        "--table",
        help="subjects (one row per patient, every endpoint), "
        "relapses, an ADaM-shaped table: adsl, adrs, adtte, adae, or trial (CLASI-50/70, "
        "CLA-IGA success and Skindex-29+3 change at --week).",
    ),
    week: int = typer.Option(
        16, "--week", help="With --table trial: the week of the endpoints (day 7 x week)."
    ),
    nri: bool = typer.Option(
        False,
        "--nri",
        help="With --table trial: count a missing visit as a non-responder (default: missing).",
    ),
    protocol: str | None = typer.Option(
        None,
        "--protocol",
        help="Protocol id or definition file whose ladder and thresholds apply (default: the "
        "protocol the first history names, else lenalidomide-cle-2012).",
    ),
) -> None:
    """Derive the endpoints of a cohort from visit-level data.

    Best CLASI response (CR, PR, NR, WITHDRAWN, NE) and time to CR; relapses after CR with the
    weeks since the last dose reduction and the regimen at relapse; treatment cycles; long-term
    maintenance; sustained remission after withdrawal; SLEDAI-2K flares (the paper's rule and
    SELENA); CLASI-D change at 12 months; anti-dsDNA, C3 and C4 at baseline against end of
    treatment; adverse events by grade, causality and seriousness; with --table trial, the
    endpoints of a randomised trial at --week (CLASI-50/70, CLA-IGA success, Skindex-29+3
    domain change; --nri for non-responder imputation). Missing data stay missing.
    Every patient is kept: those never dosed, withdrawn before the first assessment or
    without a baseline CLASI-A are flagged out of the populations they do not belong to
    (saf_flag, itt_flag, eff_flag, population_note). Histories are validated by the same parser
    as cletrial recommend; the ladder and thresholds come from the protocol definition
    (--protocol). The rules are in docs/endpoints.md. Bad input exits with status 2 naming the
    line, field and value.

    Example: cletrial synth --patients 20 --seed 1 --out demo.jsonl && cletrial derive demo.jsonl
    """
    if as_json and as_csv:
        fail("--json and --csv exclude each other")
    if table is Table.trial:
        frame = _trial(visits, protocol, week, nri)
    else:
        endpoints, data = _build(visits, protocol)
        frame = _frame(table, endpoints, data)
    out = sys.stdout
    if as_csv:
        from cletrial.store.csv_safe import neutralise_cell

        text_columns = frame.select_dtypes(include="object").columns
        safe = frame.assign(**{c: frame[c].map(neutralise_cell) for c in text_columns})
        safe.to_csv(out, index=False, date_format="%Y-%m-%d")
    elif as_json:
        import json

        json.dump(_json_ready(frame), out, indent=1)
        out.write("\n")
    else:
        columns = [c for c in READABLE_COLUMNS[table.value] if c in frame.columns]
        shown = (frame[columns] if columns else frame).round(2)
        shown = shown.astype(object).where(shown.notna(), "-")
        out.write(shown.to_string(index=False) + "\n")
        if len(frame.columns) > len(columns):
            out.write(
                f"({len(frame)} rows; {len(columns)} of {len(frame.columns)} columns shown: "
                "use --csv or --json for all)\n"
            )


def synth(
    patients: int = typer.Option(..., "--patients", min=0, help="Number of patients (>= 0)."),
    seed: int = typer.Option(
        ..., "--seed", help="Random seed; the same seed gives the same cohort."
    ),
    out: str = typer.Option(..., "--out", help="Output file (JSON Lines); - for standard output."),
    protocol: str = typer.Option(
        None, "--protocol", help="Protocol id or file (default: the bundled 2012 protocol)."
    ),
) -> None:
    """Generate a synthetic cohort: N patients treated by the protocol engine visit by visit.

    Response and relapse behaviour are calibrated to the 2012 paper (docs/synthetic.md). Every
    history is labelled "synthetic": true with ids SYN-0001, ...; patient i depends only on the
    seed and i. Synthetic data are for demonstrations, tests and benchmarks, never evidence.

    Example: cletrial synth --patients 100 --seed 2012 --out cohort.jsonl
    """
    from pathlib import Path

    import msgspec

    from cletrial.errors import CletrialError
    from cletrial.protocol.definition import load_protocol
    from cletrial.synthetic import generate_history

    try:
        definition = load_protocol(protocol)
    except CletrialError as exc:
        fail(str(exc))
    encode = msgspec.json.Encoder().encode
    try:
        handle = sys.stdout.buffer if out == "-" else Path(out).open("wb")  # noqa: SIM115
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror}")
    try:
        for i in _progress(iter(range(patients)), "generating", total=patients):
            handle.write(encode(generate_history(i, seed, protocol=definition)) + b"\n")
    finally:
        if out != "-":
            handle.close()
        else:
            handle.flush()


def register(app: typer.Typer) -> None:
    """Add ``derive`` and ``synth`` to ``app``."""
    app.command("derive")(derive)
    app.command("synth")(synth)
