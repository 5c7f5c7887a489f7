"""Virtual patients on lenalidomide, dosed and tapered by the protocol definition's own rules.

The numbers come from two places and nowhere else: the dose ladder, the week-4 review, the
escalation regimen, the taper interval and tolerance, the restart regimen and the visit plan
from the protocol definition (:func:`cletrial.protocol.definition.load_protocol`), and the
disease course (time to complete response, the ladder step a remission tolerates, the delay
from a dose reduction to relapse, the time to a second complete response) from the synthetic
generator's calibration to the 2012 trial (:mod:`cletrial.synthetic.calibration`). Everything
is vectorised over patients with numpy.

One patient's course, as simulated (``docs/design.md`` lists what is simplified):

1. Start on the protocol's start regimen. A patient destined for complete response (CR) gets a
   log-normal time to CR; the others stay in partial response, a share of them short of 50%
   improvement at the review and so escalated to the escalation regimen.
2. The taper starts at the first scheduled visit on or after both the CR and the review week,
   and steps down the ladder one regimen at a time, each step at the first scheduled visit at
   least ``interval - tolerance`` days after the previous one, to the taper's last regimen.
3. A patient who relapses on taper (calibrated share) has residual activity (no longer CR, so
   the taper halts) from the ladder step their remission tolerates, and relapses a calibrated
   delay after that step began (as :mod:`cletrial.synthetic.fast`); the relapse restarts the
   restart regimen at the next scheduled visit and a second CR follows 2 to 6 weeks later.

>>> course = ProtocolCourse.of(load_protocol())
>>> [course.regimen_ids[i] for i in course.taper_steps]
['5_alternate', '5_thrice_weekly', '5_twice_weekly', 'off']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np
import numpy.typing as npt

from cletrial.errors import DesignError
from cletrial.protocol.definition import ProtocolDefinition, load_protocol  # noqa: F401 (doctests)
from cletrial.synthetic.calibration import DEFAULT_CALIBRATION, Calibration

__all__ = [
    "CourseSummary",
    "ProtocolCourse",
    "Response",
    "calibrate_complete_response",
    "cr_at_week",
]

#: Which response counts at the endpoint week (see :func:`cr_at_week`).
Response = Literal["reached", "sustained"]

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

#: Patients in the fixed-seed pilot that recalibrates the CR share (standard error ~0.0003).
PILOT_PATIENTS = 2_000_000
_PILOT_SEED = 20120265  # fixed: the recalibration is a deterministic function of its inputs
_SECOND_CR_DAYS = (14.0, 42.0)  # as cletrial.synthetic.fast: a restart brings CR in 2-6 weeks


@dataclass(frozen=True)
class ProtocolCourse:
    """The protocol numbers and calibrated disease course the simulation uses.

    Attributes are ladder indices (0 = highest dose), days and weekly doses in mg.
    """

    regimen_ids: tuple[str, ...]
    weekly_mg: tuple[float, ...]
    start: int
    escalation: int
    restart: int
    taper_steps: tuple[int, ...]
    review_day: int
    taper_interval: int
    taper_gap: int
    visit_days: tuple[int, ...]
    relapse_steps: tuple[int, ...]
    relapse_weights: tuple[float, ...]
    calibration: Calibration = field(hash=False)  # holds a dict; equality still compares it

    @classmethod
    def of(
        cls, protocol: ProtocolDefinition, calibration: Calibration = DEFAULT_CALIBRATION
    ) -> ProtocolCourse:
        """Read the course from ``protocol`` (ladder, review, taper, visits) and ``calibration``.

        >>> ProtocolCourse.of(load_protocol()).taper_gap
        21
        """
        regimens = protocol.regimens
        steps = calibration.relapse_step_probs or {}
        unknown = [k for k in steps if k not in protocol.regimen_index]
        if unknown:
            raise DesignError(
                "calibration.relapse_step_probs", unknown, f"not regimens of {protocol.id}"
            )
        return cls(
            regimen_ids=tuple(r.id for r in regimens),
            weekly_mg=tuple(r.dose_mg * r.administrations_per_week for r in regimens),
            start=protocol.start,
            escalation=protocol.escalation,
            restart=protocol.restart,
            taper_steps=tuple(range(protocol.start + 1, protocol.taper_last + 1)),
            review_day=protocol.n.review_day,
            taper_interval=protocol.n.taper_interval,
            taper_gap=protocol.n.taper_interval - protocol.n.taper_tolerance,
            visit_days=tuple(day for _, day, _ in protocol.visit_plan),
            relapse_steps=tuple(protocol.regimen_index[k] for k in steps),
            relapse_weights=tuple(steps.values()),
            calibration=calibration,
        )


@dataclass(frozen=True)
class CourseSummary:
    """What the protocol did to the lenalidomide arm by the endpoint week (from the pilot).

    ``regimen_share`` is the share of patients on each regimen of the ladder at the endpoint
    week; ``mean_weekly_mg`` their mean weekly dose then; ``relapsed`` the share that relapsed
    on taper before it; ``cr_share`` the recalibrated share destined for CR.
    """

    week: int
    cr_share: float
    regimen_share: dict[str, float]
    mean_weekly_mg: float
    relapsed: float


def _visit_on_or_after(visits: npt.NDArray[np.int64], day: Floats) -> Floats:
    """The first scheduled visit day on or after ``day`` (the last visit when beyond the plan)."""
    index = np.minimum(np.searchsorted(visits, day, side="left"), visits.size - 1)
    return visits[index].astype(np.float64)


@dataclass
class _Courses:
    """Per-patient arrays of one simulated set of lenalidomide courses (days)."""

    in_cr: Bools
    reached: Bools
    regimen: npt.NDArray[np.int64]
    relapsed: Bools


def _courses(
    course: ProtocolCourse, rng: np.random.Generator, size: int, cr_share: float, day: float
) -> _Courses:
    """Simulate ``size`` courses; status at ``day`` (CR and regimen)."""
    cal = course.calibration
    visits = np.asarray(course.visit_days, dtype=np.int64)
    destined = rng.random(size) < cr_share
    weeks = np.exp(rng.normal(np.log(cal.cr_weeks_median), cal.cr_weeks_sigma, size))
    cr_day = np.where(destined, 7.0 * np.clip(weeks, cal.cr_weeks_min, cal.cr_weeks_max), np.inf)
    relapser = destined & (rng.random(size) < cal.p_relapse)
    weights = np.asarray(course.relapse_weights)
    tolerated = np.asarray(course.relapse_steps)[
        np.searchsorted(np.cumsum(weights / weights.sum()), rng.random(size), side="right")
    ]
    low, high = cal.relapse_delay_days
    delay = low + (high - low) * rng.beta(2.0, 2.5, size)
    second = rng.uniform(*_SECOND_CR_DAYS, size)
    escalated = ~destined & (rng.random(size) < cal.p_slow_partial)
    # the taper: step k begins at step_day (inf when the CR comes after the endpoint day)
    step_day = _visit_on_or_after(visits, np.maximum(cr_day, course.review_day))
    step_day = np.where(cr_day <= visits[-1], step_day, np.inf)
    regimen = np.where(escalated & (day >= course.review_day), course.escalation, course.start)
    relapse_day = np.full(size, np.inf)
    broke = np.full(size, np.inf)  # the visit the tolerated step began: residual activity after
    for step in course.taper_steps:
        halted = np.isfinite(broke)  # residual activity (CLASI-A 1-3) stops the taper
        regimen = np.where((step_day <= day) & ~halted, step, regimen)
        falls = relapser & (tolerated == step) & ~halted
        broke = np.where(falls, step_day, broke)
        relapse_day = np.where(falls, step_day + delay, relapse_day)
        step_day = _visit_on_or_after(visits, step_day + course.taper_gap)
    relapsed = relapse_day <= day
    restart = _visit_on_or_after(visits, relapse_day)
    regimen = np.where(relapsed & (restart <= day), course.restart, regimen)
    in_cr = (cr_day <= day) & ((day <= broke) | (restart + second <= day))
    reached = _visit_on_or_after(visits, cr_day) <= day
    return _Courses(in_cr, reached, regimen.astype(np.int64), relapsed)


def cr_at_week(
    course: ProtocolCourse,
    rng: np.random.Generator,
    size: int,
    cr_share: float,
    week: int,
    response: Response = "reached",
) -> Bools:
    """Whether each of ``size`` patients on lenalidomide responds by the endpoint ``week``.

    ``response="reached"``: CR seen at a scheduled visit by ``week`` (the 2012 paper's "time
    to CR"); ``"sustained"``: in CR at ``week``, after the protocol's taper and relapses.

    Parameters
    ----------
    course : ProtocolCourse
        Protocol rules and calibrated disease course.
    rng : numpy.random.Generator
        Source of randomness.
    size : int
        Number of patients.
    cr_share : float
        Share of patients destined for CR (see :func:`calibrate_complete_response`).
    week : int
        The endpoint week.
    response : {"reached", "sustained"}
        Which response counts (see above).

    Returns
    -------
    numpy.ndarray
        Booleans, one a patient.

    >>> course = ProtocolCourse.of(load_protocol())
    >>> cr_at_week(course, np.random.default_rng(1), 5, 1.0, 12).shape
    (5,)
    """
    sims = _courses(course, rng, size, cr_share, 7.0 * week)
    return sims.in_cr if response == "sustained" else sims.reached


@lru_cache(maxsize=64)
def _pilot_rate(course: ProtocolCourse, week: int, response: Response) -> float:
    rng = np.random.default_rng(_PILOT_SEED)
    return float(cr_at_week(course, rng, PILOT_PATIENTS, 1.0, week, response).mean())


def calibrate_complete_response(
    course: ProtocolCourse, week: int, target: float | None, response: Response = "reached"
) -> tuple[float, CourseSummary]:
    """The CR share that makes ``target`` of the lenalidomide arm respond by ``week``.

    The share of patients destined for CR is the one free number: a fixed-seed pilot of
    :data:`PILOT_PATIENTS` patients, all destined for CR, gives the share still (or again) in
    CR at the endpoint after the protocol's taper and relapses; the CR share is the target over
    it. Without a target the calibration's own CR share (the 2012 trial's 86%) is kept.

    Raises
    ------
    DesignError
        The target cannot be reached at that week under the protocol's taper.

    >>> share, summary = calibrate_complete_response(ProtocolCourse.of(load_protocol()), 12, 0.5)
    >>> 0.5 < share < 1.0, summary.week
    (True, 12)
    """
    reachable = _pilot_rate(course, week, response)
    share = course.calibration.p_complete_response if target is None else target / reachable
    if share > 1.0:
        raise DesignError(
            "treatment_rate",
            target,
            f"cannot be reached at week {week} ({response} CR) under the protocol: even if "
            f"every patient reached CR, only {reachable:.3f} would count then (CR after the "
            "endpoint visit, or relapse on taper); lower treatment_rate or change the week",
        )
    return share, _summary(course, week, share)


def _summary(course: ProtocolCourse, week: int, share: float) -> CourseSummary:
    rng = np.random.default_rng(_PILOT_SEED + 1)
    sims = _courses(course, rng, PILOT_PATIENTS // 10, share, 7.0 * week)
    counts = np.bincount(sims.regimen, minlength=len(course.regimen_ids)) / sims.regimen.size
    return CourseSummary(
        week=week,
        cr_share=round(share, 6),
        regimen_share={
            r: round(float(c), 4) for r, c in zip(course.regimen_ids, counts, strict=True)
        },
        mean_weekly_mg=round(float(np.asarray(course.weekly_mg)[sims.regimen].mean()), 3),
        relapsed=round(float(sims.relapsed.mean()), 4),
    )
