"""Simulation of trial designs on the protocol's own rules: operating characteristics.

Virtual patients are dosed and tapered by the protocol definition (:mod:`.course`), trials are
simulated in seeded blocks vectorised with numpy (:mod:`.trials`), judged at the design's looks
by its group-sequential bounds (:mod:`.sequential`) and run serially or on Dask distributed
(:mod:`.runner`). ``docs/design.md`` ("Simulation") says what is simulated and what simplified.

>>> plan = SimulationPlan("binary", "null", 30, 30, (1.0,), (1.96,), None,
...                       control_rate=0.2, treatment_rate=0.2, week=12)
>>> run_simulation(plan, trials=1000, seed=5).total.trials
1000
"""

from __future__ import annotations

from cletrial.simulation.course import CourseSummary, ProtocolCourse, calibrate_complete_response
from cletrial.simulation.plan import SimulationPlan, plan_from_design
from cletrial.simulation.runner import BLOCK_TRIALS, run_plans, run_simulation
from cletrial.simulation.sequential import OperatingCharacteristics

__all__ = [
    "BLOCK_TRIALS",
    "CourseSummary",
    "OperatingCharacteristics",
    "ProtocolCourse",
    "SimulationPlan",
    "calibrate_complete_response",
    "plan_from_design",
    "run_plans",
    "run_simulation",
]
