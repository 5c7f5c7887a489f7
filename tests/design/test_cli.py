"""``cletrial design``: the commands print what the core computes, JSON for machines, exit 2
with the field and value on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cletrial.cli import app
from cletrial.design import load_design
from cletrial.design.plan import design_boundaries, plan_sample_size

RUN = CliRunner()


def _json(args: list[str]) -> object:
    result = RUN.invoke(app, ["design", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_sample_size_json_is_the_plan() -> None:
    out = _json(["sample-size", "lenalidomide-vs-placebo"])
    assert isinstance(out, dict)
    plan = plan_sample_size(load_design("lenalidomide-vs-placebo"))
    assert [r["n_control"] for r in out["binary"]] == [r.size.n_control for r in plan.binary]
    assert [r["method"] for r in out["binary"]] == ["normal", "normal_cc", "exact"]
    assert out["inflation"] == pytest.approx(plan.inflation)


def test_sample_size_of_the_withdrawal_design_counts_events() -> None:
    out = _json(["sample-size", "lenalidomide-withdrawal", "--hr", "0.5"])
    assert isinstance(out, dict) and out["binary"] == []
    assert out["events_fixed"]["hazard_ratio"] == 0.5
    assert out["events"]["events"] >= out["events_fixed"]["events"]


def test_sample_size_without_a_design_and_a_rate_table() -> None:
    rows = _json(["sample-size", "--p0", "0.5", "--p1", "0.75"])
    assert isinstance(rows, list)
    assert {r["method"]: r["n_control"] for r in rows} == {
        "normal": 77, "normal_cc": 85, "exact": 85
    }  # fmt: skip
    table = _json(["sample-size", "lenalidomide-vs-placebo", "--p0", "0.05,0.1,0.2"])
    assert isinstance(table, list) and [r["p_control"] for r in table] == [0.05, 0.1, 0.2]


def test_boundaries_json_three_looks() -> None:
    out = _json(["boundaries", "lenalidomide-vs-placebo", "--looks", "1/3,2/3,1",
                 "--futility", "none"])  # fmt: skip
    assert isinstance(out, dict)
    assert [round(z, 2) for z in out["efficacy_z"]] == [3.71, 2.51, 1.99]
    assert out["futility_z"] is None and out["alpha_spent"][-1] == pytest.approx(0.025)


def test_boundaries_text_follows_the_design() -> None:
    result = RUN.invoke(app, ["design", "boundaries", "lenalidomide-vs-placebo"])
    assert result.exit_code == 0, result.output
    b = design_boundaries(load_design("lenalidomide-vs-placebo"))
    assert f"efficacy z {b.efficacy_z[0]:.4f}" in result.stdout
    assert b.futility_z is not None and f"futility z {b.futility_z[0]:8.4f}" in result.stdout


def test_bayes_posterior_and_predictive() -> None:
    out = _json(["bayes", "lenalidomide-vs-placebo", "--control", "1/7", "--treatment", "5/7",
                 "--final-n", "14"])  # fmt: skip
    assert isinstance(out, dict)
    assert 0.97 < out["posterior_probability"] < 0.99
    assert 0 < out["predictive_probability"] < 1 and out["final_n_per_arm"] == 14


def test_show_and_list(tmp_path: Path) -> None:
    result = RUN.invoke(app, ["design", "list"])
    assert result.stdout.split() == ["lenalidomide-vs-placebo", "lenalidomide-withdrawal"]
    shown = _json(["show", "lenalidomide-withdrawal"])
    assert isinstance(shown, dict) and shown["endpoint"]["name"] == "relapse"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sample-size", "nope"], 'design = "nope": is no bundled design'),
        (["sample-size"], "give a DESIGN, or both --p0 and --p1"),
        (["sample-size", "--p0", "x", "--p1", "0.5"], "--p0 = 'x': must be numbers"),
        (["boundaries", "--looks", "0.5,0.4,1"], "looks[1] = 0.4: must be above"),
        (["bayes", "--treatment", "9/7"], 'treatment = "9/7": must be responses/patients'),
        (["bayes", "--control", "1-7"], "--control = '1-7': must be responses/patients"),
        (["sample-size", "lenalidomide-withdrawal", "--p0", "0.2"], "p0 = 0.2: applies to"),
    ],
)
def test_bad_input_exits_2_naming_the_field(args: list[str], message: str) -> None:
    result = RUN.invoke(app, ["design", *args])
    assert result.exit_code == 2
    assert message in result.stderr
