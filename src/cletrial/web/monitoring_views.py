"""What the monitoring pages show about the records queries and verification marks point at:
the words for a form and a field, the target of a query (with a link to the page that shows
it and its current value), the flags and marks of a visit's forms, the value a site types to
correct a queried field, and the verification events in a visit's audit history.

>>> field_title("clasi_assessments", "rest_of_face_erythema"), field_title("labs", "value")
('Rest of face erythema', 'value')
>>> form_title("sledai_assessments"), field_title("sledai_assessments", "lupus_headache")
('SLEDAI-2K', 'Lupus headache')
>>> parse_correction("int", "2"), parse_correction("float", "300"), parse_correction("bool", "no")
(2, 300.0, False)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlencode

from sqlalchemy import select

from cletrial.errors import InputError, NotFoundError
from cletrial.instruments import CLASI_REGIONS
from cletrial.store.fields import field_specs, table_of
from cletrial.store.records_monitoring import QueryRecord
from cletrial.store.tables_forms import BY_VISIT, FORM_ITEM_COLUMNS
from cletrial.store.unit_of_work import UnitOfWork
from cletrial.values import read_typed_decimal, read_typed_int
from cletrial.web.schemas_clinical import AuditEntryPublic
from cletrial.web.templating import label, shown

__all__ = [
    "ACTIVE_STATUSES",
    "FORM_TITLES",
    "QueryTarget",
    "VisitAnnotations",
    "correction_words",
    "describe_target",
    "field_title",
    "form_title",
    "parse_correction",
    "sdv_audit_entries",
    "visit_annotations",
]

#: Statuses of a query still waiting for someone (not closed).
ACTIVE_STATUSES: Final = ("new", "open", "answered")

#: Words for each form (store table) a query or a verification mark may point at.
FORM_TITLES: Final = {
    "patients": "Patient record", "screenings": "Screening", "visits": "Visit",
    "clasi_assessments": "CLASI", "sledai_assessments": "SLEDAI-2K",
    "skindex_assessments": "Skindex-29+3", "labs": "Lab result",
    "doses": "Dose", "adverse_events": "Adverse event", "pregnancy_tests": "Pregnancy test",
    "concomitant_medications": "Concomitant medication", "dispositions": "Disposition",
    "immunology_results": "Immunology result",
    "nerve_conduction_studies": "Nerve conduction study",
}  # fmt: skip

_FIELD_WORDS: Final = {"std_value": "value in the standard unit", "lln": "lower limit of normal",
                       "value_confirmed": "value confirmed"}  # fmt: skip


def form_title(table: str | None) -> str:
    """The words for a form (``None``: the patient as a whole).

    >>> form_title("adverse_events"), form_title(None)
    ('Adverse event', 'Patient')
    """
    if table is None:
        return "Patient"
    return FORM_TITLES.get(table, table.replace("_", " ").capitalize())


def field_title(table: str | None, name: str | None) -> str:
    """The words for a field of a form (``None`` or ``*``: the whole form).

    >>> field_title("clasi_assessments", "scalp_scale"), field_title("doses", None)
    ('Scalp scale', 'whole form')
    """
    if name is None or name == "*":
        return "whole form"
    if table == "clasi_assessments":
        for region in CLASI_REGIONS:
            if name.startswith(region + "_"):
                return f"{label(region)} {name[len(region) + 1 :].replace('_', ' ')}"
    if name in _FIELD_WORDS:
        return _FIELD_WORDS[name]
    if table == "sledai_assessments":
        return label(name)
    if table == "skindex_assessments" and name.startswith("item_"):
        return f"item {name[5:]}"  # item numbers only: the questionnaire's text is copyrighted
    return name.replace("_", " ")


@dataclass(frozen=True)
class QueryTarget:
    """What a query is about, as its page shows it.

    ``kind`` is how a correction is typed (``int``, ``float``, ``bool``, ``text``) or ``None``
    when the value cannot be corrected from the query (the whole form or the patient, a form
    recorded as scores only); ``note`` then says where to change it.
    """

    patient_id: int
    form: str
    field: str
    link: str
    link_text: str
    current: str | None = None
    kind: str | None = None
    note: str = ""


def _record_link(patient_id: int, table: str, row: dict[str, Any]) -> tuple[str, str]:
    visit_id = row.get("id") if table == "visits" else row.get("visit_id")
    if table in BY_VISIT or (visit_id is not None and table != "visits"):
        return f"/visits/{visit_id}", "the visit"
    if table == "visits":
        return f"/visits/{row['id']}", f"the visit of {row['visit_date']}"
    return f"/patients/{patient_id}", "the patient page"


def _correctable(table: str, name: str, row: dict[str, Any]) -> tuple[str | None, str]:
    spec = field_specs(table).get(name)
    if spec is None:
        return None, ""
    if table in BY_VISIT:
        if name not in FORM_ITEM_COLUMNS[table]:
            return None, "This score is computed from the items: correct the items instead."
        if row.get("entry", "items") != "items":
            return None, ("This form was recorded as scores only, not item by item: correct it "
                          "by editing the visit.")  # fmt: skip
    elif not spec.editable:
        return None, "This value is computed by the study database: correct what it comes from."
    kinds = {"int": "int", "float": "float", "bool": "bool"}
    return kinds.get(spec.kind, "text"), ""


def describe_target(uow: UnitOfWork, query: QueryRecord | dict[str, Any]) -> QueryTarget:
    """The target of a query: form and field in words, the page showing the record, the
    record's current value of the field, and how a correction is typed."""
    keys = ("patient_id", "table_name", "record_id", "field")
    q = query if isinstance(query, dict) else {k: getattr(query, k) for k in keys}
    patient_id: int = q["patient_id"]
    table, record_id, name = q.get("table_name"), q.get("record_id"), q.get("field")
    if table is None or record_id is None or table == "patients":
        return QueryTarget(patient_id, form_title(table), field_title(table, name),
                           f"/patients/{patient_id}", "the patient page")  # fmt: skip
    try:
        row = uow.get(table, record_id)
    except NotFoundError:
        return QueryTarget(
            patient_id,
            form_title(table),
            field_title(table, name),
            f"/patients/{patient_id}",
            "the patient page",
            note="The record has since been removed (see its audit history).",
        )
    link, text = _record_link(patient_id, table, row)
    if name is None or name == "*":
        return QueryTarget(
            patient_id,
            form_title(table),
            "whole form",
            link,
            text,
            note="A query on the whole form: correct it on its own page.",
        )
    if table == "labs" and name in ("value", "std_value"):  # corrected as entered, in its unit
        return QueryTarget(patient_id, f"Lab result: {label(row.get('test'))} of "
                           f"{row.get('sample_date')}", "value", link, text,
                           f"{shown(row.get('value'))} {row.get('unit') or ''}".strip(),
                           "float")  # fmt: skip
    kind, note = _correctable(table, name, row)
    current = shown(row.get(name)) if name in row else None
    return QueryTarget(patient_id, form_title(table), field_title(table, name), link, text,
                       current, kind, note)  # fmt: skip


def correction_field(target_field: str | None, table: str | None) -> str | None:
    """The field a correction writes: a lab queried on its standard value is corrected in the
    value as entered (the store converts it).

    >>> correction_field("std_value", "labs"), correction_field("arms_scale", "clasi_assessments")
    ('value', 'arms_scale')
    """
    if table == "labs" and target_field == "std_value":
        return "value"
    return target_field


def parse_correction(kind: str, raw: str) -> Any:
    """The corrected value typed in the query's form: a number for numeric fields, yes/no for
    true/false fields, else the text.

    Raises
    ------
    InputError
        Naming ``correction`` when the text is not of the field's kind.

    >>> parse_correction("int", "1.5")
    Traceback (most recent call last):
    ...
    cletrial.errors.InputError: correction = "1.5": must be a whole number
    """
    text = raw.strip()
    if kind == "int":
        try:
            return read_typed_int(text)
        except ValueError:
            raise InputError("correction", text, "must be a whole number") from None
    if kind == "float":
        try:
            return read_typed_decimal(text)
        except ValueError:
            raise InputError("correction", text, "must be a number") from None
    if kind == "bool":
        if text.lower() in ("yes", "true", "1", "present"):
            return True
        if text.lower() in ("no", "false", "0", "absent"):
            return False
        raise InputError("correction", text, "must be yes or no")
    return text


def correction_words(table: str | None, correction: str | None) -> str:
    """A stored correction (``{"field": [old, new]}``) in words.

    >>> correction_words("clasi_assessments", '{"arms_erythema": [2, 1]}')
    'Arms erythema: 2 → 1'
    """
    if not correction:
        return ""
    try:
        changes = json.loads(correction)
    except ValueError:
        return correction
    if not isinstance(changes, dict):
        return str(correction)
    return "; ".join(f"{field_title(table, name)[:1].upper()}{field_title(table, name)[1:]}: "
                     f"{shown(old)} → {shown(new)}"
                     for name, (old, new) in changes.items())  # fmt: skip


@dataclass
class VisitAnnotations:
    """Active queries and verification marks of the records shown on a visit's page."""

    patient_id: int
    study_code: str
    next_url: str
    flags: dict[tuple[str, int], dict[str, int]] = field(default_factory=dict)
    marks: dict[tuple[str, int], Any] = field(default_factory=dict)

    def count(self, table: str, record_id: int, name: str = "*") -> int:
        """Active queries on one field (``*``: on the whole form) of a record."""
        return self.flags.get((table, record_id), {}).get(name, 0)

    def total(self, table: str, record_id: int) -> int:
        """Active queries on a record, whatever their field."""
        return sum(self.flags.get((table, record_id), {}).values())

    def flagged(self, table: str, record_id: int, prefix: str) -> bool:
        """Whether a field of the record whose name starts with ``prefix`` has an active query
        (e.g. a CLASI region's items, ``arms_``)."""
        found = self.flags.get((table, record_id), {})
        return any(n for name, n in found.items() if name.startswith(prefix))

    def mark(self, table: str, record_id: int) -> Any:
        """The record's verification mark (of the whole form), or None."""
        return self.marks.get((table, record_id))

    def queries_link(self, table: str, record_id: int) -> str:
        """The listing of the record's active queries."""
        pairs = [("patient", self.study_code), ("form", table), ("record", str(record_id)),
                 *(("status", s) for s in ACTIVE_STATUSES)]  # fmt: skip
        return "/queries?" + urlencode(pairs)

    def raise_link(self, table: str, record_id: int, name: str = "*") -> str:
        """The page that raises a query on one field of a record."""
        pairs = [("table", table), ("record", str(record_id)), ("next", self.next_url)]
        if name != "*":
            pairs.insert(2, ("field", name))
        return "/queries/new?" + urlencode(pairs)


def visit_annotations(
    uow: UnitOfWork, patient: Any, visit_id: int, records: Mapping[str, Sequence[int]]
) -> VisitAnnotations:
    """Flags (active queries by field) and verification marks of a visit's records, given as
    table -> record ids (one query per table for each)."""
    notes = VisitAnnotations(patient.id, patient.study_code, f"/visits/{visit_id}")
    for table, ids in records.items():
        if not ids:
            continue
        for (record_id, name), n in uow.queries.active_on(table, ids).items():
            notes.flags.setdefault((table, record_id), {})[name] = n
        for (record_id, name), mark in uow.sdv.on_records(table, list(ids)).items():
            if name == "*":
                notes.marks[(table, record_id)] = mark
    return notes


def sdv_audit_entries(
    uow: UnitOfWork, patient_id: int, records: Iterable[tuple[str, int]]
) -> list[AuditEntryPublic]:
    """The audit rows of the verification marks (set, cleared, withdrawn) of these records of
    a patient, oldest first: the marks' own rows, found through the record they pointed at."""
    wanted = set(records)
    audit = table_of("audit_log")
    rows = uow.connection.execute(
        select(audit).where(
            audit.c.table_name == "sdv_marks", audit.c.action.in_(("INSERT", "DELETE")),
            (audit.c.new_value.like(f'%"patient_id":{patient_id},%')
             | audit.c.old_value.like(f'%"patient_id":{patient_id},%')),
        ).order_by(audit.c.id)
    ).mappings()  # fmt: skip
    marks: set[int] = set()
    found: list[Any] = []
    for row in rows:
        try:
            mark = json.loads(row["new_value"] or row["old_value"] or "{}")
        except ValueError:
            continue
        if (mark.get("table_name"), mark.get("record_id")) in wanted:
            marks.add(int(row["record_id"]))
    if marks:
        found = list(uow.connection.execute(
            select(audit).where(audit.c.table_name == "sdv_marks",
                                audit.c.record_id.in_(sorted(marks))).order_by(audit.c.id)
        ).mappings())  # fmt: skip
    return [AuditEntryPublic(**{k: row[k] for k in AuditEntryPublic.model_fields}) for row in found]
