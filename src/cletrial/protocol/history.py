"""Patient histories: parse and validate, publish the JSON Schema, cut at a date.

A history (``docs/formats.md``) holds a patient's baseline, dated assessments (CLASI scores or
forms, SLEDAI-2K scores or forms, concomitant medication), laboratory values, the regimens
given, adverse events, pregnancy tests and events. :func:`parse_history` validates it and
computes the instrument scores once; errors name the field path and the bad value.

>>> history = parse_history({
...     "first_dose_date": "2009-02-02",
...     "baseline": {"date": "2009-02-02", "clasi": {"activity": 6, "damage": 2}},
...     "assessments": [{"date": "2009-03-02", "clasi": {"regions": {"arms": {"erythema": 1}}}}],
...     "doses": [{"date": "2009-02-02", "regimen": "5_daily"}]})
>>> history.baseline.clasi_activity, history.assessments[0].clasi_activity
(6, 1)
>>> parse_history({"assessments": [{"date": "2009-03-02", "clasi": {"activity": 71}}]})
Traceback (most recent call last):
...
cletrial.errors.HistoryError: assessments[0].clasi.activity = 71: must be an integer from 0 to 70
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Mapping
from itertools import islice
from typing import Any, Final

import msgspec

from cletrial.errors import FormError, HistoryError
from cletrial.instruments import (
    CLASI_ACTIVITY_MAX,
    CLASI_DAMAGE_MAX,
    SLEDAI_MAX,
    SkindexScore,
    compute_clasi,
    compute_skindex,
    compute_sledai,
    validate_cla_iga,
)
from cletrial.protocol._msgspec_errors import locate
from cletrial.protocol.definition_model import EVENT_TYPES, LAB_TESTS
from cletrial.protocol.history_disposition import check_status, cut_status
from cletrial.protocol.history_model import (
    DISPOSITION_TERMS,
    HISTORY_DECODER,
    LAB_UNITS,
    AdverseEventDoc,
    DoseDoc,
    EligibilityDoc,
    EndOfStudyDoc,
    EndOfTreatmentDoc,
    EventDoc,
    HistoryDoc,
    LabDoc,
    PregnancyTestDoc,
)
from cletrial.protocol.history_schema import history_json_schema
from cletrial.values import check_date
from cletrial.vocabulary import (
    AE_CAUSALITY,
    IMMUNOLOGY_RESULT,
    IMMUNOLOGY_TEST,
    NERVE_CONDUCTION_RESULT,
    PREGNANCY_RESULT,
    SCREENING_VERDICT,
    SEX,
)

__all__ = [
    "LAB_UNITS",
    "PatientHistory",
    "Visit",
    "decode_history",
    "history_json_schema",
    "parse_history",
    "truncate_history",
]

_SCORE_KEYS: Final = frozenset({"activity", "damage"})

#: Last part of a field path -> the values it allows, to phrase enum errors.
_CHOICES: Final[dict[str, tuple[str, ...]]] = {
    "test": LAB_TESTS,
    "type": EVENT_TYPES,
    "sex": (*SEX.values, "null"),
    "unit": tuple(sorted(set().union(*LAB_UNITS.values()))),
    "result": PREGNANCY_RESULT.values,
    "causality": (*AE_CAUSALITY.values, "null"),
    "verdict": SCREENING_VERDICT.values,
}

#: Field paths (list indices dropped) whose enum errors are phrased with their own values.
_PATH_CHOICES: Final[dict[str, tuple[str, ...]]] = {
    "end_of_treatment.reason": tuple(DISPOSITION_TERMS),
    "end_of_study.reason": tuple(DISPOSITION_TERMS),
    "immunology.test": IMMUNOLOGY_TEST.values,
    "immunology.result": IMMUNOLOGY_RESULT.values,
    "nerve_conduction.result": NERVE_CONDUCTION_RESULT.values,
}


def _history_error(exc: msgspec.ValidationError, document: Any) -> HistoryError:
    path, value, problem = locate(exc, document)
    name = path.rsplit(".", 1)[-1]
    part = re.sub(r"\[\d+\]", "", path)
    if part in _PATH_CHOICES and value is not None and "unknown" not in problem:
        return HistoryError(path, value, "must be one of " + ", ".join(_PATH_CHOICES[part]))
    if name in _CHOICES and value is not None and "unknown" not in problem:
        problem = "must be one of " + ", ".join(_CHOICES[name])
        lab = re.fullmatch(r"labs\[(\d+)\]\.unit", path)
        labs = document.get("labs") if isinstance(document, Mapping) else None
        if lab and isinstance(labs, list) and isinstance(labs[int(lab.group(1))], Mapping):
            test = labs[int(lab.group(1))].get("test")
            if test in LAB_UNITS:
                problem = f"must be one of {', '.join(sorted(LAB_UNITS[test]))} for {test}"
    return HistoryError(path, value, problem)


class Visit(msgspec.Struct, frozen=True, gc=False):
    """A baseline or follow-up assessment with its instrument scores computed.

    ``None`` means not recorded; a missing CLASI is never a CLASI of 0.
    """

    date: dt.date
    clasi_activity: int | None
    clasi_damage: int | None
    sledai: int | None
    medications: list[str] | None
    cla_iga: int | None = None
    skindex: SkindexScore | None = None


class PatientHistory(msgspec.Struct, frozen=True):
    """A validated patient history; ``document`` is the history as given."""

    document: HistoryDoc
    first_dose_date: dt.date | None
    baseline: Visit | None
    assessments: tuple[Visit, ...]

    @property
    def labs(self) -> list[LabDoc]:
        """Laboratory values in date order."""
        return self.document.labs

    @property
    def doses(self) -> list[DoseDoc]:
        """Regimens given, each in force from its date, in date order."""
        return self.document.doses

    @property
    def adverse_events(self) -> list[AdverseEventDoc]:
        """Adverse events in order of onset."""
        return self.document.adverse_events

    @property
    def pregnancy_tests(self) -> list[PregnancyTestDoc]:
        """Pregnancy tests in date order."""
        return self.document.pregnancy_tests

    @property
    def events(self) -> list[EventDoc]:
        """Events in date order."""
        return self.document.events

    @property
    def eligibility(self) -> EligibilityDoc | None:
        """The screening verdict and any override of it; ``None`` when not recorded."""
        return self.document.eligibility

    @property
    def end_of_treatment(self) -> EndOfTreatmentDoc | None:
        """The end of study treatment (date, reason, last dose date), if recorded."""
        return self.document.end_of_treatment

    @property
    def end_of_study(self) -> EndOfStudyDoc | None:
        """The end of the patient's participation (date, reason), if recorded."""
        return self.document.end_of_study


def _int_in(path: str, value: Any, top: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        raise HistoryError(path, value, f"must be an integer from 0 to {top}")
    return value


def _clasi_slow(path: str, obj: dict[str, Any]) -> tuple[int, int | None]:
    if "activity" in obj or "damage" in obj:
        for key in obj:
            if key not in _SCORE_KEYS:
                raise HistoryError(
                    f"{path}.{key}",
                    obj[key],
                    "unknown key: give scores (activity, damage) or a full form",
                )
        if "activity" not in obj:
            raise HistoryError(f"{path}.activity", None, "is required with CLASI scores")
        damage = obj.get("damage")
        return _int_in(f"{path}.activity", obj["activity"], CLASI_ACTIVITY_MAX), (
            None if damage is None else _int_in(f"{path}.damage", damage, CLASI_DAMAGE_MAX)
        )
    try:
        score = compute_clasi(obj)
    except FormError as exc:
        raise HistoryError(
            f"{path}.{exc.field}" if exc.field else path, exc.value, exc.problem
        ) from None
    return score.activity, score.damage


def _sledai_slow(path: str, obj: dict[str, Any]) -> int:
    if "score" in obj:
        if len(obj) != 1:
            extra = next(k for k in obj if k != "score")
            raise HistoryError(
                f"{path}.{extra}", obj[extra], 'unknown key: give {"score": n} or a SLEDAI-2K form'
            )
        return _int_in(f"{path}.score", obj["score"], SLEDAI_MAX)
    try:
        return compute_sledai(obj)
    except FormError as exc:
        raise HistoryError(
            f"{path}.{exc.field}" if exc.field else path, exc.value, exc.problem
        ) from None


def _path(name: str, index: int | None, field: str) -> str:
    return f"{name}.{field}" if index is None else f"{name}[{index}].{field}"


def _visit(name: str, index: int | None, doc: Any) -> Visit:
    """Score one visit; the fast path takes published scores, anything else is checked fully."""
    clasi, sledai = doc.clasi, doc.sledai
    activity = damage = score = None
    if clasi is not None:
        activity, damage = clasi.get("activity"), clasi.get("damage")
        if not (  # scores: activity, and damage if given, both in range and nothing else
            type(activity) is int
            and 0 <= activity <= CLASI_ACTIVITY_MAX
            and (
                (damage is None and len(clasi) == 1)
                or (type(damage) is int and 0 <= damage <= CLASI_DAMAGE_MAX and len(clasi) == 2)
            )
        ):
            activity, damage = _clasi_slow(_path(name, index, "clasi"), clasi)
    if sledai is not None:
        score = sledai.get("score")
        if not (type(score) is int and 0 <= score <= SLEDAI_MAX and len(sledai) == 1):
            score = _sledai_slow(_path(name, index, "sledai"), sledai)
    if doc.cla_iga is None and doc.skindex is None:
        return Visit(doc.date, activity, damage, score, doc.medications)
    return Visit(
        doc.date, activity, damage, score, doc.medications, *_trial_scores(name, index, doc)
    )


def _trial_scores(name: str, index: int | None, doc: Any) -> tuple[int | None, SkindexScore | None]:
    """The CLA-IGA grade and Skindex-29+3 domain scores of a visit (refusing impossible ones)."""
    try:
        grade = None if doc.cla_iga is None else validate_cla_iga(doc.cla_iga)
    except FormError as exc:
        raise HistoryError(_path(name, index, "cla_iga"), exc.value, exc.problem) from None
    try:
        skindex = None if doc.skindex is None else compute_skindex(doc.skindex)
    except FormError as exc:
        raise HistoryError(
            _path(name, index, f"skindex.{exc.field}"), exc.value, exc.problem
        ) from None
    return grade, skindex


def _check_order(name: str, dates: list[dt.date], strict: bool) -> None:
    if len(dates) < 2:
        return
    if strict:
        if all(map(operator.lt, dates, islice(dates, 1, None))):
            return
    elif dates == sorted(dates):
        return
    for i in range(1, len(dates)):
        day, previous = dates[i], dates[i - 1]
        if day < previous or (strict and day == previous):
            rule = "after" if strict else "on or after"
            raise HistoryError(
                f"{name}[{i}].{'start' if name == 'adverse_events' else 'date'}",
                day.isoformat(),
                f"must be {rule} {name}[{i - 1}] "
                f"({previous.isoformat()}): list entries in date order",
            )


def assert_date_in_range(field: str, value: dt.date) -> None:
    """Raise :class:`HistoryError` unless ``value`` lies between DATE_MIN and DATE_MAX (the one
    date rule, :mod:`cletrial.values`).

    >>> assert_date_in_range("on", dt.date(1, 1, 1))
    Traceback (most recent call last):
    ...
    cletrial.errors.HistoryError: on = "0001-01-01": must be from 1900-01-01 to 2199-12-31
    """
    check_date(field, value, HistoryError)


def _check_date_ranges(doc: HistoryDoc) -> None:
    """Check the earliest and latest date of each (ordered) list and the single dates."""
    if doc.first_dose_date is not None:
        assert_date_in_range("first_dose_date", doc.first_dose_date)
    if doc.baseline is not None:
        assert_date_in_range("baseline.date", doc.baseline.date)
    lists: tuple[tuple[str, list[Any], str], ...] = (
        ("assessments", doc.assessments, "date"), ("labs", doc.labs, "date"),
        ("doses", doc.doses, "date"), ("adverse_events", doc.adverse_events, "start"),
        ("pregnancy_tests", doc.pregnancy_tests, "date"), ("events", doc.events, "date"),
    )  # fmt: skip
    for name, items, attr in lists:
        if items:
            last = len(items) - 1
            assert_date_in_range(f"{name}[0].{attr}", getattr(items[0], attr))
            assert_date_in_range(f"{name}[{last}].{attr}", getattr(items[last], attr))
    for i, ae in enumerate(doc.adverse_events):
        if ae.end is not None:
            assert_date_in_range(f"adverse_events[{i}].end", ae.end)
    elig, eot, eos = doc.eligibility, doc.end_of_treatment, doc.end_of_study
    if elig is not None:
        assert_date_in_range("eligibility.date", elig.date)
        if elig.override is not None:
            assert_date_in_range("eligibility.override.date", elig.override.date)
    if eot is not None:
        assert_date_in_range("end_of_treatment.date", eot.date)
        if eot.last_dose_date is not None:
            assert_date_in_range("end_of_treatment.last_dose_date", eot.last_dose_date)
    if eos is not None:
        assert_date_in_range("end_of_study.date", eos.date)
    for i, test in enumerate(doc.immunology):
        assert_date_in_range(f"immunology[{i}].date", test.date)
    for i, study in enumerate(doc.nerve_conduction):
        assert_date_in_range(f"nerve_conduction[{i}].date", study.date)
    for i, med in enumerate(doc.concomitant_medications):
        for key in ("start", "end"):
            if getattr(med, key) is not None:
                assert_date_in_range(f"concomitant_medications[{i}].{key}", getattr(med, key))


def _check_consistency(doc: HistoryDoc) -> dt.date | None:
    _check_order("assessments", [a.date for a in doc.assessments], strict=True)
    units = LAB_UNITS
    labs = doc.labs
    dates = [lab.date for lab in labs if lab.unit in units[lab.test]]  # dates of valid units
    if len(dates) != len(labs):
        i = next(i for i, lab in enumerate(labs) if lab.unit not in units[lab.test])
        raise HistoryError(
            f"labs[{i}].unit",
            labs[i].unit,
            f"must be one of {', '.join(sorted(units[labs[i].test]))} for {labs[i].test}",
        )
    _check_order("labs", dates, strict=False)
    if len(doc.doses) > 1:
        _check_order("doses", [d.date for d in doc.doses], strict=True)
    if len(doc.adverse_events) > 1:
        _check_order("adverse_events", [a.start for a in doc.adverse_events], strict=False)
    if len(doc.pregnancy_tests) > 1:
        _check_order("pregnancy_tests", [t.date for t in doc.pregnancy_tests], strict=False)
    if len(doc.events) > 1:
        _check_order("events", [e.date for e in doc.events], strict=False)
    _check_order("immunology", [t.date for t in doc.immunology], strict=False)
    _check_order("nerve_conduction", [t.date for t in doc.nerve_conduction], strict=False)
    for i, med in enumerate(doc.concomitant_medications):
        if med.start is not None and med.end is not None and med.end < med.start:
            raise HistoryError(
                f"concomitant_medications[{i}].end",
                med.end.isoformat(),
                f"must not be before its start ({med.start.isoformat()})",
            )
    for i, ae in enumerate(doc.adverse_events):
        if ae.end is not None and ae.end < ae.start:
            raise HistoryError(
                f"adverse_events[{i}].end",
                ae.end.isoformat(),
                f"must be on or after its start ({ae.start.isoformat()})",
            )
    if doc.baseline is not None:
        day0 = doc.baseline.date
        for name, items in (("assessments", doc.assessments), ("doses", doc.doses)):
            if items and items[0].date < day0:
                raise HistoryError(
                    f"{name}[0].date",
                    items[0].date.isoformat(),
                    f"must be on or after baseline.date ({day0.isoformat()})",
                )
    first = doc.first_dose_date
    if first is not None and not doc.doses:
        raise HistoryError(
            "doses", [], f"must record the regimen started on first_dose_date ({first.isoformat()})"
        )
    if doc.doses:
        if first is not None and first != doc.doses[0].date:
            raise HistoryError(
                "first_dose_date",
                first.isoformat(),
                f"must equal doses[0].date ({doc.doses[0].date.isoformat()})",
            )
        return doc.doses[0].date
    return first


def build_history(doc: HistoryDoc) -> PatientHistory:
    """Validate what the wire format cannot and compute the instrument scores.

    Raises
    ------
    HistoryError
        Naming the field path and the bad value.
    """
    first = _check_consistency(doc)
    _check_date_ranges(doc)
    if doc.eligibility or doc.end_of_treatment or doc.end_of_study:
        check_status(doc)
    baseline = None if doc.baseline is None else _visit("baseline", None, doc.baseline)
    assessments = tuple([_visit("assessments", i, a) for i, a in enumerate(doc.assessments)])
    return PatientHistory(doc, first, baseline, assessments)


def parse_history(obj: Mapping[str, Any]) -> PatientHistory:
    """Validate a patient history given as a mapping (decoded JSON).

    Parameters
    ----------
    obj : mapping
        The history; see ``docs/formats.md`` and ``cletrial schema history``.

    Raises
    ------
    HistoryError
        Naming the field path and the bad value: unknown keys, wrong types, scores out of
        range, dates out of order, units not accepted for a test.

    >>> parse_history({"events": [{"date": "2009-06-01", "type": "holiday"}]})
    Traceback (most recent call last):
    ...
    cletrial.errors.HistoryError: events[0].type = "holiday": must be one of consent_withdrawn, ...
    """
    if not isinstance(obj, Mapping):
        raise HistoryError("", obj, "a history must be a JSON object")
    try:
        doc = msgspec.convert(obj, HistoryDoc)
    except msgspec.ValidationError as exc:
        raise _history_error(exc, obj) from None
    return build_history(doc)


def decode_history(data: bytes | str) -> PatientHistory:
    """Decode and validate one history from JSON text (the fast path for JSON Lines).

    >>> decode_history(b'{"sex": "F"}').document.sex
    'F'
    >>> decode_history(b'{"sex": "female"}')
    Traceback (most recent call last):
    ...
    cletrial.errors.HistoryError: sex = "female": must be one of F, M, null
    """
    try:
        doc = HISTORY_DECODER.decode(data)
    except msgspec.ValidationError as exc:
        raise _history_error(exc, msgspec.json.decode(data)) from None
    except msgspec.DecodeError as exc:
        raise HistoryError("", None, f"not valid JSON ({exc})") from None
    return build_history(doc)


def _before(items: list[Any], on: dt.date, attr: str = "date") -> list[Any]:
    return [item for item in items if getattr(item, attr) <= on]


def truncate_history(
    history: PatientHistory, on: dt.date, *, doses_on_date: bool = True
) -> PatientHistory:
    """Return the history as it stood on ``on``: only data dated on or before it.

    Adverse events that end after ``on`` are ongoing on ``on`` (their end is removed). With
    ``doses_on_date=False`` the regimens started on ``on`` itself are dropped too: the history
    as it stood when the visit of ``on`` was deciding the dose.

    >>> h = parse_history({"doses": [{"date": "2009-02-02", "regimen": "5_daily"},
    ...                              {"date": "2009-03-02", "regimen": "5_alternate"}]})
    >>> [d.regimen for d in truncate_history(h, dt.date(2009, 2, 20)).doses]
    ['5_daily']
    """
    doc = history.document
    events = [
        ae if ae.end is None or ae.end <= on else msgspec.structs.replace(ae, end=None)
        for ae in doc.adverse_events
        if ae.start <= on
    ]
    baseline = doc.baseline if doc.baseline is not None and doc.baseline.date <= on else None
    doses = _before(doc.doses, on) if doses_on_date else [d for d in doc.doses if d.date < on]
    first = doc.first_dose_date if doses else None
    cut = msgspec.structs.replace(
        doc,
        baseline=baseline,
        first_dose_date=first,
        assessments=_before(doc.assessments, on),
        labs=_before(doc.labs, on),
        doses=doses,
        adverse_events=events,
        pregnancy_tests=_before(doc.pregnancy_tests, on),
        events=_before(doc.events, on),
        immunology=_before(doc.immunology, on),
        nerve_conduction=_before(doc.nerve_conduction, on),
        concomitant_medications=[
            m for m in doc.concomitant_medications if m.start is None or m.start <= on
        ],
        **cut_status(doc, on),
    )
    return build_history(cut)
