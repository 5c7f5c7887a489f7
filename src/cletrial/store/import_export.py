"""Import and export the documented CSV and JSON formats (``docs/store.md``).

:func:`import_path` reads a CSV file, a JSON file or a directory of them, checks every row, then
applies them in one transaction: all or nothing. A dry run does the same and rolls back,
reporting the changes it would have made. Importing the same file again changes nothing.
:func:`export_rows` and the ``write_*`` functions write the same formats back.

>>> import tempfile, pathlib
>>> from cletrial.store import create_engine_for, upgrade
>>> engine = create_engine_for("sqlite://"); upgrade(engine)
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "studies.csv").write_text("study,title,protocol,protocol_version\\n"
...                                          "LEN,Lenalidomide in CLE,lenalidomide-cle-2012,1\\n")
>>> import_path(engine, folder / "studies.csv", user="dm").created
1
>>> import_path(engine, folder / "studies.csv", user="dm").created
0
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine

from cletrial.errors import ImportFileError
from cletrial.store.atomic import write_atomically
from cletrial.store.csv_safe import encode_list_cell, neutralise_cell
from cletrial.store.engine import read_connection
from cletrial.store.exporter import export_rows
from cletrial.store.import_formats import (
    FORMAT_NAME,
    FORMAT_VERSION,
    IDENTIFYING,
    KINDS,
    ImportRow,
    kind_of_file,
    read_csv,
    read_json,
)
from cletrial.store.importer import ImportChange, apply_rows
from cletrial.store.monitoring_rules import compute_lock_stamp
from cletrial.store.unit_of_work import UnitOfWork

__all__ = [
    "ImportChange",
    "ImportReport",
    "describe_lock_stamp",
    "export_rows",
    "export_to",
    "import_path",
    "read_import_rows",
    "write_csv_dir",
    "write_json",
]


@dataclass
class ImportReport:
    """What an import did (or, for a dry run, would do)."""

    files: list[str]
    rows: int
    created: int
    updated: int
    unchanged: int
    dry_run: bool
    changes: list[ImportChange] = field(default_factory=list)

    def summary(self) -> str:
        """One line: rows read, records created, updated and unchanged."""
        verb = "would create" if self.dry_run else "created"
        return (f"{self.rows} rows from {len(self.files)} file(s): {verb} {self.created}, "
                f"{'would update' if self.dry_run else 'updated'} {self.updated}, "
                f"unchanged {self.unchanged}")  # fmt: skip


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.suffix.lower() in (".csv", ".json"))
        if not found:
            raise ImportFileError(str(path), 0, "", None, "no .csv or .json files in the directory")
        return found
    return [path]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ImportFileError(str(path), 0, "", None, f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ImportFileError(str(path), 0, "", None, "is not UTF-8 text") from None


def read_import_rows(
    path: Path, *, kind: str | None = None, study: str | None = None
) -> tuple[list[str], list[ImportRow]]:
    """Parse a file or a directory of files into rows (no database access).

    ``kind`` gives the kind of a CSV file whose name does not start with one; ``study`` fills in
    the study of rows that give none.
    """
    names, rows = [], []
    for file in _files(path):
        names.append(str(file))
        text = _read(file)
        if file.suffix.lower() == ".json":
            parsed = list(read_json(text, str(file)))
        else:
            file_kind = kind or kind_of_file(file)
            if file_kind is None:
                raise ImportFileError(
                    str(file),
                    0,
                    "",
                    None,
                    "cannot tell the kind of records "
                    f"from the name: start it with one of {', '.join(KINDS)}",
                )
            parsed = list(read_csv(text, str(file), file_kind))
        for row in parsed:
            if study is not None and "study" not in row.values:
                row.values["study"] = study
        rows.extend(parsed)
    return names, rows


def import_path(
    engine: Engine,
    path: Path | str,
    *,
    user: str,
    reason: str | None = None,
    dry_run: bool = False,
    kind: str | None = None,
    study: str | None = None,
) -> ImportReport:
    """Import a CSV file, a JSON file or a directory of them, atomically.

    Parameters
    ----------
    engine : Engine
        The study database.
    path : Path or str
        A ``.csv`` file (one kind of record), a ``.json`` file, or a directory of them.
    user : str
        Who imports (recorded in the audit trail).
    reason : str, optional
        Reason for change, required when the import changes saved records.
    dry_run : bool
        Check and apply everything, then roll back; the report lists the changes.
    kind : str, optional
        Kind of the CSV file(s) when the name does not tell it.
    study : str, optional
        Study code for rows that give none.

    Raises
    ------
    ImportFileError
        The first bad row, naming the file, row and column; nothing is saved.
    """
    names, rows = read_import_rows(Path(path), kind=kind, study=study)
    with UnitOfWork(engine, user=user, reason=reason, dry_run=dry_run) as uow:
        result = apply_rows(uow, rows, reason=reason)
    return ImportReport(names, len(rows), result.created, result.updated, result.unchanged,
                        dry_run, result.changes)  # fmt: skip


def _json_ready(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def write_json(
    data: dict[str, list[dict[str, Any]]], out: io.TextIOBase | Any,
    database: dict[str, str | None] | None = None,
) -> None:  # fmt: skip
    """Write exported rows as one JSON import document (kinds in dependency order); ``database``
    is the database's lock state at the export (informative; an import ignores it)."""
    document: dict[str, Any] = {"format": FORMAT_NAME, "version": FORMAT_VERSION}
    if database is not None:
        document["database"] = database
    for kind in KINDS:
        document[kind] = [
            {k: _json_ready(v) for k, v in row.items() if v is not None} for row in data[kind]
        ]
    out.write(json.dumps(document, indent=1, ensure_ascii=False))
    out.write("\n")


def _cell(value: Any) -> str:
    """One CSV cell: text neutralised against formula injection, numbers as they are."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return str(neutralise_cell(encode_list_cell(value)))
    if isinstance(value, str):
        return str(neutralise_cell(value))
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _csv_columns(kind: str, deidentify: bool) -> list[str]:
    return [name for name, _ in KINDS[kind] if not (deidentify and name in IDENTIFYING)]


def _csv_writer(
    kind: str, data: dict[str, list[dict[str, Any]]], deidentify: bool
) -> Callable[[IO[str]], None]:
    columns = _csv_columns(kind, deidentify)

    def write(handle: IO[str]) -> None:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_cell(row.get(c)) for c in columns] for row in _flat(kind, data))

    return write


def write_csv_dir(
    data: dict[str, list[dict[str, Any]]], folder: Path, *, deidentify: bool = False,
    extra: Mapping[str, str] | None = None,
) -> list[Path]:  # fmt: skip
    """Write one ``<kind>.csv`` per kind (and each ``extra`` file name -> text) into ``folder``,
    all or nothing (:func:`~cletrial.store.atomic.write_atomically`); return the files written.

    Text cells that a spreadsheet would run as a formula get a leading ``'``
    (:mod:`cletrial.store.csv_safe`); the import removes it again.
    """
    files: dict[Path, Callable[[IO[str]], Any]] = {
        folder / f"{kind}.csv": _csv_writer(kind, data, deidentify) for kind in KINDS
    }
    for name, text in (extra or {}).items():
        files[folder / name] = partial(_write_text, text)
    return write_atomically(files)


def _write_text(text: str, handle: IO[str]) -> None:
    handle.write(text)


def _flat(kind: str, data: dict[str, list[dict[str, Any]]]) -> Iterable[dict[str, Any]]:
    """Rows with visits' nested forms flattened into ``clasi_*``/``sledai_*``/``skindex_*``
    columns."""
    for row in data[kind]:
        if kind != "visits":
            yield row
            continue
        flat = {k: v for k, v in row.items() if k not in ("clasi", "sledai", "skindex")}
        clasi, sledai = row.get("clasi"), row.get("sledai")
        flat.update({f"skindex_{k}": v for k, v in (row.get("skindex") or {}).items()})
        if clasi is not None:
            for key, value in clasi.items():
                if key == "regions":
                    for region, items in value.items():
                        flat.update({f"clasi_{region}_{i}": x for i, x in items.items()})
                else:
                    flat[f"clasi_{key}"] = value
        if sledai is not None:
            flat.update({f"sledai_{k}": v for k, v in sledai.items()})
        yield flat


def export_to(
    source: Engine | Connection,
    out: Path,
    *,
    fmt: str = "json",
    study: str | None = None,
    deidentify: bool = False,
) -> list[Path]:
    """Export to ``out`` (a ``.json`` file, or a directory for CSV); return the files written.

    All or nothing: on any error no file is written or changed."""
    if isinstance(source, Engine):
        with read_connection(source) as conn:
            data = export_rows(conn, study=study, deidentify=deidentify)
            stamp = compute_lock_stamp(conn)
    else:
        data = export_rows(source, study=study, deidentify=deidentify)
        stamp = compute_lock_stamp(source)
    if fmt == "csv":
        info = {"database.txt": describe_lock_stamp(stamp) + "\n"}
        return write_csv_dir(data, out, deidentify=deidentify, extra=info)
    return write_atomically({out: partial(write_json, data, database=stamp)})


def describe_lock_stamp(stamp: dict[str, str | None]) -> str:
    """One line saying the database's state at the export, e.g. ``database locked since ...``.

    >>> describe_lock_stamp({"state": "locked", "since": "2026-12-01T10:00:00+00:00",
    ...                      "exported_at": "2026-12-03T09:00:00+00:00"})
    'database locked since 2026-12-01T10:00:00+00:00; exported at 2026-12-03T09:00:00+00:00'
    """
    since = f" since {stamp['since']}" if stamp.get("since") else ""
    return f"database {stamp['state']}{since}; exported at {stamp['exported_at']}"
