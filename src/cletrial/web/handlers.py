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
    body: dict[str, Any] = {"error": code, "message": str(exc)}
    if isinstance(exc, InputError):
        body["field"] = exc.field
        body["value"] = _jsonable(exc.value)
        body["errors"] = [{"field": exc.field, "value": body["value"], "message": exc.problem}]
    if isinstance(exc, ReasonRequiredError):
        body["field"] = "reason"
        body["errors"] = [{"field": "reason", "value": None, "message": str(exc)}]
    if isinstance(exc, ConflictError):
        body["expected_version"] = exc.expected
        body["actual_version"] = exc.actual
        body["changed"] = _jsonable(exc.changed)
    return body


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)


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
        return JSONResponse(error_body(exc), status_code=status, headers=headers)
    return _page_error(request, status, code, str(exc))


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for item in exc.errors():
        loc = [str(p) for p in item.get("loc", ()) if p not in ("body", "query", "path")]
        errors.append(
            {
                "field": ".".join(loc),
                "value": _jsonable(item.get("input")),
                "message": str(item.get("msg", "invalid")),
            }
        )
    first = errors[0] if errors else {"field": "", "value": None, "message": "invalid request"}
    message = f"{first['field'] or 'request'}: {first['message']}"
    body = {"error": "invalid", "message": message, "field": first["field"], "errors": errors}
    if is_api(request):
        return JSONResponse(body, status_code=422)
    return _page_error(request, 422, "invalid", message)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "server" if exc.status_code >= 500 else "invalid")
    message = str(exc.detail)
    if is_api(request) or exc.status_code == 405:
        return JSONResponse(
            {"error": code, "message": message},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
    return _page_error(request, exc.status_code, code, message)


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, _route(request))
    message = "internal error: the request was not completed; nothing was saved"
    if is_api(request):
        return JSONResponse({"error": "server", "message": message}, status_code=500)
    return _page_error(request, 500, "server", message)


def _route(request: Request) -> str:
    """The route template (``/patients/{patient_id}``), never the concrete path with ids."""
    route = request.scope.get("route")
    return str(getattr(route, "path", "?"))


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(CletrialError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
