"""The endpoint rules in words: one sentence per derived subject-level column.

These are the texts Define-XML and the ADaM specifications carry as derivation methods
(:mod:`cletrial.standards.adam`). Each is built from the :class:`EndpointRules` in force (its
thresholds and windows) and from the event sources of :data:`ADRS_PARAMETERS` and
:data:`ADTTE_PARAMETERS`, restating the rules of the derivation modules (response, populations,
relapse, flares, damage, immunology, safety), so a changed threshold changes the text with it.

>>> texts = rule_texts()
>>> texts["cr_flag"]
'first post-baseline CLASI-A = 0'
>>> texts["relapsed"]
'first CLASI-A >= 4 after CR and a dose reduction'
>>> rule_texts(EndpointRules.from_mapping({"relapse_threshold": 5}))["relapsed"]
'first CLASI-A >= 5 after CR and a dose reduction'
"""

from __future__ import annotations

from cletrial.endpoints.rules import (
    ADRS_PARAMETERS,
    ADTTE_PARAMETERS,
    DEFAULT_RULES,
    EndpointRules,
)

__all__ = ["rule_texts"]


def _flare_texts(rules: EndpointRules) -> dict[str, str]:
    out = {}
    for f in rules.flare_rules:
        mild = f"SLEDAI-2K increase >= {f.mild_min_increase} against the {f.reference} score"
        if f.mild_max_score is not None:
            mild += f", to a score <= {f.mild_max_score}"
        if f.severe_min_increase is not None:
            severe = (
                f"SLEDAI-2K increase >= {f.severe_min_increase} against the {f.reference} score"
            )
        else:
            severe = f"SLEDAI-2K rising from <= {f.severe_above_score} to above it"
        out[f"flare_{f.name}_mild"] = mild
        out[f"flare_{f.name}_severe"] = severe
    return out


def _response_texts(rules: EndpointRules) -> dict[str, str]:
    best, cr, wk12 = (p.source.condition for p in ADRS_PARAMETERS)
    pr = round(rules.pr_min_improvement * 100)
    return {
        "best_response": (
            f"{best}: CR = a post-baseline CLASI-A <= {rules.cr_max_activity}; PR = improvement "
            f">= {pr}% by day {rules.response_day + rules.response_window_days}; WITHDRAWN = "
            "treatment stopped before the first post-baseline CLASI-A"
        ),
        "response_note": "why the best response is NE, or how NR was reached",
        "cr_flag": cr,
        "time_to_cr_days": f"days from the first dose to the {cr}",
        "improvement_wk12_pct": (
            "100 x (baseline - CLASI-A) / baseline CLASI-A at the "
            + wk12.replace("day 84", f"day {rules.response_day}").replace(
                "+/-7", f"+/-{rules.response_window_days}"
            )
        ),
        "visit_response": (
            f"at each visit: CR when CLASI-A <= {rules.cr_max_activity}; NE without a baseline "
            f"CLASI-A > 0; PR when the improvement from baseline is >= {pr}%; else NR"
        ),
    }


def _course_texts(rules: EndpointRules) -> dict[str, str]:
    relapse = ADTTE_PARAMETERS[1].event.condition.replace(">= 4", f">= {rules.relapse_threshold}")
    return {
        "relapsed": relapse,
        "n_relapses": f"number of relapses ({relapse})",
        "first_relapse_days_from_reduction": (
            "days from the last dose reduction (or withdrawal) to the first relapse visit"
        ),
        "first_relapse_regimen": "regimen in force before the first relapse visit",
        "first_relapse_setting": "after_withdrawal when that regimen is off, else during_taper",
        "n_cycles": (
            f"1 + restarts: a dose rise to {rules.start_regimen} or above after a relapse, before "
            f"relapse {rules.maintenance_after_relapses}"
        ),
        "maintenance": (
            f"a dose rise after relapse {rules.maintenance_after_relapses} or later, or one "
            f"staying below {rules.start_regimen}"
        ),
        "maintenance_regimen": "regimen of the first long-term maintenance dose record",
        "sustained_remission": (
            "course ends off drug in CR, no relapse-level CLASI-A after, CLASI-A follow-up >= "
            f"{rules.sustained_remission_min_days} days after withdrawal (missing if shorter)"
        ),
    }


def _other_texts(rules: EndpointRules) -> dict[str, str]:
    lab = (
        f"latest value at or before the first dose (at most {rules.lab_baseline_window_days} "
        "days before)"
    )
    end = (
        f"latest value after the first dose, at most {rules.lab_end_window_days} days after the "
        "final withdrawal"
    )
    related = ", ".join(rules.related_causalities)
    return {
        "saf_flag": "Y when the patient received at least one dose",
        "itt_flag": "Y for all treated patients (the intention-to-treat denominator)",
        "eff_flag": (
            "Y when treated, with a baseline CLASI-A, and not withdrawn before the first "
            "post-baseline CLASI-A assessment"
        ),
        "population_note": "not_dosed, withdrawn_before_first_assessment, no_baseline_clasi_a",
        "clasi_d_12m": (
            f"CLASI-D of the visit closest to day {rules.damage_day} within "
            f"+/-{rules.damage_window_days} days"
        ),
        "clasi_d_change_12m": "CLASI-D at 12 months minus baseline CLASI-D",
        "lab_base": lab,
        "lab_end": end,
        "any_ae": "Y when a treatment-emergent adverse event (onset on or after the first dose)",
        "n_ae_related": f"treatment-emergent adverse events with causality {related}",
        "max_ae_grade": "highest known CTCAE grade of the treatment-emergent adverse events",
        "n_sae": "treatment-emergent adverse events recorded as serious",
        "treatment_emergent": "Y when the onset is on or after the first dose of a treated patient",
        "related": f"RELATED when the causality is {related}; missing when not recorded",
    }


def rule_texts(rules: EndpointRules = DEFAULT_RULES) -> dict[str, str]:
    """Derivation text of each derived subject-level value under ``rules``.

    Parameters
    ----------
    rules : EndpointRules
        The thresholds and windows in force.

    Returns
    -------
    dict of str to str
        Keyed by the subject-table column (``best_response``, ``cr_flag``, ...), plus
        ``visit_response``, ``lab_base``, ``lab_end``, ``treatment_emergent`` and ``related``.

    >>> rule_texts()["flare_paper_mild"]
    'SLEDAI-2K increase >= 4 against the baseline score'
    """
    return {
        **_response_texts(rules),
        **_course_texts(rules),
        **_flare_texts(rules),
        **_other_texts(rules),
    }
