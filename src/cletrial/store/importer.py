"""Apply parsed import rows to the database through a unit of work (natural keys, no erasing).

Each row is matched to a stored record by its natural key (:data:`import_formats.KEYS`): a new
key creates a record, a known key updates only the fields the row gives that differ from the
stored values (a blank cell never erases), and a row equal to what is stored changes nothing, so
importing the same file twice changes nothing the second time. Changes to saved records need a
reason, as in the rest of the store. Errors name the file, row and column.

Labs and doses are written through their repositories, so their rules apply as in the
application: labs are graded, and a dose's regimen must be a step of the dose ladder of the
protocol its study runs (``uow.doses.add``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import msgspec

from cletrial.errors import FormError, ImportFileError, InputError, ReasonRequiredError, StoreError
from cletrial.store.audit import AuditEntry
from cletrial.store.fields import encode_value, validate_field
from cletrial.store.import_formats import KEYS, KINDS, ImportRow
from cletrial.store.records import CLASI_COLUMN_PATHS
from cletrial.store.unit_of_work import UnitOfWork

__all__ = ["ImportChange", "apply_rows"]


@dataclass(frozen=True)
class _Spec:
    """How a kind maps to its table: file column -> field, and the fields a new record needs."""

    table: str
    fields: Mapping[str, str]
    key: Mapping[str, str]
    required: tuple[str, ...]


_PATIENT_FIELDS: Final = ("sex", "reproductive_potential", "irregular_cycles", "cle_subtype",
                          "sle", "diagnosis_date", "first_dose_date")  # fmt: skip
SPECS: Final[dict[str, _Spec]] = {
    "studies": _Spec("studies", {"title": "title", "protocol": "protocol_id",
                                 "protocol_version": "protocol_version"},
                     {"study": "code"}, ("title", "protocol", "protocol_version")),
    "sites": _Spec("sites", {"name": "name", "country": "country"}, {"site": "code"}, ("name",)),
    "patients": _Spec("patients", {f: f for f in _PATIENT_FIELDS}, {"patient": "study_code"},
                      ("site",)),
    "screenings": _Spec("screenings", {"date": "screening_date", "verdict": "verdict"}, {},
                        ("date", "verdict")),
    "visits": _Spec("visits", {"kind": "kind", "label": "label", "medications": "medications",
                               "notes": "notes", "cla_iga": "cla_iga"},
                    {"date": "visit_date"}, ()),
    "labs": _Spec("labs", {"value": "value", "unit": "unit", "lln": "lln",
                           "ctcae_version": "ctcae_version", "confirmed": "value_confirmed"},
                  {"date": "sample_date", "test": "test"}, ("value", "unit")),
    "doses": _Spec("doses", {"regimen": "regimen", "note": "note"}, {"date": "start_date"},
                   ("regimen",)),
    "adverse_events": _Spec("adverse_events", {"end": "end_date", "grade": "grade",
                                               "causality": "causality", "serious": "serious",
                                               "serious_criterion": "serious_criterion",
                                               "note": "note", "outcome": "outcome"},
                            {"term": "term", "start": "start_date"},
                            ("grade", "causality", "serious")),
    "pregnancy_tests": _Spec("pregnancy_tests", {"result": "result", "method": "method"},
                             {"date": "test_date"}, ("result",)),
    "events": _Spec("events", {"note": "note"}, {"date": "event_date", "type": "event_type"}, ()),
    "deviations": _Spec("deviations", {"description": "description"},
                        {"date": "deviation_date", "category": "category"}, ("description",)),
    "dispositions": _Spec("dispositions", {"date": "disposition_date", "reason": "reason",
                                           "last_dose_date": "last_dose_date", "note": "note"},
                          {"kind": "kind"}, ("date", "reason")),
    "immunology": _Spec("immunology_results", {"result": "result"},
                        {"date": "sample_date", "test": "test"}, ("result",)),
    "nerve_conduction": _Spec("nerve_conduction_studies", {"result": "result", "note": "note"},
                              {"date": "study_date"}, ("result",)),
    "medications": _Spec("concomitant_medications", {"end": "end_date", "baseline": "baseline",
                                                     "note": "note"},
                         {"name": "name", "start": "start_date"}, ("baseline",)),
}  # fmt: skip
_TABLES: Final = {"events": "patient_events", "deviations": "protocol_deviations"}


def _table(kind: str) -> str:
    return _TABLES.get(kind, SPECS[kind].table)


@dataclass(frozen=True)
class ImportChange:
    """One change an import makes: which row, which record, which field, from what to what."""

    file: str
    row: int
    kind: str
    key: tuple[Any, ...]
    action: str
    table: str
    record_id: int
    field: str | None
    old: str | None
    new: str | None

    def describe(self) -> str:
        """One line for people, e.g. ``visits.csv row 3: update visits LEN/P01/2009-02-02: kind
        "scheduled" -> "unscheduled"`` or ``... create doses LEN/P01/2009-02-02 (doses 7)``."""
        key = "/".join(str(encode_value(k)) for k in self.key)
        verb = {"INSERT": "create", "UPDATE": "update", "DELETE": "delete"}[self.action]
        where = f"{self.file} row {self.row}: {verb} {self.kind} {key}"
        if self.table == "patient_identities":
            return f"{where}: identifying data ({self.field or 'new record'}) [values hidden]"
        if self.action == "UPDATE":
            return f"{where}: {self.field} {self.old} -> {self.new}"
        return f"{where} ({self.table} {self.record_id})" if self.action == "INSERT" else where


class _Applier:
    """Applies rows one by one, caching the ids of studies, sites and patients."""

    def __init__(self, uow: UnitOfWork, reason: str | None) -> None:
        self.uow = uow
        self.reason = reason
        self.ids: dict[tuple[str, Any], int] = {}
        self.changes: list[ImportChange] = []
        self.seen: dict[tuple[str, tuple[Any, ...]], tuple[str, int]] = {}
        self.created = self.updated = self.unchanged = 0

    # -- references --------------------------------------------------------------------------

    def _ref(self, row: ImportRow, table: str, column: str, **key: Any) -> int:
        cache_key = (table, tuple(sorted(key.items())))
        if cache_key not in self.ids:
            found = self.uow.find(table, **key)
            if found is None:
                raise row.error(column, row.values.get(column),
                                f"no such {table[:-1]}: import it first ({table})")  # fmt: skip
            self.ids[cache_key] = found["id"]
        return self.ids[cache_key]

    def _study(self, row: ImportRow) -> int:
        if "study" not in row.values:
            raise row.error("study", None, 'is required (a column, or "study" in a JSON file)')
        return self._ref(row, "studies", "study", code=row.values["study"])

    def _patient(self, row: ImportRow) -> int:
        if "patient" not in row.values:
            raise row.error("patient", None, "is required")
        study = self._study(row)
        return self._ref(row, "patients", "patient", study_id=study,
                         study_code=row.values["patient"])  # fmt: skip

    # -- one row -----------------------------------------------------------------------------

    def apply(self, row: ImportRow) -> None:
        mark = self.uow.pending_count
        spec = SPECS[row.kind]
        self._check_duplicate(row)
        try:
            record_id = self._apply(row, spec)
            if row.kind == "visits":
                self._visit_forms(row, record_id)
        except ImportFileError:
            raise
        except ReasonRequiredError:
            raise _key_error(row, "this row changes a saved record: give a reason for the "
                             "changes (--reason)") from None  # fmt: skip
        except (InputError, StoreError) as exc:
            raise self._locate(row, spec, exc) from None
        entries = self.uow.pending_since(mark)
        if any(e.action == "INSERT" and e.table_name == _table(row.kind) for e in entries):
            self.created += 1
        elif entries:
            self.updated += 1
        else:
            self.unchanged += 1
        self._record_changes(row, entries)

    def _check_duplicate(self, row: ImportRow) -> None:
        key = (row.kind, row.key())
        first = self.seen.get(key)
        if first is not None:
            raise row.error(
                KEYS[row.kind][-1],
                encode_value(row.key()[-1]),
                f"same {row.kind} as {first[0]} row {first[1]} (the key "
                f"{', '.join(KEYS[row.kind])} must be unique in an import)",
            )
        self.seen[key] = (row.file, row.row)

    def _locate(self, row: ImportRow, spec: _Spec, exc: Exception) -> ImportFileError:
        if isinstance(exc, FormError):
            column = _form_column(row, exc.field)
            return row.error(column, exc.value, exc.problem)
        if isinstance(exc, InputError):
            name = exc.field.split(".", 1)[-1]
            by_field = {v: k for k, v in {**spec.fields, **spec.key}.items()}
            return row.error(by_field.get(name, name), exc.value, exc.problem)
        return _key_error(row, str(exc))

    def _key(self, row: ImportRow, spec: _Spec) -> dict[str, Any]:
        key: dict[str, Any] = {}
        if row.kind == "sites" or row.kind == "patients":
            key["study_id"] = self._study(row)
        elif row.kind != "studies":
            key["patient_id"] = self._patient(row)
        for column, name in spec.key.items():
            if column not in row.values:
                raise row.error(column, None, f"is required (part of the {row.kind} key)")
            key[name] = row.values[column]
        return key

    def _apply(self, row: ImportRow, spec: _Spec) -> int:
        key = self._key(row, spec)
        given = {spec.fields[c]: v for c, v in row.values.items() if c in spec.fields}
        existing = self.uow.find(_table(row.kind), **key)
        if existing is None:
            for column in spec.required:
                if column not in row.values:
                    raise row.error(column, None, f"is required to create a new {row.kind} record")
            record_id = _CREATE[row.kind](self, row, key, given)
        else:
            record_id = existing["id"]
            self._update(row, existing, given)
        if row.kind == "patients":
            self._identity(row, record_id)
        return record_id

    def _update(self, row: ImportRow, existing: dict[str, Any], given: dict[str, Any]) -> None:
        table = _table(row.kind)
        if row.kind == "patients" and "site" in row.values:
            site = self._ref(row, "sites", "site", study_id=existing["study_id"],
                             code=row.values["site"])  # fmt: skip
            if site != existing["site_id"]:
                raise row.error("site", row.values["site"],
                                "differs from the patient's stored site: a patient cannot move "
                                "site by import")  # fmt: skip
        diff = {
            name: value for name, value in given.items()
            if encode_value(validate_field(table, name, value)) != encode_value(existing[name])
        }  # fmt: skip
        if not diff:
            return
        repos: dict[str, Any] = {"labs": self.uow.labs, "doses": self.uow.doses,
                                 "concomitant_medications": self.uow.medications}  # fmt: skip
        repo = repos.get(table)
        if repo is not None:
            repo.update(existing["id"], expected_version=existing["version"], reason=self.reason,
                        **diff)  # fmt: skip
        else:
            self.uow.update(table, existing["id"], diff, expected_version=existing["version"],
                            reason=self.reason)  # fmt: skip

    def _identity(self, row: ImportRow, patient_id: int) -> None:
        given = {k: row.values[k] for k in ("full_name", "date_of_birth", "mrn") if k in row.values}
        if not given:
            return
        current = self.uow.identities.for_patient(patient_id)
        if current is None:
            self.uow.identities.save(patient_id, **given)
            return
        if any(getattr(current, k) != v for k, v in given.items()):
            self.uow.identities.save(patient_id, expected_version=current.version,
                                     reason=self.reason, **given)  # fmt: skip

    def _record_changes(self, row: ImportRow, entries: list[AuditEntry]) -> None:
        key = row.key()
        for e in entries:
            self.changes.append(ImportChange(row.file, row.row, row.kind, key, e.action,
                                             e.table_name, e.record_id, e.field, e.old_value,
                                             e.new_value))  # fmt: skip

    # -- forms of a visit --------------------------------------------------------------------

    def _visit_forms(self, row: ImportRow, visit_id: int) -> None:
        v = row.values
        items = {k[6:]: x for k, x in v.items() if k.startswith("clasi_")
                 and k not in ("clasi_activity", "clasi_damage")}  # fmt: skip
        scores = {k[6:]: v[k] for k in ("clasi_activity", "clasi_damage") if k in v}
        if items or scores:
            self._clasi(row, visit_id, items, scores)
        descriptors = {k[7:]: x for k, x in v.items() if k.startswith("sledai_") and
                       k != "sledai_score"}  # fmt: skip
        if descriptors or "sledai_score" in v:
            self._sledai(row, visit_id, descriptors, v.get("sledai_score"))
        responses = {k[8:]: x for k, x in v.items() if k.startswith("skindex_")}
        if responses:
            self._skindex(row, visit_id, responses)

    def _skindex(self, row: ImportRow, visit_id: int, responses: dict[str, Any]) -> None:
        """Merge the given responses into the stored Skindex-29+3 (a blank never erases)."""
        existing = self.uow.skindex.for_visit(visit_id)
        stored = {} if existing is None else existing.form
        merged = {**stored, **responses}
        if merged == stored:
            return
        version = None if existing is None else existing.version
        self.uow.skindex.save(visit_id, merged, expected_version=version, reason=self.reason)

    def _clasi(self, row: ImportRow, visit_id: int, items: dict[str, Any],
               scores: dict[str, Any]) -> None:  # fmt: skip
        existing = self.uow.clasi.for_visit(visit_id)
        version = None if existing is None else existing.version
        if items:
            base = msgspec.to_builtins(existing.form) if existing and existing.form else {}
            form = _merge_clasi(base, items)
            from cletrial.instruments import (
                compute_clasi,
                require_complete_clasi,
                validate_clasi_form,
            )

            validate_clasi_form(form)  # a wrong value is named first,
            validated = require_complete_clasi(form)  # then any item left blank
            computed = compute_clasi(validated)
            for name, value in scores.items():
                if getattr(computed, name) != value:
                    raise row.error(
                        f"clasi_{name}",
                        value,
                        f"differs from the CLASI {name} "
                        f"computed from the items ({getattr(computed, name)})",
                    )
            if existing is None or existing.form != validated:
                self.uow.clasi.save(visit_id, validated, expected_version=version,
                                    reason=self.reason)  # fmt: skip
            return
        self._clasi_scores(row, visit_id, existing, scores)

    def _clasi_scores(self, row: ImportRow, visit_id: int, existing: Any,
                      scores: dict[str, Any]) -> None:  # fmt: skip
        for name in ("activity", "damage"):
            if name not in scores and existing is None:
                raise row.error(f"clasi_{name}", None, "is required with CLASI scores")
        if existing is not None and existing.entry == "items":
            for name, value in scores.items():
                if getattr(existing, name) != value:
                    raise row.error(f"clasi_{name}", value, "differs from the score of the "
                                    f"stored CLASI items ({getattr(existing, name)})")  # fmt: skip
            return
        activity: int = scores.get("activity", existing.activity if existing else 0)
        damage: int = scores.get("damage", existing.damage if existing else 0)
        if existing is None or (existing.activity, existing.damage) != (activity, damage):
            self.uow.clasi.save_scores(visit_id, activity=activity, damage=damage,
                                       expected_version=None if existing is None
                                       else existing.version, reason=self.reason)  # fmt: skip

    def _sledai(self, row: ImportRow, visit_id: int, descriptors: dict[str, Any],
                score: int | None) -> None:  # fmt: skip
        existing = self.uow.sledai.for_visit(visit_id)
        version = None if existing is None else existing.version
        if descriptors:
            if score is not None:
                raise row.error("sledai_score", score, "give SLEDAI-2K descriptors or a score, "
                                "not both")  # fmt: skip
            base = msgspec.to_builtins(existing.form) if existing and existing.form else {}
            merged = {**base, **descriptors}  # a new form gives every descriptor (the store checks)
            if existing is None or existing.form is None or base != merged:
                self.uow.sledai.save(visit_id, merged, expected_version=version,
                                     reason=self.reason)  # fmt: skip
            return
        assert score is not None
        if existing is not None and existing.entry == "items":
            if existing.score != score:
                raise row.error("sledai_score", score, "differs from the score of the stored "
                                f"SLEDAI-2K descriptors ({existing.score})")  # fmt: skip
            return
        if existing is None or existing.score != score:
            self.uow.sledai.save_score(visit_id, score, expected_version=version,
                                       reason=self.reason)  # fmt: skip


def _key_error(row: ImportRow, problem: str) -> ImportFileError:
    """An error about the record as a whole, located at the last column of its key."""
    column = KEYS[row.kind][-1]
    return row.error(column, encode_value(row.values.get(column)), problem)


def _merge_clasi(base: dict[str, Any], items: dict[str, Any]) -> dict[str, Any]:
    """Overlay flat CLASI item columns (``arms_erythema``) on a stored form document."""
    form = {k: ({r: dict(i) for r, i in v.items()} if k == "regions" else v)
            for k, v in base.items()}  # fmt: skip
    regions = form.setdefault("regions", {})
    for name, value in items.items():
        path = CLASI_COLUMN_PATHS.get(name)
        if path is None:
            form[name] = value
        else:
            regions.setdefault(path[0], {})[path[1]] = value
    return form


def _form_column(row: ImportRow, path: str) -> str:
    """File column of a form field path (``regions.arms.scale`` -> ``clasi_arms_scale``)."""
    parts = path.split(".")
    if path == "cla_iga" or (parts[0] == "skindex" and len(parts) == 2):
        return "_".join(parts)
    if parts[0] == "regions" and len(parts) == 3:
        return f"clasi_{parts[1]}_{parts[2]}"
    prefix = "sledai_" if f"sledai_{parts[-1]}" in row.values else "clasi_"
    return prefix + parts[-1] if path else row.kind


def _create_generic(
    kind: str,
) -> Callable[[_Applier, ImportRow, dict[str, Any], dict[str, Any]], int]:
    def create(
        applier: _Applier, row: ImportRow, key: dict[str, Any], given: dict[str, Any]
    ) -> int:
        table = _table(kind)
        return int(applier.uow.insert(table, {**key, **given})["id"])

    return create


def _create_patient(applier: _Applier, row: ImportRow, key: dict[str, Any],
                    given: dict[str, Any]) -> int:  # fmt: skip
    site = applier._ref(row, "sites", "site", study_id=key["study_id"], code=row.values["site"])
    return applier.uow.patients.create(site_id=site, **key, **given).id


def _create_screening(applier: _Applier, row: ImportRow, key: dict[str, Any],
                      given: dict[str, Any]) -> int:  # fmt: skip
    """An imported screening keeps its verdict; its criteria are not in the file (empty record)."""
    return applier.uow.screenings.save(key["patient_id"], screening_date=given["screening_date"],
                                       record={}, verdict=given["verdict"]).id  # fmt: skip


def _create_medication(applier: _Applier, row: ImportRow, key: dict[str, Any],
                       given: dict[str, Any]) -> int:  # fmt: skip
    return applier.uow.medications.add(**key, **given).id


def _create_visit(applier: _Applier, row: ImportRow, key: dict[str, Any],
                  given: dict[str, Any]) -> int:  # fmt: skip
    return applier.uow.visits.create(**key, **{"kind": "scheduled", **given}).id


def _create_lab(applier: _Applier, row: ImportRow, key: dict[str, Any],
                given: dict[str, Any]) -> int:  # fmt: skip
    return applier.uow.labs.add(**key, **given).id


def _create_dose(applier: _Applier, row: ImportRow, key: dict[str, Any],
                 given: dict[str, Any]) -> int:  # fmt: skip
    return applier.uow.doses.add(**key, **given).id


def _create_ae(applier: _Applier, row: ImportRow, key: dict[str, Any],
               given: dict[str, Any]) -> int:  # fmt: skip
    return applier.uow.adverse_events.add(**key, **given).id


_CREATE: Final = {
    **{kind: _create_generic(kind) for kind in KINDS},
    "patients": _create_patient,
    "screenings": _create_screening,
    "medications": _create_medication,
    "visits": _create_visit,
    "labs": _create_lab,
    "doses": _create_dose,
    "adverse_events": _create_ae,
}


@dataclass
class ApplyResult:
    """Counts and changes of applying rows."""

    created: int
    updated: int
    unchanged: int
    changes: list[ImportChange]


def apply_rows(uow: UnitOfWork, rows: list[ImportRow], *, reason: str | None) -> ApplyResult:
    """Apply rows (sorted into dependency order: studies, sites, patients, visits, ...)."""
    order = {kind: i for i, kind in enumerate(KINDS)}
    applier = _Applier(uow, reason)
    for row in sorted(rows, key=lambda r: order[r.kind]):
        applier.apply(row)
    return ApplyResult(applier.created, applier.updated, applier.unchanged, applier.changes)
