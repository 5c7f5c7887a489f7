"""The study report and the exports (statisticians; administrators; investigators see the report).

Exports cover the patients of the user's sites: the patient histories as JSON Lines (the input
format of the endpoint and analysis commands) and the per-patient endpoints as CSV. Exports carry
pseudonymous study codes only.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from cletrial.errors import CletrialError
from cletrial.store import export_patient_history
from cletrial.store.csv_safe import neutralise_cell
from cletrial.store.monitoring_rules import compute_lock_stamp
from cletrial.web.accounts import WebUser
from cletrial.web.deps import Exporter, Reporter, SessionDep
from cletrial.web.routes._common import errors

__all__ = ["api", "pages", "study_endpoints"]

api = APIRouter(prefix="/api", tags=["report and exports"])
pages = APIRouter(include_in_schema=False)


def lock_headers(uow: Any) -> dict[str, str]:
    """HTTP headers saying the database's state at the export: ``X-Database-State`` (open,
    frozen, locked), ``X-Database-Since`` (the lock time) and ``X-Exported-At``."""
    stamp = compute_lock_stamp(uow.connection)
    headers = {"X-Database-State": str(stamp["state"]), "X-Exported-At": str(stamp["exported_at"])}
    if stamp["since"]:
        headers["X-Database-Since"] = str(stamp["since"])
    return headers


def _histories(request: Request, uow: SessionDep, user: WebUser) -> list[dict[str, Any]]:
    out = []
    for site_id in sorted(user.site_ids):
        for patient in uow.patients.list(site_id=site_id):
            out.append(export_patient_history(uow, patient.id))
    return out


def _protocol(request: Request) -> Any:
    return request.app.state.protocol.get()


def study_endpoints(
    histories: list[dict[str, Any]], protocol: Any = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per-patient endpoint rows and a summary (counts of best response, relapses), with the
    endpoint rules of ``protocol`` (the protocol the study runs; default the bundled one).

    >>> rows, summary = study_endpoints([])
    >>> rows, summary["patients"]
    ([], 0)
    """
    from cletrial.endpoints import EndpointRules, compute_patient_endpoints, course_from_history
    from cletrial.protocol import load_protocol

    rules = EndpointRules.from_protocol(protocol or load_protocol())
    rows = []
    for history in histories:
        try:
            rows.append(compute_patient_endpoints(course_from_history(history, rules)).subject)
        except CletrialError as exc:
            rows.append({"patient_id": history.get("patient_id"), "error": str(exc)})
    responses: dict[str, int] = {}
    for row in rows:
        key = str(row.get("best_response") or "not assessed")
        responses[key] = responses.get(key, 0) + 1
    summary = {"patients": len(rows), "best_response": responses}
    return rows, summary


@api.get("/report", summary="Study report: endpoints of my sites' patients",
         responses=errors())  # fmt: skip
def get_report(request: Request, user: Reporter, uow: SessionDep) -> dict[str, Any]:
    """Best response counts and each patient's endpoints (CR, time to CR, relapses, ...)."""
    rows, summary = study_endpoints(_histories(request, uow, user), _protocol(request))
    return {"summary": summary, "patients": json.loads(json.dumps(rows, default=str))}


@api.get(
    "/exports/histories.jsonl",
    summary="Export patient histories (JSON Lines)",
    responses={200: {"content": {"application/x-ndjson": {}}}, **errors()},
)
def export_histories(request: Request, user: Exporter, uow: SessionDep) -> Response:
    """One history a line (``docs/formats.md``), for ``cletrial endpoints`` and the analysis."""
    lines = [json.dumps(h, sort_keys=True) for h in _histories(request, uow, user)]
    return Response(
        "\n".join(lines) + ("\n" if lines else ""),
        media_type="application/x-ndjson",
        headers={
            "Content-Disposition": 'attachment; filename="histories.jsonl"',
            **lock_headers(uow),
        },
    )


@api.get(
    "/exports/endpoints.csv",
    summary="Export per-patient endpoints (CSV)",
    responses={200: {"content": {"text/csv": {}}}, **errors()},
)
def export_endpoints(request: Request, user: Exporter, uow: SessionDep) -> Response:
    """One row a patient: best response, time to CR, relapses, flares, damage change, ..."""
    rows, _ = study_endpoints(_histories(request, uow, user), _protocol(request))
    buffer = io.StringIO()
    columns = sorted({k for row in rows for k in row})
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else neutralise_cell(row.get(k))
                         for k in columns})  # fmt: skip
    return Response(
        buffer.getvalue(),
        media_type="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="endpoints.csv"',
            **lock_headers(uow),
        },
    )


@pages.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, user: Reporter, uow: SessionDep) -> Response:
    """The study report (endpoints of the user's sites' patients) and export links."""
    rows, summary = study_endpoints(_histories(request, uow, user), _protocol(request))
    response: Response = request.app.state.templates.TemplateResponse(
        request, "reports.html", {"rows": rows, "summary": summary}
    )
    return response
