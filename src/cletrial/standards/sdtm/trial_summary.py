"""SDTM TS (trial summary), from the protocol definition's ``trial`` section and the study data.

One record per parameter value (``TSSEQ`` numbers the values of one parameter from 1: two trial
types are ``TTYPE`` 1 and 2). Coded values are the submission values of their codelist
(:data:`cletrial.vocabulary.trial.TS_VALUE_CODELIST`), with the NCI code in ``TSVALCD`` where
the vocabulary has one (``TSVCDREF`` ``CDISC CT``). Ages and lengths are ISO 8601 durations
(``AGEMIN`` ``P18Y`` from ``eligibility.min_age_years``; no maximum age is ``TSVALNF`` ``PINF``);
``TRT`` is the protocol's drug (``TSVALCD`` its UNII when the trial section gives one);
``DOSE``/``DOSU``/``DOSFRQ`` the starting regimen of the dose ladder (``dosing.start_regimen``);
``SDTMVER``/``SDTIGVER`` the versions the package follows.

From the study data (:class:`StudyFacts`): ``ACTSUB``, the subjects of DM who were enrolled,
that is assigned to an arm (``ARMCD`` given: screen failures and subjects screened but never
randomised are not counted, subjects assigned but never treated are), and the data cutoff when
the caller knows it. What is not known has its null flavor: ``UNK`` (``ACTSUB`` without study
data, an unpublished end date or data cutoff), ``NA`` (no comparator, no current treatment).

>>> from cletrial.protocol import load_protocol
>>> ts = build_ts("S", load_protocol().file).frame.set_index("TSPARMCD")
>>> ts.loc["REGID", "TSVAL"], ts.loc["TPHASE", "TSVAL"], ts.loc["AGEMIN", "TSVAL"]
('NCT01408199', 'PHASE II TRIAL', 'P18Y')
>>> ts.loc["AGEMAX", ["TSVAL", "TSVALNF"]].tolist()
[None, 'PINF']
>>> ts.loc[["DOSE", "DOSU", "DOSFRQ", "ROUTE"], "TSVAL"].tolist()
['5', 'mg', 'QD', 'ORAL']
>>> ts.loc["ACTSUB", ["TSVAL", "TSVALNF"]].tolist()
[None, 'UNK']
>>> build_ts("S", load_protocol().file, StudyFacts(actual_subjects=15)).frame.set_index(
...     "TSPARMCD").loc["ACTSUB", "TSVAL"]
'15'
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from cletrial.protocol.definition_model import ProtocolFile
from cletrial.protocol.definition_trial import DataCutoff, Trial
from cletrial.standards.metadata import (
    CT_VERSION,
    SDTM_VERSION,
    SDTMIG_VERSION,
    Dataset,
    ValueLevel,
)
from cletrial.standards.sdtm._frame import STUDYID, domain_spec, to_dataset, var
from cletrial.standards.sdtm.trial_design import compute_duration, require_trial
from cletrial.vocabulary import CODELISTS, TS_PARAMETER
from cletrial.vocabulary.trial import TS_VALUE_CODELIST

__all__ = [
    "TS_SPEC",
    "StudyFacts",
    "TsValue",
    "build_ts",
    "compute_actual_subjects",
    "trial_parameters",
]

_TS_SPEC = domain_spec(
    "TS", "Trial Summary", "TRIAL DESIGN", "One record per trial summary parameter value",
    ("STUDYID", "TSPARMCD", "TSSEQ"),
    [
        STUDYID,
        var("DOMAIN", "Domain Abbreviation", "text", "Identifier", "Req", origin="Assigned"),
        var("TSSEQ", "Sequence Number", "integer", "Identifier", "Req", origin="Derived",
            derivation="Numbers the values of one TSPARMCD from 1"),
        var("TSPARMCD", "Trial Summary Parameter Short Name", "text", "Topic", "Req",
            origin="Assigned", codelist="TSPARMCD"),
        var("TSPARM", "Trial Summary Parameter", "text", "Synonym Qualifier", "Req",
            origin="Assigned"),
        var("TSVAL", "Parameter Value", "text", "Result Qualifier", "Exp", origin="Protocol"),
        var("TSVALNF", "Parameter Null Flavor", "text", "Result Qualifier", "Perm",
            origin="Protocol", codelist="NULLFLAV"),
        var("TSVALCD", "Parameter Value Code", "text", "Result Qualifier", "Exp",
            origin="Assigned"),
        var("TSVCDREF", "Name of the Reference Terminology", "text", "Result Qualifier", "Exp",
            origin="Assigned"),
        var("TSVCDVER", "Version of the Reference Terminology", "text", "Result Qualifier",
            "Exp", origin="Assigned"),
    ],
)  # fmt: skip
#: Define-XML value-level metadata: TSVAL of a coded parameter takes that parameter's codelist.
TS_SPEC = dataclasses.replace(_TS_SPEC, value_level=tuple(
    ValueLevel("TSVAL", "TSPARMCD", code, TS_PARAMETER.decode(code), "text", codelist=codelist,
               origin="Protocol")
    for code, codelist in TS_VALUE_CODELIST.items()
)).check()  # fmt: skip


@dataclass(frozen=True)
class TsValue:
    """One value of a trial summary parameter: the value (or its null flavor) and its code in
    a reference terminology."""

    value: str | None
    null_flavor: str | None = None
    code: str | None = None
    reference: str | None = None
    version: str | None = None


@dataclass(frozen=True)
class StudyFacts:
    """What TS says of the study's data rather than of its protocol.

    Parameters
    ----------
    actual_subjects : int, optional
        ``ACTSUB``: the subjects enrolled (:func:`compute_actual_subjects`); ``None`` when TS
        is built from the protocol alone (``TSVALNF`` ``UNK``).
    data_cutoff : DataCutoff, optional
        ``DCUTDTC``/``DCUTDESC`` of this package; when ``None``, the trial section's
        ``data_cutoff`` (else ``UNK``).
    """

    actual_subjects: int | None = None
    data_cutoff: DataCutoff | None = None


def compute_actual_subjects(dm: Dataset) -> int:
    """``ACTSUB``: the subjects of DM assigned to an arm (``ARMCD`` given).

    Screen failures and subjects screened but not randomised (``ARMNRS`` ``SCREEN FAILURE``,
    ``NOT ASSIGNED``) were never enrolled; a subject assigned but not treated was.

    >>> import pandas as pd
    >>> from cletrial.standards.sdtm.dm import DM_SPEC
    >>> dm = Dataset(DM_SPEC, pd.DataFrame({"ARMCD": ["LENA", None, "LENA"]}))
    >>> compute_actual_subjects(dm)
    2
    """
    return int(dm.frame["ARMCD"].notna().sum())


def _text(value: str) -> TsValue:
    return TsValue(value)


def _texts(values: list[str], none: str | None = None) -> list[TsValue]:
    """One value per text; none at all is ``none``'s null flavor (or no record)."""
    if values:
        return [TsValue(v) for v in values]
    return [] if none is None else [TsValue(None, null_flavor=none)]


def _coded(parameter: str, stored: str) -> TsValue:
    """The submission value of ``stored`` in the codelist of ``parameter``, with its NCI code."""
    term = CODELISTS[TS_VALUE_CODELIST[parameter]].term(stored)
    if term.nci_code is None:
        return TsValue(term.submission)
    return TsValue(term.submission, code=term.nci_code, reference="CDISC CT", version=CT_VERSION)


def _flag(parameter: str, value: bool) -> TsValue:
    return _coded(parameter, "Y" if value else "N")


def _iso(value: str | None) -> TsValue:
    return TsValue(value, reference="ISO 8601") if value else TsValue(None, null_flavor="PINF")


def _date(value: str | None) -> TsValue:
    return TsValue(value, reference="ISO 8601") if value else TsValue(None, null_flavor="UNK")


def _design(t: Trial, protocol: ProtocolFile) -> list[tuple[str, TsValue]]:
    """Title, phase, indication and the design parameters."""
    max_age = None if t.max_age_years is None else f"P{t.max_age_years}Y"
    return [
        ("TITLE", _text(t.title)), ("TPHASE", _coded("TPHASE", t.phase)),
        ("INDIC", _text(t.indication)), ("TINDTP", _coded("TINDTP", t.indication_type)),
        ("TDIGRP", _text(t.diagnosis_group) if t.diagnosis_group
         else TsValue(None, null_flavor="NA")),
        *(("TTYPE", _coded("TTYPE", kind)) for kind in t.trial_types),
        ("STYPE", _coded("STYPE", t.study_type)),
        ("INTMODEL", _coded("INTMODEL", t.intervention_model)),
        ("INTTYPE", _coded("INTTYPE", t.intervention_type)),
        ("TBLIND", _coded("TBLIND", t.blinding)), ("TCNTRL", _coded("TCNTRL", t.control)),
        ("RANDOM", _flag("RANDOM", t.randomised)), ("ADDON", _flag("ADDON", t.add_on)),
        ("ADAPT", _flag("ADAPT", t.adaptive)), ("HLTSUBJI", _flag("HLTSUBJI", t.healthy_subjects)),
        ("EXTTIND", _flag("EXTTIND", t.extension_trial)),
        ("SEXPOP", _coded("SEXPOP", t.sex_population)),
        ("AGEMIN", _iso(f"P{protocol.eligibility.min_age_years}Y")), ("AGEMAX", _iso(max_age)),
        ("PLANSUB", _text(str(t.planned_subjects))), ("NARMS", _text(str(len(t.arms)))),
        ("LENGTH", _iso(compute_duration(t.planned_weeks))),
        *(("STOPRULE", v) for v in _texts(t.stopping_rules)),
    ]  # fmt: skip


def _treatments(t: Trial, protocol: ProtocolFile) -> list[tuple[str, TsValue]]:
    """The investigational drug, its starting dose, and the current and comparative
    treatments."""
    start = next(r for r in protocol.regimens if r.id == protocol.dosing.start_regimen)
    trt = (TsValue(protocol.drug.upper(), code=t.drug_unii, reference="UNII") if t.drug_unii
           else _text(protocol.drug.upper()))  # fmt: skip
    return [
        ("TRT", trt), ("PCLAS", _text(t.pharmacological_class)),
        ("DOSE", _text(format(start.dose_mg, "g"))), ("DOSU", _coded("DOSU", "mg")),
        ("DOSFRQ", _coded("DOSFRQ", format(start.administrations_per_week, "g"))),
        ("ROUTE", _coded("ROUTE", t.route)),
        *(("CURTRT", v) for v in _texts(t.current_treatments, "NA")),
        ("COMPTRT", _text(t.comparator) if t.comparator else TsValue(None, null_flavor="NA")),
    ]  # fmt: skip


def _study(t: Trial, facts: StudyFacts) -> list[tuple[str, TsValue]]:
    """Registry, sponsor, countries, dates, subjects, objectives and outcome measures."""
    cutoff = facts.data_cutoff or t.data_cutoff
    actual = facts.actual_subjects
    return [
        ("REGID", TsValue(t.registry_id, code=t.registry_id, reference="ClinicalTrials.gov")
         if t.registry_id else TsValue(None, null_flavor="UNK")),
        ("SPONSOR", _text(t.sponsor)),
        *(("FCNTRY", TsValue(c, reference="ISO 3166-1 alpha-3")) for c in t.countries),
        ("SSTDTC", _date(t.start)), ("SENDTC", _date(t.end)),
        ("DCUTDTC", _date(cutoff.date if cutoff else None)),
        ("DCUTDESC", _text(cutoff.description) if cutoff else TsValue(None, null_flavor="UNK")),
        ("ACTSUB", TsValue(None, null_flavor="UNK") if actual is None else _text(str(actual))),
        ("OBJPRIM", _text(t.primary_objective)),
        *(("OBJSEC", v) for v in _texts(t.secondary_objectives)),
        *(("OUTMSPRI", v) for v in _texts(t.primary_outcomes)),
        *(("OUTMSSEC", v) for v in _texts(t.secondary_outcomes)),
    ]  # fmt: skip


def trial_parameters(
    protocol: ProtocolFile, facts: StudyFacts | None = None
) -> list[tuple[str, TsValue]]:
    """``(TSPARMCD, value)`` of every parameter TS carries for ``protocol``, in TS order.

    Raises
    ------
    cletrial.errors.StandardsError
        The protocol has no ``trial`` section.

    >>> from cletrial.protocol import load_protocol
    >>> dict(trial_parameters(load_protocol().file))["PLANSUB"].value
    '15'
    """
    t = require_trial(protocol)
    versions = [("SDTMVER", _text(SDTM_VERSION)), ("SDTIGVER", _text(SDTMIG_VERSION))]
    return [*_design(t, protocol), *_treatments(t, protocol), *_study(t, facts or StudyFacts()),
            *versions]  # fmt: skip


def build_ts(studyid: str, protocol: ProtocolFile, facts: StudyFacts | None = None) -> Dataset:
    """TS: one record per value of :func:`trial_parameters`."""
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for code, v in trial_parameters(protocol, facts):
        seen[code] = seen.get(code, 0) + 1
        rows.append({"STUDYID": studyid, "DOMAIN": "TS", "TSSEQ": seen[code], "TSPARMCD": code,
                     "TSPARM": TS_PARAMETER.decode(code), "TSVAL": v.value,
                     "TSVALNF": v.null_flavor, "TSVALCD": v.code, "TSVCDREF": v.reference,
                     "TSVCDVER": v.version})  # fmt: skip
    return to_dataset(TS_SPEC, rows)
