"""Beta-binomial posterior and predictive probabilities against closed forms and a published
example.

* Closed forms: for X ~ Beta(2, 1) and Y ~ Beta(1, 1), P(X > Y) = int 2x * x dx = 2/3; for
  Y ~ Beta(1, 2), P(X > Y) = int 2x (1 - (1 - x)^2) dx = 5/6; for a single arm under a uniform
  prior without data, P(p > t) = 1 - t.
* Lee JJ, Liu DD. A predictive probability design for phase II cancer clinical trials. Clinical
  Trials 2008;5:93-106, worked example: prior Beta(0.6, 0.4), p0 = 0.6, theta_T = 0.9, Nmax = 40,
  16 responses in the first 23 patients: predictive probability 0.5656 (p. 97). The same example
  is in the documentation of the R package ph2bayes, ``predprob(16, 23, 40, 0.6, 0.4, 0.6, 0.9)``
  ("p. 97, PP = 0.5656"; its output 0.5655589).
"""

from __future__ import annotations

import numpy as np
import pytest

from cletrial.design.bayes import (
    Interim,
    _superior,
    _superior_quad,
    predictive_probability,
    predictive_probability_single,
    probability_above,
    probability_superior,
)
from cletrial.errors import DesignError


def test_closed_forms() -> None:
    assert probability_superior(1, 1, 0, 0) == pytest.approx(2 / 3, abs=1e-12)
    assert probability_superior(1, 1, 0, 1) == pytest.approx(5 / 6, abs=1e-12)
    assert probability_superior(4, 10, 4, 10) == pytest.approx(0.5, abs=1e-12)
    assert probability_above(0, 0, 0.3) == pytest.approx(0.7, abs=1e-12)


def test_the_two_directions_add_to_one() -> None:
    forward = probability_superior(11, 15, 2, 15)
    backward = probability_superior(2, 15, 11, 15)
    assert forward + backward == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(("at", "bt", "ac", "bc"), [(12, 4, 3, 13), (3, 7, 5, 2), (40, 9, 30, 22)])
def test_closed_form_sum_equals_numerical_integration(
    at: float, bt: float, ac: float, bc: float
) -> None:
    closed = _superior(at, bt, np.array([ac]), np.array([bc]))[0]
    assert closed == pytest.approx(_superior_quad(at, bt, ac, bc), abs=1e-9)


def test_non_integer_prior_uses_integration() -> None:
    jeffreys = probability_superior(11, 15, 2, 15, prior_a=0.5, prior_b=0.5)
    assert jeffreys == pytest.approx(_superior_quad(11.5, 4.5, 2.5, 13.5), abs=1e-12)


def test_lee_and_liu_predictive_probability() -> None:
    pp = predictive_probability_single(16, 23, 40, 0.6, 0.9, prior_a=0.6, prior_b=0.4)
    assert pp == pytest.approx(0.5656, abs=1e-4)


def test_predictive_probability_equals_enumeration() -> None:
    from scipy import stats

    interim = Interim(x_t=4, n_t=6, x_c=1, n_c=6, final_n_t=10, final_n_c=9)
    expected = 0.0
    for y_t in range(5):
        for y_c in range(4):
            w = stats.betabinom.pmf(y_t, 4, 5, 3) * stats.betabinom.pmf(y_c, 3, 2, 6)
            if probability_superior(4 + y_t, 10, 1 + y_c, 9) >= 0.95:
                expected += w
    assert predictive_probability(interim, 0.95) == pytest.approx(expected, abs=1e-12)


def test_predictive_probability_at_the_final_analysis_is_the_decision() -> None:
    done = Interim(11, 15, 2, 15, 15, 15)
    assert predictive_probability(done, 0.975) == 1.0
    assert predictive_probability(done, 0.99999) == 0.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: probability_superior(5, 4, 0, 4), 'treatment = "5/4": must be responses'),
        (lambda: probability_superior(1, 4, 0, 4, prior_a=0), "prior_a = 0: must be a positive"),
        (lambda: probability_above(1, 4, 1.5), "threshold = 1.5: must be a rate"),
        (lambda: predictive_probability(Interim(1, 4, 0, 4, 3, 8)), "final_n_t = 3: must be"),
        (lambda: predictive_probability_single(1, 4, 2, 0.5, 0.9), "final_n = 2: must be"),
    ],
)
def test_bad_inputs_are_named(call: object, message: str) -> None:
    with pytest.raises(DesignError) as caught:
        call()  # type: ignore[operator]
    assert str(caught.value).startswith(message)
