"""The sweep window's chart: :func:`mfstudio.figures.sweep_chart.draw_sweep` on a Qt canvas, drawn again as
points finish (at most a few times a second) and saved as PNG, SVG or PDF. Before the first point has
finished it shows a sentence instead of empty axes (:data:`EMPTY_TEXT`, :data:`WAITING_TEXT`)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure
from PySide6.QtWidgets import QVBoxLayout, QWidget

from mfstudio.core.sweep import PointResult
from mfstudio.core.sweep_grid import Axis
from mfstudio.figures.sweep_chart import draw_sweep
from mfstudio.gui.views.blit import Canvas

REDRAW_EVERY = 0.25  # seconds between two full draws while points stream in
EMPTY_TEXT = "Choose the values to sweep and press Run: each point's validation RMSE is drawn here."
WAITING_TEXT = "The sweep is running: each point is drawn here as soon as it has finished."


class SweepChart(QWidget):
    """Validation (and training) RMSE against the swept parameter, or a heatmap for two; objectName ``sweepChart``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sweepChart")
        self.figure = Figure(figsize=(5.0, 3.6), dpi=100)
        self.canvas = Canvas(self.figure)
        self.canvas.setMinimumSize(320, 240)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.canvas)
        self._axes: tuple[Axis, ...] = ()
        self._results: list[PointResult] = []
        self._title = ""
        self._drawn_at = -1e9
        self._dirty = False  # results given that are not drawn yet
        self.draws = 0  # full draws, for tests
        # the numbers in a heatmap's cells depend on the room there is: drawn anew at the new size
        self.canvas.mpl_connect("resize_event", lambda _e: self._axes and self._draw())
        self.empty_text = ""  # the sentence shown instead of the chart ("" while points are drawn)
        self._say(EMPTY_TEXT)

    def show_results(self, axes: Sequence[Axis], results: Sequence[PointResult], *, title: str = "",
                     force: bool = False) -> bool:
        """Show ``results`` (the points finished so far); drawn now when ``force`` or when the last draw is old
        enough, else by a later :meth:`tick`. True when drawn."""
        self._axes, self._results, self._title = tuple(axes), list(results), title
        self._dirty = True
        return self.tick(force)

    def tick(self, force: bool = False) -> bool:
        """Draw the results last given if they are not drawn yet and the last draw is old enough (or ``force``)."""
        if not self._dirty or not self._axes:
            return False
        if not force and time.perf_counter() - self._drawn_at < REDRAW_EVERY:
            return False
        self._draw()
        return True

    def _say(self, text: str) -> None:
        """A sentence in the middle of the figure, no axes."""
        self.figure.clear()
        self.figure.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=10, color="0.35")
        self.empty_text = text
        self.canvas.draw_idle()

    def _draw(self) -> None:
        if not self._results:
            self._say(WAITING_TEXT)
        else:
            draw_sweep(self.figure, self._axes, self._results, title=self._title)
            self.empty_text = ""
            self.canvas.draw_idle()
        self._drawn_at = time.perf_counter()
        self._dirty = False
        self.draws += 1

    @property
    def results(self) -> list[PointResult]:
        """The points the chart shows (or is about to)."""
        return list(self._results)

    def clear(self) -> None:
        self._axes, self._results, self._dirty = (), [], False
        self._say(EMPTY_TEXT)

    def save(self, path: str | Path) -> Path:
        """Save the chart (PNG, SVG or PDF by the name's extension)."""
        p = Path(path)
        self.figure.savefig(p)
        return p
