"""SDTM interventions: EX (exposure to the protocol's drug) and CM (concomitant and baseline
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

from cletrial.protocol.arms import compute_dispensed
from cletrial.protocol.definition import ProtocolDefinition, compile_protocol
from cletrial.protocol.definition_model import ProtocolFile, Regimen
from cletrial.standards.metadata import Dataset
from cletrial.standards.sdtm._frame import STUDYID, USUBJID, collect, domain_spec, to_dataset, var
from cletrial.standards.sdtm.common import Provenance, assign_seq, iso, study_day
from cletrial.standards.sdtm.source import SubjectSource
from cletrial.vocabulary import DOSE_FREQUENCY, NO_YES, ROUTE

__all__ = ["CM_SPEC", "EX_SPEC", "ExposurePeriod", "build_cm", "build_ex", "compute_given",
           "exposure_periods", "last_dose_date"]  # fmt: skip

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


def _at_randomisation(periods: list[ExposurePeriod], on: dt.date) -> str | None:
    """The regimen in force on the day of randomisation (``None``: not on drug then)."""
    for p in periods:
        if p.start <= on and (p.end is None or on <= p.end):
            return p.regimen
    return None


def compute_given(
    protocol: ProtocolDefinition, subject: SubjectSource, periods: list[ExposurePeriod]
) -> list[tuple[str, Regimen, float]]:
    """``(EXTRT, regimen, mg of drug)`` of each period: the drug of the protocol at the
    recorded regimen, or, for a subject whose arm is known (an unblinded package), what the
    arm's kit held (:func:`compute_dispensed`: a placebo arm's kit is ``PLACEBO`` with no
    drug; a continue arm keeps the dose it had when randomised through a recorded taper).

    In a parallel design the arm holds for the whole treatment (randomisation precedes it,
    whenever it was entered). In a randomised withdrawal the open run-in comes first: a period
    that began before the day of randomisation was the drug as recorded.

    >>> from cletrial.protocol import load_protocol
    >>> from cletrial.standards.sdtm.common import SubjectRef
    >>> pbo = load_protocol("lenalidomide-vs-placebo-cle")
    >>> s = SubjectSource(SubjectRef("S", "A", "P1"), arm="PBO",
    ...                   randomised_on=dt.date(2024, 1, 8),
    ...                   history={"doses": [{"date": "2024-01-08", "regimen": "5_daily"}]})
    >>> [(t, r.id, mg) for t, r, mg in compute_given(pbo, s, exposure_periods(s))]
    [('PLACEBO', '5_daily', 0.0)]
    """
    drug = protocol.file.drug.upper()
    blinding = protocol.file.blinding
    withdrawal = blinding is not None and blinding.design == "randomised_withdrawal"
    on = subject.randomised_on if withdrawal else None
    kept = None if on is None else _at_randomisation(periods, on)
    out = []
    for p in periods:
        regimen = protocol.regimens[protocol.regimen_index[p.regimen]]
        if subject.arm is None or (withdrawal and (on is None or p.start < on)):
            out.append((drug, regimen, regimen.dose_mg))
            continue
        kit = compute_dispensed(protocol, subject.arm, p.regimen,
                                at_randomisation=kept or p.regimen)  # fmt: skip
        out.append((drug if kit.drug_mg > 0 else "PLACEBO", kit.regimen, kit.drug_mg))
    return out


def build_ex(
    subjects: list[SubjectSource], protocol: ProtocolFile, provenance: list[Provenance]
) -> Dataset:
    """EX of every subject; appends one :class:`Provenance` (``doses``) per record. The
    treatment is the protocol's drug (``EXTRT``), or for an unblinded subject what the arm's
    kit held (:func:`compute_given`)."""
    definition = compile_protocol(protocol, f"<{protocol.id}>")
    route = protocol.trial.route if protocol.trial is not None else "oral"
    records: list[dict[str, Any]] = []
    for s in subjects:
        rows = []
        periods = exposure_periods(s)
        for p, (treatment, regimen, mg) in zip(
            periods, compute_given(definition, s, periods), strict=True
        ):
            rows.append({"STUDYID": s.ref.studyid, "DOMAIN": "EX", "USUBJID": s.usubjid,
                         "EXTRT": treatment, "EXDOSE": mg, "EXDOSU": "mg",
                         "EXDOSFRM": "CAPSULE",
                         "EXDOSFRQ": DOSE_FREQUENCY.submission(
                             format(regimen.administrations_per_week, "g")),
                         "EXROUTE": ROUTE.submission(route), "EXSTDTC": iso(p.start),
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
