"""CLASI: Cutaneous Lupus Erythematosus Disease Area and Severity Index.

Source: Albrecht J et al., J Invest Dermatol 2005;125:889-94 (the instrument); severity bands of
the activity score from Klein R et al., Arch Dermatol 2011;147:203-8. Facts as collected in
``shared/spec/instruments.md``.

Activity (CLASI-A, 0-70): erythema (0-3) and scale/hypertrophy (0-2) in each of 13 regions, plus
mucous membrane lesions (0-1), recent hair loss (0-1) and non-scarring alopecia (0-3).
Damage (CLASI-D, 0-56): dyspigmentation (0-1) in each region, doubled when the dyspigmentation
usually lasts 12 months or more; scarring/atrophy/panniculitis (0-2) in each region except the
scalp; scarring of the scalp (scarring alopecia) 0 or 3-6.

An omitted region or item is absent (0). Unknown keys, wrong types and out-of-range values are
errors (:class:`~cletrial.errors.FormError`).

>>> score = compute_clasi({"regions": {"arms": {"erythema": 2, "scale": 1}}})
>>> score.as_dict()
{'activity': 3, 'damage': 0, 'activity_severity': 'mild'}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal

import msgspec

from cletrial.errors import FormError
from cletrial.instruments._validation import (
    MISSING,
    check_mapping,
    decode_form,
    format_choices,
    to_form_error,
)

__all__ = [
    "CLASI_ACTIVITY_MAX",
    "CLASI_DAMAGE_MAX",
    "CLASI_REGIONS",
    "ClasiForm",
    "ClasiScore",
    "clasi_json_schema",
    "compute_clasi",
    "compute_clasi_severity",
    "compute_max_erythema",
    "decode_clasi_json",
    "validate_clasi_form",
]

#: The 13 regions in form order (the nose region includes the malar area).
CLASI_REGIONS: Final = (
    "scalp", "ears", "nose", "rest_of_face", "v_neck", "posterior_neck_shoulders", "chest",
    "abdomen", "back_buttocks", "arms", "hands", "legs", "feet",
)  # fmt: skip

#: Permitted values of each per-region item.
REGION_ITEM_CHOICES: Final[dict[str, tuple[int, ...]]] = {
    "erythema": (0, 1, 2, 3),
    "scale": (0, 1, 2),
    "dyspigmentation": (0, 1),
    "scarring": (0, 1, 2),
}

#: Permitted values of the once-per-form items.
FORM_ITEM_CHOICES: Final[dict[str, tuple[int, ...]]] = {
    "mucous_membrane_lesions": (0, 1),
    "recent_hair_loss": (0, 1),
    "nonscarring_alopecia": (0, 1, 2, 3),
    "scarring_alopecia": (0, 3, 4, 5, 6),
}

CLASI_ACTIVITY_MAX: Final = 70
CLASI_DAMAGE_MAX: Final = 56

#: Upper bounds (inclusive) of the activity severity bands (Klein 2011): mild 0-9, moderate 10-20.
SEVERITY_BANDS: Final = ((9, "mild"), (20, "moderate"), (CLASI_ACTIVITY_MAX, "severe"))

Severity = Literal["mild", "moderate", "severe"]

_Erythema = Annotated[int, msgspec.Meta(ge=0, le=3)]
_Scale = Annotated[int, msgspec.Meta(ge=0, le=2)]
_Binary = Annotated[int, msgspec.Meta(ge=0, le=1)]
_Scarring = Annotated[int, msgspec.Meta(ge=0, le=2)]


class ScalpItems(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Scalp items; scalp scarring is scored once, as ``scarring_alopecia``."""

    erythema: _Erythema = 0
    scale: _Scale = 0
    dyspigmentation: _Binary = 0


class RegionItems(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Items of one region other than the scalp, each for the region's worst lesion."""

    erythema: _Erythema = 0
    scale: _Scale = 0
    dyspigmentation: _Binary = 0
    scarring: _Scarring = 0


def _region() -> Any:
    return msgspec.field(default_factory=RegionItems)


class ClasiRegions(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The 13 CLASI regions; an omitted region scores 0 throughout."""

    scalp: ScalpItems = msgspec.field(default_factory=ScalpItems)
    ears: RegionItems = _region()
    nose: RegionItems = _region()
    rest_of_face: RegionItems = _region()
    v_neck: RegionItems = _region()
    posterior_neck_shoulders: RegionItems = _region()
    chest: RegionItems = _region()
    abdomen: RegionItems = _region()
    back_buttocks: RegionItems = _region()
    arms: RegionItems = _region()
    hands: RegionItems = _region()
    legs: RegionItems = _region()
    feet: RegionItems = _region()


class ClasiForm(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A validated CLASI form (see the module docstring for the items)."""

    regions: ClasiRegions = msgspec.field(default_factory=ClasiRegions)
    mucous_membrane_lesions: _Binary = 0
    recent_hair_loss: _Binary = 0
    nonscarring_alopecia: Annotated[int, msgspec.Meta(ge=0, le=3)] = 0
    scarring_alopecia: Annotated[int, msgspec.Meta(ge=0, le=6)] = 0
    dyspigmentation_persistent: bool = False


class ClasiScore(msgspec.Struct, frozen=True):
    """CLASI activity and damage totals with the activity severity band."""

    activity: int
    damage: int
    activity_severity: Severity

    def as_dict(self) -> dict[str, Any]:
        """Return the public JSON shape ``{"activity", "damage", "activity_severity"}``."""
        return {
            "activity": self.activity,
            "damage": self.damage,
            "activity_severity": self.activity_severity,
        }


def compute_clasi_severity(activity: int) -> Severity:
    """Band a CLASI-A score: mild 0-9, moderate 10-20, severe 21-70 (Klein 2011).

    Parameters
    ----------
    activity : int
        CLASI activity score, 0 to 70.

    >>> compute_clasi_severity(9), compute_clasi_severity(10), compute_clasi_severity(21)
    ('mild', 'moderate', 'severe')
    """
    if isinstance(activity, bool) or not isinstance(activity, int):
        raise FormError("activity", activity, f"must be an integer from 0 to {CLASI_ACTIVITY_MAX}")
    if not 0 <= activity <= CLASI_ACTIVITY_MAX:
        raise FormError("activity", activity, f"must be from 0 to {CLASI_ACTIVITY_MAX}")
    for upper, band in SEVERITY_BANDS:
        if activity <= upper:
            return band  # type: ignore[return-value]
    raise AssertionError("unreachable: bands cover 0-70")


def _allowed(choices: tuple[int, ...], value: Any) -> str:
    allowed = f"must be {format_choices(choices)}"
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{allowed} (an integer)"
    return allowed


def _describe(parts: list[str | int], value: Any) -> str:
    """What a CLASI field allows, for error messages."""
    unknown = value is MISSING
    if not parts:
        return "must be a CLASI form object"
    if len(parts) == 1:
        name = parts[0]
        if name in FORM_ITEM_CHOICES and not unknown:
            return _allowed(FORM_ITEM_CHOICES[str(name)], value)
        if name == "dyspigmentation_persistent" and not unknown:
            return "must be true or false"
        if name == "regions" and not unknown:
            return "must be an object of region -> items"
        fields = ", ".join(ClasiForm.__struct_fields__)
        return f"unknown field; the form's fields are {fields}"
    if len(parts) == 2 or parts[0] != "regions":
        if parts[1] in CLASI_REGIONS and not unknown:
            return "must be an object of item -> score"
        return f"unknown region; regions are {', '.join(CLASI_REGIONS)}"
    region, item = parts[1], parts[2]
    if region == "scalp" and item == "scarring":
        return "the scalp has no scarring item: score it as scarring_alopecia (0 or 3-6)"
    if item in REGION_ITEM_CHOICES and not unknown:
        return _allowed(REGION_ITEM_CHOICES[str(item)], value)
    return f"unknown item; items are {', '.join(REGION_ITEM_CHOICES)}"


def _check_scarring_alopecia(form: ClasiForm) -> ClasiForm:
    if form.scarring_alopecia in (1, 2):
        raise FormError(
            "scarring_alopecia",
            form.scarring_alopecia,
            "must be 0, 3, 4, 5 or 6 "
            "(0 absent, 3-6 quadrants of scalp scarring; 1 and 2 are invalid)",
        )
    return form


def validate_clasi_form(obj: Mapping[str, Any] | ClasiForm) -> ClasiForm:
    """Validate a CLASI form given as a mapping (decoded JSON).

    Raises
    ------
    FormError
        Naming the field path and the bad value, e.g. ``regions.arms.scale = 3: must be 0, 1 or 2``.

    >>> validate_clasi_form({"regions": {"arms": {"scale": 3}}})
    Traceback (most recent call last):
    ...
    cletrial.errors.FormError: regions.arms.scale = 3: must be 0, 1 or 2
    """
    if isinstance(obj, ClasiForm):
        return obj
    check_mapping(obj)
    try:
        form = msgspec.convert(obj, ClasiForm, strict=True)
    except msgspec.ValidationError as exc:
        raise to_form_error(exc, obj, _describe) from None
    return _check_scarring_alopecia(form)


_DECODER: Final = msgspec.json.Decoder(ClasiForm)


def decode_clasi_json(data: bytes | str) -> ClasiForm:
    """Decode and validate one CLASI form from JSON text (the fast path for batches).

    >>> decode_clasi_json(b'{"regions": {"nose": {"erythema": 1}}}').regions.nose.erythema
    1
    """
    form: ClasiForm = decode_form(_DECODER, data, _describe)
    return _check_scarring_alopecia(form)


def _score(form: ClasiForm) -> ClasiScore:
    regions = form.regions
    scalp = regions.scalp
    activity = (
        form.mucous_membrane_lesions
        + form.recent_hair_loss
        + form.nonscarring_alopecia
        + scalp.erythema
        + scalp.scale
    )
    dyspigmentation = scalp.dyspigmentation
    scarring = form.scarring_alopecia
    for region in msgspec.structs.astuple(regions)[1:]:
        activity += region.erythema + region.scale
        dyspigmentation += region.dyspigmentation
        scarring += region.scarring
    if form.dyspigmentation_persistent:
        dyspigmentation *= 2
    return ClasiScore(activity, dyspigmentation + scarring, compute_clasi_severity(activity))


def compute_clasi(form: ClasiForm | Mapping[str, Any]) -> ClasiScore:
    """Score a CLASI form: activity (0-70), damage (0-56) and activity severity band.

    Parameters
    ----------
    form : ClasiForm or mapping
        A validated form, or a mapping that is validated first (raises FormError).

    >>> compute_clasi({"regions": {"nose": {"erythema": 1, "dyspigmentation": 1, "scarring": 1}},
    ...                "dyspigmentation_persistent": True}).as_dict()
    {'activity': 1, 'damage': 3, 'activity_severity': 'mild'}
    """
    return _score(validate_clasi_form(form))


def compute_max_erythema(form: ClasiForm | Mapping[str, Any]) -> int:
    """Return the highest erythema score of any region (0-3), used by eligibility criterion I3.

    >>> compute_max_erythema({"regions": {"arms": {"erythema": 2}, "legs": {"erythema": 1}}})
    2
    """
    regions = validate_clasi_form(form).regions
    return max(int(region.erythema) for region in msgspec.structs.astuple(regions))


def clasi_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of the CLASI form.

    >>> clasi_json_schema()["$defs"]["ClasiForm"]["properties"]["scarring_alopecia"]["enum"]
    [0, 3, 4, 5, 6]
    """
    schema: dict[str, Any] = msgspec.json.schema(ClasiForm)
    props = schema["$defs"]["ClasiForm"]["properties"]
    props["scarring_alopecia"] = {
        "type": "integer",
        "enum": list(FORM_ITEM_CHOICES["scarring_alopecia"]),
        "default": 0,
        "description": "Scarring of the scalp: 0 absent, 3-6 one to four quadrants (whole skull).",
    }
    schema["title"] = "CLASI form"
    schema["description"] = (
        "Cutaneous Lupus Erythematosus Disease Area and Severity Index (Albrecht 2005). "
        "An omitted region or item is absent (0)."
    )
    return schema
