"""The document: the grid's data as a session, its title and file, unsaved changes, opening, saving and recovery.

Nothing typed is lost: every grid change is an undo step, the title marks unsaved
changes, New/Open/Quit ask Save / Discard / Cancel, and a recovery file is written
shortly after each change (offered again after a crash). Opening is all or nothing:
a session is checked whole before anything changes, and should showing it still
fail, the previous document comes back.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from mfstudio.core import (
    EXAMPLES,
    DataError,
    MFStudioError,
    Ratings,
    Session,
    defaults,
    load_example,
    memory,
)
from mfstudio.gui import dialogs
from mfstudio.gui.busy import BIG_FILE_BYTES, BIG_RATINGS, data_bytes, run_busy
from mfstudio.gui.controls import ControlPanel
from mfstudio.gui.experiment import Experiment, Shown
from mfstudio.gui.grid import LOCKED_MESSAGE, RatingsTableModel
from mfstudio.gui.holdout import Holdout
from mfstudio.gui.prepare import Prepared, prepare, window_top_n
from mfstudio.gui.recent import RecentFiles
from mfstudio.gui.recovery import Autosaver, failure_reason
from mfstudio.gui.runs import RunList
from mfstudio.gui.settings import Settings

SESSION_SUFFIX = ".mfstudio"
UNTITLED = "Untitled"
RECOVERED_TITLE = "Recovered session"


@dataclass
class _Before:
    """The shown document, to put back when a load fails halfway."""

    session: Session
    title: str
    path: Path | None
    modified: bool


class Document(QObject):
    """The data being edited and its file: what Save writes, what Open replaces, what recovery keeps."""

    titleChanged = Signal(str)
    modifiedChanged = Signal(bool)
    gridChanged = Signal()  # the ratings or the held-out cells changed (the cached Ratings are new)
    opened = Signal()  # a new document is shown (the grid starts at its top-left corner)
    lessonOpened = Signal(object)  # Lesson: the document shown is a lesson's session (presenter mode follows)
    statusMessage = Signal(str, int)

    def __init__(self, window: QWidget, controls: ControlPanel, experiment: Experiment, settings: Settings,
                 recovery_folder: str | os.PathLike[str] | None) -> None:
        super().__init__(window)
        self.window, self.controls, self.experiment = window, controls, experiment
        self.tuned = ""  # what new data changed of the parameters (see _settings)
        # The grid's model is the document's child: destroying the document disconnects its slots first.
        self.grid_model = grid_model = RatingsTableModel(parent=self)
        self.settings = settings
        self.title = "Example 1"
        self.path: Path | None = None
        self.quitting = False  # shutting down without asking: no dialogs, messages go to stderr
        self._extra_modified = False  # a restored session counts as unsaved though its undo history is empty
        self._results_unsaved = False  # a finished run's results are work that Save keeps
        self._keep_recovery_file = True  # until the offer is made, loading must not remove a crash's recovery file
        self.data_version = 0
        self._grid_ratings: Ratings | None = None
        self._grid_held = np.zeros((0, 2), np.int64)
        self._grid_cache_version = -1
        self.autosaver = Autosaver(self._session_for_recovery, folder=recovery_folder, parent=self)
        self.autosaver.failed.connect(self._on_autosave_failed)
        self.recent = RecentFiles(settings, parent=self)
        self.recent.openRequested.connect(self.open_recent)
        m = grid_model
        m.ratingsChanged.connect(self._on_ratings_changed)
        m.undo_stack.cleanChanged.connect(self._update_modified)
        m.undo_stack.indexChanged.connect(self._on_undo_index)
        # Belt and braces for the Ratings cache: any change of cells or shape invalidates it. Not heldOutChanged:
        # it always follows ratingsChanged, whose slot has just rebuilt the cache for the changed grid.
        for signal in (m.dataChanged, m.modelReset, m.rowsInserted, m.rowsRemoved, m.columnsInserted,
                       m.columnsRemoved, m.headerDataChanged):
            signal.connect(self._invalidate_grid_cache)
        self.holdout = Holdout(self)
        controls.paramsChanged.connect(self._on_params_changed)
        self.runs = RunList(experiment, self)  # the session's runs (the loss curve and the runs table follow them)
        self.runs.edited.connect(self.mark_results_unsaved)

    # ------------------------------------------------------------------ messages
    def message(self, text: str, timeout_ms: int = 10_000) -> None:
        self.statusMessage.emit(text, timeout_ms)

    def warn(self, title: str, text: str) -> None:
        """A warning dialog; while quitting (no one to click it) a line on stderr instead."""
        if self.quitting:
            print(f"{title}: {text}", file=sys.stderr, flush=True)
            return
        QMessageBox.warning(self.window, title, text)

    # ------------------------------------------------------------------ the grid as data
    def grid_ratings(self) -> Ratings:
        """The grid as Ratings, converted once per change of the grid (a 943 x 1682 grid takes ~15 ms)."""
        if self._grid_cache_version != self.data_version or self._grid_ratings is None:
            self._grid_ratings = self.grid_model.to_ratings()
            self._grid_held = self.grid_model.held_out_cells()
            self._grid_held.setflags(write=False)  # one array per version: runs and views may keep it as it is
            self._grid_cache_version = self.data_version
        return self._grid_ratings

    def grid_held_out_cells(self) -> np.ndarray:
        """The grid's held-out cells as a (k, 2) array, cached like :meth:`grid_ratings`."""
        self.grid_ratings()
        return self._grid_held

    @Slot()
    def _invalidate_grid_cache(self, *args: Any) -> None:
        self._grid_cache_version = -1

    @Slot()
    def _on_ratings_changed(self) -> None:
        self.data_version += 1
        self.experiment.data_changed()
        self.gridChanged.emit()

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
        result = self.experiment.result_for(ratings)
        if result is not None:  # Session marks cold users/items on the factors: on a copy, not the ones shown
            result = dataclasses.replace(result, factors=copy.copy(result.factors), params=dict(result.params))
        return functools.partial(Session, ratings=ratings, held_out_cells=self.grid_held_out_cells(), result=result,
                                 zeros_are_missing=self.grid_model.zeros_are_missing, runs=self.runs.saved(),
                                 **self._settings())

    def _settings(self, n_ratings: int | None = None, implicit: bool = False) -> dict[str, Any]:
        """The run settings the controls show, as a Session takes them (checked). For new data of ``n_ratings``
        ratings (counts if ``implicit``): solver and defaults follow the data (core.defaults), see ``self.tuned``."""
        c = self.controls
        solver = defaults.solver_for(c.solver(), implicit)  # counts of events get an implicit-feedback solver
        params = c.params() if solver == c.solver() else c.remembered(solver)
        if n_ratings is not None:
            tuned = defaults.retune(solver, params, n_ratings)
            params.update(tuned)
            self.tuned = defaults.sentence(solver, tuned, n_ratings) if tuned else ""
        return dict(solver=solver, params=params, holdout=c.holdout(), patience=c.patience(),
                    top_n=self.experiment.top_n, relevance=c.relevance())

    # ------------------------------------------------------------------ loading
    def load_ratings(self, ratings: Ratings, *, title: str | None = None,
                     held_out_cells: np.ndarray | None = None) -> None:
        """Replace the data with ``ratings`` (fresh model, no results)."""
        cells = np.zeros((0, 2), np.int64) if held_out_cells is None else held_out_cells
        settings = self._settings(ratings.nnz, ratings.implicit)
        self.load_session(Session(ratings=ratings, held_out_cells=cells, **settings), title=title)
        if self.tuned:
            self.message(self.tuned, 20_000)

    def load_session(self, session: Session, *, title: str | None = None, path: str | Path | None = None) -> None:
        """Show ``session``: ratings, hold-out, solver and parameters, and its results if it has any.

        All or nothing: everything is checked first (a MFStudioError with a sentence leaves the
        window untouched), and should showing it still fail, the previous document comes back.
        """
        prepared = self._prepare(session)
        if not self.experiment.shutdown():
            raise DataError("The training run did not stop in time, so nothing was opened; try again in a moment.")
        before = self._before()
        try:
            self._apply(prepared, title=title, path=path)
        except Exception as exc:
            traceback.print_exc()
            if before is not None:
                self._restore(before)
            raise DataError(f"The data could not be shown because of an unexpected error ({exc}); "
                            "the window is as it was.") from exc

    def _prepare(self, session: Session) -> Prepared:
        """Check a session whole and compute what showing it needs, changing nothing (see :func:`prepare`).

        Big data (BIG_RATINGS) gets its grid made beforehand too, on a thread while a busy dialog keeps the
        window responsive, so that showing it leaves this thread only the swap."""
        big = session.ratings.nnz >= BIG_RATINGS
        if not big or self.quitting:
            return prepare(session, self.experiment, build_grid=big)
        return run_busy(self.window, f"Preparing {session.ratings.nnz:,} ratings to show…",
                        functools.partial(prepare, session, self.experiment, build_grid=True))

    def _before(self) -> _Before | None:
        """What is shown now (None before the first document, or when it cannot be read back)."""
        if self.grid_model.shape == (0, 0) and self.experiment.result is None:
            return None
        try:
            return _Before(self.current_session(), self.title, self.path, self.is_modified())
        except MFStudioError:
            return None

    def _restore(self, before: _Before) -> None:
        """Put back the document that was shown before a load failed (marked unsaved if it was)."""
        try:
            self._apply(self._prepare(before.session), title=before.title, path=before.path)
        except Exception:  # nothing better can be done; the error being reported says what failed
            traceback.print_exc()
            return
        if before.modified:
            self._extra_modified = True
            self._update_modified()

    def _apply(self, prepared: Prepared, *, title: str | None, path: str | Path | None) -> None:
        session = prepared.session
        self.experiment.shutdown()
        self.controls.set_solver(session.solver, dict(session.params))
        self.controls.data_ratings = session.ratings.nnz  # a solver chosen later starts from defaults for it
        self.holdout.show(session.holdout)
        self.controls.set_patience(session.patience)
        self.controls.set_relevance(session.relevance)
        held = prepared.held_out_cells
        self.grid_model.set_zeros_are_missing(session.zeros_are_missing, undoable=False)
        self.grid_model.set_ratings(session.ratings, held, built=prepared.grid)
        self.opened.emit()
        if prepared.draw is not None:
            self.holdout.apply(prepared.draw)
        self.experiment.clear()
        self.experiment.set_recommendation_settings(window_top_n(session), self.experiment.min_ratings)
        if prepared.result is not None:
            self.experiment.show_loaded(Shown(prepared.result, session.ratings, self.grid_held_out_cells(),
                                              prepared.recs, prepared.history, patience=session.patience))
        if session.runs:  # else (sessions from before the runs table) the shown result is the one run
            self.runs.load(session.runs)
        self.path = Path(path) if path is not None else None
        if title is not None:
            self.title = title
        elif path is not None:
            self.title = Path(path).name
        self.titleChanged.emit(self.title)
        # A freshly opened document is the baseline: no undo history, nothing unsaved, no save scheduled.
        self.grid_model.undo_stack.clear()
        self.holdout.show(self.controls.holdout())
        self.set_saved()
        self.gridChanged.emit()
        if self._keep_recovery_file:
            self.autosaver.stop()
        else:
            self.autosaver.discard()  # the work it protected was saved or discarded before this load

    def start(self, ratings: Ratings, pending_recovery: Path | None) -> None:
        """Show the first document; then offer a crash's recovery file, if there is one."""
        self.load_ratings(ratings, title="Example 1")
        if pending_recovery is not None:
            self.offer_recovery(pending_recovery)
        self._keep_recovery_file = False

    # ------------------------------------------------------------------ unsaved changes
    def is_modified(self) -> bool:
        """True when the data or the results differ from what was last opened or saved."""
        return self._extra_modified or self._results_unsaved or not self.grid_model.undo_stack.isClean()

    @Slot()
    @Slot(bool)
    def _update_modified(self, *args: Any) -> None:
        self.modifiedChanged.emit(self.is_modified())

    @Slot(int)
    def _on_undo_index(self, index: int) -> None:
        self._update_modified()
        if self.is_modified():
            self.autosaver.mark_changed()

    @Slot()
    def _on_params_changed(self) -> None:
        if self.is_modified():  # the recovery file carries the parameters too
            self.autosaver.mark_changed()

    def mark_results_unsaved(self) -> None:
        """New results are work too: the title says so, closing asks, and the recovery file keeps them."""
        self._results_unsaved = True
        self._update_modified()
        self.autosaver.mark_changed()

    def set_saved(self) -> None:
        """The document now matches its file (or was just opened): clean, nothing to recover."""
        self._extra_modified = False
        self._results_unsaved = False
        self.grid_model.undo_stack.setClean()
        self._update_modified()

    def _session_for_recovery(self) -> Callable[[], Session] | None:
        return self.session_snapshot() if self.is_modified() else None

    @Slot(str)
    def _on_autosave_failed(self, text: str) -> None:
        self.message(text, 30_000)
        if self.quitting:  # nobody will see the status bar
            print(text, file=sys.stderr, flush=True)

    def maybe_save(self, doing: str) -> bool:
        """Before ``doing`` (e.g. "opening a file") replaces or closes unsaved work, ask Save / Discard / Cancel.

        Returns True when it is fine to go on (saved, discarded or nothing to save).
        """
        if not self.is_modified():
            return True
        B = QMessageBox.StandardButton
        text = f"{self.title} has changes that are not saved. Save them before {doing}?"
        if self.experiment.running:
            text += " The training run will be stopped."
        answer = QMessageBox.question(self.window, "Unsaved changes", text, B.Save | B.Discard | B.Cancel, B.Save)
        if answer == B.Save:
            return self.save_session()
        # On Discard the recovery file stays until the next document has loaded (or the window has closed),
        # so a failed open loses nothing.
        return answer == B.Discard

    def may_close(self, *, ask: bool = True) -> bool:
        """Before the window closes: Save / Discard / Cancel for unsaved changes, or, while training, whether to
        stop; then stop the run and wait for its thread. False: the window stays."""
        running = self.experiment.running
        if ask and self.is_modified():
            if not self.maybe_save("closing"):
                return False
        elif ask and running:
            B = QMessageBox.StandardButton
            if QMessageBox.question(self.window, "Training is running",
                                    "A training run is going. Stop it and close MF Studio?", B.Yes | B.No,
                                    B.No) != B.Yes:
                return False
        if running and not self.experiment.shutdown(10_000):
            self.warn("Still stopping", "Training did not stop in time; try closing again in a moment.")
            return False
        return True

    def close_cleanly(self) -> None:
        """A clean exit: nothing to recover next time (waits for a save being written, if any)."""
        self.autosaver.discard()
        self.autosaver.release()

    def keep_work(self, timeout_ms: int) -> bool:
        """Quitting without asking: stop the run and write unsaved work (the stopped run's results included)
        to the recovery file, kept so that the next start offers it. Never opens a dialog; True when the
        run stopped in time and the work is safe."""
        self.quitting = True
        stopped = self.experiment.shutdown(timeout_ms)
        if self.is_modified():
            kept = self.autosaver.save_now()  # on this thread: complete before the process ends
        else:
            self.autosaver.discard()
            kept = True
        self.autosaver.stop()  # the stopped run marked a change; it is in the file already
        return stopped and kept

    # ------------------------------------------------------------------ crash recovery
    def offer_recovery(self, path: Path) -> bool:
        """Offer to restore the session a crash left at ``path``; True if it was restored.

        Restore opens it untitled and unsaved (the recovery file stays until the work is
        saved or discarded); Discard removes the file.
        """
        if not dialogs.ask_restore(self.window):
            self.autosaver.discard()
            if path != self.autosaver.path:
                path.unlink(missing_ok=True)
            self.message("The unsaved work from last time was discarded.")
            return False
        loaded = self.read(path, "Could not restore the unsaved work")
        if loaded is None:
            from mfstudio.io.atomic import set_aside

            try:  # under a name not taken: an earlier unreadable file set aside is kept too
                aside = set_aside(path, "recovery-unreadable")
                self.message(f"The unreadable recovery file was kept as {aside}.", 20_000)
            except OSError:
                pass
            return False
        keep, self._keep_recovery_file = self._keep_recovery_file, True
        try:
            self.load_session(loaded.session, title=RECOVERED_TITLE)
        except MFStudioError as exc:
            # the file stays where it was (not adopted, so closing cannot discard it): offered again next time
            self.warn("Could not restore the unsaved work", f"{exc} The unsaved work is kept in {path}.")
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
        self.message("Restored the work that was not saved; save it to keep it.", 20_000)
        return True

    # ------------------------------------------------------------------ opening
    def start_folder(self) -> str:
        return self.settings.last_folder()

    def open_example(self, name: str) -> None:
        """Replace the data with a bundled example (no questions asked; see :meth:`open_example_asking`)."""
        self.load_ratings(load_example(name), title=EXAMPLES[name].split(" (")[0])
        self.message(f"Opened {EXAMPLES[name]}.")

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
        self.message(f"New empty grid of {n_users:,} users × {n_items:,} items; type or paste ratings into it.")

    @Slot()
    def new_dialog(self) -> bool:
        """File ▸ New: ask for a size, then about unsaved changes, then start an empty grid."""
        size = dialogs.ask_new_grid_size(self.window, dialogs.DEFAULT_NEW_SIZE)
        if size is None or not self.maybe_save("starting a new grid"):
            return False
        self.new_grid(*size)
        return True

    @Slot()
    def resize_dialog(self) -> bool:
        """Edit ▸ Resize grid: ask for the new size; users and items are added or dropped at the end (undoable)."""
        if self.grid_model.read_only:
            self.message(LOCKED_MESSAGE)
            return False
        size = dialogs.ask_new_grid_size(self.window, self.grid_model.shape)
        if size is None:
            return False
        return self.grid_model.resize_grid(*size)

    @Slot()
    def open_dialog(self) -> bool:
        """File ▸ Open: ask for a file, then about unsaved changes, and open it."""
        from mfstudio import io

        path, _ = QFileDialog.getOpenFileName(self.window, "Open a session or ratings", self.start_folder(),
                                              ";;".join(io.FILE_FILTERS))
        return bool(path) and self.open_file(path)

    @Slot()
    def open_folder_dialog(self) -> bool:
        """File ▸ Open folder: ask for a MovieLens folder, then about unsaved changes, and open it."""
        path = QFileDialog.getExistingDirectory(self.window, "Open a MovieLens folder", self.start_folder())
        return bool(path) and self.open_file(path)

    def open_file(self, path: str | Path, implicit: bool = False) -> bool:
        """Open ``path`` as the user asked (recent files, drag and drop): unsaved changes are asked about first."""
        if not self.maybe_save(f"opening {Path(path).name}"):
            return False
        return self.open_path(path, implicit)

    @Slot(str)
    def open_recent(self, path: str) -> bool:
        """Open a recent file or MovieLens folder; one that has gone is dropped from the list with a message."""
        if not (os.path.isfile(path) or os.path.isdir(path)):
            self.recent.remove(path)
            self.message(f"{Path(path).name} is no longer at {Path(path).parent}; it was removed from the recent "
                         "files.")
            return False
        return self.open_file(path)

    def read(self, path: str | Path, title: str, zeros_are_missing: bool = True, implicit: bool = False) -> Any:
        """``io.load(path)``, or None after a dialog titled ``title`` said what went wrong.

        A newly opened document starts with "0 means not rated" on (as ``mfstudio train`` reads
        files); importing into the grid reads with the grid's own rule.
        """
        from mfstudio import io

        def load() -> Any:
            return io.load(path, keep_zeros=not zeros_are_missing, implicit=implicit)

        try:
            size = data_bytes(path)
            if size < BIG_FILE_BYTES or self.quitting:
                return load()
            text = f"Opening {Path(path).name} ({memory.human(size)})…"
            self.message(text, 0)
            try:  # on a thread: the window repaints and says what it is doing
                return run_busy(self.window, text, load)
            finally:
                self.message("")
        except (MFStudioError, OSError) as exc:
            self.warn(title, str(exc))
        except Exception as exc:  # a reader bug must not take the user's data with it
            traceback.print_exc()
            self.warn(title, f"{Path(path).name} could not be read because of an unexpected error ({exc}); "
                             "the data you had is kept.")
        return None

    def open_path(self, path: str | Path, implicit: bool = False) -> bool:
        """Open ratings or a session from ``path`` (no questions asked); a dialog says what went wrong."""
        loaded = self.read(path, "Could not open the file", implicit=implicit)
        if loaded is None:
            return False
        session, self.tuned = loaded.session, ""
        if loaded.fmt != "session":  # a rating file holds no solver: keep the one chosen here
            zeros, r = self.zero_rule_for(session.ratings, loaded.notices, True), session.ratings
            try:
                session = Session(ratings=r, held_out_cells=session.held_out_cells,
                                  zeros_are_missing=zeros, **self._settings(r.nnz, r.implicit))
            except MFStudioError:  # parameters that do not validate: the file's defaults are a fine start
                session = Session(ratings=session.ratings, held_out_cells=session.held_out_cells,
                                  zeros_are_missing=zeros, top_n=self.experiment.top_n)
        try:
            self.load_session(session, path=path)
        except MFStudioError as exc:
            self.warn("Could not open the file", f"{Path(path).name}: {exc}")
            return False
        self.remember_file(path)
        lesson = getattr(loaded, "lesson", None)
        self.message(" ".join(loaded.notices) if loaded.notices else
                     f"Opened the lesson “{lesson.title}”; Escape leaves presenter mode." if lesson is not None else
                     f"Opened {Path(path).name}. {self.tuned}".strip(), 20_000 if loaded.notices else 10_000)
        if lesson is not None:
            self.lessonOpened.emit(lesson)
        return True

    def open_lesson_asking(self, name: str) -> bool:
        """Help ▸ Lessons entry: ask about unsaved changes, then open the shipped lesson ``name``."""
        from mfstudio.core.lessons import lesson_path

        if not self.maybe_save("opening a lesson"):
            return False
        return self.open_path(lesson_path(name))

    def zero_rule_for(self, ratings: Ratings, notices: list[str], on: bool | None = None) -> bool:
        """The "0 means not rated" rule for ratings just read (``on``, default the grid's): off when the
        file lists 0 as a rating."""
        on = self.grid_model.zeros_are_missing if on is None else on
        if on and ratings.nnz and bool(np.any(ratings.observed.vals == 0)):
            notices.append("This file lists 0 as a rating, so \"0 means not rated\" was switched off for it.")
            return False
        return on

    def remember_file(self, path: str | Path) -> None:
        self.recent.add(path)
        p = Path(path).resolve()
        self.settings.set_last_folder(p.parent if p.is_dir() else p)  # beside a MovieLens folder, to pick another

    @Slot()
    def import_dialog(self) -> bool:
        """File ▸ Import ratings: ask for a file and put its ratings into the grid as one undo step."""
        from mfstudio import io

        if self.grid_model.read_only:
            self.message(LOCKED_MESSAGE)
            return False
        path, _ = QFileDialog.getOpenFileName(self.window, "Import ratings into the grid", self.start_folder(),
                                              ";;".join(io.FILE_FILTERS))
        return bool(path) and self.import_path(path)

    def import_path(self, path: str | Path) -> bool:
        """Replace the grid's ratings with those in ``path`` as one undo step; the document keeps its name."""
        m = self.grid_model
        if m.read_only:
            self.message(LOCKED_MESSAGE)
            return False
        loaded = self.read(path, "Could not import the file", self.grid_model.zeros_are_missing)
        if loaded is None:
            return False
        s = loaded.session
        name = Path(path).name
        try:  # everything checked before the grid changes
            held = np.asarray(s.held_out_cells, dtype=np.int64).reshape(-1, 2)
            memory.check_grid(s.ratings.n_users, s.ratings.n_items, s.ratings.nnz)
        except (MFStudioError, ValueError) as exc:
            self.warn("Could not import the file", f"{name}: {exc}")
            return False
        index = m.undo_stack.index()
        m.undo_stack.beginMacro(f"Import {name}")
        failed: BaseException | None = None
        try:
            if loaded.fmt != "session" and not self.zero_rule_for(s.ratings, loaded.notices):
                m.set_zeros_are_missing(False)
            elif loaded.fmt == "session":
                m.set_zeros_are_missing(s.zeros_are_missing)
            m.set_ratings(s.ratings, held, undoable=True, text=f"Import {name}")
            # the one precedence rule: the file's held-out cells, else the share the box shows
            source = Session(s.ratings, held, holdout=self.controls.holdout()).split_source()
            if isinstance(source, float):
                self.holdout.apply(source, quiet=True)
        except Exception as exc:  # all or nothing: the half-done step is undone below
            traceback.print_exc()
            failed = exc
        finally:
            m.undo_stack.endMacro()
        if failed is not None:
            if m.undo_stack.index() > index:
                m.undo_stack.undo()
            self.warn("Could not import the file", f"{name} could not be put into the grid ({failed}); "
                                                   "the grid is as it was.")
            return False
        self.settings.set_last_folder(Path(path).resolve())
        undo_keys = QKeySequence(QKeySequence.StandardKey.Undo).toString(QKeySequence.SequenceFormat.NativeText)
        notes = " ".join(loaded.notices)
        self.message(f"Imported {s.ratings.nnz:,} ratings from {name}; {undo_keys} undoes it. {notes}".strip(),
                     20_000)
        return True

    # ------------------------------------------------------------------ saving
    @Slot()
    def save_session(self) -> bool:
        """Save to the current session file, or ask for one."""
        if self.path is None or self.path.suffix.lower() != SESSION_SUFFIX:
            return self.save_session_as()
        return self.save_to(self.path)

    @Slot()
    def save_session_as(self) -> bool:
        """Ask for a file name and save the session there."""
        from mfstudio import io

        suggested = str(Path(self.start_folder()) / f"{Path(self.title).stem}{SESSION_SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self.window, "Save the session", suggested, io.SESSION_FILTER)
        if not path:
            return False
        p = Path(path)
        if p.suffix.lower() != SESSION_SUFFIX:
            p = p.with_name(p.name + SESSION_SUFFIX)
        return self.save_to(p)

    def save_to(self, path: Path) -> bool:
        from mfstudio import io

        try:
            io.save_session(path, self.current_session())
        except (MFStudioError, OSError) as exc:
            self.warn("Could not save the session", str(exc))
            return False
        except Exception as exc:  # e.g. a name that cannot be encoded: say so, and keep the work (closing is cancelled)
            self.warn("Could not save the session", f"Could not save the session to {path} ({failure_reason(exc)}); "
                      "your work is still here, unsaved.")
            return False
        self.path = path
        self.title = path.name
        self.set_saved()
        self.autosaver.discard()
        self.titleChanged.emit(self.title)
        self.remember_file(path)
        self.message(f"Saved the session to {path}.")
        return True
