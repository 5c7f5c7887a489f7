"""CLA-IGA grades and Skindex-29+3 responses in a patient history: optional, scored once,
impossible values refused naming the field, the published schema agreeing."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from cletrial.cli import app
from cletrial.endpoints.course import course_from_history
from cletrial.errors import HistoryError
from cletrial.protocol.history import decode_history, parse_history

LUPUS = {"31": 2, "32": 4, "33": 3}  # 25 + 75 + 50 = 150 / 3 = 50


def _history(**visit: Any) -> dict[str, Any]:
    return {
        "patient_id": "T1",
        "first_dose_date": "2024-01-08",
        "doses": [{"date": "2024-01-08", "regimen": "5_daily"}],
        "baseline": {"date": "2024-01-08", "clasi": {"activity": 12}, "cla_iga": 3,
                     "skindex": LUPUS},
        "assessments": [{"date": "2024-04-29", "clasi": {"activity": 5}, **visit}],
    }  # fmt: skip


def test_grades_and_domain_scores_reach_the_visits_and_the_course() -> None:
    history = parse_history(_history(cla_iga=1, skindex={"31": 1, "32": 1, "33": 2}))
    assert history.baseline is not None
    assert history.baseline.cla_iga == 3
    assert history.baseline.skindex is not None and history.baseline.skindex.lupus_specific == 50
    course = course_from_history(history)
    assert course.cla_iga_base == 3 and course.visits[0].cla_iga == 1
    assert course.skindex_base is not None and course.skindex_base["lupus_specific"] == 50.0
    visit_scores = course.visits[0].skindex
    assert visit_scores is not None and visit_scores["lupus_specific"] == pytest.approx(25 / 3)
    assert visit_scores["symptoms"] is None  # not answered: missing, not 0


def test_a_history_without_them_is_unchanged() -> None:
    document = _history()
    del document["baseline"]["cla_iga"], document["baseline"]["skindex"]
    course = course_from_history(document)
    assert course.cla_iga_base is None and course.skindex_base is None
    assert course.visits[0].cla_iga is None and course.visits[0].skindex is None


@pytest.mark.parametrize(
    ("visit", "message"),
    [
        ({"cla_iga": 5}, "assessments[0].cla_iga = 5: must be 0, 1, 2, 3 or 4 (0 clear"),
        ({"cla_iga": -1}, "assessments[0].cla_iga = -1: must be 0, 1, 2, 3 or 4"),
        ({"cla_iga": True}, "assessments[0].cla_iga = true: "),
        ({"cla_iga": "2"}, 'assessments[0].cla_iga = "2": '),
        ({"skindex": {"12": 6}}, "assessments[0].skindex.12 = 6: must be 1, 2, 3, 4 or 5"),
        ({"skindex": {"12": "often"}}, 'assessments[0].skindex.12 = "often": must be 1, 2, 3'),
        ({"skindex": {"34": 2}}, "assessments[0].skindex.34 = 2: unknown item"),
        ({"skindex": [1, 2]}, "assessments[0].skindex = [1, 2]: "),
    ],
)
def test_impossible_values_are_refused_naming_the_field(
    visit: dict[str, Any], message: str
) -> None:
    with pytest.raises(HistoryError) as caught:
        parse_history(_history(**visit))
    assert str(caught.value).startswith(message)
    with pytest.raises(HistoryError) as decoded:
        decode_history(json.dumps(_history(**visit)))
    assert str(decoded.value).startswith(message)


def test_the_published_schema_accepts_and_refuses_the_same() -> None:
    schema = json.loads(CliRunner().invoke(app, ["schema", "history"]).stdout)
    jsonschema.validate(_history(cla_iga=0, skindex={"1": 5, "2": None}), schema)
    for bad in ({"cla_iga": 5}, {"skindex": {"34": 1}}, {"skindex": {"3": 6}}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(_history(**bad), schema)
