"""Live scoring API: CLASI, SLEDAI-2K, CTCAE lab grades, body surface area, eligibility and the
protocol's recommendation, computed on posted data (nothing is saved).

The visit and screening pages call these as the user types; they are also the REST API for other
systems. Every answer comes from the core packages (:mod:`cletrial.instruments`,
:mod:`cletrial.protocol`), so the pages show exactly what the saved record will hold.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from cletrial.instruments import (
    compute_bsa_percent,
    decode_clasi_json,
    decode_sledai_json,
    grade_lab,
    require_complete_clasi,
    require_complete_sledai,
)
from cletrial.store.vocab import LAB_CTCAE_TERMS
from cletrial.web.decisions import assess_screening, recommend_for
from cletrial.web.deps import CurrentUser
from cletrial.web.routes._common import decode_json_object, errors, json_body_doc, read_json_body
from cletrial.web.schemas import (
    BsaPublic,
    BsaRequest,
    ClasiScorePublic,
    LabGradePublic,
    LabGradeRequest,
    RecommendationRequest,
    SledaiScorePublic,
)
from cletrial.web.scores import score_clasi_form, score_sledai_form

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["live scoring"])


@router.post(
    "/score/clasi",
    response_model=ClasiScorePublic,
    summary="Score a CLASI form",
    responses=errors(415),
    openapi_extra=json_body_doc(
        "ClasiForm",
        "A complete CLASI form: every item entered, 0 when absent (a blank is missing, never 0).",
    ),
)
async def score_clasi(request: Request, _user: CurrentUser) -> ClasiScorePublic:
    """CLASI-A (0-70), CLASI-D (0-56), the activity severity band and the worst erythema of a
    complete form; a wrong value is named first, then any item left out."""
    body = await read_json_body(request)
    form = decode_json_object(body)  # a JSON object; decode_clasi_json(b"null") raises
    decode_clasi_json(body)
    return score_clasi_form(require_complete_clasi(form))


@router.post(
    "/score/sledai",
    response_model=SledaiScorePublic,
    summary="Score a SLEDAI-2K form",
    responses=errors(415),
    openapi_extra=json_body_doc(
        "SledaiForm", "Every descriptor true or false (a blank is missing, never absent)."
    ),
)
async def score_sledai(request: Request, _user: CurrentUser) -> SledaiScorePublic:
    """SLEDAI-2K total (0-105) of a complete form; drug-induced cytopenias do not score."""
    body = await read_json_body(request)
    form = decode_json_object(body)
    decode_sledai_json(body)
    return score_sledai_form(require_complete_sledai(form))


def grade_lab_request(body: LabGradeRequest) -> LabGradePublic:
    """Grade one lab value under NCI CTCAE.

    >>> grade_lab_request(LabGradeRequest(test="neutrophils", value=1190, unit="/mm3")).grade
    2
    """
    result = grade_lab(
        LAB_CTCAE_TERMS[body.test],
        body.value,
        body.unit,
        lln=body.lln,
        version=body.ctcae_version,
    )
    return LabGradePublic(test=body.test, **result.as_dict())


@router.post(
    "/grade",
    response_model=LabGradePublic,
    summary="Grade a lab value (NCI CTCAE)",
    responses=errors(),
)
async def grade(body: LabGradeRequest, _user: CurrentUser) -> LabGradePublic:
    """CTCAE grade of a neutrophil, WBC, platelet or haemoglobin value, with the LLN used."""
    return grade_lab_request(body)


@router.post(
    "/score/bsa",
    response_model=BsaPublic,
    summary="Body surface area by the rule of nines",
    responses=errors(),
)
async def score_bsa(body: BsaRequest, _user: CurrentUser) -> BsaPublic:
    """Percent of body surface involved (adult rule of nines), for eligibility criterion I6."""
    return BsaPublic(percent=compute_bsa_percent(body.involvement))


@router.post(
    "/eligibility",
    summary="Assess eligibility of a screening record",
    responses=errors(415),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A screening record (the protocol's screening format).",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def eligibility(request: Request, _user: CurrentUser) -> dict[str, Any]:
    """Each criterion's status (met, not met, undetermined with what is missing) and the verdict."""
    record = decode_json_object(await read_json_body(request))
    return assess_screening(request.app.state.protocol, record)


@router.post(
    "/recommendation",
    summary="The protocol's recommendation for a patient history",
    responses=errors(),
)
def recommendation(
    body: RecommendationRequest, request: Request, _user: CurrentUser
) -> dict[str, Any]:
    """Action, regimen, reasons (rule, data, protocol or label-derived), next visit and labs,
    alerts. Decision support: a clinician decides."""
    return recommend_for(request.app.state.protocol, body.history, body.on)
