"""Shared pieces of the claims audit: the claim record, the outcome of a check, row filters and
the comparison of a printed figure with a recomputed one (see :mod:`cletrial.analysis.claims`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any, Final, Literal

from cletrial.analysis.reference import ReferenceStudy
from cletrial.errors import InputError

Status = Literal["consistent", "inconsistent", "not reproducible"]
STATUSES: Final[tuple[Status, ...]] = ("consistent", "inconsistent", "not reproducible")


@dataclass(frozen=True)
class ClaimSpec:
    """One claim as declared in ``claims.yaml``: where it stands, what was printed, how to check."""

    id: str
    section: str
    claim: str
    reported_text: str
    reported: dict[str, Decimal]
    check: str
    args: dict[str, Any]
    note: str = ""

    def number(self, key: str) -> Decimal:
        """The printed value ``key``; a claim declared without it is a definition error."""
        try:
            return self.reported[key]
        except KeyError:
            raise InputError(
                f"claims.{self.id}.reported.{key}", None, "is required by the check"
            ) from None


@dataclass(frozen=True)
class Outcome:
    """What a check found: the recomputed figure (text and numbers), a status, one line of why."""

    recomputed_text: str
    recomputed: dict[str, Any]
    status: Status
    explanation: str


@dataclass
class AuditContext:
    """The study under audit and the claims already checked (a check may cite another claim)."""

    study: ReferenceStudy
    specs: dict[str, ClaimSpec] = field(default_factory=dict)


Match = Literal["exact", "rounded", "truncated"]


def compare(printed: Decimal, value: float) -> Match | None:
    """How ``value`` reproduces ``printed`` at the printed precision, or None if it does not.

    ``rounded`` means rounding half up gives the printed figure; ``truncated`` that only cutting
    off the digits does (the paper appears to truncate some figures, e.g. 2.968 printed 2.96).

    >>> compare(Decimal("2.96"), 2.968), compare(Decimal("86"), 85.71), compare(Decimal("6"), 4.0)
    ('truncated', 'rounded', None)
    """
    exponent = printed.as_tuple().exponent
    quantum = Decimal(1).scaleb(exponent if isinstance(exponent, int) else 0)
    exact = Decimal(repr(float(value)))
    if exact == printed:
        return "exact"
    if exact.quantize(quantum, rounding=ROUND_HALF_UP) == printed:
        return "rounded"
    if exact.quantize(quantum, rounding=ROUND_DOWN) == printed:
        return "truncated"
    return None


def _condition(value: Any, test: Any) -> bool:
    if not isinstance(test, Mapping):
        return bool(value == test)
    (op, operand), *rest = test.items()
    if rest:
        return _condition(value, {op: operand}) and _condition(value, dict(rest))
    ops: dict[str, Any] = {
        "in": lambda: value in operand,
        "not": lambda: value != operand,
        "contains": lambda: operand in (value or ()),
        "contains_any": lambda: any(o in (value or ()) for o in operand),
        "present": lambda: (value is not None) == bool(operand),
        "le": lambda: value is not None and value <= operand,
        "ge": lambda: value is not None and value >= operand,
    }
    if op not in ops:
        raise InputError("where", test, f"operator must be one of {', '.join(ops)}")
    return bool(ops[op]())


def select(rows: list[dict[str, Any]], where: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Rows matching every condition of ``where`` (column -> value or {operator: operand}).

    Operators: ``in``, ``not``, ``contains``, ``contains_any``, ``present``, ``le``, ``ge``;
    a bare value means equality.

    >>> select([{"a": 1}, {"a": 2}, {"a": None}], {"a": {"ge": 2}})
    [{'a': 2}]
    """
    if not where:
        return list(rows)
    for column in where:
        if rows and column not in rows[0]:
            raise InputError("where", column, f"must name a column: {', '.join(rows[0])}")
    return [row for row in rows if all(_condition(row[c], t) for c, t in where.items())]


def describe_where(where: Mapping[str, Any] | None) -> str:
    """Readable form of a filter: ``subtype = DLE, outcome = CR``.

    >>> describe_where({"subtype": {"in": ["DLE", "SCLE"]}, "outcome": "CR"})
    'subtype in DLE/SCLE, outcome = CR'
    """
    if not where:
        return "all rows"
    parts = []
    for column, test in where.items():
        if isinstance(test, Mapping):
            for op, operand in test.items():
                shown = "/".join(map(str, operand)) if isinstance(operand, list) else operand
                parts.append(f"{column} {op.replace('_', ' ')} {shown}")
        else:
            parts.append(f"{column} = {test}")
    return ", ".join(parts)


def patients_of(rows: list[dict[str, Any]], of: int | None = None) -> str:
    """``patients 1, 2, 4`` (``no patient``; ``all 15 patients`` when ``of`` rows all match).

    >>> rows = [{"patient": 1}, {"patient": 4}]
    >>> patients_of(rows), patients_of(rows, of=2)
    ('patients 1, 4', 'all 2 patients')
    """
    numbers = sorted({row["patient"] for row in rows})
    if not numbers:
        return "no patient"
    if of is not None and len(rows) == of:
        return f"all {len(numbers)} patients"
    label = "patient" if len(numbers) == 1 else "patients"
    return f"{label} {', '.join(map(str, numbers))}"


def fmt(value: float | int | Decimal, decimals: int = 2) -> str:
    """Compact number: integers plain, others to ``decimals`` (trailing zeros dropped).

    >>> fmt(15), fmt(10.9333, 2), fmt(4.0, 2)
    ('15', '10.93', '4')
    """
    if isinstance(value, Decimal):
        return str(value)
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.{decimals}f}".rstrip("0").rstrip(".")
