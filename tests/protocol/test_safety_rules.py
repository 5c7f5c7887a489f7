"""Stopping rules and safety alerts (shared/spec/protocol.md section 3), each with a test.

CTCAE v5.0 thresholds (shared/spec/instruments.md): neutrophils grade 3 below 1.0 x10^9/L,
WBC grade 3 below 2.0, platelets grade 3 below 50; a value on a threshold is the milder grade.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cletrial.protocol import ProtocolDefinition, recommend

from .conftest import HistoryFactory, day

Variant = Callable[..., ProtocolDefinition]


def _lab(week: float, test: str, value: float, unit: str) -> dict[str, Any]:
    return {"date": day(week).isoformat(), "test": test, "value": value, "unit": unit}


@pytest.mark.parametrize(
    ("test", "value", "unit", "stops"),
    [
        ("neutrophils", 999, "/mm3", True),
        ("neutrophils", 1000, "/uL", False),  # exactly 1.0 is grade 2
        ("neutrophils", 0.4, "10^9/L", True),  # grade 4
        ("wbc", 1.9, "10^9/L", True),
        ("wbc", 2000, "/mm3", False),
        ("platelets", 49, "10^9/L", True),
        ("platelets", 50000, "/mm3", False),
        ("hemoglobin", 7.5, "g/dL", False),  # anaemia is not in the stopping rule
    ],
)
def test_myelosuppression_grade3_stops(
    protocol: ProtocolDefinition,
    make_history: HistoryFactory,
    test: str,
    value: float,
    unit: str,
    stops: bool,
) -> None:
    history = make_history(10, [(4, 2)], labs=[_lab(3, test, value, unit)])
    rec = recommend(history, protocol, day(4))
    assert (rec.action == "stop") is stops
    if stops:
        assert rec.reasons[0].rule == "STOP-MYELOSUPPRESSION"
        assert rec.reasons[0].data["ctcae_version"] == "5.0"


def test_stop_grade_is_a_setting(variant: Variant, make_history: HistoryFactory) -> None:
    protocol = variant(safety__myelosuppression__stop_grade=4)
    history = make_history(10, [(4, 2)], labs=[_lab(3, "neutrophils", 0.8, "10^9/L")])
    assert recommend(history, protocol, day(4)).action == "continue"


def test_screening_labs_before_baseline_are_not_treatment_data(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    history = make_history(10, [(4, 2)], labs=[_lab(-1, "neutrophils", 0.8, "10^9/L")])
    assert recommend(history, protocol, day(4)).action == "continue"


def test_stop_persists_after_recovery(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    labs = [_lab(3, "neutrophils", 0.8, "10^9/L"), _lab(3.5, "neutrophils", 2.5, "10^9/L")]
    rec = recommend(make_history(10, [(4, 2)], labs=labs), protocol, day(4))
    assert rec.action == "stop" and rec.course.stop_date == day(3)


@pytest.mark.parametrize(
    ("event", "rule", "disposition", "source"),
    [
        ("consent_withdrawn", "STOP-CONSENT-WITHDRAWN", "WITHDRAWAL BY SUBJECT", "protocol"),
        ("pregnancy", "STOP-PREGNANCY", "PREGNANCY", "protocol"),
        ("life_threatening", "STOP-LIFE-THREATENING", "ADVERSE EVENT", "protocol"),
        ("physician_decision", "STOP-PHYSICIAN-DECISION", "PHYSICIAN DECISION", "protocol"),
        ("death", "STOP-DEATH", "DEATH", "default"),
        ("lost_to_follow_up", "STOP-LOST-TO-FOLLOW-UP", "LOST TO FOLLOW-UP", "default"),
        ("thrombosis", "LABEL-THROMBOSIS", "ADVERSE EVENT", "label"),
        ("severe_rash", "LABEL-SEVERE-RASH", "ADVERSE EVENT", "label"),
    ],
)
def test_events_stop_with_their_disposition(
    protocol: ProtocolDefinition,
    make_history: HistoryFactory,
    event: str,
    rule: str,
    disposition: str,
    source: str,
) -> None:
    history = make_history(10, [(2, 5)], events=[{"date": day(3).isoformat(), "type": event}])
    rec = recommend(history, protocol, day(3))
    assert (rec.action, rec.disposition) == ("stop", disposition)
    assert (rec.reasons[0].rule, rec.reasons[0].source) == (rule, source)


def test_label_rule_switched_off_does_not_stop_but_alerts(
    variant: Variant, make_history: HistoryFactory
) -> None:
    protocol = variant(rules__LABEL_THROMBOSIS={"source": "label", "enabled": False})
    history = make_history(
        10, [(2, 5)], events=[{"date": day(2).isoformat(), "type": "thrombosis"}]
    )
    rec = recommend(history, protocol, day(2))
    assert rec.action == "continue"
    assert any(a.rule == "EVENT-UNHANDLED" for a in rec.alerts)


@pytest.mark.parametrize(
    ("term", "grade", "rule"),
    [
        ("Deep vein thrombosis", 2, "LABEL-THROMBOSIS"),
        ("stevens-johnson syndrome", 3, "LABEL-SEVERE-RASH"),
        ("Rash maculo-papular", 4, "LABEL-SEVERE-RASH"),
        ("Sepsis", 4, "STOP-LIFE-THREATENING-AE"),
    ],
)
def test_adverse_events_that_stop(
    protocol: ProtocolDefinition, make_history: HistoryFactory, term: str, grade: int, rule: str
) -> None:
    ae = {"term": term, "start": day(3).isoformat(), "grade": grade, "causality": "possible"}
    rec = recommend(make_history(10, [(2, 5)], adverse_events=[ae]), protocol, day(3))
    assert rec.action == "stop" and rule in [r.rule for r in rec.reasons]


def test_grade3_rash_and_grade2_events_do_not_stop(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    aes = [
        {"term": "Rash maculo-papular", "start": day(2).isoformat(), "grade": 3},
        {"term": "Insomnia", "start": day(2).isoformat(), "grade": 2},
    ]
    rec = recommend(make_history(10, [(3, 5)], adverse_events=aes), protocol, day(3))
    assert rec.action == "continue"


def test_severe_flare_threshold_is_strictly_above(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    at = make_history(10, [(4, 4)], sledai=4, visit_sledai={4: 16})  # +12: not above 12
    rec = recommend(at, protocol, day(4))
    assert rec.action != "stop"
    assert any(a.rule == "SLE-MILD-FLARE" for a in rec.alerts)
    mild = make_history(10, [(4, 4)], sledai=4, visit_sledai={4: 7})  # +3: not a flare
    assert not any(a.rule == "SLE-MILD-FLARE" for a in recommend(mild, protocol, day(4)).alerts)


def test_missing_baseline_sledai_is_reported(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    rec = recommend(make_history(10, [(4, 4)], sledai=None), protocol, day(4))
    part = next(u for u in rec.undetermined if u.part == "safety.sle_flare")
    assert (part.rule, part.missing) == ("SLE-FLARE-DATA", ["baseline.sledai"])


def test_grade2_neutropenia_alert_resolves(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    low = _lab(5.5, "neutrophils", 1.2, "10^9/L")
    history = make_history(10, [(6, 2)], labs=[low], until=5)
    assert any(a.rule == "LABEL-NEUTROPENIA" for a in recommend(history, protocol, day(6)).alerts)
    resolved = make_history(
        10, [(6, 2)], labs=[low, _lab(5.8, "neutrophils", 2.2, "10^9/L")], until=5
    )
    assert not any(
        a.rule == "LABEL-NEUTROPENIA" for a in recommend(resolved, protocol, day(6)).alerts
    )


def test_neutropenia_alert_switch(variant: Variant, make_history: HistoryFactory) -> None:
    protocol = variant(rules__LABEL_NEUTROPENIA={"source": "label", "enabled": False})
    history = make_history(10, [(6, 2)], labs=[_lab(5.5, "neutrophils", 1.2, "10^9/L")], until=5)
    assert not any(
        a.rule == "LABEL-NEUTROPENIA" for a in recommend(history, protocol, day(6)).alerts
    )


def test_stop_wins_over_dose_decision(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    history = make_history(
        10, [(2, 0), (4, None)], events=[{"date": day(4).isoformat(), "type": "consent_withdrawn"}]
    )
    rec = recommend(history, protocol, day(4))
    assert rec.action == "stop" and rec.regimen is not None and rec.regimen.id == "off"
    assert rec.next_visit is None  # follow-up ended


def test_dosing_after_a_stop_is_a_deviation(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    history = make_history(
        10,
        [(2, 3), (4, 0)],
        [(0, "5_daily"), (3, "off"), (4, "5_daily")],
        labs=[_lab(2.5, "platelets", 20, "10^9/L")],
    )
    rec = recommend(history, protocol, day(4))
    assert rec.action == "stop"
    assert [d.rule for d in rec.deviations] == ["DEVIATION-DOSE-AFTER-STOP"]
