"""Swimmer-plot lanes: each patient's course as dose segments, markers and an annotation.

A lane is plain data (weeks from the first dose), drawn by
:func:`cletrial.analysis.figures.render_swimmer`. Every segment and marker says whether it was
*recorded* or *inferred*, and how: the reference study (Table 2) gives time to CR, follow-up,
maximum dose and the dose at relapse, but not when doses changed or when relapses happened, so
those parts of its lanes are inferred from the protocol or drawn as "timing not reported".

>>> from cletrial.analysis.reference import load_reference_study
>>> lanes = derive_reference_lanes(load_reference_study())
>>> lanes[2].label, lanes[2].end, [m.kind for m in lanes[2].markers]
('3 DLE', 1.0, ['withdrawn'])
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Final, Literal

from cletrial.analysis.reference import ReferenceStudy
from cletrial.analysis.survival import WEEKS_PER_MONTH

__all__ = [
    "REGIMEN_LABELS",
    "SwimmerLane",
    "SwimmerMarker",
    "SwimmerSegment",
    "derive_reference_lanes",
]

#: Legend text of each regimen drawn in a lane (ladder steps plus the reference study's
#: "after CR, schedule not reported").
REGIMEN_LABELS: Final[dict[str, str]] = {
    "10_daily": "10 mg daily",
    "5_daily": "5 mg daily",
    "5_alternate": "5 mg alternate days",
    "5_thrice_weekly": "5 mg three times a week",
    "5_twice_weekly": "5 mg twice a week",
    "off": "off lenalidomide (follow-up)",
    "after_cr_unreported": "after CR: taper / re-treatment, schedule not reported",
}
_SHORT_SUBTYPE: Final = {"lupus_profundus": "LP"}

MarkerKind = Literal["CR", "relapse", "withdrawn", "PR", "NR", "stop"]


@dataclass(frozen=True)
class SwimmerSegment:
    """``regimen`` (a :data:`REGIMEN_LABELS` key) from ``start`` to ``end`` weeks."""

    start: float
    end: float
    regimen: str
    inferred: bool


@dataclass(frozen=True)
class SwimmerMarker:
    """An event at ``time`` weeks (CR, relapse, withdrawal, ...), with its label."""

    time: float
    kind: MarkerKind
    label: str
    inferred: bool = False


@dataclass(frozen=True)
class SwimmerLane:
    """One patient: segments, markers, end of follow-up (weeks) and a right-hand annotation."""

    label: str
    segments: tuple[SwimmerSegment, ...]
    markers: tuple[SwimmerMarker, ...]
    end: float
    annotation: str

    def as_dict(self) -> dict[str, Any]:
        """Stable JSON shape (times to 3 decimals)."""
        out = asdict(self)
        out["end"] = round(self.end, 3)
        for item in (*out["segments"], *out["markers"]):
            for key in ("start", "end", "time"):
                if key in item:
                    item[key] = round(item[key], 3)
        return out


def _reference_lane(patient: int, subtype: str, row: Any) -> SwimmerLane:
    label = f"{patient} {_SHORT_SUBTYPE.get(subtype, subtype)}"
    if row.outcome == "withdrawn":
        return SwimmerLane(
            label,
            (SwimmerSegment(0.0, 1.0, "5_daily", False),),
            (SwimmerMarker(1.0, "withdrawn", "stopped: adverse events"),),
            1.0,
            "withdrawn at week 1 (adverse events)",
        )
    end = float(row.follow_up_months) * WEEKS_PER_MONTH
    if row.outcome == "PR":
        segments = [SwimmerSegment(0.0, min(4.0, end), "5_daily", False)]
        if row.max_dose_mg == 10:
            segments.append(SwimmerSegment(4.0, end, "10_daily", True))
        else:
            segments.append(SwimmerSegment(4.0, end, "5_daily", True))
        return SwimmerLane(
            label,
            tuple(segments),
            (SwimmerMarker(end, "PR", "PR at last visit"),),
            end,
            f"partial response, maximum {row.max_dose_mg} mg/day",
        )
    cr = float(row.time_to_cr_weeks)
    segments = [
        SwimmerSegment(0.0, cr, "5_daily", False),
        SwimmerSegment(cr, end, "after_cr_unreported", True),
    ]
    if row.relapse is True:
        annotation = f"relapse on {row.dose_at_relapse} (time not reported)"
    elif row.relapse is False:
        annotation = "no relapse"
    else:
        annotation = "relapse status not reported"
    return SwimmerLane(
        label, tuple(segments), (SwimmerMarker(cr, "CR", "complete response"),), end, annotation
    )


def derive_reference_lanes(study: ReferenceStudy) -> list[SwimmerLane]:
    """One swimmer lane per patient of the reference study (Table 2 with Table 1's subtype).

    Recorded: time to CR, follow-up (months x 4.348 weeks), withdrawal at week 1 (Results text),
    dose at relapse (as a label: its time is not reported). Inferred from the protocol: 5 mg
    daily from the first dose to CR (all CR patients had a maximum of 5 mg), the escalation of
    patient 9 to 10 mg at the week-4 review, and 5 mg daily through follow-up for the other PR
    patient. After CR the schedule (taper, relapse, re-treatment) is not reported.

    Returns
    -------
    list of SwimmerLane
        In patient order.

    Examples
    --------
    >>> from cletrial.analysis.reference import load_reference_study
    >>> lane = derive_reference_lanes(load_reference_study())[8]
    >>> lane.label, [(s.regimen, s.inferred) for s in lane.segments]
    ('9 DLE', [('5_daily', False), ('10_daily', True)])
    """
    subtypes = {r.patient: r.subtype for r in study.table1}
    return [_reference_lane(r.patient, subtypes[r.patient], r) for r in study.table2]
