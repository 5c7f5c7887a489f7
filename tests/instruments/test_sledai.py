"""SLEDAI-2K against Gladman 2002."""

from __future__ import annotations

import pytest

from cletrial.errors import FormError
from cletrial.instruments import SLEDAI_MAX, SLEDAI_WEIGHTS, compute_sledai, decode_sledai_json

CITED_WEIGHTS = {
    8: ["seizure", "psychosis", "organic_brain_syndrome", "visual_disturbance",
        "cranial_nerve_disorder", "lupus_headache", "cerebrovascular_accident", "vasculitis"],
    4: ["arthritis", "myositis", "urinary_casts", "hematuria", "proteinuria", "pyuria"],
    2: ["rash", "alopecia", "mucosal_ulcers", "pleurisy", "pericarditis", "low_complement",
        "increased_dna_binding"],
    1: ["fever", "thrombocytopenia", "leukopenia"],
}  # fmt: skip


@pytest.mark.parametrize(
    ("weight", "name"), [(w, n) for w, names in CITED_WEIGHTS.items() for n in names]
)
def test_each_descriptor_scores_its_cited_weight(weight: int, name: str) -> None:
    assert compute_sledai({name: True}) == weight


def test_twenty_four_descriptors_and_maximum_105() -> None:
    assert len(SLEDAI_WEIGHTS) == 24
    assert SLEDAI_MAX == 105
    assert compute_sledai(dict.fromkeys(SLEDAI_WEIGHTS, True)) == 105


def test_alopecia_scores_two_not_one() -> None:
    # instruments.md: one public calculator wrongly gives alopecia 1 point.
    assert compute_sledai({"alopecia": True}) == 2


@pytest.mark.parametrize("name", ["thrombocytopenia", "leukopenia"])
def test_drug_induced_cytopenia_does_not_score(name: str) -> None:
    assert compute_sledai({name: True, f"{name}_drug_induced": True}) == 0
    assert compute_sledai({name: True, f"{name}_drug_induced": False}) == 1
    assert compute_sledai({f"{name}_drug_induced": True}) == 0


def test_empty_and_false_forms_score_zero() -> None:
    assert compute_sledai({}) == 0
    assert compute_sledai(dict.fromkeys(SLEDAI_WEIGHTS, False)) == 0


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"rash": 1}, "rash = 1: must be true or false"),
        ({"rash": "true"}, 'rash = "true": must be true or false'),
        ({"rash": None}, "rash = null: must be true or false"),
        ({"lupus_nephritis": True}, "lupus_nephritis = true: unknown descriptor"),
    ],
)
def test_invalid_forms(form: dict, message: str) -> None:
    with pytest.raises(FormError) as info:
        compute_sledai(form)
    assert str(info.value).startswith(message)


def test_json_fast_path() -> None:
    assert compute_sledai(decode_sledai_json(b'{"fever": true, "pyuria": true}')) == 5
    with pytest.raises(FormError, match=r"^rash = 1: must be true or false$"):
        decode_sledai_json(b'{"rash": 1}')
