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
from functools import cache, lru_cache, partial
from itertools import repeat
from typing import Any

import numpy as np

from cletrial.errors import StandardsError
from cletrial.instruments.analytes import ANALYTES, unit_factor
from cletrial.instruments.ctcae import grade_lab
from cletrial.standards._columns import (
    day_numbers,
    map_columns,
    map_distinct,
    seq_within,
    sort_order,
    study_days,
)
from cletrial.standards.metadata import Dataset
from cletrial.standards.sdtm._frame import (
    STUDYID,
    USUBJID,
    VISIT,
    VISITNUM,
    columns_to_dataset,
    domain_spec,
    var,
)
from cletrial.standards.sdtm.common import Provenance, provenances
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


def _quantitative(test: str, value: float, unit: str, lln: float | None,
                 version: str) -> tuple[Any, ...]:  # fmt: skip
    """``LBORRES``, ``LBORNRLO``, ``LBSTRESC``, ``LBSTRESN``, ``LBNRIND``, ``LBTOXGR``."""
    std = round(value * _factor(test, unit), 10)
    term = ANALYTES[test].ctcae_term
    return (f"{value:g}", None if lln is None else f"{lln:g}", f"{std:g}", std,
            "LOW" if lln is not None and value < lln else None,
            str(_grade(term, value, unit, lln, version)) if term else None)  # fmt: skip


def _qualitative(test: str, result: str) -> dict[str, Any]:
    submitted = IMMUNOLOGY_RESULT.submission(result)
    return {"LBTESTCD": IMMUNOLOGY_TEST.submission(test), "LBTEST": IMMUNOLOGY_TEST.decode(test),
            "LBCAT": "IMMUNOLOGY", "LBORRES": submitted, "LBSTRESC": submitted}  # fmt: skip


@cache
def _date(text: str) -> str:
    return dt.date.fromisoformat(text).isoformat()


def _ordinal(text: str) -> int:
    return dt.date.fromisoformat(text).toordinal()


#: The columns of a quantitative result, in the order :func:`_quantitative` gives them.
_RESULT = ("LBORRES", "LBORNRLO", "LBSTRESC", "LBSTRESN", "LBNRIND", "LBTOXGR")
#: The columns of a result that depend only on its test (and unit).
_TEST = ("LBTESTCD", "LBTEST", "LBCAT", "LBORRESU", "LBSTRESU", "LBTOX")


def _lab_columns(subjects: list[SubjectSource],
                 visit_numbers: VisitNumbers) -> list[list[Any]]:  # fmt: skip
    """The quantitative results as columns: subject position, index in ``labs``, date, test,
    value, unit, LLN and the ``(VISITNUM, VISIT)`` of the visit (``None`` if none)."""
    columns: list[list[Any]] = [[] for _ in range(8)]
    k, i, date, test, value, unit, lln, visit = columns
    for n, s in enumerate(subjects):
        labs = s.history.get("labs") or []
        details = s.labs or tuple(LabDetail() for _ in labs)
        if len(details) != len(labs):
            raise StandardsError(f"{s.usubjid}: {len(details)} lab details for {len(labs)} labs")
        numbers = visit_numbers.get(s.usubjid, {})
        k.extend(repeat(n, len(labs)))
        i.extend(range(len(labs)))
        date.extend([lab["date"] for lab in labs])
        test.extend([lab["test"] for lab in labs])
        value.extend([lab["value"] for lab in labs])
        unit.extend([lab["unit"] for lab in labs])
        lln.extend([lab.get("lln") for lab in labs])
        visit.extend([numbers.get(d.visit_date) if d.visit_date else None for d in details])
    return columns


def _immunology_rows(subjects: list[SubjectSource]) -> list[tuple[Any, ...]]:
    """One tuple an immunology result: subject position, row index (after the subject's labs),
    index in ``immunology``, date, test and result."""
    return [(k, len(s.history.get("labs") or []) + j, j, item["date"], item["test"],
             item["result"])
            for k, s in enumerate(subjects)
            for j, item in enumerate(s.history.get("immunology") or [])]  # fmt: skip


def _lab_values(test: str, value: float, unit: str, lln: float | None,
                version: str) -> tuple[Any, ...]:  # fmt: skip
    """The :data:`_TEST` then :data:`_RESULT` columns of a quantitative result."""
    tested = _test_columns(test, unit)
    return (*(tested.get(name) for name in _TEST), *_quantitative(test, value, unit, lln, version))


def _columns(subjects: list[SubjectSource], version: str,
             visit_numbers: VisitNumbers) -> dict[str, np.ndarray]:  # fmt: skip
    """Every LB column but ``LBSEQ`` and the identifiers, in source order (each subject's labs,
    then every subject's immunology), with the subject (``_k``), the position among the
    subject's rows (``_row``) and the source array and index (``_array``, ``_index``)."""
    k, i, date, test, value, unit, lln, visit = _lab_columns(subjects, visit_numbers)
    cols = {"_k": np.asarray(k, dtype=np.int64), "_row": np.asarray(i, dtype=np.int64),
            "_array": np.full(len(k), "labs", dtype=object)}  # fmt: skip
    cols["_index"] = cols["_row"]
    found = map_columns(partial(_lab_values, version=version), test, value, unit, lln,
                        width=len(_TEST) + len(_RESULT))  # fmt: skip
    cols.update(zip((*_TEST, *_RESULT), found, strict=True))
    cols["VISITNUM"], cols["VISIT"] = map_columns(
        lambda v: (None, None) if v is None else v, visit, width=2
    )
    cols["LBDTC"] = map_columns(_date, date)
    immunology = _immunology_rows(subjects)
    if not immunology:
        return cols
    qualitative = [_qualitative(r[4], r[5]) for r in immunology]
    extra = {"_k": [r[0] for r in immunology], "_row": [r[1] for r in immunology],
             "_index": [r[2] for r in immunology], "_array": ["immunology"] * len(immunology),
             "LBDTC": [_date(r[3]) for r in immunology]}  # fmt: skip
    for name, column in cols.items():
        more = extra[name] if name in extra else [q.get(name) for q in qualitative]
        cols[name] = np.concatenate([column, np.asarray(more, dtype=column.dtype)])
    return cols


def build_lb(subjects: list[SubjectSource], ctcae_version: str, visit_numbers: VisitNumbers,
             provenance: list[Provenance]) -> Dataset:  # fmt: skip
    """LB of every subject; ``visit_numbers`` as :func:`~cletrial.standards.sdtm.visits.build_sv`
    returns them.

    A subject's records are numbered (``LBSEQ``) by date, then test, then source order (as
    :func:`~cletrial.standards.sdtm.common.assign_seq` numbers them).
    """
    cols = _columns(subjects, ctcae_version, visit_numbers)
    order = sort_order(cols["_k"], cols["LBDTC"], cols["LBTESTCD"], cols["_row"])
    sorted_cols = {name: cols.pop(name)[order] for name in list(cols)}  # one copy at a time
    k = sorted_cols.pop("_k").astype(np.int64)
    seq = seq_within(k).tolist()
    usubjid = np.asarray([s.usubjid for s in subjects], dtype=object)[k]
    rfstdtc = [None if s.ref.rfstdtc is None else s.ref.rfstdtc.toordinal() for s in subjects]
    ordinals = map_distinct(_ordinal, sorted_cols["LBDTC"])
    days = day_numbers(ordinals, np.asarray(rfstdtc, dtype="float64")[k] if len(k) else [])
    provenance.extend(provenances("LB", usubjid.tolist(), seq, sorted_cols.pop("_array").tolist(),
                                  sorted_cols.pop("_index").tolist()))  # fmt: skip
    sorted_cols.pop("_row")
    studyid = np.asarray([s.ref.studyid for s in subjects], dtype=object)[k]
    return columns_to_dataset(LB_SPEC, {
        **sorted_cols, "STUDYID": studyid, "DOMAIN": np.full(len(k), "LB", dtype=object),
        "USUBJID": usubjid, "LBSEQ": seq, "LBDY": study_days(days),
    })  # fmt: skip
