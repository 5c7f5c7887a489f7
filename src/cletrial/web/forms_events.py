"""Edit forms of a patient's stored records (adverse events, doses), built from the store's
field rules.

The fields of a form are the record's editable fields (:func:`cletrial.store.fields.field_specs`:
keys, versions and derived fields are never offered), in the table's column order, each with a
label declared here; the widget follows the field's kind (date, yes/no, text, a choice). Parsing
validates each value with the store's own rule, so every error is shown next to its field, named
and with what is allowed, before anything is written; the unit of work validates again on save.

>>> fields = record_fields("doses", {"start_date": "From", "regimen": "Regimen", "note": "Note"},
...                        choices={"regimen": [("5_daily", "5 mg every day"), ("off", "off")]})
>>> [(f.name, f.widget) for f in fields]
[('start_date', 'date'), ('regimen', 'select'), ('note', 'textarea')]
>>> parse_record_form(fields, {"start_date": "2024-02-30", "regimen": "5_daily"})[1]
{'start_date': '"2024-02-30" is not a date: use YYYY-MM-DD'}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from cletrial.errors import InputError
from cletrial.store.fields import FieldSpec, field_specs, validate_field
from cletrial.store.repositories.events import find_adverse_event_problems
from cletrial.store.vocab import AE_CAUSALITY, SERIOUS_CRITERIA
from cletrial.values import read_typed_int
from cletrial.web.templating import label

__all__ = [
    "AE_HINTS",
    "AE_LABELS",
    "CTCAE_GRADES",
    "DOSE_HINTS",
    "DOSE_LABELS",
    "FormField",
    "check_adverse_event",
    "parse_record_form",
    "record_fields",
    "record_values",
]

Widget = Literal["text", "textarea", "date", "select", "checkbox"]

#: Labels of the adverse event fields (a field without one is labelled from its name).
AE_LABELS: Final = {
    "term": "Term (CTCAE term or diagnosis)",
    "start_date": "Start date",
    "end_date": "End date (empty while ongoing)",
    "grade": "CTCAE grade",
    "causality": "Causality (relation to the study drug)",
    "serious": "Serious adverse event",
    "serious_criterion": "Seriousness criterion (ICH E2A)",
    "outcome": "Outcome (empty: not recorded)",
    "note": "Note (no patient names)",
}
AE_HINTS: Final = {
    "end_date": "the date the event resolved",
    "serious_criterion": "only for a serious event",
    "outcome": "recovered needs the end date; recovering or not recovered has none; fatal "
    "only for grade 5",
}
DOSE_LABELS: Final = {
    "start_date": "Given from",
    "regimen": "Regimen",
    "note": "Note (no patient names)",
}
DOSE_HINTS: Final = {"regimen": "the steps of the protocol's dose ladder, highest dose first"}

#: CTCAE v5.0 grade choices with the general meaning of each grade.
CTCAE_GRADES: Final = [
    ("1", "1 – mild"), ("2", "2 – moderate"), ("3", "3 – severe"),
    ("4", "4 – life-threatening"), ("5", "5 – death related to the event"),
]  # fmt: skip

_AE_CHOICES: Final = {
    "grade": CTCAE_GRADES,
    "causality": [(c, c) for c in AE_CAUSALITY],
    "serious_criterion": [(c, label(c)) for c in SERIOUS_CRITERIA],
}


@dataclass(frozen=True)
class FormField:
    """One field of an edit form: its store rule, label, widget and choices."""

    spec: FieldSpec
    label: str
    widget: Widget
    options: tuple[tuple[str, str], ...] = ()
    hint: str = ""

    @property
    def name(self) -> str:
        """The form field name (the stored field's name)."""
        return self.spec.name

    @property
    def required(self) -> bool:
        """Whether a value must be given."""
        return self.spec.required


_WIDGETS: Final[dict[str, Widget]] = {"date": "date", "bool": "checkbox", "text": "textarea"}


def _widget(spec: FieldSpec, has_choices: bool) -> Widget:
    return "select" if has_choices else _WIDGETS.get(spec.kind, "text")


def record_fields(
    table: str,
    labels: Mapping[str, str],
    hints: Mapping[str, str] | None = None,
    choices: Mapping[str, Sequence[tuple[str, str]]] | None = None,
) -> tuple[FormField, ...]:
    """The edit form of ``table``: every editable field, in column order.

    ``choices`` gives ``(value, text)`` options of a field (default: the store's vocabulary,
    and CTCAE grades, causality and seriousness criteria for adverse events).

    >>> [f.name for f in record_fields("adverse_events", AE_LABELS)][:4]
    ['term', 'start_date', 'end_date', 'grade']
    """
    given = {**(_AE_CHOICES if table == "adverse_events" else {}), **(choices or {})}
    fields = []
    for name, spec in field_specs(table).items():
        if not spec.editable:
            continue
        options = given.get(name) or [(c, label(c)) for c in spec.choices or ()]
        fields.append(FormField(spec, labels.get(name, label(name)), _widget(spec, bool(options)),
                                tuple(options), (hints or {}).get(name, "")))  # fmt: skip
    return tuple(fields)


def record_values(fields: Sequence[FormField], record: Any) -> dict[str, str]:
    """The form values of a stored record (text, as the browser sends them back).

    >>> fields = record_fields("doses", DOSE_LABELS)
    >>> record_values(fields, {"start_date": dt.date(2024, 2, 1), "regimen": "off", "note": None})
    {'start_date': '2024-02-01', 'regimen': 'off', 'note': ''}
    """
    get = record.get if isinstance(record, Mapping) else lambda n: getattr(record, n)
    values = {}
    for field in fields:
        value = get(field.name)
        if value is None:
            values[field.name] = ""
        elif isinstance(value, bool):
            values[field.name] = "on" if value else ""
        elif isinstance(value, dt.date):
            values[field.name] = value.isoformat()
        else:
            values[field.name] = str(value)
    return values


def _parse(field: FormField, raw: str) -> Any:
    """The typed value of one field from its text, or raise InputError (problem only)."""
    kind = field.spec.kind
    if kind == "bool":
        return raw.lower() in {"on", "true", "1", "yes"}
    text = raw.strip()
    if not text:
        if field.required:
            raise InputError(field.name, None, "is required")
        return None
    allowed = [value for value, _ in field.options]
    if allowed and text not in allowed:
        raise InputError(field.name, text, f"must be one of {', '.join(allowed)}")
    if kind == "date":
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise InputError(field.name, text, f'"{text}" is not a date: use YYYY-MM-DD') from None
    if kind == "int":
        try:
            return read_typed_int(text)
        except ValueError:
            raise InputError(field.name, text, f'"{text}" is not a whole number') from None
    return text


def parse_record_form(
    fields: Sequence[FormField], data: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse a posted edit form: ``(changes, errors)``, field name -> value / message.

    Every field of the form is in ``changes`` (an emptied optional field is ``None``; the store
    writes only values that differ). Each value is checked with the store's rule of its field.

    >>> fields = record_fields("adverse_events", AE_LABELS)
    >>> changes, errors = parse_record_form(fields, {"term": "Rash", "start_date": "2024-01-02",
    ...                                              "grade": "6", "causality": "possible"})
    >>> errors
    {'grade': 'must be one of 1, 2, 3, 4, 5'}
    >>> changes["serious"], changes["end_date"]
    (False, None)
    """
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        try:
            value = _parse(field, str(data.get(field.name, "") or ""))
            changes[field.name] = validate_field(field.spec.table, field.name, value)
        except InputError as exc:
            errors[field.name] = exc.problem
    return changes, errors


def check_adverse_event(changes: Mapping[str, Any], errors: dict[str, str]) -> None:
    """The store's rules across fields of an adverse event
    (:func:`cletrial.store.repositories.events.find_adverse_event_problems`), each shown next to
    its field; a field that already has an error keeps it.

    >>> errors = {}
    >>> check_adverse_event({"start_date": dt.date(2024, 2, 1), "end_date": dt.date(2024, 1, 1),
    ...                      "serious": False, "serious_criterion": "death"}, errors)
    >>> errors["end_date"], errors["serious_criterion"]
    ('must not be before the start date (2024-02-01)', 'is only given for a serious event')
    """
    for name, problem in find_adverse_event_problems(changes).items():
        errors.setdefault(name, problem)
