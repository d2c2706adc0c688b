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
from matplotlib.axis import Axis
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.layout_engine import LayoutEngine
from matplotlib.text import Text, _get_text_metrics_with_cache
from matplotlib.ticker import NullFormatter
from PySide6.QtCore import QPoint, QTimer
from PySide6.QtGui import QColor, QImage, QPainter

from mfstudio.gui.views.slices import Slices, Step, axis_parts, figure_steps

MIN_DRAW_PX = 8  # a canvas narrower or lower than this (a folded pane) is not drawn until it grows


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
        self._again = False

    def _freeze(self) -> None:
        if self._frozen is not None or getattr(self, "renderer", None) is None:
            return
        r = self.renderer
        image = QImage(bytes(r.buffer_rgba()), int(r.width), int(r.height), QImage.Format.Format_RGBA8888)
        image.setDevicePixelRatio(self.device_pixel_ratio)
        self._frozen = image

    def _thaw(self) -> None:
        self._frozen = None

    def _has_room(self) -> bool:
        """False for a canvas too small to show anything, or shown but clipped away whole (a collapsed pane)."""
        return min(self.width(), self.height()) >= MIN_DRAW_PX and not (self.isVisible()
                                                                       and self.visibleRegion().isEmpty())

    def paintEvent(self, event: Any) -> None:
        if getattr(self, "_unseen", False) and self._has_room():  # a draw skipped while folded: made now
            self._unseen = False
            self.draw_idle()
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
        if not self._has_room():  # folded away: nothing to see, no layout to solve
            self._unseen = True  # drawn when it is seen again (its next paint asks for it)
            return
        self._unseen = False
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
        self._again = False  # a full frame being drawn in slices may have passed what changed: another follows it
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
        :mod:`.slices`; for a run's frames, which come with work of their own); asked for while one is being drawn,
        another follows it (the one being drawn may have drawn what changed already)."""
        if sliced and self.isVisible() and (full or self._bg is None):
            self._bg = None
            if not self.slices.busy():
                self._full_draw_in_slices()
            elif full or redraw:  # else the frame being drawn draws the moving artists as they are at its end
                self._again = True
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

    def showEvent(self, event: Any) -> None:
        """The full draw asked for while hidden (a tab brought to the front during a run), in slices: the last frame,
        or a blank one, shown meanwhile."""
        pending = getattr(self, "_draw_pending", False) and self.isVisible()
        if pending:
            self._draw_pending = False  # not drawn at once by Canvas.showEvent
        super().showEvent(event)
        if pending:
            if getattr(self, "renderer", None) is None:
                self._freeze_blank()
            self._freeze()  # before the steps' renderer (of a size the canvas took while hidden) replaces it
            self.refresh(full=True, sliced=True)

    def _freeze_blank(self) -> None:
        """Show the figure's background colour until a first frame is drawn."""
        ratio = self.device_pixel_ratio
        image = QImage(max(int(self.width() * ratio), 1), max(int(self.height() * ratio), 1),
                       QImage.Format.Format_RGBA8888)
        image.fill(QColor.fromRgbF(*self.figure.get_facecolor()))
        image.setDevicePixelRatio(ratio)
        self._frozen = image

    def resizeEvent(self, event: Any) -> None:
        """The full draw a resize needs, in slices (the last frame shown meanwhile): a view's canvas is resized when
        a text above it wraps to more lines, as a run starts or ends, and a full draw at once would stall the window."""
        super().resizeEvent(event)
        if self.isVisible() and getattr(self, "_draw_pending", False):
            self._draw_pending = False
            if getattr(self, "renderer", None) is None:
                self._freeze_blank()
            self._freeze()  # the last frame, before the steps' renderer of the new size replaces it
            self.refresh(full=True, sliced=True)

    def _full_draw_in_slices(self) -> None:
        """What a full draw draws (the layout solved first, when there is an engine), as steps."""
        fig = self.figure
        self._draw_pending = False
        engine = fig.get_layout_engine()
        steps: list[Step] = [lambda: engine.execute(fig)] if engine is not None else []
        steps += [*figure_steps(fig, self.get_renderer()), self._saved, self._draw_moving]
        self._again = False
        self.draw_in_slices(steps, self._show_and_follow, now=False)

    def _show_and_follow(self) -> None:
        """Show a frame drawn in slices; another follows when something changed while it was drawn."""
        self.update()
        if not self._again:
            return
        if self.isVisible():
            self._full_draw_in_slices()
        else:  # drawn when shown
            self._again, self._bg = False, None
            self.draw_idle()

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
        """:meth:`restore` as steps (see :mod:`.slices`): one per scale drawn again, an axis one per tick (see
        :func:`.slices.axis_parts`: a y axis drawn whole is a step of tens of milliseconds)."""
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

        parts = [p for a in scales for p in (axis_parts(a) if isinstance(a, Axis) else [a])]
        return [base, *(lambda a=a: draw(a) for a in parts), keep]


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


class _Measure:
    """Text sizes in pixels without drawing: a width from the glyphs' metrics (cached by matplotlib), a line's
    height from a text of the same font (one per font)."""

    def __init__(self, figure: Figure, renderer: Any) -> None:
        self.figure, self.renderer = figure, renderer
        self._heights: dict[Any, float] = {}
        self._extents: dict[tuple[int, str], tuple[float, float]] = {}

    def width(self, text: str, props: Any) -> float:
        if "\n" in text:  # the widest line
            return max(self.width(line, props) for line in text.split("\n"))
        ismath = "$" in text and text.count("$") >= 2  # as Text decides between plain text and mathtext
        return _get_text_metrics_with_cache(self.renderer, text, props, ismath, self.figure.dpi)[0]

    def lines_height(self, props: Any, lines: int) -> float:
        """The height of a text of ``lines`` lines (one per font and count)."""
        if lines <= 1:
            return self.height(props)
        key = (hash(props), lines)
        if key not in self._heights:
            probe = Text(0, 0, "\n".join(["0"] * lines), fontproperties=props)
            probe.set_figure(self.figure)
            self._heights[key] = probe.get_window_extent(self.renderer).height
        return self._heights[key]

    def height(self, props: Any) -> float:
        key = hash(props)
        if key not in self._heights:
            probe = Text(0, 0, "0", fontproperties=props)
            probe.set_figure(self.figure)
            self._heights[key] = probe.get_window_extent(self.renderer).height
        return self._heights[key]

    def extent(self, text: Any) -> tuple[float, float]:
        """A Text's (width, height) as drawn (rotation included); (0, 0) when it shows nothing. Kept for the
        measure's life (one layout): a size does not depend on where the text is, and the rounds of a layout
        measure the same titles and axis names again."""
        if not text.get_visible() or not text.get_text():
            return 0.0, 0.0
        key = (id(text), text.get_text())
        size = self._extents.get(key)
        if size is None:
            box = text.get_window_extent(self.renderer)
            size = self._extents[key] = (box.width, box.height)
        return size


def _tick_labels(axis: Any, measure: _Measure) -> tuple[list[tuple[float, float]], float, float]:
    """``axis``'s tick labels inside its view as (where along the axis, 0 to 1; width), their height and how far the
    ticks and their pad put them from the axes, in pixels: what :meth:`Axis._update_ticks` would draw."""
    px = measure.figure.dpi / 72
    lo, hi = axis.get_view_interval()
    scale = axis.get_transform()
    t_lo, t_hi = scale.transform([lo, hi])
    span = t_hi - t_lo or 1.0
    out: list[tuple[float, float]] = []
    props = None
    gap = 0.0
    lines = 1
    for get_locs, ticks, formatter in ((axis.get_majorticklocs, axis.get_major_ticks, axis.get_major_formatter()),
                                       (axis.get_minorticklocs, axis.get_minor_ticks, axis.get_minor_formatter())):
        locs = [] if isinstance(formatter, NullFormatter) else get_locs()
        if not len(locs):
            continue
        tick = ticks(1)[0]
        if not tick.label1.get_visible():
            continue
        props = tick.label1.get_fontproperties()
        gap = max(gap, (tick.get_tick_padding() + tick.get_pad()) * px)
        labels = formatter.format_ticks(locs)
        where = (scale.transform(np.asarray(locs, float)) - t_lo) / span
        slack = 1e-9
        for f, text in zip(where, labels):
            if text and -slack <= f <= 1 + slack:
                out.append((float(f), measure.width(text, props)))
                lines = max(lines, text.count("\n") + 1)
    return out, (measure.lines_height(props, lines) if props is not None else 0.0), gap


def _text_margins(ax: Any, measure: _Measure, chars: int) -> tuple[float, float, float, float]:
    """How far ``ax``'s texts reach past its box (left, right, bottom, top, in pixels) at its current size: its tick
    labels, axis names and title, with room for y tick labels ``chars`` characters wide."""
    px = measure.figure.dpi / 72
    box = ax.bbox
    left = right = bottom = top = 0.0
    if ax.yaxis.get_visible():
        labels, h, gap = _tick_labels(ax.yaxis, measure)
        widest = max((w for _f, w in labels), default=0.0)
        if chars:
            props = ax.yaxis.get_major_ticks(1)[0].label1.get_fontproperties()
            widest = max(widest, measure.width("0" * chars, props))
        name_w, _name_h = measure.extent(ax.yaxis.label)
        left = (widest + gap if labels or chars else 0.0) + (name_w + ax.yaxis.labelpad * px if name_w else 0.0)
        for f, _w in labels:  # a label at the top or the bottom reaches half its height past the axes
            top = max(top, f * box.height + h / 2 - box.height)
            bottom = max(bottom, h / 2 - f * box.height)
        offset = ax.yaxis.get_major_formatter().get_offset()
        if offset:
            top = max(top, h + 2 * px)
    if ax.xaxis.get_visible():
        labels, h, gap = _tick_labels(ax.xaxis, measure)
        _name_w, name_h = measure.extent(ax.xaxis.label)
        bottom = max(bottom, (h + gap if labels else 0.0) + (name_h + ax.xaxis.labelpad * px if name_h else 0.0))
        for f, w in labels:  # the first and the last label reach half their width past the axes' sides
            left = max(left, w / 2 - f * box.width)
            right = max(right, f * box.width + w / 2 - box.width)
    for title, share in ((ax.title, 0.5), (ax._left_title, 0.0), (ax._right_title, 1.0)):
        title_w, title_h = measure.extent(title)
        if title_h:  # a title wider than the axes reaches past the side(s) it is not aligned with
            top = max(top, title_h + rcParams["axes.titlepad"] * px)
            left = max(left, share * (title_w - box.width))
            right = max(right, (1 - share) * (title_w - box.width))
    return left, right, bottom, top


Margins = list[tuple[float, float, float, float]]  # each axes' (left, right, bottom, top) in pixels
# a ticker's state (its names less the leading _) that its next use sets anew: left out of the layout key
_VOLATILE = {"axis", "locs", "orderOfMagnitude", "offset", "format", "sublabels"}
CACHED = 8  # layouts (and fits) kept per figure


def _text_key(text: Any) -> tuple:
    return (text.get_visible(), text.get_text(), hash(text.get_fontproperties()), text.get_rotation())


def _ticker_key(ticker: Any) -> tuple:
    """What a locator or formatter makes of given limits depends on: its kind and its settings (fixed ticks and
    names included), not the state its last use left."""
    return (type(ticker), repr({k: v for k, v in vars(ticker).items() if k.lstrip("_") not in _VOLATILE}))


def _axis_key(axis: Any) -> tuple:
    return (axis.get_visible(), tuple(axis.get_view_interval()), axis.get_scale(), _ticker_key(axis.major.locator),
            _ticker_key(axis.major.formatter), _ticker_key(axis.minor.locator), _ticker_key(axis.minor.formatter),
            repr(axis._major_tick_kw), repr(axis._minor_tick_kw), _text_key(axis.label), axis.labelpad)


def layout_key(figure: Figure, axes: Sequence[Any], *args: Any) -> tuple:
    """Everything :func:`fit_row` reads (the figure's size, legends, the axes' limits, tickers and texts), and
    ``args``: the same key, the same layout."""
    legends = tuple((leg.get_visible(), tuple(t.get_text() for t in leg.get_texts()), hash(leg.prop),
                     getattr(leg, "_ncols", 1), leg.borderaxespad, _text_key(leg.get_title()))
                    for leg in figure.legends)
    return (figure.bbox.width, figure.bbox.height, figure.dpi, legends, args,
            tuple((_axis_key(ax.xaxis), _axis_key(ax.yaxis), _text_key(ax.title), _text_key(ax._left_title),
                   _text_key(ax._right_title)) for ax in axes))


def _cache(figure: Figure, name: str) -> dict:
    caches = figure.__dict__.setdefault("_mfstudio_layouts", {})
    return caches.setdefault(name, {})


def _keep(cache: dict, key: Any, value: Any) -> None:
    if len(cache) >= CACHED:
        del cache[next(iter(cache))]  # the oldest
    cache[key] = value


def fit_row(figure: Figure, axes: Sequence[Any], chars: Sequence[int] = (), w_pad: float = 3 / 72,
            h_pad: float = 2 / 72) -> Margins:
    """Place ``axes`` side by side, equally wide and high, so that their tick labels, axis names and titles, and
    the figure's legends below them, fit inside the figure; left of each, room for y tick labels ``chars[i]``
    characters wide. The texts are measured where they are drawn (as a constrained layout measures them), but only
    the texts: a constrained layout also measures every line, which on long runs makes its solve cost as much as a
    full draw. Tick labels follow the axes' size (how many ticks fit), so the axes are placed, measured and placed
    again until what they need stays put; from the third round on a margin only grows, so that it ends. The result
    depends only on the figure's texts, size and limits, not on where the axes were. ``w_pad``, ``h_pad``: the
    margins around each axes' texts, in inches. Returns the margins the axes were placed with.

    A call with the same inputs as one of the last few (see :func:`layout_key`) places the axes where that one did
    without measuring anything (a live frame asks for the same layout again and again)."""
    if not axes:
        return []
    cache = _cache(figure, "fit_row")
    key = layout_key(figure, axes, tuple(chars), w_pad, h_pad)
    hit = cache.get(key)
    if hit is not None:
        margins, boxes = hit
        for ax, box in zip(axes, boxes):
            ax.set_position(box)
        return list(margins)
    used = _fit_row(figure, axes, chars, w_pad, h_pad)
    _keep(cache, key, (tuple(used), tuple(ax.get_position().bounds for ax in axes)))
    return used


def _fit_row(figure: Figure, axes: Sequence[Any], chars: Sequence[int], w_pad: float, h_pad: float) -> Margins:
    renderer = figure._get_renderer()
    measure = _Measure(figure, renderer)
    width, height = figure.bbox.width, figure.bbox.height
    px = figure.dpi / 72
    wp, hp = w_pad * figure.dpi, h_pad * figure.dpi
    legends = sum(leg.get_window_extent(renderer).height + leg.borderaxespad * leg.prop.get_size_in_points() * px
                  for leg in figure.legends if leg.get_visible())
    rooms = [*chars, *[0] * (len(axes) - len(chars))]
    n = len(axes)

    def place(margins: Margins) -> None:
        each = max((width - sum(m[0] + m[1] for m in margins) - 2 * wp * n) / n, 1.0)
        bottom = hp + legends + max(m[2] for m in margins)
        tall = max(height - bottom - hp - max(m[3] for m in margins), 1.0)
        x = 0.0
        for ax, (left, right, _b, _t) in zip(axes, margins):
            x += wp + left
            ax.set_position([x / width, bottom / height, each / width, tall / height])
            x += each + right + wp

    used = [(0.0, 0.0, 0.0, 0.0)] * n
    place(used)
    for rounds in range(6):
        need = [_text_margins(ax, measure, room) for ax, room in zip(axes, rooms)]
        pairs = [(a, b) for u, m in zip(used, need) for a, b in zip(u, m)]
        if all(b <= a + 0.5 for a, b in pairs) and (rounds >= 2 or all(a - b < 0.5 for a, b in pairs)):
            return used  # everything fits (and, early on, nothing has room to spare)
        if rounds >= 2:
            need = [(max(u[0], m[0]), max(u[1], m[1]), max(u[2], m[2]), max(u[3], m[3])) for u, m in zip(used, need)]
        used = need
        place(used)
    return used


def row_fits(figure: Figure, axes: Sequence[Any], margins: Margins, chars: Sequence[int] = ()) -> bool:
    """Whether ``axes``' texts, as they are now (new limits, new tick labels), still fit in the ``margins``
    :func:`fit_row` placed them with (the answer kept for the same inputs, as :func:`fit_row` keeps its layouts)."""
    if len(margins) != len(axes):
        return False
    cache = _cache(figure, "row_fits")
    key = layout_key(figure, axes, tuple(chars), tuple(map(tuple, margins)),
                     tuple(ax.get_position().bounds for ax in axes))
    fits = cache.get(key)
    if fits is None:
        measure = _Measure(figure, figure._get_renderer())
        rooms = [*chars, *[0] * (len(axes) - len(chars))]
        fits = all(b <= a + 0.5 for ax, room, used in zip(axes, rooms, margins)
                   for a, b in zip(used, _text_margins(ax, measure, room)))
        _keep(cache, key, fits)
    return fits


class RowLayout(LayoutEngine):
    """A layout engine that places the figure's axes with :func:`fit_row` at each draw (with room for y tick labels
    :attr:`chars` characters wide, one number per axes)."""

    _adjust_compatible = False
    _colorbar_gridspec = False

    def __init__(self, w_pad: float = 3 / 72, h_pad: float = 2 / 72) -> None:
        super().__init__()
        self._params = {"w_pad": w_pad, "h_pad": h_pad}
        self.chars: tuple[int, ...] = ()
        self.margins: Margins = []  # what the last layout placed the axes with

    def fits(self, fig: Figure) -> bool:
        """Whether the texts as they are now fit in the last layout (see :func:`row_fits`)."""
        return row_fits(fig, fig.axes, self.margins, self.chars)

    def set(self, **kwargs: float) -> None:
        self._params.update(kwargs)

    def execute(self, fig: Figure) -> None:
        self.margins = fit_row(fig, fig.axes, self.chars, **self._params)


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
