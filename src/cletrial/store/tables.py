"""The study database schema: SQLAlchemy 2 typed declarative models.

Every clinical or administrative record has an integer ``id`` (never reused) and a ``version``
that starts at 1 and grows by one with each saved change (optimistic concurrency). Patients are
known by a pseudonymous ``study_code``; identifying data (name, date of birth, medical record
number) lives apart in :class:`PatientIdentity`. Dates are calendar dates, timestamps are UTC.

The CLASI and SLEDAI-2K tables (item by item) and the audit tables are in
:mod:`cletrial.store.tables_forms` and :mod:`cletrial.store.tables_audit`.

>>> {"patients", "visits", "audit_log"} <= set(Base.metadata.tables)
True
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cletrial.store import tables_audit as _tables_audit
from cletrial.store import tables_forms as _tables_forms
from cletrial.store import tables_monitoring as _tables_monitoring
from cletrial.store import tables_randomisation as _tables_randomisation
from cletrial.store import tables_web as _tables_web
from cletrial.store.tables_base import NO_REUSE, Base, Versioned
from cletrial.store.types import UTCDateTime

# The form, audit, monitoring, randomisation and web tables register themselves on
# Base.metadata.
del _tables_audit, _tables_forms, _tables_monitoring, _tables_randomisation, _tables_web

__all__ = [
    "AdverseEvent",
    "Base",
    "Dose",
    "Lab",
    "Patient",
    "PatientEvent",
    "PatientIdentity",
    "PregnancyTest",
    "ProtocolDeviation",
    "Screening",
    "Site",
    "Study",
    "User",
    "UserSite",
    "Visit",
]


class Study(Versioned, Base):
    """A study running one protocol definition (``protocol_id`` at ``protocol_version``)."""

    __tablename__ = "studies"
    __table_args__ = (NO_REUSE,)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    protocol_id: Mapped[str] = mapped_column(String(80))
    protocol_version: Mapped[str] = mapped_column(String(40))
    #: IANA time zone of the study: "today" for the rule that nothing is dated in the future
    #: (empty: UTC).
    time_zone: Mapped[str | None] = mapped_column(String(64))


class Site(Versioned, Base):
    """A recruiting site of a study."""

    __tablename__ = "sites"
    __table_args__ = (UniqueConstraint("study_id", "code"), NO_REUSE)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    #: ISO 3166-1 alpha-3 (SDTM DM.COUNTRY); empty when not recorded.
    country: Mapped[str | None] = mapped_column(String(3), nullable=True)


class User(Versioned, Base):
    """A user with one role; ``password_hash`` is an argon2 hash (never audited in clear)."""

    __tablename__ = "users"
    __table_args__ = (NO_REUSE,)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean)


class UserSite(Versioned, Base):
    """A site a user works at (a user may have several)."""

    __tablename__ = "user_sites"
    __table_args__ = (UniqueConstraint("user_id", "site_id"), NO_REUSE)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)


class Patient(Versioned, Base):
    """A patient, known only by a pseudonymous study code within the study."""

    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("study_id", "study_code"), NO_REUSE)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    study_code: Mapped[str] = mapped_column(String(40))
    sex: Mapped[str | None] = mapped_column(String(1))
    reproductive_potential: Mapped[bool | None] = mapped_column(Boolean)
    irregular_cycles: Mapped[bool | None] = mapped_column(Boolean)
    cle_subtype: Mapped[str | None] = mapped_column(String(60))
    sle: Mapped[bool | None] = mapped_column(Boolean)
    diagnosis_date: Mapped[str | None] = mapped_column(String(10))
    first_dose_date: Mapped[dt.date | None] = mapped_column(Date)


class PatientIdentity(Versioned, Base):
    """Identifying data of a patient, kept apart from the clinical tables."""

    __tablename__ = "patient_identities"
    __table_args__ = (NO_REUSE,)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(200))
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date)
    mrn: Mapped[str | None] = mapped_column(String(60))


class Screening(Versioned, Base):
    """The screening record of a patient (JSON, see the protocol's screening format)."""

    __tablename__ = "screenings"
    __table_args__ = (NO_REUSE,)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), unique=True)
    screening_date: Mapped[dt.date] = mapped_column(Date)
    record_json: Mapped[str] = mapped_column(Text)
    verdict: Mapped[str | None] = mapped_column(String(20))


class Visit(Versioned, Base):
    """A visit; signing locks it and its forms until unlocked with a reason."""

    __tablename__ = "visits"
    __table_args__ = (
        UniqueConstraint("patient_id", "visit_date"),
        Index(
            "uq_visits_one_baseline",
            "patient_id",
            unique=True,
            sqlite_where=text("kind = 'baseline'"),
            postgresql_where=text("kind = 'baseline'"),
        ),
        NO_REUSE,
    )
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    visit_date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(12))
    label: Mapped[str | None] = mapped_column(String(40))
    medications: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8))
    signed_by: Mapped[str | None] = mapped_column(String(80))
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: The signature manifest: the signer's printed name and what the signature means.
    signed_name: Mapped[str | None] = mapped_column(String(200))
    sign_meaning: Mapped[str | None] = mapped_column(String(200))
    #: The CLA-IGA grade 0-4 (:mod:`cletrial.instruments.cla_iga`); empty = not assessed.
    cla_iga: Mapped[int | None] = mapped_column(SmallInteger)


class Lab(Versioned, Base):
    """A laboratory result, graded by NCI CTCAE when the test has a CTCAE term."""

    __tablename__ = "labs"
    __table_args__ = (UniqueConstraint("patient_id", "sample_date", "test"), NO_REUSE)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    sample_date: Mapped[dt.date] = mapped_column(Date)
    test: Mapped[str] = mapped_column(String(20))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(12))
    lln: Mapped[float | None] = mapped_column(Float)
    ctcae_term: Mapped[str | None] = mapped_column(String(40))
    ctcae_grade: Mapped[int | None] = mapped_column(SmallInteger)
    ctcae_version: Mapped[str | None] = mapped_column(String(4))
    #: The value in the canonical unit of the test (CDISC LBSTRESN / LBSTRESU); ``value`` and
    #: ``unit`` keep the result as entered (LBORRES / LBORRESU).
    std_value: Mapped[float | None] = mapped_column(Float)
    std_unit: Mapped[str | None] = mapped_column(String(12))
    #: True when an improbable value was confirmed by the person entering it.
    value_confirmed: Mapped[bool | None] = mapped_column(Boolean)
    lln_source: Mapped[str | None] = mapped_column(String(8))


class Dose(Versioned, Base):
    """The regimen in force from ``start_date`` on (a step of the dose ladder of the protocol
    the study runs, or off)."""

    __tablename__ = "doses"
    __table_args__ = (UniqueConstraint("patient_id", "start_date"), NO_REUSE)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    start_date: Mapped[dt.date] = mapped_column(Date)
    regimen: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)


class AdverseEvent(Versioned, Base):
    """An adverse event: term, CTCAE grade, causality, seriousness, dates and outcome."""

    __tablename__ = "adverse_events"
    __table_args__ = (UniqueConstraint("patient_id", "term", "start_date"), NO_REUSE)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    term: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    grade: Mapped[int] = mapped_column(SmallInteger)
    causality: Mapped[str] = mapped_column(String(10))
    serious: Mapped[bool] = mapped_column(Boolean)
    serious_criterion: Mapped[str | None] = mapped_column(String(30))
    outcome: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(Text)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)


class PregnancyTest(Versioned, Base):
    """A pregnancy test result."""

    __tablename__ = "pregnancy_tests"
    __table_args__ = (UniqueConstraint("patient_id", "test_date"), NO_REUSE)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    test_date: Mapped[dt.date] = mapped_column(Date)
    result: Mapped[str] = mapped_column(String(8))
    method: Mapped[str | None] = mapped_column(String(10))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)


class PatientEvent(Versioned, Base):
    """A disposition event (consent withdrawn, pregnancy, death, completed, ...)."""

    __tablename__ = "patient_events"
    __table_args__ = (UniqueConstraint("patient_id", "event_date", "event_type"), NO_REUSE)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    event_date: Mapped[dt.date] = mapped_column(Date)
    event_type: Mapped[str] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(Text)


class ProtocolDeviation(Versioned, Base):
    """A protocol deviation (for example a change of baseline medication)."""

    __tablename__ = "protocol_deviations"
    __table_args__ = (UniqueConstraint("patient_id", "deviation_date", "category"), NO_REUSE)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    deviation_date: Mapped[dt.date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text)


class Disposition(Versioned, Base):
    """End of treatment or end of study of a patient, with its CDISC NCOMPLT reason."""

    __tablename__ = "dispositions"
    __table_args__ = (UniqueConstraint("patient_id", "kind"), NO_REUSE)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    kind: Mapped[str] = mapped_column(String(20))
    disposition_date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(30))
    last_dose_date: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)


class ImmunologyResult(Versioned, Base):
    """A qualitative test of the baseline immunology panel: ANA, anti-ENA, antiphospholipid
    antibodies (anti-dsDNA, C3 and C4 are quantitative ``labs``)."""

    __tablename__ = "immunology_results"
    __table_args__ = (UniqueConstraint("patient_id", "sample_date", "test"), NO_REUSE)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    sample_date: Mapped[dt.date] = mapped_column(Date)
    test: Mapped[str] = mapped_column(String(20))
    result: Mapped[str] = mapped_column(String(14))


class NerveConductionStudy(Versioned, Base):
    """A nerve conduction study: normal or abnormal, with the neurologist's note."""

    __tablename__ = "nerve_conduction_studies"
    __table_args__ = (UniqueConstraint("patient_id", "study_date"), NO_REUSE)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    study_date: Mapped[dt.date] = mapped_column(Date)
    result: Mapped[str] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(Text)


class ConcomitantMedication(Versioned, Base):
    """A concomitant medication with its dates; ``baseline`` when taken at baseline."""

    __tablename__ = "concomitant_medications"
    __table_args__ = (UniqueConstraint("patient_id", "name", "start_date"), NO_REUSE)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    name: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    baseline: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)


class EnrolmentOverride(Versioned, Base):
    """An investigator's decision to treat a patient whose screening verdict is not eligible,
    e-signed, with its reason (also recorded as a protocol deviation)."""

    __tablename__ = "enrolment_overrides"
    __table_args__ = (NO_REUSE,)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), unique=True)
    override_date: Mapped[dt.date] = mapped_column(Date)
    verdict: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    signed_by: Mapped[str] = mapped_column(String(80))
    signed_name: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
