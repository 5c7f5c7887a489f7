"""The public API of cletrial.protocol is pinned: other packages code against it."""

from __future__ import annotations

import cletrial.protocol


def test_protocol_public_names() -> None:
    assert sorted(cletrial.protocol.__all__) == sorted(
        [
            "DEFAULT_PROTOCOL", "DISPOSITION_TERMS", "Alert", "CourseSummary", "CriterionResult",
            "Deviation",
            "EligibilityResult", "LabDue", "NextVisit", "PatientHistory", "PlannedVisit",
            "PregnancyTestDue", "ProtocolDefinition", "Reason", "Recommendation", "RegimenOut",
            "Screening", "Undetermined", "Visit", "assert_dose_within_maximum",
            "assess_eligibility", "decode_history", "history_json_schema", "list_protocols",
            "load_protocol", "parse_history", "parse_protocol", "parse_screening",
            "plan_schedule", "protocol_json_schema", "recommend", "recommend_at_visits",
            "screening_json_schema", "truncate_history", "write_icalendar",
            # edit checks declared in the protocol file (cletrial.protocol.edit_checks)
            "CheckFinding", "CheckMemo", "CompiledChecks", "compile_edit_checks",
        ]
    )  # fmt: skip
    for name in cletrial.protocol.__all__:
        assert hasattr(cletrial.protocol, name)


def test_schema_command_sources_exist() -> None:
    from cletrial.cli.schema_command import load_schema

    for name in ("screening", "history", "protocol"):
        assert load_schema(name)["$schema"].startswith("https://json-schema.org/")


def test_core_does_not_import_store_web_or_cli() -> None:
    import subprocess
    import sys

    code = (
        "import sys, cletrial.protocol; "
        "bad = [m for m in sys.modules if m.startswith(('cletrial.store', 'cletrial.web', "
        "'cletrial.cli'))]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
