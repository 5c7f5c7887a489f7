"""Rule of nines (Wallace 1951), adult."""

from __future__ import annotations

import pytest

from cletrial.errors import FormError
from cletrial.instruments import RULE_OF_NINES, compute_bsa_percent


def test_cited_areas_total_100() -> None:
    assert RULE_OF_NINES["head_neck"] == 9
    assert RULE_OF_NINES["left_arm"] == RULE_OF_NINES["right_arm"] == 9
    assert RULE_OF_NINES["anterior_trunk"] == RULE_OF_NINES["posterior_trunk"] == 18
    assert RULE_OF_NINES["left_leg"] == RULE_OF_NINES["right_leg"] == 18
    assert RULE_OF_NINES["perineum"] == 1
    assert sum(RULE_OF_NINES.values()) == 100
    assert compute_bsa_percent(dict.fromkeys(RULE_OF_NINES, 1)) == 100


def test_eligibility_threshold_example() -> None:
    # Both arms and the whole face/neck: 27% (> 18%, criterion I6); one arm and the head: 18%.
    assert compute_bsa_percent({"left_arm": 1, "right_arm": 1, "head_neck": 1}) == 27
    assert compute_bsa_percent({"left_arm": 1, "head_neck": 1}) == 18


@pytest.mark.parametrize(
    "bad", [{"left_arm": 1.5}, {"left_arm": -0.1}, {"left_arm": "all"}, {"wing": 1}]
)
def test_rejects_bad_input(bad: dict) -> None:
    with pytest.raises(FormError, match="involvement"):
        compute_bsa_percent(bad)
