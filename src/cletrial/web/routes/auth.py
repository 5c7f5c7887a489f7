"""Login, logout and password change, for the pages (form and cookie) and the API (JSON and
bearer token).

A new session token is issued at every login and the one the client held before is revoked.
Password checks are counted per user name, atomically before the password is hashed; after
too many the name is locked for a while (HTTP 429) and no password of it is checked. Every
login, failure, lock-out, logout and password change is recorded (``login_events``, audited);
administrators read them at ``GET /api/auth/events``. The login form is protected against CSRF
by a double-submit cookie. Changing one's password needs the current one and ends the user's
other sessions.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from cletrial.web.accounts import WebUser, end_session, start_session, throttled_check, user_public
from cletrial.web.deps import CurrentUser, OptionalUser, SettingsDep, read_token
from cletrial.web.handlers import LoginLockedError, NotAuthenticatedError
from cletrial.web.routes._common import errors, safe_next
from cletrial.web.schemas import LoginPublic, LoginRequest, UserPublic
from cletrial.web.security import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    WebSession,
    new_token,
    tokens_match,
)

__all__ = ["api", "pages"]

log = logging.getLogger("cletrial.web.auth")

api = APIRouter(prefix="/api/auth", tags=["accounts"])
pages = APIRouter(include_in_schema=False)


def _login(
    request: Request, username: str, password: str, channel: str
) -> tuple[WebUser, str, WebSession]:
    state = request.app.state
    user = throttled_check(state.engine, state.throttle, username, password, channel=channel)
    if user is None:
        raise NotAuthenticatedError(
            "user name or password not recognised, or the account is inactive"
        )
    previous, _ = read_token(request)
    token, session = start_session(state.engine, state.throttle, state.sessions, user,
                                   typed_name=username, replaces=previous,
                                   channel=channel)  # fmt: skip
    return user, token, session


def _set_session_cookie(response: Response, token: str, secure: bool, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        secure=secure,
        samesite="strict",
        max_age=max_age,
        path="/",
    )


@api.post(
    "/login",
    response_model=LoginPublic,
    summary="Log in and get a session token",
    responses=errors(429),
)
def api_login(body: LoginRequest, request: Request, settings: SettingsDep) -> LoginPublic:
    """Start a session. Send the token as ``Authorization: Bearer <token>`` from then on."""
    user, token, session = _login(request, body.username, body.password, "api")
    return LoginPublic(
        token=token,
        csrf_token=session.csrf_token,
        idle_timeout_s=settings.session_idle_timeout_s,
        absolute_timeout_s=settings.session_absolute_timeout_s,
        user=user_public(user),
    )


@api.post("/logout", status_code=204, summary="End the session", responses=errors())
def api_logout(request: Request, user: CurrentUser) -> Response:
    """Revoke the session token used for this request."""
    state = request.app.state
    end_session(state.engine, state.sessions, user, read_token(request)[0], channel="api")
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@api.get("/me", response_model=UserPublic, summary="Who am I", responses=errors())
def api_me(user: CurrentUser) -> UserPublic:
    """The logged-in user, their role, sites and permissions."""
    return user_public(user)


# ----------------------------------------------------------------------------- pages


def _login_page(
    request: Request, *, next_path: str, error: str = "", username: str = "", status: int = 200
) -> HTMLResponse:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_token()
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request,
        "login.html",
        {"login_csrf": token, "next_path": next_path, "error": error, "username": username},
        status_code=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.cookie_secure,
        path="/login",
    )
    return response


@pages.get("/login", response_class=HTMLResponse)
def login_form(request: Request, user: OptionalUser, next: str = "/") -> Response:
    """The login page (already logged in: go on)."""
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next_path=safe_next(next))


@pages.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=80)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the password and start a session (a fresh token), then go to ``next``."""
    target = safe_next(next)
    if not tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        return _login_page(
            request,
            next_path=target,
            username=username,
            error="The login form had expired. Please enter your password again.",
            status=403,
        )
    if not username or not password:
        return _login_page(
            request,
            next_path=target,
            username=username,
            error="Enter your user name and your password.",
            status=422,
        )
    try:
        _user, token, _session = _login(request, username, password, "page")
    except (LoginLockedError, NotAuthenticatedError) as exc:
        status = 429 if isinstance(exc, LoginLockedError) else 401
        return _login_page(
            request, next_path=target, username=username, error=f"{exc}.", status=status
        )
    response = RedirectResponse(target, status_code=303)
    _set_session_cookie(
        response, token, settings.cookie_secure, settings.session_absolute_timeout_s
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@pages.post("/logout")
def logout_submit(request: Request, user: CurrentUser) -> Response:
    """End the session and go back to the login page."""
    state = request.app.state
    end_session(state.engine, state.sessions, user, read_token(request)[0], channel="page")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
