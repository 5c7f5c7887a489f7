"""One patient's course, normalised for the endpoint derivations.

:func:`course_from_history` turns a validated patient history
(:class:`~cletrial.protocol.history.PatientHistory`, from the one history parser
:func:`cletrial.protocol.history.parse_history`) into a :class:`Course`: every date becomes a day
number from the first dose (day 0), every CLASI and SLEDAI-2K entry the score the parser computed,
and every record keeps ``seq``, its 1-based position in the history's array, so derived values can
be traced back. Missing scores stay ``None``: a visit without a CLASI is not a CLASI of 0. Whatever
the history parser refuses is refused here with the same :class:`~cletrial.errors.HistoryError`;
the only check added is that each regimen is a step of the rules' (the protocol's) ladder. The
history itself is never changed.

>>> course = course_from_history({
...     "patient_id": "P01", "first_dose_date": "2009-02-02",
...     "baseline": {"date": "2009-02-02", "clasi": {"activity": 6, "damage": 2}},
...     "assessments": [{"date": "2009-03-02", "clasi": {"activity": 0, "damage": 2}}],
...     "doses": [{"date": "2009-02-02", "regimen": "5_daily"}]})
>>> course.visits[0].day, course.visits[0].clasi_a, course.visits[0].seq
(28, 0, 1)
>>> course_from_history({"patient_id": "P02", "baseline": {"clasi": {"activity": 6}}})
Traceback (most recent call last):
...
cletrial.errors.HistoryError: baseline.date = null: is required
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from cletrial.endpoints.rules import DEFAULT_RULES, EndpointRules
from cletrial.errors import HistoryError
from cletrial.instruments import SkindexScore
from cletrial.protocol.history import PatientHistory, parse_history

__all__ = [
    "AdverseEvent",
    "Course",
    "DoseChange",
    "LabResult",
    "StopEvent",
    "Visit",
    "course_from_history",
]

#: Factor from each accepted unit (the history parser checks the unit) to the canonical unit of
#: the immunology tests: anti-dsDNA IU/ml; C3, C4 mg/dL.
_IMMUNOLOGY_FACTORS: dict[str, dict[str, float]] = {
    "anti_dsdna": {"IU/ml": 1.0, "IU/mL": 1.0},
    "c3": {"mg/dL": 1.0, "g/L": 100.0},
    "c4": {"mg/dL": 1.0, "g/L": 100.0},
}


@dataclass(frozen=True, slots=True)
class Visit:
    """A post-baseline assessment: day from first dose and scores (None = not assessed).

    ``cla_iga`` is the CLA-IGA grade (0-4) and ``skindex`` the Skindex-29+3 domain scores
    (domain -> 0-100 or None), when recorded; the vectorised :class:`VisitTable` does not carry
    them (:mod:`cletrial.endpoints.trial` reads them from the courses).
    """

    day: int
    seq: int
    clasi_a: int | None
    clasi_d: int | None
    sledai: int | None
    cla_iga: int | None = None
    skindex: dict[str, float | None] | None = None


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

    ``treated`` is False when the history has no first dose (screened, never dosed); days then
    count from the baseline date, else from the history's earliest date. ``origin_date`` is None
    only for a history without any date.
    """

    patient_id: str
    synthetic: bool
    treated: bool
    origin_date: date | None
    clasi_a_base: int | None
    clasi_d_base: int | None
    sledai_base: int | None
    visits: tuple[Visit, ...]
    doses: tuple[DoseChange, ...]
    labs: tuple[LabResult, ...]
    adverse_events: tuple[AdverseEvent, ...]
    events: tuple[StopEvent, ...]
    cla_iga_base: int | None = None
    skindex_base: dict[str, float | None] | None = None


def _origin(history: PatientHistory) -> tuple[date | None, bool]:
    """Return (day-0 date, treated): the first dose, else the baseline or earliest date."""
    if history.first_dose_date is not None:
        return history.first_dose_date, True
    if history.baseline is not None:
        return history.baseline.date, False
    doc = history.document
    firsts = [
        items[0].date
        for items in (doc.assessments, doc.labs, doc.pregnancy_tests, doc.events)
        if items
    ]
    if doc.adverse_events:
        firsts.append(doc.adverse_events[0].start)
    return (min(firsts) if firsts else None), False


def _ranks(history: PatientHistory, rules: EndpointRules) -> list[int]:
    index = {regimen: i for i, regimen in enumerate(rules.ladder)}
    ranks = []
    for i, dose in enumerate(history.doses):
        rank = index.get(dose.regimen)
        if rank is None:
            raise HistoryError(
                f"doses[{i}].regimen", dose.regimen, f"must be one of {list(rules.ladder)}"
            )
        ranks.append(rank)
    return ranks


def _labs(history: PatientHistory, origin: date) -> tuple[LabResult, ...]:
    out = []
    for i, lab in enumerate(history.labs):
        factors = _IMMUNOLOGY_FACTORS.get(lab.test)
        if factors is not None:
            out.append(
                LabResult((lab.date - origin).days, i + 1, lab.test, lab.value * factors[lab.unit])
            )
    return tuple(out)


def _course(history: PatientHistory, rules: EndpointRules) -> Course:
    doc = history.document
    if not doc.patient_id:
        raise HistoryError("patient_id", doc.patient_id, "is required to derive endpoints")
    ranks = _ranks(history, rules)
    origin, treated = _origin(history)
    base = history.baseline
    if origin is None:  # no date at all: nothing dated to place on the time axis
        return Course(doc.patient_id, bool(doc.synthetic), False, None,
                      None if base is None else base.clasi_activity,
                      None if base is None else base.clasi_damage,
                      None if base is None else base.sledai, (), (), (), (), ())  # fmt: skip
    visits = tuple(
        [
            Visit((v.date - origin).days, i, v.clasi_activity, v.clasi_damage, v.sledai)
            if v.cla_iga is None and v.skindex is None
            else Visit((v.date - origin).days, i, v.clasi_activity, v.clasi_damage, v.sledai,
                       v.cla_iga, _domains(v.skindex))
            for i, v in enumerate(history.assessments, 1)
        ]
    )  # fmt: skip
    return Course(
        patient_id=doc.patient_id,
        synthetic=bool(doc.synthetic),
        treated=treated,
        origin_date=origin,
        clasi_a_base=None if base is None else base.clasi_activity,
        clasi_d_base=None if base is None else base.clasi_damage,
        sledai_base=None if base is None else base.sledai,
        visits=visits,
        doses=tuple(
            DoseChange((d.date - origin).days, i, rank)
            for i, (d, rank) in enumerate(zip(history.doses, ranks, strict=True), 1)
        ),
        labs=_labs(history, origin),
        adverse_events=tuple(
            AdverseEvent(
                i,
                a.term,
                (a.start - origin).days,
                None if a.end is None else (a.end - origin).days,
                a.grade,
                a.causality,
                a.serious,
            )
            for i, a in enumerate(history.adverse_events, 1)
        ),
        events=tuple(
            StopEvent((e.date - origin).days, i, e.type) for i, e in enumerate(history.events, 1)
        ),
        cla_iga_base=None if base is None else base.cla_iga,
        skindex_base=None if base is None else _domains(base.skindex),
    )


def _domains(score: SkindexScore | None) -> dict[str, float | None] | None:
    return None if score is None else score.as_dict()


def course_from_history(
    history: PatientHistory | Mapping[str, Any], rules: EndpointRules = DEFAULT_RULES
) -> Course:
    """Read a patient history into a :class:`Course` (days from first dose, scores, seq).

    Parameters
    ----------
    history : PatientHistory or mapping
        A validated history, or one as decoded JSON (``docs/formats.md``), which is validated by
        :func:`cletrial.protocol.history.parse_history`. Not modified.
    rules : EndpointRules
        Supplies the regimen ladder (:meth:`EndpointRules.from_protocol`).

    Returns
    -------
    Course

    Raises
    ------
    HistoryError
        Naming the field path and the bad value, e.g. ``doses[0].regimen``: whatever the
        history parser refuses, and a regimen that is not a step of the ladder.

    >>> course_from_history({"patient_id": "P", "first_dose_date": "2010-01-04",
    ...     "doses": [{"date": "2010-01-04", "regimen": "100_daily"}]})
    Traceback (most recent call last):
    ...
    cletrial.errors.HistoryError: doses[0].regimen = "100_daily": must be one of [...]
    >>> course_from_history({"patient_id": "P", "assessments": [
    ...     {"date": "2010-03-01"}, {"date": "2010-02-01"}]})
    Traceback (most recent call last):
    ...
    cletrial.errors.HistoryError: assessments[1].date = "2010-02-01": must be after ...
    """
    if not isinstance(history, PatientHistory):
        history = parse_history(history)
    return _course(history, rules)
