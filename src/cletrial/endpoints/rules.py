"""Endpoint definitions as data: thresholds, windows and the sources of every derived value.

The rules follow the protocol specification, section 5 (Cortés-Hernández J et al., Arthritis Res
Ther 2012;14:R265, NCT01408199). The numbers the protocol definition file states (regimen ladder,
start regimen, complete-response maximum, partial-response improvement, relapse threshold,
maintenance after N relapses) are read from it by :meth:`EndpointRules.from_protocol`; they have no
second copy here. Settings stated only for the endpoints (the week-12 window, flare definitions,
damage and laboratory windows) are documented defaults, fields of :class:`EndpointRules`, so a
study can change them without touching code. :data:`DEFAULT_RULES` are the rules of the bundled
default protocol (``lenalidomide-cle-2012``).

Time is counted in days from the first dose (day 0); weeks are days / 7. A *significant* CLASI-A
visit is a post-baseline assessment that shows complete response (CLASI-A = 0) or a relapse-level
score (CLASI-A >= 4); scores of 1-3 neither start nor end a remission.

Like pharmaverse admiral's event sources, each time-to-event and response parameter names the
record and the variable it is taken from (:class:`EventSource`), and each derived subject-level
value carries ``*_srcdom`` / ``*_srcseq`` columns pointing at the record it came from (``SRCSEQ``
is the 1-based position of the record in the patient history's array).

>>> DEFAULT_RULES.relapse_threshold
4
>>> DEFAULT_RULES.rank("5_alternate") < DEFAULT_RULES.rank("5_daily")
True
>>> from cletrial.protocol.definition import load_protocol
>>> thalidomide = EndpointRules.from_protocol(load_protocol("thalidomide-cle-example"))
>>> thalidomide.relapse_threshold, thalidomide.pr_min_improvement, thalidomide.ladder[-1]
(5, 0.6, '100_daily')
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from cletrial.errors import InputError
from cletrial.protocol.definition import ProtocolDefinition, load_protocol
from cletrial.protocol.definition_model import EVENT_TYPES as HISTORY_EVENT_TYPES
from cletrial.protocol.definition_model import ProtocolFile
from cletrial.vocabulary import AE_CAUSALITY

__all__ = [
    "ADRS_PARAMETERS",
    "ADTTE_PARAMETERS",
    "CAUSALITY_TERMS",
    "DEFAULT_RULES",
    "EVENT_TYPES",
    "IMMUNOLOGY_TESTS",
    "RELATED_CAUSALITIES",
    "RESPONSE_CODES",
    "EndpointRules",
    "EventSource",
    "FlareRule",
    "ResponseParameter",
    "TimeToEventParameter",
]

#: Best-response codes: complete, partial, no response, withdrawn before the first efficacy
#: assessment, not evaluable (missing data, not treated, or assessment not yet due).
RESPONSE_CODES: tuple[str, ...] = ("CR", "PR", "NR", "WITHDRAWN", "NE")

#: Disposition events of the patient history format; each one ends treatment.
EVENT_TYPES: tuple[str, ...] = HISTORY_EVENT_TYPES

#: Causality terms accepted for adverse events (WHO-UMC style, lowest to highest).
CAUSALITY_TERMS: tuple[str, ...] = AE_CAUSALITY.values
#: Causality terms counted as related to the study drug by default: possible and above.
RELATED_CAUSALITIES: tuple[str, ...] = CAUSALITY_TERMS[CAUSALITY_TERMS.index("possible") :]

#: Immunology tests compared at baseline and end of treatment (anti-dsDNA IU/ml; C3, C4 mg/dL).
IMMUNOLOGY_TESTS: tuple[str, ...] = ("anti_dsdna", "c3", "c4")


@dataclass(frozen=True)
class FlareRule:
    """A SLEDAI-2K flare definition.

    Parameters
    ----------
    name : str
        Short name used in column names (``paper``, ``selena``).
    reference : {"baseline", "previous"}
        What the visit's score is compared with: the baseline score, or the previous assessed
        score (baseline for the first visit).
    mild_min_increase : int
        Smallest increase (points) that is a mild (or mild/moderate) flare.
    mild_max_score : int or None
        A mild flare also needs the visit's score to be at most this (SELENA: 12); None: no cap.
    severe_min_increase : int or None
        Smallest increase that is a severe flare (the paper: 13, i.e. an increase > 12).
    severe_above_score : int or None
        A severe flare when the score rises from at most this to above it (SELENA: 12).

    >>> DEFAULT_RULES.flare_rules[0].mild_min_increase
    4
    """

    name: str
    reference: Literal["baseline", "previous"]
    mild_min_increase: int
    mild_max_score: int | None = None
    severe_min_increase: int | None = None
    severe_above_score: int | None = None


#: The paper: mild = increase > 3, severe = increase > 12, both against baseline.
PAPER_FLARE = FlareRule("paper", "baseline", mild_min_increase=4, severe_min_increase=13)
#: SELENA flare index: mild/moderate = increase >= 3 to a score not above 12; severe = the score
#: rising above 12; compared with the previous assessment, as the index is defined.
SELENA_FLARE = FlareRule(
    "selena", "previous", mild_min_increase=3, mild_max_score=12, severe_above_score=12
)


@dataclass(frozen=True, kw_only=True)
class EndpointRules:
    """Every threshold and window the derivations use.

    The first six parameters come from the protocol definition (:meth:`from_protocol`) and have
    no default; the others default to the protocol specification, section 5.

    Parameters
    ----------
    ladder : tuple of str
        Regimen ids from lowest (no treatment, e.g. ``off``) to highest (the protocol file's
        ``regimens`` reversed); a dose reduction is a move down the ladder.
    start_regimen : str
        The regimen a (new) cycle starts on; a restart after relapse at or above it is a new
        cycle, an increase that stays below it is long-term maintenance.
    maintenance_after_relapses : int
        From this relapse on (``dosing.maintenance.after_relapses``), any dose increase after
        a relapse is long-term maintenance rather than a new cycle (the protocol holds a step
        above the relapse step, at most its maintenance ceiling).
    cr_max_activity : int
        Complete response: CLASI-A at most this (``response.complete_response_max``).
    pr_min_improvement : float
        Partial response: improvement of CLASI-A from baseline of at least this fraction
        (``response.partial_response_min_improvement_percent`` / 100).
    response_day : int
        The week-12 assessment, in days (84).
    response_window_days : int
        Window around ``response_day`` (+/-7 days, the monthly visit window); PR counts up to
        ``response_day + response_window_days``.
    relapse_threshold : int
        Relapse: a new CLASI-A at least this (``response.relapse_min``) after CR, after a dose
        reduction.
    sustained_remission_min_days : int
        Sustained remission after withdrawal needs CLASI-A follow-up of at least this many days
        after the final withdrawal without relapse (84 = 12 weeks); shorter follow-up gives an
        undetermined (missing) value.
    damage_day, damage_window_days : int
        The 12-month CLASI-D assessment: the visit closest to ``damage_day`` (365) within the
        window (+/-45 days, so that the week-48 quarterly visit qualifies).
    lab_baseline_window_days : int
        Baseline laboratory value: the latest at or before day 0, at most this many days before.
    lab_end_window_days : int
        End-of-treatment laboratory value: the latest after day 0 and at most this many days after
        the final withdrawal (any time for patients still on treatment).
    related_causalities : tuple of str
        Causality terms counted as related to lenalidomide.
    flare_rules : tuple of FlareRule
        SLEDAI-2K flare definitions derived side by side.

    >>> DEFAULT_RULES.start_regimen, DEFAULT_RULES.maintenance_after_relapses
    ('5_daily', 2)
    """

    ladder: tuple[str, ...]
    start_regimen: str
    maintenance_after_relapses: int
    cr_max_activity: int
    pr_min_improvement: float
    relapse_threshold: int
    response_day: int = 84
    response_window_days: int = 7
    sustained_remission_min_days: int = 84
    damage_day: int = 365
    damage_window_days: int = 45
    lab_baseline_window_days: int = 30
    lab_end_window_days: int = 30
    related_causalities: tuple[str, ...] = RELATED_CAUSALITIES
    flare_rules: tuple[FlareRule, ...] = field(default=(PAPER_FLARE, SELENA_FLARE))

    def __post_init__(self) -> None:
        if len(set(self.ladder)) != len(self.ladder) or not self.ladder:
            raise InputError("ladder", list(self.ladder), "must be distinct regimen ids")
        if self.start_regimen not in self.ladder:
            raise InputError("start_regimen", self.start_regimen, "must be a ladder step")
        if self.maintenance_after_relapses < 1:
            raise InputError(
                "maintenance_after_relapses", self.maintenance_after_relapses, "must be >= 1"
            )
        if not 0 < self.pr_min_improvement <= 1:
            raise InputError("pr_min_improvement", self.pr_min_improvement, "must be in (0, 1]")
        if self.relapse_threshold <= self.cr_max_activity:
            raise InputError(
                "relapse_threshold", self.relapse_threshold, "must exceed cr_max_activity"
            )
        for name in ("response_window_days", "damage_window_days", "lab_end_window_days"):
            if getattr(self, name) < 0:
                raise InputError(name, getattr(self, name), "must be >= 0")
        unknown = set(self.related_causalities) - set(CAUSALITY_TERMS)
        if unknown:
            raise InputError(
                "related_causalities", sorted(unknown), f"must be among {list(CAUSALITY_TERMS)}"
            )

    def rank(self, regimen: str) -> int:
        """Return the ladder position of ``regimen`` (0 = off).

        >>> DEFAULT_RULES.rank("10_daily")
        5
        """
        try:
            return self.ladder.index(regimen)
        except ValueError:
            raise InputError("regimen", regimen, f"must be one of {list(self.ladder)}") from None

    @property
    def start_rank(self) -> int:
        """Ladder position of the start regimen.

        >>> DEFAULT_RULES.start_rank
        4
        """
        return self.rank(self.start_regimen)

    @classmethod
    def from_protocol(cls, definition: ProtocolDefinition, **overrides: Any) -> EndpointRules:
        """The rules of a protocol definition, with endpoint-only settings as documented defaults.

        Parameters
        ----------
        definition : ProtocolDefinition
            The protocol whose ladder, start regimen, response thresholds and maintenance rule
            apply (:func:`cletrial.protocol.definition.load_protocol`).
        **overrides
            Any other field of :class:`EndpointRules` (e.g. ``response_day``).

        >>> from cletrial.protocol.definition import load_protocol
        >>> rules = EndpointRules.from_protocol(load_protocol(), response_day=90)
        >>> rules.ladder[:2], rules.relapse_threshold, rules.response_day
        (('off', '5_twice_weekly'), 4, 90)
        """
        return cls.from_protocol_file(definition.file, **overrides)

    @classmethod
    def from_protocol_file(cls, file: ProtocolFile, **overrides: Any) -> EndpointRules:
        """The rules of a protocol definition file (``ProtocolDefinition.file``), as
        :meth:`from_protocol`.

        >>> from cletrial.protocol.definition import load_protocol
        >>> EndpointRules.from_protocol_file(load_protocol().file).cr_max_activity
        0
        """
        response, dosing = file.response, file.dosing
        return cls(
            ladder=tuple(regimen.id for regimen in reversed(file.regimens)),
            start_regimen=dosing.start_regimen,
            maintenance_after_relapses=dosing.maintenance.after_relapses,
            cr_max_activity=response.complete_response_max,
            pr_min_improvement=response.partial_response_min_improvement_percent / 100.0,
            relapse_threshold=response.relapse_min,
            **overrides,
        )

    @classmethod
    def from_mapping(
        cls, settings: Mapping[str, Any], base: EndpointRules | None = None
    ) -> EndpointRules:
        """Apply a mapping of overrides to ``base`` (default :data:`DEFAULT_RULES`).

        Unknown keys are an error; ``flare_rules`` is a list of mappings of
        :class:`FlareRule` fields.

        >>> EndpointRules.from_mapping({"relapse_threshold": 5}).relapse_threshold
        5
        """
        names = {f.name for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, value in settings.items():
            if key not in names:
                raise InputError(f"endpoints.{key}", value, f"must be one of {sorted(names)}")
            if key == "flare_rules":
                value = tuple(FlareRule(**dict(item)) for item in value)
            elif isinstance(value, list):
                value = tuple(value)
            values[key] = value
        return dataclasses.replace(base if base is not None else DEFAULT_RULES, **values)


#: The rules of the bundled default protocol (``lenalidomide-cle-2012``).
DEFAULT_RULES = EndpointRules.from_protocol(load_protocol())


@dataclass(frozen=True)
class EventSource:
    """Where a derived event or censoring time comes from (admiral's event_source).

    Parameters
    ----------
    dataset : str
        The history array (``assessments``, ``doses``, ``events``, ``labs``) or ``baseline``.
    variable : str
        The variable within the record, e.g. ``clasi.activity``.
    condition : str
        The rule in words, shown in documentation and reports.

    >>> EventSource("assessments", "clasi.activity", "CLASI-A = 0").dataset
    'assessments'
    """

    dataset: str
    variable: str
    condition: str


@dataclass(frozen=True)
class TimeToEventParameter:
    """An ADTTE parameter: which subject-level columns give origin, event and censoring.

    ``origin_day``, ``event_day`` and ``censor_day`` name columns of the subject-level endpoint
    table (days from first dose); ``population`` names a boolean column selecting the patients
    at risk. The event's and the censoring's source record are ``<column>`` with ``_srcseq``
    replacing ``_day``.

    >>> ADTTE_PARAMETERS[0].paramcd
    'TTCR'
    """

    paramcd: str
    param: str
    population: str
    origin_day: str
    event_day: str
    censor_day: str
    event: EventSource
    censor: EventSource


ADTTE_PARAMETERS: tuple[TimeToEventParameter, ...] = (
    TimeToEventParameter(
        paramcd="TTCR",
        param="Time to complete response (weeks)",
        population="treated",
        origin_day="origin_day",
        event_day="cr_day",
        censor_day="last_assessment_day",
        event=EventSource("assessments", "clasi.activity", "first post-baseline CLASI-A = 0"),
        censor=EventSource(
            "assessments", "clasi.activity", "last post-baseline CLASI-A assessment (day 0 if none)"
        ),
    ),
    TimeToEventParameter(
        paramcd="RFS",
        param="Relapse-free time from first complete response (weeks)",
        population="cr_flag",
        origin_day="cr_day",
        event_day="first_relapse_day",
        censor_day="last_assessment_day",
        event=EventSource(
            "assessments", "clasi.activity", "first CLASI-A >= 4 after CR and a dose reduction"
        ),
        censor=EventSource("assessments", "clasi.activity", "last CLASI-A assessment"),
    ),
)


@dataclass(frozen=True)
class ResponseParameter:
    """An ADRS parameter: a code column, a day column and its source.

    >>> ADRS_PARAMETERS[0].paramcd
    'BESTRSP'
    """

    paramcd: str
    param: str
    value_column: str
    day_column: str
    source: EventSource


ADRS_PARAMETERS: tuple[ResponseParameter, ...] = (
    ResponseParameter(
        "BESTRSP",
        "Best overall CLASI response",
        "best_response",
        "best_response_day",
        EventSource("assessments", "clasi.activity", "CR > PR > NR; WITHDRAWN; NE when missing"),
    ),
    ResponseParameter(
        "CR",
        "Complete response (CLASI-A = 0)",
        "cr_flag",
        "cr_day",
        EventSource("assessments", "clasi.activity", "first post-baseline CLASI-A = 0"),
    ),
    ResponseParameter(
        "RESPWK12",
        "CLASI-A improvement at week 12 (%)",
        "improvement_wk12_pct",
        "wk12_day",
        EventSource("assessments", "clasi.activity", "visit closest to day 84 within +/-7 days"),
    ),
)
