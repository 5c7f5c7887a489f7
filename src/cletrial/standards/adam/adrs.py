"""ADRS: CLASI scores and responses by visit, and the engine's response and relapse endpoints.

Parameters (``PARAMCD``), in record order within a subject:

=========  =====================================================================  ==========
CLASIA     CLASI activity score, each visit (baseline ``ABLFL`` = Y; BASE, CHG, PCHG)  by visit
CLASIRSP   CLASI response at each post-baseline visit (CR, PR, NR, NE)                 by visit
BESTRSP    best overall CLASI response (the engine's ``best_response``)                subject
CR         complete response, Y/N (``cr_flag``)                                       subject
RESPWK12   CLASI-A improvement at week 12, % (``improvement_wk12_pct``)               subject
RELAPSE    relapse after CR: Y per relapse, one N when an evaluable CR never relapsed  event
RELRDDY    relapse: days since the last dose reduction                               event
RELREG     relapse: regimen in force (AVAL its rank on the dose ladder, 0 = off)      event
CLASI50    CLASI-50 at a named week, Y/N (only when the analysis names the week)      subject
CLASI70    CLASI-70 at a named week, Y/N (same; see ``adrs_trial``)                    subject
CLAIGAS    CLA-IGA success at a named week, Y/N (same; traced to the QS ``CLAIGA``)    subject
=========  =====================================================================  ==========

``AVAL`` and ``AVALC`` map one to one within each parameter: responses are coded by their
order (CR 1, PR 2, NR 3, WITHDRAWN 4, NE 5), flags Y = 1 and N = 0. ``AVISIT`` is ``BASELINE``
or ``WEEK n`` (n = engine day / 7, rounded, at least 1); ``ANL01FL`` marks, per parameter and
visit, the record closest to the nominal day (the earliest on a tie), and every subject-level
record. ``SRCDOM``/``SRCSEQ`` come from the SDTM lookup (:mod:`cletrial.standards.adam`).
"""

from __future__ import annotations

import math
from typing import Any, Final

import pandas as pd

from cletrial.endpoints.rule_texts import rule_texts
from cletrial.endpoints.rules import ADRS_PARAMETERS, RESPONSE_CODES, EndpointRules
from cletrial.endpoints.trial import TrialEndpointRules
from cletrial.standards.adam._base import AdamInput, flag, study_day
from cletrial.standards.adam._base import value_variable as srcvar
from cletrial.standards.adam._bds import bds_spec, finish_columns, record_columns
from cletrial.standards.adam.adrs_trial import trial_params, trial_records
from cletrial.standards.adam.adrs_visits import joined, visit_columns
from cletrial.standards.metadata import Dataset, DatasetSpec

__all__ = ["ADRS_PARAMS", "build_adrs", "visit_response"]

#: PARAMCD -> PARAM, in record order.
ADRS_PARAMS: Final = {
    "CLASIA": "CLASI activity score",
    "CLASIRSP": "CLASI response at visit",
    **{p.paramcd: p.param for p in ADRS_PARAMETERS},
    "RELAPSE": "Relapse after complete response",
    "RELRDDY": "Relapse: days since last dose reduction",
    "RELREG": "Relapse: regimen in force",
}
_COLUMNS: Final = (
    "STUDYID",
    "USUBJID",
    "ASEQ",
    "PARAMCD",
    "PARAM",
    "AVAL",
    "AVALC",
    "BASE",
    "CHG",
    "PCHG",
    "ABLFL",
    "AVISIT",
    "AVISITN",
    "ADT",
    "ADY",
    "ANL01FL",
    "RELNO",
    "RELSET",
    "RELACT",
    "SRCDOM",
    "SRCVAR",
    "SRCSEQ",
)


def visit_response(activity: float, base: float, rules: EndpointRules) -> str:
    """CLASI response at one visit against baseline (the engine's CR and PR thresholds).

    >>> from cletrial.endpoints import DEFAULT_RULES as R
    >>> [visit_response(a, 10, R) for a in (0, 5, 6, float("nan"))], visit_response(3, 0, R)
    (['CR', 'PR', 'NR', 'NE'], 'NE')
    """
    if math.isnan(activity):
        return "NE"
    if activity <= rules.cr_max_activity:
        return "CR"
    if math.isnan(base) or base <= 0:
        return "NE"
    return "PR" if (base - activity) / base >= rules.pr_min_improvement else "NR"


def _code(value: str) -> float:
    return float(RESPONSE_CODES.index(value) + 1)


def _record(
    a: AdamInput, p: int, paramcd: str, day: Any, array: str | None, seq: Any, **values: Any
) -> dict[str, Any]:
    dom, sdtm_seq = a.sdtm(p, array, seq) if array else (None, math.nan)
    return {
        "p": p,
        "PARAMCD": paramcd,
        "day": day,
        "ADT": a.date(p, day),
        "ADY": study_day(day, a.treated[p]),
        "SRCDOM": dom,
        "SRCVAR": None if dom is None else srcvar(dom),
        "SRCSEQ": sdtm_seq,
        **values,
    }


def _subject_records(a: AdamInput) -> list[dict[str, Any]]:
    cols = a.subject_lists()
    out = []
    for p in range(len(a.usubjids)):
        best = cols["best_response"][p]
        out.append(
            _record(
                a,
                p,
                "BESTRSP",
                cols["best_response_day"][p],
                cols["best_response_srcdom"][p],
                cols["best_response_srcseq"][p],
                AVAL=_code(best),
                AVALC=best,
            )
        )
        cr = flag(cols["cr_flag"][p])
        if cr is not None:
            out.append(
                _record(
                    a,
                    p,
                    "CR",
                    cols["cr_day"][p],
                    "assessments",
                    cols["cr_srcseq"][p],
                    AVAL=float(cr == "Y"),
                    AVALC=cr,
                )
            )
        pct = cols["improvement_wk12_pct"][p]
        if not pd.isna(pct):
            out.append(
                _record(
                    a,
                    p,
                    "RESPWK12",
                    cols["wk12_day"][p],
                    "assessments",
                    cols["wk12_srcseq"][p],
                    AVAL=float(pct),
                )
            )
        if flag(cols["relapsed"][p]) == "N":
            out.append(
                _record(
                    a,
                    p,
                    "RELAPSE",
                    cols["last_assessment_day"][p],
                    "assessments",
                    cols["last_assessment_srcseq"][p],
                    AVAL=0.0,
                    AVALC="N",
                )
            )
    return out


def _dose_in_force(a: AdamInput, p: int, day: int) -> int | None:
    """1-based position of the dose record in force before engine day ``day``."""
    origin, found = a.origins[p], None
    for i, dose in enumerate(a.histories[p].doses, 1):
        if origin is not None and (dose.date - origin).days < day:
            found = i
    return found


def _relapse_records(a: AdamInput) -> list[dict[str, Any]]:
    index = {u: p for p, u in enumerate(a.table.patients["patient_id"].tolist())}
    out = []
    for row in a.endpoints.relapse_records():
        p, day = index[row["patient_id"]], row["day"]
        extra = {
            "RELNO": float(row["relapse_no"]),
            "RELSET": row["setting"],
            "RELACT": row["action"],
        }
        out.append(
            _record(
                a, p, "RELAPSE", day, "assessments", row["srcseq"], AVAL=1.0, AVALC="Y", **extra
            )
        )
        out.append(
            _record(
                a,
                p,
                "RELRDDY",
                day,
                "doses",
                row["reduction_srcseq"],
                AVAL=float(round(row["weeks_from_reduction"] * 7)),
                **extra,
            )
        )
        out.append(
            _record(
                a,
                p,
                "RELREG",
                day,
                "doses",
                _dose_in_force(a, p, day),
                AVAL=float(a.rules.rank(row["regimen"])),
                AVALC=row["regimen"],
                **extra,
            )
        )
    return out


def adrs_spec(rules: EndpointRules) -> DatasetSpec:
    """The ADRS specification."""
    texts = rule_texts(rules)
    derived = {
        "AVAL": "PARAMCD CLASIA: the visit's CLASI-A; others: the code of AVALC (CR 1, PR 2, "
        "NR 3, WITHDRAWN 4, NE 5; Y 1, N 0), RELRDDY days, RELREG ladder rank",
        "AVALC": f"CLASIRSP: {texts['visit_response']}; BESTRSP: {texts['best_response']}; "
        f"CR: {texts['cr_flag']}; RELAPSE: {texts['relapsed']}",
        "BASE": "CLASI-A of the baseline visit",
        "CHG": "AVAL - BASE",
        "PCHG": "100 x (AVAL - BASE) / BASE, missing when BASE is 0",
        "ABLFL": "Y on the baseline visit's record",
        "AVISIT": "BASELINE, or WEEK n with n the study week of ADT (day / 7, rounded)",
        "AVISITN": "0 for baseline, else n of AVISIT",
        "ADT": "date of the record the value comes from",
        "ADY": "ADT - TRTSDT + 1 on or after TRTSDT, else ADT - TRTSDT",
        "ANL01FL": "Y for the record closest to the nominal day of its AVISIT, and every "
        "subject-level record",
        "ASEQ": "sequence of the subject's records by PARAMCD, ADT",
        "PARAMCD": "one per endpoint (module table)",
        "RELNO": "relapse number",
        "RELSET": texts["first_relapse_setting"],
        "RELACT": "restart, maintenance or none: the first dose record on or after the relapse",
        "PARAM": "from PARAMCD",
        "SRCDOM": "SDTM domain of the source record",
        "SRCVAR": "SDTM variable of the source value",
        "SRCSEQ": "--SEQ of the source record",
    }
    labels = {
        "STUDYID": "Study Identifier",
        "USUBJID": "Unique Subject Identifier",
        "ASEQ": "Analysis Sequence Number",
        "PARAMCD": "Parameter Code",
        "PARAM": "Parameter",
        "AVAL": "Analysis Value",
        "AVALC": "Analysis Value (C)",
        "BASE": "Baseline Value",
        "CHG": "Change from Baseline",
        "PCHG": "Percent Change from Baseline",
        "ABLFL": "Baseline Record Flag",
        "AVISIT": "Analysis Visit",
        "AVISITN": "Analysis Visit (N)",
        "ADT": "Analysis Date",
        "ADY": "Analysis Relative Day",
        "ANL01FL": "Analysis Flag 01",
        "RELNO": "Relapse Number",
        "RELSET": "Relapse Setting",
        "RELACT": "Action After Relapse",
        "SRCDOM": "Source Data",
        "SRCVAR": "Source Variable",
        "SRCSEQ": "Source Sequence Number",
    }
    return bds_spec(
        "ADRS",
        "Response Analysis Dataset",
        _COLUMNS,
        labels,
        derived,
        ("STUDYID", "USUBJID", "PARAMCD", "ASEQ"),
    )


def build_adrs(a: AdamInput, trial: TrialEndpointRules | None = None) -> Dataset:
    """ADRS of the cohort ``a``; with ``trial``, also its CLASI-50/70 records at the named week
    (:mod:`cletrial.standards.adam.adrs_trial`).

    >>> from cletrial.standards.adam import example_input
    >>> adrs = build_adrs(example_input()).frame
    >>> adrs[["PARAMCD", "AVAL", "AVALC", "SRCSEQ"]].values.tolist()[3:5]
    [['CLASIRSP', 1.0, 'CR', 2.0], ['CLASIRSP', 1.0, 'CR', 3.0]]
    """
    visits = visit_columns(a, visit_response)
    records = _subject_records(a) + _relapse_records(a)
    for r in records:
        r["ANL01FL"] = "Y"  # every subject-level record
    params = ADRS_PARAMS
    if trial is not None:
        records += trial_records(a, trial)
        params = {**ADRS_PARAMS, **trial_params(trial)}
    spec = adrs_spec(a.rules)
    more = record_columns(records, spec, params)
    more.pop("PARAM", None)  # from PARAMCD, for every record
    cols = {name: joined(visits.get(name), more.get(name), len(visits["p"]), len(records))
            for name in {**visits, **more}}  # fmt: skip
    return finish_columns(a, spec, cols, params)
