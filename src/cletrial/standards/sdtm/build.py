"""Build the SDTM domains of a study: DM, EX, CM, AE, DS, DV, MH, IE, LB, SV, RS, SUPPDM, SUPPLB,
and the trial design domains TV, TI (from the protocol's schedule and eligibility) and TE, TA,
TS (from its ``trial`` section, when it has one: :mod:`cletrial.protocol.definition_trial`).

QS is built apart (``scores``, numbered with :attr:`SdtmPackage.visits`) and added to the package
by the caller.

>>> import datetime as dt
>>> from cletrial.protocol import load_protocol
>>> from cletrial.standards.sdtm.common import SubjectRef
>>> from cletrial.standards.sdtm.source import StudySource, SubjectSource
>>> s = SubjectSource(SubjectRef("S", "A", "P1", dt.date(2009, 3, 2)), sex="F", age=40,
...                   history={"doses": [{"date": "2009-03-02", "regimen": "5_daily"}]})
>>> p = load_protocol().file
>>> pkg = build_sdtm(StudySource("S", "T", p.id, p.version, p, subjects=(s,)))
>>> sorted(pkg.datasets)
['AE', 'CM', 'DM', 'DS', 'DV', 'EX', 'IE', 'LB', 'MH', 'RS', 'SUPPDM', 'SUPPLB', 'SV', 'TA', 'TE',
 'TI', 'TS', 'TV']
>>> pkg.record("S-A-P1", "doses", 0)
('EX', 1)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from cletrial.errors import StandardsError
from cletrial.protocol.definition_model import ProtocolFile
from cletrial.protocol.definition_trial import DataCutoff
from cletrial.protocol.history import PatientHistory
from cletrial.standards.metadata import Dataset
from cletrial.standards.sdtm.common import Provenance
from cletrial.standards.sdtm.dm import build_dm
from cletrial.standards.sdtm.eligibility import build_ie
from cletrial.standards.sdtm.events import build_ae, build_ds, build_dv
from cletrial.standards.sdtm.interventions import build_cm, build_ex
from cletrial.standards.sdtm.labs import build_lb
from cletrial.standards.sdtm.lookup import Key, RecordLookup
from cletrial.standards.sdtm.mh import build_mh
from cletrial.standards.sdtm.response import build_rs
from cletrial.standards.sdtm.source import StudySource
from cletrial.standards.sdtm.supp import build_supp, supp_dm, supp_lb
from cletrial.standards.sdtm.trial_criteria import build_ti
from cletrial.standards.sdtm.trial_design import build_ta, build_te, build_tv
from cletrial.standards.sdtm.trial_summary import StudyFacts, build_ts, compute_actual_subjects
from cletrial.standards.sdtm.visits import build_sv

__all__ = ["SdtmPackage", "build_sdtm", "build_trial_design"]


@dataclass(frozen=True)
class SdtmPackage:
    """The SDTM datasets of a study, with where each record came from.

    ``lookup`` maps ``(USUBJID, history array, index)`` to ``(domain, --SEQ)`` for every record
    built from an entry of a history array (ADaM's ``SRCDOM``/``SRCSEQ``). ``visits`` is SV's
    numbering, ``USUBJID`` -> visit date -> ``(VISITNUM, VISIT)``, for the findings domains
    built apart (QS).
    """

    datasets: dict[str, Dataset]
    provenance: tuple[Provenance, ...]
    lookup: Mapping[Key, tuple[str, int]] = field(repr=False)
    visits: dict[str, dict[dt.date, tuple[float, str]]] = field(repr=False, default_factory=dict)

    def record(self, usubjid: str, array: str, index: int) -> tuple[str, int]:
        """``(domain, --SEQ)`` of the record built from ``history[array][index]``."""
        try:
            return self.lookup[(usubjid, array, index)]
        except KeyError:
            raise StandardsError(f"no SDTM record comes from {array}[{index}] of {usubjid}: "
                                 "check the array and index") from None  # fmt: skip


def build_trial_design(
    studyid: str, protocol: ProtocolFile, facts: StudyFacts | None = None
) -> dict[str, Dataset]:
    """The trial design datasets of ``protocol``: TV and TI always, TE, TA and TS when the
    protocol definition has a ``trial`` section. ``facts`` are TS's values from the study data
    (``ACTSUB``, the data cutoff); without them TS says they are unknown.

    >>> from cletrial.protocol import load_protocol
    >>> sorted(build_trial_design("S", load_protocol("thalidomide-cle-example").file))
    ['TI', 'TV']
    """
    datasets = {"TV": build_tv(studyid, protocol), "TI": build_ti(studyid, protocol)}
    if protocol.trial is not None:
        datasets |= {"TE": build_te(studyid, protocol), "TA": build_ta(studyid, protocol),
                     "TS": build_ts(studyid, protocol, facts)}  # fmt: skip
    return datasets


def build_sdtm(source: StudySource, parsed: dict[str, PatientHistory] | None = None) -> SdtmPackage:
    """Build and check every domain of this module for ``source``; with ``parsed``, the
    histories RS parses are kept there by USUBJID for ADaM (:func:`build_rs`).

    Raises
    ------
    cletrial.errors.StandardsError
        A value breaks its variable's rule (naming domain, variable, row and value).
    """
    subjects = list(source.subjects)
    provenance: list[Provenance] = []
    sv, numbers = build_sv(subjects, source.protocol, provenance)
    datasets = {
        "DM": build_dm(subjects, source.protocol),
        "EX": build_ex(subjects, source.protocol, provenance),
        "CM": build_cm(subjects, provenance),
        "AE": build_ae(subjects, provenance),
        "DS": build_ds(subjects, provenance),
        "DV": build_dv(subjects, provenance),
        "MH": build_mh(subjects, provenance),
        "IE": build_ie(subjects, source.protocol),
        "LB": build_lb(subjects, source.protocol.safety.ctcae_version, numbers, provenance),
        "SV": sv,
        "RS": build_rs(subjects, source.protocol, numbers, provenance, parsed),
    }
    lookup = RecordLookup(provenance)
    datasets["SUPPDM"] = build_supp("DM", supp_dm(subjects, synthetic=source.synthetic))
    datasets["SUPPLB"] = build_supp("LB", supp_lb(subjects, lookup))
    cutoff = None if source.locked_on is None else DataCutoff(
        date=source.locked_on.isoformat(), description="Database lock")  # fmt: skip
    facts = StudyFacts(actual_subjects=compute_actual_subjects(datasets["DM"]), data_cutoff=cutoff)
    datasets.update(build_trial_design(source.study_code, source.protocol, facts))
    return SdtmPackage(datasets, tuple(provenance), lookup, numbers)
