"""Skindex-29+3: skin-related quality of life in cutaneous lupus, scored from item responses.

Only item *numbers* and *responses* are stored and handled here, never the item text (the
questionnaire is copyrighted; it is licensed through the MAPI Research Trust).

Sources, and what each one is relied on for:

* Chren MM, Lasek RJ, Flocke SA, Zyzanski SJ. Improved discriminative and evaluative capability of
  a refined version of Skindex, a quality-of-life instrument for patients with skin diseases.
  Arch Dermatol 1997;133:1433-40 (the Skindex-29). **Verified** (VA HSR&D instrument review of
  the Skindex-29, archived 2006): 30 questions answered never, rarely, sometimes, often, all the
  time; a 10-item emotions, a 7-item symptoms and a 12-item functioning scale.
* The "+3": three CLE-specific questions on hair loss and photosensitivity added to the
  Skindex-29, scored as a further subscale (Klein R et al., J Am Acad Dermatol 2011;64:849-58
  used the Skindex-29 in CLE; the +3 version is described in Lupus Sci Med 2022;9:e000827,
  **verified**: "three additional CLE-specific questions on hair loss and photosensitivity",
  "a photosensitivity subscale score"). Here the subscale is :data:`SKINDEX_DOMAIN`
  ``lupus_specific``.

**Stated defaults** (not verified through a source available here; change them only with the
licensed scoring manual in hand):

* Which item belongs to which scale (:data:`SKINDEX_DOMAIN_ITEMS`, the assignment usually
  reported for the Skindex-29; item 18, on side effects of treatment, belongs to no scale) and the
  numbering 31-33 of the three lupus-specific items.
* Each response 1-5 is transformed to 0, 25, 50, 75, 100 and a domain score is the mean of its
  answered items (0 = never affected, 100 = affected all the time).
* Missing items: a domain is scored when at least 75% of its items are answered
  (:data:`SKINDEX_MIN_ANSWERED`), otherwise it is missing (``None``). An unanswered item is never
  read as "never" (0).

A form is a mapping of item number (``"1"``-``"33"``, as JSON object keys) to a response 1-5, or
``null`` for an item left blank; an omitted item is unanswered too.

>>> score = compute_skindex({str(i): 3 for i in range(1, 34)})
>>> score.as_dict()
{'symptoms': 50.0, 'emotions': 50.0, 'functioning': 50.0, 'lupus_specific': 50.0}
>>> compute_skindex({"1": 5, "7": 5}).symptoms is None
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import msgspec

from cletrial.errors import FormError
from cletrial.instruments._validation import check_mapping, format_choices
from cletrial.vocabulary import SKINDEX_DOMAIN, SKINDEX_RESPONSE

__all__ = [
    "SKINDEX_DOMAIN_ITEMS",
    "SKINDEX_ITEMS",
    "SKINDEX_MIN_ANSWERED",
    "SKINDEX_RESPONSES",
    "SkindexScore",
    "compute_skindex",
    "skindex_json_schema",
    "validate_skindex_form",
]

#: The item numbers: 1-30 of the Skindex-29, then the three lupus-specific items.
SKINDEX_ITEMS: Final[tuple[int, ...]] = tuple(range(1, 34))
#: Permitted responses (1 never ... 5 all the time).
SKINDEX_RESPONSES: Final[tuple[int, ...]] = tuple(int(t.value) for t in SKINDEX_RESPONSE.terms)
#: Stated default: the smallest fraction of a domain's items that must be answered.
SKINDEX_MIN_ANSWERED: Final = 0.75

_SYMPTOM_ITEMS: Final = (1, 7, 10, 16, 19, 24, 27)
_EMOTION_ITEMS: Final = (3, 6, 9, 12, 13, 15, 21, 23, 26, 28)
_FUNCTION_ITEMS: Final = (2, 4, 5, 8, 11, 14, 17, 20, 22, 25, 29, 30)
_LUPUS_ITEMS: Final = (31, 32, 33)
#: Domain (a :data:`~cletrial.vocabulary.SKINDEX_DOMAIN` value) -> its item numbers (stated
#: default; item 18 is in no domain).
SKINDEX_DOMAIN_ITEMS: Final[dict[str, tuple[int, ...]]] = dict(
    zip(
        SKINDEX_DOMAIN.values,
        (_SYMPTOM_ITEMS, _EMOTION_ITEMS, _FUNCTION_ITEMS, _LUPUS_ITEMS),
        strict=True,
    )
)
_LEGEND: Final = ", ".join(f"{t.value} {t.decode.lower()}" for t in SKINDEX_RESPONSE.terms)
_KEYS: Final = {str(i): i for i in SKINDEX_ITEMS}


class SkindexScore(msgspec.Struct, frozen=True):
    """Domain scores 0-100 (None = too few items answered) and the answered items per domain."""

    symptoms: float | None
    emotions: float | None
    functioning: float | None
    lupus_specific: float | None
    answered: dict[str, int]

    def as_dict(self) -> dict[str, float | None]:
        """Domain -> score, in :data:`SKINDEX_DOMAIN` order."""
        return {name: getattr(self, name) for name in SKINDEX_DOMAIN.values}


def validate_skindex_form(obj: Mapping[str, Any] | Any) -> dict[int, int]:
    """Validate a Skindex-29+3 form: item number -> response 1-5 (``null`` = left blank).

    Returns
    -------
    dict
        The answered items only, item number (int) -> response (int).

    Raises
    ------
    FormError
        Naming the item and the bad value, e.g. ``31 = 6: must be 1, 2, 3, 4 or 5 (...)``.

    >>> validate_skindex_form({"2": 4, "5": None})
    {2: 4}
    >>> validate_skindex_form({"34": 1})
    Traceback (most recent call last):
    ...
    cletrial.errors.FormError: 34 = 1: unknown item; items are numbered 1 to 33
    """
    check_mapping(obj)
    answered: dict[int, int] = {}
    for key, value in obj.items():
        item = _KEYS.get(key) if isinstance(key, str) else None
        if item is None:
            raise FormError(str(key), value, f"unknown item; items are numbered 1 to {len(_KEYS)}")
        if value is None:
            continue
        if type(value) is not int or value not in SKINDEX_RESPONSES:
            raise FormError(key, value, f"must be {format_choices(SKINDEX_RESPONSES)} ({_LEGEND})")
        answered[item] = value
    return answered


def _domain_score(
    answered: dict[int, int], items: tuple[int, ...], min_fraction: float
) -> tuple[float | None, int]:
    values = [answered[i] for i in items if i in answered]
    if not values or len(values) < min_fraction * len(items):
        return None, len(values)
    return sum((v - 1) * 25.0 for v in values) / len(values), len(values)


def compute_skindex(
    form: Mapping[str, Any], *, min_answered: float = SKINDEX_MIN_ANSWERED
) -> SkindexScore:
    """Score a Skindex-29+3 form: each domain 0-100, or None when too few items are answered.

    Parameters
    ----------
    form : mapping
        Item number (``"1"``-``"33"``) -> response 1-5 or None; validated first.
    min_answered : float
        Fraction (0-1] of a domain's items that must be answered (stated default 0.75).

    >>> s = compute_skindex({"1": 2, "7": 3, "10": 3, "16": 4, "19": 4, "24": 5})
    >>> s.symptoms, s.answered["symptoms"]
    (62.5, 6)
    """
    if not 0 < min_answered <= 1:
        raise FormError("min_answered", min_answered, "must be a fraction above 0, at most 1")
    answered = validate_skindex_form(form)
    scores: dict[str, Any] = {}
    counts: dict[str, int] = {}
    for domain, items in SKINDEX_DOMAIN_ITEMS.items():
        scores[domain], counts[domain] = _domain_score(answered, items, min_answered)
    return msgspec.convert({**scores, "answered": counts}, SkindexScore)


def skindex_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of a Skindex-29+3 form (item numbers only, no item text).

    >>> schema = skindex_json_schema()
    >>> schema["propertyNames"]["pattern"], schema["additionalProperties"]["anyOf"][0]["maximum"]
    ('^([1-9]|[12][0-9]|3[0-3])$', 5)
    """
    return {
        "title": "Skindex-29+3 form",
        "description": (
            "Item number (1-33) -> response 1 never, 2 rarely, 3 sometimes, 4 often, "
            "5 all the time; null or omitted = not answered (never scored as 'never')."
        ),
        "type": "object",
        "propertyNames": {"pattern": "^([1-9]|[12][0-9]|3[0-3])$"},
        "additionalProperties": {
            "anyOf": [
                {"type": "integer", "minimum": SKINDEX_RESPONSES[0],
                 "maximum": SKINDEX_RESPONSES[-1]},
                {"type": "null"},
            ]
        },
    }  # fmt: skip
