"""The studio window: rating grid and controls on the left, loss curve and result tables on the right.

Data flows one way: grid -> Ratings -> Training on a worker thread -> snapshots
(copies) -> curve and tables -> export. While a run goes the grid is read-only;
once the ratings change, shown results are marked stale.

Nothing typed is lost: every grid change is an undo step, the title marks unsaved
changes, New/Open/Quit ask Save / Discard / Cancel, and a recovery file is written
shortly after each change (offered again after a crash).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeySequence,
    QUndoCommand,
)
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from mfstudio.core import (
    EXAMPLES,
    SOLVERS,
    DataError,
    Factors,
    History,
    MFStudioError,
    Ratings,
    Recommendations,
    RunResult,
    Session,
    StopReason,
    Training,
    get_solver,
    load_example,
    memory,
    metrics,
    recommend,
)
from mfstudio.core.numbers import measure_text
from mfstudio.core.recommend import AUTO
from mfstudio.core.training import HISTORY_COLUMNS
from mfstudio.gui import dialogs
from mfstudio.gui.controls import ControlPanel
from mfstudio.gui.grid import LOCKED_MESSAGE, RatingGridView, RatingsTableModel
from mfstudio.gui.recent import RecentFiles
from mfstudio.gui.recovery import Autosaver, failure_reason, pending_recovery
from mfstudio.gui.settings import Settings
from mfstudio.gui.views.plot import LossPlot
from mfstudio.gui.views.results import BiasModel, PModel, QModel, RecommendationsModel, ResultTableView, RHatModel
from mfstudio.gui.worker import Outcome, Progress, TrainingRunner, training_recipe

DEFAULT_TOP_N = 5
SESSION_SUFFIX = ".mfstudio"
STALE_TEXT = "The ratings changed after these results were computed; train again to update them."
UNTITLED = "Untitled"
_K = QKeySequence.StandardKey
FALLBACK_KEYS = {_K.New: "Ctrl+N", _K.Open: "Ctrl+O", _K.Save: "Ctrl+S", _K.SaveAs: "Ctrl+Shift+S", _K.Quit: "Ctrl+Q"}
RECOVERED_TITLE = "Recovered session"
SESSION_SUFFIXES = (SESSION_SUFFIX, ".json")


class ShareCommand(QUndoCommand):
    """Puts the hold-out share box back to the value that goes with a hold-out change, on undo and redo."""

    def __init__(self, window: MainWindow, old: float, new: float, text: str) -> None:
        super().__init__(text)
        self._window, self._old, self._new = window, old, new

    def redo(self) -> None:
        self._window._show_share(self._new)

    def undo(self) -> None:
        self._window._show_share(self._old)


def _tab(view: QWidget, header: QWidget | None = None) -> QWidget:
    w = QWidget()
    lay = QVBoxLayout(w)
    lay.setContentsMargins(2, 2, 2, 2)
    lay.setSpacing(2)
    if header is not None:
        lay.addWidget(header)
    lay.addWidget(view, 1)
    return w


def _caption(text: str) -> QLabel:
    lab = QLabel(text)
    lab.setWordWrap(True)
    lab.setStyleSheet("color: palette(placeholder-text); font-size: 11px;")
    return lab


@dataclass
class _Prepared:
    """A session checked whole, with what showing it needs computed beforehand."""

    session: Session
    held: np.ndarray
    result: RunResult | None
    recs: Recommendations | None
    history: np.ndarray | None


@dataclass
class _Snapshot:
    """The shown document, to put back when a load fails halfway."""

    session: Session
    title: str
    path: Path | None
    modified: bool


class MainWindow(QMainWindow):
    """MF Studio's main window. Builds no QApplication; starts with Example 1 loaded.

    ``settings`` defaults to the app's QSettings (an ini file at ``$MFSTUDIO_SETTINGS``
    when set) and ``recovery_folder`` to the app-data recovery folder
    (``$MFSTUDIO_RECOVERY_DIR`` when set). If a crash left a recovery file there, the
    constructor offers to restore it.

    ``trainingFinished(reason)`` is emitted once a run has ended for any reason
    (a :class:`StopReason` value, or ``"error"``), after the final state is in the
    tables and the curve and the buttons are back to idle.
    """

    trainingFinished = Signal(str)

    def __init__(self, ratings: Ratings | None = None, parent: QWidget | None = None, *,
                 settings: Settings | None = None, recovery_folder: str | os.PathLike[str] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle("MF Studio[*]")
        # Closing asks about unsaved changes and a running training; tests and scripts may switch it off.
        self.ask_before_closing = True
        self.settings = settings if settings is not None else Settings()
        self._extra_modified = False  # a restored session counts as unsaved though its undo history is empty
        self._results_unsaved = False  # a finished run's results are work that Save keeps
        self._keep_recovery_file = True  # until the offer is made, loading must not remove a crash's recovery file
        self._shown_share = 0.0

        self.runner = TrainingRunner(self)
        self.runner.progress.connect(self._on_progress)
        self.runner.ready.connect(self._on_ready)
        self.runner.finished.connect(self._on_finished)
        self._training: Training | None = None  # the current model, which Step and Continue go on from
        self._training_key: tuple | None = None
        self._run_on_plot = False  # the current training has a line on the loss curve
        self._result: RunResult | None = None
        self._result_ratings: Ratings | None = None
        self._result_held = np.zeros((0, 2), np.int64)
        self._recs: Recommendations | None = None
        self._stale = False
        self._data_version = 0
        self._session_path: Path | None = None
        self._title = "Example 1"
        self._applying_share = False
        self._grid_ratings: Ratings | None = None
        self._grid_held = np.zeros((0, 2), np.int64)
        self._grid_cache_version = -1
        self._pending_key: tuple | None = None
        self._new_model_shown = True
        self._quitting = False  # shutting down without asking: no dialogs, messages go to stderr
        self._shut_down = False  # closed, or quit_keeping_work() done: nothing may run or be written any more

        self._build_widgets()
        self.autosaver = Autosaver(self._session_for_recovery, folder=recovery_folder, parent=self)
        self.autosaver.failed.connect(self._on_autosave_failed)
        app = QApplication.instance()
        if app is not None:  # QApplication.exit() (or a signal) may end the program without closing the window
            app.aboutToQuit.connect(self._on_about_to_quit)
        self.recent = RecentFiles(self.settings, parent=self)
        self.recent.openRequested.connect(self.open_recent)
        self._build_menus()
        self.resize(1280, 800)
        self._restore_settings()
        # looked for before anything could overwrite it; files of other running windows are not offered
        pending = pending_recovery(self.autosaver.folder, own=self.autosaver.path)
        self.load_ratings(ratings if ratings is not None else load_example("example-1"), title="Example 1")
        self.setAcceptDrops(True)
        self._apply_tab_order()
        if pending is not None:
            self.offer_recovery(pending)
        self._keep_recovery_file = False

    # ================================================================ construction
    def _build_widgets(self) -> None:
        self.grid_model = RatingsTableModel(parent=self)
        self.grid = RatingGridView(self.grid_model)
        self.grid.statusMessage.connect(self.show_message)
        self.grid_model.ratingsChanged.connect(self._on_ratings_changed)
        self.grid_model.undo_stack.cleanChanged.connect(self._update_modified)
        self.grid_model.undo_stack.indexChanged.connect(self._on_undo_index)
        # Belt and braces for the Ratings cache: any change of cells or shape invalidates it. Not heldOutChanged:
        # it always follows ratingsChanged, whose slot has just rebuilt the cache for the changed grid (dropping
        # that would make the next autosave and Train convert the whole grid again on the GUI thread).
        for signal in (self.grid_model.dataChanged, self.grid_model.modelReset, self.grid_model.rowsInserted,
                    self.grid_model.rowsRemoved, self.grid_model.columnsInserted, self.grid_model.columnsRemoved,
                    self.grid_model.headerDataChanged):
            signal.connect(self._invalidate_grid_cache)

        self.controls = ControlPanel()
        self.controls.train_button.clicked.connect(self.train)
        self.controls.pause_button.clicked.connect(self.toggle_pause)
        self.controls.stop_button.clicked.connect(self.stop)
        self.controls.step_button.clicked.connect(self.step)
        self.controls.reset_button.clicked.connect(self.reset)
        self.controls.continue_button.clicked.connect(self.continue_training)
        self.controls.statusMessage.connect(self.show_message)
        self.controls.holdout.valueChanged.connect(self._on_share_changed)
        self.controls.paramsChanged.connect(self._on_params_changed)
        self.controls.widgetsRebuilt.connect(self._apply_tab_order)

        grid_head = QLabel("<b>Ratings R</b> (users × items; an empty cell is not rated)")
        self.grid_info = _caption("")
        left = QWidget()
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(6, 6, 6, 6)
        left_lay.setSpacing(4)
        left_lay.addWidget(grid_head)
        left_lay.addWidget(self.grid, 1)
        left_lay.addWidget(self.grid_info)
        info_row = QHBoxLayout()
        info_row.setContentsMargins(0, 0, 0, 0)
        self.zero_rule = QCheckBox("0 means not rated")
        self.zero_rule.setObjectName("zeroMeansNotRated")
        self.zero_rule.setAccessibleName("A zero in the grid means not rated")
        self.zero_rule.setToolTip(
            "On (the notebook's convention): a 0 typed, pasted or read from a matrix file leaves the cell unrated. "
            "Off: 0 is a rating like any other. Saved with the session; switching it on clears ratings of 0 "
            "(undo brings them back).")
        self.zero_rule.setChecked(self.grid_model.zeros_are_missing)
        self.zero_rule.toggled.connect(self._on_zero_rule_toggled)
        self.grid_model.zeroRuleChanged.connect(self._show_zero_rule)
        info_row.addWidget(self.zero_rule)
        info_row.addStretch(1)
        info_row.addWidget(_caption("Scale"))
        self.scale_min, self.scale_max = self._scale_box("scaleMin", "Lowest rating on the scale"), \
            self._scale_box("scaleMax", "Highest rating on the scale")
        info_row.addWidget(self.scale_min)
        info_row.addWidget(_caption("to"))
        info_row.addWidget(self.scale_max)
        left_lay.addLayout(info_row)
        self.grid_model.scaleChanged.connect(self._show_scale)
        self._show_scale(*self.grid_model.scale)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        left_lay.addWidget(line)
        left_lay.addWidget(self.controls)

        self.plot = LossPlot()
        self.plot.statusMessage.connect(self.show_message)
        self.grid_model.heldOutChanged.connect(self._sync_continue)  # after _on_ratings_changed rebuilt the cache

        self.p_model, self.q_model, self.r_hat_model = PModel(decimals=3), QModel(decimals=3), RHatModel()
        self.recs_model = RecommendationsModel()
        self.p_table = ResultTableView("pTable", "Matrix P: user features")
        self.q_table = ResultTableView("qTable", "Matrix Q: item features")
        self.r_hat_table = ResultTableView("rHatTable", "Predicted ratings R-hat")
        self.recs_table = ResultTableView("recommendationsTable", "Recommendations")
        for view, model in ((self.p_table, self.p_model), (self.q_table, self.q_model),
                            (self.r_hat_table, self.r_hat_model), (self.recs_table, self.recs_model)):
            view.setModel(model)
            view.statusMessage.connect(self.show_message)
        rh_ = self.recs_table.horizontalHeader()
        for col, width in enumerate((64, 44, 160, 104, 60)):  # user, rank, item (titles), predicted, ratings
            rh_.resizeSection(col, width)
        rh_.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)  # titles take the room there is
        self.recs_table.verticalHeader().hide()  # the rank numbers the rows
        self.user_bias_model, self.item_bias_model = BiasModel(decimals=3), BiasModel(decimals=3)
        self.user_bias_table = ResultTableView("userBiasTable", "User biases b_u")
        self.item_bias_table = ResultTableView("itemBiasTable", "Item biases b_i")
        for view, model in ((self.user_bias_table, self.user_bias_model), (self.item_bias_table, self.item_bias_model)):
            view.setModel(model)
            view.statusMessage.connect(self.show_message)
            view.verticalHeader().hide()
            view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # labels elide
            view.horizontalHeader().resizeSection(1, 96)
        self.user_bias_table.export_handler = lambda: self.export_table("user_bias")
        self.item_bias_table.export_handler = lambda: self.export_table("item_bias")
        self.p_table.export_handler = lambda: self.export_table("P")
        self.q_table.export_handler = lambda: self.export_table("Q")
        self.r_hat_table.export_handler = lambda: self.export_table("R_hat")
        self.recs_table.export_handler = lambda: self.export_table("recommendations")

        self.top_n = QSpinBox()
        self.top_n.setObjectName("topN")
        self.top_n.setAccessibleName("Number of recommendations per user")
        self.top_n.setRange(1, 100)
        self.top_n.setValue(DEFAULT_TOP_N)
        self.top_n.setPrefix("Top ")
        self.top_n.setSuffix(" per user")
        self.top_n.setToolTip("How many unrated items to recommend to each user.")
        self.top_n.valueChanged.connect(self._on_top_n_changed)
        self.min_ratings = QSpinBox()
        self.min_ratings.setObjectName("minRatings")
        self.min_ratings.setAccessibleName("Fewest training ratings an item needs to be recommended")
        self.min_ratings.setRange(AUTO, 100_000)
        self.min_ratings.setValue(AUTO)
        self.min_ratings.setSpecialValueText("Min ratings: auto")
        self.min_ratings.setPrefix("Min ratings: ")
        self.min_ratings.setToolTip(
            "Recommend only items with at least this many training ratings: a film two people loved scores high "
            "on almost no evidence. Auto: 10, or half the median item's count when that is smaller.")
        self.min_ratings.valueChanged.connect(self._on_top_n_changed)
        self.recs_caption = _caption("")
        self.recs_caption.setObjectName("recommendationsCaption")
        recs_head = QWidget()
        rh = QHBoxLayout(recs_head)
        rh.setContentsMargins(0, 0, 0, 0)
        rh.addWidget(self.recs_caption, 1)
        rh.addWidget(self.min_ratings)
        rh.addWidget(self.top_n)
        self.r_hat_caption = _caption("")
        self.r_hat_caption.setObjectName("rHatCaption")
        self.bias_caption = _caption("")
        self.bias_caption.setObjectName("biasCaption")
        bias_tab = QWidget()
        bl = QVBoxLayout(bias_tab)
        bl.setContentsMargins(2, 2, 2, 2)
        bl.setSpacing(2)
        bl.addWidget(self.bias_caption)
        tables = QHBoxLayout()
        tables.addWidget(self.user_bias_table, 1)
        tables.addWidget(self.item_bias_table, 1)
        bl.addLayout(tables, 1)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("resultTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(_tab(self.r_hat_table, self.r_hat_caption), "R-hat")
        self.tabs.addTab(_tab(self.p_table, _caption("P: one row per user, one column per latent feature (k1 … kK).")), "P")
        self.tabs.addTab(_tab(self.q_table, _caption("Q: one row per latent feature (k1 … kK), one column per item.")), "Q")
        self.tabs.addTab(bias_tab, "Biases")
        self.tabs.addTab(_tab(self.recs_table, recs_head), "Recommendations")
        self._show_captions(None)
        for i, tip in enumerate(("Predicted ratings for every cell", "User features", "Item features",
                                 "Global mean and the user and item biases (biased-sgd)",
                                 "Top-N unrated items per user")):
            self.tabs.setTabToolTip(i, tip)

        self.stale_banner = QLabel(STALE_TEXT)
        self.stale_banner.setObjectName("staleBanner")
        self.stale_banner.setWordWrap(True)
        self.stale_banner.setStyleSheet(
            "background: #fff4ce; color: #5c4400; border: 1px solid #e8d48a; padding: 3px 6px;")
        self.stale_banner.hide()

        results = QWidget()
        res_lay = QVBoxLayout(results)
        res_lay.setContentsMargins(0, 0, 0, 0)
        res_lay.setSpacing(2)
        res_lay.addWidget(QLabel("<b>Results</b>"))
        res_lay.addWidget(self.stale_banner)
        res_lay.addWidget(self.tabs, 1)

        self.right_split = QSplitter(Qt.Orientation.Vertical)
        self.right_split.addWidget(self.plot)
        self.right_split.addWidget(results)
        self.right_split.setStretchFactor(0, 5)
        self.right_split.setStretchFactor(1, 4)
        self.right_split.setChildrenCollapsible(False)
        right = QWidget()
        right_lay = QVBoxLayout(right)
        right_lay.setContentsMargins(6, 6, 6, 6)
        right_lay.addWidget(self.right_split)

        self.main_split = QSplitter(Qt.Orientation.Horizontal)
        self.main_split.addWidget(left)
        self.main_split.addWidget(right)
        self.main_split.setStretchFactor(0, 0)
        self.main_split.setStretchFactor(1, 1)
        self.main_split.setChildrenCollapsible(False)
        self.main_split.setSizes([470, 810])
        self.setCentralWidget(self.main_split)

        sb = self.statusBar()
        self.run_status = QLabel("Ready")
        self.run_status.setObjectName("runStatus")
        self.run_status.setAccessibleName("Training status")
        self.progress = QProgressBar()
        self.progress.setObjectName("stepProgress")
        self.progress.setAccessibleName("Share of the step budget done")
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.progress.setToolTip("Share of the step budget done")
        self.progress.setFixedWidth(90)
        sb.addPermanentWidget(self.run_status)
        sb.addPermanentWidget(self.progress)

    def _act(self, menu: Any, text: str, slot: Callable[..., Any],
             shortcut: QKeySequence | QKeySequence.StandardKey | str | list[Any] | None = None,
             tip: str = "", name: str = "") -> QAction:
        a = QAction(text, self)
        if isinstance(shortcut, QKeySequence.StandardKey):
            # The platform's keys; where it has none (Quit on Windows, or a bare offscreen theme) the usual ones.
            a.setShortcuts(QKeySequence.keyBindings(shortcut) or [QKeySequence(FALLBACK_KEYS.get(shortcut, ""))])
        elif isinstance(shortcut, list):
            a.setShortcuts([QKeySequence(k) for k in shortcut])
        elif shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        if tip:
            a.setStatusTip(tip)
            a.setToolTip(tip)
        if name:
            a.setObjectName(name)
        a.triggered.connect(slot)
        menu.addAction(a)
        return a

    def _build_menus(self) -> None:
        K = QKeySequence.StandardKey
        mb = self.menuBar()
        f = mb.addMenu("&File")
        self.action_new = self._act(f, "&New…", self.new_dialog, K.New, "Start an empty grid of a chosen size.",
                                    "actionNew")
        self.action_open = self._act(f, "&Open…", self.open_dialog, K.Open,
                                     "Open a saved session or a rating file (CSV, TSV, MovieLens .zip, .npz).", "actionOpen")
        self.action_open_folder = self._act(f, "Open &folder…", self.open_folder_dialog, "Ctrl+Shift+O",
                                            "Open a MovieLens download's folder (ML-100K, ML-1M, ml-latest ...).",
                                            "actionOpenFolder")
        self.examples_menu = f.addMenu("Open e&xample")
        for n_example, (name, title) in enumerate(EXAMPLES.items(), start=1):
            self._act(self.examples_menu, f"&{n_example} {title}", lambda _=False, n=name: self.open_example_asking(n),
                      tip=f"Open {title}.")
        self.recent_menu = f.addMenu("Open &recent")
        self.recent.attach_menu(self.recent_menu)
        f.addSeparator()
        self.action_save = self._act(f, "&Save session", self.save_session, K.Save,
                                     "Save ratings, settings and results.", "actionSave")
        self.action_save_as = self._act(f, "Save session &as…", self.save_session_as, K.SaveAs,
                                        "Save the session under a new name.", "actionSaveAs")
        f.addSeparator()
        self.action_import = self._act(f, "&Import ratings…", self.import_dialog, "Ctrl+I",
                                       "Replace the grid's ratings with a file's (one undo step).", "actionImport")
        ex = f.addMenu("&Export")
        self.export_menu = ex
        self.action_export = self._act(ex, "&Results into a folder…", self.export_results_dialog, "Ctrl+E",
                                       "Write P, Q, R-hat, the history, recommendations and a run description into a folder.",
                                       "actionExport")
        ex.addSeparator()
        for key, title in (("P", "&P as CSV…"), ("Q", "&Q as CSV…"), ("R_hat", "R-&hat as CSV…"),
                           ("user_bias", "&User biases as CSV…"), ("item_bias", "I&tem biases as CSV…"),
                           ("recommendations", "Re&commendations as CSV…"), ("history", "Training histor&y as CSV…"),
                           ("ratings", "Ratin&gs R as CSV…")):
            self._act(ex, title, lambda _=False, k=key: self.export_table(k))
        ex.addSeparator()
        self.action_full_precision = self._act(
            ex, "Full precisio&n in CSV files", self._on_full_precision_toggled, None,
            "Write CSV numbers in full, so they read back bit for bit (otherwise 6 significant digits).",
            "actionFullPrecision")
        self.action_full_precision.setCheckable(True)
        self.action_full_precision.setChecked(self.settings.full_precision())
        ex.addSeparator()
        self.action_save_figure = self._act(ex, "Loss curve &figure…", self.plot.save_figure_dialog, "Ctrl+Shift+E",
                                            "Save the loss curve as PNG, SVG or PDF.", "actionSaveFigure")
        f.addSeparator()
        self.action_quit = self._act(f, "&Quit", self.close, K.Quit, "Close MF Studio (asks about unsaved changes).",
                                     "actionQuit")

        e = mb.addMenu("&Edit")
        g = self.grid
        for a in (g.action_undo, g.action_redo):
            e.addAction(a)
        e.addSeparator()
        for a in (g.action_cut, g.action_copy, g.action_paste, g.action_clear):
            e.addAction(a)
        e.addSeparator()
        for a in (g.action_add_user, g.action_add_item, g.action_remove_users, g.action_remove_items):
            e.addAction(a)
        self.action_resize = self._act(e, "Resi&ze grid…", self.resize_dialog, None,
                                       "Add or drop users and items at the end of the grid (one undo step).",
                                       "actionResize")
        e.addSeparator()
        for a in (g.action_hold_out, g.action_use_for_training):
            e.addAction(a)
        e.addSeparator()
        self._act(e, "Go to the &grid", self.focus_grid, "Ctrl+1", "Put the keyboard focus on the rating grid.")
        self._act(e, "Go to the param&eters", self.focus_parameters, "Ctrl+2",
                  "Put the keyboard focus on the solver chooser.")
        self._act(e, "Go to the result&s", self.focus_results, "Ctrl+3", "Put the keyboard focus on the result tabs.")

        t = mb.addMenu("&Training")
        self.action_train = self._act(t, "&Train", self.train, ["Ctrl+Return", "Ctrl+Enter"],
                                      "Train a new model from the random start of the seed.", "actionTrain")
        self.action_continue = self._act(t, "C&ontinue", self.continue_training, ["Ctrl+Shift+Return", "Ctrl+Shift+Enter"],
                                         "Make Steps more steps from the current factors.", "actionContinue")
        self.action_pause = self._act(t, "&Pause / Resume", self.toggle_pause, "Ctrl+P", name="actionPause")
        self.action_stop = self._act(t, "&Stop", self.stop, ["Esc", "Ctrl+."], name="actionStop")
        self.action_step = self._act(t, "One st&ep", self.step, "Ctrl+T", name="actionStep")
        self.action_reset = self._act(t, "&Reset (new random start)", self.reset, "Ctrl+R", name="actionReset")
        t.addSeparator()
        self._act(t, "&Clear earlier runs from the curve", self.plot.clear_runs, "Ctrl+Shift+L")
        self.action_undo_clear = self._act(t, "&Undo clearing the curve", self.plot.undo_clear, None,
                                           "Bring back the runs that Clear runs removed from the loss curve.",
                                           "actionUndoClearRuns")
        self.action_undo_clear.setEnabled(self.plot.can_undo_clear)
        self.plot.undoClearAvailable.connect(self.action_undo_clear.setEnabled)

        h = mb.addMenu("&Help")
        self.action_shortcuts = self._act(h, "&Keyboard shortcuts", self.show_shortcuts, "F1",
                                          "List every menu command and its keys.", "actionShortcuts")
        self._act(h, "&About MF Studio", self.about)
        self._sync_buttons()

    def sizeHint(self) -> QSize:
        return QSize(1280, 800)

    # ================================================================ public API
    def show_message(self, text: str, timeout_ms: int = 10_000) -> None:
        """A one-line message in the status bar."""
        self.statusBar().showMessage(text, timeout_ms)

    @property
    def running(self) -> bool:
        """True while a training run is going (paused included)."""
        return self.runner.running

    @property
    def results_stale(self) -> bool:
        """True when the ratings changed after the shown results were computed."""
        return self._stale

    @property
    def result(self) -> RunResult | None:
        """The results shown in the tables (None before any training)."""
        return self._result

    def load_ratings(self, ratings: Ratings, *, title: str | None = None, held_out: np.ndarray | None = None) -> None:
        """Replace the data with ``ratings`` (fresh model, no results)."""
        self.load_session(Session(ratings=ratings, held_out=np.zeros((0, 2), np.int64) if held_out is None else held_out,
                                  solver=self.controls.solver(), params=self.controls.params(),
                                  holdout_fraction=self.controls.holdout_fraction()),
                          title=title)

    def load_session(self, session: Session, *, title: str | None = None, path: str | Path | None = None) -> None:
        """Show ``session``: ratings, hold-out, solver and parameters, and its results if it has any.

        All or nothing: everything is checked first (a MFStudioError with a sentence leaves the
        window untouched), and should showing it still fail, the previous document comes back.
        """
        prepared = self._prepare(session)
        if not self.runner.shutdown():
            raise DataError("The training run did not stop in time, so nothing was opened; try again in a moment.")
        before = self._document_snapshot()
        try:
            self._apply(prepared, title=title, path=path)
        except Exception as exc:
            traceback.print_exc()
            if before is not None:
                self._restore(before)
            raise DataError(f"The data could not be shown because of an unexpected error ({exc}); "
                            "the window is as it was.") from exc

    def _prepare(self, session: Session) -> _Prepared:
        """Check a session whole and compute what showing it needs, changing nothing (a DataError if it does not fit)."""
        r = session.ratings
        try:
            get_solver(session.solver).resolve_params(dict(session.params))
            held = np.asarray(session.held_out, dtype=np.int64).reshape(-1, 2)
            if held.size and (held.min() < 0 or held[:, 0].max() >= r.n_users or held[:, 1].max() >= r.n_items):
                raise DataError("A held-out cell lies outside the ratings.")
            if not 0.0 <= float(session.holdout_fraction) < 1.0:
                raise DataError("The hold-out share must be at least 0 and below 1.")
            memory.check_grid(r.n_users, r.n_items)
            res, recs, history = session.result, None, None
            if res is not None and not (res.factors.P.shape[0] == r.n_users and res.factors.Q.shape[1] == r.n_items):
                res = None  # results of other data are not shown (the reader says so)
            if res is not None:
                get_solver(res.solver)
                res.factors.check(r.n_users, r.n_items)
                history = np.asarray(res.history.arrays(), dtype=np.float64)
                if history.ndim != 2 or history.shape[1] != len(HISTORY_COLUMNS) or \
                        not np.all(np.isfinite(history[:, 0])) or np.any(np.diff(history[:, 0]) <= 0):
                    raise DataError("The results' training history is damaged (its steps must be whole numbers "
                                    "that go up).")
                if res.factors.all_finite():
                    recs = self._recommend(r, res.factors, held)
        except MFStudioError:
            raise
        except (TypeError, ValueError, AttributeError, IndexError, KeyError) as exc:
            raise DataError(f"The data does not hang together ({exc}); nothing was changed.") from exc
        return _Prepared(session, held, res, recs, history)

    def _document_snapshot(self) -> _Snapshot | None:
        """What is shown now (None before the first document, or when it cannot be read back)."""
        if self.grid_model.shape == (0, 0) and self._result is None:
            return None
        try:
            return _Snapshot(self.current_session(), self._title, self._session_path, self.is_modified())
        except MFStudioError:
            return None

    def _restore(self, before: _Snapshot) -> None:
        """Put back the document that was shown before a load failed (marked unsaved if it was)."""
        try:
            self._apply(self._prepare(before.session), title=before.title, path=before.path)
        except Exception:  # nothing better can be done; the error being reported says what failed
            traceback.print_exc()
            return
        if before.modified:
            self._extra_modified = True
            self._update_modified()

    def _apply(self, prepared: _Prepared, *, title: str | None, path: str | Path | None) -> None:
        session = prepared.session
        self.runner.shutdown()
        self._applying_share = True
        try:
            self.controls.set_solver(session.solver, dict(session.params))
            self.controls.set_holdout_fraction(session.holdout_fraction)
        finally:
            self._applying_share = False
        self._shown_share = self.controls.holdout_fraction()
        held = prepared.held
        self.grid_model.set_zeros_are_missing(session.zeros_are_missing, undoable=False)
        self.grid_model.set_ratings(session.ratings, held)
        self.grid.horizontalScrollBar().setValue(0)  # a new document starts at its top-left corner
        self.grid.verticalScrollBar().setValue(0)
        if len(held) == 0 and session.holdout_fraction > 0:
            self._apply_share(session.holdout_fraction)
        self._training = None
        self._training_key = None
        self._run_on_plot = False
        self.plot.clear_all()
        self._clear_results()
        if prepared.result is not None:
            self._show_result(prepared.result, session.ratings, self.grid_held_out(), prepared.recs)
            share = len(prepared.held) / max(session.ratings.nnz, 1)
            self.plot.begin_run(prepared.result.solver, {**prepared.result.params, "holdout": share})
            self.plot.set_history(prepared.history)
            self.plot.flush()
        self._set_stale(False)
        self._session_path = Path(path) if path is not None else None
        if title is not None:
            self._title = title
        elif path is not None:
            self._title = Path(path).name
        self._update_title()
        self._update_grid_info()
        self.progress.setValue(0 if self._result is None else self._progress_value(self._result.steps_done, self._budget()))
        self.run_status.setText("Ready: press Train" if self._result is None else self._result_status(self._result))
        # A freshly opened document is the baseline: no undo history, nothing unsaved, no save scheduled.
        self.grid_model.undo_stack.clear()
        self._shown_share = self.controls.holdout_fraction()
        self._set_saved()
        self._sync_continue()
        if self._keep_recovery_file:
            self.autosaver.stop()
        else:
            self.autosaver.discard()  # the work it protected was saved or discarded before this load

    def grid_ratings(self) -> Ratings:
        """The grid as Ratings, converted once per change of the grid (a 943 x 1682 grid takes ~15 ms)."""
        if self._grid_cache_version != self._data_version or self._grid_ratings is None:
            self._grid_ratings = self.grid_model.to_ratings()
            self._grid_held = self.grid_model.held_out_cells()
            self._grid_cache_version = self._data_version
        return self._grid_ratings

    def grid_held_out(self) -> np.ndarray:
        """The grid's held-out cells as a (k, 2) array, cached like :meth:`grid_ratings`."""
        self.grid_ratings()
        return self._grid_held

    def current_session(self) -> Session:
        """Everything on screen as a Session: ratings, hold-out, solver, parameters and (fresh) results."""
        return self.session_snapshot()()

    def session_snapshot(self) -> Callable[[], Session]:
        """A function that builds :meth:`current_session` from what is on screen now, on any thread.

        Taking it is cheap (the grid's Ratings are cached and immutable, the rest is small or
        copied); building the Session, which checks the results against the ratings, is not,
        so the autosave does that on its saving thread.
        """
        ratings = self.grid_ratings()
        result = self._result_for(ratings)
        if result is not None:  # Session marks cold users/items on the factors: on a copy, not the ones shown
            result = dataclasses.replace(result, factors=copy.copy(result.factors), params=dict(result.params))
        return functools.partial(
            Session,
            ratings=ratings,
            held_out=self.grid_held_out(),
            solver=self.controls.solver(),
            params=self.controls.params(),
            holdout_fraction=self.controls.holdout_fraction(),
            result=result,
            zeros_are_missing=self.grid_model.zeros_are_missing,
        )

    def _result_for(self, ratings: Ratings) -> RunResult | None:
        """The shown results if they belong to exactly these ratings (never old factors with new data)."""
        if self._stale or self._result is None or self._result_ratings is None:
            return None
        return self._result if self._result_ratings is ratings or self._result_ratings == ratings else None

    # ================================================================ training
    def _key(self, params: dict[str, Any]) -> tuple:
        """What a model depends on; a model is continued only while this is unchanged (steps aside)."""
        p = {k: v for k, v in params.items() if k != "steps"}
        return (self._data_version, self.controls.solver(), tuple(sorted(p.items())),
                self.grid_held_out().tobytes())

    def _new_training(self, params: dict[str, Any]) -> Training:
        """Build a model here, on the GUI thread (Reset shows its random start at once)."""
        return training_recipe(*self._recipe_args(params))()

    def _recipe_args(self, params: dict[str, Any]) -> tuple[Ratings, str, dict[str, Any], np.ndarray]:
        ratings = self.grid_ratings()
        if ratings.nnz == 0:
            raise DataError("There are no ratings to train on; type some ratings into the grid or open a file.")
        return ratings, self.controls.solver(), dict(params), self.grid_held_out()

    def _current_if_fits(self, params: dict[str, Any]) -> Training | None:
        """The current model if data, solver and parameters (steps aside) are unchanged."""
        t = self._training
        if t is None or self._training_key != self._key(params):
            return None
        return t

    def continue_blocker(self) -> str:
        """Why Continue cannot go on from the current model now ("" when it can)."""
        if self.running:
            return "A run is going."
        if self._training is None:
            return "There is no model to continue yet; press Train to start one."
        try:
            params = self.controls.params()
        except MFStudioError as exc:
            return str(exc)
        t = self._current_if_fits(params)
        if t is None:
            return ("The ratings, the hold-out, the solver or its parameters changed since the current model was "
                    "trained; press Train to start a new one.")
        if t.reason is StopReason.DIVERGED:
            return "The current model diverged; press Train to start again (with a smaller learning rate)."
        if t.reason is StopReason.TOLERANCE:
            return ("The objective is already below the tolerance; lower Tolerance (or set it to 0) and press "
                    "Train to train further.")
        return ""

    @Slot()
    def _sync_continue(self) -> None:
        """Continue is enabled only when there is a model to go on from; its tooltip says why not."""
        why = self.continue_blocker()
        tip = "Make Steps more steps from the current factors." + (f" Not now: {why}" if why and not self.running else "")
        for w in (self.controls.continue_button, self.action_continue):
            w.setEnabled(not why)
            w.setToolTip(tip)

    def _fresh(self, params: dict[str, Any]) -> Callable[[], Training] | None:
        """A recipe for a new model from the seed's random start (built on the worker thread), or None."""
        try:
            args = self._recipe_args(params)
        except MFStudioError as exc:
            self._warn("Cannot start training", str(exc))
            return None
        self._training, self._training_key = None, self._key(params)
        self._pending_key = self._training_key
        self._run_on_plot = False
        return training_recipe(*args)

    def _params(self) -> dict[str, Any] | None:
        try:
            return self.controls.params()
        except MFStudioError as exc:
            self._warn("Check the parameters", str(exc))
            return None

    def _start(self, training: Training | Callable[[], Training], max_steps: int | None) -> None:
        """Run an existing model, or a recipe for a new one, on the worker thread."""
        existing = isinstance(training, Training)
        params = dict(training.params) if isinstance(training, Training) else self.controls.params()
        solver = training.solver_name if isinstance(training, Training) else self.controls.solver()
        if not self._run_on_plot:
            share = len(self.grid_held_out()) / max(self.grid_ratings().nnz, 1)
            self.plot.begin_run(solver, {**params, "holdout": share})
            self._run_on_plot = True
        if isinstance(training, Training) and (self._result is None or self._stale):
            # Show where this model stands at once, and which cells are held out.
            f = training.factors.copy()  # copied before the worker thread starts changing it
            self.r_hat_model.set_result(training.ratings, f, self.grid_held_out())
            self.p_model.set_factors(training.ratings, f)
            self.q_model.set_factors(training.ratings, f)
        self._set_stale(False)
        self.recs_model.set_stale(True)  # recommendations are computed when the run ends
        self.grid_model.set_read_only(True)
        self._store_training_settings()  # remembered now, so even a crash keeps them
        self.plot.start_live(int(params["steps"]))
        self.runner.start(training, max_steps=max_steps, top_n=int(self.top_n.value()),
                          min_ratings=int(self.min_ratings.value()))
        self._sync_buttons()
        step = training.step if isinstance(training, Training) else 0
        what = "one step" if max_steps == 1 else (
            f"from step {step:,} to step {int(params['steps']):,}" if existing and step else
            f"from the random start of seed {params['seed']}")
        self.show_message(f"Training {solver} {what}…", 3000)

    @Slot(object)
    def _on_ready(self, training: Training) -> None:
        """The worker built (or took) the model: it becomes the current one."""
        if training is not self._training:
            self._training = training
            self._training_key = self._pending_key
            self._new_model_shown = False  # the first progress report sets the tables up for it
        for warning in training.split.warnings:
            self.show_message(warning)

    @Slot()
    def train(self) -> None:
        """Train a new model from the seed's random start, for Steps steps (always fresh; see :meth:`continue_training`)."""
        if self.running:
            return
        params = self._params()
        if params is None:
            return
        t = self._fresh(params)
        if t is not None:
            self._start(t, None)

    @Slot()
    def continue_training(self) -> None:
        """Continue: make Steps more steps from the current model's factors, on the same line of the curve."""
        if self.running:
            return
        why = self.continue_blocker()
        if why:
            self.show_message(f"Nothing to continue: {why}")
            self._sync_continue()
            return
        params = self._params()
        t = self._training
        if params is None or t is None:
            return
        t.params["steps"] = t.step + int(params["steps"])  # the budget counts from the start of the model
        self._start(t, None)

    @Slot()
    def step(self) -> None:
        """Make one training step on the current model (a new one if there is none, or the data or parameters changed)."""
        if self.running:
            return
        params = self._params()
        if params is None:
            return
        t = self._current_if_fits(params)
        if t is None or t.reason is StopReason.DIVERGED:
            t = self._fresh(params)
        elif t.step >= t.budget:
            t.params["steps"] = t.step + 1  # one step more than the budget: Step always makes one
        if t is not None:
            self._start(t, 1)

    @Slot()
    def toggle_pause(self) -> None:
        """Pause a going run, or resume a paused one."""
        if not self.running:
            return
        if self.runner.paused:
            self.runner.resume()
            self.show_message("Resumed.", 2000)
        else:
            self.runner.pause()
            self.show_message("Paused; press Resume to go on or Stop to end the run.")
        self._sync_buttons()

    @Slot()
    def stop(self) -> None:
        """Stop the run (within a fraction of a second); its results are kept and Step or Continue go on from there."""
        if self.running:
            self.runner.stop()

    @Slot()
    def reset(self) -> None:
        """Forget the model and draw a new random start (the seed goes up by one), shown at step 0."""
        if self.running:
            return
        seed = int(self.controls.seed.value()) + 1
        if seed > self.controls.seed.maximum():
            seed = 0
        self.controls.set_seed(seed)
        try:
            params = self.controls.params()
            t = self._new_training(params)
        except MFStudioError as exc:
            self._warn("Cannot reset", str(exc))
            return
        self._training, self._training_key = t, self._key(params)
        self._run_on_plot = False
        f = t.factors.copy()  # the random start, step 0
        self._show_result(RunResult(t.solver_name, dict(t.params), f, History(), 0, 0.0, "", ""),
                          t.ratings, self.grid_held_out())
        self._set_stale(False)
        self.progress.setValue(0)
        e = metrics.objective(t.split.train, f, float(t.params["beta"]))
        self._show_status(0, t.budget, e, metrics.rmse(t.split.train, f), metrics.rmse(t.split.val, f), 0.0)
        self._sync_continue()
        self.show_message(f"New random start from seed {seed}: press Train, Continue or Step.")

    def wait_for_training(self, timeout_ms: int = 10_000) -> bool:
        """Stop any run and wait until its thread has ended (for closing, loading and tests)."""
        return self.runner.shutdown(timeout_ms)

    @Slot(object)
    def _on_progress(self, report: Progress) -> None:
        snap = report.snapshot
        t = self._training
        if t is None:
            return
        if not self._new_model_shown:
            # shown live; self._result (what Save and Export take) changes only when the run ends
            self.r_hat_model.set_result(t.ratings, snap.factors, self.grid_held_out())
            self._new_model_shown = True
        self._show_factors(t.ratings, snap.factors)
        self.plot.set_history(report.history)
        self._show_status(snap.step, snap.budget, snap.objective, snap.train_rmse, snap.val_rmse, snap.steps_per_s)

    @Slot(object)
    def _on_finished(self, outcome: Outcome) -> None:
        if outcome.training is not None and outcome.training is not self._training:
            self._on_ready(outcome.training)
        t = self._training
        snap = outcome.snapshot
        reason = "error" if outcome.error else (snap.reason.value if snap is not None and snap.reason else "")
        if t is not None and snap is not None:
            result = RunResult(t.solver_name, dict(t.params), snap.factors, History.from_array(outcome.history),
                               snap.step, snap.elapsed, snap.reason.value if snap.reason else "", snap.message)
            self._show_result(result, t.ratings, self.grid_held_out(), outcome.recommendations)
            self.plot.set_history(outcome.history)
            self._show_status(snap.step, snap.budget, snap.objective, snap.train_rmse, snap.val_rmse, snap.steps_per_s)
        self.plot.end_live()
        self.grid_model.set_read_only(False)
        self._sync_buttons()
        if outcome.user_error:
            self._training = None
            self.plot.discard_current()
            self._run_on_plot = False
            self._warn("Cannot start training", outcome.error)
        elif outcome.error:
            self._training = None
            self._warn("Training stopped", outcome.error + " The grid and the last good results are kept.")
        elif snap is not None and snap.reason is StopReason.DIVERGED:
            self.show_message("Training diverged; the last good factors are shown.")
            self._offer_suggestion(snap.message, snap.suggestion)
        elif snap is not None and snap.reason is not None:
            self.show_message(f"Finished at step {snap.step:,}: {snap.reason.describe()}.")
        if t is not None and snap is not None and not outcome.user_error:
            self._mark_results_unsaved()
        self.trainingFinished.emit(reason)

    def _mark_results_unsaved(self) -> None:
        """New results are work too: the title says so, closing asks, and the recovery file keeps them."""
        self._results_unsaved = True
        self._update_modified()
        self.autosaver.mark_changed()

    def _offer_suggestion(self, message: str, suggestion: dict[str, float]) -> None:
        """After a divergence: say what happened; when core found a learning rate that trains, offer to set it."""
        value = suggestion.get("alpha")
        box = self.controls.param_widgets.get("alpha")
        if value is None or box is None or self._quitting:
            self._warn("Training diverged", message)
            return
        B = QMessageBox.StandardButton
        answer = QMessageBox.question(self, "Training diverged", f"{message}\n\nSet the learning rate α to {value:g}?",
                                      B.Yes | B.No, B.Yes)
        if answer == B.Yes:
            box.setValue(value)
            self.show_message(f"Learning rate α set to {value:g}; press Train to try it.")

    # ================================================================ results
    def _show_factors(self, ratings: Ratings, factors: Factors) -> None:
        self.p_model.set_factors(ratings, factors)
        self.q_model.set_factors(ratings, factors)
        self.r_hat_model.set_factors(ratings, factors)
        self._show_biases(ratings, factors)

    def _show_biases(self, ratings: Ratings, factors: Factors | None) -> None:
        if factors is None or factors.user_bias is None or factors.item_bias is None:
            self.user_bias_model.clear()
            self.item_bias_model.clear()
        else:
            self.user_bias_model.set_biases(ratings.users, factors.user_bias, "User bias b_u", "User")
            self.item_bias_model.set_biases(ratings.items, factors.item_bias, "Item bias b_i", "Item")
        self._show_captions(factors, ratings)

    def _show_captions(self, factors: Factors | None, ratings: Ratings | None = None) -> None:
        """Say in the R-hat and Biases tabs how the shown numbers are made (the formula of this model)."""
        scale = "" if ratings is None else f" to the scale {ratings.scale[0]:g} to {ratings.scale[1]:g}"
        legend = ("Plain: rated cells (how well the model fits them). Blue italics: predictions for unrated cells. "
                  "Orange: held-out cells. Hover a cell for the exact value and the actual rating.")
        if factors is not None and factors.user_bias is not None:
            mu = measure_text(factors.global_mean, 3)
            self.r_hat_caption.setText(f"R-hat = μ + b_u + b_i + P·Q (global mean μ = {mu}; the biases are in the "
                                       f"Biases tab), clipped{scale} for display. {legend}")
            self.bias_caption.setText(
                f"Global mean μ = {mu}: the average training rating. A user's bias b_u: how much higher (+) or lower (−) "
                "than μ they rate; an item's bias b_i: how much it is liked regardless of taste. "
                "R-hat = μ + b_u + b_i + P·Q.")
        else:
            self.r_hat_caption.setText(f"R-hat = P·Q, clipped{scale} for display. {legend}")
            self.bias_caption.setText("This model has no biases: R-hat = P·Q. Choose biased-sgd to learn a global "
                                      "mean and a bias per user and per item.")
        if factors is not None and (factors.cold_users is not None or factors.cold_items is not None):
            n = (0 if factors.cold_users is None else len(factors.cold_users)) + \
                (0 if factors.cold_items is None else len(factors.cold_items))
            fallback = "the mean rating plus the known bias" if factors.user_bias is not None else "the mean training rating"
            self.r_hat_caption.setText(self.r_hat_caption.text() + f" {n} user(s)/item(s) without training ratings "
                                       f"show the fallback ({fallback}), marked in their tooltips.")

    def _recommend(self, ratings: Ratings, factors: Factors, held: np.ndarray) -> Recommendations:
        """Each user's top-N among the items not rated in training (held-out items stay candidates)."""
        train = ratings.split_cells(held).train if len(held) else ratings.observed
        return recommend(ratings, factors, int(self.top_n.value()), train=train,
                         min_ratings=int(self.min_ratings.value()))

    def _show_recs_caption(self, ratings: Ratings | None, recs: Recommendations | None) -> None:
        text = "Each user's items not rated in training with the highest predicted rating, in the order of the model's score."
        if recs is not None:
            auto = " (auto)" if int(self.min_ratings.value()) == AUTO else ""
            if recs.min_ratings > 1:
                text += f" Items with fewer than {recs.min_ratings:,} training ratings are left out{auto}."
            else:
                text += f" Every item with a training rating is a candidate{auto}."
        self.recs_caption.setText(text)

    def _show_result(self, result: RunResult, ratings: Ratings, held: np.ndarray,
                     recs: Recommendations | None = None) -> None:
        self._result, self._result_ratings, self._result_held = result, ratings, held
        self.r_hat_model.set_result(ratings, result.factors, held)
        self.p_model.set_factors(ratings, result.factors)
        self.q_model.set_factors(ratings, result.factors)
        self._show_biases(ratings, result.factors)
        if recs is None and result.factors.all_finite():
            recs = self._recommend(ratings, result.factors, held)
        self._recs = recs
        self.recs_model.set_recommendations(ratings, recs)
        self.recs_model.set_stale(False)
        self._show_recs_caption(ratings, recs)

    def _clear_results(self) -> None:
        self._result = self._result_ratings = None
        self._result_held = np.zeros((0, 2), np.int64)
        self._recs = None
        for m in (self.p_model, self.q_model, self.r_hat_model, self.user_bias_model, self.item_bias_model):
            m.clear()
        self.recs_model.clear()
        self._show_captions(None)
        self._show_recs_caption(None, None)

    def _set_stale(self, stale: bool) -> None:
        self._stale = stale and self._result is not None
        self.stale_banner.setVisible(self._stale)
        for m in (self.p_model, self.q_model, self.r_hat_model, self.recs_model, self.user_bias_model,
                  self.item_bias_model):
            m.set_stale(self._stale)

    @Slot(int)
    def _on_top_n_changed(self, n: int) -> None:
        """Top N or the minimum number of ratings changed: list the recommendations again."""
        if self._result is None or self._result_ratings is None or self.running:
            return
        if self._result.factors.all_finite():
            self._recs = self._recommend(self._result_ratings, self._result.factors, self._result_held)
            self.recs_model.set_recommendations(self._result_ratings, self._recs)
            self._show_recs_caption(self._result_ratings, self._recs)

    def _budget(self) -> int:
        try:
            return int(self.controls.params()["steps"])
        except MFStudioError:
            return 1

    @staticmethod
    def _progress_value(step: int, budget: int) -> int:
        return int(round(1000 * min(1.0, step / max(budget, 1))))

    def _show_status(self, step: int, budget: int, objective: float, train_rmse: float, val_rmse: float,
                     rate: float) -> None:
        parts = [f"Step {step:,} of {budget:,}", f"e = {measure_text(objective)}", f"RMSE {measure_text(train_rmse)}"]
        if math.isfinite(val_rmse):
            parts.append(f"validation RMSE {measure_text(val_rmse)}")
        speed = ""
        if rate and math.isfinite(rate):
            speed = f"{rate / 1e6:.1f} M steps/s" if rate >= 1e6 else f"{rate:,.0f} steps/s"
            if self.running:  # once a run has ended its speed is in the tooltip, leaving room for messages
                parts.append(speed)
        if self.runner.paused:
            parts.append("paused")
        self.run_status.setText(" · ".join(parts))
        self.run_status.setToolTip(" · ".join(parts + ([speed] if speed and speed not in parts else [])))
        self.progress.setValue(self._progress_value(step, budget))

    def _result_status(self, r: RunResult) -> str:
        h = r.history.arrays()
        if len(h) == 0:
            return f"Step {r.steps_done:,}"
        last = h[-1]
        parts = [f"Step {int(last[0]):,}", f"e = {measure_text(last[1])}", f"RMSE {measure_text(last[2])}"]
        if math.isfinite(last[4]):
            parts.append(f"validation RMSE {measure_text(last[4])}")
        return " · ".join(parts)

    # ================================================================ data changes
    @Slot()
    def _on_ratings_changed(self) -> None:
        self._data_version += 1
        if not self.running:
            self._training = None
            self._training_key = None
        self._set_stale(True)
        self._update_grid_info()
        self._sync_continue()

    @Slot()
    def _invalidate_grid_cache(self, *args: Any) -> None:
        self._grid_cache_version = -1

    @Slot()
    def _on_share_changed(self) -> None:
        if self._applying_share or self.running:
            return
        self._apply_share(self.controls.holdout_fraction())

    def _show_share(self, fraction: float) -> None:
        """Show ``fraction`` in the hold-out box without drawing a new hold-out (undo and redo use this)."""
        self._applying_share = True
        try:
            self.controls.set_holdout_fraction(fraction)
        finally:
            self._applying_share = False
        self._shown_share = fraction

    def _apply_share(self, fraction: float, *, quiet: bool = False) -> None:
        """Mark a random share of the ratings (drawn from the seed) as held out in the grid, as one undo step."""
        m = self.grid_model
        ratings = self.grid_ratings()
        try:
            split = ratings.split(fraction, int(self.controls.seed.value()))
        except DataError as exc:
            self.show_message(str(exc))
            self._show_share(self._shown_share)
            return
        new = np.stack([split.val.rows, split.val.cols], axis=1).astype(np.int64)
        text = f"Hold out {fraction:.0%} of the ratings"
        m.undo_stack.beginMacro(text)
        try:
            m.replace_held_out(new, text)
            m.undo_stack.push(ShareCommand(self, self._shown_share, fraction, text))
        finally:
            m.undo_stack.endMacro()
        n = len(new)
        if not quiet:
            cold = self._hold_out_warning(ratings) if n else ""
            self.show_message((f"{n:,} rating{'s' if n != 1 else ''} held out for validation (orange in the grid)."
                               + (f" Note: {cold}." if cold else "")) if n else "All ratings are used for training.")

    def _scale_box(self, name: str, accessible: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setObjectName(name)
        box.setAccessibleName(accessible)
        box.setToolTip(f"{accessible}: ratings outside the scale show in red, and predictions are clipped to it.")
        box.setRange(-1e6, 1e6)
        box.setDecimals(2)
        box.setKeyboardTracking(False)  # one change when the value is complete, not one per digit
        box.setFixedWidth(62)  # room for "10.00"; the range's widest text would ask for 105 px
        box.editingFinished.connect(self._on_scale_edited)
        return box

    @Slot(float, float)
    def _show_scale(self, lo: float, hi: float) -> None:
        for box, v in ((self.scale_min, lo), (self.scale_max, hi)):
            box.blockSignals(True)
            box.setValue(v)
            box.blockSignals(False)

    @Slot()
    def _on_scale_edited(self) -> None:
        """The scale boxes changed: one undoable change of the grid's scale (refused, and put back, if invalid)."""
        lo, hi = self.scale_min.value(), self.scale_max.value()
        if (lo, hi) == tuple(self.grid_model.scale):
            return
        if lo >= hi:
            self.show_message(f"The lowest rating ({lo:g}) must be below the highest ({hi:g}); the scale was not changed.")
        else:
            self.grid_model.set_scale((lo, hi))
        self._show_scale(*self.grid_model.scale)

    @Slot(bool)
    def _on_zero_rule_toggled(self, on: bool) -> None:
        if on != self.grid_model.zeros_are_missing:
            self.grid_model.set_zeros_are_missing(on)

    @Slot(bool)
    def _show_zero_rule(self, on: bool) -> None:
        self.zero_rule.blockSignals(True)
        self.zero_rule.setChecked(on)
        self.zero_rule.blockSignals(False)

    def _hold_out_warning(self, ratings: Ratings) -> str:
        """What the hold-out takes whole: users (items) left with no training rating, or ""."""
        split = ratings.split_cells(self.grid_held_out())
        nu, ni = len(split.users_without_training), len(split.items_without_training)
        parts = []
        if nu:
            parts.append(f"{nu:,} user{'s have' if nu != 1 else ' has'} every rating held out")
        if ni:
            parts.append(f"{ni:,} item{'s have' if ni != 1 else ' has'} every rating held out")
        if not parts:
            return ""
        return " and ".join(parts) + " (predicted from the mean and the known biases)"

    def _update_grid_info(self) -> None:
        m = self.grid_model
        n_users, n_items = m.shape
        ratings = self.grid_ratings()
        held = len(self.grid_held_out())
        text = (f"{n_users:,} users × {n_items:,} items · {ratings.nnz:,} ratings"
                f" ({ratings.nnz / max(n_users * n_items, 1):.0%} filled)")
        if held:
            text += f" · {held:,} held out"
            cold = self._hold_out_warning(ratings)
            if cold:
                text += f" · {cold}"
        out = ratings.out_of_scale()
        if out:
            text += f" · {out:,} outside the scale (red)"
        self.grid_info.setText(text)

    # ================================================================ unsaved changes
    def is_modified(self) -> bool:
        """True when the data or the results differ from what was last opened or saved."""
        return self._extra_modified or self._results_unsaved or not self.grid_model.undo_stack.isClean()

    @Slot()
    @Slot(bool)
    def _update_modified(self, *args: Any) -> None:
        self.setWindowModified(self.is_modified())

    @Slot(int)
    def _on_undo_index(self, index: int) -> None:
        self._update_modified()
        if self.is_modified():
            self.autosaver.mark_changed()

    @Slot()
    def _on_params_changed(self) -> None:
        if self.is_modified():  # the recovery file carries the parameters too
            self.autosaver.mark_changed()
        self._sync_continue()

    def _set_saved(self) -> None:
        """The document now matches its file (or was just opened): clean, nothing to recover."""
        self._extra_modified = False
        self._results_unsaved = False
        self.grid_model.undo_stack.setClean()
        self._update_modified()

    def _session_for_recovery(self) -> Callable[[], Session] | None:
        return self.session_snapshot() if self.is_modified() else None

    @Slot(str)
    def _on_autosave_failed(self, text: str) -> None:
        self.show_message(text, 30_000)
        if self._quitting:  # nobody will see the status bar
            print(text, file=sys.stderr, flush=True)

    def maybe_save(self, doing: str) -> bool:
        """Before ``doing`` (e.g. "opening a file") replaces or closes unsaved work, ask Save / Discard / Cancel.

        Returns True when it is fine to go on (saved, discarded or nothing to save).
        """
        if not self.is_modified():
            return True
        B = QMessageBox.StandardButton
        text = f"{self._title} has changes that are not saved. Save them before {doing}?"
        if self.running:
            text += " The training run will be stopped."
        answer = QMessageBox.question(self, "Unsaved changes", text, B.Save | B.Discard | B.Cancel, B.Save)
        if answer == B.Save:
            return self.save_session()
        # On Discard the recovery file stays until the next document has loaded (or the window has closed),
        # so a failed open loses nothing.
        return answer == B.Discard

    # ================================================================ crash recovery
    def offer_recovery(self, path: Path) -> bool:
        """Offer to restore the session a crash left at ``path``; True if it was restored.

        Restore opens it untitled and unsaved (the recovery file stays until the work is
        saved or discarded); Discard removes the file.
        """
        box = QMessageBox(self)
        box.setObjectName("recoveryOffer")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Restore unsaved work?")
        box.setText("MF Studio did not close properly last time. Restore the work that was not saved?")
        box.setInformativeText("Discard deletes it for good.")
        restore = box.addButton("&Restore", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("&Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(restore)
        box.setEscapeButton(restore)  # dismissing the box must not throw the work away
        box.exec()
        clicked = box.clickedButton()
        box.deleteLater()
        if clicked is discard:
            self.autosaver.discard()
            if path != self.autosaver.path:
                path.unlink(missing_ok=True)
            self.show_message("The unsaved work from last time was discarded.")
            return False
        loaded = self._read(path, "Could not restore the unsaved work")
        if loaded is None:
            from mfstudio.io.atomic import set_aside

            try:  # under a name not taken: an earlier unreadable file set aside is kept too
                aside = set_aside(path, "recovery-unreadable")
                self.show_message(f"The unreadable recovery file was kept as {aside}.", 20_000)
            except OSError:
                pass
            return False
        keep, self._keep_recovery_file = self._keep_recovery_file, True
        try:
            self.load_session(loaded.session, title=RECOVERED_TITLE)
        except MFStudioError as exc:
            # the file stays where it was (not adopted, so closing cannot discard it): offered again next time
            self._warn("Could not restore the unsaved work", f"{exc} The unsaved work is kept in {path}.")
            return False
        finally:
            self._keep_recovery_file = keep
        if path != self.autosaver.path:
            try:  # adopt it only now it is shown: it is this window's recovery file, kept until saved or discarded
                os.replace(path, self.autosaver.path)
            except OSError:
                pass
        self._extra_modified = True
        self._update_modified()
        self.show_message("Restored the work that was not saved; save it to keep it.", 20_000)
        return True

    # ================================================================ files
    def _update_title(self) -> None:
        self.setWindowTitle(f"{self._title}[*] — MF Studio")

    @property
    def document_title(self) -> str:
        """The document's name as shown in the title bar ("Example 1", "ratings.csv", "Untitled")."""
        return self._title

    @property
    def session_path(self) -> Path | None:
        """The file the document was opened from or saved to (None when untitled)."""
        return self._session_path

    def _start_folder(self) -> str:
        return self.settings.last_folder()

    def open_example(self, name: str) -> None:
        """Replace the data with a bundled example (no questions asked; see :meth:`open_example_asking`)."""
        self.load_ratings(load_example(name), title=EXAMPLES[name].split(" (")[0])
        self.show_message(f"Opened {EXAMPLES[name]}.")

    def open_example_asking(self, name: str) -> bool:
        """Open Example ▸ entry: ask about unsaved changes, then open the example."""
        if not self.maybe_save("opening an example"):
            return False
        self.open_example(name)
        return True

    def new_grid(self, n_users: int, n_items: int) -> None:
        """Start an untitled, empty n_users x n_items grid (no questions asked)."""
        scale = self.grid_model.scale
        self.load_ratings(Ratings([], [], [], (int(n_users), int(n_items)), scale=scale), title=UNTITLED)
        self.show_message(f"New empty grid of {n_users:,} users × {n_items:,} items; type or paste ratings into it.")
        self.grid.setCurrentIndex(self.grid_model.index(0, 0))

    @Slot()
    def new_dialog(self) -> bool:
        """File ▸ New: ask for a size, then about unsaved changes, then start an empty grid."""
        size = dialogs.ask_new_grid_size(self, dialogs.DEFAULT_NEW_SIZE)
        if size is None or not self.maybe_save("starting a new grid"):
            return False
        self.new_grid(*size)
        return True

    @Slot()
    def resize_dialog(self) -> bool:
        """Edit ▸ Resize grid: ask for the new size; users and items are added or dropped at the end (undoable)."""
        if self.grid_model.read_only:
            self.show_message(LOCKED_MESSAGE)
            return False
        size = dialogs.ask_new_grid_size(self, self.grid_model.shape)
        if size is None:
            return False
        return self.grid_model.resize_grid(*size)

    @Slot()
    def open_dialog(self) -> bool:
        """File ▸ Open: ask for a file, then about unsaved changes, and open it."""
        from mfstudio import io

        path, _ = QFileDialog.getOpenFileName(self, "Open a session or ratings", self._start_folder(),
                                              ";;".join(io.FILE_FILTERS))
        return bool(path) and self.open_file(path)

    @Slot()
    def open_folder_dialog(self) -> bool:
        """File ▸ Open folder: ask for a MovieLens folder, then about unsaved changes, and open it."""
        path = QFileDialog.getExistingDirectory(self, "Open a MovieLens folder", self._start_folder())
        return bool(path) and self.open_file(path)

    def open_file(self, path: str | Path) -> bool:
        """Open ``path`` as the user asked (recent files, drag and drop): unsaved changes are asked about first."""
        if not self.maybe_save(f"opening {Path(path).name}"):
            return False
        return self.open_path(path)

    @Slot(str)
    def open_recent(self, path: str) -> bool:
        """Open a recent file or MovieLens folder; one that has gone is dropped from the list with a message."""
        if not (os.path.isfile(path) or os.path.isdir(path)):
            self.recent.remove(path)
            self.show_message(f"{Path(path).name} is no longer at {Path(path).parent}; it was removed from the recent files.")
            return False
        return self.open_file(path)

    def _read(self, path: str | Path, title: str, zeros_are_missing: bool = True) -> Any:
        """``io.load(path)``, or None after a dialog titled ``title`` said what went wrong.

        A newly opened document starts with "0 means not rated" on (as ``mfstudio train`` reads
        files); importing into the grid reads with the grid's own rule.
        """
        from mfstudio import io

        try:
            return io.load(path, keep_zeros=not zeros_are_missing)
        except (MFStudioError, OSError) as exc:
            self._warn(title, str(exc))
        except Exception as exc:  # a reader bug must not take the user's data with it
            traceback.print_exc()
            self._warn(title, f"{Path(path).name} could not be read because of an unexpected error ({exc}); "
                              "the data you had is kept.")
        return None

    def open_path(self, path: str | Path) -> bool:
        """Open ratings or a session from ``path`` through mfstudio.io (no questions asked); a dialog says what went wrong."""
        loaded = self._read(path, "Could not open the file")
        if loaded is None:
            return False
        session = loaded.session
        if loaded.fmt != "session":  # a rating file holds no solver: keep the one chosen here
            zeros = self._zero_rule_for(session.ratings, loaded.notices, True)
            try:
                session = Session(ratings=session.ratings, held_out=session.held_out, solver=self.controls.solver(),
                                  params=self.controls.params(), holdout_fraction=self.controls.holdout_fraction(),
                                  zeros_are_missing=zeros)
            except MFStudioError:  # parameters that do not validate: the file's defaults are a fine start
                session = Session(ratings=session.ratings, held_out=session.held_out, zeros_are_missing=zeros)
        try:
            self.load_session(session, path=path)
        except MFStudioError as exc:
            self._warn("Could not open the file", f"{Path(path).name}: {exc}")
            return False
        self._remember_file(path)
        if loaded.notices:
            self.show_message(" ".join(loaded.notices), 20_000)
        else:
            self.show_message(f"Opened {Path(path).name}.")
        return True

    def _zero_rule_for(self, ratings: Ratings, notices: list[str], on: bool | None = None) -> bool:
        """The "0 means not rated" rule for ratings just read (``on``, default the grid's): off when the
        file lists 0 as a rating."""
        on = self.grid_model.zeros_are_missing if on is None else on
        if on and ratings.nnz and bool(np.any(ratings.observed.vals == 0)):
            notices.append("This file lists 0 as a rating, so \"0 means not rated\" was switched off for it.")
            return False
        return on

    def _remember_file(self, path: str | Path) -> None:
        self.recent.add(path)
        p = Path(path).resolve()
        self.settings.set_last_folder(p.parent if p.is_dir() else p)  # beside a MovieLens folder, to pick another

    @Slot()
    def import_dialog(self) -> bool:
        """File ▸ Import ratings: ask for a file and put its ratings into the grid as one undo step."""
        from mfstudio import io

        if self.grid_model.read_only:
            self.show_message(LOCKED_MESSAGE)
            return False
        path, _ = QFileDialog.getOpenFileName(self, "Import ratings into the grid", self._start_folder(),
                                              ";;".join(io.FILE_FILTERS))
        return bool(path) and self.import_path(path)

    def import_path(self, path: str | Path) -> bool:
        """Replace the grid's ratings with those in ``path`` as one undo step; the document keeps its name."""
        m = self.grid_model
        if m.read_only:
            self.show_message(LOCKED_MESSAGE)
            return False
        loaded = self._read(path, "Could not import the file", self.grid_model.zeros_are_missing)
        if loaded is None:
            return False
        s = loaded.session
        name = Path(path).name
        try:  # everything checked before the grid changes
            held = np.asarray(s.held_out, dtype=np.int64).reshape(-1, 2)
            memory.check_grid(s.ratings.n_users, s.ratings.n_items)
        except (MFStudioError, ValueError) as exc:
            self._warn("Could not import the file", f"{name}: {exc}")
            return False
        index = m.undo_stack.index()
        m.undo_stack.beginMacro(f"Import {name}")
        failed: BaseException | None = None
        try:
            if loaded.fmt != "session" and not self._zero_rule_for(s.ratings, loaded.notices):
                m.set_zeros_are_missing(False)
            elif loaded.fmt == "session":
                m.set_zeros_are_missing(s.zeros_are_missing)
            m.set_ratings(s.ratings, held, undoable=True, text=f"Import {name}")
            fraction = self.controls.holdout_fraction()
            if len(held) == 0 and fraction > 0:
                self._apply_share(fraction, quiet=True)
        except Exception as exc:  # all or nothing: the half-done step is undone below
            traceback.print_exc()
            failed = exc
        finally:
            m.undo_stack.endMacro()
        if failed is not None:
            if m.undo_stack.index() > index:
                m.undo_stack.undo()
            self._warn("Could not import the file", f"{name} could not be put into the grid ({failed}); "
                                                    "the grid is as it was.")
            return False
        self.settings.set_last_folder(Path(path).resolve())
        undo_keys = QKeySequence(QKeySequence.StandardKey.Undo).toString(QKeySequence.SequenceFormat.NativeText)
        notes = " ".join(loaded.notices)
        self.show_message(f"Imported {s.ratings.nnz:,} ratings from {name}; {undo_keys} undoes it. {notes}".strip(),
                          20_000)
        return True

    @Slot()
    def save_session(self) -> bool:
        """Save to the current session file, or ask for one."""
        if self._session_path is None or self._session_path.suffix.lower() != SESSION_SUFFIX:
            return self.save_session_as()
        return self._save_to(self._session_path)

    @Slot()
    def save_session_as(self) -> bool:
        """Ask for a file name and save the session there."""
        from mfstudio import io

        suggested = str(Path(self._start_folder()) / f"{Path(self._title).stem}{SESSION_SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self, "Save the session", suggested, io.SESSION_FILTER)
        if not path:
            return False
        p = Path(path)
        if p.suffix.lower() != SESSION_SUFFIX:
            p = p.with_name(p.name + SESSION_SUFFIX)
        return self._save_to(p)

    def _save_to(self, path: Path) -> bool:
        from mfstudio import io

        try:
            io.save_session(path, self.current_session())
        except (MFStudioError, OSError) as exc:
            self._warn("Could not save the session", str(exc))
            return False
        except Exception as exc:  # e.g. a name that cannot be encoded: say so, and keep the work (closing is cancelled)
            self._warn("Could not save the session", f"Could not save the session to {path} ({failure_reason(exc)}); "
                       "your work is still here, unsaved.")
            return False
        self._session_path = path
        self._title = path.name
        self._set_saved()
        self.autosaver.discard()
        self._update_title()
        self._remember_file(path)
        self.show_message(f"Saved the session to {path}.")
        return True

    # ================================================================ drag and drop
    @staticmethod
    def _dropped_file(event: QDragEnterEvent | QDragMoveEvent | QDropEvent) -> str | None:
        md = event.mimeData()
        if md is None or not md.hasUrls():
            return None
        for url in md.urls():
            if url.isLocalFile() and (os.path.isfile(url.toLocalFile()) or os.path.isdir(url.toLocalFile())):
                return url.toLocalFile()  # a folder is opened as MovieLens
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept a local file (a session or ratings) or a MovieLens folder dragged onto the window."""
        if self._dropped_file(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._dropped_file(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        """Open the dropped file as File ▸ Open would (asking about unsaved changes first)."""
        path = self._dropped_file(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_file(path)

    def _need_result(self) -> bool:
        if self._result is None or self._result_ratings is None:
            self._warn("Nothing to export yet", "There are no results yet; press Train first.")
            return False
        return True

    @Slot()
    def export_results_dialog(self) -> None:
        """Ask for a folder and write the whole result set there."""
        if not self._need_result():
            return
        folder = QFileDialog.getExistingDirectory(self, "Export results into a folder", self._start_folder())
        if folder:
            self.settings.set_last_folder(folder)
            self.export_results(folder)

    def export_results(self, folder: str | Path) -> list[Path]:
        """Write P, Q, R-hat, history, recommendations and the run description into ``folder``."""
        from mfstudio import io

        if not self._need_result():
            return []
        assert self._result is not None and self._result_ratings is not None
        session = Session(self._result_ratings, self._result_held, self._result.solver, dict(self._result.params),
                          self.controls.holdout_fraction(), None, self._result)
        try:
            written = io.export_results(folder, session, top_n=int(self.top_n.value()),
                                        min_ratings=int(self.min_ratings.value()),
                                        full_precision=self.action_full_precision.isChecked(), include_session=True)
        except (MFStudioError, OSError) as exc:
            self._warn("Could not export the results", str(exc))
            return []
        self.show_message(f"Wrote {len(written)} files to {folder}.")
        return list(written)

    def export_table(self, which: str) -> Path | None:
        """Ask for a file name and export one table ("P", "Q", "R_hat", "recommendations", "history") as CSV."""
        from mfstudio import io

        if which != "ratings" and not self._need_result():
            return None
        path, _ = QFileDialog.getSaveFileName(self, f"Export {which.replace('_', '-')} as CSV",
                                              str(Path(self._start_folder()) / f"{which}.csv"), io.CSV_FILTER)
        if not path:
            return None
        p = Path(path)
        if p.suffix.lower() != ".csv":
            p = p.with_name(p.name + ".csv")

        try:
            if which == "ratings":
                io.export_ratings(p, self.grid_ratings())
                self.settings.set_last_folder(p)
                self.show_message(f"Exported the ratings to {p}.")
                return p
            r, ratings = self._result, self._result_ratings
            assert r is not None and ratings is not None
            full = self.action_full_precision.isChecked()
            if which == "P":
                io.export_P(p, ratings, r.factors, full)
            elif which == "Q":
                io.export_Q(p, ratings, r.factors, full)
            elif which == "R_hat":
                io.export_R_hat(p, ratings, r.factors, full)
            elif which in ("user_bias", "item_bias"):
                io.export_biases(p, ratings, r.factors, which.split("_")[0], full)
            elif which == "history":
                io.export_history(p, r.history, full)
            elif which == "recommendations":
                recs = self._recs if self._recs is not None else self._recommend(ratings, r.factors, self._result_held)
                io.export_recommendations(p, ratings, recs, full)
            else:
                raise ValueError(f"unknown table {which!r}")
        except (MFStudioError, OSError) as exc:
            self._warn("Could not export the table", str(exc))
            return None
        self.settings.set_last_folder(p)
        self.show_message(f"Exported {which.replace('_', '-')} to {p}.")
        return p

    @Slot(bool)
    def _on_full_precision_toggled(self, on: bool) -> None:
        self.settings.set_full_precision(bool(on))
        self.show_message("CSV exports now write numbers in full." if on
                          else "CSV exports now write 6 significant digits.")

    # ================================================================ misc
    def _warn(self, title: str, text: str) -> None:
        if self._quitting:  # quitting never waits on a dialog
            print(f"{title}: {text}", file=sys.stderr, flush=True)
            return
        QMessageBox.warning(self, title, text)

    @Slot()
    def about(self) -> None:
        QMessageBox.about(
            self, "About MF Studio",
            "<b>MF Studio</b> factorizes a rating matrix R into P (users × K) and Q (K × items) "
            "so that R-hat = P·Q predicts the missing ratings.<br><br>"
            "Edit the ratings, choose a solver and its parameters (K, steps, α, β), press Train and "
            "watch the objective fall. Earlier runs stay on the curve for comparison.",
        )

    def shortcut_rows(self) -> list[tuple[str, str, str]]:
        """(menu, command, keys) for every menu command that has keys, in menu order."""
        rows: list[tuple[str, str, str]] = []

        def walk(menu: QMenu, path: str) -> None:
            for a in menu.actions():
                if a.menu() is not None:
                    walk(a.menu(), f"{path} ▸ {a.menu().title().replace('&', '')}")
                elif not a.isSeparator() and a.shortcuts():
                    keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in a.shortcuts())
                    text = a.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
                    rows.append((path, text, keys))

        for top in self.menuBar().actions():
            if top.menu() is not None:
                walk(top.menu(), top.menu().title().replace("&", ""))
        return rows

    @Slot()
    def show_shortcuts(self) -> None:
        """Help ▸ Keyboard shortcuts: every command's keys, read from the menus themselves."""
        extra = [("Rating grid", "Move down / up after typing", "Enter, Shift+Enter"),
                 ("Rating grid", "Next / previous cell; leaves the grid at its last / first cell", "Tab, Shift+Tab"),
                 ("Rating grid", "Leave the grid", "Ctrl+Tab, Ctrl+Shift+Tab"),
                 ("Rating grid", "Rename a user or item", "double-click its header"),
                 ("Everywhere", "Open a menu", "Alt + the underlined letter")]
        dialogs.show_shortcuts(self, self.shortcut_rows() + extra)

    # ================================================================ keyboard focus
    def tab_chain(self) -> list[QWidget]:
        """The widgets Tab visits, in order: grid, solver, its parameters, seed, hold-out, buttons (row by row), results."""
        c = self.controls
        return [self.grid, c.solver_box, *c.param_widgets.values(), c.seed, c.holdout, c.train_button,
                c.continue_button, c.step_button, c.pause_button, c.stop_button, c.reset_button, self.tabs.tabBar(),
                self.r_hat_table, self.p_table, self.q_table, self.user_bias_table, self.item_bias_table,
                self.min_ratings, self.top_n, self.recs_table]

    @Slot()
    def _apply_tab_order(self) -> None:
        chain = self.tab_chain()
        for a, b in zip(chain, chain[1:]):
            QWidget.setTabOrder(a, b)

    @Slot()
    def focus_grid(self) -> None:
        """Keyboard focus to the rating grid (its current cell, or the first)."""
        self.grid.setFocus(Qt.FocusReason.ShortcutFocusReason)
        if not self.grid.currentIndex().isValid() and self.grid_model.rowCount() and self.grid_model.columnCount():
            self.grid.setCurrentIndex(self.grid_model.index(0, 0))

    @Slot()
    def focus_parameters(self) -> None:
        """Keyboard focus to the solver chooser (Tab goes on through the parameters)."""
        self.controls.solver_box.setFocus(Qt.FocusReason.ShortcutFocusReason)

    @Slot()
    def focus_results(self) -> None:
        """Keyboard focus to the result tabs."""
        self.tabs.tabBar().setFocus(Qt.FocusReason.ShortcutFocusReason)

    # ================================================================ remembered settings
    def _restore_settings(self) -> None:
        """Geometry, splitters, solver and parameters from the last run; damaged values are ignored."""
        st = self.settings
        geometry = st.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        for name, splitter in (("main", self.main_split), ("right", self.right_split)):
            state = st.splitter_state(name)
            if state is not None:
                splitter.restoreState(state)
        for name in SOLVERS:  # each solver's own values come back when it is chosen again
            self.controls.remember(name, self._stored_params(name))
        solver = st.last_solver()
        if solver not in SOLVERS:
            return
        try:
            self.controls.set_solver(solver, self._stored_params(solver))
        except (MFStudioError, TypeError, ValueError, OverflowError):
            self.controls.set_solver("sgd")

    def _stored_params(self, solver: str) -> dict[str, Any]:
        """The remembered parameters of ``solver`` that are still valid (damaged ones are left out)."""
        specs = {spec.name: spec for spec in get_solver(solver).params}
        params: dict[str, Any] = {}
        for name, value in self.settings.solver_params(solver).items():
            spec = specs.get(name)
            if spec is None or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            try:
                v = spec.validate(value)
            except MFStudioError:
                continue
            if spec.minimum <= v <= spec.maximum:
                params[name] = v
        return params

    def _store_training_settings(self) -> None:
        self.settings.set_last_solver(self.controls.solver())
        for name in SOLVERS:
            own = self.controls.remembered(name)
            if own and name != self.controls.solver():
                self.settings.set_solver_params(name, {**self.settings.solver_params(name), **own})
        try:
            self.settings.set_solver_params(self.controls.solver(), self.controls.params())
        except MFStudioError:
            pass  # parameters that do not validate are not worth remembering

    def store_settings(self) -> None:
        """Remember geometry, splitters, solver and parameters (called on close)."""
        st = self.settings
        st.set_geometry(self.saveGeometry())
        st.set_splitter_state("main", self.main_split.saveState())
        st.set_splitter_state("right", self.right_split.saveState())
        self._store_training_settings()
        st.sync()

    def _sync_buttons(self) -> None:
        running = self.running
        paused = self.runner.paused
        self.controls.set_running(running, paused)
        for a in (self.action_train, self.action_step, self.action_reset, self.action_export, self.action_import,
                  self.action_resize):
            a.setEnabled(not running)
        self.scale_min.setEnabled(not running)
        self.zero_rule.setEnabled(not running)
        self.scale_max.setEnabled(not running)
        self.action_pause.setEnabled(running)
        self.action_stop.setEnabled(running)
        self._sync_continue()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Ask Save / Discard / Cancel for unsaved changes (or, while training, whether to stop);
        then stop the run and wait for its thread, remember the settings and remove the recovery file."""
        if self._shut_down:  # quit_keeping_work() already ran: its recovery file must stay
            event.accept()
            return
        if self.ask_before_closing:
            if self.is_modified():
                if not self.maybe_save("closing"):
                    event.ignore()
                    return
            elif self.running:
                answer = QMessageBox.question(
                    self, "Training is running", "A training run is going. Stop it and close MF Studio?",
                    QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No,
                )
                if answer != QMessageBox.StandardButton.Yes:
                    event.ignore()
                    return
        if self.running and not self.runner.shutdown(10_000):
            self._warn("Still stopping", "Training did not stop in time; try closing again in a moment.")
            event.ignore()
            return
        self._shut_down = True
        self.store_settings()
        self.autosaver.discard()  # a clean exit: nothing to recover next time
        self.autosaver.release()  # after the save being written, if any, has finished
        self.plot.stop_timers()
        event.accept()

    def quit_keeping_work(self, timeout_ms: int = 60_000) -> bool:
        """Shut down without asking anything (SIGTERM, a Ctrl+C nobody can answer, ``QApplication.exit()``).

        Stops the run and waits for its thread; unsaved work, the stopped run's results included,
        is written to the recovery file, which is kept so that the next start offers it. Never
        opens a dialog. False when the training thread did not stop within ``timeout_ms`` or the
        work could not be written (the reason is printed); then the caller must not destroy the thread.
        """
        if self._shut_down:
            return not self.running
        self._quitting = True
        stopped = self.runner.shutdown(timeout_ms)
        if self.is_modified():
            kept = self.autosaver.save_now()  # on this thread: complete before the process ends
        else:
            self.autosaver.discard()
            kept = True
        self.autosaver.stop()  # the stopped run marked a change; it is in the file already
        self.store_settings()
        self.autosaver.release()
        self.plot.stop_timers()
        self._shut_down = True
        return stopped and kept

    @Slot()
    def _on_about_to_quit(self) -> None:
        if not self._shut_down:  # the program ends without this window having closed
            self.quit_keeping_work()
