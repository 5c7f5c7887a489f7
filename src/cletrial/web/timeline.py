"""The patient timeline as an inline SVG: CLASI-A and CLASI-D over time, dose steps, complete
response, relapses and events. Drawn on the server (no JavaScript, no external library); the
page also shows the same data as a table for screen readers.

The dose band's rows and short labels come from the protocol's dose ladder
(:mod:`cletrial.web.regimens`): the row is the regimen's position on the ladder.

>>> svg = build_timeline_svg({"assessments": [], "doses": []}, None, None)
>>> svg.startswith("<svg") and "No CLASI" in svg
True
"""

# ruff: noqa: E501
from __future__ import annotations

import datetime as dt
from html import escape
from typing import TYPE_CHECKING, Any, Final

from cletrial.web.regimens import regimen_rows, regimen_short_labels

if TYPE_CHECKING:
    from cletrial.protocol import ProtocolDefinition

__all__ = ["build_timeline_svg", "dose_shade", "timeline_points"]

W: Final = 860
H: Final = 300
LEFT: Final = 48
RIGHT: Final = 16
TOP: Final = 16
PLOT_H: Final = 190
DOSE_Y: Final = 236
#: Shades of the treatment steps, highest dose darkest; white text on the first three.
DOSE_SHADES: Final = ("#0b3d6e", "#0b5cad", "#3c82c8", "#6fa3d6", "#a4c4e6")
#: Shade of no treatment, and of a regimen that is not on the protocol's ladder.
OFF_SHADE: Final = "#dfe6ee"


def dose_shade(row: int | None, off: int) -> tuple[str, str]:
    """(fill, text colour) of a ladder position; ``off`` is the position of no treatment.

    Treatment steps spread over :data:`DOSE_SHADES` (a 6-step ladder uses each shade once).

    >>> dose_shade(0, 5), dose_shade(5, 5), dose_shade(None, 5)
    (('#0b3d6e', '#fff'), ('#dfe6ee', '#1b1f24'), ('#dfe6ee', '#1b1f24'))
    """
    if row is None or row >= off:
        return OFF_SHADE, "#1b1f24"
    index = round(row * (len(DOSE_SHADES) - 1) / max(1, off - 1))
    return DOSE_SHADES[index], "#fff" if index < 3 else "#1b1f24"


def _score(clasi: Any, key: str) -> int | None:
    if not isinstance(clasi, dict):
        return None
    if key in clasi:
        value = clasi[key]
        return value if isinstance(value, int) else None
    from cletrial.instruments import compute_clasi

    try:
        score = compute_clasi(clasi)
    except Exception:  # an invalid stored form is shown as missing, never as 0
        return None
    return score.activity if key == "activity" else score.damage


def timeline_points(history: dict[str, Any]) -> list[dict[str, Any]]:
    """``[{date, activity, damage}]`` for the baseline and each assessment with a CLASI.

    >>> timeline_points({"baseline": {"date": "2009-02-02", "clasi": {"activity": 6, "damage": 2}},
    ...                  "assessments": [{"date": "2009-03-02"}]})
    [{'date': datetime.date(2009, 2, 2), 'activity': 6, 'damage': 2}]
    """
    entries = []
    if history.get("baseline"):
        entries.append(history["baseline"])
    entries.extend(history.get("assessments", []))
    points = []
    for entry in entries:
        clasi = entry.get("clasi")
        if clasi is None:
            continue
        points.append({
            "date": dt.date.fromisoformat(entry["date"]),
            "activity": _score(clasi, "activity"), "damage": _score(clasi, "damage"),
        })  # fmt: skip
    return sorted(points, key=lambda p: p["date"])


def _shift(day: dt.date, days: int) -> dt.date:
    """``day`` moved by ``days``, kept within the calendar (a stored date may be 9999-12-31).

    >>> _shift(dt.date(9999, 12, 30), 7), _shift(dt.date(1, 1, 2), -7)
    (datetime.date(9999, 12, 31), datetime.date(1, 1, 1))
    """
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max if days > 0 else dt.date.min


def _line(points: list[tuple[float, float]], colour: str, dash: str = "") -> str:
    if not points:
        return ""
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>' for x, y in points
    )
    return (
        f'<polyline fill="none" stroke="{colour}" stroke-width="2.5"{extra} points="{path}"/>{dots}'
    )


def build_timeline_svg(
    history: dict[str, Any], reco: dict[str, Any] | None, protocol: ProtocolDefinition | None
) -> str:
    """The SVG chart (a string of markup; every text is escaped).

    ``protocol`` gives the dose ladder (``None``: regimens are shown by id, unshaded).
    """
    points = timeline_points(history)
    doses = [(dt.date.fromisoformat(d["date"]), d["regimen"]) for d in history.get("doses", [])]
    events = [(dt.date.fromisoformat(e["date"]), e["type"]) for e in history.get("events", [])]
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" '
            'aria-labelledby="timeline-title"><title id="timeline-title">CLASI activity and '
            'damage over time with dose steps</title>')  # fmt: skip
    if not points and not doses:
        return (
            head
            + f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle">No CLASI or dose recorded yet</text></svg>'
        )
    dates = [p["date"] for p in points] + [d for d, _ in doses] + [d for d, _ in events]
    start, end = min(dates), max(dates)
    span = max((end - start).days, 28)
    top_score = max(
        [10, *[p["activity"] or 0 for p in points], *[p["damage"] or 0 for p in points]]
    )

    def x(day: dt.date) -> float:
        return float(LEFT + (W - LEFT - RIGHT) * (day - start).days / span)

    def y(value: float) -> float:
        return TOP + PLOT_H * (1 - value / top_score)

    parts = [head]
    for tick in range(0, top_score + 1, max(1, top_score // 5)):
        parts.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e3e8ee"/>'
                     f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="11">{tick}</text>')  # fmt: skip
    for week in range(0, span // 7 + 1, max(4, (span // 7) // 8 // 4 * 4 or 4)):
        day = _shift(start, 7 * week)
        parts.append(
            f'<text x="{x(day):.1f}" y="{TOP + PLOT_H + 14}" text-anchor="middle" font-size="11">wk {week}</text>'
        )
    parts.append(
        _line(
            [(x(p["date"]), y(p["activity"])) for p in points if p["activity"] is not None],
            "#0b5cad",
        )
    )
    parts.append(
        _line(
            [(x(p["date"]), y(p["damage"])) for p in points if p["damage"] is not None],
            "#c05600",
            "6 4",
        )
    )
    course = (reco or {}).get("course") or {}
    if course.get("complete_response_date"):
        day = dt.date.fromisoformat(course["complete_response_date"])
        parts.append(f'<line x1="{x(day):.1f}" x2="{x(day):.1f}" y1="{TOP}" y2="{TOP + PLOT_H}" stroke="#17663a" stroke-width="2"/>'
                     f'<text x="{x(day) + 4:.1f}" y="{TOP + 12}" font-size="11" fill="#17663a">CR</text>')  # fmt: skip
    for relapse in course.get("relapses", []):
        day = dt.date.fromisoformat(relapse["date"])
        parts.append(
            f'<path d="M{x(day):.1f},{TOP + 4} l6,10 h-12 z" fill="#b3261e"><title>relapse {escape(relapse["date"])}</title></path>'
        )
    for day, kind in events:
        parts.append(f'<line x1="{x(day):.1f}" x2="{x(day):.1f}" y1="{TOP}" y2="{DOSE_Y + 40}" stroke="#5b2a86" stroke-dasharray="2 3"/>'
                     f'<text x="{x(day) + 3:.1f}" y="{TOP + PLOT_H - 4}" font-size="11" fill="#5b2a86">{escape(kind.replace("_", " "))}</text>')  # fmt: skip
    rows, short = regimen_rows(protocol), regimen_short_labels(protocol)
    for index, (day, regimen) in enumerate(doses):
        stop = doses[index + 1][0] if index + 1 < len(doses) else _shift(end, 7)
        shade, ink = dose_shade(rows.get(regimen), len(rows) - 1)
        parts.append(f'<rect x="{x(day):.1f}" y="{DOSE_Y}" width="{max(2.0, x(stop) - x(day)):.1f}" height="22" fill="{shade}">'
                     f'<title>{escape(regimen)} from {day.isoformat()}</title></rect>'
                     f'<text x="{x(day) + 3:.1f}" y="{DOSE_Y + 15}" font-size="11" fill="{ink}">{escape(short.get(regimen, regimen))}</text>')  # fmt: skip
    parts.append(f'<text x="{LEFT}" y="{DOSE_Y - 4}" font-size="11">Dose</text>')
    parts.append("</svg>")
    return "".join(parts)
