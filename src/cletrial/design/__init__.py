"""Designing the randomised trial: designs as data, sample size, group-sequential boundaries and
Bayesian monitoring. Pure core: imports neither the store, the web layer nor the command line.

- :mod:`cletrial.design.model`: the design file (:func:`load_design`).
- :mod:`cletrial.design.sample_size`: two proportions (normal approximation, continuity
  correction, exact test) and time to event (Schoenfeld events, patients).
- :mod:`cletrial.design.boundaries`: Lan-DeMets spending boundaries (efficacy, futility).
- :mod:`cletrial.design.bayes`: beta-binomial posterior and predictive probabilities.
- :mod:`cletrial.design.plan`: a design joined to its boundaries, sizes and analytic power
  (:func:`~cletrial.design.plan.design_power`, for checking a simulation against).
- :mod:`cletrial.design.report` (with :mod:`.report_data`, :mod:`.report_figures`): the HTML
  design report (evidence, design, sample-size grids, boundaries, simulated power curves).
"""

from cletrial.design.model import (
    Arm,
    Bayes,
    Design,
    Endpoint,
    Futility,
    Source,
    list_designs,
    load_design,
    parse_design,
)

__all__ = [
    "Arm",
    "Bayes",
    "Design",
    "Endpoint",
    "Futility",
    "Source",
    "list_designs",
    "load_design",
    "parse_design",
]
