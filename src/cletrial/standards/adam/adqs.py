"""ADQS: the Skindex-29+3 domain scores by visit, with baseline and change from baseline.

One record per visit (the baseline and each assessment) and scored domain: ``PARAMCD`` the QS
test code of the domain score (``SKX29SYM`` symptoms, ``SKX29EMO`` emotions, ``SKX29FUN``
functioning, ``SKX3LUP`` lupus-specific), ``AVAL`` the score 0-100 as QS holds it (rounded to
2 decimals; :func:`cletrial.instruments.compute_skindex`), traced to that QS record
(``SRCDOM``/``SRCSEQ``). A domain with fewer than 75% of its items answered has no record:
missing stays missing. ``ABLFL`` marks the baseline visit's record; ``BASE`` is its score and
``CHG`` = ``AVAL`` - ``BASE`` on the later records (no ``CHG`` without a baseline score). The
dataset is built only when a subject has a Skindex-29+3 (:func:`has_skindex`).

>>> PARAMS["SKX3LUP"]
'Skindex-29+3 Lupus-Specific Score (0-100)'
"""

from __future__ import annotations

from typing import Any, Final

from cletrial.standards.adam._base import AdamInput, study_day, value_variable
from cletrial.standards.adam._bds import bds_spec, finish
from cletrial.standards.metadata import Dataset, DatasetSpec
from cletrial.standards.sdtm.scores_trial import TRIAL_SCORE_RULE, TRIAL_SCORE_TESTS
from cletrial.vocabulary import SKINDEX_DOMAIN

__all__ = ["PARAMS", "SKINDEX_SOURCES", "build_adqs", "has_skindex"]

_COLUMNS: Final = (
    "STUDYID", "USUBJID", "ASEQ", "PARAMCD", "PARAM", "AVAL", "BASE", "CHG", "ABLFL",
    "ANL01FL", "ADT", "ADY", "SRCDOM", "SRCVAR", "SRCSEQ",
)  # fmt: skip
#: Domain -> its QS test code.
_CODES: Final = {domain: TRIAL_SCORE_TESTS[domain][1] for domain in SKINDEX_DOMAIN.values}
PARAMS: Final = {
    TRIAL_SCORE_TESTS[domain][1]: f"{TRIAL_SCORE_TESTS[domain][2]} (0-100)"
    for domain in SKINDEX_DOMAIN.values
}
#: QS test code of a domain score -> the suffix of the history array it is the source of
#: (``baseline#SKX29SYM``, ``assessments#SKX29SYM``, ...).
SKINDEX_SOURCES: Final = {code: f"#{code}" for code in _CODES.values()}


def has_skindex(a: AdamInput) -> bool:
    """Whether any subject has a scored Skindex-29+3 domain (ADQS is then built)."""
    return any(v.skindex is not None for h in a.histories for v in _visits(h))


def _visits(history: Any) -> list[Any]:
    return ([history.baseline] if history.baseline is not None else []) + list(history.assessments)


def _patient(a: AdamInput, p: int) -> list[dict[str, Any]]:
    history, origin = a.histories[p], a.origins[p]
    out: list[dict[str, Any]] = []
    visits = [("baseline", 0, history.baseline)] if history.baseline is not None else []
    visits += [("assessments", i, v) for i, v in enumerate(history.assessments)]
    for array, index, visit in visits:
        if visit.skindex is None:
            continue
        day = None if origin is None else (visit.date - origin).days
        for domain, value in visit.skindex.as_dict().items():
            if value is None:
                continue
            code = _CODES[domain]
            dom, seq = a.sdtm(p, array + SKINDEX_SOURCES[code], index + 1)
            out.append({"p": p, "day": day, "PARAMCD": code, "AVAL": round(value, 2),
                        "ABLFL": "Y" if array == "baseline" else None, "ANL01FL": "Y",
                        "ADT": visit.date, "ADY": study_day(day, a.treated[p]),
                        "SRCDOM": dom, "SRCVAR": None if dom is None else value_variable(dom),
                        "SRCSEQ": seq})  # fmt: skip
    base = {r["PARAMCD"]: r["AVAL"] for r in out if r["ABLFL"] == "Y"}
    for r in out:
        r["BASE"] = base.get(r["PARAMCD"])
        if r["ABLFL"] is None and r["BASE"] is not None:
            r["CHG"] = round(r["AVAL"] - r["BASE"], 2)
    return out


def adqs_spec() -> DatasetSpec:
    """The ADQS specification."""
    labels = {
        "STUDYID": "Study Identifier", "USUBJID": "Unique Subject Identifier",
        "ASEQ": "Analysis Sequence Number", "PARAMCD": "Parameter Code", "PARAM": "Parameter",
        "AVAL": "Analysis Value", "BASE": "Baseline Value", "CHG": "Change from Baseline",
        "ABLFL": "Baseline Record Flag", "ANL01FL": "Analysis Flag 01",
        "ADT": "Analysis Date", "ADY": "Analysis Relative Day", "SRCDOM": "Source Data",
        "SRCVAR": "Source Variable", "SRCSEQ": "Source Sequence Number",
    }  # fmt: skip
    derived = {
        "ASEQ": "sequence of the subject's records by PARAMCD, ADT",
        "PARAMCD": "QSTESTCD of the Skindex-29+3 domain score",
        "PARAM": "the domain and the score's range",
        "AVAL": "QSSTRESN of the domain score: " + TRIAL_SCORE_RULE,
        "BASE": "AVAL of the baseline visit's record of the parameter",
        "CHG": "AVAL - BASE on the records after the baseline visit",
        "ABLFL": "Y on the baseline visit's record",
        "ANL01FL": "Y on every record (each is a scored domain of a visit)",
        "ADT": "date of the visit",
        "ADY": "ADT - TRTSDT + 1 on or after TRTSDT, else ADT - TRTSDT",
        "SRCDOM": "SDTM domain of the score (QS)",
        "SRCVAR": "SDTM result variable",
        "SRCSEQ": "QSSEQ of the domain score",
    }
    return bds_spec("ADQS", "Questionnaire Analysis Dataset", _COLUMNS, labels, derived,
                    ("STUDYID", "USUBJID", "PARAMCD", "ASEQ"))  # fmt: skip


def build_adqs(a: AdamInput) -> Dataset:
    """ADQS of the cohort ``a`` (the Skindex-29+3 domain scores)."""
    records = [r for p in range(len(a.histories)) for r in _patient(a, p)]
    return finish(a, adqs_spec(), records, PARAMS)
