"""The rule identifiers the engine fires, and which of them a protocol file may switch off.

A protocol definition lists every rule under ``rules:`` with its ``source`` (``protocol``,
``label`` or ``default``); recommendations show that source beside each reason, so a clinician
sees which advice comes from the 2012 protocol, which from the lenalidomide label and which is a
default chosen where the protocol is silent.

>>> "REVIEW-ESCALATE" in ENGINE_RULES
True
>>> is_switchable("LABEL-THROMBOSIS", "label"), is_switchable("STOP-MYELOSUPPRESSION", "protocol")
(True, False)
"""

from __future__ import annotations

from typing import Final

__all__ = ["ENGINE_RULES", "SWITCHABLE_RULES", "is_switchable"]

#: Rule id -> what it covers. Every id here must be present in a protocol file's ``rules:``.
ENGINE_RULES: Final[dict[str, str]] = {
    "DOSE-START": "start of treatment at the start regimen",
    "DOSE-INDUCTION": "the start regimen is held until the first response review of a cycle",
    "CR-BEFORE-REVIEW": "complete response before the review: the taper waits for the review",
    "REVIEW-CR": "complete response at the review begins the taper",
    "REVIEW-PR": "partial response at the review keeps the start regimen",
    "REVIEW-MINOR": "improvement between the escalation and partial-response thresholds",
    "REVIEW-ESCALATE": "improvement below the escalation threshold escalates",
    "REVIEW-MISSING": "the review is due but its CLASI activity score is missing",
    "REFERENCE-MISSING": "the reference CLASI activity score for the review is missing",
    "ESCALATED-CONTINUE": "the escalated regimen is continued while responding",
    "TAPER-STEP": "one step down the ladder per taper interval while complete response holds",
    "TAPER-LADDER": "the regimens of the taper ladder",
    "TAPER-TOLERANCE": "how early a taper step is accepted",
    "TAPER-PAUSED": "the taper pauses while CLASI activity is above CR and below relapse",
    "TAPER-COMPLETE": "off treatment after a complete taper, followed up for relapse",
    "CR-LOST": "complete response lost before any dose reduction",
    "CR-NO-ESCALATION": "complete response never raises the dose",
    "DECISION-ASSESSMENT-AGE": "a dose change needs a CLASI activity score this recent",
    "RELAPSE-RESTART": "a relapse restarts the restart regimen as a new cycle",
    "RELAPSE-MAINTAIN": "a repeated relapse leads to long-term maintenance above the relapse step",
    "RELAPSE-RESOLVED": "an untreated relapse followed by complete response",
    "MAINTAIN": "long-term maintenance is held",
    "MAINTENANCE-FLARE": "CLASI activity at the relapse threshold while on maintenance",
    "NONRESPONSE-STOP": "no response on the escalated regimen at the set week: discontinuation",
    "STOP-MYELOSUPPRESSION": "CTCAE grade of a blood count at or above the stop grade",
    "STOP-LIFE-THREATENING-AE": "an adverse event graded life-threatening or worse",
    "STOP-SLE-FLARE": "severe systemic lupus flare (SLEDAI-2K increase above the stop value)",
    "SLE-MILD-FLARE": "mild systemic lupus flare (SLEDAI-2K increase above the alert value)",
    "SLE-FLARE-DATA": "SLEDAI-2K data needed to exclude a severe flare",
    "LABEL-NEUTROPENIA": "a neutrophil count at the alert grade: alert and frequent counts",
    "LABEL-PREGNANCY-TESTING": "pregnancy testing of females of reproductive potential",
    "BLOOD-COUNTS": "blood count monitoring schedule",
    "BASELINE-PANEL": "baseline laboratory panel",
    "VISIT-WINDOW": "a scheduled visit without an assessment inside its window",
    "EVENT-UNHANDLED": "an event that no enabled rule acts on",
    "EXAMPLE-PROTOCOL": "the definition is an example, not for clinical use",
    "DEVIATION-MEDICATION": "a change of concomitant baseline medication",
    "DEVIATION-DOSE": "a regimen given that differs from the protocol's regimen at that time",
    "DEVIATION-DOSE-AFTER-STOP": "treatment given after a stopping rule fired",
    "DEVIATION-PREGNANCY-TESTS": "first dose without the required negative pregnancy tests",
    "ENROL-GATE": "no first dose without a recorded, complete screening verdict",
    "ENROL-INELIGIBLE": "an ineligible screening verdict without override: do not start",
    "ENROL-OVERRIDE": "enrolment overriding the screening verdict (a protocol deviation)",
    "DEVIATION-ENROLMENT": "dosed without an eligible screening verdict or an override",
    "END-OF-TREATMENT": "the recorded end of treatment stops the regimen",
    "END-OF-STUDY": "the recorded end of study: nothing is due any more",
    "LABEL-PREGNANCY-AFTER-TREATMENT": "pregnancy tests until some days after the last dose",
}

#: Rules a protocol file may switch off with ``enabled: false`` (besides any label rule).
SWITCHABLE_RULES: Final = frozenset(
    {
        "NONRESPONSE-STOP",
        "RELAPSE-MAINTAIN",
        "STOP-LIFE-THREATENING-AE",
        "SLE-MILD-FLARE",
        "VISIT-WINDOW",
        "MAINTENANCE-FLARE",
        "LABEL-NEUTROPENIA",
        "LABEL-PREGNANCY-TESTING",
        "LABEL-PREGNANCY-AFTER-TREATMENT",
    }
)


def is_switchable(rule: str, source: str) -> bool:
    """Return whether ``rule`` (with its ``source``) may be switched off in a protocol file.

    Parameters
    ----------
    rule : str
        Rule id, e.g. ``LABEL-THROMBOSIS``.
    source : {"protocol", "label", "default"}
        The rule's source as given in the file.

    >>> is_switchable("NONRESPONSE-STOP", "default")
    True
    """
    return source == "label" or rule in SWITCHABLE_RULES
