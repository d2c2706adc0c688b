"""Runs a core :class:`~mfstudio.core.Training` on a worker thread and reports to the GUI thread.

The worker consumes the training generator and throttles progress where it is
emitted (at most ``MAX_RATE`` per second, and only once the GUI has taken the
previous one), so the GUI can never fall behind. The final state is always
delivered. Pause and stop go through the core's :class:`Control` (threading
events), never through queued signals, because a busy loop never sees those.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from mfstudio.core import (
    HISTORY_COLUMNS,
    Control,
    Factors,
    MFStudioError,
    Ratings,
    Recommendations,
    Snapshot,
    StopReason,
    Training,
    priority,
    recommend,
)
from mfstudio.core.notebook import printout
from mfstudio.core.params import TOP_N

MAX_RATE = 30.0  # progress signals per second, at most


@dataclass
class Progress:
    """One report from the worker: a snapshot plus the history so far (both copies)."""

    snapshot: Snapshot
    history: np.ndarray  # rows, columns as the training's History.columns (HISTORY_COLUMNS, then any ranking ones)
    printouts: list[str] = field(default_factory=list)  # the notebook's (formatted), since the last report
    printouts_dropped: int = 0  # more than PRINTOUTS_REPORTED came since the last report: the oldest were dropped


@dataclass
class Outcome:
    """How a run ended: the final snapshot (None if it failed before one), or an error sentence.

    ``user_error`` is True when the model could not even be set up because of the data
    or the parameters (the sentence then says what to change), not because of a bug.
    ``training`` is the model, handed back only once its thread has ended (Continue goes on from it).
    """

    snapshot: Snapshot | None
    history: np.ndarray
    recommendations: Recommendations | None = None
    error: str = ""
    user_error: bool = False
    training: Training | None = field(default=None, repr=False)
    printouts: list[str] = field(default_factory=list, repr=False)  # not yet reported (formatted)
    printouts_dropped: int = 0

    @property
    def reason(self) -> StopReason | None:
        return None if self.snapshot is None else self.snapshot.reason


def training_recipe(ratings: Ratings, solver: str, params: Mapping[str, Any],
                    held_out_cells: np.ndarray | None = None, patience: int | None = None, *,
                    top_n: int | None = None, relevance: float | None = None) -> Callable[[], Training]:
    """A function that builds the Training; the worker calls it, so setting up a big model
    (splitting, the random start, the first objective) does not stall the window. ``top_n`` and
    ``relevance``: the ranking metrics' k and threshold (see Training)."""
    cells = None if held_out_cells is None or len(held_out_cells) == 0 else np.array(held_out_cells)

    def build() -> Training:
        return Training(ratings, solver, dict(params), holdout=cells, patience=patience, top_n=top_n,
                        relevance=relevance)

    return build


PRINTOUTS_REPORTED = 300  # the notebook's printouts a report carries at most (the newest)


def _texts(printouts: list[tuple[int, Factors]]) -> list[str]:
    return [printout(step, f) for step, f in printouts]


def _empty_history() -> np.ndarray:
    return np.zeros((0, len(HISTORY_COLUMNS)))


class TrainingThread(QThread):
    """A thread whose :meth:`run` drives one training run until it ends.

    A QThread subclass with no event loop: the thread ends when the run does, so
    nothing queued to the GUI thread is needed to stop it (closing waits on it).
    """

    progress = Signal(object)  # Progress
    ready = Signal(object)  # list[str]: the split's warnings, once the model is built (before any progress)

    def __init__(self, training: Training | Callable[[], Training], control: Control, max_steps: int | None,
                 top_n: int, min_ratings: int = 0, budget: int | None = None,
                 pace: Callable[[], float] | None = None, log_every: int | None = None) -> None:
        super().__init__()
        self.setObjectName("mfstudio-training")
        self.recipe = None if isinstance(training, Training) else training
        self.training: Training | None = training if isinstance(training, Training) else None
        self.control = control
        self.max_steps = max_steps
        self.budget = budget
        self.pace = pace  # steps per second at most, asked before every step (slow motion); None: full speed
        self.log_every = log_every  # the notebook's printout every so many steps (None: none)
        self.top_n = top_n
        self.min_ratings = min_ratings
        self.outcome: Outcome | None = None  # written by run(), read after the thread ended
        # Set by the GUI thread when it has handled a progress report: back-pressure.
        self.taken = threading.Event()
        self.taken.set()

    def run(self) -> None:
        """Iterate the training generator, emitting throttled progress; store the outcome."""
        priority.background()  # this thread and numba's yield the cores to the window's thread
        interval = 1.0 / MAX_RATE
        last_emit = -1.0
        final: Snapshot | None = None
        if self.training is None:
            assert self.recipe is not None
            try:
                self.training = self.recipe()
            except MFStudioError as exc:  # the data or parameters do not allow a model: say so
                self.outcome = Outcome(None, _empty_history(), None, str(exc), user_error=True)
                return
            except Exception as exc:
                traceback.print_exc()
                self.outcome = Outcome(None, _empty_history(), None,
                                       f"Training could not start because of an unexpected error: {exc}")
                return
        try:
            if self.budget is not None:  # Continue and Step extend the model's budget, here on its own thread
                self.training.set_budget(self.budget)
        except MFStudioError as exc:
            self.outcome = Outcome(None, self.training.history.arrays(), None, str(exc), user_error=True,
                                   training=self.training)
            return
        self.ready.emit(list(self.training.split.warnings))
        self.training.log_every = self.log_every
        printouts: list[tuple[int, Factors]] = []  # taken from the training, not yet reported
        dropped = 0
        try:
            for snap in self.training.run(self.control, max_steps=self.max_steps, pace=self.pace):
                printouts += self.training.take_printouts()
                if len(printouts) > PRINTOUTS_REPORTED:  # the window keeps no more than that anyway
                    dropped += len(printouts) - PRINTOUTS_REPORTED
                    del printouts[:-PRINTOUTS_REPORTED]
                if snap.finished:
                    final = snap
                    break
                now = time.monotonic()
                if now - last_emit >= interval and self.taken.is_set():
                    self.taken.clear()
                    last_emit = now
                    # formatted here: R-hat of a big model and its text would stall the window
                    self.progress.emit(Progress(snap, self.training.history.arrays(), _texts(printouts), dropped))
                    printouts, dropped = [], 0
            if final is None:
                raise RuntimeError("the training ended without a final state")
            recs = None
            if self.top_n > 0 and final.factors.all_finite():
                recs = recommend(self.training.ratings, final.factors, self.top_n, train=self.training.split.train,
                                 min_ratings=self.min_ratings, solver=self.training.solver)
            printouts += self.training.take_printouts()
            dropped += max(0, len(printouts) - PRINTOUTS_REPORTED)
            self.outcome = Outcome(final, self.training.history.arrays(), recs, training=self.training,
                                   printouts=_texts(printouts[-PRINTOUTS_REPORTED:]), printouts_dropped=dropped)
        except Exception as exc:  # reported to the user on the GUI thread, never swallowed
            traceback.print_exc()
            self.outcome = Outcome(final, self.training.history.arrays(), None,
                                   f"Training stopped because of an unexpected error: {exc}", training=self.training)


class TrainingRunner(QObject):
    """Owns the thread of one run at a time.

    ``progress(Progress)`` arrives on the GUI thread at most ``MAX_RATE`` times a
    second; ``finished(Outcome)`` arrives once the thread has fully ended, so a
    receiver may start the next run at once.
    """

    progress = Signal(object)
    ready = Signal(object)  # list[str]: warnings about the model's split, once it is built
    finished = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: TrainingThread | None = None
        self.control = Control()

    # -- state ------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True from :meth:`start` until ``finished`` is emitted."""
        return self._thread is not None

    @property
    def paused(self) -> bool:
        return self.running and self.control.paused

    # -- commands (GUI thread) ----------------------------------------------------------
    def start(self, training: Training | Callable[[], Training], *, max_steps: int | None = None,
              top_n: int = int(TOP_N.default), min_ratings: int = 0, budget: int | None = None,
              pace: Callable[[], float] | None = None, log_every: int | None = None) -> None:
        """Run ``training`` (to its end, or ``max_steps`` more steps) on a new thread.

        ``training`` may be a function that builds the Training (see :func:`training_recipe`);
        it is then called on the worker thread. ``budget`` sets a new step budget first; ``pace`` gives the
        steps per second at most (read before every step, from the worker thread); ``log_every``: the
        notebook's printout every so many steps (reported with the progress). From
        here until ``finished`` the caller must not touch ``training``: the thread owns it.
        """
        if self._thread is not None:
            raise RuntimeError("A training run is already going; stop it first.")
        self.control = Control()
        thread = TrainingThread(training, self.control, max_steps, top_n, min_ratings, budget, pace, log_every)
        thread.progress.connect(self._on_progress)
        thread.ready.connect(self._on_ready)
        thread.finished.connect(self._on_thread_finished)
        self._thread = thread
        thread.start()

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def stop(self) -> None:
        """Ask the run to stop; it does so within one chunk (about 10 ms)."""
        self.control.stop()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop the run and wait for its thread; True when no thread is left running.

        ``finished`` is emitted before this returns, so the receiver sees the end now.
        """
        if self._thread is None:
            return True
        self.control.stop()
        if not self._thread.wait(timeout_ms):
            return False
        self._on_thread_finished()
        return True

    # -- slots (GUI thread) -------------------------------------------------------------
    @Slot(object)
    def _on_progress(self, report: Progress) -> None:
        thread = self._thread
        if thread is None:  # a late report from a run already wrapped up
            return
        try:
            self.progress.emit(report)
        finally:
            thread.taken.set()

    @Slot(object)
    def _on_ready(self, warnings: list[str]) -> None:
        if self._thread is not None:
            self.ready.emit(warnings)

    @Slot()
    def _on_thread_finished(self) -> None:
        thread = self._thread
        if thread is None:
            return
        thread.wait()
        self._thread = None
        outcome = thread.outcome or Outcome(
            None, thread.training.history.arrays() if thread.training is not None else _empty_history(), None,
            "Training ended without reporting a result.", training=thread.training)
        self.finished.emit(outcome)
