"""ADaM datasets (ADaMIG 1.3) rebuilt on SDTM: ADSL, ADRS, ADTTE, ADAE and ADLB.

The endpoint derivations stay the one engine (:func:`cletrial.endpoints.derive_endpoints` over
the histories); ADaM is their output, identified and traced as SDTM identifies the records.
Pure: no storage, no web.

Contract with the SDTM builders (:mod:`cletrial.standards.sdtm`)
-----------------------------------------------------------------

``build_adam(dm, histories, source, rules=DEFAULT_RULES) -> dict[str, Dataset]``

``dm`` : :class:`~cletrial.standards.metadata.Dataset`
    The SDTM DM dataset with the SDTMIG 3.4 variables ``STUDYID``, ``USUBJID``
    (``STUDYID-SITEID-SUBJID``), ``SUBJID``, ``SITEID``, ``AGE``, ``AGEU``, ``SEX``, ``ARM``,
    ``ACTARM`` (others, such as ``ARMCD``, ``RFSTDTC``, ``RFXENDTC``, ``DTHFL``, may be present
    and are not read). ADSL has one record per DM subject; the ADaM ``USUBJID`` is DM's.
``histories`` : mapping of USUBJID to history
    Each subject's patient history (a dict in the ``docs/formats.md`` format, or a parsed
    :class:`~cletrial.protocol.history.PatientHistory`); the keys are exactly DM's subjects
    (a :class:`~cletrial.errors.StandardsError` names the first one that is not). The order of
    the mapping is the record order of every dataset.
``source`` : callable ``(usubjid, array, index) -> (domain, seq) | None``
    Where each history record went in SDTM: ``array`` is the history array (``assessments``,
    ``doses``, ``labs``, ``adverse_events``, ``events``; ``baseline`` with index 0 for the
    baseline visit), ``index`` its 0-based position, and the answer the SDTM domain and the
    record's ``--SEQ`` (``assign_seq`` order). ``SRCDOM``/``SRCSEQ`` are these; ``SRCVAR`` is the
    domain's result variable (``QSSTRESN``, ``LBSTRESN``) or start date (``AESTDTC``,
    ``EXSTDTC``). A record the lookup does not know is an error: every ``SRCSEQ`` resolves.
    :func:`~cletrial.standards.adam.lookup.sequence_lookup` is a provisional lookup that
    numbers the arrays as the SDTM rule would, until the SDTM builders' provenance is wired in.
``rules`` : :class:`~cletrial.endpoints.EndpointRules`
    The endpoint rules in force; derivation texts are taken from them
    (:func:`cletrial.endpoints.rule_texts.rule_texts`).

Returns ``{"ADSL", "ADRS", "ADTTE", "ADAE", "ADLB"}`` datasets, each checked
(:meth:`~cletrial.standards.metadata.Dataset.check`): dates are ``sas_date`` (``TRTSDT``,
``TRTEDT``, ``ADT``, ``STARTDT``, ``ASTDT``, ``AENDT``), times in days, flags ``Y``/``N``.

>>> adam = build_adam(*example_arguments())
>>> sorted(adam)
['ADAE', 'ADLB', 'ADRS', 'ADSL', 'ADTTE']
>>> adam["ADTTE"].frame[["PARAMCD", "AVAL", "CNSR", "SRCDOM", "SRCSEQ"]].values.tolist()
[['TTCR', 28.0, 0.0, 'QS', 2.0], ['RFS', 32.0, 1.0, 'QS', 3.0]]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cletrial.endpoints.rules import DEFAULT_RULES, EndpointRules
from cletrial.endpoints.trial import TrialEndpointRules
from cletrial.protocol.history import PatientHistory
from cletrial.standards.adam._base import AdamInput, Source
from cletrial.standards.adam.adae import build_adae
from cletrial.standards.adam.adlb import build_adlb
from cletrial.standards.adam.adqs import build_adqs, has_skindex
from cletrial.standards.adam.adrs import build_adrs
from cletrial.standards.adam.adsl import build_adsl
from cletrial.standards.adam.adtte import build_adtte
from cletrial.standards.adam.lookup import sequence_lookup
from cletrial.standards.metadata import Dataset, DatasetSpec, Variable

__all__ = [
    "AdamInput",
    "Source",
    "build_adae",
    "build_adam",
    "build_adlb",
    "build_adrs",
    "build_adsl",
    "build_adtte",
    "example_arguments",
    "example_input",
    "sequence_lookup",
]


def build_adam(
    dm: Dataset,
    histories: Mapping[str, PatientHistory | Mapping[str, Any]],
    source: Source,
    rules: EndpointRules = DEFAULT_RULES,
    trial: TrialEndpointRules | None = None,
) -> dict[str, Dataset]:
    """Every ADaM dataset of the cohort (the contract is in the module docstring).

    Parameters
    ----------
    dm : Dataset
        SDTM DM.
    histories : mapping of str to history
        Patient histories keyed by USUBJID, the same subjects as DM.
    source : callable
        ``(usubjid, array, index) -> (domain, seq)`` of the SDTM record each history record
        became.
    rules : EndpointRules
        The endpoint rules.
    trial : TrialEndpointRules, optional
        The trial endpoints' week and thresholds: ADRS then holds CLASI-50/70 records.

    Returns
    -------
    dict of str to Dataset
        ADSL, ADRS, ADTTE, ADAE and ADLB, checked; ADQS too when a subject has a
        Skindex-29+3 domain score.

    Raises
    ------
    cletrial.errors.StandardsError
        A history's subject not in DM (or back), a record the lookup cannot resolve, or a value
        the dataset's specification refuses.
    """
    a = AdamInput.build(dm, histories, source, rules)
    out = {
        "ADSL": build_adsl(a),
        "ADRS": build_adrs(a, trial),
        "ADTTE": build_adtte(a),
        "ADAE": build_adae(a),
        "ADLB": build_adlb(a),
    }
    if has_skindex(a):
        out["ADQS"] = build_adqs(a)
    return out


_DM_LABELS = {
    "STUDYID": "Study Identifier",
    "USUBJID": "Unique Subject Identifier",
    "SUBJID": "Subject Identifier for the Study",
    "SITEID": "Study Site Identifier",
    "AGE": "Age",
    "AGEU": "Age Units",
    "SEX": "Sex",
    "ARM": "Description of Planned Arm",
    "ACTARM": "Description of Actual Arm",
}


def example_arguments() -> tuple[Dataset, dict[str, dict[str, Any]], Source]:
    """A one-patient DM, history and lookup (CR at week 4, taper to off), for examples.

    >>> dm, histories, source = example_arguments()
    >>> list(histories), source("CLE-H01-P01", "assessments", 0)
    (['CLE-H01-P01'], ('QS', 2))
    """
    usubjid = "CLE-H01-P01"
    history = {
        "patient_id": "P01",
        "first_dose_date": "2009-03-02",
        "baseline": {"date": "2009-03-02", "clasi": {"activity": 7, "damage": 1}},
        "assessments": [
            {"date": "2009-03-30", "clasi": {"activity": 0, "damage": 1}},
            {"date": "2009-05-01", "clasi": {"activity": 0, "damage": 1}},
        ],
        "doses": [
            {"date": "2009-03-02", "regimen": "5_daily"},
            {"date": "2009-05-01", "regimen": "off"},
        ],
        "labs": [
            {"date": "2009-03-02", "test": "neutrophils", "value": 2100, "unit": "/mm3"},
            {"date": "2009-03-30", "test": "neutrophils", "value": 1190, "unit": "/mm3"},
        ],
        "adverse_events": [
            {
                "term": "Insomnia",
                "start": "2009-03-20",
                "grade": 2,
                "causality": "probable",
                "serious": False,
            }
        ],
    }
    row = {
        "STUDYID": "CLE",
        "USUBJID": usubjid,
        "SUBJID": "P01",
        "SITEID": "H01",
        "AGE": 41.0,
        "AGEU": "YEARS",
        "SEX": "F",
        "ARM": "Lenalidomide",
        "ACTARM": "Lenalidomide",
    }
    spec = DatasetSpec(
        "DM",
        "Demographics",
        "SPECIAL PURPOSE",
        "One record per subject",
        ("STUDYID", "USUBJID"),
        tuple(Variable(n, _DM_LABELS[n], "integer" if n == "AGE" else "text") for n in row),
        "SDTMIG 3.4",
    )
    import pandas as pd

    dm = Dataset(spec, pd.DataFrame([row])).check()
    histories = {usubjid: history}
    return dm, histories, sequence_lookup(histories)


def example_input() -> AdamInput:
    """The :func:`example_arguments` cohort, run through the engine."""
    return AdamInput.build(*example_arguments(), DEFAULT_RULES)
