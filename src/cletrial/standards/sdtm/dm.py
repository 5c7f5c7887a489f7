"""SDTM DM (demographics): one record per subject, screen failures included.

A single-arm trial's subjects have the only arm of the protocol definition's ``trial`` section
(TA), else ``LENA`` (Lenalidomide); in a randomised protocol (several arms) each subject has the
arm randomised, which only an unblinded load carries (a blinded one is refused for a randomised
subject), and a subject not randomised has ``ARMNRS`` ``NOT ASSIGNED``. Following SDTMIG 3.4,
a subject who was never
assigned has missing ``ARMCD``/``ARM`` and ``ARMNRS`` ``SCREEN FAILURE`` (screening verdict not
eligible, no override); a subject assigned but never dosed has ``ARMCD`` ``LENA``, missing
``ACTARMCD``/``ACTARM`` and ``ARMNRS`` ``ASSIGNED, NOT TREATED``.

>>> import datetime as dt
>>> from cletrial.standards.sdtm.common import SubjectRef
>>> from cletrial.standards.sdtm.source import SubjectSource
>>> s = SubjectSource(SubjectRef("S", "A", "P1"), history={}, screening_verdict="ineligible")
>>> r = build_dm([s]).frame.iloc[0]
>>> r["ARMCD"], r["ACTARMCD"], r["ARMNRS"]
(None, None, 'SCREEN FAILURE')
"""

from __future__ import annotations

from typing import Any

from cletrial.errors import StandardsError
from cletrial.protocol.definition_model import ProtocolFile
from cletrial.standards.metadata import Dataset
from cletrial.standards.sdtm._frame import STUDYID, USUBJID, domain_spec, to_dataset, var
from cletrial.standards.sdtm.common import iso
from cletrial.standards.sdtm.interventions import exposure_periods, last_dose_date
from cletrial.standards.sdtm.source import SubjectSource
from cletrial.vocabulary import DISPOSITION_KIND, SEX

__all__ = ["ARM", "ARMCD", "DM_SPEC", "build_dm", "planned_arm", "subject_arm"]

ARMCD, ARM = "LENA", "Lenalidomide"

DM_SPEC = domain_spec(
    "DM",
    "Demographics",
    "SPECIAL PURPOSE",
    "One record per subject",
    ("STUDYID", "USUBJID"),
    [
        STUDYID,
        var("DOMAIN", "Domain Abbreviation", "text", "Identifier", "Req", origin="Assigned"),
        USUBJID,
        var("SUBJID", "Subject Identifier for the Study", "text", "Topic", "Req"),
        var(
            "RFSTDTC",
            "Subject Reference Start Date/Time",
            "iso8601",
            "Record Qualifier",
            "Exp",
            origin="Derived",
            derivation="Date of the first dose of lenalidomide",
        ),
        var(
            "RFENDTC",
            "Subject Reference End Date/Time",
            "iso8601",
            "Record Qualifier",
            "Exp",
            origin="Derived",
            derivation="Date of the last dose of lenalidomide",
        ),
        var(
            "RFXSTDTC",
            "Date/Time of First Study Treatment",
            "iso8601",
            "Record Qualifier",
            "Exp",
            origin="Derived",
            derivation="Start of the first EX record",
        ),
        var(
            "RFXENDTC",
            "Date/Time of Last Study Treatment",
            "iso8601",
            "Record Qualifier",
            "Exp",
            origin="Derived",
            derivation="Last dose date: the end of treatment's, or the day before "
            "the drug was stopped",
        ),
        var(
            "RFICDTC",
            "Date/Time of Informed Consent",
            "iso8601",
            "Record Qualifier",
            "Exp",
            origin="Collected",
        ),
        var(
            "DTHDTC",
            "Date/Time of Death",
            "iso8601",
            "Record Qualifier",
            "Exp",
            origin="Derived",
            derivation="Date of the patient event death",
        ),
        var(
            "DTHFL",
            "Subject Death Flag",
            "text",
            "Record Qualifier",
            "Exp",
            codelist="NY",
            origin="Derived",
            derivation="Y when a death is recorded, else missing",
        ),
        var("SITEID", "Study Site Identifier", "text", "Record Qualifier", "Req"),
        var(
            "AGE",
            "Age",
            "integer",
            "Record Qualifier",
            "Exp",
            origin="Derived",
            derivation="Whole years from the date of birth to the screening date",
        ),
        var(
            "AGEU",
            "Age Units",
            "text",
            "Variable Qualifier",
            "Exp",
            codelist="AGEU",
            origin="Assigned",
        ),
        var("SEX", "Sex", "text", "Record Qualifier", "Req", codelist="SEX"),
        var("ARMCD", "Planned Arm Code", "text", "Record Qualifier", "Exp", origin="Assigned"),
        var(
            "ARM",
            "Description of Planned Arm",
            "text",
            "Synonym Qualifier",
            "Exp",
            origin="Assigned",
        ),
        var(
            "ACTARMCD",
            "Actual Arm Code",
            "text",
            "Record Qualifier",
            "Exp",
            origin="Derived",
            derivation="ARMCD (the planned arm) when at least one dose was taken",
        ),
        var(
            "ACTARM",
            "Description of Actual Arm",
            "text",
            "Synonym Qualifier",
            "Exp",
            origin="Derived",
            derivation="ARM (the planned arm) when at least one dose was taken",
        ),
        var(
            "ARMNRS",
            "Reason Arm and/or Actual Arm is Null",
            "text",
            "Record Qualifier",
            "Exp",
            origin="Derived",
            derivation="SCREEN FAILURE when not eligible at screening; NOT ASSIGNED when "
            "a randomised protocol's subject was not randomised; ASSIGNED, NOT TREATED when "
            "never dosed",
        ),
        var(
            "COUNTRY", "Country", "text", "Record Qualifier", "Req"
        ),  # ISO 3166-1 alpha-3 (no CDISC codelist),
    ],
)


def _death_date(s: SubjectSource) -> str | None:
    for event in s.history.get("events") or []:
        if event["type"] == "death":
            return str(event["date"])
    for key in reversed(DISPOSITION_KIND.values):  # end of study first, then end of treatment
        doc = s.history.get(key) or {}
        if doc.get("reason") == "death":
            return str(doc["date"])
    return None


def planned_arm(protocol: ProtocolFile) -> tuple[str, str] | None:
    """``(ARMCD, ARM)`` of every subject of a single-arm protocol: the only arm of its
    ``trial`` section, else ``LENA`` (Lenalidomide); ``None`` for a protocol with several arms
    (each subject's arm is the randomised one, :func:`subject_arm`).

    >>> from cletrial.protocol import load_protocol
    >>> planned_arm(load_protocol().file)
    ('LENA', 'Lenalidomide')
    >>> planned_arm(load_protocol("lenalidomide-vs-placebo-cle").file) is None
    True
    """
    if protocol.trial is None:
        return ARMCD, ARM
    arms = protocol.trial.arms
    return (arms[0].code, arms[0].name) if len(arms) == 1 else None


def subject_arm(protocol: ProtocolFile, s: SubjectSource) -> tuple[str, str] | None:
    """``(ARMCD, ARM)`` of subject ``s``: the protocol's only arm, or the subject's randomised
    arm; ``None`` for a subject of a randomised protocol who was not randomised.

    Raises
    ------
    cletrial.errors.StandardsError
        A randomised subject whose arm was not loaded (a blinded load): the package of a
        randomised study needs the arms, which only an unblinded statistician may take.
    """
    single = planned_arm(protocol)
    if single is not None:
        return single
    if s.arm is not None:
        names = {a.code: a.name for a in protocol.trial.arms} if protocol.trial else {}
        return s.arm, names.get(s.arm, s.arm)
    if s.randomised:
        raise StandardsError(
            f"{s.usubjid} is randomised and the arms are sealed: the package of a randomised "
            "study needs them (cletrial submission --unblinded, a statistician's e-signature)"
        )
    return None


def _arm(s: SubjectSource, treated: bool, arm: tuple[str, str] | None) -> dict[str, Any]:
    override = (s.history.get("eligibility") or {}).get("override")
    if s.screening_verdict not in (None, "eligible") and not override and not treated:
        return {"ARMNRS": "SCREEN FAILURE"}
    if arm is None:
        return {"ARMNRS": "NOT ASSIGNED"}
    code, name = arm
    if treated:
        return {"ARMCD": code, "ARM": name, "ACTARMCD": code, "ACTARM": name}
    return {"ARMCD": code, "ARM": name, "ARMNRS": "ASSIGNED, NOT TREATED"}


def _dm_row(s: SubjectSource, arm: tuple[str, str] | None) -> dict[str, Any]:
    periods = exposure_periods(s)
    first = periods[0].start if periods else s.ref.rfstdtc
    last = last_dose_date(s)
    death = _death_date(s)
    return {"STUDYID": s.ref.studyid, "DOMAIN": "DM", "USUBJID": s.usubjid,
            "SUBJID": s.ref.subjid, "RFSTDTC": iso(first), "RFENDTC": iso(last),
            "RFXSTDTC": iso(first), "RFXENDTC": iso(last), "DTHDTC": death,
            "DTHFL": "Y" if death else None, "SITEID": s.ref.siteid, "AGE": s.age,
            "AGEU": "YEARS" if s.age is not None else None,
            "SEX": None if s.sex is None else SEX.submission(s.sex), "COUNTRY": s.country,
            **_arm(s, first is not None, arm)}  # fmt: skip


def build_dm(subjects: list[SubjectSource], protocol: ProtocolFile | None = None) -> Dataset:
    """DM of every subject (no --SEQ: the key is USUBJID); the arm of each from ``protocol``
    (:func:`subject_arm`; without one, ``LENA``)."""
    rows = [_dm_row(s, (ARMCD, ARM) if protocol is None else subject_arm(protocol, s))
            for s in subjects]  # fmt: skip
    return to_dataset(DM_SPEC, rows)
