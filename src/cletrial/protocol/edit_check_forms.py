"""The forms (store tables) and columns an edit check may name, with the type of each column.

The protocol package is pure and never imports :mod:`cletrial.store`, yet a protocol file's edit
checks must be refused on load when they name a table or a column that does not exist. This
mapping is that list; ``tests/protocol/test_edit_checks.py`` asserts that it agrees with the
real tables of :mod:`cletrial.store.tables` (names and types), so the two cannot drift.

Types: ``int``, ``float``, ``str``, ``bool``, ``date`` (a ``datetime.date``), ``datetime``.
The CLASI and SLEDAI-2K item columns come from the instruments, as the store builds them.

>>> FORM_COLUMNS["adverse_events"]["end_date"]
'date'
>>> FORM_COLUMNS["sledai_assessments"]["thrombocytopenia"]
'bool'
>>> len(FORM_COLUMNS)
13
"""

from __future__ import annotations

from typing import Final

from cletrial.instruments.clasi import CLASI_REGIONS, FORM_ITEM_CHOICES, REGION_ITEM_CHOICES
from cletrial.instruments.sledai import DRUG_EXCLUSIONS, SLEDAI_WEIGHTS

__all__ = ["COLUMN_TYPES", "FORM_COLUMNS", "NUMERIC_TYPES"]

#: The column types of the mapping.
COLUMN_TYPES: Final = ("int", "float", "str", "bool", "date", "datetime")

#: Types a ``range`` check accepts (and that ``compare`` treats as one type).
NUMERIC_TYPES: Final = frozenset({"int", "float"})

_KEYS: Final = {"id": "int", "version": "int", "patient_id": "int"}


def _clasi_items() -> dict[str, str]:
    regions = {
        f"{region}_{item}": "int"
        for region in CLASI_REGIONS
        for item in (tuple(REGION_ITEM_CHOICES)[:3] if region == "scalp" else REGION_ITEM_CHOICES)
    }
    return {
        **regions,
        **dict.fromkeys(FORM_ITEM_CHOICES, "int"),
        "dyspigmentation_persistent": "bool",
    }


#: Form (store table) -> column -> type, for every table an edit check may run on.
FORM_COLUMNS: Final[dict[str, dict[str, str]]] = {
    "patients": {
        "id": "int", "version": "int", "study_id": "int", "site_id": "int", "study_code": "str",
        "sex": "str", "reproductive_potential": "bool", "irregular_cycles": "bool",
        "cle_subtype": "str", "sle": "bool", "diagnosis_date": "str", "first_dose_date": "date",
    },
    "screenings": {**_KEYS, "screening_date": "date", "record_json": "str", "verdict": "str"},
    "visits": {
        **_KEYS, "visit_date": "date", "kind": "str", "label": "str", "medications": "str",
        "notes": "str", "status": "str", "signed_by": "str", "signed_at": "datetime",
        "signed_name": "str", "sign_meaning": "str", "cla_iga": "int",
    },
    "clasi_assessments": {
        "id": "int", "version": "int", "visit_id": "int", "entry": "str", "activity": "int",
        "damage": "int", "activity_severity": "str", **_clasi_items(),
    },
    "sledai_assessments": {
        "id": "int", "version": "int", "visit_id": "int", "entry": "str", "score": "int",
        **dict.fromkeys((*SLEDAI_WEIGHTS, *DRUG_EXCLUSIONS.values()), "bool"),
    },
    "labs": {
        **_KEYS, "visit_id": "int", "sample_date": "date", "test": "str", "value": "float",
        "unit": "str", "lln": "float", "ctcae_term": "str", "ctcae_grade": "int",
        "ctcae_version": "str", "std_value": "float", "std_unit": "str",
        "value_confirmed": "bool", "lln_source": "str",
    },
    "doses": {
        **_KEYS, "start_date": "date", "regimen": "str", "note": "str", "visit_id": "int",
    },
    "adverse_events": {
        **_KEYS, "term": "str", "start_date": "date", "end_date": "date", "grade": "int",
        "causality": "str", "serious": "bool", "serious_criterion": "str", "outcome": "str",
        "note": "str", "visit_id": "int",
    },
    "pregnancy_tests": {
        **_KEYS, "test_date": "date", "result": "str", "method": "str", "visit_id": "int",
    },
    "concomitant_medications": {
        **_KEYS, "name": "str", "start_date": "date", "end_date": "date", "baseline": "bool",
        "note": "str",
    },
    "dispositions": {
        **_KEYS, "kind": "str", "disposition_date": "date", "reason": "str",
        "last_dose_date": "date", "note": "str",
    },
    "immunology_results": {
        **_KEYS, "visit_id": "int", "sample_date": "date", "test": "str", "result": "str",
    },
    "nerve_conduction_studies": {
        **_KEYS, "visit_id": "int", "study_date": "date", "result": "str", "note": "str",
    },
}  # fmt: skip
