"""Synthetic cohorts: labelled, seeded, calibrated to the 2012 paper; never evidence.

- :func:`generate_cohort` / :func:`generate_history`: patients treated by the protocol engine
  visit by visit (the demo study, the tests, ``cletrial synth``).
- :func:`generate_visit_table`: a fast vectorised generator that builds the columnar
  :class:`~cletrial.endpoints.VisitTable` directly, for benchmarks at 100,000 patients.

>>> generate_history(0, seed=1)["synthetic"]
True
"""

from __future__ import annotations

from cletrial.synthetic.calibration import DEFAULT_CALIBRATION, Calibration
from cletrial.synthetic.cohort import generate_cohort, generate_history, patient_id
from cletrial.synthetic.fast import generate_visit_table

__all__ = [
    "DEFAULT_CALIBRATION",
    "Calibration",
    "generate_cohort",
    "generate_history",
    "generate_visit_table",
    "patient_id",
]
