"""Sample sizes against published values and independent implementations.

Sources quoted below:

* statsmodels (maintained library): ``samplesize_proportions_2indep_onetail`` implements the
  same pooled-null normal approximation independently; computed in the test.
* Chow SC, Shao J, Wang H. Sample Size Calculations in Clinical Research, 2nd ed., 2008,
  section 4.2 (test for equality, unpooled variance): cure rates 65% and 85%, alpha 0.05
  two-sided, power 80%: 70 patients per arm.
* Fleiss JL. Statistical Methods for Rates and Proportions, 2nd ed., 1981, chapter 3: the
  continuity correction adds about 2 / |p1 - p2| patients per group (as the calculator at
  statpages.org/proppowr.html, which reproduces Fleiss's Table A.3, states).
* gsDesign vignette "Survival overview" (CRAN, vignettes/SurvivalOverview.R): Schoenfeld events
  for hazard ratio 0.7, one-sided alpha 0.025, power 90%, 1:1 allocation: 331 (the vignette goes
  on with ``sqrt(331 * r)``), and the power of 100 events, pnorm(qnorm(.025) - sqrt(100)/2 *
  log(.7)).
"""

from __future__ import annotations

import math

import pytest
from scipy import integrate, stats
from statsmodels.stats.proportion import samplesize_proportions_2indep_onetail

from cletrial.design.sample_size import (
    events_schoenfeld,
    n_time_to_event,
    n_two_proportions,
    power_fisher_exact,
    power_schoenfeld,
    power_two_proportions,
    probability_of_event,
)
from cletrial.errors import DesignError


@pytest.mark.parametrize(
    ("p_c", "p_t", "power", "ratio"),
    [(0.5, 0.75, 0.9, 1.0), (0.1, 0.733, 0.9, 1.0), (0.2, 0.35, 0.8, 2.0), (0.3, 0.5, 0.85, 0.5)],
)
def test_normal_approximation_agrees_with_statsmodels(
    p_c: float, p_t: float, power: float, ratio: float
) -> None:
    size = n_two_proportions(p_c, p_t, alpha=0.025, power=power, ratio=ratio)
    theirs = samplesize_proportions_2indep_onetail(
        p_c - p_t, p_t, power, ratio=ratio, alpha=0.025, alternative="smaller"
    )
    # statsmodels sizes its first group (prop2 + diff = the control rate), nobs2 = ratio * nobs1.
    assert size.n_raw == pytest.approx(theirs, rel=1e-6)
    assert size.n_control == math.ceil(theirs - 1e-9)


def test_chow_shao_wang_equality_example() -> None:
    # CSW 2008, section 4.2: 65% vs 85%, two-sided 0.05 (one-sided 0.025), 80% power: 70.
    size = n_two_proportions(0.65, 0.85, alpha=0.025, power=0.8, variance="unpooled")
    assert size.n_control == 70 and size.n_treatment == 70
    assert size.power >= 0.8


def test_continuity_correction_adds_about_two_over_delta() -> None:
    plain = n_two_proportions(0.5, 0.75)
    corrected = n_two_proportions(0.5, 0.75, method="normal_cc")
    # Fleiss 1981, ch. 3: about 2 / |delta| = 8 more per group.
    assert corrected.n_raw - plain.n_raw == pytest.approx(2 / 0.25, abs=0.5)
    assert (plain.n_control, corrected.n_control) == (77, 85)


def _fisher_power_brute_force(n_c: int, n_t: int, p_c: float, p_t: float, alpha: float) -> float:
    """Power by enumerating every table and calling scipy's fisher_exact on it."""
    total = 0.0
    for x_c in range(n_c + 1):
        for x_t in range(n_t + 1):
            table = [[x_t, n_t - x_t], [x_c, n_c - x_c]]
            if stats.fisher_exact(table, alternative="greater").pvalue <= alpha:
                total += stats.binom.pmf(x_c, n_c, p_c) * stats.binom.pmf(x_t, n_t, p_t)
    return float(total)


@pytest.mark.parametrize(("n_c", "n_t", "p_c", "p_t"), [(8, 8, 0.1, 0.7), (10, 15, 0.2, 0.6)])
def test_exact_power_equals_enumeration_with_scipy_fisher_exact(
    n_c: int, n_t: int, p_c: float, p_t: float
) -> None:
    mine = power_fisher_exact(n_c, n_t, p_c, p_t, 0.025)
    assert mine == pytest.approx(_fisher_power_brute_force(n_c, n_t, p_c, p_t, 0.025), abs=1e-12)


def test_exact_size_is_the_smallest_n_reaching_the_power() -> None:
    size = n_two_proportions(0.1, 0.733, method="exact")
    assert size.power >= 0.9
    for n in range(2, size.n_control):
        assert power_fisher_exact(n, n, 0.1, 0.733, 0.025) < 0.9
    # The exact test is conservative: it needs at least the normal approximation's patients.
    assert size.n_control >= n_two_proportions(0.1, 0.733).n_control


def test_dropout_inflates_enrolment() -> None:
    size = n_two_proportions(0.1, 0.733, method="normal_cc", dropout=0.067)
    assert size.enrolled_control == math.ceil(size.n_control / (1 - 0.067))
    assert size.enrolled_total == size.enrolled_control + size.enrolled_treatment


def test_power_of_the_normal_approximation_at_its_own_size() -> None:
    size = n_two_proportions(0.2, 0.4, power=0.8)
    below = power_two_proportions(size.n_control - 1, size.n_treatment - 1, 0.2, 0.4)
    assert below < 0.8 <= size.power


def test_schoenfeld_events_match_the_gsdesign_vignette() -> None:
    assert math.ceil(events_schoenfeld(0.7, alpha=0.025, power=0.9)) == 331
    expected = stats.norm.cdf(stats.norm.ppf(0.025) - math.sqrt(100) / 2 * math.log(0.7))
    assert power_schoenfeld(100, 0.7, alpha=0.025) == pytest.approx(expected, abs=1e-12)


def test_schoenfeld_allocation_is_symmetric() -> None:
    # pi (1 - pi) is the same for 2:1 and 1:2; unequal allocation needs 9/8 the events.
    two = events_schoenfeld(0.6, ratio=2.0)
    assert two == pytest.approx(events_schoenfeld(0.6, ratio=0.5))
    assert two / events_schoenfeld(0.6) == pytest.approx(9 / 8)


def test_probability_of_event_matches_numerical_integration() -> None:
    hazard, eta, a, f = math.log(2) / 4.4, 0.005, 52.0, 24.0

    def event_by(follow: float) -> float:  # exposure ``follow`` weeks, competing drop-out
        return hazard / (hazard + eta) * (1 - math.exp(-(hazard + eta) * follow))

    integral = integrate.quad(lambda entry: event_by(a + f - entry), 0, a)[0] / a
    assert probability_of_event(hazard, a, f, eta) == pytest.approx(integral, rel=1e-10)


def test_time_to_event_patients_cover_the_events() -> None:
    size = n_time_to_event(0.4, 4.4, 52, 24, alpha=0.025, power=0.8, dropout_rate=0.005)
    expected_events = size.n_control * size.p_event_control + size.n_treatment * (
        size.p_event_treatment
    )
    assert size.events == math.ceil(events_schoenfeld(0.4, power=0.8))
    assert expected_events >= size.events
    inflated = n_time_to_event(0.4, 4.4, 52, 24, power=0.8, inflation=1.1)
    assert inflated.events == math.ceil(1.1 * size.events_exact)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: n_two_proportions(0.3, 0.3), "treatment_rate = 0.3: must differ"),
        (lambda: n_two_proportions(0.0, 0.3), "control_rate = 0.0: must be a proportion"),
        (lambda: n_two_proportions(0.1, 0.3, alpha=0.5), "alpha = 0.5: must be between"),
        (lambda: n_two_proportions(0.1, 0.3, power=0.01), "power = 0.01: must be between"),
        (lambda: n_two_proportions(0.1, 0.3, dropout=1.0), "dropout = 1.0: must be"),
        (lambda: n_two_proportions(0.1, 0.3, method="wald"), 'method = "wald": must be'),
        (lambda: events_schoenfeld(1.0), "hazard_ratio = 1.0: must be positive and not 1"),
        (lambda: n_time_to_event(0.5, 0, 10, 10), "control_median_weeks = 0: must be above"),
    ],
)
def test_bad_inputs_are_named(call: object, message: str) -> None:
    with pytest.raises(DesignError) as caught:
        call()  # type: ignore[operator]
    assert str(caught.value).startswith(message)
