"""The observation records of a SAS transport (XPORT version 5) file, encoded with NumPy.

pyreadstat hands every value to readstat through Python, about half a microsecond a value;
:func:`observation_chunks` encodes a chunk of rows at once, into the bytes readstat writes
(:mod:`cletrial.standards.xpt` writes the headers with pyreadstat and checks the first row it
wrote against this encoding):

- a number: an IBM System/370 double, 8 bytes big-endian, converted as readstat's
  ``ieee2xpt`` (SAS technical note TS-140) converts it: exactly for IEEE normal numbers;
  zero, ``-0.0``, subnormal numbers and magnitudes below 16**-65 as zero; magnitudes of
  16**63 and more, and infinities, as the largest IBM number of that sign. Missing (``NaN``)
  is ``.`` followed by seven zero bytes.
- a text: its UTF-8 bytes up to the first NUL (as a C string ends there), padded with blanks
  to the variable's width; missing is all blanks.

Rows follow one another with no separator; the writer pads the last 80-byte record with blanks.

>>> ibm_doubles(np.array([1.0, -118.625, 0.0, np.nan])).tobytes().hex(" ", 8)
'4110000000000000 c276a00000000000 0000000000000000 2e00000000000000'
>>> text_cells(np.array(["F", None, "é"], dtype=object), 3).tobytes()
b'F     \\xc3\\xa9 '
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from cletrial.errors import StandardsError
from cletrial.standards.metadata import Dataset, Variable

__all__ = ["Layout", "ibm_doubles", "observation_chunks", "text_cells"]

#: Bytes of the rows encoded at once (a chunk holds at least one row).
CHUNK_BYTES: Final = 8 << 20
#: Day 0 of SAS dates (1960-01-01) as a proleptic Gregorian ordinal.
SAS_EPOCH: Final = dt.date(1960, 1, 1).toordinal()

_FRACTION: Final = (1 << 52) - 1
_HIDDEN_BIT: Final = 1 << 52
#: Bits of an IBM double below its first byte (sign and exponent): the 56-bit fraction.
_FIRST_BYTE: Final = 7 * 8
_MISSING: Final = 0x2E << _FIRST_BYTE  # "." then seven zero bytes
_LARGEST: Final = (1 << 63) - 1  # exponent 0x7F, fraction all ones; the sign is or-ed in
_BLANK: Final = 0x20


@dataclass(frozen=True)
class Layout:
    """Where a variable's values lie in an observation: byte ``offset`` and ``width``."""

    variable: Variable
    offset: int
    width: int


def ibm_doubles(values: np.ndarray) -> np.ndarray:
    """``values`` (float64) as IBM doubles: an ``(n, 8)`` array of bytes, ``NaN`` missing.

    >>> ibm_doubles(np.array([0.1, -np.inf, 5e-324])).tobytes().hex(" ", 8)
    '401999999999999a ffffffffffffffff 0000000000000000'
    """
    numbers = np.ascontiguousarray(values, dtype=np.float64)
    bits = numbers.view(np.uint64)
    sign = bits & np.uint64(1 << 63)
    exponent = ((bits >> np.uint64(52)) & np.uint64(0x7FF)).astype(np.int64) - 1023
    fraction = (bits & np.uint64(_FRACTION)) | np.uint64(_HIDDEN_BIT)
    # A power of 16 from a power of 2: the exponent's two low bits shift the fraction left.
    shift = (exponent & 3).astype(np.uint64)
    hex_exponent = np.clip((exponent >> 2) + 65, 0, 127).astype(np.uint64)
    words = sign | (hex_exponent << np.uint64(_FIRST_BYTE)) | (fraction << shift)
    words = np.where(exponent < -260, np.uint64(0), words)
    words = np.where(exponent > 248, sign | np.uint64(_LARGEST), words)
    words = np.where(np.isnan(numbers), np.uint64(_MISSING), words)
    return words.astype(">u8").view(np.uint8).reshape(-1, 8)


def text_cells(values: np.ndarray, width: int) -> np.ndarray:
    """Texts (``str``, missing ``None``/``NaN``) as an ``(n, width)`` array of bytes.

    Raises
    ------
    cletrial.errors.StandardsError
        A text longer than ``width`` bytes (the dataset was not checked).
    """
    codes, uniques = pd.factorize(values)
    encoded = [str(text).encode("utf-8").partition(b"\0")[0] for text in uniques.tolist()]
    too_long = [text for text in encoded if len(text) > width]
    if too_long:
        raise StandardsError(
            f"text {too_long[0].decode('utf-8', 'replace')!r} has {len(too_long[0])} bytes, "
            f"over its variable's width of {width}; check the dataset before writing it"
        )
    table = np.full((len(encoded) + 1, width), _BLANK, dtype=np.uint8)  # the last: missing
    if encoded:
        padded = np.array(encoded, dtype=f"S{width}").view(np.uint8).reshape(-1, width)
        table[:-1] = np.where(padded == 0, _BLANK, padded)  # numpy pads with NUL
    cells: np.ndarray = table[codes]
    return cells


def sas_days(values: np.ndarray) -> np.ndarray:
    """Dates (``datetime.date`` or ``datetime``, missing ``None``) as float days since
    1960-01-01, missing ``NaN``.

    >>> sas_days(np.array([dt.date(1960, 1, 2), None], dtype=object)).tolist()
    [1.0, nan]
    """
    codes, uniques = pd.factorize(values)
    days = [
        (day.date() if isinstance(day, dt.datetime) else day).toordinal() - SAS_EPOCH
        for day in uniques.tolist()
    ]
    numbers: np.ndarray = np.array([*days, np.nan], dtype=np.float64)[codes]
    return numbers


def _cells(layout: Layout, values: np.ndarray) -> np.ndarray:
    kind = layout.variable.type
    if kind in ("text", "iso8601"):
        return text_cells(values, layout.width)
    if kind == "sas_date":
        return ibm_doubles(sas_days(values))
    return ibm_doubles(pd.to_numeric(values, errors="raise").astype(np.float64))


def observation_chunks(dataset: Dataset, layout: Sequence[Layout]) -> Iterator[np.ndarray]:
    """The observations of ``dataset``, a chunk of rows at a time, as ``(rows, row length)``
    arrays of bytes (C-contiguous, ready to write)."""
    row_length = sum(place.width for place in layout)
    columns = [dataset.frame[place.variable.name].to_numpy() for place in layout]
    step = max(1, CHUNK_BYTES // max(row_length, 1))
    for start in range(0, len(dataset.frame), step):
        stop = min(start + step, len(dataset.frame))
        chunk = np.empty((stop - start, row_length), dtype=np.uint8)
        for place, column in zip(layout, columns, strict=True):
            chunk[:, place.offset : place.offset + place.width] = _cells(place, column[start:stop])
        yield chunk
