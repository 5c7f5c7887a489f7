"""Locate the field and the bad value of a msgspec validation failure.

msgspec validates in C and reports ``Expected `int` >= 1 - at `$.dosing.taper.interval_weeks```;
on that rare error path we find the value again in the raw document so that the error names the
field path and the value, as every error of the project does.

>>> exc = msgspec.ValidationError("Expected `int` >= 1 - at `$.taper.weeks[2]`")
>>> locate(exc, {"taper": {"weeks": [4, 4, 0]}})
('taper.weeks[2]', 0, 'must be a whole number, 1 or more')
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from cletrial.values import TEXT_PATTERN

#: How the text rule appears in msgspec's message (the regex, with backslashes escaped).
_TEXT_RULE = repr(TEXT_PATTERN)[1:-1]

__all__ = ["MISSING", "dotted", "humanize", "locate"]

_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<name>[^`]+)`")
_REQUIRED = re.compile(r"^Object missing required field `(?P<name>[^`]+)`")
_KEY = re.compile(r" - at `key` in `\$(?P<path>[^`]*)`$")

#: Marker for a value that is not in the document.
MISSING: Any = None


def _split(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for match in re.finditer(r"\.([^.\[\]]+)|\[(\d+)\]|\[\"([^\"]+)\"\]|\['([^']+)'\]", path):
        name, index, quoted, single = match.groups()
        if index is not None:
            parts.append(int(index))
        else:
            parts.append(name or quoted or single)
    return parts


def dotted(parts: list[str | int]) -> str:
    """Write path parts as ``a.b[2].c``.

    >>> dotted(["doses", 2, "regimen"])
    'doses[2].regimen'
    """
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _lookup(document: Any, parts: list[str | int]) -> Any:
    node = document
    for part in parts:
        in_list = isinstance(part, int) and isinstance(node, list) and part < len(node)
        if in_list or (isinstance(part, str) and isinstance(node, dict) and part in node):
            node = node[part]
        else:
            return MISSING
    return node


_TYPE_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "str": "text",
    "array": "a list",
    "object": "an object",
    "null": "empty",
}
_BOUND = re.compile(r"^expected `(?P<type>\w+)` (?P<op>>=|<=|>|<) (?P<bound>[-\d.e+]+)$")
_TYPE = re.compile(r"^expected `(?P<type>[^`]+)`, got `(?P<got>\w+)`$")
_LENGTH = re.compile(r"^expected `(?P<type>\w+)` of length (?P<op><=|>=) (?P<n>\d+)$")


def humanize(problem: str) -> str:
    """msgspec's phrasing in the words of a form: what is allowed.

    >>> humanize("expected `float` >= 0.0"), humanize("expected `int`, got `str`")
    ('must be a number, 0 or more', 'must be a whole number')
    >>> humanize("expected `str` of length <= 40")
    'must be at most 40 characters'
    >>> humanize(f"expected `str` matching regex {TEXT_PATTERN!r}")
    'must not contain control characters (only tab, newline and CR)'
    """
    if problem.startswith("expected `str` matching regex") and _TEXT_RULE in problem:
        return "must not contain control characters (only tab, newline and CR)"
    bound = _BOUND.match(problem)
    if bound:
        kind = _TYPE_WORDS.get(bound["type"], bound["type"])
        limit = f"{float(bound['bound']):g}"
        words = {">=": f"{limit} or more", "<=": f"{limit} or less", ">": f"more than {limit}",
                 "<": f"less than {limit}"}[bound["op"]]  # fmt: skip
        return f"must be {kind}, {words}"
    typed = _TYPE.match(problem)
    if typed:
        wanted = " or ".join(_TYPE_WORDS.get(t.strip("` "), t.strip("` "))
                             for t in typed["type"].split("|"))  # fmt: skip
        return f"must be {wanted}"
    length = _LENGTH.match(problem)
    if length:
        n, text = int(length["n"]), length["type"] == "str"
        if length["op"] == ">=" and n == 1:
            return "must not be empty"
        unit = ("character" if text else "item") + ("" if n == 1 else "s")
        return f"must be {'at most' if length['op'] == '<=' else 'at least'} {n} {unit}"
    return problem


def locate(exc: msgspec.ValidationError, document: Any) -> tuple[str, Any, str]:
    """Return ``(field path, bad value, problem)`` for a msgspec validation error.

    Parameters
    ----------
    exc : msgspec.ValidationError
        The failure.
    document : Any
        The raw document (plain dicts and lists) that failed.
    """
    text = str(exc)
    key = _KEY.search(text)
    if key:
        parts = _split(key.group("path"))
        problem = text[: key.start()]
        enum = re.match(r"Invalid enum value '(?P<bad>.*)'$", problem)
        if enum:
            return dotted(parts), enum.group("bad"), "unknown key"
        pattern = re.search(r"matching regex '(?P<regex>.*)'", problem)
        node = _lookup(document, parts)
        if pattern and isinstance(node, dict):
            regex = re.compile(pattern.group("regex"))
            bad = next((k for k in node if not (isinstance(k, str) and regex.search(k))), None)
            if bad is not None:
                parts.append(bad)
                return dotted(parts), node[bad], f"key must match {pattern.group('regex')}"
        return dotted(parts), None, "keys: " + problem[0].lower() + problem[1:]
    match = _PATH.search(text)
    parts = _split(match.group("path")) if match else []
    problem = text[: match.start()] if match else text
    unknown = _UNKNOWN.match(problem)
    if unknown:
        parts.append(unknown.group("name"))
        return dotted(parts), _lookup(document, parts), "unknown key"
    required = _REQUIRED.match(problem)
    if required:
        parts.append(required.group("name"))
        return dotted(parts), None, "is required"
    problem = problem[0].lower() + problem[1:] if problem else problem
    return dotted(parts), _lookup(document, parts), humanize(problem)
