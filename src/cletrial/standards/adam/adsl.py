"""ADSL: one record per DM subject, with demographics, treatment, disposition, populations and
every subject-level endpoint the engine derives.

Demographic and arm variables are copied from DM (origin ``Predecessor``). ``TRTSDT`` is the
first dose; ``TRTEDT`` the last dose and the disposition variables follow
:mod:`cletrial.standards.adam.disposition`. The endpoint variables are the engine's subject
columns (:func:`cletrial.endpoints.derive_endpoints`) unchanged, except that times are in days
(ADaM's unit) and booleans are ``Y``/``N``; their derivation texts are
:func:`cletrial.endpoints.rule_texts.rule_texts`.
"""

from __future__ import annotations

from typing import Any, Final

import pandas as pd

from cletrial.endpoints.rule_texts import rule_texts
from cletrial.standards.adam._base import STANDARD, AdamInput, flag, make_dataset
from cletrial.standards.adam.disposition import DISPOSITION_TEXTS, disposition
from cletrial.standards.metadata import Dataset, DatasetSpec, Variable, VariableType
from cletrial.vocabulary import DISPOSITION_REASON, NO_YES

__all__ = ["ADSL_ENDPOINTS", "build_adsl"]

#: ADSL variable, engine subject column, label, type, conversion (flag, days, value) and the
#: key of its derivation text in :func:`rule_texts`.
ADSL_ENDPOINTS: Final[tuple[tuple[str, str, str, VariableType, str, str], ...]] = (
    (
        "POPEXCL",
        "population_note",
        "Reason outside a population",
        "text",
        "value",
        "population_note",
    ),
    ("BCLASIA", "clasi_a_base", "Baseline CLASI activity", "integer", "value", ""),
    ("BCLASID", "clasi_d_base", "Baseline CLASI damage", "integer", "value", ""),
    ("BSLEDAI", "sledai_base", "Baseline SLEDAI-2K", "integer", "value", ""),
    ("BESTRSP", "best_response", "Best overall CLASI response", "text", "value", "best_response"),
    (
        "RSPNOTE",
        "response_note",
        "Best response note (NE or NR reason)",
        "text",
        "value",
        "response_note",
    ),
    ("CRFL", "cr_flag", "Complete response flag", "text", "flag", "cr_flag"),
    (
        "TTCRDY",
        "time_to_cr_weeks",
        "Time to complete response (days)",
        "integer",
        "days",
        "time_to_cr_days",
    ),
    (
        "PCHGA12",
        "improvement_wk12_pct",
        "CLASI-A improvement at week 12 (%)",
        "float",
        "value",
        "improvement_wk12_pct",
    ),
    ("RELFL", "relapsed", "Relapsed after complete response", "text", "flag", "relapsed"),
    ("NRELAPSE", "n_relapses", "Number of relapses", "integer", "value", "n_relapses"),
    (
        "REL1RDDY",
        "first_relapse_weeks_from_reduction",
        "First relapse: days since reduction",
        "integer",
        "days",
        "first_relapse_days_from_reduction",
    ),
    (
        "REL1REG",
        "first_relapse_regimen",
        "First relapse: regimen at relapse",
        "text",
        "value",
        "first_relapse_regimen",
    ),
    (
        "REL1SET",
        "first_relapse_setting",
        "First relapse: taper or after withdrawal",
        "text",
        "value",
        "first_relapse_setting",
    ),
    ("NCYCLES", "n_cycles", "Number of treatment cycles", "integer", "value", "n_cycles"),
    ("MAINTFL", "maintenance", "Long-term maintenance dose needed", "text", "flag", "maintenance"),
    (
        "MAINTREG",
        "maintenance_regimen",
        "Maintenance regimen",
        "text",
        "value",
        "maintenance_regimen",
    ),
    (
        "SUSREMFL",
        "sustained_remission",
        "Sustained remission after withdrawal",
        "text",
        "flag",
        "sustained_remission",
    ),
    (
        "FLRPMFL",
        "flare_paper_mild",
        "SLEDAI-2K mild flare (paper)",
        "text",
        "flag",
        "flare_paper_mild",
    ),
    (
        "FLRPSFL",
        "flare_paper_severe",
        "SLEDAI-2K severe flare (paper)",
        "text",
        "flag",
        "flare_paper_severe",
    ),
    (
        "FLRSMFL",
        "flare_selena_mild",
        "SELENA mild/moderate flare",
        "text",
        "flag",
        "flare_selena_mild",
    ),
    (
        "FLRSSFL",
        "flare_selena_severe",
        "SELENA severe flare",
        "text",
        "flag",
        "flare_selena_severe",
    ),
    ("CLASID12", "clasi_d_12m", "CLASI damage at 12 months", "integer", "value", "clasi_d_12m"),
    (
        "CHGD12",
        "clasi_d_change_12m",
        "CLASI damage change at 12 months",
        "integer",
        "value",
        "clasi_d_change_12m",
    ),
    ("DSDNABL", "anti_dsdna_base", "Anti-dsDNA at baseline (IU/mL)", "float", "value", "lab_base"),
    (
        "DSDNAEOT",
        "anti_dsdna_end",
        "Anti-dsDNA at end of treatment (IU/mL)",
        "float",
        "value",
        "lab_end",
    ),
    ("C3BL", "c3_base", "C3 at baseline (mg/dL)", "float", "value", "lab_base"),
    ("C3EOT", "c3_end", "C3 at end of treatment (mg/dL)", "float", "value", "lab_end"),
    ("C4BL", "c4_base", "C4 at baseline (mg/dL)", "float", "value", "lab_base"),
    ("C4EOT", "c4_end", "C4 at end of treatment (mg/dL)", "float", "value", "lab_end"),
    ("AEFL", "any_ae", "Any treatment-emergent adverse event", "text", "flag", "any_ae"),
    (
        "NAEREL",
        "n_ae_related",
        "Related treatment-emergent AEs",
        "integer",
        "value",
        "n_ae_related",
    ),
    (
        "MAXAETOX",
        "max_ae_grade",
        "Highest CTCAE grade of TEAEs",
        "integer",
        "value",
        "max_ae_grade",
    ),
    ("NSAE", "n_sae", "Serious treatment-emergent AEs", "integer", "value", "n_sae"),
)

_DM = (
    ("STUDYID", "Study Identifier"),
    ("USUBJID", "Unique Subject Identifier"),
    ("SUBJID", "Subject Identifier for the Study"),
    ("SITEID", "Study Site Identifier"),
    ("AGE", "Age"),
    ("AGEU", "Age Units"),
    ("SEX", "Sex"),
    ("ARM", "Description of Planned Arm"),
    ("ACTARM", "Description of Actual Arm"),
)
_POPULATIONS = (
    ("ITTFL", "itt_flag", "Intent-To-Treat Population Flag"),
    ("SAFFL", "saf_flag", "Safety Population Flag"),
    ("EFFFL", "eff_flag", "Efficacy Population Flag"),
)


def _variables(texts: dict[str, str]) -> tuple[Variable, ...]:
    dm = [
        Variable(
            n,
            label,
            "integer" if n == "AGE" else "text",
            origin="Predecessor",
            source=f"DM.{n}",
            codelist="SEX" if n == "SEX" else None,
        )
        for n, label in _DM
    ]
    fixed = [
        Variable(
            "TRT01P",
            "Planned Treatment for Period 01",
            "text",
            origin="Predecessor",
            source="DM.ARM",
        ),
        Variable(
            "TRT01A",
            "Actual Treatment for Period 01",
            "text",
            origin="Derived",
            derivation="DM.ACTARM when SAFFL = Y, else missing",
        ),
        Variable(
            "TRTSDT",
            "Date of First Exposure to Treatment",
            "sas_date",
            origin="Derived",
            derivation="date of the first dose record (history first_dose_date)",
        ),
        Variable(
            "TRTEDT",
            "Date of Last Exposure to Treatment",
            "sas_date",
            origin="Derived",
            derivation=DISPOSITION_TEXTS["TRTEDT"],
        ),
        Variable(
            "EOTSTT",
            "End of Treatment Status",
            "text",
            origin="Derived",
            derivation=DISPOSITION_TEXTS["EOTSTT"],
        ),
        Variable(
            "DCTREAS",
            "Reason for Discontinuation of Treatment",
            "text",
            codelist=DISPOSITION_REASON.id,
            origin="Derived",
            derivation=DISPOSITION_TEXTS["DCTREAS"],
        ),
        Variable(
            "EOSSTT",
            "End of Study Status",
            "text",
            origin="Derived",
            derivation=DISPOSITION_TEXTS["EOSSTT"],
        ),
        Variable(
            "DCSREAS",
            "Reason for Discontinuation from Study",
            "text",
            codelist=DISPOSITION_REASON.id,
            origin="Derived",
            derivation=DISPOSITION_TEXTS["DCSREAS"],
        ),
        Variable(
            "SYNTHFL",
            "Synthetic Record Flag",
            "text",
            codelist=NO_YES.id,
            origin="Collected",
            source="history synthetic",
        ),
    ]
    pops = [
        Variable(n, label, "text", codelist=NO_YES.id, origin="Derived", derivation=texts[col])
        for n, col, label in _POPULATIONS
    ]
    ends = [
        Variable(
            n,
            label,
            kind,
            codelist=NO_YES.id if how == "flag" else None,
            origin="Derived" if key else "Collected",
            source=None if key else "history baseline",
            derivation=texts[key] if key else None,
        )
        for n, _c, label, kind, how, key in ADSL_ENDPOINTS
    ]
    return (*dm, *fixed, *pops, *ends)


def adsl_spec(texts: dict[str, str]) -> DatasetSpec:
    """The ADSL specification (variables in dataset order)."""
    return DatasetSpec(
        name="ADSL",
        label="Subject-Level Analysis Dataset",
        domain_class="SUBJECT LEVEL ANALYSIS DATASET",
        structure="One record per subject",
        keys=("STUDYID", "USUBJID"),
        variables=_variables(texts),
        standard=STANDARD,
    )


def _convert(values: pd.Series, how: str) -> list[Any]:
    if how == "flag":
        return [flag(v) for v in values.tolist()]
    if how == "days":
        return [None if pd.isna(v) else round(float(v) * 7) for v in values.tolist()]
    return [None if pd.isna(v) else v for v in values.tolist()]


def _subject_part(a: AdamInput) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {n: [row[n] for row in a.dm] for n, _l in _DM}
    s = a.endpoints.subjects.reset_index(drop=True)
    saf = [flag(v) for v in s["saf_flag"].tolist()]
    cols["TRT01P"] = [row["ARM"] for row in a.dm]
    cols["TRT01A"] = [row["ACTARM"] if f == "Y" else None for row, f in zip(a.dm, saf, strict=True)]
    cols["TRTSDT"] = [h.first_dose_date for h in a.histories]
    final = a.subject_lists()["final_withdrawal_day"]
    disp = [disposition(h, final_withdrawal=a.date(p, final[p])) for p, h in enumerate(a.histories)]
    cols["TRTEDT"] = [d.trtedt for d in disp]
    cols["EOTSTT"] = [d.eotstt for d in disp]
    cols["DCTREAS"] = [d.dctreas for d in disp]
    cols["EOSSTT"] = [d.eosstt for d in disp]
    cols["DCSREAS"] = [d.dcsreas for d in disp]
    cols["SYNTHFL"] = [flag(v) for v in s["synthetic"].tolist()]
    for n, column, _label in _POPULATIONS:
        cols[n] = [flag(v) for v in s[column].tolist()]
    for n, column, _label, _kind, how, _key in ADSL_ENDPOINTS:
        cols[n] = _convert(s[column], how)
    return cols


def build_adsl(a: AdamInput) -> Dataset:
    """ADSL of the cohort ``a`` (one record per subject, in the order of the histories).

    >>> from cletrial.standards.adam import example_input
    >>> adsl = build_adsl(example_input())
    >>> adsl.frame[["USUBJID", "TRTEDT", "EOTSTT", "BESTRSP", "TTCRDY"]].values.tolist()
    [['CLE-H01-P01', datetime.date(2009, 4, 30), 'COMPLETED', 'CR', 28.0]]
    """
    return make_dataset(adsl_spec(rule_texts(a.rules)), _subject_part(a))
