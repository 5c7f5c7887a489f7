"""Request and response bodies of the monitoring API: queries and their threads, source data
verification marks and progress, the database lock, the edit-check run and worklists.

>>> QueryAction.model_validate({"action": "answer", "text": "corrected", "version": 2,
...                             "correction": {"value": 250}}).correction
{'value': 250}
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from cletrial.web.schemas import Request

__all__ = [
    "CheckRunPublic",
    "LockEventPublic",
    "LockRequest",
    "LockStatePublic",
    "QueryAction",
    "QueryCreate",
    "QueryDetailPublic",
    "QueryMessagePublic",
    "QueryPublic",
    "SdvMarkPublic",
    "SdvProgressPublic",
    "SdvRequest",
    "WorklistItemPublic",
]

_ID = Field(ge=1, le=2_147_483_647)
Text = Annotated[str, Field(min_length=1, max_length=4000)]
FormName = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z_]+$")]
FieldName = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z0-9_*]+$")]


class QueryCreate(Request):
    """Raise a query on a patient, one of its forms (``table_name`` + ``record_id``) or one
    field of the form."""

    patient_id: int = _ID
    subject: Text
    table_name: FormName | None = None
    record_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    field: FieldName | None = None


class QueryAction(Request):
    """A step of a query: acknowledge, answer (with an optional correction of the value),
    close, reopen or comment; ``version`` is the query's version as read."""

    action: Literal["acknowledge", "answer", "close", "reopen", "comment"]
    text: Annotated[str, Field(max_length=4000)] = ""
    version: int = _ID
    correction: dict[str, Any] | None = None


class QueryPublic(BaseModel):
    """A query, with its patient's study code and site."""

    id: int
    version: int
    patient_id: int
    study_code: str | None = None
    site_code: str | None = None
    table_name: str | None
    record_id: int | None
    field: str | None
    status: str
    origin: str
    check_id: str | None
    severity: str | None
    subject: str
    opened_by: str
    opened_at: dt.datetime
    status_by: str
    status_at: dt.datetime
    age_days: int | None = None


class QueryMessagePublic(BaseModel):
    """One step of a query's thread."""

    id: int
    action: str
    status_after: str
    author: str
    author_role: str
    posted_at: dt.datetime
    text: str
    correction: str | None


class QueryDetailPublic(QueryPublic):
    """A query and its thread, oldest message first."""

    messages: list[QueryMessagePublic]


class SdvRequest(Request):
    """Mark a form (``field`` ``*``, the default) or one field verified against the source."""

    table_name: FormName
    record_id: int = _ID
    field: FieldName = "*"


class SdvMarkPublic(BaseModel):
    """A verification mark."""

    id: int
    version: int
    patient_id: int
    table_name: str
    record_id: int
    field: str
    record_version: int
    verified_by: str
    verified_at: dt.datetime


class SdvProgressPublic(BaseModel):
    """Forms the plan requires and how many are verified, for one site, patient or form."""

    group: str
    required: int
    verified: int
    percent: float | None


class LockRequest(Request):
    """Freeze, unfreeze, lock or unlock the database: the reason and the data manager's
    password (the e-signature)."""

    action: Literal["freeze", "unfreeze", "lock", "unlock"]
    reason: Text
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class LockEventPublic(BaseModel):
    """A lock event."""

    id: int
    action: str
    state_after: str
    reason: str
    signed_by: str
    signed_name: str
    signed_at: dt.datetime


class LockStatePublic(BaseModel):
    """The database's state and its lock events, oldest first."""

    state: Literal["open", "frozen", "locked"]
    since: dt.datetime | None
    events: list[LockEventPublic]


class CheckRunPublic(BaseModel):
    """What a run of the edit checks did."""

    patients: int
    forms: int
    evaluations: int
    findings: int
    queries_raised: int
    queries_closed: int
    seconds: float


class WorklistItemPublic(BaseModel):
    """One item of a worklist: what is waiting, for which patient, since or due when."""

    kind: str
    patient_id: int
    study_code: str
    site_code: str | None
    what: str
    date: dt.date | None
    status: str
    link: str
