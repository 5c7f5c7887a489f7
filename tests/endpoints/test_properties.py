"""Property tests: derivations never change their input; both paths agree; invariants hold."""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.endpoints.helpers import history, iso
from tests.endpoints.test_cross_check import assert_agree

from cletrial.endpoints import (
    build_visit_table,
    compute_patient_endpoints,
    course_from_history,
    derive_adae,
    derive_adrs,
    derive_adsl,
    derive_adtte,
    derive_endpoints,
)
from cletrial.endpoints.rules import DEFAULT_RULES, EVENT_TYPES, RESPONSE_CODES

DEFAULT_LADDER = DEFAULT_RULES.ladder

activity = st.one_of(st.none(), st.just(0), st.integers(0, 3), st.integers(4, 30))
visit = st.tuples(
    st.integers(-10, 500),
    activity,
    st.one_of(st.none(), st.integers(0, 10)),
    st.one_of(st.none(), st.integers(0, 30)),
)
dose = st.tuples(st.integers(1, 500), st.sampled_from(DEFAULT_LADDER))


@st.composite
def histories(draw: st.DrawFn) -> dict[str, Any]:
    h = history(
        base=draw(st.one_of(st.none(), st.integers(0, 30))),
        damage=draw(st.one_of(st.none(), st.integers(0, 20))),
        sledai=draw(st.one_of(st.none(), st.integers(0, 20))),
        visits=draw(st.lists(visit, max_size=12)),
        doses=[
            (0, draw(st.sampled_from(["5_daily", "10_daily"]))),
            *sorted(draw(st.lists(dose, max_size=8))),
        ],
        events=draw(
            st.lists(st.tuples(st.integers(0, 300), st.sampled_from(EVENT_TYPES)), max_size=1)
        ),
        labs=draw(
            st.lists(
                st.tuples(st.integers(-40, 500), st.sampled_from(["c3", "c4"]), st.floats(0, 200)),
                max_size=4,
            )
        ),
        treated=draw(st.sampled_from([True, True, True, False])),
    )
    h["patient_id"] = draw(st.sampled_from(["SYN-0001", "SYN-0002", "P9"]))
    return h


COMMON = settings(max_examples=40)


@COMMON
@given(h=histories())
def test_derivations_never_change_their_input(h: dict[str, Any]) -> None:
    before = copy.deepcopy(h)
    course = course_from_history(h)
    compute_patient_endpoints(course)
    assert h == before
    table = build_visit_table([course])
    frames = {
        name: getattr(table, name).copy(deep=True)
        for name in ("patients", "visits", "doses", "labs", "aes", "events")
    }
    endpoints = derive_endpoints(table)
    derive_adsl(endpoints, table)
    derive_adrs(endpoints, table)
    derive_adtte(endpoints, table)
    derive_adae(table)
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(getattr(table, name), frame)


@COMMON
@given(cohort=st.lists(histories(), min_size=1, max_size=5))
def test_both_paths_agree(cohort: list[dict[str, Any]]) -> None:
    for i, h in enumerate(cohort):
        h["patient_id"] = f"SYN-{i:04d}"
    assert_agree(cohort)


@COMMON
@given(h=histories())
def test_invariants(h: dict[str, Any]) -> None:
    s = compute_patient_endpoints(course_from_history(h)).subject
    assert s["best_response"] in RESPONSE_CODES
    if s["best_response"] == "CR":
        assert s["time_to_cr_weeks"] is not None and s["time_to_cr_weeks"] > 0
    else:
        assert s["cr_day"] is None
    if s["relapsed"]:
        assert s["cr_day"] is not None and s["first_relapse_day"] > s["cr_day"]
        assert s["first_relapse_weeks_from_reduction"] > 0
    if s["sustained_remission"]:
        assert s["cr_day"] is not None and s["final_withdrawal_day"] is not None
        assert not s["relapsed"] or s["first_relapse_day"] < s["final_withdrawal_day"]
    if s["n_cycles"] is not None:
        assert 1 <= s["n_cycles"] <= 1 + (s["n_relapses"] or 0)


def test_helper_dates_start_at_the_first_dose() -> None:
    assert iso(0) == "2009-01-05" and iso(28) == "2009-02-02"
