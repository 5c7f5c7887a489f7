"""Complete forms for data capture: every CLASI item and every SLEDAI-2K descriptor entered.

The scoring functions read an omitted item as absent (0): that is the convention of machine-written
documents such as patient histories. Data capture must not: a blank that becomes 0 turns a
forgotten grid into "complete response". Every capture path (the study database given a form as
a mapping, the API, the pages, the import of a new form) therefore requires every item, explicitly
0 when absent, and names what is missing.

>>> missing = find_missing_clasi_items({"regions": {"arms": {"erythema": 2}}})
>>> len(missing), missing[:3]
(55, ['regions.scalp.erythema', 'regions.scalp.scale', 'regions.scalp.dyspigmentation'])
>>> require_complete_sledai({"rash": True})
Traceback (most recent call last):
...
cletrial.errors.FormError: seizure = null: is required: every SLEDAI-2K descriptor ...
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from cletrial.errors import FormError
from cletrial.instruments._validation import check_mapping
from cletrial.instruments.clasi import (
    CLASI_REGIONS,
    FORM_ITEM_CHOICES,
    REGION_ITEM_CHOICES,
    ClasiForm,
    validate_clasi_form,
)
from cletrial.instruments.sledai import (
    DRUG_EXCLUSIONS,
    SLEDAI_WEIGHTS,
    SledaiForm,
    validate_sledai_form,
)

__all__ = [
    "CLASI_ITEM_PATHS",
    "fill_absent_clasi_items",
    "fill_absent_sledai_items",
    "find_missing_clasi_items",
    "find_missing_sledai_items",
    "require_complete_clasi",
    "require_complete_sledai",
]

#: Every item of a complete CLASI form, in form order (the scalp has no ``scarring``: scalp
#: scarring is ``scarring_alopecia``).
CLASI_ITEM_PATHS: Final = (
    *(
        f"regions.{region}.{item}"
        for region in CLASI_REGIONS
        for item in REGION_ITEM_CHOICES
        if not (region == "scalp" and item == "scarring")
    ),
    *FORM_ITEM_CHOICES,
    "dyspigmentation_persistent",
)


#: The items of each region (the scalp has no ``scarring``), and the once-per-form items.
_REGION_ITEMS: Final = {
    region: tuple(i for i in REGION_ITEM_CHOICES if not (region == "scalp" and i == "scarring"))
    for region in CLASI_REGIONS
}
_FORM_ITEMS: Final = (*FORM_ITEM_CHOICES, "dyspigmentation_persistent")


def find_missing_clasi_items(form: Mapping[str, Any]) -> list[str]:
    """The items of a CLASI form that are absent or null (dotted paths, in form order).

    >>> find_missing_clasi_items({})[-1]
    'dyspigmentation_persistent'
    """
    check_mapping(form)
    regions = form.get("regions")
    if not isinstance(regions, Mapping):
        regions = {}
    missing = []
    for region, items in _REGION_ITEMS.items():
        given = regions.get(region)
        if not isinstance(given, Mapping):
            missing += [f"regions.{region}.{item}" for item in items]
            continue
        missing += [f"regions.{region}.{item}" for item in items if given.get(item) is None]
    missing += [item for item in _FORM_ITEMS if form.get(item) is None]
    return missing


def _missing_error(missing: list[str], instrument: str, what: str) -> FormError:
    extra = f" and {len(missing) - 12} more" if len(missing) > 12 else ""
    shown = ", ".join(missing[:12]) + extra
    more = f"; {len(missing)} are missing: {shown}" if len(missing) > 1 else ""
    return FormError(
        missing[0],
        None,
        f"is required: every {instrument} {what} must be entered (0 or false when absent, never "
        f"left blank){more}",
    )


def require_complete_clasi(form: Mapping[str, Any] | ClasiForm) -> ClasiForm:
    """Validate a CLASI form for data capture: every item present (explicitly 0 when absent).

    A validated :class:`ClasiForm` is complete by construction and returned as it is.

    Raises
    ------
    FormError
        Naming the first missing item and listing every missing one, or any invalid value.

    >>> require_complete_clasi({"regions": {}})
    Traceback (most recent call last):
    ...
    cletrial.errors.FormError: regions.scalp.erythema = null: is required: every CLASI item ...
    """
    if isinstance(form, ClasiForm):
        return form
    missing = find_missing_clasi_items(form)
    if missing:
        raise _missing_error(missing, "CLASI", "item")
    return validate_clasi_form(form)


def find_missing_sledai_items(form: Mapping[str, Any]) -> list[str]:
    """The SLEDAI-2K descriptors absent or null; a drug-attribution flag is missing when its
    cytopenia is present and the flag is not given.

    >>> find_missing_sledai_items({**dict.fromkeys(SLEDAI_WEIGHTS, False), "leukopenia": True})
    ['leukopenia_drug_induced']
    """
    check_mapping(form)
    missing = [name for name in SLEDAI_WEIGHTS if form.get(name) is None]
    for cytopenia, flag in DRUG_EXCLUSIONS.items():
        if form.get(cytopenia) is True and form.get(flag) is None:
            missing.append(flag)
    return missing


def require_complete_sledai(form: Mapping[str, Any] | Any) -> Any:
    """Validate a SLEDAI-2K form for data capture: every descriptor true or false, and whether a
    present thrombocytopenia or leukopenia is drug-induced.

    A validated ``SledaiForm`` is returned as it is.

    >>> form = require_complete_sledai({**dict.fromkeys(SLEDAI_WEIGHTS, False), "rash": True})
    >>> form.rash, form.leukopenia_drug_induced
    (True, False)
    """
    if isinstance(form, SledaiForm):
        return form
    missing = find_missing_sledai_items(form)
    if missing:
        raise _missing_error(missing, "SLEDAI-2K", "descriptor")
    return validate_sledai_form({k: v for k, v in form.items() if v is not None})


def fill_absent_clasi_items(form: Mapping[str, Any]) -> dict[str, Any]:
    """A machine-written CLASI form (where an omitted item means absent) with every item
    written out, 0 or false.

    Only for documents whose convention is "omitted = absent": synthetic data, patient
    histories, examples. Never for data typed by a person, where a blank is missing.

    >>> form = fill_absent_clasi_items({"regions": {"arms": {"erythema": 2}}})
    >>> form["regions"]["arms"], find_missing_clasi_items(form)
    ({'erythema': 2, 'scale': 0, 'dyspigmentation': 0, 'scarring': 0}, [])
    """
    check_mapping(form)
    regions = form.get("regions") or {}
    filled: dict[str, Any] = {"regions": {}}
    for region in CLASI_REGIONS:
        given = regions.get(region) or {}
        items = [i for i in REGION_ITEM_CHOICES if not (region == "scalp" and i == "scarring")]
        filled["regions"][region] = {i: given.get(i) or 0 for i in items}
    for item in FORM_ITEM_CHOICES:
        filled[item] = form.get(item) or 0
    filled["dyspigmentation_persistent"] = bool(form.get("dyspigmentation_persistent"))
    return filled


def fill_absent_sledai_items(form: Mapping[str, Any]) -> dict[str, Any]:
    """A machine-written SLEDAI-2K form with every descriptor written out (``False`` when
    omitted, and a present cytopenia not drug-induced unless said). Same caveat as
    :func:`fill_absent_clasi_items`.

    >>> filled = fill_absent_sledai_items({"rash": True})
    >>> filled["rash"], filled["seizure"], find_missing_sledai_items(filled)
    (True, False, [])
    """
    check_mapping(form)
    filled = {name: bool(form.get(name)) for name in SLEDAI_WEIGHTS}
    for cytopenia, flag in DRUG_EXCLUSIONS.items():
        if filled[cytopenia]:
            filled[flag] = bool(form.get(flag))
    return filled
