"""Best CLASI response (CR, PR, NR, withdrawn, not evaluable) and time to complete response.

Rules (protocol specification, section 5; thresholds in :class:`EndpointRules`):

1. No first dose: ``NE`` (note ``not_treated``).
2. Treatment stopped (first ``off`` dose record or first disposition event) before the first
   post-baseline CLASI-A assessment: ``WITHDRAWN``.
3. Any post-baseline CLASI-A = 0: ``CR``; time to CR in weeks from the first dose.
4. Baseline CLASI-A missing (``baseline_missing``) or 0 (``baseline_zero``): ``NE``.
5. An improvement of at least 50% by week 12 (day 84 + 7-day window): ``PR``.
6. An assessment from day 77 on, or treatment stopped after assessments: ``NR``; the note says
   whether the week-12 visit is missing, or improved by less than 50% (``improved_below_pr``,
   the paper's unnamed 1-49% case, NR by default), or did not improve.
7. Otherwise ``NE`` (``no_week12_assessment``): missing is missing, never a response.

Each rule has a per-patient reference (:func:`compute_response`) and a vectorised form
(:func:`derive_response`) over a whole cohort; tests check that they agree on every value.

>>> from cletrial.endpoints.course import course_from_history
>>> c = course_from_history({"patient_id": "P", "doses": [{"date": "2010-01-04",
...     "regimen": "5_daily"}],
...     "baseline": {"date": "2010-01-04", "clasi": {"activity": 10}},
...     "assessments": [{"date": "2010-02-01", "clasi": {"activity": 4}},
...                     {"date": "2010-03-29", "clasi": {"activity": 3}}]})
>>> r = compute_response(c)
>>> r["best_response"], r["best_response_day"], r["improvement_wk12_pct"]
('PR', 28, 70.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cletrial.endpoints._vec import (
    BoolArray,
    Cohort,
    FloatArray,
    IntArray,
    Rows,
    closest_per_group,
    first_per_group,
    pick,
    take,
)
from cletrial.endpoints.course import Course, Visit
from cletrial.endpoints.rules import DEFAULT_RULES, EVENT_TYPES, EndpointRules
from cletrial.endpoints.table import VisitTable

__all__ = ["RESPONSE_COLUMNS", "compute_response", "derive_response"]

#: Column -> kind (int, float, str, bool) of the response part of the subject table.
RESPONSE_COLUMNS: dict[str, str] = {
    "treated": "bool",
    "origin_day": "int",
    "clasi_a_base": "float",
    "best_response": "str",
    "response_note": "str",
    "best_response_day": "int",
    "best_response_srcdom": "str",
    "best_response_srcseq": "int",
    "cr_flag": "bool",
    "cr_day": "int",
    "cr_srcseq": "int",
    "time_to_cr_weeks": "float",
    "wk12_day": "int",
    "wk12_srcseq": "int",
    "improvement_wk12_pct": "float",
    "best_improvement_pct": "float",
    "first_assessment_day": "int",
    "last_assessment_day": "int",
    "last_assessment_srcseq": "int",
    "first_stop_day": "int",
    "first_stop_srcdom": "str",
    "first_stop_srcseq": "int",
    "first_stop_reason": "str",
}

_CODES = ("CR", "PR", "NR", "WITHDRAWN", "NE")
_NOTES = (
    None,
    "not_treated",
    "baseline_missing",
    "baseline_zero",
    "week12_visit_missing",
    "improved_below_pr",
    "no_improvement",
    "no_week12_assessment",
)


def _first_stop(course: Course) -> tuple[int, str, int, str | None] | None:
    """(day, srcdom, seq, reason) of the first stop: an ``off`` dose or an event (ties: event)."""
    off = next((d for d in course.doses if d.rank == 0), None)
    event = course.events[0] if course.events else None
    if event is not None and (off is None or event.day <= off.day):
        return event.day, "events", event.seq, event.type
    if off is not None:
        return off.day, "doses", off.seq, None
    return None


def _improvement(base: int, value: int) -> float:
    return (base - value) / base * 100.0


def _wk12(assessed: list[Visit], rules: EndpointRules) -> Visit | None:
    window = [v for v in assessed if abs(v.day - rules.response_day) <= rules.response_window_days]
    if not window:
        return None
    return min(
        window,
        key=lambda v: (
            abs(v.day - rules.response_day) * 2 + (v.day > rules.response_day),
            v.day,
            v.seq,
        ),
    )


def compute_response(course: Course, rules: EndpointRules = DEFAULT_RULES) -> dict[str, Any]:
    """Best response and time to CR of one patient (the per-patient reference).

    Parameters
    ----------
    course : Course
        One patient (days from first dose).
    rules : EndpointRules
        Thresholds and windows.

    Returns
    -------
    dict
        The :data:`RESPONSE_COLUMNS`; days are whole days from the first dose, weeks = days / 7,
        improvements in percent of baseline CLASI-A; None = missing or not applicable.

    >>> from cletrial.endpoints.course import course_from_history
    >>> c = course_from_history({"patient_id": "P3", "first_dose_date": "2009-05-04",
    ...     "baseline": {"date": "2009-05-04", "clasi": {"activity": 3}},
    ...     "doses": [{"date": "2009-05-04", "regimen": "5_daily"},
    ...               {"date": "2009-05-11", "regimen": "off"}]})
    >>> compute_response(c)["best_response"]
    'WITHDRAWN'
    """
    base = course.clasi_a_base
    assessed = [v for v in course.visits if v.day > 0 and v.clasi_a is not None]
    stop = _first_stop(course)
    out = _observed(course, assessed, stop)
    if not course.treated:
        out.update(best_response="NE", response_note="not_treated")
        return out
    out["origin_day"] = 0
    horizon = rules.response_day + rules.response_window_days
    wk12 = _wk12(assessed, rules)
    in_window = [v for v in assessed if v.day <= horizon]
    if wk12 is not None:
        out.update(wk12_day=wk12.day, wk12_srcseq=wk12.seq)
    if base:
        if wk12 is not None:
            out["improvement_wk12_pct"] = _improvement(base, wk12.clasi_a or 0)
        if in_window:
            out["best_improvement_pct"] = _improvement(base, min(v.clasi_a or 0 for v in in_window))
    out["cr_flag"] = False
    if stop is not None and (not assessed or stop[0] < assessed[0].day):
        out.update(
            best_response="WITHDRAWN",
            best_response_day=stop[0],
            best_response_srcdom=stop[1],
            best_response_srcseq=stop[2],
        )
        return out
    return _classify_course(out, rules, assessed, in_window, wk12, stopped=stop is not None)


def _observed(
    course: Course, assessed: list[Visit], stop: tuple[int, str, int, str | None] | None
) -> dict[str, Any]:
    """The columns that only report what was observed: baseline, assessments, first stop."""
    base = course.clasi_a_base
    out: dict[str, Any] = dict.fromkeys(RESPONSE_COLUMNS)
    out.update(treated=course.treated, clasi_a_base=None if base is None else float(base))
    if assessed:
        out.update(
            first_assessment_day=assessed[0].day,
            last_assessment_day=assessed[-1].day,
            last_assessment_srcseq=assessed[-1].seq,
        )
    if stop is not None:
        out.update(
            first_stop_day=stop[0],
            first_stop_srcdom=stop[1],
            first_stop_srcseq=stop[2],
            first_stop_reason=stop[3],
        )
    return out


def _classify_course(
    out: dict[str, Any],
    rules: EndpointRules,
    assessed: list[Visit],
    in_window: list[Visit],
    wk12: Visit | None,
    *,
    stopped: bool,
) -> dict[str, Any]:
    """CR, then NE for an unusable baseline, then PR, NR, and NE (rules 3-7)."""
    base = out["clasi_a_base"]
    cr = next((v for v in assessed if (v.clasi_a or 0) <= rules.cr_max_activity), None)
    if cr is not None:
        out.update(cr_flag=True, cr_day=cr.day, cr_srcseq=cr.seq, time_to_cr_weeks=cr.day / 7)
        return _set_best(out, "CR", None, cr)
    if base is None or base == 0:
        return _set_best(out, "NE", "baseline_missing" if base is None else "baseline_zero", None)
    pr = next(
        (v for v in in_window if base - (v.clasi_a or 0) >= rules.pr_min_improvement * base), None
    )
    if pr is not None:
        return _set_best(out, "PR", None, pr)
    late = any(v.day >= rules.response_day - rules.response_window_days for v in assessed)
    if late or (stopped and assessed):
        if wk12 is None:
            return _set_best(out, "NR", "week12_visit_missing", assessed[-1])
        improved = out["improvement_wk12_pct"] > 0
        return _set_best(out, "NR", "improved_below_pr" if improved else "no_improvement", wk12)
    return _set_best(out, "NE", "no_week12_assessment", None)


def _set_best(
    out: dict[str, Any], code: str, note: str | None, visit: Visit | None
) -> dict[str, Any]:
    out.update(best_response=code, response_note=note)
    if visit is not None:
        out.update(
            best_response_day=visit.day,
            best_response_srcdom="assessments",
            best_response_srcseq=visit.seq,
        )
    return out


def _first_stop_vec(
    table: VisitTable, c: Cohort
) -> tuple[FloatArray, FloatArray, IntArray, IntArray]:
    """Per patient: stop day, stop seq, source (0 none, 1 doses, 2 events), event type (-1)."""
    n = c.n
    off = first_per_group(c.d_pidx, c.d_rank == 0, n)
    e_pidx = np.asarray(table.events["pidx"], dtype=np.int64)
    e_day = np.asarray(table.events["day"], dtype=np.float64)
    e_seq = np.asarray(table.events["seq"], dtype=np.float64)
    e_type = np.asarray(table.events["type"], dtype=np.int64)
    ev = first_per_group(e_pidx, np.ones(e_pidx.size, dtype=bool), n)
    off_day, ev_day = take(c.d_day, off), take(e_day, ev)
    use_ev = (ev >= 0) & ((off < 0) | (ev_day <= off_day))
    use_off = (off >= 0) & ~use_ev
    day = np.where(use_ev, ev_day, off_day)
    seq = np.where(use_ev, take(e_seq, ev), take(c.d_seq, off))
    src = np.where(use_ev, 2, np.where(use_off, 1, 0))
    etype = np.where(use_ev, take(e_type, ev, -1), -1).astype(np.int64)
    return day, seq, src, etype


def _group_min(pidx: IntArray, values: FloatArray, n: int) -> FloatArray:
    """Per-patient minimum of ``values`` over rows sorted by patient (inf when none)."""
    out = np.full(n, np.inf)
    if pidx.size:
        starts = np.flatnonzero(np.concatenate(([True], pidx[1:] != pidx[:-1])))
        out[pidx[starts]] = np.minimum.reduceat(values, starts)
    return out


def derive_response(
    table: VisitTable, c: Cohort, rules: EndpointRules = DEFAULT_RULES, assessed: Rows | None = None
) -> dict[str, np.ndarray[Any, Any]]:
    """Vectorised :func:`compute_response` over every patient of ``table``.

    ``assessed`` are the post-baseline visits with a CLASI-seen (computed when not given).
    Returns the :data:`RESPONSE_COLUMNS` as per-patient arrays (NaN / None = missing).

    >>> from cletrial.endpoints.table import build_visit_table
    >>> derive_response(build_visit_table([]), Cohort.from_table(build_visit_table([])))["cr_day"]
    array([], dtype=float64)
    """
    n, base, treated = c.n, c.a_base, c.treated
    seen = assessed if assessed is not None else Rows.where(c, (c.v_day > 0) & ~np.isnan(c.v_a))
    a = c.v_a[seen.row]
    first_a, last_a = seen.bounds(n)
    stop_day, stop_seq, stop_src, stop_type = _first_stop_vec(table, c)
    withdrawn = treated & (stop_src > 0) & ((first_a < 0) | (stop_day < take(seen.day, first_a)))
    evaluable = treated & ~withdrawn
    ev_rows = evaluable[seen.pidx]
    cr = first_per_group(seen.pidx, (a <= rules.cr_max_activity) & ev_rows, n)
    in_window = seen.day <= rules.response_day + rules.response_window_days
    wk12 = closest_per_group(seen.keys, seen.day, rules.response_day, rules.response_window_days, n)
    wk12 = np.where(treated, wk12, -1)
    row_base = base[seen.pidx]
    pr_row = in_window & (row_base - a >= rules.pr_min_improvement * row_base) & (row_base > 0)
    pr = first_per_group(seen.pidx, pr_row & ev_rows, n)
    min_a = _group_min(seen.pidx[in_window], a[in_window], n)
    good_base = base > 0
    safe_base = np.where(good_base, base, 1.0)
    best_imp = np.where(
        good_base & treated & np.isfinite(min_a), (base - min_a) / safe_base * 100.0, np.nan
    )
    imp12 = np.where(good_base & (wk12 >= 0), (base - take(a, wk12)) / safe_base * 100.0, np.nan)
    late = take(seen.day, last_a, -1.0) >= rules.response_day - rules.response_window_days
    nr = evaluable & (cr < 0) & good_base & (pr < 0) & (late | ((stop_src > 0) & (first_a >= 0)))
    code, note = _classify(treated, withdrawn, cr, base, pr, nr, wk12, imp12)
    best_row = np.select(
        [code == 0, code == 1, (code == 2) & (wk12 >= 0), code == 2], [cr, pr, wk12, last_a], -1
    )
    is_wd = code == 3
    src_names = np.array([None, "doses", "events"], dtype=object)
    cr_day = take(seen.day, cr)
    out = _observed_vec(seen, first_a, last_a, (stop_day, stop_seq, stop_src, stop_type))
    out.update(
        {
            "treated": treated.astype(np.float64),
            "origin_day": np.where(treated, 0.0, np.nan),
            "clasi_a_base": base,
            "best_response": np.array(_CODES, dtype=object)[code],
            "response_note": np.array(_NOTES, dtype=object)[note],
            "best_response_day": np.where(is_wd, stop_day, take(seen.day, best_row)),
            "best_response_srcdom": np.where(
                is_wd, src_names[stop_src], pick(best_row >= 0, "assessments", None)
            ),
            "best_response_srcseq": np.where(is_wd, stop_seq, take(seen.seq, best_row)),
            "cr_flag": np.where(treated, (cr >= 0).astype(np.float64), np.nan),
            "cr_day": cr_day,
            "cr_srcseq": take(seen.seq, cr),
            "time_to_cr_weeks": cr_day / 7,
            "wk12_day": take(seen.day, wk12),
            "wk12_srcseq": take(seen.seq, wk12),
            "improvement_wk12_pct": imp12,
            "best_improvement_pct": best_imp,
        }
    )
    return out


def _observed_vec(
    seen: Rows,
    first_a: IntArray,
    last_a: IntArray,
    stop: tuple[FloatArray, FloatArray, IntArray, IntArray],
) -> dict[str, np.ndarray[Any, Any]]:
    """Vectorised :func:`_observed`: assessments and first stop per patient."""
    stop_day, stop_seq, stop_src, stop_type = stop
    reasons = np.array([*EVENT_TYPES, None], dtype=object)
    return {
        "first_assessment_day": take(seen.day, first_a),
        "last_assessment_day": take(seen.day, last_a),
        "last_assessment_srcseq": take(seen.seq, last_a),
        "first_stop_day": stop_day,
        "first_stop_srcdom": np.array([None, "doses", "events"], dtype=object)[stop_src],
        "first_stop_srcseq": stop_seq,
        "first_stop_reason": reasons[stop_type],
    }


def _classify(
    treated: BoolArray,
    withdrawn: BoolArray,
    cr: IntArray,
    base: FloatArray,
    pr: IntArray,
    nr: BoolArray,
    wk12: IntArray,
    imp12: FloatArray,
) -> tuple[IntArray, IntArray]:
    """Response code (index into _CODES) and note (index into _NOTES) per patient."""
    conditions = [
        ~treated,
        withdrawn,
        cr >= 0,
        np.isnan(base),
        base == 0,
        pr >= 0,
        nr & (wk12 < 0),
        nr & (imp12 > 0),
        nr,
    ]
    code = np.select(conditions, [4, 3, 0, 4, 4, 1, 2, 2, 2], 4).astype(np.int64)
    note = np.select(conditions, [1, 0, 0, 2, 3, 0, 4, 5, 6], 7).astype(np.int64)
    return code, note
