"""SLEDAI-2K: Systemic Lupus Erythematosus Disease Activity Index 2000.

Source: Gladman DD, Ibañez D, Urowitz MB. J Rheumatol 2002;29:288-91 (facts as collected in
``shared/spec/instruments.md``). A descriptor scores when present at the visit or in the previous
10 days. Weights: 8 for the neurological descriptors and vasculitis; 4 for arthritis, myositis and
the renal descriptors; 2 for mucocutaneous, serosal and immunological descriptors; 1 for fever,
thrombocytopenia and leukopenia. Maximum 105.

Thrombocytopenia and leukopenia exclude drug causes: when ``thrombocytopenia_drug_induced`` or
``leukopenia_drug_induced`` is true (for example cytopenia attributed to lenalidomide), that
descriptor does not score.

The form is an object of descriptor -> boolean; an omitted descriptor is absent.

>>> compute_sledai({"arthritis": True, "rash": True, "low_complement": True})
8
>>> compute_sledai({"leukopenia": True, "leukopenia_drug_induced": True})
0
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import msgspec

from cletrial.instruments._validation import MISSING, check_mapping, decode_form, to_form_error

__all__ = [
    "SLEDAI_MAX",
    "SLEDAI_WEIGHTS",
    "SledaiForm",
    "compute_sledai",
    "decode_sledai_json",
    "sledai_json_schema",
    "validate_sledai_form",
]

#: Descriptor -> weight, in the order of the published form.
SLEDAI_WEIGHTS: Final[dict[str, int]] = {
    "seizure": 8,
    "psychosis": 8,
    "organic_brain_syndrome": 8,
    "visual_disturbance": 8,
    "cranial_nerve_disorder": 8,
    "lupus_headache": 8,
    "cerebrovascular_accident": 8,
    "vasculitis": 8,
    "arthritis": 4,
    "myositis": 4,
    "urinary_casts": 4,
    "hematuria": 4,
    "proteinuria": 4,
    "pyuria": 4,
    "rash": 2,
    "alopecia": 2,
    "mucosal_ulcers": 2,
    "pleurisy": 2,
    "pericarditis": 2,
    "low_complement": 2,
    "increased_dna_binding": 2,
    "fever": 1,
    "thrombocytopenia": 1,
    "leukopenia": 1,
}

#: Cytopenia descriptors and the flag that removes a drug-induced one from the score.
DRUG_EXCLUSIONS: Final[dict[str, str]] = {
    "thrombocytopenia": "thrombocytopenia_drug_induced",
    "leukopenia": "leukopenia_drug_induced",
}

SLEDAI_MAX: Final = sum(SLEDAI_WEIGHTS.values())

SledaiForm = msgspec.defstruct(
    "SledaiForm",
    [(name, bool, False) for name in SLEDAI_WEIGHTS]
    + [(flag, bool, False) for flag in DRUG_EXCLUSIONS.values()],
    forbid_unknown_fields=True,
    frozen=True,
    module=__name__,
)
SledaiForm.__doc__ = "A validated SLEDAI-2K form: descriptor -> present (bool)."

_SCORED: Final = tuple(SLEDAI_WEIGHTS.items())
_DECODER: Final = msgspec.json.Decoder(SledaiForm)


def _describe(parts: list[str | int], value: Any) -> str:
    name = parts[0] if parts else ""
    if value is MISSING or (name not in SLEDAI_WEIGHTS and name not in DRUG_EXCLUSIONS.values()):
        return "unknown descriptor; descriptors are " + ", ".join(
            [*SLEDAI_WEIGHTS, *DRUG_EXCLUSIONS.values()]
        )
    return "must be true or false"


def validate_sledai_form(obj: Mapping[str, Any] | Any) -> Any:
    """Validate a SLEDAI-2K form given as a mapping of descriptor -> bool.

    Raises
    ------
    FormError
        Naming the descriptor and the bad value.

    >>> validate_sledai_form({"rash": 1})
    Traceback (most recent call last):
    ...
    cletrial.errors.FormError: rash = 1: must be true or false
    """
    if isinstance(obj, SledaiForm):
        return obj
    check_mapping(obj)
    try:
        return msgspec.convert(obj, SledaiForm, strict=True)
    except msgspec.ValidationError as exc:
        raise to_form_error(exc, obj, _describe) from None


def decode_sledai_json(data: bytes | str) -> Any:
    """Decode and validate one SLEDAI-2K form from JSON text.

    >>> compute_sledai(decode_sledai_json(b'{"seizure": true}'))
    8
    """
    return decode_form(_DECODER, data, _describe)


def compute_sledai(form: Mapping[str, Any] | Any) -> int:
    """Score a SLEDAI-2K form (0-105); drug-induced cytopenias do not score.

    Parameters
    ----------
    form : SledaiForm or mapping
        A validated form, or a mapping of descriptor -> bool that is validated first.

    >>> compute_sledai({name: True for name in SLEDAI_WEIGHTS})
    105
    """
    validated = validate_sledai_form(form)
    score = 0
    for name, weight in _SCORED:
        if getattr(validated, name):
            score += weight
    for name, flag in DRUG_EXCLUSIONS.items():
        if getattr(validated, name) and getattr(validated, flag):
            score -= SLEDAI_WEIGHTS[name]
    return score


def sledai_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of the SLEDAI-2K form.

    >>> sorted(sledai_json_schema()["$defs"]["SledaiForm"]["properties"])[:2]
    ['alopecia', 'arthritis']
    """
    schema: dict[str, Any] = msgspec.json.schema(SledaiForm)
    props = schema["$defs"]["SledaiForm"]["properties"]
    for name, weight in SLEDAI_WEIGHTS.items():
        props[name]["description"] = f"Present at the visit or in the previous 10 days ({weight})."
    for name, flag in DRUG_EXCLUSIONS.items():
        props[flag]["description"] = f"The {name} is caused by a drug: it does not score."
    schema["title"] = "SLEDAI-2K form"
    schema["description"] = "SLEDAI-2K (Gladman 2002): descriptor -> present; omitted is absent."
    return schema
