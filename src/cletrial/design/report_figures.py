"""Figures of the design report (matplotlib object API, Agg canvas, no pyplot): the
group-sequential boundaries and the power curves. Each ``render_*`` function takes plain data
and returns SVG bytes with no date and stable element ids, so the same numbers give the same
file. Colours are from the Okabe-Ito palette, as in :mod:`cletrial.analysis.figures`.

>>> from cletrial.design.boundaries import compute_boundaries
>>> svg = render_boundary_plot(compute_boundaries([0.5, 1.0], futility="obf"))
>>> svg[:5] == b"<?xml", b"<svg" in svg[:400]
(True, True)
"""

from __future__ import annotations

import io
from typing import Any, Final

from cletrial.analysis.figures import _new_figure
from cletrial.design.boundaries import Boundaries
from cletrial.design.report_data import PowerCurve

__all__ = ["render_boundary_plot", "render_power_curve"]

_EFFICACY: Final = "#0072B2"
_FUTILITY: Final = "#D55E00"
_ANALYTIC: Final = "#555555"
_NULL: Final = "#CC79A7"
_FONT: Final = 10


def _svg(figure: Any, salt: str) -> bytes:
    from matplotlib import rc_context

    buffer = io.BytesIO()
    with rc_context({"svg.hashsalt": salt}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return buffer.getvalue()


def render_boundary_plot(bounds: Boundaries, *, title: str | None = None) -> bytes:
    """Efficacy and (non-binding) futility z bounds against the information fraction.

    Parameters
    ----------
    bounds : Boundaries
        From :func:`cletrial.design.boundaries.compute_boundaries`.
    title : str, optional
        Figure title (default: the spending functions).

    Returns
    -------
    bytes
        An SVG document.

    Examples
    --------
    >>> from cletrial.design.boundaries import compute_boundaries
    >>> b"futility" in render_boundary_plot(compute_boundaries([1 / 3, 2 / 3, 1]))
    False
    """
    figure = _new_figure(8.5, 4.8)
    ax = figure.add_subplot()
    t = list(bounds.fractions)
    top = max(bounds.efficacy_z) + 0.8
    low = min(min(bounds.futility_z) - 0.8, -0.5) if bounds.futility_z else -0.5
    width = 0.025
    for x, z in zip(t, bounds.efficacy_z, strict=True):  # where a look stops: bars, not areas
        ax.bar(x, top - z, width, bottom=z, color=_EFFICACY, alpha=0.18, linewidth=0)
    ax.plot(t, bounds.efficacy_z, marker="o", color=_EFFICACY, linewidth=1.2, linestyle=":",
            label=f"efficacy ({bounds.spending}): reject H0 at or above")  # fmt: skip
    for x, z, p in zip(t, bounds.efficacy_z, bounds.nominal_p, strict=True):
        ax.annotate(f"z {z:.2f}\np {p:.4f}", (x, z), textcoords="offset points", xytext=(-62, 12),
                    fontsize=_FONT - 1, color=_EFFICACY)  # fmt: skip
    if bounds.futility_z:
        for x, z in zip(t[:-1], bounds.futility_z[:-1], strict=True):
            ax.bar(x, z - low, width, bottom=low, color=_FUTILITY, alpha=0.18, linewidth=0)
            ax.annotate(f"z {z:.2f}", (x, z), textcoords="offset points", xytext=(-48, -4),
                        fontsize=_FONT - 1, color=_FUTILITY)  # fmt: skip
        label = f"futility ({bounds.futility_spending}, non-binding): may stop below"
        ax.plot(t, bounds.futility_z, marker="s", color=_FUTILITY, linewidth=1.2, linestyle="--",
                label=label)  # fmt: skip
    ax.axhline(0.0, color="#999999", linewidth=0.8)
    ax.set_xlim(0.0, 1.06)
    ax.set_ylim(low, top)
    ax.set_xticks(t, [f"{x:.2f}" for x in t], fontsize=_FONT)
    ax.set_xlabel("Information fraction (share of the maximum patients or events)",
                  fontsize=_FONT)  # fmt: skip
    ax.set_ylabel("z statistic (positive favours the experimental arm)", fontsize=_FONT)
    ax.set_title(title or f"Group-sequential boundaries, one-sided alpha {bounds.alpha:g}",
                 fontsize=_FONT + 1, loc="left")  # fmt: skip
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=_FONT - 1, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2,
              frameon=False)  # fmt: skip
    return _svg(figure, "cletrial-boundaries")


def render_power_curve(curve: PowerCurve, alpha: float, *, title: str | None = None) -> bytes:
    """Two panels against the effect: the simulated reject rate (error bars: 1.96 Monte Carlo
    SE) with the analytic power line, the type I error point at the null; and the expected
    sample size, simulated and analytic.

    Parameters
    ----------
    curve : PowerCurve
        From :func:`cletrial.design.report_data.compute_power_curve`.
    alpha : float
        The design's one-sided alpha (drawn as a reference line).
    title : str, optional
        Figure title.

    Returns
    -------
    bytes
        An SVG document.

    Examples
    --------
    >>> from cletrial.design.model import load_design
    >>> from cletrial.design.report_data import compute_power_curve
    >>> curve = compute_power_curve(load_design("lenalidomide-vs-placebo"), 100, 3,
    ...                             fractions=(0.0, 1.0))
    >>> b"<svg" in render_power_curve(curve, 0.025)[:400]
    True
    """
    figure = _new_figure(11, 4.4)
    power, size = figure.subplots(1, 2)
    alt = [p for p in curve.points if p.fraction != 0.0]
    null = [p for p in curve.points if p.fraction == 0.0]
    power.plot([x for x, _ in curve.analytic_line], [y for _, y in curve.analytic_line],
               color=_ANALYTIC, linewidth=1.5, label="analytic (normal approximation)")  # fmt: skip
    power.errorbar([p.effect for p in alt], [p.reject for p in alt],
                   yerr=[1.96 * p.reject_se for p in alt], fmt="o", color=_EFFICACY, capsize=3,
                   label="simulated power (±1.96 MC SE)")  # fmt: skip
    if null:
        power.errorbar([p.effect for p in null], [p.reject for p in null],
                       yerr=[1.96 * p.reject_se for p in null], fmt="D", color=_NULL,
                       capsize=3, label="simulated type I error (null)")  # fmt: skip
    power.axhline(alpha, color=_NULL, linewidth=0.8, linestyle=":", label=f"alpha {alpha:g}")
    power.axvline(curve.design_effect, color="#999999", linewidth=0.8, linestyle="--")
    power.set_ylim(-0.02, 1.02)
    power.set_ylabel("Probability of rejecting H0", fontsize=_FONT)
    power.set_title("Power", fontsize=_FONT + 1, loc="left")
    power.legend(fontsize=_FONT - 1, loc="upper left", frameon=False)
    points = list(curve.points)
    size.errorbar([p.effect for p in points], [p.expected_n for p in points],
                  yerr=[1.96 * p.expected_n_se for p in points], fmt="o", color=_EFFICACY,
                  capsize=3, label="simulated (±1.96 MC SE)")  # fmt: skip
    size.plot([p.effect for p in points], [p.analytic_expected_n for p in points], marker="x",
              color=_ANALYTIC, linewidth=1.2, label="analytic")  # fmt: skip
    size.axvline(curve.design_effect, color="#999999", linewidth=0.8, linestyle="--")
    size.set_ylim(bottom=0)
    size.set_ylabel(f"Expected {curve.size_label} at the decision", fontsize=_FONT)
    size.set_title(f"Expected {curve.size_label}", fontsize=_FONT + 1, loc="left")
    size.legend(fontsize=_FONT - 1, loc="lower right", frameon=False)
    for ax in (power, size):
        ax.set_xlabel(f"True {curve.effect_label} (dashed: the design's)", fontsize=_FONT)
        ax.spines[["top", "right"]].set_visible(False)
        if curve.effect_label == "hazard ratio":
            ax.invert_xaxis()  # a stronger effect to the right, as for rates
    figure.suptitle(
        title or f"Operating characteristics: {curve.trials} simulated trials per point, "
        f"seed {curve.seed}", fontsize=_FONT + 1, x=0.01, ha="left",
    )  # fmt: skip
    return _svg(figure, "cletrial-power")
