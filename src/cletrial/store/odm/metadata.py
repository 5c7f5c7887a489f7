"""The ODM design of a cletrial study: OIDs, study events, forms, item groups, items.

Each kind of record of the import format (:data:`cletrial.store.import_formats.KINDS`) is one
ItemGroupDef ``IG.<KIND>`` whose items are its columns (``IT.<KIND>.<COLUMN>``); a visit's
CLASI and SLEDAI-2K are their own forms and item groups, and its medications a repeating
item group. Visits are the study events SE.BASELINE, SE.SCHEDULED and SE.UNSCHEDULED (repeat
key: the visit date); the patient's record and screening are SE.ENROLMENT; every other kind is
a form of SE.RECORDS.

>>> GROUPS["IG.ADVERSE_EVENTS"].kind, GROUPS["IG.ADVERSE_EVENTS"].items["IT.ADVERSE_EVENTS.GRADE"]
('adverse_events', 'grade')
>>> data_type("labs", "value"), data_type("patients", "diagnosis_date")
('float', 'partialDate')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from cletrial.store.fields import FieldSpec, field_specs
from cletrial.store.import_formats import IDENTIFYING, KINDS
from cletrial.vocabulary import VISIT_KIND

__all__ = [
    "EVENTS",
    "GROUPS",
    "NS",
    "Group",
    "data_type",
    "field_of",
    "item_oid",
    "user_oid",
]

NS: Final = "http://www.cdisc.org/ns/odm/v1.3"

_ODM_TYPES: Final = {"str": "text", "int": "integer", "float": "float", "bool": "boolean",
                     "date": "date", "partial_date": "partialDate", "list": "text"}  # fmt: skip

#: Study event OID -> (name, type, repeating, forms).
EVENTS: Final[dict[str, tuple[str, str, bool, tuple[str, ...]]]] = {
    "SE.ENROLMENT": ("Enrolment", "Common", False, ("F.PATIENTS", "F.SCREENINGS")),
    **{f"SE.{kind.upper()}": (f"{kind.capitalize()} visit",
                              "Unscheduled" if kind == "unscheduled" else "Scheduled", True,
                              ("F.VISITS", "F.CLASI", "F.SLEDAI"))
       for kind in VISIT_KIND.values},
    "SE.RECORDS": ("Records", "Common", False, tuple(
        f"F.{k.upper()}" for k in KINDS
        if k not in ("studies", "sites", "patients", "screenings", "visits"))),
}  # fmt: skip


@dataclass(frozen=True)
class Group:
    """One ItemGroupDef: the kind of record it holds and its items (ItemOID -> column)."""

    oid: str
    kind: str
    form: str
    items: dict[str, str]
    repeating: bool


def item_oid(kind: str, column: str) -> str:
    """The ItemOID of a column, e.g. ``IT.LABS.VALUE``."""
    return f"IT.{kind.upper()}.{column.upper()}"


def _columns(kind: str, prefix: str | None = None) -> list[str]:
    names = [n for n, _ in KINDS[kind] if n not in ("study", "patient")]
    if kind == "visits":
        names = [n for n in names if n != "medications"]
        if prefix is None:
            return [n for n in names if not n.startswith(("clasi_", "sledai_"))]
        return [n for n in names if n.startswith(prefix)]
    return names


def _group(oid: str, kind: str, form: str, columns: list[str], repeating: bool) -> Group:
    group_kind = oid[3:].lower()
    return Group(oid, kind, form, {item_oid(group_kind, c): c for c in columns}, repeating)


def _groups() -> dict[str, Group]:
    out: dict[str, Group] = {}
    for kind in KINDS:
        if kind in ("studies", "sites"):
            continue
        form = f"F.{kind.upper()}"
        repeating = kind not in ("patients", "screenings", "visits")
        out[f"IG.{kind.upper()}"] = _group(f"IG.{kind.upper()}", kind, form, _columns(kind),
                                           repeating)  # fmt: skip
    out["IG.VISITS_MEDICATIONS"] = Group("IG.VISITS_MEDICATIONS", "visits", "F.VISITS",
                                         {"IT.VISITS.MEDICATION": "medications"}, True)  # fmt: skip
    out["IG.CLASI"] = _group("IG.CLASI", "visits", "F.CLASI", _columns("visits", "clasi_"), False)
    out["IG.SLEDAI"] = _group("IG.SLEDAI", "visits", "F.SLEDAI", _columns("visits", "sledai_"),
                              False)  # fmt: skip
    return out


#: ItemGroupOID -> :class:`Group`.
GROUPS: Final = _groups()

#: Import column -> stored field, where the names differ (``None``: no field rule applies).
_FIELDS: Final[dict[str, dict[str, str | None]]] = {
    "patients": {"site": None, "full_name": None, "date_of_birth": None, "mrn": None},
    "screenings": {"date": "screening_date"},
    "visits": {"date": "visit_date"},
    "labs": {"date": "sample_date", "confirmed": "value_confirmed"},
    "doses": {"date": "start_date"},
    "adverse_events": {"start": "start_date", "end": "end_date"},
    "pregnancy_tests": {"date": "test_date"},
    "events": {"date": "event_date", "type": "event_type"},
    "deviations": {"date": "deviation_date"},
    "dispositions": {"date": "disposition_date"},
    "immunology": {"date": "sample_date"},
    "nerve_conduction": {"date": "study_date"},
    "medications": {"start": "start_date", "end": "end_date"},
}
_TABLES: Final = {"events": "patient_events", "deviations": "protocol_deviations",
                  "immunology": "immunology_results", "nerve_conduction":
                  "nerve_conduction_studies", "medications": "concomitant_medications"}  # fmt: skip


def field_of(kind: str, column: str) -> FieldSpec | None:
    """The stored field's rule behind an import column (its choices and bounds), if any.

    >>> field_of("adverse_events", "grade").bounds
    (1, 5)
    """
    if kind == "visits" and column.startswith(("clasi_", "sledai_")):
        prefix, _, name = column.partition("_")
        table = "clasi_assessments" if prefix == "clasi" else "sledai_assessments"
        return field_specs(table).get(name)
    stored = _FIELDS.get(kind, {}).get(column, column)
    if stored is None:
        return None
    return field_specs(_TABLES.get(kind, kind)).get(stored)


def data_type(kind: str, column: str) -> str:
    """The ODM DataType of an import column."""
    return _ODM_TYPES[dict(KINDS[kind])[column]]


def is_identifying(column: str) -> bool:
    """Whether a column identifies the patient (left out unless asked for)."""
    return column in IDENTIFYING


def user_oid(login: str) -> str:
    """A UserOID for a login name: ``USR.<name>``, hex-encoded when it has other characters.

    >>> user_oid("ana"), user_oid("system: checks")
    ('USR.ana', 'USR.x73797374656d3a20636865636b73')
    """
    if login and all(c.isascii() and (c.isalnum() or c in "._-") for c in login):
        return f"USR.{login}"
    return "USR.x" + login.encode().hex()
