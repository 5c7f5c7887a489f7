"""The design report: every section, figures self-contained, its numbers equal to what the other
design commands print (`design sample-size`, `design boundaries`, `simulate`), text escaped, the
same seed giving the same numbers; and the command."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html
from typer.testing import CliRunner

from cletrial.cli import app
from cletrial.design import list_designs, load_design
from cletrial.design.report import DesignReport, compute_design_report, render_design_report_html
from cletrial.simulation import run_simulation

RUN = CliRunner()
TRIALS, SEED = 200, 5
SECTIONS = ("evidence", "design", "sample-size", "boundaries", "power")
TABLES = ("evidence-series", "evidence-pooled", "design-arms", "design-assumptions",
          "design-size", "boundaries-table", "power-table", "analytic-line")  # fmt: skip


@pytest.fixture(scope="module", params=list_designs())
def built(request: pytest.FixtureRequest) -> tuple[DesignReport, str, Any]:
    report = compute_design_report(load_design(request.param), trials=TRIALS, seed=SEED)
    page = render_design_report_html(report)
    return report, page, lxml_html.fromstring(page)


def _cli_json(args: list[str]) -> Any:
    result = RUN.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _rows(tree: Any, table_id: str) -> list[list[str]]:
    table = tree.get_element_by_id(table_id)
    return [[c.text_content().strip() for c in tr.xpath("td|th")]
            for tr in table.xpath("tbody/tr")]  # fmt: skip


def test_every_section_table_and_figure_is_there(built: tuple[DesignReport, str, Any]) -> None:
    report, page, tree = built
    assert page.startswith("<!DOCTYPE html>")
    for section in SECTIONS:
        assert tree.get_element_by_id(section).tag == "section"
    for table in TABLES:
        assert _rows(tree, table), table
    images = tree.xpath("//figure/img/@src")
    assert len(images) == 3 and all(s.startswith("data:image/svg+xml;base64,") for s in images)
    assert [f.id for f in report.figures] == ["forest", "boundaries", "power"]
    for figure in report.figures:  # every figure names the table holding its numbers
        assert tree.get_element_by_id(figure.table) is not None
    series = _rows(tree, "evidence-series")
    assert [r[0] for r in series] == [s.label for s in report.evidence.series]
    assert series[0][2:4] == ["15", "12/15, 80% (52-96%)"]  # Cortés-Hernández 2012, Table 2
    pooled = _rows(tree, "evidence-pooled")
    assert [r[0] for r in pooled] == ["Complete response", "Response (CR or PR)"]
    assert "DerSimonian-Laird" in page and "I²" in page and "tau²" in page


def test_the_page_loads_nothing_from_outside(built: tuple[DesignReport, str, Any]) -> None:
    _, page, tree = built
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//|file:)""", page, re.I)
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert "url(" not in page
    for src in tree.xpath("//img/@src"):
        svg = base64.b64decode(src.split(",", 1)[1]).decode("utf-8")
        assert "<svg" in svg and "<script" not in svg
        assert not re.search(r"""href=["'](https?:|//|file:)""", svg)  # no external <image>


def test_the_design_cell_equals_design_sample_size(built: tuple[DesignReport, str, Any]) -> None:
    report, _, tree = built
    design = report.design
    cli = _cli_json(["design", "sample-size", design.id])
    for grid in report.grids:
        i, j = grid.highlight
        own = tree.xpath(f'//table[@id="grid-{grid.method}"]//td[contains(@class, "own")]')
        assert len(own) == 1
        cell = grid.cells[i][j]
        assert cell is not None
        if design.endpoint.kind == "binary":
            assert (grid.rows[i], grid.columns[j]) == (design.control_rate, design.treatment_rate)
            expected = next(r for r in cli["binary"] if r["method"] == grid.method)
            assert cell["n_control"] == expected["n_control"]
            assert own[0].text_content().split() == [
                "◆", str(expected["n_control"]), f"({expected['enrolled_total']})"
            ]  # fmt: skip
        else:
            assert (grid.rows[i], grid.columns[j]) == (design.control_median_weeks,
                                                       design.hazard_ratio)  # fmt: skip
            expected = cli["events_fixed" if grid.method == "schoenfeld" else "events"]
            assert own[0].text_content().split() == [
                "◆", str(expected["events"]), f"({expected['n_total']})"
            ]  # fmt: skip


def test_known_sizes_of_the_bundled_designs(built: tuple[DesignReport, str, Any]) -> None:
    report, _, _ = built
    cells = [g.cells[g.highlight[0]][g.highlight[1]] for g in report.grids]
    if report.design.endpoint.kind == "binary":  # docs/design.md: 11, 14, 13 per arm
        assert [c["n_control"] for c in cells if c] == [11, 14, 13]
    else:  # 38 events fixed, 40 group-sequential
        assert [c["events"] for c in cells if c] == [38, 40]


def test_the_boundaries_equal_design_boundaries(built: tuple[DesignReport, str, Any]) -> None:
    report, _, tree = built
    cli = _cli_json(["design", "boundaries", report.design.id])
    rows = _rows(tree, "boundaries-table")
    assert len(rows) == len(cli["fractions"])
    for k, row in enumerate(rows):
        assert row[1] == f"{cli['fractions'][k]:.3f}"
        assert row[2] == f"{cli['efficacy_z'][k]:.4f}"
        assert row[3] == f"{cli['nominal_p'][k]:.5f}"
        assert row[4] == f"{cli['alpha_spent'][k]:.5f}"
        assert row[5] == f"{cli['futility_z'][k]:.4f}"
    assert json.loads(json.dumps(report.boundaries.as_dict())) == cli


def test_the_design_and_null_points_are_the_simulate_command(
    built: tuple[DesignReport, str, Any],
) -> None:
    report, _, tree = built
    points = {p.fraction: p for p in report.curve.points}
    design = report.design
    for fraction, hypothesis in ((1.0, "alternative"), (0.0, "null")):
        simulated = run_simulation(design, TRIALS, SEED, hypothesis=hypothesis)  # type: ignore[arg-type]
        assert points[fraction].reject == simulated.reject_rate["estimate"]
        assert points[fraction].reject_se == simulated.reject_rate["mc_se"]
    assert points[0.0].effect == report.curve.null_effect
    assert points[1.0].effect == (design.treatment_rate or design.hazard_ratio)
    rows = _rows(tree, "power-table")
    assert len(rows) == len(points) and rows[0][0].startswith("0 (null")
    assert rows[4][2] == f"{points[1.0].reject:.4f} ± {points[1.0].reject_se:.4f}"


def test_the_same_seed_gives_the_same_numbers() -> None:
    design = load_design("lenalidomide-withdrawal")
    first = compute_design_report(design, trials=150, seed=11)
    again = compute_design_report(design, trials=150, seed=11)
    other = compute_design_report(design, trials=150, seed=12)
    assert first.numbers() == again.numbers()
    assert render_design_report_html(first) == render_design_report_html(again)
    assert first.numbers()["power_curve"] != other.numbers()["power_curve"]


def test_every_text_is_escaped() -> None:
    design = dataclasses.replace(
        load_design("lenalidomide-vs-placebo"),
        title='<script>alert("t")</script>',
        description="<img src=x onerror=alert(1)>",
    )
    page = render_design_report_html(compute_design_report(design, trials=20, seed=1))
    assert "<script" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;" in page


def test_the_command_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    args = ["design", "report", "lenalidomide-vs-placebo", "--out", str(out), "--trials", "100",
            "--seed", "4"]  # fmt: skip
    result = RUN.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"wrote {out} (")
    page = out.read_text(encoding="utf-8")
    direct = compute_design_report(load_design("lenalidomide-vs-placebo"), trials=100, seed=4)
    assert page == render_design_report_html(direct)


def test_the_command_fails_on_a_bad_design_or_path(tmp_path: Path) -> None:
    result = RUN.invoke(app, ["design", "report", "no-such-design", "--out",
                              str(tmp_path / "x.html")])  # fmt: skip
    assert result.exit_code == 2 and "no-such-design" in result.stderr
    result = RUN.invoke(app, ["design", "report", "lenalidomide-withdrawal", "--trials", "10",
                              "--out", str(tmp_path / "missing" / "x.html")])  # fmt: skip
    assert result.exit_code == 2 and "cannot write the report" in result.stderr


def test_the_docs_example_prints_what_the_page_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "design.md").read_text(encoding="utf-8")
    section = doc.split("\n## Design report\n", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"```console\n(.*?)```", section, re.S)[0]
    command, _, shown = block.partition("\n")
    monkeypatch.chdir(tmp_path)
    result = RUN.invoke(app, shlex.split(command.removeprefix("$ cletrial ")))
    assert result.exit_code == 0, result.output
    size = r"\(\d+ KiB\)"  # the file size follows matplotlib's SVG output
    assert re.fullmatch(re.escape(shown).replace(r"\(297\ KiB\)", size), result.stdout)
    assert (tmp_path / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
