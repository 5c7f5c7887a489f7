"""A second, different definition (thalidomide-cle-example) loads and runs: the engine is
general."""

from __future__ import annotations

from typing import Any

from cletrial.protocol import ProtocolDefinition, list_protocols, recommend, recommend_at_visits

from .conftest import HistoryFactory, day


def _thalidomide(make_history: HistoryFactory, *args: Any, **kwargs: Any) -> dict[str, Any]:
    history = make_history(*args, **kwargs)
    history["protocol"] = "thalidomide-cle-example"
    return history


def test_the_protocols_are_bundled() -> None:
    assert list_protocols() == [
        "lenalidomide-cle-2012",
        "lenalidomide-vs-placebo-cle",
        "lenalidomide-withdrawal-cle",
        "thalidomide-cle-example",
    ]


def test_example_protocol_course(
    thalidomide: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    history = _thalidomide(
        make_history,
        10,
        [(4, 2), (8, 0), (12, 0), (16, 0), (20, 6), (24, 3), (32, 0)],
        [(0, "50_daily"), (8, "50_alternate"), (16, "50_twice_weekly"), (20, "50_alternate")],
    )
    recs = recommend_at_visits(history, thalidomide)
    steps = [(r.action, r.regimen.id if r.regimen else None) for r in recs]
    assert steps == [
        ("continue", "50_daily"),  # week 4: still before the week-8 review
        ("taper", "50_alternate"),  # week 8 review: CR
        ("continue", "50_alternate"),  # 8-week taper interval: not yet
        ("taper", "50_twice_weekly"),
        ("maintain", "50_alternate"),  # relapse (>= 5) -> maintenance after the first relapse
        ("maintain", "50_alternate"),
        ("maintain", "50_alternate"),
    ]
    assert recs[4].reasons[0].rule == "RELAPSE-MAINTAIN"
    assert recs[4].reasons[0].source == "protocol"  # a protocol rule in this definition
    assert all(r.example_protocol for r in recs)
    assert recs[0].alerts[0].rule == "EXAMPLE-PROTOCOL" and "EXAMPLE" in recs[0].alerts[0].text


def test_example_protocol_escalates_to_100mg(
    thalidomide: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    history = _thalidomide(make_history, 10, [(8, 8)], [(0, "50_daily")])  # 20% < 30%
    rec = recommend(history, thalidomide, day(8))
    assert (rec.action, rec.regimen.id, rec.regimen.dose_mg) == ("escalate", "100_daily", 100)  # type: ignore[union-attr]
    minor = _thalidomide(make_history, 10, [(8, 6)], [(0, "50_daily")])  # 40%: not PR (60%)
    assert recommend(minor, thalidomide, day(8)).reasons[0].rule == "REVIEW-MINOR"


def test_example_protocol_uses_its_own_safety_numbers(
    thalidomide: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    lab = {"date": day(3).isoformat(), "test": "neutrophils", "value": 0.8, "unit": "10^9/L"}
    history = _thalidomide(make_history, 10, [(4, 2)], [(0, "50_daily")], labs=[lab])
    assert recommend(history, thalidomide, day(4)).action != "stop"  # grade 3 < stop grade 4
    flare = _thalidomide(
        make_history, 10, [(4, 2)], [(0, "50_daily")], sledai=2, visit_sledai={4: 13}
    )
    assert recommend(flare, thalidomide, day(4)).action == "stop"  # +11 > 10
