"""docs/analysis.md documents every command, every check and the audit's current counts."""

from __future__ import annotations

from pathlib import Path

from cletrial.analysis.claim_checks import CHECKS
from cletrial.analysis.claims import ClaimsAudit

DOC = (Path(__file__).parents[2] / "docs" / "analysis.md").read_text(encoding="utf-8")


def test_commands_and_checks_are_documented() -> None:
    assert "cletrial reproduce [--json]" in DOC
    assert "cletrial report [--study reference|FILE.jsonl|DB-URL] --out DIR" in DOC
    for name in CHECKS:
        assert f"| `{name}` |" in DOC, name


def test_documented_counts_match_the_audit(audit: ClaimsAudit) -> None:
    c = audit.counts
    expected = (
        f"{len(audit.results)} claims: {c['consistent']} consistent, {c['inconsistent']} "
        f"inconsistent, {c['not reproducible']} not reproducible"
    )
    assert expected in DOC
