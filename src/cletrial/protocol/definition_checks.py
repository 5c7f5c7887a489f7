"""Consistency checks of a protocol definition, beyond its schema: regimens referenced exist, the
ladder falls in weekly dose and stays under the maximum, numbers agree with each other, every
rule the engine uses has a source. Errors name the file, the field path and the value.

>>> fail("x.yaml", "dosing.taper.interval_weeks", 0, "must be >= 1")
ProtocolDefinitionError('x.yaml: dosing.taper.interval_weeks = 0: must be >= 1')
"""

from __future__ import annotations

import math
from typing import Any, Final

import msgspec

from cletrial.errors import ProtocolDefinitionError
from cletrial.instruments import CTCAE_TERMS
from cletrial.protocol._msgspec_errors import locate
from cletrial.protocol.definition_model import (
    CTCAE_TERM_OF_TEST,
    LabLimit,
    ProtocolFile,
    RuleSetting,
    StopEvent,
)
from cletrial.protocol.definition_trial import find_summary_problem
from cletrial.protocol.rules import ENGINE_RULES, is_switchable

__all__ = [
    "MAPPINGS",
    "check_ladder",
    "check_mappings",
    "check_numbers",
    "check_phases",
    "check_rules",
    "check_trial",
    "fail",
    "regimen_ref",
]


def fail(origin: str, path: str, value: Any, problem: str) -> ProtocolDefinitionError:
    """A ProtocolDefinitionError naming the file, the field path and the value."""
    shown = msgspec.json.encode(value).decode() if value is not None else "null"
    return ProtocolDefinitionError(f"{origin}: {path} = {shown}: {problem}")


def regimen_ref(file: ProtocolFile, index: dict[str, int], origin: str, path: str) -> int:
    """The ladder index of the regimen id found at ``path`` (dotted) in ``file``."""
    node: Any = file
    for part in path.split("."):
        node = getattr(node, part)
    if node not in index:
        raise fail(origin, path, node, "must be a regimen id: " + ", ".join(index))
    return index[node]


def check_ladder(file: ProtocolFile, origin: str) -> dict[str, int]:
    """Check the ladder (unique ids, falling weekly dose, the last step no treatment, nothing
    above the maximum) and return regimen id -> ladder index."""
    index: dict[str, int] = {}
    last_intensity = math.inf
    last = len(file.regimens) - 1
    for i, regimen in enumerate(file.regimens):
        where = f"regimens[{i}]"
        if regimen.id in index:
            raise fail(origin, f"{where}.id", regimen.id, "regimen ids must be unique")
        index[regimen.id] = i
        if regimen.dose_mg > file.maximum_dose_mg:
            raise fail(
                origin,
                f"{where}.dose_mg",
                regimen.dose_mg,
                f"exceeds maximum_dose_mg {file.maximum_dose_mg}",
            )
        intensity = regimen.dose_mg * regimen.administrations_per_week
        if i == last and regimen.dose_mg != 0:
            raise fail(
                origin,
                f"{where}.dose_mg",
                regimen.dose_mg,
                "the last step of the ladder must be no treatment (dose 0)",
            )
        if i < last and intensity <= 0:
            raise fail(
                origin,
                f"{where}.dose_mg",
                regimen.dose_mg,
                "only the last step of the ladder may be no treatment",
            )
        if intensity >= last_intensity:
            raise fail(
                origin,
                f"{where}.id",
                regimen.id,
                "regimens must be listed from the highest weekly dose to the lowest",
            )
        last_intensity = intensity
    return index


def check_phases(origin: str, path: str, phases: list[Any]) -> None:
    """Check that monitoring phases end in increasing weeks and only the last is open."""
    previous = 0
    for i, phase in enumerate(phases):
        until = phase.until_week
        if until is None and i != len(phases) - 1:
            raise fail(origin, f"{path}[{i}].until_week", None, "only the last phase may be open")
        if until is not None and until <= previous:
            raise fail(
                origin,
                f"{path}[{i}].until_week",
                until,
                f"must be after the previous phase's end (week {previous})",
            )
        previous = until or previous
    if phases[-1].until_week is not None:
        raise fail(
            origin,
            f"{path}[{len(phases) - 1}].until_week",
            phases[-1].until_week,
            "the last phase must be open (null)",
        )


def check_rules(file: ProtocolFile, origin: str) -> None:
    """Check that every rule the engine uses has a source, none is unknown, and only
    switchable rules are switched off."""
    referenced = {event.rule for event in file.safety.stop_events.values()}
    referenced |= {stop.rule for stop in file.safety.adverse_event_stops}
    referenced.add(file.safety.positive_pregnancy_test.rule)
    for rule in [*ENGINE_RULES, *sorted(referenced)]:
        if rule not in file.rules:
            raise fail(origin, f"rules.{rule}", None, "every rule the engine uses needs a source")
    for rule, setting in file.rules.items():
        if rule not in ENGINE_RULES and rule not in referenced:
            raise fail(origin, f"rules.{rule}", None, "unknown rule: not used by the engine")
        if not setting.enabled and not is_switchable(rule, setting.source):
            raise fail(
                origin,
                f"rules.{rule}.enabled",
                False,
                "only label-derived and optional default rules can be switched off",
            )


def _check_response(file: ProtocolFile, origin: str) -> None:
    dosing, response = file.dosing, file.response
    if dosing.nonresponse.week <= dosing.review.week:
        raise fail(
            origin,
            "dosing.nonresponse.week",
            dosing.nonresponse.week,
            f"must be after the review week {dosing.review.week}",
        )
    below = dosing.escalation.below_improvement_percent
    if below > response.partial_response_min_improvement_percent:
        raise fail(
            origin,
            "dosing.escalation.below_improvement_percent",
            below,
            "must not exceed response.partial_response_min_improvement_percent",
        )
    if response.relapse_min <= response.complete_response_max:
        raise fail(
            origin,
            "response.relapse_min",
            response.relapse_min,
            "must be above response.complete_response_max",
        )


def _check_tests(file: ProtocolFile, origin: str) -> None:
    safety = file.safety
    if safety.sle_flare.alert_increase_above > safety.sle_flare.stop_increase_above:
        raise fail(
            origin,
            "safety.sle_flare.alert_increase_above",
            safety.sle_flare.alert_increase_above,
            "must not exceed safety.sle_flare.stop_increase_above",
        )
    graded = ", ".join(CTCAE_TERM_OF_TEST)
    named = [
        (f"safety.myelosuppression.tests[{i}]", t)
        for i, t in enumerate(safety.myelosuppression.tests)
    ]
    named.append(("safety.neutropenia_alert.test", safety.neutropenia_alert.test))
    named += [(f"eligibility.lab_exclusions.{t}", t) for t in file.eligibility.lab_exclusions]
    for where, test in named:
        if test not in CTCAE_TERM_OF_TEST:
            raise fail(origin, where, test, "must be a CTCAE-graded test: " + graded)
    for test, limit in file.eligibility.lab_exclusions.items():
        units = CTCAE_TERMS[CTCAE_TERM_OF_TEST[test]].units
        if limit.unit not in units:
            raise fail(
                origin,
                f"eligibility.lab_exclusions.{test}.unit",
                limit.unit,
                "must be one of " + ", ".join(units),
            )


def _check_monitoring(file: ProtocolFile, origin: str) -> None:
    monitoring = file.monitoring
    check_phases(origin, "monitoring.visits", monitoring.visits)
    check_phases(origin, "monitoring.blood_counts.phases", monitoring.blood_counts.phases)
    check_phases(origin, "monitoring.pregnancy_testing.phases", monitoring.pregnancy_testing.phases)
    for i, window in enumerate(monitoring.pregnancy_testing.before_first_dose):
        if window.days_before_min > window.days_before_max:
            raise fail(
                origin,
                f"monitoring.pregnancy_testing.before_first_dose[{i}].days_before_min",
                window.days_before_min,
                "must not exceed days_before_max",
            )


def check_numbers(file: ProtocolFile, origin: str) -> None:
    """Check that the numbers of ``file`` agree with each other (raises ProtocolDefinitionError)."""
    _check_response(file, origin)
    _check_tests(file, origin)
    _check_monitoring(file, origin)


#: Mappings of the file whose values are structures: validated one entry at a time, so that an
#: error names the key (msgspec reports a bad dict value without its key).
MAPPINGS: Final = (
    (("rules",), RuleSetting),
    (("safety", "stop_events"), StopEvent),
    (("eligibility", "lab_exclusions"), LabLimit),
)


def check_mappings(document: dict[str, Any], origin: str) -> None:
    """Validate the mappings of structures one entry at a time, naming the key."""
    for path, model in MAPPINGS:
        node: Any = document
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            try:
                msgspec.convert(value, model)
            except msgspec.ValidationError as exc:
                where, bad, problem = locate(exc, value)
                field = ".".join([*path, str(key)] + ([where] if where else []))
                raise fail(origin, field, bad if where else value, problem) from None


def check_trial(file: ProtocolFile, origin: str) -> None:
    """Check the ``trial`` section of ``file`` against itself and the rest of the definition.

    Raises
    ------
    ProtocolDefinitionError
        Naming the field path and the value (a repeated code, an undeclared element, a
        maximum age below the minimum).

    >>> from cletrial.protocol import load_protocol
    >>> check_trial(load_protocol().file, "lenalidomide-cle-2012.yaml") is None
    True
    """
    trial = file.trial
    if trial is None:
        return
    codes: set[str] = set()
    for i, element in enumerate(trial.elements):
        if element.code in codes:
            raise fail(origin, f"trial.elements[{i}].code", element.code, "repeats a code")
        codes.add(element.code)
    arms: set[str] = set()
    for i, arm in enumerate(trial.arms):
        if arm.code in arms:
            raise fail(origin, f"trial.arms[{i}].code", arm.code, "repeats an arm code")
        arms.add(arm.code)
        for j, step in enumerate(arm.elements):
            if step.element not in codes:
                known = ", ".join(sorted(codes))
                where = f"trial.arms[{i}].elements[{j}].element"
                raise fail(origin, where, step.element, f"must be the code of an element: {known}")
    minimum = file.eligibility.min_age_years
    if trial.max_age_years is not None and trial.max_age_years < minimum:
        raise fail(origin, "trial.max_age_years", trial.max_age_years,
                   f"must not be below eligibility.min_age_years ({minimum})")  # fmt: skip
    problem = find_summary_problem(trial)
    if problem is not None:
        raise fail(origin, *problem)
