"""Group-sequential decisions: first crossing, non-binding futility, looks forced to be final."""

from __future__ import annotations

import numpy as np

from cletrial.simulation.sequential import ACCEPTED, EFFICACY, FUTILITY, decide

EFF = np.array([3.0, 2.5, 2.0])
FUT = np.array([0.0, 1.0, 2.0])


def test_the_first_crossing_decides_and_the_last_look_accepts_or_rejects() -> None:
    z = np.array([[3.1, 0.0, 0.0], [1.0, 0.5, 9.0], [1.0, 1.5, 2.1], [1.0, 1.5, 1.9]])
    look, reason = decide(z, EFF, FUT, np.zeros(z.shape, bool))
    assert look.tolist() == [0, 1, 2, 2]
    assert reason.tolist() == [EFFICACY, FUTILITY, EFFICACY, ACCEPTED]


def test_without_futility_bounds_a_low_z_continues() -> None:
    z = np.array([[-5.0, -5.0, 2.2]])
    look, reason = decide(z, EFF, None, np.zeros(z.shape, bool))
    assert (look.tolist(), reason.tolist()) == ([2], [EFFICACY])


def test_a_look_that_had_to_be_final_uses_the_last_efficacy_bound() -> None:
    z = np.array([[1.0, 2.2, 2.2], [1.0, 1.5, 1.5]])
    final = np.array([[False, True, True], [False, True, True]])
    look, reason = decide(z, EFF, FUT, final)
    assert look.tolist() == [1, 1]
    assert reason.tolist() == [EFFICACY, ACCEPTED]
