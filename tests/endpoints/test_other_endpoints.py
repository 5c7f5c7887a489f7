"""Flares, damage, immunology and safety on hand-worked histories."""

from __future__ import annotations

import dataclasses

import pytest
from tests.endpoints.helpers import derive_both, history

from cletrial.endpoints import EndpointRules
from cletrial.endpoints.rules import FlareRule


def test_paper_flare_rule_increase_above_3_and_above_12() -> None:
    # baseline 2: +3 (5) is no flare, +4 (6) mild, +13 (15) severe
    row = derive_both(history(sledai=2, visits=[(28, 3, 1, 5), (56, 3, 1, 6), (84, 3, 1, 15)]))
    assert row["flare_paper_mild"] is True and row["flare_paper_mild_day"] == 56
    assert row["flare_paper_severe"] is True and row["flare_paper_severe_day"] == 84
    assert row["flare_paper_severe_srcseq"] == 3


def test_selena_compares_with_the_previous_visit() -> None:
    # +2 at each visit: SELENA none; against baseline the paper sees +4 at the second visit.
    row = derive_both(history(sledai=2, visits=[(28, 3, 1, 4), (56, 3, 1, 6), (84, 3, 1, 8)]))
    assert row["flare_selena_mild"] is False and row["flare_selena_severe"] is False
    assert row["flare_paper_mild"] is True and row["flare_paper_mild_day"] == 56


def test_selena_mild_needs_score_at_most_12_and_severe_is_rising_above_12() -> None:
    row = derive_both(history(sledai=10, visits=[(28, 3, 1, 13)]))
    assert row["flare_selena_severe"] is True and row["flare_selena_mild"] is False
    assert row["flare_paper_mild"] is False  # +3 is not > 3
    row = derive_both(history(sledai=14, visits=[(28, 3, 1, 18)]))
    # already above 12: not "rising above 12"; +4 to 18 is above 12 so not mild/moderate
    assert row["flare_selena_severe"] is False and row["flare_selena_mild"] is False
    assert row["flare_paper_mild"] is True


def test_flares_missing_without_baseline_or_scores() -> None:
    row = derive_both(history(sledai=None, visits=[(28, 3, 1, 6), (56, 3, 1, 10)]))
    assert row["flare_paper_mild"] is None  # nothing to compare with
    assert row["flare_selena_mild"] is True  # the second visit is compared with the first
    row = derive_both(history(sledai=4, visits=[(28, 3)]))
    assert row["flare_paper_mild"] is None and row["flare_selena_severe"] is None


def test_flare_rules_are_settings() -> None:
    rule = FlareRule("strict", "baseline", 2)
    strict = EndpointRules.from_mapping({"flare_rules": [dataclasses.asdict(rule)]})
    row = derive_both(history(sledai=2, visits=[(28, 3, 1, 4)]), strict)
    assert row["flare_strict_mild"] is True
    assert "flare_paper_mild" not in row


def test_clasi_damage_change_at_12_months() -> None:
    row = derive_both(history(damage=2, visits=[(168, 0, 2), (336, 0, 3), (420, 0, 5)]))
    assert (row["clasi_d_12m"], row["clasi_d_12m_day"], row["clasi_d_change_12m"]) == (
        3.0,
        336,
        1.0,
    )
    row = derive_both(history(damage=2, visits=[(355, 0, 4), (375, 0, 6)]))
    assert row["clasi_d_12m_day"] == 355  # equally close: the earlier
    row = derive_both(history(damage=2, visits=[(300, 0, 4)]))
    assert row["clasi_d_12m"] is None and row["clasi_d_change_12m"] is None
    row = derive_both(history(damage=2, visits=[(336, 0, None), (380, 0, 4)]))
    assert row["clasi_d_12m_day"] == 380  # the closer visit has no CLASI-D: missing, skipped
    row = derive_both(history(damage=None, visits=[(364, 0, 4)]))
    assert row["clasi_d_12m"] == 4.0 and row["clasi_d_change_12m"] is None


def test_immunology_baseline_against_end_of_treatment() -> None:
    labs = [
        (-40, "anti_dsdna", 80.0),
        (-3, "anti_dsdna", 123.0),
        (160, "anti_dsdna", 110.0),
        (200, "anti_dsdna", 40.0),
        (-1, "c3", 90.0),
        (300, "c3", 95.0),
    ]
    doses = [(0, "5_daily"), (28, "5_alternate"), (140, "off")]
    row = derive_both(history(visits=[(28, 0)], doses=doses, labs=labs))
    assert (row["anti_dsdna_base"], row["anti_dsdna_base_day"]) == (123.0, -3)
    # end of treatment: latest result within 30 days after the final withdrawal (day 140)
    assert (row["anti_dsdna_end"], row["anti_dsdna_end_srcseq"]) == (110.0, 4)  # labs by date
    assert row["anti_dsdna_change"] == -13.0
    assert row["c3_base"] == 90.0 and row["c3_end"] is None and row["c3_change"] is None
    assert row["c4_base"] is None


def test_immunology_on_treatment_uses_the_latest_result() -> None:
    row = derive_both(history(visits=[(28, 0)], labs=[(-1, "c4", 12.0), (400, "c4", 15.5)]))
    assert row["c4_change"] == 3.5


def test_adverse_events_by_grade_causality_and_seriousness() -> None:
    aes = [
        {
            "term": "Insomnia",
            "start": "2009-03-01",
            "grade": 2,
            "causality": "probable",
            "serious": False,
        },
        {"term": "Neutropenia", "start": "2009-03-02", "grade": 2, "causality": "possible"},
        {
            "term": "Pneumonia",
            "start": "2009-05-02",
            "grade": 3,
            "causality": "unlikely",
            "serious": True,
        },
        {"term": "Headache", "start": "2009-06-02", "grade": 1},
        {"term": "Rash", "start": "2008-12-30", "grade": 4, "causality": "definite"},
    ]
    row = derive_both(history(visits=[(28, 0)], aes=aes))
    assert row["n_ae"] == 4  # the rash started before the first dose: not treatment-emergent
    assert row["n_ae_related"] == 2 and row["n_ae_causality_missing"] == 1
    assert row["max_ae_grade"] == 3 and row["n_ae_grade_missing"] == 0  # the grade is required
    assert row["n_sae"] == 1 and row["n_ae_seriousness_missing"] == 2
    assert row["any_ae"] is True


@pytest.mark.parametrize(
    ("patch", "path"),
    [
        ({"doses": [{"date": "2009-01-05", "regimen": "7_daily"}]}, "doses[0].regimen"),
        ({"assessments": [{"date": "2009-13-01"}]}, "assessments[0].date"),
        (
            {"assessments": [{"date": "2009-02-01", "clasi": {"activity": 71}}]},
            "assessments[0].clasi.activity",
        ),
        (
            {"assessments": [{"date": "2009-02-01", "sledai": {"score": -1}}]},
            "assessments[0].sledai.score",
        ),
        (
            {"adverse_events": [{"term": "X", "start": "2009-02-01", "causality": "maybe"}]},
            "adverse_events[0].causality",
        ),
        ({"events": [{"date": "2009-02-01", "type": "holiday"}]}, "events[0].type"),
        (
            {"labs": [{"date": "2009-02-01", "test": "c3", "value": 1, "unit": "mmol/L"}]},
            "labs[0].unit",
        ),
        ({"doses": [{"date": "2009-01-01", "regimen": "5_daily"}]}, "doses[0].date"),
        ({"assesments": []}, "assesments"),
        ({"assessments": [{"date": "2009-02-01", "clasi_a": 3}]}, "assessments[0].clasi_a"),
        ({"assessments": [{"date": "20090201"}]}, "assessments[0].date"),
    ],
)
def test_bad_input_names_the_field_and_value(patch: dict[str, object], path: str) -> None:
    from cletrial.endpoints import course_from_history
    from cletrial.errors import HistoryError

    h = history(visits=[(28, 0)])
    h.update(patch)
    with pytest.raises(HistoryError) as info:
        course_from_history(h)
    assert info.value.field == path
    assert str(info.value).startswith(f"{path} = ")


def test_clasi_and_sledai_forms_are_scored_with_the_instruments() -> None:
    from cletrial.endpoints import course_from_history

    h = history(visits=[(28, 0)])
    h["assessments"] = [
        {
            "date": "2009-02-02",
            "clasi": {"regions": {"arms": {"erythema": 2, "scale": 1, "dyspigmentation": 1}}},
            "sledai": {"arthritis": True, "rash": True},
        }
    ]
    visit = course_from_history(h).visits[0]
    assert (visit.clasi_a, visit.clasi_d, visit.sledai) == (3, 1, 6)
