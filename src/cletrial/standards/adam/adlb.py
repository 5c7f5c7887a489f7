"""ADLB: laboratory values in their canonical unit, CTCAE grade, baseline, change and shift.

One record per history ``labs`` entry. ``PARAMCD`` is the CDISC test code
(:data:`cletrial.vocabulary.LAB_TEST`); ``AVAL`` the value in the test's canonical unit
(:func:`cletrial.instruments.analytes.to_canonical`); ``ATOXGR`` the NCI CTCAE grade of the
tests CTCAE grades (:func:`cletrial.instruments.ctcae.grade_lab`, with the laboratory's LLN when
given). The baseline (``ABLFL``) is the latest value at or before the first dose, at most
``lab_baseline_window_days`` before (the engine's immunology rule); ``BASE``/``BTOXGR`` are its
value and grade and ``CHG`` = ``AVAL`` - ``BASE`` after it. ``WORSTFL`` marks each parameter's
post-baseline record of the worst (highest) grade, the first on a tie, and ``SHIFT1`` is
``BTOXGR to ATOXGR`` there. ``ANL01FL`` marks the baseline and every post-baseline record.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

import numpy as np

from cletrial.endpoints.rule_texts import rule_texts
from cletrial.instruments.analytes import ANALYTES, to_canonical
from cletrial.instruments.ctcae import grade_lab
from cletrial.standards._columns import (
    day_numbers,
    flags,
    map_columns,
    map_values,
    sort_order,
    study_days,
)
from cletrial.standards.adam._base import AdamInput, value_variable
from cletrial.standards.adam._bds import bds_spec, finish_columns
from cletrial.standards.metadata import Dataset, DatasetSpec
from cletrial.vocabulary import LAB_TEST

__all__ = ["build_adlb"]

_COLUMNS: Final = (
    "STUDYID",
    "USUBJID",
    "ASEQ",
    "PARAMCD",
    "PARAM",
    "AVAL",
    "BASE",
    "CHG",
    "ATOXGR",
    "BTOXGR",
    "ABLFL",
    "ANL01FL",
    "WORSTFL",
    "SHIFT1",
    "ADT",
    "ADY",
    "SRCDOM",
    "SRCVAR",
    "SRCSEQ",
)
PARAMS: Final = {
    LAB_TEST.submission(t): f"{LAB_TEST.decode(t)} ({ANALYTES[t].canonical_unit})"
    for t in LAB_TEST.values
}


def _grade(test: str, value: float, unit: str, lln: float | None) -> str | None:
    term = ANALYTES[test].ctcae_term
    return None if term is None else str(grade_lab(term, value, unit, lln=lln).grade)


def _both(test: str, value: float, unit: str, lln: float | None) -> tuple[float, str | None]:
    """AVAL and ATOXGR of a value."""
    return to_canonical(test, value, unit), _grade(test, value, unit, lln)


def _labs(a: AdamInput) -> dict[str, Any]:
    """Every lab record, by patient then history order: the patient ``p``, the engine ``day``
    (NaN when the patient has no origin), the value's columns and its SDTM source."""
    test: list[str] = []
    value: list[float] = []
    unit: list[str] = []
    lln: list[float | None] = []
    date: list[dt.date] = []
    dom: list[str | None] = []
    seq: list[float] = []
    for p, h in enumerate(a.histories):
        labs = h.labs
        test.extend([lab.test for lab in labs])
        value.extend([lab.value for lab in labs])
        unit.extend([lab.unit for lab in labs])
        lln.extend([lab.lln for lab in labs])
        date.extend([lab.date for lab in labs])
        for i in range(1, len(labs) + 1):
            found = a.sdtm(p, "labs", i)
            dom.append(found[0])
            seq.append(found[1])
    patient = np.repeat(np.arange(len(a.histories)), [len(h.labs) for h in a.histories])
    origins = np.asarray([np.nan if o is None else o.toordinal() for o in a.origins])
    day = day_numbers(map_values(dt.date.toordinal, date, None), origins[patient])
    treated = np.asarray(a.treated, dtype=bool)[patient]
    aval, atoxgr = map_columns(_both, test, value, unit, lln, width=2)
    return {
        "p": patient,
        "day": day,
        "treated": treated,
        "PARAMCD": map_values(LAB_TEST.submission, test, None),
        "AVAL": aval.astype("float64"),
        "ATOXGR": atoxgr,
        "ADT": date,
        "ADY": np.where(treated, study_days(day), np.nan),
        "SRCDOM": dom,
        "SRCVAR": map_values(value_variable, dom, None),
        "SRCSEQ": np.asarray(seq, dtype="float64"),
    }


def _flags(cols: dict[str, Any], window: int) -> None:
    """Add the baseline (ABLFL, BASE, BTOXGR, CHG), ANL01FL and the worst grade (WORSTFL,
    SHIFT1) of each patient's parameter (module docstring) to the columns of :func:`_labs`."""
    n = len(cols["p"])
    group = sort_order(cols["p"], cols["PARAMCD"]) if n else np.zeros(0, dtype=np.int64)
    codes = np.empty(n, dtype=np.int64)
    codes[group] = np.cumsum(np.r_[True, _changes(cols, group)]) - 1 if n else []
    day, treated = cols["day"], cols["treated"]
    with np.errstate(invalid="ignore"):
        before = treated & (day >= -window) & (day <= 0)
        post = treated & (day > 0)
    base_of = np.full(int(codes.max()) + 1 if n else 0, -1)
    np.maximum.at(base_of, codes[before], np.flatnonzero(before))
    base = base_of[codes] if n else np.zeros(0, dtype=np.int64)
    has_base = base >= 0
    is_base = base == np.arange(n)
    cols["ABLFL"] = flags(is_base)
    cols["ANL01FL"] = flags(is_base | post)
    cols["BASE"] = np.where(has_base, cols["AVAL"][base], np.nan)
    cols["BTOXGR"] = np.where(has_base, cols["ATOXGR"][base], None)
    cols["CHG"] = np.where(post & has_base, cols["AVAL"] - cols["BASE"], np.nan)
    graded = np.flatnonzero(post & (cols["ATOXGR"] != None))  # noqa: E711 (element-wise)
    grades = np.asarray([int(g) for g in cols["ATOXGR"][graded]], dtype=np.int64)
    ranked = graded[np.lexsort((graded, -grades, codes[graded]))]
    worst = ranked[np.r_[True, codes[ranked][1:] != codes[ranked][:-1]]] if len(ranked) else ranked
    cols["WORSTFL"] = np.full(n, None, dtype=object)
    cols["WORSTFL"][worst] = "Y"
    cols["SHIFT1"] = np.full(n, None, dtype=object)
    cols["SHIFT1"][worst] = [f"{b or 'MISSING'} to {g}"
                             for b, g in zip(cols["BTOXGR"][worst], cols["ATOXGR"][worst],
                                             strict=True)]  # fmt: skip


def _changes(cols: dict[str, Any], group: np.ndarray) -> np.ndarray:
    """Whether each row of the ``group`` order starts a new (patient, parameter)."""
    p = np.asarray(cols["p"])[group]
    paramcd = np.asarray(cols["PARAMCD"], dtype=object)[group]
    changes: np.ndarray = (p[1:] != p[:-1]) | (paramcd[1:] != paramcd[:-1])
    return changes


def adlb_spec(a: AdamInput) -> DatasetSpec:
    """The ADLB specification."""
    texts = rule_texts(a.rules)
    labels = {
        "STUDYID": "Study Identifier",
        "USUBJID": "Unique Subject Identifier",
        "ASEQ": "Analysis Sequence Number",
        "PARAMCD": "Parameter Code",
        "PARAM": "Parameter",
        "AVAL": "Analysis Value",
        "BASE": "Baseline Value",
        "CHG": "Change from Baseline",
        "ATOXGR": "Analysis Toxicity Grade",
        "BTOXGR": "Baseline Toxicity Grade",
        "ABLFL": "Baseline Record Flag",
        "ANL01FL": "Analysis Flag 01",
        "WORSTFL": "Worst Post-Baseline Grade Flag",
        "SHIFT1": "Shift 1 (Baseline to Worst Grade)",
        "ADT": "Analysis Date",
        "ADY": "Analysis Relative Day",
        "SRCDOM": "Source Data",
        "SRCVAR": "Source Variable",
        "SRCSEQ": "Source Sequence Number",
    }
    derived = {
        "ASEQ": "sequence of the subject's records by PARAMCD, ADT",
        "PARAMCD": "CDISC LBTESTCD of the test",
        "PARAM": "test name and canonical unit",
        "AVAL": "value converted to the canonical unit of the test",
        "BASE": f"AVAL of the baseline record: {texts['lab_base']}",
        "CHG": "AVAL - BASE after the first dose",
        "ATOXGR": "NCI CTCAE v5.0 grade of the value (LLN of the laboratory, else default)",
        "BTOXGR": "ATOXGR of the baseline record",
        "ABLFL": texts["lab_base"],
        "ANL01FL": "Y for the baseline and every post-baseline record",
        "WORSTFL": "Y on the first post-baseline record of the highest ATOXGR",
        "SHIFT1": "BTOXGR to ATOXGR on the WORSTFL record",
        "ADT": "date of the value",
        "ADY": "ADT - TRTSDT + 1 on or after TRTSDT, else ADT - TRTSDT",
        "SRCDOM": "SDTM domain of the value",
        "SRCVAR": "SDTM result variable",
        "SRCSEQ": "LBSEQ of the value",
    }
    return bds_spec(
        "ADLB",
        "Laboratory Analysis Dataset",
        _COLUMNS,
        labels,
        derived,
        ("STUDYID", "USUBJID", "PARAMCD", "ASEQ"),
    )


def build_adlb(a: AdamInput) -> Dataset:
    """ADLB of the cohort ``a``.

    >>> from cletrial.standards.adam import example_input
    >>> adlb = build_adlb(example_input()).frame
    >>> adlb[["PARAMCD", "AVAL", "ATOXGR", "ABLFL", "SHIFT1"]].values.tolist()
    [['NEUT', 2.1, '0', 'Y', None], ['NEUT', 1.19, '2', None, '0 to 2']]
    """
    cols = _labs(a)
    _flags(cols, a.rules.lab_baseline_window_days)
    return finish_columns(a, adlb_spec(a), cols, PARAMS)
