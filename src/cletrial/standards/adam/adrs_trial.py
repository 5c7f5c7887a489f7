"""ADRS records of the trial's CLASI responder endpoints at a named week (opt-in).

When an analysis names its week (:class:`~cletrial.endpoints.trial.TrialEndpointRules`), ADRS
gains one subject-level record per threshold: ``PARAMCD`` ``CLASI50`` / ``CLASI70`` (a reduction
of at least 50% / 70% of CLASI-A from baseline at the week), ``AVALC`` Y/N, ``AVAL`` 1/0, traced to
the CLASI-A assessment it was read from (``SRCDOM``/``SRCSEQ``), ``AVISIT`` ``WEEK n``.

Missing stays missing: an undetermined responder (baseline 0 or missing, no visit in the
window) has no record. With non-responder imputation (``nri=True``) a patient without a visit
gets ``AVALC`` N with no source record (``SRCDOM`` empty), which is how the imputation shows.

Not here yet: CLA-IGA success and the Skindex-29+3 domain scores (an ADQS), because SDTM QS does
not carry those instruments yet, so their ``SRCSEQ`` could not resolve.

>>> from cletrial.endpoints.trial import TrialEndpointRules
>>> trial_params(TrialEndpointRules(week=16))["CLASI50"]
'CLASI-50 response at week 16 (CLASI-A reduced >= 50% from baseline)'
"""

from __future__ import annotations

import math
from typing import Any

from cletrial.endpoints.trial import TrialEndpointRules, derive_clasi_responders
from cletrial.standards.adam._base import AdamInput, study_day
from cletrial.standards.adam._base import value_variable as srcvar

__all__ = ["trial_params", "trial_records"]


def trial_params(trial: TrialEndpointRules) -> dict[str, str]:
    """PARAMCD -> PARAM of the responder records, in record order."""
    return {
        f"CLASI{t}": f"CLASI-{t} response at week {trial.week} "
        f"(CLASI-A reduced >= {t}% from baseline)"
        for t in trial.thresholds
    }


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
    return out
