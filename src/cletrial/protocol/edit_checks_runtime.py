"""What the edit check kinds share at run time: the finding, one patient's forms with the
indexes built once per run, and message templates with the way values are shown.

Values are shown as a site coordinator reads them: dates in ISO form, whole numbers without a
trailing ``.0``, true/false as yes/no, a missing value as ``missing``; never a Python repr.

>>> import datetime as dt
>>> [show(v) for v in (dt.date(2024, 1, 3), 150.0, 0.0038, True, None, "recovered")]
['2024-01-03', '150', '0.0038', 'yes', 'missing', 'recovered']
>>> Template("{row.term}: end {value}").render({"term": "Rash"}, {"value": dt.date(2024, 1, 3)})
'Rash: end 2024-01-03'
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["CheckFinding", "PatientForms", "Row", "Template", "has_between", "show"]

#: One stored record: column -> value.
Row = Mapping[str, Any]

_NO_ROWS: Final[tuple[Row, ...]] = ()


@dataclass(frozen=True, slots=True)
class CheckFinding:
    """One record that an edit check finds suspicious: the reason to open a query.

    Attributes
    ----------
    check_id : str
        The declaration's id, e.g. ``AE-END-BEFORE-START``.
    severity : str
        ``error`` or ``warning``.
    table : str
        Store table of the record at fault, e.g. ``adverse_events``.
    record_id : int
        Its ``id``.
    field : str or None
        The column at fault (``None``: the whole form).
    message : str
        The declaration's message with the values filled in.
    """

    check_id: str
    severity: str
    table: str
    record_id: int
    field: str | None
    message: str


def show(value: Any) -> str:
    """Show a stored value in a message: ISO dates, ``150`` not ``150.0``, yes/no, ``missing``."""
    if value is None:
        return "missing"
    if value is True or value is False:
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.12g}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return " or ".join(show(v) for v in value)
    return str(value)


class _RowView:
    """``{row.<column>}`` of a template: the column's value, shown."""

    __slots__ = ("_row",)

    def __init__(self, row: Row) -> None:
        self._row = row

    def __getattr__(self, name: str) -> str:
        return show(self._row.get(name))


class _Values(dict[str, Any]):
    """Placeholder values; one a kind did not supply shows as ``missing`` (never a KeyError)."""

    def __missing__(self, key: str) -> str:
        return "missing"


@dataclass(frozen=True, slots=True)
class Template:
    """A message template (validated on load: only its kind's placeholders and ``{row.x}``)."""

    text: str

    def render(self, row: Row, values: Mapping[str, Any]) -> str:
        """Fill the template from ``values`` and the record ``row``."""
        shown = _Values({key: show(value) for key, value in values.items()})
        shown["row"] = _RowView(row)
        return self.text.format_map(shown)


def has_between(ordinals: Sequence[int] | None, low: int, high: int) -> bool:
    """Whether the sorted day ordinals hold one in ``[low, high]``.

    >>> has_between([10, 20, 30], 11, 20), has_between([10, 20, 30], 21, 29)
    (True, False)
    >>> has_between(None, 0, 9)
    False
    """
    if not ordinals:
        return False
    i = bisect_left(ordinals, low)
    return i < len(ordinals) and ordinals[i] <= high


class PatientForms:
    """One patient's forms for one run, with indexes built on first use and shared by checks.

    Parameters
    ----------
    forms : mapping
        Store table -> rows (dicts of the table's columns); a missing table has no rows.
    off : str
        The regimen id of no treatment on the protocol's ladder.
    """

    __slots__ = ("_baseline", "_first_dose", "_labs", "_off", "_visits", "forms")

    def __init__(self, forms: Mapping[str, Sequence[Row]], off: str) -> None:
        self.forms = forms
        self._off = off
        self._visits: dict[Any, Row] | None = None
        self._labs: dict[str, list[int]] | None = None
        self._first_dose: tuple[dt.date | None] | None = None
        self._baseline: tuple[Row | None] | None = None

    def rows(self, form: str) -> Sequence[Row]:
        """The rows of ``form`` (none when the table is missing)."""
        return self.forms.get(form) or _NO_ROWS

    def visits_by_id(self) -> dict[Any, Row]:
        """Visit id -> visit row."""
        if self._visits is None:
            self._visits = {row.get("id"): row for row in self.rows("visits")}
        return self._visits

    def baseline_visit(self) -> Row | None:
        """The visit of kind ``baseline`` (the first one, if several)."""
        if self._baseline is None:
            found = next((r for r in self.rows("visits") if r.get("kind") == "baseline"), None)
            self._baseline = (found,)
        return self._baseline[0]

    def lab_days(self) -> dict[str, list[int]]:
        """Lab test -> sorted day ordinals of its samples."""
        if self._labs is None:
            index: dict[str, list[int]] = {}
            for row in self.rows("labs"):
                day, test = row.get("sample_date"), row.get("test")
                if isinstance(day, dt.date) and isinstance(test, str):
                    index.setdefault(test, []).append(day.toordinal())
            for days in index.values():
                days.sort()
            self._labs = index
        return self._labs

    def first_dose(self) -> dt.date | None:
        """The earliest ``start_date`` of a dose whose regimen is not no treatment."""
        if self._first_dose is None:
            starts = [
                row.get("start_date")
                for row in self.rows("doses")
                if row.get("regimen") not in (self._off, None)
            ]
            dates = [d for d in starts if isinstance(d, dt.date)]
            self._first_dose = (min(dates) if dates else None,)
        return self._first_dose[0]
