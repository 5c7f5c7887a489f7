"""SDTM TE (trial elements), TA (trial arms) and TV (trial visits), from the protocol definition.

TE and TA come from the definition's ``trial`` section (elements, and arms as sequences of
elements with their epochs); a definition without one has neither. TV comes from the visit
schedule (``monitoring.visits``) and always exists: ``VISITNUM`` 0 is the screening, 1 the
baseline (first dose, study day 1), then the planned visits in order, numbered as SV numbers
them (:func:`cletrial.standards.sdtm.visits.planned_visits`), up to the trial's planned
follow-up (``trial.planned_weeks``; without a trial section ``monitoring.plan_weeks``).
Unscheduled visits (SV's ``x.1``, ``x.2``) are not planned, so they are not in TV.

>>> from cletrial.protocol import load_protocol
>>> p = load_protocol().file
>>> build_tv("S", p).frame[["VISITNUM", "VISIT", "VISITDY"]].head(3).values.tolist()
[[0.0, 'SCREENING', nan], [1.0, 'BASELINE', 1.0], [2.0, 'WEEK 4', 29.0]]
>>> build_ta("S", p).frame[["ARMCD", "TAETORD", "ETCD", "EPOCH"]].values.tolist()[:2]
[['LENA', 1.0, 'SCRN', 'SCREENING'], ['LENA', 2.0, 'LEN5', 'TREATMENT']]
"""

from __future__ import annotations

from typing import Any

from cletrial.errors import StandardsError
from cletrial.protocol.definition_model import ProtocolFile
from cletrial.protocol.definition_trial import Trial
from cletrial.standards.metadata import Dataset
from cletrial.standards.sdtm._frame import STUDYID, domain_spec, to_dataset, var
from cletrial.standards.sdtm.visits import planned_visits
from cletrial.vocabulary import EPOCH

__all__ = [
    "TA_SPEC",
    "TE_SPEC",
    "TV_SPEC",
    "build_ta",
    "build_te",
    "build_tv",
    "compute_duration",
    "require_trial",
    "tv_weeks",
]

_DOMAIN = var("DOMAIN", "Domain Abbreviation", "text", "Identifier", "Req", origin="Assigned")
_ETCD = var("ETCD", "Element Code", "text", "Topic", "Req", origin="Protocol")
_ELEMENT = var("ELEMENT", "Description of Element", "text", "Synonym Qualifier", "Req",
               origin="Protocol")  # fmt: skip
_ARMCD = var("ARMCD", "Planned Arm Code", "text", "Topic", "Req", origin="Protocol")

TE_SPEC = domain_spec(
    "TE", "Trial Elements", "TRIAL DESIGN", "One record per planned Element", ("STUDYID", "ETCD"),
    [
        STUDYID, _DOMAIN, _ETCD, _ELEMENT,
        var("TESTRL", "Rule for Start of Element", "text", "Rule", "Req", origin="Protocol"),
        var("TEENRL", "Rule for End of Element", "text", "Rule", "Perm", origin="Protocol"),
        var("TEDUR", "Planned Duration of Element", "text", "Timing", "Perm", origin="Protocol"),
    ],
)  # fmt: skip

TA_SPEC = domain_spec(
    "TA", "Trial Arms", "TRIAL DESIGN", "One record per planned Element per Arm",
    ("STUDYID", "ARMCD", "TAETORD"),
    [
        STUDYID, _DOMAIN, _ARMCD,
        var("ARM", "Description of Planned Arm", "text", "Synonym Qualifier", "Req",
            origin="Protocol"),
        var("TAETORD", "Planned Order of Element within Arm", "integer", "Timing", "Req",
            origin="Protocol"),
        var("ETCD", "Element Code", "text", "Record Qualifier", "Req", origin="Protocol"),
        var("ELEMENT", "Description of Element", "text", "Synonym Qualifier", "Perm",
            origin="Protocol"),
        var("TABRANCH", "Branch", "text", "Rule", "Exp", origin="Protocol"),
        var("TATRANS", "Transition Rule", "text", "Rule", "Exp", origin="Protocol"),
        var("EPOCH", "Epoch", "text", "Timing", "Req", origin="Protocol", codelist="EPOCH"),
    ],
)  # fmt: skip

TV_SPEC = domain_spec(
    "TV", "Trial Visits", "TRIAL DESIGN", "One record per planned Visit per Arm",
    ("STUDYID", "VISITNUM", "ARMCD"),
    [
        STUDYID, _DOMAIN,
        var("VISITNUM", "Visit Number", "float", "Topic", "Req", origin="Protocol"),
        var("VISIT", "Visit Name", "text", "Synonym Qualifier", "Perm", origin="Protocol"),
        var("VISITDY", "Planned Study Day of Visit", "integer", "Timing", "Perm",
            origin="Derived", derivation="7 x the visit's week + 1 (day 1 is the first dose)"),
        var("ARMCD", "Planned Arm Code", "text", "Record Qualifier", "Exp", origin="Protocol"),
        var("TVSTRL", "Visit Start Rule", "text", "Rule", "Req", origin="Protocol"),
        var("TVENRL", "Visit End Rule", "text", "Rule", "Perm", origin="Protocol"),
    ],
)  # fmt: skip


def require_trial(protocol: ProtocolFile) -> Trial:
    """The protocol's ``trial`` section; :class:`~cletrial.errors.StandardsError` if none."""
    if protocol.trial is None:
        raise StandardsError(f"protocol {protocol.id}: trial = null: TA, TE and TS need the "
                             "protocol definition's trial section")  # fmt: skip
    return protocol.trial


def compute_duration(weeks: int | None) -> str | None:
    """ISO 8601 duration of a whole number of weeks (``TEDUR``), ``None`` when not planned.

    >>> compute_duration(4), compute_duration(None)
    ('P4W', None)
    """
    return None if weeks is None else f"P{weeks}W"


def build_te(studyid: str, protocol: ProtocolFile) -> Dataset:
    """TE: one record per element of the protocol's ``trial`` section.

    Raises
    ------
    cletrial.errors.StandardsError
        The protocol has no ``trial`` section.
    """
    rows = [{"STUDYID": studyid, "DOMAIN": "TE", "ETCD": e.code, "ELEMENT": e.name,
             "TESTRL": e.start_rule, "TEENRL": e.end_rule,
             "TEDUR": compute_duration(e.duration_weeks)}
            for e in require_trial(protocol).elements]  # fmt: skip
    return to_dataset(TE_SPEC, rows)


def build_ta(studyid: str, protocol: ProtocolFile) -> Dataset:
    """TA: one record per element of each arm, in the arm's order (``TAETORD`` from 1)."""
    trial = require_trial(protocol)
    names = {e.code: e.name for e in trial.elements}
    rows: list[dict[str, Any]] = []
    for arm in trial.arms:
        for order, step in enumerate(arm.elements, start=1):
            rows.append({"STUDYID": studyid, "DOMAIN": "TA", "ARMCD": arm.code, "ARM": arm.name,
                         "TAETORD": order, "ETCD": step.element, "ELEMENT": names[step.element],
                         "TABRANCH": step.branch, "TATRANS": step.transition,
                         "EPOCH": EPOCH.submission(step.epoch)})  # fmt: skip
    return to_dataset(TA_SPEC, rows)


def tv_weeks(protocol: ProtocolFile) -> int:
    """How far TV lays out the schedule, in weeks: the trial's planned follow-up, else
    ``monitoring.plan_weeks``.

    >>> from cletrial.protocol import load_protocol
    >>> tv_weeks(load_protocol().file)
    132
    """
    trial = protocol.trial
    return protocol.monitoring.plan_weeks if trial is None else trial.planned_weeks


def _window(protocol: ProtocolFile, week: int) -> int:
    """The window (days) of the visit phase holding ``week``."""
    for phase in protocol.monitoring.visits:
        if phase.until_week is None or week <= phase.until_week:
            return phase.window_days
    return protocol.monitoring.visits[-1].window_days


def build_tv(studyid: str, protocol: ProtocolFile) -> Dataset:
    """TV: the screening, the baseline and every planned visit up to :func:`tv_weeks`."""
    base = {"STUDYID": studyid, "DOMAIN": "TV"}
    rows: list[dict[str, Any]] = [
        {**base, "VISITNUM": 0, "VISIT": "SCREENING",
         "TVSTRL": "Screening record: eligibility assessed before the first dose",
         "TVENRL": "Before the first dose"},
        {**base, "VISITNUM": 1, "VISIT": "BASELINE", "VISITDY": 1,
         "TVSTRL": "First dose of the study drug (study day 1)"},
    ]  # fmt: skip
    for number, week in planned_visits(protocol, tv_weeks(protocol))[1:]:
        window = _window(protocol, week)
        rule = f"{week} weeks after the first dose, +/- {window} days"
        rows.append({**base, "VISITNUM": number, "VISIT": f"WEEK {week}",
                     "VISITDY": week * 7 + 1, "TVSTRL": rule})  # fmt: skip
    return to_dataset(TV_SPEC, rows)
