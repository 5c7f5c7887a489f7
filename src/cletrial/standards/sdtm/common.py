"""What every SDTM domain builder shares: the subject's identifiers, study days and ``--SEQ``.

Conventions (SDTMIG 3.4):

* ``USUBJID`` is ``STUDYID-SITEID-SUBJID``; ``SUBJID`` is the patient's pseudonymous study code.
* ``--DY`` is the study day of a date: day 1 is ``RFSTDTC`` (the first dose), the day before is
  -1, there is no day 0; missing when either date is missing.
* ``--SEQ`` numbers a subject's records of one domain from 1, in the order of
  :func:`assign_seq`: by date, then by the topic value, then by the order of the source.
* Each record remembers where it came from (:class:`Provenance`), so ADaM's ``SRCDOM``,
  ``SRCVAR`` and ``SRCSEQ`` can point at the SDTM record a value came from.

>>> import datetime as dt
>>> s = SubjectRef("CLE-2012", "H01", "P01", dt.date(2009, 3, 2))
>>> s.usubjid
'CLE-2012-H01-P01'
>>> study_day(dt.date(2009, 3, 2), s.rfstdtc), study_day(dt.date(2009, 3, 1), s.rfstdtc)
(1, -1)
>>> recs = [{"AEDTC": "2009-04-01", "AETERM": "Rash"}, {"AEDTC": "2009-03-05", "AETERM": "Rash"}]
>>> [r["AESEQ"] for r in assign_seq(recs, "AE", date="AEDTC", topic="AETERM")]
[1, 2]
>>> [r["AEDTC"] for r in assign_seq(recs, "AE", date="AEDTC", topic="AETERM")]
['2009-03-05', '2009-04-01']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import repeat
from typing import Any, NamedTuple

__all__ = ["Provenance", "SubjectRef", "assign_seq", "iso", "provenances", "study_day"]


@dataclass(frozen=True)
class SubjectRef:
    """A subject as every domain names it.

    Parameters
    ----------
    studyid : str
        ``STUDYID`` (the study's code).
    siteid : str
        ``SITEID`` (the site's code).
    subjid : str
        ``SUBJID`` (the patient's pseudonymous study code).
    rfstdtc : datetime.date, optional
        Reference start: the date of the first dose (``None`` if never dosed).
    """

    studyid: str
    siteid: str
    subjid: str
    rfstdtc: dt.date | None = None

    @property
    def usubjid(self) -> str:
        """``STUDYID-SITEID-SUBJID``."""
        return f"{self.studyid}-{self.siteid}-{self.subjid}"


class Provenance(NamedTuple):
    """Where an SDTM record came from: the patient history's array and 0-based index (``None``
    for records from outside the history: screening, deviations, the protocol definition).

    A named tuple (a package holds one a record: small and quick to make)."""

    domain: str
    usubjid: str
    seq: int
    array: str | None
    index: int | None  # type: ignore[assignment]  # the field, not tuple.index


def provenances(
    domain: str,
    usubjids: Iterable[str],
    seqs: Iterable[int],
    arrays: Iterable[str | None],
    indexes: Iterable[int | None],
) -> Iterator[Provenance]:
    """The :class:`Provenance` of each record of ``domain`` (made in C, a million a second).

    >>> list(provenances("LB", ["S-1"], [1], ["labs"], [0]))
    [Provenance(domain='LB', usubjid='S-1', seq=1, array='labs', index=0)]
    """
    rows = zip(repeat(domain), usubjids, seqs, arrays, indexes)
    return map(tuple.__new__, repeat(Provenance), rows)  # what Provenance._make does


def iso(value: dt.date | None) -> str | None:
    """ISO 8601 text of a date (SDTM ``--DTC``), ``None`` when missing.

    >>> iso(dt.date(2009, 3, 2)), iso(None)
    ('2009-03-02', None)
    """
    return None if value is None else value.isoformat()


def study_day(date: dt.date | None, rfstdtc: dt.date | None) -> int | None:
    """SDTM study day of ``date`` relative to ``rfstdtc`` (day 1, no day 0)."""
    if date is None or rfstdtc is None:
        return None
    days = (date - rfstdtc).days
    return days + 1 if days >= 0 else days


def assign_seq(
    records: Iterable[dict[str, Any]], domain: str, *, date: str, topic: str
) -> list[dict[str, Any]]:
    """Sort one subject's records of ``domain`` and set ``{domain}SEQ`` from 1.

    Parameters
    ----------
    records : iterable of dict
        The subject's records (each a dict of SDTM variables), in source order.
    domain : str
        Two-letter domain code (``AE``, ``LB``, ...).
    date : str
        Variable holding the record's ISO 8601 date (missing sorts last).
    topic : str
        Topic variable breaking ties (``AETERM``, ``LBTESTCD``, ...).

    Returns
    -------
    list of dict
        The records, sorted, each with ``{domain}SEQ`` set (a new list; the dicts are updated).
    """
    indexed = list(enumerate(records))
    indexed.sort(key=lambda ir: (ir[1].get(date) or "9999", str(ir[1].get(topic) or ""), ir[0]))
    out = []
    for seq, (_, record) in enumerate(indexed, start=1):
        record[f"{domain}SEQ"] = seq
        out.append(record)
    return out
