"""SDTM EX names the protocol's drug, and in an unblinded package what each arm's kit held:
placebo with no drug, or the dose a continue arm kept through a recorded taper."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cletrial.protocol import load_protocol
from cletrial.standards.sdtm.common import SubjectRef
from cletrial.standards.sdtm.interventions import build_ex
from cletrial.standards.sdtm.source import SubjectSource

DOSES = [{"date": "2024-01-08", "regimen": "5_daily"},
         {"date": "2024-03-04", "regimen": "5_alternate"}]  # fmt: skip


def _ex(protocol_id: str, **subject: Any) -> list[tuple[Any, ...]]:
    s = SubjectSource(SubjectRef("S", "A", "P1", dt.date(2024, 1, 8)),
                      history={"doses": DOSES}, **subject)  # fmt: skip
    frame = build_ex([s], load_protocol(protocol_id).file, []).frame
    return [tuple(r) for r in frame[["EXTRT", "EXDOSE", "EXDOSFRQ", "EXROUTE"]].values.tolist()]


def test_a_single_arm_study_gives_its_own_drug() -> None:
    assert _ex("lenalidomide-cle-2012") == [("LENALIDOMIDE", 5.0, "QD", "ORAL"),
                                            ("LENALIDOMIDE", 5.0, "QOD", "ORAL")]  # fmt: skip
    thalidomide = load_protocol("thalidomide-cle-example").file
    s = SubjectSource(SubjectRef("S", "A", "P1", dt.date(2024, 1, 8)), history={"doses": [
        {"date": "2024-01-08", "regimen": thalidomide.dosing.start_regimen}]})  # fmt: skip
    assert build_ex([s], thalidomide, []).frame["EXTRT"].tolist() == ["THALIDOMIDE"]


def test_a_blinded_load_gives_the_recorded_regimen_of_the_drug() -> None:
    assert _ex("lenalidomide-vs-placebo-cle", randomised=True)[0][:2] == ("LENALIDOMIDE", 5.0)


def test_the_placebo_arm_had_placebo_and_the_active_arm_the_drug() -> None:
    on = dt.date(2024, 1, 8)
    assert _ex("lenalidomide-vs-placebo-cle", randomised=True, arm="PBO", randomised_on=on) == [
        ("PLACEBO", 0.0, "QD", "ORAL"), ("PLACEBO", 0.0, "QOD", "ORAL")]  # fmt: skip
    assert _ex("lenalidomide-vs-placebo-cle", randomised=True, arm="LEN", randomised_on=on) == [
        ("LENALIDOMIDE", 5.0, "QD", "ORAL"), ("LENALIDOMIDE", 5.0, "QOD", "ORAL")]  # fmt: skip


def test_a_continue_arm_kept_its_dose_through_the_recorded_taper() -> None:
    on = dt.date(2024, 2, 19)  # in complete response on 5 mg daily, then randomised
    kept = _ex("lenalidomide-withdrawal-cle", randomised=True, arm="CONT", randomised_on=on)
    tapered = _ex("lenalidomide-withdrawal-cle", randomised=True, arm="TAPER", randomised_on=on)
    assert kept == [("LENALIDOMIDE", 5.0, "QD", "ORAL"), ("LENALIDOMIDE", 5.0, "QD", "ORAL")]
    assert tapered == [("LENALIDOMIDE", 5.0, "QD", "ORAL"), ("LENALIDOMIDE", 5.0, "QOD", "ORAL")]


def test_in_a_parallel_design_the_arm_holds_even_if_randomisation_was_entered_later() -> None:
    late = dt.date(2024, 6, 1)  # entered after the dosing it decided
    assert {row[0] for row in _ex("lenalidomide-vs-placebo-cle", randomised=True, arm="PBO",
                                  randomised_on=late)} == {"PLACEBO"}  # fmt: skip
