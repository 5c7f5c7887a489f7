"""Compare a derived cohort with the paper's figures (the calibration check of synthetic data).

>>> from cletrial.endpoints import build_visit_table, course_from_history, derive_endpoints
>>> from cletrial.synthetic.cohort import generate_cohort
>>> table = build_visit_table(course_from_history(h) for h in generate_cohort(20, seed=3))
>>> summary = compute_calibration_summary(derive_endpoints(table))
>>> summary["patients"]
20
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cletrial.endpoints.subject import Endpoints

__all__ = ["PAPER_TARGETS", "compute_calibration_summary"]

#: The paper's figure for each summary key (Cortés-Hernández 2012; text, Tables 1-3).
PAPER_TARGETS: dict[str, float | str] = {
    "withdrawn_pct": 100 / 15,
    "cr_pct_of_treated": 86.0,
    "relapse_pct_of_cr": 75.0,
    "relapse_weeks_median": 4.4,
    "relapse_weeks_range": "2-8",
    "relapse_at_5_alternate_pct": 100 * 5 / 9,
    "relapse_at_5_thrice_weekly_pct": 100 * 2 / 9,
    "relapse_at_5_twice_weekly_pct": 100 * 2 / 9,
    "relapse_at_off_pct": 0.0,
    "maintenance_pct_of_treated": 21.0,
    "sustained_remission_pct_of_treated": 100 * 2 / 14,
    "two_cycles_pct_of_treated": 100 * 5 / 14,
    "time_to_cr_weeks_median": 4.0,
    "clasi_a_base_mean": 11.0,
    "clasi_a_base_sd": 5.9,
    "clasi_d_base_mean": 2.33,
    "clasi_d_base_sd": 2.96,
    "clasi_d_12m_mean": 3.08,
    "sledai_base_mean": 3.26,
    "sledai_base_sd": 2.22,
    "any_ae_pct": 13.0,
    "paper_mild_flare_pct": 100 / 15,
}


def _pct(part: Any, whole: Any) -> float:
    whole = int(whole)
    return float("nan") if whole == 0 else 100.0 * int(part) / whole


def compute_calibration_summary(endpoints: Endpoints) -> dict[str, Any]:
    """Summary figures of a cohort, keyed like :data:`PAPER_TARGETS` (percentages 0-100).

    "Treated" excludes the patients withdrawn before the first assessment, as the paper does
    (12/14 = 86%).
    """
    s, r = endpoints.subjects, endpoints.relapses
    treated = s["treated"].fillna(False).astype(bool)
    withdrawn = s["best_response"] == "WITHDRAWN"
    evaluable = treated & ~withdrawn
    cr = s["cr_flag"].fillna(False).astype(bool) & evaluable
    first = r[r["relapse_no"] == 1]
    weeks = first["weeks_from_reduction"].to_numpy(dtype=float)
    regimen = first["regimen"].value_counts()
    out: dict[str, Any] = {
        "patients": len(s),
        "withdrawn_pct": _pct(withdrawn.sum(), treated.sum()),
        "cr_pct_of_treated": _pct(cr.sum(), evaluable.sum()),
        "relapse_pct_of_cr": _pct((s["relapsed"].fillna(False).astype(bool) & cr).sum(), cr.sum()),
        "relapse_weeks_median": float(np.median(weeks)) if weeks.size else float("nan"),
        "relapse_weeks_range": f"{weeks.min():.1f}-{weeks.max():.1f}" if weeks.size else "",
        "maintenance_pct_of_treated": _pct(s["maintenance"].fillna(False).sum(), evaluable.sum()),
        "sustained_remission_pct_of_treated": _pct(
            s["sustained_remission"].fillna(False).sum(), evaluable.sum()
        ),
        "two_cycles_pct_of_treated": _pct((s["n_cycles"].fillna(0) >= 2).sum(), evaluable.sum()),
        "time_to_cr_weeks_median": float(s["time_to_cr_weeks"].median()),
        "clasi_a_base_mean": float(s["clasi_a_base"].mean()),
        "clasi_a_base_sd": float(s["clasi_a_base"].std()),
        "clasi_d_base_mean": float(s["clasi_d_base"].mean()),
        "clasi_d_base_sd": float(s["clasi_d_base"].std()),
        "clasi_d_12m_mean": float(s["clasi_d_12m"].mean()),
        "sledai_base_mean": float(s["sledai_base"].mean()),
        "sledai_base_sd": float(s["sledai_base"].std()),
        "any_ae_pct": _pct(s["any_ae"].fillna(False).sum(), treated.sum()),
        "paper_mild_flare_pct": _pct(s["flare_paper_mild"].fillna(False).sum(), treated.sum()),
    }
    for step in ("5_alternate", "5_thrice_weekly", "5_twice_weekly", "off"):
        out[f"relapse_at_{step}_pct"] = _pct(regimen.get(step, 0), len(first))
    return out
