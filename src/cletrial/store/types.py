"""Column types and value rules shared by the tables: UTC timestamps, dates, partial dates.

Timestamps are stored in UTC and always come back time-zone aware (UTC) on both engines; dates
are plain calendar dates (never converted through a time zone, so they cannot shift by a day).
Partial dates (``2005``, ``2005-03`` or ``2005-03-14``) are kept as text where clinical data has
them, such as the year of diagnosis.

>>> compute_partial_date("2005-03")
'2005-03'
>>> utc_now().tzinfo is UTC
True
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Final

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator

from cletrial.errors import InputError
from cletrial.values import DATE_MAX, DATE_MIN

__all__ = ["UTC", "UTCDateTime", "compute_partial_date", "utc_now"]

UTC: Final = dt.UTC

_PARTIAL: Final = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def utc_now() -> dt.datetime:
    """Return the current time in UTC, aware, at microsecond precision.

    >>> utc_now().utcoffset()
    datetime.timedelta(0)
    """
    return dt.datetime.now(UTC)


def compute_partial_date(value: str, field: str = "date") -> str:
    """Validate a partial date and return it unchanged: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``.

    Parameters
    ----------
    value : str
        The date as text; the year must be in the range of :mod:`cletrial.values`.
    field : str
        Field path used in the error message.

    Raises
    ------
    InputError
        Naming ``field`` and the value when it is not a real (partial) date.

    >>> compute_partial_date("2005")
    '2005'
    >>> compute_partial_date("2005-13")
    Traceback (most recent call last):
    ...
    cletrial.errors.InputError: date = "2005-13": must be a date YYYY, YYYY-MM or YYYY-MM-DD
    """
    problem = "must be a date YYYY, YYYY-MM or YYYY-MM-DD"
    match = _PARTIAL.match(value) if isinstance(value, str) else None
    if match is None:
        raise InputError(field, value, problem)
    year, month, day = match.groups()
    try:
        dt.date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise InputError(field, value, problem) from None
    if not DATE_MIN.year <= int(year) <= DATE_MAX.year:
        raise InputError(field, value, f"must be a year from {DATE_MIN.year} to {DATE_MAX.year}")
    return value


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC; values must be aware and come back aware in UTC.

    PostgreSQL stores ``timestamp with time zone``; SQLite stores the UTC wall time as text.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        """Refuse naive datetimes; convert aware ones to UTC."""
        if value is None:
            return None
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise InputError("timestamp", str(value), "must be a time-zone aware datetime")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
