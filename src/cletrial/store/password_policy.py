"""Which passwords the study accepts (NIST SP 800-63B style: length and a blocklist, no
composition rules).

A password must

* have at least :data:`MIN_PASSWORD_LENGTH` characters and at most
  :data:`MAX_PASSWORD_LENGTH` (spaces count; any character is allowed);
* not be made of white space only, nor of one or two characters repeated, nor be a run of
  consecutive characters (``abcdefgh``, ``98765432``);
* not be a common password: the 30,000 most common passwords of leaked password lists and
  30,000 common English words shipped by the ``zxcvbn`` package, compared case-insensitively
  and also with leading and trailing digits and punctuation removed (``Password123!``);
* not be or contain the user name (names of 4 characters or more), nor be the user's display
  name, or "cletrial".

The password is never shown in an error, and never logged.

>>> check_password("correct horse battery", username="ana")
>>> check_password("Password123!", username="ana")
Traceback (most recent call last):
...
cletrial.errors.InputError: users.password = "[hidden]": is a common password (it appears in \
lists of leaked passwords): choose a longer phrase of your own
"""

from __future__ import annotations

import itertools
import string
from functools import cache
from typing import Final

from cletrial.errors import InputError

__all__ = ["MAX_PASSWORD_LENGTH", "MIN_PASSWORD_LENGTH", "check_password", "common_passwords"]

#: Shortest password accepted, in characters.
MIN_PASSWORD_LENGTH: Final = 8
#: Longest password accepted, in characters (the login form's limit).
MAX_PASSWORD_LENGTH: Final = 1024

_FIELD: Final = "users.password"
_HIDDEN: Final = "[hidden]"
_EDGES: Final = string.digits + string.punctuation + " "


@cache
def common_passwords() -> frozenset[str]:
    """The blocklist, case-folded: zxcvbn's common passwords and English words.

    >>> "password" in common_passwords() and "qwerty" in common_passwords()
    True
    """
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(
        word.casefold()
        for name in ("passwords", "english_wikipedia")
        for word in FREQUENCY_LISTS[name]
    )


def _refuse(why: str) -> InputError:
    return InputError(_FIELD, _HIDDEN, why)


def _is_run(text: str) -> bool:
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(text)}
    return len(steps) == 1 and steps <= {-1, 0, 1}


def check_password(password: str, *, username: str = "", display_name: str = "") -> None:
    """Refuse a password the study does not accept (see the module docstring).

    Parameters
    ----------
    password : str
        The new password.
    username, display_name : str
        The account's names: the password must not be or contain the user name nor be the
        display name.

    Raises
    ------
    InputError
        Naming ``users.password`` (the value hidden) and what to change.

    Examples
    --------
    >>> check_password("        ")
    Traceback (most recent call last):
    ...
    cletrial.errors.InputError: users.password = "[hidden]": must not be only spaces
    >>> check_password("i am ana.garcia", username="Ana.Garcia")
    Traceback (most recent call last):
    ...
    cletrial.errors.InputError: users.password = "[hidden]": must not contain the user name
    """
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise _refuse(f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise _refuse(f"must be at most {MAX_PASSWORD_LENGTH} characters")
    if not password.strip():
        raise _refuse("must not be only spaces")
    folded = password.casefold()
    if len(set(folded)) <= 2 or _is_run(folded):
        raise _refuse("must not be one or two characters repeated, or a run such as abcdefgh")
    name = username.strip().casefold()
    if name and (folded == name or (len(name) >= 4 and name in folded)):
        raise _refuse("must not contain the user name")
    if folded.strip() in {display_name.strip().casefold(), "cletrial"}:
        raise _refuse("must not be your name or the application's name")
    blocklist = common_passwords()
    if folded in blocklist or folded.strip(_EDGES) in blocklist:
        raise _refuse("is a common password (it appears in lists of leaked passwords): "
                      "choose a longer phrase of your own")  # fmt: skip
