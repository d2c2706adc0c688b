"""The live loss curve: objective and RMSE against step, with earlier runs kept as faded lines.

matplotlib is embedded through ``FigureCanvasQTAgg(Figure())`` (never pyplot). Lines
are persistent ``Line2D`` objects updated with ``set_data``; the canvas is redrawn
by a timer at a bounded pace, only when something changed, and only on the GUI thread.

During a run (:meth:`LossPlot.start_live` .. :meth:`LossPlot.end_live`) the current
run's lines are blitted over a saved background, because a full draw of the figure
takes tens of milliseconds; the axes limits then grow in 1-2-5 steps (decades on a
log scale), so a full draw happens only when the lines outgrow them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# PySide6 must be imported before matplotlib's Qt backend picks a binding.
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import EngFormatter, FuncFormatter, NullFormatter, NullLocator
from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

REDRAW_MS = 80  # at most ~12 redraws a second; each full draw takes a few ms to ~25 ms
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")
FADED_ALPHA = 0.35
FIGURE_FILTERS = "PNG image (*.png);;SVG image (*.svg);;PDF document (*.pdf)"
_EXT_FOR_FILTER = {"PNG": ".png", "SVG": ".svg", "PDF": ".pdf"}

STEP, OBJECTIVE, TRAIN_RMSE, VAL_RMSE = 0, 1, 2, 4  # columns of mfstudio.core.HISTORY_COLUMNS


@dataclass
class _Run:
    label: str
    objective: Line2D
    train: Line2D
    val: Line2D


class LossCanvas(FigureCanvasQTAgg):
    """The figure: objective on the left, training and validation RMSE on the right."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.figure = Figure(figsize=(6.4, 2.6), dpi=100, layout="constrained")
        super().__init__(self.figure)
        self.setParent(parent)
        self.setObjectName("lossCanvas")
        self.setAccessibleName("Loss curve")
        self.setAccessibleDescription("The objective and the RMSE against the training step, for this run and earlier ones.")
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.ax_obj = self.figure.add_subplot(1, 2, 1)
        self.ax_rmse = self.figure.add_subplot(1, 2, 2, sharex=self.ax_obj)
        for ax, title, ylabel in ((self.ax_obj, "Objective (the notebook's e)", "Objective e"),
                                  (self.ax_rmse, "Error on the ratings", "RMSE")):
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("Step", fontsize=9)
            ax.set_ylabel(ylabel, fontsize=9)
            ax.tick_params(labelsize=8)
            ax.grid(True, alpha=0.3)
            ax.xaxis.set_major_formatter(EngFormatter(sep=""))
        self.ax_obj.xaxis.get_major_locator().set_params(nbins=5, integer=True)
        self.hint = self.ax_obj.text(
            0.5, 0.5, "Press Train to see\nthe loss fall", transform=self.ax_obj.transAxes,
            ha="center", va="center", color="0.5", fontsize=10,
        )


class LossPlot(QWidget):
    """The loss-curve panel: canvas plus Log scale, Clear runs and Save figure… controls."""

    statusMessage = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = LossCanvas(self)
        self._runs: list[_Run] = []
        self._current: _Run | None = None
        self._dirty = False
        self._colour = 0
        self._live = False  # a run is going: blit the current lines
        self._budget = 0
        self._bg: Any = None
        self.full_draws = 0  # counters, for tests and benchmarks
        self.blits = 0
        self.canvas.mpl_connect("draw_event", self._on_draw_event)

        self.log_scale = QCheckBox("Log scale")
        self.log_scale.setObjectName("logScale")
        self.log_scale.setAccessibleName("Log scale for the loss curve")
        self.log_scale.setToolTip("Show the vertical axes on a logarithmic scale, so late, small improvements stay visible.")
        self.log_scale.setChecked(True)
        self.log_scale.toggled.connect(self._on_log_toggled)
        self.clear_button = QPushButton("Clear runs")
        self.clear_button.setObjectName("clearRunsButton")
        self.clear_button.setAccessibleName("Clear earlier runs from the loss curve")
        self.clear_button.setToolTip("Remove the faded lines of earlier runs (the current run stays).")
        self.clear_button.clicked.connect(self.clear_runs)
        self.save_button = QPushButton("Save figure…")
        self.save_button.setObjectName("saveFigureButton")
        self.save_button.setAccessibleName("Save the loss curve as an image")
        self.save_button.setToolTip("Save the loss curve as PNG, SVG or PDF.")
        self.save_button.clicked.connect(self.save_figure_dialog)

        title = QLabel("<b>Loss curve</b>")
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(title)
        bar.addStretch(1)
        bar.addWidget(self.log_scale)
        bar.addWidget(self.clear_button)
        bar.addWidget(self.save_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(bar)
        lay.addWidget(self.canvas, 1)

        self._timer = QTimer(self)
        self._timer.setObjectName("mfstudioPlotRedraw")
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self._on_tick)
        self._apply_scale()

    # -- runs ---------------------------------------------------------------------------
    @property
    def run_count(self) -> int:
        """How many runs are drawn, including the current one."""
        return len(self._runs)

    def point_count(self) -> int:
        """Points on the current run's objective line (0 without a run)."""
        return 0 if self._current is None else len(self._current.objective.get_xdata())

    def run_labels(self) -> list[str]:
        return [r.label for r in self._runs]

    def begin_run(self, label: str) -> None:
        """Start a new line set; the previous run fades and keeps its label."""
        self._fade_current()
        colour = COLOURS[self._colour % len(COLOURS)]
        self._colour += 1
        c = self.canvas
        obj, = c.ax_obj.plot([], [], color=colour, lw=1.8, label=label)
        train, = c.ax_rmse.plot([], [], color=colour, lw=1.8, label=f"{label}: training")
        val, = c.ax_rmse.plot([], [], color=colour, lw=1.5, ls="--", label=f"{label}: validation")
        self._current = _Run(label, obj, train, val)
        self._runs.append(self._current)
        c.hint.set_visible(False)
        self._update_legend()
        self._mark_dirty()  # a run usually starts right away; its first frame draws everything

    def set_history(self, history: np.ndarray) -> None:
        """Show ``history`` (rows as HISTORY_COLUMNS) on the current run's lines."""
        run = self._current
        if run is None:
            return
        h = np.asarray(history, dtype=float).reshape(-1, 7)
        x = h[:, STEP]
        run.objective.set_data(x, h[:, OBJECTIVE])
        run.train.set_data(x, h[:, TRAIN_RMSE])
        val = h[:, VAL_RMSE]
        has_val = bool(np.isfinite(val).any())
        run.val.set_data(x if has_val else [], val if has_val else [])
        self._mark_dirty()

    def rename_current(self, label: str) -> None:
        """Change the current run's label (e.g. to add how it ended)."""
        run = self._current
        if run is None:
            return
        run.label = label
        run.objective.set_label(label)
        run.train.set_label(f"{label}: training")
        run.val.set_label(f"{label}: validation")
        self._update_legend()
        self._redraw()

    def discard_current(self) -> None:
        """Remove the current run's lines (a run that could not start); earlier runs stay faded."""
        run = self._current
        if run is None:
            return
        self.end_live()
        for line in (run.objective, run.train, run.val):
            line.remove()
        self._runs.remove(run)
        self._current = None
        self._update_legend()
        self._redraw()

    @Slot()
    def clear_runs(self) -> None:
        """Remove the earlier (faded) runs; the current run stays."""
        keep = [self._current] if self._current is not None else []
        for run in self._runs:
            if run not in keep:
                for line in (run.objective, run.train, run.val):
                    line.remove()
        self._runs = keep
        self._update_legend()
        self._redraw()
        self.statusMessage.emit("Cleared the earlier runs from the loss curve.")

    def clear_all(self) -> None:
        """Remove every run, the current one too (new data)."""
        self._fade_current()
        self.clear_runs()
        self._current = None

    def _fade_current(self) -> None:
        run = self._current
        if run is None:
            return
        for line in (run.objective, run.train, run.val):
            line.set_alpha(FADED_ALPHA)
            line.set_linewidth(1.0)
        self._current = None

    def _update_legend(self) -> None:
        c = self.canvas
        for ax in (c.ax_obj, c.ax_rmse):
            if ax.get_legend() is not None:
                ax.get_legend().remove()
        if not self._runs:
            c.hint.set_visible(True)
            return
        # One entry per run (on the objective axes); the RMSE axes explain solid vs dashed.
        handles = [r.objective for r in self._runs[-6:]]
        c.ax_obj.legend(handles=handles, labels=[r.label for r in self._runs[-6:]], fontsize=7,
                        loc="upper right", framealpha=0.8)
        style = [Line2D([], [], color="0.3", lw=1.5), Line2D([], [], color="0.3", lw=1.5, ls="--")]
        c.ax_rmse.legend(style, ["training", "validation (held out)"], fontsize=7, loc="upper right", framealpha=0.8)

    # -- drawing ------------------------------------------------------------------------
    def _mark_dirty(self) -> None:
        """Redraw on the next tick: live updates come faster than it is worth drawing."""
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

    @Slot()
    def _on_tick(self) -> None:
        if not self._dirty:
            self._timer.stop()
            return
        if self._live:
            self._dirty = False
            self._live_frame()
        else:
            self._redraw()

    def flush(self) -> None:
        """Draw now what is pending and stop the redraw timer (end of a run, before a save)."""
        self._timer.stop()
        if self._dirty:
            self._redraw()

    def _redraw(self) -> None:
        """Rescale and ask for a full draw (draw_idle merges requests made in one event-loop pass)."""
        self._timer.stop()
        self._dirty = False
        if self._live:
            self._live_frame(force_full=True)
            return
        c = self.canvas
        for ax in (c.ax_obj, c.ax_rmse):
            ax.relim(visible_only=True)
            ax.autoscale_view()
        c.draw_idle()

    # -- live mode (blitting) -----------------------------------------------------------
    @property
    def live(self) -> bool:
        return self._live

    def start_live(self, budget: int) -> None:
        """A run starts: from now on the current lines are blitted until :meth:`end_live`."""
        run = self._current
        if run is None:
            return
        self._live = True
        self._budget = int(budget)
        # Keep the layout computed so far: re-solving it on every full draw is slow.
        self.canvas.figure.set_layout_engine("none")
        for line in self._live_artists():
            line.set_animated(True)
        # Minor ticks of log axes are a third of a full draw's cost; they return at the end.
        for ax in (self.canvas.ax_obj, self.canvas.ax_rmse):
            ax.yaxis.set_minor_locator(NullLocator())
        self._bg = None  # the first tick draws everything
        self._mark_dirty()

    def end_live(self) -> None:
        """The run ended: back to ordinary drawing, autoscaled, with the layout engine on."""
        if not self._live:
            self.flush()
            return
        self._live = False
        self._bg = None
        for line in self._live_artists():
            line.set_animated(False)
        self.canvas.figure.set_layout_engine("constrained")
        self._apply_scale()  # restores the default tick locators
        for ax in (self.canvas.ax_obj, self.canvas.ax_rmse):
            ax.set_autoscale_on(True)  # set_xlim/set_ylim of the live frames switched it off
        self._redraw()

    def _live_artists(self) -> list[Any]:
        run = self._current
        if run is None:
            return []
        return [run.objective, run.train, run.val]

    def _limits_fit(self) -> bool:
        """Set limits that hold every line; True when the current limits already did."""
        c = self.canvas
        fits = True
        xmax = 1.0
        for ax in (c.ax_obj, c.ax_rmse):
            lo, hi = math.inf, -math.inf
            for line in ax.get_lines():
                if not line.get_visible():
                    continue
                x = np.asarray(line.get_xdata(), dtype=float)
                y = np.asarray(line.get_ydata(), dtype=float)
                if x.size:
                    xmax = max(xmax, float(x[-1]) if line.get_animated() else float(np.nanmax(x)))
                y = y[np.isfinite(y)]
                if self.log_scale.isChecked():
                    y = y[y > 0]
                if y.size:
                    lo, hi = min(lo, float(y.min())), max(hi, float(y.max()))
            if not math.isfinite(lo):
                continue
            y0, y1 = ax.get_ylim()
            if lo < min(y0, y1) or hi > max(y0, y1):
                fits = False
                ax.set_ylim(*_nice_range(lo, hi, self.log_scale.isChecked()))
        x0, x1 = c.ax_obj.get_xlim()
        if xmax > x1 or x0 != 0:
            fits = False
            top = _nice_above(xmax * 3)  # headroom, so the limits (and full draws) change rarely
            if self._budget > 0:
                top = min(top, max(self._budget, xmax))
            c.ax_obj.set_xlim(0, top)  # the axes share x
        return fits

    def _live_frame(self, force_full: bool = False) -> None:
        """Blit the current lines; a full draw when the limits must grow or there is no background."""
        c = self.canvas
        if not self._limits_fit() or force_full or self._bg is None:
            self.full_draws += 1
            c.draw()  # draw_event saves the background and draws the lines on it
            c.update()
            return
        c.restore_region(self._bg)
        self._draw_live_artists()
        c.blit(c.figure.bbox)
        self.blits += 1

    def _draw_live_artists(self) -> None:
        fig = self.canvas.figure
        for line in self._live_artists():
            fig.draw_artist(line)

    def _on_draw_event(self, event: Any) -> None:
        if not self._live:
            return
        c = self.canvas
        self._bg = c.copy_from_bbox(c.figure.bbox)
        self._draw_live_artists()

    @Slot(bool)
    def _on_log_toggled(self, on: bool) -> None:
        self._apply_scale()
        self._redraw()

    def _apply_scale(self) -> None:
        scale = "log" if self.log_scale.isChecked() else "linear"
        for ax in (self.canvas.ax_obj, self.canvas.ax_rmse):
            ax.set_yscale(scale)
            if scale == "log":
                # Plain labels (0.1, 1, 10, 1e+05): mathtext powers of ten cost a lot per draw.
                ax.yaxis.set_major_formatter(FuncFormatter(_plain))
                ax.yaxis.set_minor_formatter(NullFormatter())

    def stop_timers(self) -> None:
        """Stop the redraw timer (window closing)."""
        self._timer.stop()
        self._dirty = False
        self._live = False

    # -- saving -------------------------------------------------------------------------
    def save_figure(self, path: str | Path) -> Path:
        """Write the figure to ``path``; the format follows the extension (.png, .svg, .pdf)."""
        path = Path(path)
        if path.suffix.lower() not in (".png", ".svg", ".pdf"):
            raise ValueError(f"Cannot save a figure as {path.suffix or 'a file without extension'}; use .png, .svg or .pdf.")
        import io

        from mfstudio.io.atomic import atomic_write

        self.flush()
        buf = io.BytesIO()  # rendered whole first, then written atomically: a failed save keeps the old file
        self.canvas.figure.savefig(buf, dpi=150, format=path.suffix.lower()[1:])
        atomic_write(path, buf.getvalue())
        return path

    @Slot()
    def save_figure_dialog(self) -> None:
        """Ask where to save the figure, then save it."""
        path, chosen = QFileDialog.getSaveFileName(self, "Save the loss curve", "loss-curve.png", FIGURE_FILTERS)
        if not path:
            return
        p = Path(path)
        if p.suffix.lower() not in (".png", ".svg", ".pdf"):
            p = p.with_suffix(_EXT_FOR_FILTER.get(chosen.split(" ")[0], ".png"))
        try:
            self.save_figure(p)
        except (OSError, ValueError) as exc:
            from mfstudio.core.errors import MFStudioError

            text = str(exc) if isinstance(exc, MFStudioError) else \
                f"The figure could not be saved to {p}: {exc}. Choose another folder or name."
            QMessageBox.warning(self, "Could not save the figure", text)
            return
        self.statusMessage.emit(f"Saved the loss curve to {p}.")


def _plain(value: float, _pos: int | None = None) -> str:
    """A tick label without mathtext: 0.001, 0.1, 1, 10, 1000, 1e+05."""
    return f"{value:g}"


def _nice_above(x: float) -> float:
    """The smallest of 1, 2, 5 × 10^k at or above ``x``."""
    if x <= 1:
        return 1.0
    e = math.floor(math.log10(x))
    for m in (1, 2, 5, 10):
        if m * 10 ** e >= x:
            return float(m * 10 ** e)
    return float(10 ** (e + 1))


def _nice_range(lo: float, hi: float, log: bool) -> tuple[float, float]:
    """Axis limits holding [lo, hi]: whole decades on a log scale, 0 to a 1-2-5 value otherwise."""
    if log:
        a = 10 ** math.floor(math.log10(lo))
        b = 10 ** math.ceil(math.log10(hi))
        return (a, b * 10 if b <= a else b)
    low = 0.0 if lo >= 0 else -_nice_above(-lo * 1.1)
    return (low, _nice_above(hi * 1.1) if hi > 0 else 1.0)


def run_label(solver: str, params: dict) -> str:
    """A short label naming a run by its solver and key parameters, e.g. ``sgd K=2 α=0.0002 β=0.02``."""
    parts = [solver]
    if "K" in params:
        parts.append(f"K={params['K']}")
    if "alpha" in params:
        parts.append(f"α={_fmt(params['alpha'])}")
    if "beta" in params:
        parts.append(f"β={_fmt(params['beta'])}")
    return " ".join(parts)


def _fmt(x: float) -> str:
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    return f"{x:.3g}"
