"""Request and response bodies of the clinical records of the REST API: labs, adverse events,
doses, the forms of a visit, visits, signatures, patients, disposition events and audit rows.

Families follow :mod:`cletrial.web.schemas`: ``<Resource>Create`` (POST body),
``<Resource>Update`` (PATCH body with the record ``version`` and the ``reason`` for change) and
``<Resource>Public`` (response). Request bodies forbid unknown fields.

>>> VisitCreate(visit_date="2024-01-15").kind
'scheduled'
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from cletrial.vocabulary.types import (
    AeOutcome,
    Causality,
    EventType,
    SeriousCriterion,
    Sex,
    VisitKind,
)
from cletrial.vocabulary.types import LabTest as AnyLabTest
from cletrial.web.schemas import (
    Code,
    Request,
    ShortText,
    cla_iga_field,
    clasi_form_field,
    json_object_field,
    skindex_form_field,
    sledai_form_field,
)

#: A step id of the dose ladder of the protocol the patient's study runs, or ``off``: the store
#: checks it against that ladder (another id is refused naming ``doses.regimen``).
Regimen = Annotated[str, Field(min_length=1, max_length=20)]
Reason = Annotated[str, Field(min_length=1, max_length=1000)]
Note = Annotated[str, Field(max_length=4000)]


class LabCreate(Request):
    """A laboratory result; ``sample_date`` defaults to the visit date. Counts and haemoglobin
    are graded by NCI CTCAE when saved (``lln`` in the same unit as ``value``)."""

    test: AnyLabTest
    value: float = Field(ge=0, allow_inf_nan=False)
    unit: str = Field(min_length=1, max_length=12)
    lln: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    sample_date: dt.date | None = None
    confirmed: bool = Field(
        default=False,
        description="The person entering an improbable value confirms it is right (recorded).",
    )


class LabPublic(BaseModel):
    """A stored lab result with its CTCAE grade (``None`` for tests CTCAE does not grade)."""

    id: int
    version: int
    visit_id: int | None
    sample_date: dt.date
    test: str
    value: float
    unit: str
    lln: float | None
    ctcae_term: str | None
    ctcae_grade: int | None
    ctcae_version: str | None
    lln_source: str | None
    std_value: float | None = Field(default=None, description="Value in the canonical unit")
    std_unit: str | None = None
    value_confirmed: bool | None = Field(
        default=None, description="An improbable value confirmed by the person entering it"
    )


class AdverseEventCreate(Request):
    """An adverse event: term, CTCAE grade (1-5), causality, seriousness, dates, outcome."""

    term: ShortText
    start_date: dt.date
    end_date: dt.date | None = None
    grade: int = Field(ge=1, le=5)
    causality: Causality
    serious: bool = False
    serious_criterion: SeriousCriterion | None = None
    outcome: AeOutcome | None = Field(
        default=None,
        description="Outcome when known (CDISC AEOUT terms): recovered and "
        "recovered_with_sequelae need end_date, recovering and not_recovered have none, fatal "
        "is the outcome of a grade 5 event only. Empty: not recorded.",
    )
    note: Note | None = None


class AdverseEventUpdate(Request):
    """A change to an adverse event: the version read and the reason, plus changed fields."""

    version: int = Field(ge=1, le=2_147_483_647)
    reason: Reason
    term: ShortText | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    grade: int | None = Field(default=None, ge=1, le=5)
    causality: Causality | None = None
    serious: bool | None = None
    serious_criterion: SeriousCriterion | None = None
    outcome: AeOutcome | None = None
    note: Note | None = None


class AdverseEventPublic(BaseModel):
    """A stored adverse event."""

    id: int
    version: int
    patient_id: int
    term: str
    start_date: dt.date
    end_date: dt.date | None
    grade: int
    causality: str
    serious: bool
    serious_criterion: str | None
    outcome: str | None
    note: str | None


class DoseCreate(Request):
    """The regimen given from ``start_date`` on (defaults to the visit date): a step id of the
    dose ladder of the protocol the patient's study runs, or ``off``."""

    regimen: Regimen
    start_date: dt.date | None = None
    note: Note | None = None


class DoseUpdate(Request):
    """A change to a dose: the version read and the reason, plus changed fields. ``regimen`` is
    a step id of the dose ladder of the protocol the patient's study runs, or ``off`` (checked
    by the store: another id is refused naming ``doses.regimen``)."""

    version: int = Field(ge=1, le=2_147_483_647)
    reason: Reason
    start_date: dt.date | None = None
    regimen: Regimen | None = None
    note: Note | None = None


class DosePublic(BaseModel):
    """A stored regimen change."""

    id: int
    version: int
    patient_id: int
    start_date: dt.date
    regimen: str
    note: str | None


class ClasiPublic(BaseModel):
    """A stored CLASI: the form item by item (``None`` when only scores are known) and scores."""

    id: int
    version: int
    entry: str
    activity: int
    damage: int
    activity_severity: str
    form: dict[str, Any] | None


class SledaiPublic(BaseModel):
    """A stored SLEDAI-2K: the form (``None`` when only the score is known) and the score."""

    id: int
    version: int
    entry: str
    score: int
    form: dict[str, Any] | None


class SkindexPublic(BaseModel):
    """A stored Skindex-29+3: the answered items (item number -> 1-5) and the domain scores
    (0-100; ``None`` when fewer than 75% of a domain's items are answered)."""

    id: int
    version: int
    form: dict[str, int]
    scores: dict[str, float | None]


class VisitCreate(Request):
    """A new visit with its forms. Omitted forms are not assessed (missing, never zero):
    ``cla_iga`` is the CLA-IGA grade 0-4, ``skindex`` the Skindex-29+3 responses."""

    visit_date: dt.date
    kind: VisitKind = "scheduled"
    label: Annotated[str, Field(max_length=40)] | None = None
    medications: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = None
    notes: Note | None = None
    clasi: clasi_form_field | None = None
    sledai: sledai_form_field | None = None
    cla_iga: cla_iga_field = None
    skindex: skindex_form_field | None = None
    labs: list[LabCreate] = Field(default_factory=list, max_length=50)
    adverse_events: list[AdverseEventCreate] = Field(default_factory=list, max_length=50)
    dose: DoseCreate | None = None


class VisitUpdate(Request):
    """A change to a visit: the ``version`` read, the ``reason``, and what changes.

    ``clasi`` / ``sledai`` replace the whole form (quote ``clasi_version`` / ``sledai_version``
    when the visit already has one); ``labs`` replace the results of the tests they name (quote
    each lab's ``version`` in ``lab_versions`` when it exists).

    ``remove_clasi`` / ``remove_sledai`` delete the saved form (the form was not assessed: it
    becomes missing, never 0); ``remove_labs`` deletes the visit's results of those tests. Each
    removal quotes the version read (``clasi_version``, ``sledai_version``, ``lab_versions``)
    and is audited with the ``reason``. ``cla_iga`` changes the grade (null: not assessed);
    ``skindex`` replaces the Skindex-29+3 (quote ``skindex_version``), ``remove_skindex``
    deletes it.
    """

    version: int = Field(ge=1, le=2_147_483_647)
    reason: Reason
    visit_date: dt.date | None = None
    kind: VisitKind | None = None
    label: Annotated[str, Field(max_length=40)] | None = None
    medications: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = None
    notes: Note | None = None
    clasi: clasi_form_field | None = None
    clasi_version: int | None = Field(default=None, ge=1, le=2_147_483_647)
    sledai: sledai_form_field | None = None
    sledai_version: int | None = Field(default=None, ge=1, le=2_147_483_647)
    cla_iga: cla_iga_field = None
    skindex: skindex_form_field | None = None
    skindex_version: int | None = Field(default=None, ge=1, le=2_147_483_647)
    labs: list[LabCreate] = Field(default_factory=list, max_length=50)
    lab_versions: dict[str, Annotated[int, Field(ge=1, le=2_147_483_647)]] = Field(
        default_factory=dict, max_length=10
    )
    remove_clasi: bool = False
    remove_sledai: bool = False
    remove_skindex: bool = False
    remove_labs: list[AnyLabTest] = Field(default_factory=list, max_length=10)


class SignaturePublic(BaseModel):
    """An electronic signature: printed name, time (UTC) and meaning."""

    printed_name: str
    username: str
    signed_at: dt.datetime
    meaning: str


class VisitPublic(BaseModel):
    """A visit with its forms, labs and signature."""

    id: int
    version: int
    patient_id: int
    visit_date: dt.date
    kind: str
    label: str | None
    medications: list[str] | None
    notes: str | None
    status: Literal["open", "signed"]
    signed_by: str | None
    signed_at: dt.datetime | None
    signature: SignaturePublic | None = Field(
        default=None, description="The signature manifest: printed name, time, meaning."
    )
    clasi: ClasiPublic | None
    sledai: SledaiPublic | None
    cla_iga: int | None = None
    skindex: SkindexPublic | None = None
    labs: list[LabPublic]


SignatureMeaning = Literal[
    "I am the investigator and I approve the data of this visit as accurate and complete",
    "I have reviewed the data of this visit",
]


class SignRequest(Request):
    """Sign a visit: re-enter the password, state the meaning, quote the version read."""

    version: int = Field(ge=1, le=2_147_483_647)
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    meaning: SignatureMeaning = (
        "I am the investigator and I approve the data of this visit as accurate and complete"
    )


class UnlockRequest(Request):
    """Unlock a signed visit so it can be corrected: the version read and the reason."""

    version: int = Field(ge=1, le=2_147_483_647)
    reason: Reason


class RemoveRequest(Request):
    """Remove a record entered in error: the version read and the reason (kept in the audit
    trail with the whole record)."""

    version: int = Field(ge=1, le=2_147_483_647)
    reason: Reason


class PatientCreate(Request):
    """Screen (and enrol) a patient at one of the user's sites.

    ``screening`` is the protocol's screening record; its eligibility is assessed and stored.
    """

    site_id: int = Field(ge=1, le=2_147_483_647)
    study_code: Code
    screening_date: dt.date
    sex: Sex | None = None
    reproductive_potential: bool | None = None
    irregular_cycles: bool | None = None
    cle_subtype: Annotated[str, Field(max_length=60)] | None = None
    sle: bool | None = None
    diagnosis_date: Annotated[str, Field(max_length=10)] | None = None
    screening: json_object_field = Field(default_factory=dict)


class PatientUpdate(Request):
    """A change to a patient: the version read, the reason, and the changed fields."""

    version: int = Field(ge=1, le=2_147_483_647)
    reason: Reason
    sex: Sex | None = None
    reproductive_potential: bool | None = None
    irregular_cycles: bool | None = None
    cle_subtype: Annotated[str, Field(max_length=60)] | None = None
    sle: bool | None = None
    diagnosis_date: Annotated[str, Field(max_length=10)] | None = None
    first_dose_date: dt.date | None = None


class PatientPublic(BaseModel):
    """A patient (pseudonymous study code; identifying data is never in the API)."""

    id: int
    version: int
    study_id: int
    site_id: int
    study_code: str
    sex: str | None
    reproductive_potential: bool | None
    irregular_cycles: bool | None
    cle_subtype: str | None
    sle: bool | None
    diagnosis_date: str | None
    first_dose_date: dt.date | None
    screening_verdict: str | None = None


class EventCreate(Request):
    """A disposition event (consent withdrawn, pregnancy, thrombosis, ..., completed)."""

    event_type: EventType
    event_date: dt.date
    note: Note | None = None


class EventPublic(BaseModel):
    """A stored disposition event."""

    id: int
    version: int
    patient_id: int
    event_date: dt.date
    event_type: str
    note: str | None


class AuditEntryPublic(BaseModel):
    """One row of a record's audit history (values as JSON text; secrets redacted)."""

    id: int
    occurred_at: dt.datetime
    actor: str
    action: str
    table_name: str
    record_id: int
    field: str | None
    old_value: str | None
    new_value: str | None
    reason: str | None
    record_version: int
