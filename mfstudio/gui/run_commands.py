"""What the run buttons and menu commands do: Train, Continue, One step, One update, Reset, Pause and Stop.

Each command builds one :class:`RunRequest` from the grid and the controls (checked once), hands it to the
experiment and keeps the buttons and actions in step with the run. The window lends its parts (experiment,
document, controls, selection, grid, presenter, actions and status bar); nothing here is a view.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QMessageBox

from mfstudio.core import MFStudioError
from mfstudio.core.lesson import Lesson
from mfstudio.gui.experiment import RunEnd, RunRequest, RunStart, Updated


class RunCommands(QObject):
    """The run's commands for one window. ``finished(reason)`` follows every run's end, after the buttons."""

    finished = Signal(str)

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.w = window
        ex, c = window.experiment, window.controls
        for button, slot in ((c.train_button, self.train), (c.pause_button, self.toggle_pause),
                             (c.stop_button, self.stop), (c.step_button, self.step), (c.reset_button, self.reset),
                             (c.continue_button, self.continue_training), (c.update_button, self.step_rating)):
            button.clicked.connect(slot)
        window.document.lessonOpened.connect(self._on_lesson)
        ex.updated.connect(self._on_updated)
        c.paramsChanged.connect(self._sync_continue)
        window.document.gridChanged.connect(self._sync_continue)
        ex.modelChanged.connect(self._sync_continue)
        ex.started.connect(self._on_started)
        ex.finished.connect(self._on_finished)  # after the views: they show the end before the buttons change

    @property
    def running(self) -> bool:
        """True while a training run is going (paused included)."""
        return self.w.experiment.running

    def request(self) -> RunRequest:
        """What Train, Continue, Step and Reset run: the grid's data and the controls' parameters, checked once."""
        doc = self.w.document
        return RunRequest.make(doc.grid_ratings(), doc.grid_held_out_cells(), self.w.controls.solver(),
                               self.w.controls.shown_params(), data_version=doc.data_version,
                               patience=self.w.controls.patience(), relevance=self.w.controls.relevance())

    def _command(self, run: Any, title: str = "Cannot start training", request: RunRequest | None = None) -> bool:
        if self.w.experiment.running:
            return False
        try:
            request = request if request is not None else self.request()
            run(request)
        except MFStudioError as exc:
            self.w.document.warn(title, str(exc))
            return False
        if self.w.experiment.running:  # remembered now, so even a crash keeps them
            self.w.controls.store_to(self.w.settings, request.params)
            if request.patience is not None and len(request.held_out_cells) == 0:  # as `mfstudio train` says
                self.w.show_message(f"Note: a patience of {request.patience:,} steps needs ratings held out to watch; "
                                    "this run has none, so it runs without early stopping (set a hold-out share).")
        return True

    @Slot()
    def train(self) -> None:
        """Train a new model from the seed's random start, for Steps steps (always fresh)."""
        self._command(self.w.experiment.train)

    @Slot()
    def continue_training(self) -> None:
        """Continue: make Steps more steps from the current model's factors, on the same line of the curve."""
        if self.running:
            return
        try:
            request, why = self.request(), ""
        except MFStudioError as exc:
            request, why = None, str(exc)
        why = self.w.experiment.continue_blocker(request, why)
        if why:
            self.w.show_message(f"Nothing to continue: {why}")
            return self._sync_continue()
        self._command(self.w.experiment.continue_, request=request)

    @Slot()
    def step(self) -> None:
        """Make one training step on the current model (a new one if there is none, or the data changed)."""
        self._command(self.w.experiment.step)

    @Slot()
    def step_rating(self) -> None:
        """Make the next single update (a rating's, or half a step) and show what it did."""
        sel = self.w.selection.current
        self._command(lambda r: self.w.experiment.step_update(r, (sel.user, sel.item)), "Cannot make an update")

    @Slot(object)
    def _on_lesson(self, lesson: Lesson) -> None:
        """A lesson was opened: presenter mode, then the steps it starts with."""
        self.w.presenter.enter(lesson)
        if lesson.start_step:
            self.w.controls.set_params({"steps": int(lesson.start_step)})
            self.train()

    @Slot(object)
    def _on_updated(self, updated: Updated) -> None:
        u = updated.update
        if updated.diverged:
            self.w.show_message(updated.shown.snapshot.message if updated.shown.snapshot else "Training diverged.")
            return
        if u.is_rating:  # its cell, highlighted in the grid and in R-hat (and explained)
            self.w.selection.select(u.user, u.item)
        self.w.document.mark_results_unsaved()

    @Slot()
    def reset(self) -> None:
        """Forget the model and draw a new random start (the seed goes up by one), shown at step 0."""
        if self.running:
            return
        seed = int(self.w.controls.seed.value()) + 1
        self.w.controls.set_seed(0 if seed > self.w.controls.seed.maximum() else seed)
        if self._command(self.w.experiment.new_start, "Cannot reset"):
            self.w.show_message(f"New random start from seed {self.w.controls.seed.value()}: press Train, Continue or "
                              "Step.")

    @Slot()
    def toggle_pause(self) -> None:
        """Pause a going run, or resume a paused one."""
        ex = self.w.experiment
        if not ex.running:
            return
        if ex.paused:
            ex.resume()
            self.w.show_message("Resumed.", 2000)
        else:
            ex.pause()
            self.w.show_message("Paused; press Resume to go on or Stop to end the run.")
        self.sync_buttons()

    @Slot()
    def stop(self) -> None:
        """Stop the run (within a fraction of a second); its results are kept."""
        self.w.experiment.stop()

    def continue_blocker(self) -> str:
        """Why Continue cannot go on from the current model now ("" when it can)."""
        try:
            return self.w.experiment.continue_blocker(self.request())
        except MFStudioError as exc:
            return self.w.experiment.continue_blocker(None, str(exc))

    @Slot()
    def _sync_continue(self) -> None:
        """Continue is enabled only when there is a model to go on from; its tooltip says why not."""
        why = "A run is going." if self.running else self.continue_blocker()
        tip = "Make Steps more steps from the current factors." + (
            f" Not now: {why}" if why and not self.running else "")
        for w in (self.w.controls.continue_button, self.w.action_continue):
            w.setEnabled(not why)
            w.setToolTip(tip)

    @Slot(object)
    def _on_started(self, run: RunStart) -> None:
        self.w.grid_model.set_read_only(True)
        self.sync_buttons()
        self.w.show_message(run.description, 3000)

    @Slot(object)
    def _on_finished(self, end: RunEnd) -> None:
        self.w.grid_model.set_read_only(False)
        self.sync_buttons()
        o, snap = end.outcome, end.snapshot
        if o.user_error:
            self.w.document.warn("Cannot start training", o.error)
        elif o.error:
            self.w.document.warn("Training stopped", o.error + " The grid and the last good results are kept.")
        elif snap is not None and snap.failed:
            self.w.show_message("Training diverged; the last good factors are shown.")
            self._offer_suggestion(snap.message, snap.suggestion)
        elif snap is not None and snap.reason is not None:
            how = snap.reason.describe(snap.step, snap.best_step)
            at = "" if snap.best_step is not None else f" at step {snap.step:,}"
            self.w.show_message(f"Finished{at}: {how}.")
        if end.shown is not None and not o.user_error:
            self.w.document.mark_results_unsaved()
        self.finished.emit(end.reason)

    def _offer_suggestion(self, message: str, suggestion: dict[str, float]) -> None:
        """After a divergence: say what happened; when core found a learning rate that trains, offer to set it."""
        value = suggestion.get("alpha")
        box = self.w.controls.param_widgets.get("alpha")
        if value is None or box is None or self.w.document.quitting:
            return self.w.document.warn("Training diverged", message)
        B = QMessageBox.StandardButton
        if QMessageBox.question(self.w, "Training diverged", f"{message}\n\nSet the learning rate α to {value:g}?",
                                B.Yes | B.No, B.Yes) == B.Yes:
            box.setValue(value)
            self.w.show_message(f"Learning rate α set to {value:g}; press Train to try it.")

    def sync_buttons(self) -> None:
        """The run buttons and actions as the run allows: Train and the file commands off while one goes."""
        running, paused = self.running, self.w.experiment.paused
        self.w.controls.set_running(running, paused)
        self.w.grid_panel.set_running(running)
        w = self.w
        for a in (w.action_train, w.action_step, w.action_step_rating, w.action_reset, w.action_export,
                  w.action_import, w.action_resize):
            a.setEnabled(not running)
        self.w.action_pause.setEnabled(running)
        self.w.action_stop.setEnabled(running)
        self._sync_continue()

    def wait_for_training(self, timeout_ms: int = 10_000) -> bool:
        """Stop any run and wait until its thread has ended (for closing, loading and tests)."""
        return self.w.experiment.shutdown(timeout_ms)
