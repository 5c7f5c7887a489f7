"""``cletrial eligibility``, ``cletrial recommend`` and ``cletrial schedule``: the protocol engine.

Only Typer and the standard library are imported here; the engine is imported inside each
command so that ``cletrial --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import typer

from cletrial.cli._common import fail, iter_lines, read_bytes

PROTOCOL_HELP = (
    "Protocol definition: a bundled id (default lenalidomide-cle-2012, or the history's "
    "'protocol' field) or the path of a YAML definition file."
)


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{option} = {text!r}: must be a date YYYY-MM-DD")


def _protocol(id_or_path: str | None) -> Any:
    from cletrial.errors import ProtocolDefinitionError
    from cletrial.protocol import load_protocol

    try:
        return load_protocol(id_or_path)
    except ProtocolDefinitionError as exc:
        fail(str(exc))


def _emit(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def eligibility(
    screening: str = typer.Argument(..., help="Screening record (JSON file, or - for stdin)."),
    protocol: str | None = typer.Option(None, "--protocol", help=PROTOCOL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
) -> None:
    """May this patient enter? Check every inclusion and exclusion criterion.

    SCREENING is a JSON screening record (see `cletrial schema screening` and docs/protocol.md).
    The verdict is eligible, ineligible or undetermined; each criterion (I1-I6, E1-E9) shows
    its status (met / not_met / missing), the value that decided it, and what is missing. A
    missing item is never taken as normal. Exit status 2 on invalid input.
    """
    from cletrial.errors import CletrialError
    from cletrial.protocol import assess_eligibility

    raw = read_bytes(screening)
    try:
        document = json.loads(raw)
        if not isinstance(document, dict):
            fail("the screening record must be a JSON object")
        chosen = _protocol(protocol or document.get("protocol"))
        result = assess_eligibility(document, chosen)
    except json.JSONDecodeError as exc:
        fail(f"{screening}: not valid JSON ({exc})")
    except CletrialError as exc:
        fail(str(exc))
    if as_json:
        _emit(result.as_dict())
        return
    typer.echo(
        f"Eligibility ({result.protocol_id} v{result.protocol_version}): {result.verdict.upper()}"
    )
    for c in result.criteria:
        shown = json.dumps(c.value, ensure_ascii=False, default=str)
        typer.echo(f"  {c.id:<3} {c.status:<8} {c.text}")
        typer.echo(f"      value: {shown}; {c.reason}")
    if result.missing:
        typer.echo("Missing: " + "; ".join(result.missing))


def _print_recommendation(rec: Any) -> None:
    product = f", {rec.blinding.product}" if rec.blinding is not None else ""
    if rec.regimen is not None:
        regimen = f"{rec.regimen.schedule} ({rec.regimen.id}{product})"
    else:  # undetermined, or no dose at all (do_not_start, end of treatment)
        regimen = "undetermined" if rec.action == "undetermined" else "no dose"
    typer.echo(
        f"Recommendation on {rec.on.isoformat()} ({rec.protocol_id} "
        f"v{rec.protocol_version}); decision support, a clinician decides"
    )
    typer.echo(f"Action:   {rec.action.upper()} -> {regimen}")
    typer.echo(f"Current:  {rec.current_regimen.schedule} ({rec.current_regimen.id}{product})")
    if rec.blinding is not None:
        typer.echo(f"Blinding: {rec.blinding.text}")
    if rec.disposition:
        flag = " (physician decision)" if rec.requires_physician_decision else ""
        typer.echo(f"Disposition: {rec.disposition}{flag}")
    typer.echo("Reasons:")
    for r in rec.reasons:
        typer.echo(f"  [{r.source}] {r.rule}: {r.text}")
    if rec.next_visit:
        v = rec.next_visit
        typer.echo(
            f"Next visit: {v.date.isoformat()} ({v.label}; window "
            f"{v.window_start.isoformat()} to {v.window_end.isoformat()})"
        )
    sections = [
        (
            "Labs due",
            [
                f"{x.due.isoformat()}{' OVERDUE' if x.overdue else ''}: {x.text}"
                for x in rec.labs_due
            ],
        ),
        (
            "Pregnancy tests due",
            [
                f"{x.due_from.isoformat()} to {x.due_by.isoformat()}"
                f"{' OVERDUE' if x.overdue else ''}: {x.text}"
                for x in rec.pregnancy_tests_due
            ],
        ),
        ("Alerts", [f"{x.severity.upper()} [{x.source}] {x.rule}: {x.text}" for x in rec.alerts]),
        (
            "Deviations",
            [
                f"{x.date.isoformat()} [{x.source}] {x.rule} ({x.field}): {x.text}"
                for x in rec.deviations
            ],
        ),
        (
            "Undetermined",
            [f"{x.part}: {x.text} Missing: {', '.join(x.missing)}" for x in rec.undetermined],
        ),
    ]
    for title, lines in sections:
        if lines:
            typer.echo(f"{title}:")
            for line in lines:
                typer.echo(f"  {line}")


def recommend(
    history: str = typer.Argument(..., help="Patient history (JSON, JSON Lines, or - for stdin)."),
    on: str | None = typer.Option(None, "--on", help="Decision date YYYY-MM-DD (default today)."),
    protocol: str | None = typer.Option(None, "--protocol", help=PROTOCOL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
    lines: bool = typer.Option(
        False,
        "--lines",
        help="HISTORY is JSON Lines: one history a line, one JSON recommendation a line out.",
    ),
) -> None:
    """What now? The dose recommendation for one patient on one date, with its reasons.

    HISTORY is a JSON patient history (see `cletrial schema history` and docs/formats.md):
    baseline, dated assessments (CLASI scores or forms, SLEDAI-2K), labs, regimens given
    (doses), adverse events, pregnancy tests and events. Nothing in it may be dated after --on.

    Output: the action (start, continue, escalate, taper, restart, maintain, hold,
    do_not_start when the screening verdict is ineligible, stop, or undetermined when data is
    missing, e.g. no screening verdict before a first dose), the regimen (dose and schedule),
    the reasons (rule id, source protocol/label/default, the data that fired it), the next
    visit and its window, labs and pregnancy tests due, alerts, protocol deviations and
    undetermined parts. The dose never exceeds the protocol maximum. Exit status 2 on invalid
    input.
    """
    from cletrial.errors import CletrialError, InputError
    from cletrial.protocol import decode_history
    from cletrial.protocol import recommend as recommend_one

    day = _date(on, "--on") if on else dt.date.today()
    protocols: dict[str | None, Any] = {}

    def one(data: bytes) -> Any:
        parsed = decode_history(data)
        key = protocol or parsed.document.protocol
        if key not in protocols:
            protocols[key] = _protocol(key)
        return recommend_one(parsed, protocols[key], day)

    if not lines:
        try:
            rec = one(read_bytes(history))
        except CletrialError as exc:
            fail(str(exc))
        _emit(rec.as_dict()) if as_json else _print_recommendation(rec)
        return
    import msgspec

    for number, raw in enumerate(iter_lines(history), start=1):
        if not raw.strip():
            continue
        try:
            rec = one(raw)
        except InputError as exc:
            fail(str(exc.at_line(number)))
        except CletrialError as exc:
            fail(f"line {number}: {exc}")
        typer.echo(msgspec.json.encode(rec).decode())


def schedule(
    start: str = typer.Option(..., "--start", help="Date of the first dose YYYY-MM-DD (day 0)."),
    protocol: str | None = typer.Option(None, "--protocol", help=PROTOCOL_HELP),
    output_format: str = typer.Option("table", "--format", help="table, json or ics."),
    weeks: int | None = typer.Option(
        None, "--weeks", min=1, max=520, help="Weeks to plan (default from the protocol)."
    ),
    reproductive_potential: bool = typer.Option(
        False,
        "--reproductive-potential",
        help="Add pregnancy tests (female of reproductive potential).",
    ),
    irregular_cycles: bool = typer.Option(
        False, "--irregular-cycles", help="Shorter pregnancy test interval."
    ),
) -> None:
    """When are the visits and labs? The planned schedule from the first dose, with windows.

    --format ics prints an iCalendar file (one all-day event per date, the window in its
    description) that a coordinator can import into a calendar; json prints a list; table is
    for reading. No patient identifier is written.
    """
    from cletrial.protocol import plan_schedule, write_icalendar

    if output_format not in ("table", "json", "ics"):
        fail(f"--format = {output_format!r}: must be table, json or ics")
    day0 = _date(start, "--start")
    chosen = _protocol(protocol)
    plan = plan_schedule(
        day0,
        chosen,
        weeks=weeks,
        reproductive_potential=reproductive_potential,
        irregular_cycles=irregular_cycles,
    )
    if output_format == "json":
        _emit([visit.as_dict() for visit in plan])
    elif output_format == "ics":
        stamp = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        typer.echo(write_icalendar(plan, calendar_name=chosen.file.title, stamp=stamp), nl=False)
    else:
        typer.echo(f"Schedule from {day0.isoformat()} ({chosen.id} v{chosen.version})")
        for v in plan:
            window = (
                f"{v.window_start.isoformat()}..{v.window_end.isoformat()}"
                if v.window_start != v.window_end
                else ""
            )
            typer.echo(f"  {v.date.isoformat()}  {v.label:<24} {window:<22} " + "; ".join(v.items))


def register(app: typer.Typer) -> None:
    """Add ``eligibility``, ``recommend`` and ``schedule`` to ``app``."""
    app.command("eligibility")(eligibility)
    app.command("recommend")(recommend)
    app.command("schedule")(schedule)
