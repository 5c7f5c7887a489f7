"""Laboratory tests: accepted units, conversion to the canonical unit, and plausibility limits.

The tests, their units and their limits are data (``cletrial/data/lab_analytes.yaml``); every
conversion factor is computed by `pint <https://pint.readthedocs.io>`_ from the unit
expressions declared there (pint is loaded on the first conversion, and each factor once).
Quantitative tests have a value and a unit; qualitative tests (ANA, anti-ENA, antiphospholipid
antibodies) have a result (``negative``, ``positive``, ``indeterminate``) and neither.

A value outside the *impossible* limits is refused with an error that names the allowed range and,
when the same number in another unit of the test would be plausible, suggests that unit (the
classic slip: 3800 neutrophils typed with ``10^9/L`` instead of ``/mm3``). A value outside the
*improbable* limits is accepted only when confirmed (:attr:`LabCheck.improbable`).

>>> to_canonical("neutrophils", 1190, "/mm3")
1.19
>>> check_lab_value("neutrophils", 3800, "10^9/L")
Traceback (most recent call last):
...
cletrial.errors.InputError: value = 3800: 3800 10^9/L is impossible for Neutrophils ...
>>> check = check_lab_value("neutrophils", 3.8, "/mm3")
>>> check.improbable, check.std_value, check.std_unit
(True, 0.0038, '10^9/L')
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

import msgspec
import yaml

from cletrial.errors import InputError
from cletrial.vocabulary import IMMUNOLOGY_RESULT

__all__ = [
    "ANALYTES",
    "LAB_RESULTS",
    "LAB_TESTS",
    "Analyte",
    "LabCheck",
    "check_lab_result",
    "check_lab_value",
    "lab_units",
    "prepare_unit_factors",
    "to_canonical",
    "unit_factor",
]

Bound = float | None


class _AnalyteDoc(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    label: str
    ctcae_term: str | None = None
    canonical_unit: str | None = None
    units: dict[str, str] = msgspec.field(default_factory=dict)
    impossible: tuple[Bound, Bound] = (None, None)
    improbable: tuple[Bound, Bound] = (None, None)
    results: tuple[str, ...] = ()


class _CatalogueDoc(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    format: str
    analytes: dict[str, _AnalyteDoc]
    definitions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Analyte:
    """One laboratory test of the catalogue.

    ``kind`` is ``quantitative`` (a value in one of ``units``; the first is the default a form
    offers) or ``qualitative`` (one of ``results``). Limits are ``(low, high)`` in the
    canonical unit, ``None`` for no bound on that side.
    """

    test: str
    label: str
    kind: str
    ctcae_term: str | None
    canonical_unit: str | None
    units: tuple[str, ...]
    results: tuple[str, ...]
    impossible: tuple[Bound, Bound]
    improbable: tuple[Bound, Bound]

    @property
    def default_unit(self) -> str | None:
        """The unit a form offers first (``None`` for a qualitative test)."""
        return self.units[0] if self.units else None


def _load() -> tuple[dict[str, Analyte], tuple[str, ...], dict[str, dict[str, str]]]:
    text = resources.files("cletrial").joinpath("data/lab_analytes.yaml").read_text("utf-8")
    doc = msgspec.convert(yaml.safe_load(text), _CatalogueDoc)
    if doc.format != "cletrial-analytes/1":
        raise ValueError(f"lab_analytes.yaml: format {doc.format!r} is not cletrial-analytes/1")
    analytes: dict[str, Analyte] = {}
    for test, a in doc.analytes.items():
        kind = "qualitative" if a.results else "quantitative"
        if (kind == "quantitative") == (not a.units or a.canonical_unit is None):
            raise ValueError(f"lab_analytes.yaml: {test} needs units and a canonical unit, "
                             "or results")  # fmt: skip
        analytes[test] = Analyte(test, a.label, kind, a.ctcae_term, a.canonical_unit,
                                 tuple(a.units), a.results, a.impossible, a.improbable)  # fmt: skip
    expressions = {test: dict(a.units) for test, a in doc.analytes.items()}
    return analytes, doc.definitions, expressions


_ANALYTES, _DEFINITIONS, _EXPRESSIONS = _load()

#: Test id -> :class:`Analyte`, in the catalogue's order (the order forms show them in).
ANALYTES: Final[dict[str, Analyte]] = _ANALYTES
#: Every test id, in form order.
LAB_TESTS: Final = tuple(ANALYTES)
#: Results of the qualitative tests.
LAB_RESULTS: Final = IMMUNOLOGY_RESULT.values


def _analyte(test: str, field: str = "test") -> Analyte:
    try:
        return ANALYTES[test]
    except (KeyError, TypeError):
        raise InputError(field, test, f"must be one of {', '.join(LAB_TESTS)}") from None


def lab_units(test: str) -> tuple[str, ...]:
    """The unit spellings accepted for ``test`` (empty for a qualitative test).

    >>> lab_units("c3")
    ('mg/dL', 'g/L')
    >>> lab_units("ana")
    ()
    """
    return _analyte(test).units


@cache
def _registry() -> Any:
    import pint

    registry: Any = pint.UnitRegistry()
    for definition in _DEFINITIONS:
        registry.define(definition)
    return registry


@cache
def unit_factor(test: str, unit: str) -> float:
    """The factor from ``unit`` to the canonical unit of ``test``, computed by pint.

    >>> unit_factor("hemoglobin", "g/L"), unit_factor("platelets", "/mm3")
    (0.1, 0.001)
    """
    analyte = _analyte(test)
    expressions = _EXPRESSIONS[test]
    if unit not in expressions or analyte.canonical_unit is None:
        raise InputError("unit", unit, _unit_problem(analyte))
    registry = _registry()
    canonical = expressions[analyte.canonical_unit]
    magnitude = registry.Quantity(1, expressions[unit]).to(canonical).magnitude
    return float(f"{magnitude:.12g}")


def prepare_unit_factors() -> int:
    """Compute (and cache) every unit factor now: pint's registry takes about half a second of
    CPU to build, which a server should spend at start, not on its first lab result.

    >>> prepare_unit_factors() > 10
    True
    """
    pairs = [(test, unit) for test, units in _EXPRESSIONS.items() for unit in units
             if _analyte(test).canonical_unit is not None]  # fmt: skip
    for test, unit in pairs:
        unit_factor(test, unit)
    return len(pairs)


def _unit_problem(analyte: Analyte) -> str:
    if analyte.kind == "qualitative":
        return f"{analyte.label} is a qualitative test: give a result, not a unit"
    return f"must be one of {', '.join(analyte.units)} for {analyte.label}"


def _number(field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(field, value, "must be a number")
    if not math.isfinite(value) or value < 0:
        raise InputError(field, value, "must be a finite number of 0 or more")
    return float(value)


def to_canonical(test: str, value: float, unit: str) -> float:
    """``value`` in ``unit`` converted to the canonical unit of ``test`` (rounded to 10 places).

    >>> to_canonical("hemoglobin", 6.206, "mmol/L"), to_canonical("c4", 0.2, "g/L")
    (10.0, 20.0)
    """
    return round(_number("value", value) * unit_factor(test, unit), 10)


@dataclass(frozen=True)
class LabCheck:
    """A checked value: in the canonical unit, and whether it is improbable (and why)."""

    std_value: float
    std_unit: str
    improbable: bool
    message: str = ""


def _outside(value: float, limits: tuple[Bound, Bound]) -> bool:
    low, high = limits
    return (low is not None and value < low) or (high is not None and value > high)


def _range(limits: tuple[Bound, Bound], unit: str) -> str:
    low, high = limits
    if low is not None and high is not None:
        return f"{low:g} to {high:g} {unit}"
    return f"at least {low:g} {unit}" if low is not None else f"at most {high:g} {unit}"


def _suggestion(analyte: Analyte, value: float, unit: str) -> str:
    """' Did you mean 3800 /mm3 (3.8 10^9/L)?' when another unit makes the value plausible."""
    for other in analyte.units:
        factor = unit_factor(analyte.test, other)
        if other == unit or factor == unit_factor(analyte.test, unit):
            continue
        converted = round(value * factor, 10)
        if not _outside(converted, analyte.improbable) and not _outside(
            converted, analyte.impossible
        ):
            shown = "" if factor == 1 else f" ({converted:g} {analyte.canonical_unit})"
            return f". Did you mean {value:g} {other}{shown}?"
    return ""


def check_lab_value(
    test: str, value: float, unit: str, *, field: str = "value", unit_field: str = "unit"
) -> LabCheck:
    """Check a quantitative result: a number, a unit of the test, not impossible.

    Parameters
    ----------
    test, value, unit
        The result as entered.
    field, unit_field : str
        The names the errors give the value and the unit (e.g. ``labs.value``).

    Returns
    -------
    LabCheck
        The value in the canonical unit; ``improbable`` when it lies outside the improbable
        limits (the caller must then have a recorded confirmation).

    Raises
    ------
    InputError
        Not a number, a unit the test does not use, or an impossible value (the message gives
        the allowed range and, when it fits, the unit probably meant).

    >>> check_lab_value("platelets", 250000, "10^9/L")
    Traceback (most recent call last):
    ...
    cletrial.errors.InputError: value = 250000: 250000 10^9/L is impossible for Platelets: ...
    >>> check_lab_value("platelets", 250000, "/mm3").std_value
    250.0
    """
    analyte = _analyte(test)
    number = _number(field, value)
    if unit not in _EXPRESSIONS[test] or analyte.kind != "quantitative":
        raise InputError(unit_field, unit, _unit_problem(analyte))
    canonical = analyte.canonical_unit
    assert canonical is not None
    std = round(number * unit_factor(test, unit), 10)
    where = analyte.label
    shown = f" ({std:g} {canonical})" if unit_factor(test, unit) != 1 else ""
    if _outside(std, analyte.impossible):
        raise InputError(
            field, value,
            f"{number:g} {unit}{shown} is impossible for {where}: it must be "
            f"{_range(analyte.impossible, canonical)}{_suggestion(analyte, number, unit)}",
        )  # fmt: skip
    if _outside(std, analyte.improbable):
        message = (
            f"{number:g} {unit}{shown} is improbable for {where}: expected "
            f"{_range(analyte.improbable, canonical)}{_suggestion(analyte, number, unit)} "
            ". Check it, and confirm it if it is right."
        )
        return LabCheck(std, canonical, True, message)
    return LabCheck(std, canonical, False)


def check_lab_result(test: str, result: Any, *, field: str = "result") -> str:
    """Check the result of a qualitative test.

    >>> check_lab_result("ana", "positive")
    'positive'
    >>> check_lab_result("ana", "weak")
    Traceback (most recent call last):
    ...
    cletrial.errors.InputError: result = "weak": must be negative, positive or indeterminate ...
    """
    analyte = _analyte(test)
    if analyte.kind != "qualitative":
        raise InputError(field, result, f"{analyte.label} is quantitative: give a value and a "
                         "unit, not a result")  # fmt: skip
    if result not in analyte.results:
        allowed = ", ".join(analyte.results[:-1]) + " or " + analyte.results[-1]
        raise InputError(field, result, f"must be {allowed} for {analyte.label}")
    return str(result)
