"""The run list's subscription to the experiment: each of its signals becomes the list's own call.

Started: a new run (or the same, for Continue and Step) goes live; progress: the history so far;
finished: the run's record (made once, by :meth:`RunRecord.from_result`, from the result the
experiment made), then it is no longer live; loaded: an opened result's run; updated: one update at
a time, a model's first completed step starting its run; cleared: no runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot

from mfstudio.core import Snapshot
from mfstudio.core.runs import RunRecord
from mfstudio.gui.experiment import Experiment, Progress, RunEnd, RunStart, Shown, Updated

if TYPE_CHECKING:
    from mfstudio.gui.runs import RunList


class RunsFeed(QObject):
    """Feeds ``runs`` from ``experiment`` (a child of the list)."""

    def __init__(self, runs: RunList, experiment: Experiment) -> None:
        super().__init__(runs)
        self.runs, self.experiment = runs, experiment
        experiment.started.connect(self._on_started)
        experiment.progress.connect(self._on_progress)
        experiment.finished.connect(self._on_finished)
        experiment.loaded.connect(self._on_loaded)
        experiment.cleared.connect(runs.clear)
        experiment.updated.connect(self._on_updated)

    def _record(self, shown: Shown, snapshot: Snapshot | None = None) -> RunRecord:
        """The record of the run ``shown`` is the result of (``snapshot``: its final one, when not in ``shown``)."""
        return RunRecord.from_result(shown.result, snapshot or shown.snapshot, holdout=shown.holdout,
                                     patience=shown.patience, top_n=self.experiment.top_n)

    @Slot(object)
    def _on_started(self, run: RunStart) -> None:
        if run.new_line or self.runs.current is None:
            self.runs.begin(run.solver, run.params, holdout=run.holdout, patience=run.patience,
                            top_n=self.experiment.top_n)
        self.runs.start_live(run.budget)

    @Slot(object)
    def _on_progress(self, report: Progress) -> None:
        self.runs.set_history(report.history)

    @Slot(object)
    def _on_finished(self, end: RunEnd) -> None:
        if end.shown is not None:
            self.runs.finish(self._record(end.shown, end.snapshot))
        self.runs.end_live()
        if end.outcome.user_error:
            self.runs.discard_current()

    @Slot(object)
    def _on_updated(self, updated: Updated) -> None:
        """One update at a time: a model's first completed step starts its run, each one adds its point."""
        shown = updated.shown
        if not updated.update.completes_step or updated.diverged:
            return
        if updated.new_line or self.runs.current is None:
            self.runs.begin(shown.result.solver, shown.result.params, holdout=shown.holdout,
                            patience=shown.patience, top_n=self.experiment.top_n)
        self.runs.finish(self._record(shown))

    @Slot(object)
    def _on_loaded(self, shown: Shown) -> None:
        self.runs.begin(shown.result.solver, shown.result.params, holdout=shown.holdout, patience=shown.patience,
                        top_n=self.experiment.top_n)
        self.runs.finish(self._record(shown))
