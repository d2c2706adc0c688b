"""The session's runs, shared: one list that the loss curve and the runs table both follow.

:class:`RunList` is a QObject with no widgets. It holds a :class:`~mfstudio.core.runs.RunRecord`
per run, oldest first, and which one is current (the line drawn solid; the one Continue and Step
extend). It is fed by the experiment (:mod:`mfstudio.gui.runs_feed`) and changed by the user through
the views: rename, show or hide, delete and Clear runs. Deleting and renaming are undoable on the list's
own undo stack (``undo_stack``: the grid's stack is the grid's, locked while a run goes, and Ctrl+Z in
the grid must not bring back a run). Its signals:

- ``added(record)``: a new run at the end (a Train, a loaded result);
- ``historyChanged(record)``: the going run's history grew;
- ``changed(record)``: a run's outcome, name or visibility changed;
- ``listChanged()``: runs were removed, put back or replaced: read :attr:`RunList.records` again;
- ``cleared()``: no runs at all, nothing to undo (a new document);
- ``liveStarted(record, budget)`` / ``liveEnded(record)``: a run goes, or has stopped;
- ``edited()``: the user changed what Save keeps; ``undoChanged()``: what undo would do changed;
  ``statusMessage(sentence)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QUndoCommand, QUndoStack
from shiboken6 import isValid

from mfstudio.core.runs import NAME_MAX_CHARS, RunRecord
from mfstudio.gui.views.run_labels import run_labels

if TYPE_CHECKING:
    from mfstudio.gui.experiment import Experiment

UNDO_LIMIT = 100
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")  # in turn
CLEAR_TEXT = "Clear runs"


class RunList(QObject):
    """The session's runs, oldest first, and the current one; see the module's docstring for the signals."""

    added = Signal(object)
    historyChanged = Signal(object)
    changed = Signal(object)
    listChanged = Signal()
    cleared = Signal()
    liveStarted = Signal(object, int)
    liveEnded = Signal(object)
    edited = Signal()
    undoChanged = Signal()
    statusMessage = Signal(str)

    def __init__(self, experiment: Experiment | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._records: list[RunRecord] = []
        self._current: RunRecord | None = None
        self._live: RunRecord | None = None
        self._colours: dict[RunRecord, str] = {}  # each run's colour, the same on the curve and in the table
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(UNDO_LIMIT)
        self.undo_stack.indexChanged.connect(self._on_undo_index)
        if experiment is not None:
            from mfstudio.gui.runs_feed import RunsFeed

            self.feed = RunsFeed(self, experiment)

    # ------------------------------------------------------------------ reading
    @property
    def records(self) -> list[RunRecord]:
        """Every run, oldest first (a copy of the list; the records are the list's own)."""
        return list(self._records)

    def __len__(self) -> int:
        return len(self._records)

    @property
    def current(self) -> RunRecord | None:
        """The run drawn solid: the latest Train's (None after it was deleted or could not start)."""
        return self._current

    @property
    def live(self) -> RunRecord | None:
        """The run going now (None between runs)."""
        return self._live

    def labels(self) -> list[str]:
        """Each run's name as the legend and the table show it: the name given, else a label that tells the
        runs apart (see :func:`~mfstudio.gui.views.run_labels.run_labels`)."""
        auto = run_labels([(r.solver, r.label_params()) for r in self._records])[0]
        return [r.name or a for r, a in zip(self._records, auto)]

    def label(self, record: RunRecord) -> str:
        return self.labels()[self._records.index(record)]

    def colour(self, record: RunRecord) -> str:
        """The run's colour (its lines, its square in the table): the next of COLOURS when it began."""
        if record not in self._colours:
            self._colours[record] = COLOURS[len(self._colours) % len(COLOURS)]
        return self._colours[record]

    def common_text(self) -> str:
        """What every run shares ("K=2 β=0.02"), said once under the legend."""
        return run_labels([(r.solver, r.label_params()) for r in self._records])[1]

    def saved(self) -> list[RunRecord]:
        """Copies of the finished runs, for a session to save (on any thread)."""
        return [dataclasses.replace(r, params=dict(r.params), metrics=dict(r.metrics))
                for r in self._records if r.finished]

    # ------------------------------------------------------------------ from the experiment
    def begin(self, solver: str, params: Mapping[str, Any], *, holdout: float = 0.0, patience: int | None = None,
              top_n: int = 5) -> RunRecord:
        """A new run at the end, current from now on (its outcome comes with :meth:`finish`)."""
        record = RunRecord(solver, dict(params), float(holdout), patience, int(top_n))
        self._records.append(record)
        self._current = record
        self.colour(record)
        self.added.emit(record)
        return record

    def start_live(self, budget: int) -> None:
        """The current run goes (for at most ``budget`` steps)."""
        if self._current is not None:
            self._live = self._current
            self.liveStarted.emit(self._current, int(budget))

    def set_history(self, history: np.ndarray) -> None:
        """The current run's history so far."""
        record = self._current
        if record is not None:
            record.follow_history(history)
            self.historyChanged.emit(record)

    def finish(self, outcome: RunRecord) -> None:
        """The current run's outcome (a record made by RunRecord.from_result); its name and visibility stay."""
        record = self._current
        if record is None:  # deleted while it went, or Continue after a delete: the outcome is a run of its own
            record = self.begin(outcome.solver, outcome.params)
        record.take_outcome(outcome)
        self.changed.emit(record)

    def end_live(self) -> None:
        record, self._live = self._live, None
        if record is not None:
            self.liveEnded.emit(record)

    def discard_current(self) -> None:
        """The current run could not start: it leaves no trace (nothing to undo)."""
        record = self._current
        if record is None:
            return
        self.end_live()
        self._records.remove(record)
        self._current = None
        self.listChanged.emit()

    def clear(self) -> None:
        """No runs, nothing to undo (a new document)."""
        self.end_live()
        self._records, self._current = [], None
        self._colours = {}
        self.undo_stack.clear()
        self.cleared.emit()

    def load(self, records: Iterable[RunRecord]) -> None:
        """A session's runs replace the list (the last is current when a result was shown with them)."""
        records = [dataclasses.replace(r, params=dict(r.params), metrics=dict(r.metrics)) for r in records]
        had_current = self._current is not None
        self.end_live()
        self.undo_stack.clear()
        self._records = records
        self._current = records[-1] if records and had_current else None
        self._colours = {}
        for r in records:
            self.colour(r)
        self.listChanged.emit()

    # ------------------------------------------------------------------ the user's changes
    def rename(self, record: RunRecord, name: str) -> bool:
        """Name a run (undoable); "" gives it back its label. False, with a sentence, for a name too long."""
        name = " ".join(str(name).split())
        if len(name) > NAME_MAX_CHARS:
            self.statusMessage.emit(f"A run's name may be at most {NAME_MAX_CHARS} characters; this one has "
                                    f"{len(name):,}, so the name stays {self.label(record)!r}.")
            return False
        if name != record.name and record in self._records:
            self.undo_stack.push(_Rename(self, record, name))
        return True

    def set_visible(self, record: RunRecord, visible: bool) -> None:
        """Show or hide a run's curves."""
        if record.visible != bool(visible):
            record.visible = bool(visible)
            self.changed.emit(record)
            self.edited.emit()

    def remove(self, records: Iterable[RunRecord], text: str = "") -> int:
        """Delete runs (undoable); the going run is refused with a sentence. How many were deleted."""
        asked = set(records)
        gone = [r for r in self._records if r in asked]
        if self._live is not None and self._live in gone:
            self.statusMessage.emit("The run in progress cannot be deleted; stop it first (the others can).")
            return 0
        if gone:
            n = len(gone)
            self.undo_stack.push(_Remove(self, gone, text or f"Delete {n} run{'s' if n != 1 else ''}"))
        return len(gone)

    def clear_earlier(self) -> int:
        """Clear runs: delete every run but the current one (undoable). How many were deleted."""
        return self.remove([r for r in self._records if r is not self._current], CLEAR_TEXT)

    @property
    def can_undo_clear(self) -> bool:
        """True when the last change undo would take back is a Clear runs."""
        return self.undo_stack.canUndo() and self.undo_stack.undoText() == CLEAR_TEXT

    def undo_clear(self) -> int:
        """Take back the last Clear runs (when it is the last change); how many runs came back."""
        if not self.can_undo_clear:
            return 0
        n = len(self.undo_stack.command(self.undo_stack.index() - 1).removed)
        self.undo_stack.undo()
        return n

    # ------------------------------------------------------------------ for the undo commands
    @Slot(int)
    def _on_undo_index(self, _index: int) -> None:
        if isValid(self.undo_stack):  # not while the stack itself is being destroyed (it clears itself then)
            self.undoChanged.emit()

    def _take_out(self, removed: list[tuple[int, RunRecord]]) -> None:
        for _index, record in removed:
            self._records.remove(record)
            if record is self._current:
                self._current = None
        self.listChanged.emit()
        self.edited.emit()

    def _put_back(self, removed: list[tuple[int, RunRecord]], current: RunRecord | None) -> None:
        for index, record in removed:  # in increasing index: each lands where it was, among those still here
            self._records.insert(min(index, len(self._records)), record)
        if current is not None and self._current is None:
            self._current = current
        self.listChanged.emit()
        self.edited.emit()

    def _set_name(self, record: RunRecord, name: str) -> None:
        record.name = name
        self.changed.emit(record)
        self.edited.emit()


class _Remove(QUndoCommand):
    """Deletes runs; undo puts each back where it was."""

    def __init__(self, runs: RunList, gone: list[RunRecord], text: str) -> None:
        super().__init__(text)
        self.runs = runs
        self.removed = [(runs._records.index(r), r) for r in gone]
        self.current = runs.current if runs.current in gone else None

    def redo(self) -> None:
        self.runs._take_out(self.removed)

    def undo(self) -> None:
        self.runs._put_back(self.removed, self.current)


class _Rename(QUndoCommand):
    def __init__(self, runs: RunList, record: RunRecord, name: str) -> None:
        super().__init__("Rename a run")
        self.runs, self.record, self.old, self.new = runs, record, record.name, name

    def redo(self) -> None:
        self.runs._set_name(self.record, self.new)

    def undo(self) -> None:
        self.runs._set_name(self.record, self.old)
