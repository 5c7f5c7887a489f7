"""Figures for the study report, drawn with matplotlib's object API (Agg canvas, no pyplot).

Each ``render_*`` function takes plain data and returns PNG bytes, so the report can embed them
and nothing touches matplotlib's global state. The figures are meant for clinicians: large type,
labelled axes with units, a colour-blind-safe palette (Okabe-Ito), the number of patients behind
every point, and inferred parts drawn hatched and said to be inferred.

>>> png = render_kaplan_meier([], title="empty", ylabel="proportion")
>>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from cletrial.analysis.lanes import REGIMEN_LABELS, SwimmerLane
from cletrial.analysis.survival import KaplanMeier

__all__ = [
    "ClasiTimePoint",
    "ImmunologyPanel",
    "render_clasi_over_time",
    "render_immunology",
    "render_kaplan_meier",
    "render_swimmer",
]

_COLOURS: Final[dict[str, str]] = {
    "10_daily": "#D55E00",
    "5_daily": "#0072B2",
    "5_alternate": "#56B4E9",
    "5_thrice_weekly": "#009E73",
    "5_twice_weekly": "#E69F00",
    "off": "#BBBBBB",
    "after_cr_unreported": "#A6CEE3",
}
_CURVE_COLOURS: Final = ("#0072B2", "#D55E00", "#009E73", "#CC79A7")
_MARKERS: Final[dict[str, tuple[str, str, str]]] = {
    "CR": ("^", "#000000", "complete response"),
    "relapse": ("*", "#CC0000", "relapse (CLASI-A >= 4)"),
    "withdrawn": ("X", "#CC0000", "stopped treatment"),
    "stop": ("X", "#CC0000", "stopped treatment"),
    "PR": ("o", "#555555", "partial response at last visit"),
    "NR": ("s", "#555555", "no response"),
}
_FONT: Final = 11


def _new_figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def render_swimmer(lanes: Sequence[SwimmerLane], *, title: str, time_unit: str = "weeks") -> bytes:
    """Swimmer plot: one bar per patient, coloured by regimen, with event markers.

    Parameters
    ----------
    lanes : sequence of SwimmerLane
        Patients from top to bottom (times in ``time_unit`` from the first dose).
    title : str
        Figure title (say here when the data are synthetic).
    time_unit : str
        Unit of the time axis.

    Returns
    -------
    bytes
        A PNG image.

    Examples
    --------
    >>> from cletrial.analysis.lanes import SwimmerLane, SwimmerSegment
    >>> lane = SwimmerLane("1", (SwimmerSegment(0, 4, "5_daily", False),), (), 4.0, "")
    >>> render_swimmer([lane], title="x")[:4] == b"\\x89PNG"
    True
    """
    figure = _new_figure(11, 1.2 + 0.42 * max(len(lanes), 1))
    ax = figure.add_subplot()
    used, kinds = _draw_lanes(ax, lanes)
    ax.set_yticks(range(len(lanes)), [lane.label for lane in reversed(lanes)], fontsize=_FONT)
    ax.set_xlabel(f"Time from first dose ({time_unit})", fontsize=_FONT)
    ax.set_ylabel("Patient", fontsize=_FONT)
    ax.set_title(title, fontsize=_FONT + 2, loc="left")
    longest = max((lane.end for lane in lanes), default=1.0)
    ax.set_xlim(0, longest * 1.55 + 5)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(
        handles=_swimmer_handles(used, kinds),
        fontsize=_FONT - 2,
        loc="upper center",
        ncol=3,
        frameon=False,
        bbox_to_anchor=(0.5, -0.7 / (0.77 * (1.2 + 0.42 * max(len(lanes), 1)))),
    )
    return _png(figure)


def _draw_lanes(ax: Any, lanes: Sequence[SwimmerLane]) -> tuple[dict[str, bool], set[str]]:
    """Draw bars and markers; return regimens used (-> any inferred) and marker kinds used."""
    used: dict[str, bool] = {}
    kinds: set[str] = set()
    for row, lane in enumerate(lanes):
        y = len(lanes) - 1 - row
        for seg in lane.segments:
            ax.barh(
                y,
                seg.end - seg.start,
                left=seg.start,
                height=0.6,
                color=_COLOURS.get(seg.regimen, "#999999"),
                edgecolor="#333333",
                linewidth=0.4,
                hatch="///" if seg.inferred else None,
            )
            used[seg.regimen] = used.get(seg.regimen, False) or seg.inferred
        for mark in lane.markers:
            shape, colour, _ = _MARKERS[mark.kind]
            ax.scatter(
                [mark.time],
                [y],
                marker=shape,
                s=90,
                color=colour,
                zorder=3,
                edgecolors="white",
                linewidths=0.5,
            )
            kinds.add(mark.kind)
        ax.text(lane.end + 1.0, y, lane.annotation, va="center", fontsize=_FONT - 2)
    return used, kinds


def _swimmer_handles(used: dict[str, bool], kinds: set[str]) -> list[Any]:
    """Legend entries: regimens, 'hatched = inferred' when anything is, and the markers."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = [
        Patch(
            facecolor=_COLOURS.get(k, "#999999"),
            edgecolor="#333333",
            label=REGIMEN_LABELS.get(k, k),
        )
        for k in used
    ]
    if any(used.values()):
        handles.append(
            Patch(
                facecolor="white",
                edgecolor="#333333",
                hatch="///",
                label="hatched: inferred, not recorded",
            )
        )
    handles += [
        Line2D(
            [],
            [],
            marker=_MARKERS[k][0],
            color=_MARKERS[k][1],
            linestyle="",
            markersize=9,
            label=_MARKERS[k][2],
        )
        for k in sorted(kinds)
    ]
    return handles


def _at_risk(km: KaplanMeier, time: float) -> int:
    """Patients still at risk at ``time`` (no event or censoring before it)."""
    return next((s.at_risk for s in km.steps if s.time >= time), 0)


def render_kaplan_meier(
    curves: Sequence[KaplanMeier], *, title: str, ylabel: str, cumulative: bool = False
) -> bytes:
    """Kaplan-Meier step curves with 95% bands, censoring ticks and numbers at risk.

    ``cumulative=True`` draws ``1 - S(t)`` (e.g. the proportion with complete response).

    Examples
    --------
    >>> from cletrial.analysis.survival import compute_kaplan_meier
    >>> km = compute_kaplan_meier([2, 4, 6], [True, True, False], label="CR")
    >>> render_kaplan_meier([km], title="t", ylabel="p", cumulative=True)[:4] == b"\\x89PNG"
    True
    """
    figure = _new_figure(8, 5)
    ax = figure.add_subplot()
    for index, km in enumerate(curves):
        colour = _CURVE_COLOURS[index % len(_CURVE_COLOURS)]
        times = [s.time for s in km.steps]
        values = [s.cumulative_incidence if cumulative else s.survival for s in km.steps]
        low = [1 - s.ci_upper if cumulative else s.ci_lower for s in km.steps]
        high = [1 - s.ci_lower if cumulative else s.ci_upper for s in km.steps]
        ax.step(
            times,
            values,
            where="post",
            color=colour,
            linewidth=2,
            label=f"{km.label} (n = {km.n}, {km.events} events)",
        )
        ax.fill_between(times, low, high, step="post", color=colour, alpha=0.15, linewidth=0)
        censored = [(s.time, v) for s, v in zip(km.steps, values, strict=True) if s.censored]
        if censored:
            ax.scatter(*zip(*censored, strict=True), marker="|", s=120, color=colour, zorder=3)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(left=0)
    _draw_at_risk(ax, curves)
    ax.set_xlabel(
        f"Time from first dose ({curves[0].time_unit if curves else 'weeks'})", fontsize=_FONT
    )
    ax.set_ylabel(ylabel, fontsize=_FONT)
    ax.set_title(title, fontsize=_FONT + 2, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    if curves:
        ax.legend(fontsize=_FONT - 1, loc="lower right" if cumulative else "upper right")
    return _png(figure)


def _draw_at_risk(ax: Any, curves: Sequence[KaplanMeier]) -> None:
    """Numbers at risk under the x-axis ticks, one row per curve."""
    from matplotlib.transforms import blended_transform_factory

    below = blended_transform_factory(ax.transData, ax.transAxes)
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    if curves:
        ax.text(0.0, -0.19, "Number at risk", transform=ax.transAxes, fontsize=_FONT - 2)
    for index, km in enumerate(curves):
        y = -0.25 - 0.12 * index
        ax.text(
            0.0,
            y - 0.05,
            km.label,
            transform=ax.transAxes,
            fontsize=_FONT - 3,
            color=_CURVE_COLOURS[index % len(_CURVE_COLOURS)],
        )
        for tick in ticks:
            ax.text(
                tick, y, str(_at_risk(km, tick)), transform=below, ha="center", fontsize=_FONT - 2
            )


@dataclass(frozen=True)
class ClasiTimePoint:
    """CLASI activity and damage at one nominal week: mean, SEM and n of each."""

    week: float
    activity_mean: float | None
    activity_sem: float | None
    activity_n: int
    damage_mean: float | None
    damage_sem: float | None
    damage_n: int


def render_clasi_over_time(points: Sequence[ClasiTimePoint], *, title: str) -> bytes:
    """Figure 2: CLASI activity and damage, mean ± SEM, by nominal visit week, with n per point.

    Examples
    --------
    >>> p = [ClasiTimePoint(0, 11.0, 1.5, 15, 2.3, 0.8, 15),
    ...      ClasiTimePoint(4, 3.0, 1.0, 14, 2.4, 0.8, 14)]
    >>> render_clasi_over_time(p, title="x")[:4] == b"\\x89PNG"
    True
    """
    figure = _new_figure(9, 5)
    ax = figure.add_subplot()
    for name, colour, marker in (("activity", "#0072B2", "o"), ("damage", "#D55E00", "s")):
        rows = [p for p in points if getattr(p, f"{name}_mean") is not None]
        ax.errorbar(
            [p.week for p in rows],
            [getattr(p, f"{name}_mean") for p in rows],
            yerr=[getattr(p, f"{name}_sem") or 0.0 for p in rows],
            color=colour,
            marker=marker,
            capsize=4,
            linewidth=2,
            label=f"CLASI {name} (mean ± SEM)",
        )
    from matplotlib.transforms import blended_transform_factory

    below = blended_transform_factory(ax.transData, ax.transAxes)
    ax.text(0.0, -0.2, "n (activity)", transform=ax.transAxes, ha="right", fontsize=_FONT - 3)
    for p in points:
        ax.text(p.week, -0.2, str(p.activity_n), transform=below, ha="center", fontsize=_FONT - 3)
    ax.set_xlabel("Nominal visit (weeks from first dose)", fontsize=_FONT)
    ax.set_ylabel("CLASI score (points)", fontsize=_FONT)
    ax.set_title(title, fontsize=_FONT + 2, loc="left")
    ax.set_ylim(bottom=0)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=_FONT - 1)
    return _png(figure)


@dataclass(frozen=True)
class ImmunologyPanel:
    """One test (e.g. anti-dsDNA, IU/ml): each patient's (baseline, end) pair and a test line."""

    label: str
    unit: str
    pairs: tuple[tuple[float, float], ...]
    test_text: str


def render_immunology(panels: Sequence[ImmunologyPanel], *, title: str) -> bytes:
    """Figure 3: baseline against end of treatment, one line per patient, one panel per test.

    Examples
    --------
    >>> panel = ImmunologyPanel("C3", "mg/dL", ((90.0, 95.0), (80.0, 82.0)), "n = 2")
    >>> render_immunology([panel], title="x")[:4] == b"\\x89PNG"
    True
    """
    figure = _new_figure(4 * max(len(panels), 1), 5.2)
    axes = figure.subplots(1, max(len(panels), 1), squeeze=False)[0]
    for ax, panel in zip(axes, panels, strict=False):
        for base, end in panel.pairs:
            ax.plot([0, 1], [base, end], color="#999999", linewidth=1, marker="o", markersize=4)
        if len(panel.pairs) >= 2:
            means = [sum(p[i] for p in panel.pairs) / len(panel.pairs) for i in (0, 1)]
            ax.plot([0, 1], means, color="#D55E00", linewidth=3, marker="D", label="mean")
            ax.legend(fontsize=_FONT - 2)
        ax.set_xticks([0, 1], ["Baseline", "End of\ntreatment"], fontsize=_FONT)
        ax.set_xlim(-0.3, 1.3)
        ax.set_ylabel(f"{panel.label} ({panel.unit})", fontsize=_FONT)
        ax.set_title(f"{panel.label}\n{panel.test_text}", fontsize=_FONT - 1)
        ax.spines[["top", "right"]].set_visible(False)
    figure.suptitle(title, fontsize=_FONT + 2)
    return _png(figure)
