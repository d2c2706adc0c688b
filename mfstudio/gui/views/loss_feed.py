"""The loss curve's subscription to the experiment: each of its signals becomes the curve's own call."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot

from mfstudio.gui.experiment import Experiment, Progress, RunEnd, RunStart, Shown, Updated

if TYPE_CHECKING:
    from mfstudio.gui.views.plot import LossPlot


class LossCurveFeed(QObject):
    """Started: a new line (or the same, for Continue and Step) goes live; progress: the history so far;
    finished: the whole history, then the curve stops being live; loaded: an opened result's history;
    cleared: no runs."""

    def __init__(self, plot: LossPlot, experiment: Experiment) -> None:
        super().__init__(plot)
        self.plot = plot
        experiment.started.connect(self._on_started)
        experiment.progress.connect(self._on_progress)
        experiment.finished.connect(self._on_finished)
        experiment.loaded.connect(self._on_loaded)
        experiment.cleared.connect(plot.clear_all)
        experiment.updated.connect(self._on_updated)

    @Slot(object)
    def _on_started(self, run: RunStart) -> None:
        if run.new_line:
            self.plot.begin_run(run.solver, {**run.params, "holdout": run.holdout})
        self.plot.start_live(run.budget)

    @Slot(object)
    def _on_progress(self, report: Progress) -> None:
        self.plot.set_history(report.history)

    @Slot(object)
    def _on_finished(self, end: RunEnd) -> None:
        if end.shown is not None:
            self.plot.set_history(end.outcome.history)
        self.plot.end_live()
        if end.outcome.user_error:
            self.plot.discard_current()

    @Slot(object)
    def _on_updated(self, updated: Updated) -> None:
        """One update at a time: a model's first completed step starts its line, each one adds its point."""
        result = updated.shown.result
        if not updated.update.completes_step or updated.diverged:
            return
        if updated.new_line:
            self.plot.begin_run(result.solver, {**result.params, "holdout": updated.shown.holdout})
        if updated.shown.history is not None:
            self.plot.set_history(updated.shown.history)
        self.plot.flush()

    @Slot(object)
    def _on_loaded(self, shown: Shown) -> None:
        self.plot.begin_run(shown.result.solver, {**shown.result.params, "holdout": shown.holdout})
        if shown.history is not None:
            self.plot.set_history(shown.history)
        self.plot.flush()
