"""Request and response bodies of the REST API (Pydantic), one family per resource.

Families follow the pattern ``<Resource>Create`` (POST body), ``<Resource>Update`` (PATCH/PUT
body, carries the record ``version`` and the ``reason`` for change) and ``<Resource>Public``
(response). Clinical forms (CLASI, SLEDAI-2K, screening, history) are validated by the core
packages, which name the field path of any error; here they are typed as JSON objects whose
OpenAPI schema is the instrument's own (see :mod:`cletrial.web.openapi`).

Request bodies forbid unknown fields: a misspelt field is an error, never silently dropped.

>>> LabGradeRequest(test="neutrophils", value=1190, unit="/mm3").test
'neutrophils'
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

from cletrial.instruments.cla_iga import CLA_IGA_GRADES
from cletrial.instruments.clasi import CLASI_ACTIVITY_MAX, CLASI_DAMAGE_MAX, Severity
from cletrial.instruments.ctcae import CtcaeVersion
from cletrial.instruments.skindex import skindex_json_schema
from cletrial.instruments.sledai import SLEDAI_MAX
from cletrial.protocol.definition_model import CTCAE_TERM_OF_TEST
from cletrial.values import CODE_MAX_LENGTH, CODE_PATTERN, problem_date, problem_text
from cletrial.vocabulary.types import (
    AeOutcome,
    Causality,
    EventType,
    SeriousCriterion,
    Sex,
    VisitKind,
)
from cletrial.vocabulary.types import LabTest as AnyLabTest

__all__ = [
    "BsaPublic",
    "BsaRequest",
    "ClasiScorePublic",
    "ErrorPublic",
    "FieldErrorPublic",
    "LabGradePublic",
    "LabGradeRequest",
    "LoginPublic",
    "LoginRequest",
    "RecommendationRequest",
    "SledaiScorePublic",
    "UserPublic",
    "check_request_value",
    "clasi_form_field",
    "json_object_field",
    "sledai_form_field",
]


def check_request_value(value: Any) -> Any:
    """The one rule of each kind (:mod:`cletrial.values`) on a request value, nested values too:
    dates from 1900-01-01 to 2199-12-31, texts without control characters (but tab, newline,
    CR). Raises a Pydantic error whose message is the problem (a 422 naming the field).

    >>> check_request_value({"notes": ["ok", "bad\\x00"]})
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.PydanticCustomError: must not contain control characters ...
    """
    problem = None
    if isinstance(value, str):
        problem = problem_text(value)
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        problem = problem_date(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_request_value(key)
            check_request_value(item)
    elif isinstance(value, list | tuple):
        for item in value:
            check_request_value(item)
    if problem is not None:
        raise PydanticCustomError("value_rule", problem)
    return value


class Request(BaseModel):
    """Base of request bodies: unknown fields are refused, and every value keeps the one rule
    of its kind (:func:`check_request_value`)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _value_rules(cls, value: Any) -> Any:
        return check_request_value(value)


def _ref(name: str) -> Any:
    return WithJsonSchema({"$ref": f"#/components/schemas/{name}"})


#: A CLASI form (JSON object); schema ``ClasiForm`` (``cletrial.instruments.clasi_json_schema``).
clasi_form_field = Annotated[dict[str, Any], _ref("ClasiForm")]
#: A SLEDAI-2K form (descriptor -> bool); schema ``SledaiForm``.
sledai_form_field = Annotated[dict[str, Any], _ref("SledaiForm")]
#: A Skindex-29+3 form: item number (1-33) -> response 1-5 or null (item numbers only).
skindex_form_field = Annotated[dict[str, Any], WithJsonSchema(skindex_json_schema())]
#: A CLA-IGA grade 0-4 (validated by :func:`cletrial.instruments.validate_cla_iga`, so a bad
#: value is refused naming ``cla_iga`` and the value); null = not assessed.
cla_iga_field = Annotated[
    Any, WithJsonSchema({"anyOf": [{"type": "integer", "enum": list(CLA_IGA_GRADES)},
                                   {"type": "null"}]})
]  # fmt: skip
#: Any JSON object validated by the core (screening record, patient history).
json_object_field = Annotated[dict[str, Any], WithJsonSchema({"type": "object"})]

if TYPE_CHECKING:
    LabTest = str
else:  # the tests NCI CTCAE grades (counts and haemoglobin)
    LabTest = Literal[tuple(CTCAE_TERM_OF_TEST)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
#: A study, site or patient code (:func:`cletrial.values.problem_code`).
Code = Annotated[str, Field(min_length=1, max_length=CODE_MAX_LENGTH, pattern=CODE_PATTERN)]


# ----------------------------------------------------------------------------- errors


class FieldErrorPublic(BaseModel):
    """One invalid field: its dotted path, the value given and what is allowed."""

    field: str
    value: Any = None
    message: str


class ErrorPublic(BaseModel):
    """Every error response: a machine code, a readable message, and details when known.

    ``error`` is one of ``invalid``, ``unauthenticated``, ``csrf``, ``forbidden``, ``not_found``,
    ``conflict``, ``locked``, ``reason_required``, ``locked_out``, ``signature_refused``,
    ``server``.
    """

    error: str
    message: str
    field: str | None = None
    value: Any = None
    errors: list[FieldErrorPublic] = Field(default_factory=list)
    expected_version: int | None = None
    actual_version: int | None = None
    changed: dict[str, Any] = Field(default_factory=dict)


# ----------------------------------------------------------------------------- scoring


class ClasiScorePublic(BaseModel):
    """CLASI activity (0-70) and damage (0-56), severity band of the activity, worst erythema."""

    activity: int = Field(ge=0, le=CLASI_ACTIVITY_MAX)
    damage: int = Field(ge=0, le=CLASI_DAMAGE_MAX)
    activity_severity: Severity
    max_erythema: int = Field(ge=0, le=3)


class SledaiScorePublic(BaseModel):
    """SLEDAI-2K total (0-105) and the descriptors that scored, with their weights."""

    score: int = Field(ge=0, le=SLEDAI_MAX)
    scored: dict[str, int]


class LabGradeRequest(Request):
    """A laboratory value to grade under NCI CTCAE.

    ``unit``: counts ``10^9/L``, ``x10^9/L``, ``10^3/uL``, ``/mm3``, ``/uL``; haemoglobin
    ``g/dL``, ``g/L``, ``mmol/L``. ``lln`` is the laboratory's lower limit of normal in the same
    unit; without it the default is used and reported.
    """

    test: LabTest
    value: float = Field(ge=0, allow_inf_nan=False)
    unit: str = Field(min_length=1, max_length=12)
    lln: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    ctcae_version: CtcaeVersion = "5.0"


class LabGradePublic(BaseModel):
    """A CTCAE grade and what it was computed from (value and LLN in the given unit)."""

    test: LabTest
    term: str
    grade: int = Field(ge=0, le=4)
    ctcae_version: str
    value: float
    unit: str
    lln_used: float
    lln_source: Literal["given", "default"]
    note: str = ""


class BsaRequest(Request):
    """Fraction (0-1) of each rule-of-nines area involved; omitted areas are not involved."""

    involvement: dict[str, Annotated[float, Field(allow_inf_nan=False)]] = Field(max_length=20)


class BsaPublic(BaseModel):
    """Percent of body surface area involved (adult rule of nines)."""

    percent: float = Field(ge=0, le=100)


class RecommendationRequest(Request):
    """A patient history (``docs/formats.md``) and the date the recommendation is for."""

    history: json_object_field
    on: dt.date | None = None


# ----------------------------------------------------------------------------- accounts


class LoginRequest(Request):
    """User name and password."""

    username: Annotated[str, Field(min_length=1, max_length=80)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class UserPublic(BaseModel):
    """A user as others may see them (never the password hash)."""

    id: int
    username: str
    display_name: str
    role: str
    active: bool
    site_ids: list[int]
    permissions: list[str]
    version: int


class LoginPublic(BaseModel):
    """A new session: send ``token`` as ``Authorization: Bearer`` (API clients) or keep the
    cookie (browsers; then repeat ``csrf_token`` in ``X-CSRF-Token`` on unsafe requests)."""

    token: str
    csrf_token: str
    idle_timeout_s: int
    absolute_timeout_s: int
    user: UserPublic


# ----------------------------------------------------------------------------- clinical

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
