"""SDTM events: AE (adverse events), DS (disposition), DV (protocol deviations).

Coded values come from :mod:`cletrial.vocabulary`: ``AEREL`` from the causality, ``AEOUT``
from the outcome, the seriousness flag of the stored criterion set to ``Y`` (the others ``N``
for a serious event, all missing for a non-serious one), ``DSDECOD`` from ``NCOMPLT``.

>>> import datetime as dt
>>> from cletrial.standards.sdtm.common import SubjectRef
>>> from cletrial.standards.sdtm.source import AeDetail, SubjectSource
>>> s = SubjectSource(SubjectRef("S", "A", "P1", dt.date(2009, 3, 2)), history={
...     "adverse_events": [{"term": "Rash", "start": "2009-03-10", "end": None, "grade": 2,
...                         "causality": "probable", "serious": False}]},
...     adverse_events=(AeDetail(outcome="recovering"),))
>>> row = build_ae([s], []).frame.iloc[0]
>>> row["AEREL"], row["AEOUT"], float(row["AESTDY"]), row["AETOXGR"]
('PROBABLY RELATED', 'RECOVERING/RESOLVING', 9.0, '2')
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cletrial.standards.metadata import Dataset
from cletrial.standards.sdtm._frame import STUDYID, USUBJID, collect, domain_spec, to_dataset, var
from cletrial.standards.sdtm.common import Provenance, assign_seq, iso, study_day
from cletrial.standards.sdtm.source import AeDetail, SubjectSource
from cletrial.vocabulary import (
    AE_CAUSALITY,
    AE_OUTCOME,
    AE_SERIOUS_CRITERION,
    DISPOSITION_EVENT,
    DISPOSITION_REASON,
    NO_YES,
)

__all__ = ["AE_SPEC", "DS_SPEC", "DV_SPEC", "build_ae", "build_ds", "build_dv"]

_DOMAIN = var("DOMAIN", "Domain Abbreviation", "text", "Identifier", "Req", origin="Assigned")


def _seq(domain: str, topic: str, key: str) -> Any:
    return var(f"{domain}SEQ", "Sequence Number", "integer", "Identifier", "Req",
               origin="Derived", derivation=f"Subject's {domain} records numbered from 1 by "
               f"{key}, then {topic}")  # fmt: skip


def _dy(name: str, of: str, label: str) -> Any:
    return var(name, label, "integer", "Timing", "Perm", origin="Derived",
               derivation=f"Study day of {of} relative to RFSTDTC (no day 0)")  # fmt: skip


_FLAGS = tuple(t.submission for t in AE_SERIOUS_CRITERION.terms)
_FLAG_LABELS = {"AESDTH": "Results in Death", "AESLIFE": "Is Life Threatening",
                "AESHOSP": "Requires or Prolongs Hospitalization",
                "AESDISAB": "Persist or Signif Disability/Incapacity",
                "AESCONG": "Congenital Anomaly or Birth Defect",
                "AESMIE": "Other Medically Important Serious Event"}  # fmt: skip

AE_SPEC = domain_spec(
    "AE",
    "Adverse Events",
    "EVENTS",
    "One record per adverse event per subject",
    ("STUDYID", "USUBJID", "AETERM", "AESTDTC"),
    [
        STUDYID,
        _DOMAIN,
        USUBJID,
        _seq("AE", "AETERM", "AESTDTC"),
        var("AETERM", "Reported Term for the Adverse Event", "text", "Topic", "Req"),
        var(
            "AEDECOD",
            "Dictionary-Derived Term",
            "text",
            "Synonym Qualifier",
            "Req",
            origin="Assigned",
            derivation="The reported term (no MedDRA coding in cletrial)",
        ),
        var("AESER", "Serious Event", "text", "Record Qualifier", "Exp", codelist="NY"),
        var("AEREL", "Causality", "text", "Record Qualifier", "Exp", codelist="AEREL"),
        var(
            "AEOUT", "Outcome of Adverse Event", "text", "Record Qualifier", "Perm", codelist="OUT"
        ),
        *(
            var(
                f,
                _FLAG_LABELS[f],
                "text",
                "Record Qualifier",
                "Perm",
                codelist="NY",
                origin="Derived",
                derivation="Y for the stored seriousness criterion, N for the other "
                "criteria of a serious event",
            )
            for f in _FLAGS
        ),
        var(
            "AETOXGR",
            "Standard Toxicity Grade",
            "text",
            "Record Qualifier",
            "Perm",
            codelist="TOXGR",
        ),
        var("AESTDTC", "Start Date/Time of Adverse Event", "iso8601", "Timing", "Exp"),
        var("AEENDTC", "End Date/Time of Adverse Event", "iso8601", "Timing", "Exp"),
        _dy("AESTDY", "AESTDTC", "Study Day of Start of Adverse Event"),
        _dy("AEENDY", "AEENDTC", "Study Day of End of Adverse Event"),
    ],
)


def _ae_row(s: SubjectSource, ae: dict[str, Any], detail: AeDetail) -> dict[str, Any]:
    start = dt.date.fromisoformat(ae["start"])
    end = None if ae.get("end") is None else dt.date.fromisoformat(ae["end"])
    row: dict[str, Any] = {
        "STUDYID": s.ref.studyid, "DOMAIN": "AE", "USUBJID": s.usubjid, "AETERM": ae["term"],
        "AEDECOD": ae["term"], "AESER": NO_YES.submission("Y" if ae["serious"] else "N"),
        "AEREL": AE_CAUSALITY.submission(ae["causality"]),
        "AEOUT": None if detail.outcome is None else AE_OUTCOME.submission(detail.outcome),
        "AETOXGR": str(ae["grade"]), "AESTDTC": iso(start), "AEENDTC": iso(end),
        "AESTDY": study_day(start, s.ref.rfstdtc), "AEENDY": study_day(end, s.ref.rfstdtc),
    }  # fmt: skip
    if ae["serious"] and detail.serious_criterion is not None:
        flag = AE_SERIOUS_CRITERION.submission(detail.serious_criterion)
        row.update({f: "Y" if f == flag else "N" for f in _FLAGS})
    return row


def build_ae(subjects: list[SubjectSource], provenance: list[Provenance]) -> Dataset:
    """AE of every subject (``adverse_events`` of the history, with the store's details)."""
    records: list[dict[str, Any]] = []
    for s in subjects:
        aes = s.history.get("adverse_events") or []
        details = s.adverse_events or tuple(AeDetail() for _ in aes)
        rows = []
        for i, (ae, detail) in enumerate(zip(aes, details, strict=True)):
            rows.append({**_ae_row(s, ae, detail), "_src": ("adverse_events", i)})
        collect(assign_seq(rows, "AE", date="AESTDTC", topic="AETERM"), "AE", records, provenance)
    return to_dataset(AE_SPEC, records)


DS_SPEC = domain_spec(
    "DS",
    "Disposition",
    "EVENTS",
    "One record per disposition status or protocol milestone per subject",
    ("STUDYID", "USUBJID", "DSDECOD", "DSSTDTC"),
    [
        STUDYID,
        _DOMAIN,
        USUBJID,
        _seq("DS", "DSTERM", "DSSTDTC"),
        var("DSTERM", "Reported Term for the Disposition Event", "text", "Topic", "Req"),
        var(
            "DSDECOD",
            "Standardized Disposition Term",
            "text",
            "Synonym Qualifier",
            "Req",
            # NCOMPLT for disposition events only; milestones use their own terms (no
            # value-level codelist yet), so the column declares none.
        ),
        var(
            "DSCAT",
            "Category for Disposition Event",
            "text",
            "Grouping Qualifier",
            "Exp",
            origin="Assigned",
            codelist="DSCAT",
        ),
        var(
            "DSSCAT",
            "Subcategory for Disposition Event",
            "text",
            "Grouping Qualifier",
            "Perm",
            origin="Assigned",
        ),
        var("DSSTDTC", "Start Date/Time of Disposition Event", "iso8601", "Timing", "Exp"),
        _dy("DSSTDY", "DSSTDTC", "Study Day of Start of Disposition Event"),
    ],
)

_DS_KINDS = (("end_of_treatment", "END OF TREATMENT"), ("end_of_study", "END OF STUDY"))


def _ds_rows(s: SubjectSource) -> list[dict[str, Any]]:
    rows = []
    base: dict[str, Any] = {"STUDYID": s.ref.studyid, "DOMAIN": "DS", "USUBJID": s.usubjid}
    for key, subcat in _DS_KINDS:
        doc = s.history.get(key)
        if not doc:
            continue
        term = DISPOSITION_REASON.submission(doc["reason"])
        date = dt.date.fromisoformat(doc["date"])
        rows.append({**base, "DSTERM": term, "DSDECOD": term, "DSCAT": "DISPOSITION EVENT",
                     "DSSCAT": subcat, "DSSTDTC": iso(date),
                     "DSSTDY": study_day(date, s.ref.rfstdtc), "_src": (key, None)})  # fmt: skip
    for i, event in enumerate(s.history.get("events") or []):  # a stop event of the history
        date = dt.date.fromisoformat(event["date"])
        rows.append({**base, "DSTERM": DISPOSITION_EVENT.decode(event["type"]).upper(),
                     "DSDECOD": DISPOSITION_EVENT.submission(event["type"]),
                     "DSCAT": "OTHER EVENT", "DSSTDTC": iso(date),
                     "DSSTDY": study_day(date, s.ref.rfstdtc), "_src": ("events", i)})  # fmt: skip
    if s.screening_date is not None and s.screening_verdict is not None:
        met = s.screening_verdict == "eligible"
        term = "ELIGIBILITY CRITERIA MET" if met else "ELIGIBILITY CRITERIA NOT MET"
        rows.append({**base, "DSTERM": term, "DSDECOD": term, "DSCAT": "PROTOCOL MILESTONE",
                     "DSSTDTC": iso(s.screening_date),
                     "DSSTDY": study_day(s.screening_date, s.ref.rfstdtc),
                     "_src": (None, None)})  # fmt: skip
    return rows


def build_ds(subjects: list[SubjectSource], provenance: list[Provenance]) -> Dataset:
    """DS: the end of treatment and end of study (``DISPOSITION EVENT``, ``DSDECOD`` from
    NCOMPLT), the history's stop events (``OTHER EVENT``, ``DSDECOD`` from the patient-event
    codelist: consent withdrawn, pregnancy, thrombosis, ...) and the screening verdict
    (``PROTOCOL MILESTONE``)."""
    records: list[dict[str, Any]] = []
    for s in subjects:
        collect(assign_seq(_ds_rows(s), "DS", date="DSSTDTC", topic="DSSCAT"), "DS", records,
                provenance)  # fmt: skip
    return to_dataset(DS_SPEC, records)


DV_SPEC = domain_spec(
    "DV",
    "Protocol Deviations",
    "EVENTS",
    "One record per protocol deviation per subject",
    ("STUDYID", "USUBJID", "DVTERM", "DVSTDTC"),
    [
        STUDYID,
        _DOMAIN,
        USUBJID,
        _seq("DV", "DVCAT", "DVSTDTC"),
        var("DVTERM", "Protocol Deviation Term", "text", "Topic", "Req", identifying=True),
        var("DVCAT", "Category for Protocol Deviation", "text", "Grouping Qualifier", "Perm"),
        var("DVSTDTC", "Start Date/Time of Deviation", "iso8601", "Timing", "Exp"),
        _dy("DVSTDY", "DVSTDTC", "Study Day of Start of Deviation"),
    ],
)


def build_dv(subjects: list[SubjectSource], provenance: list[Provenance]) -> Dataset:
    """DV: the subject's protocol deviations (from the store, not the history)."""
    records: list[dict[str, Any]] = []
    for s in subjects:
        rows = [{"STUDYID": s.ref.studyid, "DOMAIN": "DV", "USUBJID": s.usubjid,
                 "DVTERM": d.description, "DVCAT": d.category.upper(),
                 "DVSTDTC": iso(d.date), "DVSTDY": study_day(d.date, s.ref.rfstdtc),
                 "_src": (None, None)} for d in s.deviations]  # fmt: skip
        collect(assign_seq(rows, "DV", date="DVSTDTC", topic="DVCAT"), "DV", records, provenance)
    return to_dataset(DV_SPEC, records)
