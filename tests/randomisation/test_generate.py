"""The allocation list generator: every block balanced, reproducible by seed, checked on read."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cletrial.errors import InputError
from cletrial.randomisation import (
    CODE_ALPHABET,
    AllocationList,
    generate_allocation_list,
    parse_arms,
    parse_block_sizes,
    parse_strata,
    stratum_keys,
)

STRATA = {"subtype": ["DLE", "SCLE", "ACLE"], "site": ["01", "02"]}
ARMS = {"lenalidomide": 1, "placebo": 1}


def _list(seed: int = 20261203, **overrides: Any) -> AllocationList:
    args: dict[str, Any] = {"block_sizes": [2, 4], "per_stratum": 40, "seed": seed,
                            "environment": "test"}  # fmt: skip
    args.update(overrides)
    strata = args.pop("strata", STRATA)
    arms = args.pop("arms", ARMS)
    return generate_allocation_list(strata, arms, **args)


def _blocks(allocation: AllocationList) -> dict[tuple[str, int], list[Any]]:
    blocks: dict[tuple[str, int], list[Any]] = {}
    for slot in allocation.slots:
        blocks.setdefault((slot.stratum, slot.block), []).append(slot)
    return blocks


@st.composite
def designs(draw: st.DrawFn) -> dict[str, Any]:
    ratios = draw(st.lists(st.integers(1, 3), min_size=2, max_size=3))
    total = sum(ratios)
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3, unique=True))
    levels = draw(st.lists(st.integers(1, 3), min_size=1, max_size=2))
    return {
        "arms": {f"arm{i}": r for i, r in enumerate(ratios)},
        "strata": {f"f{i}": [f"L{j}" for j in range(n)] for i, n in enumerate(levels)},
        "block_sizes": [m * total for m in sizes],
        "per_stratum": draw(st.integers(1, 30)),
        "seed": draw(st.integers(0, 2**63)),
    }


@settings(max_examples=60)
@given(designs())
def test_every_block_is_balanced_within_its_size(design: dict[str, Any]) -> None:
    allocation = _list(**design)
    ratios = design["arms"]
    total = sum(ratios.values())
    for slots in _blocks(allocation).values():
        size = slots[0].block_size
        assert size in design["block_sizes"] and len(slots) == size
        counts = Counter(s.arm for s in slots)
        assert counts == {arm: ratio * size // total for arm, ratio in ratios.items()}
    for key in stratum_keys(allocation.strata):
        mine = [s for s in allocation.slots if s.stratum == key]
        assert [s.sequence for s in mine] == list(range(1, len(mine) + 1))
        assert (
            design["per_stratum"] <= len(mine) < design["per_stratum"] + max(design["block_sizes"])
        )
    assert len({s.code for s in allocation.slots}) == len(allocation.slots)


@settings(max_examples=25)
@given(designs())
def test_the_same_seed_gives_a_byte_identical_list(design: dict[str, Any]) -> None:
    first, second = _list(**design), _list(**design)
    assert first.to_json().encode() == second.to_json().encode()
    assert first.sha256 == second.sha256
    assert AllocationList.from_json(first.to_json()) == first


def test_another_seed_gives_another_list() -> None:
    assert _list(seed=1).to_json() != _list(seed=2).to_json()
    assert [s.arm for s in _list(seed=1).slots] != [s.arm for s in _list(seed=2).slots]


def test_the_stream_is_pinned_by_a_known_digest() -> None:
    # Changing how numbers are drawn would silently change every list made from a seed: this
    # digest, of the list the docs show, must stay the same (the statistician re-generates it).
    allocation = _list()
    assert allocation.sha256 == hashlib.sha256(allocation.to_json().encode()).hexdigest()
    assert allocation.list_id == "TEST-G0SW"
    assert allocation.sha256 == "242c2b32fb1fddd4595eb5b371cb6edf87350141058806fc216c6c151f58f17f"


def test_codes_do_not_reveal_the_arm() -> None:
    allocation = _list()
    for slot in allocation.slots:
        head, _, tail = slot.code.partition("-")
        assert len(head) == len(tail) == 4 and set(head + tail) <= set(CODE_ALPHABET)
    by_arm = {arm: {s.code[0] for s in allocation.slots if s.arm == arm} for arm in ARMS}
    assert by_arm["lenalidomide"] & by_arm["placebo"]  # the same leading characters in both


def test_the_json_is_canonical() -> None:
    text = _list(per_stratum=2).to_json()
    document = json.loads(text)
    assert text == json.dumps(document, sort_keys=True, separators=(",", ":")) + "\n"
    assert document["format"] == "cletrial-allocation-list" and "seed" not in document


def _tampered(change: Any) -> str:
    document = json.loads(_list(per_stratum=4).to_json())
    change(document)
    return json.dumps(document)


def _swap_first_arm(document: dict[str, Any]) -> None:
    slot = document["slots"][0]
    slot["arm"] = "placebo" if slot["arm"] == "lenalidomide" else "lenalidomide"


def _repeat_code(document: dict[str, Any]) -> None:
    document["slots"][1]["code"] = document["slots"][0]["code"]


def _drop_slot(document: dict[str, Any]) -> None:
    del document["slots"][0]


def _odd_block(document: dict[str, Any]) -> None:
    document["block_sizes"] = [3]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (_swap_first_arm, r"slots\[\d\]\.block = 1: is not balanced"),
        (_repeat_code, r"slots\[1\]\.code"),
        (_drop_slot, r"slots\[0\]\.sequence = 2: must be 1"),
        (_odd_block, "block_sizes = 3"),
        (lambda d: d.update(environment="prod"), "environment"),
        (lambda d: d["slots"][0].update(environment="production"), r"slots\[0\]\.environment"),
        (lambda d: d["slots"][0].update(stratum="subtype=XX|site=01"), r"slots\[0\]\.stratum"),
        (lambda d: d.update(format="csv"), "format"),
    ],
)
def test_a_tampered_list_is_refused_naming_the_field(change: Any, field: str) -> None:
    with pytest.raises(InputError, match=f"^{field}"):
        AllocationList.from_json(_tampered(change))


def test_not_json_is_refused() -> None:
    with pytest.raises(InputError, match="not JSON"):
        AllocationList.from_json(b"{slots")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"block_sizes": [3]}, "block_sizes"),
        ({"arms": {"only": 1}}, "arms"),
        ({"seed": -1}, "seed"),
        ({"per_stratum": 0}, "per_stratum"),
        ({"environment": "staging"}, "environment"),
        ({"strata": {"site": []}}, "strata"),
        ({"strata": {"site": ["01", "01"]}}, "strata.site"),
    ],
)
def test_a_bad_design_is_refused_naming_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as caught:
        _list(**overrides)
    assert caught.value.field == field


def test_the_command_line_options_are_read() -> None:
    assert parse_strata(["subtype=DLE,SCLE", "site=01"]) == {"subtype": ["DLE", "SCLE"],
                                                            "site": ["01"]}  # fmt: skip
    assert parse_arms("lenalidomide:2,placebo:1") == {"lenalidomide": 2, "placebo": 1}
    assert parse_block_sizes("3, 6") == [3, 6]
    for bad in (lambda: parse_strata(["subtype"]), lambda: parse_arms("a:x,b"),
                lambda: parse_arms("a:1,a:1"), lambda: parse_block_sizes("2,²")):  # fmt: skip
        with pytest.raises(InputError):
            bad()
