"""Clinical instruments: CLASI, SLEDAI-2K, CLA-IGA, Skindex-29+3, NCI CTCAE laboratory grading
and the rule of nines.

Pure functions over validated forms; every value is cited in its module.

>>> compute_clasi({"regions": {"v_neck": {"erythema": 3, "scale": 2}}}).activity
5
"""

from __future__ import annotations

from cletrial.instruments.analytes import (
    ANALYTES,
    LAB_RESULTS,
    LAB_TESTS,
    Analyte,
    LabCheck,
    check_lab_result,
    check_lab_value,
    lab_units,
    to_canonical,
)
from cletrial.instruments.cla_iga import (
    CLA_IGA_GRADES,
    CLA_IGA_MAX,
    compute_cla_iga_success,
    validate_cla_iga,
)
from cletrial.instruments.clasi import (
    CLASI_ACTIVITY_MAX,
    CLASI_DAMAGE_MAX,
    CLASI_REGIONS,
    ClasiForm,
    ClasiScore,
    clasi_json_schema,
    compute_clasi,
    compute_clasi_severity,
    compute_max_erythema,
    decode_clasi_json,
    validate_clasi_form,
)
from cletrial.instruments.complete_forms import (
    CLASI_ITEM_PATHS,
    fill_absent_clasi_items,
    fill_absent_sledai_items,
    find_missing_clasi_items,
    find_missing_sledai_items,
    require_complete_clasi,
    require_complete_sledai,
)
from cletrial.instruments.ctcae import (
    CTCAE_TERMS,
    DEFAULT_LLN,
    CtcaeGrade,
    convert_lab_value,
    grade_lab,
)
from cletrial.instruments.rule_of_nines import RULE_OF_NINES, compute_bsa_percent
from cletrial.instruments.skindex import (
    SKINDEX_DOMAIN_ITEMS,
    SKINDEX_ITEMS,
    SkindexScore,
    compute_skindex,
    skindex_json_schema,
    validate_skindex_form,
)
from cletrial.instruments.sledai import (
    SLEDAI_MAX,
    SLEDAI_WEIGHTS,
    SledaiForm,
    compute_sledai,
    decode_sledai_json,
    sledai_json_schema,
    validate_sledai_form,
)

__all__ = [
    "ANALYTES",
    "CLASI_ACTIVITY_MAX",
    "CLASI_DAMAGE_MAX",
    "CLASI_ITEM_PATHS",
    "CLASI_REGIONS",
    "CLA_IGA_GRADES",
    "CLA_IGA_MAX",
    "CTCAE_TERMS",
    "DEFAULT_LLN",
    "LAB_RESULTS",
    "LAB_TESTS",
    "RULE_OF_NINES",
    "SKINDEX_DOMAIN_ITEMS",
    "SKINDEX_ITEMS",
    "SLEDAI_MAX",
    "SLEDAI_WEIGHTS",
    "Analyte",
    "ClasiForm",
    "ClasiScore",
    "CtcaeGrade",
    "LabCheck",
    "SkindexScore",
    "SledaiForm",
    "check_lab_result",
    "check_lab_value",
    "clasi_json_schema",
    "compute_bsa_percent",
    "compute_cla_iga_success",
    "compute_clasi",
    "compute_clasi_severity",
    "compute_max_erythema",
    "compute_skindex",
    "compute_sledai",
    "convert_lab_value",
    "decode_clasi_json",
    "decode_sledai_json",
    "fill_absent_clasi_items",
    "fill_absent_sledai_items",
    "find_missing_clasi_items",
    "find_missing_sledai_items",
    "grade_lab",
    "lab_units",
    "require_complete_clasi",
    "require_complete_sledai",
    "skindex_json_schema",
    "sledai_json_schema",
    "to_canonical",
    "validate_cla_iga",
    "validate_clasi_form",
    "validate_skindex_form",
    "validate_sledai_form",
]
