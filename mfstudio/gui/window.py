"""The studio window: assembles the panels and wires their signals.

Data flows one way: grid edit -> document (Ratings) -> run request -> experiment (worker
thread) -> snapshots (copies) -> views -> export. The window builds the request from the
controls once per command, routes messages to the status bar, and keeps the buttons in
step with the run. A new view plugs in by subscribing to ``self.experiment`` (and reading
``self.document``): one line in :meth:`MainWindow._build_views`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFrame, QMainWindow, QMessageBox, QSplitter, QVBoxLayout, QWidget

from mfstudio.core import Ratings, RunResult, load_example
from mfstudio.gui import actions, dialogs, help_texts
from mfstudio.gui.controls import ControlPanel
from mfstudio.gui.data_kind import DataKind
from mfstudio.gui.document import Document
from mfstudio.gui.drops import dropped_path
from mfstudio.gui.experiment import Experiment
from mfstudio.gui.exports import Exporter
from mfstudio.gui.lesson_dialogs import LessonCommands
from mfstudio.gui.newcomer import Newcomer
from mfstudio.gui.presenter import Presenter
from mfstudio.gui.recovery import pending_recovery
from mfstudio.gui.run_commands import RunCommands
from mfstudio.gui.settings import Settings
from mfstudio.gui.views.add_me import AddMePanel
from mfstudio.gui.views.explain_panel import ExplainPanel
from mfstudio.gui.views.grid_panel import GridPanel
from mfstudio.gui.views.ladder import LadderPanel
from mfstudio.gui.views.latent_map import LatentMap
from mfstudio.gui.views.layers import LayersPanel
from mfstudio.gui.views.notebook_log import NotebookLog
from mfstudio.gui.views.plot import LossPlot
from mfstudio.gui.views.results_panel import ResultsPanel
from mfstudio.gui.views.runs_table import RunsTable
from mfstudio.gui.views.similar_panel import SimilarPanel
from mfstudio.gui.views.status import RunStatus
from mfstudio.gui.views.update_panel import UpdatePanel
from mfstudio.gui.views.widgets import FoldingSplitter, TallScroll, scrolled
from mfstudio.gui.viewstate import Selection, ShownParts

ABOUT = ("<b>MF Studio</b> factorizes a rating matrix R into P (users × K) and Q (K × items) "
         "so that R-hat = P·Q predicts the missing ratings.<br><br>"
         "Edit the ratings, choose a solver and its parameters (K, steps, α, β), press Train and "
         "watch the objective fall. Earlier runs stay on the curve for comparison.")

V = TypeVar("V", bound=QWidget)
TOP_FOLD_BELOW = 700  # pixels: narrower, the latent map folds away and the loss curve takes the room


class MainWindow(QMainWindow):
    """MF Studio's main window. Builds no QApplication; starts with Example 1 loaded.

    ``settings`` defaults to the app's QSettings (an ini file at ``$MFSTUDIO_SETTINGS``
    when set) and ``recovery_folder`` to the app-data recovery folder
    (``$MFSTUDIO_RECOVERY_DIR`` when set). If a crash left a recovery file there, the
    constructor offers to restore it.

    ``trainingFinished(reason)`` is emitted once a run has ended for any reason
    (a StopReason value, or ``"error"``), after the final state is in the tables and
    the curve and the buttons are back to idle.
    """

    trainingFinished = Signal(str)

    def __init__(self, ratings: Ratings | None = None, parent: QWidget | None = None, *,
                 settings: Settings | None = None, recovery_folder: str | os.PathLike[str] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle("MF Studio[*]")
        # Closing asks about unsaved changes and a running training; tests and scripts may switch it off.
        self.ask_before_closing = True
        self._shut_down = False  # closed, or quit_keeping_work() done: nothing may run or be written any more
        self.settings = settings if settings is not None else Settings()
        self.experiment = Experiment(self)
        self.selection = Selection(self)  # the user, item or cell pointed at, shared by the views
        self.parts = ShownParts(self)  # the model ladder's switches, shared by the views
        self.controls = ControlPanel()
        self.document = Document(self, self.controls, self.experiment, self.settings, recovery_folder)
        self.grid_model = self.document.grid_model
        self.autosaver, self.recent = self.document.autosaver, self.document.recent
        self.exporter = Exporter(self.document, self.experiment)
        self.presenter = Presenter(self)
        self.lessons = LessonCommands(self.document)
        self.data_kind = DataKind(self.document)  # counts/events vs ratings: File ▸ Open counts, the solver
        self._build_views()
        self._wire()
        app = QApplication.instance()
        if app is not None:  # QApplication.exit() (or a signal) may end the program without closing the window
            app.aboutToQuit.connect(self._on_about_to_quit)
        self._build_menus()
        self.resize(1280, 800)
        self._restore_settings()
        # looked for before anything could overwrite it; files of other running windows are not offered
        pending = pending_recovery(self.autosaver.folder, own=self.autosaver.path)
        self.setAcceptDrops(True)
        self._apply_tab_order()
        self.document.start(ratings if ratings is not None else load_example("example-1"), pending)

    # ================================================================ construction
    def _speaks(self, view: V) -> V:
        """``view``, whose ``statusMessage`` the status bar will show (connected in :meth:`_wire`)."""
        self._speakers.append(view)
        return view

    def _build_views(self) -> None:
        """Every view, each subscribed to the experiment (and reading the document) by its own constructor.

        A new view is one line here: built with what it subscribes to, put where it sits, and wrapped in
        :meth:`_speaks` when it has status messages to say.
        """
        self._speakers: list[QWidget] = []
        self.newcomer = Newcomer(self)  # the person Add me is adding (the map draws them)
        self.grid_panel = GridPanel(self.grid_model, self.document, self.selection)
        self.plot = self._speaks(LossPlot(runs=self.document.runs))
        self.results = self._speaks(ResultsPanel(self.experiment, self.selection, self.parts))
        self.status_view = RunStatus(self.experiment, self.statusBar())
        self.run_status, self.progress = self.status_view.label, self.status_view.bar
        self.runs_table = self._speaks(RunsTable(self.document.runs, self.controls, self.document.start_folder))
        self.results.add_tab(self.runs_table, "Runs", "Every run of this session: compare, show or hide, rename, "
                             "delete, export, use its parameters again")
        self.explain = self._speaks(ExplainPanel(self.experiment, self.selection, self.parts))
        self.results.add_tab(self.explain, "Why this number?", help_texts.tooltip("explain"))
        self.results.add_tab(LadderPanel(self.experiment, self.parts), "Ladder",
                             "Which parts of the model predict, and the error each part leaves")
        self.results.add_tab(LayersPanel(self.experiment, self.selection), "Layers",
                             "R-hat as the sum of one simple picture per factor, and what is left over")
        self.add_me = AddMePanel(self.experiment, self.newcomer)
        self.results.add_tab(scrolled(self.add_me), "Add me", "Rate a few items and get your own recommendations at "
                             "once, without training again (fold-in)")
        self.similar = self._speaks(SimilarPanel(self.experiment, self.selection))
        self.results.add_tab(scrolled(self.similar), "Similar", help_texts.tooltip("similar"))
        self.update_panel = self._speaks(UpdatePanel(self.experiment))
        self.results.add_tab(self.update_panel, "This update",
                             "The last single update (Training ▸ One update) in the notebook's notation")
        self.notebook_log = self._speaks(NotebookLog(self.experiment))
        self.results.add_tab(self.notebook_log, "Printout", "What the notebook printed: R-hat, P and Q every 1,000 "
                             "steps (or the interval chosen)")
        self.grid, self.tabs = self.grid_panel.grid, self.results.tabs
        for name in ("p_model", "q_model", "r_hat_model", "recs_model", "stale_banner", "top_n", "min_ratings"):
            setattr(self, name, getattr(self.results, name))

        left = QWidget()
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(6, 6, 6, 6)
        left_lay.setSpacing(4)
        left_lay.addWidget(self.grid_panel, 1)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        left_lay.addWidget(line)
        left_lay.addWidget(TallScroll(self.controls))  # many parameters scroll rather than grow the window
        self.latent_map = self._speaks(LatentMap(self.experiment, self.selection, self.parts, newcomer=self.newcomer))
        # the loss curve and, beside it, the latent map (folded away while there is no room for both)
        self.top_split = FoldingSplitter(fold_below=TOP_FOLD_BELOW)
        self.top_split.addWidget(self.plot)
        self.top_split.addWidget(self.latent_map)
        self.top_split.setStretchFactor(0, 1)
        self.top_split.setStretchFactor(1, 1)
        self.top_split.setSizes([430, 380])
        self.top_split.foldedByWidth.connect(self._map_folded)
        self.right_split = QSplitter(Qt.Orientation.Vertical)
        self.right_split.addWidget(self.top_split)
        self.right_split.addWidget(self.results)
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

    def _wire(self) -> None:
        c, doc, ex = self.controls, self.document, self.experiment
        self.commands = RunCommands(self)
        self.commands.finished.connect(self.trainingFinished)
        for name in ("request", "train", "continue_training", "step", "step_rating", "reset", "toggle_pause", "stop",
                     "continue_blocker", "wait_for_training"):  # what scripts and tests ask the window for
            setattr(self, name, getattr(self.commands, name))
        for name in ("grid_ratings", "current_session", "is_modified", "load_ratings", "load_session", "open_path",
                     "open_file", "open_example", "import_path", "save_session"):  # and the document for these
            setattr(self, name, getattr(doc, name))
        self.export_results, self.export_table = self.exporter.export_results, self.exporter.export_table
        c.speedChanged.connect(ex.set_speed)
        self.add_me.keeper = self.grid_model.add_user_with_ratings  # refused: the panel keeps the person
        self.lessons.plantedChanged.connect(self.latent_map.set_truth)
        for source in (c, self.grid, *self._speakers):
            source.statusMessage.connect(self.show_message)
        doc.statusMessage.connect(self.show_message)
        ex.message.connect(self.show_message)
        c.widgetsRebuilt.connect(self._apply_tab_order)
        doc.titleChanged.connect(self._show_title)
        doc.modifiedChanged.connect(self.setWindowModified)
        self.results.exportRequested.connect(self.exporter.export_table)
        self.results.recommendationSettingsChanged.connect(ex.set_recommendation_settings)
        ex.set_recommendation_settings(int(self.top_n.value()), int(self.min_ratings.value()))

    def _build_menus(self) -> None:
        actions.build_menus(self, {"window": self, "commands": self.commands, "document": self.document,
                                   "plot": self.plot, "exporter": self.exporter, "recent": self.recent,
                                   "lessons": self.lessons, "data_kind": self.data_kind})
        self.action_full_precision.setCheckable(True)
        self.action_full_precision.setChecked(self.settings.full_precision())
        self.action_undo_clear_runs.setEnabled(self.plot.can_undo_clear)
        self.plot.undoClearAvailable.connect(self.action_undo_clear_runs.setEnabled)
        self.commands.sync_buttons()

    @Slot(str)
    def _show_title(self, title: str) -> None:
        self.setWindowTitle(f"{title}[*] — MF Studio")

    def sizeHint(self) -> QSize:
        return QSize(1280, 800)

    @Slot()
    def open_sweep(self) -> None:
        """Training ▸ Sweep…: the sweep window (gui/sweep_panel.py) over the grid and the controls."""
        from mfstudio.gui.sweep_panel import open_sweep_window

        open_sweep_window(self)

    # ================================================================ what scripts and tests ask for
    @property
    def running(self) -> bool:
        """True while a training run is going (paused included)."""
        return self.experiment.running

    @property
    def results_stale(self) -> bool:
        return self.experiment.results_stale

    @property
    def result(self) -> RunResult | None:
        """The results shown in the tables (None before any training)."""
        return self.experiment.result

    @property
    def document_title(self) -> str:
        return self.document.title

    @property
    def session_path(self) -> Path | None:
        return self.document.path

    def _map_folded(self, folded: bool) -> None:
        if folded:
            self.show_message("The latent map is folded to the right edge (no room beside the loss curve): "
                              "widen the window or drag the edge open.")

    def show_message(self, text: str, timeout_ms: int = 10_000) -> None:
        """A one-line message in the status bar."""
        self.statusBar().showMessage(text, timeout_ms)

    def new_grid(self, n_users: int, n_items: int) -> None:
        self.document.new_grid(n_users, n_items)
        self.grid.setCurrentIndex(self.grid_model.index(0, 0))

    # ================================================================ help, focus, settings
    @Slot(bool)
    def set_full_precision(self, on: bool) -> None:
        self.settings.set_full_precision(bool(on))
        self.show_message("CSV exports now write numbers in full." if on
                          else "CSV exports now write 6 significant digits.")

    @Slot()
    def about(self) -> None:
        QMessageBox.about(self, "About MF Studio", ABOUT)

    def shortcut_rows(self) -> list[tuple[str, str, str]]:
        """(menu, command, keys) for every menu command that has keys, in menu order."""
        return actions.shortcut_rows(self.menuBar())

    @Slot()
    def show_help(self) -> None:
        """Help ▸ What am I looking at?: one paragraph per view."""
        dialogs.show_text(self, "What am I looking at?", help_texts.page())

    @Slot()
    def show_shortcuts(self) -> None:
        """Help ▸ Keyboard shortcuts: every command's keys, read from the menus themselves."""
        dialogs.show_shortcuts(self, self.shortcut_rows() + actions.EXTRA_SHORTCUTS)

    def tab_chain(self) -> list[QWidget]:
        """The widgets Tab visits, in order: grid, solver, its parameters, seed, hold-out, buttons, results."""
        return [self.grid, *self.controls.tab_chain(), *self.results.tab_chain()]

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
        self.controls.solver_box.setFocus(Qt.FocusReason.ShortcutFocusReason)

    @Slot()
    def focus_results(self) -> None:
        self.tabs.tabBar().setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _restore_settings(self) -> None:
        """Geometry, splitters, solver and parameters from the last run; damaged values are ignored."""
        st = self.settings
        if st.geometry() is not None:
            self.restoreGeometry(st.geometry())
        for name, splitter in (("main", self.main_split), ("right", self.right_split), ("top", self.top_split)):
            if st.splitter_state(name) is not None:
                splitter.restoreState(st.splitter_state(name))
        self.controls.restore_from(st)

    def store_settings(self) -> None:
        """Remember geometry, splitters, solver and parameters (called on close)."""
        st = self.settings
        st.set_geometry(self.saveGeometry())
        st.set_splitter_state("main", self.main_split.saveState())
        st.set_splitter_state("right", self.right_split.saveState())
        st.set_splitter_state("top", self.top_split.saveState())
        self.controls.store_to(st)
        st.sync()

    # ================================================================ drag and drop, closing
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept a local file (a session or ratings) or a MovieLens folder dragged onto the window."""
        event.acceptProposedAction() if dropped_path(event) else event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        event.acceptProposedAction() if dropped_path(event) else event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        """Open the dropped file as File ▸ Open would (asking about unsaved changes first)."""
        path = dropped_path(event)
        if path is None:
            return event.ignore()
        event.acceptProposedAction()
        self.document.open_file(path)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Ask about unsaved changes (or a running training), stop the run, remember the settings, and go."""
        if self._shut_down:  # quit_keeping_work() already ran: its recovery file must stay
            return event.accept()
        if not self.document.may_close(ask=self.ask_before_closing):
            return event.ignore()
        self._shut_down = True
        self.store_settings()
        self.document.close_cleanly()
        self._stop_timers()
        event.accept()

    def quit_keeping_work(self, timeout_ms: int = 60_000) -> bool:
        """Shut down without asking anything (SIGTERM, a Ctrl+C nobody can answer, ``QApplication.exit()``).

        Unsaved work is kept in the recovery file for the next start (see :meth:`Document.keep_work`).
        False when the training thread did not stop in time or the work could not be written; then
        the caller must not destroy the thread.
        """
        if self._shut_down:
            return not self.running
        kept = self.document.keep_work(timeout_ms)
        self.store_settings()
        self.document.autosaver.release()
        self._stop_timers()
        self._shut_down = True
        return kept

    def _stop_timers(self) -> None:
        """Every view with a redraw timer stops it (the loss curve, the latent map, ...)."""
        for view in (self, *self.findChildren(QWidget)):
            stop = getattr(view, "stop_timers", None)
            if callable(stop):
                stop()

    @Slot()
    def _on_about_to_quit(self) -> None:
        if not self._shut_down:  # the program ends without this window having closed
            self.quit_keeping_work()
