"""Build small hand-worked histories and derive them both ways (reference and vectorised)."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from cletrial.endpoints import (
    EndpointRules,
    build_visit_table,
    compute_patient_endpoints,
    course_from_history,
    derive_endpoints,
)
from cletrial.endpoints.rules import DEFAULT_RULES

ORIGIN = date(2009, 1, 5)


def iso(day: int) -> str:
    """The date ``day`` days after the first dose (2009-01-05)."""
    return (ORIGIN + timedelta(days=day)).isoformat()


def history(
    *,
    base: int | None = 10,
    damage: int | None = 2,
    sledai: int | None = 4,
    visits: list[tuple[Any, ...]] = (),  # type: ignore[assignment]
    doses: list[tuple[int, str]] | None = None,
    events: list[tuple[int, str]] = (),  # type: ignore[assignment]
    labs: list[tuple[int, str, float]] = (),  # type: ignore[assignment]
    aes: list[dict[str, Any]] = (),  # type: ignore[assignment]
    treated: bool = True,
    patient_id: str = "P01",
) -> dict[str, Any]:
    """A valid history; ``visits`` are (day, activity[, damage[, sledai]]), None = not assessed.

    Lists are put in date order as the history format requires (a later visit or dose on the
    same day replaces an earlier one); the baseline is dated on the first dose or the first
    visit, whichever is earlier.
    """
    visits = list({v[0]: v for v in sorted(visits, key=lambda v: v[0])}.values())
    first_day = min([0, *(v[0] for v in visits)])
    baseline: dict[str, Any] = {"date": iso(first_day)}
    if base is not None:  # CLASI scores need the activity; damage alone is not recorded
        baseline["clasi"] = {"activity": base, **({} if damage is None else {"damage": damage})}
    if sledai is not None:
        baseline["sledai"] = {"score": sledai}
    assessments = []
    for visit in visits:
        day, activity, dmg, sl = (*visit, None, None, None)[:4]
        item: dict[str, Any] = {"date": iso(day)}
        if activity is not None:
            item["clasi"] = {"activity": activity, **({} if dmg is None else {"damage": dmg})}
        if sl is not None:
            item["sledai"] = {"score": sl}
        assessments.append(item)
    h: dict[str, Any] = {
        "patient_id": patient_id,
        "baseline": baseline,
        "assessments": assessments,
        "labs": [
            {
                "date": iso(d),
                "test": t,
                "value": v,
                "unit": "IU/ml" if t == "anti_dsdna" else "mg/dL",
            }
            for d, t, v in sorted(labs, key=lambda lab: lab[0])
        ],
        "adverse_events": sorted(aes, key=lambda ae: str(ae["start"])),
        "events": [{"date": iso(d), "type": t} for d, t in sorted(events)],
    }
    if treated:
        h["first_dose_date"] = iso(0)
        given = dict(sorted(doses or [(0, "5_daily")], key=lambda d: d[0]))
        h["doses"] = [{"date": iso(d), "regimen": r} for d, r in given.items()]
    return h


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return a == b


def derive_both(h: dict[str, Any], rules: EndpointRules = DEFAULT_RULES) -> dict[str, Any]:
    """Derive one history both ways, require agreement, return the subject row."""
    course = course_from_history(h, rules)
    ref = compute_patient_endpoints(course, rules)
    fast = derive_endpoints(build_visit_table([course]), rules)
    row = fast.records()[0]
    for name, value in ref.subject.items():
        assert _same(value, row[name]), (name, value, row[name])
    assert len(fast.relapses) == len(ref.relapses)
    row["_relapses"] = ref.relapses
    return row
