"""Column helpers of the dataset builders: a function computed once per distinct value, the
order of sort keys, numbering within groups and study days, on whole columns at once.

A study's columns hold few distinct values (tests, units, dates, results), so a builder that
maps each value with the same function the single-record code calls (:func:`map_distinct`)
gives the same values as that code, at the cost of one call per distinct value.

>>> map_distinct(lambda t, u: f"{t} in {u}", ["hb", "hb", "plt"], ["g/dL", "g/dL", "/mm3"])
['hb in g/dL', 'hb in g/dL', 'plt in /mm3']
>>> sort_order([0, 0, 1], ["2009-03-02", "2009-01-05", "2009-01-01"]).tolist()
[1, 0, 2]
>>> seq_within([0, 0, 1, 1, 1]).tolist()
[1, 2, 1, 2, 3]
>>> day_numbers([735000, 735010, None], [735005, None, 735005]).tolist()
[-5.0, nan, nan]
>>> study_days(np.array([-5.0, 0.0, 3.0, np.nan])).tolist()
[-5.0, 1.0, 4.0, nan]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Column", "codes", "day_numbers", "flags", "map_columns", "map_distinct", "map_values",
           "objects", "seq_within", "sort_order", "study_days", "transpose"]  # fmt: skip

_UNSEEN = object()
#: A column: a sequence of values or a 1-d array.
Column = Sequence[Any] | np.ndarray


def map_distinct(func: Callable[..., Any], *columns: Iterable[Any]) -> list[Any]:
    """``[func(*row) for row in zip(*columns)]``, calling ``func`` once per distinct row.

    Rows are told apart as dict keys are (``1`` and ``1.0`` are one row), so ``func`` must give
    the same answer for equal arguments.
    """
    memo: dict[Any, Any] = {}
    out: list[Any] = []
    append, get = out.append, memo.get
    for key in zip(*columns, strict=True):
        value = get(key, _UNSEEN)
        if value is _UNSEEN:
            value = memo[key] = func(*key)
        append(value)
    return out


def objects(values: Iterable[Any]) -> np.ndarray:
    """A 1-d object array of ``values`` (tuples stay elements, not rows).

    >>> objects([("a", 1), None]).shape
    (2,)
    """
    items = list(values)
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


def map_columns(func: Callable[..., Any], *columns: Column,
                width: int | None = None) -> Any:  # fmt: skip
    """As :func:`map_distinct`, as an object array; with ``width``, ``func`` gives a tuple of
    ``width`` values and the answer is one object array each.

    >>> [a.tolist() for a in map_columns(lambda x: (x, -x), [1, 2, 1], width=2)]
    [[1, 2, 1], [-1, -2, -1]]
    """
    memo: dict[Any, int] = {}
    codes = np.fromiter((memo.setdefault(key, len(memo)) for key in zip(*columns, strict=True)),
                        dtype=np.int64, count=len(columns[0]))  # fmt: skip
    results = [func(*key) for key in memo]
    if width is None:
        return objects(results)[codes]
    return [objects([r[j] for r in results])[codes] for j in range(width)]


def map_values(func: Callable[[Any], Any], column: Column, missing: Any) -> np.ndarray:
    """``func`` of each value of one column (called once per distinct value), ``missing`` for
    a missing one (``None``, NaN), as an object array.

    >>> map_values(len, ["ab", None, "abc", "ab"], missing=0).tolist()
    [2, 0, 3, 2]
    """
    found, uniques = pd.factorize(objects(column) if isinstance(column, list) else column)
    answers = objects([*(func(u) for u in uniques.tolist()), missing])
    taken: np.ndarray = answers[found]  # code -1 (missing) takes the last answer
    return taken


def flags(mask: np.ndarray) -> np.ndarray:
    """``Y`` where ``mask`` is true, else ``None`` (an object array).

    >>> flags(np.array([True, False])).tolist()
    ['Y', None]
    """
    out = objects([None] * len(mask))
    out[mask] = "Y"
    return out


def transpose(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """The ``width`` columns of ``rows`` (each a sequence of ``width`` values) as lists.

    >>> transpose([(1, "a"), (2, "b")], 2), transpose([], 2)
    ([[1, 2], ['a', 'b']], [[], []])
    """
    return [[row[j] for row in rows] for j in range(width)]  # no object a row: less GC


def codes(values: Column) -> np.ndarray:
    """Integer codes of ``values`` in their sorted order (equal values, equal codes)."""
    found: np.ndarray
    found, _uniques = pd.factorize(np.asarray(values, dtype=object), sort=True)
    return found


def sort_order(*keys: Column) -> np.ndarray:
    """The stable sort of rows by ``keys`` (the first the most significant), as positions.

    Numeric keys sort as numbers; any other key sorts by its values' own order.
    """
    prepared = []
    for key in keys:
        array = np.asarray(key)
        prepared.append(array if array.dtype.kind in "biuf" else codes(key))
    order: np.ndarray = np.lexsort(prepared[::-1]) if prepared else np.arange(0)
    return order


def seq_within(groups: Column) -> np.ndarray:
    """1, 2, ... within each run of equal consecutive ``groups`` (integer codes)."""
    array = np.asarray(groups)
    if len(array) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, array[1:] != array[:-1]])
    lengths = np.diff(np.r_[starts, len(array)])
    seq: np.ndarray = np.arange(len(array)) - np.repeat(starts, lengths) + 1
    return seq


def day_numbers(ordinals: Column, origins: Column) -> np.ndarray:
    """``ordinal - origin`` (days, as floats), NaN where either is missing."""
    a = np.asarray(ordinals, dtype="float64")
    b = np.asarray(origins, dtype="float64")
    days: np.ndarray = a - b
    return days


def study_days(days: np.ndarray) -> np.ndarray:
    """Study days of day differences from the reference start: day 1 is the reference, no day
    0 (NaN stays NaN)."""
    shifted: np.ndarray = np.where(days >= 0, days + 1, days)
    return shifted
