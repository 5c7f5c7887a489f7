"""SDTM interventions: EX (exposure to lenalidomide) and CM (concomitant and baseline
medications).

EX has one record per regimen period: a period starts on the date a regimen of the dose ladder
comes into force and ends the day before the next change, or on the last dose date (the end of
treatment's, or the day before the drug was stopped). A period of the ``off`` regimen is not
exposure and has no record. An open period of a patient still on treatment has no end date.

>>> import datetime as dt
>>> from cletrial.protocol import load_protocol
>>> from cletrial.standards.sdtm.common import SubjectRef
>>> from cletrial.standards.sdtm.source import SubjectSource
>>> s = SubjectSource(SubjectRef("S", "A", "P1", dt.date(2009, 3, 2)), history={"doses": [
...     {"date": "2009-03-02", "regimen": "5_daily"}, {"date": "2009-03-30", "regimen": "off"}]})
>>> [(p.start, p.end, p.index) for p in exposure_periods(s)]
[(datetime.date(2009, 3, 2), datetime.date(2009, 3, 29), 0)]
>>> last_dose_date(s)
datetime.date(2009, 3, 29)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cletrial.protocol.definition_model import ProtocolFile
from cletrial.standards.metadata import Dataset
from cletrial.standards.sdtm._frame import STUDYID, USUBJID, collect, domain_spec, to_dataset, var
from cletrial.standards.sdtm.common import Provenance, assign_seq, iso, study_day
from cletrial.standards.sdtm.source import SubjectSource
from cletrial.vocabulary import DOSE_FREQUENCY, NO_YES, ROUTE

__all__ = ["CM_SPEC", "EX_SPEC", "ExposurePeriod", "build_cm", "build_ex", "exposure_periods",
           "last_dose_date"]  # fmt: skip

OFF = "off"
_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class ExposurePeriod:
    """A period on one regimen: ``index`` is the position of its start in ``history["doses"]``;
    ``end`` is ``None`` while the period is open."""

    regimen: str
    start: dt.date
    end: dt.date | None
    index: int


def _date(value: Any) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


def last_dose_date(subject: SubjectSource) -> dt.date | None:
    """The last dose date: the end of treatment's, else the day before the drug was stopped
    (the last regimen change is to ``off``); ``None`` while on treatment or never dosed."""
    eot = subject.history.get("end_of_treatment") or {}
    if eot.get("last_dose_date"):
        return dt.date.fromisoformat(eot["last_dose_date"])
    doses = subject.history.get("doses") or []
    if len(doses) > 1 and doses[-1]["regimen"] == OFF:
        return dt.date.fromisoformat(doses[-1]["date"]) - _DAY
    return None


def exposure_periods(subject: SubjectSource) -> list[ExposurePeriod]:
    """The subject's periods on a regimen other than ``off``, in date order."""
    doses = subject.history.get("doses") or []
    last = last_dose_date(subject)
    periods = []
    for i, dose in enumerate(doses):
        if dose["regimen"] == OFF:
            continue
        start = dt.date.fromisoformat(dose["date"])
        if last is not None and start > last:
            continue
        end = dt.date.fromisoformat(doses[i + 1]["date"]) - _DAY if i + 1 < len(doses) else last
        if last is not None and (end is None or end > last):
            end = last
        periods.append(ExposurePeriod(dose["regimen"], start, end, i))
    return periods


EX_SPEC = domain_spec(
    "EX",
    "Exposure",
    "INTERVENTIONS",
    "One record per constant-dosing interval per subject",
    ("STUDYID", "USUBJID", "EXTRT", "EXSTDTC"),
    [
        STUDYID,
        var("DOMAIN", "Domain Abbreviation", "text", "Identifier", "Req", origin="Assigned"),
        USUBJID,
        var(
            "EXSEQ",
            "Sequence Number",
            "integer",
            "Identifier",
            "Req",
            origin="Derived",
            derivation="Subject's EX records numbered from 1 by EXSTDTC",
        ),
        var("EXTRT", "Name of Treatment", "text", "Topic", "Req", origin="Assigned"),
        var(
            "EXDOSE",
            "Dose",
            "float",
            "Record Qualifier",
            "Exp",
            origin="Protocol",
            derivation="dose_mg of the regimen in the protocol definition",
        ),
        var(
            "EXDOSU",
            "Dose Units",
            "text",
            "Variable Qualifier",
            "Exp",
            origin="Protocol",
            codelist="UNIT",
        ),
        var(
            "EXDOSFRM",
            "Dose Form",
            "text",
            "Variable Qualifier",
            "Exp",
            origin="Protocol",
            codelist="FRM",
        ),
        var(
            "EXDOSFRQ",
            "Dosing Frequency per Interval",
            "text",
            "Variable Qualifier",
            "Perm",
            origin="Protocol",
            codelist="FREQ",
        ),
        var(
            "EXROUTE",
            "Route of Administration",
            "text",
            "Variable Qualifier",
            "Perm",
            origin="Protocol",
            codelist="ROUTE",
        ),
        var("EXSTDTC", "Start Date/Time of Treatment", "iso8601", "Timing", "Exp"),
        var(
            "EXENDTC",
            "End Date/Time of Treatment",
            "iso8601",
            "Timing",
            "Exp",
            origin="Derived",
            derivation="Day before the next regimen change, or the last dose date",
        ),
        var(
            "EXSTDY",
            "Study Day of Start of Treatment",
            "integer",
            "Timing",
            "Perm",
            origin="Derived",
            derivation="Study day of EXSTDTC relative to RFSTDTC (no day 0)",
        ),
        var(
            "EXENDY",
            "Study Day of End of Treatment",
            "integer",
            "Timing",
            "Perm",
            origin="Derived",
            derivation="Study day of EXENDTC relative to RFSTDTC (no day 0)",
        ),
    ],
)


def build_ex(
    subjects: list[SubjectSource], protocol: ProtocolFile, provenance: list[Provenance]
) -> Dataset:
    """EX of every subject; appends one :class:`Provenance` (``doses``) per record."""
    regimens = {r.id: r for r in protocol.regimens}
    records: list[dict[str, Any]] = []
    for s in subjects:
        rows = []
        for p in exposure_periods(s):
            regimen = regimens[p.regimen]
            rows.append({"STUDYID": s.ref.studyid, "DOMAIN": "EX", "USUBJID": s.usubjid,
                         "EXTRT": "LENALIDOMIDE", "EXDOSE": regimen.dose_mg, "EXDOSU": "mg",
                         "EXDOSFRM": "CAPSULE",
                         "EXDOSFRQ": DOSE_FREQUENCY.submission(
                             format(regimen.administrations_per_week, "g")),
                         "EXROUTE": ROUTE.submission("oral"), "EXSTDTC": iso(p.start),
                         "EXENDTC": iso(p.end), "EXSTDY": study_day(p.start, s.ref.rfstdtc),
                         "EXENDY": study_day(p.end, s.ref.rfstdtc),
                         "_src": ("doses", p.index)})  # fmt: skip
        collect(assign_seq(rows, "EX", date="EXSTDTC", topic="EXTRT"), "EX", records, provenance)
    return to_dataset(EX_SPEC, records)


CM_SPEC = domain_spec(
    "CM",
    "Concomitant/Prior Medications",
    "INTERVENTIONS",
    "One record per recorded medication per subject",
    ("STUDYID", "USUBJID", "CMTRT", "CMSTDTC"),
    [
        STUDYID,
        var("DOMAIN", "Domain Abbreviation", "text", "Identifier", "Req", origin="Assigned"),
        USUBJID,
        var(
            "CMSEQ",
            "Sequence Number",
            "integer",
            "Identifier",
            "Req",
            origin="Derived",
            derivation="Subject's CM records numbered from 1 by CMSTDTC, then CMTRT",
        ),
        var("CMTRT", "Reported Name of Drug, Med, or Therapy", "text", "Topic", "Req"),
        var(
            "CMCAT",
            "Category for Medication",
            "text",
            "Grouping Qualifier",
            "Perm",
            origin="Assigned",
        ),
        var("CMSTDTC", "Start Date/Time of Medication", "iso8601", "Timing", "Perm"),
        var("CMENDTC", "End Date/Time of Medication", "iso8601", "Timing", "Perm"),
        var(
            "CMSTDY",
            "Study Day of Start of Medication",
            "integer",
            "Timing",
            "Perm",
            origin="Derived",
            derivation="Study day of CMSTDTC relative to RFSTDTC (no day 0)",
        ),
        var(
            "CMENDY",
            "Study Day of End of Medication",
            "integer",
            "Timing",
            "Perm",
            origin="Derived",
            derivation="Study day of CMENDTC relative to RFSTDTC (no day 0)",
        ),
        var(
            "CMBLFL",
            "Baseline Flag",
            "text",
            "Record Qualifier",
            "Perm",
            codelist="NY",
            origin="Collected",
        ),
    ],
)


def build_cm(subjects: list[SubjectSource], provenance: list[Provenance]) -> Dataset:
    """CM of every subject (``concomitant_medications`` of the history)."""
    records: list[dict[str, Any]] = []
    for s in subjects:
        rows = []
        for i, med in enumerate(s.history.get("concomitant_medications") or []):
            start, end = _date(med.get("start")), _date(med.get("end"))
            rows.append({"STUDYID": s.ref.studyid, "DOMAIN": "CM", "USUBJID": s.usubjid,
                         "CMTRT": med["name"],
                         "CMCAT": "BASELINE MEDICATION" if med.get("baseline")
                         else "CONCOMITANT MEDICATION",
                         "CMSTDTC": iso(start), "CMENDTC": iso(end),
                         "CMSTDY": study_day(start, s.ref.rfstdtc),
                         "CMENDY": study_day(end, s.ref.rfstdtc),
                         "CMBLFL": NO_YES.submission("Y") if med.get("baseline") else None,
                         "_src": ("concomitant_medications", i)})  # fmt: skip
        collect(assign_seq(rows, "CM", date="CMSTDTC", topic="CMTRT"), "CM", records, provenance)
    return to_dataset(CM_SPEC, records)
