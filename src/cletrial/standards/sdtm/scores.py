"""SDTM QS (CLASI items and SLEDAI-2K descriptors) and RS (CLASI response) from patient histories.

QS also holds the CLA-IGA grade and the Skindex-29+3 responses and domain scores
(:mod:`cletrial.standards.sdtm.scores_trial`, which gives their ``QSTESTCD`` scheme).

QS holds one record per item of each full form, and the derived totals (``QSDRVFL`` = ``Y``).
A form stored as published scores only (``{"activity", "damage"}``, ``{"score"}``) gives only
its total records. A visit without a form gives no record: missing stays missing. The history
format reads an item omitted from a full form as absent (``docs/formats.md``; the store always
exports complete forms), so such an item is reported as scored 0 / ``ABSENT``. Forms never say
"not done", so ``QSSTAT`` is not used.

``QSTESTCD`` scheme (sponsor-defined; CDISC publishes no QRS supplement codes used here):

=====================  ============================  ===========================================
QSCAT                  QSTESTCD                      meaning
=====================  ============================  ===========================================
CLASI                  ``CL`` + region + item        region item; region SC scalp, EA ears,
                                                     NO nose (incl. malar), FA rest of face,
                                                     VN V-neck, PN posterior neck/shoulders,
                                                     CH chest, AB abdomen, BB back/buttocks,
                                                     AR arms, HA hands, LE legs, FE feet; item
                                                     ER erythema, SH scale/hypertrophy,
                                                     DP dyspigmentation, SA scarring/atrophy/
                                                     panniculitis (``CLSCER``, ``CLPNSA``)
CLASI                  ``CLMUCMEM``                  mucous membrane lesions
CLASI                  ``CLHAIRLS``                  recent hair loss
CLASI                  ``CLNSALOP``                  non-scarring alopecia
CLASI                  ``CLSCALOP``                  scarring of the scalp (scarring alopecia)
CLASI                  ``CLDPPERS``                  dyspigmentation lasts 12 months or more
CLASI                  ``CLASIA`` / ``CLASID``       activity / damage total (derived)
SLEDAI-2K              ``SLED01`` .. ``SLED24``      descriptor in published form order
SLEDAI-2K              ``SLED23DI``, ``SLED24DI``    thrombocytopenia / leukopenia drug-induced
SLEDAI-2K              ``SLEDTOT``                   total score (derived)
=====================  ============================  ===========================================

>>> import datetime as dt
>>> from cletrial.standards.sdtm.common import SubjectRef
>>> s = SubjectRef("S", "A", "P01", dt.date(2009, 2, 2))
>>> h = {"baseline": {"date": "2009-02-02", "clasi": {"activity": 6, "damage": 2},
...                   "sledai": {"score": 4}}}
>>> qs, _ = build_qs([(s, h)])
>>> qs.frame[["QSTESTCD", "QSSTRESN", "QSDRVFL", "VISITNUM"]].values.tolist()
[['CLASIA', 6.0, 'Y', 1.0], ['CLASID', 2.0, 'Y', 1.0], ['SLEDTOT', 4.0, 'Y', 1.0]]

``VISITNUM``/``VISIT`` are SV's (:func:`cletrial.standards.sdtm.visits.visit_numbers`, given as
``visits``); without them only the baseline is numbered (1, ``BASELINE``, as in SV).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from itertools import repeat
from typing import Any, Final

import numpy as np
import pandas as pd

from cletrial.instruments import SLEDAI_WEIGHTS, compute_clasi, compute_sledai
from cletrial.instruments.clasi import CLASI_REGIONS, REGION_ITEM_CHOICES, validate_clasi_form
from cletrial.instruments.sledai import DRUG_EXCLUSIONS, validate_sledai_form
from cletrial.standards._columns import objects, seq_within, sort_order, transpose
from cletrial.standards.metadata import Dataset, DatasetSpec, Variable
from cletrial.standards.sdtm._frame import columns_to_dataset
from cletrial.standards.sdtm.common import Provenance, SubjectRef, study_day
from cletrial.standards.sdtm.scores_trial import TRIAL_SCORE_RULE, trial_score_items

__all__ = ["CLASI_TESTS", "QS_SPEC", "SLEDAI_TESTS", "build_qs", "iter_forms"]

_REGION_CODES: Final = dict(zip(CLASI_REGIONS, (
    ("SC", "Scalp"), ("EA", "Ears"), ("NO", "Nose/Malar"), ("FA", "Rest of Face"),
    ("VN", "V-Neck"), ("PN", "Nape/Shoulders"), ("CH", "Chest"), ("AB", "Abdomen"),
    ("BB", "Back/Buttocks"), ("AR", "Arms"), ("HA", "Hands"), ("LE", "Legs"), ("FE", "Feet"),
), strict=True))  # fmt: skip
_ITEM_CODES: Final = {
    "erythema": ("ER", "Erythema"),
    "scale": ("SH", "Scale/Hypertrophy"),
    "dyspigmentation": ("DP", "Dyspigmentation"),
    "scarring": ("SA", "Scar/Atrophy/Panniculitis"),
}
_FORM_ITEMS: Final = {
    "mucous_membrane_lesions": ("CLMUCMEM", "Mucous Membrane Lesions"),
    "recent_hair_loss": ("CLHAIRLS", "Recent Hair Loss"),
    "nonscarring_alopecia": ("CLNSALOP", "Non-Scarring Alopecia"),
    "scarring_alopecia": ("CLSCALOP", "Scarring of the Scalp"),
    "dyspigmentation_persistent": ("CLDPPERS", "Dyspigmentation Lasts 12 Months or More"),
}

#: CLASI form path -> (QSTESTCD, QSTEST, QSSCAT), in form order, then the two totals.
CLASI_TESTS: Final[dict[str, tuple[str, str, str | None]]] = {
    **{
        f"regions.{region}.{item}": (f"CL{rc}{ic}", f"{rname} {iname}", rname.upper())
        for region, (rc, rname) in _REGION_CODES.items()
        for item, (ic, iname) in _ITEM_CODES.items()
        if item in REGION_ITEM_CHOICES and not (region == "scalp" and item == "scarring")
    },
    **{item: (code, test, None) for item, (code, test) in _FORM_ITEMS.items()},
    "activity": ("CLASIA", "CLASI Activity Score", None),
    "damage": ("CLASID", "CLASI Damage Score", None),
}

#: SLEDAI-2K descriptor -> (QSTESTCD, QSTEST), in form order, then drug flags and the total.
SLEDAI_TESTS: Final[dict[str, tuple[str, str]]] = {
    **{
        name: (
            f"SLED{n:02d}",
            f"SLED{n:02d}-" + name.replace("_", " ").title().replace("Dna", "DNA"),
        )
        for n, name in enumerate(SLEDAI_WEIGHTS, start=1)
    },
    **{
        flag: (f"SLED{list(SLEDAI_WEIGHTS).index(name) + 1:02d}DI", f"{name.title()} Drug-Induced")
        for name, flag in DRUG_EXCLUSIONS.items()
    },
    "score": ("SLEDTOT", "SLEDAI-2K Total Score"),
}

_TOTAL_RULE: Final = (
    "CLASIA: sum of erythema and scale/hypertrophy over the 13 regions, mucous membrane "
    "lesions, recent hair loss and non-scarring alopecia (cletrial.instruments.compute_clasi); "
    "CLASID: dyspigmentation over the regions (doubled when it lasts 12 months or more) plus "
    "scarring/atrophy/panniculitis and scarring of the scalp; SLEDTOT: sum of the weights of "
    "the descriptors present, drug-induced cytopenias not scoring (compute_sledai). An item "
    "omitted from a full form is absent (docs/formats.md). For a form stored as published "
    "scores only, the published total. " + TRIAL_SCORE_RULE
)

QS_SPEC: Final = DatasetSpec(
    name="QS",
    label="Questionnaires",
    domain_class="FINDINGS",
    structure="One record per questionnaire item per visit per subject",
    keys=("STUDYID", "USUBJID", "QSCAT", "QSTESTCD", "QSDTC"),
    standard="SDTMIG 3.4",
    comment="CLASI, SLEDAI-2K, CLA-IGA and Skindex-29+3 (item numbers only); QSTESTCD scheme "
            "in cletrial.standards.sdtm.scores and scores_trial",
    variables=(
        Variable("STUDYID", "Study Identifier", "text", role="Identifier", core="Req"),
        Variable("DOMAIN", "Domain Abbreviation", "text", role="Identifier", core="Req"),
        Variable("USUBJID", "Unique Subject Identifier", "text", role="Identifier", core="Req"),
        Variable("QSSEQ", "Sequence Number", "integer", role="Identifier", core="Req",
                 origin="Derived", derivation="Order of date, QSTESTCD and source per subject"),
        Variable("QSTESTCD", "Question Short Name", "text", role="Topic", core="Req",
                 origin="Assigned"),
        Variable("QSTEST", "Question Name", "text", role="Synonym Qualifier", core="Req",
                 origin="Assigned"),
        Variable("QSCAT", "Category of Question", "text", role="Grouping Qualifier", core="Req",
                 origin="Assigned"),
        Variable("QSSCAT", "Subcategory for Question", "text", role="Grouping Qualifier",
                 core="Perm", origin="Assigned"),
        Variable("QSORRES", "Finding in Original Units", "text", role="Result Qualifier",
                 core="Exp"),
        Variable("QSSTRESC", "Character Result/Finding in Std Format", "text",
                 role="Result Qualifier", core="Exp", origin="Derived",
                 derivation="QSORRES; for a SLEDAI-2K descriptor the points it scores"),
        Variable("QSSTRESN", "Numeric Result/Finding in Standard Units", "float",
                 role="Result Qualifier", core="Exp", origin="Derived",
                 derivation="Numeric QSSTRESC (empty for Y/N items)"),
        Variable("QSDRVFL", "Derived Flag", "text", role="Record Qualifier", core="Perm",
                 codelist="NY", origin="Derived", derivation=_TOTAL_RULE),
        Variable("VISITNUM", "Visit Number", "float", role="Timing", core="Exp",
                 origin="Derived", derivation="0 for the baseline visit; else unknown"),
        Variable("VISIT", "Visit Name", "text", role="Timing", core="Perm", origin="Derived",
                 derivation="BASELINE for the baseline visit; else unknown"),
        Variable("QSDTC", "Date/Time of Finding", "iso8601", role="Timing", core="Exp"),
        Variable("QSDY", "Study Day of Finding", "integer", role="Timing", core="Perm",
                 origin="Derived", derivation="QSDTC - RFSTDTC + 1 on or after it, else QSDTC - "
                 "RFSTDTC"),
    ),
)  # fmt: skip


def iter_forms(history: Mapping[str, Any]) -> Iterator[tuple[str, int | None, dict[str, Any]]]:
    """The history's visits: (array, index, visit) for the baseline (index None) and assessments.

    >>> [(a, i) for a, i, _ in iter_forms({"baseline": {"date": "2009-01-01"}, "assessments":
    ...     [{"date": "2009-02-01"}]})]
    [('baseline', None), ('assessments', 0)]
    """
    if history.get("baseline") is not None:
        yield "baseline", None, dict(history["baseline"])
    for index, visit in enumerate(history.get("assessments") or []):
        yield "assessments", index, dict(visit)


def _clasi_items(form: Mapping[str, Any]) -> list[tuple[str, str, float | None, bool]]:
    """(path, QSORRES, QSSTRESN, derived) for each item of a CLASI form, then the totals."""
    if set(form) <= {"activity", "damage"}:
        return [(k, str(form[k]), float(form[k]), True) for k in ("activity", "damage")
                if form.get(k) is not None]  # fmt: skip
    validated = validate_clasi_form(form)
    out: list[tuple[str, str, float | None, bool]] = []
    for path in CLASI_TESTS:
        parts = path.split(".")
        if parts[0] == "regions":
            value: Any = getattr(getattr(validated.regions, parts[1]), parts[2])
        elif path in _FORM_ITEMS:
            value = getattr(validated, path)
        else:
            continue
        if isinstance(value, bool):
            out.append((path, "Y" if value else "N", None, False))
        else:
            out.append((path, str(value), float(value), False))
    score = compute_clasi(validated)
    out += [("activity", str(score.activity), float(score.activity), True),
            ("damage", str(score.damage), float(score.damage), True)]  # fmt: skip
    return out


def _sledai_items(form: Mapping[str, Any]) -> list[tuple[str, str, str, float | None, bool]]:
    """(name, QSORRES, QSSTRESC, QSSTRESN, derived) per descriptor and flag, then the total."""
    if set(form) == {"score"}:
        total = form["score"]
        return [] if total is None else [("score", str(total), str(total), float(total), True)]
    v = validate_sledai_form(form)
    excluded = {name for name, flag in DRUG_EXCLUSIONS.items() if getattr(v, flag)}
    out: list[tuple[str, str, str, float | None, bool]] = []
    for name, weight in SLEDAI_WEIGHTS.items():
        present = bool(getattr(v, name))
        points = weight if present and name not in excluded else 0
        out.append((name, "PRESENT" if present else "ABSENT", str(points), float(points), False))
        if name in DRUG_EXCLUSIONS:
            flag = "Y" if getattr(v, DRUG_EXCLUSIONS[name]) else "N"
            out.append((DRUG_EXCLUSIONS[name], flag, flag, None, False))
    total = compute_sledai(v)
    out.append(("score", str(total), str(total), float(total), True))
    return out


#: Visit date -> (VISITNUM, VISIT) of one subject.
_Numbers = Mapping[dt.date, tuple[float, str]]
#: The columns of one item of a visit, in the order :func:`_visit_items` gives them.
_ITEM: Final = ("QSTESTCD", "QSTEST", "QSCAT", "QSSCAT", "QSORRES", "QSSTRESC", "QSSTRESN",
                "QSDRVFL")  # fmt: skip
#: The columns of a visit's timing, in the order :func:`_visit_timing` gives them.
_TIMING: Final = ("VISITNUM", "VISIT", "QSDTC", "QSDY")


def _visit_timing(
    subject: SubjectRef, visit: Mapping[str, Any], baseline: bool, numbers: _Numbers
) -> tuple[float, str | None, str, int | None]:
    """The :data:`_TIMING` columns of a visit (the same for each of its items)."""
    date = dt.date.fromisoformat(str(visit["date"]))
    number, name = numbers.get(date) or ((1.0, "BASELINE") if baseline else (float("nan"), None))
    return number, name, date.isoformat(), study_day(date, subject.rfstdtc)


def _visit_items(visit: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The :data:`_ITEM` columns of each item of a visit's forms, in form order."""
    out: list[tuple[Any, ...]] = []
    if visit.get("clasi") is not None:
        for path, orres, stresn, derived in _clasi_items(visit["clasi"]):
            code, test, scat = CLASI_TESTS[path]
            out.append((code, test, "CLASI", scat, orres, orres, stresn,
                        "Y" if derived else None))  # fmt: skip
    if visit.get("sledai") is not None:
        for name, orres, stresc, stresn, derived in _sledai_items(visit["sledai"]):
            code, test = SLEDAI_TESTS[name]
            out.append((code, test, "SLEDAI-2K", None, orres, stresc, stresn,
                        "Y" if derived else None))  # fmt: skip
    for cat, code, test, orres, stresn, derived in trial_score_items(visit):
        out.append((code, test, cat, None, orres, orres, stresn, "Y" if derived else None))
    return out


def _item_rows(
    subjects: Iterable[tuple[SubjectRef, Mapping[str, Any]]],
    visits: Mapping[str, Mapping[dt.date, tuple[float, str]]] | None,
) -> tuple[list[SubjectRef], list[int], list[tuple[str, int | None]], list[tuple[Any, ...]],
           list[tuple[Any, ...]]]:  # fmt: skip
    """Every item in source order, as columns: subject position, source ``(array, index)``,
    the visit's :data:`_TIMING` and the item's :data:`_ITEM` (with the subjects seen)."""
    refs: list[SubjectRef] = []
    ks: list[int] = []
    sources: list[tuple[str, int | None]] = []
    timings: list[tuple[Any, ...]] = []
    items: list[tuple[Any, ...]] = []
    for k, (subject, history) in enumerate(subjects):
        refs.append(subject)
        numbers = (visits or {}).get(subject.usubjid, {})
        for array, index, visit in iter_forms(history):
            timing = _visit_timing(subject, visit, array == "baseline", numbers)
            found = _visit_items(visit)
            ks.extend(repeat(k, len(found)))
            sources.extend(repeat((array, index), len(found)))
            timings.extend(repeat(timing, len(found)))
            items.extend(found)
    return refs, ks, sources, timings, items


def build_qs(
    subjects: Iterable[tuple[SubjectRef, Mapping[str, Any]]],
    visits: Mapping[str, Mapping[dt.date, tuple[float, str]]] | None = None,
) -> tuple[Dataset, list[Provenance]]:
    """QS from each subject's patient history, checked, with each record's provenance.

    Parameters
    ----------
    subjects : iterable of (SubjectRef, dict)
        Each subject with its patient history (``docs/formats.md``).
    visits : mapping, optional
        ``USUBJID`` -> visit date -> ``(VISITNUM, VISIT)`` as SV numbers them
        (:attr:`cletrial.standards.sdtm.build.SdtmPackage.visits`).

    Returns
    -------
    (Dataset, list of Provenance)
        The checked QS dataset and, row by row, where each record came from (``baseline`` or
        ``assessments`` and the index in that array).

    Raises
    ------
    cletrial.errors.FormError
        A form that does not validate (naming the item and the value).
    """
    names = QS_SPEC.names
    refs, ks, sources, timings, items = _item_rows(subjects, visits)
    # a subject's records by date, then test, then source order (as assign_seq numbers them)
    dtc, code = [t[2] for t in timings], [i[0] for i in items]
    order = sort_order(ks, dtc, code, np.arange(len(ks))).tolist()
    k = [ks[i] for i in order]
    seq = seq_within(np.asarray(k, dtype=np.int64)).tolist()
    usubjid = [refs[i].usubjid for i in k]
    columns: dict[str, list[Any]] = {
        "STUDYID": [refs[i].studyid for i in k], "DOMAIN": ["QS"] * len(k), "USUBJID": usubjid,
        "QSSEQ": seq,
        **dict(zip(_ITEM, transpose([items[i] for i in order], len(_ITEM)), strict=True)),
        **dict(zip(_TIMING, transpose([timings[i] for i in order], len(_TIMING)), strict=True)),
    }  # fmt: skip
    provenance = [Provenance("QS", u, n, *sources[i])
                  for u, n, i in zip(usubjid, seq, order, strict=True)]  # fmt: skip
    return columns_to_dataset(
        QS_SPEC, {n: _text(columns[n], QS_SPEC.variable(n).type) for n in names}
    ), provenance


def _text(values: list[Any], type_: str) -> Any:
    """A text column as an object array, every missing value (None, NaN) ``None``; a numeric
    column as it is (:func:`columns_to_dataset` makes it float64, None NaN)."""
    if type_ in ("integer", "float"):
        return values
    array = objects(values)
    array[pd.isna(array)] = None
    return array
