"""All endpoints of a cohort: one row per patient plus one row per relapse.

Two implementations of the same rules:

- :func:`compute_patient_endpoints`, a straightforward per-patient reference over a
  :class:`~cletrial.endpoints.course.Course`;
- :func:`derive_endpoints`, the vectorised path over a whole
  :class:`~cletrial.endpoints.table.VisitTable` (numpy over long arrays), used by the command line,
  the report and the benchmark.

The tests derive random cohorts both ways and require identical values in every column.

>>> from cletrial.endpoints.course import course_from_history
>>> from cletrial.endpoints.table import build_visit_table
>>> h = {"patient_id": "P6", "first_dose_date": "2009-03-02",
...      "baseline": {"date": "2009-03-02", "clasi": {"activity": 19, "damage": 0}},
...      "assessments": [{"date": "2009-03-30", "clasi": {"activity": 0, "damage": 0}}],
...      "doses": [{"date": "2009-03-02", "regimen": "5_daily"}]}
>>> course = course_from_history(h)
>>> compute_patient_endpoints(course).subject["time_to_cr_weeks"]
4.0
>>> derive_endpoints(build_visit_table([course])).subjects["best_response"].tolist()
['CR']
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cletrial.endpoints._vec import Cohort
from cletrial.endpoints.course import Course
from cletrial.endpoints.damage import DAMAGE_COLUMNS, compute_damage, derive_damage
from cletrial.endpoints.flares import compute_flares, derive_flares, flare_columns
from cletrial.endpoints.immunology import (
    IMMUNOLOGY_COLUMNS,
    compute_immunology,
    derive_immunology,
)
from cletrial.endpoints.populations import (
    POPULATION_COLUMNS,
    compute_population,
    derive_population,
)
from cletrial.endpoints.relapse import (
    RELAPSE_COLUMNS,
    RELAPSE_RECORD_COLUMNS,
    compute_relapses,
    derive_relapses,
)
from cletrial.endpoints.response import RESPONSE_COLUMNS, compute_response, derive_response
from cletrial.endpoints.rules import DEFAULT_RULES, EndpointRules
from cletrial.endpoints.safety import SAFETY_COLUMNS, compute_safety, derive_safety
from cletrial.endpoints.table import VisitTable, validate_visit_table

__all__ = [
    "Endpoints",
    "PatientEndpoints",
    "compute_patient_endpoints",
    "derive_endpoints",
    "normalise_value",
    "subject_columns",
]

_PANDAS_DTYPES = {"int": "Int64", "float": "float64", "bool": "boolean", "str": "object"}


def subject_columns(rules: EndpointRules = DEFAULT_RULES) -> dict[str, str]:
    """Column -> kind (int, float, bool, str) of the subject-level endpoint table, in order.

    >>> list(subject_columns())[:4]
    ['patient_id', 'synthetic', 'treated', 'origin_day']
    """
    return {
        "patient_id": "str",
        "synthetic": "bool",
        **RESPONSE_COLUMNS,
        **POPULATION_COLUMNS,
        **RELAPSE_COLUMNS,
        **flare_columns(rules),
        **DAMAGE_COLUMNS,
        **IMMUNOLOGY_COLUMNS,
        **SAFETY_COLUMNS,
    }


def normalise_value(value: Any, kind: str) -> Any:
    """Python value of a cell: None for any missing marker, else int, float, bool or str.

    >>> normalise_value(float("nan"), "int") is None, normalise_value(np.float64(3), "int")
    (True, 3)
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        return bool(value)
    return str(value)


@dataclass(frozen=True)
class PatientEndpoints:
    """One patient's endpoints: the subject row and the relapse records."""

    subject: dict[str, Any]
    relapses: list[dict[str, Any]]


@dataclass(frozen=True)
class Endpoints:
    """A cohort's endpoints: ``subjects`` (one row per patient, :func:`subject_columns`) and
    ``relapses`` (one row per relapse, with ``patient_id`` and the relapse columns)."""

    subjects: pd.DataFrame
    relapses: pd.DataFrame
    kinds: dict[str, str]

    def records(self) -> list[dict[str, Any]]:
        """The subject rows as plain dicts (None = missing), e.g. for JSON output.

        >>> from cletrial.endpoints.table import build_visit_table
        >>> derive_endpoints(build_visit_table([])).records()
        []
        """
        kinds = self.kinds
        return [
            {name: normalise_value(value, kinds[name]) for name, value in row.items()}
            for row in self.subjects.to_dict("records")
        ]

    def relapse_records(self) -> list[dict[str, Any]]:
        """The relapse rows as plain dicts (None = missing).

        >>> from cletrial.endpoints.table import build_visit_table
        >>> derive_endpoints(build_visit_table([])).relapse_records()
        []
        """
        kinds = {**RELAPSE_RECORD_COLUMNS, "patient_id": "str"}
        return [
            {name: normalise_value(value, kinds[name]) for name, value in row.items()}
            for row in self.relapses.to_dict("records")
        ]


def compute_patient_endpoints(
    course: Course, rules: EndpointRules = DEFAULT_RULES
) -> PatientEndpoints:
    """Every endpoint of one patient, by the straightforward per-patient rules (the reference).

    Parameters
    ----------
    course : Course
        One patient's course (not modified).
    rules : EndpointRules
        Thresholds and windows.

    Returns
    -------
    PatientEndpoints
        ``subject``: the :func:`subject_columns` (None = missing); ``relapses``: the relapse
        records.

    >>> from cletrial.endpoints.course import course_from_history
    >>> e = compute_patient_endpoints(course_from_history({"patient_id": "P",
    ...     "doses": [{"date": "2009-01-05", "regimen": "5_daily"}]}))
    >>> e.subject["best_response"], e.subject["response_note"], e.subject["population_note"]
    ('NE', 'baseline_missing', 'no_baseline_clasi_a')
    """
    response = compute_response(course, rules)
    evaluable = course.treated and response["best_response"] != "WITHDRAWN"
    relapse, records = compute_relapses(
        course, rules, cr_day=response["cr_day"], evaluable=evaluable
    )
    subject: dict[str, Any] = {"patient_id": course.patient_id, "synthetic": course.synthetic}
    subject.update(response)
    subject.update(
        compute_population(
            treated=course.treated,
            clasi_a_base=response["clasi_a_base"],
            best_response=response["best_response"],
            first_stop_reason=response["first_stop_reason"],
        )
    )
    subject.update(relapse)
    subject.update(compute_flares(course, rules))
    subject.update(compute_damage(course, rules))
    subject.update(
        compute_immunology(course, rules, final_withdrawal_day=relapse["final_withdrawal_day"])
    )
    subject.update(compute_safety(course, rules))
    kinds = subject_columns(rules)
    subject = {name: normalise_value(subject[name], kind) for name, kind in kinds.items()}
    for record in records:
        record["patient_id"] = course.patient_id
    return PatientEndpoints(subject, records)


def _frame(columns: dict[str, np.ndarray[Any, Any]], kinds: dict[str, str]) -> pd.DataFrame:
    """Per-patient arrays (NaN = missing) -> a frame with nullable Int64 / boolean columns."""
    data: dict[str, Any] = {}
    for name, kind in kinds.items():
        values = columns[name]
        if kind == "str":
            data[name] = pd.Series(values, dtype="object")
            continue
        numbers = np.asarray(values, dtype=np.float64)
        missing = np.isnan(numbers)
        if kind == "int":
            whole = np.where(missing, 0, numbers).astype(np.int64)
            data[name] = pd.arrays.IntegerArray(whole, missing)
        elif kind == "bool":
            data[name] = pd.arrays.BooleanArray(numbers == 1.0, missing)
        else:
            data[name] = numbers
    return pd.DataFrame(data)


def derive_endpoints(table: VisitTable, rules: EndpointRules = DEFAULT_RULES) -> Endpoints:
    """Every endpoint of every patient of ``table``, vectorised (the table is not modified).

    Parameters
    ----------
    table : VisitTable
        The cohort (sorted as :func:`~cletrial.endpoints.table.validate_visit_table` checks).
    rules : EndpointRules
        Thresholds and windows.

    Returns
    -------
    Endpoints
        ``subjects`` with the :func:`subject_columns` (nullable dtypes: Int64, boolean) and
        ``relapses`` (``patient_id`` + the relapse record columns).

    >>> from cletrial.endpoints.table import build_visit_table
    >>> derive_endpoints(build_visit_table([])).subjects.shape[0]
    0
    """
    validate_visit_table(table)
    c = Cohort.from_table(table)
    columns: dict[str, np.ndarray[Any, Any]] = {
        "patient_id": table.patients["patient_id"].to_numpy(dtype=object),
        "synthetic": table.patients["synthetic"].to_numpy(dtype=np.float64),
    }
    response = derive_response(table, c, rules)
    columns.update(response)
    columns.update(
        derive_population(
            c.treated, c.a_base, response["best_response"], response["first_stop_reason"]
        )
    )
    cr_flag = response["cr_flag"] == 1.0
    evaluable = c.treated & (response["best_response"] != "WITHDRAWN")
    relapse, records = derive_relapses(
        c,
        rules,
        cr_flag=cr_flag,
        evaluable=evaluable,
        last_assessment_day=response["last_assessment_day"],
    )
    columns.update(relapse)
    columns.update(derive_flares(c, rules))
    columns.update(derive_damage(c, rules))
    columns.update(
        derive_immunology(table, c, rules, final_withdrawal_day=relapse["final_withdrawal_day"])
    )
    columns.update(derive_safety(table, c, rules))
    subjects = _frame(columns, subject_columns(rules))
    record_columns = {"patient_id": columns["patient_id"][records["pidx"].to_numpy()]}
    record_columns.update({k: records[k].to_numpy() for k in RELAPSE_RECORD_COLUMNS})
    relapses = _frame(record_columns, {"patient_id": "str", **RELAPSE_RECORD_COLUMNS})
    return Endpoints(subjects, relapses.drop(columns="pidx"), subject_columns(rules))
