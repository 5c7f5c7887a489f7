"""Fixtures of the protocol engine tests: the bundled protocols and a history builder.

``make_history`` writes histories the way a site would record them: a baseline on day 0, the
first dose the same day, assessments and regimen changes on given weeks (or days), and, unless
asked otherwise, normal blood counts on the protocol's schedule so that tests about one rule are
not disturbed by overdue-lab alerts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from cletrial.protocol import ProtocolDefinition, load_protocol

START = dt.date(2009, 2, 2)
MEDS = ["hydroxychloroquine 200 mg/day", "prednisone 5 mg/day"]

HistoryFactory = Callable[..., dict[str, Any]]


def day(offset: float) -> dt.date:
    """The date ``offset`` weeks after START (fractions allowed: 0.5 = 3.5 days, rounded)."""
    return START + dt.timedelta(days=round(offset * 7))


def iso(offset: float) -> str:
    """ISO text of :func:`day`."""
    return day(offset).isoformat()


@pytest.fixture(scope="session")
def protocol() -> ProtocolDefinition:
    """The default protocol, parsed once."""
    return load_protocol()


@pytest.fixture(scope="session")
def thalidomide() -> ProtocolDefinition:
    """The second, example protocol."""
    return load_protocol("thalidomide-cle-example")


def _counts(until: dt.date) -> list[dict[str, Any]]:
    offsets = [*range(1, 9), *range(12, 200, 4)]
    labs = []
    for week in offsets:
        when = day(week)
        if when > until:
            break
        labs += [
            {"date": when.isoformat(), "test": "wbc", "value": 5.1, "unit": "10^9/L"},
            {"date": when.isoformat(), "test": "neutrophils", "value": 3100, "unit": "/mm3"},
            {"date": when.isoformat(), "test": "platelets", "value": 230, "unit": "10^9/L"},
        ]
    return labs


def build_history(
    baseline: int | None = 10,
    visits: list[tuple[float, int | None]] | None = None,
    doses: list[tuple[float, str]] | None = None,
    *,
    sledai: int | None = 2,
    visit_sledai: dict[float, int] | None = None,
    counts: bool = True,
    labs: list[dict[str, Any]] | None = None,
    until: float | None = None,
    sex: str = "F",
    reproductive_potential: bool | None = False,
    screened: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """A history: ``visits`` are (week, CLASI-A or None), ``doses`` (week, regimen id).

    ``doses`` defaults to 5 mg daily from day 0. ``until`` (weeks) bounds the automatic blood
    counts (default: the last visit or dose). ``screened`` records an eligible screening
    verdict a week before baseline (the enrolment gate needs one before a first dose).
    """
    visits = visits or []
    doses = [(0, "5_daily")] if doses is None else doses
    visit_sledai = visit_sledai or {}
    last = max([w for w, _ in visits] + [w for w, _ in doses] + [0])
    history: dict[str, Any] = {
        "patient_id": "T01",
        "protocol": "lenalidomide-cle-2012",
        "sex": sex,
        "reproductive_potential": reproductive_potential,
        "baseline": {"date": iso(0), "medications": MEDS},
        "assessments": [],
        "labs": [],
        "doses": [{"date": iso(w), "regimen": r} for w, r in doses],
    }
    if screened:
        history["eligibility"] = {"date": iso(-1), "verdict": "eligible"}
    if baseline is not None:
        history["baseline"]["clasi"] = {"activity": baseline, "damage": 1}
    if sledai is not None:
        history["baseline"]["sledai"] = {"score": sledai}
    for week, activity in visits:
        visit: dict[str, Any] = {"date": iso(week), "medications": MEDS}
        if activity is not None:
            visit["clasi"] = {"activity": activity, "damage": 1}
        score = visit_sledai.get(week, sledai)
        if score is not None:
            visit["sledai"] = {"score": score}
        history["assessments"].append(visit)
    if doses:
        history["first_dose_date"] = history["doses"][0]["date"]
    auto = _counts(day(until if until is not None else last)) if counts and doses else []
    history["labs"] = sorted(auto + (labs or []), key=lambda x: x["date"])
    history.update(extra)
    return history


@pytest.fixture
def make_history() -> HistoryFactory:
    """The history builder (see :func:`build_history`)."""
    return build_history


def protocol_document(name: str = "lenalidomide-cle-2012") -> dict[str, Any]:
    """The bundled definition as a plain (mutable) document."""
    from importlib import resources

    import yaml

    text = resources.files("cletrial.protocols").joinpath(f"{name}.yaml").read_text("utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def variant_protocol(**changes: Any) -> ProtocolDefinition:
    """The default protocol with settings changed: ``dosing__taper__interval_weeks=8``.

    Under ``rules`` an underscore stands for the hyphen of a rule id (``rules__NONRESPONSE_STOP``).
    """
    from cletrial.protocol import parse_protocol

    document = protocol_document()
    for path, value in changes.items():
        *parents, last = path.split("__")
        if parents == ["rules"]:
            last = last.replace("_", "-")
        node = document
        for part in parents:
            node = node[part]
        node[last] = value
    return parse_protocol(document, "variant.yaml")


@pytest.fixture
def variant() -> Callable[..., ProtocolDefinition]:
    """Build a changed copy of the default protocol (see :func:`variant_protocol`)."""
    return variant_protocol
