"""Analysis populations: every patient is kept, flagged in or out of each population with a reason.

A cohort never aborts because one patient cannot be analysed. Screened patients never dosed,
patients withdrawn before their first efficacy assessment and patients without a baseline
CLASI-A stay in the subject table (and ADSL) with these flags:

=========== ==================================================================================
``saf_flag`` safety population: every patient who received at least one dose
``itt_flag`` intention-to-treat population: all treated patients (the same patients as safety;
             the published analysis calls this the intention-to-treat denominator)
``eff_flag`` efficacy (per-protocol) population: treated, with a baseline CLASI-A, and not
             withdrawn before the first post-baseline CLASI-A assessment (the paper's 12/14)
=========== ==================================================================================

``population_note`` says why a patient is outside a population: ``not_dosed``,
``withdrawn_before_first_assessment: <reason>`` (the disposition event, or ``treatment_stopped``
for an ``off`` dose record), or ``no_baseline_clasi_a``.

:func:`assign_population` is the one function that decides the flags and the reason; both the
per-patient reference (:func:`compute_population`) and the vectorised path
(:func:`derive_population`) call it, so a richer disposition (e.g. end-of-study records) plugs
in there.

>>> assign_population(treated=False, baseline_activity=True, withdrawal=None)
Population(safety=False, itt=False, efficacy=False, note='not_dosed')
>>> assign_population(treated=True, baseline_activity=True, withdrawal="consent_withdrawn").note
'withdrawn_before_first_assessment: consent_withdrawn'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "POPULATION_COLUMNS",
    "Population",
    "assign_population",
    "compute_population",
    "derive_population",
]

#: Column -> kind of the population part of the subject table.
POPULATION_COLUMNS: dict[str, str] = {
    "saf_flag": "bool",
    "itt_flag": "bool",
    "eff_flag": "bool",
    "population_note": "str",
}

#: The ``withdrawal`` of a treatment stop by an ``off`` dose record (no disposition event).
TREATMENT_STOPPED = "treatment_stopped"


@dataclass(frozen=True, slots=True)
class Population:
    """Membership of the safety, intention-to-treat and efficacy populations, and why not."""

    safety: bool
    itt: bool
    efficacy: bool
    note: str | None


def assign_population(
    *, treated: bool, baseline_activity: bool, withdrawal: str | None
) -> Population:
    """Decide one patient's populations and the reason for any exclusion.

    Parameters
    ----------
    treated : bool
        At least one dose received (a first dose date).
    baseline_activity : bool
        A baseline CLASI-A is recorded.
    withdrawal : str or None
        Why treatment stopped before the first post-baseline CLASI-A assessment (an event type
        or ``treatment_stopped``); None when it did not.

    Returns
    -------
    Population
        The first applicable reason wins: not dosed, withdrawn, no baseline.

    >>> assign_population(treated=True, baseline_activity=False, withdrawal=None)
    Population(safety=True, itt=True, efficacy=False, note='no_baseline_clasi_a')
    """
    if not treated:
        return Population(False, False, False, "not_dosed")
    if withdrawal is not None:
        return Population(True, True, False, f"withdrawn_before_first_assessment: {withdrawal}")
    if not baseline_activity:
        return Population(True, True, False, "no_baseline_clasi_a")
    return Population(True, True, True, None)


def _withdrawal(best_response: Any, first_stop_reason: Any) -> str | None:
    if best_response != "WITHDRAWN":
        return None
    return TREATMENT_STOPPED if first_stop_reason is None else str(first_stop_reason)


def compute_population(
    *, treated: bool, clasi_a_base: float | None, best_response: str, first_stop_reason: str | None
) -> dict[str, Any]:
    """The :data:`POPULATION_COLUMNS` of one patient from its response columns.

    >>> compute_population(treated=True, clasi_a_base=8.0, best_response="WITHDRAWN",
    ...                    first_stop_reason=None)["population_note"]
    'withdrawn_before_first_assessment: treatment_stopped'
    """
    p = assign_population(
        treated=treated,
        baseline_activity=clasi_a_base is not None,
        withdrawal=_withdrawal(best_response, first_stop_reason),
    )
    return {
        "saf_flag": p.safety,
        "itt_flag": p.itt,
        "eff_flag": p.efficacy,
        "population_note": p.note,
    }


def derive_population(
    treated: np.ndarray[Any, Any],
    clasi_a_base: np.ndarray[Any, Any],
    best_response: np.ndarray[Any, Any],
    first_stop_reason: np.ndarray[Any, Any],
) -> dict[str, np.ndarray[Any, Any]]:
    """Vectorised :func:`compute_population`: :func:`assign_population` once per distinct input.

    >>> out = derive_population(np.array([True, False]), np.array([5.0, np.nan]),
    ...     np.array(["CR", "NE"], dtype=object), np.array([None, None], dtype=object))
    >>> out["eff_flag"].tolist(), out["population_note"].tolist()
    ([1.0, 0.0], [None, 'not_dosed'])
    """
    treated = np.asarray(treated, dtype=bool)
    base = ~np.isnan(np.asarray(clasi_a_base, dtype=np.float64))
    withdrawn = np.flatnonzero(best_response == "WITHDRAWN")
    # reason code: 0 = not withdrawn, 1 = withdrawn by an off dose, 2.. = withdrawn by an event
    codes, names = pd.factorize(first_stop_reason[withdrawn], use_na_sentinel=True)
    reason_code = np.zeros(treated.size, dtype=np.int64)
    reason_code[withdrawn] = codes.astype(np.int64) + 2
    key = (reason_code * 2 + base) * 2 + treated
    keys = np.flatnonzero(np.bincount(key, minlength=1))  # the distinct inputs (small ints)
    lookup = np.zeros(int(keys[-1]) + 1 if keys.size else 1, dtype=np.int64)
    lookup[keys] = np.arange(keys.size)
    inverse = lookup[key]
    table = []
    for k in keys.tolist():
        code = k // 4
        withdrawal = None if code == 0 else TREATMENT_STOPPED if code == 1 else names[code - 2]
        table.append(
            assign_population(
                treated=bool(k % 2), baseline_activity=bool((k // 2) % 2), withdrawal=withdrawal
            )
        )
    flags = np.array([[p.safety, p.itt, p.efficacy] for p in table], dtype=np.float64)
    flags = flags.reshape(len(table), 3)
    notes = np.array([p.note for p in table], dtype=object)
    return {
        "saf_flag": flags[inverse, 0],
        "itt_flag": flags[inverse, 1],
        "eff_flag": flags[inverse, 2],
        "population_note": notes[inverse] if len(table) else np.array([], dtype=object),
    }
