"""The public API of the endpoints and synthetic packages is pinned; the settings are documented."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cletrial.endpoints
import cletrial.synthetic
from cletrial.endpoints import EndpointRules

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_endpoints_public_names() -> None:
    assert sorted(cletrial.endpoints.__all__) == sorted([
        "ADRS_PARAMETERS", "ADTTE_PARAMETERS", "DEFAULT_RULES", "Course", "EndpointRules",
        "Endpoints", "EventSource", "FlareRule", "PatientEndpoints", "VisitTable",
        "build_visit_table", "compute_patient_endpoints", "course_from_history", "derive_adae",
        "derive_adrs", "derive_adsl", "derive_adtte", "derive_endpoints", "iter_courses",
        "subject_columns", "table_from_histories", "validate_visit_table",
        # the trial endpoints at a named week
        "TrialEndpointRules", "compute_clasi_percent_change", "compute_clasi_responder",
        "compute_trial_endpoints", "derive_clasi_percent_change", "derive_clasi_responders",
        "derive_trial_endpoints", "trial_columns",
    ])  # fmt: skip
    for name in cletrial.endpoints.__all__:
        assert hasattr(cletrial.endpoints, name)


def test_synthetic_public_names() -> None:
    assert sorted(cletrial.synthetic.__all__) == sorted([
        "DEFAULT_CALIBRATION", "Calibration", "generate_cohort", "generate_history",
        "generate_visit_table", "patient_id",
    ])  # fmt: skip
    for name in cletrial.synthetic.__all__:
        assert hasattr(cletrial.synthetic, name)


def test_every_setting_is_documented() -> None:
    text = (DOCS / "endpoints.md").read_text()
    for field in dataclasses.fields(EndpointRules):
        assert f"`{field.name}`" in text, field.name


def test_core_never_imports_store_web_or_cli() -> None:
    root = Path(cletrial.endpoints.__file__).parent
    for path in [*root.glob("*.py"), *Path(cletrial.synthetic.__file__).parent.glob("*.py")]:
        text = path.read_text()
        for banned in ("cletrial.store", "cletrial.web", "cletrial.cli", "print("):
            assert banned not in text, (path.name, banned)
