"""Controlled vocabularies of the study database (the values a stored field may take).

Lab tests, regimen ids and event types follow the patient history format of ``docs/formats.md``,
so a stored patient exports to a history the protocol engine accepts.

>>> "investigator" in ROLES
True
>>> LAB_CTCAE_TERMS["neutrophils"]
'neutrophil_count_decreased'
"""

from __future__ import annotations

from typing import Final

from cletrial.protocol.definition_model import EVENT_TYPES as HISTORY_EVENT_TYPES

__all__ = [
    "AE_CAUSALITY",
    "EVENT_TYPES",
    "LAB_CTCAE_TERMS",
    "LAB_TESTS",
    "LAB_UNITS",
    "PREGNANCY_RESULTS",
    "REGIMENS",
    "ROLES",
    "SERIOUS_CRITERIA",
    "SEXES",
    "VISIT_KINDS",
    "VISIT_STATUSES",
]

#: User roles.
ROLES: Final = ("investigator", "coordinator", "monitor", "statistician", "administrator")

SEXES: Final = ("F", "M")

VISIT_KINDS: Final = ("baseline", "scheduled", "unscheduled")
VISIT_STATUSES: Final = ("open", "signed")

#: History lab test -> NCI CTCAE term used to grade it (immunology tests are not graded).
LAB_CTCAE_TERMS: Final[dict[str, str]] = {
    "neutrophils": "neutrophil_count_decreased",
    "wbc": "white_blood_cell_decreased",
    "platelets": "platelet_count_decreased",
    "hemoglobin": "anemia",
}

#: Lab test -> permitted units (counts as in ``cletrial.instruments.convert_lab_value``).
LAB_UNITS: Final[dict[str, tuple[str, ...]]] = {
    "neutrophils": ("10^9/L", "x10^9/L", "10^3/uL", "/mm3", "/uL"),
    "wbc": ("10^9/L", "x10^9/L", "10^3/uL", "/mm3", "/uL"),
    "platelets": ("10^9/L", "x10^9/L", "10^3/uL", "/mm3", "/uL"),
    "hemoglobin": ("g/dL", "g/L", "mmol/L"),
    "anti_dsdna": ("IU/ml", "IU/mL"),
    "c3": ("mg/dL", "g/L"),
    "c4": ("mg/dL", "g/L"),
}
LAB_TESTS: Final = tuple(LAB_UNITS)

#: Regimen ids: the steps of the protocol's dose ladder, highest first, then off.
REGIMENS: Final = (
    "10_daily", "5_daily", "5_alternate", "5_thrice_weekly", "5_twice_weekly", "off",
)  # fmt: skip

#: Causality of an adverse event with respect to lenalidomide.
AE_CAUSALITY: Final = ("unrelated", "unlikely", "possible", "probable", "definite")

#: Why an adverse event is serious (ICH E2A).
SERIOUS_CRITERIA: Final = (
    "death", "life_threatening", "hospitalisation", "persistent_disability",
    "congenital_anomaly", "other_medically_important",
)  # fmt: skip

PREGNANCY_RESULTS: Final = ("negative", "positive")

#: Patient events (disposition and discontinuation reasons), as in the history format, plus
#: ``completed`` (finished the study as planned).
EVENT_TYPES: Final = (*HISTORY_EVENT_TYPES, "completed")
