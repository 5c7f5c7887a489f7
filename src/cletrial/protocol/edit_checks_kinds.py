"""The kinds of edit check, each compiled once into a closure that scans one patient's forms.

A compiled check is ``emit(patient, findings)``: it reads the rows of its form from
:class:`~cletrial.protocol.edit_checks_runtime.PatientForms` and appends a
:class:`~cletrial.protocol.edit_checks_runtime.CheckFinding` for each record at fault. All the
work that does not depend on the patient (operators, conditions, ladder indices, the visit plan,
lab labels) is done here once; a missing value never fires a check (``required_if`` is the kind
that reports missing values). A value of the wrong type (not what the store holds) is skipped.

>>> from cletrial.protocol.definition import load_protocol
>>> from cletrial.protocol.definition_model import CompareCheck
>>> check = CompareCheck(id="AE-END", form="adverse_events", severity="error", field="end_date",
...                      op=">=", other="start_date", message="end {value} before start {other}")
>>> emit = compile_check(check, load_protocol())
>>> rows = [{"id": 7, "start_date": dt.date(2024, 1, 10), "end_date": dt.date(2024, 1, 3)}]
>>> findings = []; emit(PatientForms({"adverse_events": rows}, "off"), findings)
>>> findings[0].message, findings[0].field, findings[0].record_id
('end 2024-01-03 before start 2024-01-10', 'end_date', 7)
"""

from __future__ import annotations

import datetime as dt
import operator
from bisect import bisect_left
from collections.abc import Callable
from typing import Any, Final

from cletrial.instruments.analytes import ANALYTES
from cletrial.protocol.definition import ProtocolDefinition
from cletrial.protocol.definition_model import (
    ClasiDamageBelowBaselineCheck,
    CompareCheck,
    Condition,
    DoseStepCheck,
    EditCheck,
    RangeCheck,
    RequiredIfCheck,
    SledaiItemNeedsLabCheck,
    VisitWindowCheck,
)
from cletrial.protocol.edit_checks_runtime import (
    CheckFinding,
    PatientForms,
    Row,
    Template,
    has_between,
    show,
)

__all__ = ["Emit", "RowCheck", "compile_check", "compile_row_check"]

#: A compiled check: appends the findings of one patient's forms to the list.
Emit = Callable[[PatientForms, list[CheckFinding]], None]

#: A compiled check of a one-record kind: the record's finding, or ``None``.
RowCheck = Callable[[Row], "CheckFinding | None"]

_OPERATORS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne,
}  # fmt: skip

#: A SLEDAI-2K descriptor scored present (``1`` equals ``True``, should a driver return it).
_PRESENT: Final = (True,)


def _finding(check: EditCheck, row: Row, field: str | None, message: str) -> CheckFinding:
    record_id: int = row.get("id")  # type: ignore[assignment]
    return CheckFinding(check.id, check.severity, check.form, record_id, field, message)


def _matcher(condition: Condition) -> Callable[[Row], bool] | None:
    """``row -> bool`` for a condition (every column matches one of its values); None if empty."""
    if not condition:
        return None
    wanted = tuple(
        (column, frozenset(value) if isinstance(value, list) else frozenset([value]))
        for column, value in condition.items()
    )
    if len(wanted) == 1:  # the usual condition, e.g. ``{test: platelets}``
        ((only, accepted),) = wanted

        def match_one(row: Row) -> bool:
            return row.get(only) in accepted

        return match_one

    def match(row: Row) -> bool:
        return all(row.get(column) in values for column, values in wanted)

    return match


def _range(check: RangeCheck, _p: ProtocolDefinition) -> RowCheck:
    field, template = check.field, Template(check.message)
    low = -float("inf") if check.min is None else check.min
    high = float("inf") if check.max is None else check.max
    match = _matcher(check.where)
    values = {"field": field, "min": check.min, "max": check.max}

    def at_fault(row: Row) -> CheckFinding | None:
        value = row.get(field)
        if value is None:
            return None
        try:
            if low <= value <= high or (match is not None and not match(row)):
                return None
        except TypeError:
            return None
        message = template.render(row, {**values, "value": value})
        return _finding(check, row, field, message)

    return at_fault


def _required_if(check: RequiredIfCheck, _p: ProtocolDefinition) -> RowCheck:
    field, template = check.field, Template(check.message)
    match = _matcher(check.when)
    columns = tuple(check.when)

    def at_fault(row: Row) -> CheckFinding | None:
        value = row.get(field)
        if value is not None and (type(value) is not str or value.strip()):
            return None
        try:
            if match is not None and not match(row):
                return None
        except TypeError:
            return None
        when = " and ".join(f"{c} is {show(row.get(c))}" for c in columns)
        message = template.render(row, {"field": field, "value": None, "when": when})
        return _finding(check, row, field, message)

    return at_fault


def _compare(check: CompareCheck, _p: ProtocolDefinition) -> RowCheck:
    field, other, template = check.field, check.other, Template(check.message)
    op = _OPERATORS[check.op]
    values = {"field": field, "other_field": other, "op": check.op}

    def at_fault(row: Row) -> CheckFinding | None:
        one, two = row.get(field), row.get(other)
        if one is None or two is None:
            return None
        try:
            if op(one, two):
                return None
        except TypeError:
            return None
        message = template.render(row, {**values, "value": one, "other": two})
        return _finding(check, row, field, message)

    return at_fault


def _test_label(test: str) -> str:
    analyte = ANALYTES.get(test)
    return analyte.label if analyte is not None else test


def _sledai_item_needs_lab(check: SledaiItemNeedsLabCheck, _p: ProtocolDefinition) -> Emit:
    form, days, template = check.form, check.days, Template(check.message)
    items = tuple(
        (item, tuple(tests), " or ".join(_test_label(t) for t in tests), item.replace("_", " "))
        for item, tests in check.items.items()
    )

    def emit(patient: PatientForms, out: list[CheckFinding]) -> None:
        for row in patient.rows(form):
            for item, tests, tests_text, item_text in items:
                if row.get(item) not in _PRESENT:
                    continue
                visit = patient.visits_by_id().get(row.get("visit_id"))
                date = visit.get("visit_date") if visit is not None else None
                if not isinstance(date, dt.date):
                    continue  # the visit date is unknown: nothing to compare with
                high = date.toordinal()
                labs = patient.lab_days()
                if any(has_between(labs.get(test), high - days, high) for test in tests):
                    continue
                values = {"field": item, "value": True, "item": item_text, "tests": tests_text,
                          "visit_date": date, "window_start": dt.date.fromordinal(high - days),
                          "days": days}  # fmt: skip
                out.append(_finding(check, row, item, template.render(row, values)))

    return emit


def _visit_window(check: VisitWindowCheck, protocol: ProtocolDefinition) -> Emit:
    template = Template(check.message)
    plan = protocol.visit_plan[1:]  # (week, day, window) of each scheduled visit
    plan_days = [day for _week, day, _window in plan]

    def emit(patient: PatientForms, out: list[CheckFinding]) -> None:
        rows = patient.rows("visits")
        if not rows:
            return
        first = patient.first_dose()
        if first is None:
            return  # no first dose: the schedule is not anchored yet
        day0 = first.toordinal()
        for row in rows:
            date = row.get("visit_date")
            if row.get("kind") != "scheduled" or not isinstance(date, dt.date):
                continue
            day = date.toordinal() - day0
            i = bisect_left(plan_days, day)
            near = [plan[j] for j in (i - 1, i) if 0 <= j < len(plan)]
            if not near or any(abs(day - planned) <= window for _w, planned, window in near):
                continue
            week, planned, window = min(near, key=lambda p: abs(day - p[1]))
            target = dt.date.fromordinal(day0 + planned)
            values = {"field": "visit_date", "value": date, "day": day, "week": week,
                      "target": target, "window": window, "first_dose": first,
                      "window_start": dt.date.fromordinal(day0 + planned - window),
                      "window_end": dt.date.fromordinal(day0 + planned + window)}  # fmt: skip
            out.append(_finding(check, row, "visit_date", template.render(row, values)))

    return emit


def _clasi_damage_below_baseline(
    check: ClasiDamageBelowBaselineCheck, _p: ProtocolDefinition
) -> Emit:
    template, margin = Template(check.message), check.margin

    def emit(patient: PatientForms, out: list[CheckFinding]) -> None:
        rows = patient.rows("clasi_assessments")
        if len(rows) < 2:
            return
        baseline = patient.baseline_visit()
        if baseline is None:
            return
        base_id = baseline.get("id")
        base_row = next((r for r in rows if r.get("visit_id") == base_id), None)
        base = base_row.get("damage") if base_row is not None else None
        if base is None:
            return
        visits = patient.visits_by_id()
        for row in rows:
            damage = row.get("damage")
            if row is base_row or damage is None:
                continue
            try:
                if damage >= base - margin:
                    continue
            except TypeError:
                continue
            visit = visits.get(row.get("visit_id"))
            if visit is None:
                continue  # the visit (and so its notes) is not known
            notes = visit.get("notes")
            if notes is not None and (type(notes) is not str or notes.strip()):
                continue  # explained in the visit's notes
            values = {"field": "damage", "value": damage, "baseline": base, "margin": margin,
                      "baseline_date": baseline.get("visit_date"),
                      "visit_date": visit.get("visit_date")}  # fmt: skip
            out.append(_finding(check, row, "damage", template.render(row, values)))

    return emit


def _dose_step(check: DoseStepCheck, protocol: ProtocolDefinition) -> Emit:
    template, off_ladder = Template(check.message), Template(check.off_ladder_message)
    index, regimens, off = protocol.regimen_index, protocol.regimens, protocol.off
    cycle_start = {protocol.start, protocol.restart} if check.allow_cycle_start else set()
    max_steps, maximum = check.max_steps, protocol.file.maximum_dose_mg

    def start(row: Row) -> dt.date:
        value: dt.date = row["start_date"]
        return value

    def emit(patient: PatientForms, out: list[CheckFinding]) -> None:
        rows = patient.rows("doses")
        if not rows:
            return
        dated = sorted((r for r in rows if isinstance(r.get("start_date"), dt.date)), key=start)
        previous: int | None = off  # before the first dose: no treatment
        for row in dated:
            regimen = row.get("regimen")
            step = index.get(regimen) if type(regimen) is str else None
            if step is None:
                if regimen is not None:
                    values = {"field": "regimen", "value": regimen, "date": row["start_date"],
                              "maximum": maximum, "max_steps": max_steps}  # fmt: skip
                    out.append(_finding(check, row, "regimen", off_ladder.render(row, values)))
                previous = None
                continue
            if previous is not None and previous - step > max_steps and step not in cycle_start:
                values = {"field": "regimen", "value": regimen, "date": row["start_date"],
                          "maximum": maximum, "max_steps": max_steps, "steps": previous - step,
                          "previous": regimens[previous].id,
                          "schedule": regimens[step].schedule,
                          "previous_schedule": regimens[previous].schedule}  # fmt: skip
                out.append(_finding(check, row, "regimen", template.render(row, values)))
            previous = step

    return emit


#: The kinds that look at one record at a time: a record's finding depends on that record only.
_ROW_COMPILERS: Final[dict[type[Any], Callable[[Any, ProtocolDefinition], RowCheck]]] = {
    RangeCheck: _range,
    RequiredIfCheck: _required_if,
    CompareCheck: _compare,
}

#: The kinds that read across a patient's forms.
_COMPILERS: Final[dict[type[Any], Callable[[Any, ProtocolDefinition], Emit]]] = {
    SledaiItemNeedsLabCheck: _sledai_item_needs_lab,
    VisitWindowCheck: _visit_window,
    ClasiDamageBelowBaselineCheck: _clasi_damage_below_baseline,
    DoseStepCheck: _dose_step,
}


def compile_row_check(check: EditCheck, protocol: ProtocolDefinition) -> RowCheck | None:
    """Compile a declaration of a one-record kind into ``row -> finding or None``; ``None``
    for the kinds that read across forms (:func:`compile_check` compiles every kind).

    >>> from cletrial.protocol.definition import load_protocol
    >>> protocol = load_protocol()
    >>> [check.id for check in protocol.edit_checks
    ...  if compile_row_check(check, protocol) is None]
    ['SLEDAI-ITEM-LAB', 'VISIT-OUT-OF-WINDOW', 'CLASI-DAMAGE-IMPROVED', 'DOSE-STEP-UP']
    """
    compiler = _ROW_COMPILERS.get(type(check))
    return compiler(check, protocol) if compiler is not None else None


def compile_check(check: EditCheck, protocol: ProtocolDefinition) -> Emit:
    """Compile one validated declaration of ``protocol`` into its ``emit`` closure."""
    at_fault = compile_row_check(check, protocol)
    if at_fault is None:
        return _COMPILERS[type(check)](check, protocol)
    form = check.form

    def emit(patient: PatientForms, out: list[CheckFinding]) -> None:
        for row in patient.rows(form):
            finding = at_fault(row)
            if finding is not None:
                out.append(finding)

    return emit
