"""Controlled vocabularies of the study database (the values a stored field may take).

Lab tests, regimen ids and event types follow the patient history format of ``docs/formats.md``,
so a stored patient exports to a history the protocol engine accepts. Regimen ids come from the
dose ladders of the bundled protocol definitions (:mod:`cletrial.protocols`), read once.

>>> "investigator" in ROLES
True
>>> LAB_CTCAE_TERMS["neutrophils"]
'neutrophil_count_decreased'
>>> "50_daily" in regimen_vocabulary(), "5_daily" in regimen_vocabulary()
(True, True)
"""

from __future__ import annotations

from functools import cache
from typing import Final

from cletrial import vocabulary
from cletrial.protocol.definition import list_protocols, load_protocol
from cletrial.protocol.definition_model import CTCAE_TERM_OF_TEST
from cletrial.protocol.history_model import DISPOSITION_TERMS

__all__ = [
    "AE_CAUSALITY",
    "AE_OUTCOMES",
    "AE_OUTCOME_CDISC",
    "DISPOSITION_CDISC",
    "DISPOSITION_KINDS",
    "DISPOSITION_REASONS",
    "EVENT_TYPES",
    "IMMUNOLOGY_RESULTS",
    "IMMUNOLOGY_TESTS",
    "LAB_CTCAE_TERMS",
    "LAB_TESTS",
    "LAB_UNITS",
    "LOCK_ACTIONS",
    "LOCK_STATES",
    "NERVE_CONDUCTION_RESULTS",
    "OFF",
    "PREGNANCY_METHODS",
    "PREGNANCY_RESULTS",
    "QUERY_ACTIONS",
    "QUERY_ORIGINS",
    "QUERY_SEVERITIES",
    "QUERY_STATUSES",
    "REGIMENS",
    "ROLES",
    "SERIOUS_CRITERIA",
    "SEXES",
    "VERDICTS",
    "VISIT_KINDS",
    "VISIT_STATUSES",
    "protocol_regimens",
    "regimen_vocabulary",
]

#: User roles.
ROLES: Final = (
    "investigator",
    "coordinator",
    "monitor",
    "data_manager",
    "statistician",
    "administrator",
)

#: Statuses of a query: raised, acknowledged by the site, answered by the site, closed.
QUERY_STATUSES: Final = ("new", "open", "answered", "closed")
#: Steps of a query's thread.
QUERY_ACTIONS: Final = ("raise", "acknowledge", "answer", "close", "reopen", "comment")
#: Who raised a query.
QUERY_ORIGINS: Final = ("manual", "edit_check")
#: Severity of a query raised by an edit check.
QUERY_SEVERITIES: Final = ("error", "warning")
#: States of the database (the last lock event's ``state_after``).
LOCK_STATES: Final = ("open", "frozen", "locked")
#: Lock events.
LOCK_ACTIONS: Final = ("freeze", "unfreeze", "lock", "unlock")

SEXES: Final = vocabulary.SEX.values

VISIT_KINDS: Final = vocabulary.VISIT_KIND.values
VISIT_STATUSES: Final = ("open", "signed")

#: History lab test -> NCI CTCAE term used to grade it (immunology tests are not graded).
LAB_CTCAE_TERMS: Final[dict[str, str]] = CTCAE_TERM_OF_TEST

#: Lab test -> permitted units (counts as in ``cletrial.instruments.convert_lab_value``).
LAB_UNITS: Final[dict[str, tuple[str, ...]]] = {
    "neutrophils": ("10^9/L", "x10^9/L", "10^3/uL", "/mm3", "/uL"),
    "wbc": ("10^9/L", "x10^9/L", "10^3/uL", "/mm3", "/uL"),
    "platelets": ("10^9/L", "x10^9/L", "10^3/uL", "/mm3", "/uL"),
    "hemoglobin": ("g/dL", "g/L", "mmol/L"),
    "anti_dsdna": ("IU/ml", "IU/mL"),
    "c3": ("mg/dL", "g/L"),
    "c4": ("mg/dL", "g/L"),
}
LAB_TESTS: Final = tuple(LAB_UNITS)

#: The dose ladder of the default protocol, ``lenalidomide-cle-2012``, highest first, then
#: off. Kept for code that means that ladder; the store accepts :func:`regimen_vocabulary`, and
#: a dose of a study the ladder of the study's protocol (:func:`protocol_regimens`).
REGIMENS: Final = (
    "10_daily", "5_daily", "5_alternate", "5_thrice_weekly", "5_twice_weekly", "off",
)  # fmt: skip

#: The regimen id of no treatment, accepted on every ladder.
OFF: Final = "off"

#: Causality of an adverse event with respect to lenalidomide.
AE_CAUSALITY: Final = vocabulary.AE_CAUSALITY.values

#: Why an adverse event is serious (ICH E2A).
SERIOUS_CRITERIA: Final = vocabulary.AE_SERIOUS_CRITERION.values

#: Outcome of an adverse event, with its CDISC controlled term (AEOUT, codelist C66768).
AE_OUTCOME_CDISC: Final = {t.value: t.submission for t in vocabulary.AE_OUTCOME.terms}
AE_OUTCOMES: Final = tuple(AE_OUTCOME_CDISC)

PREGNANCY_RESULTS: Final = vocabulary.PREGNANCY_RESULT.values
#: How a pregnancy test was done (the label asks for a medically supervised test: serum, or
#: urine with a sensitivity of at least 25 mIU/mL).
PREGNANCY_METHODS: Final = vocabulary.PREGNANCY_METHOD.values

#: Disposition kinds: end of treatment (last dose of the study drug) and end of study.
DISPOSITION_KINDS: Final = vocabulary.DISPOSITION_KIND.values
#: Disposition reasons: the store's ids of the CDISC NCOMPLT terms (DSDECOD), as in the history
#: format.
DISPOSITION_CDISC: Final = DISPOSITION_TERMS
DISPOSITION_REASONS: Final = tuple(DISPOSITION_CDISC)
#: Qualitative tests of the baseline immunology panel and their results.
IMMUNOLOGY_TESTS: Final = vocabulary.IMMUNOLOGY_TEST.values
IMMUNOLOGY_RESULTS: Final = vocabulary.IMMUNOLOGY_RESULT.values
#: Results of a nerve conduction study.
NERVE_CONDUCTION_RESULTS: Final = vocabulary.NERVE_CONDUCTION_RESULT.values
#: Screening verdicts.
VERDICTS: Final = vocabulary.SCREENING_VERDICT.values

#: Patient events (disposition and discontinuation reasons), as in the history format, plus
#: ``completed`` (finished the study as planned).
EVENT_TYPES: Final = vocabulary.DISPOSITION_EVENT.values


@cache
def _bundled_ladders() -> dict[str, tuple[str, ...]]:
    """Bundled protocol id -> its ladder's regimen ids, highest first, then ``off``."""
    ladders = {}
    for protocol_id in list_protocols():
        ids = [regimen.id for regimen in load_protocol(protocol_id).regimens]
        ladders[protocol_id] = (*(i for i in ids if i != OFF), OFF)
    return ladders


def protocol_regimens(protocol_id: str) -> tuple[str, ...] | None:
    """The regimen ids a study running ``protocol_id`` may record: its ladder, then ``off``.

    Parameters
    ----------
    protocol_id : str
        A study's ``protocol_id``.

    Returns
    -------
    tuple of str or None
        The steps of the bundled definition's dose ladder, highest first, then ``off``;
        ``None`` when ``protocol_id`` is not a bundled definition (a path or an unknown id):
        the store then accepts :func:`regimen_vocabulary`. The definitions are read once per
        process (the ladder of the bundled file, whatever the study's ``protocol_version``).

    >>> protocol_regimens("thalidomide-cle-example")
    ('100_daily', '50_daily', '50_alternate', '50_twice_weekly', 'off')
    >>> protocol_regimens("/srv/protocols/local.yaml") is None
    True
    """
    return _bundled_ladders().get(protocol_id)


@cache
def regimen_vocabulary() -> tuple[str, ...]:
    """Every regimen id the study database accepts: the regimen ids of the dose ladder of every
    bundled protocol definition (by protocol id, each ladder highest first), then ``off``.

    This is the rule of ``doses.regimen`` for any write; ``uow.doses.add`` further requires a
    step of the ladder of the patient's study's protocol (:func:`protocol_regimens`).

    >>> regimen_vocabulary()[:6]
    ('10_daily', '5_daily', '5_alternate', '5_thrice_weekly', '5_twice_weekly', '100_daily')
    >>> regimen_vocabulary()[-1]
    'off'
    """
    ids = [i for ladder in _bundled_ladders().values() for i in ladder if i != OFF]
    return (*dict.fromkeys(ids), OFF)
