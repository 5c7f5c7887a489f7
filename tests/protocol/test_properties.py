"""Property tests over random histories (hypothesis, derandomized): the dose never exceeds the
maximum, complete response never raises the dose, the same history always gives the same
answer, and data dated after the decision date never changes it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cletrial.errors import HistoryError
from cletrial.protocol import (
    ProtocolDefinition,
    decode_history,
    load_protocol,
    parse_history,
    recommend,
    truncate_history,
)

START = dt.date(2009, 2, 2)
PROTOCOLS = {
    name: load_protocol(name) for name in ("lenalidomide-cle-2012", "thalidomide-cle-example")
}
SETTINGS = settings(max_examples=150)
EVENTS = ["consent_withdrawn", "pregnancy", "thrombosis", "physician_decision", "severe_rash"]


@st.composite
def histories(draw: st.DrawFn, protocol_id: str) -> tuple[dict[str, Any], dt.date]:
    """A valid history on ``protocol_id``'s ladder and a decision date on or after its data."""
    protocol = PROTOCOLS[protocol_id]
    ladder = [r.id for r in protocol.regimens]
    days = sorted(set(draw(st.lists(st.integers(1, 400), max_size=10))))
    activities = [draw(st.one_of(st.none(), st.integers(0, 25))) for _ in days]
    started = draw(st.booleans()) or bool(days)
    doses = []
    if started:
        doses.append({"date": START.isoformat(), "regimen": draw(st.sampled_from(ladder[:-1]))})
        for d in days:
            if draw(st.integers(0, 3)) == 0:
                doses.append(
                    {
                        "date": (START + dt.timedelta(d)).isoformat(),
                        "regimen": draw(st.sampled_from(ladder)),
                    }
                )
    labs = []
    for d in sorted(set(draw(st.lists(st.integers(0, 400), max_size=6)))):
        labs.append(
            {
                "date": (START + dt.timedelta(d)).isoformat(),
                "test": draw(st.sampled_from(["neutrophils", "wbc", "platelets"])),
                "value": draw(st.floats(0.2, 400.0)),
                "unit": "10^9/L",
            }
        )
    events = []
    if days and draw(st.integers(0, 5)) == 0:
        events.append(
            {
                "date": (START + dt.timedelta(draw(st.sampled_from(days)))).isoformat(),
                "type": draw(st.sampled_from(EVENTS)),
            }
        )
    history: dict[str, Any] = {
        "protocol": protocol_id,
        "sex": draw(st.sampled_from(["F", "M"])),
        "reproductive_potential": draw(st.booleans()),
        "baseline": {
            "date": START.isoformat(),
            "clasi": {"activity": draw(st.integers(0, 30))},
            "sledai": {"score": draw(st.integers(0, 10))},
        },
        "assessments": [
            {
                "date": (START + dt.timedelta(d)).isoformat(),
                **({} if a is None else {"clasi": {"activity": a}}),
                "sledai": {"score": draw(st.integers(0, 20))},
            }
            for d, a in zip(days, activities, strict=True)
        ],
        "labs": labs,
        "doses": doses,
        "events": events,
    }
    last = max(
        [
            START,
            *(START + dt.timedelta(d) for d in days),
            *(dt.date.fromisoformat(x["date"]) for x in labs),
        ]
    )
    return history, last + dt.timedelta(draw(st.integers(0, 60)))


def _latest_activity(history: dict[str, Any]) -> int | None:
    first = history["doses"][0]["date"] if history["doses"] else None
    scored = [a for a in history["assessments"] if "clasi" in a and first and a["date"] >= first]
    return scored[-1]["clasi"]["activity"] if scored else None


@pytest.mark.parametrize("protocol_id", list(PROTOCOLS))
def test_dose_never_exceeds_maximum_and_cr_never_escalates(protocol_id: str) -> None:
    protocol = PROTOCOLS[protocol_id]

    @SETTINGS
    @given(histories(protocol_id))
    def check(case: tuple[dict[str, Any], dt.date]) -> None:
        history, on = case
        rec = recommend(history, protocol, on)
        if rec.regimen is not None:
            assert rec.regimen.dose_mg <= protocol.file.maximum_dose_mg
            assert rec.regimen.id in protocol.regimen_index
        latest = _latest_activity(history)
        if latest is not None and latest <= protocol.file.response.complete_response_max:
            assert rec.action != "escalate"
            if rec.regimen is not None:
                index = protocol.regimen_index
                assert index[rec.regimen.id] >= index[rec.current_regimen.id], rec.reasons

    check()


@SETTINGS
@given(histories("lenalidomide-cle-2012"))
def test_same_history_same_recommendation(case: tuple[dict[str, Any], dt.date]) -> None:
    history, on = case
    protocol = PROTOCOLS["lenalidomide-cle-2012"]
    first = recommend(history, protocol, on).as_dict()
    assert recommend(history, protocol, on).as_dict() == first
    assert recommend(decode_history(msgspec.json.encode(history)), protocol, on).as_dict() == first


@SETTINGS
@given(histories("lenalidomide-cle-2012"), st.integers(0, 200), st.integers(1, 90))
def test_data_after_the_date_never_changes_the_answer(
    case: tuple[dict[str, Any], dt.date], cut_day: int, later: int
) -> None:
    history, _ = case
    protocol = PROTOCOLS["lenalidomide-cle-2012"]
    on = START + dt.timedelta(cut_day)
    extended = dict(history)
    after = (on + dt.timedelta(later)).isoformat()
    extended["assessments"] = [
        *history["assessments"],
        {"date": "2099-01-01", "clasi": {"activity": 30}},
    ]
    extended["labs"] = [
        *history["labs"],
        {"date": after, "test": "neutrophils", "value": 0.1, "unit": "10^9/L"},
    ]
    extended["events"] = [*history["events"], {"date": after, "type": "consent_withdrawn"}]
    extended["labs"].sort(key=lambda x: x["date"])
    extended["events"].sort(key=lambda x: x["date"])
    base = truncate_history(parse_history(history), on)
    more = truncate_history(parse_history(extended), on)
    assert recommend(more, protocol, on).as_dict() == recommend(base, protocol, on).as_dict()
    with pytest.raises(HistoryError, match="after the recommendation date"):
        recommend(extended, protocol, on)


def test_recommendation_is_plain_json(protocol: ProtocolDefinition) -> None:
    screened = {"date": START.isoformat(), "verdict": "eligible"}
    rec = recommend({"sex": "M", "eligibility": screened}, protocol, START)
    assert msgspec.json.decode(msgspec.json.encode(rec.as_dict()))["action"] == "start"
