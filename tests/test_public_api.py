"""The curated public API is pinned: a change to it must be deliberate."""

from __future__ import annotations

import cletrial.errors
import cletrial.instruments


def test_instruments_public_names() -> None:
    assert sorted(cletrial.instruments.__all__) == sorted(
        [
            "CLASI_ACTIVITY_MAX", "CLASI_DAMAGE_MAX", "CLASI_REGIONS", "CTCAE_TERMS",
            "DEFAULT_LLN", "RULE_OF_NINES", "SLEDAI_MAX", "SLEDAI_WEIGHTS", "ClasiForm",
            "ClasiScore", "CtcaeGrade", "SledaiForm", "clasi_json_schema", "compute_bsa_percent",
            "compute_clasi", "compute_clasi_severity", "compute_max_erythema", "compute_sledai",
            "convert_lab_value", "decode_clasi_json", "decode_sledai_json", "grade_lab",
            "sledai_json_schema", "validate_clasi_form", "validate_sledai_form",
            # lab analytes (units, pint conversions, plausibility) and complete capture forms
            "ANALYTES", "LAB_RESULTS", "LAB_TESTS", "Analyte", "LabCheck", "check_lab_result",
            "check_lab_value", "lab_units", "to_canonical", "CLASI_ITEM_PATHS",
            "fill_absent_clasi_items", "fill_absent_sledai_items", "find_missing_clasi_items",
            "find_missing_sledai_items", "require_complete_clasi",
            "require_complete_sledai",
            # trial endpoints' instruments: CLA-IGA and Skindex-29+3 (item numbers only)
            "CLA_IGA_GRADES", "CLA_IGA_MAX", "compute_cla_iga_success", "validate_cla_iga",
            "SKINDEX_DOMAIN_ITEMS", "SKINDEX_ITEMS", "SkindexScore", "compute_skindex",
            "skindex_json_schema", "validate_skindex_form",
        ]
    )  # fmt: skip
    for name in cletrial.instruments.__all__:
        assert hasattr(cletrial.instruments, name)


def test_every_error_subclasses_the_one_base() -> None:
    for name in cletrial.errors.__all__:
        cls = getattr(cletrial.errors, name)
        assert issubclass(cls, cletrial.errors.CletrialError), name
