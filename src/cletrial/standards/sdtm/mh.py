"""SDTM MH (medical history): the CLE diagnosis with its date, SLE, the previous treatments and
the reasons for inclusion the screening record gives.

Only what is recorded becomes a record: an item missing from the screening record (``None``)
gives no record, and a ``False`` item none either (MH lists the history the patient has).

>>> import datetime as dt
>>> from cletrial.standards.sdtm.common import SubjectRef
>>> from cletrial.standards.sdtm.source import SubjectSource
>>> s = SubjectSource(SubjectRef("S", "A", "P1"), history={}, cle_subtype="DLE",
...                   diagnosis_date="2005-06", screening_date=dt.date(2009, 1, 5),
...                   screening={"conventional_treatment": {"antimalarial": True,
...                                                         "refractory": True}})
>>> for r in build_mh([s], []).frame.to_dict("records"):
...     print(r["MHSEQ"], r["MHCAT"], "|", r["MHTERM"], "|", r["MHSTDTC"])
1.0 PRIMARY DIAGNOSIS | CUTANEOUS LUPUS ERYTHEMATOSUS, DLE | 2005-06
2.0 PREVIOUS TREATMENT | ANTIMALARIAL | None
3.0 REASON FOR INCLUSION | REFRACTORY TO CONVENTIONAL TREATMENT | None
"""

from __future__ import annotations

from typing import Any

from cletrial.standards.metadata import Dataset
from cletrial.standards.sdtm._frame import STUDYID, USUBJID, collect, domain_spec, to_dataset, var
from cletrial.standards.sdtm.common import Provenance, iso
from cletrial.standards.sdtm.source import SubjectSource

__all__ = ["MH_SPEC", "build_mh"]

MH_SPEC = domain_spec(
    "MH",
    "Medical History",
    "EVENTS",
    "One record per medical history event per subject",
    ("STUDYID", "USUBJID", "MHCAT", "MHTERM"),
    [
        STUDYID,
        var("DOMAIN", "Domain Abbreviation", "text", "Identifier", "Req", origin="Assigned"),
        USUBJID,
        var(
            "MHSEQ",
            "Sequence Number",
            "integer",
            "Identifier",
            "Req",
            origin="Derived",
            derivation="Subject's MH records numbered from 1 in the order diagnosis, SLE, previous "
            "treatments, reasons for inclusion",
        ),
        var("MHTERM", "Reported Term for the Medical History", "text", "Topic", "Req"),
        var(
            "MHCAT",
            "Category for Medical History",
            "text",
            "Grouping Qualifier",
            "Perm",
            origin="Assigned",
        ),
        var(
            "MHDTC",
            "Date/Time of History Collection",
            "iso8601",
            "Timing",
            "Perm",
            origin="Derived",
            derivation="Screening date",
        ),
        var("MHSTDTC", "Start Date/Time of Medical History Event", "iso8601", "Timing", "Perm"),
    ],
)

#: (screening record section, item, category, term), in record order.
_ITEMS = (
    ("conventional_treatment", "antimalarial", "PREVIOUS TREATMENT", "ANTIMALARIAL"),
    ("conventional_treatment", "topical_steroids", "PREVIOUS TREATMENT", "TOPICAL CORTICOSTEROIDS"),
    ("background_therapy", "immunosuppressant", "PREVIOUS TREATMENT", "IMMUNOSUPPRESSANT"),
    ("thalidomide", "lack_of_efficacy", "PREVIOUS TREATMENT", "THALIDOMIDE, LACK OF EFFICACY"),
    ("thalidomide", "severe_side_effects", "PREVIOUS TREATMENT",
     "THALIDOMIDE, SEVERE SIDE EFFECTS"),
    ("thalidomide", "hypersensitivity", "PREVIOUS TREATMENT", "THALIDOMIDE, HYPERSENSITIVITY"),
    ("conventional_treatment", "refractory", "REASON FOR INCLUSION",
     "REFRACTORY TO CONVENTIONAL TREATMENT"),
    (None, "cle_histology_confirmed", "REASON FOR INCLUSION", "CLE CONFIRMED BY HISTOLOGY"),
)  # fmt: skip


def _terms(s: SubjectSource) -> list[tuple[str, str, str | None]]:
    terms: list[tuple[str, str, str | None]] = []
    if s.cle_subtype or s.diagnosis_date:
        term = "CUTANEOUS LUPUS ERYTHEMATOSUS"
        terms.append(("PRIMARY DIAGNOSIS",
                      f"{term}, {s.cle_subtype.upper()}" if s.cle_subtype else term,
                      s.diagnosis_date))  # fmt: skip
    if s.sle:
        terms.append(("MEDICAL HISTORY", "SYSTEMIC LUPUS ERYTHEMATOSUS", None))
    for section, item, category, term in _ITEMS:
        holder: Any = s.screening if section is None else s.screening.get(section) or {}
        if holder.get(item) is True:
            terms.append((category, term, None))
    return terms


def build_mh(subjects: list[SubjectSource], provenance: list[Provenance]) -> Dataset:
    """MH of every subject (from the patient record and the screening record)."""
    records: list[dict[str, Any]] = []
    for s in subjects:
        rows = [{"STUDYID": s.ref.studyid, "DOMAIN": "MH", "USUBJID": s.usubjid, "MHSEQ": seq,
                 "MHTERM": term, "MHCAT": category, "MHDTC": iso(s.screening_date),
                 "MHSTDTC": start, "_src": (None, None)}
                for seq, (category, term, start) in enumerate(_terms(s), start=1)]  # fmt: skip
        collect(rows, "MH", records, provenance)
    return to_dataset(MH_SPEC, records)
