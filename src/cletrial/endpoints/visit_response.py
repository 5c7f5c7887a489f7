"""CLASI response at each visit (SDTM RS): CR, PR, NR or NE against the baseline CLASI-A.

The protocol reviews the response at each visit (protocol specification, section 4: "each visit:
... response") with the thresholds of the endpoint rules (:class:`EndpointRules`, from the
protocol definition). At one visit, in this order:

1. CLASI-A not assessed: no response (no record; missing is never a response).
2. CLASI-A at most ``cr_max_activity`` (0): ``CR``.
3. Baseline CLASI-A missing or 0: ``NE`` (no improvement can be computed).
4. Improvement from baseline at least ``pr_min_improvement`` (50%): ``PR``.
5. Otherwise ``NR`` (improvement below the threshold, none, or worsening).

Best response over the course (:mod:`cletrial.endpoints.response`) adds the week-12 rule and
withdrawal; this module is the visit-level classification only, with the same thresholds and the
same order as the best response (CR before the baseline check).

>>> from cletrial.endpoints.course import course_from_history
>>> c = course_from_history({"patient_id": "P", "doses": [{"date": "2010-01-04",
...     "regimen": "5_daily"}],
...     "baseline": {"date": "2010-01-04", "clasi": {"activity": 10}},
...     "assessments": [{"date": "2010-02-01", "clasi": {"activity": 6}},
...                     {"date": "2010-03-01", "clasi": {"activity": 4}},
...                     {"date": "2010-03-29", "clasi": {"activity": 0}}]})
>>> [(r.seq, r.response, r.improvement_pct) for r in compute_visit_responses(c)]
[(1, 'NR', 40.0), (2, 'PR', 60.0), (3, 'CR', 100.0)]
"""

from __future__ import annotations

from dataclasses import dataclass

from cletrial.endpoints.course import Course
from cletrial.endpoints.rules import DEFAULT_RULES, RESPONSE_CODES, EndpointRules

__all__ = ["VISIT_RESPONSES", "VisitResponse", "compute_visit_responses"]

#: The categories of a visit's response, best first (a visit is not "withdrawn").
VISIT_RESPONSES = tuple(code for code in RESPONSE_CODES if code != "WITHDRAWN")


@dataclass(frozen=True, slots=True)
class VisitResponse:
    """The response at one post-baseline assessment.

    Attributes
    ----------
    seq : int
        1-based position of the assessment in the history's ``assessments``.
    day : int
        Day from the first dose.
    clasi_a : int
        CLASI-A at the visit.
    improvement_pct : float or None
        Percent improvement from baseline (``None`` when the baseline is missing or 0).
    response : str
        ``CR``, ``PR``, ``NR`` or ``NE``.
    """

    seq: int
    day: int
    clasi_a: int
    improvement_pct: float | None
    response: str


def compute_visit_responses(
    course: Course, rules: EndpointRules = DEFAULT_RULES
) -> list[VisitResponse]:
    """The response at each post-baseline assessment with a CLASI-A, in visit order.

    Parameters
    ----------
    course : Course
        From :func:`cletrial.endpoints.course.course_from_history`.
    rules : EndpointRules
        ``cr_max_activity`` and ``pr_min_improvement`` (a fraction, 0.5 for 50%).

    Returns
    -------
    list of VisitResponse
        One per assessed visit; a visit without CLASI-A has none.

    Examples
    --------
    >>> from cletrial.endpoints.course import course_from_history
    >>> c = course_from_history({"patient_id": "P",
    ...     "baseline": {"date": "2010-01-04", "clasi": {"activity": 0}},
    ...     "assessments": [{"date": "2010-02-01", "clasi": {"activity": 3}},
    ...                     {"date": "2010-03-01"}]})
    >>> [(r.response, r.improvement_pct) for r in compute_visit_responses(c)]
    [('NE', None)]
    """
    base = course.clasi_a_base
    out = []
    for visit in course.visits:
        if visit.clasi_a is None:
            continue
        gain = None if not base else (base - visit.clasi_a) / base * 100.0
        if visit.clasi_a <= rules.cr_max_activity:
            response = "CR"
        elif not base:  # missing or 0: no improvement to compute
            response = "NE"
        elif base - visit.clasi_a >= rules.pr_min_improvement * base:  # as the best response
            response = "PR"
        else:
            response = "NR"
        out.append(VisitResponse(visit.seq, visit.day, visit.clasi_a, gain, response))
    return out
