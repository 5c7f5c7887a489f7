"""Every console example of docs/design.md (section "Design, sample size and boundaries") runs
and prints what the page shows."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cletrial.cli import app

DOC = (Path(__file__).resolve().parents[2] / "docs" / "design.md").read_text(encoding="utf-8")
SECTION = DOC.split("## Design, sample size and boundaries", 1)[1].split("\n## ", 1)[0]


def _examples() -> list[tuple[str, str]]:
    examples = []
    for block in re.findall(r"```console\n(.*?)```", SECTION, re.S):
        command, _, output = block.partition("\n")
        assert command.startswith("$ cletrial design ")
        examples.append((command[len("$ cletrial ") :], output))
    return examples


def test_the_section_has_examples_of_every_design_command() -> None:
    commands = {c.split()[1] for c, _ in _examples()}
    assert commands == {"list", "sample-size", "boundaries", "bayes"}


@pytest.mark.parametrize(("command", "output"), _examples(), ids=[c for c, _ in _examples()])
def test_console_example_prints_what_the_doc_shows(command: str, output: str) -> None:
    result = CliRunner().invoke(app, shlex.split(command))
    assert result.exit_code == 0, result.output
    assert result.stdout == output
