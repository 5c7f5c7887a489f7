"""The CLA-IGA select and the Skindex-29+3 section of the visit form.

The CLA-IGA is one select (``cla_iga``, blank = not assessed); the Skindex-29+3 is one select per
item *number* (``skindex.1`` ... ``skindex.33``, 1-5, blank = not answered; the copyrighted item
text is never shown or stored). A Skindex-29+3 with no item answered is not assessed.

>>> errors: dict[str, str] = {}
>>> parse_trial_scores({"cla_iga": "3", "skindex.31": "4", "skindex.2": ""}, errors)
{'cla_iga': 3, 'skindex': {'31': 4}}
>>> parse_trial_scores({"cla_iga": "5", "skindex.34": "1"}, errors), sorted(errors)
({}, ['cla_iga', 'skindex.34'])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from cletrial.instruments import CLA_IGA_GRADES, SKINDEX_ITEMS, compute_skindex
from cletrial.instruments.skindex import SKINDEX_RESPONSES
from cletrial.values import read_typed_int
from cletrial.vocabulary import CLA_IGA_GRADE, SKINDEX_RESPONSE

__all__ = [
    "CLA_IGA_CHOICES",
    "SKINDEX_CHOICES",
    "SKINDEX_FORM_ITEMS",
    "parse_trial_scores",
    "preview_trial_scores",
    "trial_score_values",
]

#: The CLA-IGA select: (grade, label), best first.
CLA_IGA_CHOICES: Final = tuple((int(t.value), t.decode) for t in CLA_IGA_GRADE.terms)
#: The response select of each Skindex-29+3 item: (response, label).
SKINDEX_CHOICES: Final = tuple((int(t.value), t.decode) for t in SKINDEX_RESPONSE.terms)
#: The item numbers on the form.
SKINDEX_FORM_ITEMS: Final = SKINDEX_ITEMS

_NAMES: Final = frozenset(f"skindex.{i}" for i in SKINDEX_ITEMS)


def _choice(raw: Any, choices: tuple[int, ...]) -> int | None:
    try:
        value = read_typed_int(str(raw).strip())
    except ValueError:
        return None
    return value if value in choices else None


def parse_trial_scores(data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """The ``cla_iga`` and ``skindex`` of a visit body from the form fields (blank = missing).

    Parameters
    ----------
    data : mapping
        Form field name -> text.
    errors : dict
        Field name -> error, filled in here (naming the value refused).

    Returns
    -------
    dict
        ``cla_iga`` (0-4) and ``skindex`` (item number -> 1-5) when given and valid.
    """
    out: dict[str, Any] = {}
    raw = str(data.get("cla_iga", "") or "").strip()
    if raw:
        grade = _choice(raw, CLA_IGA_GRADES)
        if grade is None:
            errors["cla_iga"] = f'"{raw}" is not allowed: choose 0, 1, 2, 3 or 4, or leave blank'
        else:
            out["cla_iga"] = grade
    for name in data:
        if str(name).startswith("skindex.") and name not in _NAMES:
            errors[str(name)] = f"unknown Skindex-29+3 item; items are 1 to {len(SKINDEX_ITEMS)}"
    answered: dict[str, int] = {}
    for item in SKINDEX_ITEMS:
        text = str(data.get(f"skindex.{item}", "") or "").strip()
        if not text:
            continue
        value = _choice(text, SKINDEX_RESPONSES)
        if value is None:
            errors[f"skindex.{item}"] = f'"{text}" is not allowed: choose 1 to 5, or leave blank'
        else:
            answered[str(item)] = value
    if answered:
        out["skindex"] = answered
    return out


def trial_score_values(visit: Any, skindex: Any) -> dict[str, Any]:
    """The form field values of a stored visit's CLA-IGA and Skindex-29+3 (blank when missing).

    >>> trial_score_values(None, None)
    {'cla_iga': ''}
    """
    grade = getattr(visit, "cla_iga", None)
    values: dict[str, Any] = {"cla_iga": "" if grade is None else str(grade)}
    if skindex is not None:
        values["skindex_version"] = skindex.version
        values.update({f"skindex.{item}": str(v) for item, v in skindex.responses.items()})
    return values


def preview_trial_scores(body: Mapping[str, Any], errors: Mapping[str, str]) -> dict[str, Any]:
    """The live panel's CLA-IGA grade and Skindex-29+3 domain scores (``None``: not given, or
    not valid yet).

    >>> live = preview_trial_scores({"cla_iga": 1, "skindex": {"31": 5, "32": 5, "33": 5}}, {})
    >>> live["cla_iga"], live["skindex"]["lupus_specific"], live["skindex"]["symptoms"]
    (1, 100.0, None)
    """
    scores = None
    if body.get("skindex") and not any(name.startswith("skindex.") for name in errors):
        scores = compute_skindex(body["skindex"]).as_dict()
    return {"cla_iga": None if "cla_iga" in errors else body.get("cla_iga"), "skindex": scores}
