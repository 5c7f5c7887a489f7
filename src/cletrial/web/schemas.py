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
