"""The JSON Schema of a patient history (``cletrial schema history``): msgspec's schema of
:class:`~cletrial.protocol.history_model.HistoryDoc`, with the CLASI and SLEDAI-2K forms or
scores, the CLA-IGA grade and Skindex-29+3 responses (item numbers only), and the units
accepted for each laboratory test.

>>> history_json_schema()["title"]
'cletrial patient history'
"""

from __future__ import annotations

from typing import Any

import msgspec

from cletrial.instruments import (
    CLA_IGA_GRADES,
    CLASI_ACTIVITY_MAX,
    CLASI_DAMAGE_MAX,
    SLEDAI_MAX,
    clasi_json_schema,
    skindex_json_schema,
    sledai_json_schema,
)
from cletrial.protocol.history_model import LAB_UNITS, HistoryDoc

__all__ = ["history_json_schema"]


def history_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of a patient history.

    >>> sorted(history_json_schema()["$defs"]["HistoryDoc"]["properties"])[:3]
    ['adverse_events', 'assessments', 'baseline']
    """
    schema: dict[str, Any] = msgspec.json.schema(HistoryDoc)
    defs = schema["$defs"]
    clasi, sledai = clasi_json_schema(), sledai_json_schema()
    defs.update(clasi["$defs"])
    defs.update(sledai["$defs"])
    scores = {
        "type": "object",
        "additionalProperties": False,
        "required": ["activity"],
        "properties": {
            "activity": {"type": "integer", "minimum": 0, "maximum": CLASI_ACTIVITY_MAX},
            "damage": {"type": "integer", "minimum": 0, "maximum": CLASI_DAMAGE_MAX},
        },
    }
    sledai_score = {
        "type": "object",
        "additionalProperties": False,
        "required": ["score"],
        "properties": {"score": {"type": "integer", "minimum": 0, "maximum": SLEDAI_MAX}},
    }
    for name in ("BaselineDoc", "AssessmentDoc"):
        props = defs[name]["properties"]
        props["clasi"] = {
            "anyOf": [scores, clasi["$ref"] and {"$ref": clasi["$ref"]}, {"type": "null"}]
        }
        props["sledai"] = {"anyOf": [sledai_score, {"$ref": sledai["$ref"]}, {"type": "null"}]}
        props["cla_iga"] = {
            "anyOf": [{"type": "integer", "enum": list(CLA_IGA_GRADES)}, {"type": "null"}],
            "description": "CLA-IGA grade: 0 clear, 1 almost clear, 2 mild, 3 moderate, 4 severe.",
        }
        props["skindex"] = {"anyOf": [skindex_json_schema(), {"type": "null"}]}
    lab = defs["LabDoc"]
    lab["allOf"] = [
        {
            "if": {"properties": {"test": {"const": test}}},
            "then": {"properties": {"unit": {"enum": sorted(units)}}},
        }
        for test, units in LAB_UNITS.items()
    ]
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "cletrial patient history"
    schema["description"] = (
        "One patient's history for the protocol engine and the endpoints (docs/formats.md). "
        "Lists are in date order; doses[].regimen is a step of the protocol's ladder; a "
        "missing instrument is not recorded, never 0."
    )
    return schema
