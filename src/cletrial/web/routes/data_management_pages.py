"""Pages of data management: the database lock (state, events, and the e-signed freeze, lock,
unfreeze and unlock) and the run of the protocol's edit checks over the user's sites.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cletrial.errors import InputError, LockedRecordError
from cletrial.store.repositories.verification import LOCK_TRANSITIONS
from cletrial.web.deps import Checker, FormItems, Locker, SessionDep, Viewer, write_uow
from cletrial.web.handlers import LoginLockedError, SignatureRefusedError
from cletrial.web.lock_banner import lock_refusal
from cletrial.web.signatures import check_signature_password

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


#: What each lock action means, as the form and the signature say it.
LOCK_MEANINGS: Final = {
    "freeze": "Freeze: no clinical data may be entered or changed; queries and source data "
              "verification go on",
    "unfreeze": "Unfreeze: data entry is open again",
    "lock": "Lock: nothing may be changed (final analysis)",
    "unlock": "Unlock: data entry is open again (e.g. for a correction found after the lock)",
}  # fmt: skip


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, context, status_code=status
    )
    return response


def _lock_context(
    uow: SessionDep, values: dict[str, Any], errors: dict[str, str], notice: str = ""
) -> dict[str, Any]:
    state, since = uow.locks.state()
    allowed = [(a, LOCK_MEANINGS[a]) for a, (before, _after) in LOCK_TRANSITIONS.items()
               if state in before]  # fmt: skip
    return {
        "state": state, "since": dt.datetime.fromisoformat(since) if since else None,
        "events": list(reversed(uow.locks.events())), "allowed": allowed, "values": values,
        "errors": errors, "notice": notice, "now": dt.datetime.now(dt.UTC),
    }  # fmt: skip


@router.get("/lock", response_class=HTMLResponse)
def lock_page(request: Request, user: Viewer, uow: SessionDep, saved: str = "") -> Response:
    """The database's state, its lock events, and (data managers) the e-signed form."""
    notice = "Signed and recorded." if saved else ""
    request.app.state.lock_banner.forget()  # this page always shows the state as it is
    return _render(request, "lock.html", _lock_context(uow, {}, {}, notice))


def _lock_errors(values: dict[str, Any], allowed: list[str]) -> dict[str, str]:
    errors = {}
    if values.get("action") not in allowed:
        errors["action"] = "choose what to do (" + ", ".join(allowed) + ")"
    if not str(values.get("reason", "")).strip():
        errors["reason"] = "give the reason (it is recorded with your signature)"
    if not str(values.get("password", "")):
        errors["password"] = "re-enter your password to sign"
    return errors


@router.post("/lock", response_class=HTMLResponse)
def lock_submit(request: Request, user: Locker, uow: SessionDep, form: FormItems) -> Response:
    """Freeze, lock, unfreeze or unlock the database: reason and password re-entry (the
    data manager's electronic signature)."""
    values: dict[str, Any] = dict(form)
    state, _since = uow.locks.state()
    allowed = [a for a, (before, _after) in LOCK_TRANSITIONS.items() if state in before]
    errors = _lock_errors(values, allowed)
    status = 422
    if not errors:
        try:
            check_signature_password(request, user, str(values["password"]))
            with write_uow(request, user) as wuow:
                wuow.locks.apply(str(values["action"]), reason=str(values["reason"]).strip(),
                                 signed_name=user.display_name)  # fmt: skip
            request.app.state.lock_banner.forget()
            return RedirectResponse("/lock?saved=1", status_code=303)
        except (SignatureRefusedError, LoginLockedError) as exc:
            status, errors["password"] = 403, str(exc)
        except InputError as exc:
            name = exc.field.removeprefix("lock_events.")
            errors["reason" if name == "reason" else "action"] = exc.problem
    values.pop("password", None)
    return _render(request, "lock.html", _lock_context(uow, values, errors), status)


@router.get("/checks", response_class=HTMLResponse)
def checks_page(request: Request, user: Checker) -> Response:
    """The run of the edit checks: what it does, and the button."""
    return _render(request, "checks.html", {"run": None, "error": "", "raised": []})


@router.post("/checks", response_class=HTMLResponse)
def checks_submit(request: Request, user: Checker, uow: SessionDep) -> Response:
    """Run every edit check of the protocol over the patients of the user's sites: a query for
    each new finding, and those whose data now pass closed; show what the run did."""
    from cletrial.store.edit_check_runner import run_edit_checks

    started = time.perf_counter()
    ids = [p.id for s in sorted(user.site_ids) for p in uow.patients.list(site_id=s)]
    try:
        with write_uow(request, user) as wuow:
            run = run_edit_checks(wuow, patient_ids=ids)
    except LockedRecordError as exc:
        banner = request.app.state.lock_banner
        banner.forget()
        return _render(request, "checks.html", {
            "run": None, "raised": [], "error": lock_refusal(banner.state(), str(exc)),
        }, 423)  # fmt: skip
    codes = {p.id: p.study_code for s in sorted(user.site_ids)
             for p in uow.patients.list(site_id=s)}  # fmt: skip
    return _render(request, "checks.html", {
        "run": run, "error": "", "seconds": round(time.perf_counter() - started, 2),
        "raised": [(q, codes.get(q.patient_id, "")) for q in run.raised[:100]],
    })  # fmt: skip
