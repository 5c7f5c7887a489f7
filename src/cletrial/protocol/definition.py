"""Load, validate and compile a protocol definition file; publish its JSON Schema.

A protocol definition is a YAML file (JSON is YAML too) holding every number of the protocol:
the dose ladder, review week and thresholds, taper interval, relapse and maintenance rules,
stopping rules, visit and laboratory schedules, windows, and the source of each rule. Bundled
definitions live in :mod:`cletrial.protocols`; ``lenalidomide-cle-2012`` is the default.

Loading validates the file against its schema (unknown keys, types, ranges) and then checks the
file's internal consistency (regimens named exist, the ladder falls in dose intensity, no regimen
exceeds the maximum dose, every rule has a source). Errors name the field path and the value.

>>> protocol = load_protocol()
>>> protocol.id, protocol.regimens[protocol.start].id
('lenalidomide-cle-2012', '5_daily')
>>> load_protocol("no-such-protocol")
Traceback (most recent call last):
...
cletrial.errors.UnknownProtocolError: no protocol 'no-such-protocol': ...
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final

import msgspec
import yaml

from cletrial.errors import ProtocolDefinitionError, UnknownProtocolError
from cletrial.instruments import CTCAE_TERMS
from cletrial.instruments.analytes import unit_factor
from cletrial.protocol._msgspec_errors import locate
from cletrial.protocol.definition_arms import check_arms
from cletrial.protocol.definition_checks import (
    check_ladder,
    check_mappings,
    check_numbers,
    check_rules,
    check_trial,
    fail,
    regimen_ref,
)
from cletrial.protocol.definition_model import (
    CTCAE_TERM_OF_TEST,
    AdverseEventStop,
    EditCheck,
    ProtocolFile,
    Regimen,
    StopEvent,
    model_json_schema,
)
from cletrial.protocol.edit_checks_validation import (
    check_edit_check_entries,
    check_edit_checks,
    describe_edit_checks,
)
from cletrial.protocol.rules import ENGINE_RULES

__all__ = [
    "DEFAULT_PROTOCOL",
    "LabScreen",
    "ProtocolDefinition",
    "list_protocols",
    "load_protocol",
    "protocol_json_schema",
    "resolve_extends",
]

#: The protocol used when none is named.
DEFAULT_PROTOCOL: Final = "lenalidomide-cle-2012"

#: How far ahead scheduled visits are precomputed (weeks); later visits are generated on demand.
_PLAN_AHEAD_WEEKS: Final = 1040


@dataclass(frozen=True, slots=True)
class LabScreen:
    """Fast pre-screen of a CTCAE-graded test for a grade: a value at or above its unit's limit
    cannot reach the grade, so only lower values are graded by
    :func:`cletrial.instruments.grade_lab`. Limits derive from the instruments' CTCAE tables."""

    term: str
    grade: int
    limits: dict[str, float]

    @classmethod
    def of(cls, test: str, grade: int, version: str) -> LabScreen:
        """The screen of ``test`` (a history lab test) for ``grade`` under CTCAE ``version``."""
        spec = CTCAE_TERMS[CTCAE_TERM_OF_TEST[test]]
        bounds = [b for b, g in spec.thresholds[version] if g >= grade]
        bound = (max(bounds) if bounds else math.inf) * (1.0 + 1e-9)  # margin for rounding
        factors = {unit: unit_factor(spec.test, unit) for unit in spec.units}
        return cls(spec.term, grade, {unit: bound / f for unit, f in factors.items()})


@dataclass(frozen=True, slots=True)
class Numbers:
    """The definition's dosing numbers, flattened for the engine's hot path (days, CLASI-A)."""

    cr_max: int
    pr_min: float
    relapse_min: int
    escalate_below: float
    cycle_reference: bool
    review_day: int
    review_window: int
    taper_interval: int
    taper_tolerance: int
    max_age: int
    nonresponse_day: int
    nonresponse_window: int

    @classmethod
    def of(cls, file: ProtocolFile) -> Numbers:
        """Flatten the numbers of ``file``."""
        r, d = file.response, file.dosing
        return cls(
            r.complete_response_max,
            r.partial_response_min_improvement_percent,
            r.relapse_min,
            d.escalation.below_improvement_percent,
            r.reference == "cycle_start",
            d.review.week * 7,
            d.review.window_days,
            d.taper.interval_weeks * 7,
            d.taper.tolerance_days,
            d.assessment_max_age_days,
            d.nonresponse.week * 7,
            d.nonresponse.window_days,
        )


@dataclass(frozen=True, slots=True, weakref_slot=True)
class ProtocolDefinition:
    """A validated protocol definition, compiled for fast use by the engine.

    Regimens are referred to by their index in :attr:`regimens` (0 = highest dose); a larger
    index is a lower dose and :attr:`off` is the last step (no treatment). :attr:`edit_checks`
    are the file's edit check declarations, validated (run them with
    :func:`cletrial.protocol.edit_checks.compile_edit_checks`).
    """

    file: ProtocolFile
    origin: str
    regimen_index: dict[str, int]
    off: int
    start: int
    escalation: int
    restart: int
    taper_last: int
    maintenance_highest: int
    nonresponse: int
    rule_source: dict[str, str]
    rule_enabled: dict[str, bool]
    stop_screens: dict[str, LabScreen]
    stop_lab_limits: dict[str, dict[str, float]]
    alert_screen: LabScreen
    stop_events: dict[str, StopEvent]
    adverse_event_stops: tuple[tuple[AdverseEventStop, frozenset[str]], ...]
    visit_plan: tuple[tuple[int, int, int], ...]
    n: Numbers
    edit_checks: tuple[EditCheck, ...]

    @property
    def id(self) -> str:
        """Protocol id, e.g. ``lenalidomide-cle-2012``."""
        return self.file.id

    @property
    def version(self) -> str:
        """Version of the definition file."""
        return self.file.version

    @property
    def example(self) -> bool:
        """True for a definition that only demonstrates the engine (not for clinical use)."""
        return self.file.example

    @property
    def regimens(self) -> list[Regimen]:
        """The dose ladder, highest first; the last step is no treatment."""
        return self.file.regimens

    def enabled(self, rule: str) -> bool:
        """Return whether ``rule`` is switched on in this definition."""
        return self.rule_enabled.get(rule, False)


def _stop_limits(screens: dict[str, LabScreen]) -> dict[str, dict[str, float]]:
    """Test -> unit -> limit for every history test (plain dicts: the fastest lookups); a test
    that is not screened has a limit no value is below."""
    from cletrial.protocol.history_model import LAB_UNITS

    unscreened = dict.fromkeys(set().union(*LAB_UNITS.values()), -1.0)
    return {test: screens[test].limits if test in screens else unscreened for test in LAB_UNITS}


def _stop_screens(file: ProtocolFile) -> dict[str, LabScreen]:
    myelo, version = file.safety.myelosuppression, file.safety.ctcae_version
    return {test: LabScreen.of(test, myelo.stop_grade, version) for test in myelo.tests}


def _visit_plan(file: ProtocolFile) -> tuple[tuple[int, int, int], ...]:
    plan = [(0, 0, 0)]
    week = 0
    for phase in file.monitoring.visits:
        until = phase.until_week if phase.until_week is not None else _PLAN_AHEAD_WEEKS
        while week + phase.every_weeks <= until:
            week += phase.every_weeks
            plan.append((week, week * 7, phase.window_days))
    return tuple(plan)


def compile_protocol(file: ProtocolFile, origin: str) -> ProtocolDefinition:
    """Check a decoded definition's consistency and compile it.

    Raises
    ------
    ProtocolDefinitionError
        Naming the field path and value that is inconsistent.
    """
    index = check_ladder(file, origin)
    refs = {
        name: regimen_ref(file, index, origin, path)
        for name, path in {
            "start": "dosing.start_regimen",
            "escalation": "dosing.escalation.regimen",
            "restart": "dosing.relapse.restart_regimen",
            "taper_last": "dosing.taper.last_regimen",
            "maintenance_highest": "dosing.maintenance.highest_regimen",
            "nonresponse": "dosing.nonresponse.regimen",
        }.items()
    }
    if refs["escalation"] > refs["start"]:
        raise fail(
            origin,
            "dosing.escalation.regimen",
            file.dosing.escalation.regimen,
            "must not be below the start regimen",
        )
    if refs["taper_last"] < refs["start"]:
        raise fail(
            origin,
            "dosing.taper.last_regimen",
            file.dosing.taper.last_regimen,
            "must not be above the start regimen",
        )
    check_numbers(file, origin)
    check_rules(file, origin)
    check_arms(file, origin)
    check_edit_checks(file, origin)
    check_trial(file, origin)
    return ProtocolDefinition(
        file=file,
        origin=origin,
        regimen_index=index,
        off=len(file.regimens) - 1,
        rule_source={rule: s.source for rule, s in file.rules.items()},
        rule_enabled={rule: s.enabled for rule, s in file.rules.items()},
        stop_screens=(screens := _stop_screens(file)),
        stop_lab_limits=_stop_limits(screens),
        alert_screen=LabScreen.of(
            file.safety.neutropenia_alert.test,
            file.safety.neutropenia_alert.grade,
            file.safety.ctcae_version,
        ),
        stop_events={str(kind): stop for kind, stop in file.safety.stop_events.items()},
        adverse_event_stops=tuple(
            (stop, frozenset(t.casefold() for t in stop.terms))
            for stop in file.safety.adverse_event_stops
        ),
        visit_plan=_visit_plan(file),
        n=Numbers.of(file),
        edit_checks=tuple(file.edit_checks),
        **refs,
    )


def parse_protocol(document: Any, origin: str = "<protocol>") -> ProtocolDefinition:
    """Validate and compile a protocol definition given as a decoded document (a mapping).

    >>> parse_protocol({"format": "cletrial-protocol/1"})
    Traceback (most recent call last):
    ...
    cletrial.errors.ProtocolDefinitionError: <protocol>: id = null: is required
    """
    if not isinstance(document, dict):
        raise ProtocolDefinitionError(f"{origin}: a protocol definition must be a mapping")
    document = resolve_extends(document, origin)
    check_mappings(document, origin)
    check_edit_check_entries(document, origin)
    try:
        file = msgspec.convert(document, ProtocolFile)
    except msgspec.ValidationError as exc:
        path, value, problem = locate(exc, document)
        raise fail(origin, path, value, problem) from None
    return compile_protocol(file, origin)


def _merge(base: Any, override: Any) -> Any:
    """``override`` laid over ``base``: mappings merge key by key, anything else replaces."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return override


def resolve_extends(document: dict[str, Any], origin: str, depth: int = 0) -> dict[str, Any]:
    """The document with its ``extends`` (a bundled protocol id) resolved: the base's document
    with this one laid over it (mappings merged key by key; lists and values replaced).

    >>> doc = resolve_extends({"extends": "lenalidomide-cle-2012", "id": "x",
    ...                        "response": {"relapse_min": 5}}, "x.yaml")
    >>> doc["id"], doc["response"]["relapse_min"], doc["response"]["complete_response_max"]
    ('x', 5, 0)
    >>> resolve_extends({"extends": "nothing"}, "x.yaml")
    Traceback (most recent call last):
    ...
    cletrial.errors.ProtocolDefinitionError: x.yaml: extends = "nothing": must be a bundled ...
    """
    if "extends" not in document:
        return document
    base_id = document["extends"]
    if not isinstance(base_id, str) or base_id not in list_protocols():
        problem = "must be a bundled protocol id: " + ", ".join(list_protocols())
        raise fail(origin, "extends", base_id, problem)
    if depth >= 3:
        raise fail(origin, "extends", base_id, "extends a protocol 3 levels deep or in a cycle")
    text, base_origin = _read(base_id)
    base = resolve_extends(yaml.safe_load(text), base_origin, depth + 1)
    return dict(_merge(base, {k: v for k, v in document.items() if k != "extends"}))


def list_protocols() -> list[str]:
    """Return the ids of the bundled protocol definitions.

    >>> "lenalidomide-cle-2012" in list_protocols()
    True
    """
    folder = resources.files("cletrial.protocols")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _read(id_or_path: str) -> tuple[str, str]:
    looks_like_path = any(c in id_or_path for c in "/\\") or id_or_path.endswith(
        (".yaml", ".yml", ".json")
    )
    if looks_like_path:
        path = Path(id_or_path)
        try:
            return path.read_text(encoding="utf-8"), path.name
        except OSError as exc:
            raise UnknownProtocolError(
                f"no protocol file {id_or_path!r}: {exc.strerror or exc}"
            ) from None
    if id_or_path in list_protocols():
        text = (
            resources.files("cletrial.protocols")
            .joinpath(f"{id_or_path}.yaml")
            .read_text(encoding="utf-8")
        )
        return text, f"{id_or_path}.yaml"
    raise UnknownProtocolError(
        f"no protocol {id_or_path!r}: bundled protocols are {', '.join(list_protocols())}; "
        "or give the path of a definition file"
    )


def load_protocol(id_or_path: str | None = None) -> ProtocolDefinition:
    """Load a protocol definition by bundled id or by file path, validated and compiled.

    Parameters
    ----------
    id_or_path : str, optional
        A bundled id (see :func:`list_protocols`) or the path of a YAML/JSON definition file.
        Default ``lenalidomide-cle-2012``.

    Raises
    ------
    UnknownProtocolError
        No bundled protocol with that id and no readable file at that path.
    ProtocolDefinitionError
        The file does not validate; the message names the field path and value.

    >>> load_protocol("lenalidomide-cle-2012").file.maximum_dose_mg
    10.0
    """
    text, origin = _read(id_or_path or DEFAULT_PROTOCOL)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProtocolDefinitionError(f"{origin}: not valid YAML ({exc})") from None
    return parse_protocol(document, origin)


def protocol_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of a protocol definition file.

    >>> schema = protocol_json_schema()
    >>> "REVIEW-ESCALATE" in schema["$defs"]["ProtocolFile"]["properties"]["rules"]["required"]
    True
    >>> schema["$defs"]["DoseStepCheck"]["properties"]["form"]["enum"]
    ['doses']
    """
    schema: dict[str, Any] = dict(model_json_schema())
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "cletrial protocol definition"
    schema["description"] = (
        "A versioned protocol definition: dose ladder (highest first, the last step is no "
        "treatment), response review, taper, relapse and maintenance rules, stopping rules, "
        "visit and laboratory schedules with windows, eligibility numbers, and the source "
        "(protocol, label or default) of every rule. Regimen ids referenced must exist."
    )
    rules = schema["$defs"]["ProtocolFile"]["properties"]["rules"]
    rules["required"] = sorted(ENGINE_RULES)
    rules["propertyNames"] = {"pattern": "^[A-Z][A-Z0-9-]*$"}
    describe_edit_checks(schema["$defs"])
    top = schema["$defs"]["ProtocolFile"]
    top["properties"]["extends"] = {
        "type": "string",
        "description": "A bundled protocol id this file is laid over: mappings merge key by "
        "key, lists and values replace; the merged document must validate.",
    }
    top["anyOf"] = [{"required": ["extends"]}, {"required": top.pop("required")}]
    schema["$defs"]["ProtocolFile"]["properties"]["edit_checks"]["description"] = (
        "Edit checks: declared rules that find suspicious data in a patient's records so that "
        "a query can be opened (docs/edit-checks.md). Ids must be unique; the columns named "
        "must exist in the form."
    )
    return schema
