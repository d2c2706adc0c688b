"""The run's status in the status bar: step of budget, objective, errors and speed, and a progress bar;
with a hold-out also the ranking metrics (precision@k, recall@k, NDCG@k, MAP@k), their definitions in
the tooltip."""

from __future__ import annotations

import math
from collections.abc import Mapping

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Slot
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QWidget

from mfstudio.core import RunResult, Snapshot
from mfstudio.core.ranking import DEFINITIONS, METRICS, SHOWN, ranking_k
from mfstudio.core.solvers import get_solver
from mfstudio.core.training import speed_text, status_parts
from mfstudio.gui.experiment import Experiment, Progress, RunEnd, RunStart, Shown

READY = "Ready: press Train"
MESSAGE_ROOM = 440  # pixels of the status bar left to messages ("Finished at step 200: ...") and the progress bar


class ElidedLabel(QLabel):
    """A one-line label that leaves ``room`` pixels of its parent's width to others and, short of room, shows
    the start of its text with an ellipsis; text() (and the tooltip its owner sets) keep all of it."""

    def __init__(self, text: str, room: int, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.room = room
        self.setContentsMargins(10, 0, 0, 0)  # apart from a message that reaches it
        self._watched: QWidget | None = None

    def _cap(self) -> int:
        parent = self.parentWidget()
        if parent is not self._watched and parent is not None:  # re-asked for room whenever the parent resizes
            parent.installEventFilter(self)
            self._watched = parent
        return max(80, parent.width() - self.room) if parent is not None else 1 << 20

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(min(hint.width(), self._cap()), hint.height())

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), 80), hint.height())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._watched and event.type() == QEvent.Type.Resize:
            self.updateGeometry()
        return False

    def shown_text(self) -> str:
        """What is drawn: the text, or its start and an ellipsis when it does not fit."""
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.contentsRect().width())

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        self.style().drawItemText(painter, self.contentsRect(), int(self.alignment() | Qt.AlignmentFlag.AlignVCenter),
                                  self.palette(), self.isEnabled(), self.shown_text(), self.foregroundRole())


def ranking_text(ranking: Mapping[str, float]) -> str:
    """``top 10: precision 0.059, recall 0.048, NDCG 0.070, MAP 0.029``; "" when they are not known (no hold-out,
    a step not evaluated, or no user with a relevant held-out rating)."""
    k = ranking_k(ranking)
    if k is None or not any(math.isfinite(v) for v in ranking.values()):
        return ""
    return f"top {k}: " + ", ".join(f"{SHOWN[m]} {ranking[f'{m}@{k}']:.3f}" for m in METRICS)


def _tooltip(parts: list[str]) -> str:
    """The status line's tooltip: its parts, and the ranking metrics' definitions when they are shown."""
    shown = any(p.startswith("top ") for p in parts)
    return " · ".join(parts) + (f"\n\n{DEFINITIONS}" if shown else "")


def result_status(r: RunResult) -> str:
    """The status line for a finished (or opened) result: its last history row."""
    h = r.history.arrays()
    if len(h) == 0:
        return f"Step {r.steps_done:,}"
    last = h[-1]
    parts = status_parts(int(last[0]), None, last[1], last[2], last[4], words="window",
                         preferences=get_solver(r.solver).implicit)
    return " · ".join(parts + ([ranking_text(r.ranking)] if ranking_text(r.ranking) else []))


def progress_value(step: int, budget: int) -> int:
    """The progress bar's value (0 to 1000) for ``step`` of ``budget``."""
    return int(round(1000 * min(1.0, step / max(budget, 1))))


class RunStatus(QObject):
    """The status bar's permanent part: ``runStatus`` (a label) and ``stepProgress`` (the share of the budget)."""

    def __init__(self, experiment: Experiment, status_bar: QStatusBar) -> None:
        super().__init__(status_bar)
        self.experiment = experiment
        self.label = ElidedLabel(READY, MESSAGE_ROOM)
        self.label.setObjectName("runStatus")
        self.label.setAccessibleName("Training status")
        self.bar = QProgressBar()
        self.bar.setObjectName("stepProgress")
        self.bar.setAccessibleName("Share of the step budget done")
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.bar.setFormat("%p%")
        self.bar.setToolTip("Share of the step budget done")
        self.bar.setFixedWidth(90)
        status_bar.addPermanentWidget(self.label)
        status_bar.addPermanentWidget(self.bar)
        self._last: Snapshot | None = None
        self._ranks = ""  # the ranking metrics last shown during this run (most steps are not evaluated)
        experiment.started.connect(self._on_started)
        experiment.progress.connect(self._on_progress)
        experiment.finished.connect(self._on_finished)
        experiment.loaded.connect(self._on_loaded)
        experiment.reset.connect(self._on_reset)
        experiment.cleared.connect(self._on_cleared)
        experiment.pausedChanged.connect(self._on_paused)

    def show_snapshot(self, snap: Snapshot, budget: int) -> None:
        """Step, objective, errors (and while running the speed, else in the tooltip), and the progress bar."""
        self._last = snap
        parts = status_parts(snap.step, budget, snap.objective, snap.train_rmse, snap.val_rmse, words="window",
                             preferences=snap.preferences)
        speed = speed_text(snap.steps_per_s)
        running = self.experiment.running
        if speed and running:  # once a run has ended its speed is in the tooltip, leaving room for messages
            parts.append(speed)
        if running and self.experiment.paused:
            parts.append("paused")
        ranks = ranking_text(snap.ranking) or (self._ranks if running else "")  # a step not evaluated: the last
        self._ranks = ranks
        if ranks:
            parts.append(ranks)
        self.label.setText(" · ".join(parts))
        self.label.setToolTip(_tooltip(parts + ([speed] if speed and speed not in parts else [])))
        self.bar.setValue(progress_value(snap.step, budget))

    @Slot(object)
    def _on_started(self, run: RunStart) -> None:
        self._last = None  # until this run reports, Pause has nothing of it to show
        self._ranks = ""

    @Slot(object)
    def _on_progress(self, report: Progress) -> None:
        self.show_snapshot(report.snapshot, report.snapshot.budget)

    @Slot(object)
    def _on_finished(self, end: RunEnd) -> None:
        if end.snapshot is not None:
            self.show_snapshot(end.snapshot, end.snapshot.budget)

    @Slot(object)
    def _on_loaded(self, shown: Shown) -> None:
        r = shown.result
        self.bar.setValue(progress_value(r.steps_done, int(r.params.get("steps", 1))))
        self.label.setText(result_status(r))
        self.label.setToolTip(DEFINITIONS if ranking_text(r.ranking) else "")

    @Slot(object)
    def _on_reset(self, shown: Shown) -> None:
        if shown.snapshot is not None:
            self.show_snapshot(shown.snapshot, int(shown.result.params["steps"]))
        self.bar.setValue(0)

    @Slot()
    def _on_cleared(self) -> None:
        self._last = None
        self.bar.setValue(0)
        self.label.setText(READY)
        self.label.setToolTip("")

    @Slot(bool)
    def _on_paused(self, paused: bool) -> None:
        if self._last is not None and self.experiment.running:
            self.show_snapshot(self._last, self._last.budget)
