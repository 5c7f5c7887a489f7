"""Helpers shared by the route modules: documented error responses, raw JSON bodies, redirects.

>>> sorted(errors(404, 409))
[400, 401, 403, 404, 409, 422]
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final
from urllib.parse import urlsplit

import msgspec
from fastapi import Path, Request
from fastapi.responses import Response
from pydantic import BaseModel

from cletrial.errors import InputError
from cletrial.web.json_input import check_json
from cletrial.web.schemas import ErrorPublic

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_ID",
    "RecordId",
    "decode_json_object",
    "errors",
    "json_body_doc",
    "json_response",
    "parse_id",
    "parse_int",
    "parse_optional_id",
    "read_json_body",
    "safe_next",
]

#: Largest record id or version accepted (a 32-bit signed integer on every engine).
MAX_ID: Final = 2_147_483_647
#: A record id in a URL path.
RecordId = Annotated[int, Path(ge=1, le=MAX_ID, description="record id")]

#: Largest request body the API accepts, in bytes.
MAX_BODY_BYTES: Final = 1_000_000
#: A whole number as a form, a query string or a path sends it: ASCII digits only (``str.isdigit``
#: and ``int`` also take "²", Arabic-Indic digits, "1_000" and spaces).
_DIGITS: Final = re.compile(r"[0-9]{1,12}")

_DESCRIPTIONS: Final = {
    400: "Malformed request (the body is not valid JSON).",
    401: "Not logged in, or the session has ended.",
    403: "The role or site does not allow this, or the CSRF token is missing.",
    404: "No such record.",
    409: "The record changed since it was read (stale version): the body says what changed.",
    413: "Request body too large.",
    415: "Request body must be JSON.",
    422: "Invalid input: names the field, the value and what is allowed.",
    423: "The record is signed and locked: unlock it with a reason first.",
    429: "Too many failed logins for this user name: wait and try again.",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error codes of a route (400, 401, 403, 422 always)."""
    wanted = sorted({400, 401, 403, 422, *codes})
    return {c: {"model": ErrorPublic, "description": _DESCRIPTIONS[c]} for c in wanted}


def json_response(model: BaseModel, status_code: int = 200) -> Response:
    """A JSON answer serialised once by pydantic (for hot routes that build a public model
    themselves; FastAPI then does not validate and serialise it again).

    >>> json_response(ErrorPublic(error="x", message="y"), 409).status_code
    409
    """
    return Response(model.model_dump_json(), status_code=status_code,
                    media_type="application/json")  # fmt: skip


def json_body_doc(schema_ref: str, description: str) -> dict[str, Any]:
    """``openapi_extra`` documenting a JSON request body by a component schema name."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}
            },
        }
    }


async def read_json_body(request: Request) -> bytes:
    """Return the raw JSON body, refusing other content types and bodies over 1 MB."""
    content_type = request.headers.get("content-type", "")
    if not content_type.split(";")[0].strip().lower().endswith(("/json", "+json")):
        raise InputError("content-type", content_type, "must be application/json")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise InputError("body", f"{len(body)} bytes", f"must be at most {MAX_BODY_BYTES} bytes")
    return body


def decode_json_object(body: bytes, field: str = "") -> dict[str, Any]:
    """Decode a JSON object (not an array or scalar), naming ``field`` in errors.

    >>> decode_json_object(b'{"a": 1}')
    {'a': 1}
    >>> decode_json_object(b'[1]')
    Traceback (most recent call last):
    ...
    cletrial.errors.InputError: must be a JSON object
    """
    found = check_json(body)
    if found is not None:
        where, problem = found
        raise InputError(".".join(p for p in (field, where) if p), None, problem)
    value = msgspec.json.decode(body)
    if not isinstance(value, dict):
        raise InputError(field, value if field else None, "must be a JSON object")
    return value


def parse_int(field: str, raw: object, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high`` sent as text by a form or a query string.

    Only ASCII digits are read; anything else (another kind of digit, a sign, a decimal
    point, spaces, a number out of range) raises :class:`~cletrial.errors.InputError`
    naming ``field`` (an HTTP 422 page or answer).

    Parameters
    ----------
    field : str
        The form or query field, named in the error.
    raw : object
        The value as received (a missing field is ``None``).
    low, high : int
        The range allowed.

    Returns
    -------
    int
        The number.

    Examples
    --------
    >>> parse_int("age", "30", 0, 100_000)
    30
    >>> parse_int("age", "1.5", 0, 100_000)
    Traceback (most recent call last):
    ...
    cletrial.errors.InputError: age = "1.5": must be a whole number from 0 to 100000 (digits 0-9)
    """
    text = raw if isinstance(raw, str) else ""
    if _DIGITS.fullmatch(text) and low <= int(text) <= high:
        return int(text)
    shown = text if len(text) <= 40 else text[:40] + "..."
    raise InputError(field, shown, f"must be a whole number from {low} to {high} (digits 0-9)")


def parse_id(field: str, raw: object) -> int:
    """A record id or version sent back by a page (a hidden field, a link): 1 to
    :data:`MAX_ID`, else :class:`~cletrial.errors.InputError` naming ``field``.

    >>> parse_id("version", "3")
    3
    >>> parse_id("version", "9" * 20)
    Traceback (most recent call last):
    ...
    cletrial.errors.InputError: version = "99999999999999999999": must be a whole number ...
    """
    return parse_int(field, raw, 1, MAX_ID)


def parse_optional_id(field: str, raw: object) -> int | None:
    """As :func:`parse_id`, but a blank or missing value is ``None``.

    >>> parse_optional_id("clasi_version", ""), parse_optional_id("clasi_version", "2")
    (None, 2)
    """
    return None if raw is None or raw == "" else parse_id(field, raw)


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go to after login; anything else (other hosts, ``//x``) gives ``default``.

    >>> safe_next("/patients/3"), safe_next("https://evil.example/"), safe_next("//evil")
    ('/patients/3', '/', '/')
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return default
    return target
