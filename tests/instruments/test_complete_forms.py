"""Complete forms for data capture: a blank item is missing, never 0."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cletrial.errors import FormError
from cletrial.instruments import (
    CLASI_ITEM_PATHS,
    SLEDAI_WEIGHTS,
    compute_clasi,
    find_missing_clasi_items,
    find_missing_sledai_items,
    require_complete_clasi,
    require_complete_sledai,
)


def complete_clasi(value: int = 0) -> dict[str, object]:
    """A CLASI form with every item given (``value`` in every region item)."""
    form: dict[str, object] = {}
    for path in CLASI_ITEM_PATHS:
        node = form
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})  # type: ignore[assignment]
        node[leaf] = (False if leaf == "dyspigmentation_persistent" else
                      value if parents else 0)  # fmt: skip
    return form


def test_a_complete_form_has_56_items_and_scores() -> None:
    assert len(CLASI_ITEM_PATHS) == 56
    assert require_complete_clasi(complete_clasi(1)).regions.feet.erythema == 1
    assert compute_clasi(complete_clasi(0)).activity == 0


def test_an_untouched_grid_is_not_complete_response() -> None:
    with pytest.raises(FormError) as err:
        require_complete_clasi({"regions": {}})
    assert err.value.field == "regions.scalp.erythema" and err.value.value is None
    assert "56 are missing" in err.value.problem


def test_a_null_item_is_missing_and_named() -> None:
    form = complete_clasi(0)
    form["regions"]["arms"]["scale"] = None  # type: ignore[index]
    assert find_missing_clasi_items(form) == ["regions.arms.scale"]
    with pytest.raises(FormError, match=r"regions.arms.scale = null: is required"):
        require_complete_clasi(form)


@given(st.sets(st.sampled_from(CLASI_ITEM_PATHS), min_size=1))
def test_any_blank_item_is_reported_and_nothing_is_scored(blank: set[str]) -> None:
    form = complete_clasi(1)
    for path in blank:
        *parents, leaf = path.split(".")
        node = form
        for part in parents:
            node = node[part]  # type: ignore[assignment]
        del node[leaf]
    assert find_missing_clasi_items(form) == [p for p in CLASI_ITEM_PATHS if p in blank]
    with pytest.raises(FormError):
        require_complete_clasi(form)


def test_sledai_needs_every_descriptor_and_the_drug_attribution_of_a_cytopenia() -> None:
    absent = dict.fromkeys(SLEDAI_WEIGHTS, False)
    assert require_complete_sledai(absent).rash is False
    with pytest.raises(FormError, match="24 are missing"):
        require_complete_sledai({})
    assert find_missing_sledai_items({**absent, "thrombocytopenia": True}) == [
        "thrombocytopenia_drug_induced"
    ]
    form = require_complete_sledai(
        {**absent, "thrombocytopenia": True, "thrombocytopenia_drug_induced": True}
    )
    assert form.thrombocytopenia_drug_induced is True
    with pytest.raises(FormError, match="must be true or false"):
        require_complete_sledai({**absent, "rash": 1})
