"""Messy random patient histories for cross-checking the two derivation paths.

Not calibrated to anything, but valid histories (lists in date order, as the history parser
requires): they stress the rules with missing scores, visits between baseline and the first
dose, random dose moves (withdrawals, restarts, escalations), disposition events,
laboratory values around the windows and adverse events with missing fields. Seeded.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np

from cletrial.endpoints.rules import CAUSALITY_TERMS, DEFAULT_RULES, EVENT_TYPES

DEFAULT_LADDER = DEFAULT_RULES.ladder


def _iso(origin: date, day: int) -> str:
    return (origin + timedelta(days=day)).isoformat()


def _activity(rng: np.random.Generator, p_zero: float, base: int) -> int | None:
    u = rng.random()
    if u < 0.12:
        return None
    if u < 0.12 + p_zero:
        return 0
    if u < 0.3 + p_zero:
        return int(rng.integers(1, 4))
    return int(rng.integers(max(base // 3, 1), max(base, 2) + 3))


def _visit_days(rng: np.random.Generator) -> list[int]:
    """A protocol-like schedule with jitter, dropped visits and unscheduled extras."""
    planned = [14, 28, 56, 84, 112, 140, 168, 252, 336, 420, 504, 588, 672]
    days = [d + int(rng.integers(-8, 9)) for d in planned if rng.random() > 0.2]
    days = days[: int(rng.integers(0, len(days) + 1))] if rng.random() < 0.3 else days
    days += [int(rng.integers(-5, 700)) for _ in range(int(rng.integers(0, 4)))]
    return sorted(set(days))


def _assessments(
    rng: np.random.Generator, origin: date, days: list[int], base: tuple[int, int | None]
) -> list[dict[str, Any]]:
    base_a, base_s = base
    p_zero = float(rng.choice([0.0, 0.0, 0.1, 0.35]))
    out = []
    for day in days:
        item: dict[str, Any] = {"date": _iso(origin, day)}
        a = _activity(rng, p_zero, base_a)
        d = None if rng.random() < 0.2 else int(rng.integers(0, 12))
        if a is not None:  # CLASI scores need the activity
            item["clasi"] = {"activity": a, **({} if d is None else {"damage": d})}
        if rng.random() < 0.7:
            ref = base_s if base_s is not None else 4
            item["sledai"] = {"score": int(np.clip(ref + rng.integers(-4, 16), 0, 105))}
        out.append(item)
    return out  # in date order, as the history format requires


def _doses(rng: np.random.Generator, origin: date, days: list[int]) -> list[dict[str, Any]]:
    rank = 4 if rng.random() < 0.9 else 5
    doses = [{"date": _iso(origin, 0), "regimen": DEFAULT_LADDER[rank]}]
    for day in days:
        if day < 0 or rng.random() < 0.35:
            continue
        day += 0 if rng.random() < 0.8 else int(rng.integers(1, 10))
        u = rng.random()
        if u < 0.5:
            rank = max(rank - 1, 0)
        elif u < 0.65:
            rank = 4
        elif u < 0.8:
            rank = min(rank + 1, 3)
        elif u < 0.87:
            rank = 0
        else:
            rank = int(rng.integers(0, 6))
        doses.append({"date": _iso(origin, day), "regimen": DEFAULT_LADDER[rank]})
    doses[1:] = sorted(doses[1:], key=lambda d: d["date"])
    by_date = {d["date"]: d for d in doses}  # one regimen a date: the later record wins
    return list(by_date.values())


def _labs(rng: np.random.Generator, origin: date) -> list[dict[str, Any]]:
    labs = []
    for _ in range(int(rng.integers(0, 12))):
        test = str(rng.choice(["anti_dsdna", "c3", "c4", "neutrophils"]))
        day = int(rng.integers(-45, 5)) if rng.random() < 0.4 else int(rng.integers(0, 700))
        unit = {"anti_dsdna": "IU/ml", "c3": "mg/dL", "c4": "g/L", "neutrophils": "10^9/L"}[test]
        labs.append(
            {
                "date": _iso(origin, day),
                "test": test,
                "unit": unit,
                "value": round(float(rng.uniform(0.1, 150)), 2),
            }
        )
    return sorted(labs, key=lambda lab: lab["date"])


def _adverse_events(rng: np.random.Generator, origin: date) -> list[dict[str, Any]]:
    aes = []
    for _ in range(int(rng.integers(0, 4))):
        start = int(rng.integers(-10, 400))
        aes.append(
            {
                "term": str(rng.choice(["Insomnia", "Neutropenia", "Vomiting", "Fatigue"])),
                "start": _iso(origin, start),
                "end": None
                if rng.random() < 0.4
                else _iso(origin, start + int(rng.integers(0, 60))),
                "grade": int(rng.integers(1, 6)),
                "causality": None if rng.random() < 0.15 else str(rng.choice(CAUSALITY_TERMS)),
                "serious": None if rng.random() < 0.15 else bool(rng.random() < 0.2),
            }
        )
    return sorted(aes, key=lambda ae: ae["start"])


def random_history(rng: np.random.Generator, patient_id: str) -> dict[str, Any]:
    """One random history (see the module docstring)."""
    origin = date(2009, 1, 5) + timedelta(days=int(rng.integers(0, 700)))
    treated = rng.random() > 0.05
    base_a = None if rng.random() < 0.05 else int(rng.integers(0, 25))
    base_d = None if rng.random() < 0.1 else int(rng.integers(0, 10))
    base_s = None if rng.random() < 0.1 else int(rng.choice([0, 2, 4, 6, 8, 10, 12, 14]))
    days = _visit_days(rng)
    clasi = {} if base_a is None else {"activity": base_a}
    if base_a is not None and base_d is not None:
        clasi["damage"] = base_d
    history: dict[str, Any] = {
        "patient_id": patient_id,
        "synthetic": True,
        "baseline": {"date": _iso(origin, min([0, *days])), "clasi": clasi},
        "assessments": _assessments(rng, origin, days, (base_a or 10, base_s)),
        "labs": _labs(rng, origin),
        "adverse_events": _adverse_events(rng, origin),
    }
    if base_s is not None:
        history["baseline"]["sledai"] = {"score": base_s}
    if treated:
        history["doses"] = _doses(rng, origin, days)
        if rng.random() < 0.8:
            history["first_dose_date"] = _iso(origin, 0)
        if rng.random() < 0.12:
            day = int(rng.integers(0, 400)) if rng.random() < 0.7 else int(rng.integers(0, 20))
            history["events"] = [{"date": _iso(origin, day), "type": str(rng.choice(EVENT_TYPES))}]
    return history


def random_cohort(seed: int, n: int) -> list[dict[str, Any]]:
    """``n`` random histories from ``seed``."""
    rng = np.random.default_rng(seed)
    return [random_history(rng, f"SYN-{i + 1:04d}") for i in range(n)]
