"""A provisional SDTM source lookup numbering each history array as the SDTM ``--SEQ`` rule does.

The real lookup comes from the SDTM builders (:class:`cletrial.standards.sdtm.common.Provenance`
of each record). Until they are wired in, :func:`sequence_lookup` gives each record of a history
array the ``--SEQ`` that :func:`~cletrial.standards.sdtm.common.assign_seq` would give it in
one domain per array (baseline and assessments share ``QS``: one CLASI-A record a visit):

============== ======= ============ ==========
array          domain  date         topic
============== ======= ============ ==========
baseline       QS      date         CLASIA
assessments    QS      date         CLASIA
assessments    QS      date         CLAIGA (array ``assessments#CLAIGA``: graded visits)
baseline,      QS      date         SKX29SYM ... (arrays ``baseline#SKX29SYM``,
assessments                         ``assessments#SKX29SYM``, ...: visits with the domain scored)
doses          EX      date         regimen
labs           LB      date         test
adverse_events AE      start        term
events         DS      date         type
============== ======= ============ ==========

>>> look = sequence_lookup({"S-H-P1": {"baseline": {"date": "2009-03-02"},
...     "assessments": [{"date": "2009-03-30"}],
...     "adverse_events": [{"term": "Rash", "start": "2009-04-02", "grade": 1},
...                        {"term": "Acne", "start": "2009-04-02", "grade": 1}]}})
>>> look("S-H-P1", "assessments", 0), look("S-H-P1", "adverse_events", 0)
(('QS', 2), ('AE', 2))
>>> look("S-H-P1", "labs", 0) is None
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from cletrial.instruments import compute_skindex
from cletrial.standards.sdtm.common import assign_seq
from cletrial.standards.sdtm.scores_trial import TRIAL_SCORE_TESTS
from cletrial.vocabulary import SKINDEX_DOMAIN

__all__ = ["ARRAY_DOMAINS", "sequence_lookup"]

#: QS test code of each Skindex-29+3 domain score -> the domain.
_SKINDEX_CODES: Final = {TRIAL_SCORE_TESTS[d][1]: d for d in SKINDEX_DOMAIN.values}

#: History array -> (SDTM domain, date key, topic key or fixed topic).
ARRAY_DOMAINS: Final = {
    "baseline": ("QS", "date", "=CLASIA"),
    "assessments": ("QS", "date", "=CLASIA"),
    "assessments#CLAIGA": ("QS", "date", "=CLAIGA"),
    **{
        f"{array}#{code}": ("QS", "date", f"={code}")
        for array in ("baseline", "assessments")
        for code in _SKINDEX_CODES
    },
    "doses": ("EX", "date", "regimen"),
    "labs": ("LB", "date", "test"),
    "adverse_events": ("AE", "start", "term"),
    "events": ("DS", "date", "type"),
}


def _scored(visit: Any, code: str) -> bool:
    form = visit.get("skindex") if isinstance(visit, Mapping) else None
    return form is not None and compute_skindex(form).as_dict()[_SKINDEX_CODES[code]] is not None


def _records(history: Mapping[str, Any], array: str) -> list[Any]:
    if "#SKX" in array:  # a Skindex-29+3 domain score: the visits that have it
        base, code = array.split("#")
        return [v if _scored(v, code) else None for v in _records(history, base)]
    if array == "baseline":
        return [history["baseline"]] if history.get("baseline") else []
    if array == "assessments#CLAIGA":  # index = the visit's index; None when not graded
        return [v if v.get("cla_iga") is not None else None
                for v in history.get("assessments") or []]  # fmt: skip
    return list(history.get(array) or [])


def _number(history: Mapping[str, Any]) -> dict[tuple[str, int], tuple[str, int]]:
    by_domain: dict[str, list[dict[str, Any]]] = {}
    for array, (domain, date, topic) in ARRAY_DOMAINS.items():
        for index, record in enumerate(_records(history, array)):
            if record is None:
                continue
            value = topic[1:] if topic.startswith("=") else record.get(topic)
            by_domain.setdefault(domain, []).append(
                {"DTC": str(record.get(date) or ""), "TOPIC": value, "_key": (array, index)}
            )
    out = {}
    for domain, records in by_domain.items():
        for r in assign_seq(records, domain, date="DTC", topic="TOPIC"):
            out[r["_key"]] = (domain, r[f"{domain}SEQ"])
    return out


def sequence_lookup(
    histories: Mapping[str, Mapping[str, Any]],
) -> Callable[[str, str, int], tuple[str, int] | None]:
    """The lookup ``(usubjid, array, index) -> (domain, --SEQ)`` over ``histories``.

    Parameters
    ----------
    histories : mapping of str to dict
        Patient histories (``docs/formats.md``) keyed by ``USUBJID``.

    Returns
    -------
    callable
        Returns ``None`` for a record it does not know.
    """
    table = {
        (usubjid, array, index): found
        for usubjid, history in histories.items()
        for (array, index), found in _number(history).items()
    }
    return lambda usubjid, array, index: table.get((usubjid, array, index))
