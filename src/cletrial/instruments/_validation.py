"""Turn msgspec validation failures into :class:`~cletrial.errors.FormError` messages.

msgspec validates forms in C (fast), but its messages do not show the bad value. On the rare
error path we look the value up again in the raw document and phrase the problem as what the
instrument allows, e.g. ``regions.arms.scale = 3: must be 0, 1 or 2``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from cletrial.errors import FormError

_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<name>[^`]*)`")

#: Passed to ``describe`` as the value when the field itself is unknown.
MISSING: Any = object()


def format_choices(values: tuple[int, ...]) -> str:
    """Write permitted values as prose.

    >>> format_choices((0, 1, 2))
    '0, 1 or 2'
    >>> format_choices((0,))
    '0'
    """
    words = [str(v) for v in values]
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _split_path(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for match in re.finditer(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]", path):
        name, index = match.groups()
        parts.append(name if name is not None else int(index))
    return parts


def _lookup(document: Any, parts: list[str | int]) -> Any:
    node = document
    for part in parts:
        in_list = isinstance(part, int) and isinstance(node, list) and part < len(node)
        in_dict = isinstance(part, str) and isinstance(node, dict) and part in node
        if in_list or in_dict:
            node = node[part]
        else:
            return MISSING
    return node


def _dotted(parts: list[str | int]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int) or part == "":
            out += f"[{part}]" if isinstance(part, int) else '[""]'
        else:
            out += f".{part}" if out else part
    return out


def to_form_error(
    exc: msgspec.ValidationError | msgspec.DecodeError,
    document: Any,
    describe: Callable[[list[str | int], Any], str],
) -> FormError:
    """Build a :class:`FormError` from a msgspec failure.

    Parameters
    ----------
    exc : msgspec.ValidationError or msgspec.DecodeError
        The failure raised while decoding or converting the form.
    document : Any
        The raw document (decoded without a type), used to find the bad value.
    describe : callable
        ``describe(path_parts, value)`` returns what the field allows, e.g. ``must be 0, 1 or 2``.
    """
    text = str(exc)
    if isinstance(exc, msgspec.DecodeError) and not isinstance(exc, msgspec.ValidationError):
        return FormError("", None, f"not valid JSON ({text})")
    path_match = _PATH.search(text)
    parts = _split_path(path_match.group("path")) if path_match else []
    unknown = _UNKNOWN.match(text)
    if unknown:
        parts = [*parts, unknown.group("name")]
        value = _lookup(document, parts)
        return FormError(_dotted(parts), value, describe(parts, MISSING))
    if text.startswith("Object missing required field"):
        return FormError(_dotted(parts), None, text.split(" - at")[0].lower())
    value = _lookup(document, parts)
    if value is MISSING:
        return FormError(_dotted(parts), None, text)
    return FormError(_dotted(parts), value, describe(parts, value))


def decode_form(
    decoder: msgspec.json.Decoder[Any],
    data: bytes | str,
    describe: Callable[[list[str | int], Any], str],
) -> Any:
    """Decode one form with a typed msgspec ``decoder``; any failure becomes a FormError."""
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        failure: msgspec.ValidationError | msgspec.DecodeError = exc
    except msgspec.DecodeError as exc:
        failure = exc
    try:
        document = msgspec.json.decode(data)
    except msgspec.DecodeError:
        raise FormError("", None, f"not valid JSON ({failure})") from None
    if not isinstance(document, dict):
        raise FormError("", document, "a form must be a JSON object")
    raise to_form_error(failure, document, describe)


def check_mapping(obj: Any) -> Mapping[str, Any]:
    """Reject a form that is not a JSON object."""
    if not isinstance(obj, Mapping):
        raise FormError("", obj, "a form must be a JSON object")
    return obj
