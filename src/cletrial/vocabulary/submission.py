"""Codelists that only submission datasets use: units, age unit, dose form, toxicity grade,
reference range indicator and disposition category.

NCI codes are given only for codelists whose code is certain (``UNIT`` C71620, ``AGEU``
C66781) and for the unit ``mg`` (C28253); the others are ``None`` rather than guessed. Units:
the stored spelling of each lab unit (``cletrial.instruments.analytes``) maps to its CDISC
spelling (``x10^9/L`` -> ``10^9/L``).

>>> UNIT.submission("x10^9/L"), UNIT.submission("IU/ml"), UNIT.submission("mg")
('10^9/L', 'IU/mL', 'mg')
>>> TOXICITY_GRADE.values
('0', '1', '2', '3', '4', '5')
"""

from __future__ import annotations

from typing import Final

from cletrial.vocabulary.model import Codelist, Term

__all__ = [
    "AGE_UNIT",
    "DISPOSITION_CATEGORY",
    "DOSE_FORM",
    "REFERENCE_RANGE_INDICATOR",
    "SUBMISSION_CODELISTS",
    "TOXICITY_GRADE",
    "UNIT",
]

#: Stored unit spelling -> CDISC UNIT submission value (where the two differ).
_UNIT_SPELLING: Final = {"x10^9/L": "10^9/L", "IU/ml": "IU/mL"}
#: NCI codes of the units whose code was checked: ``mg`` C28253 (pharmaverse/sdtm.oak
#: ``inst/raw_data/sdtm_ct.csv``; SDTMIG 3.4 TS example 4); the others are ``None``.
_UNIT_CODE: Final = {"mg": "C28253"}
_UNITS: Final = (
    "10^9/L", "x10^9/L", "10^3/uL", "/mm3", "/uL", "g/dL", "g/L", "mmol/L", "IU/mL", "IU/ml",
    "mg/dL", "mg",
)  # fmt: skip

UNIT: Final = Codelist(
    "UNIT",
    "Unit",
    tuple(
        Term(u, _UNIT_SPELLING[u], f"{_UNIT_SPELLING[u]} (written {u})")
        if u in _UNIT_SPELLING
        else Term(u, u, u, _UNIT_CODE.get(u))
        for u in _UNITS
    ),
    nci_code="C71620",
    extensible=True,
)
AGE_UNIT: Final = Codelist("AGEU", "Age Unit", (Term("YEARS", "YEARS", "Years"),), "C66781")
DOSE_FORM: Final = Codelist("FRM", "Pharmaceutical Dosage Form",
                            (Term("CAPSULE", "CAPSULE", "Capsule"),), extensible=True)  # fmt: skip
TOXICITY_GRADE: Final = Codelist(
    "TOXGR",
    "NCI CTCAE grade",
    tuple(Term(str(g), str(g), f"Grade {g}") for g in range(6)),
)
REFERENCE_RANGE_INDICATOR: Final = Codelist(
    "NRIND",
    "Reference Range Indicator",
    (Term("LOW", "LOW", "Low"), Term("NORMAL", "NORMAL", "Normal"),
     Term("HIGH", "HIGH", "High"), Term("ABNORMAL", "ABNORMAL", "Abnormal")),
)  # fmt: skip
DISPOSITION_CATEGORY: Final = Codelist(
    "DSCAT",
    "Category for Disposition Event",
    (Term("DISPOSITION EVENT", "DISPOSITION EVENT", "Disposition event"),
     Term("PROTOCOL MILESTONE", "PROTOCOL MILESTONE", "Protocol milestone"),
     Term("OTHER EVENT", "OTHER EVENT", "Other event")),
)  # fmt: skip

SUBMISSION_CODELISTS: Final = (
    UNIT, AGE_UNIT, DOSE_FORM, TOXICITY_GRADE, REFERENCE_RANGE_INDICATOR, DISPOSITION_CATEGORY,
)  # fmt: skip
