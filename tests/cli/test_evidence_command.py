"""``cletrial evidence``: text table, JSON shape, outcome and population options, forest plot."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cletrial.cli import app


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["evidence", *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_lists_series_and_pooled_per_outcome() -> None:
    code, out, _ = _run("--json")
    assert code == 0
    data = json.loads(out)
    assert data["population"] == "treated"
    series = {s["study"]: s for s in data["series"]}
    assert list(series) == ["cortes_hernandez_2012", "braunstein_2012", "shah_2009",
                            "mayo_clinic_2016"]  # fmt: skip
    assert {k: series["cortes_hernandez_2012"][k] for k in ("n", "cr", "responders")} == {
        "n": 15,
        "cr": 12,
        "responders": 14,
    }
    for s in data["series"]:
        assert {"study", "n", "cr", "responders", "design", "citation", "provenance"} <= set(s)
    assert set(data["pooled"]) == {"cr", "response"}
    for pooled in data["pooled"].values():
        assert {"estimate", "ci_low", "ci_high", "tau2", "i2", "method"} <= set(pooled)
        assert pooled["k"] == 4 and "DerSimonian-Laird" in pooled["method"]


def test_outcome_and_population_options() -> None:
    code, out, _ = _run("--json", "--outcome", "cr", "--population", "evaluable")
    assert code == 0
    data = json.loads(out)
    assert list(data["pooled"]) == ["cr"]
    assert data["series"][0]["n"] == 14
    assert [s["n"] for s in data["pooled"]["cr"]["studies"]] == [14, 5, 2, 9]


def test_text_table_shows_each_series_and_the_pooled_lines() -> None:
    code, out, _ = _run()
    assert code == 0
    assert "Cortés-Hernández 2012   prospective     15  12/15  80% (52-96)" in out
    assert "Shah 2009               case series      2   0/2    0% (0-84)" in out
    assert "Pooled complete response (CR), 4 series:" in out
    assert "Pooled response (CR or PR), 4 series:" in out
    assert "doi:10.1111/ijd.13226" in out


def test_plot_writes_png_and_svg(tmp_path: Path) -> None:
    png, svg = tmp_path / "forest.png", tmp_path / "forest.svg"
    code, out, _ = _run("--plot", str(png))
    assert code == 0 and f"wrote {png}" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, _, _ = _run("--outcome", "response", "--plot", str(svg), "--json")
    assert code == 0 and b"<svg" in svg.read_bytes()[:400]


def test_plot_refuses_another_extension(tmp_path: Path) -> None:
    code, _, err = _run("--plot", str(tmp_path / "forest.pdf"))
    assert code == 2
    assert "must end in .png or .svg" in err
    assert not (tmp_path / "forest.pdf").exists()


def test_help_explains_the_method_and_the_sources() -> None:
    code, out, _ = _run("--help")
    assert code == 0
    for words in ("Freeman-Tukey", "DerSimonian-Laird", "Clopper-", "Mayo Clinic", "--plot"):
        assert words in out
