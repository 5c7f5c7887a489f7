"""The columnar visit table: a whole cohort as long tables, the input of the vectorised path.

A :class:`VisitTable` holds six pandas DataFrames that share the patient index ``pidx``
(0 .. n-1, the row of ``patients``):

========== ==============================================================================
patients   patient_id, synthetic, treated, origin_date, clasi_a_base, clasi_d_base,
           sledai_base (float, NaN = missing)
visits     pidx, day, seq, clasi_a, clasi_d, sledai (float, NaN = not assessed)
doses      pidx, day, seq, rank (ladder position, 0 = off)
labs       pidx, day, seq, test (index into IMMUNOLOGY_TESTS), value (canonical unit)
aes        pidx, seq, term, start_day, end_day, grade, causality (index into CAUSALITY_TERMS,
           -1 = missing), serious (1, 0, -1 = missing)
events     pidx, day, seq, type (index into EVENT_TYPES)
========== ==============================================================================

Every long table is sorted by ``pidx`` then day then ``seq`` (adverse events by start day), the
order :func:`validate_visit_table` checks and the vectorised derivations rely on. ``seq`` is the
record's 1-based position in the patient history's array, for traceability.

>>> from cletrial.endpoints.course import course_from_history
>>> table = build_visit_table([course_from_history({"patient_id": "P1",
...     "baseline": {"date": "2010-01-04", "clasi": {"activity": 8}},
...     "assessments": [{"date": "2010-02-01", "clasi": {"activity": 0}}]})])
>>> table.visits[["pidx", "day", "clasi_a"]].to_numpy().tolist()
[[0.0, 28.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from cletrial.endpoints.course import (
    AdverseEvent,
    Course,
    DoseChange,
    LabResult,
    StopEvent,
    Visit,
    course_from_history,
)
from cletrial.endpoints.rules import (
    CAUSALITY_TERMS,
    DEFAULT_RULES,
    EVENT_TYPES,
    IMMUNOLOGY_TESTS,
    EndpointRules,
)
from cletrial.errors import InputError
from cletrial.protocol.history import PatientHistory

__all__ = [
    "VisitTable",
    "build_visit_table",
    "iter_courses",
    "table_from_histories",
    "validate_visit_table",
]

PATIENT_COLUMNS = (
    "patient_id",
    "synthetic",
    "treated",
    "origin_date",
    "clasi_a_base",
    "clasi_d_base",
    "sledai_base",
)
VISIT_COLUMNS = ("pidx", "day", "seq", "clasi_a", "clasi_d", "sledai")
DOSE_COLUMNS = ("pidx", "day", "seq", "rank")
LAB_COLUMNS = ("pidx", "day", "seq", "test", "value")
AE_COLUMNS = ("pidx", "seq", "term", "start_day", "end_day", "grade", "causality", "serious")
EVENT_COLUMNS = ("pidx", "day", "seq", "type")


@dataclass(frozen=True)
class VisitTable:
    """A cohort in columnar form (see the module docstring for the columns)."""

    patients: pd.DataFrame
    visits: pd.DataFrame
    doses: pd.DataFrame
    labs: pd.DataFrame
    aes: pd.DataFrame
    events: pd.DataFrame

    @property
    def n_patients(self) -> int:
        """Number of patients.

        >>> build_visit_table([]).n_patients
        0
        """
        return len(self.patients)


def _opt(value: int | None) -> float:
    return np.nan if value is None else float(value)


def _frame(
    columns: tuple[str, ...], rows: list[tuple[object, ...]], dtypes: dict[str, str]
) -> pd.DataFrame:
    frame = (
        pd.DataFrame.from_records(rows, columns=list(columns))
        if rows
        else pd.DataFrame({name: pd.Series(dtype=dtypes.get(name, "float64")) for name in columns})
    )
    return frame.astype(dtypes)


_I64, _F64 = "int64", "float64"
#: Column dtypes of each long table (columns not listed are float64).
_DTYPES: dict[str, dict[str, str]] = {
    "patients": {
        "patient_id": "object",
        "synthetic": "bool",
        "treated": "bool",
        "origin_date": "datetime64[s]",
        "clasi_a_base": _F64,
        "clasi_d_base": _F64,
        "sledai_base": _F64,
    },
    "visits": {"pidx": _I64, "day": _I64, "seq": _I64},
    "doses": {"pidx": _I64, "day": _I64, "seq": _I64, "rank": _I64},
    "labs": {"pidx": _I64, "day": _I64, "seq": _I64, "test": _I64},
    "aes": {
        "pidx": _I64,
        "seq": _I64,
        "term": "object",
        "start_day": _I64,
        "causality": _I64,
        "serious": _I64,
    },
    "events": {"pidx": _I64, "day": _I64, "seq": _I64, "type": _I64},
}
_COLUMNS: dict[str, tuple[str, ...]] = {
    "patients": PATIENT_COLUMNS,
    "visits": VISIT_COLUMNS,
    "doses": DOSE_COLUMNS,
    "labs": LAB_COLUMNS,
    "aes": AE_COLUMNS,
    "events": EVENT_COLUMNS,
}


def _course_rows(p: int, c: Course, rows: dict[str, list[tuple[object, ...]]]) -> None:
    """Append patient ``p``'s records to the row lists of each long table."""
    rows["patients"].append(
        (
            c.patient_id,
            c.synthetic,
            c.treated,
            np.datetime64(c.origin_date, "D"),
            _opt(c.clasi_a_base),
            _opt(c.clasi_d_base),
            _opt(c.sledai_base),
        )
    )
    rows["visits"].extend(
        (p, v.day, v.seq, _opt(v.clasi_a), _opt(v.clasi_d), _opt(v.sledai)) for v in c.visits
    )
    rows["doses"].extend((p, d.day, d.seq, d.rank) for d in c.doses)
    rows["labs"].extend((p, r.day, r.seq, IMMUNOLOGY_TESTS.index(r.test), r.value) for r in c.labs)
    rows["aes"].extend(
        (
            p,
            a.seq,
            a.term,
            a.start_day,
            _opt(a.end_day),
            _opt(a.grade),
            -1 if a.causality is None else CAUSALITY_TERMS.index(a.causality),
            -1 if a.serious is None else int(a.serious),
        )
        for a in c.adverse_events
    )
    rows["events"].extend((p, e.day, e.seq, EVENT_TYPES.index(e.type)) for e in c.events)


def build_visit_table(courses: Iterable[Course]) -> VisitTable:
    """Stack patient courses into one :class:`VisitTable` (the patient order is kept).

    Parameters
    ----------
    courses : iterable of Course
        From :func:`cletrial.endpoints.course.course_from_history`.

    Returns
    -------
    VisitTable

    >>> build_visit_table([]).visits.columns.tolist()
    ['pidx', 'day', 'seq', 'clasi_a', 'clasi_d', 'sledai']
    """
    rows: dict[str, list[tuple[object, ...]]] = {name: [] for name in _COLUMNS}
    for p, course in enumerate(courses):
        _course_rows(p, course, rows)
    frames = {name: _frame(_COLUMNS[name], rows[name], _DTYPES[name]) for name in _COLUMNS}
    return VisitTable(**frames)


def table_from_histories(
    histories: Iterable[PatientHistory | Mapping[str, Any]], rules: EndpointRules = DEFAULT_RULES
) -> VisitTable:
    """Read patient histories (one per JSON Lines line) into a :class:`VisitTable`.

    Each history is a validated :class:`~cletrial.protocol.history.PatientHistory` or a mapping
    that :func:`~cletrial.protocol.history.parse_history` validates. Errors are located at the
    history's 1-based position (its line in a JSON Lines file).

    >>> table_from_histories([{"patient_id": "P1", "baseline": {"date": "2010-01-04"}}]).n_patients
    1
    >>> table_from_histories([{"patient_id": "P1", "first_dose_date": "2010-01-4"}])
    Traceback (most recent call last):
    ...
    cletrial.errors.HistoryError: line 1: first_dose_date = "2010-01-4": ...
    """

    def courses() -> Iterator[Course]:
        for line, history in enumerate(histories, 1):
            try:
                yield course_from_history(history, rules)
            except InputError as exc:
                raise exc.at_line(line) from None

    return build_visit_table(courses())


def _check_sorted(name: str, frame: pd.DataFrame, day: str, n: int) -> None:
    """O(rows) check that ``frame`` is sorted by (pidx, day, seq) and its pidx are patients."""
    if frame.empty:
        return
    pidx = frame["pidx"].to_numpy()
    if pidx.min() < 0 or pidx.max() >= n:
        raise InputError(f"{name}.pidx", int(pidx.max()), f"must be a patient row 0..{n - 1}")
    days, seq = frame[day].to_numpy(), frame["seq"].to_numpy()
    dp, dd, ds = np.diff(pidx), np.diff(days), np.diff(seq)
    ok = (dp > 0) | ((dp == 0) & ((dd > 0) | ((dd == 0) & (ds >= 0))))
    if not ok.all():
        bad = int(np.flatnonzero(~ok)[0]) + 1
        raise InputError(f"{name}[{bad}]", None, f"must be sorted by pidx, {day}, seq")


def validate_visit_table(table: VisitTable) -> VisitTable:
    """Check the columns and the sort order the vectorised derivations rely on.

    Returns the table unchanged; raises :class:`~cletrial.errors.InputError` naming the table
    and row otherwise.

    >>> validate_visit_table(build_visit_table([])).n_patients
    0
    """
    n = table.n_patients
    for name, columns in (
        ("patients", PATIENT_COLUMNS),
        ("visits", VISIT_COLUMNS),
        ("doses", DOSE_COLUMNS),
        ("labs", LAB_COLUMNS),
        ("aes", AE_COLUMNS),
        ("events", EVENT_COLUMNS),
    ):
        missing = [c for c in columns if c not in getattr(table, name).columns]
        if missing:
            raise InputError(f"{name}.{missing[0]}", None, "column is required")
    for name, day in (
        ("visits", "day"),
        ("doses", "day"),
        ("labs", "day"),
        ("aes", "start_day"),
        ("events", "day"),
    ):
        _check_sorted(name, getattr(table, name), day, n)
    return table


def _columns(
    frame: pd.DataFrame, names: tuple[str, ...], n: int
) -> tuple[list[int], list[list[Any]]]:
    """Return patient boundaries and the named columns as Python lists."""
    bounds = np.searchsorted(frame["pidx"].to_numpy(), np.arange(n + 1)).tolist()
    return bounds, [frame[name].to_numpy().tolist() for name in names]


def _none(x: float) -> int | None:
    return None if x != x else int(x)


def _origin(value: Any) -> date | None:
    return value if isinstance(value, date) else None


def iter_courses(table: VisitTable) -> Iterator[Course]:
    """Yield the table's patients back as :class:`Course` objects (the per-patient reference).

    >>> table = build_visit_table([])
    >>> list(iter_courses(table))
    []
    """
    n = table.n_patients
    pat = table.patients
    vb, (v_day, v_seq, v_a, v_d, v_s) = _columns(
        table.visits, ("day", "seq", "clasi_a", "clasi_d", "sledai"), n
    )
    db, (d_day, d_seq, d_rank) = _columns(table.doses, ("day", "seq", "rank"), n)
    lb, (l_day, l_seq, l_test, l_value) = _columns(table.labs, ("day", "seq", "test", "value"), n)
    ab, (a_seq, a_term, a_start, a_end, a_grade, a_cause, a_ser) = _columns(
        table.aes, ("seq", "term", "start_day", "end_day", "grade", "causality", "serious"), n
    )
    eb, (e_day, e_seq, e_type) = _columns(table.events, ("day", "seq", "type"), n)
    origins = pat["origin_date"].to_numpy().astype("datetime64[D]").tolist()
    ids = pat["patient_id"].tolist()
    synth = pat["synthetic"].tolist()
    treated = pat["treated"].tolist()
    base = [pat[c].tolist() for c in ("clasi_a_base", "clasi_d_base", "sledai_base")]
    for p in range(n):
        yield Course(
            patient_id=str(ids[p]),
            synthetic=bool(synth[p]),
            treated=bool(treated[p]),
            origin_date=_origin(origins[p]),
            clasi_a_base=_none(base[0][p]),
            clasi_d_base=_none(base[1][p]),
            sledai_base=_none(base[2][p]),
            visits=tuple(
                Visit(v_day[i], v_seq[i], _none(v_a[i]), _none(v_d[i]), _none(v_s[i]))
                for i in range(vb[p], vb[p + 1])
            ),
            doses=tuple(DoseChange(d_day[i], d_seq[i], d_rank[i]) for i in range(db[p], db[p + 1])),
            labs=tuple(
                LabResult(l_day[i], l_seq[i], IMMUNOLOGY_TESTS[l_test[i]], l_value[i])
                for i in range(lb[p], lb[p + 1])
            ),
            adverse_events=tuple(
                AdverseEvent(
                    a_seq[i],
                    str(a_term[i]),
                    a_start[i],
                    _none(a_end[i]),
                    _none(a_grade[i]),
                    None if a_cause[i] < 0 else CAUSALITY_TERMS[a_cause[i]],
                    None if a_ser[i] < 0 else bool(a_ser[i]),
                )
                for i in range(ab[p], ab[p + 1])
            ),
            events=tuple(
                StopEvent(e_day[i], e_seq[i], EVENT_TYPES[e_type[i]])
                for i in range(eb[p], eb[p + 1])
            ),
        )
