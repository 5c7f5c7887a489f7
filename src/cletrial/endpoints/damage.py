"""CLASI damage (CLASI-D) change from baseline at 12 months.

The 12-month value is the post-baseline CLASI-D closest to ``damage_day`` (365) within
``damage_window_days`` (+/-45 days, so the week-48 quarterly visit qualifies); on a tie the
earlier visit. Change = 12-month value minus baseline (points, CLASI-D 0-56); missing when either
is missing (the paper: 2.39 +/- 2.96 at baseline against 3.08 +/- 3.15 at one year, P = 0.398).

>>> from cletrial.endpoints.course import course_from_history
>>> c = course_from_history({"patient_id": "P", "doses": [{"date": "2009-01-05",
...     "regimen": "5_daily"}],
...     "baseline": {"date": "2009-01-05", "clasi": {"activity": 9, "damage": 2}},
...     "assessments": [{"date": "2009-12-07", "clasi": {"activity": 0, "damage": 3}}]})
>>> compute_damage(c)["clasi_d_change_12m"], compute_damage(c)["clasi_d_12m_day"]
(1.0, 336)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cletrial.endpoints._vec import Cohort, closest_per_group, take
from cletrial.endpoints.course import Course
from cletrial.endpoints.rules import DEFAULT_RULES, EndpointRules

__all__ = ["DAMAGE_COLUMNS", "compute_damage", "derive_damage"]

DAMAGE_COLUMNS: dict[str, str] = {
    "clasi_d_base": "float",
    "clasi_d_12m": "float",
    "clasi_d_12m_day": "int",
    "clasi_d_12m_srcseq": "int",
    "clasi_d_change_12m": "float",
}


def compute_damage(course: Course, rules: EndpointRules = DEFAULT_RULES) -> dict[str, Any]:
    """CLASI-D at baseline, at 12 months and the change, for one patient (the reference).

    >>> from cletrial.endpoints.course import course_from_history
    >>> compute_damage(course_from_history({"patient_id": "P",
    ...     "doses": [{"date": "2009-01-05", "regimen": "5_daily"}]}))["clasi_d_change_12m"] is None
    True
    """
    base = course.clasi_d_base
    out: dict[str, Any] = dict.fromkeys(DAMAGE_COLUMNS)
    out["clasi_d_base"] = None if base is None else float(base)
    target, window = rules.damage_day, rules.damage_window_days
    near = [
        v
        for v in course.visits
        if v.day > 0 and v.clasi_d is not None and abs(v.day - target) <= window
    ]
    if near:
        best = min(near, key=lambda v: (abs(v.day - target) * 2 + (v.day > target), v.day, v.seq))
        value = float(best.clasi_d or 0)
        out.update(clasi_d_12m=value, clasi_d_12m_day=best.day, clasi_d_12m_srcseq=best.seq)
        if base is not None:
            out["clasi_d_change_12m"] = value - base
    return out


def derive_damage(
    c: Cohort, rules: EndpointRules = DEFAULT_RULES
) -> dict[str, np.ndarray[Any, Any]]:
    """Vectorised :func:`compute_damage` (per-patient arrays, NaN = missing).

    >>> from cletrial.endpoints.table import build_visit_table
    >>> derive_damage(Cohort.from_table(build_visit_table([])))["clasi_d_12m"].size
    0
    """
    valid = ~np.isnan(c.v_d) & (c.v_day > 0)
    row = closest_per_group(
        c.v_keys, c.v_day, rules.damage_day, rules.damage_window_days, c.n, valid=valid
    )
    value = take(c.v_d, row)
    return {
        "clasi_d_base": c.d_base,
        "clasi_d_12m": value,
        "clasi_d_12m_day": take(c.v_day, row),
        "clasi_d_12m_srcseq": take(c.v_seq, row),
        "clasi_d_change_12m": value - c.d_base,
    }
