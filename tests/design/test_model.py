"""The design file: bundled designs load, every bad field is named with its value, every assumed
rate has a source."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from cletrial.design import Design, list_designs, load_design, parse_design
from cletrial.design.model import RATE_FIELDS
from cletrial.errors import DesignError, InputError

DESIGNS = Path(__file__).resolve().parents[2] / "src" / "cletrial" / "designs"


def _document(name: str = "lenalidomide-vs-placebo") -> dict[str, Any]:
    loaded = yaml.safe_load((DESIGNS / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.parametrize("name", list_designs())
def test_bundled_designs_load_and_cite_every_rate(name: str) -> None:
    design = load_design(name)
    assert isinstance(design, Design) and design.id == name
    for field in RATE_FIELDS:
        if getattr(design, field):
            source = design.source_of(field)
            assert source is not None and source.citation, field


def test_parallel_design_rates_come_from_the_2012_table_2() -> None:
    design = load_design("lenalidomide-vs-placebo")
    # Cortés-Hernández 2012, Table 2: CR by week 12 in 11 of 15 patients; 1 of 15 withdrew.
    assert design.treatment_rate == pytest.approx(11 / 15, abs=5e-4)
    assert design.dropout == pytest.approx(1 / 15, abs=5e-4)
    source = design.source_of("control_rate")
    assert source is not None and source.kind == "assumption"


def test_withdrawal_design_is_time_to_relapse() -> None:
    design = load_design("lenalidomide-withdrawal")
    assert design.kind == "withdrawal" and design.endpoint.kind == "time_to_event"
    assert design.control.id == "taper" and design.control_median_weeks == 4.4
    assert design.futility_beta == pytest.approx(1 - design.power)


def test_a_file_path_loads(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    doc = _document()
    doc["id"] = "mine"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    assert load_design(path).id == "mine"
    assert load_design(str(path)).id == "mine"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"alpha": 0.7}, "alpha = 0.7: must be a number, less than 0.5"),
        ({"looks": [0.5, 0.4, 1.0]}, "looks[1] = 0.4: must be above the previous look 0.5"),
        ({"looks": [0.5, 0.9]}, "looks[1] = 0.9: the last look must be 1.0"),
        ({"looks": [0.0, 1.0]}, "looks[0] = 0.0: must be an information fraction in (0, 1]"),
        ({"futility": {"spending": "obf", "bogus": 1}}, "futility.bogus = 1: unknown key"),
        ({"futility": {"binding": True}}, "futility.binding = true: binding futility is not"),
        (
            {"efficacy_spending": "haybittle"},
            'efficacy_spending = "haybittle": must be "obf", "pocock" or',
        ),
        ({"sources": []}, "control_rate = 0.1: needs a source"),
        ({"treatment_rate": 0.1}, "treatment_rate = 0.1: must differ from control"),
        ({"control_rate": None}, "control_rate = null: is required for a binary endpoint"),
        ({"arms": [{"id": "a", "label": "A"}]}, 'arms = ["a"]: must be two arms'),
        ({"extra": 1}, "extra = 1: unknown key"),
    ],
)
def test_bad_fields_are_named_with_their_value(change: dict[str, Any], message: str) -> None:
    doc = copy.deepcopy(_document())
    doc.update(change)
    with pytest.raises(DesignError) as caught:
        parse_design(doc, "x.yaml")
    assert str(caught.value).startswith(f"x.yaml: {message}")
    assert isinstance(caught.value, InputError)


def test_a_source_must_name_a_rate_field() -> None:
    doc = _document()
    doc["sources"][0]["fields"] = ["treatment_rates"]
    with pytest.raises(DesignError, match=r"sources\[0\]\.fields\[0\] = \"treatment_rates\""):
        parse_design(doc, "x.yaml")


def test_time_to_event_needs_accrual_and_follow_up() -> None:
    doc = _document("lenalidomide-withdrawal")
    del doc["follow_up_weeks"]
    with pytest.raises(DesignError, match="follow_up_weeks = null: is required"):
        parse_design(doc, "w.yaml")


def test_unknown_design_and_unreadable_file() -> None:
    with pytest.raises(DesignError, match='design = "nope": is no bundled design'):
        load_design("nope")
    with pytest.raises(DesignError, match=r"path = .*cannot be read"):
        load_design("/nonexistent/design.yaml")


def test_bad_yaml(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(DesignError, match=r"bad\.yaml: not valid YAML"):
        load_design(path)
