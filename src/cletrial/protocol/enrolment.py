"""The enrolment gate: no first dose without an eligible screening verdict or a documented override.

The history's ``eligibility`` key records the screening verdict (``eligible``, ``ineligible``
or ``undetermined``, as computed by :func:`~cletrial.protocol.assess_eligibility`) and any
override (who, when, why). Before the first dose:

- no verdict recorded: the recommendation is ``undetermined`` (ENROL-GATE): screen first;
- ``undetermined`` without override: ``undetermined`` (ENROL-GATE): the screening is incomplete;
- ``ineligible`` without override: ``do_not_start`` (ENROL-INELIGIBLE);
- any verdict with an override: the start may be recommended; the override is a reason and a
  protocol deviation (ENROL-OVERRIDE).

Once dosed, a recorded verdict other than ``eligible`` without an override is a critical alert
and a deviation (DEVIATION-ENROLMENT); a history without the key (machine-written) is not.

>>> from cletrial.protocol.definition import load_protocol
>>> from cletrial.protocol.engine import recommend
>>> import datetime as dt
>>> history = {"sex": "M", "baseline": {"date": "2009-02-02", "clasi": {"activity": 6},
...            "sledai": {"score": 2}},
...            "eligibility": {"date": "2009-01-26", "verdict": "ineligible"}}
>>> rec = recommend(history, load_protocol(), dt.date(2009, 2, 2))
>>> rec.action, rec.regimen, rec.reasons[0].rule
('do_not_start', None, 'ENROL-INELIGIBLE')
"""

from __future__ import annotations

from cletrial.protocol.definition import ProtocolDefinition
from cletrial.protocol.history import PatientHistory
from cletrial.protocol.parts import Parts
from cletrial.protocol.results import Alert, Deviation, Reason, Undetermined

__all__ = ["enrolment_deviations", "enrolment_refusal", "gate_first_dose"]


def enrolment_refusal(verdict: str | None, overridden: bool) -> str | None:
    """Why the enrolment gate keeps a patient out (``None`` when it lets them in).

    The gate of :func:`gate_first_dose` for callers that hold only the stored verdict and
    whether an override is recorded (randomisation): an ``eligible`` verdict or an override
    lets the patient in.

    >>> enrolment_refusal("eligible", False) is None, enrolment_refusal("ineligible", True)
    (True, None)
    >>> enrolment_refusal("undetermined", False)
    'the screening is incomplete (verdict undetermined): complete it, or record an override'
    """
    if overridden or verdict == "eligible":
        return None
    if verdict is None:
        return "no screening verdict is recorded: the patient must be screened and found eligible"
    if verdict == "undetermined":
        return (
            "the screening is incomplete (verdict undetermined): complete it, or record an override"
        )
    return (
        f"the screening verdict is {verdict}: it needs an eligible verdict or a documented override"
    )


def _block(parts: Parts, p: ProtocolDefinition, missing: list[str], text: str) -> None:
    parts.action, parts.target = "undetermined", None
    parts.reasons = [r for r in parts.reasons if r.rule != "DOSE-START"]
    parts.undetermined.insert(
        0, Undetermined("enrolment", "ENROL-GATE", p.rule_source["ENROL-GATE"], missing, text)
    )


def _override(history: PatientHistory, p: ProtocolDefinition) -> tuple[Reason, Deviation]:
    elig = history.eligibility
    assert elig is not None and elig.override is not None
    o = elig.override
    text = (
        f"Protocol deviation: enrolment despite the screening verdict {elig.verdict!r} of "
        f"{elig.date.isoformat()}, overridden by {o.by} on {o.date.isoformat()}: {o.reason}"
    )
    data = {
        "verdict": elig.verdict,
        "verdict_date": elig.date,
        "override_by": o.by,
        "override_date": o.date,
        "override_reason": o.reason,
    }
    source = p.rule_source["ENROL-OVERRIDE"]
    return (
        Reason("ENROL-OVERRIDE", source, text, data),
        Deviation("ENROL-OVERRIDE", source, o.date, "eligibility.override", text, data),
    )


def gate_first_dose(parts: Parts, history: PatientHistory, p: ProtocolDefinition) -> None:
    """Apply the enrolment gate to the recommendation of a patient not yet dosed."""
    elig = history.eligibility
    if elig is None:
        _block(
            parts,
            p,
            ["eligibility"],
            "No screening verdict is recorded (eligibility): the patient must be screened "
            "(cletrial eligibility) and found eligible before a first dose.",
        )
        return
    if elig.override is not None:
        reason, deviation = _override(history, p)
        parts.reasons.insert(0, reason)
        parts.deviations.append(deviation)
        return
    day = elig.date.isoformat()
    if elig.verdict == "eligible":
        parts.reasons.append(
            Reason(
                "ENROL-GATE",
                p.rule_source["ENROL-GATE"],
                f"Screening verdict on {day}: eligible.",
                {"verdict": elig.verdict, "date": elig.date},
            )
        )
    elif elig.verdict == "undetermined":
        _block(
            parts,
            p,
            ["eligibility.verdict"],
            f"The screening of {day} is incomplete (verdict undetermined): complete the missing "
            "criteria, or record an override, before a first dose.",
        )
    else:
        parts.action, parts.target = "do_not_start", None
        parts.reasons = [
            Reason(
                "ENROL-INELIGIBLE",
                p.rule_source["ENROL-INELIGIBLE"],
                f"Do not start: the screening verdict of {day} is ineligible; a first dose needs "
                "an eligible verdict or a documented override (eligibility.override).",
                {"verdict": elig.verdict, "date": elig.date},
            )
        ]
        parts.next_visit, parts.labs_due, parts.pregnancy = None, [], []


def enrolment_deviations(parts: Parts, history: PatientHistory, p: ProtocolDefinition) -> None:
    """For a patient already dosed: the override as a deviation, or a critical alert and a
    deviation when the recorded verdict is not ``eligible`` and nothing overrides it."""
    elig = history.eligibility
    if elig is None:
        return
    if elig.override is not None:
        parts.deviations.append(_override(history, p)[1])
        return
    if elig.verdict == "eligible":
        return
    first = history.first_dose_date
    assert first is not None
    text = (
        f"Protocol deviation: dosed from {first.isoformat()} although the screening verdict of "
        f"{elig.date.isoformat()} is {elig.verdict!r} and no override is recorded."
    )
    data = {"verdict": elig.verdict, "verdict_date": elig.date, "first_dose_date": first}
    source = p.rule_source["DEVIATION-ENROLMENT"]
    parts.alerts.append(Alert("DEVIATION-ENROLMENT", source, "critical", text, data))
    parts.deviations.append(
        Deviation("DEVIATION-ENROLMENT", source, first, "eligibility.verdict", text, data)
    )
