"""Hand-written patient histories (docs/formats.md) for the cohort report tests.

Six patients, marked synthetic: CR with taper and relapse during taper then restart (S1), CR and
sustained remission after withdrawal (S2), PR on 10 mg after escalation (S3), withdrawn in week 1
for adverse events (S4), CR with labs and a grade 2 neutropenia (S5), a patient with a missing
week-12 CLASI (S6). Dates are days from 2010-01-04.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

START = date(2010, 1, 4)


def day(n: int) -> str:
    """ISO date ``n`` days after the first dose."""
    return (START + timedelta(days=n)).isoformat()


def _visit(d: int, activity: int | None, damage: int | None = 1) -> dict[str, Any]:
    clasi: dict[str, int] = {}
    if activity is not None:
        clasi["activity"] = activity
    if damage is not None:
        clasi["damage"] = damage
    return {"date": day(d), "clasi": clasi or None}


def _history(
    pid: str,
    baseline: tuple[int, int],
    visits: list[dict[str, Any]],
    doses: list[tuple[int, str]],
    **extra: Any,
) -> dict[str, Any]:
    return {
        "patient_id": pid,
        "protocol": "lenalidomide-cle-2012",
        "sex": "F",
        "synthetic": True,
        "first_dose_date": day(0),
        "baseline": {
            "date": day(0),
            "clasi": {"activity": baseline[0], "damage": baseline[1]},
            "sledai": {"score": 2},
        },
        "assessments": visits,
        "doses": [{"date": day(d), "regimen": r} for d, r in doses],
        **extra,
    }


def cohort() -> list[dict[str, Any]]:
    """The six histories, in patient order."""
    labs = [
        {"date": day(-3), "test": t, "value": v, "unit": u}
        for t, v, u in (("anti_dsdna", 40, "IU/ml"), ("c3", 85, "mg/dL"), ("c4", 15, "mg/dL"))
    ]
    labs += [
        {"date": day(330), "test": t, "value": v, "unit": u}
        for t, v, u in (("anti_dsdna", 35, "IU/ml"), ("c3", 90, "mg/dL"), ("c4", 16, "mg/dL"))
    ]
    labs2 = [dict(x, value=x["value"] + 5) for x in labs]
    return [
        _history(
            "S1",
            (10, 2),
            [
                _visit(14, 6, 2),
                _visit(28, 0, 2),
                _visit(56, 0, 2),
                _visit(84, 5, 2),
                _visit(112, 0, 2),
                _visit(168, 0, 3),
                _visit(336, 0, 3),
            ],
            [(0, "5_daily"), (28, "5_alternate"), (84, "5_daily"), (112, "5_alternate")],
            labs=labs,
        ),
        _history(
            "S2",
            (19, 0),
            [
                _visit(14, 8, 0),
                _visit(28, 0, 0),
                _visit(56, 0, 0),
                _visit(84, 0, 0),
                _visit(112, 0, 0),
                _visit(168, 0, 0),
                _visit(252, 0, 0),
                _visit(336, 0, 1),
            ],
            [
                (0, "5_daily"),
                (28, "5_alternate"),
                (56, "5_thrice_weekly"),
                (84, "5_twice_weekly"),
                (112, "off"),
            ],
            labs=labs2,
        ),
        _history(
            "S3",
            (13, 2),
            [
                _visit(14, 11, 2),
                _visit(28, 10, 2),
                _visit(56, 7, 2),
                _visit(84, 6, 2),
                _visit(168, 5, 2),
                _visit(336, 5, 3),
            ],
            [(0, "5_daily"), (28, "10_daily")],
        ),
        _history(
            "S4",
            (3, 1),
            [],
            [(0, "5_daily"), (7, "off")],
            adverse_events=[
                {
                    "term": "Vomiting",
                    "start": day(5),
                    "end": day(12),
                    "grade": 2,
                    "causality": "possible",
                    "serious": False,
                }
            ],
            events=[{"date": day(7), "type": "physician_decision"}],
        ),
        _history(
            "S5",
            (11, 2),
            [
                _visit(14, 4, 2),
                _visit(28, 2, 2),
                _visit(56, 0, 2),
                _visit(84, 0, 2),
                _visit(168, 0, 2),
                _visit(336, 0, 2),
            ],
            [(0, "5_daily"), (56, "5_alternate"), (84, "5_thrice_weekly")],
            labs=[{"date": day(60), "test": "neutrophils", "value": 1190, "unit": "/mm3"}],
            adverse_events=[
                {
                    "term": "Insomnia",
                    "start": day(40),
                    "end": None,
                    "grade": 1,
                    "causality": "probable",
                    "serious": False,
                },
                {
                    "term": "Neutropenia",
                    "start": day(60),
                    "end": day(90),
                    "grade": 2,
                    "causality": "possible",
                    "serious": False,
                },
            ],
        ),
        _history(
            "S6",
            (9, 0),
            [_visit(14, 7, 0), _visit(28, 6, None), _visit(56, None, None)],
            [(0, "5_daily")],
        ),
    ]
