"""Relapses after complete response, treatment cycles, maintenance and sustained remission.

Rules (protocol specification, sections 2 and 5; thresholds in :class:`EndpointRules`):

- A *remission* starts at a post-baseline CLASI-A = 0 and ends at the next CLASI-A >= 4
  (scores 1-3 neither start nor end it). The end is a **relapse** when the dose was reduced
  (a move down the ladder, withdrawal included) on or after the remission's first CR visit and
  before the relapse visit; otherwise the response was lost before any taper and it is not a
  relapse. Only patients treated and not withdrawn before their first assessment are evaluated.
- Time to relapse: weeks from the last dose reduction (or withdrawal) before the relapse visit.
  The regimen at relapse is the one in force before the visit's day; relapse ``after_withdrawal``
  when that is ``off``, else ``during_taper``.
- The first dose record on or after the relapse day says what was done: a rise to the start
  regimen or above is a **restart** (a new treatment cycle), except from the
  ``maintenance_after_relapses``-th relapse on (the second), where the protocol holds one step
  above the relapse step and any rise is **maintenance**; a rise that stays below the start
  regimen is maintenance too; no rise is ``none``. Cycles = 1 + restarts.
- **Sustained remission after withdrawal**: the course ends off drug (final withdrawal = first
  ``off`` record of the final off run), the last remission-relevant visit at or before it is a CR,
  no CLASI-A >= 4 follows, and CLASI-A was assessed at least ``sustained_remission_min_days``
  after the withdrawal; with shorter follow-up the value is missing (undetermined).

>>> from cletrial.endpoints.course import course_from_history
>>> h = {"patient_id": "P", "first_dose_date": "2010-01-04",
...      "baseline": {"date": "2010-01-04", "clasi": {"activity": 9}},
...      "assessments": [{"date": "2010-02-01", "clasi": {"activity": 0}},
...                      {"date": "2010-03-15", "clasi": {"activity": 5}}],
...      "doses": [{"date": "2010-01-04", "regimen": "5_daily"},
...                {"date": "2010-02-01", "regimen": "5_alternate"},
...                {"date": "2010-03-15", "regimen": "5_daily"}]}
>>> subject, records = compute_relapses(course_from_history(h), cr_day=28, evaluable=True)
>>> subject["n_relapses"], records[0]["weeks_from_reduction"], records[0]["regimen"]
(1, 6.0, '5_alternate')
>>> subject["n_cycles"]
2
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cletrial.endpoints._vec import (
    BoolArray,
    Cohort,
    FloatArray,
    IntArray,
    Rows,
    first_from,
    first_per_group,
    last_before,
    last_per_group,
    make_keys,
    pick,
    take,
    take_obj,
)
from cletrial.endpoints.course import Course, DoseChange
from cletrial.endpoints.rules import DEFAULT_RULES, EndpointRules

__all__ = ["RELAPSE_COLUMNS", "RELAPSE_RECORD_COLUMNS", "compute_relapses", "derive_relapses"]

RELAPSE_COLUMNS: dict[str, str] = {
    "n_relapses": "int",
    "relapsed": "bool",
    "first_relapse_day": "int",
    "first_relapse_srcseq": "int",
    "first_relapse_weeks_from_reduction": "float",
    "first_relapse_regimen": "str",
    "first_relapse_setting": "str",
    "n_cycles": "int",
    "maintenance": "bool",
    "maintenance_regimen": "str",
    "maintenance_day": "int",
    "maintenance_srcseq": "int",
    "final_withdrawal_day": "int",
    "final_withdrawal_srcseq": "int",
    "sustained_remission": "bool",
}

#: One row per relapse (the ADRS relapse records are built from these).
RELAPSE_RECORD_COLUMNS: dict[str, str] = {
    "pidx": "int",
    "relapse_no": "int",
    "day": "int",
    "srcseq": "int",
    "clasi_a": "float",
    "remission_start_day": "int",
    "reduction_day": "int",
    "reduction_srcseq": "int",
    "weeks_from_reduction": "float",
    "regimen": "str",
    "setting": "str",
    "action": "str",
    "action_day": "int",
    "action_srcseq": "int",
    "action_regimen": "str",
}

_ACTIONS = ("none", "restart", "maintenance")


def _action(
    doses: tuple[DoseChange, ...], day: int, rank_at: int, number: int, rules: EndpointRules
) -> tuple[str, DoseChange | None]:
    nxt = next((d for d in doses if d.day >= day), None)
    if nxt is None or nxt.rank <= rank_at:
        return "none", None
    if number < rules.maintenance_after_relapses and nxt.rank >= rules.start_rank:
        return "restart", nxt
    return "maintenance", nxt


def _relapse_records(course: Course, rules: EndpointRules) -> list[dict[str, Any]]:
    doses = course.doses
    reductions = [d for i, d in enumerate(doses) if i > 0 and d.rank < doses[i - 1].rank]
    records: list[dict[str, Any]] = []
    start: int | None = None
    for v in course.visits:
        if v.day <= 0 or v.clasi_a is None:
            continue
        if v.clasi_a <= rules.cr_max_activity:
            start = v.day if start is None else start
        elif v.clasi_a >= rules.relapse_threshold and start is not None:
            red = [r for r in reductions if start <= r.day < v.day]
            if red:
                rank_at = [d for d in doses if d.day < v.day][-1].rank
                action, nxt = _action(doses, v.day, rank_at, len(records) + 1, rules)
                records.append(
                    {
                        "relapse_no": len(records) + 1,
                        "day": v.day,
                        "srcseq": v.seq,
                        "clasi_a": float(v.clasi_a),
                        "remission_start_day": start,
                        "reduction_day": red[-1].day,
                        "reduction_srcseq": red[-1].seq,
                        "weeks_from_reduction": (v.day - red[-1].day) / 7,
                        "regimen": rules.ladder[rank_at],
                        "setting": "after_withdrawal" if rank_at == 0 else "during_taper",
                        "action": action,
                        "action_day": None if nxt is None else nxt.day,
                        "action_srcseq": None if nxt is None else nxt.seq,
                        "action_regimen": None if nxt is None else rules.ladder[nxt.rank],
                    }
                )
            start = None
    return records


def _final_withdrawal(doses: tuple[DoseChange, ...]) -> DoseChange | None:
    if not doses or doses[-1].rank != 0:
        return None
    i = len(doses) - 1
    while i > 0 and doses[i - 1].rank == 0:
        i -= 1
    return doses[i]


def _sustained(course: Course, rules: EndpointRules, withdrawal: DoseChange | None) -> bool | None:
    if withdrawal is None:
        return False
    w = withdrawal.day
    assessed = [v for v in course.visits if v.day > 0 and v.clasi_a is not None]
    significant = [
        v
        for v in assessed
        if v.clasi_a is not None
        and (v.clasi_a <= rules.cr_max_activity or v.clasi_a >= rules.relapse_threshold)
    ]
    before = [v for v in significant if v.day <= w]
    if not before or (before[-1].clasi_a or 0) > rules.cr_max_activity:
        return False
    if any(v.day > w and (v.clasi_a or 0) >= rules.relapse_threshold for v in significant):
        return False
    return True if assessed[-1].day - w >= rules.sustained_remission_min_days else None


def compute_relapses(
    course: Course, rules: EndpointRules = DEFAULT_RULES, *, cr_day: int | None, evaluable: bool
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Relapses, cycles, maintenance and sustained remission of one patient (the reference).

    Parameters
    ----------
    course : Course
        One patient.
    rules : EndpointRules
        Thresholds.
    cr_day : int or None
        Day of first CR (from :func:`~cletrial.endpoints.response.compute_response`).
    evaluable : bool
        Treated and not withdrawn before the first assessment.

    Returns
    -------
    (dict, list of dict)
        The :data:`RELAPSE_COLUMNS` and one record a relapse (:data:`RELAPSE_RECORD_COLUMNS`
        without ``pidx``); weeks = days / 7; None = missing or not applicable.

    >>> from cletrial.endpoints.course import course_from_history
    >>> c = course_from_history({"patient_id": "P", "baseline": {"date": "2010-01-04"}})
    >>> compute_relapses(c, cr_day=None, evaluable=False)[0]["n_cycles"] is None
    True
    """
    out: dict[str, Any] = dict.fromkeys(RELAPSE_COLUMNS)
    if not course.treated:
        return out, []
    records = _relapse_records(course, rules) if evaluable else []
    withdrawal = _final_withdrawal(course.doses)
    if withdrawal is not None:
        out.update(final_withdrawal_day=withdrawal.day, final_withdrawal_srcseq=withdrawal.seq)
    out["n_cycles"] = 1 + sum(r["action"] == "restart" for r in records)
    maint = next((r for r in records if r["action"] == "maintenance"), None)
    out["maintenance"] = maint is not None
    if maint is not None:
        out.update(
            maintenance_regimen=maint["action_regimen"],
            maintenance_day=maint["action_day"],
            maintenance_srcseq=maint["action_srcseq"],
        )
    if not evaluable:
        return out, records
    out["n_relapses"] = len(records)
    if cr_day is None:
        out["sustained_remission"] = False
        return out, records
    out["relapsed"] = bool(records)
    if records:
        first = records[0]
        out.update(
            first_relapse_day=first["day"],
            first_relapse_srcseq=first["srcseq"],
            first_relapse_weeks_from_reduction=first["weeks_from_reduction"],
            first_relapse_regimen=first["regimen"],
            first_relapse_setting=first["setting"],
        )
    out["sustained_remission"] = _sustained(course, rules, withdrawal)
    return out, records


def _group_rank(p: IntArray) -> IntArray:
    """0, 1, 2, ... within each run of equal (sorted) patient indices."""
    if p.size == 0:
        return p.copy()
    starts = np.empty(p.size, dtype=bool)
    starts[0] = True
    np.not_equal(p[1:], p[:-1], out=starts[1:])
    first = np.maximum.accumulate(np.where(starts, np.arange(p.size), 0))
    return np.arange(p.size) - first


def _significant(c: Cohort, rules: EndpointRules) -> tuple[Rows, BoolArray]:
    """Post-baseline visits with CLASI-A = 0 or >= 4, and which of them are CR (CLASI-A = 0)."""
    a = c.v_a
    ok = (c.v_day > 0) & ((a <= rules.cr_max_activity) | (a >= rules.relapse_threshold))
    rows = Rows.where(c, ok)  # NaN compares False: missing scores are not significant
    return rows, c.v_a[rows.row] <= rules.cr_max_activity


def _relapse_rows(
    c: Cohort, sig: Rows, z_all: BoolArray, evaluable: BoolArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Visit rows that are relapses, their remission-start rows and their reduction dose rows."""
    keep = np.flatnonzero(evaluable[sig.pidx])
    row, pidx, day, z = sig.row[keep], sig.pidx[keep], sig.day[keep], z_all[keep]
    same = np.zeros(keep.size, dtype=bool)
    np.equal(pidx[1:], pidx[:-1], out=same[1:])
    prev_z = np.zeros(keep.size, dtype=bool)
    prev_z[1:] = z[:-1]
    prev_z &= same
    cand = np.flatnonzero(~z & prev_z)
    marks = np.where(z & ~prev_z, np.arange(keep.size), 0)
    start = np.maximum.accumulate(marks)[cand] if keep.size else cand
    reduced = np.zeros(c.d_pidx.size, dtype=bool)
    reduced[1:] = (c.d_pidx[1:] == c.d_pidx[:-1]) & (c.d_rank[1:] < c.d_rank[:-1])
    red_rows = np.flatnonzero(reduced)
    pos = last_before(
        c.d_keys[red_rows], c.d_pidx[red_rows], c.v_keys[row[cand]], pidx[cand], strict=True
    )
    red = np.where(pos >= 0, red_rows[np.maximum(pos, 0)] if red_rows.size else -1, -1)
    ok = (red >= 0) & (take(c.d_day, red) >= day[start])
    return row[cand][ok], row[start][ok], red[ok]


def derive_relapses(
    c: Cohort,
    rules: EndpointRules,
    *,
    cr_flag: BoolArray,
    evaluable: BoolArray,
    last_assessment_day: FloatArray,
) -> tuple[dict[str, np.ndarray[Any, Any]], pd.DataFrame]:
    """Vectorised :func:`compute_relapses`: per-patient arrays and the relapse records.

    >>> from cletrial.endpoints.table import build_visit_table
    >>> c = Cohort.from_table(build_visit_table([]))
    >>> len(derive_relapses(c, DEFAULT_RULES, cr_flag=np.zeros(0, bool),
    ...                     evaluable=np.zeros(0, bool), last_assessment_day=np.zeros(0))[1])
    0
    """
    ladder = np.array(rules.ladder, dtype=object)
    sig, z = _significant(c, rules)
    rows, start, red = _relapse_rows(c, sig, z, evaluable)
    rp = c.v_pidx[rows]
    at = last_before(c.d_keys, c.d_pidx, c.v_keys[rows], rp, strict=True)
    rank_at = c.d_rank[at]
    nxt = first_from(c.d_keys, c.d_pidx, c.v_keys[rows], rp)
    nxt_rank = take(c.d_rank, nxt, -1).astype(np.int64)
    number = _group_rank(rp) + 1
    raised = (nxt >= 0) & (nxt_rank > rank_at)
    restart = (number < rules.maintenance_after_relapses) & (nxt_rank >= rules.start_rank)
    action = np.where(raised, np.where(restart, 1, 2), 0)
    nxt = np.where(raised, nxt, -1)
    weeks = (c.v_day[rows] - c.d_day[red]) / 7
    records = pd.DataFrame(
        {
            "pidx": rp,
            "relapse_no": number,
            "day": c.v_day[rows],
            "srcseq": c.v_seq[rows],
            "clasi_a": c.v_a[rows],
            "remission_start_day": c.v_day[start],
            "reduction_day": c.d_day[red],
            "reduction_srcseq": c.d_seq[red],
            "weeks_from_reduction": weeks,
            "regimen": ladder[rank_at],
            "setting": np.where(rank_at == 0, "after_withdrawal", "during_taper").astype(object),
            "action": np.array(_ACTIONS, dtype=object)[action],
            "action_day": take(c.d_day, nxt),
            "action_srcseq": take(c.d_seq, nxt),
            "action_regimen": pick(nxt >= 0, ladder[np.maximum(nxt_rank, 0)], None),
        }
    )
    sustained = _sustained_vec(c, rules, sig, z, last_assessment_day)
    return _subject_arrays(c, records, cr_flag, evaluable, sustained), records


def _subject_arrays(
    c: Cohort, rec: pd.DataFrame, cr_flag: BoolArray, evaluable: BoolArray, sustained: FloatArray
) -> dict[str, np.ndarray[Any, Any]]:
    n, treated = c.n, c.treated
    rp = rec["pidx"].to_numpy()
    action = rec["action"].to_numpy()
    n_rel = np.bincount(rp, minlength=n).astype(np.float64)
    restarts = np.bincount(rp[action == "restart"], minlength=n)
    first = first_per_group(rp, np.ones(rp.size, dtype=bool), n)
    maint = first_per_group(rp, action == "maintenance", n)
    w_row = _final_withdrawal_rows(c)
    rel = first >= 0
    tri = np.where(evaluable & cr_flag, rel.astype(np.float64), np.nan)
    return {
        "n_relapses": np.where(evaluable, n_rel, np.nan),
        "relapsed": tri,
        "first_relapse_day": take(rec["day"].to_numpy(), first),
        "first_relapse_srcseq": take(rec["srcseq"].to_numpy(), first),
        "first_relapse_weeks_from_reduction": take(rec["weeks_from_reduction"].to_numpy(), first),
        "first_relapse_regimen": take_obj(rec["regimen"].to_numpy(), first),
        "first_relapse_setting": take_obj(rec["setting"].to_numpy(), first),
        "n_cycles": np.where(treated, 1.0 + restarts, np.nan),
        "maintenance": np.where(treated, (maint >= 0).astype(np.float64), np.nan),
        "maintenance_regimen": take_obj(rec["action_regimen"].to_numpy(), maint),
        "maintenance_day": take(rec["action_day"].to_numpy(), maint),
        "maintenance_srcseq": take(rec["action_srcseq"].to_numpy(), maint),
        "final_withdrawal_day": np.where(treated, take(c.d_day, w_row), np.nan),
        "final_withdrawal_srcseq": np.where(treated, take(c.d_seq, w_row), np.nan),
        "sustained_remission": np.where(evaluable, np.where(cr_flag, sustained, 0.0), np.nan),
    }


def _final_withdrawal_rows(c: Cohort) -> IntArray:
    """Per patient, the dose row starting the final run of ``off`` records (-1 if not off)."""
    n = c.n
    everything = np.ones(c.d_pidx.size, dtype=bool)
    last = last_per_group(c.d_pidx, everything, n)
    ends_off = (last >= 0) & (take(c.d_rank, last, -1) == 0)
    starts_off = c.d_rank == 0
    starts_off[1:] &= (c.d_pidx[1:] != c.d_pidx[:-1]) | (c.d_rank[:-1] != 0)
    w = last_per_group(c.d_pidx, starts_off, n)
    return np.where(ends_off, w, -1)


def _sustained_vec(
    c: Cohort, rules: EndpointRules, sig: Rows, z: BoolArray, last_assessment_day: FloatArray
) -> FloatArray:
    """1 / 0 / NaN per patient for patients with CR (the caller masks the others)."""
    n = c.n
    w_row = _final_withdrawal_rows(c)
    w_day = take(c.d_day, w_row, 0.0).astype(np.int64)
    pids = np.arange(n, dtype=np.int64)
    before = last_before(sig.keys, sig.pidx, make_keys(pids, w_day), pids, strict=False)
    before_z = (before >= 0) & take(z, before, 0.0).astype(bool)
    last_h = last_per_group(sig.pidx, ~z, n)
    h_after = (last_h >= 0) & (take(sig.day, last_h) > w_day)
    ok = (w_row >= 0) & before_z & ~h_after
    long_enough = last_assessment_day - w_day >= rules.sustained_remission_min_days
    return np.where(ok, np.where(long_enough, 1.0, np.nan), 0.0)
