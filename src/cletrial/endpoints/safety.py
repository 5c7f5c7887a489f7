"""Adverse events by grade, causality and seriousness.

Treatment-emergent adverse events are those starting on or after the first dose. Per patient:
their number, how many are related (causality in ``related_causalities``: possible, probable,
definite), how many lack a causality or a grade (missing is reported, never counted as
unrelated or mild), the highest known NCI CTCAE grade, and the serious ones (life-threatening,
death, hospitalisation, persistent disability). Untreated patients have no treatment-emergent
events (missing).

>>> from cletrial.endpoints.course import course_from_history
>>> c = course_from_history({"patient_id": "P15", "doses": [{"date": "2009-02-02",
...     "regimen": "5_daily"}],
...     "adverse_events": [{"term": "Insomnia", "start": "2009-04-01", "grade": 2,
...                         "causality": "probable", "serious": False}]})
>>> s = compute_safety(c)
>>> s["n_ae"], s["n_ae_related"], s["max_ae_grade"]
(1, 1, 2)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cletrial.endpoints._vec import Cohort
from cletrial.endpoints.course import Course
from cletrial.endpoints.rules import CAUSALITY_TERMS, DEFAULT_RULES, EndpointRules
from cletrial.endpoints.table import VisitTable

__all__ = ["SAFETY_COLUMNS", "compute_safety", "derive_safety"]

SAFETY_COLUMNS: dict[str, str] = {
    "any_ae": "bool",
    "n_ae": "int",
    "n_ae_related": "int",
    "n_ae_causality_missing": "int",
    "max_ae_grade": "int",
    "n_ae_grade_missing": "int",
    "n_sae": "int",
    "n_ae_seriousness_missing": "int",
}


def compute_safety(course: Course, rules: EndpointRules = DEFAULT_RULES) -> dict[str, Any]:
    """Treatment-emergent adverse-event counts of one patient (the reference).

    >>> from cletrial.endpoints.course import course_from_history
    >>> compute_safety(course_from_history({"patient_id": "P",
    ...     "baseline": {"date": "2009-01-05"}}))["n_ae"] is None
    True
    """
    out: dict[str, Any] = dict.fromkeys(SAFETY_COLUMNS)
    if not course.treated:
        return out
    te = [a for a in course.adverse_events if a.start_day >= 0]
    grades = [a.grade for a in te if a.grade is not None]
    out.update(
        any_ae=bool(te),
        n_ae=len(te),
        n_ae_related=sum(a.causality in rules.related_causalities for a in te),
        n_ae_causality_missing=sum(a.causality is None for a in te),
        max_ae_grade=max(grades) if grades else None,
        n_ae_grade_missing=len(te) - len(grades),
        n_sae=sum(a.serious is True for a in te),
        n_ae_seriousness_missing=sum(a.serious is None for a in te),
    )
    return out


def derive_safety(
    table: VisitTable, c: Cohort, rules: EndpointRules = DEFAULT_RULES
) -> dict[str, np.ndarray[Any, Any]]:
    """Vectorised :func:`compute_safety` (per-patient arrays, NaN = missing).

    >>> from cletrial.endpoints.table import build_visit_table
    >>> t = build_visit_table([])
    >>> derive_safety(t, Cohort.from_table(t))["n_ae"].size
    0
    """
    aes, n = table.aes, c.n
    pidx = np.asarray(aes["pidx"], dtype=np.int64)
    te = np.asarray(aes["start_day"], dtype=np.int64) >= 0
    grade = np.asarray(aes["grade"], dtype=np.float64)
    cause = np.asarray(aes["causality"], dtype=np.int64)
    serious = np.asarray(aes["serious"], dtype=np.int64)
    related_codes = [CAUSALITY_TERMS.index(term) for term in rules.related_causalities]

    def count(mask: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        counts = np.bincount(pidx[te & mask], minlength=n).astype(np.float64)
        return np.where(c.treated, counts, np.nan)

    everything = np.ones(pidx.size, dtype=bool)
    max_grade = np.full(n, -np.inf)
    known = te & ~np.isnan(grade)
    np.maximum.at(max_grade, pidx[known], grade[known])
    n_ae = count(everything)
    return {
        "any_ae": np.where(c.treated, (n_ae > 0).astype(np.float64), np.nan),
        "n_ae": n_ae,
        "n_ae_related": count(np.isin(cause, related_codes)),
        "n_ae_causality_missing": count(cause < 0),
        "max_ae_grade": np.where(c.treated & np.isfinite(max_grade), max_grade, np.nan),
        "n_ae_grade_missing": count(np.isnan(grade)),
        "n_sae": count(serious == 1),
        "n_ae_seriousness_missing": count(serious < 0),
    }
