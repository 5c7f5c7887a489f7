"""Changing one's password (API and page), and the login events for administrators.

* ``POST /api/auth/password`` (``current_password``, ``new_password``): re-checks the current
  password under the login throttle, applies the password policy
  (:mod:`cletrial.store.password_policy`) and ends the user's other sessions; the session used
  stays open.
* ``GET /password`` and ``POST /password``: the same from the account menu.
* ``GET /api/auth/events``: logins, failures, lock-outs, logouts and password changes, newest
  first (administrators).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from cletrial.errors import AccessDeniedError, InputError
from cletrial.web.accounts import WebUser, change_password
from cletrial.web.deps import Admin, CurrentUser, SessionDep, read_token
from cletrial.web.handlers import LoginLockedError
from cletrial.web.routes._common import errors
from cletrial.web.security import CSRF_FIELD

__all__ = ["api", "pages"]

api = APIRouter(prefix="/api/auth", tags=["accounts"])
pages = APIRouter(include_in_schema=False)


class PasswordChange(BaseModel):
    """The current password (re-entered) and the new one."""

    current_password: Annotated[str, Field(min_length=1, max_length=1024)]
    new_password: Annotated[str, Field(min_length=1, max_length=1024)]


class PasswordChanged(BaseModel):
    """How many other sessions of the user were ended."""

    other_sessions_ended: int


class LoginEventPublic(BaseModel):
    """One login event (``username`` is null for a name that is no account)."""

    id: int
    event: str
    username: str | None
    user_id: int | None
    channel: str
    detail: str | None
    occurred_at: dt.datetime


def _change(request: Request, user: WebUser, current: str, new: str, channel: str) -> int:
    state = request.app.state
    return change_password(state.engine, state.throttle, state.sessions, user, current, new,
                           keep_token=read_token(request)[0], channel=channel)  # fmt: skip


@api.post("/password", response_model=PasswordChanged, summary="Change your password",
          responses=errors(429))  # fmt: skip
def api_password(body: PasswordChange, request: Request, user: CurrentUser) -> PasswordChanged:
    """Change the password of the logged-in user: the current password is checked again (a
    wrong one counts towards the lock-out, 403), the new one must pass the password policy
    (422); every other session of the user ends."""
    ended = _change(request, user, body.current_password, body.new_password, "api")
    return PasswordChanged(other_sessions_ended=ended)


@api.get("/events", response_model=list[LoginEventPublic], summary="Login events",
         responses=errors())  # fmt: skip
def api_events(
    _user: Admin, uow: SessionDep,
    username: Annotated[str | None, Query(max_length=80)] = None,
    event: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[LoginEventPublic]:  # fmt: skip
    """Logins, failed logins, lock-outs, logouts and password changes, newest first
    (administrators; each is also in the audit trail as a ``login_events`` record)."""
    rows = uow.login_events.list(username=username, event=event, limit=limit)
    return [LoginEventPublic(id=r.id, event=r.event, username=r.username, user_id=r.user_id,
                             channel=r.channel, detail=r.detail, occurred_at=r.occurred_at)
            for r in rows]  # fmt: skip


def _page(request: Request, *, message: str = "", error: str = "", status: int = 200) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, "password.html", {"message": message, "error": error}, status_code=status
    )
    return response


@pages.get("/password", response_class=HTMLResponse)
def password_page(request: Request, _user: CurrentUser) -> Response:
    """The form to change one's password."""
    return _page(request)


@pages.post("/password", response_class=HTMLResponse)
def password_submit(
    request: Request,
    user: CurrentUser,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
    confirm_password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
) -> Response:
    """Change the password from the form (the session's dependency checks ``csrf_token``)."""
    if new_password != confirm_password:
        return _page(request, error="The two new passwords differ: type the same twice.",
                     status=422)  # fmt: skip
    try:
        ended = _change(request, user, current_password, new_password, "page")
    except InputError as exc:
        return _page(request, error=f"New password refused: it {exc.problem}.", status=422)
    except LoginLockedError as exc:
        return _page(request, error=f"{exc}.", status=429)
    except AccessDeniedError as exc:
        return _page(request, error=f"{exc}.", status=403)
    sessions = f" {ended} other session(s) ended." if ended else ""
    return _page(request, message=f"Password changed.{sessions}")
