"""SDTM LB: quantitative laboratory results (``labs`` of the history) with their standard unit
and CTCAE grade, and the qualitative immunology panel (``immunology``).

* ``LBORRES``/``LBORRESU``: the value as entered and its unit in CDISC spelling;
  ``LBORNRLO``: the laboratory's lower limit of normal, only where it was given.
* ``LBSTRESN``/``LBSTRESU``: the value in the canonical unit of the test
  (``cletrial/data/lab_analytes.yaml``).
* ``LBTOX``/``LBTOXGR``: the NCI CTCAE term and grade (the protocol's CTCAE version; the default
  LLN when none was given), for tests CTCAE grades.
* ``LBNRIND`` is ``LOW`` below a given LLN; missing otherwise (no upper limit is recorded).
* ``VISITNUM``/``VISIT`` when the result was recorded at a visit.

>>> import datetime as dt
>>> from cletrial.standards.sdtm.common import SubjectRef
>>> from cletrial.standards.sdtm.source import SubjectSource
>>> s = SubjectSource(SubjectRef("S", "A", "P1", dt.date(2009, 3, 2)), history={"labs": [
...     {"date": "2009-03-16", "test": "neutrophils", "value": 800, "unit": "/mm3",
...      "lln": 1500}]})
>>> r = build_lb([s], "5.0", {}, []).frame.iloc[0]
>>> r["LBTESTCD"], r["LBORRES"], float(r["LBSTRESN"]), r["LBSTRESU"], r["LBTOXGR"], r["LBNRIND"]
('NEUT', '800', 0.8, '10^9/L', '3', 'LOW')
"""

from __future__ import annotations

import datetime as dt
from functools import cache, lru_cache
from typing import Any

from cletrial.instruments.analytes import ANALYTES, unit_factor
from cletrial.instruments.ctcae import grade_lab
from cletrial.standards.metadata import Dataset
from cletrial.standards.sdtm._frame import (
    STUDYID,
    USUBJID,
    VISIT,
    VISITNUM,
    collect,
    domain_spec,
    to_dataset,
    var,
)
from cletrial.standards.sdtm.common import Provenance, assign_seq, iso, study_day
from cletrial.standards.sdtm.source import LabDetail, SubjectSource
from cletrial.vocabulary import IMMUNOLOGY_RESULT, IMMUNOLOGY_TEST, LAB_TEST
from cletrial.vocabulary.submission import UNIT

__all__ = ["LB_SPEC", "build_lb"]

VisitNumbers = dict[str, dict[dt.date, tuple[float, str]]]

LB_SPEC = domain_spec(
    "LB",
    "Laboratory Test Results",
    "FINDINGS",
    "One record per lab test per time point per subject",
    ("STUDYID", "USUBJID", "LBTESTCD", "LBDTC"),
    [
        STUDYID,
        var("DOMAIN", "Domain Abbreviation", "text", "Identifier", "Req", origin="Assigned"),
        USUBJID,
        var(
            "LBSEQ",
            "Sequence Number",
            "integer",
            "Identifier",
            "Req",
            origin="Derived",
            derivation="Subject's LB records numbered from 1 by LBDTC, then LBTESTCD",
        ),
        var(
            "LBTESTCD",
            "Lab Test or Examination Short Name",
            "text",
            "Topic",
            "Req",
            codelist="LBTESTCD",
        ),
        var(
            "LBTEST",
            "Lab Test or Examination Name",
            "text",
            "Synonym Qualifier",
            "Req",
            codelist="LBTEST",
        ),
        var(
            "LBCAT", "Category for Lab Test", "text", "Grouping Qualifier", "Exp", origin="Assigned"
        ),
        var("LBORRES", "Result or Finding in Original Units", "text", "Result Qualifier", "Exp"),
        var("LBORRESU", "Original Units", "text", "Variable Qualifier", "Exp", codelist="UNIT"),
        var(
            "LBORNRLO",
            "Reference Range Lower Limit in Orig Unit",
            "text",
            "Variable Qualifier",
            "Exp",
        ),
        var(
            "LBSTRESC",
            "Character Result/Finding in Std Format",
            "text",
            "Result Qualifier",
            "Exp",
            origin="Derived",
            derivation="LBSTRESN as text; the standard term of a qualitative result",
        ),
        var(
            "LBSTRESN",
            "Numeric Result/Finding in Standard Units",
            "float",
            "Result Qualifier",
            "Exp",
            origin="Derived",
            derivation="LBORRES converted to the canonical unit of the test (lab_analytes.yaml)",
        ),
        var(
            "LBSTRESU",
            "Standard Units",
            "text",
            "Variable Qualifier",
            "Exp",
            origin="Derived",
            derivation="Canonical unit of the test (lab_analytes.yaml)",
            codelist="UNIT",
        ),
        var(
            "LBNRIND",
            "Reference Range Indicator",
            "text",
            "Variable Qualifier",
            "Exp",
            origin="Derived",
            derivation="LOW when LBORRES is below the given LBORNRLO",
            codelist="NRIND",
        ),
        var(
            "LBTOX",
            "Toxicity",
            "text",
            "Variable Qualifier",
            "Perm",
            origin="Assigned",
            derivation="NCI CTCAE term grading the test",
        ),
        var(
            "LBTOXGR",
            "Standard Toxicity Grade",
            "text",
            "Record Qualifier",
            "Perm",
            origin="Derived",
            derivation="NCI CTCAE grade of the value (protocol's CTCAE version; "
            "the default LLN when none was given)",
        ),
        VISITNUM,
        VISIT,
        var("LBDTC", "Date/Time of Specimen Collection", "iso8601", "Timing", "Exp"),
        var(
            "LBDY",
            "Study Day of Specimen Collection",
            "integer",
            "Timing",
            "Perm",
            origin="Derived",
            derivation="Study day of LBDTC relative to RFSTDTC (no day 0)",
        ),
    ],
)


@cache
def _factor(test: str, unit: str) -> float:
    return unit_factor(test, unit)


@lru_cache(maxsize=1 << 16)
def _grade(term: str, value: float, unit: str, lln: float | None, version: str) -> int:
    return grade_lab(term, value, unit, lln=lln, version=version).grade


def _tox_name(term: str) -> str:
    return term.replace("_", " ").upper()


@cache
def _test_columns(test: str, unit: str) -> dict[str, Any]:
    """The columns of a result that depend only on its test and unit (looked up once)."""
    analyte = ANALYTES[test]
    columns: dict[str, Any] = {
        "LBTESTCD": LAB_TEST.submission(test), "LBTEST": LAB_TEST.decode(test),
        "LBCAT": "HEMATOLOGY" if analyte.ctcae_term else "IMMUNOLOGY",
        "LBORRESU": UNIT.submission(unit), "LBSTRESU": analyte.canonical_unit,
    }  # fmt: skip
    if analyte.ctcae_term:
        columns["LBTOX"] = _tox_name(analyte.ctcae_term)
    return columns


def _quantitative(lab: dict[str, Any], version: str) -> dict[str, Any]:
    test, value, unit, lln = lab["test"], lab["value"], lab["unit"], lab.get("lln")
    std = round(value * _factor(test, unit), 10)
    row: dict[str, Any] = {
        **_test_columns(test, unit), "LBORRES": f"{value:g}",
        "LBORNRLO": None if lln is None else f"{lln:g}", "LBSTRESC": f"{std:g}",
        "LBSTRESN": std, "LBNRIND": "LOW" if lln is not None and value < lln else None,
    }  # fmt: skip
    term = ANALYTES[test].ctcae_term
    if term:
        row["LBTOXGR"] = str(_grade(term, value, unit, lln, version))
    return row


def _qualitative(item: dict[str, Any]) -> dict[str, Any]:
    result = IMMUNOLOGY_RESULT.submission(item["result"])
    return {"LBTESTCD": IMMUNOLOGY_TEST.submission(item["test"]),
            "LBTEST": IMMUNOLOGY_TEST.decode(item["test"]), "LBCAT": "IMMUNOLOGY",
            "LBORRES": result, "LBSTRESC": result}  # fmt: skip


def _subject_rows(s: SubjectSource, version: str,
                  numbers: dict[dt.date, tuple[float, str]]) -> list[dict[str, Any]]:  # fmt: skip
    base = {"STUDYID": s.ref.studyid, "DOMAIN": "LB", "USUBJID": s.usubjid}
    labs = s.history.get("labs") or []
    details = s.labs or tuple(LabDetail() for _ in labs)
    rows = []
    for i, (lab, detail) in enumerate(zip(labs, details, strict=True)):
        date = dt.date.fromisoformat(lab["date"])
        visit = numbers.get(detail.visit_date) if detail.visit_date else None
        rows.append({**base, **_quantitative(lab, version), "LBDTC": iso(date),
                     "LBDY": study_day(date, s.ref.rfstdtc),
                     "VISITNUM": visit[0] if visit else None,
                     "VISIT": visit[1] if visit else None, "_src": ("labs", i)})  # fmt: skip
    for i, item in enumerate(s.history.get("immunology") or []):
        date = dt.date.fromisoformat(item["date"])
        rows.append({**base, **_qualitative(item), "LBDTC": iso(date),
                     "LBDY": study_day(date, s.ref.rfstdtc),
                     "_src": ("immunology", i)})  # fmt: skip
    return rows


def build_lb(subjects: list[SubjectSource], ctcae_version: str, visit_numbers: VisitNumbers,
             provenance: list[Provenance]) -> Dataset:  # fmt: skip
    """LB of every subject; ``visit_numbers`` as :func:`~cletrial.standards.sdtm.visits.build_sv`
    returns them."""
    records: list[dict[str, Any]] = []
    for s in subjects:
        rows = _subject_rows(s, ctcae_version, visit_numbers.get(s.usubjid, {}))
        collect(assign_seq(rows, "LB", date="LBDTC", topic="LBTESTCD"), "LB", records, provenance)
    return to_dataset(LB_SPEC, records)
