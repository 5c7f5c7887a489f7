"""What the SDTM builders read: a whole study, as plain frozen data (no database access).

The store fills a :class:`StudySource` (``cletrial.store.submission_source.load_study_source``);
tests and tools may build one by hand. Everything a patient history (``docs/formats.md``) holds
is in :attr:`SubjectSource.history`, exactly as ``export_patient_history`` returns it; the
fields next to it carry what the history format leaves out (visit kinds, adverse event
outcomes, deviations, ...). Nothing missing is filled in: an unknown value is ``None``.

The date of birth never leaves the store: :attr:`SubjectSource.age` is computed there, and the
screening record is given without its ``birth_date`` and ``patient_id`` keys.

>>> import datetime as dt
>>> ref = SubjectRef("S1", "A", "P01", dt.date(2009, 3, 2))
>>> SubjectSource(ref=ref, sex="F", age=41, history={"patient_id": "P01"}).usubjid
'S1-A-P01'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cletrial.protocol.definition_model import ProtocolFile
from cletrial.standards.sdtm.common import SubjectRef

__all__ = ["AeDetail", "Deviation", "LabDetail", "StudySource", "SubjectSource", "VisitRef"]


@dataclass(frozen=True)
class VisitRef:
    """A stored visit: its date, kind (``baseline``, ``scheduled``, ``unscheduled``) and the
    label the site gave it (``None`` if none)."""

    date: dt.date
    kind: str
    label: str | None = None


@dataclass(frozen=True)
class LabDetail:
    """What the store knows of a lab result beyond the history: the date of the visit it was
    recorded at (``None`` if not linked to a visit) and whether an improbable value was
    confirmed by the person entering it (``None``: not asked)."""

    visit_date: dt.date | None = None
    confirmed: bool | None = None


@dataclass(frozen=True)
class AeDetail:
    """What the store knows of an adverse event beyond the history: the seriousness criterion
    (a value of ``AE_SERIOUS_CRITERION``) and the outcome (a value of ``AE_OUTCOME``)."""

    serious_criterion: str | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class Deviation:
    """A protocol deviation: date, category and description (free text, may identify)."""

    date: dt.date
    category: str
    description: str


@dataclass(frozen=True)
class SubjectSource:
    """One subject of the study.

    Parameters
    ----------
    ref : SubjectRef
        Identifiers and the reference start (first dose date).
    sex : str, optional
        ``F`` or ``M`` (``None``: unknown).
    age : int, optional
        Age in whole years at screening, computed by the store from the date of birth (or the
        screening record's ``age_years`` when no date of birth is stored).
    cle_subtype : str, optional
        Subtype of cutaneous lupus as stored.
    sle : bool, optional
        Whether the patient has systemic lupus erythematosus.
    diagnosis_date : str, optional
        Date of the CLE diagnosis as stored: ISO 8601, possibly partial (``YYYY-MM``).
    screening_date : datetime.date, optional
        Date of the screening record.
    screening_verdict : str, optional
        ``eligible``, ``ineligible`` or ``undetermined`` (``None``: not assessed).
    screening : dict
        The screening record (``cletrial.protocol.screening``) without identifying keys.
    history : dict
        The patient history, as ``export_patient_history`` returns it.
    visits : tuple of VisitRef
        Every stored visit, by date.
    labs : tuple of LabDetail
        One per entry of ``history["labs"]``, in the same order.
    adverse_events : tuple of AeDetail
        One per entry of ``history["adverse_events"]``, in the same order.
    deviations : tuple of Deviation
        The subject's protocol deviations, by date.
    country : str, optional
        ISO 3166-1 alpha-3 country of the site (``None``: not recorded).
    randomised : bool
        Whether the subject was randomised (a randomised protocol).
    arm : str, optional
        The subject's randomised arm id, loaded only for an unblinded package (``None`` in a
        blinded load and for a subject not randomised).
    randomised_on : datetime.date, optional
        The day (UTC) the subject was randomised, loaded with ``arm``: EX gives what the arm's
        kit held from then on (:func:`cletrial.protocol.arms.compute_dispensed`).
    """

    ref: SubjectRef
    history: dict[str, Any]
    sex: str | None = None
    age: int | None = None
    cle_subtype: str | None = None
    sle: bool | None = None
    diagnosis_date: str | None = None
    screening_date: dt.date | None = None
    screening_verdict: str | None = None
    screening: dict[str, Any] = field(default_factory=dict)
    visits: tuple[VisitRef, ...] = ()
    labs: tuple[LabDetail, ...] = ()
    adverse_events: tuple[AeDetail, ...] = ()
    deviations: tuple[Deviation, ...] = ()
    country: str | None = None
    randomised: bool = False
    arm: str | None = None
    randomised_on: dt.date | None = None

    @property
    def usubjid(self) -> str:
        """``USUBJID`` of the subject."""
        return self.ref.usubjid


@dataclass(frozen=True)
class StudySource:
    """A whole study: what every SDTM domain is built from.

    Parameters
    ----------
    study_code : str
        ``STUDYID``.
    title : str
        The study's title.
    protocol_id, protocol_version : str
        The protocol definition the study runs.
    protocol : ProtocolFile
        That definition, loaded (regimens, visit schedule, ...).
    synthetic : bool
        True when the data are synthetic (never evidence): flagged in ``SUPPDM``.
    subjects : tuple of SubjectSource
        Every patient of the study, screen failures included, by site then study code.
    locked_on : datetime.date, optional
        The day (UTC) the database was locked, when it is locked now: the package's data
        cutoff (TS ``DCUTDTC``).
    """

    study_code: str
    title: str
    protocol_id: str
    protocol_version: str
    protocol: ProtocolFile
    synthetic: bool = False
    subjects: tuple[SubjectSource, ...] = ()
    locked_on: dt.date | None = None
