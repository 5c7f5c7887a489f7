"""The shape of ADaM's structured datasets (BDS, OCCDS): variables, specs, sorting and ASEQ."""

from __future__ import annotations

import math
from typing import Any, Final

from cletrial.standards.adam._base import STANDARD, AdamInput, make_dataset
from cletrial.standards.metadata import Dataset, DatasetSpec, Variable, VariableType
from cletrial.vocabulary import NO_YES

__all__ = ["bds_spec", "finish"]

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
    USUBJID and PARAM; check."""
    order = {code: i for i, code in enumerate(params)}

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        day = r.get("day")
        return (
            r["p"],
            order.get(r.get("PARAMCD", ""), 0),
            math.inf if day is None or day != day else day,
            r.get("RELNO") or 0,
        )

    records.sort(key=key)
    counter: dict[int, int] = {}
    for r in records:
        counter[r["p"]] = counter.get(r["p"], 0) + 1
        r["ASEQ"] = float(counter[r["p"]])
        r["STUDYID"] = a.dm[r["p"]]["STUDYID"]
        r["USUBJID"] = a.usubjids[r["p"]]
        if "PARAMCD" in r:
            r.setdefault("PARAM", params[r["PARAMCD"]])
    return make_dataset(spec, {c: [r.get(c) for r in records] for c in spec.names})
