"""Disposition: end of treatment and end of study in the history, and what the engine makes of
them (a stop, what is still due, nothing due after the end of follow-up)."""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

import pytest

from cletrial.errors import HistoryError
from cletrial.protocol import (
    DISPOSITION_TERMS,
    ProtocolDefinition,
    parse_history,
    recommend,
    truncate_history,
)
from cletrial.protocol.history_model import EndOfStudyDoc

from .conftest import HistoryFactory, day, iso

#: CDISC controlled terminology, codelist NCOMPLT (completion/reason for non-completion).
NCOMPLT = {
    "COMPLETED", "ADVERSE EVENT", "LACK OF EFFICACY", "WITHDRAWAL BY SUBJECT",
    "LOST TO FOLLOW-UP", "PREGNANCY", "PHYSICIAN DECISION", "DEATH",
}  # fmt: skip
VISITS = [(2, 5), (4, 3)]


def _eot(week: float, reason: str = "withdrawal_by_subject", last: float | None = None) -> Any:
    return {
        "date": iso(week),
        "reason": reason,
        "last_dose_date": None if last is None else iso(last),
    }


def test_disposition_terms_are_the_ncomplt_submission_values() -> None:
    assert set(DISPOSITION_TERMS.values()) == NCOMPLT
    for key, value in DISPOSITION_TERMS.items():
        assert key == value.lower().replace(" ", "_").replace("-", "_")
    reason = typing.get_type_hints(EndOfStudyDoc)["reason"]
    assert set(typing.get_args(reason)) == set(DISPOSITION_TERMS)


@pytest.mark.parametrize(
    ("extra", "field", "problem"),
    [
        ({"end_of_treatment": _eot(5), "end_of_study": {"date": iso(4.5), "reason": "completed"}},
         "end_of_study.date", "on or after end_of_treatment.date"),
        ({"end_of_study": {"date": iso(3.5), "reason": "completed"}},
         "assessments[1].date", "after end_of_study.date"),
        ({"end_of_study": {"date": iso(4), "reason": "completed"},
          "pregnancy_tests": [{"date": iso(4.5), "result": "negative"}]},
         "pregnancy_tests[0].date", "after end_of_study.date"),
        ({"end_of_study": {"date": iso(4), "reason": "death"}, "until": 5},
         "labs[12].date", "after end_of_study.date"),
        ({"end_of_treatment": _eot(1), "doses": [(0, "5_daily"), (2, "5_alternate")]},
         "doses[1].date", "after end_of_treatment.date"),
        ({"end_of_study": {"date": iso(1), "reason": "death"},
          "doses": [(0, "5_daily"), (2, "5_alternate")], "visits": []},
         "doses[1].date", "after end_of_study.date"),
        ({"end_of_treatment": _eot(3, last=3.5)},
         "end_of_treatment.last_dose_date", "on or before end_of_treatment.date"),
        ({"end_of_treatment": _eot(3, last=-1)},
         "end_of_treatment.last_dose_date", "on or after the first dose"),
        ({"end_of_treatment": _eot(5, reason="bored")},
         "end_of_treatment.reason", "must be one of completed, adverse_event"),
        ({"end_of_study": {"date": iso(5), "reason": "WITHDRAWAL BY SUBJECT"}},
         "end_of_study.reason", "must be one of completed"),
        ({"end_of_study": {"date": iso(5)}}, "end_of_study.reason", "required"),
    ],
)  # fmt: skip
def test_bad_disposition_names_the_field(
    make_history: HistoryFactory, extra: dict[str, Any], field: str, problem: str
) -> None:
    visits = extra.pop("visits", VISITS)
    doses = extra.pop("doses", None)
    until = extra.pop("until", None)
    history = make_history(10, visits, doses, until=until, **extra)
    with pytest.raises(HistoryError, match=problem) as info:
        parse_history(history)
    assert info.value.field == field


def test_end_of_treatment_is_a_stop_without_dose(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    history = make_history(10, [(2, 5), (4, None)], end_of_treatment=_eot(4, "adverse_event", 4))
    rec = recommend(history, protocol, day(4))
    assert (rec.action, rec.regimen, rec.disposition) == ("stop", None, "ADVERSE EVENT")
    assert rec.reasons[0].rule == "END-OF-TREATMENT" and rec.reasons[0].source == "protocol"
    assert rec.reasons[0].text.startswith(f"End of treatment recorded on {iso(4)} (adverse event")
    assert rec.undetermined == [] and rec.labs_due == []  # no review, no blood counts
    assert rec.next_visit is not None and rec.next_visit.kind == "scheduled"
    assert rec.course.phase == "stopped" and rec.course.stop_date == day(4)
    assert not rec.requires_physician_decision
    before = recommend(truncate_history(parse_history(history), day(2.5)), protocol, day(2.5))
    assert before.action == "continue" and before.labs_due


def test_end_of_treatment_keeps_the_safety_stop_reasons(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    low = [{"date": iso(3), "test": "neutrophils", "value": 0.8, "unit": "10^9/L"}]
    history = make_history(10, VISITS, labs=low, end_of_treatment=_eot(3.5, "adverse_event"))
    rec = recommend(history, protocol, day(4))
    assert [r.rule for r in rec.reasons] == ["END-OF-TREATMENT", "STOP-MYELOSUPPRESSION"]
    assert rec.regimen is None and rec.course.stop_date == day(3)


def _frp(make_history: HistoryFactory, **extra: Any) -> dict[str, Any]:
    tests = [{"date": iso(w), "result": "negative"} for w in (-10 / 7, 0, 1, 2, 3, 4)]
    return make_history(10, VISITS, reproductive_potential=True, pregnancy_tests=tests, **extra)


def test_pregnancy_tests_continue_28_days_after_the_last_dose(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    history = _frp(make_history, end_of_treatment=_eot(5, last=4.5))
    last_dose = day(4.5)
    for week in (5, 6, 7, 8):
        rec = recommend(history, protocol, day(week))
        assert [t.rule for t in rec.pregnancy_tests_due] == ["LABEL-PREGNANCY-AFTER-TREATMENT"]
        due = rec.pregnancy_tests_due[0]
        assert due.due_by <= last_dose + (day(4) - day(0)) and rec.labs_due == []
        assert rec.pregnancy_tests_due[0].source == "label"
    after = recommend(history, protocol, last_dose + (day(4) - day(0)) + (day(1 / 7) - day(0)))
    assert after.pregnancy_tests_due == []


def test_pregnancy_tests_after_treatment_use_the_end_when_last_dose_unknown(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    rec = recommend(_frp(make_history, end_of_treatment=_eot(5)), protocol, day(9))
    assert rec.pregnancy_tests_due and "not recorded" in rec.pregnancy_tests_due[0].text
    assert recommend(_frp(make_history, end_of_treatment=_eot(5)), protocol, day(9.5)) \
        .pregnancy_tests_due == []  # fmt: skip


def test_pregnancy_tests_after_treatment_can_be_switched_off(
    variant: Callable[..., ProtocolDefinition], make_history: HistoryFactory
) -> None:
    off = variant(rules__LABEL_PREGNANCY_AFTER_TREATMENT={"source": "label", "enabled": False})
    rec = recommend(_frp(make_history, end_of_treatment=_eot(5)), off, day(6))
    assert rec.pregnancy_tests_due == []


def test_nothing_is_due_after_the_end_of_study(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    history = _frp(make_history, end_of_study={"date": iso(5), "reason": "lost_to_follow_up"})
    rec = recommend(history, protocol, day(30))  # long after: every visit window missed
    assert (rec.action, rec.regimen, rec.disposition) == ("stop", None, "LOST TO FOLLOW-UP")
    assert rec.reasons[0].rule == "END-OF-STUDY"
    assert rec.next_visit is None and rec.labs_due == [] and rec.pregnancy_tests_due == []
    assert rec.alerts == [] and rec.undetermined == []
    still = recommend(truncate_history(parse_history(history), day(30)), protocol, day(30))
    assert still.as_dict() == rec.as_dict()
    open_ = recommend(_frp(make_history), protocol, day(30))  # the same without the record
    assert open_.next_visit is not None and open_.alerts


@pytest.mark.parametrize("started", [True, False])
def test_nothing_is_due_after_death(
    protocol: ProtocolDefinition, make_history: HistoryFactory, started: bool
) -> None:
    death = [{"date": iso(3), "type": "death"}]
    if started:
        history = _frp(make_history, events=death)
    else:
        history = make_history(10, [], [], reproductive_potential=True, events=death)
    rec = recommend(history, protocol, day(20))
    assert rec.action == "stop" and rec.disposition == "DEATH"
    assert rec.next_visit is None and rec.labs_due == [] and rec.pregnancy_tests_due == []
    assert [a.rule for a in rec.alerts] == ["STOP-DEATH"] and rec.undetermined == []


def test_patient_history_exposes_the_disposition(make_history: HistoryFactory) -> None:
    history = parse_history(
        make_history(
            10,
            VISITS,
            end_of_treatment=_eot(4, "completed", 4),
            end_of_study={"date": iso(8), "reason": "completed"},
        )
    )
    assert history.end_of_treatment is not None and history.end_of_study is not None
    assert history.end_of_treatment.last_dose_date == day(4)
    assert DISPOSITION_TERMS[history.end_of_study.reason] == "COMPLETED"
    cut = truncate_history(history, day(5))
    assert cut.end_of_treatment is not None and cut.end_of_study is None
