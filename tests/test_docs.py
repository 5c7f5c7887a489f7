"""Documentation keeps up with the code: every command is in the README, every doc is linked."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from cletrial.cli import app

ROOT = Path(__file__).resolve().parents[1]


def _command_paths() -> list[str]:
    root = typer.main.get_command(app)
    paths = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        paths.append(name)
        paths += [f"{name} {sub}" for sub in getattr(command, "commands", {})]
    return paths


def test_every_command_is_in_the_readme_or_docs() -> None:
    text = (ROOT / "README.md").read_text() + "".join(
        p.read_text() for p in sorted((ROOT / "docs").glob("*.md"))
    )
    missing = [c for c in _command_paths() if f"cletrial {c}" not in text]
    assert not missing, f"commands missing from README.md and docs/: {missing}"


def test_every_top_level_command_is_named_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [c for c in _command_paths() if " " not in c and f"cletrial {c}" not in readme]
    assert not missing, f"top-level commands missing from README.md: {missing}"


def test_every_doc_page_is_linked_from_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f"docs/{page.name}" in readme, page.name


def test_readme_keeps_exactly_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## The two commands.*?```bash\n(.*?)```", readme, re.S)
    assert block is not None
    commands = [line for line in block.group(1).splitlines() if line.strip()]
    assert [c.split("#")[0].strip() for c in commands] == ["bash scripts/run", "bash scripts/test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test" in ci
