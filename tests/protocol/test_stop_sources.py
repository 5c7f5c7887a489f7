"""Safety from every source (grade 3 myelosuppression reported as an adverse event stops like a
laboratory value), a stop leaves nothing pending, and every rule carries the right source
(shared/spec/protocol.md section 3: the 2012 paper is ``protocol``, the label ``label``)."""

from __future__ import annotations

import pytest

from cletrial.instruments import CTCAE_TERMS
from cletrial.protocol import ProtocolDefinition, load_protocol, recommend

from .conftest import HistoryFactory, day, iso

MYELO_TERMS = [
    "Neutrophil count decreased",
    "White blood cell decreased",
    "Platelet count decreased",
]


def _ae(term: str, grade: int, week: float = 2) -> dict[str, object]:
    return {"term": term, "start": iso(week), "grade": grade, "causality": "possible"}


@pytest.mark.parametrize("term", [*MYELO_TERMS, "neutrophil COUNT decreased"])
def test_grade_3_myelosuppression_adverse_event_stops_without_a_lab(
    protocol: ProtocolDefinition, make_history: HistoryFactory, term: str
) -> None:
    history = make_history(10, [(2, 5)], adverse_events=[_ae(term, 3)], counts=False)
    assert history["labs"] == []
    rec = recommend(history, protocol, day(2))
    assert rec.action == "stop" and rec.disposition == "ADVERSE EVENT"
    assert rec.reasons[0].rule == "STOP-MYELOSUPPRESSION-AE"
    assert rec.reasons[0].source == "protocol" and "protocol-derived" in rec.reasons[0].text


@pytest.mark.parametrize("term", MYELO_TERMS)
def test_grade_2_myelosuppression_adverse_event_does_not_stop(
    protocol: ProtocolDefinition, make_history: HistoryFactory, term: str
) -> None:
    rec = recommend(make_history(10, [(2, 5)], adverse_events=[_ae(term, 2)]), protocol, day(2))
    assert rec.action == "continue" and rec.regimen.id == "5_daily"  # type: ignore[union-attr]


def test_adverse_event_terms_are_the_instruments_ctcae_terms(
    protocol: ProtocolDefinition,
) -> None:
    names = {CTCAE_TERMS[t].label for t in ("neutrophil_count_decreased",
                                             "white_blood_cell_decreased",
                                             "platelet_count_decreased")}  # fmt: skip
    stop = next(s for s, _ in protocol.adverse_event_stops if s.rule == "STOP-MYELOSUPPRESSION-AE")
    assert set(stop.terms) == names == set(MYELO_TERMS)
    assert stop.min_grade == protocol.file.safety.myelosuppression.stop_grade == 3
    assert stop.disposition == protocol.file.safety.myelosuppression.disposition


def test_thalidomide_example_still_validates_and_stops_at_its_own_grade(
    thalidomide: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    assert load_protocol("thalidomide-cle-example").id == "thalidomide-cle-example"
    doses = [(0, "100_daily")]
    three = make_history(10, [(2, 5)], doses, adverse_events=[_ae(MYELO_TERMS[0], 3)],
                         protocol="thalidomide-cle-example")  # fmt: skip
    assert recommend(three, thalidomide, day(2)).action != "stop"
    four = dict(three, adverse_events=[_ae(MYELO_TERMS[0], 4)])
    rec = recommend(four, thalidomide, day(2))
    assert rec.action == "stop"
    assert "STOP-MYELOSUPPRESSION-AE" in [r.rule for r in rec.reasons]


def test_stop_inside_the_review_window_clears_the_review(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    low = [{"date": iso(4), "test": "neutrophils", "value": 800, "unit": "/mm3"}]
    no_stop = recommend(make_history(10, [(2, 5)], until=4), protocol, day(4))
    assert no_stop.action == "undetermined"  # the week-4 review has no CLASI yet
    assert any(u.rule == "REVIEW-MISSING" for u in no_stop.undetermined)
    rec = recommend(make_history(10, [(2, 5)], labs=low, until=4), protocol, day(4))
    assert rec.action == "stop" and rec.reasons[0].rule == "STOP-MYELOSUPPRESSION"
    assert rec.undetermined == []
    assert rec.next_visit is not None and rec.next_visit.kind == "scheduled"
    assert all("review" not in r.text.lower() for r in rec.reasons)


def test_stop_after_the_review_window_has_no_review_alert(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    missed = recommend(make_history(10, [(2, 5)], until=6), protocol, day(6))
    assert "REVIEW-MISSING" in [a.rule for a in missed.alerts]
    low = [{"date": iso(6), "test": "platelets", "value": 40, "unit": "10^9/L"}]
    rec = recommend(make_history(10, [(2, 5)], labs=low, until=6), protocol, day(6))
    assert rec.action == "stop" and rec.undetermined == []
    assert "REVIEW-MISSING" not in [a.rule for a in rec.alerts]


#: Rules stated by the 2012 paper (Cortés-Hernández et al., sections "Endpoints", "Treatment
#: protocol and assessment", "Inclusion criteria"): source ``protocol``.
PAPER = {
    "DOSE-START": "started at 5 mg/day for 4 weeks",
    "REVIEW-CR": "decreased progressively monthly ... if complete response",
    "REVIEW-PR": "sustained at 5 mg/day in case of partial response",
    "TAPER-STEP": "decreased progressively monthly",
    "TAPER-COMPLETE": "until its withdrawal",
    "STOP-MYELOSUPPRESSION": "common toxicity criteria grade 3 myelosuppression",
    "STOP-MYELOSUPPRESSION-AE": "common toxicity criteria grade 3 myelosuppression",
    "STOP-CONSENT-WITHDRAWN": "withdrawal of consent by the patient",
    "STOP-PREGNANCY": "pregnancy",
    "STOP-LIFE-THREATENING": "life-threatening complications",
    "STOP-PHYSICIAN-DECISION": "decision by the physician",
    "STOP-SLE-FLARE": "severe systemic lupus flare ... change in SLEDAI greater than 12",
    "SLE-MILD-FLARE": "a mild flare was defined as a change in SLEDAI score greater than 3",
    "BLOOD-COUNTS": "WBC weekly for the first 2 months and then monthly",
    "BASELINE-PANEL": "full blood counts and immunological parameters at baseline",
    "DEVIATION-MEDICATION": "no changes in concomitant baseline medication were allowed",
    "ENROL-GATE": "eligibility criteria",
    "ENROL-INELIGIBLE": "eligibility criteria",
}
#: From the lenalidomide label, not the paper: source ``label``.
LABEL = [
    "LABEL-THROMBOSIS", "LABEL-SEVERE-RASH", "LABEL-NEUTROPENIA", "LABEL-PREGNANCY-TESTING",
    "LABEL-PREGNANCY-AFTER-TREATMENT", "DEVIATION-PREGNANCY-TESTS",
]  # fmt: skip
#: Where the paper is silent (shared/spec/protocol.md names the default): source ``default``.
DEFAULT = [
    "REVIEW-ESCALATE", "TAPER-LADDER", "RELAPSE-RESTART", "RELAPSE-MAINTAIN", "MAINTAIN",
    "NONRESPONSE-STOP", "VISIT-WINDOW", "STOP-DEATH", "STOP-LOST-TO-FOLLOW-UP",
    "STOP-LIFE-THREATENING-AE", "END-OF-STUDY",
]  # fmt: skip


def test_rule_sources_follow_the_paper_and_the_label(protocol: ProtocolDefinition) -> None:
    source = protocol.rule_source
    assert {r for r in PAPER if source[r] != "protocol"} == set()
    assert {r for r in LABEL if source[r] != "label"} == set()
    assert {r for r in DEFAULT if source[r] != "default"} == set()
    label_rules = {r for r, s in source.items() if s == "label"}
    assert label_rules == set(LABEL)  # nothing else is label-derived
    by_rule = {stop.rule: stop for stop in protocol.file.safety.stop_events.values()}
    assert source[by_rule["LABEL-THROMBOSIS"].rule] == "label"
    assert source[protocol.file.safety.positive_pregnancy_test.rule] == "protocol"


def test_a_stop_falls_back_from_a_dose_decision_to_the_scheduled_visit() -> None:
    import datetime as dt

    from cletrial.protocol.course import Course
    from cletrial.protocol.decision import DoseDecision
    from cletrial.protocol.disposition import clear_after_stop
    from cletrial.protocol.parts import Parts
    from cletrial.protocol.results import Alert, NextVisit, Undetermined
    from cletrial.protocol.safety import SafetyResult

    when = dt.date(2009, 3, 2)
    parts = Parts(DoseDecision("stop", 5), SafetyResult(), Course(current=1))
    parts.scheduled = NextVisit(when, when, when, "scheduled", "week 4 visit")
    parts.next_visit = NextVisit(when, when, when, "dosing", "week-4 review")
    parts.undetermined = [Undetermined("dose", "REVIEW-MISSING", "protocol", ["x"], "t")]
    parts.dosing_alerts = [Alert("REVIEW-MISSING", "protocol", "warning", "t", {})]
    clear_after_stop(parts)
    assert parts.next_visit is parts.scheduled and parts.undetermined == []
    assert parts.dosing_alerts == []
