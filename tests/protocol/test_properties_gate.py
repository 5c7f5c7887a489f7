"""Property tests over random histories (hypothesis, derandomized): the engine never says
``start`` to an unscreened, ineligible or undetermined patient; an ``undetermined`` action
always has reasons naming what is missing; a stop leaves nothing undetermined or pending."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cletrial.protocol import recommend

from .test_properties import PROTOCOLS, SETTINGS, START, histories

SCREENING = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "date": st.integers(-30, 0).map(lambda d: (START + dt.timedelta(d)).isoformat()),
            "verdict": st.sampled_from(["eligible", "ineligible", "undetermined"]),
            "override": st.one_of(
                st.none(),
                st.fixed_dictionaries(
                    {
                        "date": st.just(START.isoformat()),
                        "by": st.sampled_from(["Dr A", "J. Ordi-Ros"]),
                        "reason": st.sampled_from(["repeat count normal", "PI decision"]),
                    }
                ),
            ),
        }
    ),
)


@st.composite
def screened_histories(draw: st.DrawFn, protocol_id: str) -> tuple[dict[str, Any], dt.date]:
    """A random history (often not started) with a random screening record, or none."""
    history, on = draw(histories(protocol_id))
    if draw(st.integers(0, 2)) > 0:  # two thirds not started: the gate's domain
        history = {**history, "doses": [], "assessments": [], "events": []}
        history.pop("first_dose_date", None)
    if draw(st.booleans()):
        history["reproductive_potential"] = None
    elig = draw(SCREENING)
    if elig is not None:
        history["eligibility"] = elig
    if draw(st.integers(0, 4)) == 0:
        history["pregnancy_tests"] = [{"date": START.isoformat(), "result": "negative"}]
    return history, on


def _may_start(history: dict[str, Any]) -> bool:
    elig = history.get("eligibility")
    return elig is not None and (elig["verdict"] == "eligible" or elig["override"] is not None)


@pytest.mark.parametrize("protocol_id", list(PROTOCOLS))
def test_never_start_without_eligible_verdict_or_override(protocol_id: str) -> None:
    protocol = PROTOCOLS[protocol_id]

    @SETTINGS
    @given(screened_histories(protocol_id))
    def check(case: tuple[dict[str, Any], dt.date]) -> None:
        history, on = case
        rec = recommend(history, protocol, on)
        if rec.action == "start":
            assert _may_start(history) and not history["doses"], rec.reasons
        if not history["doses"] and not _may_start(history) and rec.action != "stop":
            wanted = "undetermined" if "eligibility" not in history else None
            if history.get("eligibility", {}).get("verdict") == "ineligible":
                wanted = "do_not_start"
            elif history.get("eligibility", {}).get("verdict") == "undetermined":
                wanted = "undetermined"
            assert rec.action == wanted and rec.regimen is None

    check()


@pytest.mark.parametrize("protocol_id", list(PROTOCOLS))
def test_undetermined_always_has_reasons_and_a_stop_leaves_nothing_pending(
    protocol_id: str,
) -> None:
    protocol = PROTOCOLS[protocol_id]

    @SETTINGS
    @given(st.one_of(screened_histories(protocol_id), histories(protocol_id)))
    def check(case: tuple[dict[str, Any], dt.date]) -> None:
        history, on = case
        rec = recommend(history, protocol, on)
        if rec.action == "undetermined":
            assert rec.regimen is None and rec.undetermined
            assert rec.reasons, rec
            named = [r for r in rec.reasons if r.data.get("missing")]
            assert named and all(r.text for r in named)
            assert "DOSE-START" not in [r.rule for r in rec.reasons]
        if rec.action == "stop":
            assert rec.undetermined == []
            assert rec.next_visit is None or rec.next_visit.kind != "dosing"
            assert "REVIEW-MISSING" not in [a.rule for a in rec.alerts]

    check()
