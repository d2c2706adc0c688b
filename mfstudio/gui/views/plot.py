"""The live loss curve: objective and RMSE against step or seconds, with earlier runs kept as faded lines.

matplotlib is embedded through ``FigureCanvasQTAgg(Figure())`` (never pyplot). Lines
are persistent ``Line2D`` objects updated with ``set_data``; the canvas is redrawn
by a timer at a bounded pace, only when something changed, and only on the GUI thread.

Runs compare on one chart: the x axis is steps or seconds of training (either may be
logarithmic), each run's label names what differs between the runs shown (solver, K,
α, β, seed), identical labels are numbered, and the objective panel shows only the runs
that minimise the current run's objective (the RMSE panel shows every run). The
legend sits below the axes, so it never covers a curve.

During a run (:meth:`LossPlot.start_live` .. :meth:`LossPlot.end_live`) the current
run's lines are blitted over a saved background, because a full draw of the figure
takes tens of milliseconds; the axes limits then grow in 1-2-5 steps (decades on a
log scale), so a full draw happens only when the lines outgrow them. The tick rules and
those 1-2-5 limits are in :mod:`.ticks`, the run labels in :mod:`.run_labels`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import EngFormatter, MaxNLocator, NullFormatter, NullLocator
from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mfstudio.core import get_solver

# PySide6 must be imported before matplotlib's Qt backend picks a binding.
from mfstudio.gui import help_texts
from mfstudio.gui.experiment import Experiment
from mfstudio.gui.views.blit import Canvas, ScaledBackground, axis_key, solve_layout_with_room
from mfstudio.gui.views.loss_feed import LossCurveFeed
from mfstudio.gui.views.run_labels import run_labels
from mfstudio.gui.views.ticks import LogTicks, PlainTicks, nice_above, nice_range
from mfstudio.gui.views.widgets import save_figure_dialog

REDRAW_MS = 80  # at most ~12 redraws a second; each full draw takes a few ms to ~25 ms
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")
FADED_ALPHA = 0.35
LEGEND_ROWS = 3  # more rows would squeeze the axes at 1000 x 700
LEGEND_RUNS = 6  # runs named in the legend (the latest); older ones stay drawn
LEGEND_FONT = 7.5

STEP, OBJECTIVE, TRAIN_RMSE, VAL_RMSE, ELAPSED = 0, 1, 2, 4, 6  # columns of mfstudio.core.HISTORY_COLUMNS
X_AXES = (("Steps", STEP, "Step"), ("Seconds", ELAPSED, "Seconds of training"))  # chooser text, column, axis label


@dataclass
class _Run:
    solver: str
    params: dict[str, Any]
    objective_name: str
    objective: Line2D
    train: Line2D
    val: Line2D
    colour: str
    history: np.ndarray = field(default_factory=lambda: np.zeros((0, 7)))
    label: str = ""

    @property
    def lines(self) -> tuple[Line2D, Line2D, Line2D]:
        return (self.objective, self.train, self.val)


LAYOUT = {"h_pad": 2 / 72, "w_pad": 3 / 72, "hspace": 0.02, "wspace": 0.04}  # the constrained layout's pads
LIVE_LABEL_CHARS = 6  # while a run goes the layout keeps room for y tick labels this wide ("0.0001", "1e+05")


class LossCanvas(Canvas):
    """The figure: objective on the left, training and validation RMSE on the right, legend below."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.figure = Figure(figsize=(6.4, 2.6), dpi=100, layout="constrained")
        super().__init__(self.figure)
        self.setParent(parent)
        self.setObjectName("lossCanvas")
        self.setAccessibleName("Loss curve")
        self.setAccessibleDescription(
            "The objective and the RMSE against the training step or time, for this run and earlier ones.")
        self.setMinimumSize(320, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.figure.get_layout_engine().set(**LAYOUT)
        self.ax_obj = self.figure.add_subplot(1, 2, 1)
        self.ax_rmse = self.figure.add_subplot(1, 2, 2, sharex=self.ax_obj)
        for ax, title, ylabel in ((self.ax_obj, "Objective (the notebook's e)", "Objective e"),
                                  (self.ax_rmse, "Error on the ratings", "RMSE")):
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("Step", fontsize=9)
            ax.set_ylabel(ylabel, fontsize=9)
            ax.tick_params(labelsize=8)
            ax.grid(True, alpha=0.3)
        self.hint = self.ax_obj.text(
            0.5, 0.5, "Press Train to see\nthe loss fall", transform=self.ax_obj.transAxes,
            ha="center", va="center", color="0.5", fontsize=10,
        )


class LossPlot(QWidget):
    """The loss-curve panel: canvas plus x-axis chooser, Log x, Log y, Clear runs and Save figure… controls.

    ``undoClearAvailable(bool)`` says whether :meth:`undo_clear` has runs to bring back.
    """

    statusMessage = Signal(str)
    undoClearAvailable = Signal(bool)

    def __init__(self, parent: QWidget | None = None, experiment: Experiment | None = None) -> None:
        super().__init__(parent)
        self.canvas = LossCanvas(self)
        self._runs: list[_Run] = []
        self._current: _Run | None = None
        self._cleared: list[_Run] = []  # what the last Clear runs removed, for undo_clear
        self._legend: Any = None
        self._dirty = False
        self._colour = 0
        self._live = False  # a run is going: blit the current lines
        self._relayout = False  # the next live full draw re-solves the layout (tick labels changed)
        self._reset_limits = False  # the next live frame sets the limits afresh (the axes changed)
        self._budget = 0
        self._bg = ScaledBackground(self.canvas)  # what the live lines are blitted over
        self._layout_chars = (0, 0)  # the longest y tick labels the live layout was solved for
        self.full_draws = 0  # counters, for tests and benchmarks
        self.blits = 0
        self.layouts = 0  # layouts solved during live runs
        self.canvas.mpl_connect("draw_event", self._on_draw_event)
        self.canvas.mpl_connect("resize_event", self._on_resize)

        self.x_axis = QComboBox()
        self.x_axis.setObjectName("xAxis")
        self.x_axis.setAccessibleName("Horizontal axis of the loss curve")
        for text, _col, _label in X_AXES:
            self.x_axis.addItem(text)
        self.x_axis.setToolTip("Draw the curves against training steps, or against seconds of training: "
                               "solvers whose steps differ in size (sgd's 10,000 against als's 50) compare by time.")
        self.x_axis.currentIndexChanged.connect(self._on_x_axis_changed)
        self.log_x = QCheckBox("Log x")
        self.log_x.setObjectName("logX")
        self.log_x.setAccessibleName("Log scale for the horizontal axis")
        self.log_x.setToolTip("A logarithmic horizontal axis: a run of 50 steps and one of 20,000 both get room.")
        self.log_x.toggled.connect(self._on_log_toggled)
        self.log_scale = QCheckBox("Log y")
        self.log_scale.setObjectName("logScale")
        self.log_scale.setAccessibleName("Log scale for the vertical axes")
        self.log_scale.setToolTip(
            "Show the vertical axes on a logarithmic scale, so late, small improvements stay visible.")
        self.log_scale.setChecked(True)
        self.log_scale.toggled.connect(self._on_log_toggled)
        self.clear_button = QPushButton("Clear runs")
        self.clear_button.setObjectName("clearRunsButton")
        self.clear_button.setAccessibleName("Clear earlier runs from the loss curve")
        self.clear_button.setToolTip("Remove the faded lines of earlier runs (the current run stays); "
                                     "Undo clear brings them back.")
        self.clear_button.clicked.connect(self._on_clear_button)
        # An icon, not "Save figure…": the bar must fit the pane of a window 800 pixels wide.
        self.save_button = QToolButton()
        self.save_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_DialogSaveButton))
        self.save_button.setText("Save figure…")
        self.save_button.setObjectName("saveFigureButton")
        self.save_button.setAccessibleName("Save the loss curve as an image")
        self.save_button.setToolTip("Save figure…: the loss curve as PNG, SVG or PDF (also File ▸ Export).")
        self.save_button.clicked.connect(self.save_figure_dialog)

        title = QLabel("<b>Loss curve</b> vs")
        title.setToolTip(help_texts.tooltip("loss curve"))
        title.setBuddy(self.x_axis)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(6)
        bar.addWidget(title)
        bar.addWidget(self.x_axis)
        bar.addWidget(self.log_x)
        bar.addWidget(self.log_scale)
        bar.addStretch(1)
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
        self._update_clear_button()
        if experiment is not None:  # the curve follows the experiment's runs
            LossCurveFeed(self, experiment)

    # -- runs ---------------------------------------------------------------------------
    @property
    def run_count(self) -> int:
        """How many runs are drawn, including the current one."""
        return len(self._runs)

    def point_count(self) -> int:
        """Points on the current run's objective line (0 without a run)."""
        return 0 if self._current is None else len(self._current.objective.get_xdata())

    def run_labels(self) -> list[str]:
        """Each drawn run's label, oldest first, as the legend shows it."""
        return [r.label for r in self._runs]

    @property
    def x_column(self) -> int:
        """The history column on the x axis (STEP or ELAPSED)."""
        return X_AXES[max(self.x_axis.currentIndex(), 0)][1]

    @property
    def objective_shown(self) -> str:
        """The objective on the left panel: the current run's (else the latest run's)."""
        run = self._current or (self._runs[-1] if self._runs else None)
        return "" if run is None else run.objective_name

    def begin_run(self, solver: str, params: Mapping[str, Any]) -> None:
        """Start a new line set for a run of ``solver`` with ``params``; the previous run fades."""
        objective_name = get_solver(solver).objective_name
        self._fade_current()
        colour = COLOURS[self._colour % len(COLOURS)]
        self._colour += 1
        c = self.canvas
        obj, = c.ax_obj.plot([], [], color=colour, lw=1.8, zorder=3)
        train, = c.ax_rmse.plot([], [], color=colour, lw=1.8, zorder=3)
        val, = c.ax_rmse.plot([], [], color=colour, lw=1.5, ls="--", zorder=3)
        self._current = _Run(solver, dict(params), objective_name, obj, train, val, colour)
        self._runs.append(self._current)
        self._runs_changed()
        self._mark_dirty()  # a run usually starts right away; its first frame draws everything

    def set_history(self, history: np.ndarray) -> None:
        """Show ``history`` (rows as HISTORY_COLUMNS) on the current run's lines."""
        run = self._current
        if run is None:
            return
        h = np.asarray(history, dtype=float)
        run.history = (h if h.ndim == 2 else h.reshape(-1, 7))[:, :7]  # ranking columns, if any, are not drawn
        self._set_lines(run)
        self._mark_dirty()

    def _set_lines(self, run: _Run) -> None:
        h = run.history
        x = h[:, self.x_column]
        run.objective.set_data(x, h[:, OBJECTIVE])
        run.train.set_data(x, h[:, TRAIN_RMSE])
        val = h[:, VAL_RMSE]
        has_val = bool(np.isfinite(val).any())
        run.val.set_data(x if has_val else [], val if has_val else [])

    def discard_current(self) -> None:
        """Remove the current run's lines (a run that could not start); earlier runs stay faded."""
        run = self._current
        if run is None:
            return
        self.end_live()
        for line in run.lines:
            line.remove()
        self._runs.remove(run)
        self._current = None
        self._runs_changed()
        self._redraw()

    @Slot()
    def clear_runs(self) -> None:
        """Remove the earlier (faded) runs; the current run stays. :meth:`undo_clear` brings them back."""
        gone = [r for r in self._runs if r is not self._current]
        if not gone:
            self.statusMessage.emit("There are no earlier runs to clear from the loss curve.")
            return
        for run in gone:
            for line in run.lines:
                line.remove()
        self._cleared = gone
        self._runs = [self._current] if self._current is not None else []
        self._runs_changed()
        self._redraw()
        n = len(gone)
        self.statusMessage.emit(f"Cleared {n} earlier run{'s' if n != 1 else ''} from the loss curve; "
                                "Undo clear (the same button, or the Training menu) brings "
                                f"{'them' if n != 1 else 'it'} back.")

    @property
    def can_undo_clear(self) -> bool:
        return bool(self._cleared)

    @Slot()
    def undo_clear(self) -> None:
        """Bring back the runs the last :meth:`clear_runs` removed, before the runs drawn now."""
        back = self._cleared
        if not back:
            return
        self._cleared = []
        for run in back:
            self.canvas.ax_obj.add_line(run.objective)
            self.canvas.ax_rmse.add_line(run.train)
            self.canvas.ax_rmse.add_line(run.val)
        self._runs = back + self._runs
        self._runs_changed()
        self._redraw()
        n = len(back)
        self.statusMessage.emit(f"Brought back {n} earlier run{'s' if n != 1 else ''} on the loss curve.")

    @Slot()
    def _on_clear_button(self) -> None:
        if any(r is not self._current for r in self._runs) or not self._cleared:
            self.clear_runs()
        else:
            self.undo_clear()

    def clear_all(self) -> None:
        """Remove every run, the current one too, with nothing to undo (new data)."""
        self.end_live()
        for run in self._runs:
            for line in run.lines:
                line.remove()
        self._runs = []
        self._current = None
        self._cleared = []
        self._colour = 0
        self._runs_changed()
        self._redraw()

    def _fade_current(self) -> None:
        run = self._current
        if run is None:
            return
        for line in run.lines:
            line.set_alpha(FADED_ALPHA)
            line.set_linewidth(1.0)
            line.set_zorder(2)
        self._current = None

    def _runs_changed(self) -> None:
        """Labels, the objective panel's runs and title, the legend and the Clear button follow the runs."""
        for run, label in zip(self._runs, run_labels([(r.solver, r.params) for r in self._runs])[0]):
            run.label = label
        shown = self.objective_shown
        for run in self._runs:
            run.objective.set_visible(run.objective_name == shown)
        ax = self.canvas.ax_obj
        ax.set_title(f"Objective: {shown}" if shown else "Objective (the notebook's e)", fontsize=10)
        self.canvas.hint.set_visible(not self._runs)
        self._update_legend()
        self._update_clear_button()

    def _update_clear_button(self) -> None:
        earlier = any(r is not self._current for r in self._runs)
        undo = not earlier and bool(self._cleared)
        self.clear_button.setText("Undo clear" if undo else "Clear runs")
        self.clear_button.setToolTip(
            "Bring back the runs that Clear runs removed." if undo else
            "Remove the faded lines of earlier runs (the current run stays); Undo clear brings them back.")
        self.clear_button.setEnabled(earlier or undo)
        self.undoClearAvailable.emit(bool(self._cleared))

    def _update_legend(self) -> None:
        """One figure legend below both panels: a colour per run, then solid vs dashed (when any run has validation)."""
        if self._legend is not None:
            self._legend.remove()
            self._legend = None
        if not self._runs:
            return
        shown = self.objective_shown
        with_val = any(len(r.val.get_xdata()) for r in self._runs)
        keep = min(LEGEND_RUNS, len(self._runs))
        while True:  # as many recent runs as fit in LEGEND_ROWS rows, so the legend never squeezes the curves
            handles, labels = self._legend_entries(self._runs[-keep:], shown, len(self._runs) - keep, with_val)
            rows = math.ceil(len(labels) / self._legend_columns(labels))
            if rows <= LEGEND_ROWS or keep <= 1:
                break
            keep -= 1
        common = run_labels([(r.solver, r.params) for r in self._runs])[1]
        fig = self.canvas.figure
        self._legend = fig.legend(handles, labels, loc="outside lower center", ncols=self._legend_columns(labels),
                                  fontsize=LEGEND_FONT, frameon=False, handlelength=1.8, columnspacing=1.2,
                                  borderaxespad=0.2, title=f"All runs: {common}" if common else None,
                                  title_fontsize=LEGEND_FONT)

    def _legend_entries(self, runs: list[_Run], shown: str | None, hidden: int,
                        with_val: bool) -> tuple[list[Any], list[str]]:
        handles: list[Any] = []
        labels: list[str] = []
        for run in runs:
            current = run is self._current
            handles.append(Line2D([], [], color=run.colour, lw=1.8 if current else 1.2,
                                  alpha=None if current else max(FADED_ALPHA, 0.5)))
            labels.append(run.label if run.objective_name == shown else f"{run.label} (RMSE only)")
        if hidden:
            handles.append(Line2D([], [], lw=0))
            labels.append(f"+{hidden} earlier")
        if with_val:
            handles += [Line2D([], [], color="0.3", lw=1.5), Line2D([], [], color="0.3", lw=1.5, ls="--")]
            labels += ["RMSE: training", "validation (held out)"]
        return handles, labels

    def _legend_columns(self, labels: list[str]) -> int:
        """As many columns as fit the figure's width (estimated from the longest label)."""
        fig = self.canvas.figure
        em = LEGEND_FONT * fig.dpi / 72
        widest = max(len(t) for t in labels) * 0.62 * em + (1.8 + 0.8 + 1.2) * em
        return max(1, min(len(labels), int(fig.get_figwidth() * fig.dpi * 0.96 // widest)))

    def _on_resize(self, _event: Any) -> None:
        if self._legend is not None and not self._live:
            self._update_legend()

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
        empty = not any(len(r.train.get_xdata()) for r in self._runs)
        for ax in (c.ax_obj, c.ax_rmse):
            if empty:  # no curve: plain axes from 1 to 10 rather than autoscale's -50m ... 50m
                ax.set_xlim(1, 10)
                ax.set_ylim(*((0.1, 10) if ax.get_yscale() == "log" else (0, 1)))
                continue
            ax.relim(visible_only=True)
            ax.autoscale_view()
        c.draw_idle()

    # -- live mode (blitting) -----------------------------------------------------------
    @property
    def live(self) -> bool:
        return self._live

    def start_live(self, budget: int) -> None:
        """A run starts: from now on the current lines are blitted until :meth:`end_live`.

        ``budget`` is the step at which the run will stop at the latest (caps the step axis).
        """
        run = self._current
        if run is None:
            return
        self._live = True
        self._budget = int(budget)
        # The layout is solved on the first frame and again only when the limits (so the
        # tick labels) change: re-solving it on every full draw is slow.
        self._relayout = True
        for a in self._live_artists() + self._scales():
            a.set_animated(True)
        # Minor ticks of log axes are a third of a full draw's cost; they return at the end.
        for ax in (self.canvas.ax_obj, self.canvas.ax_rmse):
            ax.yaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_minor_locator(NullLocator())
        self._bg.clear()
        # The first frame now, with the layout solved with room for wider labels: the redraw the new
        # run's legend asked for is this one (one full draw at the click, then the axes and lines only).
        self._dirty = False
        self._timer.stop()
        self._live_frame()

    def end_live(self) -> None:
        """The run ended: back to ordinary drawing, autoscaled, with the layout engine on."""
        if not self._live:
            self.flush()
            return
        for a in self._live_artists() + self._scales():
            a.set_animated(False)
        self._live = False
        self._bg.clear()
        self._apply_scale()  # restores the default tick locators
        for ax in (self.canvas.ax_obj, self.canvas.ax_rmse):
            ax.set_autoscale_on(True)  # set_xlim/set_ylim of the live frames switched it off
        self._redraw()

    def _live_artists(self) -> list[Any]:
        run = self._current
        if run is None:
            return []
        return [run.objective, run.train, run.val]

    def _scales(self) -> list[Any]:
        """While a run goes, what the limits place besides its lines: the axes (ticks, grid, names) and the earlier
        runs' lines. Drawn again over the saved base when the limits move (see ScaledBackground)."""
        if not self._live:
            return []
        c = self.canvas
        earlier = [line for run in self._runs if run is not self._current for line in run.lines]
        return [*earlier, c.ax_obj.xaxis, c.ax_obj.yaxis, c.ax_rmse.xaxis, c.ax_rmse.yaxis]

    def _limits_fit(self) -> bool:
        """Set limits that hold every line; True when the current limits already did."""
        c = self.canvas
        fits, reset = True, self._reset_limits
        self._reset_limits = False
        log_y, log_x = self.log_scale.isChecked(), self.log_x.isChecked()
        xmin, xmax = math.inf, 1.0 if self.x_column == STEP else 1e-3
        for ax in (c.ax_obj, c.ax_rmse):
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
        x0, x1 = c.ax_obj.get_xlim()
        want_x0 = 10 ** math.floor(math.log10(xmin)) if log_x and math.isfinite(xmin) else (x0 if log_x else 0)
        if reset or xmax > x1 or x0 != want_x0:
            fits = False
            top = nice_above(xmax * 3)
            # headroom, so the limits (and full draws) change rarely; never beyond the budget
            if self._budget > 0 and self.x_column == STEP:
                top = min(top, max(self._budget, xmax))
            c.ax_obj.set_xlim(want_x0, max(top, want_x0 * 10) if log_x else top)  # the axes share x
        return fits

    def _ylabel_chars(self) -> tuple[int, int]:
        """The longest y tick label of each panel, in characters, at the current limits (no drawing)."""
        out = []
        for ax in (self.canvas.ax_obj, self.canvas.ax_rmse):
            lo, hi = sorted(ax.get_ylim())
            ticks = [t for t in ax.yaxis.get_major_locator()() if lo <= t <= hi]
            labels = ax.yaxis.get_major_formatter().format_ticks(ticks) if ticks else []
            out.append(max((len(t) for t in labels), default=0))
        return out[0], out[1]

    def _live_frame(self, force_full: bool = False) -> None:
        """Blit the current lines (and the axes again when the limits grew); a full draw for the first frame and
        when wider y tick labels ("0.001" after "1") would reach past the room the layout kept for them."""
        c = self.canvas
        self._limits_fit()
        chars = self._ylabel_chars()
        wider = any(n > m for n, m in zip(chars, self._layout_chars))
        if force_full or self._bg.base is None or self._relayout or wider:
            self.full_draws += 1
            # Solving the layout costs as much as the draw: only for the first frame and for wider labels.
            if self._relayout or wider:
                solve_layout_with_room(c.figure, (c.ax_obj, c.ax_rmse), LIVE_LABEL_CHARS, **LAYOUT)
                self._layout_chars = tuple(max(n, LIVE_LABEL_CHARS) for n in chars)
                self.layouts += 1
            self._relayout = False
            c.draw()  # draw_event saves the background and draws the lines on it
            c.update()
            return
        self._bg.restore(self._scales(), self._scales_key())
        self._draw_live_artists()
        c.blit(c.figure.bbox)
        self.blits += 1

    def _scales_key(self) -> tuple:
        return axis_key(self.canvas.ax_obj, self.canvas.ax_rmse)

    def _draw_live_artists(self) -> None:
        fig = self.canvas.figure
        for line in self._live_artists():
            fig.draw_artist(line)

    def _on_draw_event(self, event: Any) -> None:
        if not self._live:
            return
        self._bg.save()
        self._bg.restore(self._scales(), self._scales_key())
        self._draw_live_artists()

    @Slot(bool)
    def _on_log_toggled(self, on: bool) -> None:
        self._apply_scale()
        self._redraw()

    @Slot(int)
    def _on_x_axis_changed(self, index: int) -> None:
        for run in self._runs + self._cleared:
            self._set_lines(run)
        self._apply_scale()
        self._redraw()

    def _apply_scale(self) -> None:
        """Scales, locators and formatters of both axes as the chooser and check boxes say.

        Outside a live run the layout engine is switched (back) on; during one, the live
        limits are set afresh on the next frame (the old ones belong to another axis).
        """
        c = self.canvas
        if self._live:
            self._reset_limits = self._relayout = True
        else:
            c.figure.set_layout_engine("constrained", **LAYOUT)
        log_y, log_x = self.log_scale.isChecked(), self.log_x.isChecked()
        seconds = self.x_column == ELAPSED
        label = X_AXES[max(self.x_axis.currentIndex(), 0)][2]
        for ax in (c.ax_obj, c.ax_rmse):
            ax.set_yscale("log" if log_y else "linear")
            if log_y:
                # Plain labels (0.1, 1, 10, 1e+05): mathtext powers of ten cost a lot per draw.
                ax.yaxis.set_major_locator(LogTicks())
                ax.yaxis.set_major_formatter(PlainTicks())
                ax.yaxis.set_minor_formatter(NullFormatter())
            ax.set_xlabel(label, fontsize=9)
        # the axes share x: setting it on one sets both
        ax = c.ax_obj
        ax.set_xscale("log" if log_x else "linear")
        if log_x:
            ax.xaxis.set_major_locator(LogTicks())
            ax.xaxis.set_minor_formatter(NullFormatter())
        elif not seconds:
            ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        ax.xaxis.set_major_formatter(EngFormatter(unit="s", sep=" ") if seconds else EngFormatter(sep=""))
        if self._live:  # minor ticks stay off until the run ends (see start_live)
            for a in (c.ax_obj, c.ax_rmse):
                a.yaxis.set_minor_locator(NullLocator())
                a.xaxis.set_minor_locator(NullLocator())

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
            raise ValueError(
                f"Cannot save a figure as {path.suffix or 'a file without extension'}; use .png, .svg or .pdf.")
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
        p = save_figure_dialog(self, "Save the loss curve", "loss-curve.png", "The figure", self.save_figure)
        if p is not None:
            self.statusMessage.emit(f"Saved the loss curve to {p}.")


