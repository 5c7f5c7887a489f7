"""Shared by the domain builders: variable declarations and records -> checked dataset.

>>> spec = domain_spec("XX", "Example", "EVENTS", "One record per event", ("USUBJID",),
...                    [var("USUBJID", "Unique Subject Identifier", "text", "Identifier", "Req"),
...                     var("XXSEQ", "Sequence Number", "integer", "Identifier", "Req")])
>>> to_dataset(spec, [{"USUBJID": "S-A-1", "XXSEQ": 1}]).frame["XXSEQ"].tolist()
[1.0]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from cletrial.standards._columns import Column
from cletrial.standards.metadata import (
    SDTMIG_VERSION,
    Dataset,
    DatasetSpec,
    Origin,
    Variable,
    VariableType,
)
from cletrial.standards.sdtm.common import Provenance

__all__ = ["STUDYID", "USUBJID", "VISIT", "VISITNUM", "collect", "columns_to_dataset",
           "domain_spec", "to_dataset", "var"]  # fmt: skip

Core = Literal["Req", "Exp", "Perm"]


def var(
    name: str,
    label: str,
    type_: VariableType,
    role: str,
    core: Core,
    *,
    origin: Origin = "Collected",
    derivation: str | None = None,
    codelist: str | None = None,
    identifying: bool = False,
) -> Variable:
    """Declare an SDTM variable (a :class:`Variable` with its role and core)."""
    return Variable(name, label, type_, role=role, core=core, codelist=codelist, origin=origin,
                    derivation=derivation, identifying=identifying)  # fmt: skip


STUDYID = var("STUDYID", "Study Identifier", "text", "Identifier", "Req", origin="Assigned")
USUBJID = var("USUBJID", "Unique Subject Identifier", "text", "Identifier", "Req",
              origin="Derived", derivation="STUDYID-SITEID-SUBJID")  # fmt: skip
#: The visit of a findings record, as SV numbers it.
VISITNUM = var("VISITNUM", "Visit Number", "float", "Timing", "Exp", origin="Derived",
               derivation="SV.VISITNUM of the visit the record belongs to")  # fmt: skip
VISIT = var("VISIT", "Visit Name", "text", "Timing", "Perm", origin="Derived",
            derivation="SV.VISIT of the visit the record belongs to")  # fmt: skip


def domain_spec(
    name: str, label: str, cls: str, structure: str, keys: tuple[str, ...],
    variables: Sequence[Variable],
) -> DatasetSpec:  # fmt: skip
    """A checked SDTMIG 3.4 dataset specification."""
    return DatasetSpec(name=name, label=label, domain_class=cls, structure=structure, keys=keys,
                       variables=tuple(variables),
                       standard=f"SDTMIG {SDTMIG_VERSION}").check()  # fmt: skip


def _column(values: list[Any], type_: VariableType) -> Any:
    if type_ in ("integer", "float"):
        return np.asarray(values, dtype="float64")  # None -> NaN, in C
    return values


def to_dataset(spec: DatasetSpec, records: Sequence[dict[str, Any]]) -> Dataset:
    """Build the frame of ``records`` (missing keys are missing values) and check it."""
    columns = {v.name: _column([r.get(v.name) for r in records], v.type) for v in spec.variables}
    frame = pd.DataFrame(columns, columns=list(spec.names))
    for v in spec.variables:
        if v.type in ("text", "iso8601", "sas_date"):
            frame[v.name] = frame[v.name].astype(object)
    return Dataset(spec, frame).check()


def columns_to_dataset(spec: DatasetSpec, columns: Mapping[str, Column]) -> Dataset:
    """Build the frame of whole ``columns`` (sequences or arrays, one per variable of ``spec``,
    missing values ``None`` or NaN) as :func:`to_dataset` builds it from records, and check it.

    >>> spec = domain_spec("XX", "Example", "EVENTS", "One record per event", ("USUBJID",),
    ...                    [var("USUBJID", "Unique Subject Identifier", "text", "Identifier",
    ...                         "Req"), var("XXSEQ", "Sequence Number", "integer", "Identifier",
    ...                                     "Req")])
    >>> columns_to_dataset(spec, {"USUBJID": ["S-A-1"], "XXSEQ": [1]}).frame["XXSEQ"].tolist()
    [1.0]
    """
    arrays = {v.name: _column_array(columns[v.name], v.type) for v in spec.variables}
    # copy=False: each column keeps its own array (no second copy of the whole table)
    frame = pd.DataFrame(arrays, columns=list(spec.names), copy=False)
    return Dataset(spec, frame).check()


def _column_array(values: Column, type_: VariableType) -> Any:
    if type_ in ("integer", "float"):
        return np.asarray(values, dtype="float64")  # None -> NaN, in C
    if isinstance(values, np.ndarray) and values.dtype == object and values.ndim == 1:
        return values
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def collect(rows: list[dict[str, Any]], domain: str, records: list[dict[str, Any]],
            provenance: list[Provenance]) -> None:  # fmt: skip
    """Move one subject's sequenced ``rows`` into ``records``, recording each one's
    :class:`Provenance` from its ``_src`` key (``(array, index)``; removed)."""
    for row in rows:
        array, index = row.pop("_src")
        provenance.append(Provenance(domain, row["USUBJID"], row[f"{domain}SEQ"], array, index))
        records.append(row)
