"""The allocation list: its slots, its canonical JSON and SHA-256, and the checks an import runs.

A list is made by :func:`cletrial.randomisation.generate_allocation_list`. Each stratum (one
level of every stratification factor, e.g. ``subtype=DLE|site=01``) has its own sequence of
slots in permuted blocks; each slot names its arm and a treatment (kit) code that does not
reveal the arm. The canonical JSON (sorted keys, no spaces, UTF-8, one final newline) is what
the generator writes, and its SHA-256 is what the study database records on import.

>>> arms = (Arm("lenalidomide", 1), Arm("placebo", 1))
>>> strata = (("subtype", ("DLE", "SCLE")),)
>>> stratum_key(strata, {"subtype": "SCLE"})
'subtype=SCLE'
>>> stratum_key(strata, {"subtype": "LUPUS"})
Traceback (most recent call last):
...
cletrial.errors.InputError: strata.subtype = "LUPUS": must be one of DLE, SCLE
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from cletrial.errors import InputError
from cletrial.values import check_code

__all__ = [
    "ENVIRONMENTS",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "AllocationList",
    "Arm",
    "Slot",
    "Strata",
    "stratum_key",
    "stratum_keys",
]

#: Which list a slot belongs to: ``test`` (training, user acceptance) or ``production``.
ENVIRONMENTS: Final = ("test", "production")
#: ``format`` of an allocation list file.
FORMAT_NAME: Final = "cletrial-allocation-list"
#: ``version`` of the allocation list file format.
FORMAT_VERSION: Final = 1

#: Stratification factors in order, each with its levels in order.
Strata = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True, slots=True)
class Arm:
    """A treatment arm and its allocation ratio (``placebo:1``)."""

    id: str
    ratio: int


@dataclass(frozen=True, slots=True)
class Slot:
    """One allocation of the list: the ``sequence``-th of its stratum (from 1), in block
    ``block`` (from 1) of ``block_size`` slots, to ``arm``, dispensed as kit ``code``."""

    list_id: str
    environment: str
    stratum: str
    sequence: int
    block: int
    block_size: int
    arm: str
    code: str


def stratum_key(strata: Strata, values: Mapping[str, str]) -> str:
    """The key of the stratum of ``values`` (factor -> level), factors in the list's order.

    Raises
    ------
    InputError
        A factor is missing or unknown, or a level is not one of its factor's levels.
    """
    known = [name for name, _ in strata]
    for name in values:
        if name not in known:
            raise InputError(
                f"strata.{name}",
                values[name],
                f"unknown stratification factor: the list has {', '.join(known)}",
            )
    parts = []
    for name, levels in strata:
        if name not in values:
            raise InputError(f"strata.{name}", None, f"is required: one of {', '.join(levels)}")
        if values[name] not in levels:
            raise InputError(f"strata.{name}", values[name], f"must be one of {', '.join(levels)}")
        parts.append(f"{name}={values[name]}")
    return "|".join(parts)


def stratum_keys(strata: Strata) -> list[str]:
    """Every stratum's key, in order (the product of the factors' levels).

    >>> stratum_keys((("subtype", ("DLE", "SCLE")), ("site", ("01", "02"))))[:2]
    ['subtype=DLE|site=01', 'subtype=DLE|site=02']
    """
    names = [name for name, _ in strata]
    return [
        "|".join(f"{n}={level}" for n, level in zip(names, combo, strict=True))
        for combo in itertools.product(*(levels for _, levels in strata))
    ]


@dataclass(frozen=True, slots=True)
class AllocationList:
    """A stratified allocation list (see the module's description)."""

    list_id: str
    environment: str
    strata: Strata
    arms: tuple[Arm, ...]
    block_sizes: tuple[int, ...]
    per_stratum: int
    slots: tuple[Slot, ...]

    def to_document(self) -> dict[str, Any]:
        """The list as a JSON document (what :meth:`to_json` serialises)."""
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "list_id": self.list_id,
            "environment": self.environment,
            "strata": [{"factor": name, "levels": list(levels)} for name, levels in self.strata],
            "arms": [{"arm": a.id, "ratio": a.ratio} for a in self.arms],
            "block_sizes": list(self.block_sizes),
            "per_stratum": self.per_stratum,
            "slots": [
                {
                    "list_id": s.list_id,
                    "environment": s.environment,
                    "stratum": s.stratum,
                    "sequence": s.sequence,
                    "block": s.block,
                    "block_size": s.block_size,
                    "arm": s.arm,
                    "code": s.code,
                }
                for s in self.slots
            ],
        }

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, no spaces, non-ASCII as is, one final newline."""
        text = json.dumps(
            self.to_document(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return text + "\n"

    @property
    def sha256(self) -> str:
        """SHA-256 (hex) of the UTF-8 bytes of :meth:`to_json` (``sha256sum`` of the file the
        generator writes)."""
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    def key_of(self, values: Mapping[str, str]) -> str:
        """The stratum key of ``values`` (see :func:`stratum_key`)."""
        return stratum_key(self.strata, values)

    @classmethod
    def from_json(cls, text: str | bytes) -> AllocationList:
        """Read and check a list written by :meth:`to_json` (any JSON layout is accepted).

        Raises
        ------
        InputError
            Naming the field and the value: not JSON, wrong format, a slot out of sequence,
            an unbalanced block, a repeated code, ...
        """
        try:
            document = json.loads(text)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError("", None, f"the allocation list is not JSON: {exc}") from None
        if not isinstance(document, dict):
            raise InputError("", None, "the allocation list must be a JSON object")
        return _from_document(document)


def _get(
    document: Mapping[str, Any], name: str, kind: type | tuple[type, ...], where: str = ""
) -> Any:
    value = document.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        shown = kind.__name__ if isinstance(kind, type) else kind[0].__name__
        raise InputError(f"{where}{name}", value, f"is required: a {shown.replace('str', 'text')}")
    return value


def _header(document: Mapping[str, Any]) -> tuple[str, str, Strata, tuple[Arm, ...]]:
    if document.get("format") != FORMAT_NAME or document.get("version") != FORMAT_VERSION:
        raise InputError(
            "format", document.get("format"), f"must be {FORMAT_NAME} version {FORMAT_VERSION}"
        )
    list_id = check_code("list_id", _get(document, "list_id", str))
    environment = _get(document, "environment", str)
    if environment not in ENVIRONMENTS:
        raise InputError("environment", environment, "must be test or production")
    strata = tuple(_factor(i, f) for i, f in enumerate(_get(document, "strata", list)))
    arms = tuple(_arm(i, a) for i, a in enumerate(_get(document, "arms", list)))
    check_design(strata, arms, _get(document, "block_sizes", list))
    return list_id, environment, strata, arms


def _factor(index: int, raw: Any) -> tuple[str, tuple[str, ...]]:
    where = f"strata[{index}]."
    if not isinstance(raw, dict):
        raise InputError(f"strata[{index}]", raw, "must be an object with factor and levels")
    name = check_code(f"{where}factor", _get(raw, "factor", str, where))
    levels = _get(raw, "levels", list, where)
    return name, tuple(check_code(f"{where}levels", level) for level in levels)


def _arm(index: int, raw: Any) -> Arm:
    where = f"arms[{index}]."
    if not isinstance(raw, dict):
        raise InputError(f"arms[{index}]", raw, "must be an object with arm and ratio")
    return Arm(
        check_code(f"{where}arm", _get(raw, "arm", str, where)), _get(raw, "ratio", int, where)
    )


def check_design(strata: Strata, arms: tuple[Arm, ...], block_sizes: list[Any]) -> None:
    """Check factors, arms and block sizes (raises :class:`InputError` naming the field)."""
    if not strata or any(not levels for _, levels in strata):
        raise InputError(
            "strata",
            [list(lv) for _, lv in strata],
            "needs at least one factor, each with at least one level",
        )
    for field, names in (("strata", [n for n, _ in strata]), ("arms", [a.id for a in arms])):
        repeated = [n for n, c in Counter(names).items() if c > 1]
        if repeated:
            raise InputError(field, repeated[0], "is given twice")
    for name, levels in strata:
        if len(set(levels)) != len(levels) or "|" in name or "=" in name:
            raise InputError(f"strata.{name}", list(levels), "levels must be distinct")
    if len(arms) < 2 or any(a.ratio < 1 for a in arms):
        raise InputError(
            "arms",
            [f"{a.id}:{a.ratio}" for a in arms],
            "needs at least two arms, each with a ratio of 1 or more",
        )
    total = sum(a.ratio for a in arms)
    if not block_sizes:
        raise InputError("block_sizes", block_sizes, "needs at least one block size")
    for size in block_sizes:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1 or size % total:
            raise InputError(
                "block_sizes", size, f"must be a multiple of the sum of the arm ratios ({total})"
            )


def _from_document(document: Mapping[str, Any]) -> AllocationList:
    list_id, environment, strata, arms = _header(document)
    block_sizes = tuple(document["block_sizes"])
    per_stratum = _get(document, "per_stratum", int)
    raw = _get(document, "slots", list)
    slots = tuple(_slot(i, s) for i, s in enumerate(raw))
    allocation = AllocationList(list_id, environment, strata, arms, block_sizes, per_stratum, slots)
    check_slots(allocation)
    return allocation


def _slot(index: int, raw: Any) -> Slot:
    where = f"slots[{index}]."
    if not isinstance(raw, dict):
        raise InputError(f"slots[{index}]", raw, "must be an object")
    texts = {
        n: _get(raw, n, str, where) for n in ("list_id", "environment", "stratum", "arm", "code")
    }
    numbers = {n: _get(raw, n, int, where) for n in ("sequence", "block", "block_size")}
    return Slot(**texts, **numbers)


def check_slots(allocation: AllocationList) -> None:
    """Check every slot against the list's design: the list's id and environment, a known
    stratum, sequences 1, 2, ... without gaps, whole blocks of a listed size balanced by the
    arms' ratios, distinct codes, at least ``per_stratum`` slots a stratum.

    Raises
    ------
    InputError
        Naming the first slot at fault (``slots[i].field``) and its value.
    """
    keys = set(stratum_keys(allocation.strata))
    ratios = {a.id: a.ratio for a in allocation.arms}
    total = sum(ratios.values())
    codes: set[str] = set()
    by_stratum: dict[str, list[tuple[int, Slot]]] = {k: [] for k in keys}
    for i, s in enumerate(allocation.slots):
        for name, want in (
            ("list_id", allocation.list_id),
            ("environment", allocation.environment),
        ):
            if getattr(s, name) != want:
                raise InputError(f"slots[{i}].{name}", getattr(s, name), f"must be {want}")
        if s.stratum not in keys:
            raise InputError(f"slots[{i}].stratum", s.stratum, "is not a stratum of the list")
        if s.arm not in ratios:
            raise InputError(f"slots[{i}].arm", s.arm, f"must be one of {', '.join(ratios)}")
        if s.code in codes or not s.code.strip():
            raise InputError(f"slots[{i}].code", s.code, "must be a distinct, non-blank code")
        codes.add(s.code)
        by_stratum[s.stratum].append((i, s))
    for key, slots in by_stratum.items():
        _check_stratum(key, slots, allocation, ratios, total)


def _check_stratum(
    key: str,
    slots: list[tuple[int, Slot]],
    allocation: AllocationList,
    ratios: Mapping[str, int],
    total: int,
) -> None:
    expected_block, position = 1, 0
    for n, (i, s) in enumerate(slots, start=1):
        if s.sequence != n:
            raise InputError(f"slots[{i}].sequence", s.sequence, f"must be {n} (in order)")
        if s.block != expected_block or s.block_size not in allocation.block_sizes:
            raise InputError(
                f"slots[{i}].block", s.block, f"must be block {expected_block} of a listed size"
            )
        position += 1
        if position == s.block_size:
            block = [x.arm for _, x in slots[n - s.block_size : n]]
            if any(
                x.block != s.block or x.block_size != s.block_size
                for _, x in slots[n - s.block_size : n]
            ):
                raise InputError(f"slots[{i}].block_size", s.block_size, "differs in its block")
            counts = Counter(block)
            for arm, ratio in ratios.items():
                if counts[arm] * total != ratio * s.block_size:
                    raise InputError(
                        f"slots[{i}].block",
                        s.block,
                        f"is not balanced: {dict(sorted(counts.items()))}",
                    )
            expected_block, position = expected_block + 1, 0
    if position:
        raise InputError(f"slots[stratum={key}]", len(slots), "ends within a block")
    if len(slots) < allocation.per_stratum:
        raise InputError(
            f"slots[stratum={key}]",
            len(slots),
            f"must be at least per_stratum = {allocation.per_stratum} slots",
        )
