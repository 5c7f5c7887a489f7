"""Bad input gives a clear error naming the field and the value; nothing is silently used."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cletrial.errors import HistoryError, ProtocolDefinitionError, UnknownProtocolError
from cletrial.protocol import (
    ProtocolDefinition,
    decode_history,
    load_protocol,
    parse_history,
    parse_protocol,
    recommend,
    truncate_history,
)

from .conftest import HistoryFactory, day, protocol_document


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "red"}, 'colour = "red": unknown key'),
        ({"sex": "female"}, 'sex = "female": must be one of F, M, null'),
        (
            {"doses": [{"date": "2009-02-02", "regimen": "5_daily", "dose": 5}]},
            "doses[0].dose = 5: unknown key",
        ),
        (
            {"labs": [{"date": "2009-02-09", "test": "neutrophils", "value": 1.2, "unit": "g/dL"}]},
            'labs[0].unit = "g/dL": must be one of',
        ),
        (
            {"labs": [{"date": "2009-02-09", "test": "cd4", "value": 1, "unit": "/uL"}]},
            'labs[0].test = "cd4": must be one of neutrophils',
        ),
        (
            {"labs": [{"date": "2009-02-09", "test": "wbc", "value": -1, "unit": "10^9/L"}]},
            "labs[0].value = -1: must be a number, 0 or more",
        ),
        (
            {"assessments": [{"date": "2009-03-02"}, {"date": "2009-02-28"}]},
            'assessments[1].date = "2009-02-28": must be after assessments[0] (2009-03-02)',
        ),
        (
            {"assessments": [{"date": "2009-03-02"}, {"date": "2009-03-02"}]},
            'assessments[1].date = "2009-03-02": must be after',
        ),
        ({"assessments": [{"date": "2009-03-32"}]}, 'assessments[0].date = "2009-03-32"'),
        (
            {"assessments": [{"date": "2009-03-02", "clasi": {"activity": 71}}]},
            "assessments[0].clasi.activity = 71: must be an integer from 0 to 70",
        ),
        (
            {"assessments": [{"date": "2009-03-02", "clasi": {"activity": 3, "scale": 1}}]},
            "assessments[0].clasi.scale = 1: unknown key",
        ),
        (
            {"assessments": [{"date": "2009-03-02", "clasi": {"regions": {"arms": {"scale": 3}}}}]},
            "assessments[0].clasi.regions.arms.scale = 3: must be 0, 1 or 2",
        ),
        (
            {"assessments": [{"date": "2009-03-02", "sledai": {"score": 106}}]},
            "assessments[0].sledai.score = 106: must be an integer from 0 to 105",
        ),
        (
            {"assessments": [{"date": "2009-03-02", "sledai": {"seizures": True}}]},
            "assessments[0].sledai.seizures = true: unknown descriptor",
        ),
        (
            {
                "adverse_events": [
                    {"term": "Rash", "start": "2009-03-02", "end": "2009-03-01", "grade": 2}
                ]
            },
            'adverse_events[0].end = "2009-03-01": must be on or after its start',
        ),
        (
            {"adverse_events": [{"term": "Rash", "start": "2009-03-02", "grade": 6}]},
            "adverse_events[0].grade = 6: must be a whole number, 5 or less",
        ),
        (
            {"events": [{"date": "2009-03-02", "type": "holiday"}]},
            'events[0].type = "holiday": must be one of consent_withdrawn',
        ),
        (
            {"first_dose_date": "2009-02-03"},
            'first_dose_date = "2009-02-03": must equal doses[0].date (2009-02-02)',
        ),
        ({"doses": []}, "doses = []: must record the regimen started on first_dose_date"),
    ],
)
def test_history_errors_name_the_field(
    make_history: HistoryFactory, change: dict[str, Any], message: str
) -> None:
    history = make_history(10, [])
    history.update(change)
    with pytest.raises(HistoryError) as caught:
        parse_history(history)
    assert message in str(caught.value)


def test_dose_not_on_the_ladder(protocol: ProtocolDefinition, make_history: HistoryFactory) -> None:
    history = make_history(10, [(2, 5)], [(0, "5_daily"), (1, "7.5_daily")])
    with pytest.raises(
        HistoryError,
        match=r'doses\[1\].regimen = "7.5_daily": must be a step of '
        r"lenalidomide-cle-2012's ladder: 10_daily, 5_daily",
    ):
        recommend(history, protocol, day(2))
    off_first = make_history(10, [], [(0, "off")])
    with pytest.raises(HistoryError, match=r"doses\[0\].regimen"):
        recommend(off_first, protocol, day(1))


def test_data_after_the_date_is_an_error(
    protocol: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    history = make_history(10, [(2, 5), (4, 2), (6, 1)])
    with pytest.raises(HistoryError) as caught:
        recommend(history, protocol, day(3))
    assert caught.value.field == "assessments[1].date"
    assert "after the recommendation date 2009-02-23" in str(caught.value)
    labs = make_history(10, [(2, 5)], until=3)
    with pytest.raises(HistoryError, match=r"labs\[\d+\]\.date"):
        recommend(labs, protocol, day(2))
    ae = make_history(
        10,
        [(2, 5)],
        adverse_events=[{"term": "Insomnia", "start": iso(1), "end": iso(3), "grade": 1}],
    )
    with pytest.raises(HistoryError, match=r"adverse_events\[0\]\.end"):
        recommend(ae, protocol, day(2))
    cut = truncate_history(parse_history(ae), day(2))
    assert recommend(cut, protocol, day(2)).action == "continue"


def iso(week: float) -> str:
    return day(week).isoformat()


def test_history_for_another_protocol_is_refused(
    thalidomide: ProtocolDefinition, make_history: HistoryFactory
) -> None:
    with pytest.raises(HistoryError, match='protocol = "lenalidomide-cle-2012"'):
        recommend(make_history(10, [(2, 5)]), thalidomide, day(2))


def test_decode_history_reports_bad_json_and_fields() -> None:
    with pytest.raises(HistoryError, match="not valid JSON"):
        decode_history(b"{")
    with pytest.raises(HistoryError, match=r'labs\[0\]\.test = "xx"'):
        decode_history(
            b'{"labs": [{"date": "2009-01-01", "test": "xx", "value": 1, "unit": "/uL"}]}'
        )
    with pytest.raises(HistoryError, match="a history must be a JSON object"):
        parse_history([1, 2])  # type: ignore[arg-type]


def test_unknown_protocol_names_the_choices(tmp_path: Any) -> None:
    with pytest.raises(UnknownProtocolError, match="bundled protocols are lenalidomide-cle-2012"):
        load_protocol("lenalidomide-2099")
    with pytest.raises(UnknownProtocolError, match="no protocol file"):
        load_protocol(str(tmp_path / "missing.yaml"))


def _broken(path: str, value: Any) -> dict[str, Any]:
    document = protocol_document()
    *parents, last = path.split(".")
    node = document
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return document


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "dosing.taper.interval_weeks",
            0,
            "dosing.taper.interval_weeks = 0: must be a whole number, 1 or more",
        ),
        ("dosing.taper.speed", 1, "dosing.taper.speed = 1: unknown key"),
        (
            "dosing.start_regimen",
            "7_daily",
            'dosing.start_regimen = "7_daily": must be a regimen id',
        ),
        ("maximum_dose_mg", 5, "regimens[0].dose_mg = 10.0: exceeds maximum_dose_mg 5"),
        (
            "regimens.1.administrations_per_week",
            1,
            'regimens[2].id = "5_alternate": regimens must be listed from the highest',
        ),
        ("regimens.5.dose_mg", 5, "the last step of the ladder must be no treatment"),
        ("response.relapse_min", 0, "response.relapse_min = 0: must be a whole number, 1 or more"),
        ("dosing.nonresponse.week", 4, "must be after the review week 4"),
        ("safety.ctcae_version", "4.0", 'safety.ctcae_version = "4.0"'),
        ("rules.TAPER-STEP", KeyError, "rules.TAPER-STEP = null: every rule the engine uses"),
        ("rules.TAPER-STEPS", {"source": "protocol"}, "rules.TAPER-STEPS = null: unknown rule"),
        (
            "rules.STOP-MYELOSUPPRESSION",
            {"source": "protocol", "enabled": False},
            "rules.STOP-MYELOSUPPRESSION.enabled = false: only label-derived",
        ),
        ("rules.DOSE-START", {"source": "paper"}, 'rules.DOSE-START.source = "paper"'),
        (
            "eligibility.lab_exclusions.wbc",
            {"below": 2, "unit": "g/L"},
            'eligibility.lab_exclusions.wbc.unit = "g/L": must be one of',
        ),
        ("monitoring.visits.1.until_week", 48, "the last phase must be open"),
    ],
)
def test_protocol_definition_errors_name_the_field(path: str, value: Any, message: str) -> None:
    with pytest.raises(ProtocolDefinitionError) as caught:
        parse_protocol(_broken(path, value), "broken.yaml")
    assert str(caught.value).startswith("broken.yaml: ")
    assert message in str(caught.value)


def test_protocol_file_by_path(tmp_path: Any) -> None:
    import yaml

    document = protocol_document()
    document["id"] = "my-site-variant"
    document["dosing"]["review"]["week"] = 6
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    loaded = load_protocol(str(path))
    assert (loaded.id, loaded.n.review_day) == ("my-site-variant", 42)
    path.write_text("rules: [", encoding="utf-8")
    with pytest.raises(ProtocolDefinitionError, match="not valid YAML"):
        load_protocol(str(path))


def test_recommend_accepts_a_mapping_and_a_date_only(protocol: ProtocolDefinition) -> None:
    rec = recommend({"sex": "M"}, protocol, dt.date(2009, 1, 1))
    assert rec.action == "undetermined"  # not screened: the enrolment gate
    assert rec.reasons[0].rule == "ENROL-GATE"
    screened = {"sex": "M", "eligibility": {"date": "2009-01-01", "verdict": "eligible"}}
    assert recommend(screened, protocol, dt.date(2009, 1, 1)).action == "start"


@pytest.mark.parametrize(
    ("history", "on", "field"),
    [
        ({}, dt.date(1, 1, 1), "on"),
        ({}, dt.date(9999, 12, 31), "on"),
        (
            {
                "first_dose_date": "0001-01-02",
                "doses": [{"date": "0001-01-02", "regimen": "5_daily"}],
            },
            dt.date(2000, 1, 1),
            "first_dose_date",
        ),
        (
            {"labs": [{"date": "1850-01-01", "test": "wbc", "value": 5, "unit": "10^9/L"}]},
            dt.date(2000, 1, 1),
            "labs[0].date",
        ),
    ],
)
def test_dates_out_of_clinical_range_are_input_errors(
    history: dict, on: dt.date, field: str
) -> None:
    # found by the long schemathesis run: 0001-01-01 overflowed the schedule's date arithmetic
    with pytest.raises(HistoryError) as info:
        recommend(history, load_protocol(), on)
    assert info.value.field == field
