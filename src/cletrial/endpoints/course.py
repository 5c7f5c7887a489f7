"""One patient's course, normalised for the endpoint derivations.

:func:`course_from_history` reads a patient history (``docs/formats.md``) into a :class:`Course`:
every date becomes a day number from the first dose (day 0), every CLASI and SLEDAI-2K entry a
score (forms are scored with :mod:`cletrial.instruments`), and every record keeps ``seq``, its
1-based position in the history's array, so derived values can be traced back. Missing scores
stay ``None``: a visit without a CLASI is not a CLASI of 0. The history itself is never changed.

>>> course = course_from_history({
...     "patient_id": "P01", "first_dose_date": "2009-02-02",
...     "baseline": {"date": "2009-02-02", "clasi": {"activity": 6, "damage": 2}},
...     "assessments": [{"date": "2009-03-02", "clasi": {"activity": 0, "damage": 2}}],
...     "doses": [{"date": "2009-02-02", "regimen": "5_daily"}]})
>>> course.visits[0].day, course.visits[0].clasi_a, course.visits[0].seq
(28, 0, 1)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from cletrial.endpoints.rules import (
    CAUSALITY_TERMS,
    DEFAULT_RULES,
    EVENT_TYPES,
    IMMUNOLOGY_TESTS,
    EndpointRules,
)
from cletrial.errors import HistoryError

__all__ = [
    "AdverseEvent",
    "Course",
    "DoseChange",
    "LabResult",
    "StopEvent",
    "Visit",
    "course_from_history",
]

#: Laboratory tests of the history format; only the immunology tests feed the endpoints.
LAB_TESTS: tuple[str, ...] = ("neutrophils", "wbc", "platelets", "hemoglobin", *IMMUNOLOGY_TESTS)
#: Accepted units of the immunology tests and the factor to the canonical unit.
_IMMUNOLOGY_UNITS: dict[str, dict[str, float]] = {
    "anti_dsdna": {"IU/ml": 1.0, "IU/mL": 1.0},
    "c3": {"mg/dL": 1.0, "g/L": 100.0},
    "c4": {"mg/dL": 1.0, "g/L": 100.0},
}
#: The keys of each part of a history (docs/formats.md); anything else is a typo, not data.
_KEYS: dict[str, frozenset[str]] = {
    "": frozenset(
        {
            "patient_id",
            "protocol",
            "synthetic",
            "sex",
            "reproductive_potential",
            "irregular_cycles",
            "first_dose_date",
            "baseline",
            "assessments",
            "labs",
            "doses",
            "adverse_events",
            "pregnancy_tests",
            "events",
        }
    ),
    "baseline": frozenset({"date", "clasi", "sledai", "medications"}),
    "assessments": frozenset({"date", "clasi", "sledai", "medications"}),
    "labs": frozenset({"date", "test", "value", "unit", "lln"}),
    "doses": frozenset({"date", "regimen"}),
    "adverse_events": frozenset({"term", "start", "end", "grade", "causality", "serious"}),
    "pregnancy_tests": frozenset({"date", "result"}),
    "events": frozenset({"date", "type"}),
}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CLASI_A_MAX = 70
_CLASI_D_MAX = 56
_SLEDAI_MAX = 105


@dataclass(frozen=True, slots=True)
class Visit:
    """A post-baseline assessment: day from first dose and scores (None = not assessed)."""

    day: int
    seq: int
    clasi_a: int | None
    clasi_d: int | None
    sledai: int | None


@dataclass(frozen=True, slots=True)
class DoseChange:
    """A regimen in force from ``day`` on; ``rank`` is its ladder position (0 = off)."""

    day: int
    seq: int
    rank: int


@dataclass(frozen=True, slots=True)
class LabResult:
    """An immunology result in its canonical unit (anti-dsDNA IU/ml; C3, C4 mg/dL)."""

    day: int
    seq: int
    test: str
    value: float


@dataclass(frozen=True, slots=True)
class AdverseEvent:
    """An adverse event; ``grade`` (CTCAE 1-5) and ``causality`` may be missing (None)."""

    seq: int
    term: str
    start_day: int
    end_day: int | None
    grade: int | None
    causality: str | None
    serious: bool | None


@dataclass(frozen=True, slots=True)
class StopEvent:
    """A disposition event that ends treatment (``EVENT_TYPES``)."""

    day: int
    seq: int
    type: str


@dataclass(frozen=True, slots=True)
class Course:
    """A patient's course; records sorted by (day, seq); day 0 = first dose.

    ``treated`` is False when the history has no first dose; days then count from the baseline.
    """

    patient_id: str
    synthetic: bool
    treated: bool
    origin_date: date
    clasi_a_base: int | None
    clasi_d_base: int | None
    sledai_base: int | None
    visits: tuple[Visit, ...]
    doses: tuple[DoseChange, ...]
    labs: tuple[LabResult, ...]
    adverse_events: tuple[AdverseEvent, ...]
    events: tuple[StopEvent, ...]


def _check_keys(part: str, obj: Mapping[str, Any], path: str) -> None:
    unknown = sorted(set(obj) - _KEYS[part])
    if unknown:
        where = f"{path}.{unknown[0]}" if path else unknown[0]
        raise HistoryError(where, obj[unknown[0]], "unknown key (see docs/formats.md)")


def _date(value: Any, path: str) -> date:
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise HistoryError(path, value, "must be an ISO date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HistoryError(path, value, "must be an ISO date YYYY-MM-DD") from None


def _int(value: Any, path: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise HistoryError(path, value, f"must be a whole number from {low} to {high}")
    return value


def _items(history: Mapping[str, Any], key: str) -> Sequence[Any]:
    items = history.get(key)
    if items is None:
        return ()
    if not isinstance(items, list | tuple):
        raise HistoryError(key, items, "must be a list")
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise HistoryError(f"{key}[{i}]", item, "must be an object")
        _check_keys(key, item, f"{key}[{i}]")
    return items


def _clasi_scores(value: Any, path: str) -> tuple[int | None, int | None]:
    """Return (activity, damage) of a CLASI entry: a form, or ``{activity, damage}`` scores."""
    if value is None:
        return None, None
    if not isinstance(value, Mapping):
        raise HistoryError(path, value, "must be a CLASI form or {activity, damage} scores")
    if "regions" in value:
        from cletrial.errors import FormError
        from cletrial.instruments import compute_clasi

        try:
            score = compute_clasi(value)
        except FormError as exc:
            raise HistoryError(f"{path}.{exc.field}", exc.value, exc.problem) from None
        return score.activity, score.damage
    unknown = set(value) - {"activity", "damage"}
    if unknown:
        raise HistoryError(f"{path}.{sorted(unknown)[0]}", None, "must be activity or damage")
    activity = value.get("activity")
    damage = value.get("damage")
    return (
        None if activity is None else _int(activity, f"{path}.activity", 0, _CLASI_A_MAX),
        None if damage is None else _int(damage, f"{path}.damage", 0, _CLASI_D_MAX),
    )


def _sledai_score(value: Any, path: str) -> int | None:
    """Return the SLEDAI-2K score of an entry: a form, or ``{"score": int}``."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise HistoryError(path, value, "must be a SLEDAI-2K form or {score}")
    if "score" in value:
        if len(value) != 1:
            raise HistoryError(path, dict(value), "must be {score} alone or a SLEDAI-2K form")
        score = value["score"]
        return None if score is None else _int(score, f"{path}.score", 0, _SLEDAI_MAX)
    from cletrial.errors import FormError
    from cletrial.instruments import compute_sledai

    try:
        return compute_sledai(value)
    except FormError as exc:
        raise HistoryError(f"{path}.{exc.field}", exc.value, exc.problem) from None


def _visits(history: Mapping[str, Any], origin: date) -> tuple[Visit, ...]:
    visits = []
    for i, item in enumerate(_items(history, "assessments")):
        path = f"assessments[{i}]"
        day = (_date(item.get("date"), f"{path}.date") - origin).days
        clasi_a, clasi_d = _clasi_scores(item.get("clasi"), f"{path}.clasi")
        sledai = _sledai_score(item.get("sledai"), f"{path}.sledai")
        visits.append(Visit(day, i + 1, clasi_a, clasi_d, sledai))
    visits.sort(key=lambda v: (v.day, v.seq))
    return tuple(visits)


def _doses(history: Mapping[str, Any], origin: date, rules: EndpointRules) -> list[DoseChange]:
    doses = []
    for i, item in enumerate(_items(history, "doses")):
        path = f"doses[{i}]"
        day = (_date(item.get("date"), f"{path}.date") - origin).days
        regimen = item.get("regimen")
        if regimen not in rules.ladder:
            raise HistoryError(f"{path}.regimen", regimen, f"must be one of {list(rules.ladder)}")
        doses.append(DoseChange(day, i + 1, rules.ladder.index(regimen)))
    doses.sort(key=lambda d: (d.day, d.seq))
    return doses


def _labs(history: Mapping[str, Any], origin: date) -> tuple[LabResult, ...]:
    labs = []
    for i, item in enumerate(_items(history, "labs")):
        path = f"labs[{i}]"
        test = item.get("test")
        if test not in LAB_TESTS:
            raise HistoryError(f"{path}.test", test, f"must be one of {list(LAB_TESTS)}")
        day = (_date(item.get("date"), f"{path}.date") - origin).days
        value = item.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise HistoryError(f"{path}.value", value, "must be a number")
        if value < 0:
            raise HistoryError(f"{path}.value", value, "must be >= 0")
        if test in _IMMUNOLOGY_UNITS:
            units = _IMMUNOLOGY_UNITS[test]
            unit = item.get("unit")
            if unit not in units:
                raise HistoryError(f"{path}.unit", unit, f"must be one of {list(units)}")
            labs.append(LabResult(day, i + 1, test, float(value) * units[unit]))
    labs.sort(key=lambda r: (r.day, r.seq))
    return tuple(labs)


def _adverse_events(history: Mapping[str, Any], origin: date) -> tuple[AdverseEvent, ...]:
    events = []
    for i, item in enumerate(_items(history, "adverse_events")):
        path = f"adverse_events[{i}]"
        term = item.get("term")
        if not isinstance(term, str) or not term.strip():
            raise HistoryError(f"{path}.term", term, "must be a non-empty text")
        start = (_date(item.get("start"), f"{path}.start") - origin).days
        end_raw = item.get("end")
        end = None if end_raw is None else (_date(end_raw, f"{path}.end") - origin).days
        if end is not None and end < start:
            raise HistoryError(f"{path}.end", end_raw, "must not be before start")
        grade_raw = item.get("grade")
        grade = None if grade_raw is None else _int(grade_raw, f"{path}.grade", 1, 5)
        causality = item.get("causality")
        if causality is not None and causality not in CAUSALITY_TERMS:
            raise HistoryError(
                f"{path}.causality", causality, f"must be one of {list(CAUSALITY_TERMS)}"
            )
        serious = item.get("serious")
        if serious is not None and not isinstance(serious, bool):
            raise HistoryError(f"{path}.serious", serious, "must be true or false")
        events.append(AdverseEvent(i + 1, term, start, end, grade, causality, serious))
    events.sort(key=lambda e: (e.start_day, e.seq))
    return tuple(events)


def _stop_events(history: Mapping[str, Any], origin: date) -> tuple[StopEvent, ...]:
    events = []
    for i, item in enumerate(_items(history, "events")):
        path = f"events[{i}]"
        kind = item.get("type")
        if kind not in EVENT_TYPES:
            raise HistoryError(f"{path}.type", kind, f"must be one of {list(EVENT_TYPES)}")
        day = (_date(item.get("date"), f"{path}.date") - origin).days
        events.append(StopEvent(day, i + 1, kind))
    events.sort(key=lambda e: (e.day, e.seq))
    return tuple(events)


def _origin(history: Mapping[str, Any], baseline: Mapping[str, Any]) -> tuple[date, bool]:
    """Return (day-0 date, treated): the first dose, else the baseline date."""
    first = history.get("first_dose_date")
    if first is not None:
        return _date(first, "first_dose_date"), True
    dates = [
        _date(d.get("date"), f"doses[{i}].date") for i, d in enumerate(_items(history, "doses"))
    ]
    if dates:
        return min(dates), True
    if baseline.get("date") is None:
        raise HistoryError("first_dose_date", None, "a first dose date or baseline.date is needed")
    return _date(baseline.get("date"), "baseline.date"), False


def course_from_history(history: Mapping[str, Any], rules: EndpointRules = DEFAULT_RULES) -> Course:
    """Read a patient history into a :class:`Course` (days from first dose, scores, seq).

    Parameters
    ----------
    history : mapping
        One patient history (``docs/formats.md``). Not modified.
    rules : EndpointRules
        Supplies the regimen ladder.

    Returns
    -------
    Course

    Raises
    ------
    HistoryError
        Naming the field path and the bad value, e.g. ``doses[1].regimen``.

    >>> course_from_history({"patient_id": "P", "first_dose_date": "2010-01-04",
    ...     "doses": [{"date": "2010-01-04", "regimen": "7_daily"}]})
    Traceback (most recent call last):
    ...
    cletrial.errors.HistoryError: doses[0].regimen = "7_daily": must be one of [...]
    """
    if not isinstance(history, Mapping):
        raise HistoryError("", history, "a patient history must be a JSON object")
    _check_keys("", history, "")
    patient_id = history.get("patient_id")
    if not isinstance(patient_id, str) or not patient_id:
        raise HistoryError("patient_id", patient_id, "must be a non-empty text")
    synthetic = history.get("synthetic", False)
    if not isinstance(synthetic, bool):
        raise HistoryError("synthetic", synthetic, "must be true or false")
    baseline = history.get("baseline") or {}
    if not isinstance(baseline, Mapping):
        raise HistoryError("baseline", baseline, "must be an object")
    _check_keys("baseline", baseline, "baseline")
    _items(history, "pregnancy_tests")  # not an endpoint input, but a typo is still an error
    origin, treated = _origin(history, baseline)
    clasi_a, clasi_d = _clasi_scores(baseline.get("clasi"), "baseline.clasi")
    doses = _doses(history, origin, rules)
    if doses and doses[0].day < 0:
        i = doses[0].seq - 1
        raw = _items(history, "doses")[i].get("date")
        raise HistoryError(f"doses[{i}].date", raw, "must not be before first_dose_date")
    return Course(
        patient_id=patient_id,
        synthetic=synthetic,
        treated=treated,
        origin_date=origin,
        clasi_a_base=clasi_a,
        clasi_d_base=clasi_d,
        sledai_base=_sledai_score(baseline.get("sledai"), "baseline.sledai"),
        visits=_visits(history, origin),
        doses=tuple(doses),
        labs=_labs(history, origin),
        adverse_events=_adverse_events(history, origin),
        events=_stop_events(history, origin),
    )
