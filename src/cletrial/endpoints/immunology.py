"""Immunology: anti-dsDNA (IU/ml), C3 and C4 (mg/dL) at baseline against end of treatment.

- Baseline: the latest result at or before day 0, at most ``lab_baseline_window_days`` (30)
  before the first dose.
- End of treatment: the latest result after day 0 and no later than ``lab_end_window_days`` (30)
  after the final withdrawal; for a patient still on treatment, the latest result after day 0.
- Change = end minus baseline; missing when either is missing.

>>> from cletrial.endpoints.course import course_from_history
>>> c = course_from_history({"patient_id": "P", "doses": [{"date": "2009-01-05",
...     "regimen": "5_daily"}],
...     "labs": [{"date": "2009-01-02", "test": "c3", "value": 90, "unit": "mg/dL"},
...              {"date": "2009-07-06", "test": "c3", "value": 0.95, "unit": "g/L"}]})
>>> compute_immunology(c, final_withdrawal_day=None)["c3_change"]
5.0
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cletrial.endpoints._vec import Cohort, FloatArray, last_per_group, take
from cletrial.endpoints.course import Course
from cletrial.endpoints.rules import DEFAULT_RULES, IMMUNOLOGY_TESTS, EndpointRules
from cletrial.endpoints.table import VisitTable

__all__ = ["IMMUNOLOGY_COLUMNS", "compute_immunology", "derive_immunology"]

IMMUNOLOGY_COLUMNS: dict[str, str] = {
    f"{test}_{part}": kind
    for test in IMMUNOLOGY_TESTS
    for part, kind in (
        ("base", "float"),
        ("base_day", "int"),
        ("base_srcseq", "int"),
        ("end", "float"),
        ("end_day", "int"),
        ("end_srcseq", "int"),
        ("change", "float"),
    )
}


def compute_immunology(
    course: Course, rules: EndpointRules = DEFAULT_RULES, *, final_withdrawal_day: int | None
) -> dict[str, Any]:
    """Baseline and end-of-treatment immunology of one patient (the reference).

    Parameters
    ----------
    course : Course
        One patient.
    rules : EndpointRules
        Windows.
    final_withdrawal_day : int or None
        Day the course went off drug for good (None: still on treatment).

    >>> from cletrial.endpoints.course import course_from_history
    >>> c = course_from_history({"patient_id": "P", "doses": [{"date": "2009-01-05",
    ...     "regimen": "5_daily"}]})
    >>> compute_immunology(c, final_withdrawal_day=None)["anti_dsdna_base"] is None
    True
    """
    out: dict[str, Any] = dict.fromkeys(IMMUNOLOGY_COLUMNS)
    limit = (
        None if final_withdrawal_day is None else final_withdrawal_day + rules.lab_end_window_days
    )
    for test in IMMUNOLOGY_TESTS:
        results = [r for r in course.labs if r.test == test]
        base = [r for r in results if -rules.lab_baseline_window_days <= r.day <= 0]
        end = [r for r in results if r.day > 0 and (limit is None or r.day <= limit)]
        if base:
            out.update(
                {
                    f"{test}_base": base[-1].value,
                    f"{test}_base_day": base[-1].day,
                    f"{test}_base_srcseq": base[-1].seq,
                }
            )
        if end:
            out.update(
                {
                    f"{test}_end": end[-1].value,
                    f"{test}_end_day": end[-1].day,
                    f"{test}_end_srcseq": end[-1].seq,
                }
            )
        if base and end:
            out[f"{test}_change"] = end[-1].value - base[-1].value
    return out


def derive_immunology(
    table: VisitTable, c: Cohort, rules: EndpointRules, *, final_withdrawal_day: FloatArray
) -> dict[str, np.ndarray[Any, Any]]:
    """Vectorised :func:`compute_immunology` (``final_withdrawal_day`` NaN = on treatment).

    >>> from cletrial.endpoints.table import build_visit_table
    >>> t = build_visit_table([])
    >>> derive_immunology(t, Cohort.from_table(t), DEFAULT_RULES,
    ...                   final_withdrawal_day=np.zeros(0))["c4_end"].size
    0
    """
    labs = table.labs
    pidx = np.asarray(labs["pidx"], dtype=np.int64)
    day = np.asarray(labs["day"], dtype=np.int64)
    seq = np.asarray(labs["seq"], dtype=np.int64)
    test = np.asarray(labs["test"], dtype=np.int64)
    value = np.asarray(labs["value"], dtype=np.float64)
    limit = (final_withdrawal_day + rules.lab_end_window_days)[pidx]
    in_base = (day >= -rules.lab_baseline_window_days) & (day <= 0)
    in_end = (day > 0) & (np.isnan(limit) | (day <= limit))
    out: dict[str, np.ndarray[Any, Any]] = {}
    for code, name in enumerate(IMMUNOLOGY_TESTS):
        is_test = test == code
        for part, mask in (("base", in_base), ("end", in_end)):
            row = last_per_group(pidx, is_test & mask, c.n)
            out[f"{name}_{part}"] = take(value, row)
            out[f"{name}_{part}_day"] = take(day, row)
            out[f"{name}_{part}_srcseq"] = take(seq, row)
        out[f"{name}_change"] = out[f"{name}_end"] - out[f"{name}_base"]
    return out
