"""Administration: sites and users (roles, site access, activation). Administrators only.

Deactivating a user or changing their role or sites takes effect at their next request (the
user is reloaded on every request); deactivation also ends their sessions at once.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from cletrial.errors import InputError, NotFoundError
from cletrial.web.accounts import WebUser, user_public
from cletrial.web.deps import Admin, FormItems, SessionDep, Viewer, write_uow
from cletrial.web.routes._common import RecordId, errors, parse_id
from cletrial.web.schemas import UserPublic
from cletrial.web.schemas_admin import (
    SiteCreate,
    SitePublic,
    UserCreate,
    UserSitesUpdate,
    UserUpdate,
)

__all__ = ["api", "pages"]

api = APIRouter(prefix="/api", tags=["administration"])
pages = APIRouter(include_in_schema=False)


def _site(site: Any) -> SitePublic:
    return SitePublic(id=site.id, version=site.version, study_id=site.study_id, code=site.code,
                      name=site.name, country=site.country)  # fmt: skip


def _user(record: Any) -> UserPublic:
    return user_public(WebUser(
        id=record.id, username=record.username, display_name=record.display_name,
        role=record.role, active=bool(record.active), site_ids=frozenset(record.site_ids),
        version=record.version,
    ))  # fmt: skip


def _study_id(uow: Any) -> int:
    studies = uow.studies.list()
    if not studies:
        raise NotFoundError("no study in the database: create one with the command line first")
    return int(studies[0].id)


@api.get("/sites", response_model=list[SitePublic], summary="Sites", responses=errors())
def list_sites(user: Viewer, uow: SessionDep) -> list[SitePublic]:
    """Every site of the study (names only; patients stay limited to the user's sites)."""
    return [_site(s) for s in uow.sites.list()]


@api.post("/sites", response_model=SitePublic, status_code=201, summary="Add a site",
          responses=errors(404))  # fmt: skip
def post_site(body: SiteCreate, request: Request, user: Admin) -> SitePublic:
    """Add a site to the study."""
    with write_uow(request, user) as uow:
        return _site(uow.sites.create(study_id=_study_id(uow), code=body.code, name=body.name,
                                      country=body.country))  # fmt: skip


@api.get("/users", response_model=list[UserPublic], summary="Users", responses=errors())
def list_users(user: Admin, uow: SessionDep) -> list[UserPublic]:
    """Every user with role, sites and permissions."""
    return [_user(u) for u in uow.users.list()]


@api.post("/users", response_model=UserPublic, status_code=201, summary="Add a user",
          responses=errors(404))  # fmt: skip
def post_user(body: UserCreate, request: Request, user: Admin) -> UserPublic:
    """Create a user (password stored as an argon2 hash)."""
    with write_uow(request, user) as uow:
        for site_id in body.site_ids:
            uow.sites.get(site_id)
        return _user(uow.users.create(**body.model_dump()))


@api.patch("/users/{user_id}", response_model=UserPublic, summary="Change a user",
           responses=errors(404, 409))  # fmt: skip
def patch_user(user_id: RecordId, body: UserUpdate, request: Request, user: Admin) -> UserPublic:
    """Change display name, role or activation (version read and reason required)."""
    changes = body.model_dump(exclude={"version", "reason"}, exclude_unset=True)
    with write_uow(request, user) as uow:
        updated = uow.users.update(user_id, expected_version=body.version, reason=body.reason,
                                   **changes)  # fmt: skip
        result = _user(uow.users.get(updated.id))
    if not result.active:
        request.app.state.sessions.revoke_user(user_id)
    request.app.state.sessions.forget_user(user_id)
    return result


@api.post("/users/{user_id}/sites", response_model=UserPublic, summary="Grant or withdraw sites",
          responses=errors(404))  # fmt: skip
def post_user_sites(
    user_id: RecordId, body: UserSitesUpdate, request: Request, user: Admin
) -> UserPublic:
    """Let a user see the patients of more sites, or of fewer."""
    with write_uow(request, user) as uow:
        current = uow.users.get(user_id)
        for site_id in body.add:
            if site_id not in current.site_ids:
                uow.sites.get(site_id)
                uow.users.add_site(user_id, site_id)
        for site_id in body.remove:
            uow.users.remove_site(user_id, site_id, reason=body.reason)
        result = _user(uow.users.get(user_id))
    request.app.state.sessions.forget_user(user_id)
    return result


# ----------------------------------------------------------------------------- page


def _admin_page(request: Request, uow: SessionDep, message: str = "", error: str = "",
                status: int = 200) -> Response:  # fmt: skip
    response: Response = request.app.state.templates.TemplateResponse(
        request, "admin.html",
        {"users": uow.users.list(), "sites": uow.sites.list(), "message": message,
         "error": error, "roles": ("investigator", "coordinator", "monitor", "statistician",
                                   "administrator")},
        status_code=status,
    )  # fmt: skip
    return response


@pages.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, user: Admin, uow: SessionDep, saved: int = 0) -> Response:
    """Users and sites."""
    return _admin_page(request, uow, "Saved." if saved else "")


@pages.post("/admin/users", response_class=HTMLResponse)
def admin_add_user(request: Request, user: Admin, uow: SessionDep, form: FormItems) -> Response:
    """Add a user from the page form."""
    data = {k: v for k, v in form if k != "csrf_token"}
    try:
        body = UserCreate.model_validate({
            "username": data.get("username", ""), "password": data.get("password", ""),
            "role": data.get("role", ""), "display_name": data.get("display_name") or None,
            "site_ids": [parse_id("site_ids", v) for k, v in form if k == "site_ids"],
        })  # fmt: skip
        with write_uow(request, user) as wuow:
            wuow.users.create(**body.model_dump())
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"]))
        return _admin_page(request, uow, error=f"{where}: {first['msg']}",
                           status=422)  # fmt: skip
    except InputError as exc:
        return _admin_page(request, uow, error=str(exc), status=422)
    return RedirectResponse("/admin?saved=1", status_code=303)
