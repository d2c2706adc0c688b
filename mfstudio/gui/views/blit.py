"""A matplotlib canvas that redraws only what changes: its moving artists over a saved background.

A full draw of a figure with many panels and labels takes tens of milliseconds (text is most of
it); a view whose data change while the axes, titles and colour bars stay put needs only its
images and lines drawn again. Artists handed to :meth:`BlitCanvas.set_moving` are animated: a full
draw saves everything else as the background and then draws them; :meth:`BlitCanvas.refresh`
restores that background and draws only them, unless a full draw is asked for or pending. A few
static artists (a colour bar whose scale moved) can be drawn again into the background without a
full draw: the first of them must cover what they covered before (a plain patch).
:class:`PixelImage` is a heatmap that costs next to nothing to draw again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from matplotlib import rcParams
from matplotlib.artist import Artist
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import FuncFormatter
from PySide6.QtCore import QPoint, QTimer
from PySide6.QtGui import QImage, QPainter

from mfstudio.gui.views.slices import Slices, Step, figure_steps


class Canvas(FigureCanvasQTAgg):
    """A figure canvas that does not draw while hidden (behind another tab, in a folded pane): a draw asked
    for meanwhile is made when it is shown. A view's updates during a run then cost nothing unseen.

    A frame can also be drawn in slices (:meth:`draw_in_slices`, see :mod:`.slices`): until its last step
    the canvas keeps showing the frame it showed before."""

    def __init__(self, figure: Figure) -> None:
        super().__init__(figure)
        self.slices = Slices(self)
        self._frozen: QImage | None = None

    def draw_in_slices(self, steps: Iterable[Step], show: Step, now: bool = True) -> None:
        """Run ``steps`` (drawing into the buffer) a slice per event-loop pass, then ``show`` the result
        (not ``now``: from the next pass on, see :meth:`.Slices.start`)."""
        self._freeze()
        self.slices.start([*steps, self._thaw, show], now)

    def stop_slices(self) -> None:
        """Drop a frame being drawn in slices (it showed nothing yet)."""
        self.slices.cancel()
        self._thaw()

    def _freeze(self) -> None:
        if self._frozen is not None or getattr(self, "renderer", None) is None:
            return
        r = self.renderer
        image = QImage(bytes(r.buffer_rgba()), int(r.width), int(r.height), QImage.Format.Format_RGBA8888)
        image.setDevicePixelRatio(self.device_pixel_ratio)
        self._frozen = image

    def _thaw(self) -> None:
        self._frozen = None

    def paintEvent(self, event: Any) -> None:
        if self._frozen is None:
            super().paintEvent(event)
            return
        painter = QPainter(self)  # the last whole frame, while the next is drawn in slices
        try:
            painter.drawImage(QPoint(0, 0), self._frozen)
        finally:
            painter.end()

    def resizeEvent(self, event: Any) -> None:
        self.stop_slices()  # drawn for the old size
        super().resizeEvent(event)

    def draw_idle(self) -> None:
        if not self.isVisible():
            self._draw_pending = True  # the first paint once shown draws (FigureCanvasQTAgg.paintEvent)
            return
        super().draw_idle()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if getattr(self, "_draw_pending", False):
            QTimer.singleShot(0, self._draw_idle)

    def draw(self) -> None:
        self._draw_pending = False  # a full draw now is the one an earlier draw_idle asked for
        if self.slices.busy():
            self.stop_slices()  # this draw makes a whole frame of its own
        super().draw()


class BlitCanvas(Canvas):
    def __init__(self, figure: Figure) -> None:
        super().__init__(figure)
        self._moving: list[Any] = []
        self._bg: Any = None
        self.full_draws = 0  # counters, for tests and benchmarks
        self.blits = 0
        self.partial_draws = 0
        self.mpl_connect("draw_event", self._on_draw_event)

    def set_moving(self, artists: Iterable[Any]) -> None:
        """The artists that change between full draws (drawn last, over the background)."""
        for a in self._moving:
            a.set_animated(False)
        self._moving = list(artists)
        for a in self._moving:
            a.set_animated(True)
        self._bg = None

    def refresh(self, full: bool = False, redraw: Iterable[Any] = (), sliced: bool = False) -> None:
        """Show the moving artists' new state: blitted over the background, or a full draw (soon) when
        ``full`` or there is no background yet. ``redraw``: static artists drawn again into the
        background first. ``sliced``: a full draw is made in slices from the next event-loop pass on (see
        :mod:`.slices`; for a run's frames, which come with work of their own)."""
        if sliced and self.isVisible() and (full or self._bg is None):
            self._bg = None
            if not self.slices.busy():  # else the frame being drawn draws the artists as they are when it gets to them
                self._full_draw_in_slices()
            return
        if full or self._bg is None or getattr(self, "_draw_pending", False):
            self._bg = None
            self.draw_idle()
            return
        self.restore_region(self._bg)
        redraw = list(redraw)
        if redraw:
            for a in redraw:
                self.figure.draw_artist(a)
            self._bg = self.copy_from_bbox(self.figure.bbox)
            self.partial_draws += 1
        self._draw_moving()
        self.blit(self.figure.bbox)
        self.blits += 1

    def _full_draw_in_slices(self) -> None:
        """What a full draw draws (the layout solved first, when there is an engine), as steps."""
        fig = self.figure
        self._draw_pending = False
        engine = fig.get_layout_engine()
        steps: list[Step] = [lambda: engine.execute(fig)] if engine is not None else []
        steps += [*figure_steps(fig, self.get_renderer()), self._saved, self._draw_moving]
        self.draw_in_slices(steps, self.update, now=False)

    def _saved(self) -> None:
        self.full_draws += 1
        self._bg = self.copy_from_bbox(self.figure.bbox)

    def _on_draw_event(self, _event: Any) -> None:
        self._saved()
        self._draw_moving()

    def _draw_moving(self) -> None:
        fig = self.figure
        for a in self._moving:
            if a.get_visible() and a.figure is fig:
                fig.draw_artist(a)


class ScaledBackground:
    """A blitted canvas's background in two levels: the base (what a full draw drew: titles, spines, legend)
    and over it the scales (axes with their ticks, tick labels, grid and axis names, lines placed by the
    limits). When only the limits move, the scales are drawn again over the saved base, which costs a few
    axes' worth of drawing instead of the whole figure's, text and layout included. The scales' artists are
    animated (kept out of full draws); ``key`` says what they were drawn for (the limits, the names)."""

    def __init__(self, canvas: FigureCanvasQTAgg) -> None:
        self.canvas = canvas
        self.base: Any = None
        self._scaled: Any = None
        self._key: Any = None
        self.scale_draws = 0  # counter, for tests and benchmarks

    def clear(self) -> None:
        """No background: the next frame must be a full draw."""
        self.base = self._scaled = None

    def save(self) -> None:
        """Keep what a full draw just drew as the base (call it from the draw event)."""
        self.base = self.canvas.copy_from_bbox(self.canvas.figure.bbox)
        self._scaled = None

    def restore(self, scales: Iterable[Any], key: Any) -> None:
        """Put the background with the scales as ``key`` says on the canvas: the saved one, or the scales drawn
        again over the base when the key changed."""
        for step in self.restore_steps(scales, key):
            step()

    def restore_steps(self, scales: Iterable[Any], key: Any) -> list[Step]:
        """:meth:`restore` as steps (see :mod:`.slices`): one per scale drawn again."""
        c = self.canvas
        if self._scaled is not None and key == self._key:
            scaled = self._scaled
            return [lambda: c.restore_region(scaled)]

        def base() -> None:  # the base as it is when the step runs: a full frame's steps save it first
            if self.base is not None:
                c.restore_region(self.base)

        def draw(a: Any) -> None:
            if a.get_visible():
                c.figure.draw_artist(a)

        def keep() -> None:
            self._scaled = c.copy_from_bbox(c.figure.bbox)
            self._key = key
            self.scale_draws += 1

        return [base, *(lambda a=a: draw(a) for a in scales), keep]


def solve_layout_with_room(figure: Figure, axes: Iterable[Any], chars: int, **pads: float) -> None:
    """Solve ``figure``'s constrained layout now, keeping room left of each of ``axes`` for y tick labels
    ``chars`` characters wide, then keep it (layout engine "none"): while a run goes, labels that widen
    within that room cost no new layout (a solve costs as much as a full draw). ``pads``: the engine's."""
    axes = list(axes)
    saved = [(ax.yaxis, ax.yaxis.get_major_formatter(), ax.yaxis.isDefault_majfmt) for ax in axes]
    try:
        for axis, fmt, _default in saved:
            lo, hi = sorted(axis.get_view_interval())
            now = fmt.format_ticks([t for t in axis.get_major_locator().tick_values(lo, hi) if lo <= t <= hi])
            width = max([chars, *map(len, now)])
            axis.set_major_formatter(FuncFormatter(lambda _x, _pos, w=width: "0" * w))
        figure.set_layout_engine("constrained", **pads)
        figure.get_layout_engine().execute(figure)
    finally:
        for axis, fmt, default in saved:
            axis.set_major_formatter(fmt)
            axis.isDefault_majfmt = default
        figure.set_layout_engine("none")


def row_layout(figure: Figure, axes: Sequence[Any], chars: int, w_pad: float = 3 / 72, h_pad: float = 2 / 72) -> None:
    """Place ``axes`` side by side from the fonts' sizes, without drawing or solving: room left of each for its
    y axis name and y tick labels ``chars`` characters wide, above for its title, below for its x tick labels,
    x axis name and the figure's legends (at its bottom). A few milliseconds where a constrained layout's
    solve costs as much as a full draw: for the frames of a run. ``w_pad``, ``h_pad``: margins in inches."""
    renderer = figure.canvas.get_renderer()
    px = figure.dpi / 72  # pixels per point
    width, height = figure.bbox.width, figure.bbox.height

    def extent(text: Any) -> Any:
        return text.get_window_extent(renderer) if text.get_visible() and text.get_text() else None

    def tick_room(axis: Any, sample: str) -> tuple[float, float]:
        """The tick labels' width and height for ``sample``, plus the ticks' length and pad, in pixels."""
        labels = axis.get_ticklabels()
        props = labels[0].get_fontproperties() if labels else FontProperties(size=rcParams["ytick.labelsize"])
        w, h, _d = renderer.get_text_width_height_descent(sample, props, ismath=False)
        ticks = axis.get_major_ticks()
        out = (ticks[0].get_tick_padding() + ticks[0].get_pad()) * px if ticks else 7 * px
        return w + out, h + out

    legends = sum(leg.get_window_extent(renderer).height + leg.borderaxespad * leg.prop.get_size_in_points() * px
                  for leg in figure.legends if leg.get_visible())
    lefts, titles, bottom, top = [], [], 0.0, 0.0
    for ax in axes:
        name = extent(ax.yaxis.label)
        lefts.append(w_pad * figure.dpi + (name.width + ax.yaxis.labelpad * px if name else 0.0)
                     + 1.1 * tick_room(ax.yaxis, "0" * chars)[0])
        xname = extent(ax.xaxis.label)
        bottom = max(bottom, (xname.height + ax.xaxis.labelpad * px if xname else 0.0) + tick_room(ax.xaxis, "0")[1])
        title = extent(ax.title)
        titles.append(title.width if title else 0.0)
        top = max(top, title.height + rcParams["axes.titlepad"] * px if title else 0.0)
    bottom += h_pad * figure.dpi + legends
    top += h_pad * figure.dpi
    # right of each: the margin and half of a last x tick label ("100k") reaching past the axes' end
    right = w_pad * figure.dpi + 0.5 * tick_room(axes[0].xaxis, "0000")[0] if axes else 0.0
    n = max(len(lefts), 1)
    spill = [0.0] * len(lefts)  # a title wider than its axes takes room on both sides, as a constrained layout does
    each = max((width - sum(lefts) - right * n) / n, 1.0)
    for _ in range(3):
        spill = [max(0.0, (t - each) / 2 - min(left, right)) for t, left in zip(titles, lefts)]
        each = max((width - sum(lefts) - right * n - 2 * sum(spill)) / n, 1.0)
    tall = max(height - bottom - top, 1.0)
    x = 0.0
    for ax, left, extra in zip(axes, lefts, spill):
        x += left + extra
        ax.set_position([x / width, bottom / height, each / width, tall / height])
        x += each + right + extra


def axis_key(*axes: Any) -> tuple:
    """What the scales of ``axes`` are drawn for: their limits, scales and axis names."""
    return tuple((ax.get_xlim(), ax.get_ylim(), ax.get_xscale(), ax.get_yscale(), ax.get_xlabel(), ax.get_ylabel(),
                  ax.bbox.bounds) for ax in axes)


class PixelImage(Artist):
    """An image of cells (an RGBA uint8 array, one colour per cell) filling a box of the figure, drawn straight
    onto the canvas's pixels: each pixel takes the colour of the cell under it. matplotlib's own images (each in
    its axes) resample and re-colour on every draw, about 2 ms each; small multiples of a dozen heatmaps need
    less. The box is in figure fractions (x0, y0, width, height), y from the bottom."""

    def __init__(self, figure: Any) -> None:
        super().__init__()
        self.box = (0.0, 0.0, 0.0, 0.0)
        self.set_data(np.zeros((1, 1, 4), np.uint8))
        figure.add_artist(self)
        self.set_transform(figure.transFigure)

    def set_data(self, rgba: np.ndarray, bytes_: bool = True) -> None:
        """The cells' colours, rows top to bottom, columns left to right: uint8 (or floats 0-1 when not
        ``bytes_``)."""
        if not bytes_:
            rgba = np.round(np.clip(rgba, 0, 1) * 255)
        self._rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
        self._cells = self._rgba.view(np.uint32).reshape(self._rgba.shape[:2])  # one number per cell: 4x less to copy
        self.stale = True

    def get_array(self) -> np.ndarray:
        return self._rgba

    def set_box(self, x0: float, y0: float, width: float, height: float) -> None:
        self.box = (x0, y0, width, height)
        self.stale = True

    def draw(self, renderer: Any) -> None:
        if not self.get_visible():
            return
        x0, y0, w, h = self.box
        (left, bottom), (right, top) = np.round(self.get_transform().transform([(x0, y0), (x0 + w, y0 + h)]))
        left, bottom, right, top = int(left), int(bottom), int(right), int(top)
        hp, wp = top - bottom, right - left
        n, m = self._rgba.shape[:2]
        if hp <= 0 or wp <= 0 or n == 0 or m == 0:
            return
        rows = (np.arange(hp) * n) // hp  # the cell under each pixel
        cols = (np.arange(wp) * m) // wp
        pixels = self._cells.take(rows[::-1], axis=0).take(cols, axis=1)  # the renderer's rows go bottom up
        gc = renderer.new_gc()
        renderer.draw_image(gc, left, bottom, pixels.view(np.uint8).reshape(hp, wp, 4))
        gc.restore()
        self.stale = False
