"""The import and export file formats (CSV and JSON): kinds of records, their columns, parsing.

A CSV file holds one kind of record (``visits.csv``, ``labs.csv``, ...; the kind is the start of
the file name, or given explicitly); a JSON file holds any kinds at once::

    {"format": "cletrial-import", "version": 1, "study": "LEN-CLE",
     "patients": [{"patient": "P01", "site": "BCN", "sex": "F"}],
     "visits": [{"patient": "P01", "date": "2009-02-02", "kind": "baseline",
                 "clasi": {"regions": {"arms": {"erythema": 2}}}, "cla_iga": 3,
                 "skindex": {"31": 4, "32": 4, "33": 5}}]}

Columns (CSV headers, JSON keys) are the same in both; see :data:`KINDS` and ``docs/store.md``.
A blank cell (or an absent or null JSON value) means "not given": it never erases stored data.
Dates are ``YYYY-MM-DD`` (no time zone, no day shifts); ``diagnosis_date`` may be partial
(``2005`` or ``2005-03``), from 1900 to 2199 like every date (:mod:`cletrial.values`); no text
may hold a control character other than tab, newline and CR. In CSV, one quote before a
leading ``=``, ``+``, ``-``, ``@`` (added by the export against formula injection) is removed
from text cells, and ``\\;`` inside a list cell is a ``;`` within an item
(:mod:`cletrial.store.csv_safe`). Every error names the file, the row and the column.

>>> parse_cell("visits", "date", "2009-02-02", "v.csv", 2)
datetime.date(2009, 2, 2)
>>> parse_cell("visits", "date", "02/02/2009", "v.csv", 2)
Traceback (most recent call last):
...
cletrial.errors.ImportFileError: v.csv, row 2, column date = "02/02/2009": must be a date YYYY-MM-DD
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from cletrial.errors import FormError, ImportFileError, InputError
from cletrial.instruments.skindex import SKINDEX_ITEMS
from cletrial.store.csv_safe import decode_list_cell, restore_text
from cletrial.store.tables_forms import CLASI_ITEM_COLUMNS, SLEDAI_ITEM_COLUMNS
from cletrial.store.types import compute_partial_date
from cletrial.values import problem_date, problem_text

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "KEYS",
    "KINDS",
    "ImportRow",
    "kind_of_file",
    "parse_cell",
    "read_csv",
    "read_json",
]

FORMAT_NAME: Final = "cletrial-import"
FORMAT_VERSION: Final = 1

CellType = Literal["str", "int", "float", "bool", "date", "partial_date", "list"]

_CLASI_COLUMNS: Final = tuple(
    (f"clasi_{c}", "bool" if c == "dyspigmentation_persistent" else "int")
    for c in CLASI_ITEM_COLUMNS
)
_SLEDAI_COLUMNS: Final = tuple((f"sledai_{c}", "bool") for c in SLEDAI_ITEM_COLUMNS)
#: Skindex-29+3 responses by item number (``skindex_1`` ... ``skindex_33``, 1-5).
_SKINDEX_COLUMNS: Final = tuple((f"skindex_{i}", "int") for i in SKINDEX_ITEMS)

#: Kind -> (column, type) in file order. ``study`` may be given once for a whole JSON file.
KINDS: Final[dict[str, tuple[tuple[str, CellType], ...]]] = {
    "studies": (("study", "str"), ("title", "str"), ("protocol", "str"),
                ("protocol_version", "str")),
    "sites": (("study", "str"), ("site", "str"), ("name", "str"), ("country", "str")),
    "patients": (("study", "str"), ("patient", "str"), ("site", "str"), ("sex", "str"),
                 ("reproductive_potential", "bool"), ("irregular_cycles", "bool"),
                 ("cle_subtype", "str"), ("sle", "bool"), ("diagnosis_date", "partial_date"),
                 ("first_dose_date", "date"), ("full_name", "str"), ("date_of_birth", "date"),
                 ("mrn", "str")),
    "screenings": (("study", "str"), ("patient", "str"), ("date", "date"), ("verdict", "str")),
    "visits": (("study", "str"), ("patient", "str"), ("date", "date"), ("kind", "str"),
               ("label", "str"), ("medications", "list"), ("notes", "str"),
               *_CLASI_COLUMNS, ("clasi_activity", "int"), ("clasi_damage", "int"),
               *_SLEDAI_COLUMNS, ("sledai_score", "int"), ("cla_iga", "int"),
               *_SKINDEX_COLUMNS),
    "labs": (("study", "str"), ("patient", "str"), ("date", "date"), ("test", "str"),
             ("value", "float"), ("unit", "str"), ("lln", "float"), ("ctcae_version", "str"),
             ("confirmed", "bool")),
    "doses": (("study", "str"), ("patient", "str"), ("date", "date"), ("regimen", "str"),
              ("note", "str")),
    "adverse_events": (("study", "str"), ("patient", "str"), ("term", "str"),
                       ("start", "date"), ("end", "date"), ("grade", "int"),
                       ("causality", "str"), ("serious", "bool"),
                       ("serious_criterion", "str"), ("note", "str"), ("outcome", "str")),
    "pregnancy_tests": (("study", "str"), ("patient", "str"), ("date", "date"),
                        ("result", "str"), ("method", "str")),
    "events": (("study", "str"), ("patient", "str"), ("date", "date"), ("type", "str"),
               ("note", "str")),
    "deviations": (("study", "str"), ("patient", "str"), ("date", "date"),
                   ("category", "str"), ("description", "str")),
    "dispositions": (("study", "str"), ("patient", "str"), ("kind", "str"), ("date", "date"),
                     ("reason", "str"), ("last_dose_date", "date"), ("note", "str")),
    "immunology": (("study", "str"), ("patient", "str"), ("date", "date"), ("test", "str"),
                   ("result", "str")),
    "nerve_conduction": (("study", "str"), ("patient", "str"), ("date", "date"),
                         ("result", "str"), ("note", "str")),
    "medications": (("study", "str"), ("patient", "str"), ("name", "str"), ("start", "date"),
                    ("end", "date"), ("baseline", "bool"), ("note", "str")),
}  # fmt: skip

#: Natural key of each kind: importing the same row again finds the same record.
KEYS: Final[dict[str, tuple[str, ...]]] = {
    "studies": ("study",),
    "sites": ("study", "site"),
    "patients": ("study", "patient"),
    "screenings": ("study", "patient"),
    "visits": ("study", "patient", "date"),
    "labs": ("study", "patient", "date", "test"),
    "doses": ("study", "patient", "date"),
    "adverse_events": ("study", "patient", "term", "start"),
    "pregnancy_tests": ("study", "patient", "date"),
    "events": ("study", "patient", "date", "type"),
    "deviations": ("study", "patient", "date", "category"),
    "dispositions": ("study", "patient", "kind"),
    "immunology": ("study", "patient", "date", "test"),
    "nerve_conduction": ("study", "patient", "date"),
    "medications": ("study", "patient", "name", "start"),
}

#: Identifying columns, left out of de-identified exports.
IDENTIFYING: Final = frozenset({"full_name", "date_of_birth", "mrn"})

_TYPES: Final = {kind: dict(columns) for kind, columns in KINDS.items()}
_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE: Final = frozenset({"true", "yes", "1"})
_FALSE: Final = frozenset({"false", "no", "0"})


@dataclass
class ImportRow:
    """One record of an import file, its cells parsed; ``values`` holds only given cells."""

    kind: str
    file: str
    row: int
    values: dict[str, Any] = field(default_factory=dict)

    def error(self, column: str, value: Any, problem: str) -> ImportFileError:
        """An error located at this row and ``column``."""
        return ImportFileError(self.file, self.row, column, value, problem)

    def key(self) -> tuple[Any, ...]:
        """The natural key of the row."""
        return tuple(self.values.get(name) for name in KEYS[self.kind])


def _parse_text(cell_type: CellType, text: str) -> Any:
    if cell_type == "str":
        return text
    if cell_type == "int":
        if not re.fullmatch(r"-?\d+", text):
            raise ValueError("must be an integer")
        return int(text)
    if cell_type == "float":
        try:
            number = float(text)
        except ValueError:
            raise ValueError("must be a number") from None
        if not math.isfinite(number):
            raise ValueError("must be a finite number")
        return number
    if cell_type == "bool":
        lowered = text.lower()
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE
        raise ValueError("must be true or false")
    if cell_type == "list":
        return decode_list_cell(text)
    return _parse_date(cell_type, text)


def _parse_date(cell_type: CellType, text: str) -> Any:
    if cell_type == "partial_date":
        try:
            return compute_partial_date(text)
        except InputError as exc:
            raise ValueError(exc.problem) from None
    if not _DATE.match(text):
        raise ValueError("must be a date YYYY-MM-DD")
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError("must be a real date YYYY-MM-DD") from None
    problem = problem_date(day)
    if problem is not None:
        raise ValueError(problem)
    return day


def _parse_json_value(cell_type: CellType, value: Any) -> Any:
    expected: dict[str, tuple[type, ...]] = {
        "str": (str,), "int": (int,), "float": (int, float), "bool": (bool,), "list": (list,),
        "date": (str,), "partial_date": (str,),
    }  # fmt: skip
    if isinstance(value, bool) and cell_type != "bool":
        raise ValueError(
            f"must be a JSON {'number' if cell_type in ('int', 'float') else 'string'}"
        )
    if not isinstance(value, expected[cell_type]):
        names = {"str": "string", "int": "integer", "float": "number", "bool": "true or false",
                 "list": "list of strings", "date": "date string YYYY-MM-DD",
                 "partial_date": "date string"}  # fmt: skip
        raise ValueError(f"must be a {names[cell_type]}")
    return _convert_json_value(cell_type, value)


def _convert_json_value(cell_type: CellType, value: Any) -> Any:
    if cell_type == "float":
        return float(value)
    if cell_type == "list":
        if not all(isinstance(item, str) and item.strip() for item in value):
            raise ValueError("must be a list of non-blank strings")
        return [item.strip() for item in value]
    if cell_type in ("date", "partial_date"):
        return _parse_date(cell_type, value)
    return value.strip() if isinstance(value, str) else value


def _check_texts(value: Any) -> None:
    """The text rule (:mod:`cletrial.values`) on a cell or on each string of a JSON list."""
    for item in value if isinstance(value, list) else (value,):
        problem = problem_text(item) if isinstance(item, str) else None
        if problem is not None:
            raise ValueError(problem)


def _restore(cell_type: CellType, text: str) -> str:
    """A CSV text cell without the quote an export put before a formula character."""
    return restore_text(text) if cell_type in ("str", "list") else text


def parse_cell(
    kind: str, column: str, text: Any, file: str, row: int, *, from_json: bool = False
) -> Any:
    """Parse one CSV cell (text) or one JSON value with ``from_json`` (typed strictly: a number
    must be a JSON number); ``None`` when blank or null (not given).

    Raises
    ------
    ImportFileError
        Naming the file, row and column.
    """
    cell_type = _TYPES[kind].get(column)
    if cell_type is None:
        allowed = ", ".join(name for name, _ in KINDS[kind])
        raise ImportFileError(file, row, column, text, f"unknown column of {kind}; columns are "
                              f"{allowed}")  # fmt: skip
    if text is None:
        return None
    try:
        _check_texts(text)
        if isinstance(text, str):
            stripped = text.strip()
            if not stripped:
                return None
            if not from_json:
                return _parse_text(cell_type, _restore(cell_type, stripped))
            if cell_type in ("str", "date", "partial_date"):
                return _parse_text(cell_type, stripped)
        return _parse_json_value(cell_type, text)
    except ValueError as exc:
        shown = "[identifying data hidden]" if column in IDENTIFYING else text
        raise ImportFileError(file, row, column, shown, str(exc)) from None


def kind_of_file(path: Path) -> str | None:
    """The kind of a CSV file from its name: the longest kind its name starts with.

    >>> kind_of_file(Path("adverse_events-2024.csv")), kind_of_file(Path("events.csv"))
    ('adverse_events', 'events')
    """
    stem = path.name.lower()
    matches = [kind for kind in KINDS if stem.startswith(kind)]
    return max(matches, key=len) if matches else None


def read_csv(text: str, file: str, kind: str) -> Iterator[ImportRow]:
    """Parse a CSV document of one kind (header row first; row numbers count the header as 1)."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise ImportFileError(file, 1, "", "", "the file is empty: the first row must name columns")
    header = [name.strip().lstrip("\ufeff") for name in header]
    seen: set[str] = set()
    allowed = [name for name, _ in KINDS[kind]]
    for name in header:
        if name not in allowed:
            raise ImportFileError(file, 1, name, name, f"unknown column of {kind}; columns are "
                                  f"{', '.join(allowed)}")  # fmt: skip
        if name in seen:
            raise ImportFileError(file, 1, name, name, "column given twice")
        seen.add(name)
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            raise ImportFileError(
                file,
                number,
                "",
                len(cells),
                f"row has {len(cells)} cells, the header has {len(header)}",
            )
        row = ImportRow(kind, file, number)
        for name, cell in zip(header, cells, strict=True):
            value = parse_cell(kind, name, cell, file, number)
            if value is not None:
                row.values[name] = value
        yield row


def _flatten_form(row: ImportRow, name: str, document: Any) -> None:
    """Put a JSON visit's nested ``clasi`` or ``sledai`` into the flat ``clasi_*`` columns."""
    if not isinstance(document, Mapping):
        raise row.error(name, document, "must be a JSON object (a form, or scores)")
    from cletrial.instruments import validate_clasi_form, validate_sledai_form

    if name == "clasi" and document.keys() & {"activity", "damage"}:
        scores = {"activity": document.get("activity"), "damage": document.get("damage")}
        extra = set(document) - set(scores)
        if extra:
            raise row.error(f"clasi.{sorted(extra)[0]}", None, "give scores or a form, not both")
        for key, value in scores.items():
            row.values[f"clasi_{key}"] = parse_cell("visits", f"clasi_{key}", value, row.file,
                                                    row.row, from_json=True)  # fmt: skip
        return
    if name == "sledai" and "score" in document:
        if len(document) != 1:
            raise row.error("sledai", dict(document), 'give {"score": n} or a form, not both')
        row.values["sledai_score"] = parse_cell("visits", "sledai_score", document["score"],
                                                row.file, row.row, from_json=True)  # fmt: skip
        return
    try:
        (validate_clasi_form if name == "clasi" else validate_sledai_form)(document)
    except FormError as exc:
        raise row.error(f"{name}.{exc.field}", exc.value, exc.problem) from None
    if name == "sledai":
        row.values.update({f"sledai_{k}": v for k, v in document.items()})
        return
    for region, items in (document.get("regions") or {}).items():
        row.values.update({f"clasi_{region}_{item}": v for item, v in items.items()})
    row.values.update({f"clasi_{k}": v for k, v in document.items() if k != "regions"})


def _flatten_skindex(row: ImportRow, document: Any) -> None:
    """Put a JSON visit's nested ``skindex`` (item number -> 1-5 or null) into the flat
    ``skindex_<n>`` columns; a null item is not given (it never erases a stored response)."""
    from cletrial.instruments import validate_skindex_form

    try:
        answered = validate_skindex_form(document)
    except FormError as exc:
        column = f"skindex.{exc.field}" if exc.field else "skindex"
        raise row.error(column, exc.value, exc.problem) from None
    row.values.update({f"skindex_{item}": value for item, value in answered.items()})


def _json_row(kind: str, file: str, number: int, item: Any, study: Any) -> ImportRow:
    file = f"{file} [{kind}]"
    row = ImportRow(kind, file, number)
    if not isinstance(item, Mapping):
        raise row.error(kind, item, "each entry must be a JSON object")
    for name, value in item.items():
        if kind == "visits" and name in ("clasi", "sledai"):
            if value is not None:
                _flatten_form(row, name, value)
            continue
        if kind == "visits" and name == "skindex":
            if value is not None:
                _flatten_skindex(row, value)
            continue
        parsed = parse_cell(kind, name, value, file, number, from_json=True)
        if parsed is not None:
            row.values[name] = parsed
    if "study" not in row.values and study is not None:
        row.values["study"] = study
    return row


def read_json(text: str, file: str) -> Iterator[ImportRow]:
    """Parse a JSON import document; entries are numbered from 1 within each kind's list, and
    errors name the file with the kind, e.g. ``import.json [visits], row 3, column date``."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(file, exc.lineno, "", None, f"not valid JSON: {exc.msg}") from None
    if not isinstance(document, dict):
        raise ImportFileError(file, 1, "", None, "the document must be a JSON object")
    if document.get("format", FORMAT_NAME) != FORMAT_NAME:
        raise ImportFileError(file, 1, "format", document.get("format"), f"must be {FORMAT_NAME}")
    if document.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        raise ImportFileError(file, 1, "version", document.get("version"),
                              f"must be {FORMAT_VERSION}")  # fmt: skip
    unknown = set(document) - set(KINDS) - {"format", "version", "study", "database"}
    if unknown:
        raise ImportFileError(file, 1, sorted(unknown)[0], None,
                              f"unknown key; kinds are {', '.join(KINDS)}")  # fmt: skip
    study = document.get("study")
    for kind in KINDS:
        items = document.get(kind, [])
        if not isinstance(items, list):
            raise ImportFileError(file, 1, kind, None, "must be a list of records")
        for number, item in enumerate(items, start=1):
            yield _json_row(kind, file, number, item, study)
