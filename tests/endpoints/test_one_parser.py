"""Endpoints read histories through the protocol's one parser and take rules from the protocol."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.endpoints.helpers import derive_both, history
from typer.testing import CliRunner

from cletrial.cli import app
from cletrial.endpoints import EndpointRules, course_from_history, table_from_histories
from cletrial.endpoints.rules import DEFAULT_RULES
from cletrial.errors import HistoryError
from cletrial.protocol.definition import load_protocol
from cletrial.protocol.history import parse_history

runner = CliRunner()


def year_2300() -> dict[str, Any]:
    h = history(visits=[(28, 0)])
    h["assessments"][0]["date"] = "2300-01-01"
    return h


def baseline_without_date() -> dict[str, Any]:
    h = history(visits=[(28, 0)])
    del h["baseline"]["date"]
    return h


def assessments_out_of_order() -> dict[str, Any]:
    h = history(visits=[(28, 0), (56, 0)])
    h["assessments"].reverse()
    return h


BAD = {
    "year_2300": (year_2300, "assessments[0].date"),
    "baseline_without_date": (baseline_without_date, "baseline.date"),
    "out_of_order": (assessments_out_of_order, "assessments[1].date"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_derive_refuses_what_the_protocol_parser_refuses(name: str) -> None:
    make, field = BAD[name]
    with pytest.raises(HistoryError) as protocol_error:
        parse_history(make())
    with pytest.raises(HistoryError) as endpoint_error:
        table_from_histories([history(), make()])
    assert protocol_error.value.field == field
    assert str(endpoint_error.value) == f"line 2: {protocol_error.value}"


@pytest.mark.parametrize("name", sorted(BAD))
def test_cli_derive_names_the_line_and_field(tmp_path: Path, name: str) -> None:
    make, field = BAD[name]
    path = tmp_path / "h.jsonl"
    path.write_text(json.dumps(history()) + "\n" + json.dumps(make()) + "\n")
    result = runner.invoke(app, ["derive", str(path)])
    assert result.exit_code == 2
    assert f"line 2: {field} = " in result.stderr and "Traceback" not in result.output


def thalidomide_history() -> dict[str, Any]:
    h = history(
        visits=[(28, 10), (56, 0), (112, 4), (168, 5)],
        doses=[(0, "50_daily"), (56, "50_alternate"), (168, "50_daily")],
    )
    h["protocol"] = "thalidomide-cle-example"
    return h


def test_thalidomide_regimens_need_the_thalidomide_protocol(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match=r"doses\[0\]\.regimen = \"50_daily\""):
        course_from_history(thalidomide_history())
    rules = EndpointRules.from_protocol(load_protocol("thalidomide-cle-example"))
    row = derive_both(thalidomide_history(), rules)
    # relapse_min 5 in the thalidomide protocol: the CLASI-A 4 at day 112 is no relapse
    assert row["n_relapses"] == 1 and row["first_relapse_day"] == 168
    path = tmp_path / "thal.jsonl"
    h = thalidomide_history()
    h["doses"][0]["regimen"] = "100_daily"
    path.write_text(json.dumps(h) + "\n")
    named = runner.invoke(app, ["derive", str(path), "--json"])  # the history names it
    assert named.exit_code == 0, named.output
    h.pop("protocol")
    path.write_text(json.dumps(h) + "\n")
    default = runner.invoke(app, ["derive", str(path)])
    assert default.exit_code == 2 and 'doses[0].regimen = "100_daily"' in default.stderr
    chosen = runner.invoke(app, ["derive", str(path), "--json", "--protocol",
                                 "thalidomide-cle-example"])  # fmt: skip
    assert chosen.exit_code == 0, chosen.output
    assert json.loads(chosen.stdout) == json.loads(named.stdout)


def test_a_cohort_of_two_protocols_needs_protocol(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    lena = history(visits=[(28, 0)])
    lena["protocol"] = "lenalidomide-cle-2012"
    path.write_text(json.dumps(lena) + "\n" + json.dumps(thalidomide_history()) + "\n")
    result = runner.invoke(app, ["derive", str(path)])
    assert result.exit_code == 2 and 'line 2: protocol = "thalidomide-cle-example"' in result.stderr


@pytest.mark.parametrize("protocol", ["lenalidomide-cle-2012", "thalidomide-cle-example"])
def test_rules_come_from_the_protocol_definition(protocol: str) -> None:
    definition = load_protocol(protocol)
    rules = EndpointRules.from_protocol(definition)
    file = definition.file
    assert rules.ladder == tuple(r.id for r in reversed(file.regimens))
    assert rules.start_regimen == file.dosing.start_regimen
    assert rules.relapse_threshold == file.response.relapse_min
    assert rules.cr_max_activity == file.response.complete_response_max
    assert rules.pr_min_improvement * 100 == file.response.partial_response_min_improvement_percent
    assert rules.maintenance_after_relapses == file.dosing.maintenance.after_relapses


def test_default_rules_are_the_default_protocols() -> None:
    assert EndpointRules.from_protocol(load_protocol()) == DEFAULT_RULES
    assert (DEFAULT_RULES.relapse_threshold, DEFAULT_RULES.pr_min_improvement) == (4, 0.5)


def test_history_without_any_date_is_kept() -> None:
    row = derive_both({"patient_id": "EMPTY"})
    assert (row["treated"], row["best_response"], row["population_note"]) == (
        False,
        "NE",
        "not_dosed",
    )
