"""SLEDAI-2K flares: the paper's rule and the SELENA flare index, side by side.

- The paper (Cortés-Hernández 2012, Endpoints): a mild flare is a rise of SLEDAI-2K by more than
  3 points, a severe flare a rise by more than 12, both against baseline.
- SELENA flare index (a selectable alternative, protocol specification section 5): mild/moderate
  is a rise of at least 3 points to a score of at most 12; severe is the score rising above 12;
  each visit is compared with the previous assessed score (baseline for the first visit).

A visit is classed severe or mild (never both). Per patient and rule: whether any visit was a mild
and whether any was a severe flare, with the first such visit; missing when no post-baseline score
could be compared (no baseline, or no post-baseline SLEDAI-2K).

>>> from cletrial.endpoints.course import course_from_history
>>> c = course_from_history({"patient_id": "P1", "doses": [{"date": "2009-01-05",
...     "regimen": "5_daily"}],
...     "baseline": {"date": "2009-01-05", "sledai": {"score": 4}},
...     "assessments": [{"date": "2009-04-27", "sledai": {"score": 7}}]})
>>> f = compute_flares(c)
>>> f["flare_paper_mild"], f["flare_selena_mild"], f["flare_paper_severe"]
(False, True, False)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cletrial.endpoints._vec import Cohort, Rows, first_per_group, take
from cletrial.endpoints.course import Course
from cletrial.endpoints.rules import DEFAULT_RULES, EndpointRules, FlareRule

__all__ = ["compute_flare_kind", "compute_flares", "derive_flares", "flare_columns"]


def flare_columns(rules: EndpointRules = DEFAULT_RULES) -> dict[str, str]:
    """Column -> kind of the flare part of the subject table, for every flare rule.

    >>> list(flare_columns())[:3]
    ['sledai_base', 'flare_paper_mild', 'flare_paper_mild_day']
    """
    columns = {"sledai_base": "float"}
    for rule in rules.flare_rules:
        for level in ("mild", "severe"):
            stem = f"flare_{rule.name}_{level}"
            columns.update({stem: "bool", f"{stem}_day": "int", f"{stem}_srcseq": "int"})
    return columns


def compute_flare_kind(rule: FlareRule, reference: float, score: float) -> str | None:
    """Classify one visit's SLEDAI-2K ``score`` against ``reference``: severe, mild or None.

    Parameters
    ----------
    rule : FlareRule
        The flare definition.
    reference, score : float
        SLEDAI-2K scores (0-105).

    >>> from cletrial.endpoints.rules import PAPER_FLARE, SELENA_FLARE
    >>> compute_flare_kind(PAPER_FLARE, 2, 6), compute_flare_kind(PAPER_FLARE, 2, 5)
    ('mild', None)
    >>> compute_flare_kind(SELENA_FLARE, 10, 14)
    'severe'
    """
    increase = score - reference
    severe = (rule.severe_min_increase is not None and increase >= rule.severe_min_increase) or (
        rule.severe_above_score is not None
        and score > rule.severe_above_score
        and reference <= rule.severe_above_score
    )
    if severe:
        return "severe"
    if increase >= rule.mild_min_increase and (
        rule.mild_max_score is None or score <= rule.mild_max_score
    ):
        return "mild"
    return None


def compute_flares(course: Course, rules: EndpointRules = DEFAULT_RULES) -> dict[str, Any]:
    """Flares of one patient under every rule of ``rules`` (the per-patient reference).

    Returns the :func:`flare_columns`: ``flare_<rule>_<level>`` True / False / None (nothing
    to compare), with the day and assessment ``seq`` of the first such visit.

    >>> from cletrial.endpoints.course import course_from_history
    >>> c = course_from_history({"patient_id": "P", "doses": [{"date": "2009-01-05",
    ...     "regimen": "5_daily"}]})
    >>> compute_flares(c)["flare_paper_mild"] is None
    True
    """
    base = course.sledai_base
    out: dict[str, Any] = dict.fromkeys(flare_columns(rules))
    out["sledai_base"] = None if base is None else float(base)
    scored = [v for v in course.visits if v.day > 0 and v.sledai is not None]
    for rule in rules.flare_rules:
        reference = base
        found: dict[str, Any] = {}
        compared = False
        for v in scored:
            if reference is not None:
                compared = True
                kind = compute_flare_kind(rule, reference, v.sledai or 0)
                if kind is not None and kind not in found:
                    found[kind] = v
            if rule.reference == "previous":
                reference = v.sledai
        for level in ("mild", "severe"):
            stem = f"flare_{rule.name}_{level}"
            if compared:
                out[stem] = level in found
            if level in found:
                out[f"{stem}_day"] = found[level].day
                out[f"{stem}_srcseq"] = found[level].seq
    return out


def derive_flares(
    c: Cohort, rules: EndpointRules = DEFAULT_RULES
) -> dict[str, np.ndarray[Any, Any]]:
    """Vectorised :func:`compute_flares` over a cohort (per-patient arrays, NaN = missing).

    >>> from cletrial.endpoints.table import build_visit_table
    >>> derive_flares(Cohort.from_table(build_visit_table([])))["sledai_base"].size
    0
    """
    n = c.n
    scored = Rows.where(c, (c.v_day > 0) & ~np.isnan(c.v_s))
    score = c.v_s[scored.row]
    base = c.s_base[scored.pidx]
    previous = np.where(scored.prev_same, scored.previous(score), base)
    out: dict[str, np.ndarray[Any, Any]] = {"sledai_base": c.s_base}
    for rule in rules.flare_rules:
        ref = previous if rule.reference == "previous" else base
        compared = np.zeros(n, dtype=bool)
        compared[scored.pidx[~np.isnan(ref)]] = True
        inc = score - ref  # NaN where there is no reference: every comparison below is False
        severe = np.zeros(score.size, dtype=bool)
        if rule.severe_min_increase is not None:
            severe |= inc >= rule.severe_min_increase
        if rule.severe_above_score is not None:
            severe |= (score > rule.severe_above_score) & (ref <= rule.severe_above_score)
        mild = ~severe & (inc >= rule.mild_min_increase)
        if rule.mild_max_score is not None:
            mild &= score <= rule.mild_max_score
        for level, mask in (("mild", mild), ("severe", severe)):
            first = first_per_group(scored.pidx, mask, n)
            stem = f"flare_{rule.name}_{level}"
            out[stem] = np.where(compared, (first >= 0).astype(np.float64), np.nan)
            out[f"{stem}_day"] = take(scored.day, first)
            out[f"{stem}_srcseq"] = take(scored.seq, first)
    return out
