"""Pages of monitoring: the queries (listing with filters and CSV, one query with its thread
and the steps the user's role may take, raising one on a patient, form or field), source data
verification (marking a form verified, progress by site, patient and form) and the worklist.

Refusals (a missing text, a step the query's status does not allow, a corrected value the
record's rules refuse, the database lock) are shown on the form's field, never as a raw error.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from cletrial.errors import (
    AccessDeniedError,
    ConfirmationRequiredError,
    ConflictError,
    InputError,
    LockedRecordError,
)
from cletrial.store.fields import field_specs, table_of
from cletrial.store.repositories.queries import QUERY_TRANSITIONS, patient_of_record
from cletrial.store.vocab import QUERY_STATUSES
from cletrial.web.accounts import WebUser
from cletrial.web.clinical import patient_in_scope
from cletrial.web.deps import FormItems, Querier, SessionDep, Verifier, Viewer, write_uow
from cletrial.web.lock_banner import lock_refusal
from cletrial.web.monitoring import sdv_plan
from cletrial.web.monitoring_views import (
    FORM_TITLES,
    correction_field,
    correction_words,
    describe_target,
    field_title,
    form_title,
    parse_correction,
)
from cletrial.web.routes._common import RecordId, parse_id, parse_int, safe_next
from cletrial.web.worklists import build_worklist, worklist_kinds

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


#: Queries shown on one page of the listing.
PAGE_SIZE: Final = 100
#: Words of each step of a query, as its buttons say them.
ACTION_WORDS: Final = {"acknowledge": "Acknowledge", "answer": "Answer", "close": "Close",
                       "reopen": "Reopen", "comment": "Comment"}  # fmt: skip


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, context, status_code=status
    )
    return response


def _locked_text(request: Request, exc: LockedRecordError) -> str:
    banner = request.app.state.lock_banner
    banner.forget()
    return lock_refusal(banner.state(), str(exc))


# -- the listing ------------------------------------------------------------------------------


def _patient_by_code(uow: SessionDep, user: WebUser, code: str) -> int | None:
    t = table_of("patients")
    row = uow.connection.execute(
        select(t.c.id).where(t.c.study_code == code, t.c.site_id.in_(sorted(user.site_ids)))
    ).first()
    return None if row is None else int(row[0])


def _filters(
    uow: SessionDep, user: WebUser, values: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The listing's arguments from the GET form, and the errors of its fields."""
    errors: dict[str, str] = {}
    args: dict[str, Any] = {"site_ids": sorted(user.site_ids), "patient_id": None,
                            "form": None, "statuses": values["status"] or None,
                            "older_than_days": None}  # fmt: skip
    sites = {s.code: s.id for s in uow.sites.list() if s.id in user.site_ids}
    if values["site"]:
        if values["site"] in sites:
            args["site_ids"] = [sites[values["site"]]]
        else:
            errors["site"] = f"{values['site']} is not one of your sites"
    if values["patient"]:
        args["patient_id"] = _patient_by_code(uow, user, values["patient"])
        if args["patient_id"] is None:
            errors["patient"] = f"no patient with study code {values['patient']} at your sites"
    if values["form"]:
        if values["form"] in FORM_TITLES:
            args["form"] = values["form"]
        else:
            errors["form"] = "choose one of the forms listed"
    unknown = [s for s in values["status"] if s not in QUERY_STATUSES]
    if unknown:
        errors["status"] = f"{', '.join(unknown)}: the statuses are {', '.join(QUERY_STATUSES)}"
    if values["age"]:
        try:
            args["older_than_days"] = parse_int("age", values["age"], 0, 100_000)
        except InputError:
            errors["age"] = f"{values['age'][:40]}: give a whole number of days (0 or more)"
    if values["record"]:  # set by the links of a form's page: tampered, it is refused (422)
        args["record_id"] = parse_id("record", values["record"])
    return args, errors


def _csv_link(args: dict[str, Any], values: dict[str, Any]) -> str:
    pairs: list[tuple[str, Any]] = []
    if values["site"]:
        pairs.append(("site", values["site"]))
    if args["patient_id"]:
        pairs.append(("patient_id", args["patient_id"]))
    if args["form"]:
        pairs.append(("form", args["form"]))
    pairs += [("status", s) for s in args["statuses"] or ()]
    if args["older_than_days"] is not None:
        pairs.append(("older_than_days", args["older_than_days"]))
    return "/api/queries.csv" + ("?" + urlencode(pairs) if pairs else "")


@router.get("/queries", response_class=HTMLResponse)
def queries_page(
    request: Request, user: Viewer, uow: SessionDep, site: str = "", patient: str = "",
    form: str = "", status: Annotated[list[str] | None, Query()] = None, age: str = "",
    record: str = "", page: int = 1,
) -> Response:  # fmt: skip
    """Queries of the user's sites, newest first, filtered by site, patient, form, status and
    age; the counts by status; the same list as CSV."""
    values: dict[str, Any] = {
        "site": site.strip(), "patient": patient.strip(), "form": form.strip(),
        "status": [s for s in status or [] if s], "age": age.strip(), "record": record.strip(),
    }  # fmt: skip
    args, errors = _filters(uow, user, values)
    page = max(1, min(page, 10_000))
    rows: list[dict[str, Any]] = []
    more = False
    if not errors:
        if "record_id" in args:
            record_id = args.pop("record_id")
            rows = [r for r in uow.queries.listing(**args, limit=100_000)
                    if r["record_id"] == record_id]  # fmt: skip
        else:
            rows = uow.queries.listing(**args, limit=PAGE_SIZE + 1,
                                       offset=(page - 1) * PAGE_SIZE)  # fmt: skip
            more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    now = dt.datetime.now(dt.UTC)
    for row in rows:
        row["age_days"] = (now - row["opened_at"]).days
        row["target"] = form_title(row["table_name"]) + (
            f" · {field_title(row['table_name'], row['field'])}" if row["field"] else ""
        )
    sites = [s for s in uow.sites.list() if s.id in user.site_ids]
    keep = [(k, v) for k, v in values.items() if k != "status" and v] + [
        ("status", s) for s in values["status"]]  # fmt: skip
    return _render(request, "queries.html", {
        "rows": rows, "values": values, "errors": errors, "sites": sites,
        "forms": FORM_TITLES, "statuses": QUERY_STATUSES,
        "counts": uow.queries.counts(site_ids=sorted(user.site_ids)),
        "csv_link": _csv_link(args, values), "page": page, "more": more,
        "page_link": lambda n: "/queries?" + urlencode([*keep, ("page", n)]),
    }, 422 if errors else 200)  # fmt: skip


# -- raising a query ----------------------------------------------------------------------


def _raise_target(
    uow: SessionDep, user: WebUser, values: dict[str, Any]
) -> tuple[dict[str, Any], Any]:
    """The query being raised (patient, table, record, field) and its target, checked."""
    table = str(values.get("table", "") or "") or None
    name = str(values.get("field", "") or "") or None
    record_id: int | None = None
    if table is not None:
        if table not in FORM_TITLES:
            raise InputError("table", table, "choose a form and its record from its page")
        record_id = parse_id("record", values.get("record"))
        if name is not None and name not in field_specs(table):
            raise InputError("field", name, f"is not a field of the {form_title(table)} form")
        patient_id = patient_of_record(uow, table, record_id)
    else:
        patient_id = parse_id("patient_id", values.get("patient_id"))
    patient_in_scope(uow, user, patient_id)
    if table == "patients":
        table, record_id = None, None
    query = {"patient_id": patient_id, "table_name": table, "record_id": record_id,
             "field": name if table else None}  # fmt: skip
    return query, describe_target(uow, query)


def _raise_context(
    uow: SessionDep, query: dict[str, Any], target: Any, values: dict[str, Any],
    errors: dict[str, str],
) -> dict[str, Any]:  # fmt: skip
    patient = uow.patients.get(query["patient_id"])
    back = safe_next(str(values.get("next", "") or ""), f"/patients/{patient.id}")
    return {"query": query, "target": target, "patient": patient, "values": values,
            "errors": errors, "back": back}  # fmt: skip


@router.get("/queries/new", response_class=HTMLResponse, name="raise_query_form")
def raise_form(
    request: Request, user: Querier, uow: SessionDep, table: str = "", record: str = "",
    field: str = "", patient_id: str = "", back: Annotated[str, Query(alias="next")] = "",
) -> Response:  # fmt: skip
    """The form raising a query on a patient, a form or one field of a form."""
    values = {"table": table, "record": record, "field": field, "patient_id": patient_id,
              "next": back}  # fmt: skip
    query, target = _raise_target(uow, user, values)
    return _render(request, "query_raise.html", _raise_context(uow, query, target, values, {}))


@router.post("/queries/new", response_class=HTMLResponse)
def raise_submit(request: Request, user: Querier, uow: SessionDep, form: FormItems) -> Response:
    """Raise the query, then go back to the page it was raised from."""
    values: dict[str, Any] = dict(form)
    query, target = _raise_target(uow, user, values)
    subject = str(values.get("subject", "")).strip()
    errors: dict[str, str] = {}
    status = 422
    if not subject:
        errors["subject"] = "write the question for the site (what looks wrong, and why)"
    else:
        try:
            with write_uow(request, user) as wuow:
                raised = wuow.queries.raise_query(subject=subject, role=user.role, **query)
            back = safe_next(str(values.get("next", "") or ""), f"/patients/{query['patient_id']}")
            sep = "&" if "?" in back else "?"
            return RedirectResponse(f"{back}{sep}raised={raised.id}", status_code=303)
        except LockedRecordError as exc:
            status, errors["subject"] = 423, _locked_text(request, exc)
        except InputError as exc:
            errors["subject"] = exc.problem
    return _render(request, "query_raise.html",
                   _raise_context(uow, query, target, values, errors), status)  # fmt: skip


# -- one query ----------------------------------------------------------------------------


def _steps(user: WebUser, status: str) -> list[tuple[str, str]]:
    """The steps of a query the user's role may take in its status: (action, words)."""
    return [(action, ACTION_WORDS[action]) for action, (before, _after, roles)
            in QUERY_TRANSITIONS.items() if status in before and user.role in roles]  # fmt: skip


def _query_context(
    uow: SessionDep, user: WebUser, query: Any, values: dict[str, Any], errors: dict[str, str],
    notice: str = "",
) -> dict[str, Any]:  # fmt: skip
    messages = [{"m": m, "correction": correction_words(query.table_name, m.correction)}
                for m in uow.queries.messages(query.id)]  # fmt: skip
    target = describe_target(uow, query)
    patient = uow.patients.get(query.patient_id)
    steps = _steps(user, query.status)
    return {
        "query": query, "patient": patient, "site": uow.sites.get(patient.site_id),
        "target": target, "messages": messages, "steps": steps, "values": values,
        "errors": errors, "notice": notice,
        "can_correct": target.kind is not None and any(a == "answer" for a, _ in steps),
        "age_days": (dt.datetime.now(dt.UTC) - query.opened_at).days,
    }  # fmt: skip


@router.get("/queries/{query_id}", response_class=HTMLResponse)
def query_page(
    query_id: RecordId, request: Request, user: Viewer, uow: SessionDep, saved: str = ""
) -> Response:
    """A query: its target, its thread, and the steps the user's role may take."""
    query = uow.queries.get(query_id)
    patient_in_scope(uow, user, query.patient_id)
    notice = f"Saved: the query is now {query.status}." if saved else ""
    return _render(request, "query.html", _query_context(uow, user, query, {}, {}, notice))


def _action_error(exc: InputError) -> tuple[str, str]:
    """The form field an error of a query step is shown on, and the words."""
    if exc.field == "query_messages.text":
        return "text", exc.problem
    if exc.field in ("queries.status", "query_messages.action"):
        return "form", exc.problem
    if exc.field == "query_messages.correction":
        return "correction", exc.problem
    return "correction", f"the corrected value was refused: {exc.problem}"  # the record's rules


def _correction(
    uow: SessionDep, query: Any, values: dict[str, Any]
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    raw = str(values.get("correction", "")).strip()
    if not raw:
        return None, {}
    if values.get("action") != "answer":
        return None, {"correction": "a corrected value is sent with an answer: choose Answer, "
                                    "or clear the corrected value"}  # fmt: skip
    target = describe_target(uow, query)
    if target.kind is None:
        return None, {"correction": target.note or "this value cannot be corrected here"}
    try:
        value = parse_correction(target.kind, raw)
    except InputError as exc:
        return None, {"correction": f"{exc.value}: {exc.problem}"}
    name = correction_field(query.field, query.table_name)
    assert name is not None
    changes: dict[str, Any] = {name: value}
    if query.table_name == "labs" and values.get("confirmed"):
        changes["value_confirmed"] = True
    return changes, {}


@router.post("/queries/{query_id}", response_class=HTMLResponse)
def query_submit(
    query_id: RecordId, request: Request, user: Viewer, uow: SessionDep, form: FormItems
) -> Response:
    """Take a step of the query (the button pressed says which), or show the form again with
    the refusal on its field."""
    query = uow.queries.get(query_id)
    patient_in_scope(uow, user, query.patient_id)
    values: dict[str, Any] = dict(form)
    action = str(values.get("action", ""))
    version = parse_id("version", values.get("version"))
    correction, errors = _correction(uow, query, values)
    status = 422
    if action not in ACTION_WORDS:
        errors["form"] = "choose one of the steps offered below"
    elif action != "acknowledge" and not str(values.get("text", "")).strip():
        errors["text"] = f"write your message: it is required to {action} a query"
    if not errors:
        try:
            with write_uow(request, user) as wuow:
                wuow.queries.act(query_id, action, role=user.role, text=str(values.get("text", "")),
                                 expected_version=version,
                                 correction=correction)  # fmt: skip
            return RedirectResponse(f"/queries/{query_id}?saved=1", status_code=303)
        except ConfirmationRequiredError as exc:
            errors["correction"] = f"{exc.problem}; tick the box to confirm it"
            values["ask_confirm"] = True
        except InputError as exc:
            name, words = _action_error(exc)
            errors[name] = words
        except ConflictError:
            status = 409
            errors["form"] = ("someone acted on this query since you opened it: its thread below "
                              "is up to date; read it and try again")  # fmt: skip
        except LockedRecordError as exc:
            status = 423
            errors["form"] = _locked_text(request, exc)
        except AccessDeniedError as exc:
            status = 403
            errors["form"] = str(exc)
    current = uow.queries.get(query_id)
    values["version"] = str(current.version)
    return _render(request, "query.html", _query_context(uow, user, current, values, errors),
                   status)  # fmt: skip


# -- source data verification ---------------------------------------------------------------


@router.post("/sdv/verify", response_class=HTMLResponse)
def verify_submit(request: Request, user: Verifier, uow: SessionDep, form: FormItems) -> Response:
    """Mark a form verified against the source, then go back to its page."""
    values: dict[str, Any] = dict(form)
    table = str(values.get("table_name", ""))
    if table not in FORM_TITLES:
        raise InputError("table_name", table, "choose the form to verify from its page")
    record = parse_id("record_id", values.get("record_id"))
    patient_id = patient_of_record(uow, table, record)
    patient_in_scope(uow, user, patient_id)
    back = safe_next(str(values.get("next", "") or ""), f"/patients/{patient_id}")
    try:
        with write_uow(request, user) as wuow:
            wuow.sdv.verify(table, record)
    except LockedRecordError as exc:
        raise LockedRecordError(_locked_text(request, exc)) from None
    sep = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{sep}verified=1#sdv-{table}-{record}", status_code=303)


@router.get("/sdv", response_class=HTMLResponse)
def sdv_page(request: Request, user: Viewer, uow: SessionDep) -> Response:
    """Source data verification progress of the user's sites by site, patient and form,
    against the protocol's risk-based plan."""
    plan = sdv_plan(request)
    site_ids = sorted(user.site_ids)
    tables = {by: uow.sdv.progress(by=by, plan=plan, site_ids=site_ids)
              for by in ("site", "patient", "form")}  # fmt: skip
    t = table_of("patients")
    rows = uow.connection.execute(select(t.c.study_code, t.c.id).where(t.c.site_id.in_(site_ids)))
    ids = {str(code): int(pid) for code, pid in rows}
    return _render(request, "sdv.html", {"tables": tables, "plan": plan, "forms": FORM_TITLES,
                                         "patient_ids": ids})  # fmt: skip


# -- the worklist ---------------------------------------------------------------------------


@router.get("/worklist", response_class=HTMLResponse)
def worklist_page(request: Request, user: Viewer, uow: SessionDep) -> Response:
    """What waits for the user: the worklist of their role first, then the others they may
    see."""
    lists = [build_worklist(kind, uow, user, request.app.state, plan=sdv_plan(request),
                            limit=50) for kind in worklist_kinds(user)]  # fmt: skip
    return _render(request, "worklist.html", {"lists": lists})
