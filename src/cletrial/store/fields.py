"""What each stored field accepts, and how values are written into the audit trail.

Field rules are read from the table definitions (type, length, required) plus the controlled
vocabularies and ranges declared here, so the web forms, the importer and the unit of work all
validate the same way. Every date, text and code also keeps the one rule of its kind
(:mod:`cletrial.values`: dates 1900-01-01 to 2199-12-31, no control characters in text).
Errors name ``table.field`` and the bad value.

>>> validate_field("visits", "kind", "week4")
Traceback (most recent call last):
...
cletrial.errors.InputError: visits.kind = "week4": must be one of baseline, scheduled, unscheduled
>>> encode_value(dt.date(2009, 2, 2))
'2009-02-02'
>>> canonical_json({"b": 1, "a": [dt.date(2009, 2, 2)]})
'{"a":["2009-02-02"],"b":1}'
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Final, Literal

import msgspec
from sqlalchemy import Boolean, Date, Float, Integer, String, Table, Text

from cletrial.errors import InputError
from cletrial.instruments.cla_iga import CLA_IGA_MAX
from cletrial.instruments.clasi import CLASI_ACTIVITY_MAX, CLASI_DAMAGE_MAX
from cletrial.instruments.sledai import SLEDAI_MAX
from cletrial.randomisation.model import ENVIRONMENTS
from cletrial.store import vocab
from cletrial.store.tables import Base
from cletrial.store.tables_forms import (
    CLASI_ITEM_COLUMNS,
    SKINDEX_DOMAIN_COLUMNS,
    SKINDEX_ITEM_COLUMNS,
    SLEDAI_ITEM_COLUMNS,
)
from cletrial.store.tables_web import INFRASTRUCTURE_TABLES, LOGIN_CHANNELS, LOGIN_EVENT_KINDS
from cletrial.store.types import UTC, UTCDateTime, compute_partial_date
from cletrial.values import check_code, check_country, check_date, check_text

__all__ = [
    "AUDITED_TABLES",
    "REDACTED",
    "FieldSpec",
    "canonical_json",
    "decode_medications",
    "encode_value",
    "field_specs",
    "table_of",
    "validate_field",
    "validate_record",
]

Kind = Literal["str", "text", "int", "float", "bool", "date", "partial_date", "datetime", "list"]

#: Tables whose every change is audited (all but the audit tables themselves and the web
#: tier's sessions and login throttle).
AUDITED_TABLES: Final = tuple(
    name for name in Base.metadata.tables
    if name not in ("audit_log", "audit_head", *INFRASTRUCTURE_TABLES)
)  # fmt: skip

#: Shown in the audit trail instead of the value of a secret field.
REDACTED: Final = "[redacted]"
#: The arm of an allocation slot is sealed: the audit trail shows it redacted (the imported
#: list's SHA-256 vouches for it).
SECRET_FIELDS: Final = frozenset({("users", "password_hash"), ("allocation_slots", "arm")})

_CHOICES: Final[dict[tuple[str, str], tuple[str, ...]]] = {
    ("users", "role"): vocab.ROLES,
    ("patients", "sex"): vocab.SEXES,
    ("visits", "kind"): vocab.VISIT_KINDS,
    ("visits", "status"): vocab.VISIT_STATUSES,
    ("labs", "test"): vocab.LAB_TESTS,
    ("labs", "lln_source"): ("given", "default"),
    ("adverse_events", "causality"): vocab.AE_CAUSALITY,
    ("adverse_events", "serious_criterion"): vocab.SERIOUS_CRITERIA,
    ("adverse_events", "outcome"): vocab.AE_OUTCOMES,
    ("pregnancy_tests", "result"): vocab.PREGNANCY_RESULTS,
    ("patient_events", "event_type"): vocab.EVENT_TYPES,
    ("screenings", "verdict"): vocab.VERDICTS,
    ("pregnancy_tests", "method"): vocab.PREGNANCY_METHODS,
    ("dispositions", "kind"): vocab.DISPOSITION_KINDS,
    ("dispositions", "reason"): vocab.DISPOSITION_REASONS,
    ("enrolment_overrides", "verdict"): vocab.VERDICTS,
    ("immunology_results", "test"): vocab.IMMUNOLOGY_TESTS,
    ("immunology_results", "result"): vocab.IMMUNOLOGY_RESULTS,
    ("nerve_conduction_studies", "result"): vocab.NERVE_CONDUCTION_RESULTS,
    ("clasi_assessments", "entry"): ("items", "scores"),
    ("clasi_assessments", "activity_severity"): ("mild", "moderate", "severe"),
    ("sledai_assessments", "entry"): ("items", "score"),
    ("queries", "status"): vocab.QUERY_STATUSES,
    ("queries", "origin"): vocab.QUERY_ORIGINS,
    ("queries", "severity"): vocab.QUERY_SEVERITIES,
    ("query_messages", "action"): vocab.QUERY_ACTIONS,
    ("query_messages", "status_after"): vocab.QUERY_STATUSES,
    ("query_messages", "author_role"): (*vocab.ROLES, "system"),
    ("lock_events", "action"): vocab.LOCK_ACTIONS,
    ("login_events", "event"): LOGIN_EVENT_KINDS,
    ("login_events", "channel"): LOGIN_CHANNELS,
    ("lock_events", "state_after"): vocab.LOCK_STATES,
    ("allocation_lists", "environment"): ENVIRONMENTS,
}

#: Vocabularies read from the protocol definitions when first needed, not at import: the
#: regimen ids of every bundled protocol's dose ladder, and ``off``.
_PROTOCOL_CHOICES: Final[dict[tuple[str, str], Callable[[], tuple[str, ...]]]] = {
    ("doses", "regimen"): vocab.regimen_vocabulary,
}

_RANGES: Final[dict[tuple[str, str], tuple[float, float]]] = {
    ("adverse_events", "grade"): (1, 5),
    ("labs", "value"): (0, math.inf),
    ("labs", "lln"): (0, math.inf),
    ("labs", "ctcae_grade"): (0, 4),
    ("clasi_assessments", "activity"): (0, CLASI_ACTIVITY_MAX),
    ("clasi_assessments", "damage"): (0, CLASI_DAMAGE_MAX),
    ("sledai_assessments", "score"): (0, SLEDAI_MAX),
    ("visits", "cla_iga"): (0, CLA_IGA_MAX),
    **{("skindex_assessments", c): (1, 5) for c in SKINDEX_ITEM_COLUMNS},
    **{("skindex_assessments", c): (0, 100) for c in SKINDEX_DOMAIN_COLUMNS},
}

_PARTIAL_DATES: Final = frozenset({("patients", "diagnosis_date")})
_LISTS: Final = frozenset({("visits", "medications")})
#: Fields holding a study, site or patient code (:func:`cletrial.values.check_code`).
_CODES: Final = frozenset({("studies", "code"), ("sites", "code"), ("patients", "study_code")})
#: Fields holding an ISO 3166-1 alpha-3 country (:func:`cletrial.values.check_country`).
_COUNTRIES: Final = frozenset({("sites", "country")})

#: Fields set only by the store itself (never by ``update``): keys, versions, derived values.
_SYSTEM: Final = frozenset({"id", "version"})
_DERIVED: Final[dict[str, frozenset[str]]] = {
    "visits": frozenset({"status", "signed_by", "signed_at", "signed_name", "sign_meaning"}),
    "labs": frozenset(
        {"ctcae_term", "ctcae_grade", "ctcae_version", "lln_source", "std_value", "std_unit"}
    ),
    "enrolment_overrides": frozenset({"signed_by", "signed_name", "signed_at", "verdict"}),
    "clasi_assessments": frozenset(
        {"entry", "activity", "damage", "activity_severity", *CLASI_ITEM_COLUMNS}
    ),
    "sledai_assessments": frozenset({"entry", "score", *SLEDAI_ITEM_COLUMNS}),
    "skindex_assessments": frozenset({*SKINDEX_ITEM_COLUMNS, *SKINDEX_DOMAIN_COLUMNS}),
    "users": frozenset({"password_hash"}),
    "queries": frozenset(
        {
            "patient_id",
            "table_name",
            "record_id",
            "field",
            "origin",
            "check_id",
            "opened_by",
            "opened_at",
        }
    ),
    "query_messages": frozenset(
        {
            "query_id",
            "action",
            "status_after",
            "author",
            "author_role",
            "posted_at",
            "text",
            "correction",
        }
    ),
    "sdv_marks": frozenset(
        {
            "patient_id",
            "table_name",
            "record_id",
            "field",
            "verified_by",
            "verified_at",
            "record_version",
        }
    ),
    "lock_events": frozenset(
        {"action", "state_after", "reason", "signed_by", "signed_name", "signed_at"}
    ),
    "login_events": frozenset({"event", "username", "channel", "detail", "occurred_at"}),
    # An imported list and a randomisation never change; a slot changes once, when allocated.
    "allocation_lists": frozenset(
        {
            "list_code",
            "environment",
            "sha256",
            "strata_json",
            "arms_json",
            "slot_count",
            "sealed",
            "imported_by",
            "imported_at",
        }
    ),
    "allocation_slots": frozenset(
        {
            "stratum",
            "sequence",
            "block",
            "block_size",
            "arm",
            "code",
            "patient_id",
            "allocated_by",
            "allocated_at",
        }
    ),
    "randomisations": frozenset({"stratum", "code", "randomised_by", "randomised_at", "reason"}),
    "unblindings": frozenset(
        {"randomisation_id", "unblinded_by", "role", "signed_name", "unblinded_at", "reason"}
    ),
}


@dataclass(frozen=True)
class FieldSpec:
    """The rule of one stored field.

    ``kind`` is the value type; ``required`` means a value must be given when the record is
    created; ``editable`` is false for keys, versions and derived fields (changed only by the
    store's own operations); ``choices``, ``bounds`` (inclusive) and ``max_length`` restrict it.
    """

    table: str
    name: str
    kind: Kind
    required: bool
    editable: bool
    choices: tuple[str, ...] | None = None
    bounds: tuple[float, float] | None = None
    max_length: int | None = None

    @property
    def path(self) -> str:
        """``table.field``, used in error messages."""
        return f"{self.table}.{self.name}"


def _kind_of(table: str, name: str, column_type: Any) -> Kind:
    if (table, name) in _PARTIAL_DATES:
        return "partial_date"
    if (table, name) in _LISTS:
        return "list"
    checks: tuple[tuple[type, Kind], ...] = (
        (UTCDateTime, "datetime"), (Boolean, "bool"), (Date, "date"), (Float, "float"),
        (Integer, "int"), (Text, "text"), (String, "str"),
    )  # fmt: skip
    for cls, kind in checks:
        if isinstance(column_type, cls):
            return kind
    raise TypeError(f"no field kind for {table}.{name} ({column_type!r})")


def table_of(name: str) -> Table:
    """Return the table called ``name``.

    >>> table_of("visits").name
    'visits'
    """
    table = Base.metadata.tables.get(name)
    if table is None:
        raise InputError("table", name, f"must be one of {', '.join(AUDITED_TABLES)}")
    return table


def _choices(table: str, name: str) -> tuple[str, ...] | None:
    from_protocols = _PROTOCOL_CHOICES.get((table, name))
    return from_protocols() if from_protocols is not None else _CHOICES.get((table, name))


@cache
def field_specs(table: str) -> dict[str, FieldSpec]:
    """Return field name -> :class:`FieldSpec` for every column of ``table``.

    >>> field_specs("adverse_events")["grade"].bounds
    (1, 5)
    >>> field_specs("doses")["regimen"].choices[-1]    # every bundled protocol's ladder, then off
    'off'
    """
    specs: dict[str, FieldSpec] = {}
    derived = _DERIVED.get(table, frozenset())
    for column in table_of(table).columns:
        name = column.name
        length = getattr(column.type, "length", None)
        specs[name] = FieldSpec(
            table=table,
            name=name,
            kind=_kind_of(table, name, column.type),
            required=not column.nullable and name not in _SYSTEM,
            editable=name not in _SYSTEM and name not in derived and not column.foreign_keys,
            choices=_choices(table, name),
            bounds=_RANGES.get((table, name)),
            max_length=length if isinstance(length, int) else None,
        )
    return specs


def _check_text(spec: FieldSpec, value: Any) -> str:
    if not isinstance(value, str):
        raise InputError(spec.path, value, "must be text")
    if (spec.table, spec.name) in _COUNTRIES:  # its own message says what a country code is
        return check_country(spec.path, value)
    if spec.kind == "str" and not value.strip():
        raise InputError(spec.path, value, "must not be blank")
    if spec.max_length is not None and len(value) > spec.max_length:
        raise InputError(spec.path, value, f"must be at most {spec.max_length} characters")
    if spec.choices is not None and value not in spec.choices:
        raise InputError(spec.path, value, f"must be one of {', '.join(spec.choices)}")
    if (spec.table, spec.name) in _CODES:
        return check_code(spec.path, value)
    return check_text(spec.path, value)


def _check_number(spec: FieldSpec, value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(spec.path, value, "must be a number" if spec.kind == "float" else
                         "must be an integer")  # fmt: skip
    if spec.kind == "int" and not isinstance(value, int):
        raise InputError(spec.path, value, "must be an integer")
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(spec.path, value, "must be a finite number")
    if spec.bounds is not None:
        low, high = spec.bounds
        if not low <= value <= high:
            shown = f"from {low:g}" + (f" to {high:g}" if math.isfinite(high) else " up")
            raise InputError(spec.path, value, f"must be {shown}")
    return float(value) if spec.kind == "float" else value


def _check_list(spec: FieldSpec, value: Any) -> str:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InputError(spec.path, value, "must be a list of text items")
    if any(not v.strip() for v in value):
        raise InputError(spec.path, list(value), "must not contain blank items")
    for item in value:
        check_text(spec.path, item)
    return canonical_json(list(value))


def _check_bool(spec: FieldSpec, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InputError(spec.path, value, "must be true or false")
    return value


def _check_date(spec: FieldSpec, value: Any) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise InputError(spec.path, str(value), "must be a date (YYYY-MM-DD)")
    return check_date(spec.path, value)


def _check_datetime(spec: FieldSpec, value: Any) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise InputError(spec.path, str(value), "must be a time-zone aware timestamp")
    return value.astimezone(UTC)


def _check_partial_date(spec: FieldSpec, value: Any) -> str:
    return compute_partial_date(value, spec.path)


_CHECKS: Final = {
    "str": _check_text, "text": _check_text, "int": _check_number, "float": _check_number,
    "bool": _check_bool, "date": _check_date, "partial_date": _check_partial_date,
    "datetime": _check_datetime, "list": _check_list,
}  # fmt: skip


#: Tables whose values are identifying: error messages do not repeat them.
IDENTIFYING_TABLES: Final = frozenset({"patient_identities"})
HIDDEN: Final = "[identifying data hidden]"


def _hide_value(check: Callable[[FieldSpec, Any], Any]) -> Callable[[FieldSpec, Any], Any]:
    def checked(spec: FieldSpec, value: Any) -> Any:
        try:
            return check(spec, value)
        except InputError as exc:
            raise InputError(exc.field, HIDDEN, exc.problem) from None

    return checked


def _compile(spec: FieldSpec) -> Callable[[Any], Any]:
    check: Callable[[FieldSpec, Any], Any] = _CHECKS[spec.kind]
    if spec.table in IDENTIFYING_TABLES:
        check = _hide_value(check)
    if spec.kind == "int" and spec.bounds is None:
        # Fast path for the many small-integer form items (already range-checked by the form).
        def validate_int(value: Any) -> Any:
            if type(value) is int:
                return value
            if value is None and not spec.required:
                return None
            return check(spec, value) if value is not None else _required(spec)

        return validate_int

    def validate(value: Any) -> Any:
        if value is None:
            if spec.required:
                raise InputError(spec.path, value, "is required")
            return None
        return check(spec, value)

    return validate


def _required(spec: FieldSpec) -> Any:
    raise InputError(spec.path, None, "is required")


@cache
def _validators(table: str) -> dict[str, Callable[[Any], Any]]:
    return {name: _compile(spec) for name, spec in field_specs(table).items()}


def validate_field(table: str, name: str, value: Any) -> Any:
    """Validate one value for ``table.name`` and return it as stored.

    ``None`` is accepted for optional fields. Lists (medications) are stored as canonical JSON.

    Raises
    ------
    InputError
        Naming ``table.field`` and the value.

    >>> validate_field("adverse_events", "grade", 6)
    Traceback (most recent call last):
    ...
    cletrial.errors.InputError: adverse_events.grade = 6: must be from 1 to 5
    >>> validate_field("visits", "medications", ["prednisone 5 mg/day"])
    '["prednisone 5 mg/day"]'
    """
    validator = _validators(table).get(name)
    if validator is None:
        raise InputError(f"{table}.{name}", value, f"unknown field of {table}")
    return validator(value)


def validate_record(table: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a new record: every required field given, every given field valid.

    Returns every column except ``id`` and ``version`` (absent optional fields as ``None``).

    >>> validate_record("doses", {"patient_id": 1, "start_date": dt.date(2009, 2, 2),
    ...                           "regimen": "5_daily"})["note"] is None
    True
    """
    validators = _validators(table)
    for name in values:
        if name not in validators or name in _SYSTEM:
            raise InputError(f"{table}.{name}", values[name], f"unknown field of {table}")
    get = values.get
    return {name: check(get(name)) for name, check in validators.items() if name not in _SYSTEM}


def decode_medications(stored: str | None) -> tuple[str, ...] | None:
    """Turn the stored medications JSON back into a tuple (``None`` when not recorded).

    >>> decode_medications('["hydroxychloroquine 200 mg/day"]')
    ('hydroxychloroquine 200 mg/day',)
    """
    if stored is None:
        return None
    return tuple(json.loads(stored))


def encode_value(value: Any) -> Any:
    """Return ``value`` as a JSON value: dates ``YYYY-MM-DD``, timestamps ISO 8601 UTC ``Z``.

    >>> encode_value(dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))
    '2024-01-02T03:04:05.000000Z'
    """
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


_ENCODER: Final = msgspec.json.Encoder(order="sorted")


def canonical_json(value: Any) -> str:
    """Serialise to canonical JSON: sorted keys, no spaces, UTF-8 text, dates ``YYYY-MM-DD``,
    timestamps RFC 3339 in UTC.

    >>> canonical_json([1.5, None, True, "é", {"b": 1, "a": 2}])
    '[1.5,null,true,"é",{"a":2,"b":1}]'
    """
    try:
        return _ENCODER.encode(value).decode("utf-8")
    except (TypeError, ValueError, msgspec.EncodeError) as exc:
        raise InputError("", repr(value), f"cannot be stored as JSON: {exc}") from None


def is_secret(table: str, name: str) -> bool:
    """Whether the audit trail shows :data:`REDACTED` instead of the field's value.

    >>> is_secret("users", "password_hash")
    True
    """
    return (table, name) in SECRET_FIELDS
