"""Group-wise numpy helpers for the vectorised derivations.

Every long array is sorted by patient (``pidx``) then day then ``seq``; these helpers find, per
patient, the first or last row meeting a condition, or for each row the matching row of another
long table, with binary search over a combined (patient, day) key. Index -1 means "none".

>>> import numpy as np
>>> pidx = np.array([0, 0, 1, 1, 1])
>>> first_per_group(pidx, np.array([False, True, True, False, True]), 3).tolist()
[1, 2, -1]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from cletrial.endpoints.table import VisitTable

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Days are shifted by this before being packed with the patient index into one int64 key.
_DAY_OFFSET = 1 << 23
_DAY_SPAN = 1 << 24


def make_keys(pidx: IntArray, day: IntArray) -> IntArray:
    """Pack (patient, day) into one sortable int64 key (days within +/-8 million).

    >>> make_keys(np.array([0, 1]), np.array([5, -5])).tolist()
    [8388613, 25165819]
    """
    return pidx.astype(np.int64) * _DAY_SPAN + (day.astype(np.int64) + _DAY_OFFSET)


def first_per_group(pidx: IntArray, mask: BoolArray, n: int) -> IntArray:
    """Row index of each patient's first row where ``mask`` holds (-1 if none).

    >>> first_per_group(np.array([0, 0]), np.array([False, False]), 1).tolist()
    [-1]
    """
    out = np.full(n, -1, dtype=np.int64)
    rows = np.flatnonzero(mask)
    if rows.size:
        p = pidx[rows]
        keep = np.empty(rows.size, dtype=bool)
        keep[0] = True
        np.not_equal(p[1:], p[:-1], out=keep[1:])
        out[p[keep]] = rows[keep]
    return out


def last_per_group(pidx: IntArray, mask: BoolArray, n: int) -> IntArray:
    """Row index of each patient's last row where ``mask`` holds (-1 if none).

    >>> last_per_group(np.array([0, 0, 1]), np.array([True, True, False]), 2).tolist()
    [1, -1]
    """
    out = np.full(n, -1, dtype=np.int64)
    rows = np.flatnonzero(mask)
    if rows.size:
        p = pidx[rows]
        keep = np.empty(rows.size, dtype=bool)
        keep[-1] = True
        np.not_equal(p[1:], p[:-1], out=keep[:-1])
        out[p[keep]] = rows[keep]
    return out


def last_before(
    src_keys: IntArray, src_pidx: IntArray, q_keys: IntArray, q_pidx: IntArray, *, strict: bool
) -> IntArray:
    """Row of ``src`` with the same patient and the latest day before (or at) each query day.

    >>> k = make_keys(np.array([0, 0]), np.array([0, 28]))
    >>> last_before(k, np.array([0, 0]), make_keys(np.array([0]), np.array([28])),
    ...             np.array([0]), strict=True).tolist()
    [0]
    """
    pos = np.searchsorted(src_keys, q_keys, side="left" if strict else "right") - 1
    ok = pos >= 0
    ok[ok] = src_pidx[pos[ok]] == q_pidx[ok]
    return np.where(ok, pos, -1)


def first_from(
    src_keys: IntArray, src_pidx: IntArray, q_keys: IntArray, q_pidx: IntArray
) -> IntArray:
    """Row of ``src`` with the same patient and the earliest day at or after each query day.

    >>> k = make_keys(np.array([0, 1]), np.array([3, 0]))
    >>> first_from(k, np.array([0, 1]), make_keys(np.array([0]), np.array([4])),
    ...            np.array([0])).tolist()
    [-1]
    """
    pos = np.searchsorted(src_keys, q_keys, side="left")
    ok = pos < src_keys.size
    ok[ok] = src_pidx[pos[ok]] == q_pidx[ok]
    return np.where(ok, pos, -1)


def take(values: npt.NDArray[np.generic], idx: IntArray, fill: float = np.nan) -> FloatArray:
    """``values[idx]`` as float, ``fill`` where ``idx`` is -1.

    >>> take(np.array([7, 8]), np.array([1, -1])).tolist()
    [8.0, nan]
    """
    out = np.full(idx.shape, fill, dtype=np.float64)
    ok = idx >= 0
    out[ok] = values[idx[ok]]
    return out


def closest_per_group(
    keys: IntArray,
    day: IntArray,
    target: int,
    window: int,
    n: int,
    valid: BoolArray | None = None,
) -> IntArray:
    """Each patient's row closest to ``target`` within +/-``window`` days (ties: the earlier).

    ``keys`` are the rows' (patient, day) keys (:func:`make_keys`), sorted; only the rows inside
    each patient's window are looked at, and of those only the ``valid`` ones (default all).

    >>> k = make_keys(np.array([0, 0, 0]), np.array([28, 80, 88]))
    >>> closest_per_group(k, np.array([28, 80, 88]), 84, 7, 1).tolist()
    [1]
    >>> closest_per_group(k, np.array([28, 80, 88]), 84, 7, 1,
    ...                   valid=np.array([True, False, True])).tolist()
    [2]
    """
    patients = np.arange(n, dtype=np.int64)
    lo = np.searchsorted(keys, make_keys(patients, np.full(n, target - window)), side="left")
    hi = np.searchsorted(keys, make_keys(patients, np.full(n, target + window)), side="right")
    counts = hi - lo
    out = np.full(n, -1, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return out
    owner = np.repeat(patients, counts)
    rows = np.repeat(lo, counts) + (
        np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    )
    if valid is not None:
        ok = valid[rows]
        owner, rows = owner[ok], rows[ok]
        total = rows.size
        if total == 0:
            return out
    d = day[rows]
    score = np.abs(d - target) * 2 + (d > target)
    order = np.lexsort((rows, score, owner))
    chosen, p = rows[order], owner[order]
    keep = np.empty(total, dtype=bool)
    keep[0] = True
    np.not_equal(p[1:], p[:-1], out=keep[1:])
    out[p[keep]] = chosen[keep]
    return out


@dataclass(frozen=True)
class Cohort:
    """Numpy views of a :class:`VisitTable` plus the keys the derivations share."""

    n: int
    v_pidx: IntArray
    v_day: IntArray
    v_seq: IntArray
    v_a: FloatArray
    v_d: FloatArray
    v_s: FloatArray
    v_keys: IntArray
    d_pidx: IntArray
    d_day: IntArray
    d_seq: IntArray
    d_rank: IntArray
    d_keys: IntArray
    treated: BoolArray
    a_base: FloatArray
    d_base: FloatArray
    s_base: FloatArray

    @classmethod
    def from_table(cls, table: VisitTable) -> Cohort:
        """Extract the arrays (views where the dtype already fits)."""
        v, d, p = table.visits, table.doses, table.patients

        def ints(frame: object, name: str) -> IntArray:
            return np.asarray(frame[name], dtype=np.int64)  # type: ignore[index]

        def floats(frame: object, name: str) -> FloatArray:
            return np.asarray(frame[name], dtype=np.float64)  # type: ignore[index]

        v_pidx, v_day = ints(v, "pidx"), ints(v, "day")
        d_pidx, d_day = ints(d, "pidx"), ints(d, "day")
        return cls(
            n=len(p),
            v_pidx=v_pidx,
            v_day=v_day,
            v_seq=ints(v, "seq"),
            v_a=floats(v, "clasi_a"),
            v_d=floats(v, "clasi_d"),
            v_s=floats(v, "sledai"),
            v_keys=make_keys(v_pidx, v_day),
            d_pidx=d_pidx,
            d_day=d_day,
            d_seq=ints(d, "seq"),
            d_rank=ints(d, "rank"),
            d_keys=make_keys(d_pidx, d_day),
            treated=np.asarray(p["treated"], dtype=bool),
            a_base=floats(p, "clasi_a_base"),
            d_base=floats(p, "clasi_d_base"),
            s_base=floats(p, "sledai_base"),
        )


def take_obj(values: npt.NDArray[Any], idx: IntArray) -> npt.NDArray[np.object_]:
    """``values[idx]`` as an object array, None where ``idx`` is -1.

    >>> take_obj(np.array(["a", "b"], dtype=object), np.array([-1, 1])).tolist()
    [None, 'b']
    """
    out = np.full(idx.shape, None, dtype=object)
    ok = idx >= 0
    out[ok] = values[idx[ok]]
    return out


def pick(cond: BoolArray, yes: Any, no: Any) -> npt.NDArray[np.object_]:
    """``np.where`` for object values (text or None).

    >>> pick(np.array([True, False]), "x", None).tolist()
    ['x', None]
    """
    return np.where(cond, np.asarray(yes, dtype=object), np.asarray(no, dtype=object))


@dataclass(frozen=True)
class Rows:
    """The visit rows where a condition holds, compressed (still sorted by patient, day, seq).

    ``row`` maps back to the full visit table; ``prev_same`` says whether the previous
    compressed row belongs to the same patient.
    """

    row: IntArray
    pidx: IntArray
    day: IntArray
    seq: IntArray
    keys: IntArray
    prev_same: BoolArray

    @classmethod
    def where(cls, c: Cohort, mask: BoolArray) -> Rows:
        """Compress the visit rows of ``c`` where ``mask`` holds.

        >>> from cletrial.endpoints.table import build_visit_table
        >>> c = Cohort.from_table(build_visit_table([]))
        >>> Rows.where(c, np.zeros(0, dtype=bool)).row.size
        0
        """
        row = np.flatnonzero(mask)
        pidx = c.v_pidx[row]
        prev_same = np.zeros(row.size, dtype=bool)
        np.equal(pidx[1:], pidx[:-1], out=prev_same[1:])
        return cls(row, pidx, c.v_day[row], c.v_seq[row], c.v_keys[row], prev_same)

    def bounds(self, n: int) -> tuple[IntArray, IntArray]:
        """Per patient: index of the first and of the last row (-1 if none).

        >>> from cletrial.endpoints.table import build_visit_table
        >>> c = Cohort.from_table(build_visit_table([]))
        >>> Rows.where(c, np.zeros(0, dtype=bool)).bounds(0)[0].size
        0
        """
        patients = np.arange(n)
        start = np.searchsorted(self.pidx, patients, side="left")
        end = np.searchsorted(self.pidx, patients, side="right")
        some = end > start
        return np.where(some, start, -1), np.where(some, end - 1, -1)

    def previous(self, values: npt.NDArray[Any], fill: float = np.nan) -> FloatArray:
        """The previous row's value within the same patient (``fill`` for a patient's first).

        >>> from cletrial.endpoints.table import build_visit_table
        >>> c = Cohort.from_table(build_visit_table([]))
        >>> Rows.where(c, np.zeros(0, dtype=bool)).previous(np.zeros(0)).size
        0
        """
        out = np.full(values.shape, fill, dtype=np.float64)
        out[1:] = values[:-1]
        out[~self.prev_same] = fill
        return out
