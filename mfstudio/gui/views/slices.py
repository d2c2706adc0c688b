"""Drawing a frame in slices: a few milliseconds of it per pass of the event loop.

A full draw of a figure with titles, tick labels and a legend costs tens to hundreds of milliseconds
(text is most of it), and so does drawing its axes again when the limits move. Done in one go while a
run streams in, that is a stall of the window: the timer ticks late, typing and clicks wait. Here a
frame is a list of steps (draw this axis, that legend, copy the background, blit), run a slice at a
time: each slice runs steps until :data:`SLICE_S` has passed, then hands the event loop back for a
pass. Meanwhile the canvas keeps showing its last whole frame (see :class:`~.blit.Canvas`), so a
half-drawn one is never seen; the steps draw into the canvas's own buffer, which only the last step
shows.

Several canvases may draw frames at once (the loss curve, the latent map, a result view): a slice runs for
:data:`SLICE_S` less what the other canvases' slices ran in the current :data:`WINDOW_S` of time, and waits for
the next window when they ran it all, so that together they too leave the event loop free most of the time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.legend import Legend
from matplotlib.offsetbox import OffsetBox
from PySide6.QtCore import QObject, Qt, QTimer

Step = Callable[[], Any]
SLICE_S = 0.012  # each slice runs steps until this much time has passed (one step may take longer)
WINDOW_S = 0.016  # ... less what other canvases' slices ran in the current window of this length
_window: dict[str, Any] = {"start": 0.0, "used": {}}  # when the current window started; each Slices' time in it


def _allowance(slices: Slices, now: float) -> float:
    """How long a slice of ``slices`` may run now: SLICE_S less what the others ran in this window."""
    if now - _window["start"] >= WINDOW_S:
        _window["start"], _window["used"] = now, {}
    return SLICE_S - sum(t for key, t in _window["used"].items() if key != id(slices))


class Slices(QObject):
    """One frame's steps at a time, run a slice per event-loop pass; :meth:`busy` while some are left."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._steps: Iterator[Step] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        # 1 ms, not 0: a zero timer is an idle source, which a stream of posted events (a run's progress) starves
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(1)
        self._timer.timeout.connect(self._run)
        self.owner = type(parent).__name__ if parent is not None else ""  # whose frames (for the benchmarks' profiles)
        self.frames = 0  # whole frames run, and the passes they took (for tests and benchmarks)
        self.passes = 0

    def busy(self) -> bool:
        return self._steps is not None

    def start(self, steps: Iterable[Step], now: bool = True) -> None:
        """Run ``steps`` from now on, a slice now and the rest in later passes (a frame still running is
        dropped: it showed nothing yet, and the new one draws the newer state). Not ``now``: the first slice
        too in a later pass (the caller has work of its own in this one: the end of a run)."""
        self._steps = iter(steps)
        if now:
            self._run()
        else:
            self._timer.start()

    def finish(self) -> None:
        """Run what is left now, in one go (before a synchronous draw, a save, or in tests)."""
        self._timer.stop()
        steps, self._steps = self._steps, None
        if steps is not None:
            for step in steps:
                step()
            self.frames += 1

    def cancel(self) -> None:
        """Drop what is left (the canvas was resized, the view is drawn another way now)."""
        self._timer.stop()
        self._steps = None

    def _run(self) -> None:
        steps = self._steps
        if steps is None:
            return
        start = time.perf_counter()
        allowed = _allowance(self, start)
        if allowed < SLICE_S / 4:  # other canvases used this window's budget: this one waits for the next
            self._timer.start()
            return
        self.passes += 1
        end = start + allowed
        try:
            for step in steps:
                step()
                if self._steps is not steps:  # a step started another frame or cancelled this one
                    return
                if time.perf_counter() >= end:
                    self._timer.start()
                    return
            self._steps = None
            self.frames += 1
        finally:
            used = _window["used"]
            used[id(self)] = used.get(id(self), 0.0) + time.perf_counter() - start


def figure_steps(figure: Any, renderer: Any) -> list[Step]:
    """A full draw of ``figure``'s still artists as steps, in the order :meth:`Figure.draw` draws them: the
    cleared buffer and the figure's patch; then each axes' patch and children by z-order, one step each;
    then the figure's own artists (legends, texts). An axis (its ticks, tick labels and name) is a step per tick
    (see :func:`axis_parts`): drawn whole, one with a few dozen labels would be a step of tens of milliseconds.
    Animated artists are left out, as a draw leaves them out; the layout is not solved (the caller solved it, or
    keeps it)."""
    steps: list[Step] = [renderer.clear, lambda: figure.patch.draw(renderer)]
    children = [a for a in figure.get_children() if a is not figure.patch and not a.get_animated()]
    for artist in sorted(children, key=lambda a: a.get_zorder()):
        if isinstance(artist, Axes):
            steps += _axes_steps(artist, renderer)
        elif isinstance(artist, Legend):
            steps += legend_steps(artist, renderer)
        else:
            steps.append(lambda a=artist: draw_live(a, renderer))
    return steps


def draw_live(artist: Any, renderer: Any) -> None:
    """Draw ``artist`` unless it left the figure after the steps were made (new data replaced it)."""
    if artist.get_figure() is not None:
        artist.draw(renderer)


def _axes_steps(ax: Axes, renderer: Any) -> list[Step]:
    if not ax.get_visible():
        return []
    _ = ax.viewLim  # settles pending autoscaling, as a draw does first
    children = [a for a in ax.get_children() if a is not ax.patch and not a.get_animated()]
    if not (ax.axison and ax.get_frame_on()):
        children = [a for a in children if a not in ax.spines.values()]
    if not ax.axison:
        children = [a for a in children if a not in (ax.xaxis, ax.yaxis)]
    first = [ax.patch] if ax.axison and ax.get_frame_on() else []
    steps: list[Step] = []
    for a in first + sorted(children, key=lambda a: a.get_zorder()):
        if isinstance(a, Axis):
            steps += [lambda p=p: p.draw(renderer) for p in axis_parts(a)]
        elif isinstance(a, Legend):
            steps += legend_steps(a, renderer)
        else:
            steps.append(lambda a=a: draw_live(a, renderer))
    return steps


def legend_steps(legend: Legend, renderer: Any) -> list[Step]:
    """A :meth:`Legend.draw` as steps, the pixels of one: its frame, then each handle and each text (a legend of a
    dozen runs drawn in one step is one of tens of milliseconds). Not drawn when hidden or removed from the figure by
    the time it comes; its entries made anew meanwhile: drawn whole at once."""
    live = [True]
    box = legend._legend_box

    def frame() -> None:  # as Legend.draw begins
        live[0] = legend.get_visible() and legend.get_figure() is not None
        if live[0] and legend._legend_box is not box:  # its entries made anew: drawn whole, now
            live[0] = False
            legend.draw(renderer)
        if not live[0]:
            return
        fontsize = renderer.points_to_pixels(legend._fontsize)
        if legend._mode in ["expand"]:
            pad = 2 * (legend.borderaxespad + legend.borderpad) * fontsize
            legend._legend_box.set_width(legend.get_bbox_to_anchor().width - pad)
        bbox = legend._legend_box.get_window_extent(renderer)
        legend.legendPatch.set_bounds(bbox.bounds)
        legend.legendPatch.set_mutation_scale(fontsize)
        if legend.shadow:
            from matplotlib.patches import Shadow

            Shadow(legend.legendPatch, **legend._shadow_props).draw(renderer)
        legend.legendPatch.draw(renderer)

    def done() -> None:
        if live[0]:
            legend.stale = False

    return [frame, *_box_steps(box, renderer, live), done]


def _box_steps(box: OffsetBox, renderer: Any, live: list[bool]) -> list[Step]:
    """An offset box's :meth:`OffsetBox.draw` as steps: placing its children, then each child's (a packer's in turn,
    a handle or a text as one step)."""
    if type(box).draw is not OffsetBox.draw:  # a leaf (a text, a handle's drawing area)
        return [lambda: box.draw(renderer) if live[0] else None]
    children = box.get_visible_children()
    whole = [False]  # the children changed since the steps were made: the box drawn whole, its children's steps skip

    def place() -> None:  # as OffsetBox.draw, up to drawing the children
        if not live[0]:
            return
        if box.get_visible_children() != children:
            whole[0] = True
            box.draw(renderer)
            return
        bbox, offsets = box._get_bbox_and_child_offsets(renderer)
        px, py = box.get_offset(bbox, renderer)
        for c, (ox, oy) in zip(children, offsets):
            c.set_offset((px + ox, py + oy))

    inner = [False]
    steps: list[Step] = [place]
    for child in children:
        steps += _box_steps(child, renderer, inner)

    def open_children() -> None:  # the children draw while the legend is live and the box was not drawn whole
        inner[0] = live[0] and not whole[0]

    def close() -> None:
        if live[0] and not whole[0]:
            box.stale = False

    return [place, open_children, *steps[1:], close]


class _AxisParts:
    """What the parts of one axis share: the ticks the first part updated, for the parts after it."""

    def __init__(self, axis: Any, n: int) -> None:
        self.axis = axis
        self.n = n  # the ticks that have a part of their own; the last part draws any beyond them
        self.ticks: list[Any] = []


class _AxisPart:
    """One part of an axis's draw, an artist to :meth:`Figure.draw_artist`: the ticks' update (part -1), one tick
    (part i), the axis name ("name"), or the offset text ("offset") after them. The name and the offset text each
    measure every tick label (where they go depends on them): two parts, and the offset's measure only when it has a
    text to place."""

    def __init__(self, shared: _AxisParts, part: int | str) -> None:
        self.shared, self.part = shared, part

    def get_visible(self) -> bool:
        return self.shared.axis.get_visible()

    def draw(self, renderer: Any) -> None:
        s, axis = self.shared, self.shared.axis
        if not axis.get_visible():  # as Axis.draw
            return
        if self.part == -1:
            s.ticks = axis._update_ticks()
        elif isinstance(self.part, int):
            if self.part < len(s.ticks):
                s.ticks[self.part].draw(renderer)
        elif self.part == "name":  # as Axis.draw ends (with ticks the limits brought since the parts were made)
            for tick in s.ticks[s.n:]:
                tick.draw(renderer)
            axis._update_label_position(renderer)
            axis.label.draw(renderer)
        else:
            offset = axis.major.formatter.get_offset()
            if offset:  # an empty one draws nothing, wherever it is placed
                tlb1, tlb2 = axis._get_ticklabel_bboxes(s.ticks, renderer)
                axis._update_offset_text_position(tlb1, tlb2)
            axis.offsetText.set_text(offset)
            axis.offsetText.draw(renderer)
            axis.stale = False


def axis_parts(axis: Any) -> list[Any]:
    """``axis`` as parts to draw one after the other, the pixels of one :meth:`Axis.draw`: where an axis is drawn
    as a step (a scale drawn again over a saved background), its many tick labels become a step each."""
    n = len(axis.get_majorticklocs()) + len(axis.get_minorticklocs())
    shared = _AxisParts(axis, n)
    return [_AxisPart(shared, -1), *(_AxisPart(shared, i) for i in range(n)), _AxisPart(shared, "name"),
            _AxisPart(shared, "offset")]
