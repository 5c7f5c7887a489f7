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

from typing import Any, Final

from cletrial.endpoints.rule_texts import rule_texts
from cletrial.instruments.analytes import ANALYTES, to_canonical
from cletrial.instruments.ctcae import grade_lab
from cletrial.standards.adam._base import AdamInput, study_day, value_variable
from cletrial.standards.adam._bds import bds_spec, finish
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


def _patient(a: AdamInput, p: int) -> list[dict[str, Any]]:
    origin, out = a.origins[p], []
    for i, lab in enumerate(a.histories[p].labs):
        day = None if origin is None else (lab.date - origin).days
        dom, seq = a.sdtm(p, "labs", i + 1)
        out.append(
            {
                "p": p,
                "day": day,
                "test": lab.test,
                "PARAMCD": LAB_TEST.submission(lab.test),
                "AVAL": to_canonical(lab.test, lab.value, lab.unit),
                "ATOXGR": _grade(lab.test, lab.value, lab.unit, lab.lln),
                "ADT": lab.date,
                "ADY": study_day(day, a.treated[p]),
                "SRCDOM": dom,
                "SRCVAR": None if dom is None else value_variable(dom),
                "SRCSEQ": seq,
            }
        )
    window = a.rules.lab_baseline_window_days
    by_param: dict[str, list[dict[str, Any]]] = {}
    for r in out:
        by_param.setdefault(str(r["PARAMCD"]), []).append(r)
    for records in by_param.values():
        before = [
            r for r in records if a.treated[p] and r["day"] is not None and -window <= r["day"] <= 0
        ]
        base = before[-1] if before else None
        if base is not None:
            base["ABLFL"] = "Y"
        post = [r for r in records if a.treated[p] and r["day"] is not None and r["day"] > 0]
        for r in [*([base] if base else []), *post]:
            r["ANL01FL"] = "Y"
        for r in records:
            r["BASE"] = None if base is None else base["AVAL"]
            r["BTOXGR"] = None if base is None else base["ATOXGR"]
            if r in post and base is not None:
                r["CHG"] = r["AVAL"] - base["AVAL"]
        graded = [r for r in post if r["ATOXGR"] is not None]
        if graded:
            worst = max(graded, key=lambda r: int(r["ATOXGR"]))
            worst["WORSTFL"] = "Y"
            worst["SHIFT1"] = f"{worst['BTOXGR'] or 'MISSING'} to {worst['ATOXGR']}"
    return out


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
    records = [r for p in range(len(a.histories)) for r in _patient(a, p)]
    return finish(a, adlb_spec(a), records, PARAMS)
