"""Scores in their public shape: a CLASI or SLEDAI-2K form scored as the API and the visit
pages show it (the scores themselves come from :mod:`cletrial.instruments`)."""

from __future__ import annotations

from typing import Any

from cletrial.instruments import SLEDAI_WEIGHTS, compute_clasi, compute_max_erythema, compute_sledai
from cletrial.web.schemas import ClasiScorePublic, SledaiScorePublic

__all__ = ["score_clasi_form", "score_sledai_form"]


def score_clasi_form(form: Any) -> ClasiScorePublic:
    """Score a validated CLASI form (or mapping) into the public shape.

    >>> score_clasi_form({"regions": {"arms": {"erythema": 2}}}).activity
    2
    """
    score = compute_clasi(form)
    return ClasiScorePublic(
        activity=score.activity,
        damage=score.damage,
        activity_severity=score.activity_severity,
        max_erythema=compute_max_erythema(form),
    )


def score_sledai_form(form: Any) -> SledaiScorePublic:
    """Score a SLEDAI-2K form and list the descriptors that scored.

    >>> score_sledai_form({"rash": True, "fever": True}).scored
    {'rash': 2, 'fever': 1}
    """
    from cletrial.instruments import validate_sledai_form

    validated = validate_sledai_form(form)
    scored = {}
    for name, weight in SLEDAI_WEIGHTS.items():
        if not getattr(validated, name):
            continue
        if getattr(validated, f"{name}_drug_induced", False):
            continue
        scored[name] = weight
    return SledaiScorePublic(score=compute_sledai(validated), scored=scored)
