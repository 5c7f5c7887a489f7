"""The shape of ADaM's structured datasets (BDS, OCCDS): variables, specs, sorting and ASEQ."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import numpy as np

from cletrial.standards._columns import Column, objects, seq_within, sort_order
from cletrial.standards.adam._base import STANDARD, AdamInput, make_dataset
from cletrial.standards.metadata import Dataset, DatasetSpec, Variable, VariableType
from cletrial.vocabulary import NO_YES

__all__ = ["bds_spec", "finish", "finish_columns", "record_columns"]

_TYPES: Final[dict[str, VariableType]] = {
    "ASEQ": "integer",
    "AVAL": "float",
    "BASE": "float",
    "CHG": "float",
    "PCHG": "float",
    "AVISITN": "integer",
    "ADT": "sas_date",
    "ADY": "integer",
    "RELNO": "integer",
    "SRCSEQ": "integer",
    "AGE": "integer",
    "CNSR": "integer",
    "STARTDT": "sas_date",
    "ASTDT": "sas_date",
    "AENDT": "sas_date",
    "ASTDY": "integer",
    "AENDY": "integer",
    "ATOXGRN": "integer",
    "BTOXGRN": "integer",
}
_PREDECESSORS: Final = ("STUDYID", "USUBJID")


def bds_spec(
    name: str,
    label: str,
    columns: tuple[str, ...],
    labels: dict[str, str],
    derived: dict[str, str],
    keys: tuple[str, ...],
    domain_class: str = "BASIC DATA STRUCTURE",
) -> DatasetSpec:
    """An ADaM spec whose variables are ``columns``: STUDYID/USUBJID from DM, flags Y/N, the
    rest derived with the text in ``derived``."""
    variables = []
    for c in columns:
        kind = _TYPES.get(c, "text")
        if c in _PREDECESSORS:
            variables.append(Variable(c, labels[c], kind, origin="Predecessor", source=f"DM.{c}"))
        else:
            variables.append(
                Variable(
                    c,
                    labels[c],
                    kind,
                    origin="Derived",
                    derivation=derived[c],
                    codelist=NO_YES.id if c.endswith("FL") else None,
                )
            )
    structure = {
        "BASIC DATA STRUCTURE": "One record per subject per parameter per analysis date"
    }.get(domain_class, "One record per subject per event")
    return DatasetSpec(
        name=name,
        label=label,
        domain_class=domain_class,
        structure=structure,
        keys=keys,
        variables=tuple(variables),
        standard=STANDARD,
    )


def finish(
    a: AdamInput, spec: DatasetSpec, records: list[dict[str, Any]], params: dict[str, str]
) -> Dataset:
    """Sort records by subject, parameter (``params`` order), day; number ASEQ; add STUDYID,
    USUBJID and PARAM; check (records as :func:`finish_columns` takes columns)."""
    return finish_columns(a, spec, record_columns(records, spec, params), params)


def record_columns(
    records: list[dict[str, Any]], spec: DatasetSpec, params: dict[str, str]
) -> dict[str, Column]:
    """The columns of ``records`` that :func:`finish_columns` takes (``PARAM`` from
    ``params`` where a record has a ``PARAMCD`` and no ``PARAM``)."""
    names = [c for c in spec.names if c not in ("ASEQ", "STUDYID", "USUBJID", "PARAM")]
    wanted = dict.fromkeys((*names, "p", "day", "RELNO", "PARAMCD"))
    columns: dict[str, Column] = {c: [r.get(c) for r in records] for c in wanted}
    if "PARAM" in spec.names:
        columns["PARAM"] = [r["PARAM"] if "PARAM" in r
                            else params[r["PARAMCD"]] if "PARAMCD" in r else None
                            for r in records]  # fmt: skip
    return columns


def finish_columns(
    a: AdamInput, spec: DatasetSpec, given: Mapping[str, Column], params: dict[str, str]
) -> Dataset:
    """Sort the rows of the ``given`` columns by subject (``p``, a position in ``a``), parameter
    (``PARAMCD`` in ``params`` order), day (``day``, missing last) and ``RELNO``, keeping the
    given order on a tie; number ASEQ within the subject; add STUDYID, USUBJID and PARAM (unless
    given); check.

    ``given`` holds ``p``, ``day`` and every variable of ``spec`` but those four (a variable
    absent is missing on every row; ``PARAMCD`` and ``RELNO`` may be absent).
    """
    columns = dict(given)
    p = np.asarray(columns["p"], dtype=np.int64)
    order = {code: i for i, code in enumerate(params)}
    paramcd = columns.get("PARAMCD")
    rank = np.zeros(len(p)) if paramcd is None else [order.get(c, 0) for c in paramcd]
    day = np.asarray(columns["day"], dtype="float64")
    relnos = columns.get("RELNO")
    relno = np.zeros(len(p)) if relnos is None else [r or 0 for r in relnos]
    rows = sort_order(p, rank, np.where(np.isnan(day), np.inf, day), relno,
                      np.arange(len(p)))  # fmt: skip
    p = p[rows]
    out: dict[str, Any] = {
        "ASEQ": seq_within(p).astype("float64"),
        "STUDYID": _taken([r["STUDYID"] for r in a.dm], p),
        "USUBJID": _taken(a.usubjids, p),
    }
    if "PARAM" in spec.names and "PARAM" not in columns and paramcd is not None:
        columns["PARAM"] = [params[c] for c in paramcd]
    for name in spec.names:
        if name not in out:
            column = columns.get(name)
            out[name] = [None] * len(p) if column is None else _taken(column, rows)
    return make_dataset(spec, out)


def _taken(values: Column, positions: np.ndarray) -> np.ndarray:
    """``values`` at ``positions``, as an array (objects unless the values are an array)."""
    array = values if isinstance(values, np.ndarray) else objects(values)
    taken: np.ndarray = array[positions]
    return taken
