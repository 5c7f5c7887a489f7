"""Forest plot of the pooled evidence (matplotlib object API, Agg canvas, no pyplot).

:func:`build_forest_figure` returns the matplotlib ``Figure`` (for a report that lays it out
itself); :func:`render_forest_plot` returns PNG or SVG bytes. One panel per outcome: each series
is a square (area proportional to its random-effects weight) with its exact Clopper-Pearson
interval, the pooled random-effects estimate is a diamond spanning its interval, and the panel
states tau², I² and Q. Colours are from the Okabe-Ito palette, as in
:mod:`cletrial.analysis.figures`.

>>> from cletrial.analysis.evidence import compute_evidence_summary
>>> svg = render_forest_plot(list(compute_evidence_summary().pooled.values()), fmt="svg")
>>> b"<svg" in svg[:400]
True
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any, Final, Literal

from cletrial.analysis.evidence import PooledProportion
from cletrial.analysis.figures import _new_figure
from cletrial.errors import InputError

__all__ = ["OUTCOME_TITLES", "build_forest_figure", "render_forest_plot"]

OUTCOME_TITLES: Final[dict[str, str]] = {
    "cr": "Complete response",
    "response": "Response (complete or partial)",
}
_STUDY: Final = "#0072B2"
_POOLED: Final = "#D55E00"
_FONT: Final = 10


def _rows(pooled: Sequence[PooledProportion]) -> list[tuple[str, str]]:
    """Every series in any panel, in first-seen order: (id, label)."""
    rows: dict[str, str] = {}
    for result in pooled:
        for study in result.studies:
            rows.setdefault(study.study, study.label)
    return list(rows.items())


def _draw_panel(ax: Any, result: PooledProportion, rows: list[tuple[str, str]]) -> None:
    by_id = {study.study: study for study in result.studies}
    top = len(rows)
    for index, (study_id, _label) in enumerate(rows):
        y = top - index
        study = by_id.get(study_id)
        if study is None:
            ax.text(0.5, y, "not reported", ha="center", va="center", fontsize=_FONT - 1)
            continue
        p = study.proportion
        ax.plot([p.ci_lower, p.ci_upper], [y, y], color=_STUDY, linewidth=1.6)
        ax.scatter([p.proportion], [y], marker="s", s=40 + 260 * study.weight_random,
                   color=_STUDY, zorder=3, clip_on=False)  # fmt: skip
        ax.text(1.04, y, f"{p.count}/{p.total}", va="center", fontsize=_FONT - 1)
    diamond_x = [result.ci_low, result.estimate, result.ci_high, result.estimate]
    diamond_y = [0, 0.3, 0, -0.3]
    ax.fill(diamond_x, diamond_y, color=_POOLED, zorder=3)
    ax.text(1.04, 0, f"{100 * result.estimate:.0f}%", va="center", fontsize=_FONT - 1,
            color=_POOLED, fontweight="bold")  # fmt: skip
    ax.axvline(result.estimate, color=_POOLED, linewidth=0.8, linestyle=":")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.8, top + 0.6)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["0", "25", "50", "75", "100"], fontsize=_FONT)
    ax.set_xlabel("Patients with the outcome (%)", fontsize=_FONT)
    ax.set_title(OUTCOME_TITLES.get(result.outcome, result.outcome), fontsize=_FONT + 1, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    level = round(100 * result.confidence)
    ax.annotate(
        f"Pooled {100 * result.estimate:.0f}% ({level}% CI {100 * result.ci_low:.0f}-"
        f"{100 * result.ci_high:.0f}%), {result.k} series\n"
        f"tau² = {result.tau2:.3g}, I² = {100 * result.i2:.0f}%, "
        f"Q = {result.q:.3g} (df {result.q_df}, P = {result.q_p_value:.2g})",
        xy=(0, 0),
        xycoords="axes fraction",
        xytext=(0, -60),
        textcoords="offset points",
        fontsize=_FONT - 1,
    )


def build_forest_figure(pooled: Sequence[PooledProportion], *, title: str | None = None) -> Any:
    """A forest plot with one panel per pooled outcome, series as rows.

    Parameters
    ----------
    pooled : sequence of PooledProportion
        The outcomes to show, left to right (e.g. ``summary.pooled.values()``).
    title : str, optional
        Figure title (default: what is pooled and how).

    Returns
    -------
    matplotlib.figure.Figure
        Attached to an Agg canvas; save it with ``savefig``.

    Examples
    --------
    >>> from cletrial.analysis.evidence import derive_pooled_proportion
    >>> fig = build_forest_figure([derive_pooled_proportion([3, 6], [11, 17])])
    >>> len(fig.axes)
    1
    """
    if not pooled:
        raise InputError("pooled", [], "must hold at least one pooled outcome to draw")
    rows = _rows(pooled)
    figure = _new_figure(4.2 + 3.8 * len(pooled), 2.9 + 0.42 * len(rows))
    axes = figure.subplots(1, len(pooled), squeeze=False, sharey=True)[0]
    for ax, result in zip(axes, pooled, strict=True):
        _draw_panel(ax, result, rows)
    ticks = [len(rows) - i for i in range(len(rows))] + [0]
    labels = [label for _, label in rows] + ["Pooled (random effects)"]
    axes[0].set_yticks(ticks, labels, fontsize=_FONT)
    figure.suptitle(
        title
        or "Lenalidomide in cutaneous lupus: published series, exact 95% CIs; pooled "
        "DerSimonian-Laird (Freeman-Tukey)",
        fontsize=_FONT + 1,
        x=0.01,
        ha="left",
    )
    return figure


def render_forest_plot(
    pooled: Sequence[PooledProportion],
    *,
    fmt: Literal["png", "svg"] = "png",
    title: str | None = None,
) -> bytes:
    """:func:`build_forest_figure` as PNG or SVG bytes (no timestamp, so output is stable).

    Parameters
    ----------
    pooled : sequence of PooledProportion
        The outcomes to show.
    fmt : {"png", "svg"}
        Image format.
    title : str, optional
        Figure title.

    Returns
    -------
    bytes

    Examples
    --------
    >>> from cletrial.analysis.evidence import derive_pooled_proportion
    >>> render_forest_plot([derive_pooled_proportion([0, 2], [5, 2])])[:4] == b"\\x89PNG"
    True
    """
    if fmt not in ("png", "svg"):
        raise InputError("fmt", fmt, "must be png or svg")
    from matplotlib import rc_context

    figure = build_forest_figure(pooled, title=title)
    buffer = io.BytesIO()
    metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    with rc_context({"svg.hashsalt": "cletrial-forest"}):  # stable SVG element ids
        figure.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()
