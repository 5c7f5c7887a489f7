"""Property tests: scores stay in range; adding a finding never lowers a score."""

from __future__ import annotations

import contextlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from cletrial.instruments import (
    CLASI_REGIONS,
    SLEDAI_WEIGHTS,
    compute_clasi,
    compute_sledai,
    grade_lab,
)
from cletrial.instruments.clasi import FORM_ITEM_CHOICES, REGION_ITEM_CHOICES


def region_items(region: str) -> st.SearchStrategy[dict]:
    items = {
        k: v for k, v in REGION_ITEM_CHOICES.items() if not (region == "scalp" and k == "scarring")
    }
    return st.fixed_dictionaries({}, optional={k: st.sampled_from(v) for k, v in items.items()})


clasi_forms = st.fixed_dictionaries(
    {},
    optional={
        "regions": st.fixed_dictionaries({}, optional={r: region_items(r) for r in CLASI_REGIONS}),
        **{k: st.sampled_from(v) for k, v in FORM_ITEM_CHOICES.items()},
        "dyspigmentation_persistent": st.booleans(),
    },
)


@settings(max_examples=300)
@given(clasi_forms)
def test_clasi_in_range(form: dict) -> None:
    score = compute_clasi(form)
    assert 0 <= score.activity <= 70
    assert 0 <= score.damage <= 56


@settings(max_examples=300)
@given(clasi_forms, st.sampled_from(CLASI_REGIONS), st.sampled_from(sorted(REGION_ITEM_CHOICES)))
def test_clasi_adding_a_finding_never_lowers(form: dict, region: str, item: str) -> None:
    if region == "scalp" and item == "scarring":
        return
    before = compute_clasi(form)
    regions = {k: dict(v) for k, v in form.get("regions", {}).items()}
    current = regions.setdefault(region, {}).get(item, 0)
    regions[region][item] = min(current + 1, REGION_ITEM_CHOICES[item][-1])
    after = compute_clasi({**form, "regions": regions})
    assert after.activity >= before.activity
    assert after.damage >= before.damage


sledai_forms = st.fixed_dictionaries(
    {},
    optional={
        **{k: st.booleans() for k in SLEDAI_WEIGHTS},
        "thrombocytopenia_drug_induced": st.booleans(),
        "leukopenia_drug_induced": st.booleans(),
    },
)


@settings(max_examples=300)
@given(sledai_forms, st.sampled_from(sorted(SLEDAI_WEIGHTS)))
def test_sledai_in_range_and_monotone(form: dict, descriptor: str) -> None:
    before = compute_sledai(form)
    assert 0 <= before <= 105
    assert compute_sledai({**form, descriptor: True}) >= before


@settings(max_examples=300)
@given(
    st.sampled_from(
        ["neutrophil_count_decreased", "white_blood_cell_decreased", "platelet_count_decreased"]
    ),
    st.floats(min_value=0, max_value=500, allow_nan=False),
    st.floats(min_value=0, max_value=500, allow_nan=False),
)
def test_lower_count_never_gives_a_milder_grade(term: str, a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert grade_lab(term, low, "10^9/L").grade >= grade_lab(term, high, "10^9/L").grade


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 10)
    | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["regions", "arms", "scale", "rash", "x"]), children, max_size=3
        )
    ),
    max_leaves=10,
)


@settings(max_examples=300)
@given(st.one_of(json_values.map(lambda v: json.dumps(v).encode()), st.binary(max_size=40)))
def test_decoders_raise_only_form_errors(data: bytes) -> None:
    from cletrial.errors import FormError
    from cletrial.instruments import decode_clasi_json, decode_sledai_json

    for decode in (decode_clasi_json, decode_sledai_json):
        with contextlib.suppress(FormError):
            decode(data)
