"""Typed, immutable results returned by the unit of work and the queries.

Each record is a snapshot of one stored row: it keeps its ``id`` and the ``version`` it was read
at, which is what an edit must quote back (``expected_version``) so stale writes are refused.

>>> rec = DoseRecord.from_row({"id": 1, "version": 1, "patient_id": 3,
...                            "start_date": dt.date(2009, 2, 2), "regimen": "5_daily",
...                            "note": None})
>>> rec.regimen, rec.version
('5_daily', 1)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any, ClassVar, Self

from cletrial.instruments import ClasiForm, SkindexScore, compute_skindex, validate_clasi_form
from cletrial.store.fields import decode_medications
from cletrial.store.tables_forms import (
    CLASI_ITEM_COLUMNS,
    SKINDEX_ITEM_COLUMNS,
    SLEDAI_ITEM_COLUMNS,
    clasi_region_items,
)

__all__ = [
    "CLASI_COLUMN_PATHS",
    "AdverseEventRecord",
    "ClasiRecord",
    "DeviationRecord",
    "DispositionRecord",
    "DoseRecord",
    "IdentityRecord",
    "ImmunologyRecord",
    "LabRecord",
    "MedicationRecord",
    "NerveConductionRecord",
    "OverrideRecord",
    "PatientEventRecord",
    "PatientRecord",
    "PregnancyTestRecord",
    "ScreeningRecord",
    "SiteRecord",
    "SkindexRecord",
    "SledaiRecord",
    "StoredRecord",
    "StudyRecord",
    "UserRecord",
    "VisitRecord",
    "clasi_columns_to_form",
    "clasi_form_to_columns",
    "record_class",
]


@dataclasses.dataclass(frozen=True, slots=True)
class StoredRecord:
    """Base of every record: ``id``, and ``version`` (1 when created, +1 per saved change)."""

    table: ClassVar[str] = ""
    id: int
    version: int

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        """Build the record from a row mapping (extra columns are ignored; a column added by a
        later schema revision may be absent, and then takes its default)."""
        return cls(**{name: row[name] for name in _field_names(cls) if name in row})


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


@dataclasses.dataclass(frozen=True, slots=True)
class StudyRecord(StoredRecord):
    """A study and the protocol definition it runs."""

    table: ClassVar[str] = "studies"
    code: str
    title: str
    protocol_id: str
    protocol_version: str
    time_zone: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class SiteRecord(StoredRecord):
    """A site of a study."""

    table: ClassVar[str] = "sites"
    study_id: int
    code: str
    name: str
    country: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class UserRecord(StoredRecord):
    """A user (without the password hash) and the ids of the sites they work at."""

    table: ClassVar[str] = "users"
    username: str
    display_name: str
    role: str
    active: bool
    site_ids: tuple[int, ...] = ()

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        """Build from a ``users`` row; ``site_ids`` from the row if present."""
        values = {f.name: row[f.name] for f in dataclasses.fields(cls) if f.name != "site_ids"}
        return cls(**values, site_ids=tuple(row.get("site_ids", ())))


@dataclasses.dataclass(frozen=True, slots=True)
class PatientRecord(StoredRecord):
    """A patient known by a pseudonymous ``study_code``; ``None`` fields are not recorded."""

    table: ClassVar[str] = "patients"
    study_id: int
    site_id: int
    study_code: str
    sex: str | None
    reproductive_potential: bool | None
    irregular_cycles: bool | None
    cle_subtype: str | None
    sle: bool | None
    diagnosis_date: str | None
    first_dose_date: dt.date | None


@dataclasses.dataclass(frozen=True, slots=True)
class IdentityRecord(StoredRecord):
    """Identifying data of a patient (kept in its own table)."""

    table: ClassVar[str] = "patient_identities"
    patient_id: int
    full_name: str | None
    date_of_birth: dt.date | None
    mrn: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class ScreeningRecord(StoredRecord):
    """The screening record of a patient (``record`` is the decoded JSON document)."""

    table: ClassVar[str] = "screenings"
    patient_id: int
    screening_date: dt.date
    record: dict[str, Any]
    verdict: str | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        """Build from a ``screenings`` row, decoding ``record_json``."""
        return cls(id=row["id"], version=row["version"], patient_id=row["patient_id"],
                   screening_date=row["screening_date"], record=json.loads(row["record_json"]),
                   verdict=row["verdict"])  # fmt: skip


@dataclasses.dataclass(frozen=True, slots=True)
class VisitRecord(StoredRecord):
    """A visit. ``medications`` is ``None`` when not recorded; ``status`` open or signed."""

    table: ClassVar[str] = "visits"
    patient_id: int
    visit_date: dt.date
    kind: str
    label: str | None
    medications: tuple[str, ...] | None
    notes: str | None
    status: str
    signed_by: str | None
    signed_at: dt.datetime | None
    signed_name: str | None = None
    sign_meaning: str | None = None
    #: The CLA-IGA grade 0-4; ``None`` = not assessed (never 0).
    cla_iga: int | None = None

    @property
    def locked(self) -> bool:
        """True when the visit is signed (its data cannot change until unlocked)."""
        return self.status == "signed"

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        """Build from a ``visits`` row, decoding the medications list."""
        values = {name: row[name] for name in _field_names(cls) if name in row}
        values["medications"] = decode_medications(row["medications"])
        return cls(**values)


def clasi_form_to_columns(form: ClasiForm) -> dict[str, Any]:
    """Flatten a validated ``ClasiForm`` into its item columns.

    >>> from cletrial.instruments import validate_clasi_form
    >>> cols = clasi_form_to_columns(validate_clasi_form({"regions": {"arms": {"erythema": 2}}}))
    >>> cols["arms_erythema"], cols["scalp_scale"], cols["dyspigmentation_persistent"]
    (2, 0, False)
    """
    out: dict[str, Any] = {}
    for region in form.regions.__struct_fields__:
        items = getattr(form.regions, region)
        for item in clasi_region_items(region):
            out[f"{region}_{item}"] = getattr(items, item)
    for name in CLASI_ITEM_COLUMNS[len(out) :]:
        out[name] = getattr(form, name)
    return out


def clasi_columns_to_form(row: Mapping[str, Any]) -> ClasiForm | None:
    """Rebuild a ``ClasiForm`` from item columns (``None`` when the items were not recorded).

    >>> clasi_columns_to_form({name: None for name in CLASI_ITEM_COLUMNS}) is None
    True
    """
    if all(row[name] is None for name in CLASI_ITEM_COLUMNS):
        return None
    regions: dict[str, dict[str, int]] = {}
    form: dict[str, Any] = {"regions": regions}
    for name in CLASI_ITEM_COLUMNS:
        value = row[name]
        if value is None:
            continue
        region_item = CLASI_COLUMN_PATHS.get(name)
        if region_item is None:
            form[name] = bool(value) if name == "dyspigmentation_persistent" else value
        else:
            regions.setdefault(region_item[0], {})[region_item[1]] = value
    return validate_clasi_form(form)


#: CLASI region item column -> (region, item), e.g. ``arms_erythema`` -> ``("arms", "erythema")``.
CLASI_COLUMN_PATHS: dict[str, tuple[str, str]] = {}
for _column in CLASI_ITEM_COLUMNS:
    for _item in ("erythema", "scale", "dyspigmentation", "scarring"):
        if _column.endswith("_" + _item) and _column != "dyspigmentation_persistent":
            CLASI_COLUMN_PATHS[_column] = (_column[: -len(_item) - 1], _item)


@dataclasses.dataclass(frozen=True, slots=True)
class ClasiRecord(StoredRecord):
    """A CLASI of a visit: the form item by item (``None`` if only scores are known) and scores."""

    table: ClassVar[str] = "clasi_assessments"
    visit_id: int
    entry: str
    activity: int
    damage: int
    activity_severity: str
    form: ClasiForm | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any], form: ClasiForm | None = None) -> Self:
        """Build from a ``clasi_assessments`` row, rebuilding the form from the item columns
        (unless the validated ``form`` those columns were written from is given)."""
        if form is None:
            form = clasi_columns_to_form(row)
        return cls(id=row["id"], version=row["version"], visit_id=row["visit_id"],
                   entry=row["entry"], activity=row["activity"], damage=row["damage"],
                   activity_severity=row["activity_severity"], form=form)  # fmt: skip


@dataclasses.dataclass(frozen=True, slots=True)
class SledaiRecord(StoredRecord):
    """A SLEDAI-2K of a visit: the form (``None`` if only the score is known) and the score."""

    table: ClassVar[str] = "sledai_assessments"
    visit_id: int
    entry: str
    score: int
    form: Any

    @classmethod
    def from_row(cls, row: Mapping[str, Any], form: Any = None) -> Self:
        """Build from a ``sledai_assessments`` row (or with the validated ``form`` given)."""
        if form is None and row["entry"] == "items":
            from cletrial.instruments import validate_sledai_form

            form = validate_sledai_form({n: bool(row[n]) for n in SLEDAI_ITEM_COLUMNS})
        return cls(id=row["id"], version=row["version"], visit_id=row["visit_id"],
                   entry=row["entry"], score=row["score"], form=form)  # fmt: skip


@dataclasses.dataclass(frozen=True, slots=True)
class SkindexRecord(StoredRecord):
    """A Skindex-29+3 of a visit: the answered items (number -> response 1-5) and the domain
    scores (0-100, ``None`` when too few items of the domain are answered).

    >>> row = {"id": 1, "version": 1, "visit_id": 4, **dict.fromkeys(SKINDEX_ITEM_COLUMNS)}
    >>> rec = SkindexRecord.from_row({**row, "item_31": 4, "item_32": 4, "item_33": 5})
    >>> rec.responses, rec.score.lupus_specific, rec.score.symptoms
    ({31: 4, 32: 4, 33: 5}, 83.33333333333333, None)
    """

    table: ClassVar[str] = "skindex_assessments"
    visit_id: int
    responses: dict[int, int]
    score: SkindexScore

    @property
    def form(self) -> dict[str, int]:
        """The answered items as a form (item number as text -> response), as entered."""
        return {str(item): value for item, value in self.responses.items()}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        """Build from a ``skindex_assessments`` row, scoring the stored responses again."""
        responses = {int(name[5:]): row[name] for name in SKINDEX_ITEM_COLUMNS
                     if row.get(name) is not None}  # fmt: skip
        score = compute_skindex({str(item): value for item, value in responses.items()})
        return cls(id=row["id"], version=row["version"], visit_id=row["visit_id"],
                   responses=responses, score=score)  # fmt: skip


@dataclasses.dataclass(frozen=True, slots=True)
class LabRecord(StoredRecord):
    """A lab result with its CTCAE grade (``None`` for tests CTCAE does not grade)."""

    table: ClassVar[str] = "labs"
    patient_id: int
    visit_id: int | None
    sample_date: dt.date
    test: str
    value: float
    unit: str
    lln: float | None
    ctcae_term: str | None
    ctcae_grade: int | None
    ctcae_version: str | None
    lln_source: str | None
    std_value: float | None = None
    std_unit: str | None = None
    value_confirmed: bool | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class DoseRecord(StoredRecord):
    """The regimen in force from ``start_date`` on."""

    table: ClassVar[str] = "doses"
    patient_id: int
    start_date: dt.date
    regimen: str
    note: str | None
    visit_id: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class AdverseEventRecord(StoredRecord):
    """An adverse event (``end_date`` ``None`` while ongoing; ``outcome`` ``None`` when not
    recorded)."""

    table: ClassVar[str] = "adverse_events"
    patient_id: int
    term: str
    start_date: dt.date
    end_date: dt.date | None
    grade: int
    causality: str
    serious: bool
    serious_criterion: str | None
    note: str | None
    outcome: str | None
    visit_id: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class PregnancyTestRecord(StoredRecord):
    """A pregnancy test result (negative or positive)."""

    table: ClassVar[str] = "pregnancy_tests"
    patient_id: int
    test_date: dt.date
    result: str
    method: str | None = None
    visit_id: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class PatientEventRecord(StoredRecord):
    """A disposition event (see :data:`cletrial.store.vocab.EVENT_TYPES`)."""

    table: ClassVar[str] = "patient_events"
    patient_id: int
    event_date: dt.date
    event_type: str
    note: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class DeviationRecord(StoredRecord):
    """A protocol deviation."""

    table: ClassVar[str] = "protocol_deviations"
    patient_id: int
    visit_id: int | None
    deviation_date: dt.date
    category: str
    description: str


@dataclasses.dataclass(frozen=True, slots=True)
class DispositionRecord(StoredRecord):
    """End of treatment or end of study (``kind``) with its reason, a key of
    :data:`cletrial.store.vocab.DISPOSITION_REASONS` (CDISC NCOMPLT)."""

    table: ClassVar[str] = "dispositions"
    patient_id: int
    kind: str
    disposition_date: dt.date
    reason: str
    last_dose_date: dt.date | None
    note: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class OverrideRecord(StoredRecord):
    """An investigator's e-signed decision to treat without an eligible screening verdict."""

    table: ClassVar[str] = "enrolment_overrides"
    patient_id: int
    override_date: dt.date
    verdict: str
    reason: str
    signed_by: str
    signed_name: str
    signed_at: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class ImmunologyRecord(StoredRecord):
    """A qualitative immunology test (ANA, anti-ENA, antiphospholipid antibodies)."""

    table: ClassVar[str] = "immunology_results"
    patient_id: int
    visit_id: int | None
    sample_date: dt.date
    test: str
    result: str


@dataclasses.dataclass(frozen=True, slots=True)
class NerveConductionRecord(StoredRecord):
    """A nerve conduction study (normal or abnormal)."""

    table: ClassVar[str] = "nerve_conduction_studies"
    patient_id: int
    visit_id: int | None
    study_date: dt.date
    result: str
    note: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class MedicationRecord(StoredRecord):
    """A concomitant medication (dates ``None`` when not known)."""

    table: ClassVar[str] = "concomitant_medications"
    patient_id: int
    name: str
    start_date: dt.date | None
    end_date: dt.date | None
    baseline: bool
    note: str | None


_BY_TABLE: dict[str, type[StoredRecord]] = {
    cls.table: cls
    for cls in (StudyRecord, SiteRecord, UserRecord, PatientRecord, IdentityRecord,
                ScreeningRecord, VisitRecord, ClasiRecord, SledaiRecord, SkindexRecord, LabRecord,
                DoseRecord, AdverseEventRecord, PregnancyTestRecord, PatientEventRecord,
                DeviationRecord, DispositionRecord, OverrideRecord, ImmunologyRecord,
                NerveConductionRecord, MedicationRecord)
}  # fmt: skip


def record_class(table: str) -> type[StoredRecord]:
    """Return the record class of ``table``.

    >>> record_class("visits").__name__
    'VisitRecord'
    """
    if "queries" not in _BY_TABLE:
        from cletrial.store.records_monitoring import MONITORING_RECORDS

        _BY_TABLE.update({cls.table: cls for cls in MONITORING_RECORDS})
    try:
        return _BY_TABLE[table]
    except KeyError:
        raise KeyError(f"no record class for table {table!r}") from None
