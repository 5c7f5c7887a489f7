"""A tiny fixed package of two datasets (DM and ADSL) used by the file-writer tests."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from cletrial.standards.metadata import Dataset, DatasetSpec, ValueLevel, Variable

STUDY = "CLE-LEN-01"


def dm() -> Dataset:
    """SDTM DM: three subjects, a codelist, an ISO date, a missing value, non-ASCII text."""
    spec = DatasetSpec(
        "DM", "Demographics", "SPECIAL PURPOSE", "One record per subject",
        ("STUDYID", "USUBJID"),
        (
            Variable("STUDYID", "Study Identifier", "text", role="Identifier", core="Req"),
            Variable("USUBJID", "Unique Subject Identifier", "text", length=20,
                     role="Identifier", core="Req"),
            Variable("AGE", "Age", "integer", role="Record Qualifier", core="Exp"),
            Variable("SEX", "Sex", "text", length=1, role="Record Qualifier", core="Req",
                     codelist="SEX"),
            Variable("RFSTDTC", "Subject Reference Start Date/Time", "iso8601",
                     role="Record Qualifier", core="Exp", origin="Derived",
                     derivation="Date of the first dose of lenalidomide (EX.EXSTDTC)."),
            Variable("SITENM", "Site Name", "text", length=40, role="Record Qualifier",
                     core="Perm"),
        ),
        "SDTMIG 3.4",
    )  # fmt: skip
    frame = pd.DataFrame({
        "STUDYID": [STUDY] * 3,
        "USUBJID": [f"{STUDY}-001", f"{STUDY}-002", f"{STUDY}-003"],
        "AGE": [41.0, 67.0, float("nan")],
        "SEX": ["F", "M", "F"],
        "RFSTDTC": ["2024-01-05", "2024-02", None],
        "SITENM": ["Hôpital Saint-Louis", "Charité", None],
    })  # fmt: skip
    return Dataset(spec, frame)


def adsl() -> Dataset:
    """ADaM ADSL: dates as SAS dates, a float, a flag."""
    spec = DatasetSpec(
        "ADSL", "Subject-Level Analysis Dataset", "SUBJECT LEVEL ANALYSIS DATASET",
        "One record per subject", ("STUDYID", "USUBJID"),
        (
            Variable("STUDYID", "Study Identifier", "text", origin="Predecessor",
                     source="DM.STUDYID", core="Req"),
            Variable("USUBJID", "Unique Subject Identifier", "text", origin="Predecessor",
                     source="DM.USUBJID", core="Req"),
            Variable("TRTSDT", "Date of First Exposure to Treatment", "sas_date",
                     origin="Derived", derivation="RFSTDTC of DM as a SAS date."),
            Variable("WEIGHTBL", "Weight (kg) at Baseline", "float"),
            Variable("SAFFL", "Safety Population Flag", "text", length=1, codelist="NY",
                     origin="Derived", derivation="Y when the subject took any dose, else N."),
        ),
        "ADaMIG 1.3",
    )  # fmt: skip
    frame = pd.DataFrame({
        "STUDYID": [STUDY] * 3,
        "USUBJID": [f"{STUDY}-001", f"{STUDY}-002", f"{STUDY}-003"],
        "TRTSDT": [dt.date(2024, 1, 5), dt.date(2024, 2, 1), None],
        "WEIGHTBL": [61.25, 80.5, float("nan")],
        "SAFFL": ["Y", "Y", "N"],
    })  # fmt: skip
    return Dataset(spec, frame)


def with_value(dataset: Dataset, column: str, value: object) -> Dataset:
    """A copy of ``dataset`` whose first row has ``value`` in ``column``."""
    frame = dataset.frame.copy()
    frame[column] = frame[column].astype(object)
    frame.at[0, column] = value
    return Dataset(dataset.spec, frame)


def lb() -> Dataset:
    """SDTM LB keyed by LBTESTCD, with value-level metadata of LBORRES per test."""
    spec = DatasetSpec(
        "LB", "Laboratory Test Results", "FINDINGS",
        "One record per lab test per time point per visit per subject",
        ("STUDYID", "USUBJID", "LBTESTCD"),
        (
            Variable("STUDYID", "Study Identifier", "text", role="Identifier", core="Req"),
            Variable("USUBJID", "Unique Subject Identifier", "text", role="Identifier",
                     core="Req"),
            Variable("LBTESTCD", "Lab Test or Examination Short Name", "text", role="Topic",
                     core="Req", codelist="LBTESTCD"),
            Variable("LBORRES", "Result or Finding in Original Units", "text",
                     role="Result Qualifier", core="Exp"),
        ),
        "SDTMIG 3.4",
        value_level=(
            ValueLevel("LBORRES", "LBTESTCD", "NEUT", "Neutrophils result", "float"),
            ValueLevel("LBORRES", "LBTESTCD", "PLAT", "Platelets result", "integer",
                       origin="Derived", derivation="Platelet count per 10^9/L, rounded."),
        ),
    )  # fmt: skip
    frame = pd.DataFrame({
        "STUDYID": [STUDY] * 2, "USUBJID": [f"{STUDY}-001"] * 2,
        "LBTESTCD": ["NEUT", "PLAT"], "LBORRES": ["1.8", "210"],
    })  # fmt: skip
    return Dataset(spec, frame)
