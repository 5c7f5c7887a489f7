"""CLASI against the published instrument (Albrecht 2005; Klein 2011 bands)."""

from __future__ import annotations

import pytest

from cletrial.errors import FormError
from cletrial.instruments import (
    CLASI_REGIONS,
    compute_clasi,
    compute_clasi_severity,
    compute_max_erythema,
    decode_clasi_json,
    validate_clasi_form,
)


def full_form(persistent: bool = True) -> dict:
    regions = {
        r: {"erythema": 3, "scale": 2, "dyspigmentation": 1}
        | ({} if r == "scalp" else {"scarring": 2})
        for r in CLASI_REGIONS
    }
    return {
        "regions": regions,
        "mucous_membrane_lesions": 1,
        "recent_hair_loss": 1,
        "nonscarring_alopecia": 3,
        "scarring_alopecia": 6,
        "dyspigmentation_persistent": persistent,
    }


def test_thirteen_regions_in_form_order() -> None:
    assert CLASI_REGIONS == (
        "scalp", "ears", "nose", "rest_of_face", "v_neck", "posterior_neck_shoulders", "chest",
        "abdomen", "back_buttocks", "arms", "hands", "legs", "feet",
    )  # fmt: skip


def test_all_items_at_maximum_give_70_and_56() -> None:
    score = compute_clasi(full_form())
    assert (score.activity, score.damage, score.activity_severity) == (70, 56, "severe")


def test_without_persistence_dyspigmentation_counts_once() -> None:
    # 13 x 1 dyspigmentation + 12 x 2 scarring + 6 scalp scarring = 43
    assert compute_clasi(full_form(persistent=False)).damage == 43


def test_persistent_dyspigmentation_doubles_only_dyspigmentation() -> None:
    form = {
        "regions": {"arms": {"dyspigmentation": 1, "scarring": 1}, "legs": {"dyspigmentation": 1}}
    }
    assert compute_clasi(form).damage == 3
    assert compute_clasi({**form, "dyspigmentation_persistent": True}).damage == 5


def test_empty_form_is_zero() -> None:
    assert compute_clasi({}).as_dict() == {"activity": 0, "damage": 0, "activity_severity": "mild"}


def test_issue_example_form() -> None:
    form = {
        "regions": {
            "scalp": {"erythema": 2, "scale": 1, "dyspigmentation": 0},
            "nose": {"erythema": 1, "scale": 0, "dyspigmentation": 1, "scarring": 1},
        },
        "mucous_membrane_lesions": 0, "recent_hair_loss": 0, "nonscarring_alopecia": 0,
        "scarring_alopecia": 0, "dyspigmentation_persistent": False,
    }  # fmt: skip
    assert compute_clasi(form).as_dict() == {
        "activity": 4, "damage": 2, "activity_severity": "mild"
    }  # fmt: skip


def test_once_per_form_activity_items() -> None:
    form = {"mucous_membrane_lesions": 1, "recent_hair_loss": 1, "nonscarring_alopecia": 3}
    assert compute_clasi(form).activity == 5


@pytest.mark.parametrize("quadrants", [0, 3, 4, 5, 6])
def test_scarring_alopecia_valid_values(quadrants: int) -> None:
    assert compute_clasi({"scarring_alopecia": quadrants}).damage == quadrants


@pytest.mark.parametrize(
    ("activity", "band"),
    [(0, "mild"), (9, "mild"), (10, "moderate"), (20, "moderate"), (21, "severe"), (70, "severe")],
)
def test_severity_band_boundaries(activity: int, band: str) -> None:
    assert compute_clasi_severity(activity) == band


@pytest.mark.parametrize("bad", [-1, 71, True, 2.5])
def test_severity_rejects_out_of_range(bad: object) -> None:
    with pytest.raises(FormError):
        compute_clasi_severity(bad)  # type: ignore[arg-type]


def test_max_erythema() -> None:
    assert compute_max_erythema({}) == 0
    assert compute_max_erythema({"regions": {"scalp": {"erythema": 3}}}) == 3


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"regions": {"arms": {"scale": 3}}}, "regions.arms.scale = 3: must be 0, 1 or 2"),
        ({"regions": {"arms": {"erythema": 4}}}, "regions.arms.erythema = 4: must be 0, 1, 2 or 3"),
        (
            {"regions": {"arms": {"erythema": -1}}},
            "regions.arms.erythema = -1: must be 0, 1, 2 or 3",
        ),
        (
            {"regions": {"arms": {"scale": "1"}}},
            'regions.arms.scale = "1": must be 0, 1 or 2 (an integer)',
        ),
        (
            {"regions": {"arms": {"scale": True}}},
            "regions.arms.scale = true: must be 0, 1 or 2 (an integer)",
        ),
        (
            {"regions": {"arms": {"scale": 1.0}}},
            "regions.arms.scale = 1.0: must be 0, 1 or 2 (an integer)",
        ),
        (
            {"regions": {"legs": {"dyspigmentation": 2}}},
            "regions.legs.dyspigmentation = 2: must be 0 or 1",
        ),
        ({"regions": {"legs": {"scarring": 3}}}, "regions.legs.scarring = 3: must be 0, 1 or 2"),
        (
            {"regions": {"scalp": {"scarring": 1}}},
            "regions.scalp.scarring = 1: the scalp has no scarring",
        ),
        ({"regions": {"knees": {}}}, "regions.knees = {}: unknown region"),
        ({"regions": {"arms": {"colour": 1}}}, "regions.arms.colour = 1: unknown item"),
        ({"extra": 1}, "extra = 1: unknown field"),
        ({"scarring_alopecia": 1}, "scarring_alopecia = 1: must be 0, 3, 4, 5 or 6"),
        ({"scarring_alopecia": 2}, "scarring_alopecia = 2: must be 0, 3, 4, 5 or 6"),
        ({"scarring_alopecia": 7}, "scarring_alopecia = 7: must be 0, 3, 4, 5 or 6"),
        ({"nonscarring_alopecia": 4}, "nonscarring_alopecia = 4: must be 0, 1, 2 or 3"),
        ({"mucous_membrane_lesions": 2}, "mucous_membrane_lesions = 2: must be 0 or 1"),
        (
            {"dyspigmentation_persistent": "yes"},
            'dyspigmentation_persistent = "yes": must be true or false',
        ),
        ({"regions": {"arms": None}}, "regions.arms = null: must be an object"),
    ],
)
def test_invalid_forms_name_field_and_value(form: dict, message: str) -> None:
    with pytest.raises(FormError) as info:
        validate_clasi_form(form)
    assert str(info.value).startswith(message)


def test_form_must_be_an_object() -> None:
    with pytest.raises(FormError, match="JSON object"):
        validate_clasi_form([1, 2])  # type: ignore[arg-type]


def test_json_fast_path_agrees_and_reports_the_same_errors() -> None:
    assert compute_clasi(decode_clasi_json(b'{"regions": {"arms": {"erythema": 2}}}')).activity == 2
    with pytest.raises(FormError, match=r"^regions\.arms\.scale = 3: must be 0, 1 or 2$"):
        decode_clasi_json(b'{"regions": {"arms": {"scale": 3}}}')
    with pytest.raises(FormError, match="not valid JSON"):
        decode_clasi_json(b'{"regions": ')
    with pytest.raises(FormError, match="scarring_alopecia = 2"):
        decode_clasi_json(b'{"scarring_alopecia": 2}')
    for not_an_object in (b"null", b"[1]", b"3", b'"form"'):
        with pytest.raises(FormError, match="a form must be a JSON object"):
            decode_clasi_json(not_an_object)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b'{"": null}', '[""] = null: unknown field'),
        (b'{"regions": {"": {}}}', 'regions[""] = {}: unknown region'),
        (b'{"regions": {"arms": {"": 1}}}', 'regions.arms[""] = 1: unknown item'),
    ],
)
def test_empty_keys_are_named_not_crashed_on(document: bytes, message: str) -> None:
    # found by the 1,000-examples-per-operation schemathesis run against /api/score/clasi
    with pytest.raises(FormError) as info:
        decode_clasi_json(document)
    assert str(info.value).startswith(message)
