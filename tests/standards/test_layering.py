"""The standards builders and the vocabulary are pure: they never import the store, the web
tier or the command line (the store loads a StudySource; the CLI wires them together)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "cletrial"
BANNED = ("cletrial.store", "cletrial.web", "cletrial.cli")


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("package", ["standards", "vocabulary"])
def test_pure_packages_import_no_store_web_or_cli(package: str) -> None:
    files = sorted((SRC / package).rglob("*.py"))
    assert files
    found = [(p.relative_to(SRC).as_posix(), name) for p in files for name in _imports(p)
             if name.startswith(BANNED)]  # fmt: skip
    assert found == []


def test_the_check_sees_a_banned_import(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("from cletrial.store.engine import x\nimport cletrial.web.app\n")
    assert _imports(sample) == ["cletrial.store.engine", "cletrial.web.app"]
