"""Request and response bodies of the administration API: sites and users.

>>> UserCreate(username="ana", password="long enough", role="monitor", site_ids=[1]).role
'monitor'
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from cletrial.values import CODE_MAX_LENGTH, CODE_PATTERN
from cletrial.web.schemas import Request

__all__ = ["SiteCreate", "SitePublic", "UserCreate", "UserSitesUpdate", "UserUpdate"]

RoleName = Literal[
    "investigator", "coordinator", "monitor", "data_manager", "statistician", "administrator"
]


class SiteCreate(Request):
    """A new site of the study."""

    code: Annotated[str, Field(min_length=1, max_length=CODE_MAX_LENGTH, pattern=CODE_PATTERN)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    #: ISO 3166-1 alpha-3 (``ESP``), SDTM DM.COUNTRY of the site's patients; checked by the store.
    country: Annotated[str, Field(min_length=3, max_length=3)] | None = None


class SitePublic(BaseModel):
    """A site."""

    id: int
    version: int
    study_id: int
    code: str
    name: str
    country: str | None = None


class UserCreate(Request):
    """A new user: role, sites, and an initial password (at least 8 characters)."""

    username: Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._@-]+$")]
    password: Annotated[str, Field(min_length=8, max_length=1024)]
    role: RoleName
    display_name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    site_ids: list[Annotated[int, Field(ge=1, le=2_147_483_647)]] = Field(
        default_factory=list, max_length=100
    )


class UserUpdate(Request):
    """A change to a user (version read and reason required); deactivating logs them out."""

    version: int = Field(ge=1, le=2_147_483_647)
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    display_name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    role: RoleName | None = None
    active: bool | None = None


class UserSitesUpdate(Request):
    """Grant or withdraw access to sites (the patients a user may see)."""

    add: list[Annotated[int, Field(ge=1, le=2_147_483_647)]] = Field(
        default_factory=list, max_length=100
    )
    remove: list[Annotated[int, Field(ge=1, le=2_147_483_647)]] = Field(
        default_factory=list, max_length=100
    )
    reason: Annotated[str, Field(min_length=1, max_length=1000)] = "site access changed"
