"""docs/design.md ("Simulation") shows what ``cletrial simulate`` prints; the package is pure
core (no store, web or command-line imports)."""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

from typer.testing import CliRunner

from cletrial.cli import app

ROOT = Path(__file__).resolve().parents[2]
SECTION = (ROOT / "docs" / "design.md").read_text(encoding="utf-8").split("## Simulation", 1)[1]
BANNED = ("cletrial.store", "cletrial.web", "cletrial.cli")


def test_the_console_example_prints_what_the_page_shows() -> None:
    block = re.findall(r"```console\n(.*?)```", SECTION, re.S)[0]
    command, _, shown = block.partition("\n")
    shown = shown.split("  ...\n", 1)[0]  # the page shortens the rest
    result = CliRunner().invoke(app, shlex.split(command.removeprefix("$ cletrial ")))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(shown)


def test_simulation_imports_no_store_web_or_cli() -> None:
    files = sorted((ROOT / "src" / "cletrial" / "simulation").rglob("*.py"))
    assert len(files) >= 7
    found = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names.append(node.module)
            found += [(path.name, n) for n in names if n.startswith(BANNED)]
    assert found == []
