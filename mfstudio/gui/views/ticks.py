"""Axis ticks for the loss curve: log-axis tick places that always label two ticks, labels without
mathtext, and the 1-2-5 limits the live view grows in."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.ticker import Formatter, Locator, LogLocator, MaxNLocator


class LogTicks(Locator):
    """Major ticks for a log axis that always give at least two labelled ticks in view.

    matplotlib labels only decades, so a range under a decade (an RMSE from 0.3 to 0.9)
    shows no number at all. Here: decades when two are in view, else 1-2-5 × 10^k
    values when two are, else evenly spaced round numbers. On an x axis the labelled decades are
    thinned (every 2nd, 3rd, ...) until their labels, measured in the axis's font, do not run into
    each other at the axes' width: the choice depends only on that width, the limits and the font.
    """

    def __init__(self) -> None:
        self._log = LogLocator(base=10)

    def set_axis(self, axis: Any) -> None:
        super().set_axis(axis)
        self._log.set_axis(axis)

    def __call__(self) -> Any:
        lo, hi = self.axis.get_view_interval()
        return self.tick_values(lo, hi)

    def tick_values(self, vmin: float, vmax: float) -> Any:
        lo, hi = sorted((float(vmin), float(vmax)))
        if not (hi > 0 and math.isfinite(hi)):
            return np.array([])
        lo = lo if lo > 0 and math.isfinite(lo) else hi / 10
        slack = (hi / lo) ** 1e-6  # ticks at the very edges count as in view

        def inside(ticks: list[float]) -> int:
            return sum(lo / slack <= t <= hi * slack for t in ticks)

        e0, e1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
        decades = [10.0 ** e for e in range(e0, e1 + 1)]
        if inside(decades) >= 2:
            every = max(1, math.ceil((e1 - e0) / 7), self._every_to_fit(decades, lo, hi))  # at most about 7 labels
            return np.array([d for i, d in enumerate(decades) if (e0 + i) % every == 0] or decades)
        nice = [m * 10.0 ** e for e in range(e0, e1 + 1) for m in (1, 2, 5)]
        if inside(nice) >= 2:
            return np.array(nice)
        return MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)

    def _every_to_fit(self, decades: list[float], lo: float, hi: float) -> int:
        """How many decades apart the labels must be so that no two overlap on an x axis of the axes' width
        (1 on a y axis, or without a figure to measure in)."""
        axis = self.axis
        axes = getattr(axis, "axes", None)
        if axis is None or axes is None or axis.axis_name != "x" or axes.figure is None:
            return 1
        px_per_decade = axes.bbox.width / max(math.log10(hi / lo), 1e-12)
        if not px_per_decade > 0:
            return 1
        renderer = axes.figure._get_renderer()
        props = axis.get_major_ticks(1)[0].label1.get_fontproperties()
        labels = axis.get_major_formatter().format_ticks(decades)
        widths = [renderer.get_text_width_height_descent(t, props, ismath=False)[0] for t in labels]
        gap = props.get_size_in_points() * axes.figure.dpi / 72 * 0.5  # half an em between two labels
        for every in range(1, len(decades) + 1):
            if all((widths[i] + widths[i + every]) / 2 + gap <= every * px_per_decade
                   for i in range(len(decades) - every)):
                return every
        return len(decades)

    def nonsingular(self, vmin: float, vmax: float) -> tuple[float, float]:
        return self._log.nonsingular(vmin, vmax)

    def view_limits(self, vmin: float, vmax: float) -> tuple[float, float]:
        return self._log.view_limits(vmin, vmax)


class PlainTicks(Formatter):
    """Labels without mathtext (0.1, 1, 10, 1,000, 100,000, 1e+06) with as many digits as the ticks in view need
    to differ: an almost flat curve gets 82,529.25 / 82,529.3, never three labels reading 82529.3. From 1,000 to
    below a million a label is written out with thousands separators (2,000, not 2e+03), as the status bar
    writes the objective."""

    def __init__(self) -> None:
        self._ticks: list[float] = []

    def set_locs(self, locs: Any) -> None:
        self._ticks = [float(v) for v in locs if math.isfinite(v)]

    def __call__(self, value: float, pos: int | None = None) -> str:
        locs = self._ticks
        digits = 6  # no ticks to tell apart (a lone label): 0.001, 0.1, 1, 10, 100000, 1e+06
        if locs:
            digits = next((d for d in range(3, 13) if len({f"{v:.{d}g}" for v in locs}) == len(set(locs))), 12)
        text = f"{value:.{digits}g}"
        if 1000 <= abs(value) < 1e6:  # the same significant digits, written out with separators
            decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(value)))))
            text = f"{value:,.{decimals}f}"
            if "." in text:
                text = text.rstrip("0").rstrip(".")
        return text


def nice_above(x: float) -> float:
    """The smallest of 1, 2, 5 × 10^k at or above ``x`` (1 for ``x`` <= 0)."""
    if not x > 0:
        return 1.0
    e = math.floor(math.log10(x))
    for m in (1, 2, 5, 10):
        if m * 10.0 ** e >= x * (1 - 1e-12):
            return float(f"{m * 10.0 ** e:.12g}")
    return float(f"{10.0 ** (e + 1):.12g}")


def nice_range(lo: float, hi: float, log: bool) -> tuple[float, float]:
    """Axis limits holding [lo, hi]: whole decades on a log scale, 0 to a 1-2-5 value otherwise."""
    if log:
        a = 10 ** math.floor(math.log10(lo))
        b = 10 ** math.ceil(math.log10(hi))
        return (a, b * 10 if b <= a else b)
    low = 0.0 if lo >= 0 else -nice_above(-lo * 1.1)
    return (low, nice_above(hi * 1.1) if hi > 0 else 1.0)


def fit_live_limits(ax_obj: Any, ax_rmse: Any, log_x: bool, least_x: float, budget: int, reset: bool) -> bool:
    """The live loss curve's limits, grown in 1-2-5 steps to hold every visible line of both panels (which share
    x); True when the limits already held them. ``least_x``: the x axis reaches at least this far; ``budget``:
    nor further than this (0: no cap) unless a line does; ``reset``: set afresh even when they fit."""
    fits = True
    xmin, xmax = math.inf, least_x
    for ax in (ax_obj, ax_rmse):
        log_y = ax.get_yscale() == "log"
        lo, hi = math.inf, -math.inf
        for line in ax.get_lines():
            if not line.get_visible():
                continue
            x = np.asarray(line.get_xdata(), dtype=float)
            y = np.asarray(line.get_ydata(), dtype=float)
            if x.size:
                xmax = max(xmax, float(x[-1]) if line.get_animated() else float(np.nanmax(x)))
                xpos = x[x > 0]
                if xpos.size:
                    xmin = min(xmin, float(xpos.min()))
            y = y[np.isfinite(y)]
            if log_y:
                y = y[y > 0]
            if y.size:
                lo, hi = min(lo, float(y.min())), max(hi, float(y.max()))
        if not math.isfinite(lo):
            continue
        y0, y1 = ax.get_ylim()
        if reset or lo < min(y0, y1) or hi > max(y0, y1):
            fits = False
            ax.set_ylim(*nice_range(lo, hi, log_y))
    x0, x1 = ax_obj.get_xlim()
    want_x0 = 10 ** math.floor(math.log10(xmin)) if log_x and math.isfinite(xmin) else (x0 if log_x else 0)
    if reset or xmax > x1 or x0 != want_x0:
        fits = False
        top = nice_above(xmax * 3)
        if budget > 0:  # headroom, so the limits (and full draws) change rarely; never beyond the budget
            top = min(top, max(budget, xmax))
        ax_obj.set_xlim(want_x0, max(top, want_x0 * 10) if log_x else top)
    return fits
