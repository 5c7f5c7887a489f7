"""SDTM supplemental qualifiers (SUPP--) for what has no standard variable.

* ``SUPPDM``: ``SYNTHET`` (``Y`` for every subject of a synthetic study) and ``CLESUBTY`` (the
  CLE subtype as stored).
* ``SUPPLB``: ``LBCONF`` (``Y`` when an improbable value was confirmed by the person entering
  it), pointing at the LB record by ``LBSEQ``.

>>> import datetime as dt
>>> from cletrial.standards.sdtm.common import SubjectRef
>>> from cletrial.standards.sdtm.source import SubjectSource
>>> s = SubjectSource(SubjectRef("S", "A", "P1"), history={}, cle_subtype="SCLE")
>>> build_supp("DM", supp_dm([s], synthetic=True)).frame[["QNAM", "QVAL"]].values.tolist()
[['SYNTHET', 'Y'], ['CLESUBTY', 'SCLE']]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cletrial.standards.metadata import Dataset
from cletrial.standards.sdtm._frame import STUDYID, USUBJID, domain_spec, to_dataset, var
from cletrial.standards.sdtm.source import SubjectSource

__all__ = ["build_supp", "supp_dm", "supp_lb", "supp_spec"]

Lookup = Mapping[tuple[str, str | None, int | None], tuple[str, int]]


def supp_spec(rdomain: str) -> Any:
    """The specification of ``SUPP{rdomain}``."""
    return domain_spec(
        f"SUPP{rdomain}",
        f"Supplemental Qualifiers for {rdomain}"[:40],
        "RELATIONSHIP",
        "One record per supplemental qualifier per related parent record",
        ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"),
        [
            STUDYID,
            var(
                "RDOMAIN",
                "Related Domain Abbreviation",
                "text",
                "Identifier",
                "Req",
                origin="Assigned",
            ),
            USUBJID,
            var("IDVAR", "Identifying Variable", "text", "Identifier", "Exp", origin="Assigned"),
            var(
                "IDVARVAL",
                "Identifying Variable Value",
                "text",
                "Identifier",
                "Exp",
                origin="Derived",
                derivation="Value of IDVAR in the parent record",
            ),
            var("QNAM", "Qualifier Variable Name", "text", "Topic", "Req", origin="Assigned"),
            var(
                "QLABEL",
                "Qualifier Variable Label",
                "text",
                "Synonym Qualifier",
                "Req",
                origin="Assigned",
            ),
            var("QVAL", "Data Value", "text", "Result Qualifier", "Req"),
            var("QORIG", "Origin", "text", "Record Qualifier", "Req", origin="Assigned"),
        ],
    )


def supp_dm(subjects: list[SubjectSource], *, synthetic: bool) -> list[dict[str, Any]]:
    """SUPPDM records: the synthetic flag and the CLE subtype."""
    rows = []
    for s in subjects:
        base = {"STUDYID": s.ref.studyid, "RDOMAIN": "DM", "USUBJID": s.usubjid}
        if synthetic:
            rows.append({**base, "QNAM": "SYNTHET", "QLABEL": "Synthetic Data (Not Evidence)",
                         "QVAL": "Y", "QORIG": "Assigned"})  # fmt: skip
        if s.cle_subtype:
            rows.append({**base, "QNAM": "CLESUBTY", "QLABEL": "CLE Subtype",
                         "QVAL": s.cle_subtype, "QORIG": "Collected"})  # fmt: skip
    return rows


def supp_lb(subjects: list[SubjectSource], lookup: Lookup) -> list[dict[str, Any]]:
    """SUPPLB records: improbable values confirmed at entry (by LBSEQ)."""
    rows = []
    for s in subjects:
        for i, detail in enumerate(s.labs):
            if detail.confirmed:
                _domain, seq = lookup[(s.usubjid, "labs", i)]
                rows.append({"STUDYID": s.ref.studyid, "RDOMAIN": "LB", "USUBJID": s.usubjid,
                             "IDVAR": "LBSEQ", "IDVARVAL": str(seq), "QNAM": "LBCONF",
                             "QLABEL": "Improbable Value Confirmed", "QVAL": "Y",
                             "QORIG": "Collected"})  # fmt: skip
    return rows


def build_supp(rdomain: str, records: list[dict[str, Any]]) -> Dataset:
    """The checked ``SUPP{rdomain}`` dataset of ``records``."""
    return to_dataset(supp_spec(rdomain), records)
