"""Patients on lenalidomide follow the protocol definition's rules, calibrated to the target."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from cletrial.errors import DesignError
from cletrial.protocol.definition import load_protocol, parse_protocol
from cletrial.protocols import __file__ as protocols_init
from cletrial.simulation.course import ProtocolCourse, calibrate_complete_response, cr_at_week

COURSE = ProtocolCourse.of(load_protocol())


def _protocol_with(**dosing: object) -> ProtocolCourse:
    path = Path(protocols_init).with_name("lenalidomide-cle-2012.yaml")
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, value in dosing.items():
        document["dosing"][key].update(value)
    return ProtocolCourse.of(parse_protocol(document))


def test_the_ladder_and_the_taper_come_from_the_protocol_definition() -> None:
    assert COURSE.regimen_ids[COURSE.start] == "5_daily"
    assert COURSE.regimen_ids[COURSE.escalation] == "10_daily"
    assert COURSE.weekly_mg[COURSE.start] == 35.0
    assert COURSE.taper_interval == 28 and COURSE.review_day == 28
    assert COURSE.visit_days[:4] == (0, 28, 56, 84)


def test_a_slower_taper_in_the_definition_keeps_more_patients_in_cr() -> None:
    slow = _protocol_with(taper={"interval_weeks": 12})
    assert slow.taper_interval == 84
    rng = np.random.default_rng(1)
    fast_cr = cr_at_week(COURSE, rng, 200_000, 1.0, 16, "sustained").mean()
    rng = np.random.default_rng(1)
    slow_cr = cr_at_week(slow, rng, 200_000, 1.0, 16, "sustained").mean()
    assert slow_cr > fast_cr + 0.05


def test_the_calibrated_cr_share_gives_the_target_rate() -> None:
    for response in ("reached", "sustained"):
        share, summary = calibrate_complete_response(COURSE, 12, 0.5, response)  # type: ignore[arg-type]
        rate = cr_at_week(COURSE, np.random.default_rng(2), 400_000, share, 12, response).mean()  # type: ignore[arg-type]
        assert abs(rate - 0.5) < 0.004, (response, rate)
        assert abs(sum(summary.regimen_share.values()) - 1.0) < 1e-3


def test_taper_relapses_make_a_sustained_cr_rarer_than_a_reached_one() -> None:
    rng = np.random.default_rng(3)
    reached = cr_at_week(COURSE, rng, 100_000, 1.0, 12, "reached").mean()
    sustained = cr_at_week(COURSE, np.random.default_rng(3), 100_000, 1.0, 12, "sustained").mean()
    assert sustained < reached - 0.1


def test_an_unreachable_rate_names_the_field_and_says_what_to_do() -> None:
    with pytest.raises(DesignError) as caught:
        calibrate_complete_response(COURSE, 12, 0.9, "sustained")
    assert caught.value.field == "treatment_rate"
    assert "lower treatment_rate" in str(caught.value)


def test_without_a_target_the_2012_cr_share_is_kept() -> None:
    share, _ = calibrate_complete_response(COURSE, 12, None)
    assert share == COURSE.calibration.p_complete_response
