"""Visit-level cohorts (patient histories, ``docs/formats.md``) for the study report.

The endpoints come from :mod:`cletrial.endpoints` (``course_from_history``,
``build_visit_table``, ``derive_endpoints``, ``derive_adtte``); this module only summarises them:
tables of n (%) with exact intervals, Kaplan-Meier estimates of the ADTTE parameters, swimmer
lanes from the dose records, Figure 2 points (CLASI by nominal visit) and Figure 3 panels
(immunology, baseline against end of treatment). Histories marked ``"synthetic": true`` are
counted, and the report labels the whole study synthetic when any history is.

>>> h = {"patient_id": "S1", "synthetic": True, "first_dose_date": "2010-01-04",
...      "baseline": {"date": "2010-01-04", "clasi": {"activity": 8, "damage": 1}},
...      "assessments": [{"date": "2010-02-01", "clasi": {"activity": 0, "damage": 1}}],
...      "doses": [{"date": "2010-01-04", "regimen": "5_daily"}]}
>>> cohort = derive_cohort([h])
>>> cohort.n_patients, cohort.n_synthetic, cohort.endpoints.subjects["best_response"].tolist()
(1, 1, ['CR'])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from cletrial.analysis.figures import ClasiTimePoint, ImmunologyPanel
from cletrial.analysis.lanes import SwimmerLane, SwimmerMarker, SwimmerSegment
from cletrial.analysis.statistics import compute_distribution, compute_ttest, compute_wilcoxon
from cletrial.analysis.survival import KaplanMeier, compute_kaplan_meier
from cletrial.errors import HistoryError, InputError

__all__ = [
    "NOMINAL_WEEKS",
    "Cohort",
    "compute_clasi_time_points",
    "compute_cohort_kaplan_meier",
    "compute_immunology_panels",
    "compute_paired_test_texts",
    "derive_cohort",
    "derive_cohort_lanes",
]

#: Nominal visits of Figure 2 (weeks) and their windows (days): week 2, then every 4 weeks to
#: week 24 (+/- 7 days, protocol specification section 4), then every 12 weeks to week 48
#: (+/- 14 days), i.e. the paper's 12 months. Week 2 uses +/- 3 days so windows do not overlap.
NOMINAL_WEEKS: Final[tuple[tuple[int, int], ...]] = (
    (2, 3),
    (4, 7),
    (8, 7),
    (12, 7),
    (16, 7),
    (20, 7),
    (24, 7),
    (36, 14),
    (48, 14),
)
_IMMUNOLOGY: Final = (
    ("anti_dsdna", "Anti-dsDNA", "IU/ml"),
    ("c3", "C3", "mg/dL"),
    ("c4", "C4", "mg/dL"),
)


@dataclass(frozen=True)
class Cohort:
    """A cohort's visit table, endpoints and ADTTE records (from :mod:`cletrial.endpoints`)."""

    table: Any
    endpoints: Any
    adtte: pd.DataFrame
    n_patients: int
    n_synthetic: int
    rules: Any = None  # the EndpointRules used (None: the default protocol's)

    @property
    def subjects(self) -> pd.DataFrame:
        """One row per patient (:func:`cletrial.endpoints.subject_columns`)."""
        frame: pd.DataFrame = self.endpoints.subjects
        return frame


def _example_histories() -> list[dict[str, Any]]:
    """Two small synthetic histories (a CR at week 4, a PR on 10 mg) for the examples."""

    def history(pid: str, week4: int, week12: int, escalate: bool) -> dict[str, Any]:
        doses = [{"date": "2010-01-04", "regimen": "5_daily"}]
        if escalate:
            doses.append({"date": "2010-02-01", "regimen": "10_daily"})
        return {
            "patient_id": pid,
            "synthetic": True,
            "first_dose_date": "2010-01-04",
            "baseline": {"date": "2010-01-04", "clasi": {"activity": 10, "damage": 2}},
            "assessments": [
                {"date": "2010-02-01", "clasi": {"activity": week4, "damage": 2}},
                {"date": "2010-03-29", "clasi": {"activity": week12, "damage": 3}},
            ],
            "doses": doses,
            "labs": [
                {"date": "2010-01-04", "test": "c3", "value": 80, "unit": "mg/dL"},
                {"date": "2010-03-29", "test": "c3", "value": 85, "unit": "mg/dL"},
            ],
        }

    return [history("E1", 0, 0, False), history("E2", 6, 4, True)]


def derive_cohort(histories: Iterable[Mapping[str, Any]], rules: Any = None) -> Cohort:
    """Derive every endpoint of a cohort of patient histories (one dict per patient).

    Histories are validated by :func:`cletrial.protocol.history.parse_history`; ``rules``
    (:class:`cletrial.endpoints.EndpointRules`, default: the default protocol's) give the
    regimen ladder and thresholds. Patients who cannot be analysed (never dosed, withdrawn,
    no baseline) are kept with population flags, never an error.

    Raises
    ------
    HistoryError
        A history that does not validate, located at its 1-based position (``line``).
    InputError
        An empty cohort.

    >>> derive_cohort(_example_histories()).subjects["best_response"].tolist()
    ['CR', 'PR']
    """
    from cletrial.endpoints import (
        DEFAULT_RULES,
        build_visit_table,
        course_from_history,
        derive_endpoints,
    )
    from cletrial.endpoints.adam import derive_adtte

    rules = DEFAULT_RULES if rules is None else rules
    courses = []
    for line, history in enumerate(histories, start=1):
        try:
            courses.append(course_from_history(history, rules))
        except InputError as exc:
            raise exc.at_line(line) from None
    if not courses:
        raise HistoryError("", None, "the cohort has no patient history")
    table = build_visit_table(courses)
    endpoints = derive_endpoints(table, rules)
    return Cohort(
        table,
        endpoints,
        derive_adtte(endpoints, table),
        len(courses),
        sum(c.synthetic for c in courses),
        rules,
    )


def compute_cohort_kaplan_meier(cohort: Cohort, paramcd: str, label: str) -> KaplanMeier | None:
    """Kaplan-Meier estimate of one ADTTE parameter (``TTCR`` or ``RFS``); None without records.

    ``AVAL`` is in weeks; ``CNSR`` 0 is an event, 1 a censored time (CDISC ADaM).

    >>> km = compute_cohort_kaplan_meier(derive_cohort(_example_histories()), "TTCR", "CR")
    >>> (km.n, km.events, km.median)
    (2, 1, 4.0)
    """
    records = cohort.adtte[(cohort.adtte["PARAMCD"] == paramcd) & cohort.adtte["AVAL"].notna()]
    if records.empty:
        return None
    return compute_kaplan_meier(
        records["AVAL"].astype(float).tolist(),
        [int(c) == 0 for c in records["CNSR"]],
        label=label,
    )


def _value(row: Mapping[str, Any], key: str) -> Any:
    value = row[key]
    return (
        None
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))
        else value
    )


def _lane(
    row: Mapping[str, Any], doses: pd.DataFrame, relapses: pd.DataFrame, ladder: tuple[str, ...]
) -> SwimmerLane:
    days = doses["day"].to_numpy(dtype=float)
    ends = [float(_value(row, k) or 0) for k in ("last_assessment_day", "first_stop_day")]
    end_day = max([*ends, *(days.tolist() or [0.0])])
    segments = []
    for index, (day, rank) in enumerate(zip(days, doses["rank"].to_numpy(dtype=int), strict=True)):
        stop = days[index + 1] if index + 1 < len(days) else end_day
        if stop > day:
            segments.append(SwimmerSegment(float(day) / 7, float(stop) / 7, ladder[rank], False))
    markers = []
    if _value(row, "cr_day") is not None:
        markers.append(SwimmerMarker(float(row["cr_day"]) / 7, "CR", "complete response"))
    for rec in relapses.itertuples():
        markers.append(SwimmerMarker(float(rec.day) / 7, "relapse", f"relapse on {rec.regimen}"))
    if _value(row, "first_stop_reason") is not None:
        markers.append(
            SwimmerMarker(float(row["first_stop_day"]) / 7, "stop", str(row["first_stop_reason"]))
        )
    note = f"{row['best_response']}, {len(relapses)} relapse(s)"
    return SwimmerLane(str(row["patient_id"]), tuple(segments), tuple(markers), end_day / 7, note)


def derive_cohort_lanes(cohort: Cohort, *, limit: int = 30) -> list[SwimmerLane]:
    """Swimmer lanes of the first ``limit`` patients, from the recorded dose changes.

    Segments come from the dose records (the regimen in force from each record's day until the
    next record, the last one until the last assessment or stop); markers are the derived CR
    day, each relapse and the disposition event that stopped treatment.

    >>> lanes = derive_cohort_lanes(derive_cohort(_example_histories()))
    >>> [(s.regimen, s.start, s.end) for s in lanes[1].segments]
    [('5_daily', 0.0, 4.0), ('10_daily', 4.0, 12.0)]
    """
    from cletrial.endpoints import DEFAULT_RULES

    ladder = (cohort.rules or DEFAULT_RULES).ladder
    subjects = cohort.subjects.head(limit)
    doses, relapses = cohort.table.doses, cohort.endpoints.relapses
    lanes = []
    for pidx, row in enumerate(subjects.to_dict("records")):
        lanes.append(
            _lane(
                row,
                doses[doses["pidx"] == pidx],
                relapses[relapses["patient_id"] == row["patient_id"]],
                ladder,
            )
        )
    return lanes


def _nominal_scores(visits: pd.DataFrame, week: int, window: int) -> pd.DataFrame:
    """Per patient, the visit closest to the nominal ``week`` within ``window`` days."""
    day = 7 * week
    near = visits[(visits["day"] - day).abs() <= window].copy()
    near["distance"] = (near["day"] - day).abs()
    return near.sort_values(["pidx", "distance", "day"]).drop_duplicates("pidx")


def compute_clasi_time_points(cohort: Cohort) -> list[ClasiTimePoint]:
    """Figure 2 data: CLASI activity and damage, mean ± SEM and n, at baseline and each
    :data:`NOMINAL_WEEKS` visit (per patient the closest visit in the window; missing scores are
    left out and the n shows it).

    >>> points = compute_clasi_time_points(derive_cohort(_example_histories()))
    >>> [(p.week, p.activity_mean, p.activity_n) for p in points]
    [(0.0, 10.0, 2), (4.0, 3.0, 2), (12.0, 2.0, 2)]
    """
    patients = cohort.table.patients
    points = [_point(0, patients["clasi_a_base"], patients["clasi_d_base"])]
    for week, window in NOMINAL_WEEKS:
        chosen = _nominal_scores(cohort.table.visits, week, window)
        if not chosen.empty:
            points.append(_point(week, chosen["clasi_a"], chosen["clasi_d"]))
    return points


def _point(week: int, activity: pd.Series, damage: pd.Series) -> ClasiTimePoint:
    a = compute_distribution(activity.astype(float).tolist())
    d = compute_distribution(damage.astype(float).tolist())
    return ClasiTimePoint(float(week), a.mean, a.sem, a.n, d.mean, d.sem, d.n)


def compute_immunology_panels(cohort: Cohort) -> list[ImmunologyPanel]:
    """Figure 3 data: anti-dsDNA, C3, C4 at baseline and end of treatment (patients with both),
    each with a paired t-test and a Wilcoxon signed-rank test, named.

    >>> panel = compute_immunology_panels(derive_cohort(_example_histories()))[1]
    >>> panel.label, panel.pairs[0], panel.test_text.split(";")[0]
    ('C3', (80.0, 85.0), 'n = 2')
    """
    panels = []
    subjects = cohort.subjects
    for test, label, unit in _IMMUNOLOGY:
        both = subjects[[f"{test}_base", f"{test}_end"]].astype(float).dropna()
        pairs = tuple((float(b), float(e)) for b, e in both.itertuples(index=False))
        after, before = [p[1] for p in pairs], [p[0] for p in pairs]
        text = f"n = {len(pairs)}; " + "; ".join(compute_paired_test_texts(after, before))
        panels.append(ImmunologyPanel(label, unit, pairs, text))
    return panels


def compute_paired_test_texts(after: list[float], before: list[float]) -> list[str]:
    """Paired t-test and Wilcoxon signed-rank test of ``after`` against ``before``, as text, or
    why a test cannot be done (fewer than 2 pairs, no change, identical changes).

    >>> compute_paired_test_texts([3.0, 5.0, 4.0], [1.0, 2.0, 2.0])[0]
    'Paired t-test: t = 7, df = 2.0, P = 0.0198 (n = 3)'
    >>> compute_paired_test_texts([2.0, 3.0], [1.0, 2.0])[0]
    'paired t-test undefined: every pair changed by the same amount'
    """
    differences = {a - b for a, b in zip(after, before, strict=True)}
    if len(after) < 2:
        return [f"no test ({len(after)} pair(s) with both values)"]
    if differences == {0.0}:
        return ["no test (no pair changed)"]
    texts = []
    if len(differences) == 1:
        texts.append("paired t-test undefined: every pair changed by the same amount")
    else:
        texts.append(compute_ttest(after, before, test="paired").text())
    texts.append(compute_wilcoxon(after, before).text())
    return texts
