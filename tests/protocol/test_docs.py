"""The documentation of the protocol engine matches what the engine does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cletrial.protocol import ProtocolDefinition, list_protocols, recommend_at_visits
from cletrial.protocol.rules import ENGINE_RULES

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")

#: What docs/protocol.md says the engine makes of each example, visit by visit.
DOCUMENTED = {
    "history-p08-cr-relapse.json": [
        ("2009-03-16", "continue", "5_daily"), ("2009-03-30", "taper", "5_alternate"),
        ("2009-04-20", "restart", "5_daily"), ("2009-04-27", "continue", "5_daily"),
        ("2009-05-18", "taper", "5_alternate"),
    ],
    "history-p09-escalated.json": [
        ("2009-03-30", "escalate", "10_daily"), ("2009-04-27", "continue", "10_daily"),
        ("2009-05-25", "continue", "10_daily"), ("2009-06-22", "continue", "10_daily"),
    ],
    "history-p15-neutropenia.json": [
        ("2009-03-16", "continue", "5_daily"), ("2009-03-30", "taper", "5_alternate"),
        ("2009-04-27", "taper", "5_thrice_weekly"),
    ],
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_examples_do_what_the_docs_say(protocol: ProtocolDefinition, name: str) -> None:
    assert f"examples/{name}" in DOC
    history = json.loads((ROOT / "examples" / name).read_text(encoding="utf-8"))
    steps = [
        (r.on.isoformat(), r.action, r.regimen.id if r.regimen else None)
        for r in recommend_at_visits(history, protocol)
    ]
    assert steps == DOCUMENTED[name]


def test_docs_name_every_command_protocol_and_default_rule(protocol: ProtocolDefinition) -> None:
    for command in ("cletrial eligibility", "cletrial recommend", "cletrial schedule",
                    "cletrial schema protocol"):  # fmt: skip
        assert command in DOC
    for protocol_id in list_protocols():
        assert protocol_id in DOC
    defaults = [r for r in ENGINE_RULES if protocol.rule_source[r] in ("default", "label")]
    undocumented = [r for r in defaults if r not in DOC]
    assert not undocumented, f"rules from defaults or the label missing in docs: {undocumented}"
