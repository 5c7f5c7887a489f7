"""ADAE: one record per adverse event of the histories (OCCURRENCE DATA STRUCTURE).

``TRTEMFL`` follows the engine's rule (:mod:`cletrial.endpoints.safety`: onset on or after the
first dose of a treated patient); ``AEREL`` is the CDISC term of the causality
(:data:`cletrial.vocabulary.AE_CAUSALITY`) and ``AREL`` RELATED / NOT RELATED by the rules'
related causalities; ``AETOXGR`` the CTCAE grade; ``AEOUT``
(:data:`~cletrial.vocabulary.AE_OUTCOME`) is FATAL for grade 5, RECOVERED/RESOLVED with an end
date, else NOT RECOVERED/NOT RESOLVED.
The history does not code terms, so there is no ``AEDECOD``.
"""

from __future__ import annotations

from typing import Any, Final

from cletrial.endpoints.rule_texts import rule_texts
from cletrial.standards.adam._base import AdamInput, date_variable, study_day
from cletrial.standards.adam._bds import bds_spec, finish
from cletrial.standards.metadata import Dataset, DatasetSpec
from cletrial.vocabulary import AE_CAUSALITY, AE_OUTCOME

__all__ = ["build_adae"]

_COLUMNS: Final = (
    "STUDYID",
    "USUBJID",
    "ASEQ",
    "AETERM",
    "ASTDT",
    "ASTDY",
    "AENDT",
    "AENDY",
    "AETOXGR",
    "ATOXGRN",
    "AEREL",
    "AREL",
    "AESER",
    "AEOUT",
    "TRTEMFL",
    "SRCDOM",
    "SRCVAR",
    "SRCSEQ",
)


def _outcome(grade: int, ended: bool) -> str:
    if grade == 5:
        return AE_OUTCOME.submission("fatal")
    return AE_OUTCOME.submission("recovered" if ended else "not_recovered")


def _records(a: AdamInput) -> list[dict[str, Any]]:
    related = set(a.rules.related_causalities)
    out = []
    for p, h in enumerate(a.histories):
        origin, treated = a.origins[p], a.treated[p]
        for i, ae in enumerate(h.adverse_events):
            start = None if origin is None else (ae.start - origin).days
            end = None if origin is None or ae.end is None else (ae.end - origin).days
            dom, seq = a.sdtm(p, "adverse_events", i + 1)
            cause = ae.causality
            out.append(
                {
                    "p": p,
                    "day": start,
                    "AETERM": ae.term,
                    "ASTDT": ae.start,
                    "ASTDY": study_day(start, treated),
                    "AENDT": ae.end,
                    "AENDY": study_day(end, treated),
                    "AETOXGR": str(ae.grade),
                    "ATOXGRN": float(ae.grade),
                    "AEREL": None if cause is None else AE_CAUSALITY.submission(cause),
                    "AREL": None
                    if cause is None
                    else ("RELATED" if cause in related else "NOT RELATED"),
                    "AESER": None if ae.serious is None else ("Y" if ae.serious else "N"),
                    "AEOUT": _outcome(ae.grade, ae.end is not None),
                    "TRTEMFL": "Y" if treated and start is not None and start >= 0 else "N",
                    "SRCDOM": dom,
                    "SRCVAR": None if dom is None else date_variable(dom),
                    "SRCSEQ": seq,
                }
            )
    return out


def adae_spec(a: AdamInput) -> DatasetSpec:
    """The ADAE specification."""
    texts = rule_texts(a.rules)
    labels = {
        "STUDYID": "Study Identifier",
        "USUBJID": "Unique Subject Identifier",
        "ASEQ": "Analysis Sequence Number",
        "AETERM": "Reported Term for the Adverse Event",
        "ASTDT": "Analysis Start Date",
        "ASTDY": "Analysis Start Relative Day",
        "AENDT": "Analysis End Date",
        "AENDY": "Analysis End Relative Day",
        "AETOXGR": "Standard Toxicity Grade",
        "ATOXGRN": "Analysis Toxicity Grade (N)",
        "AEREL": "Causality",
        "AREL": "Analysis Causality",
        "AESER": "Serious Event",
        "AEOUT": "Outcome of Adverse Event",
        "TRTEMFL": "Treatment Emergent Analysis Flag",
        "SRCDOM": "Source Data",
        "SRCVAR": "Source Variable",
        "SRCSEQ": "Source Sequence Number",
    }
    derived = {
        "ASEQ": "sequence of the subject's events by onset",
        "AETERM": "history term",
        "ASTDT": "onset date",
        "ASTDY": "ASTDT - TRTSDT + 1 on or after TRTSDT",
        "AENDT": "end date",
        "AENDY": "AENDT - TRTSDT + 1 on or after TRTSDT",
        "AETOXGR": "NCI CTCAE grade",
        "ATOXGRN": "AETOXGR as a number",
        "AEREL": "CDISC term of the causality",
        "AREL": texts["related"],
        "AESER": "Y when serious, N when not, missing when not recorded",
        "AEOUT": "FATAL for grade 5; RECOVERED/RESOLVED with an end date; else "
        "NOT RECOVERED/NOT RESOLVED",
        "TRTEMFL": texts["treatment_emergent"],
        "SRCDOM": "SDTM domain of the event",
        "SRCVAR": "SDTM onset date variable",
        "SRCSEQ": "AESEQ of the event",
    }
    return bds_spec(
        "ADAE",
        "Adverse Events Analysis Dataset",
        _COLUMNS,
        labels,
        derived,
        ("STUDYID", "USUBJID", "ASEQ"),
        "OCCURRENCE DATA STRUCTURE",
    )


def build_adae(a: AdamInput) -> Dataset:
    """ADAE of the cohort ``a``.

    >>> from cletrial.standards.adam import example_input
    >>> build_adae(example_input()).frame[["AETERM", "AEREL", "TRTEMFL", "SRCSEQ"]].values.tolist()
    [['Insomnia', 'PROBABLY RELATED', 'Y', 1.0]]
    """
    return finish(a, adae_spec(a), _records(a), {})
