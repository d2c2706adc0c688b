"""Training ▸ Sweep…: train one model per combination of one or two parameters' values, in worker processes,
and compare their validation errors on a chart.

The sweep takes the grid's ratings and held-out cells and the controls' solver, parameters and patience as they
are when Run is pressed, so each point is exactly the window's Train with that point's values. It runs in worker
processes (:class:`mfstudio.core.sweep.Sweep`), polled from a timer: the window never waits on it. Stop stops
every worker; closing this window or the main window stops the sweep and leaves no process behind. Use best puts
the best point's parameters into the controls (through :meth:`ControlPanel.set_solver`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mfstudio.core import MFStudioError, get_solver, sweep_pool
from mfstudio.core.errors import ParameterError
from mfstudio.core.numbers import param_text
from mfstudio.core.params import TOP_N
from mfstudio.core.ranking import metric_names
from mfstudio.core.sweep import FOLDS, JOBS, PointResult, Progress, Sweep, SweepSpec, default_jobs
from mfstudio.core.sweep_grid import MAX_AXES, Point, check_axes, make_axis, value_text
from mfstudio.gui.controls import short_name
from mfstudio.gui.views.runs_model import metric_title
from mfstudio.gui.views.sweep_chart import SweepChart
from mfstudio.gui.views.widgets import caption

if TYPE_CHECKING:
    from mfstudio.gui.controls import ControlPanel
    from mfstudio.gui.document import Document

POLL_MS = 100  # how often the workers' progress is read
CLOSE_SECONDS = 1.0  # closing waits this long for the workers (a point stops within ~50 ms) before terminating them
SUGGESTED = {"K": "1,2,3,5", "steps": "10,100,1000", "alpha": "0.0001:0.01:3log", "beta": "0.001:1:4log",
             "tol": "0.0001:0.1:4log", "seed": "0,1,2,3"}  # values offered when a parameter is chosen
NO_HOLDOUT = ("A sweep compares validation errors, so it needs ratings held out: set a hold-out share in the "
              "controls (e.g. 20 %) or choose cross-validation folds.")
METRIC_HEADERS = ("Status", "Val. RMSE", "Train RMSE", "Val. MAE", "Train MAE", "Best step", "Seconds")
ERROR_HEADERS = {"Val. RMSE": "val_rmse", "Train RMSE": "train_rmse", "Val. MAE": "val_mae", "Train MAE": "train_mae"}


class SweepPanel(QWidget):
    """The sweep window (objectName ``sweepPanel``): parameters and values, Run, Stop, Use best, a progress table
    and the chart.

    ``statusMessage(sentence)`` tells the main window's status bar what happened; ``sweepFinished(how)`` is
    emitted once a sweep has ended and no worker is left: ``"finished"``, ``"stopped"`` or ``"failed"``.
    """

    statusMessage = Signal(str)
    sweepFinished = Signal(str)

    def __init__(self, document: Document, controls: ControlPanel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sweepPanel")
        self.document, self.controls = document, controls
        self.sweep: Sweep | None = None
        self._title = ""
        self._timer = QTimer(self)
        self._timer.setObjectName("mfstudioSweepTimer")
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

        # -- what to sweep ---------------------------------------------------------------------------
        self.param_boxes = [QComboBox(), QComboBox()]
        self.values_edits = [QLineEdit(), QLineEdit()]
        for n, (box, edit) in enumerate(zip(self.param_boxes, self.values_edits), start=1):
            box.setObjectName(f"sweepParam{n}")
            box.setAccessibleName(f"Swept parameter {n}")
            edit.setObjectName(f"sweepValues{n}")
            edit.setAccessibleName(f"Values of swept parameter {n}")
            edit.setPlaceholderText("e.g. 1,2,5,10 or 0.01:1:5log")
            edit.setToolTip("The values to try: a list (1,2,5,10), a linear grid from:to:n (1:10:4 is 1, 4, 7, "
                            "10) or a log grid from:to:nlog (0.01:1:5log is 0.01, 0.0316, 0.1, 0.316, 1).")
            edit.returnPressed.connect(self.run)
            box.currentIndexChanged.connect(lambda _i, k=n - 1: self._on_param_chosen(k))
        self.folds_box = QSpinBox()
        self.folds_box.setObjectName("sweepFolds")
        self.folds_box.setRange(int(FOLDS.minimum) - 1, int(FOLDS.maximum))
        self.folds_box.setSpecialValueText("Off")
        self.folds_box.setToolTip(f"{FOLDS.label}: {FOLDS.help} Off uses the grid's hold-out.")
        self.folds_box.valueChanged.connect(self._show_fixed)
        self.jobs_box = QSpinBox()
        self.jobs_box.setObjectName("sweepJobs")
        self.jobs_box.setRange(int(JOBS.minimum), max(64, default_jobs()))
        self.jobs_box.setValue(default_jobs())
        self.jobs_box.setToolTip(f"{JOBS.label}: {JOBS.help}")
        what = QGroupBox("What to sweep")
        form = QGridLayout(what)
        form.setContentsMargins(8, 4, 8, 4)
        form.setVerticalSpacing(3)
        form.addWidget(QLabel("Parameter"), 0, 0)
        form.addWidget(self.param_boxes[0], 0, 1)
        form.addWidget(self.values_edits[0], 0, 2)
        form.addWidget(QLabel("and"), 1, 0)
        form.addWidget(self.param_boxes[1], 1, 1)
        form.addWidget(self.values_edits[1], 1, 2)
        form.setColumnStretch(2, 1)
        extra = QHBoxLayout()
        for text, box in (("Cross-validation folds", self.folds_box), ("Worker processes", self.jobs_box)):
            lab = QLabel(text)
            lab.setBuddy(box)
            extra.addWidget(lab)
            extra.addWidget(box)
            extra.addSpacing(12)
        extra.addStretch(1)
        form.addLayout(extra, 2, 0, 1, 3)
        self.fixed_label = caption("", lines=2)
        self.fixed_label.setObjectName("sweepFixed")
        form.addWidget(self.fixed_label, 3, 0, 1, 3)

        # -- buttons ---------------------------------------------------------------------------------
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("sweepRunButton")
        self.run_button.setToolTip("Train every combination of the values, in worker processes.")
        self.run_button.setDefault(True)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("sweepStopButton")
        self.stop_button.setToolTip("Stop every worker; the points finished so far are kept.")
        self.use_best_button = QPushButton("Use best")
        self.use_best_button.setObjectName("sweepUseBestButton")
        self.use_best_button.setToolTip("Put the best point's parameters (lowest validation RMSE) into the controls.")
        self.run_button.clicked.connect(self.run)
        self.stop_button.clicked.connect(self.stop)
        self.use_best_button.clicked.connect(self.use_best)
        buttons = QHBoxLayout()
        for b in (self.run_button, self.stop_button, self.use_best_button):
            buttons.addWidget(b)
        buttons.addStretch(1)

        # -- progress and chart ------------------------------------------------------------------------
        self.table = QTableWidget(0, 0)
        self.table.setObjectName("sweepTable")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.chart = SweepChart()
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(self.chart)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setChildrenCollapsible(False)
        split.setSizes([440, 470])
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        self.status = QLabel("Choose a parameter and its values, then press Run.")
        self.status.setObjectName("sweepStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.setSpacing(6)
        lay.addWidget(what)
        lay.addLayout(buttons)
        lay.addWidget(split, 1)
        lay.addWidget(self.status)

        controls.widgetsRebuilt.connect(self._refresh_params)
        controls.paramsChanged.connect(self._show_fixed)
        document.gridChanged.connect(self._show_fixed)
        self._refresh_params()
        self._sync_buttons()

    # ================================================================ choosing
    def _refresh_params(self) -> None:
        """The parameter lists follow the controls' solver; a parameter still offered stays chosen."""
        names = [s.name for s in get_solver(self.controls.solver()).params]
        for k, box in enumerate(self.param_boxes):
            keep = box.currentData()
            box.blockSignals(True)
            box.clear()
            if k:
                box.addItem("(none)", "")
            for spec in get_solver(self.controls.solver()).params:
                box.addItem(f"{spec.label}", spec.name)
            box.setCurrentIndex(max(0, box.findData(keep if keep in names else ("K" if k == 0 else ""))))
            box.blockSignals(False)
            self._on_param_chosen(k, keep_text=keep == box.currentData())
        self._show_fixed()

    def _on_param_chosen(self, k: int, keep_text: bool = False) -> None:
        name = self.param_boxes[k].currentData()
        edit = self.values_edits[k]
        edit.setEnabled(bool(name))
        if not name:
            edit.clear()
        elif not keep_text or not edit.text().strip():
            edit.setText(SUGGESTED.get(name, ""))
        self._show_fixed()

    def choose(self, first: tuple[str, str], second: tuple[str, str] | None = None) -> None:
        """Choose the swept parameters and their values, as a user would (``("K", "1,2,5")``)."""
        for k, pair in enumerate((first, second)):
            name, values = pair if pair is not None else ("", "")
            box = self.param_boxes[k]
            i = box.findData(name)
            if i < 0:
                raise ParameterError(f"The {self.controls.solver()} solver has no parameter {name!r} to sweep.")
            box.setCurrentIndex(i)
            self.values_edits[k].setText(values)

    def chosen(self) -> list[tuple[str, str]]:
        """(parameter, values text) of each swept parameter chosen."""
        return [(box.currentData(), edit.text()) for box, edit in zip(self.param_boxes, self.values_edits)
                if box.currentData()][:MAX_AXES]

    @Slot()
    def _show_fixed(self) -> None:
        """Say what every point shares: the solver and the fixed parameters, the patience and the hold-out."""
        try:
            params = self.controls.params()
        except MFStudioError as exc:
            self.fixed_label.setText(f"The controls' parameters do not fit: {exc}")
            return
        swept = {name for name, _ in self.chosen()}
        specs = {s.name: s for s in get_solver(self.controls.solver()).params}
        fixed = ", ".join(f"{short_name(specs[k])} = {param_text(v)}" for k, v in params.items() if k not in swept)
        patience = self.controls.patience()
        folds = self.folds()
        if folds:
            held = f"{folds}-fold cross-validation (each fold held out in turn)"
        else:
            n, nnz = len(self.document.grid_held_out_cells()), self.document.grid_ratings().nnz
            held = f"{n:,} of {nnz:,} ratings held out (the grid's hold-out)" if n else "no ratings held out"
        self.fixed_label.setText(f"Every point: {self.controls.solver()}, {fixed}; patience "
                                 f"{'off' if patience is None else f'{patience:,} steps'}; {held}.")

    def folds(self) -> int | None:
        v = int(self.folds_box.value())
        return v if v >= FOLDS.minimum else None

    # ================================================================ running
    @property
    def running(self) -> bool:
        """True while a sweep has workers (stopping included)."""
        return self.sweep is not None and self._timer.isActive()

    def make_spec(self) -> SweepSpec:
        """The sweep the controls and the grid describe now (a MFStudioError with a sentence if it cannot run)."""
        solver = self.controls.solver()
        chosen = self.chosen()
        axes = tuple(make_axis(solver, name, text) for name, text in chosen)
        check_axes(axes)
        swept = {a.name for a in axes}
        fixed = {k: v for k, v in self.controls.params().items() if k not in swept}
        ratings, cells = self.document.grid_ratings(), self.document.grid_held_out_cells()
        folds = self.folds()
        if not folds and not len(cells):
            raise ParameterError(NO_HOLDOUT)
        holdout = None if folds else cells
        return SweepSpec(ratings, solver, fixed, axes, holdout=holdout, folds=folds,
                         patience=self.controls.patience(), top_n=self.document.experiment.top_n,
                         relevance=self.controls.relevance())

    @Slot()
    def run(self) -> bool:
        """Start the sweep in the background; False (and a sentence) when it cannot run."""
        if self.running:
            return False
        try:
            spec = self.make_spec()
            sweep = Sweep(spec, int(self.jobs_box.value()))
            sweep.start()
        except MFStudioError as exc:
            self._say(str(exc))
            return False
        except OSError as exc:  # no process could be started (too many open files, no memory)
            self._say(f"The worker processes could not be started ({exc}); try fewer worker processes.")
            return False
        self.sweep = sweep
        r = spec.ratings
        held = f"{spec.folds}-fold cross-validation" if spec.folds else f"{len(spec.holdout):,} ratings held out"
        self._title = f"{spec.solver}: {r.n_users:,} users x {r.n_items:,} items, {held}"
        self._fill_table(sweep)
        self.chart.show_results(spec.axes, [], title=self._title, force=True)
        self._timer.start()
        self._sync_buttons()
        self._say(f"Sweeping {len(sweep.points)} points on {sweep.n_workers} worker "
                  f"process{'es' if sweep.n_workers != 1 else ''}…")
        return True

    @Slot()
    def stop(self) -> None:
        """Stop every worker (promptly); the points finished so far stay."""
        if self.running and not self.sweep.stopped:
            self.sweep.stop()
            self._say("Stopping the workers…")
            self._sync_buttons()

    def shutdown(self, timeout: float = CLOSE_SECONDS) -> None:
        """Stop a running sweep and wait until no worker is left (closing does this)."""
        if self.running:
            self.sweep.stop()
            self.sweep.close(timeout)
            self._poll()

    def stop_timers(self) -> None:
        """The main window closes: no sweep may outlive it, nor the fork server its workers came from."""
        self.shutdown()
        sweep_pool.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    @Slot()
    def _poll(self) -> None:
        sw = self.sweep
        if sw is None:
            return
        finished = False
        for e in sw.poll():
            if isinstance(e, Progress):
                self._show_progress(e)
            else:
                self._show_result(e)
                finished = True
        if finished:
            self.chart.show_results(sw.spec.axes, sw.finished_points(), title=self._title)
            self._mark_best()
        self.chart.tick()
        if sw.finished:
            self._end()

    def _end(self) -> None:
        sw = self.sweep
        assert sw is not None
        self._timer.stop()
        sw.close()
        for e in sw.poll():
            if isinstance(e, PointResult):
                self._show_result(e)
        self.chart.show_results(sw.spec.axes, sw.finished_points(), title=self._title, force=True)
        self._mark_best()
        for row in range(self.table.rowCount()):
            if row not in sw.results:
                self._set(row, "Status", "stopped" if sw.stopped else "not trained")
        done, total = len(sw.results), len(sw.points)
        best = sw.best()
        if sw.stopped:
            head = f"Stopped: {done} of {total} points finished."
        else:
            head = f"Finished all {total} points." if done == total else f"Only {done} of {total} points finished."
        if best is not None:
            spread = f" ± {best.spread['val_rmse']:.2g}" if best.folds else ""
            head += (f" Best: {sw.describe(best)} (validation RMSE {best.val_rmse:.4g}{spread}); Use best puts it "
                     "into the controls.")
        elif done:
            head += " No point trained to a validation RMSE: " + next(
                (r.message for r in sw.finished_points() if r.message), "each diverged or failed.")
        if sw.errors:
            head += " " + sw.errors[0]
        self._say(head)
        self._sync_buttons()
        self.sweepFinished.emit("stopped" if sw.stopped else "failed" if best is None else "finished")

    @Slot()
    def use_best(self) -> bool:
        """Put the best point's parameters into the controls: the solver and every parameter the sweep used."""
        best = self.sweep.best() if self.sweep is not None else None
        if best is None:
            self._say("There is no best point yet: run a sweep and let a point finish.")
            return False
        if self.document.experiment.running:
            self._say("A training is running; stop it first, then Use best changes the controls' parameters.")
            return False
        spec = self.sweep.spec
        params = spec.point_params(Point(best.index, tuple(best.values)))
        self.controls.set_solver(spec.solver, params)
        self._say(f"{self.sweep.describe(best)} set in the controls (the sweep's other parameters too); press "
                  "Train to train with them.")
        return True

    # ================================================================ the table
    def _columns(self, sweep: Sweep) -> list[str]:
        """The swept parameters, then as sweep.csv has them: the errors, the ranking metrics, best step, seconds."""
        return [a.label for a in sweep.spec.axes] + list(METRIC_HEADERS[:5]) + [metric_title(n) for n in
                                                                                 _ranking_names(sweep)] + \
            list(METRIC_HEADERS[5:])

    def _fill_table(self, sweep: Sweep) -> None:
        cols = self._columns(sweep)
        self.table.clear()
        self.table.setColumnCount(len(cols))
        self.table.setHorizontalHeaderLabels(cols)
        self.table.setRowCount(len(sweep.points))
        for p in sweep.points:
            for c, v in enumerate(p.values):
                self.table.setItem(p.index, c, QTableWidgetItem(value_text(v)))
            for name in self._columns(sweep)[len(sweep.spec.axes):]:
                self._set(p.index, name, "waiting" if name == "Status" else "")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

    def _set(self, row: int, column: str, text: str) -> None:
        c = self._columns(self.sweep).index(column) if self.sweep is not None else 0
        item = self.table.item(row, c)
        if item is None:
            item = QTableWidgetItem()
            if column != "Status":
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, c, item)
        item.setText(text)

    def _show_progress(self, e: Progress) -> None:
        if self.sweep is None or e.index in self.sweep.results:
            return
        fold = f"fold {e.fold + 1} of {self.sweep.spec.n_folds}, " if self.sweep.spec.folds else ""
        self._set(e.index, "Status", f"{fold}step {e.step:,} of {e.budget:,}")
        if not self.sweep.spec.folds:
            self._set(e.index, "Val. RMSE", _num(e.val_rmse))
            self._set(e.index, "Train RMSE", _num(e.train_rmse))

    def _show_result(self, r: PointResult) -> None:
        ok = r.ok
        self._set(r.index, "Status", "done" if ok else r.reason)
        for header, key in ERROR_HEADERS.items():
            spread = f" ± {r.spread[key]:.2g}" if r.folds and ok and key.startswith("val") else ""
            self._set(r.index, header, _num(r.metrics[key]) + spread)
        for name in _ranking_names(self.sweep):
            self._set(r.index, metric_title(name), _num(r.ranking.get(name, math.nan)))
        self._set(r.index, "Best step", f"{r.best_step:,}" if ok else "")
        self._set(r.index, "Seconds", f"{r.seconds:.2f}")
        if not ok and r.message:
            for c in range(self.table.columnCount()):
                item = self.table.item(r.index, c)
                if item is not None:
                    item.setToolTip(r.message)

    def _mark_best(self) -> None:
        best = self.sweep.best() if self.sweep is not None else None
        for row in range(self.table.rowCount()):
            bold = best is not None and row == best.index
            for c in range(self.table.columnCount()):
                item = self.table.item(row, c)
                if item is not None:
                    font = QFont(item.font())
                    font.setBold(bold)
                    item.setFont(font)
        self._sync_buttons()

    # ================================================================ the rest
    def _sync_buttons(self) -> None:
        running = self.running
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running and not self.sweep.stopped)
        self.use_best_button.setEnabled(self.sweep is not None and self.sweep.best() is not None)
        for w in (*self.param_boxes, *self.values_edits, self.folds_box, self.jobs_box):
            w.setEnabled(not running)
        if not running:
            self.values_edits[1].setEnabled(bool(self.param_boxes[1].currentData()))

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.statusMessage.emit(text)


def _num(v: float) -> str:
    return f"{v:.4g}" if math.isfinite(v) else ""


def open_sweep_window(main: Any) -> SweepPanel:
    """Show the main window's sweep window (made on first use; closing it keeps its last sweep to show again)."""
    panel = main.findChild(SweepPanel, "sweepPanel")
    if panel is None:
        panel = SweepPanel(main.document, main.controls, main)
        panel.setWindowFlag(Qt.WindowType.Window, True)
        panel.setWindowTitle("Sweep — MF Studio")
        panel.resize(920, 640)
        panel.statusMessage.connect(lambda text: main.show_message(text))
    if not panel.running:  # the workers' fork server loads while the user sets the grid up
        try:
            sweep_pool.warm_up(main.controls.solver())
        except OSError:  # no process could be started now: the sweep says so when it starts its own
            pass
    panel.show()
    panel.raise_()
    panel.activateWindow()
    return panel


def _ranking_names(sweep: Sweep | None) -> tuple[str, ...]:
    """The ranking metrics the sweep's points report (k = its top-N; none with top-N 0)."""
    if sweep is None:
        return ()
    k = int(TOP_N.default if sweep.spec.top_n is None else sweep.spec.top_n)
    return metric_names(k, sweep.spec.ratings.implicit) if k else ()
