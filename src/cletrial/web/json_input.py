"""Strict JSON request bodies: hostile JSON is refused (HTTP 400) before any route decodes it.

Python's :func:`json.loads`, which FastAPI uses for the pydantic bodies, accepts ``NaN``,
``Infinity`` and ``-Infinity``, turns ``1e400`` into ``inf``, keeps lone UTF-16 surrogates
(``"\\ud800"``) in strings that cannot be encoded again, and nests as deep as the interpreter's
stack allows. None of these is JSON (RFC 8259), and each used to end in an HTTP 500. Here every
JSON body (any method, any route, logged in or not) is decoded once by msgspec, which refuses
all of them, and nesting deeper than :data:`MAX_DEPTH` levels is refused as well. A refusal
names where in the body the bad value is (``regions.arms.erythema``, ``labs.0.value``) without
echoing it.

>>> check_json(b'{"labs": [{"value": 1190}]}') is None
True
>>> check_json(b'{"labs": [{"value": NaN}]}')
('labs.0.value', 'NaN is not allowed: a JSON number must be finite')
>>> check_json(b'{"a": "\\\\ud800"}')
('a', 'has a lone UTF-16 surrogate (\\\\ud800-\\\\udfff): send valid Unicode text')
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterator
from typing import Any, Final

import msgspec
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MAX_DEPTH", "MAX_JSON_BYTES", "JsonBodyGuard", "check_json", "refusal_body"]

log = logging.getLogger("cletrial.web")

#: Deepest nesting of arrays and objects accepted in a request body (a visit needs 4).
MAX_DEPTH: Final = 64
#: Largest JSON request body accepted, in bytes (as :data:`routes._common.MAX_BODY_BYTES`).
MAX_JSON_BYTES: Final = 1_000_000
#: Longest field path named in a refusal.
_MAX_PATH: Final = 120
#: Python's own limit on the digits of an integer read from text.
_MAX_DIGITS: Final = 4300


class _Bad:
    """A value the strict decoder refused, found again by the lenient one to name its place."""

    def __init__(self, problem: str) -> None:
        self.problem = problem


def check_json(body: bytes) -> tuple[str, str] | None:
    """``None`` for an acceptable JSON body, else ``(field path, problem)`` of the first refusal.

    Parameters
    ----------
    body : bytes
        The raw request body (UTF-8 JSON).

    Returns
    -------
    tuple of (str, str) or None
        Where the body goes wrong (``""`` for the body as a whole) and what to do.

    Examples
    --------
    >>> check_json(b'{"grade": 1e400}')
    ('grade', '1e400 is out of range: a JSON number must be finite')
    >>> check_json(b"[" * 64 + b"]" * 64) is None
    True
    >>> check_json(b'{"a": ' + b"[" * 64 + b"]" * 64 + b"}")
    ('a.0.0.0...', 'nested deeper than 64 levels of arrays and objects')
    >>> check_json(b'{"a": 1,}')[1]
    'not valid JSON (JSON is malformed: trailing comma in object (byte 8))'
    """
    try:
        value = msgspec.json.decode(body)
    except RecursionError:
        return "", _too_deep()
    except msgspec.DecodeError as exc:
        return _locate(body) or ("", f"not valid JSON ({exc})")
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return None  # cannot nest deeper: no need to walk
    return _first_problem(value)


def _too_deep() -> str:
    return f"nested deeper than {MAX_DEPTH} levels of arrays and objects"


def _constant(name: str) -> _Bad:
    return _Bad(f"{name} is not allowed: a JSON number must be finite")


def _float(text: str) -> float | _Bad:
    number = float(text)
    if math.isfinite(number):
        return number
    shown = text if len(text) <= 20 else text[:20] + "..."
    return _Bad(f"{shown} is out of range: a JSON number must be finite")


def _int(text: str) -> int | _Bad:
    if len(text.lstrip("-")) > _MAX_DIGITS:
        return _Bad(f"a whole number of {len(text)} digits is out of range")
    return int(text)


def _locate(body: bytes) -> tuple[str, str] | None:
    """Read the body leniently to name the place of what msgspec refused (``None``: unknown)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return "", f"not valid UTF-8 at byte {exc.start}: send JSON encoded as UTF-8"
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except RecursionError:
        return "", _too_deep()
    except ValueError:
        return None  # malformed: msgspec's message gives the byte
    return _first_problem(value)


def _first_problem(value: Any) -> tuple[str, str] | None:
    for path, item, depth in _walk(value):
        problem = _problem_of(item, depth)
        if problem is not None:
            return _show_path(path), problem
    return None


def _problem_of(item: Any, depth: int) -> str | None:
    if depth > MAX_DEPTH and isinstance(item, dict | list):
        return _too_deep()
    if isinstance(item, _Bad):
        return item.problem
    if isinstance(item, str):
        try:
            item.encode("utf-8")
        except UnicodeEncodeError:
            return "has a lone UTF-16 surrogate (\\ud800-\\udfff): send valid Unicode text"
    return None


def _walk(value: Any) -> Iterator[tuple[tuple[str, ...], Any, int]]:
    """Every value and key with its path and its level (the body's own is 1), depth first,
    without recursion; nothing below a level deeper than :data:`MAX_DEPTH`."""
    stack: list[tuple[tuple[str, ...], Any, int]] = [((), value, 1)]
    while stack:
        path, item, depth = stack.pop()
        yield path, item, depth
        if depth > MAX_DEPTH:
            continue
        if isinstance(item, dict):
            children = [((*path, _key(k)), v, depth + 1) for k, v in item.items()]
            children += [(path, k, depth) for k in item if isinstance(k, str)]
        elif isinstance(item, list):
            children = [((*path, str(i)), v, depth + 1) for i, v in enumerate(item)]
        else:
            continue
        stack.extend(reversed(children))


def _key(key: Any) -> str:
    text = str(key)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("ascii")
    return text


def _show_path(path: tuple[str, ...]) -> str:
    shown = ".".join(path) if len(path) <= 8 else ".".join(path[:4]) + "..."
    return shown if len(shown) <= _MAX_PATH else shown[:_MAX_PATH] + "..."


def refusal_body(field: str, problem: str) -> dict[str, Any]:
    """The JSON error body (``ErrorPublic``) of a refused request body.

    >>> refusal_body("grade", "NaN is not allowed")["message"]
    'grade: NaN is not allowed'
    """
    message = f"{field or 'body'}: {problem}"
    return {"error": "invalid", "message": message, "field": field or "body", "value": None,
            "errors": [{"field": field or "body", "value": None, "message": problem}]}  # fmt: skip


def _is_json(scope: Scope) -> bool:
    """Whether any ``Content-Type`` header names JSON (a superset of what FastAPI decodes)."""
    return any(
        name == b"content-type" and b"json" in value.lower() for name, value in scope["headers"]
    )


class JsonBodyGuard:
    """ASGI middleware: read a JSON body once, refuse it (400, or 413 when larger than
    :data:`MAX_JSON_BYTES`) when :func:`check_json` does, else hand it on unchanged."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_JSON_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away: nothing to answer
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = bool(message.get("more_body", False))
            if size > self.max_bytes:
                await _refuse(send, 413, "body", f"larger than {self.max_bytes} bytes")
                return
        body = b"".join(chunks)
        found = check_json(body) if body else None
        if found is not None:
            log.info("refused a JSON body: %s", _kind(found[1]))
            await _refuse(send, 400, *found)
            return
        await self.app(scope, _replay(body, receive), send)


def _kind(problem: str) -> str:
    """What a refusal is about, in the project's words only (never the client's text)."""
    head = re.split(r"[:(]", problem, maxsplit=1)[0]
    return re.sub(r"[^a-z0-9 ]", "", head.lower())[:60].strip() or "refused"


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _refuse(send: Send, status: int, field: str, problem: str) -> None:
    body = refusal_body(field, problem)
    if status == 413:
        body["error"] = "too_large"
    payload = json.dumps(body, ensure_ascii=True).encode("ascii")
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
    ]})  # fmt: skip
    await send({"type": "http.response.body", "body": payload})
