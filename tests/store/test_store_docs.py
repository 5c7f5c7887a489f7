"""docs/store.md: its example files import as documented and its Python example runs."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cletrial.cli import app

DOCS = Path(__file__).resolve().parents[2] / "docs" / "store.md"
FILE_BLOCK = re.compile(r"<!-- example-file: (\S+) -->\n```\w*\n(.*?)```", re.S)


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOCS.read_text(), re.S)


def test_documented_commands_run_on_the_example_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, content in FILE_BLOCK.findall(DOCS.read_text()):
        (tmp_path / name).write_text(content)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLETRIAL_DATABASE_URL", f"sqlite:///{tmp_path / 'docs.sqlite'}")
    (script,) = _blocks("sh")
    outputs = []
    for line in script.splitlines():
        command, _, comment = line.partition("#")
        words = shlex.split(command)
        assert words[0] == "cletrial"
        result = CliRunner().invoke(app, words[1:])
        assert result.exit_code == 0, (line, result.output)
        outputs.append((comment.strip(), result.output))
    for comment, output in outputs:
        if "7 records created" in comment:
            assert "created 7" in output
        if "unchanged" in comment:
            assert "created 0, updated 0" in output
        if "saves nothing" in comment:
            assert "dry run, nothing saved" in output
    comments = [comment for comment, _ in outputs]
    assert any("7 records created" in c for c in comments)
    assert any("unchanged" in c for c in comments)
    assert (tmp_path / "export" / "labs.csv").read_text().count("neutrophils") == 1
    assert "H123" not in (tmp_path / "export" / "patients.csv").read_text()


def test_python_example_runs() -> None:
    (example,) = [b for b in _blocks("python") if 'create_engine_for("sqlite://")' in b]
    namespace: dict[str, object] = {}
    exec(compile(example, str(DOCS), "exec"), namespace)
    assert len(namespace["rows"]) >= 2  # type: ignore[arg-type]
