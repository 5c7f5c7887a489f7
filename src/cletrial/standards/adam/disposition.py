"""End of treatment and of study, in CDISC terms: ``TRTEDT``, ``EOTSTT``/``DCTREAS`` and
``EOSSTT``/``DCSREAS``.

Rules, per patient history (``docs/formats.md``):

* **Treatment end** (the first day without study drug) is ``end_of_treatment.date`` when
  recorded; else the date of the first ``off`` dose record of the final off run (the engine's
  final withdrawal); else the date of the first disposition event (``events[]``) after which no
  dose record starts; else treatment is ongoing.
* ``TRTEDT``, the date of the **last dose** (ADaM's meaning), is ``end_of_treatment``'s
  ``last_dose_date`` when recorded, else the day before the treatment end (a regimen is in force
  up to the day before the next record), never before ``TRTSDT``; missing while ongoing.
* ``EOTSTT``: ``COMPLETED`` or ``DISCONTINUED`` from the recorded end of treatment; a
  disposition event ending treatment is ``DISCONTINUED`` with its NCOMPLT term in ``DCTREAS``; a
  withdrawal by the protocol's taper (an ``off`` record without any event) is ``COMPLETED``;
  otherwise ``ONGOING``. Missing for an untreated patient.
* ``EOSSTT``: from ``end_of_study`` when recorded; a ``death``, ``lost_to_follow_up`` or
  ``consent_withdrawn`` event ends participation (``DISCONTINUED``); otherwise ``ONGOING``.
* Reasons are submission values of the NCOMPLT codelist (:mod:`cletrial.vocabulary`), never the
  stored snake_case values; a completion has no reason.

>>> import datetime as dt
>>> from cletrial.protocol.history import parse_history
>>> h = parse_history({"doses": [{"date": "2009-03-02", "regimen": "5_daily"},
...     {"date": "2009-05-01", "regimen": "off"}],
...     "events": [{"date": "2009-05-01", "type": "consent_withdrawn"}]})
>>> d = disposition(h, final_withdrawal=dt.date(2009, 5, 1))
>>> d.trtedt, d.eotstt, d.dctreas, d.eosstt, d.dcsreas
(datetime.date(2009, 4, 30), 'DISCONTINUED', 'WITHDRAWAL BY SUBJECT', 'DISCONTINUED', \
'WITHDRAWAL BY SUBJECT')
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from cletrial.protocol.history import PatientHistory
from cletrial.vocabulary import DISPOSITION_EVENT, DISPOSITION_REASON

__all__ = ["DISPOSITION_TEXTS", "Disposition", "disposition"]

#: Events that end the patient's participation in the study, not only treatment.
STUDY_ENDING_EVENTS: Final = ("death", "lost_to_follow_up", "consent_withdrawn")

#: Derivation text of each disposition variable (Define-XML method), from the rules above.
DISPOSITION_TEXTS: Final = {
    "TRTEDT": (
        "end_of_treatment.last_dose_date; else the day before the first off record of the final "
        "off run, or before the first disposition event not followed by a dose"
    ),
    "EOTSTT": (
        "end_of_treatment reason; DISCONTINUED at a disposition event; COMPLETED at a protocol "
        "taper to off; else ONGOING"
    ),
    "DCTREAS": "NCOMPLT term of the end_of_treatment reason, else of the disposition event",
    "EOSSTT": (
        "end_of_study reason; DISCONTINUED at a death, lost_to_follow_up or consent_withdrawn "
        "event; else ONGOING"
    ),
    "DCSREAS": "NCOMPLT term of the end_of_study reason, else of the study-ending event",
}


@dataclass(frozen=True)
class Disposition:
    """One patient's ADSL disposition variables (``None`` = missing)."""

    trtedt: dt.date | None
    eotstt: str | None
    dctreas: str | None
    eosstt: str
    dcsreas: str | None


def _status(term: str) -> tuple[str, str | None]:
    return ("COMPLETED", None) if term == "COMPLETED" else ("DISCONTINUED", term)


def _stopping_event(h: PatientHistory) -> tuple[dt.date, str] | None:
    """The first disposition event after which no dose record starts."""
    last_dose_record = h.doses[-1].date if h.doses else None
    for event in h.events:
        if last_dose_record is None or last_dose_record <= event.date:
            return event.date, DISPOSITION_EVENT.submission(event.type)
    return None


def _treatment(
    h: PatientHistory, final_withdrawal: dt.date | None
) -> tuple[dt.date | None, str | None, str | None]:
    """(treatment end, EOTSTT, DCTREAS) of a treated patient."""
    eot = h.end_of_treatment
    if eot is not None:
        return (eot.date, *_status(DISPOSITION_REASON.submission(eot.reason)))
    event = _stopping_event(h)
    if event is not None and (final_withdrawal is None or event[0] <= final_withdrawal):
        return (event[0], *_status(event[1]))
    if final_withdrawal is not None:
        return final_withdrawal, "COMPLETED", None
    return None, "ONGOING", None


def _study(h: PatientHistory) -> tuple[str, str | None]:
    eos = h.end_of_study
    if eos is not None:
        return _status(DISPOSITION_REASON.submission(eos.reason))
    for event in h.events:
        if event.type in STUDY_ENDING_EVENTS:
            return _status(DISPOSITION_EVENT.submission(event.type))
    return "ONGOING", None


def disposition(h: PatientHistory, *, final_withdrawal: dt.date | None) -> Disposition:
    """The disposition variables of one patient (rules in the module docstring).

    Parameters
    ----------
    h : PatientHistory
        The validated history.
    final_withdrawal : datetime.date, optional
        Date of the engine's final withdrawal (``final_withdrawal_day``), if the course ends
        off drug.

    Returns
    -------
    Disposition

    >>> from cletrial.protocol.history import parse_history
    >>> disposition(parse_history({"doses": [{"date": "2009-03-02", "regimen": "5_daily"}]}),
    ...             final_withdrawal=None).eotstt
    'ONGOING'
    """
    eosstt, dcsreas = _study(h)
    if h.first_dose_date is None:
        return Disposition(None, None, None, eosstt, dcsreas)
    end, eotstt, dctreas = _treatment(h, final_withdrawal)
    eot = h.end_of_treatment
    if eot is not None and eot.last_dose_date is not None:
        last: dt.date | None = eot.last_dose_date
    elif end is None:
        last = None
    else:
        last = max(h.first_dose_date, end - dt.timedelta(days=1))
    return Disposition(last, eotstt, dctreas, eosstt, dcsreas)
