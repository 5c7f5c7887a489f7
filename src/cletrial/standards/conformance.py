"""The conformance report of a submission package: structural SDTMIG and ADaMIG rules and the
checks across datasets, each finding naming its rule, dataset, variable, row and value.

No maintained rules engine runs on this machine: CDISC's open rules engine (CORE,
``cdisc-rules-engine``) fetches its rules from the CDISC Library API, which needs an account and
network access, and pins older versions of odmlib and xport than cletrial uses. The rules here
are a documented subset, each citing the part of the implementation guide it applies; a clean
report is not a claim of full conformance, and the report says so.

======  =====================================================================================
Rule    What it checks
======  =====================================================================================
ST01    Every dataset passes :meth:`~cletrial.standards.metadata.Dataset.check` (SAS v5 names,
        labels, lengths; values of the declared type).
SD01    SDTM general-observation and special-purpose domains have STUDYID, DOMAIN, USUBJID;
        SUPP-- and RELREC have RDOMAIN instead (SDTMIG 3.4 sections 2.4 and 8).
SD02    ``DOMAIN`` equals the dataset name on every row (SDTMIG 3.4 section 4.1.2).
SD03    ``--SEQ`` is present, whole, and unique within USUBJID (SDTMIG 3.4 section 4.1.6);
        DM, SV and the trial design domains have none.
SD04    Every USUBJID of every SDTM domain is in DM; DM has one row per USUBJID.
SD05    ``Req`` variables are never missing (SDTMIG 3.4 section 4.1.1).
SD06    ``--DY`` agrees with ``--DTC`` and DM.RFSTDTC (day 1 is RFSTDTC, no day 0).
AD01    ADSL has one row per USUBJID, every ADSL USUBJID is in DM (ADaMIG 1.3 section 3.1).
AD02    Every USUBJID of every ADaM dataset is in ADSL.
AD03    ``SRCDOM``/``SRCSEQ`` resolve to an SDTM record of that subject (ADaMIG 1.3 section
        3.3.9, traceability).
AD04    In a BDS dataset, AVAL and AVALC map one to one within PARAMCD (ADaMIG 1.3 section
        3.3.4).
CT01    A value of a variable with a codelist is a submission value of that codelist.
TD01    Every DM ``ARMCD`` and ``ACTARMCD`` is an arm of TA (SDTMIG 3.4 section 7.2.1).
TD02    Every planned SV ``VISITNUM`` (a whole number; unscheduled visits are not planned) is
        a visit of TV (section 7.3.1).
TD03    Every IE ``IETESTCD`` is a criterion of TI (section 7.4.1).
TD04    Every TA ``ETCD`` is an element of TE (section 7.2.2).
TD05    TS: a coded parameter's ``TSVAL`` is a term of its codelist, a value or its null
        flavor is given, ``TSPARM`` is the parameter's name (section 7.6.1).
TD06    TS holds every parameter of :data:`FDA_TS_PARAMETERS`, the trial summary parameters
        the FDA's Study Data Technical Conformance Guide asks for (a value, or a null flavor
        saying why there is none).
======  =====================================================================================

>>> import pandas as pd
>>> from cletrial.standards.metadata import Dataset, DatasetSpec, Variable
>>> ident = lambda n, l: Variable(n, l, "text", role="Identifier", core="Req")
>>> dm = Dataset(DatasetSpec("DM", "Demographics", "SPECIAL PURPOSE", "One record per subject",
...     ("STUDYID", "USUBJID"), (ident("STUDYID", "Study Identifier"),
...     ident("DOMAIN", "Domain Abbreviation"), ident("USUBJID", "Unique Subject Identifier")),
...     "SDTMIG 3.4"), pd.DataFrame({"STUDYID": ["S"], "DOMAIN": ["DM"], "USUBJID": ["S-1"]}))
>>> report = check_conformance({"DM": dm})
>>> report.passed, len(report.findings)
(True, 0)
>>> dm2 = Dataset(dm.spec, pd.DataFrame({"STUDYID": ["S"], "DOMAIN": ["AE"], "USUBJID": [None]}))
>>> [f.rule for f in check_conformance({"DM": dm2}).findings]
['SD02', 'SD05']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from cletrial.errors import StandardsError
from cletrial.standards._columns import map_values, study_days
from cletrial.standards.metadata import Dataset
from cletrial.vocabulary import CODELISTS, TS_PARAMETER
from cletrial.vocabulary.trial import TS_VALUE_CODELIST

__all__ = ["FDA_TS_PARAMETERS", "ConformanceReport", "Finding", "check_conformance"]

#: Rule id -> what it checks (the module table), for the report.
RULES: Final[dict[str, str]] = {
    "ST01": "dataset passes the SAS v5 and type checks",
    "SD01": "STUDYID, DOMAIN and USUBJID present",
    "SD02": "DOMAIN equals the dataset name",
    "SD03": "--SEQ present, whole and unique within USUBJID",
    "SD04": "every USUBJID in DM, one DM row per subject",
    "SD05": "required variables never missing",
    "SD06": "--DY agrees with --DTC and RFSTDTC",
    "AD01": "ADSL one row per subject, every subject in DM",
    "AD02": "every ADaM USUBJID in ADSL",
    "AD03": "SRCDOM/SRCSEQ resolve to an SDTM record",
    "AD04": "AVAL and AVALC one to one within PARAMCD",
    "CT01": "coded values are submission values of their codelist",
    "TD01": "every DM ARMCD and ACTARMCD is an arm of TA",
    "TD02": "every planned SV VISITNUM is a visit of TV",
    "TD03": "every IE IETESTCD is a criterion of TI",
    "TD04": "every TA ETCD is an element of TE",
    "TD05": "TS values are terms of their parameter's codelist, or have a null flavor",
    "TD06": "TS holds every trial summary parameter the FDA asks for",
}
#: TS parameters the FDA's Study Data Technical Conformance Guide asks for in every study with
#: a TS dataset (parameters it asks for only in some designs, as OBJSEC or OUTMSSEC, are not
#: listed; a parameter that does not apply is present with TSVALNF ``NA``).
FDA_TS_PARAMETERS: Final = (
    "ACTSUB", "ADAPT", "ADDON", "AGEMAX", "AGEMIN", "COMPTRT", "CURTRT", "DCUTDESC", "DCUTDTC",
    "DOSE", "DOSFRQ", "DOSU", "EXTTIND", "FCNTRY", "HLTSUBJI", "INDIC", "INTMODEL", "INTTYPE",
    "LENGTH", "NARMS", "OBJPRIM", "OUTMSPRI", "PCLAS", "PLANSUB", "RANDOM", "REGID", "ROUTE",
    "SDTIGVER", "SDTMVER", "SENDTC", "SEXPOP", "SPONSOR", "SSTDTC", "STOPRULE", "STYPE",
    "TBLIND", "TCNTRL", "TDIGRP", "TINDTP", "TITLE", "TPHASE", "TRT", "TTYPE",
)  # fmt: skip
#: ``(rule, dataset, variable, target dataset, target variable)``: each value of the variable
#: must be a value of the target's (checked when both datasets are in the package).
_REFERENCES: Final = (
    ("TD01", "DM", "ARMCD", "TA", "ARMCD"),
    ("TD01", "DM", "ACTARMCD", "TA", "ARMCD"),
    ("TD02", "SV", "VISITNUM", "TV", "VISITNUM"),
    ("TD03", "IE", "IETESTCD", "TI", "IETESTCD"),
    ("TD04", "TA", "ETCD", "TE", "ETCD"),
)
_MAX_PER_RULE: Final = 20
#: Domains without --SEQ: DM and SV are keyed otherwise (USUBJID; USUBJID, VISITNUM).
_NO_SEQ: Final = frozenset({"DM", "SV", "TA", "TE", "TV", "TI", "TS"})
_SUBJECTLESS: Final = frozenset({"TA", "TE", "TV", "TI", "TS"})


@dataclass(frozen=True)
class Finding:
    """One broken rule: which, where (dataset, variable, 1-based row) and the value."""

    rule: str
    severity: Literal["error", "warning"]
    dataset: str
    variable: str | None
    row: int | None
    value: str | None
    message: str


@dataclass(frozen=True)
class ConformanceReport:
    """The findings, how many of each rule were cut off, and the rules that ran."""

    findings: tuple[Finding, ...]
    truncated: dict[str, int] = field(default_factory=dict)
    rules: dict[str, str] = field(default_factory=lambda: dict(RULES))

    @property
    def passed(self) -> bool:
        """True when no rule found an error (warnings allowed)."""
        return not any(f.severity == "error" for f in self.findings) and not self.truncated

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``passed``, ``scope``, ``rules``, ``findings``, ``truncated``."""
        return {
            "passed": self.passed,
            "scope": "structural subset of SDTMIG 3.4 and ADaMIG 1.3 plus cross-dataset checks; "
            "not the full CDISC conformance rules",
            "rules": self.rules,
            "findings": [asdict(f) for f in self.findings],
            "truncated": self.truncated,
        }


def _show(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _rows(frame: pd.DataFrame, mask: Any) -> Iterator[int]:
    for position in mask.to_numpy().nonzero()[0]:
        yield int(position)


def _each(ds: Dataset, var: str, mask: Any, rule: str, message: str) -> Iterator[Finding]:
    for row in _rows(ds.frame, mask):
        value = _show(ds.frame[var].iat[row])
        yield Finding(rule, "error", ds.name, var, row + 1, value, message)


def _is_sdtm(ds: Dataset) -> bool:
    return ds.spec.standard.upper().startswith("SDTM")


def _check_identifiers(ds: Dataset) -> Iterator[Finding]:
    cols = set(ds.spec.names)
    relationship = ds.name.startswith("SUPP") or ds.name == "RELREC"  # RDOMAIN, no DOMAIN
    domain = "RDOMAIN" if relationship else "DOMAIN"
    needed = ["STUDYID", domain] + ([] if ds.name in _SUBJECTLESS else ["USUBJID"])
    for var in needed:
        if var not in cols:
            yield Finding("SD01", "error", ds.name, var, None, None, f"{var} is missing")
    if "DOMAIN" in cols and not relationship:
        wrong = ds.frame["DOMAIN"] != ds.name
        yield from _each(ds, "DOMAIN", wrong, "SD02", f"DOMAIN must be {ds.name!r}")


def _check_seq(ds: Dataset) -> Iterator[Finding]:
    if ds.name in _NO_SEQ or ds.name.startswith("SUPP") or ds.name == "RELREC":
        return
    seq = f"{ds.name}SEQ"
    if seq not in ds.spec.names:
        yield Finding("SD03", "error", ds.name, seq, None, None, f"{seq} is missing")
        return
    values = pd.to_numeric(ds.frame[seq], errors="coerce")
    bad = values.isna() | (values % 1 != 0)
    yield from _each(ds, seq, bad, "SD03", f"{seq} must be a whole number")
    if "USUBJID" in ds.spec.names:
        dup = ds.frame.duplicated(["USUBJID", seq], keep="first")
        yield from _each(ds, seq, dup, "SD03", f"{seq} repeats within USUBJID")


def _check_required(ds: Dataset) -> Iterator[Finding]:
    for var in ds.spec.variables:
        if var.core == "Req":
            missing = ds.frame[var.name].isna()
            yield from _each(ds, var.name, missing, "SD05", f"{var.name} is required")


def _check_codelists(ds: Dataset) -> Iterator[Finding]:
    for var in ds.spec.variables:
        codelist = CODELISTS.get(var.codelist or "")
        if codelist is None:
            continue
        allowed = {t.submission for t in codelist.terms}
        column = ds.frame[var.name]
        bad = column.notna() & ~column.isin(allowed)
        yield from _each(ds, var.name, bad, "CT01", f"not a term of codelist {codelist.id}")


def _study_day(dtc: Any, ref: Any) -> int | None:
    if not isinstance(dtc, str) or not isinstance(ref, str) or len(dtc) < 10 or len(ref) < 10:
        return None
    days = (dt.date.fromisoformat(dtc[:10]) - dt.date.fromisoformat(ref[:10])).days
    return days + 1 if days >= 0 else days


def _ordinal(value: Any) -> float:
    """The day number of a ``--DTC`` for :func:`_study_day` (NaN where it gives none)."""
    if not isinstance(value, str) or len(value) < 10:
        return np.nan
    return float(dt.date.fromisoformat(value[:10]).toordinal())


def _ordinals(column: pd.Series) -> np.ndarray:
    return map_values(_ordinal, column, missing=np.nan).astype("float64")


def _check_study_days(ds: Dataset, rfstdtc: Mapping[str, Any]) -> Iterator[Finding]:
    prefix = ds.name
    pairs = [(f"{prefix}DY", f"{prefix}DTC"), (f"{prefix}STDY", f"{prefix}STDTC"),
             (f"{prefix}ENDY", f"{prefix}ENDTC")]  # fmt: skip
    names = ds.spec.names
    for dy, dtc in pairs:
        if dy not in names or dtc not in names:
            continue
        known = ds.frame["USUBJID"].isin(set(rfstdtc)).to_numpy()  # unknown subjects are SD04's
        refs = ds.frame["USUBJID"].map(rfstdtc)
        # _study_day of each row, by array operations on the day numbers of each distinct date
        days = _ordinals(ds.frame[dtc]) - _ordinals(refs)
        expected = study_days(days)
        given = pd.to_numeric(ds.frame[dy], errors="coerce").to_numpy(dtype="float64")
        missing = np.isnan(expected)
        bad = known & ((missing != np.isnan(given)) | (~missing & (expected != given)))
        yield from _each(ds, dy, pd.Series(bad), "SD06", f"{dy} disagrees with {dtc} and RFSTDTC")


def _check_subjects(datasets: Mapping[str, Dataset]) -> Iterator[Finding]:
    dm = datasets.get("DM")
    if dm is None:
        yield Finding("SD04", "error", "DM", None, None, None, "the package has no DM")
        return
    dup = dm.frame.duplicated(["USUBJID"])
    yield from _each(dm, "USUBJID", dup, "SD04", "DM has more than one row for this USUBJID")
    subjects = set(dm.frame["USUBJID"])
    for ds in datasets.values():
        if ds.name == "DM" or "USUBJID" not in ds.spec.names or ds.name == "ADSL":
            continue
        rule = "SD04" if _is_sdtm(ds) else "AD02"
        known = subjects if _is_sdtm(ds) else _adsl_subjects(datasets)
        unknown = ~ds.frame["USUBJID"].isin(known)
        where = "DM" if rule == "SD04" else "ADSL"
        yield from _each(ds, "USUBJID", unknown, rule, f"USUBJID is not in {where}")
    adsl = datasets.get("ADSL")
    if adsl is not None:
        yield from _each(adsl, "USUBJID", adsl.frame.duplicated(["USUBJID"]), "AD01",
                         "ADSL has more than one row for this USUBJID")  # fmt: skip
        yield from _each(adsl, "USUBJID", ~adsl.frame["USUBJID"].isin(subjects), "AD01",
                         "ADSL USUBJID is not in DM")  # fmt: skip


def _adsl_subjects(datasets: Mapping[str, Dataset]) -> set[Any]:
    adsl = datasets.get("ADSL")
    return set() if adsl is None else set(adsl.frame["USUBJID"])


def _check_sources(ds: Dataset, datasets: Mapping[str, Dataset]) -> Iterator[Finding]:
    if not {"SRCDOM", "SRCSEQ", "USUBJID"} <= set(ds.spec.names):
        return
    keys: dict[str, set[tuple[Any, int]]] = {}
    frame = ds.frame
    for row in _unresolved_sources(ds, datasets):
        dom, subject, seq = (
            frame["SRCDOM"].iat[row],
            frame["USUBJID"].iat[row],
            frame["SRCSEQ"].iat[row],
        )
        if dom is None or pd.isna(seq):
            continue
        target = datasets.get(dom)
        if target is None or f"{dom}SEQ" not in target.spec.names:
            yield Finding("AD03", "error", ds.name, "SRCDOM", row + 1, _show(dom),
                          f"SRCDOM {dom!r} is not an SDTM domain of the package")  # fmt: skip
            continue
        if dom not in keys:
            tf = target.frame
            keys[dom] = set(zip(tf["USUBJID"], tf[f"{dom}SEQ"].astype(int), strict=True))
        if (subject, int(seq)) not in keys[dom]:
            yield Finding("AD03", "error", ds.name, "SRCSEQ", row + 1, _show(seq),
                          f"no {dom} record with {dom}SEQ {int(seq)} for {subject}")  # fmt: skip


def _unresolved_sources(ds: Dataset, datasets: Mapping[str, Dataset]) -> list[int]:
    """The rows whose SRCDOM/SRCSEQ may not resolve (every other row surely does), found by
    matching each source domain's keys at once; :func:`_check_sources` looks at these only."""
    frame = ds.frame
    dom = frame["SRCDOM"].to_numpy(dtype=object)
    seq = pd.to_numeric(frame["SRCSEQ"], errors="coerce").to_numpy(dtype="float64")
    doubtful = np.zeros(len(frame), dtype=bool)
    for name in {d for d in set(dom.tolist()) if isinstance(d, str)}:
        rows = (dom == name) & ~np.isnan(seq)
        target = datasets.get(name)
        if target is None or f"{name}SEQ" not in target.spec.names:
            doubtful |= rows
            continue
        tf = target.frame
        known = pd.MultiIndex.from_arrays([tf["USUBJID"], tf[f"{name}SEQ"].astype(int)])
        wanted = pd.MultiIndex.from_arrays([frame["USUBJID"][rows], seq[rows].astype(int)])
        doubtful[np.flatnonzero(rows)[~wanted.isin(known)]] = True
    others = np.asarray([d is not None and not isinstance(d, str) for d in dom], dtype=bool)
    return np.flatnonzero(doubtful | (others & ~np.isnan(seq))).tolist()


def _check_aval_avalc(ds: Dataset) -> Iterator[Finding]:
    if not {"PARAMCD", "AVAL", "AVALC"} <= set(ds.spec.names):
        return
    both = ds.frame[["PARAMCD", "AVAL", "AVALC"]].dropna()
    for column, other in (("AVAL", "AVALC"), ("AVALC", "AVAL")):
        counts = both.groupby(["PARAMCD", column])[other].nunique()
        for (paramcd, value), n in counts[counts > 1].items():
            yield Finding("AD04", "error", ds.name, column, None, _show(value),
                          f"PARAMCD {paramcd}: {column} {value!r} maps to {n} values of "
                          f"{other}")  # fmt: skip


def _check_references(datasets: Mapping[str, Dataset]) -> Iterator[Finding]:
    for rule, name, var, target_name, target_var in _REFERENCES:
        ds, target = datasets.get(name), datasets.get(target_name)
        if ds is None or target is None or var not in ds.spec.names:
            continue
        column = ds.frame[var]
        bad = column.notna() & ~column.isin(set(target.frame[target_var].dropna()))
        if rule == "TD02":  # unscheduled visits (x.1, x.2) are not planned visits
            bad &= pd.to_numeric(column, errors="coerce") % 1 == 0
        yield from _each(ds, var, bad, rule, f"{var} is not a {target_var} of {target_name}")


def _check_trial_summary(ds: Dataset) -> Iterator[Finding]:
    if ds.name != "TS" or not {"TSPARMCD", "TSPARM", "TSVAL", "TSVALNF"} <= set(ds.spec.names):
        return
    f = ds.frame
    for row, (code, name, value, flavor) in enumerate(
        zip(f["TSPARMCD"], f["TSPARM"], f["TSVAL"], f["TSVALNF"], strict=True), start=1
    ):
        codelist = CODELISTS.get(TS_VALUE_CODELIST.get(code, ""))
        terms = set() if codelist is None else {t.submission for t in codelist.terms}
        if codelist is not None and value is not None and value not in terms:
            yield Finding("TD05", "error", "TS", "TSVAL", row, _show(value),
                          f"{code}: not a term of codelist {codelist.id}")  # fmt: skip
        if _show(value) is None and _show(flavor) is None:
            yield Finding("TD05", "error", "TS", "TSVAL", row, None,
                          f"{code}: TSVAL is missing and TSVALNF does not say why")  # fmt: skip
        if code in TS_PARAMETER.values and name != TS_PARAMETER.decode(code):
            yield Finding("TD05", "error", "TS", "TSPARM", row, _show(name),
                          f"TSPARM of {code} is {TS_PARAMETER.decode(code)!r}")  # fmt: skip
    present = set(f["TSPARMCD"].dropna())
    for code in FDA_TS_PARAMETERS:
        if code not in present:
            yield Finding("TD06", "error", "TS", "TSPARMCD", None, code,
                          f"TS has no {code} record ({TS_PARAMETER.decode(code)}), which the "
                          "FDA asks for: give its value or a null flavor")  # fmt: skip


def _dataset_findings(
    ds: Dataset, datasets: Mapping[str, Dataset], rfstdtc: Any
) -> Iterator[Finding]:
    try:
        ds.check()
    except StandardsError as err:
        yield Finding("ST01", "error", ds.name, None, None, None, str(err))
        return
    if _is_sdtm(ds):
        yield from _check_identifiers(ds)
        yield from _check_seq(ds)
        yield from _check_trial_summary(ds)
        if "USUBJID" in ds.spec.names and rfstdtc is not None:
            yield from _check_study_days(ds, rfstdtc)
    else:
        yield from _check_sources(ds, datasets)
        yield from _check_aval_avalc(ds)
    yield from _check_required(ds)
    yield from _check_codelists(ds)


def check_conformance(datasets: Mapping[str, Dataset]) -> ConformanceReport:
    """Run every rule of the module table over a package's datasets.

    Parameters
    ----------
    datasets : mapping of str to Dataset
        SDTM and ADaM datasets by name (SDTM recognised by ``spec.standard`` starting "SDTM").

    Returns
    -------
    ConformanceReport
        At most 20 findings per rule and dataset are listed; the rest are counted in
        ``truncated`` (a truncated report never passes).
    """
    dm = datasets.get("DM")
    rfstdtc = None
    if dm is not None and "RFSTDTC" in dm.spec.names:
        rfstdtc = dict(zip(dm.frame["USUBJID"], dm.frame["RFSTDTC"], strict=True))
    findings: list[Finding] = []
    counts: dict[tuple[str, str], int] = {}
    truncated: dict[str, int] = {}

    def keep(found: Iterator[Finding]) -> None:
        for f in found:
            key = (f.rule, f.dataset)
            counts[key] = counts.get(key, 0) + 1
            if counts[key] <= _MAX_PER_RULE:
                findings.append(f)
            else:
                truncated[f"{f.rule} {f.dataset}"] = counts[key] - _MAX_PER_RULE

    for ds in datasets.values():
        keep(_dataset_findings(ds, datasets, rfstdtc))
    keep(_check_subjects(datasets))
    keep(_check_references(datasets))
    return ConformanceReport(tuple(findings), truncated)
