"""Validation of the edit checks of a protocol definition file, on load.

Two passes, as for the rest of the file: each declaration is validated alone against the model
of its ``kind`` (so that an error names the check's index and id), then the whole list for what
the schema cannot say: unique ids, forms and columns that exist (see
:mod:`cletrial.protocol.edit_check_forms`), column types that suit the kind, a range with a
bound, message templates that use only the placeholders of their kind. Errors are
:class:`~cletrial.errors.ProtocolDefinitionError` naming the file, the check and the bad value.

>>> check_edit_check_entries({"edit_checks": [{"id": "X-1", "kind": "rnage"}]}, "x.yaml")
Traceback (most recent call last):
...
cletrial.errors.ProtocolDefinitionError: x.yaml: edit_checks[0] (X-1).kind = "rnage": must be ...
>>> sorted(PLACEHOLDERS["compare"])
['field', 'op', 'other', 'other_field', 'value']
"""

from __future__ import annotations

import re
import string
from typing import Any, Final

import msgspec

from cletrial.instruments.sledai import SLEDAI_WEIGHTS
from cletrial.protocol._msgspec_errors import locate
from cletrial.protocol.definition_checks import fail
from cletrial.protocol.definition_model import (
    CHECK_KINDS,
    CHECK_OPERATORS,
    CHECK_SEVERITIES,
    LAB_TESTS,
    ClasiDamageBelowBaselineCheck,
    CompareCheck,
    DoseStepCheck,
    EditCheck,
    ProtocolFile,
    RangeCheck,
    RequiredIfCheck,
    SledaiItemNeedsLabCheck,
    VisitWindowCheck,
)
from cletrial.protocol.edit_check_forms import FORM_COLUMNS, NUMERIC_TYPES

__all__ = [
    "CHECK_TYPES",
    "FIXED_FORMS",
    "PLACEHOLDERS",
    "check_edit_check_entries",
    "check_edit_checks",
    "describe_edit_checks",
]

#: Kind -> the model of its declaration.
CHECK_TYPES: Final[dict[str, type[EditCheck]]] = {
    "range": RangeCheck,
    "required_if": RequiredIfCheck,
    "compare": CompareCheck,
    "sledai_item_needs_lab": SledaiItemNeedsLabCheck,
    "visit_window": VisitWindowCheck,
    "clasi_damage_below_baseline": ClasiDamageBelowBaselineCheck,
    "dose_step": DoseStepCheck,
}

#: Kinds that run on one form only.
FIXED_FORMS: Final = {
    "sledai_item_needs_lab": "sledai_assessments",
    "visit_window": "visits",
    "clasi_damage_below_baseline": "clasi_assessments",
    "dose_step": "doses",
}

_COMMON: Final = frozenset({"field", "value"})
_ID: Final = re.compile(r"[A-Z][A-Z0-9]*(-[A-Z0-9]+)*")

#: Kind -> the placeholders its message templates may use, besides ``{row.<column>}`` (any
#: column of the record at fault). docs/edit-checks.md says what each holds.
PLACEHOLDERS: Final[dict[str, frozenset[str]]] = {
    "range": _COMMON | {"min", "max"},
    "required_if": _COMMON | {"when"},
    "compare": _COMMON | {"op", "other", "other_field"},
    "sledai_item_needs_lab": _COMMON | {"item", "tests", "visit_date", "window_start", "days"},
    "visit_window": _COMMON
    | {"day", "week", "target", "window_start", "window_end", "window", "first_dose"},
    "clasi_damage_below_baseline": _COMMON | {"baseline", "baseline_date", "visit_date", "margin"},
    "dose_step": _COMMON
    | {"date", "previous", "schedule", "previous_schedule", "steps", "max_steps", "maximum"},
}


def _where(i: int, check_id: object) -> str:
    return f"edit_checks[{i}] ({check_id})" if isinstance(check_id, str) else f"edit_checks[{i}]"


def check_edit_check_entries(document: dict[str, Any], origin: str) -> None:
    """Validate each declaration of ``document["edit_checks"]`` against the model of its kind.

    Raises
    ------
    ProtocolDefinitionError
        Naming the check (index and id), the field and the bad value.
    """
    entries = document.get("edit_checks")
    if not isinstance(entries, list):
        return  # absent, or not a list: the schema reports it
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise fail(origin, f"edit_checks[{i}]", entry, "must be a mapping (one edit check)")
        where, kind = _where(i, entry.get("id")), entry.get("kind")
        check_id = entry.get("id")
        if check_id is not None and not (isinstance(check_id, str) and _ID.fullmatch(check_id)):
            raise fail(origin, f"{where}.id", check_id, "must be an UPPER-KEBAB id of at most "
                       "60 characters, e.g. AE-END-BEFORE-START")  # fmt: skip
        if kind not in CHECK_KINDS:
            raise fail(origin, f"{where}.kind", kind, "must be one of " + ", ".join(CHECK_KINDS))
        choices = {"severity": CHECK_SEVERITIES, "op": CHECK_OPERATORS if kind == "compare" else ()}
        for key, allowed in choices.items():
            if allowed and key in entry and entry[key] not in allowed:
                raise fail(
                    origin, f"{where}.{key}", entry[key], "must be one of " + ", ".join(allowed)
                )
        if kind == "sledai_item_needs_lab":
            _lab_tests(origin, where, entry.get("items"))
        try:
            msgspec.convert(entry, CHECK_TYPES[kind])
        except msgspec.ValidationError as exc:
            path, value, problem = locate(exc, entry)
            raise fail(origin, f"{where}.{path}" if path else where, value, problem) from None


def _lab_tests(origin: str, where: str, items: object) -> None:
    """Name the item of a lab test that is not one (msgspec reports it without its key)."""
    if not isinstance(items, dict):
        return
    for item, tests in items.items():
        if tests == []:
            raise fail(origin, f"{where}.items.{item}", tests, "must list at least one lab test")
        for j, test in enumerate(tests if isinstance(tests, list) else []):
            if test not in LAB_TESTS:
                raise fail(origin, f"{where}.items.{item}[{j}]", test,
                           "must be a lab test: " + ", ".join(LAB_TESTS))  # fmt: skip


def _columns(origin: str, where: str, form: str, names: list[tuple[str, str]]) -> None:
    columns = FORM_COLUMNS[form]
    for path, name in names:
        if name not in columns:
            listed = ": " + ", ".join(columns) if len(columns) <= 20 else ""
            raise fail(origin, f"{where}.{path}", name, f"is not a column of {form}{listed}")


def _templates(origin: str, where: str, check: EditCheck) -> None:
    allowed = PLACEHOLDERS[_kind(check)]
    columns = FORM_COLUMNS[check.form]
    texts = [("message", check.message)]
    if isinstance(check, DoseStepCheck):
        texts.append(("off_ladder_message", check.off_ladder_message))
    for key, text in texts:
        try:
            parts = list(string.Formatter().parse(text))
        except ValueError as exc:
            raise fail(origin, f"{where}.{key}", text, f"not a valid template: {exc}") from None
        for _literal, name, spec, conversion in parts:
            if name is None:
                continue
            column = name[4:] if name.startswith("row.") else None
            if (name not in allowed and column not in columns) or spec or conversion:
                raise fail(
                    origin,
                    f"{where}.{key}",
                    "{"
                    + name
                    + (f"!{conversion}" if conversion else "")
                    + (f":{spec}" if spec else "")
                    + "}",
                    "unknown placeholder; this kind allows "
                    + ", ".join("{" + p + "}" for p in sorted(allowed))
                    + " and {row.<column>} (no format or conversion)",
                )


def _kind(check: EditCheck) -> str:
    kind: str = type(check).__struct_config__.tag  # type: ignore[assignment]
    return kind


def _type_group(kind: str) -> str:
    return "number" if kind in NUMERIC_TYPES else kind


def _check_one(origin: str, where: str, check: EditCheck) -> None:
    form = check.form
    if isinstance(check, RangeCheck):
        _columns(origin, where, form, [("field", check.field)])
        _columns(origin, where, form, [(f"where.{c}", c) for c in check.where])
        kind = FORM_COLUMNS[form][check.field]
        if kind not in NUMERIC_TYPES:
            raise fail(
                origin, f"{where}.field", check.field, f"is a {kind} column; a range needs a number"
            )
        if check.min is None and check.max is None:
            raise fail(origin, where, None, "a range check needs min, max or both")
        if check.min is not None and check.max is not None and check.min > check.max:
            raise fail(origin, f"{where}.min", check.min, f"must not exceed max {check.max:g}")
    elif isinstance(check, RequiredIfCheck):
        _columns(origin, where, form, [("field", check.field)])
        _columns(origin, where, form, [(f"when.{c}", c) for c in check.when])
    elif isinstance(check, CompareCheck):
        _columns(origin, where, form, [("field", check.field), ("other", check.other)])
        one, two = (_type_group(FORM_COLUMNS[form][c]) for c in (check.field, check.other))
        if one != two or check.field == check.other:
            raise fail(
                origin,
                f"{where}.other",
                check.other,
                f"must be another column of the same type as {check.field} ({one})",
            )
    elif isinstance(check, SledaiItemNeedsLabCheck):
        for item in check.items:
            if item not in SLEDAI_WEIGHTS:
                raise fail(
                    origin,
                    f"{where}.items.{item}",
                    item,
                    "must be a SLEDAI-2K descriptor: " + ", ".join(SLEDAI_WEIGHTS),
                )


def check_edit_checks(file: ProtocolFile, origin: str) -> None:
    """Check the edit checks of ``file`` beyond their schema (see the module docstring).

    Raises
    ------
    ProtocolDefinitionError
        Naming the check (index and id), the field and the bad value.
    """
    seen: dict[str, int] = {}
    for i, check in enumerate(file.edit_checks):
        where = _where(i, check.id)
        if check.id in seen:
            raise fail(
                origin,
                f"{where}.id",
                check.id,
                f"edit check ids must be unique (edit_checks[{seen[check.id]}])",
            )
        seen[check.id] = i
        if check.form not in FORM_COLUMNS:
            raise fail(
                origin, f"{where}.form", check.form, "must be one of " + ", ".join(FORM_COLUMNS)
            )
        fixed = FIXED_FORMS.get(_kind(check))
        if fixed is not None and check.form != fixed:
            raise fail(
                origin, f"{where}.form", check.form, f"a {_kind(check)} check runs on {fixed}"
            )
        _check_one(origin, where, check)
        _templates(origin, where, check)


def describe_edit_checks(defs: dict[str, Any]) -> None:
    """Add to the JSON Schema ``$defs`` of a protocol file what the loader checks beyond the
    model: the forms each kind may run on, and the SLEDAI-2K descriptors."""
    for kind, model in CHECK_TYPES.items():
        fixed = FIXED_FORMS.get(kind)
        defs[model.__name__]["properties"]["form"] = {
            "enum": [fixed] if fixed else list(FORM_COLUMNS),
            "description": "the store table the check runs on",
        }
    items = defs["SledaiItemNeedsLabCheck"]["properties"]["items"]
    items["propertyNames"] = {"enum": list(SLEDAI_WEIGHTS)}
