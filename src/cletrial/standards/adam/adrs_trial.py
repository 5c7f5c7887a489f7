"""ADRS records of the trial's CLASI responder and CLA-IGA success endpoints at a named week.

When an analysis names its week (:class:`~cletrial.endpoints.trial.TrialEndpointRules`), ADRS
gains one subject-level record per threshold: ``PARAMCD`` ``CLASI50`` / ``CLASI70`` (a reduction
of at least 50% / 70% of CLASI-A from baseline at the week), ``AVALC`` Y/N, ``AVAL`` 1/0, traced to
the CLASI-A assessment it was read from (``SRCDOM``/``SRCSEQ``), ``AVISIT`` ``WEEK n``.

Missing stays missing: an undetermined responder (baseline 0 or missing, no visit in the
window) has no record. With non-responder imputation (``nri=True``) a patient without a visit
gets ``AVALC`` N with no source record (``SRCDOM`` empty), which is how the imputation shows.

``PARAMCD`` ``CLAIGAS`` is CLA-IGA success at the week (a grade of at most 1 and at least 2
grades below baseline, :func:`cletrial.instruments.compute_cla_iga_success`), traced to the QS
``CLAIGA`` record of the visit it was read from; the source is asked for the history array
``assessments#CLAIGA`` (:data:`CLA_IGA_SOURCE`). Missing stays missing in the same way: no
baseline grade or no graded visit in the window gives no record (``nri``: N without a source
when the baseline grade is known).

The Skindex-29+3 domain scores are in ADQS (:mod:`cletrial.standards.adam.adqs`).

>>> from cletrial.endpoints.trial import TrialEndpointRules
>>> trial_params(TrialEndpointRules(week=16))["CLASI50"]
'CLASI-50 response at week 16 (CLASI-A reduced >= 50% from baseline)'
>>> trial_params(TrialEndpointRules(week=16))["CLAIGAS"]
'CLA-IGA success at week 16 (grade 0 or 1 and >= 2 grades below baseline)'
"""

from __future__ import annotations

import math
from typing import Any

from cletrial.endpoints.course import course_from_history
from cletrial.endpoints.trial import (
    TrialEndpointRules,
    derive_clasi_responders,
    find_visit_at_week,
)
from cletrial.instruments import compute_cla_iga_success
from cletrial.standards.adam._base import AdamInput, study_day
from cletrial.standards.adam._base import value_variable as srcvar

__all__ = ["CLA_IGA_SOURCE", "trial_params", "trial_records"]

#: The history array a source resolves to a visit's QS ``CLAIGA`` record (not its CLASI-A).
CLA_IGA_SOURCE = "assessments#CLAIGA"


def trial_params(trial: TrialEndpointRules) -> dict[str, str]:
    """PARAMCD -> PARAM of the responder records, in record order."""
    return {
        f"CLASI{t}": f"CLASI-{t} response at week {trial.week} "
        f"(CLASI-A reduced >= {t}% from baseline)"
        for t in trial.thresholds
    } | {
        "CLAIGAS": f"CLA-IGA success at week {trial.week} (grade {_grades(trial)} and "
        f">= {trial.iga_min_improvement} grades below baseline)"
    }


def _grades(trial: TrialEndpointRules) -> str:
    return " or ".join(str(g) for g in range(trial.iga_max_grade + 1))


def trial_records(a: AdamInput, trial: TrialEndpointRules) -> list[dict[str, Any]]:
    """One record per patient and threshold whose responder flag is determined (or imputed)."""
    columns = derive_clasi_responders(a.table, trial)
    days, seqs = columns["clasi_wk_day"].tolist(), columns["clasi_wk_srcseq"].tolist()
    visit = {"AVISIT": f"WEEK {trial.week}", "AVISITN": float(trial.week)}
    out = []
    for t in trial.thresholds:
        for p, met in enumerate(columns[f"clasi{t}"].tolist()):
            if math.isnan(met):
                continue
            day, seq = days[p], seqs[p]
            dom, sdtm_seq = a.sdtm(p, "assessments", seq)
            out.append(
                {
                    "p": p,
                    "PARAMCD": f"CLASI{t}",
                    "day": None if math.isnan(day) else day,
                    "ADT": a.date(p, day),
                    "ADY": study_day(day, a.treated[p]),
                    "SRCDOM": dom,
                    "SRCVAR": None if dom is None else srcvar(dom),
                    "SRCSEQ": sdtm_seq,
                    "AVAL": met,
                    "AVALC": "Y" if met == 1.0 else "N",
                    "ANL01FL": "Y",
                    **visit,
                }
            )
    return out + _iga_records(a, trial)


def _iga_records(a: AdamInput, trial: TrialEndpointRules) -> list[dict[str, Any]]:
    """One CLA-IGA success record per patient whose success is determined (or imputed)."""
    out = []
    for p, history in enumerate(a.histories):
        course = course_from_history(history, a.rules)
        found = find_visit_at_week(course.visits, "cla_iga", trial)
        success = compute_cla_iga_success(
            course.cla_iga_base, None if found is None else found.cla_iga,
            max_grade=trial.iga_max_grade, min_improvement=trial.iga_min_improvement,
        )  # fmt: skip
        if success is None:
            if not (trial.nri and found is None and course.cla_iga_base is not None):
                continue
            success = False
        day = None if found is None else float(found.day)
        dom, seq = a.sdtm(p, CLA_IGA_SOURCE, None if found is None else found.seq)
        out.append({"p": p, "PARAMCD": "CLAIGAS", "day": day, "ADT": a.date(p, day),
                    "ADY": study_day(day, a.treated[p]), "SRCDOM": dom,
                    "SRCVAR": None if dom is None else srcvar(dom), "SRCSEQ": seq,
                    "AVAL": 1.0 if success else 0.0, "AVALC": "Y" if success else "N",
                    "ANL01FL": "Y", "AVISIT": f"WEEK {trial.week}",
                    "AVISITN": float(trial.week)})  # fmt: skip
    return out
