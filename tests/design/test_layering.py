"""cletrial.design is pure core: it never imports the store, the web tier or the command line
(the CLI wires it up), and importing it loads none of them."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

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


def test_design_imports_no_store_web_or_cli() -> None:
    files = sorted((SRC / "design").rglob("*.py"))
    assert len(files) >= 6
    found = [(p.name, n) for p in files for n in _imports(p) if n.startswith(BANNED)]
    assert found == []


def test_importing_design_loads_no_store_web_or_cli() -> None:
    code = (
        "import sys, cletrial.design, cletrial.design.plan, cletrial.design.bayes\n"
        f"print(sorted(m for m in sys.modules if m.startswith({BANNED!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(SRC.parent)})  # fmt: skip
    assert out.stdout.strip() == "[]"
