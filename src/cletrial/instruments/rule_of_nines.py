"""Body surface area by the adult rule of nines (Wallace 1951).

Head and neck 9%; each arm 9%; front of trunk 18%; back of trunk 18%; each leg 18%; perineum 1%
(total 100%). Eligibility criterion I6 of the 2012 protocol uses involvement of more than 18%.

>>> compute_bsa_percent({"anterior_trunk": 1.0, "head_neck": 0.5})
22.5
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from cletrial.errors import FormError

__all__ = ["RULE_OF_NINES", "compute_bsa_percent"]

#: Area -> percent of the adult body surface.
RULE_OF_NINES: Final[dict[str, float]] = {
    "head_neck": 9.0,
    "left_arm": 9.0,
    "right_arm": 9.0,
    "anterior_trunk": 18.0,
    "posterior_trunk": 18.0,
    "left_leg": 18.0,
    "right_leg": 18.0,
    "perineum": 1.0,
}


def compute_bsa_percent(involvement: Mapping[str, Any]) -> float:
    """Percent of body surface involved, from the fraction of each rule-of-nines area involved.

    Parameters
    ----------
    involvement : mapping
        Area (a key of :data:`RULE_OF_NINES`) -> fraction of that area involved, 0 to 1.
        Omitted areas are not involved.

    Returns
    -------
    float
        Percent of body surface area, 0 to 100, rounded to 0.01.

    >>> compute_bsa_percent({"left_arm": 1, "right_arm": 1, "head_neck": 0.1})
    18.9
    >>> compute_bsa_percent({"tail": 1})
    Traceback (most recent call last):
    ...
    cletrial.errors.FormError: involvement.tail = 1: unknown area; areas are head_neck, ...
    """
    if not isinstance(involvement, Mapping):
        raise FormError("involvement", involvement, "must be an object of area -> fraction 0-1")
    total = 0.0
    for area, fraction in involvement.items():
        field = f"involvement.{area}"
        if area not in RULE_OF_NINES:
            raise FormError(field, fraction, "unknown area; areas are " + ", ".join(RULE_OF_NINES))
        if isinstance(fraction, bool) or not isinstance(fraction, int | float):
            raise FormError(field, fraction, "must be a number from 0 to 1 (fraction of the area)")
        if math.isnan(fraction) or not 0 <= fraction <= 1:
            raise FormError(field, fraction, "must be from 0 to 1 (fraction of the area)")
        total += RULE_OF_NINES[area] * fraction
    return round(total, 2)
