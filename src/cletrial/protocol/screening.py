"""The screening record (input of eligibility): its model, validation and JSON Schema.

Every item is optional in the record, because a missing item must be reported as missing
(criterion ``undetermined``), never treated as normal. Unknown keys, wrong types, laboratory
units that do not fit the test, and data dated after the screening date are errors naming the
field.

>>> s = parse_screening({"screening_date": "2009-01-15", "age_years": 40,
...                      "clasi": {"regions": {"arms": {"erythema": 2}}}})
>>> s.age_years, s.clasi
(40, {'regions': {'arms': {'erythema': 2}}})
>>> parse_screening({"screening_date": "2009-01-15", "age": 40})
Traceback (most recent call last):
...
cletrial.errors.ScreeningError: age = 40: unknown key
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
from msgspec import Meta, Struct, field

from cletrial.errors import ScreeningError
from cletrial.instruments import clasi_json_schema
from cletrial.protocol._msgspec_errors import locate
from cletrial.protocol.history import LAB_UNITS
from cletrial.protocol.history_model import LabDoc
from cletrial.vocabulary.types import Sex

__all__ = [
    "BackgroundTherapy",
    "ConventionalTreatment",
    "Screening",
    "ThalidomideHistory",
    "parse_screening",
    "screening_json_schema",
]


class _Doc(Struct, forbid_unknown_fields=True, frozen=True):
    """Base: unknown keys are errors; every field may be missing (null)."""


class BackgroundTherapy(_Doc, frozen=True):
    """Background therapy (criterion I4): how long it has been stable, prednisone dose."""

    stable_days: Annotated[int, Meta(ge=0)] | None = None
    prednisone_mg_per_day: Annotated[float, Meta(ge=0, le=1000)] | None = None
    antimalarial: bool | None = None
    immunosuppressant: bool | None = None


class ConventionalTreatment(_Doc, frozen=True):
    """Conventional treatment (criterion I5): antimalarials and topical steroids, for how long."""

    antimalarial: bool | None = None
    topical_steroids: bool | None = None
    months: Annotated[float, Meta(ge=0, le=1200)] | None = None
    refractory: bool | None = None


class ThalidomideHistory(_Doc, frozen=True):
    """Thalidomide history (criteria I6 and E1)."""

    hypersensitivity: bool | None = None
    severe_side_effects: bool | None = None
    lack_of_efficacy: bool | None = None


class Screening(_Doc, frozen=True):
    """A screening record for the eligibility criteria of a protocol."""

    screening_date: dt.date
    patient_id: Annotated[str, Meta(max_length=200)] | None = None
    protocol: Annotated[str, Meta(max_length=500)] | None = None
    birth_date: dt.date | None = None
    age_years: Annotated[int, Meta(ge=0, le=130)] | None = None
    sex: Sex | None = None
    cle_histology_confirmed: bool | None = None
    sle_acr_criteria: bool | None = None
    clasi: dict[str, Any] | None = None
    body_surface: dict[str, float] | None = None
    bsa_percent: Annotated[float, Meta(ge=0, le=100)] | None = None
    background_therapy: BackgroundTherapy = field(default_factory=BackgroundTherapy)
    conventional_treatment: ConventionalTreatment = field(default_factory=ConventionalTreatment)
    thalidomide: ThalidomideHistory = field(default_factory=ThalidomideHistory)
    pregnant: bool | None = None
    lactating: bool | None = None
    reproductive_potential: bool | None = None
    adequate_contraception: bool | None = None
    active_sle_requiring_immunosuppressants: bool | None = None
    labs: list[LabDoc] = field(default_factory=list)
    thrombosis_history: bool | None = None
    antiphospholipid_antibodies: bool | None = None
    egfr: Annotated[float, Meta(ge=0, le=300)] | None = None
    progressive_renal_disease: bool | None = None
    psychiatric_or_social_disorder: bool | None = None
    hiv: bool | None = None
    viral_hepatitis: bool | None = None


def _check(record: Screening) -> Screening:
    day = record.screening_date
    if record.birth_date is not None and record.birth_date > day:
        raise ScreeningError(
            "birth_date",
            record.birth_date.isoformat(),
            f"must be before screening_date ({day.isoformat()})",
        )
    for i, lab in enumerate(record.labs):
        if lab.date > day:
            raise ScreeningError(
                f"labs[{i}].date",
                lab.date.isoformat(),
                f"is after screening_date ({day.isoformat()})",
            )
        if lab.unit not in LAB_UNITS[lab.test]:
            raise ScreeningError(
                f"labs[{i}].unit",
                lab.unit,
                f"must be one of {', '.join(sorted(LAB_UNITS[lab.test]))} for {lab.test}",
            )
    return record


def parse_screening(obj: Mapping[str, Any]) -> Screening:
    """Validate a screening record given as a mapping (decoded JSON).

    Raises
    ------
    ScreeningError
        Naming the field path and the bad value.
    """
    if not isinstance(obj, Mapping):
        raise ScreeningError("", obj, "a screening record must be a JSON object")
    try:
        record = msgspec.convert(obj, Screening)
    except msgspec.ValidationError as exc:
        raise ScreeningError(*locate(exc, obj)) from None
    return _check(record)


def screening_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of a screening record.

    >>> screening_json_schema()["$defs"]["Screening"]["required"]
    ['screening_date']
    """
    schema: dict[str, Any] = msgspec.json.schema(Screening)
    clasi = clasi_json_schema()
    schema["$defs"].update(clasi["$defs"])
    props = schema["$defs"]["Screening"]["properties"]
    props["clasi"] = {
        "anyOf": [{"$ref": clasi["$ref"]}, {"type": "null"}],
        "description": "A full CLASI form (criterion I3 needs erythema by region).",
    }
    props["body_surface"]["description"] = (
        "Rule-of-nines area -> fraction involved (0-1): head_neck, left_arm, right_arm, "
        "anterior_trunk, posterior_trunk, left_leg, right_leg, perineum."
    )
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "cletrial screening record"
    schema["description"] = (
        "Screening data for the eligibility criteria (docs/protocol.md). Every item may be "
        "missing; a missing item makes its criterion undetermined, never met."
    )
    return schema
