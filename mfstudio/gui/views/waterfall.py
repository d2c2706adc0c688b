"""The waterfall of Why this number?: the mean (with biases), each bias and taste as a step up or down, then the
prediction, what is shown when it is clipped, and the actual rating as an outline.

The prediction is the sum the bars climb: r̂ = μ + b_u + b_i + Σ_k P[u,k]·Q[k,i] (the terms of
:func:`mfstudio.core.explain.explain`), each bar starting where the one before ended. The bars are moved, not made
again, while they stay the same kind; during a run the frames are blitted and drawn in slices (see :mod:`.slices`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from mfstudio.core.explain import HELD_OUT_TEXT, MEAN, Explanation, Term
from mfstudio.core.numbers import exact_text, short_text

# PySide6 must be imported before matplotlib's Qt backend picks a binding.
from mfstudio.gui.views.blit import Canvas, ScaledBackground, axis_key, fit_row
from mfstudio.gui.views.slices import Step, axis_parts, draw_live, figure_steps

UP, DOWN = "#2166ac", "#b2182b"  # the two ends of the diverging scale (blue up, red down; white is zero)
START, TOTAL, EDGE = "#9a9a9a", "#4a4a4a", "#222222"
SLOT_PX = 54  # the width a bar needs for its number and its name; with too many factors for the width, the
# biggest get a bar and the rest share one
EMPTY_TEXT = "Select a cell of R-hat or of the grid to see why the model predicts it."


class Waterfall(Canvas):
    """The waterfall: the mean (with biases), each bias and taste as a step up or down, then the prediction,
    what is shown when it is clipped, and the actual rating as an outline.

    The bars, their numbers and the steps between them are moved, not made again, while the bars stay the same
    kind (a run's reports, another cell of the same model): they are blitted over a saved background, with the
    axes drawn again when their limits or names changed, so a live run costs no full draw. While ``live`` the
    vertical limits only grow."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.figure = Figure(figsize=(4.6, 2.8), dpi=100, layout="constrained")
        super().__init__(self.figure)
        self.setParent(parent)
        self.setObjectName("explainCanvas")
        self.setAccessibleName("Waterfall of the prediction")
        self.setMinimumSize(220, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.ax = self.figure.add_subplot(1, 1, 1)
        self.bars: list[tuple[Any, str]] = []  # each bar and its tooltip
        self.explanation: Explanation | None = None
        self.live = False  # a run goes: the limits only grow (set by the panel)
        self.preferences = False  # a model of counts (implicit-als): a preference, 0 to 1 (set by the panel)
        self._slots = 0
        self.labels: list[str] = []  # the numbers written on the bars, for tests
        self._numbers: list[Any] = []  # the annotations that write them
        self._steps: list[Any] = []  # the short lines from one bar's end to the next one's start
        self._scale_lines: list[Any] = []  # the rating scale's ends and zero
        self._texts: list[Any] = []  # the message
        self._kind: tuple = ()  # what the bars are: the same kind is moved, another is built anew
        self._bg = ScaledBackground(self)
        self.message: str | None = None  # the text shown instead of bars
        self._solve = True  # the next full draw solves the layout
        self._bars_laid_out = False  # the layout now in the figure was solved for bars, at this size
        self._live_frame = False  # the last frame was a live one
        self._solve_owed = False  # bars were rebuilt while live without a new layout: the run's end solves it
        self.full_draws = self.blits = 0  # counters, for tests and benchmarks
        self.mpl_connect("motion_notify_event", self._hover)
        self.mpl_connect("draw_event", self._on_draw_event)
        self.mpl_connect("resize_event", self._on_resize)
        self.draw_message(EMPTY_TEXT)

    def draw_message(self, text: str) -> None:
        """No bars: ``text`` in the middle of the empty figure (already shown: nothing to draw)."""
        if not self._kind and self.explanation is None and getattr(self, "message", None) == text:
            return
        self.message = text
        self.explanation = None
        self._kind = ()
        ax = self.ax
        self._take_off()
        ax.set_axis_off()
        ax.set_title("", loc="right")
        self.labels = []
        self._texts = [ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.45",
                               fontsize=9, wrap=True)]
        self._bars_laid_out = False
        self._rebuilt(draw=False)
        self._frame()

    def draw_explanation(self, e: Explanation) -> None:
        """The bars of ``e``: each term a step from where the last one ended, then the totals from zero."""
        self._slots = self._slot_count()
        others = sum(1 for t in e.terms if t.p is None)
        finals_n = 1 + int(e.clipped) + int(e.actual is not None)
        terms = _bar_terms(e, max(3, self._slots - others - finals_n))
        kind = (len(terms), e.clipped, e.actual is not None, e.held_out, e.scale, self._slots, e.fallback,
                self.preferences)
        if self._solve_owed and not self.live:  # the run ended: the layout its rebuilds kept is solved again
            self._solve_owed = False
            self._rebuilt(draw=False)
        if kind != self._kind or self.explanation is None:
            self._build(e, terms)
            self._kind = kind
        self.explanation = e
        self._place(e, terms)
        self._frame()

    def _take_off(self) -> None:
        """Take the bars, numbers, steps, scale lines and message off the axes. Not ``ax.clear()``: that makes the
        axes' ticks anew too, and with them a bar's name costs milliseconds to set again."""
        for a in [*(bar for bar, _tip in self.bars), *self._numbers, *self._steps, *self._scale_lines, *self._texts]:
            a.remove()
        self.bars, self._numbers, self._steps, self._scale_lines, self._texts = [], [], [], [], []

    def _build(self, e: Explanation, terms: list[Term]) -> None:
        """Make the bars, numbers and steps for explanations like ``e`` (placed by :meth:`_place`)."""
        ax = self.ax
        self._take_off()
        ax.set_axis_on()
        self.labels = []
        n_finals = 1 + int(e.clipped) + int(e.actual is not None)
        for x in range(len(terms) + n_finals):
            # as ax.bar(x, 0, width=0.7) makes it, without a bar container, autoscaling and units for each
            bar = Rectangle((x - 0.35, 0.0), 0.7, 0.0, edgecolor="none", animated=True)
            bar.sticky_edges.y.append(0.0)
            ax.add_artist(bar)  # as ax.add_patch, without its data limits: the limits are set
            self.bars.append((bar, ""))
            self._numbers.append(ax.annotate("", (x, 0.0), xytext=(0, 2), textcoords="offset points", ha="center",
                                             va="bottom", fontsize=7.5, animated=True))
        for x in range(1, len(terms) + 1):  # a step into each term after the first, and into the prediction
            step = Line2D([x - 0.65, x - 0.35], [0, 0], color="0.45", lw=0.8, zorder=0, animated=True)
            self._steps.append(ax.add_artist(step))  # as ax.plot, without its data limits: the limits are set
        finals = [("prediction", TOTAL, None, "none")]
        if e.clipped:
            finals.append(("shown", "#8a8a8a", "//", "none"))
        if e.actual is not None:
            finals.append(("actual\n(held out)" if e.held_out else "actual", "white", None, EDGE))
        for k, (_name, colour, hatch, edge) in enumerate(finals):
            bar = self.bars[len(terms) + k][0]
            bar.set_facecolor(colour)
            bar.set_edgecolor(edge)
            bar.set_hatch(hatch)
            bar.set_linewidth(1.0)
        self._final_names = [f[0] for f in finals]
        lo, hi = e.scale
        self._scale_lines = [self._hline(y, color="0.55", lw=0.7, ls=":", zorder=0) for y in (lo, hi)]
        self._scale_lines.append(self._hline(0, color="0.3", lw=0.8))
        scale = "the preference range" if self.preferences else "the rating scale"
        ax.set_title(f"dotted: {scale}, {lo:g} to {hi:g}", loc="right", fontsize=7, color="0.4")
        ax.set_xlim(-0.6, len(self.bars) - 0.4)
        ax.tick_params(axis="y", labelsize=8)
        ax.set_ylabel("Preference" if self.preferences else "Rating", fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
        ax.xaxis.set_animated(True)
        ax.yaxis.set_animated(True)
        self._ylim: tuple[float, float] | None = None
        self._rebuilt(draw=False)  # the frame that follows draws it

    def _hline(self, y: float, **style: Any) -> Any:
        """An animated line across the axes at ``y``: ax.axhline without its data limits (the limits are set)."""
        line = Line2D([0, 1], [y, y], transform=self.ax.get_yaxis_transform(which="grid"), animated=True, **style)
        return self.ax.add_artist(line)

    def _place(self, e: Explanation, terms: list[Term]) -> None:
        """Move the bars, numbers and steps to ``e``'s values, name the bars, set the vertical limits."""
        ticks: list[str] = []
        levels = [0.0, e.scale[0], e.scale[1]]
        level = 0.0
        self.labels = []
        for x, t in enumerate(terms):
            start = level
            bar, _tip = self.bars[x]
            bar.set_y(start)
            bar.set_height(t.value)
            bar.set_facecolor(START if t.name == MEAN else UP if t.value >= 0 else DOWN)
            label = _other_label(e, terms) if t.name == "other" else t.label(e.fallback)
            self.bars[x] = (bar, f"{label}: {exact_text(t.value)}")
            level = start + t.value
            self._write(x, level, short_text(t.value, signed=t.name != MEAN), up=t.value >= 0)
            if x:
                self._steps[x - 1].set_ydata([start, start])
            ticks.append(_tick(t, e))
            levels += [start, level]
        if terms:
            self._steps[len(terms) - 1].set_ydata([level, level])
        values = [e.prediction]
        tips = [f"the model's prediction: {exact_text(e.prediction)}"]
        if e.clipped:
            values.append(e.shown)
            tips.append(f"shown, clipped to the scale: {exact_text(e.shown)}")
        if e.actual is not None:
            held = f" ({HELD_OUT_TEXT})" if e.held_out else ""
            values.append(e.actual)
            tips.append(f"the count of interactions: {exact_text(e.actual)}{held}" if self.preferences else
                        f"the actual rating: {exact_text(e.actual)}{held}")
        for k, (v, tip) in enumerate(zip(values, tips)):
            x = len(terms) + k
            bar = self.bars[x][0]
            bar.set_y(0.0)
            bar.set_height(v)
            self.bars[x] = (bar, tip)
            self._write(x, v, short_text(v), up=v >= 0)
            levels.append(v)
        ticks += self._final_names
        ax = self.ax
        ax.set_xticks(range(len(ticks)), ticks, fontsize=8)
        finite = [v for v in levels if np.isfinite(v)]
        ymin, ymax = min(finite), max(finite)
        pad = 0.12 * (ymax - ymin or 1.0)
        lo, hi = ymin - (pad if ymin < 0 else 0), ymax + pad
        if self.live and self._ylim is not None:  # grow only while a run goes: the axes stay put
            lo, hi = min(lo, self._ylim[0]), max(hi, self._ylim[1])
        self._ylim = (lo, hi)
        ax.set_ylim(lo, hi)

    def _write(self, x: int, y: float, text: str, up: bool) -> None:
        ann = self._numbers[x]
        ann.xy = (x, y)
        ann.set_text(text)
        ann.xyann = (0, 2 if up else -2)
        ann.set_verticalalignment("bottom" if up else "top")
        self.labels.append(text)

    # -- drawing ------------------------------------------------------------------------
    def _moving(self) -> list[Any]:
        return [*self._steps, *(bar for bar, _tip in self.bars), *self._numbers]

    def _scales(self) -> list[Any]:
        # the bars' names a part each: drawn again when they change, they are most of a live frame's text
        return [*self._scale_lines, *axis_parts(self.ax.xaxis), self.ax.yaxis] if self._kind else []

    def _scales_key(self) -> tuple:
        return (axis_key(self.ax), tuple(t.get_text() for t in self.ax.get_xticklabels()))

    def _rebuilt(self, draw: bool = True) -> None:
        """Something besides the bars changed: the next frame is a full draw that solves the layout again (soon, or
        not ``draw``: the frame that follows makes it). While ``live`` with bars laid out at this size, the layout is
        kept (the axes stay put while the bars move) and made again when the run ends."""
        self._bg.clear()
        if self.live and self._bars_laid_out:
            self._solve_owed = True
            return
        self._solve = True
        self.figure.set_layout_engine("constrained")
        if draw:
            self.draw_idle()

    def _frame(self) -> None:
        """Show the bars as they are now: blitted over the saved background (the axes drawn again when their limits
        or names moved), or a full draw. A full one is drawn in slices from the next event-loop pass on (see
        :mod:`.slices`; its layout's solve and its text cost tens of milliseconds), and so is every frame while
        ``live`` and the first after: a run's report, or its end, must not stall the window. A click's blit is drawn
        at once."""
        if getattr(self, "_draw_pending", False) or not self.isVisible():
            self.draw_idle()
            return
        full = self._bg.base is None
        steps: list[Step] = []
        if full:
            steps = [self._solve_layout, *figure_steps(self.figure, self.get_renderer()), self._bg.save]
            self.full_draws += 1
        else:
            self.blits += 1
        steps += [*self._bg.restore_steps(self._scales(), self._scales_key()),
                  *(lambda a=a: draw_live(a, self.get_renderer()) for a in self._moving())]  # a step each
        show = self.update if full else lambda: self.blit(self.figure.bbox)
        ended, self._live_frame = self._live_frame and not self.live, self.live
        if full or self.live or ended:  # a run's end: from the next pass on, the end's own work runs in this one
            self.draw_in_slices(steps, show, now=not full and not ended)
            return
        self.stop_slices()  # a frame being drawn in slices showed older bars
        for step in steps:
            step()
        show()

    def _solve_layout(self) -> None:
        if self._solve and self._kind:  # placed from its texts, with room for a wider rating label ("-0.5", "10")
            fit_row(self.figure, [self.ax], [4])
            self.figure.set_layout_engine("none")
            self._bars_laid_out = True
        elif self._solve and (engine := self.figure.get_layout_engine()) is not None:  # a message: as a draw would
            engine.execute(self.figure)
            self.figure.set_layout_engine("none")
        self._solve = False

    def _draw_moving(self) -> None:
        for a in self._moving():
            self.figure.draw_artist(a)

    def draw(self) -> None:
        self._solve_layout()
        self.full_draws += 1
        super().draw()

    def _on_draw_event(self, _event: Any) -> None:
        self.figure.set_layout_engine("none")  # kept until something besides the bars changes
        self._bg.save()
        if not self._kind:
            return
        self._bg.restore(self._scales(), self._scales_key())
        self._draw_moving()

    def _on_resize(self, _event: Any) -> None:
        self._bg.clear()
        self._solve = True
        self._bars_laid_out = self._solve_owed = False
        self.figure.set_layout_engine("constrained")

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        sliced = self.explanation is not None and self.isVisible()
        if sliced:  # the full draw the resize asked for is made in slices (below), the last frame shown meanwhile
            self._draw_pending = False
            self._freeze()
        if self.explanation is not None and self._slot_count() != self._slots:
            self.draw_explanation(self.explanation)  # room for more (or fewer) bars
        elif sliced:
            self._frame()

    def _slot_count(self) -> int:
        return max(6, (self.width() - 60) // SLOT_PX)  # the y axis takes about 60 px

    def _hover(self, event: Any) -> None:
        if event.inaxes is not self.ax:
            return
        for bar, tip in self.bars:
            if bar.contains(event)[0]:
                QToolTip.showText(QCursor.pos(), tip, self)
                return
        QToolTip.hideText()


def _tick(t: Term, e: Explanation) -> str:
    if t.name == MEAN:
        return "mean\n(fallback)" if e.fallback else "mean\nμ"
    if t.name == "user bias":
        return "user\nbias"
    if t.name == "item bias":
        return "item\nbias"
    if t.name == "other":
        return "other\ntastes"
    return t.name


def _bar_terms(e: Explanation, taste_bars: int) -> list[Term]:
    """The terms that get a bar: all of them, or with more factors than ``taste_bars`` the biggest
    ``taste_bars - 1`` (in their order) and one bar for the rest together."""
    tastes = [t for t in e.terms if t.p is not None]
    if len(tastes) <= taste_bars:
        return list(e.terms)
    keep = {id(t) for t in sorted(tastes, key=lambda t: -abs(t.value))[:max(taste_bars - 1, 1)]}
    rest = [t for t in tastes if id(t) not in keep]
    other = Term("other", math.fsum(t.value for t in rest))
    return [t for t in e.terms if t.p is None or id(t) in keep] + [other]


def _other_label(e: Explanation, shown: list[Term]) -> str:
    n = sum(1 for t in e.terms if t.p is not None) - sum(1 for t in shown if t.p is not None)
    return f"the other {n} tastes together"
