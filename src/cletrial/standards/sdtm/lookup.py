"""Where each history record went in SDTM: ``(USUBJID, array, index) -> (domain, --SEQ)``.

A study has millions of such records and a few thousand distinct answers, so the mapping keeps,
for each subject and history array, one list of answers by index (an answer object shared by
equal answers), not a key tuple and an answer tuple a record.

>>> from cletrial.standards.sdtm.common import Provenance
>>> lookup = RecordLookup([Provenance("LB", "S-1", 2, "labs", 0),
...                        Provenance("LB", "S-1", 1, "labs", 1),
...                        Provenance("DM", "S-1", 1, None, None)])
>>> lookup[("S-1", "labs", 1)], lookup.get(("S-1", "labs", 5)), len(lookup)
(('LB', 1), None, 2)
>>> sorted(lookup)
[('S-1', 'labs', 0), ('S-1', 'labs', 1)]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from cletrial.standards.sdtm.common import Provenance

__all__ = ["Key", "RecordLookup"]

#: ``(USUBJID, history array, 0-based index)``.
Key = tuple[str, str | None, int | None]
Answer = tuple[str, int]


class RecordLookup(Mapping[Key, Answer]):
    """``(USUBJID, array, index) -> (domain, --SEQ)`` of every record of ``provenance`` that
    came from a history array (a later record of the same key replaces an earlier one)."""

    def __init__(self, provenance: Iterable[Provenance]) -> None:
        self._slots: dict[tuple[str, str], list[Answer | None]] = {}
        self._other: dict[Key, Answer] = {}  # an index that is not a position (not expected)
        self._size = 0
        answers: dict[Answer, Answer] = {}
        for p in provenance:
            if p.array is None or p.index is None:
                continue
            if type(p.index) is not int or p.index < 0:
                self._size += (p.usubjid, p.array, p.index) not in self._other
                self._other[(p.usubjid, p.array, p.index)] = (p.domain, p.seq)
                continue
            slots = self._slots.setdefault((p.usubjid, p.array), [])
            if p.index >= len(slots):
                slots.extend([None] * (p.index + 1 - len(slots)))
            self._size += slots[p.index] is None
            slots[p.index] = answers.setdefault(a := (p.domain, p.seq), a)

    def get(self, key: Key, default: Any = None) -> Any:
        """The answer of ``key``, else ``default``."""
        usubjid, array, index = key
        slots = self._slots.get((usubjid, array))  # type: ignore[arg-type]
        if type(index) is not int or index < 0:
            return self._other.get(key, default) if self._other else default
        if slots is None or index >= len(slots):
            return default
        found = slots[index]
        return default if found is None else found

    def __getitem__(self, key: Key) -> Answer:
        found: Answer | None = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return isinstance(key, tuple) and len(key) == 3 and self.get(key) is not None

    def __iter__(self) -> Iterator[Key]:
        for (usubjid, array), slots in self._slots.items():
            for index, found in enumerate(slots):
                if found is not None:
                    yield usubjid, array, index
        yield from self._other

    def __len__(self) -> int:
        return self._size
