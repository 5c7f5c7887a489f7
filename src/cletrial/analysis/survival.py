"""Kaplan-Meier estimates (lifelines) and the time-to-event records of the reference study.

The estimate comes from :class:`lifelines.KaplanMeierFitter` (log(-log) pointwise confidence
intervals, lifelines' default). The median is read off the estimate as the earliest time at which
the survival estimate is at or below 0.5, with a 1e-9 tolerance: lifelines' own
``median_survival_time_`` compares floating-point products with 0.5 exactly and can skip a step
that equals 0.5 (e.g. 7/11 x 11/14). When the curve rests exactly on 0.5 the result says so,
because conventions then differ (R's ``survfit`` takes the midpoint to the next event time).

For time to complete response the estimate of interest is the cumulative proportion with CR,
``1 - S(t)``; :attr:`KaplanMeier.table` carries both.

>>> km = compute_kaplan_meier([2, 4, 4, 7, 10], [True, True, False, True, False], label="CR")
>>> (km.n, km.events, km.censored, km.median)
(5, 3, 2, 7.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from cletrial.analysis.reference import ReferenceStudy
from cletrial.errors import InputError

__all__ = [
    "WEEKS_PER_MONTH",
    "KaplanMeier",
    "KaplanMeierStep",
    "compute_kaplan_meier",
    "derive_reference_time_to_cr",
]

#: Weeks in a mean calendar month (365.25 / 12 / 7), used to put months of follow-up on the
#: weeks scale of time to response.
WEEKS_PER_MONTH: Final = 365.25 / 12 / 7
_TOLERANCE: Final = 1e-9


@dataclass(frozen=True)
class KaplanMeierStep:
    """One time of the Kaplan-Meier table (events and censorings at that time)."""

    time: float
    at_risk: int
    events: int
    censored: int
    survival: float
    ci_lower: float
    ci_upper: float

    @property
    def cumulative_incidence(self) -> float:
        """``1 - S(t)``: e.g. the proportion with complete response by ``time``."""
        return 1.0 - self.survival


@dataclass(frozen=True)
class KaplanMeier:
    """A fitted Kaplan-Meier estimate with its event table and median."""

    label: str
    time_unit: str
    n: int
    events: int
    censored: int
    median: float | None
    median_ci: tuple[float | None, float | None]
    median_note: str
    confidence: float
    steps: tuple[KaplanMeierStep, ...]
    method: str = "Kaplan-Meier (lifelines KaplanMeierFitter), log(-log) confidence intervals"

    def text(self) -> str:
        """``time to CR: n = 15, 12 events, median 4 weeks (95% CI 3-12)``."""

        def show(value: float | None) -> str:
            return "not reached" if value is None else f"{value:g}"

        low, high = (show(v) for v in self.median_ci)
        return (
            f"{self.label}: n = {self.n}, {self.events} events, {self.censored} censored, "
            f"median {show(self.median)} {self.time_unit} "
            f"({round(100 * self.confidence)}% CI {low} to {high})"
        )

    @property
    def summary(self) -> pd.DataFrame:
        """The event table: time, at risk, events, censored, S(t), interval, 1 - S(t)."""
        frame = pd.DataFrame([asdict(step) for step in self.steps])
        frame["cumulative_incidence"] = 1.0 - frame["survival"]
        return frame.set_index("time")

    def as_dict(self) -> dict[str, Any]:
        """Stable JSON shape (probabilities to 6 decimals)."""
        out = asdict(self)
        out["median_ci"] = list(self.median_ci)
        out["steps"] = [
            {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(s).items()}
            for s in self.steps
        ]
        return out


def _first_at_or_below(
    times: npt.NDArray[np.float64], values: npt.NDArray[np.float64], level: float
) -> float | None:
    hits = np.nonzero(values <= level + _TOLERANCE)[0]
    return float(times[hits[0]]) if hits.size else None


def _check_inputs(durations: Sequence[float], events: Sequence[bool]) -> None:
    if len(durations) != len(events) or not durations:
        raise InputError("events", list(events), "must be as long as durations (at least one)")
    for index, value in enumerate(durations):
        if value is None or isinstance(value, bool) or not value >= 0:
            raise InputError(f"durations[{index}]", value, "must be a number >= 0 (no missing)")
    for index, flag in enumerate(events):
        if not isinstance(flag, bool | np.bool_):
            raise InputError(f"events[{index}]", flag, "must be true (event) or false (censored)")


def compute_kaplan_meier(
    durations: Sequence[float],
    events: Sequence[bool],
    *,
    label: str,
    time_unit: str = "weeks",
    confidence: float = 0.95,
) -> KaplanMeier:
    """Fit a Kaplan-Meier estimate with lifelines.

    Parameters
    ----------
    durations : sequence of float
        Time from origin to event or censoring, >= 0, in ``time_unit``; no missing values.
    events : sequence of bool
        True for an observed event, False for censoring.
    label : str
        Name of the estimate (e.g. ``time to CR``).
    time_unit : str
        Unit of ``durations`` (default ``weeks``).
    confidence : float
        Level of the pointwise intervals and of the median's interval (default 0.95).

    Returns
    -------
    KaplanMeier

    Examples
    --------
    >>> km = compute_kaplan_meier([1, 2, 3], [True, True, True], label="x")
    >>> [round(s.survival, 3) for s in km.steps]
    [1.0, 0.667, 0.333, 0.0]
    """
    _check_inputs(durations, events)
    from lifelines import KaplanMeierFitter

    fitter = KaplanMeierFitter(alpha=1 - confidence)
    fitter.fit(np.asarray(durations, dtype=float), np.asarray(events, dtype=bool), label="km")
    table = fitter.event_table
    times = table.index.to_numpy(dtype=float)
    survival = fitter.survival_function_["km"].to_numpy()
    interval = fitter.confidence_interval_.to_numpy()
    lower, upper = interval[:, 0], interval[:, 1]
    steps = tuple(
        KaplanMeierStep(
            float(t),
            int(r.at_risk),
            int(r.observed),
            int(r.censored),
            float(s),
            float(lo),
            float(hi),
        )
        for t, r, s, lo, hi in zip(times, table.itertuples(), survival, lower, upper, strict=True)
    )
    median = _first_at_or_below(times, survival, 0.5)
    note = ""
    on_half = np.nonzero(np.abs(survival - 0.5) <= _TOLERANCE)[0]
    if on_half.size:
        later = times[times > times[on_half[0]]]
        end = f"{later[0]:g}" if later.size else "the end of follow-up"
        note = (
            f"the estimate equals 0.5 from {times[on_half[0]]:g} to {end} {time_unit}; the "
            "median is the start of that interval (R survfit would take the midpoint)"
        )
    return KaplanMeier(
        label=label,
        time_unit=time_unit,
        n=len(durations),
        events=int(sum(map(bool, events))),
        censored=len(durations) - int(sum(map(bool, events))),
        median=median,
        median_ci=(_first_at_or_below(times, lower, 0.5), _first_at_or_below(times, upper, 0.5)),
        median_note=note,
        confidence=confidence,
        steps=steps,
    )


def derive_reference_time_to_cr(study: ReferenceStudy) -> list[dict[str, Any]]:
    """Time-to-CR records of the reference study (Table 2), one per patient, with their source.

    CR patients have an event at their time to CR. The withdrawn patient (3) is censored at
    1 week (the text says treatment stopped after 1 week). PR patients are censored at the end of
    follow-up (months x :data:`WEEKS_PER_MONTH`). A patient without any time is an error.

    Returns
    -------
    list of dict
        ``patient``, ``time_weeks``, ``event`` (bool), ``source`` (where the time came from).

    Examples
    --------
    >>> from cletrial.analysis.reference import load_reference_study
    >>> records = derive_reference_time_to_cr(load_reference_study())
    >>> [(r["patient"], round(r["time_weeks"], 1), r["event"]) for r in records][:3]
    [(1, 10.0, True), (2, 4.0, True), (3, 1.0, False)]
    """
    out: list[dict[str, Any]] = []
    for row in study.table2:
        if row.outcome == "CR" and row.time_to_cr_weeks is not None:
            time, event, source = float(row.time_to_cr_weeks), True, "Table 2 time to CR"
        elif row.outcome == "withdrawn":
            time, event = 1.0, False
            source = "withdrawn after 1 week (Results text); censored"
        elif row.follow_up_months is not None:
            time, event = row.follow_up_months * WEEKS_PER_MONTH, False
            source = (
                f"{row.outcome}: censored at follow-up, {row.follow_up_months} months (Table 2)"
            )
        else:
            raise InputError(
                f"table2[{row.patient}].follow_up_months",
                None,
                "is missing: no censoring time for a patient without CR",
            )
        out.append({"patient": row.patient, "time_weeks": time, "event": event, "source": source})
    return out
