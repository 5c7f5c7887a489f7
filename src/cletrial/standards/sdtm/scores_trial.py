"""SDTM QS records of the CLA-IGA grade and the Skindex-29+3 (item numbers and domain scores).

One record for the grade, one per answered Skindex-29+3 item (by number: the copyrighted item
text is never written) and one per scored domain (``QSDRVFL`` = ``Y``). An unanswered item has
no record, and so has a domain with fewer than 75% of its items answered
(:func:`cletrial.instruments.compute_skindex`): missing stays missing.

=============  =========================  =================================================
QSCAT          QSTESTCD                   meaning
=============  =========================  =================================================
CLA-IGA        ``CLAIGA``                 grade 0 clear ... 4 severe
SKINDEX-29+3   ``SKX01`` .. ``SKX33``     response to item 1 ... 33 (1 never ... 5 all the
                                          time)
SKINDEX-29+3   ``SKX29SYM``, ``SKX29EMO``,  domain score 0-100 (derived, 2 decimals):
               ``SKX29FUN``, ``SKX3LUP``  symptoms, emotions, functioning, lupus-specific
=============  =========================  =================================================

>>> [r[1] for r in trial_score_items({"cla_iga": 2, "skindex": {"31": 4, "32": 4, "33": 5}})]
['CLAIGA', 'SKX31', 'SKX32', 'SKX33', 'SKX3LUP']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from cletrial.instruments import SKINDEX_ITEMS, compute_skindex, validate_cla_iga
from cletrial.vocabulary import SKINDEX_DOMAIN

__all__ = ["CLA_IGA_QSCAT", "SKINDEX_QSCAT", "TRIAL_SCORE_TESTS", "trial_score_items"]

CLA_IGA_QSCAT: Final = "CLA-IGA"
SKINDEX_QSCAT: Final = "SKINDEX-29+3"
_DOMAIN_TESTS: Final = dict(zip(SKINDEX_DOMAIN.values, (
    ("SKX29SYM", "Skindex-29 Symptoms Score"), ("SKX29EMO", "Skindex-29 Emotions Score"),
    ("SKX29FUN", "Skindex-29 Functioning Score"), ("SKX3LUP", "Skindex-29+3 Lupus-Specific Score"),
), strict=True))  # fmt: skip

#: Key (``cla_iga``, an item number, a domain) -> (QSCAT, QSTESTCD, QSTEST).
TRIAL_SCORE_TESTS: Final[dict[str, tuple[str, str, str]]] = {
    "cla_iga": (CLA_IGA_QSCAT, "CLAIGA", "CLA-IGA Grade"),
    **{str(i): (SKINDEX_QSCAT, f"SKX{i:02d}", f"Skindex-29+3 Item {i}") for i in SKINDEX_ITEMS},
    **{domain: (SKINDEX_QSCAT, *test) for domain, test in _DOMAIN_TESTS.items()},
}  # fmt: skip

#: How the derived records are computed (``QSDRVFL`` = ``Y``).
TRIAL_SCORE_RULE: Final = (
    "SKX29SYM, SKX29EMO, SKX29FUN, SKX3LUP: mean of the domain's answered items, each response "
    "1-5 transformed to 0, 25, 50, 75, 100, rounded to 2 decimals; no record when fewer than "
    "75% of the domain's items are answered (cletrial.instruments.compute_skindex)."
)

Item = tuple[str, str, str, str, float, bool]


def trial_score_items(visit: Mapping[str, Any]) -> list[Item]:
    """(QSCAT, QSTESTCD, QSTEST, QSORRES, QSSTRESN, derived) of a visit's CLA-IGA and
    Skindex-29+3, in form order (grade, items by number, then domains).

    Raises
    ------
    cletrial.errors.FormError
        A grade or response that does not validate (naming it and the value).
    """
    out: list[Item] = []
    if visit.get("cla_iga") is not None:
        grade = validate_cla_iga(visit["cla_iga"])
        out.append((*TRIAL_SCORE_TESTS["cla_iga"], str(grade), float(grade), False))
    form = visit.get("skindex")
    if form is None:
        return out
    score = compute_skindex(form)
    for item in SKINDEX_ITEMS:
        value = form.get(str(item))
        if value is not None:
            out.append((*TRIAL_SCORE_TESTS[str(item)], str(value), float(value), False))
    for domain, value in score.as_dict().items():
        if value is not None:
            shown = round(value, 2)
            out.append((*TRIAL_SCORE_TESTS[domain], f"{shown:g}", shown, True))
    return out
