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

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
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

from mfstudio.core import HISTORY_COLUMNS, get_solver
from mfstudio.core.runs import RunRecord

# PySide6 must be imported before matplotlib's Qt backend picks a binding.
from mfstudio.gui import help_texts
from mfstudio.gui.experiment import Experiment
from mfstudio.gui.runs import COLOURS, RunList
from mfstudio.gui.views import run_lines
from mfstudio.gui.views.blit import Canvas, RowLayout, ScaledBackground, axis_key
from mfstudio.gui.views.run_lines import FADED_ALPHA, RunLines
from mfstudio.gui.views.slices import figure_steps
from mfstudio.gui.views.ticks import LogTicks, PlainTicks, fit_live_limits
from mfstudio.gui.views.widgets import save_figure_dialog

REDRAW_MS = 80  # at most ~12 redraws a second; each full draw takes a few ms to ~25 ms
__all__ = ["COLOURS", "FADED_ALPHA", "LossPlot"]

STEP, ELAPSED = HISTORY_COLUMNS.index("step"), HISTORY_COLUMNS.index("elapsed_s")
X_AXES = (("Steps", STEP, "Step"), ("Seconds", ELAPSED, "Seconds of training"))  # chooser text, column, axis label


PADS = {"h_pad": 2 / 72, "w_pad": 3 / 72}  # inches around each panel's texts (see blit.fit_row)
LIVE_LABEL_CHARS = 6  # while a run goes the layout keeps room for y tick labels this wide ("0.0001", "1e+05")


class LossCanvas(Canvas):
    """The figure: objective on the left, training and validation RMSE on the right, legend below."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.figure = Figure(figsize=(6.4, 2.6), dpi=100)
        # placed from the texts at each draw (blit.fit_row): a constrained layout's solve measures the lines as well,
        # which on a long run costs as much as the draw itself
        self.placement = RowLayout(**PADS)
        self.figure.set_layout_engine(self.placement)
        super().__init__(self.figure)
        self.setParent(parent)
        self.setObjectName("lossCanvas")
        self.setAccessibleName("Loss curve")
        self.setAccessibleDescription(
            "The objective and the RMSE against the training step or time, for this run and earlier ones.")
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
        self.hint = self.ax_obj.text(
            0.5, 0.5, "Press Train to see\nthe loss fall", transform=self.ax_obj.transAxes,
            ha="center", va="center", color="0.5", fontsize=10,
        )
        self.rank_hint = self.ax_rmse.text(  # a model of counts without held-out interactions has nothing to rank
            0.5, 0.5, "Nothing held\nout to rank:\nset a Hold-out\nshare",
            transform=self.ax_rmse.transAxes,
            ha="center", va="center", color="0.5", fontsize=9, visible=False,
        )

    def show_errors(self, ranking: str) -> None:
        """Name the right panel: the error on the ratings (RMSE), or with ``ranking`` ("precision@10") the
        ranking of the held-out interactions."""
        if ranking:
            self.ax_rmse.set_title("Held-out ranking", fontsize=10)
            self.ax_rmse.set_ylabel(f"{ranking} (higher is better)", fontsize=9)
        else:
            self.ax_rmse.set_title("Error on the ratings", fontsize=10)
            self.ax_rmse.set_ylabel("RMSE", fontsize=9)


class LossPlot(QWidget):
    """The loss-curve panel: canvas plus x-axis chooser, Log x, Log y, Clear runs and Save figure… controls.

    It draws the runs of ``runs``, the session's shared :class:`~mfstudio.gui.runs.RunList` (without one,
    a list of its own, fed by ``experiment`` when given). ``undoClearAvailable(bool)`` says whether
    :meth:`undo_clear` has runs to bring back.
    """

    statusMessage = Signal(str)
    undoClearAvailable = Signal(bool)

    def __init__(self, parent: QWidget | None = None, experiment: Experiment | None = None,
                 runs: RunList | None = None) -> None:
        super().__init__(parent)
        self.canvas = LossCanvas(self)
        self.runs = runs if runs is not None else RunList(experiment, self)
        self._lines: dict[RunRecord, RunLines] = {}  # each run's artists
        self._parked: dict[RunRecord, RunLines] = {}  # those of deleted runs, for an undo to put back
        self._legend: Any = None
        self._dirty = False
        self._live = False  # a run is going: blit the current lines
        self._relayout = False  # the next live full draw re-solves the layout (tick labels changed)
        self._reset_limits = False  # the next live frame sets the limits afresh (the axes changed)
        self._budget = 0
        self._bg = ScaledBackground(self.canvas)  # what the live lines are blitted over
        self._layout_chars = (0, 0)  # the longest y tick labels the live layout was solved for
        self._ranking = ""  # what the right panel shows: "" RMSE, else the ranking metric (ranking_shown)
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
        r = self.runs
        for signal, slot in ((r.added, self._on_added), (r.historyChanged, self._on_history),
                             (r.changed, self._on_changed), (r.listChanged, self._on_list_changed),
                             (r.cleared, self._on_cleared), (r.liveStarted, self._on_live_started),
                             (r.liveEnded, self._on_live_ended)):
            signal.connect(slot)
        r.undoChanged.connect(self._update_clear_button)

    # -- runs ---------------------------------------------------------------------------
    @property
    def run_count(self) -> int:
        """How many runs are drawn (hidden ones too), including the current one."""
        return len(self.runs)

    @property
    def _runs(self) -> list[RunLines]:
        """Each run's artists, oldest first."""
        return [self._lines[r] for r in self.runs.records if r in self._lines]

    @property
    def _current(self) -> RunLines | None:
        current = self.runs.current
        return None if current is None else self._lines.get(current)

    def point_count(self) -> int:
        """Points on the current run's objective line (0 without a run)."""
        run = self._current
        return 0 if run is None else len(run.objective.get_xdata())

    def run_labels(self) -> list[str]:
        """Each drawn run's label, oldest first, as the legend shows it."""
        return [r.label for r in self._runs]

    def best_step_marked(self, record: RunRecord) -> tuple[float, float] | None:
        """Where the best validation step of ``record`` is marked (x, y), None when it is not."""
        run = self._lines.get(record)
        if run is None or not run.marked:
            return None
        x, y = run.marker.get_data()
        return float(x[0]), float(y[0])

    @property
    def x_column(self) -> int:
        """The history column on the x axis (STEP or ELAPSED)."""
        return X_AXES[max(self.x_axis.currentIndex(), 0)][1]

    @property
    def objective_shown(self) -> str:
        """The objective on the left panel: the current run's (else the latest run's)."""
        run = self._leading
        return "" if run is None else run.objective_name

    @property
    def ranking_shown(self) -> str:
        """The ranking metric the right panel shows instead of RMSE ("precision@10"): when the current (else the
        latest) run models implicit feedback, which is judged by ranking; "" for RMSE."""
        run = self._leading
        if run is None or not get_solver(run.solver).implicit:
            return ""
        return f"precision@{run.record.top_n}"

    @property
    def _leading(self) -> RunLines | None:
        """The run whose kind the panels follow: the current one, else the latest."""
        runs = self._runs
        return self._current or (runs[-1] if runs else None)

    def begin_run(self, solver: str, params: Mapping[str, Any]) -> None:
        """Start a new run of ``solver`` with ``params`` (a "holdout" among them is the run's hold-out share)."""
        params = dict(params)
        self.runs.begin(solver, params, holdout=float(params.pop("holdout", 0.0) or 0.0))

    def set_history(self, history: np.ndarray) -> None:
        """Show ``history`` (rows as HISTORY_COLUMNS) on the current run's lines."""
        self.runs.set_history(history)

    def discard_current(self) -> None:
        """Remove the current run's lines (a run that could not start); earlier runs stay faded."""
        self.runs.discard_current()

    @Slot()
    def clear_runs(self) -> None:
        """Remove the earlier (faded) runs; the current run stays. :meth:`undo_clear` brings them back."""
        n = self.runs.clear_earlier()
        if not n:
            self.statusMessage.emit("There are no earlier runs to clear from the loss curve.")
            return
        self.statusMessage.emit(f"Cleared {n} earlier run{'s' if n != 1 else ''} from the loss curve; "
                                "Undo clear (the same button, or the Training menu) brings "
                                f"{'them' if n != 1 else 'it'} back.")

    @property
    def can_undo_clear(self) -> bool:
        return self.runs.can_undo_clear

    @Slot()
    def undo_clear(self) -> None:
        """Bring back the runs the last :meth:`clear_runs` removed, where they were among the runs drawn now."""
        n = self.runs.undo_clear()
        if n:
            self.statusMessage.emit(f"Brought back {n} earlier run{'s' if n != 1 else ''} on the loss curve.")

    @Slot()
    def _on_clear_button(self) -> None:
        if any(r is not self._current for r in self._runs) or not self.can_undo_clear:
            self.clear_runs()
        else:
            self.undo_clear()

    def clear_all(self) -> None:
        """Remove every run, the current one too, with nothing to undo (new data)."""
        self.runs.clear()

    # -- following the run list ---------------------------------------------------------
    @Slot(object)
    def _on_added(self, record: RunRecord) -> None:
        c = self.canvas
        self._lines[record] = RunLines.make(record, c.ax_obj, c.ax_rmse, self.runs.colour(record))
        self._runs_changed()
        self._mark_dirty()  # a run usually starts right away; its first frame draws everything

    @Slot(object)
    def _on_history(self, record: RunRecord) -> None:
        run = self._lines.get(record)
        if run is not None:
            run.show(self.x_column, self.objective_shown)
            self._mark_dirty()

    @Slot(object)
    def _on_changed(self, record: RunRecord) -> None:
        """A run's outcome, name or visibility changed: its lines, the labels and the legend follow."""
        if record in self._lines:
            self._runs_changed()
            if self._live:
                self._mark_dirty()
            else:  # a finished run, an opened result, one update: drawn at once
                self._redraw()

    @Slot()
    def _on_list_changed(self) -> None:
        """Runs went or came back: lines off the axes are kept (an undo puts them back as they were)."""
        present = set(self.runs.records)
        c = self.canvas
        for record, run in list(self._lines.items()):
            if record not in present:
                run.detach()
                self._parked[record] = self._lines.pop(record)
        for record in present:
            if record not in self._lines:
                run = self._parked.pop(record, None)
                if run is None:
                    run = RunLines.make(record, c.ax_obj, c.ax_rmse, self.runs.colour(record))
                else:
                    run.attach(c.ax_obj, c.ax_rmse, self._live and run is not self._current)
                self._lines[record] = run
        self._runs_changed()
        self._redraw()

    @Slot()
    def _on_cleared(self) -> None:
        self.end_live()
        for run in self._lines.values():
            run.detach()
        self._lines, self._parked = {}, {}
        self._runs_changed()
        self._redraw()

    @Slot(object, int)
    def _on_live_started(self, _record: RunRecord, budget: int) -> None:
        self.start_live(budget)

    @Slot(object)
    def _on_live_ended(self, _record: RunRecord) -> None:
        self.end_live()

    def _runs_changed(self) -> None:
        """Labels, styles, the objective panel's runs and title, the legend and the Clear button follow the runs."""
        runs, current = self._runs, self._current
        for run, label in zip(runs, self.runs.labels()):
            run.label = label
        shown, ranking = self.objective_shown, self.ranking_shown
        for run in runs:
            run.style(run is current)
            run.show(self.x_column, shown, bool(ranking))
        ax = self.canvas.ax_obj
        ax.set_title(f"Objective: {shown}" if shown else "Objective (the notebook's e)", fontsize=10)
        leading = self._leading
        ax.set_ylabel(f"Objective {get_solver(leading.solver).objective_symbol if leading else 'e'}", fontsize=9)
        if ranking != self._ranking:  # the right panel changes what it shows
            self._ranking = ranking
            self.canvas.show_errors(ranking)
            self._apply_scale()
        self.canvas.hint.set_visible(not runs)
        self.canvas.rank_hint.set_visible(bool(ranking) and leading is not None and not leading.record.holdout)
        self._update_legend()
        self._update_clear_button()

    def _update_clear_button(self) -> None:
        earlier = any(r is not self._current for r in self._runs)
        undo = not earlier and self.can_undo_clear
        self.clear_button.setText("Undo clear" if undo else "Clear runs")
        self.clear_button.setToolTip(
            "Bring back the runs that Clear runs removed." if undo else
            "Remove the faded lines of earlier runs (the current run stays); Undo clear brings them back.")
        self.clear_button.setEnabled(earlier or undo)
        self.undoClearAvailable.emit(self.can_undo_clear)

    def _update_legend(self) -> None:
        """One figure legend below both panels (see :func:`.run_lines.legend`)."""
        if self._legend is not None:
            self._legend.remove()
        self._legend = run_lines.legend(self.canvas.figure, self._runs, self._current, self.objective_shown,
                                        self.runs.common_text(), self.ranking_shown)

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
        """Draw now what is pending, a frame being drawn in slices too, and stop the redraw timer (before a save)."""
        self._timer.stop()
        if self._dirty:
            self._redraw()
        self.canvas.slices.finish()

    def _redraw(self, sliced: bool = False) -> None:
        """Rescale and ask for a full draw (draw_idle merges requests made in one event-loop pass); ``sliced``:
        drawn in slices from the next pass on (see :meth:`_whole_frame_in_slices`)."""
        self._timer.stop()
        self._dirty = False
        if self._live:
            self._live_frame(force_full=True)
            return
        c = self.canvas
        empty = not any(len(r.objective.get_xdata()) for r in self._runs)
        for ax in (c.ax_obj, c.ax_rmse):
            if empty:  # no curve: plain axes from 1 to 10 rather than autoscale's -50m ... 50m (autoscale kept on)
                ax.set_xlim(1, 10, auto=None)
                ax.set_ylim(*((0.1, 10) if ax.get_yscale() == "log" else (0, 1)), auto=None)
                continue
            ax.relim(visible_only=True)
            ax.autoscale_view()
        if sliced and c.isVisible():
            self._whole_frame_in_slices()
        else:
            c.draw_idle()

    def _whole_frame_in_slices(self) -> None:
        """The full draw a draw_idle makes (the layout solved, then every artist), as steps run a slice per pass
        from the next one on: the end of a run does much else in this one. The layout's solve, which costs about as
        much as the rest, is the first pass's step; the canvas shows the last frame until the new one is whole."""
        c = self.canvas
        c.stop_slices()
        engine = c.figure.get_layout_engine()
        steps = [lambda: engine.execute(c.figure)] if engine is not None else []
        c.draw_in_slices([*steps, *figure_steps(c.figure, c.get_renderer())], c.update, now=False)

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
        self.canvas.stop_slices()
        self._bg.clear()
        # The first frame now, with the layout solved with room for wider labels: the redraw the new
        # run's legend asked for is this one (one full draw at the click, then the axes and lines only).
        self._dirty = False
        self._timer.stop()
        self._live_frame(now=False)

    def end_live(self) -> None:
        """The run ended: back to ordinary drawing, autoscaled, with the layout engine on."""
        if not self._live:
            self.flush()
            return
        self.canvas.stop_slices()
        for a in self._live_artists() + self._scales():
            a.set_animated(False)
        self._live = False
        self._bg.clear()
        self._apply_scale()  # restores the default tick locators
        for ax in (self.canvas.ax_obj, self.canvas.ax_rmse):
            ax.set_autoscale_on(True)  # set_xlim/set_ylim of the live frames switched it off
        self._redraw(sliced=True)

    def _live_artists(self) -> list[Any]:
        run = self._current
        if run is None:
            return []
        return list(run.artists)

    def _scales(self) -> list[Any]:
        """While a run goes, what the limits place besides its lines: the axes (ticks, grid, names) and the earlier
        runs' lines. Drawn again over the saved base when the limits move (see ScaledBackground)."""
        if not self._live:
            return []
        c = self.canvas
        earlier = [a for run in self._runs if run is not self._current for a in run.artists]
        return [*earlier, c.ax_obj.xaxis, c.ax_obj.yaxis, c.ax_rmse.xaxis, c.ax_rmse.yaxis]

    def _limits_fit(self) -> bool:
        """Set limits that hold every line; True when the current limits already did."""
        reset, self._reset_limits = self._reset_limits, False
        budget = self._budget if self.x_column == STEP else 0
        return fit_live_limits(self.canvas.ax_obj, self.canvas.ax_rmse, self.log_x.isChecked(),
                               1.0 if self.x_column == STEP else 1e-3, budget, reset)

    def _ylabel_chars(self) -> tuple[int, int]:
        """The longest y tick label of each panel, in characters, at the current limits (no drawing)."""
        out = []
        for ax in (self.canvas.ax_obj, self.canvas.ax_rmse):
            lo, hi = sorted(ax.get_ylim())
            ticks = [t for t in ax.yaxis.get_major_locator()() if lo <= t <= hi]
            labels = ax.yaxis.get_major_formatter().format_ticks(ticks) if ticks else []
            out.append(max((len(t) for t in labels), default=0))
        return out[0], out[1]

    def _live_frame(self, force_full: bool = False, now: bool = True) -> None:
        """Blit the current lines (and the axes again when the limits grew); a full draw for the first frame and
        when wider y tick labels ("0.001" after "1") or new x ones would reach past the room the layout kept.

        The frame is drawn in slices (see :mod:`.slices`), so that neither a full draw nor axes drawn again
        stall the window; a frame asked for while one is being drawn follows it. Not ``now``: its first slice
        too in the next event-loop pass (the click that starts a run does much else in this one)."""
        c = self.canvas
        if c.slices.busy():
            if not force_full:
                self._mark_dirty()
                return
            c.stop_slices()
        fit = self._limits_fit()
        chars = self._ylabel_chars()
        # wider y tick labels, or new x ones ("1k" after "100" at the right end) past the room the layout kept
        wider = any(n > m for n, m in zip(chars, self._layout_chars)) or not (fit or c.placement.fits(c.figure))
        if force_full or self._bg.base is None or self._relayout or wider:
            self.full_draws += 1
            steps: list[Any] = []
            # Solving the layout costs as much as the draw: only for the first frame and for wider labels, as a
            # step of its own
            if self._relayout or wider:
                self._layout_chars = tuple(max(n, LIVE_LABEL_CHARS) for n in chars)
                steps.append(self._solve_live_layout)
                self.layouts += 1
            self._relayout = False
            self._bg.clear()
            steps += [*figure_steps(c.figure, c.get_renderer()), self._bg.save,
                      *self._bg.restore_steps(self._scales(), self._scales_key())]
            c.draw_in_slices([*steps, self._draw_live_artists], c.update, now)
            return
        steps = self._bg.restore_steps(self._scales(), self._scales_key())
        c.draw_in_slices([*steps, self._draw_live_artists], lambda: c.blit(c.figure.bbox), now)
        self.blits += 1

    def _solve_live_layout(self) -> None:
        """The live frames' layout, with room for y tick labels :data:`LIVE_LABEL_CHARS` wide (or as wide as they
        are), kept until they widen past it (see :func:`.blit.fit_row`)."""
        c = self.canvas
        c.placement.chars = self._layout_chars
        c.placement.execute(c.figure)

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
        for run in [*self._lines.values(), *self._parked.values()]:
            run.show(self.x_column, self.objective_shown, bool(self.ranking_shown))
        self._apply_scale()
        self._redraw()

    def _apply_scale(self) -> None:
        """Scales, locators and formatters of both axes as the chooser and check boxes say.

        Outside a live run the layout fits the tick labels as they are; during one, the live
        limits are set afresh on the next frame (the old ones belong to another axis).
        """
        c = self.canvas
        if self._live:
            self._reset_limits = self._relayout = True
        else:
            c.placement.chars = ()  # the layout fits the tick labels as they are
        log_y, log_x = self.log_scale.isChecked(), self.log_x.isChecked()
        seconds = self.x_column == ELAPSED
        label = X_AXES[max(self.x_axis.currentIndex(), 0)][2]
        for ax in (c.ax_obj, c.ax_rmse):
            log = log_y and not (ax is c.ax_rmse and self._ranking)  # a precision of 0 has no log
            ax.set_yscale("log" if log else "linear")
            if log:
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
            ax.xaxis.set_major_locator(MaxNLocator(nbins="auto", integer=True))  # as many as the width holds
        ax.xaxis.set_major_formatter(EngFormatter(unit="s", sep=" ") if seconds else EngFormatter(sep=""))
        if self._live:  # minor ticks stay off until the run ends (see start_live)
            for a in (c.ax_obj, c.ax_rmse):
                a.yaxis.set_minor_locator(NullLocator())
                a.xaxis.set_minor_locator(NullLocator())

    def stop_timers(self) -> None:
        """Stop the redraw timer and a frame being drawn (window closing)."""
        self._timer.stop()
        self.canvas.stop_slices()
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


