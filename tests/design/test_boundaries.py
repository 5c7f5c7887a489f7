"""Group-sequential boundaries against published values.

Sources quoted below:

* gsDesign (Anderson K, R package), the printed bounds of ``gsBoundSummary`` kept as test
  snapshots in keaven/gsDesign, tests/testthat/_snaps/independent-test-gsBoundSummary.md (commit
  97f1dc37): gsDesign's default spending, Hwang-Shih-DeCani with gamma -4 (efficacy) and -2
  (futility), one-sided alpha 0.025, beta 0.1.
* Issue 14 / gsDesign's documented sfLDOF bounds for three equally spaced looks at one-sided
  alpha 0.025: efficacy z 3.71, 2.51, 1.99.
* Jennison C, Turnbull BW. Group Sequential Methods with Applications to Clinical Trials.
  Chapman & Hall/CRC 2000, chapter 2: the classical Pocock constant C_P(K, 0.05) (2.178, 2.289,
  2.413 for K = 2, 3, 5), the O'Brien-Fleming constant C_B(K, 0.05) (1.977, 2.004, 2.040) and
  the inflation factors R_P and R_B for power 0.8 and 0.9 (two-sided 0.05, which is one-sided
  0.025 up to crossings of both bounds, below 1e-6 here).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from cletrial.design.boundaries import (
    classical_constant,
    compute_boundaries,
    crossing_probabilities,
    inflation_factor,
    spend,
)
from cletrial.errors import DesignError

THIRDS = [1 / 3, 2 / 3, 1.0]
FIFTHS = [0.2, 0.4, 0.6, 0.8, 1.0]


def _no_crossing_h0(fractions: list[float], bounds: tuple[float, ...]) -> float:
    """P(Z_k < b_k for all k) under the null by scipy's multivariate normal (Genz), an
    integration method independent of the grid recursion."""
    t = np.array(fractions)
    cov = np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))
    dist = stats.multivariate_normal(mean=np.zeros(len(t)), cov=cov)
    return float(dist.cdf(np.array(bounds)))


def test_obrien_fleming_type_three_looks_match_gsdesign() -> None:
    b = compute_boundaries(THIRDS, alpha=0.025, spending="obf")
    # gsDesign sfLDOF, k = 3, one-sided alpha 0.025: 3.71, 2.51, 1.99 (issue 14).
    assert b.efficacy_z == pytest.approx((3.71, 2.51, 1.99), abs=0.005)
    assert b.alpha_spent[-1] == pytest.approx(0.025, abs=1e-9)
    assert 1 - _no_crossing_h0(THIRDS, b.efficacy_z) == pytest.approx(0.025, abs=1e-4)


def test_pocock_type_three_looks_spend_alpha_as_lan_demets() -> None:
    b = compute_boundaries(THIRDS, alpha=0.025, spending="pocock")
    # Lan-DeMets Pocock type spends 0.025 ln(1 + (e - 1) t): 0.01132, 0.01908, 0.025.
    expected = [0.025 * math.log(1 + (math.e - 1) * t) for t in THIRDS]
    assert b.alpha_spent == pytest.approx(expected, abs=1e-8)
    # Nearly flat bounds close to the classical Pocock constant 2.289 (Jennison-Turnbull).
    assert all(abs(z - 2.289) < 0.015 for z in b.efficacy_z)
    assert 1 - _no_crossing_h0(THIRDS, b.efficacy_z) == pytest.approx(0.025, abs=1e-4)


def test_gsdesign_default_five_looks_efficacy_only() -> None:
    # gsBoundSummary snapshot "gsDesign Object": Z 3.2527 2.9860 2.6917 2.3737 2.0253,
    # N/fixed 1.02 at the final look, P(cross) if delta=1 at IA 1: 0.0370, at IA 2: 0.1883.
    b = compute_boundaries(FIFTHS, 0.025, "hsd:-4", beta=0.1)
    assert b.efficacy_z == pytest.approx((3.2527, 2.9860, 2.6917, 2.3737, 2.0253), abs=1e-4)
    assert round(b.inflation, 2) == 1.02
    assert np.cumsum(b.p_efficacy_h1)[:2] == pytest.approx([0.0370, 0.1883], abs=1e-4)
    assert b.alpha_spent[-1] == pytest.approx(0.025, abs=1e-9)


def test_gsdesign_default_five_looks_with_non_binding_futility() -> None:
    # Snapshot "gsDesign Object, test.type > 1": futility -0.9016 -0.0367 0.6945 1.3603 2.0253,
    # N/fixed 1.1; P(cross upper) if null, ignoring nothing: 0.0226 in total (non-binding).
    b = compute_boundaries(FIFTHS, 0.025, "hsd:-4", futility="hsd:-2", beta=0.1)
    assert b.futility_z == pytest.approx((-0.9016, -0.0367, 0.6945, 1.3603, 2.0253), abs=1e-4)
    assert round(b.inflation, 1) == 1.1
    assert sum(b.p_efficacy_h0) == pytest.approx(0.0226, abs=1e-4)
    assert b.alpha_spent[-1] == pytest.approx(0.025, abs=1e-9)  # spent as if no futility
    assert b.beta_spent is not None and b.beta_spent[-1] == pytest.approx(0.1, abs=1e-8)


def test_gsdesign_three_looks_with_futility() -> None:
    # Snapshot "Probability Of Success": efficacy 3.0107 2.5465 1.9992, futility -0.2387
    # 0.9411; cumulative P(cross) under H1: upper 0.1412, 0.5815, 0.9000; lower 0.0148, 0.0437,
    # 0.1000; under H0: upper 0.0013, 0.0062, 0.0233; lower 0.4057, 0.8347.
    b = compute_boundaries(THIRDS, 0.025, "hsd:-4", futility="hsd:-2", beta=0.1)
    assert b.efficacy_z == pytest.approx((3.0107, 2.5465, 1.9992), abs=1e-4)
    assert b.futility_z == pytest.approx((-0.2387, 0.9411, 1.9992), abs=1e-4)
    assert np.cumsum(b.p_efficacy_h1) == pytest.approx([0.1412, 0.5815, 0.9000], abs=1e-4)
    assert np.cumsum(b.p_futility_h1) == pytest.approx([0.0148, 0.0437, 0.1000], abs=1e-4)
    assert np.cumsum(b.p_efficacy_h0) == pytest.approx([0.0013, 0.0062, 0.0233], abs=1e-4)
    assert np.cumsum(b.p_futility_h0)[:2] == pytest.approx([0.4057, 0.8347], abs=1e-4)


@pytest.mark.parametrize(
    ("k", "pocock", "obf"), [(2, 2.178, 1.977), (3, 2.289, 2.004), (5, 2.413, 2.040)]
)
def test_classical_constants(k: int, pocock: float, obf: float) -> None:
    assert classical_constant(k, 0.025, "pocock") == pytest.approx(pocock, abs=5e-4)
    assert classical_constant(k, 0.025, "obf") == pytest.approx(obf, abs=5e-4)


@pytest.mark.parametrize(
    ("k", "kind", "r80", "r90"),
    [
        (2, "pocock", 1.110, 1.100),
        (3, "pocock", 1.166, 1.151),
        (5, "pocock", 1.229, 1.207),
        (2, "obf", 1.008, 1.007),
        (3, "obf", 1.017, 1.016),
        (5, "obf", 1.028, 1.026),
    ],
)
def test_classical_inflation_factors(k: int, kind: str, r80: float, r90: float) -> None:
    looks = [(i + 1) / k for i in range(k)]
    c = classical_constant(k, 0.025, "obf" if kind == "obf" else "pocock")
    bounds = [c * math.sqrt(k / (i + 1)) if kind == "obf" else c for i in range(k)]
    assert inflation_factor(looks, bounds, 0.025, 0.2) == pytest.approx(r80, abs=5e-4)
    assert inflation_factor(looks, bounds, 0.025, 0.1) == pytest.approx(r90, abs=5e-4)


@pytest.mark.parametrize("spending", ["obf", "pocock", "hsd:1"])
def test_unequal_looks_spend_the_spending_function(spending: str) -> None:
    looks = [0.25, 0.6, 0.8, 1.0]
    b = compute_boundaries(looks, 0.025, spending, futility="pocock", beta=0.15)
    assert b.alpha_spent == pytest.approx([spend(spending, 0.025, t) for t in looks], abs=1e-8)
    assert b.beta_spent == pytest.approx([spend("pocock", 0.15, t) for t in looks], abs=1e-7)
    assert 1 - _no_crossing_h0(looks, b.efficacy_z) == pytest.approx(0.025, abs=1e-4)
    assert b.nominal_p == pytest.approx([stats.norm.sf(z) for z in b.efficacy_z])
    assert 0 < b.expected_fraction_h1 < 1 and 0 < b.expected_fraction_h0 < 1


def test_one_look_is_the_fixed_design() -> None:
    b = compute_boundaries([1.0], 0.025, "obf", futility="obf", beta=0.1)
    assert b.efficacy_z[0] == pytest.approx(stats.norm.isf(0.025), abs=1e-8)
    assert b.inflation == pytest.approx(1.0, abs=1e-8)


def test_crossing_probabilities_under_the_alternative_give_the_power() -> None:
    b = compute_boundaries(THIRDS, 0.025, "obf", beta=0.2)
    up, low = crossing_probabilities(THIRDS, b.efficacy_z, None, b.drift)
    assert sum(up) == pytest.approx(0.8, abs=1e-8) and low == [0.0, 0.0, 0.0]
    fixed = stats.norm.isf(0.025) + stats.norm.isf(0.2)
    assert b.inflation == pytest.approx((b.drift / fixed) ** 2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fractions": [0.5, 0.4, 1.0]}, "looks[1] = 0.4: must be above the previous look"),
        ({"fractions": [0.5, 0.9]}, "looks[1] = 0.9: the last look must be 1.0"),
        ({"fractions": [-0.1, 1.0]}, "looks[0] = -0.1: must be an information fraction"),
        ({"fractions": []}, "looks = []: must list at least the final analysis"),
        ({"alpha": 0.6}, "alpha = 0.6: must be between 0 and 0.5"),
        ({"beta": 0.99}, "beta = 0.99: must be between 0 and 0.975"),
        ({"spending": "haybittle"}, 'spending = "haybittle": must be "obf", "pocock"'),
        ({"futility": "hsd:x"}, 'spending = "hsd:x": must be'),
    ],
)
def test_bad_inputs_are_named(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"fractions": THIRDS, "alpha": 0.025, "spending": "obf"}
    args.update(kwargs)
    with pytest.raises(DesignError) as caught:
        compute_boundaries(**args)  # type: ignore[arg-type]
    assert str(caught.value).startswith(message)
