"""Randomised protocol definitions: ``extends``, the arms and blinding sections (refusals name
the field and value), the masking of the recommendation, and what each arm dispenses (never
above the protocol's maximum dose)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cletrial.errors import InputError, ProtocolDefinitionError
from cletrial.protocol import load_protocol, recommend
from cletrial.protocol.arms import compute_dispensed
from cletrial.protocol.definition import parse_protocol, protocol_json_schema, resolve_extends

PLACEBO = load_protocol("lenalidomide-vs-placebo-cle")
WITHDRAWAL = load_protocol("lenalidomide-withdrawal-cle")
BASE = load_protocol("lenalidomide-cle-2012")
ARMS = [{"id": "LEN", "name": "Lenalidomide"}, {"id": "PBO", "name": "Placebo", "active": False}]
DOUBLE = {"masked": "double"}


def _doc(**over: Any) -> dict[str, Any]:
    return {"extends": "lenalidomide-cle-2012", "id": "trial-x", **over}


def test_the_templates_keep_every_number_of_the_2012_protocol() -> None:
    for template in (PLACEBO, WITHDRAWAL):
        for part in ("regimens", "maximum_dose_mg", "response", "dosing", "safety",
                     "monitoring", "eligibility", "rules", "edit_checks"):  # fmt: skip
            assert getattr(template.file, part) == getattr(BASE.file, part), part
        assert template.example and template.file.drug == "lenalidomide"
    assert [a.id for a in PLACEBO.file.arms] == ["LEN", "PBO"]
    assert [(a.id, a.taper) for a in WITHDRAWAL.file.arms] == [("CONT", False), ("TAPER", True)]


def test_extends_merges_mappings_and_replaces_lists() -> None:
    doc = resolve_extends(_doc(dosing={"taper": {"interval_weeks": 8}},
                               regimens=[{"id": "x"}]), "t.yaml")  # fmt: skip
    base_taper = yaml.safe_load(_base_text())["dosing"]["taper"]
    assert doc["dosing"]["taper"] == {**base_taper, "interval_weeks": 8}
    assert doc["regimens"] == [{"id": "x"}] and "extends" not in doc
    eight = parse_protocol(_doc(dosing={"taper": {"interval_weeks": 8}}), "t.yaml")
    assert eight.n.taper_interval == 56 and eight.n.review_day == BASE.n.review_day


def _base_text() -> str:
    from importlib import resources

    return (
        resources.files("cletrial.protocols")
        .joinpath("lenalidomide-cle-2012.yaml")
        .read_text("utf-8")
    )


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"extends": "no-such"}, 't.yaml: extends = "no-such": must be a bundled protocol id'),
        ({"extends": 3}, "t.yaml: extends = 3: must be a bundled protocol id"),
        (_doc(arms=ARMS[:1], blinding=DOUBLE), 'arms = ["LEN"]: a randomised protocol needs 2'),
        (_doc(arms=ARMS), 'arms = ["LEN","PBO"]: needs a blinding section'),
        (_doc(blinding=DOUBLE), 'blinding = "double": needs arms: the protocol has none'),
        (
            _doc(arms=[ARMS[0], ARMS[0]], blinding=DOUBLE),
            'arms[1].id = "LEN": is the id of an earlier arm',
        ),
        (
            _doc(arms=ARMS, blinding={"masked": "open"}),
            "arms[1].active = false: a placebo arm needs a masked trial",
        ),
        (
            _doc(arms=[{**ARMS[1], "id": "P1"}, ARMS[1]], blinding=DOUBLE),
            'arms = ["P1","PBO"]: needs an arm with the active drug',
        ),
        (
            _doc(arms=ARMS, blinding={**DOUBLE, "design": "randomised_withdrawal"}),
            'blinding.design = "randomised_withdrawal": needs an arm that continues',
        ),
        (
            _doc(arms=[{"id": "len", "name": "x"}, ARMS[1]], blinding=DOUBLE),
            'arms[0].id = "len": expected `str` matching regex',
        ),
        (_doc(arms=ARMS, blinding={"masked": "triple"}), 'blinding.masked = "triple"'),
        (_doc(arms=[{**ARMS[0], "colour": "red"}, ARMS[1]], blinding=DOUBLE), "colour"),
    ],
)
def test_bad_arms_and_blinding_are_refused_naming_field_and_value(
    doc: dict[str, Any], message: str
) -> None:
    with pytest.raises(ProtocolDefinitionError) as raised:
        parse_protocol(doc, "t.yaml")
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("over", "message"),
    [
        (
            {"arms": list(reversed(ARMS))},
            'trial.arms = ["LEN","PBO"]: must be the arms, in order: PBO, LEN',
        ),
        ({"trial": {"randomised": False}}, "trial.randomised = false: must be true"),
        (
            {"blinding": {"masked": "single"}},
            'trial.blinding = "double_blind": must be single_blind',
        ),
    ],
)
def test_the_trial_section_must_say_what_arms_and_blinding_say(
    over: dict[str, Any], message: str
) -> None:
    doc = {"extends": "lenalidomide-vs-placebo-cle", "id": "trial-x", **over}
    with pytest.raises(ProtocolDefinitionError) as raised:
        parse_protocol(doc, "t.yaml")
    assert message in str(raised.value)


def test_the_schema_documents_arms_blinding_and_extends() -> None:
    top = protocol_json_schema()["$defs"]["ProtocolFile"]
    assert {"arms", "blinding", "extends"} <= set(top["properties"])
    assert top["anyOf"][0] == {"required": ["extends"]} and "id" in top["anyOf"][1]["required"]


HISTORY = {
    "sex": "M", "baseline": {"date": "2009-02-02", "clasi": {"activity": 6}},
    "assessments": [{"date": "2009-03-02", "clasi": {"activity": 0}}],
    "doses": [{"date": "2009-02-02", "regimen": "5_daily"}],
}  # fmt: skip
ON = dt.date(2009, 3, 2)


def test_a_masked_recommendation_carries_the_blinding_and_the_2012_decision() -> None:
    plain = recommend(HISTORY, BASE, ON).as_dict()
    assert "blinding" not in plain  # single-arm protocols: unchanged output
    masked = recommend(HISTORY, PLACEBO, ON).as_dict()
    blinding = masked.pop("blinding")
    assert blinding["masked"] == "double" and blinding["design"] == "parallel"
    assert blinding["product"] == "study drug (lenalidomide or matching placebo)"
    assert "treatment code, not the arm" in blinding["text"]
    for key in ("protocol_id", "protocol_version", "example_protocol"):
        masked.pop(key), plain.pop(key)
    example = masked["alerts"].pop(0)  # a template: every recommendation warns
    assert example["rule"] == "EXAMPLE-PROTOCOL"
    assert masked == plain  # the same decision: the engine does not see the arm
    assert recommend(HISTORY, WITHDRAWAL, ON).blinding.design == "randomised_withdrawal"  # type: ignore[union-attr]


def test_what_each_arm_dispenses() -> None:
    active = compute_dispensed(PLACEBO, "LEN", "10_daily", action="escalate")
    placebo = compute_dispensed(PLACEBO, "PBO", "10_daily", action="escalate")
    assert (active.regimen, active.drug_mg, active.product) == (
        placebo.regimen, 10.0, "lenalidomide")  # fmt: skip
    assert (placebo.drug_mg, placebo.product) == (0.0, "placebo matching lenalidomide")
    keep = {"at_randomisation": "5_daily"}
    cont = [compute_dispensed(WITHDRAWAL, "CONT", r, action="taper", **keep).regimen.id
            for r in ("5_alternate", "5_thrice_weekly", "off")]  # fmt: skip
    assert cont == ["5_daily"] * 3  # the continue arm keeps its dose through the taper
    taper = [compute_dispensed(WITHDRAWAL, "TAPER", r, action="taper", **keep).regimen.id
             for r in ("5_alternate", "5_thrice_weekly", "off")]  # fmt: skip
    assert taper == ["5_alternate", "5_thrice_weekly", "off"]
    restart = compute_dispensed(WITHDRAWAL, "CONT", "10_daily", action="escalate", **keep)
    assert restart.regimen.id == "10_daily"  # a higher dose is followed
    stop = compute_dispensed(WITHDRAWAL, "CONT", "off", action="stop", **keep)
    assert stop.regimen.id == "off" and stop.drug_mg == 0  # safety: every arm stops


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("XYZ", "5_daily"), {}, 'arm = "XYZ": is not an arm of lenalidomide-withdrawal-cle'),
        (("CONT", "5_daily"), {}, "at_randomisation = null: arm CONT continues"),
        (("TAPER", "20_daily"), {}, 'recommended = "20_daily": is not a regimen'),
        (("CONT", "5_daily"), {"at_randomisation": "x"}, 'at_randomisation = "x"'),
    ],
)
def test_dispensing_refuses_unknown_arms_and_regimens(
    args: tuple[str, str], kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(InputError) as raised:
        compute_dispensed(WITHDRAWAL, *args, **kwargs)
    assert message in str(raised.value)
    with pytest.raises(InputError, match="single-arm"):
        compute_dispensed(BASE, "LEN", "5_daily")


STEPS = [r.id for r in BASE.regimens]
ACTIONS = ["start", "continue", "escalate", "taper", "restart", "maintain", "hold", "stop"]


@settings(max_examples=300)
@given(
    protocol=st.sampled_from([PLACEBO, WITHDRAWAL]),
    arm=st.integers(0, 1),
    recommended=st.sampled_from(STEPS),
    kept=st.sampled_from(STEPS),
    action=st.sampled_from(ACTIONS),
)
def test_no_arm_ever_dispenses_above_the_maximum_nor_off_the_ladder(
    protocol: Any, arm: int, recommended: str, kept: str, action: str
) -> None:
    arm_id = protocol.file.arms[arm].id
    d = compute_dispensed(protocol, arm_id, recommended, action=action, at_randomisation=kept)
    assert d.regimen in protocol.regimens
    assert d.drug_mg <= d.regimen.dose_mg <= protocol.file.maximum_dose_mg
    step, rec = protocol.regimen_index[d.regimen.id], protocol.regimen_index[recommended]
    if protocol.file.arms[arm].taper or action in ("stop", "hold"):
        assert step == rec
    else:  # never below the kept dose unless safety says so; a higher dose is followed
        assert step == min(rec, protocol.regimen_index[kept])


def test_the_command_line_shows_the_masking(tmp_path: Any) -> None:
    import json

    from typer.testing import CliRunner

    from cletrial.cli import app

    path = tmp_path / "h.json"
    path.write_text(json.dumps({**HISTORY, "protocol": "lenalidomide-vs-placebo-cle"}))
    masked = ["--protocol", "lenalidomide-vs-placebo-cle", "--on", "2009-03-02"]
    result = CliRunner().invoke(app, ["recommend", str(path), *masked])
    assert result.exit_code == 0, result.output
    assert "(5_alternate, study drug (lenalidomide or matching placebo))" in result.output
    assert "Blinding: double-blind trial" in result.output
    single = tmp_path / "p.json"
    single.write_text(json.dumps(HISTORY))
    plain = CliRunner().invoke(app, ["recommend", str(single), "--on", "2009-03-02"])
    assert plain.exit_code == 0, plain.output
    assert "(5_alternate)" in plain.output and "Blinding" not in plain.output
