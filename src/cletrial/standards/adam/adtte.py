"""ADTTE: time to complete response (TTCR) and relapse-free time (RFS), in days.

One record per patient at risk and parameter (:data:`cletrial.endpoints.rules.ADTTE_PARAMETERS`:
treated patients for TTCR, complete responders for RFS). ``AVAL`` = ``ADT`` - ``STARTDT`` in
days; ``CNSR`` 0 for the event, 1 when censored (at the last assessment, or at the origin when
there is none, ``AVAL`` 0). ``SRCDOM``/``SRCSEQ`` point at the SDTM record of ``ADT``.
"""

from __future__ import annotations

import math
from typing import Any, Final

from cletrial.endpoints.rules import ADTTE_PARAMETERS
from cletrial.standards.adam._base import AdamInput, date_variable, study_day
from cletrial.standards.adam._bds import bds_spec, finish
from cletrial.standards.metadata import Dataset, DatasetSpec

__all__ = ["ADTTE_PARAMS", "build_adtte"]

ADTTE_PARAMS: Final = {p.paramcd: p.param.replace("(weeks)", "(days)") for p in ADTTE_PARAMETERS}
_COLUMNS: Final = (
    "STUDYID",
    "USUBJID",
    "PARAMCD",
    "PARAM",
    "AVAL",
    "CNSR",
    "STARTDT",
    "ADT",
    "ADY",
    "EVNTDESC",
    "CNSDTDSC",
    "SRCDOM",
    "SRCVAR",
    "SRCSEQ",
)
_NO_CENSOR: Final = "no post-baseline CLASI-A assessment: censored at origin"


def _nan(v: Any) -> bool:
    return v is None or v != v


def _records(a: AdamInput) -> list[dict[str, Any]]:
    cols = a.subject_lists()
    out = []
    for p in range(len(a.usubjids)):
        for t in ADTTE_PARAMETERS:
            if cols[t.population][p] is not True:
                continue
            start, event = cols[t.origin_day][p], cols[t.event_day][p]
            censor = cols[t.censor_day][p]
            is_event = not _nan(event)
            when = event if is_event else (start if _nan(censor) else censor)
            seq = (
                cols[t.event_day.replace("_day", "_srcseq")][p]
                if is_event
                else (None if _nan(censor) else cols[t.censor_day.replace("_day", "_srcseq")][p])
            )
            src = t.event if is_event else t.censor
            dom, sdtm_seq = a.sdtm(p, src.dataset, seq)
            out.append(
                {
                    "p": p,
                    "PARAMCD": t.paramcd,
                    "day": 0,
                    "AVAL": float(when - start),
                    "CNSR": 0.0 if is_event else 1.0,
                    "STARTDT": a.date(p, start),
                    "ADT": a.date(p, when),
                    "ADY": study_day(when, a.treated[p]),
                    "EVNTDESC": t.event.condition if is_event else None,
                    "CNSDTDSC": None
                    if is_event
                    else (_NO_CENSOR if seq is None else t.censor.condition),
                    "SRCDOM": dom,
                    "SRCVAR": None if dom is None else date_variable(dom),
                    "SRCSEQ": sdtm_seq,
                }
            )
    return out


def adtte_spec() -> DatasetSpec:
    """The ADTTE specification."""
    labels = {
        "STUDYID": "Study Identifier",
        "USUBJID": "Unique Subject Identifier",
        "PARAMCD": "Parameter Code",
        "PARAM": "Parameter",
        "AVAL": "Analysis Value",
        "CNSR": "Censor",
        "STARTDT": "Time-to-Event Origin Date for Subject",
        "ADT": "Analysis Date",
        "ADY": "Analysis Relative Day",
        "EVNTDESC": "Event or Censoring Description",
        "CNSDTDSC": "Censor Date Description",
        "SRCDOM": "Source Data",
        "SRCVAR": "Source Variable",
        "SRCSEQ": "Source Sequence Number",
    }
    events = "; ".join(f"{t.paramcd}: {t.event.condition}" for t in ADTTE_PARAMETERS)
    censors = "; ".join(f"{t.paramcd}: {t.censor.condition}" for t in ADTTE_PARAMETERS)
    derived = {
        "PARAMCD": "one per time-to-event parameter",
        "PARAM": "from PARAMCD",
        "AVAL": "ADT - STARTDT (days)",
        "CNSR": "0 at the event, 1 when censored",
        "STARTDT": "TTCR: first dose date; RFS: date of the first complete response",
        "ADT": f"event date ({events}), else censoring date ({censors})",
        "ADY": "ADT - TRTSDT + 1 on or after TRTSDT, else ADT - TRTSDT",
        "EVNTDESC": events,
        "CNSDTDSC": censors,
        "SRCDOM": "SDTM domain of ADT",
        "SRCVAR": "SDTM date variable of ADT",
        "SRCSEQ": "--SEQ of the ADT record",
    }
    return bds_spec(
        "ADTTE",
        "Time-to-Event Analysis Dataset",
        _COLUMNS,
        labels,
        derived,
        ("STUDYID", "USUBJID", "PARAMCD"),
    )


def build_adtte(a: AdamInput) -> Dataset:
    """ADTTE of the cohort ``a``.

    >>> from cletrial.standards.adam import example_input
    >>> build_adtte(example_input()).frame[["PARAMCD", "AVAL", "CNSR"]].values.tolist()
    [['TTCR', 28.0, 0.0], ['RFS', 32.0, 1.0]]
    """
    records = _records(a)
    for r in records:
        r["day"] = math.nan
    return finish(a, adtte_spec(), records, ADTTE_PARAMS)
