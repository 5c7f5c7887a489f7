"""ADaM-shaped tables: ADSL (one row per patient), ADRS (response records), ADTTE (time to
event with censoring) and ADAE (adverse events).

Conventions (CDISC ADaM): ``ADY`` is the study day (day 1 = first dose, no day 0; days before
the first dose are negative), ``ADT`` the calendar date, flags are ``"Y"`` / ``"N"`` and missing
is empty (None). Each record names its source: ``SRCDOM`` (the history array: assessments,
doses, events, labs, adverse_events), ``SRCSEQ`` (1-based position in that array) and
``SRCVAR`` (the variable), so every derived value can be traced to the record it came from.
ADTTE ``CNSR`` is 0 for an event and 1 for a censored time; ``AVAL`` is in weeks.

>>> from cletrial.endpoints.course import course_from_history
>>> from cletrial.endpoints.subject import derive_endpoints
>>> from cletrial.endpoints.table import build_visit_table
>>> t = build_visit_table([course_from_history({"patient_id": "P2",
...     "doses": [{"date": "2009-03-02", "regimen": "5_daily"}],
...     "baseline": {"date": "2009-03-02", "clasi": {"activity": 7}},
...     "assessments": [{"date": "2009-03-30", "clasi": {"activity": 0}}]})])
>>> tte = derive_adtte(derive_endpoints(t), t)
>>> tte[["PARAMCD", "AVAL", "CNSR", "SRCSEQ"]].values.tolist()
[['TTCR', 4.0, 0, 1], ['RFS', 0.0, 1, 1]]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cletrial.endpoints._vec import pick
from cletrial.endpoints.rules import (
    ADRS_PARAMETERS,
    ADTTE_PARAMETERS,
    CAUSALITY_TERMS,
    DEFAULT_RULES,
    EndpointRules,
)
from cletrial.endpoints.subject import Endpoints
from cletrial.endpoints.table import VisitTable

__all__ = ["ADSL_VARIABLES", "derive_adae", "derive_adrs", "derive_adsl", "derive_adtte"]

#: ADSL variable, subject-table column, label, and how to convert ("flag" -> Y/N, else as is).
ADSL_VARIABLES: tuple[tuple[str, str, str, str], ...] = (
    ("SYNTHFL", "synthetic", "Synthetic record flag", "flag"),
    ("SAFFL", "saf_flag", "Safety population flag (all treated patients: any dose)", "flag"),
    ("ITTFL", "itt_flag", "Intention-to-treat population flag (all treated patients)", "flag"),
    (
        "EFFFL",
        "eff_flag",
        "Efficacy population flag (treated, baseline CLASI-A, assessed before any withdrawal)",
        "flag",
    ),
    ("POPEXCL", "population_note", "Why the patient is outside a population", "value"),
    ("BCLASIA", "clasi_a_base", "Baseline CLASI activity", "value"),
    ("BCLASID", "clasi_d_base", "Baseline CLASI damage", "value"),
    ("BSLEDAI", "sledai_base", "Baseline SLEDAI-2K", "value"),
    ("BESTRSP", "best_response", "Best overall CLASI response", "value"),
    ("RSPNOTE", "response_note", "Why the response is NE, or how NR was reached", "value"),
    ("CRFL", "cr_flag", "Complete response flag", "flag"),
    ("TTCRWK", "time_to_cr_weeks", "Time to complete response (weeks)", "value"),
    ("PCHGA12", "improvement_wk12_pct", "CLASI-A improvement at week 12 (%)", "value"),
    ("RELFL", "relapsed", "Relapsed after complete response", "flag"),
    ("NRELAPSE", "n_relapses", "Number of relapses", "value"),
    (
        "REL1WK",
        "first_relapse_weeks_from_reduction",
        "First relapse: weeks since last dose reduction",
        "value",
    ),
    ("REL1REG", "first_relapse_regimen", "First relapse: regimen at relapse", "value"),
    (
        "REL1SET",
        "first_relapse_setting",
        "First relapse: during taper or after withdrawal",
        "value",
    ),
    ("NCYCLES", "n_cycles", "Number of treatment cycles", "value"),
    ("MAINTFL", "maintenance", "Long-term maintenance dose needed", "flag"),
    ("MAINTREG", "maintenance_regimen", "Maintenance regimen", "value"),
    ("SUSREMFL", "sustained_remission", "Sustained remission after withdrawal", "flag"),
    ("FLRPMFL", "flare_paper_mild", "SLEDAI-2K mild flare (increase > 3)", "flag"),
    ("FLRPSFL", "flare_paper_severe", "SLEDAI-2K severe flare (increase > 12)", "flag"),
    ("FLRSMFL", "flare_selena_mild", "SELENA mild/moderate flare", "flag"),
    ("FLRSSFL", "flare_selena_severe", "SELENA severe flare", "flag"),
    ("CLASID12", "clasi_d_12m", "CLASI damage at 12 months", "value"),
    ("CHGD12", "clasi_d_change_12m", "CLASI damage change from baseline at 12 months", "value"),
    ("DSDNABL", "anti_dsdna_base", "Anti-dsDNA at baseline (IU/ml)", "value"),
    ("DSDNAEOT", "anti_dsdna_end", "Anti-dsDNA at end of treatment (IU/ml)", "value"),
    ("C3BL", "c3_base", "C3 at baseline (mg/dL)", "value"),
    ("C3EOT", "c3_end", "C3 at end of treatment (mg/dL)", "value"),
    ("C4BL", "c4_base", "C4 at baseline (mg/dL)", "value"),
    ("C4EOT", "c4_end", "C4 at end of treatment (mg/dL)", "value"),
    ("AEFL", "any_ae", "Any treatment-emergent adverse event", "flag"),
    ("NAEREL", "n_ae_related", "Related treatment-emergent adverse events", "value"),
    ("MAXAETOX", "max_ae_grade", "Highest CTCAE grade", "value"),
    ("NSAE", "n_sae", "Serious adverse events", "value"),
    ("DCTREAS", "first_stop_reason", "Disposition event that first stopped treatment", "value"),
)

_SRCVAR = {"assessments": "clasi.activity", "doses": "regimen", "events": "type"}


def _flag(values: pd.Series) -> pd.Series:
    out = pd.Series(np.where(values.fillna(False).astype(bool), "Y", "N"), dtype="object")
    out[values.isna().to_numpy()] = None
    return out


def _study_day(day: pd.Series) -> pd.Series:
    """Days from first dose (0-based) -> CDISC study day (day 1 = first dose, no day 0)."""
    values = day.astype("Int64")
    return values.where(values < 0, values + 1)


def _date(origin: pd.Series, day: pd.Series) -> pd.Series:
    days = pd.to_timedelta(day.astype("float64"), unit="D")
    return (origin.reset_index(drop=True) + days.reset_index(drop=True)).dt.normalize()


def derive_adsl(endpoints: Endpoints, table: VisitTable) -> pd.DataFrame:
    """ADSL: one row per patient (USUBJID, TRTSDT and :data:`ADSL_VARIABLES`).

    >>> from cletrial.endpoints.table import build_visit_table
    >>> from cletrial.endpoints.subject import derive_endpoints
    >>> t = build_visit_table([])
    >>> derive_adsl(derive_endpoints(t), t).columns[:3].tolist()
    ['USUBJID', 'TRTSDT', 'SYNTHFL']
    """
    s = endpoints.subjects.reset_index(drop=True)
    origin = table.patients["origin_date"].reset_index(drop=True)
    out = pd.DataFrame(
        {
            "USUBJID": s["patient_id"],
            "TRTSDT": origin.where(table.patients["treated"].to_numpy()),
        }
    )
    for name, column, _label, how in ADSL_VARIABLES:
        out[name] = _flag(s[column]) if how == "flag" else s[column]
    out["EOTDT"] = _date(origin, s["final_withdrawal_day"])
    return out


def derive_adrs(endpoints: Endpoints, table: VisitTable) -> pd.DataFrame:
    """ADRS: BESTRSP, CR and RESPWK12 records per patient, plus one RELAPSE record a relapse.

    RELAPSE records: ``AVAL`` weeks since the last dose reduction, ``AVALC`` the regimen at
    relapse, ``RELNO``, ``RELSET`` (during_taper / after_withdrawal), ``RELACT`` (restart /
    maintenance / none). Missing values give no record.

    >>> from cletrial.endpoints.table import build_visit_table
    >>> from cletrial.endpoints.subject import derive_endpoints
    >>> t = build_visit_table([])
    >>> derive_adrs(derive_endpoints(t), t).empty
    True
    """
    s = endpoints.subjects.reset_index(drop=True)
    origin = table.patients["origin_date"].reset_index(drop=True)
    n = len(s)
    parts, keys = [], []
    for k, p in enumerate(ADRS_PARAMETERS):
        value = s[p.value_column]
        keep = value.notna().to_numpy()
        srcdom = (
            s["best_response_srcdom"]
            if p.paramcd == "BESTRSP"
            else pd.Series(pick(s[p.day_column].notna().to_numpy(), p.source.dataset, None))
        )
        numeric = pd.api.types.is_float_dtype(value.dtype)
        part = pd.DataFrame(
            {
                "USUBJID": s["patient_id"],
                "PARAMCD": p.paramcd,
                "PARAM": p.param,
                "AVAL": value if numeric else np.nan,
                "AVALC": _flag(value) if value.dtype == "boolean" else (None if numeric else value),
                "ADT": _date(origin, s[p.day_column]),
                "ADY": _study_day(s[p.day_column]),
                "SRCDOM": srcdom,
                "SRCVAR": srcdom.map(_SRCVAR),
                "SRCSEQ": s[p.day_column.replace("_day", "_srcseq")],
            }
        )
        parts.append(part[keep])
        keys.append((np.arange(n)[keep], np.full(int(keep.sum()), k), np.zeros(int(keep.sum()))))
    relapses, rel_p = _relapse_records(endpoints, s, origin)
    parts.append(relapses)
    keys.append(
        (rel_p, np.full(len(rel_p), len(ADRS_PARAMETERS)), relapses["RELNO"].to_numpy(float))
    )
    out = pd.concat(parts, ignore_index=True)
    patient, param, number = (np.concatenate(k) for k in zip(*keys, strict=True))
    return out.iloc[np.lexsort((number, param, patient))].reset_index(drop=True)


def _relapse_records(
    endpoints: Endpoints, s: pd.DataFrame, origin: pd.Series
) -> tuple[pd.DataFrame, np.ndarray[Any, Any]]:
    """The ADRS RELAPSE records and each one's patient row."""
    r = endpoints.relapses.reset_index(drop=True)
    rel_p = pd.Index(s["patient_id"]).get_indexer(r["patient_id"])
    frame = pd.DataFrame(
        {
            "USUBJID": r["patient_id"],
            "PARAMCD": "RELAPSE",
            "PARAM": "Relapse after CR: weeks since last dose reduction",
            "AVAL": r["weeks_from_reduction"],
            "AVALC": r["regimen"],
            "ADT": _date(origin.iloc[rel_p].reset_index(drop=True), r["day"]),
            "ADY": _study_day(r["day"]),
            "SRCDOM": "assessments",
            "SRCVAR": "clasi.activity",
            "SRCSEQ": r["srcseq"],
            "RELNO": r["relapse_no"],
            "RELSET": r["setting"],
            "RELACT": r["action"],
        }
    )
    return frame, rel_p


def derive_adtte(endpoints: Endpoints, table: VisitTable) -> pd.DataFrame:
    """ADTTE: one record per patient and :data:`ADTTE_PARAMETERS` entry, ``CNSR`` 0 = event.

    Without any censoring time (no post-baseline assessment) the time is censored at the
    origin (``AVAL`` 0), and ``CNSDTDSC`` says so.

    >>> from cletrial.endpoints.table import build_visit_table
    >>> from cletrial.endpoints.subject import derive_endpoints
    >>> t = build_visit_table([])
    >>> derive_adtte(derive_endpoints(t), t).empty
    True
    """
    s = endpoints.subjects.reset_index(drop=True)
    origin = table.patients["origin_date"].reset_index(drop=True)
    parts, kept = [], []
    for p in ADTTE_PARAMETERS:
        keep = s[p.population].fillna(False).astype(bool).to_numpy()
        kept.append(keep)
        start = s[p.origin_day].astype("float64")
        event = s[p.event_day].astype("float64")
        censor = s[p.censor_day].astype("float64")
        is_event = event.notna()
        no_censor = ~is_event & censor.isna()
        when = event.where(is_event, censor.where(~no_censor, start))
        seq = s[p.event_day.replace("_day", "_srcseq")].where(
            is_event, s[p.censor_day.replace("_day", "_srcseq")]
        )
        part = pd.DataFrame(
            {
                "USUBJID": s["patient_id"],
                "PARAMCD": p.paramcd,
                "PARAM": p.param,
                "STARTDT": _date(origin, start),
                "ADT": _date(origin, when),
                "ADY": _study_day(when),
                "AVAL": (when - start) / 7,
                "AVALU": "WEEKS",
                "CNSR": np.where(is_event, 0, 1),
                "EVNTDESC": pick(is_event, p.event.condition, None),
                "CNSDTDSC": pick(
                    is_event,
                    None,
                    pick(
                        no_censor,
                        "no post-baseline CLASI-A assessment: censored at origin",
                        p.censor.condition,
                    ),
                ),
                "SRCDOM": pick(no_censor, None, pick(is_event, p.event.dataset, p.censor.dataset)),
                "SRCVAR": pick(
                    no_censor, None, pick(is_event, p.event.variable, p.censor.variable)
                ),
                "SRCSEQ": seq.where(~no_censor).astype("Int64"),
            }
        )
        parts.append(part[keep])
    out = pd.concat(parts, ignore_index=True)
    patient = np.concatenate([np.flatnonzero(k) for k in kept])
    return out.iloc[np.argsort(patient, kind="stable")].reset_index(drop=True)


def derive_adae(table: VisitTable, rules: EndpointRules = DEFAULT_RULES) -> pd.DataFrame:
    """ADAE: one row per adverse event with grade, causality, relatedness and seriousness.

    ``TRTEMFL`` is Y for events starting on or after the first dose; ``RELFL`` is Y when the
    causality is in ``rules.related_causalities`` and empty when the causality is missing.

    >>> from cletrial.endpoints.table import build_visit_table
    >>> derive_adae(build_visit_table([])).columns.tolist()[:4]
    ['USUBJID', 'AESEQ', 'AETERM', 'ASTDT']
    """
    aes, pats = table.aes, table.patients
    pidx = aes["pidx"].to_numpy()
    origin = pats["origin_date"].iloc[pidx].reset_index(drop=True)
    treated = pats["treated"].to_numpy()[pidx]
    cause = aes["causality"].to_numpy()
    terms = np.array([*CAUSALITY_TERMS, None], dtype=object)
    related = np.isin(cause, [CAUSALITY_TERMS.index(c) for c in rules.related_causalities])
    serious = aes["serious"].to_numpy()
    start = aes["start_day"].reset_index(drop=True)
    return pd.DataFrame(
        {
            "USUBJID": pats["patient_id"].to_numpy()[pidx],
            "AESEQ": aes["seq"].to_numpy(),
            "AETERM": aes["term"].to_numpy(),
            "ASTDT": _date(origin, start),
            "ASTDY": _study_day(start),
            "AENDT": _date(origin, aes["end_day"].reset_index(drop=True)),
            "AENDY": _study_day(aes["end_day"].reset_index(drop=True)),
            "AETOXGR": aes["grade"].reset_index(drop=True).astype("Int64"),
            "AEREL": terms[cause],
            "RELFL": pick(cause < 0, None, pick(related, "Y", "N")),
            "AESER": pick(serious < 0, None, pick(serious == 1, "Y", "N")),
            "TRTEMFL": np.where(treated & (start.to_numpy() >= 0), "Y", "N"),
            "SRCDOM": "adverse_events",
            "SRCSEQ": aes["seq"].to_numpy(),
        }
    )
