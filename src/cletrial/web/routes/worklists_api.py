"""REST API of worklists: ``GET /api/worklists/{kind}`` for ``coordinator`` (visits and labs
due or overdue, planned visits missing, queries waiting for the site), ``investigator``
(visits awaiting signature) and ``monitor`` (queries answered, new and open; forms awaiting
verification). Items are the user's sites' only, most urgent first; the list is cut at
``limit`` items and the ``X-Total-Count`` header says how many there are in all.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from cletrial.errors import AccessDeniedError
from cletrial.web.deps import CurrentUser, SessionDep
from cletrial.web.monitoring import sdv_plan
from cletrial.web.routes._common import errors
from cletrial.web.schemas_monitoring import WorklistItemPublic
from cletrial.web.worklists import build_worklist, worklist_kinds

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["worklists"])

#: Header giving the number of items before the list is cut at ``limit``.
TOTAL_HEADER = "X-Total-Count"


@router.get("/worklists/{kind}", response_model=list[WorklistItemPublic],
            summary="What waits for a role", responses=errors())  # fmt: skip
def get_worklist(
    kind: Literal["coordinator", "investigator", "monitor"], request: Request, response: Response,
    user: CurrentUser, uow: SessionDep, limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> list[WorklistItemPublic]:  # fmt: skip
    """The worklist of a role for the user's sites, most urgent first: coordinators (and
    investigators) see what is due, overdue or missing and the queries to answer;
    investigators the visits to sign; monitors and data managers the queries to act on and the
    forms to verify."""
    if kind not in worklist_kinds(user):
        raise AccessDeniedError(f"your role ({user.role}) has no {kind} worklist: "
                                "ask the study administrator if you need it")  # fmt: skip
    worklist = build_worklist(kind, uow, user, request.app.state, plan=sdv_plan(request),
                              limit=limit)  # fmt: skip
    response.headers[TOTAL_HEADER] = str(worklist.total)
    return worklist.items
