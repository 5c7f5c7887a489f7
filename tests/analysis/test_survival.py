"""Kaplan-Meier: the lifelines estimate checked against the product-limit formula by hand."""

from __future__ import annotations

import pytest

from cletrial.analysis.reference import ReferenceStudy
from cletrial.analysis.survival import (
    WEEKS_PER_MONTH,
    compute_kaplan_meier,
    derive_reference_time_to_cr,
)
from cletrial.errors import InputError


def _reference_km(study: ReferenceStudy):  # type: ignore[no-untyped-def]
    records = derive_reference_time_to_cr(study)
    return compute_kaplan_meier(
        [r["time_weeks"] for r in records], [r["event"] for r in records], label="time to CR"
    )


def test_reference_time_to_cr_records(study: ReferenceStudy) -> None:
    records = {r["patient"]: r for r in derive_reference_time_to_cr(study)}
    assert records[3]["time_weeks"] == 1.0 and not records[3]["event"]
    assert records[5]["time_weeks"] == 36.0 and records[5]["event"]
    assert (
        records[9]["time_weeks"] == pytest.approx(15 * WEEKS_PER_MONTH) and not records[9]["event"]
    )
    assert records[13]["time_weeks"] == pytest.approx(8 * 365.25 / 12 / 7)
    assert sum(r["event"] for r in records.values()) == 12


def test_product_limit_by_hand(study: ReferenceStudy) -> None:
    km = _reference_km(study)
    # Week 1: patient 3 censored (15 at risk). Week 2: 2 CR of 14 at risk. Week 3: 1 of 12.
    # Week 4: 4 of 11. Then 7 (1 of 7), 10 (1 of 6), 11 (1 of 5), 12 (1 of 4), 36 (1 of 2).
    expected = 1.0
    by_time = {s.time: s for s in km.steps}
    for time, events, at_risk in (
        (2, 2, 14),
        (3, 1, 12),
        (4, 4, 11),
        (7, 1, 7),
        (10, 1, 6),
        (11, 1, 5),
        (12, 1, 4),
        (36, 1, 2),
    ):
        expected *= 1 - events / at_risk
        step = by_time[float(time)]
        assert (step.events, step.at_risk) == (events, at_risk)
        assert step.survival == pytest.approx(expected)
    assert by_time[1.0].censored == 1 and by_time[36.0].cumulative_incidence == pytest.approx(
        1 - expected
    )
    assert (km.n, km.events, km.censored) == (15, 12, 3)


def test_median_on_an_exact_half_is_not_lost_to_rounding(study: ReferenceStudy) -> None:
    # S(4) = 12/14 * 11/12 * 7/11 = 0.5 exactly; lifelines' own median skips to 7 weeks because
    # the floating-point product is a hair above 0.5.
    km = _reference_km(study)
    assert km.median == 4.0
    assert "equals 0.5 from 4 to 7 weeks" in km.median_note
    assert km.median_ci == (3.0, 12.0)


def test_median_not_reached() -> None:
    km = compute_kaplan_meier([5, 6, 7], [True, False, False], label="x")
    assert km.median is None and "not reached" in km.text()


@pytest.mark.parametrize(
    ("durations", "events"),
    [([1, 2], [True]), ([], []), ([-1], [True]), ([None], [True]), ([1], [1])],
)
def test_bad_inputs(durations: list[object], events: list[object]) -> None:
    with pytest.raises(InputError):
        compute_kaplan_meier(durations, events, label="x")  # type: ignore[arg-type]


def test_summary_table_form(study: ReferenceStudy) -> None:
    frame = _reference_km(study).summary
    assert list(frame.columns) == [
        "at_risk",
        "events",
        "censored",
        "survival",
        "ci_lower",
        "ci_upper",
        "cumulative_incidence",
    ]
    assert frame.loc[4.0, "at_risk"] == 11
