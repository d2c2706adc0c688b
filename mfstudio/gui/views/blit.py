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

from collections.abc import Iterable
from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure


class BlitCanvas(FigureCanvasQTAgg):
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

    def refresh(self, full: bool = False, redraw: Iterable[Any] = ()) -> None:
        """Show the moving artists' new state: blitted over the background, or a full draw (soon) when
        ``full`` or there is no background yet. ``redraw``: static artists drawn again into the
        background first."""
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

    def _on_draw_event(self, _event: Any) -> None:
        self.full_draws += 1
        self._bg = self.copy_from_bbox(self.figure.bbox)
        self._draw_moving()

    def _draw_moving(self) -> None:
        fig = self.figure
        for a in self._moving:
            if a.get_visible() and a.figure is fig:
                fig.draw_artist(a)


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
