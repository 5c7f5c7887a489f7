"""Synthetic patients treated by the protocol engine, visit by visit.

Each patient has latent traits drawn from :class:`~cletrial.synthetic.calibration.Calibration`
(baseline scores, whether and how fast CLASI-A reaches 0, the lowest regimen the remission
tolerates, follow-up length, rare side effects). At every visit the disease model produces the
scores, the history so far goes to :func:`cletrial.protocol.engine.recommend`, and the regimen
the engine recommends is what the patient receives from that day; the engine also says when
the next scheduled visit is. Relapses come at unscheduled visits 2-8 weeks after the dose falls
below the tolerated regimen; the visits in between show residual activity (CLASI-A 1-3), which
pauses the taper. Blood counts follow the protocol (weekly for 8 weeks, then every 4 weeks),
pregnancy tests the label schedule for women of reproductive potential.

Every history is labelled ``"synthetic": true`` and its patient id is ``SYN-0001``, ... Patient
``i`` depends only on (seed, i), so the first patients of a larger cohort are the same.

>>> h = generate_history(0, seed=7)
>>> h["patient_id"], h["synthetic"], h["doses"][0]["regimen"]
('SYN-0001', True, '5_daily')
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from cletrial.endpoints.rules import DEFAULT_RULES
from cletrial.errors import CletrialError
from cletrial.instruments.clasi import CLASI_ACTIVITY_MAX, CLASI_DAMAGE_MAX
from cletrial.synthetic.calibration import DEFAULT_CALIBRATION, Calibration

__all__ = ["generate_cohort", "generate_history", "patient_id"]

_RECRUITMENT_START = date(2009, 1, 5)
_RECRUITMENT_DAYS = 725
_GI_TERMS = ("Vomiting", "Diarrhea", "Weight loss", "Fatigue")


def patient_id(i: int) -> str:
    """The synthetic patient id of the ``i``-th patient (0-based).

    >>> patient_id(0), patient_id(12344)
    ('SYN-0001', 'SYN-12345')
    """
    return f"SYN-{i + 1:04d}"


def _rank(regimen: str) -> int:
    return DEFAULT_RULES.ladder.index(regimen)


@dataclass
class _Traits:
    """What is drawn once per patient."""

    base_a: int
    base_d: int
    base_s: int
    kind: str  # "withdrawal", "cr" or "pr"
    cr_days: float
    pr_floor: float
    pr_tau_days: float
    relapse_ranks: list[int | None]  # per cycle: relapse below rank+1 (None: holds)
    followup_days: int
    neutropenia: bool
    arthritis_visit: int | None
    reproductive_potential: bool
    medications: list[str]


@dataclass
class _State:
    """The disease as it evolves: current cycle, remission, pending relapse."""

    cycle: int = 0
    cycle_start: int = 0
    cycle_activity: int = 0
    cycle_cr_days: float = 0.0
    in_remission: bool = False
    relapse_day: int | None = None
    relapsed: bool = False
    damage: int = 0
    visits: int = 0
    rank: int = 0
    sledai_extra: list[int] = field(default_factory=list)


def _lognormal(
    rng: np.random.Generator, median: float, sigma: float, low: float, high: float
) -> float:
    return float(np.clip(median * math.exp(sigma * rng.standard_normal()), low, high))


def _relapse_ranks(rng: np.random.Generator, cal: Calibration, relapses: bool) -> list[int | None]:
    """Per cycle, the regimen rank at (or below) which the remission breaks (None: it holds);
    -1 marks a partial remission (residual activity) in that cycle."""
    if not relapses:
        return [None]
    steps = cal.relapse_step_probs or {}
    names = list(steps)
    probs = np.array([steps[n] for n in names])
    first = _rank(names[int(rng.choice(len(names), p=probs / probs.sum()))])
    modes, weights = zip(*cal.second_cycle_probs, strict=True)
    mode = modes[int(rng.choice(len(modes), p=np.array(weights) / sum(weights)))]
    second = {"again": first, "partial": -1, "after_withdrawal": 0, "holds": None}[mode]
    return [first, second]


def _baseline_scores(rng: np.random.Generator, cal: Calibration) -> tuple[int, int, int]:
    a = max(cal.clasi_a_min, round(cal.clasi_a_mean + cal.clasi_a_sd * rng.standard_normal()))
    r = cal.clasi_d_mean**2 / (cal.clasi_d_sd**2 - cal.clasi_d_mean)
    d = int(min(rng.negative_binomial(r, r / (r + cal.clasi_d_mean)), CLASI_DAMAGE_MAX))
    scores, probs = zip(*cal.sledai_probs, strict=True)
    s = int(rng.choice(scores, p=np.array(probs) / sum(probs)))
    return min(a, CLASI_ACTIVITY_MAX), d, s


def _traits(rng: np.random.Generator, cal: Calibration) -> _Traits:
    a, d, s = _baseline_scores(rng, cal)
    u = rng.random()
    kind = (
        "withdrawal"
        if u < cal.p_early_withdrawal
        else ("cr" if rng.random() < cal.p_complete_response else "pr")
    )
    slow = rng.random() < cal.p_slow_partial
    months = _lognormal(
        rng,
        cal.followup_months_median,
        cal.followup_months_sigma,
        cal.followup_months_min,
        cal.followup_months_max,
    )
    cr_weeks = _lognormal(
        rng, cal.cr_weeks_median, cal.cr_weeks_sigma, cal.cr_weeks_min, cal.cr_weeks_max
    )
    meds = ["hydroxychloroquine 200 mg/day"] + (
        ["prednisone 5 mg/day"] if rng.random() < 0.6 else []
    )
    return _Traits(
        base_a=a,
        base_d=d,
        base_s=s,
        kind=kind,
        cr_days=cr_weeks * 7,
        pr_floor=float(rng.uniform(0.2, 0.45)),
        pr_tau_days=42.0 if slow else 10.0,
        relapse_ranks=_relapse_ranks(rng, cal, kind == "cr" and rng.random() < cal.p_relapse),
        followup_days=round(months * 30.44),
        neutropenia=rng.random() < cal.p_neutropenia,
        arthritis_visit=int(rng.integers(3, 8)) if rng.random() < cal.p_mild_arthritis else None,
        reproductive_potential=bool(rng.random() < 0.5),
        medications=meds,
    )


def _count_days(neutropenia: bool, end: int) -> list[int]:
    """Blood-count days: weekly to week 8, then every 4 weeks (weekly again after grade 2)."""
    days = list(range(7, 57, 7)) + list(range(84, end + 1, 28))
    if neutropenia:
        days += [63, 70]
    return sorted(days)


def _pregnancy_days(end: int) -> list[int]:
    """Label schedule: 10-14 days and 0-1 day before the first dose, weekly for 4 weeks, then
    every 4 weeks."""
    return [-12, 0, 7, 14, 21, *range(28, end + 1, 28)]


class _Simulation:
    """One synthetic patient treated by the engine."""

    def __init__(self, i: int, seed: int, protocol: Any, cal: Calibration) -> None:
        from cletrial.protocol.engine import recommend

        self._recommend = recommend
        self.rng = np.random.default_rng([seed, i])
        self.cal, self.protocol = cal, protocol
        self.traits = t = _traits(self.rng, cal)
        self.start = _RECRUITMENT_START + timedelta(
            days=int(self.rng.integers(0, _RECRUITMENT_DAYS))
        )
        self.state = _State(cycle_activity=t.base_a, cycle_cr_days=t.cr_days, damage=t.base_d)
        self.open_events: list[tuple[dict[str, Any], int]] = []  # adverse event, end day
        self.lab_queue = [(d, "counts") for d in _count_days(t.neutropenia, t.followup_days)]
        if t.reproductive_potential:
            self.lab_queue += [(d, "pregnancy") for d in _pregnancy_days(t.followup_days)]
        self.lab_queue.sort()
        self.doc: dict[str, Any] = {
            "patient_id": patient_id(i),
            "protocol": "lenalidomide-cle-2012",
            "sex": "F",
            "reproductive_potential": t.reproductive_potential,
            "irregular_cycles": False,
            # screened eligible with the screening labs (day -3): the enrolment gate of the
            # protocol engine allows no first dose without a verdict (left out of the returned
            # history, whose format the endpoints read)
            "eligibility": {"date": self.iso(-3), "verdict": "eligible"},
            "baseline": {
                "date": self.iso(0),
                "clasi": {"activity": t.base_a, "damage": t.base_d},
                "sledai": {"score": t.base_s},
                "medications": list(t.medications),
            },
            "assessments": [],
            "labs": [],
            "doses": [],
            "adverse_events": [],
            "pregnancy_tests": [],
            "events": [],
        }
        positive = self.rng.random() < cal.p_anti_dsdna_positive
        self.immunology = {
            "anti_dsdna": float(np.exp(self.rng.normal(4.3, 0.45)))
            if positive
            else float(self.rng.uniform(2, 14)),
            "c3": float(self.rng.normal(100, 20)),
            "c4": float(self.rng.normal(20, 6)),
        }

    def iso(self, day: int) -> str:
        return (self.start + timedelta(days=day)).isoformat()

    def lab(self, day: int, test: str, value: float, unit: str) -> None:
        self.doc["labs"].append(
            {"date": self.iso(day), "test": test, "value": round(max(value, 0.0), 2), "unit": unit}
        )

    def counts(self, day: int) -> None:
        low = self.traits.neutropenia and day == 56
        anc = 1.19 if low else float(np.clip(self.rng.normal(3.8, 0.9), 1.9, 8.0))
        self.lab(day, "neutrophils", anc, "10^9/L")
        other = 2.4 if low else float(np.clip(self.rng.normal(2.4, 0.5), 1.2, 4.0))
        self.lab(day, "wbc", anc + other, "10^9/L")  # ANC 1.19 is 33% of WBC 3.6 (the paper)
        self.lab(day, "platelets", float(np.clip(self.rng.normal(250, 50), 160, 450)), "10^9/L")
        self.lab(day, "hemoglobin", float(np.clip(self.rng.normal(13, 1), 11, 16)), "g/dL")
        if low:
            for term, start, cause in (
                ("Insomnia", 50, "probable"),
                ("Neutropenia", 56, "possible"),
            ):
                self.adverse_event(term, start, start + 21, cause)

    def adverse_event(self, term: str, start: int, end: int, causality: str) -> None:
        """Record a grade 2 event; its end date is filled in once that day has passed."""
        event = {
            "term": term,
            "start": self.iso(start),
            "end": None,
            "grade": 2,
            "causality": causality,
            "serious": False,
        }
        self.doc["adverse_events"].append(event)
        self.open_events.append((event, end))

    def close_events(self, day: int) -> None:
        still_open = []
        for event, end in self.open_events:
            if end <= day:
                event["end"] = self.iso(end)
            else:
                still_open.append((event, end))
        self.open_events = still_open

    def immunology_labs(self, day: int, end: bool) -> None:
        for test, base in self.immunology.items():
            value = base * float(np.exp(self.rng.normal(0, 0.15))) if end else base
            self.lab(day, test, value, "IU/mL" if test == "anti_dsdna" else "mg/dL")

    def labs_until(self, day: int) -> None:
        while self.lab_queue and self.lab_queue[0][0] <= day:
            when, kind = self.lab_queue.pop(0)
            if kind == "counts":
                self.counts(when)
            else:
                self.doc["pregnancy_tests"].append({"date": self.iso(when), "result": "negative"})

    def activity(self, day: int) -> int:
        """CLASI-A at a visit on ``day`` (updates the remission and relapse state)."""
        st, t, rng = self.state, self.traits, self.rng
        if st.relapsed:
            return max(4, st.cycle_activity + int(rng.integers(-1, 2)))
        if st.relapse_day is not None:
            if day < st.relapse_day:
                return int(rng.integers(1, 4))  # residual activity: the taper pauses
            st.relapse_day, st.relapsed, st.in_remission = None, True, False
            st.cycle_activity = 4 + int(rng.poisson(3))
            return st.cycle_activity
        tau, a0 = day - st.cycle_start, st.cycle_activity
        if t.kind == "pr":
            level = a0 * (t.pr_floor + (1 - t.pr_floor) * math.exp(-tau / t.pr_tau_days))
            return max(1, round(level + 0.5 * rng.standard_normal()))
        partial = self.partial_cycle()
        if tau >= st.cycle_cr_days and partial:
            return int(rng.integers(1, 4))
        if st.in_remission or tau >= st.cycle_cr_days:
            st.in_remission = True
            return 0
        level = a0 * math.exp(-math.log(2 * a0) * tau / st.cycle_cr_days)
        return max(1, round(level + 0.7 * rng.standard_normal()))

    def partial_cycle(self) -> bool:
        """This cycle reaches only residual activity (CLASI-A 1-3), never 0."""
        ranks, cycle = self.traits.relapse_ranks, self.state.cycle
        return cycle < len(ranks) and ranks[cycle] == -1

    def sledai(self) -> int:
        st, t, rng = self.state, self.traits, self.rng
        score = t.base_s + int(rng.choice([-2, 0, 2], p=[0.05, 0.9, 0.05]))
        if t.arthritis_visit is not None and st.visits in (
            t.arthritis_visit,
            t.arthritis_visit + 1,
        ):
            score = t.base_s + 4  # mild arthritis: SLEDAI-2K arthritis descriptor (4 points)
        return max(score, 0)

    def visit(self, day: int) -> None:
        st = self.state
        st.visits += 1
        if self.rng.random() < self.cal.damage_increase_per_visit:
            st.damage = min(st.damage + 1, CLASI_DAMAGE_MAX)
        self.doc["assessments"].append(
            {
                "date": self.iso(day),
                "clasi": {"activity": self.activity(day), "damage": st.damage},
                "sledai": {"score": self.sledai()},
                "medications": list(self.traits.medications),
            }
        )

    def give(self, day: int, regimen: str) -> None:
        """Record the regimen from ``day`` and let the disease react to the change."""
        st, new = self.state, _rank(regimen)
        old, st.rank = st.rank, new
        self.doc["doses"].append({"date": self.iso(day), "regimen": regimen})
        if new > old and st.relapsed:
            st.cycle += 1
            st.cycle_start, st.relapsed, st.in_remission = day, False, False
            st.cycle_cr_days = float(self.rng.uniform(14, 42))
        elif new < old and st.in_remission and st.relapse_day is None:
            ranks = self.traits.relapse_ranks
            limit = ranks[st.cycle] if st.cycle < len(ranks) else None
            if limit is not None and new <= limit:
                low, high = self.cal.relapse_delay_days
                st.relapse_day = day + round(low + (high - low) * self.rng.beta(2, 2.5))

    def recommend(self, day: int) -> Any:
        self.close_events(day)
        return self._recommend(self.doc, self.protocol, self.start + timedelta(days=day))

    def next_visit(self, rec: Any, day: int, week2_done: bool) -> int:
        if self.traits.kind == "withdrawal":
            return 7
        planned = day + 84 if rec.next_visit is None else (rec.next_visit.date - self.start).days
        candidates = [planned] + ([] if week2_done else [14])
        if self.state.relapse_day is not None:
            candidates.append(self.state.relapse_day)
        return max(min(candidates), day + 1)

    def withdraw(self, day: int) -> None:
        """Disabling gastrointestinal side effects in week 1 (Table 3, patient 3)."""
        for term in _GI_TERMS:
            self.adverse_event(term, day - 2, day + 14, "possible")
        self.doc["events"].append({"date": self.iso(day), "type": "physician_decision"})

    def safety_follow_up(self, day: int) -> int:
        """A blood count two weeks after a stop; returns the day of last contact."""
        self.counts(day + 14)
        return day + 14

    def run(self) -> dict[str, Any]:
        """Treat the patient to the end of follow-up (or a stop); return the history."""
        t = self.traits
        self.counts(-3)
        self.immunology_labs(-3, end=False)
        self.labs_until(0)
        rec = self.recommend(0)
        if rec.action != "start" or rec.regimen is None:
            raise CletrialError(
                f"{self.doc['patient_id']}: the engine did not start treatment ({rec.action}); "
                "the synthetic baseline is incomplete"
            )
        self.doc["first_dose_date"] = self.iso(0)
        self.give(0, rec.regimen.id)
        day, week2_done = 0, False
        while True:
            visit_day = self.next_visit(rec, day, week2_done)
            if visit_day > t.followup_days:
                break
            week2_done = week2_done or visit_day >= 14
            self.labs_until(visit_day)
            if t.kind == "withdrawal":
                self.withdraw(visit_day)  # no efficacy assessment before the stop
            else:
                self.visit(visit_day)
            rec = self.recommend(visit_day)
            day = visit_day
            if rec.regimen is not None and _rank(rec.regimen.id) != self.state.rank:
                self.give(day, rec.regimen.id)
            if rec.action == "stop":
                day = self.safety_follow_up(day)
                break
        self.immunology_labs(day, end=True)
        self.close_events(day)
        return {
            "patient_id": self.doc["patient_id"],
            "synthetic": True,
            **{k: v for k, v in self.doc.items() if k not in ("patient_id", "eligibility")},
        }


def generate_history(
    i: int, seed: int, *, protocol: Any = None, calibration: Calibration = DEFAULT_CALIBRATION
) -> dict[str, Any]:
    """The ``i``-th synthetic patient (0-based) of the cohort with ``seed``.

    Parameters
    ----------
    i : int
        Patient number, 0-based; the id is ``SYN-{i + 1:04d}``.
    seed : int
        Cohort seed; the patient depends only on (seed, i).
    protocol : ProtocolDefinition, optional
        The protocol the engine applies (default: the bundled 2012 lenalidomide protocol).
    calibration : Calibration
        The disease model's parameters.

    Returns
    -------
    dict
        A patient history (``docs/formats.md``) with ``"synthetic": true``.

    >>> generate_history(3, seed=1)["patient_id"]
    'SYN-0004'
    """
    if protocol is None:
        from cletrial.protocol.definition import load_protocol

        protocol = load_protocol()
    return _Simulation(i, seed, protocol, calibration).run()


def generate_cohort(
    n: int, seed: int, *, protocol: Any = None, calibration: Calibration = DEFAULT_CALIBRATION
) -> Iterator[dict[str, Any]]:
    """Yield ``n`` synthetic patient histories (see :func:`generate_history`).

    >>> [h["patient_id"] for h in generate_cohort(2, seed=5)]
    ['SYN-0001', 'SYN-0002']
    """
    if n < 0:
        from cletrial.errors import InputError

        raise InputError("patients", n, "must be >= 0")
    if protocol is None:
        from cletrial.protocol.definition import load_protocol

        protocol = load_protocol()
    for i in range(n):
        yield generate_history(i, seed, protocol=protocol, calibration=calibration)
