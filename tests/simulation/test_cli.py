"""``cletrial simulate``: figures as JSON or text, bad options named, exit status 2."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cletrial.cli import app


def test_simulate_prints_both_hypotheses_as_json() -> None:
    args = ["simulate", "lenalidomide-vs-placebo", "--trials", "1500", "--seed", "4",
            "--n-per-arm", "30", "--json"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["design"] == "lenalidomide-vs-placebo"
    alternative, null = data["results"]
    assert (alternative["hypothesis"], null["hypothesis"]) == ("alternative", "null")
    assert alternative["trials"] == 1500 and len(alternative["looks"]) == 2
    assert alternative["reject_rate"]["estimate"] > null["reject_rate"]["estimate"]
    assert sum(alternative["lenalidomide_arm"]["regimen_share"].values()) > 0.99
    assert CliRunner().invoke(app, args).stdout == result.stdout


def test_simulate_text_for_a_withdrawal_design() -> None:
    args = ["simulate", "lenalidomide-withdrawal", "--trials", "1000", "--seed", "1",
            "--n-per-arm", "40", "--events", "50", "--hypothesis", "null",
            "--taper-model", "protocol"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "under the null" in result.stdout and "expected events" in result.stdout


def test_simulate_rejects_workers_with_a_scheduler() -> None:
    args = ["simulate", "lenalidomide-vs-placebo", "--seed", "1", "--n-per-arm", "30",
            "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "workers = 2: give workers or a scheduler, not both" in result.stderr


def test_simulate_names_a_bad_option() -> None:
    args = ["simulate", "lenalidomide-vs-placebo", "--seed", "1", "--hypothesis", "maybe"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "--hypothesis = 'maybe'" in result.stderr


def test_simulate_without_a_size_takes_the_design_sample_size() -> None:
    args = ["simulate", "lenalidomide-withdrawal", "--seed", "1", "--trials", "200", "--json",
            "--hypothesis", "null"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    (null,) = json.loads(result.stdout)["results"]
    # cletrial.design.sample_size: Schoenfeld events for HR 0.4, inflated for the two looks
    assert (null["n_control"], null["events"]) == (22, 40)
