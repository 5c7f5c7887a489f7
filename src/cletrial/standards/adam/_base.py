"""What every ADaM builder shares: the cohort as the engine derived it, dates, flags and sources.

:class:`AdamInput` holds, for the patients in one fixed order (the order of the histories),
their ``USUBJID`` and DM record, the parsed histories, the engine's visit table and endpoints
(:func:`cletrial.endpoints.derive_endpoints`, the one engine) and the SDTM source lookup.
Days are the engine's (0 = first dose); :meth:`AdamInput.date` turns them into dates and
:func:`study_day` into ADaM study days (day 1 = ``TRTSDT``, no day 0).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import pandas as pd

from cletrial.endpoints import EndpointRules, Endpoints, VisitTable, derive_endpoints
from cletrial.endpoints.table import table_from_histories
from cletrial.errors import CletrialError, StandardsError
from cletrial.protocol.history import PatientHistory, parse_history
from cletrial.standards.metadata import Dataset, DatasetSpec, Variable

__all__ = ["NO_SDTM_RECORD", "STANDARD", "AdamInput", "Source", "flag", "make_dataset",
           "study_day"]  # fmt: skip

#: (USUBJID, history array, 0-based index) -> (SDTM domain, --SEQ), or None when unknown.
Source = Callable[[str, str, int], "tuple[str, int] | None"]
#: What a source answers for a history record that no SDTM record holds by design (a change to
#: no treatment is not an EX record): SRCDOM and SRCSEQ are left missing, not an error.
NO_SDTM_RECORD: Final = ("", 0)

STANDARD: Final = "ADaMIG 1.3"
#: SDTM domains of the events and interventions classes: their record date is ``--STDTC``.
_DATED_BY_START: Final = frozenset({"AE", "CM", "DS", "DV", "EC", "EX", "MH", "PR"})
#: DM variables every ADaM dataset may copy.
DM_REQUIRED: Final = (
    "STUDYID",
    "USUBJID",
    "SUBJID",
    "SITEID",
    "AGE",
    "AGEU",
    "SEX",
    "ARM",
    "ACTARM",
)


def flag(value: Any) -> str | None:
    """``Y`` / ``N`` of a boolean, ``None`` when missing.

    >>> flag(True), flag(False), flag(None), flag(float("nan"))
    ('Y', 'N', None, None)
    """
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return "Y" if bool(value) else "N"


def study_day(day: float | None, treated: bool) -> float:
    """ADaM study day of an engine day (0 = first dose): day 1 = first dose, no day 0.

    Missing (NaN) for an untreated patient, who has no ``TRTSDT``.

    >>> study_day(0, True), study_day(-3, True), study_day(27, True), study_day(5, False)
    (1.0, -3.0, 28.0, nan)
    """
    if day is None or day != day or not treated:
        return float("nan")
    return float(day + 1 if day >= 0 else day)


def value_variable(domain: str) -> str:
    """The SDTM variable holding a record's result (``QSSTRESN``) or its start (``AESTDTC``).

    >>> value_variable("QS"), value_variable("EX")
    ('QSSTRESN', 'EXSTDTC')
    """
    return f"{domain}STDTC" if domain in _DATED_BY_START else f"{domain}STRESN"


def date_variable(domain: str) -> str:
    """The SDTM variable holding a record's date (``QSDTC``, ``DSSTDTC``).

    >>> date_variable("RS"), date_variable("DS")
    ('RSDTC', 'DSSTDTC')
    """
    return f"{domain}STDTC" if domain in _DATED_BY_START else f"{domain}DTC"


def _dm_rows(dm: Dataset) -> dict[str, dict[str, Any]]:
    missing = [name for name in DM_REQUIRED if name not in dm.frame.columns]
    if missing:
        raise StandardsError(f"DM: variables {missing} are missing; ADaM copies them from DM")
    rows = dm.frame.to_dict("records")
    out = {str(r["USUBJID"]): r for r in rows}
    if len(out) != len(rows):
        raise StandardsError("DM.USUBJID: a subject appears twice; DM has one record a subject")
    return out


def _parse(usubjid: str, history: PatientHistory | Mapping[str, Any]) -> PatientHistory:
    if isinstance(history, PatientHistory):
        return history
    try:
        return parse_history(history)
    except CletrialError as exc:
        raise StandardsError(f"history of {usubjid}: {exc}") from None


@dataclass(frozen=True)
class AdamInput:
    """One cohort ready for the ADaM builders (see the module docstring)."""

    usubjids: list[str]
    dm: list[dict[str, Any]]
    histories: list[PatientHistory]
    table: VisitTable
    endpoints: Endpoints
    source: Source
    rules: EndpointRules
    origins: list[dt.date | None]
    treated: list[bool]
    _subject_lists: dict[str, list[Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def build(
        cls,
        dm: Dataset,
        histories: Mapping[str, PatientHistory | Mapping[str, Any]],
        source: Source,
        rules: EndpointRules,
    ) -> AdamInput:
        """Check that every history's USUBJID is in DM and back, and run the engine once."""
        rows = _dm_rows(dm)
        extra = [u for u in histories if u not in rows]
        if extra:
            raise StandardsError(f"histories: USUBJID {extra[0]!r} is not in DM; build DM first")
        absent = [u for u in rows if u not in histories]
        if absent:
            raise StandardsError(f"DM: USUBJID {absent[0]!r} has no patient history")
        usubjids = list(histories)
        parsed = [_parse(u, histories[u]) for u in usubjids]
        table = table_from_histories(parsed, rules)
        endpoints = derive_endpoints(table, rules)
        pats = table.patients
        origins = [
            None if pd.isna(t) else pd.Timestamp(t).date() for t in pats["origin_date"].tolist()
        ]
        return cls(
            usubjids,
            [rows[u] for u in usubjids],
            parsed,
            table,
            endpoints,
            source,
            rules,
            origins,
            [bool(t) for t in pats["treated"].tolist()],
        )

    def subject_lists(self) -> dict[str, list[Any]]:
        """The engine's subject columns as lists, ``None`` for every missing value (made once;
        not to be changed by the caller)."""
        if not self._subject_lists:
            rows = self.endpoints.records()
            self._subject_lists.update(
                {name: [r[name] for r in rows] for name in self.endpoints.kinds}
            )
        return self._subject_lists

    def date(self, p: int, day: float | None) -> dt.date | None:
        """The calendar date of engine day ``day`` of patient ``p`` (None when missing)."""
        origin = self.origins[p]
        if origin is None or day is None or day != day:
            return None
        return origin + dt.timedelta(days=int(day))

    def sdtm(self, p: int, array: str, seq: float | None) -> tuple[str | None, float]:
        """(SDTM domain, --SEQ) of the record at 1-based ``seq`` of a history array.

        Raises
        ------
        StandardsError
            When the lookup does not know the record: SRCSEQ must always resolve.
        """
        if seq is None or seq != seq:
            return None, float("nan")
        found = self.source(self.usubjids[p], array, int(seq) - 1)
        if found == NO_SDTM_RECORD:
            return None, float("nan")
        if found is None:
            raise StandardsError(
                f"SRCSEQ: no SDTM record for {array}[{int(seq) - 1}] of {self.usubjids[p]}: "
                "build SDTM from the same histories"
            )
        return found[0], float(found[1])


def make_dataset(spec: DatasetSpec, columns: dict[str, list[Any]]) -> Dataset:
    """A checked :class:`Dataset` from column lists named as ``spec``'s variables."""
    frame = pd.DataFrame(
        {
            name: pd.Series(columns[name], dtype=_dtype(v))
            for name, v in zip(spec.names, spec.variables, strict=True)
        },
        copy=False,  # each column keeps its own array (no second copy of the whole table)
    )
    return Dataset(spec, frame).check()


def _dtype(variable: Variable) -> str:
    return "float64" if variable.type in ("integer", "float") else "object"
