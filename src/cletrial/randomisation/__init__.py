"""Randomisation: stratified permuted-block allocation lists, made reproducibly from a seed.

Pure: no database, web or command line here. The study database imports a list sealed and
allocates its slots (:mod:`cletrial.store.randomisation`); ``cletrial randomisation`` is the
command line; ``docs/randomisation.md`` describes the whole.

>>> allocation = generate_allocation_list({"site": ["01", "02"]}, {"A": 1, "B": 1},
...     block_sizes=[2, 4], per_stratum=4, seed=7, environment="test")
>>> AllocationList.from_json(allocation.to_json()).sha256 == allocation.sha256
True
"""

from __future__ import annotations

from cletrial.randomisation.generate import (
    CODE_ALPHABET,
    generate_allocation_list,
    parse_arms,
    parse_block_sizes,
    parse_strata,
)
from cletrial.randomisation.model import (
    ENVIRONMENTS,
    AllocationList,
    Arm,
    Slot,
    stratum_key,
    stratum_keys,
)

__all__ = [
    "CODE_ALPHABET",
    "ENVIRONMENTS",
    "AllocationList",
    "Arm",
    "Slot",
    "generate_allocation_list",
    "parse_arms",
    "parse_block_sizes",
    "parse_strata",
    "stratum_key",
    "stratum_keys",
]
