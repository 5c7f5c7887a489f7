"""Skindex-29+3: domain sizes (verified), 0-100 scoring and the missing-item rule (stated)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cletrial.errors import FormError
from cletrial.instruments import (
    SKINDEX_DOMAIN_ITEMS,
    SKINDEX_ITEMS,
    compute_skindex,
    skindex_json_schema,
    validate_skindex_form,
)
from cletrial.vocabulary import SKINDEX_DOMAIN, SKINDEX_RESPONSE


def test_domain_sizes_are_the_published_ones() -> None:
    # Verified (Chren 1997 via the VA HSR&D review): 7 symptoms, 10 emotions, 12 functioning
    # items of 30 questions; +3 CLE-specific items (Lupus Sci Med 2022;9:e000827).
    sizes = {d: len(items) for d, items in SKINDEX_DOMAIN_ITEMS.items()}
    assert sizes == {"symptoms": 7, "emotions": 10, "functioning": 12, "lupus_specific": 3}
    assert len(SKINDEX_ITEMS) == 33


def test_every_item_is_in_one_domain_except_item_18() -> None:
    placed = [i for items in SKINDEX_DOMAIN_ITEMS.values() for i in items]
    assert len(placed) == len(set(placed)) == 32
    assert set(SKINDEX_ITEMS) - set(placed) == {18}


def test_the_responses_are_never_to_all_the_time() -> None:
    assert SKINDEX_RESPONSE.values == ("1", "2", "3", "4", "5")
    assert SKINDEX_RESPONSE.decode("1") == "Never"
    assert SKINDEX_RESPONSE.decode("5") == "All the time"
    assert tuple(SKINDEX_DOMAIN_ITEMS) == SKINDEX_DOMAIN.values


def test_worked_example_all_domains() -> None:
    """Worked by hand: response r scores (r - 1) x 25; a domain is the mean of its answers.

    symptoms 1, 7, 10, 16, 19, 24, 27 = 2, 3, 3, 4, 4, 5, 1 -> 25+50+50+75+75+100+0 = 375 / 7
    emotions all 5 -> 100; functioning all 1 -> 0; lupus-specific 31-33 = 2, 4, 3 -> 150 / 3 = 50.
    """
    form: dict[str, Any] = {str(i): 1 for i in SKINDEX_DOMAIN_ITEMS["functioning"]}
    form |= {str(i): 5 for i in SKINDEX_DOMAIN_ITEMS["emotions"]}
    form |= dict(zip(("1", "7", "10", "16", "19", "24", "27"), (2, 3, 3, 4, 4, 5, 1), strict=True))
    form |= {"31": 2, "32": 4, "33": 3, "18": 5}
    score = compute_skindex(form)
    assert score.symptoms == pytest.approx(375 / 7)
    assert (score.emotions, score.functioning, score.lupus_specific) == (100.0, 0.0, 50.0)
    assert score.answered == {"symptoms": 7, "emotions": 10, "functioning": 12, "lupus_specific": 3}


def test_a_domain_with_too_few_answers_is_missing_never_zero() -> None:
    """Stated default: at least 75% answered. Symptoms 7 items: 6 answered is scored
    (6/7 = 86%), 5 is not (71%); emotions 10 items: 8 is scored, 7 is not."""
    six = {"1": 3, "7": 3, "10": 3, "16": 3, "19": 3, "24": 3}
    assert compute_skindex(six).symptoms == 50.0
    five = dict(list(six.items())[:5])
    assert compute_skindex(five).symptoms is None
    emotions = [str(i) for i in SKINDEX_DOMAIN_ITEMS["emotions"]]
    assert compute_skindex(dict.fromkeys(emotions[:8], 2)).emotions == 25.0
    assert compute_skindex(dict.fromkeys(emotions[:7], 2)).emotions is None
    assert compute_skindex({}).as_dict() == dict.fromkeys(SKINDEX_DOMAIN.values)


def test_blank_items_count_as_unanswered() -> None:
    form = {"31": 5, "32": 5, "33": None}
    assert compute_skindex(form).lupus_specific is None
    assert compute_skindex(form, min_answered=0.5).lupus_specific == 100.0


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"3": 6}, "3 = 6: must be 1, 2, 3, 4 or 5 (1 never, 2 rarely"),
        ({"3": 0}, "3 = 0: must be 1, 2, 3, 4 or 5"),
        ({"3": "2"}, '3 = "2": must be 1, 2, 3, 4 or 5'),
        ({"3": True}, "3 = true: must be 1, 2, 3, 4 or 5"),
        ({"3": 2.5}, "3 = 2.5: must be 1, 2, 3, 4 or 5"),
        ({"0": 1}, "0 = 1: unknown item; items are numbered 1 to 33"),
        ({"34": 1}, "34 = 1: unknown item"),
        ({"q3": 1}, "q3 = 1: unknown item"),
        ({"03": 1}, "03 = 1: unknown item"),
    ],
)
def test_impossible_responses_and_items_are_refused(form: dict[str, Any], message: str) -> None:
    with pytest.raises(FormError) as caught:
        compute_skindex(form)
    assert str(caught.value).startswith(message)


def test_a_form_must_be_an_object_and_the_fraction_sane() -> None:
    with pytest.raises(FormError, match="a form must be a JSON object"):
        validate_skindex_form([1, 2])
    with pytest.raises(FormError, match="min_answered = 0: must be a fraction"):
        compute_skindex({}, min_answered=0)


def test_the_schema_holds_item_numbers_only() -> None:
    schema = skindex_json_schema()
    assert "properties" not in schema  # no item wording anywhere, numbers only
    assert schema["additionalProperties"]["anyOf"][0] == {
        "type": "integer", "minimum": 1, "maximum": 5,
    }  # fmt: skip


_forms = st.dictionaries(
    st.sampled_from([str(i) for i in SKINDEX_ITEMS]), st.one_of(st.none(), st.integers(1, 5))
)


@given(_forms)
def test_scores_stay_in_range_and_the_form_is_not_changed(form: dict[str, Any]) -> None:
    before = dict(form)
    for value in compute_skindex(form).as_dict().values():
        assert value is None or 0.0 <= value <= 100.0
    assert form == before


@given(_forms, st.sampled_from([str(i) for i in SKINDEX_ITEMS]), st.integers(1, 4))
def test_a_worse_answer_never_lowers_a_domain(
    answers: dict[str, Any], item: str, response: int
) -> None:
    form = {**answers, item: response}
    worse = {**answers, item: response + 1}
    for old, new in zip(
        compute_skindex(form).as_dict().values(),
        compute_skindex(worse).as_dict().values(),
        strict=True,
    ):
        assert (old is None) == (new is None)
        assert old is None or new >= old  # type: ignore[operator]
