"""REST API of monitoring and data management.

* ``GET /api/queries`` (filters ``site``, ``patient_id``, ``form``, ``status``,
  ``older_than_days``), ``GET /api/queries.csv`` (the same, as CSV), ``GET /api/queries/counts``;
  ``POST /api/queries`` (monitors and data managers raise a query on a patient, form or field);
  ``GET /api/queries/{id}`` (with its thread); ``POST /api/queries/{id}/actions``: acknowledge and
  answer (the site, optionally correcting the value), close and reopen (monitors, data
  managers), comment (either).
* ``POST /api/sdv`` (monitors mark a form or field verified), ``DELETE /api/sdv/{id}?reason=``,
  ``GET /api/patients/{id}/sdv``, ``GET /api/sdv/progress?by=site|patient|form`` (the protocol's
  risk-based plan).
* ``GET /api/lock``, ``POST /api/lock`` (data managers freeze, lock, unfreeze, unlock; reason and
  password re-entry).
* ``POST /api/checks/run`` (data managers run every edit check over the user's sites).

Every route is scoped to the user's sites; every change is audited by the store. After a
lock the store refuses every change, on every path (423).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from cletrial.store.csv_safe import neutralise_row
from cletrial.values import CODE_MAX_LENGTH, CODE_PATTERN
from cletrial.web.accounts import WebUser
from cletrial.web.clinical import patient_in_scope
from cletrial.web.deps import (
    Checker,
    Locker,
    Querier,
    ScopedPatient,
    SessionDep,
    Verifier,
    Viewer,
    write_uow,
)
from cletrial.web.events import as_public
from cletrial.web.monitoring import sdv_plan
from cletrial.web.routes._common import RecordId, errors
from cletrial.web.schemas_monitoring import (
    CheckRunPublic,
    LockEventPublic,
    LockRequest,
    LockStatePublic,
    QueryAction,
    QueryCreate,
    QueryDetailPublic,
    QueryMessagePublic,
    QueryPublic,
    SdvMarkPublic,
    SdvProgressPublic,
    SdvRequest,
)
from cletrial.web.signatures import check_signature_password

__all__ = ["QUERY_CSV_COLUMNS", "router"]

router = APIRouter(prefix="/api", tags=["monitoring"])


#: Columns of the queries CSV.
QUERY_CSV_COLUMNS = ("id", "site_code", "study_code", "table_name", "record_id", "field",
                     "status", "origin", "check_id", "severity", "subject", "opened_by",
                     "opened_at", "status_by", "status_at", "age_days")  # fmt: skip

Status = Literal["new", "open", "answered", "closed"]


def _with_age(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    return {**row, "age_days": (now - row["opened_at"]).days}


def _listing(
    uow: Any, user: WebUser, site: str | None, patient_id: int | None, form: str | None,
    status: list[Status] | None, older_than_days: int | None, limit: int, offset: int,
) -> list[dict[str, Any]]:  # fmt: skip
    site_ids = sorted(user.site_ids)
    if site is not None:
        codes = {s.code: s.id for s in uow.sites.list() if s.id in user.site_ids}
        site_ids = [codes[site]] if site in codes else []
    if patient_id is not None:
        patient_in_scope(uow, user, patient_id)
    rows = uow.queries.listing(site_ids=site_ids, patient_id=patient_id, form=form,
                               statuses=status, older_than_days=older_than_days, limit=limit,
                               offset=offset)  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    return [_with_age(row, now) for row in rows]


SiteQ = Annotated[
    str | None, Query(max_length=CODE_MAX_LENGTH, pattern=CODE_PATTERN, description="site code")
]
PatientQ = Annotated[int | None, Query(ge=1, le=2_147_483_647)]
FormQ = Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_]+$", description="form")]
StatusQ = Annotated[list[Status] | None, Query(description="status (repeat)")]
AgeQ = Annotated[int | None, Query(ge=0, le=100_000, description="raised at least N days ago")]


@router.get("/queries", response_model=list[QueryPublic], summary="Queries of the user's sites",
            responses=errors(404))  # fmt: skip
def list_queries(
    user: Viewer, uow: SessionDep, site: SiteQ = None, patient_id: PatientQ = None,
    form: FormQ = None, status: StatusQ = None, older_than_days: AgeQ = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0,
) -> list[QueryPublic]:  # fmt: skip
    """Queries, newest first, filtered by site, patient, form, status and age."""
    rows = _listing(uow, user, site, patient_id, form, status, older_than_days, limit, offset)
    return [QueryPublic(**row) for row in rows]


@router.get(
    "/queries.csv",
    summary="Queries of the user's sites as CSV",
    responses={200: {"content": {"text/csv": {}}}, **errors(404)},
)
def export_queries(
    user: Viewer, uow: SessionDep, site: SiteQ = None, patient_id: PatientQ = None,
    form: FormQ = None, status: StatusQ = None, older_than_days: AgeQ = None,
) -> Response:  # fmt: skip
    """The filtered queries as CSV (one line per query, newest first)."""
    rows = _listing(uow, user, site, patient_id, form, status, older_than_days, 10_000_000, 0)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=QUERY_CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(neutralise_row(row) for row in rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="queries.csv"'},
    )


@router.get("/queries/counts", response_model=dict[str, int], summary="Queries by status",
            responses=errors())  # fmt: skip
def count_queries(user: Viewer, uow: SessionDep) -> dict[str, int]:
    """How many queries of the user's sites are in each status."""
    return dict(uow.queries.counts(site_ids=sorted(user.site_ids)))


@router.post("/queries", response_model=QueryPublic, status_code=201, summary="Raise a query",
             responses=errors(404, 423))  # fmt: skip
def post_query(body: QueryCreate, request: Request, user: Querier) -> QueryPublic:
    """Raise a query (status ``new``) on a patient, a form or a field of a form."""
    with write_uow(request, user) as uow:
        patient_in_scope(uow, user, body.patient_id)
        query = uow.queries.raise_query(
            patient_id=body.patient_id, subject=body.subject, role=user.role,
            table_name=body.table_name, record_id=body.record_id, field=body.field,
        )  # fmt: skip
        return QueryPublic(**_public(uow, query))


def _public(uow: Any, query: Any) -> dict[str, Any]:
    """The query's fields with its patient's study code and site code, and its age."""
    patient = uow.patients.get(query.patient_id)
    fields = {f.name: getattr(query, f.name) for f in dataclasses.fields(query)}
    return {**fields, "study_code": patient.study_code,
            "site_code": uow.sites.get(patient.site_id).code,
            "age_days": (dt.datetime.now(dt.UTC) - query.opened_at).days}  # fmt: skip


def _detail(uow: Any, query: Any) -> QueryDetailPublic:
    messages = [as_public(QueryMessagePublic, m) for m in uow.queries.messages(query.id)]
    return QueryDetailPublic(**_public(uow, query), messages=messages)


@router.get("/queries/{query_id}", response_model=QueryDetailPublic,
            summary="A query and its thread", responses=errors(404))  # fmt: skip
def get_query(query_id: RecordId, user: Viewer, uow: SessionDep) -> QueryDetailPublic:
    """A query with every message of its thread, oldest first."""
    query = uow.queries.get(query_id)
    patient_in_scope(uow, user, query.patient_id)
    return _detail(uow, query)


@router.post("/queries/{query_id}/actions", response_model=QueryDetailPublic,
             summary="Acknowledge, answer, close, reopen or comment on a query",
             responses=errors(404, 409, 423))  # fmt: skip
def post_query_action(
    query_id: RecordId, body: QueryAction, request: Request, user: Viewer
) -> QueryDetailPublic:
    """Take a step of the query: the site acknowledges and answers (an answer may correct the
    value, saved with the reason ``query #<id>: <answer>``); monitors and data managers close
    and reopen; either comments."""
    with write_uow(request, user) as uow:
        query = uow.queries.get(query_id)
        patient_in_scope(uow, user, query.patient_id)
        updated = uow.queries.act(query_id, body.action, role=user.role, text=body.text,
                                  expected_version=body.version,
                                  correction=body.correction)  # fmt: skip
        return _detail(uow, updated)


@router.post("/sdv", response_model=SdvMarkPublic, status_code=201,
             summary="Mark a form or field verified against the source",
             responses=errors(404, 423))  # fmt: skip
def post_sdv(body: SdvRequest, request: Request, user: Verifier) -> SdvMarkPublic:
    """Mark a form (``field`` ``*``) or one field verified; a later change of the value clears
    the mark (the audit trail says why)."""
    from cletrial.store.repositories.queries import patient_of_record

    with write_uow(request, user) as uow:
        patient = patient_of_record(uow, body.table_name, body.record_id)
        patient_in_scope(uow, user, patient)
        return as_public(SdvMarkPublic, uow.sdv.verify(body.table_name, body.record_id,
                                                       body.field))  # fmt: skip


@router.delete("/sdv/{mark_id}", status_code=204, summary="Withdraw a verification mark",
               responses=errors(404, 409, 423))  # fmt: skip
def delete_sdv(
    mark_id: RecordId, request: Request, user: Verifier,
    reason: Annotated[str, Query(min_length=1, max_length=2000)],
    version: Annotated[int, Query(ge=1, le=2_147_483_647)],
) -> Response:  # fmt: skip
    """Withdraw a mark, with the reason (audited)."""
    with write_uow(request, user) as uow:
        mark = uow.sdv.get(mark_id)
        patient_in_scope(uow, user, mark.patient_id)
        uow.sdv.unverify(mark_id, expected_version=version, reason=reason)
    return Response(status_code=204)


@router.get("/patients/{patient_id}/sdv", response_model=list[SdvMarkPublic],
            summary="Verification marks of a patient", responses=errors(404))  # fmt: skip
def list_patient_sdv(patient: ScopedPatient, user: Viewer, uow: SessionDep) -> list[SdvMarkPublic]:
    """The patient's verification marks, by form."""
    return [as_public(SdvMarkPublic, m) for m in uow.sdv.for_patient(patient.id)]


@router.get("/sdv/progress", response_model=list[SdvProgressPublic],
            summary="Source data verification progress", responses=errors())  # fmt: skip
def sdv_progress(
    request: Request, user: Viewer, uow: SessionDep,
    by: Literal["site", "patient", "form"] = "form",
) -> list[SdvProgressPublic]:  # fmt: skip
    """Forms the protocol's risk-based plan requires, and how many are verified, by site,
    patient or form (the user's sites)."""
    rows = uow.sdv.progress(by=by, plan=sdv_plan(request), site_ids=sorted(user.site_ids))
    return [SdvProgressPublic(group=str(r[by]), required=r["required"], verified=r["verified"],
                              percent=r["percent"]) for r in rows]  # fmt: skip


def _lock_state(uow: Any) -> LockStatePublic:
    state, since = uow.locks.state()
    return LockStatePublic(
        state=state, since=dt.datetime.fromisoformat(since) if since else None,
        events=[as_public(LockEventPublic, e) for e in uow.locks.events()],
    )  # fmt: skip


@router.get("/lock", response_model=LockStatePublic, summary="The database's lock state",
            responses=errors())  # fmt: skip
def get_lock(user: Viewer, uow: SessionDep) -> LockStatePublic:
    """Open, frozen or locked, since when, and every lock event."""
    return _lock_state(uow)


@router.post("/lock", response_model=LockStatePublic, summary="Freeze, lock, unfreeze, unlock",
             responses=errors(429))  # fmt: skip
def post_lock(body: LockRequest, request: Request, user: Locker) -> LockStatePublic:
    """Freeze (no clinical change; queries and verification go on), lock (nothing changes),
    unfreeze or unlock the database: the reason and the data manager's password."""
    check_signature_password(request, user, body.password)
    with write_uow(request, user) as uow:
        uow.locks.apply(body.action, reason=body.reason, signed_name=user.display_name)
    with write_uow(request, user) as uow:
        return _lock_state(uow)


@router.post("/checks/run", response_model=CheckRunPublic, summary="Run the edit checks",
             responses=errors(423))  # fmt: skip
def post_checks_run(request: Request, user: Checker) -> CheckRunPublic:
    """Run every edit check over the patients of the user's sites: raise a query for each new
    finding, close those whose data now pass."""
    from cletrial.store.edit_check_runner import run_edit_checks

    started = time.perf_counter()
    with write_uow(request, user) as uow:
        ids = [p.id for s in sorted(user.site_ids) for p in uow.patients.list(site_id=s)]
        run = run_edit_checks(uow, patient_ids=ids)
    return CheckRunPublic(
        patients=run.patients, forms=run.forms, evaluations=run.evaluations,
        findings=run.findings, queries_raised=run.opened, queries_closed=run.closed,
        seconds=round(time.perf_counter() - started, 3),
    )  # fmt: skip
