"""NCI CTCAE grading of the laboratory terms the protocol monitors.

Source: NCI Common Terminology Criteria for Adverse Events v5.0 (2017); the thresholds of these four
terms are the same in v4.0. CTCAE v3.0 differs for haemoglobin (grade 3 < 8.0 - 6.5 g/dL, grade 4
< 6.5 g/dL). Facts as collected in ``shared/spec/instruments.md``.

A value exactly on a threshold falls in the milder grade (ANC 1.0 x10^9/L is grade 2, 0.5 is
grade 3). Grade 1 starts below the laboratory's lower limit of normal (LLN); when no LLN is given,
the default of :data:`DEFAULT_LLN` is used and the result says so (``lln_source == "default"``).
Grade 4 anaemia in v5.0 is clinical (life-threatening consequences), so a haemoglobin value alone
grades at most 3 there.

>>> grade_lab("neutrophil_count_decreased", 1190, "/mm3").grade
2
>>> grade_lab("neutrophil_count_decreased", 1.0, "10^9/L").grade
2
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final, Literal

from cletrial.errors import InputError
from cletrial.instruments.analytes import ANALYTES, unit_factor

__all__ = [
    "CTCAE_TERMS",
    "CTCAE_VERSIONS",
    "DEFAULT_LLN",
    "CtcaeGrade",
    "convert_lab_value",
    "convert_to_unit",
    "grade_lab",
]

CtcaeVersion = Literal["5.0", "3.0"]
CTCAE_VERSIONS: Final = ("5.0", "3.0")


@dataclass(frozen=True)
class LabTerm:
    """Grading rule of one CTCAE laboratory term.

    ``test`` is the laboratory test of :mod:`cletrial.instruments.analytes` it grades, whose
    units and conversions it uses. ``thresholds`` lists ``(bound, grade)`` from the most severe:
    a value strictly below ``bound`` has that grade. Below the LLN but above every bound is
    grade 1.
    """

    term: str
    label: str
    test: str
    default_lln: float
    thresholds: dict[str, tuple[tuple[float, int], ...]]

    @property
    def canonical_unit(self) -> str:
        """The unit of the thresholds (the canonical unit of the test: 10^9/L or g/dL)."""
        unit = ANALYTES[self.test].canonical_unit
        assert unit is not None
        return unit

    @property
    def units(self) -> tuple[str, ...]:
        """The unit spellings accepted (those of the test in the analyte catalogue)."""
        return ANALYTES[self.test].units


_COUNTS_SAME_IN_VERSIONS = ("5.0", "3.0")

#: The four terms. Default LLNs are typical adult (female) reference limits, used only when the
#: laboratory's own LLN is not given; every result reports which was used.
CTCAE_TERMS: Final[dict[str, LabTerm]] = {
    "neutrophil_count_decreased": LabTerm(
        "neutrophil_count_decreased", "Neutrophil count decreased", "neutrophils", 2.0,
        dict.fromkeys(_COUNTS_SAME_IN_VERSIONS, ((0.5, 4), (1.0, 3), (1.5, 2))),
    ),
    "white_blood_cell_decreased": LabTerm(
        "white_blood_cell_decreased", "White blood cell decreased", "wbc", 4.0,
        dict.fromkeys(_COUNTS_SAME_IN_VERSIONS, ((1.0, 4), (2.0, 3), (3.0, 2))),
    ),
    "platelet_count_decreased": LabTerm(
        "platelet_count_decreased", "Platelet count decreased", "platelets", 150.0,
        dict.fromkeys(_COUNTS_SAME_IN_VERSIONS, ((25.0, 4), (50.0, 3), (75.0, 2))),
    ),
    "anemia": LabTerm(
        "anemia", "Anemia", "hemoglobin", 12.0,
        {"5.0": ((8.0, 3), (10.0, 2)), "3.0": ((6.5, 4), (8.0, 3), (10.0, 2))},
    ),
}  # fmt: skip

#: Term -> default lower limit of normal, in the canonical unit.
DEFAULT_LLN: Final[dict[str, float]] = {k: v.default_lln for k, v in CTCAE_TERMS.items()}


@dataclass(frozen=True)
class CtcaeGrade:
    """A CTCAE grade with what it was computed from.

    ``value`` and ``lln_used`` are in ``unit`` (the unit the value was given in).
    """

    term: str
    grade: int
    ctcae_version: str
    value: float
    unit: str
    lln_used: float
    lln_source: Literal["given", "default"]
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Return the public JSON shape of the grade."""
        out: dict[str, Any] = {
            "term": self.term,
            "grade": self.grade,
            "ctcae_version": self.ctcae_version,
            "lln_used": self.lln_used,
            "lln_source": self.lln_source,
            "value": self.value,
            "unit": self.unit,
        }
        if self.note:
            out["note"] = self.note
        return out


def _term(term: str) -> LabTerm:
    try:
        return CTCAE_TERMS[term]
    except KeyError:
        raise InputError("term", term, f"must be one of {', '.join(CTCAE_TERMS)}") from None


def _check_number(field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(field, value, "must be a number")
    if math.isnan(value) or math.isinf(value) or value < 0:
        raise InputError(field, value, "must be a finite number >= 0")
    return float(value)


def convert_lab_value(term: str, value: float, unit: str) -> float:
    """Convert ``value`` in ``unit`` to the term's canonical unit (10^9/L or g/dL).

    >>> convert_lab_value("neutrophil_count_decreased", 1190, "/mm3")
    1.19
    >>> round(convert_lab_value("anemia", 6.206, "mmol/L"), 3)
    10.0
    """
    spec = _term(term)
    number = _check_number("value", value)
    if unit not in spec.units:
        raise InputError("unit", unit, f"must be one of {', '.join(spec.units)} for {term}")
    return round(number * unit_factor(spec.test, unit), 10)


def convert_to_unit(term: str, canonical_value: float, unit: str) -> float:
    """Convert a value in the canonical unit back to ``unit``.

    >>> convert_to_unit("neutrophil_count_decreased", 2.0, "/mm3")
    2000.0
    """
    spec = _term(term)
    if unit not in spec.units:
        raise InputError("unit", unit, f"must be one of {', '.join(spec.units)} for {term}")
    return round(canonical_value / unit_factor(spec.test, unit), 10)


def grade_lab(
    term: str,
    value: float,
    unit: str,
    *,
    lln: float | None = None,
    version: str = "5.0",
) -> CtcaeGrade:
    """Grade a laboratory value under NCI CTCAE.

    Parameters
    ----------
    term : str
        ``neutrophil_count_decreased``, ``white_blood_cell_decreased``,
        ``platelet_count_decreased`` or ``anemia``.
    value : float
        The measured value (>= 0) in ``unit``.
    unit : str
        Counts: ``10^9/L`` (= ``10^3/uL``), ``/mm3`` (= ``/uL``). Haemoglobin: ``g/dL``, ``g/L``,
        ``mmol/L``.
    lln : float, optional
        The laboratory's lower limit of normal, in the same unit as ``value``. Without it the
        default of :data:`DEFAULT_LLN` is used and reported.
    version : {"5.0", "3.0"}
        CTCAE version; they differ only for haemoglobin.

    Returns
    -------
    CtcaeGrade
        Grade 0 (not below the LLN) to 4.

    Examples
    --------
    >>> grade_lab("platelet_count_decreased", 50, "10^9/L").grade
    2
    >>> grade_lab("anemia", 70, "g/L", version="3.0").grade
    3
    >>> grade_lab("white_blood_cell_decreased", 3.5, "10^9/L", lln=3.2).grade
    0
    """
    spec = _term(term)
    if version not in CTCAE_VERSIONS:
        raise InputError("ctcae_version", version, "must be 5.0 or 3.0")
    canonical = convert_lab_value(term, value, unit)
    if lln is None:
        lln_canonical, source = spec.default_lln, "default"
    else:
        lln_canonical, source = convert_lab_value(term, _check_number("lln", lln), unit), "given"
    grade = 1 if canonical < lln_canonical else 0
    for bound, severe_grade in spec.thresholds[version]:
        if canonical < bound:
            grade = severe_grade
            break
    note = ""
    if term == "anemia" and version == "5.0" and grade == 3:
        note = "grade 4 anemia is clinical (life-threatening consequences): not from a value alone"
    return CtcaeGrade(
        term=term,
        grade=grade,
        ctcae_version=version,
        value=float(value),
        unit=unit,
        lln_used=convert_to_unit(term, lln_canonical, unit) if source == "default" else float(lln),  # type: ignore[arg-type]
        lln_source=source,  # type: ignore[arg-type]
        note=note,
    )
