"""The one rule for each kind of value, used on every path (API, pages, import, CLI, store).

- **dates**: from :data:`DATE_MIN` (1900-01-01) to :data:`DATE_MAX` (2199-12-31). The protocol
  engine computes schedules in this range and no clinical record predates 1900; the web
  schemas, the import parser, the patient history model and the store's field rules all check
  it here, so a date the store accepts is a date every page can show.
- **text**: no NUL and no other C0 control character except tab, newline and carriage return
  (PostgreSQL cannot store NUL in text; the others are never typed and break exports).
- **codes** (study, site and patient study codes): 1-40 letters, digits, ``.``, ``_``, ``-``.
- **countries** (a site's country): an ISO 3166-1 alpha-3 code (``ESP``), as SDTM DM.COUNTRY
  takes it, from the ISO list pycountry keeps.

Each check raises :class:`~cletrial.errors.InputError` (or the class given) naming the field,
the value and what is allowed; the ``problem_*`` functions return the problem (or ``None``) for
callers that build their own errors (Pydantic validators, file parsers).

>>> check_date("visits.visit_date", dt.date(9999, 12, 31))
Traceback (most recent call last):
...
cletrial.errors.InputError: visits.visit_date = "9999-12-31": must be from 1900-01-01 to 2199-12-31
>>> check_text("doses.note", "ok\\tfine") == "ok\\tfine"
True
>>> problem_text("a\\x00b")
'must not contain control characters (found U+0000); remove it'
>>> problem_code("P 01")
'must be 1-40 letters, digits, ".", "_" or "-"'
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Final

from cletrial.errors import InputError

__all__ = [
    "CODE_MAX_LENGTH",
    "CODE_PATTERN",
    "DATE_MAX",
    "DATE_MIN",
    "TEXT_PATTERN",
    "check_code",
    "check_country",
    "check_date",
    "check_text",
    "problem_code",
    "problem_country",
    "problem_date",
    "problem_text",
    "read_typed_decimal",
    "read_typed_int",
]

#: The earliest date any record, history or request may hold.
DATE_MIN: Final = dt.date(1900, 1, 1)
#: The latest date any record, history or request may hold.
DATE_MAX: Final = dt.date(2199, 12, 31)
#: Study, site and patient codes (also the web schemas' ``pattern``).
CODE_PATTERN: Final = r"^[A-Za-z0-9._-]+$"
CODE_MAX_LENGTH: Final = 40

#: A whole text without a forbidden control character (for schema ``pattern`` constraints).
TEXT_PATTERN: Final = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$"

_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CODE: Final = re.compile(CODE_PATTERN)


def problem_date(value: dt.date) -> str | None:
    """What is wrong with ``value`` as a date, or ``None`` when it is in range.

    >>> problem_date(dt.date(2009, 2, 2)) is None, problem_date(dt.date(1, 1, 1))
    (True, 'must be from 1900-01-01 to 2199-12-31')
    """
    if DATE_MIN <= value <= DATE_MAX:
        return None
    return f"must be from {DATE_MIN.isoformat()} to {DATE_MAX.isoformat()}"


def check_date(field: str, value: dt.date, error: type[InputError] = InputError) -> dt.date:
    """Return ``value`` when it lies from :data:`DATE_MIN` to :data:`DATE_MAX`.

    Parameters
    ----------
    field : str
        Field path named in the error.
    value : datetime.date
        The date.
    error : type of InputError
        The error class raised (e.g. :class:`~cletrial.errors.HistoryError`).

    Raises
    ------
    InputError
        Naming ``field`` and the date.

    >>> check_date("on", dt.date(2199, 12, 31))
    datetime.date(2199, 12, 31)
    """
    problem = problem_date(value)
    if problem is not None:
        raise error(field, value.isoformat(), problem)
    return value


_WHOLE: Final = re.compile(r"[+-]?[0-9]{1,15}")
_DECIMAL: Final = re.compile(r"[+-]?(?:[0-9]{1,15}(?:[.,][0-9]{0,15})?|[.,][0-9]{1,15})")


def read_typed_int(text: str) -> int:
    """A whole number as a person types it: ASCII digits with an optional sign (at most 15).

    Python's ``int`` also reads other scripts' digits (``"٣"``), ``"1_0"`` and surrounding
    spaces; a form must not. Raises ``ValueError`` for anything else.

    >>> read_typed_int("-12")
    -12
    >>> read_typed_int("1_0")
    Traceback (most recent call last):
    ...
    ValueError: not a whole number: '1_0'
    """
    if not _WHOLE.fullmatch(text):
        raise ValueError(f"not a whole number: {text!r}")
    return int(text)


def read_typed_decimal(text: str) -> float:
    """A decimal number as a person types it: ASCII digits, one ``.`` or ``,`` as the decimal
    mark, an optional sign; never ``nan``, ``inf``, exponents, ``_`` or other scripts' digits.
    Raises ``ValueError`` for anything else.

    >>> read_typed_decimal("1,5"), read_typed_decimal("-.5")
    (1.5, -0.5)
    >>> read_typed_decimal("nan")
    Traceback (most recent call last):
    ...
    ValueError: not a decimal number: 'nan'
    """
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"not a decimal number: {text!r}")
    return float(text.replace(",", "."))


def problem_text(value: str) -> str | None:
    """What is wrong with ``value`` as text, or ``None`` (tab, newline and CR are allowed).

    >>> problem_text("line one\\r\\nline two") is None
    True
    >>> problem_text("bell\\x07")
    'must not contain control characters (found U+0007); remove it'
    """
    found = _CONTROL.search(value)
    if found is None:
        return None
    return f"must not contain control characters (found U+{ord(found.group()):04X}); remove it"


def check_text(field: str, value: str, error: type[InputError] = InputError) -> str:
    """Return ``value`` when it holds no control character but tab, newline and CR.

    Raises
    ------
    InputError
        Naming ``field``; the value is shown with the character escaped.

    >>> check_text("visits.notes", "a\\x00")
    Traceback (most recent call last):
    ...
    cletrial.errors.InputError: visits.notes = "a\\u0000": must not contain control characters ...
    """
    problem = problem_text(value)
    if problem is not None:
        raise error(field, value, problem)
    return value


def problem_code(value: str) -> str | None:
    """What is wrong with ``value`` as a study, site or patient code, or ``None``.

    >>> problem_code("LEN-CLE_2.0") is None, problem_code("x" * 41) is None
    (True, False)
    """
    if len(value) <= CODE_MAX_LENGTH and _CODE.match(value):
        return None
    return f'must be 1-{CODE_MAX_LENGTH} letters, digits, ".", "_" or "-"'


def check_code(field: str, value: Any, error: type[InputError] = InputError) -> str:
    """Return ``value`` when it is a valid code (see :func:`problem_code`).

    Raises
    ------
    InputError
        Naming ``field`` and the value.

    >>> check_code("sites.code", "BCN 1")
    Traceback (most recent call last):
    ...
    cletrial.errors.InputError: sites.code = "BCN 1": must be 1-40 letters, digits, ".", "_" or "-"
    """
    problem = problem_code(value) if isinstance(value, str) else "must be text"
    if problem is not None:
        raise error(field, value, problem)
    return str(value)


def problem_country(value: str) -> str | None:
    """What is wrong with ``value`` as an ISO 3166-1 alpha-3 country code, or ``None``.

    >>> problem_country("ESP") is None, problem_country("esp") == problem_country("ES") != None
    (True, True)
    """
    import pycountry

    if len(value) == 3 and value.isupper() and pycountry.countries.get(alpha_3=value) is not None:
        return None
    return "must be an ISO 3166-1 alpha-3 country code in capitals, e.g. ESP for Spain"


def check_country(field: str, value: Any, error: type[InputError] = InputError) -> str:
    """Return ``value`` when it is an ISO 3166-1 alpha-3 code (see :func:`problem_country`).

    Raises
    ------
    InputError
        Naming ``field`` and the value.

    >>> check_country("sites.country", "XXX")
    Traceback (most recent call last):
    ...
    cletrial.errors.InputError: sites.country = "XXX": must be an ISO 3166-1 alpha-3 country ...
    """
    if not isinstance(value, str):
        raise error(field, value, "must be text")
    problem = problem_country(value)
    if problem is not None:
        raise error(field, value, problem)
    return value
