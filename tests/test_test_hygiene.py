"""The test suite's own rules: one derandomized Hypothesis profile, and no wait whose timeout
could pass silently (see tests/conftest.py)."""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

TESTS = Path(__file__).resolve().parent
#: Settings only the profile in tests/conftest.py decides.
PROFILE_ONLY = {"derandomize", "database", "deadline", "print_blob"}


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(TESTS.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(TESTS)}:{getattr(node, 'lineno', '?')}"


def test_hypothesis_runs_under_the_derandomized_ci_profile(request: pytest.FixtureRequest) -> None:
    chosen = request.config.getoption("--hypothesis-profile")
    chosen = chosen or os.environ.get("HYPOTHESIS_PROFILE")
    if chosen not in (None, "ci"):
        pytest.skip(f"the Hypothesis profile {chosen!r} was chosen for this run")
    assert settings.get_current_profile_name() == "ci"
    current = settings.default
    assert current.derandomize and current.database is None
    assert current.deadline is None and current.print_blob


def test_no_test_overrides_what_the_profile_decides() -> None:
    found = [
        f"{_where(path, node)} sets {keyword.arg}"
        for path, tree in _modules()
        if path.name != "conftest.py"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "settings"
        for keyword in node.keywords
        if keyword.arg in PROFILE_ONLY
    ]
    assert found == []


def _unchecked_joins(path: Path, tree: ast.Module) -> Iterator[str]:
    """``x.join(timeout)`` statements not followed by a check of ``x.is_alive()``."""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        for i, statement in enumerate(body):
            call = statement.value if isinstance(statement, ast.Expr) else None
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "join" and (call.args or call.keywords)):  # fmt: skip
                continue
            following = ast.unparse(body[i + 1]) if i + 1 < len(body) else ""
            if f"{ast.unparse(call.func.value)}.is_alive()" not in following:
                yield f"{_where(path, statement)}: {ast.unparse(call)}"


def test_every_join_with_a_timeout_is_checked_and_nothing_sleeps_to_wait() -> None:
    found = [where for path, tree in _modules() for where in _unchecked_joins(path, tree)]
    found += [
        f"{_where(path, node)}: {ast.unparse(node)}"
        for path, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "wait_for_timeout"
    ]
    assert found == []
