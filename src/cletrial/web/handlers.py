"""Turn domain errors into HTTP responses: JSON for ``/api``, an HTML page otherwise.

Only the web layer maps errors to status codes:

=====================================  ======  =====================
error                                  status  ``error`` code
=====================================  ======  =====================
InputError (and subclasses)            422     ``invalid``
ReasonRequiredError                    422     ``reason_required``
NotFoundError                          404     ``not_found``
ConflictError                          409     ``conflict``
LockedRecordError                      423     ``locked``
SignatureRefusedError                       403     ``signature_refused``
AccessDeniedError                      403     ``forbidden``
NotAuthenticatedError                       401     ``unauthenticated``
CsrfError                              403     ``csrf``
other CletrialError                    500     ``server``
=====================================  ======  =====================

>>> status_for(NotFoundError("no such visit"))
(404, 'not_found')
"""

from __future__ import annotations

import logging
import math
import traceback
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from cletrial.errors import (
    AccessDeniedError,
    CletrialError,
    ConflictError,
    InputError,
    LockedRecordError,
    NotFoundError,
    ReasonRequiredError,
)
from cletrial.web.json_input import JsonBodyGuard

__all__ = [
    "CsrfError",
    "LoginLockedError",
    "NotAuthenticatedError",
    "SignatureRefusedError",
    "error_body",
    "install_error_handlers",
    "is_api",
    "status_for",
]

log = logging.getLogger("cletrial.web")

#: Innermost frames and characters of the one log line of an unexpected error.
_LOGGED_FRAMES: Final = 8
_MAX_LOG_CHARS: Final = 1000


class NotAuthenticatedError(AccessDeniedError):
    """No live session: log in first."""


class CsrfError(AccessDeniedError):
    """An unsafe request without the session's CSRF token."""


class LoginLockedError(AccessDeniedError):
    """Too many failed logins for this user name; try again later."""


class SignatureRefusedError(AccessDeniedError):
    """The password re-entered for an electronic signature is wrong."""


_STATUS: Final[tuple[tuple[type[CletrialError], int, str], ...]] = (
    (NotAuthenticatedError, 401, "unauthenticated"),
    (CsrfError, 403, "csrf"),
    (LoginLockedError, 429, "locked_out"),
    (SignatureRefusedError, 403, "signature_refused"),
    (ReasonRequiredError, 422, "reason_required"),
    (InputError, 422, "invalid"),
    (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"),
    (LockedRecordError, 423, "locked"),
    (AccessDeniedError, 403, "forbidden"),
)

_HTTP_CODES: Final = {
    400: "invalid",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
}


def status_for(exc: CletrialError) -> tuple[int, str]:
    """HTTP status and error code of a domain error (500 ``server`` when unmapped).

    >>> status_for(InputError("regions.arms.scale", 3, "must be 0, 1 or 2"))
    (422, 'invalid')
    """
    for cls, status, code in _STATUS:
        if isinstance(exc, cls):
            return status, code
    return 500, "server"


def is_api(request: Request) -> bool:
    """True for requests to the REST API (``/api/...``), which get JSON errors.

    >>> from starlette.requests import Request as R
    >>> is_api(R({"type": "http", "path": "/api/score/clasi", "headers": []}))
    True
    """
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def error_body(exc: CletrialError) -> dict[str, Any]:
    """The JSON body (:class:`~cletrial.web.schemas.ErrorPublic`) of a domain error.

    >>> error_body(InputError("visit_date", "x", "must be a date"))["field"]
    'visit_date'
    """
    _, code = status_for(exc)
    body: dict[str, Any] = {"error": code, "message": _message(exc)}
    if isinstance(exc, InputError):
        body["value"] = safe_value(exc.value)
        body["errors"] = [{"field": safe_text(exc.field), "value": body["value"],
                           "message": safe_text(exc.problem, 1000)}]  # fmt: skip
        body["field"] = safe_text(exc.field)
    if isinstance(exc, ReasonRequiredError):
        body["field"] = "reason"
        body["errors"] = [{"field": "reason", "value": None, "message": str(exc)}]
    if isinstance(exc, ConflictError):
        body["expected_version"] = exc.expected
        body["actual_version"] = exc.actual
        body["changed"] = _stored(exc.changed)
    return body


def _message(exc: BaseException) -> str:
    """The error's text, at most about 1,000 characters; never fails.

    >>> _message(InputError("note", "x" * 5000, "at most 2000 characters")).endswith("characters")
    True
    """
    try:
        text = str(exc)
    except Exception:
        text = getattr(exc, "problem", "") or type(exc).__name__
    if len(text) > 1000:  # a long value in the middle: keep the start and what to do
        text = text[:500] + " ... " + text[-500:]
    return safe_text(text, 1100)


def _stored(value: Any) -> Any:
    """Stored values (what changed since a record was read) as JSON: the database's own."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, dict):
        return {str(k): _stored(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_stored(v) for v in value]
    return str(value)


#: Longest text echoed back in an error (a value, a message).
MAX_ECHO_CHARS: Final = 200
#: Most values (items of lists and objects included) echoed back for one field.
_MAX_ECHO_ITEMS: Final = 50


def safe_text(text: str, limit: int = MAX_ECHO_CHARS) -> str:
    """``text`` cut to ``limit`` characters, with lone surrogates written as ``\\udXXX``:
    always encodable as UTF-8 JSON.

    >>> safe_text("\\ud800 x"), safe_text("abcdef", 3)
    ('\\\\ud800 x', 'abc...')
    """
    if len(text) > limit:
        text = text[:limit] + "..."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def safe_value(value: Any) -> Any:
    """A bounded, JSON-encodable echo of a client's value: non-finite numbers and long numbers
    as text, strings cut and made encodable, at most 50 values and 4 levels of nesting.

    >>> safe_value(float("nan")), safe_value([[[[[1]]]]]), safe_value(10**30)
    ('nan', [[[['...']]]], '1000000000000000000000000000000')
    """
    budget = [_MAX_ECHO_ITEMS]
    return _echo(value, 0, budget)


def _echo(value: Any, depth: int, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0 or (depth > 3 and isinstance(value, dict | list | tuple)):
        return "..."
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) < 10**15 else _long_int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, dict):
        return {safe_text(str(k), 80): _echo(v, depth + 1, budget)
                for k, v in list(value.items())[:_MAX_ECHO_ITEMS]}  # fmt: skip
    if isinstance(value, list | tuple):
        return [_echo(v, depth + 1, budget) for v in list(value)[:_MAX_ECHO_ITEMS]]
    return safe_text(value if isinstance(value, str) else _short_repr(value))


def _long_int(value: int) -> str:
    if value.bit_length() > 10_000:  # str() refuses more than 4300 digits
        return f"a whole number of {value.bit_length()} bits"
    return safe_text(str(value), 40)


def _short_repr(value: Any) -> str:
    try:
        return str(value)[: MAX_ECHO_CHARS + 1]
    except Exception:
        return type(value).__name__


def _json_error(
    body: dict[str, Any], status: int, headers: dict[str, str] | None = None
) -> Response:
    """The JSON error response; should ``body`` still not encode, its code and a fixed
    message (the handler itself never fails)."""
    try:
        return JSONResponse(body, status_code=status, headers=headers)
    except Exception:
        plain = {"error": str(body.get("error", "invalid")),
                 "message": "the request was refused: its input cannot be shown"}  # fmt: skip
        return JSONResponse(plain, status_code=status, headers=headers)


def _page_error(request: Request, status: int, code: str, message: str) -> Response:
    if status == 401:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    templates = request.app.state.templates
    return templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        "error.html",
        {"status": status, "code": code, "message": message},
        status_code=status,
    )


async def _on_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CletrialError)
    status, code = status_for(exc)
    if status >= 500:
        log.error("server error on %s %s: %s", request.method, _route(request), type(exc).__name__)
    if is_api(request):
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return _json_error(error_body(exc), status, headers)
    return _page_error(request, status, code, _message(exc))


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for item in exc.errors()[:20]:
        loc = [str(p) for p in item.get("loc", ()) if p not in ("body", "query", "path")]
        errors.append(
            {
                "field": safe_text(".".join(loc)),
                "value": safe_value(item.get("input")),
                "message": safe_text(str(item.get("msg", "invalid"))),
            }
        )
    first = errors[0] if errors else {"field": "", "value": None, "message": "invalid request"}
    message = f"{first['field'] or 'request'}: {first['message']}"
    body = {"error": "invalid", "message": message, "field": first["field"], "errors": errors}
    if is_api(request):
        return _json_error(body, 422)
    return _page_error(request, 422, "invalid", message)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "server" if exc.status_code >= 500 else "invalid")
    message = safe_text(str(exc.detail), 1000)
    if is_api(request) or exc.status_code == 405:
        body = {"error": code, "message": message}
        return _json_error(body, exc.status_code, getattr(exc, "headers", None))
    return _page_error(request, exc.status_code, code, message)


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s %s: %s", request.method, _route(request), _summary(exc))
    message = "internal error: the request was not completed; nothing was saved"
    if is_api(request):
        return JSONResponse({"error": "server", "message": message}, status_code=500)
    return _page_error(request, 500, "server", message)


def _summary(exc: BaseException) -> str:
    """One bounded line: the exception classes (causes first) and the innermost frames, never
    the exceptions' messages, which may hold the client's input or patient data.

    >>> try:
    ...     int("x")
    ... except ValueError as exc:
    ...     _summary(exc).startswith("ValueError at ")
    True
    """
    chain: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 5:
        chain.append(type(seen).__name__)
        seen = seen.__cause__ or seen.__context__
    frames = traceback.extract_tb(exc.__traceback__)[-_LOGGED_FRAMES:]
    where = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
    line = " from ".join(chain) + (f" at {where}" if where else "")
    return line[:_MAX_LOG_CHARS]


def _route(request: Request) -> str:
    """The route template (``/patients/{patient_id}``), never the concrete path with ids."""
    route = request.scope.get("route")
    return str(getattr(route, "path", "?"))


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``, and the guard (:mod:`cletrial.web.json_input`) that
    refuses hostile JSON bodies (HTTP 400) before any route or handler decodes them."""
    app.add_middleware(JsonBodyGuard)
    app.add_exception_handler(CletrialError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
