"""The numbers the synthetic cohort generator is calibrated to, with where each comes from.

Every target is a figure of Cortés-Hernández J et al., Arthritis Res Ther 2012;14:R265
(NCT01408199): the text ("Results"), Table 1 (baseline), Table 2 (response, relapse dose) and
Table 3 (adverse events). The generator's disease model has free parameters (below) chosen so
that large synthetic cohorts reproduce those figures approximately; ``docs/synthetic.md`` quotes
the figures a generated cohort actually reaches. Synthetic data are for demonstrations, tests and
benchmarks: they are not evidence.

>>> DEFAULT_CALIBRATION.p_complete_response
0.86
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_CALIBRATION", "Calibration"]


@dataclass(frozen=True)
class Calibration:
    """Parameters of the synthetic patients (paper figures and model choices).

    Baseline (Table 1 and "Baseline patient characteristics"; n = 15):

    - ``clasi_a_mean`` / ``clasi_a_sd``: CLASI-A at entry 11 +/- 5.9 (normal, whole numbers,
      at least ``clasi_a_min`` = 3: eligibility needs erythema >= 2 in one region).
    - ``clasi_d_mean`` / ``clasi_d_sd``: CLASI-D at entry 2.33 +/- 2.96 (negative binomial).
    - ``sledai_probs``: SLEDAI-2K at entry 3.26 +/- 2.22, as scores 0, 2, 4, 6, 8 (mean 3.26,
      SD 2.24 with these probabilities).
    - ``p_anti_dsdna_positive``: 5 of 15 had raised anti-dsDNA (Table 1: 37-144 IU/ml).

    Course (Table 2, "Clinical efficacy", Table 3, "Toxicity"):

    - ``p_early_withdrawal``: 1 of 15 stopped in week 1 for gastrointestinal side effects.
    - ``p_complete_response``: 12 of 14 treated reached CR (86%); the rest stay in PR.
    - ``cr_weeks_median`` / ``cr_weeks_sigma``: time to CR, log-normal (Table 2: median 4 weeks,
      2-36); ``cr_weeks_min`` / ``cr_weeks_max`` clip it.
    - ``p_slow_partial``: share of PR patients short of 50% at week 4, who are escalated to
      10 mg daily by the protocol (patient 9).
    - ``p_relapse``: 9 of 12 with CR relapsed (75%).
    - ``relapse_step_probs``: the lowest regimen the remission tolerates, as the regimen at
      relapse (Table 2: 5 alternate days 5/9, three times weekly 2/9, twice weekly 2/9).
    - ``relapse_delay_days``: relapse 2-8 weeks after the dose reduction (text: median 4.4);
      drawn as ``min + (max - min) * Beta(2, 2.5)``.
    - ``second_cycle_probs``: what the next cycle brings for a relapser: ``again``, a relapse at
      the same step, which the protocol answers with long-term maintenance (text: 3 of 14
      treated, 21%); ``partial``, residual activity (CLASI-A 1-3) after the restart, so the
      taper never starts and the patient stays on 5 mg daily (the paper's relapsers without
      maintenance or sustained remission); ``after_withdrawal``, remission down to withdrawal
      and a relapse 2-8 weeks after it (the abstract); ``holds``, remission off drug.
    - ``followup_months_median`` / ``followup_months_sigma``: follow-up 7-30 months (log-normal,
      clipped to ``followup_months_min`` / ``followup_months_max``; text: median 15).
    - ``p_neutropenia``: 1 of 15 had grade 2 neutropenia (ANC 1,190/mm3) at about 2 months, with
      insomnia (Table 3).
    - ``p_mild_arthritis``: 1 of 15 developed mild arthritis (SLEDAI-2K +4, a mild flare).
    - ``damage_increase_per_visit``: chance that CLASI-D rises by 1 at a visit (text: 2.39 ->
      3.08 at one year).

    >>> Calibration().relapse_step_probs["5_alternate"]
    0.5556
    """

    clasi_a_mean: float = 11.0
    clasi_a_sd: float = 5.9
    clasi_a_min: int = 3
    clasi_d_mean: float = 2.33
    clasi_d_sd: float = 2.96
    sledai_probs: tuple[tuple[int, float], ...] = (
        (0, 0.15),
        (2, 0.35),
        (4, 0.30),
        (6, 0.12),
        (8, 0.08),
    )
    p_anti_dsdna_positive: float = 5 / 15
    p_early_withdrawal: float = 1 / 15
    p_complete_response: float = 0.86
    cr_weeks_median: float = 3.8
    cr_weeks_sigma: float = 0.85
    cr_weeks_min: float = 1.5
    cr_weeks_max: float = 40.0
    p_slow_partial: float = 0.5
    p_relapse: float = 0.75
    relapse_step_probs: dict[str, float] | None = None
    relapse_delay_days: tuple[int, int] = (14, 56)
    second_cycle_probs: tuple[tuple[str, float], ...] = (
        ("again", 0.3),
        ("partial", 0.55),
        ("after_withdrawal", 0.1),
        ("holds", 0.05),
    )
    followup_months_median: float = 15.0
    followup_months_sigma: float = 0.35
    followup_months_min: float = 7.0
    followup_months_max: float = 30.0
    p_neutropenia: float = 1 / 15
    p_mild_arthritis: float = 1 / 15
    damage_increase_per_visit: float = 0.06

    def __post_init__(self) -> None:
        if self.relapse_step_probs is None:
            steps = {"5_alternate": 0.5556, "5_thrice_weekly": 0.2222, "5_twice_weekly": 0.2222}
            object.__setattr__(self, "relapse_step_probs", steps)


DEFAULT_CALIBRATION = Calibration()
