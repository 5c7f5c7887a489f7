"""ADRS by visit: the CLASIA and CLASIRSP records of every visit, as whole columns.

The records are those the module table of :mod:`cletrial.standards.adam.adrs` describes, in
record order: each patient's baseline CLASIA, then for each row of the engine's visit table its
CLASIA (when the visit has a CLASI-A) and its CLASIRSP. ``ANL01FL`` is set here: on the baseline
and, per patient, parameter and visit, on the record closest to the nominal day (the first on a
tie).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np

from cletrial.endpoints.rules import RESPONSE_CODES, EndpointRules
from cletrial.standards._columns import map_columns, map_values, objects, sort_order, study_days
from cletrial.standards.adam._base import AdamInput, value_variable

__all__ = ["joined", "visit_columns"]

#: :func:`~cletrial.standards.adam.adrs.visit_response`: (CLASI-A, baseline, rules) -> response.
Response = Callable[[float, float, EndpointRules], str]


def _week_name(week: float) -> str:
    return f"WEEK {week:.0f}"


def _dates(a: AdamInput, p: np.ndarray, day: np.ndarray) -> np.ndarray:
    """:meth:`AdamInput.date` of each row (``None`` where the origin or the day is missing)."""
    origins = np.asarray([np.nan if o is None else o.toordinal() for o in a.origins])
    ordinal = origins[p] + np.trunc(day) if len(p) else np.zeros(0)
    return map_values(_from_ordinal, ordinal, None)


def _from_ordinal(ordinal: float) -> dt.date:
    return dt.date.fromordinal(int(ordinal))


def _code(response: str) -> float:
    return float(RESPONSE_CODES.index(response) + 1)


def _sources(a: AdamInput, p: list[int], array: str, seq: list[Any]) -> tuple[list[Any], ...]:
    found = [a.sdtm(pp, array, s) for pp, s in zip(p, seq, strict=True)]
    return [f[0] for f in found], [f[1] for f in found]


def _baseline(a: AdamInput, bases: np.ndarray) -> dict[str, Any]:
    p = [i for i, h in enumerate(a.histories) if h.baseline is not None and not np.isnan(bases[i])]
    day = []
    for i in p:
        origin, baseline = a.origins[i], a.histories[i].baseline
        assert baseline is not None
        day.append(np.nan if origin is None else float((baseline.date - origin).days))
    dom, seq = _sources(a, p, "baseline", [1] * len(p))
    n = len(p)
    return {"p": np.asarray(p, dtype=np.int64), "day": np.asarray(day, dtype="float64"),
            "PARAMCD": objects(["CLASIA"] * n), "AVAL": bases[p], "BASE": bases[p],
            "ABLFL": objects(["Y"] * n), "AVISIT": objects(["BASELINE"] * n),
            "AVISITN": np.zeros(n), "SRCDOM": objects(dom),
            "SRCSEQ": np.asarray(seq, dtype="float64")}  # fmt: skip


def _visits(a: AdamInput, bases: np.ndarray, response: Callable[..., str]) -> dict[str, Any]:
    """Two rows a visit (CLASIA, CLASIRSP), the CLASIA one to be left out when not scored."""
    v = a.table.visits
    p = v["pidx"].to_numpy(dtype=np.int64)
    day, score = v["day"].to_numpy(dtype="float64"), v["clasi_a"].to_numpy(dtype="float64")
    base, scored = bases[p], ~np.isnan(score)
    week = np.maximum(1.0, np.round(day / 7))
    with np.errstate(divide="ignore", invalid="ignore"):
        chg = score - base
        pchg = np.where(base > 0, 100 * chg / base, np.nan)
    answer = map_columns(response, score.tolist(), base.tolist())
    codes = map_values(_code, answer, None)
    # a visit without a CLASI-A (e.g. only a CLA-IGA grade) has no QS CLASIA source
    rows = np.flatnonzero(scored)
    found, seq = _sources(a, p[rows].tolist(), "assessments", v["seq"].to_numpy()[rows].tolist())
    dom, srcseq = objects([None] * len(p)), np.full(len(p), np.nan)
    dom[rows], srcseq[rows] = objects(found), seq
    n = len(p)
    nan = np.full(n, np.nan)
    week_name = map_values(_week_name, week, None)
    return {
        "p": _pair(p, p),
        "day": _pair(day, day),
        "PARAMCD": _pair(objects(["CLASIA"] * n), objects(["CLASIRSP"] * n)),
        "AVAL": _pair(score, codes.astype("float64")),
        "AVALC": _pair(objects([None] * n), answer),
        "BASE": _pair(base, nan),
        "CHG": _pair(chg, nan),
        "PCHG": _pair(pchg, nan),
        "AVISIT": _pair(week_name, week_name),
        "AVISITN": _pair(week, week),
        "SRCDOM": _pair(dom, dom),
        "SRCSEQ": _pair(srcseq, srcseq),
        "_keep": _pair(scored, np.ones(n, dtype=bool)),
    }


def _pair(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """``first[0], second[0], first[1], second[1], ...``."""
    out = np.empty(2 * len(first), dtype=np.result_type(first, second))
    out[0::2], out[1::2] = first, second
    return out


def _anl01fl(cols: dict[str, Any]) -> np.ndarray:
    """Y on the visit record closest to its nominal day, per patient, parameter and visit."""
    distance = np.abs(cols["day"] - 7 * cols["AVISITN"])
    param = (cols["PARAMCD"] == "CLASIRSP").astype(np.int64)
    order = sort_order(cols["p"], param, cols["AVISITN"], distance, np.arange(len(distance)))
    key = np.stack([cols["p"], param, cols["AVISITN"]])[:, order]
    first = order[np.r_[True, (key[:, 1:] != key[:, :-1]).any(axis=0)]] if len(order) else order
    flags = objects([None] * len(distance))
    flags[first] = "Y"
    return flags


def visit_columns(a: AdamInput, response: Response) -> dict[str, Any]:
    """The baseline and visit records of ADRS as columns (``p``, ``day`` and the ADRS
    variables they have), in record order, with ANL01FL; ``response`` classifies a visit
    (:func:`~cletrial.standards.adam.adrs.visit_response`)."""
    bases = a.table.patients["clasi_a_base"].to_numpy(dtype="float64")
    base = _baseline(a, bases)
    visits = _visits(a, bases, lambda score, base: response(score, base, a.rules))
    keep = visits.pop("_keep")
    visits = {name: column[keep] for name, column in visits.items()}
    visits["ANL01FL"] = _anl01fl(visits)
    base["ANL01FL"] = objects(["Y"] * len(base["p"]))
    cols = {name: joined(base.get(name), visits.get(name), len(base["p"]), len(visits["p"]))
            for name in {**visits, **base}}  # fmt: skip
    p, day = cols["p"].astype(np.int64), cols["day"].astype("float64")
    treated = np.asarray(a.treated, dtype=bool)[p] if len(p) else np.zeros(0, dtype=bool)
    cols["p"], cols["day"] = p, day
    cols["ADT"] = _dates(a, p, day)
    cols["ADY"] = np.where(treated, study_days(day), np.nan)
    cols["SRCVAR"] = map_values(value_variable, cols["SRCDOM"], None)
    return cols


def joined(first: Any, second: Any, n_first: int, n_second: int) -> np.ndarray:
    """Two blocks of a column one after the other (a block without the column: missing)."""
    parts = [objects([None] * n) if c is None else objects(c) for c, n in
             ((first, n_first), (second, n_second))]  # fmt: skip
    return np.concatenate(parts)
