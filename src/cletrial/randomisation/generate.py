"""Generate a stratified permuted-block allocation list, reproducibly from a seed.

Each stratum gets whole blocks until it has at least ``per_stratum`` slots. The size of each
block is drawn from ``block_sizes`` (each a multiple of the sum of the arm ratios), and the
block holds every arm ``ratio * size / sum`` times in a random order, so every block is
balanced. Each slot gets a random treatment (kit) code from an alphabet without look-alike
characters (Crockford's base 32), distinct within the list and unrelated to the arm.

Random numbers come from NumPy's PCG64 bit generator seeded with ``seed``, drawn as raw 64-bit
words and turned into integers by rejection sampling and a Fisher-Yates shuffle written here,
so the list depends only on the PCG64 stream (stable across NumPy releases), not on the
algorithms of ``Generator`` methods, which NumPy may change: the same seed and design give the
same list, byte for byte, and the same SHA-256.

>>> allocation = generate_allocation_list(
...     {"subtype": ["DLE", "SCLE"]}, {"lenalidomide": 1, "placebo": 1}, block_sizes=[2, 4],
...     per_stratum=8, seed=2026, environment="test")
>>> first = allocation.slots[0]
>>> first.stratum, first.sequence, first.block, first.block_size in (2, 4), len(first.code)
('subtype=DLE', 1, 1, True, 9)
>>> again = generate_allocation_list(
...     {"subtype": ["DLE", "SCLE"]}, {"lenalidomide": 1, "placebo": 1}, block_sizes=[2, 4],
...     per_stratum=8, seed=2026, environment="test")
>>> again.to_json() == allocation.to_json()
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np

from cletrial.errors import InputError
from cletrial.randomisation.model import (
    ENVIRONMENTS,
    AllocationList,
    Arm,
    Slot,
    Strata,
    check_design,
    check_slots,
    stratum_keys,
)
from cletrial.values import check_code

__all__ = [
    "CODE_ALPHABET",
    "generate_allocation_list",
    "parse_arms",
    "parse_block_sizes",
    "parse_strata",
]

#: Characters of the treatment codes (Crockford's base 32: no I, L, O, U).
CODE_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_LENGTH: Final = 8
_WORD: Final = 1 << 64


class _Draws:
    """Uniform integers and shuffles from the raw words of a seeded PCG64 stream."""

    def __init__(self, seed: int) -> None:
        self._bits = np.random.Generator(np.random.PCG64(seed)).bit_generator

    def below(self, n: int) -> int:
        """A uniform integer from 0 to ``n - 1`` (rejection sampling: no modulo bias)."""
        limit = _WORD - _WORD % n
        while True:
            word = int(self._bits.random_raw())
            if word < limit:
                return word % n

    def shuffle(self, items: list[str]) -> list[str]:
        """``items`` in a uniformly random order (Fisher-Yates)."""
        out = list(items)
        for i in range(len(out) - 1, 0, -1):
            j = self.below(i + 1)
            out[i], out[j] = out[j], out[i]
        return out

    def chars(self, length: int) -> str:
        """``length`` random characters of :data:`CODE_ALPHABET`."""
        return "".join(CODE_ALPHABET[self.below(len(CODE_ALPHABET))] for _ in range(length))

    def code(self) -> str:
        """A random treatment code, ``XXXX-XXXX``."""
        chars = self.chars(_CODE_LENGTH)
        return f"{chars[: _CODE_LENGTH // 2]}-{chars[_CODE_LENGTH // 2 :]}"


def generate_allocation_list(
    strata: Mapping[str, Sequence[str]],
    arms: Mapping[str, int],
    *,
    block_sizes: Sequence[int],
    per_stratum: int,
    seed: int,
    environment: str,
    list_id: str | None = None,
) -> AllocationList:
    """Generate a stratified permuted-block allocation list.

    Parameters
    ----------
    strata : mapping of str to sequence of str
        Stratification factor -> its levels, e.g. ``{"subtype": ["DLE", "SCLE", "ACLE"],
        "site": ["01", "02"]}``; every combination of levels is a stratum.
    arms : mapping of str to int
        Arm id -> allocation ratio, e.g. ``{"lenalidomide": 1, "placebo": 1}``.
    block_sizes : sequence of int
        The block sizes to draw from (each a multiple of the sum of the ratios).
    per_stratum : int
        Least number of slots of each stratum (whole blocks are generated up to it or past it).
    seed : int
        Seed of the random stream (0 or more); keep it with the randomisation plan.
    environment : str
        ``test`` or ``production``.
    list_id : str, optional
        Id of the list (a code); by default ``TEST-`` or ``PROD-`` and four random characters.

    Returns
    -------
    AllocationList
        Checked as an import checks it (:func:`cletrial.randomisation.model.check_slots`).

    Raises
    ------
    InputError
        A bad design (no factor, fewer than two arms, a block size that is not a multiple of
        the ratio sum, ...) or seed, naming the field and the value.

    Examples
    --------
    >>> a = generate_allocation_list({"site": ["01"]}, {"A": 2, "B": 1}, block_sizes=[3, 6],
    ...                              per_stratum=6, seed=1, environment="production")
    >>> a.list_id.startswith("PROD-"), sorted(s.arm for s in a.slots[:3]) in (["A", "A", "B"],)
    (True, True)
    """
    design = _design(strata, arms, block_sizes, per_stratum, seed, environment)
    draws = _Draws(seed)
    prefix = "TEST" if environment == "test" else "PROD"
    name = check_code("list_id", list_id) if list_id else f"{prefix}-{draws.chars(4)}"
    slots: list[Slot] = []
    codes: set[str] = set()
    for key in stratum_keys(design[0]):
        slots += _stratum_slots(draws, name, environment, key, design, codes)
    allocation = AllocationList(
        name, environment, design[0], design[1], design[2], per_stratum, tuple(slots)
    )
    check_slots(allocation)
    return allocation


_Design = tuple[Strata, tuple[Arm, ...], tuple[int, ...], int]


def _design(
    strata: Mapping[str, Sequence[str]],
    arms: Mapping[str, int],
    block_sizes: Sequence[int],
    per_stratum: int,
    seed: int,
    environment: str,
) -> _Design:
    if environment not in ENVIRONMENTS:
        raise InputError("environment", environment, "must be test or production")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError("seed", seed, "must be a whole number, 0 or more")
    if isinstance(per_stratum, bool) or not isinstance(per_stratum, int) or per_stratum < 1:
        raise InputError("per_stratum", per_stratum, "must be a whole number, 1 or more")
    factors: Strata = tuple(
        (check_code("strata", name), tuple(check_code(f"strata.{name}", v) for v in levels))
        for name, levels in strata.items()
    )
    arm_list = tuple(Arm(check_code("arms", a), r) for a, r in arms.items())
    for arm in arm_list:
        if isinstance(arm.ratio, bool) or not isinstance(arm.ratio, int):
            raise InputError(f"arms.{arm.id}", arm.ratio, "must be a whole number, 1 or more")
    check_design(factors, arm_list, list(block_sizes))
    return factors, arm_list, tuple(sorted(set(block_sizes))), per_stratum


def _stratum_slots(
    draws: _Draws, list_id: str, environment: str, key: str, design: _Design, codes: set[str]
) -> list[Slot]:
    _, arms, sizes, per_stratum = design
    total = sum(a.ratio for a in arms)
    slots: list[Slot] = []
    block = 0
    while len(slots) < per_stratum:
        block += 1
        size = sizes[draws.below(len(sizes))]
        content = [a.id for a in arms for _ in range(a.ratio * size // total)]
        for arm in draws.shuffle(content):
            code = draws.code()
            while code in codes:
                code = draws.code()
            codes.add(code)
            slots.append(Slot(list_id, environment, key, len(slots) + 1, block, size, arm, code))
    return slots


def parse_strata(options: Sequence[str]) -> dict[str, list[str]]:
    """Read ``--strata`` options, each ``factor=level,level,...``.

    >>> parse_strata(["subtype=DLE,SCLE,ACLE", "site=01,02"])
    {'subtype': ['DLE', 'SCLE', 'ACLE'], 'site': ['01', '02']}
    """
    out: dict[str, list[str]] = {}
    for option in options:
        name, sep, levels = option.partition("=")
        if not sep or not name.strip() or not levels.strip():
            raise InputError(
                "--strata", option, "must be factor=level,level,... e.g. subtype=DLE,SCLE,ACLE"
            )
        if name.strip() in out:
            raise InputError("--strata", name.strip(), "is given twice")
        out[name.strip()] = [v.strip() for v in levels.split(",")]
    return out


def parse_arms(option: str) -> dict[str, int]:
    """Read ``--arms``: ``arm:ratio,arm:ratio`` (a ratio of 1 may be left out).

    >>> parse_arms("lenalidomide:2,placebo")
    {'lenalidomide': 2, 'placebo': 1}
    """
    out: dict[str, int] = {}
    for part in option.split(","):
        name, sep, ratio = part.strip().partition(":")
        if not name or (sep and not (ratio.strip().isdigit() and ratio.isascii())) or name in out:
            raise InputError(
                "--arms",
                part,
                "must be arm:ratio (distinct arms, whole ratios), e.g. lenalidomide:1,placebo:1",
            )
        out[name] = int(ratio) if sep else 1
    return out


def parse_block_sizes(option: str) -> list[int]:
    """Read ``--blocks``: block sizes separated by commas.

    >>> parse_block_sizes("2,4")
    [2, 4]
    """
    parts = [p.strip() for p in option.split(",")]
    if not all(p.isdigit() and p.isascii() for p in parts):
        raise InputError("--blocks", option, "must be whole numbers separated by commas, e.g. 2,4")
    return [int(p) for p in parts]
