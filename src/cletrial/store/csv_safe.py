"""CSV cells that a spreadsheet cannot run, and that the importer reads back exactly.

**Formula injection** (OWASP, "CSV Injection"): a spreadsheet runs a cell that starts with
``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before one) as a formula. Every CSV
writer of cletrial passes its cells through :func:`neutralise_cell`, which puts a single quote
``'`` before such a **text** cell; numbers (``-1.5``), dates and booleans are never changed. A
text that already starts with quotes before one of those characters gets one more quote, so
:func:`restore_text` (used by the importer on text columns) gives back exactly the text that was
exported: it removes one leading quote when quotes are followed by a formula character.

**Lists in one cell** (a visit's medications) are joined by ``"; "``; a ``;`` or ``\\`` inside
an item is written ``\\;`` or ``\\\\`` (:func:`encode_list_cell`, read back by
:func:`decode_list_cell`).

>>> neutralise_cell("=HYPERLINK(\\"http://x\\")"), neutralise_cell(-1.5), neutralise_cell("-2 mg")
('\\'=HYPERLINK("http://x")', -1.5, "'-2 mg")
>>> restore_text(neutralise_cell("'=1")) == "'=1"
True
>>> decode_list_cell(encode_list_cell(["a; b", "c\\\\d"]))
['a; b', 'c\\\\d']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

__all__ = [
    "LIST_SEPARATOR",
    "decode_list_cell",
    "encode_list_cell",
    "neutralise_cell",
    "neutralise_row",
    "restore_text",
]

#: Characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_START: Final = "=+-@\t\r"
#: Separator of list items (medications) in one CSV cell.
LIST_SEPARATOR: Final = ";"

_NEEDS_QUOTE: Final = re.compile(r"^'*[=+\-@\t\r]")
_ADDED_QUOTE: Final = re.compile(r"^'+[=+\-@\t\r]")


def neutralise_cell(value: Any) -> Any:
    """Return a text cell with a ``'`` put before a formula start; other values unchanged.

    >>> neutralise_cell("@SUM(A1)"), neutralise_cell("plain"), neutralise_cell(3)
    ("'@SUM(A1)", 'plain', 3)
    """
    if isinstance(value, str) and _NEEDS_QUOTE.match(value):
        return "'" + value
    return value


def neutralise_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`neutralise_cell` on every value of a ``csv.DictWriter`` row.

    >>> neutralise_row({"text": "=1", "n": -1})
    {'text': "'=1", 'n': -1}
    """
    return {key: neutralise_cell(value) for key, value in row.items()}


def restore_text(text: str) -> str:
    """Undo :func:`neutralise_cell` on a text read from CSV (one added quote removed).

    >>> restore_text("'=1"), restore_text("''+x"), restore_text("'quoted'")
    ('=1', "'+x", "'quoted'")
    """
    return text[1:] if _ADDED_QUOTE.match(text) else text


def encode_list_cell(items: Iterable[str]) -> str:
    """Join list items into one cell, escaping ``;`` and ``\\`` inside items.

    >>> encode_list_cell(["hydroxychloroquine 200 mg", "vitamin D; 1000 IU"])
    'hydroxychloroquine 200 mg; vitamin D\\\\; 1000 IU'
    """
    escaped = (item.replace("\\", "\\\\").replace(LIST_SEPARATOR, "\\" + LIST_SEPARATOR)
               for item in items)  # fmt: skip
    return f"{LIST_SEPARATOR} ".join(escaped)


def decode_list_cell(text: str) -> list[str]:
    """Split a list cell on unescaped ``;`` (items stripped, blank items dropped).

    A backslash before any other character is kept as it is.

    >>> decode_list_cell("a\\\\; b; c ;; d\\\\x")
    ['a; b', 'c', 'd\\\\x']
    """
    items: list[str] = []
    current: list[str] = []
    chars = iter(text)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            current.append(following if following in (LIST_SEPARATOR, "\\") else char + following)
        elif char == LIST_SEPARATOR:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]
