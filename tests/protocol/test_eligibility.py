"""Eligibility (shared/spec/protocol.md section 1): every criterion met / not met / missing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cletrial.errors import ScreeningError
from cletrial.protocol import ProtocolDefinition, assess_eligibility

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "screening.json"


@pytest.fixture
def record() -> dict[str, Any]:
    """A complete screening record of an eligible patient (examples/screening.json)."""
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return data


def _status(result: Any, cid: str) -> str:
    return next(c.status for c in result.criteria if c.id == cid)  # type: ignore[no-any-return]


def test_complete_record_is_eligible(protocol: ProtocolDefinition, record: dict[str, Any]) -> None:
    result = assess_eligibility(record, protocol)
    assert result.verdict == "eligible" and result.missing == []
    assert [c.id for c in result.criteria] == [
        "I1",
        "I2",
        "I3",
        "I4",
        "I5",
        "I6",
        "E1",
        "E2",
        "E3",
        "E4",
        "E5",
        "E6",
        "E7",
        "E8",
        "E9",
    ]
    assert all(c.status == "met" for c in result.criteria if c.kind == "inclusion")
    assert all(c.status == "not_met" for c in result.criteria if c.kind == "exclusion")
    i6 = next(c for c in result.criteria if c.id == "I6")
    assert i6.value["bsa_percent"] == 19.8  # rule of nines: 9 + 5.4 + 5.4


@pytest.mark.parametrize(
    ("change", "cid", "status"),
    [
        ({"birth_date": None, "age_years": 17}, "I1", "not_met"),
        ({"birth_date": "1991-01-15"}, "I1", "met"),  # 18 on the screening day
        ({"birth_date": "1991-01-16"}, "I1", "not_met"),
        ({"cle_histology_confirmed": False}, "I2", "not_met"),
        ({"clasi": {"regions": {"arms": {"erythema": 1, "scale": 2}}}}, "I3", "not_met"),
        ({"background_therapy": {"stable_days": 29, "prednisone_mg_per_day": 5}}, "I4", "not_met"),
        ({"background_therapy": {"stable_days": 30, "prednisone_mg_per_day": 10}}, "I4", "not_met"),
        (
            {
                "conventional_treatment": {
                    "antimalarial": True,
                    "topical_steroids": True,
                    "months": 2,
                    "refractory": True,
                }
            },
            "I5",
            "not_met",
        ),
        (
            {
                "body_surface": {"anterior_trunk": 1.0},
                "thalidomide": {
                    "severe_side_effects": False,
                    "lack_of_efficacy": False,
                    "hypersensitivity": False,
                },
            },
            "I6",
            "not_met",
        ),  # 18% is not > 18%
        ({"thalidomide": {"hypersensitivity": True, "severe_side_effects": True}}, "E1", "met"),
        ({"adequate_contraception": False}, "E2", "met"),
        ({"lactating": True}, "E2", "met"),
        ({"active_sle_requiring_immunosuppressants": True}, "E3", "met"),
        (
            {"labs": [{"date": "2009-01-10", "test": "platelets", "value": 29000, "unit": "/mm3"}]},
            "E4",
            "met",
        ),
        ({"thrombosis_history": True}, "E5", "met"),
        ({"antiphospholipid_antibodies": True}, "E6", "met"),
        ({"egfr": 29.5}, "E7", "met"),
        ({"progressive_renal_disease": True}, "E7", "met"),
        ({"psychiatric_or_social_disorder": True}, "E8", "met"),
        ({"viral_hepatitis": True}, "E9", "met"),
    ],
)
def test_each_criterion(
    protocol: ProtocolDefinition,
    record: dict[str, Any],
    change: dict[str, Any],
    cid: str,
    status: str,
) -> None:
    record.update(change)
    result = assess_eligibility(record, protocol)
    assert _status(result, cid) == status
    blocked = (cid[0] == "I") == (status == "not_met")
    assert result.verdict == ("ineligible" if blocked else "eligible")


def test_missing_data_is_undetermined_never_passed(
    protocol: ProtocolDefinition, record: dict[str, Any]
) -> None:
    del record["hiv"]
    record["labs"] = record["labs"][:2]  # no neutrophil count
    result = assess_eligibility(record, protocol)
    assert result.verdict == "undetermined"
    assert (_status(result, "E9"), _status(result, "E4")) == ("missing", "missing")
    assert result.missing == ["labs[] neutrophils within 30 days before screening", "hiv"]


def test_a_failed_criterion_decides_even_with_missing_data(
    protocol: ProtocolDefinition, record: dict[str, Any]
) -> None:
    del record["hiv"]
    record["thrombosis_history"] = True
    result = assess_eligibility(record, protocol)
    assert result.verdict == "ineligible" and result.missing == ["hiv"]


def test_clasi_scores_alone_cannot_show_erythema(
    protocol: ProtocolDefinition, record: dict[str, Any]
) -> None:
    record["clasi"] = {"activity": 12, "damage": 2}
    result = assess_eligibility(record, protocol)
    assert _status(result, "I3") == "missing"


def test_old_labs_do_not_count(protocol: ProtocolDefinition, record: dict[str, Any]) -> None:
    record["labs"] = [{"date": "2008-11-01", "test": "platelets", "value": 20, "unit": "10^9/L"}]
    assert _status(assess_eligibility(record, protocol), "E4") == "missing"


def test_males_are_not_excluded_by_pregnancy(
    protocol: ProtocolDefinition, record: dict[str, Any]
) -> None:
    for key in ("pregnant", "lactating", "reproductive_potential", "adequate_contraception"):
        del record[key]
    record["sex"] = "M"
    assert _status(assess_eligibility(record, protocol), "E2") == "not_met"


def test_numbers_come_from_the_protocol(
    thalidomide: ProtocolDefinition, record: dict[str, Any]
) -> None:
    record["birth_date"], record["age_years"] = None, 20
    result = assess_eligibility(record, thalidomide)
    assert _status(result, "I1") == "not_met"
    assert result.criteria[0].text == "age 21 or over at screening"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"age": 40}, "age = 40: unknown key"),
        (
            {"labs": [{"date": "2009-02-01", "test": "wbc", "value": 5, "unit": "10^9/L"}]},
            'labs[0].date = "2009-02-01": is after screening_date',
        ),
        ({"clasi": {"regions": {"arms": {"erythema": 4}}}}, "clasi.regions.arms.erythema = 4"),
        ({"body_surface": {"tail": 1}}, "body_surface.tail = 1.0: unknown area"),
        ({"age_years": 20}, "age_years = 20: disagrees with birth_date (39)"),
    ],
)
def test_bad_screening_records(
    protocol: ProtocolDefinition, record: dict[str, Any], change: dict[str, Any], message: str
) -> None:
    record.update(change)
    with pytest.raises(ScreeningError) as caught:
        assess_eligibility(record, protocol)
    assert message in str(caught.value)


def test_result_as_dict_is_json(protocol: ProtocolDefinition, record: dict[str, Any]) -> None:
    data = assess_eligibility(record, protocol).as_dict()
    assert json.loads(json.dumps(data))["criteria"][0] == {
        "id": "I1",
        "kind": "inclusion",
        "text": "age 18 or over at screening",
        "status": "met",
        "value": 39,
        "reason": "criterion met",
        "missing": [],
    }
