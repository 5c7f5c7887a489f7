"""SDTM TS (trial summary), from the protocol definition's ``trial`` section.

One record per parameter value (``TSSEQ`` numbers the values of one parameter from 1: two trial
types are ``TTYPE`` 1 and 2). Coded values are the submission values of their codelist
(:data:`cletrial.vocabulary.trial.TS_VALUE_CODELIST`), with the NCI code in ``TSVALCD`` where
the vocabulary has one (``TSVCDREF`` ``CDISC CT``). Ages and lengths are ISO 8601 durations
(``AGEMIN`` ``P18Y`` from ``eligibility.min_age_years``; no maximum age is ``TSVALNF`` ``PINF``);
``TRT`` is the protocol's drug; ``SDTMVER``/``SDTIGVER`` the versions the package follows.

>>> from cletrial.protocol import load_protocol
>>> ts = build_ts("S", load_protocol().file).frame.set_index("TSPARMCD")
>>> ts.loc["REGID", "TSVAL"], ts.loc["TPHASE", "TSVAL"], ts.loc["AGEMIN", "TSVAL"]
('NCT01408199', 'PHASE II TRIAL', 'P18Y')
>>> ts.loc["AGEMAX", ["TSVAL", "TSVALNF"]].tolist()
[None, 'PINF']
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from cletrial.protocol.definition_model import ProtocolFile
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

__all__ = ["TS_SPEC", "TsValue", "build_ts", "trial_parameters"]

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


def _text(value: str) -> TsValue:
    return TsValue(value)


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


def trial_parameters(protocol: ProtocolFile) -> list[tuple[str, TsValue]]:
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
    max_age = None if t.max_age_years is None else f"P{t.max_age_years}Y"
    out: list[tuple[str, TsValue]] = [
        ("TITLE", _text(t.title)), ("TPHASE", _coded("TPHASE", t.phase)),
        ("INDIC", _text(t.indication)), ("TINDTP", _coded("TINDTP", t.indication_type)),
        *(("TTYPE", _coded("TTYPE", kind)) for kind in t.trial_types),
        ("STYPE", _coded("STYPE", t.study_type)),
        ("INTMODEL", _coded("INTMODEL", t.intervention_model)),
        ("INTTYPE", _coded("INTTYPE", t.intervention_type)),
        ("TBLIND", _coded("TBLIND", t.blinding)), ("TCNTRL", _coded("TCNTRL", t.control)),
        ("RANDOM", _flag("RANDOM", t.randomised)), ("ADDON", _flag("ADDON", t.add_on)),
        ("ADAPT", _flag("ADAPT", t.adaptive)), ("HLTSUBJI", _flag("HLTSUBJI", t.healthy_subjects)),
        ("SEXPOP", _coded("SEXPOP", t.sex_population)),
        ("AGEMIN", _iso(f"P{protocol.eligibility.min_age_years}Y")), ("AGEMAX", _iso(max_age)),
        ("PLANSUB", _text(str(t.planned_subjects))), ("NARMS", _text(str(len(t.arms)))),
        ("LENGTH", _iso(compute_duration(t.planned_weeks))),
        ("REGID", TsValue(t.registry_id, code=t.registry_id, reference="ClinicalTrials.gov")
         if t.registry_id else TsValue(None, null_flavor="UNK")),
        ("SPONSOR", _text(t.sponsor)),
        *(("FCNTRY", TsValue(c, reference="ISO 3166-1 alpha-3")) for c in t.countries),
        ("SSTDTC", _iso(t.start) if t.start else TsValue(None, null_flavor="UNK")),
        ("OBJPRIM", _text(t.primary_objective)),
        ("TRT", _text(protocol.drug.upper())),
        ("SDTMVER", _text(SDTM_VERSION)), ("SDTIGVER", _text(SDTMIG_VERSION)),
    ]  # fmt: skip
    return out


def build_ts(studyid: str, protocol: ProtocolFile) -> Dataset:
    """TS: one record per value of :func:`trial_parameters`."""
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for code, v in trial_parameters(protocol):
        seen[code] = seen.get(code, 0) + 1
        rows.append({"STUDYID": studyid, "DOMAIN": "TS", "TSSEQ": seen[code], "TSPARMCD": code,
                     "TSPARM": TS_PARAMETER.decode(code), "TSVAL": v.value,
                     "TSVALNF": v.null_flavor, "TSVALCD": v.code, "TSVCDREF": v.reference,
                     "TSVCDVER": v.version})  # fmt: skip
    return to_dataset(TS_SPEC, rows)
