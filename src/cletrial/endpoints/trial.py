"""The endpoints of a randomised CLE trial at a named week: CLASI-50 / CLASI-70, CLA-IGA success
and Skindex-29+3 domain change.

Definitions (the week, window and thresholds are :class:`TrialEndpointRules`):

* **Percent change of CLASI-A** = (CLASI-A at the week - baseline CLASI-A) / baseline x 100;
  negative is improvement. The baseline is the history's baseline CLASI-A (the same baseline as
  the best-response derivation, :mod:`cletrial.endpoints.response`).
* **CLASI-50 / CLASI-70 responder**: a reduction of at least 50% / 70% of CLASI-A from baseline,
  the definition of the litifilimab phase 2 trial (LILAC: "CLASI-50 response (decrease of >=50%
  from baseline in CLASI-A score) ... at Week 16", Werth V et al., ACR Convergence 2024 abstract
  0671). Computed in integers, ``(base - value) x 100 >= threshold x base``, so 10 -> 5 is
  exactly 50%.
* **The visit at the week**: the post-baseline visit with that instrument closest to day
  ``7 x week`` within +/- ``window_days`` (ties: the earlier), days from the first dose (or, for a
  patient never dosed, from the baseline date). Visits after treatment stopped count (the
  treatment-policy estimand); a while-on-treatment estimand is not implemented.
* **Missing stays missing**: baseline CLASI-A 0 is undetermined (``baseline_zero``), a missing
  baseline is ``baseline_missing``, no visit in the window is ``visit_missing`` and the responder
  flag is None, never "non-responder", unless the analysis asks for non-responder imputation
  explicitly (``nri=True``: then a missing visit is a non-responder, note ``visit_missing_nri``).
* **CLA-IGA success** (:func:`~cletrial.instruments.cla_iga.compute_cla_iga_success`, stated
  default: grade 0 or 1 with an improvement of at least 2 grades); the same missing rules.
* **Skindex-29+3 domain change** = domain score at the week - baseline domain score (0-100
  points; positive is worse); None when either is missing. No imputation.

The CLASI part has a per-patient reference (:func:`compute_trial_endpoints`) and a vectorised
form (:func:`derive_clasi_responders`); tests check they agree. CLA-IGA and Skindex are read from
the courses (the columnar :class:`~cletrial.endpoints.table.VisitTable` does not carry them).

>>> compute_clasi_percent_change(12, 5), compute_clasi_percent_change(0, 0)
(-58.333333333333336, None)
>>> compute_clasi_responder(10, 5, 50), compute_clasi_responder(10, 5, 70)
(True, False)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cletrial.endpoints._vec import Cohort, Rows, closest_per_group, take
from cletrial.endpoints.course import Course, Visit
from cletrial.endpoints.subject import _frame
from cletrial.endpoints.table import VisitTable, build_visit_table
from cletrial.errors import InputError
from cletrial.instruments import CLASI_ACTIVITY_MAX, compute_cla_iga_success
from cletrial.instruments.cla_iga import IGA_SUCCESS_MAX_GRADE, IGA_SUCCESS_MIN_IMPROVEMENT
from cletrial.vocabulary import SKINDEX_DOMAIN

__all__ = [
    "TrialEndpointRules",
    "compute_clasi_percent_change",
    "compute_clasi_responder",
    "compute_trial_endpoints",
    "derive_clasi_percent_change",
    "derive_clasi_responders",
    "derive_trial_endpoints",
    "find_visit_at_week",
    "trial_columns",
]

_NOTES = (None, "baseline_missing", "baseline_zero", "visit_missing", "visit_missing_nri")


@dataclass(frozen=True)
class TrialEndpointRules:
    """The named week and the thresholds of the trial endpoints.

    Parameters
    ----------
    week : int
        The week of the endpoint (day ``7 x week`` from the first dose), 1-520.
    window_days : int
        Visit window around that day, 0 to ``3 x week`` days.
    thresholds : tuple of int
        CLASI-A percent reductions defining responders (default CLASI-50 and CLASI-70).
    nri : bool
        Non-responder imputation: a missing visit counts as a non-responder (default False:
        missing stays missing).
    iga_max_grade, iga_min_improvement : int
        The CLA-IGA success rule (stated defaults 1 and 2).

    >>> TrialEndpointRules(week=16).target_day
    112
    >>> TrialEndpointRules(week=0)
    Traceback (most recent call last):
    ...
    cletrial.errors.InputError: week = 0: must be a whole number of weeks from 1 to 520
    """

    week: int = 16
    window_days: int = 7
    thresholds: tuple[int, ...] = (50, 70)
    nri: bool = False
    iga_max_grade: int = IGA_SUCCESS_MAX_GRADE
    iga_min_improvement: int = IGA_SUCCESS_MIN_IMPROVEMENT

    def __post_init__(self) -> None:
        if type(self.week) is not int or not 1 <= self.week <= 520:
            raise InputError("week", self.week, "must be a whole number of weeks from 1 to 520")
        if type(self.window_days) is not int or not 0 <= self.window_days <= 3 * self.week:
            raise InputError(
                "window_days", self.window_days, f"must be a whole number from 0 to {3 * self.week}"
            )
        if not self.thresholds or any(
            type(t) is not int or not 1 <= t <= 100 for t in self.thresholds
        ):
            raise InputError("thresholds", list(self.thresholds), "must be percentages 1-100")

    @property
    def target_day(self) -> int:
        """The day of the named week from the first dose."""
        return 7 * self.week


def _check_clasi(field: str, value: Any) -> int:
    if type(value) is not int or not 0 <= value <= CLASI_ACTIVITY_MAX:
        raise InputError(
            field, value, f"must be a CLASI-A score, an integer 0-{CLASI_ACTIVITY_MAX}"
        )
    return value


def compute_clasi_percent_change(base: int | None, value: int | None) -> float | None:
    """Percent change of CLASI-A from baseline (negative = improvement); None when undetermined.

    >>> compute_clasi_percent_change(8, 10), compute_clasi_percent_change(None, 3)
    (25.0, None)
    """
    if base is None or value is None:
        return None
    base, value = _check_clasi("base", base), _check_clasi("value", value)
    return None if base == 0 else (value - base) / base * 100.0


def compute_clasi_responder(base: int | None, value: int | None, threshold: int) -> bool | None:
    """Whether CLASI-A fell by at least ``threshold`` percent; None when undetermined.

    >>> compute_clasi_responder(20, 6, 70), compute_clasi_responder(0, 0, 50)
    (True, None)
    """
    if base is None or value is None:
        return None
    base, value = _check_clasi("base", base), _check_clasi("value", value)
    return None if base == 0 else (base - value) * 100 >= threshold * base


def trial_columns(rules: TrialEndpointRules = TrialEndpointRules()) -> dict[str, str]:
    """Column -> kind (int, float, bool, str) of :func:`derive_trial_endpoints`, in order.

    >>> list(trial_columns())[:6]
    ['patient_id', 'week', 'clasi_a_base', 'clasi_wk_day', 'clasi_wk_srcseq', 'clasi_a_wk']
    """
    out = {"patient_id": "str", "week": "int", **_clasi_columns(rules)}
    out.update({"cla_iga_base": "int", "cla_iga_wk_day": "int", "cla_iga_wk": "int",
                "cla_iga_success": "bool", "cla_iga_note": "str"})  # fmt: skip
    for domain in SKINDEX_DOMAIN.values:
        out.update({f"skindex_{domain}_base": "float", f"skindex_{domain}_wk": "float",
                    f"skindex_{domain}_chg": "float"})  # fmt: skip
    out["skindex_wk_day"] = "int"
    return out


def _clasi_columns(rules: TrialEndpointRules) -> dict[str, str]:
    out = {"clasi_a_base": "float", "clasi_wk_day": "int", "clasi_wk_srcseq": "int",
           "clasi_a_wk": "float", "clasi_pct_change": "float"}  # fmt: skip
    out.update({f"clasi{t}": "bool" for t in rules.thresholds})
    out["clasi_note"] = "str"
    return out


def _at_week(visits: Iterable[Visit], has: str, rules: TrialEndpointRules) -> Visit | None:
    target, window = rules.target_day, rules.window_days
    near = [
        v
        for v in visits
        if v.day > 0 and getattr(v, has) is not None and abs(v.day - target) <= window
    ]
    return min(near, key=lambda v: (abs(v.day - target) * 2 + (v.day > target), v.day, v.seq),
               default=None)  # fmt: skip


def find_visit_at_week(
    visits: Iterable[Visit], has: str, rules: TrialEndpointRules = TrialEndpointRules()
) -> Visit | None:
    """The visit an endpoint at the week is read from: the one with ``has`` recorded nearest
    day ``7 x week`` within the window (ties: the earlier), or None (the baseline never counts).

    >>> from cletrial.endpoints.course import course_from_history
    >>> c = course_from_history({"patient_id": "P", "first_dose_date": "2024-01-01",
    ...     "doses": [{"date": "2024-01-01", "regimen": "5_daily"}],
    ...     "baseline": {"date": "2024-01-01", "cla_iga": 3},
    ...     "assessments": [{"date": "2024-04-22", "cla_iga": 1}]})
    >>> v = find_visit_at_week(c.visits, "cla_iga")
    >>> v.day, v.seq, v.cla_iga
    (112, 1, 1)
    """
    return _at_week(visits, has, rules)


def _note(base: float | None, found: bool, nri: bool) -> str | None:
    if base is None:
        return "baseline_missing"
    if base == 0:
        return "baseline_zero"
    if not found:
        return "visit_missing_nri" if nri else "visit_missing"
    return None


def compute_trial_endpoints(
    course: Course, rules: TrialEndpointRules = TrialEndpointRules()
) -> dict[str, Any]:
    """The trial endpoints of one patient (the per-patient reference), :func:`trial_columns`.

    >>> from cletrial.endpoints.course import course_from_history
    >>> c = course_from_history({"patient_id": "P", "first_dose_date": "2024-01-01",
    ...     "doses": [{"date": "2024-01-01", "regimen": "5_daily"}],
    ...     "baseline": {"date": "2024-01-01", "clasi": {"activity": 12}, "cla_iga": 3},
    ...     "assessments": [{"date": "2024-04-22", "clasi": {"activity": 5}, "cla_iga": 1}]})
    >>> r = compute_trial_endpoints(c)
    >>> r["clasi_wk_day"], r["clasi50"], r["clasi70"], r["cla_iga_success"]
    (112, True, False, True)
    """
    out: dict[str, Any] = {"patient_id": course.patient_id, "week": rules.week}
    base = course.clasi_a_base
    visit = _at_week(course.visits, "clasi_a", rules)
    value = None if visit is None else visit.clasi_a
    note = _note(base, visit is not None, rules.nri)
    out.update(
        clasi_a_base=None if base is None else float(base),
        clasi_wk_day=None if visit is None else visit.day,
        clasi_wk_srcseq=None if visit is None else visit.seq,
        clasi_a_wk=None if value is None else float(value),
        clasi_pct_change=compute_clasi_percent_change(base, value),
        clasi_note=note,
    )
    for t in rules.thresholds:
        imputed = False if note == "visit_missing_nri" else None
        responder = compute_clasi_responder(base, value, t)
        out[f"clasi{t}"] = imputed if responder is None else responder
    out.update(_iga(course, rules))
    out.update(_skindex(course, rules))
    return out


def _iga(course: Course, rules: TrialEndpointRules) -> dict[str, Any]:
    base = course.cla_iga_base
    visit = _at_week(course.visits, "cla_iga", rules)
    grade = None if visit is None else visit.cla_iga
    note = None  # a baseline grade of 0 is determined: success is impossible from "clear"
    if base is None:
        note = "baseline_missing"
    elif visit is None:
        note = "visit_missing_nri" if rules.nri else "visit_missing"
    success = compute_cla_iga_success(
        base, grade, max_grade=rules.iga_max_grade, min_improvement=rules.iga_min_improvement
    )
    if success is None and note == "visit_missing_nri":
        success = False
    return {"cla_iga_base": base, "cla_iga_wk_day": None if visit is None else visit.day,
            "cla_iga_wk": grade, "cla_iga_success": success, "cla_iga_note": note}  # fmt: skip


def _skindex(course: Course, rules: TrialEndpointRules) -> dict[str, Any]:
    base = course.skindex_base or {}
    visit = _at_week(course.visits, "skindex", rules)
    at_week = (visit.skindex if visit is not None else None) or {}
    out: dict[str, Any] = {}
    for domain in SKINDEX_DOMAIN.values:
        before, after = base.get(domain), at_week.get(domain)
        out[f"skindex_{domain}_base"] = before
        out[f"skindex_{domain}_wk"] = after
        out[f"skindex_{domain}_chg"] = None if before is None or after is None else after - before
    out["skindex_wk_day"] = None if visit is None else visit.day
    return out


def derive_clasi_percent_change(
    table: VisitTable, rules: TrialEndpointRules = TrialEndpointRules(), c: Cohort | None = None
) -> dict[str, np.ndarray[Any, Any]]:
    """Vectorised: each patient's CLASI-A visit at the week and its percent change (NaN = none).

    >>> from cletrial.endpoints.table import build_visit_table
    >>> derive_clasi_percent_change(build_visit_table([]))["clasi_pct_change"]
    array([], dtype=float64)
    """
    c = Cohort.from_table(table) if c is None else c
    seen = Rows.where(c, (c.v_day > 0) & ~np.isnan(c.v_a))
    row = closest_per_group(seen.keys, seen.day, rules.target_day, rules.window_days, c.n)
    value = take(c.v_a[seen.row], row)
    good = c.a_base > 0
    pct = np.where(good, (value - c.a_base) / np.where(good, c.a_base, 1.0) * 100.0, np.nan)
    return {
        "clasi_a_base": c.a_base,
        "clasi_wk_day": take(seen.day, row),
        "clasi_wk_srcseq": take(seen.seq, row),
        "clasi_a_wk": value,
        "clasi_pct_change": pct,
    }


def derive_clasi_responders(
    table: VisitTable, rules: TrialEndpointRules = TrialEndpointRules(), c: Cohort | None = None
) -> dict[str, np.ndarray[Any, Any]]:
    """Vectorised :func:`compute_trial_endpoints` (CLASI part): percent change, one responder
    flag per threshold (1.0 / 0.0, NaN = undetermined) and the note.

    >>> from cletrial.endpoints.table import build_visit_table
    >>> sorted(derive_clasi_responders(build_visit_table([])))[:3]
    ['clasi50', 'clasi70', 'clasi_a_base']
    """
    out = derive_clasi_percent_change(table, rules, c)
    base, value = out["clasi_a_base"], out["clasi_a_wk"]
    found = ~np.isnan(value)
    conditions = [np.isnan(base), base == 0, ~found]
    note = np.select(conditions, [1, 2, 4 if rules.nri else 3], 0)
    determined = (base > 0) & found
    for t in rules.thresholds:
        met = ((base - value) * 100.0 >= t * base).astype(np.float64)
        missing_value = 0.0 if rules.nri else np.nan
        out[f"clasi{t}"] = np.where(
            determined, met, np.where((base > 0) & ~found, missing_value, np.nan)
        )
    out["clasi_note"] = np.array(_NOTES, dtype=object)[note]
    return out


def derive_trial_endpoints(
    courses: Iterable[Course], rules: TrialEndpointRules = TrialEndpointRules()
) -> pd.DataFrame:
    """One row per patient: :func:`trial_columns` (nullable Int64 / boolean dtypes).

    The CLASI columns are vectorised (:func:`derive_clasi_responders`); CLA-IGA and Skindex are
    read from each course.

    >>> derive_trial_endpoints([]).shape
    (0, 28)
    """
    courses = list(courses)
    table = build_visit_table(courses)
    columns: dict[str, np.ndarray[Any, Any]] = {
        "patient_id": table.patients["patient_id"].to_numpy(dtype=object),
        "week": np.full(len(courses), float(rules.week)),
    }
    columns.update(derive_clasi_responders(table, rules))
    others = [{**_iga(c, rules), **_skindex(c, rules)} for c in courses]
    kinds = trial_columns(rules)
    for name in kinds:
        if name not in columns:
            cells = [row[name] for row in others]
            dtype = object if kinds[name] == "str" else np.float64
            columns[name] = np.array(
                [np.nan if x is None and dtype is np.float64 else x for x in cells], dtype=dtype
            )
    return _frame(columns, kinds)
