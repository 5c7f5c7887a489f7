"""The status keys of a patient history: the screening verdict and the disposition.

``eligibility`` records the screening verdict (and any documented override of it);
``end_of_treatment`` and ``end_of_study`` record the disposition with a reason among the CDISC
NCOMPLT terms (:data:`DISPOSITION_TERMS`). :func:`check_status` validates what the wire format
cannot (dates in order with each other and with the history's lists); :func:`cut_status` gives
the keys as they stood on a date. Errors name the field path and the value.

>>> DISPOSITION_TERMS["withdrawal_by_subject"]
'WITHDRAWAL BY SUBJECT'
>>> import msgspec
>>> doc = msgspec.convert({"end_of_treatment": {"date": "2009-05-04", "reason": "completed"},
...                        "end_of_study": {"date": "2009-05-01", "reason": "completed"}},
...                       HistoryDoc)
>>> check_status(doc)
Traceback (most recent call last):
...
cletrial.errors.HistoryError: end_of_study.date = "2009-05-01": must be on or after ...
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from cletrial.errors import HistoryError
from cletrial.protocol.history_model import DISPOSITION_TERMS, HistoryDoc

__all__ = ["DISPOSITION_TERMS", "check_status", "cut_status"]


def _not_after(name: str, items: list[Any], limit: dt.date, what: str) -> None:
    """Raise naming the first entry of ``items`` (in date order) dated after ``limit``."""
    if not items or items[-1].date <= limit:
        return
    i = next(i for i, item in enumerate(items) if item.date > limit)
    raise HistoryError(f"{name}[{i}].date", items[i].date.isoformat(), what)


def _check_eligibility(doc: HistoryDoc) -> None:
    elig = doc.eligibility
    if elig is None or elig.override is None:
        return
    override = elig.override
    for key in ("by", "reason"):
        value = getattr(override, key)
        if not value.strip():
            raise HistoryError(f"eligibility.override.{key}", value, "must be non-empty text")
    if override.date < elig.date:
        raise HistoryError(
            "eligibility.override.date",
            override.date.isoformat(),
            f"must be on or after eligibility.date ({elig.date.isoformat()})",
        )


def check_status(doc: HistoryDoc) -> None:
    """Check the eligibility and disposition keys against each other and the lists.

    Raises
    ------
    HistoryError
        An override without a name or reason or dated before the verdict; ``end_of_study``
        before ``end_of_treatment``; a dose, assessment, laboratory value or pregnancy test
        after the end of study; a dose started after the end of treatment; a last dose date
        after the end of treatment or before the first dose.
    """
    if doc.eligibility is not None:
        _check_eligibility(doc)
    eot, eos = doc.end_of_treatment, doc.end_of_study
    if eot is not None:
        last = eot.last_dose_date
        if last is not None and last > eot.date:
            raise HistoryError(
                "end_of_treatment.last_dose_date",
                last.isoformat(),
                f"must be on or before end_of_treatment.date ({eot.date.isoformat()})",
            )
        if last is not None and doc.doses and last < doc.doses[0].date:
            raise HistoryError(
                "end_of_treatment.last_dose_date",
                last.isoformat(),
                f"must be on or after the first dose ({doc.doses[0].date.isoformat()})",
            )
        _not_after(
            "doses",
            doc.doses,
            eot.date,
            f"is after end_of_treatment.date ({eot.date.isoformat()}): no regimen starts "
            "after the end of treatment",
        )
    if eos is None:
        return
    if eot is not None and eos.date < eot.date:
        raise HistoryError(
            "end_of_study.date",
            eos.date.isoformat(),
            f"must be on or after end_of_treatment.date ({eot.date.isoformat()})",
        )
    for name, items in (
        ("doses", doc.doses),
        ("assessments", doc.assessments),
        ("labs", doc.labs),
        ("pregnancy_tests", doc.pregnancy_tests),
        ("immunology", doc.immunology),
        ("nerve_conduction", doc.nerve_conduction),
    ):
        _not_after(name, items, eos.date, f"is after end_of_study.date ({eos.date.isoformat()})")


def cut_status(doc: HistoryDoc, on: dt.date) -> dict[str, Any]:
    """The status keys as they stood on ``on`` (later records and overrides left out).

    >>> doc = msgspec.convert({"eligibility": {"date": "2009-01-20", "verdict": "ineligible",
    ...     "override": {"date": "2009-02-01", "by": "Dr A", "reason": "E4 lab repeated"}}},
    ...     HistoryDoc)
    >>> cut_status(doc, dt.date(2009, 1, 25))["eligibility"].override is None
    True
    """
    elig, eot, eos = doc.eligibility, doc.end_of_treatment, doc.end_of_study
    if elig is not None:
        if elig.date > on:
            elig = None
        elif elig.override is not None and elig.override.date > on:
            elig = msgspec.structs.replace(elig, override=None)
    return {
        "eligibility": elig,
        "end_of_treatment": eot if eot is not None and eot.date <= on else None,
        "end_of_study": eos if eos is not None and eos.date <= on else None,
    }
