"""CLA-IGA: Cutaneous Lupus Activity Investigator's Global Assessment.

What is verified, and from where:

* The instrument exists under this name and is a recommended physician-reported outcome of the
  working core outcome set for CLE trials, "complementary to CLASI, pending ongoing validation"
  (Guo LN, Perez-Chada LM, Borucki R, Nambudiri VE, Werth VP, Merola JF. Lupus Sci Med
  2021;8:e000529, table 1). A revised form, the CLA-IGA-R, is a primary endpoint of the phase 3
  litifilimab (BIIB059) trials in SCLE/CCLE (trial registration NCT05531565).

What is a stated default (not verified through a published source here):

* The five levels and their short labels, 0 clear, 1 almost clear, 2 mild, 3 moderate,
  4 severe (the usual five-point dermatology IGA; the exact anchor wording of the CLA-IGA is not
  reproduced, nor is it needed: only the grade is stored). The labels live in the vocabulary
  (:data:`cletrial.vocabulary.CLA_IGA_GRADE`).
* "IGA success" (:func:`compute_cla_iga_success`): a grade of 0 or 1 *and* an improvement of at
  least 2 grades from baseline, the usual IGA success rule of dermatology trials. Both thresholds
  are parameters, so an analysis plan can state its own.

A grade is an integer 0-4; a blank (``None``), a boolean, text or any other number is refused
with a :class:`~cletrial.errors.FormError` naming the field and the value.

>>> validate_cla_iga(3)
3
>>> compute_cla_iga_success(3, 1), compute_cla_iga_success(2, 1), compute_cla_iga_success(3, None)
(True, False, None)
"""

from __future__ import annotations

from typing import Any, Final

from cletrial.errors import FormError
from cletrial.instruments._validation import format_choices
from cletrial.vocabulary import CLA_IGA_GRADE

__all__ = [
    "CLA_IGA_GRADES",
    "CLA_IGA_MAX",
    "IGA_SUCCESS_MAX_GRADE",
    "IGA_SUCCESS_MIN_IMPROVEMENT",
    "compute_cla_iga_success",
    "validate_cla_iga",
]

#: The grades, best first (0 clear ... 4 severe).
CLA_IGA_GRADES: Final[tuple[int, ...]] = tuple(int(t.value) for t in CLA_IGA_GRADE.terms)
CLA_IGA_MAX: Final = max(CLA_IGA_GRADES)
#: Stated default of "IGA success": the grade reached is at most this (clear or almost clear) ...
IGA_SUCCESS_MAX_GRADE: Final = 1
#: ... and it is at least this many grades below the baseline grade.
IGA_SUCCESS_MIN_IMPROVEMENT: Final = 2

_LEGEND: Final = ", ".join(f"{t.value} {t.decode.lower()}" for t in CLA_IGA_GRADE.terms)


def validate_cla_iga(value: Any, field: str = "cla_iga") -> int:
    """Return a CLA-IGA grade (0-4), refusing a blank or any other value.

    Parameters
    ----------
    value : Any
        The grade as entered (decoded JSON).
    field : str
        The field path named in the error.

    Raises
    ------
    FormError
        ``cla_iga = 5: must be 0, 1, 2, 3 or 4 (0 clear, ...)``; a blank is refused too.

    >>> validate_cla_iga(5)
    Traceback (most recent call last):
    ...
    cletrial.errors.FormError: cla_iga = 5: must be 0, 1, 2, 3 or 4 (0 clear, 1 almost clear, ...
    >>> validate_cla_iga(None)
    Traceback (most recent call last):
    ...
    cletrial.errors.FormError: cla_iga = null: must be 0, 1, 2, 3 or 4, not blank (omit ...)
    """
    choices = format_choices(CLA_IGA_GRADES)
    if value is None:
        raise FormError(
            field, None, f"must be {choices}, not blank (omit the CLA-IGA when not assessed)"
        )
    if type(value) is not int or value not in CLA_IGA_GRADES:
        raise FormError(field, value, f"must be {choices} ({_LEGEND})")
    return value


def compute_cla_iga_success(
    baseline: int | None,
    value: int | None,
    *,
    max_grade: int = IGA_SUCCESS_MAX_GRADE,
    min_improvement: int = IGA_SUCCESS_MIN_IMPROVEMENT,
) -> bool | None:
    """IGA success: ``value <= max_grade`` and ``baseline - value >= min_improvement``.

    Parameters
    ----------
    baseline, value : int or None
        The baseline grade and the grade at the visit (0-4); None = not assessed.
    max_grade, min_improvement : int
        The rule's thresholds (stated defaults 1 and 2, see the module docstring).

    Returns
    -------
    bool or None
        None when either grade is missing: missing is never a failure (non-responder
        imputation is the analysis's explicit choice, :mod:`cletrial.endpoints.trial`).

    >>> compute_cla_iga_success(4, 2), compute_cla_iga_success(2, 0)
    (False, True)
    >>> compute_cla_iga_success(4, 2, max_grade=2)
    True
    """
    if baseline is None or value is None:
        return None
    base = validate_cla_iga(baseline, "baseline")
    grade = validate_cla_iga(value, "value")
    return grade <= max_grade and base - grade >= min_improvement
