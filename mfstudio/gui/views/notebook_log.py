"""The notebook's printout (objectName ``notebookLog``): what its loop printed, at the interval chosen.

Every run (and every step made one update at a time) reports the factors after the steps the
notebook prints after (its step index 0, then every ``interval``: see :mod:`mfstudio.core.notebook`);
this tab writes them as the notebook did, "-------- Result at step N : with eR, P, Q are :-----" and
the three arrays in numpy's format, so a notebook user recognises their own output. It keeps the last
``KEPT`` printouts and says how many there were.
"""

from __future__ import annotations

from collections import deque

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QFontDatabase, QGuiApplication, QTextCursor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget

from mfstudio.core.notebook import DEFAULT_EVERY
from mfstudio.gui.experiment import Experiment, Progress, RunEnd, RunStart, Updated
from mfstudio.gui.views.widgets import CAPTION_STYLE

KEPT = 300  # printouts kept on screen (the oldest go first)


class NotebookLog(QWidget):
    """The notebook's printout of the runs (objectName ``notebookLog``)."""

    statusMessage = Signal(str)

    def __init__(self, experiment: Experiment, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notebookLog")
        self.experiment = experiment
        self.blocks: deque[tuple[bool, str]] = deque()  # (a printout, not a note; its text), oldest first
        self._shown = 0  # printouts among the blocks (at most KEPT)
        self.count = 0  # printouts since the log was last cleared
        self.interval = QSpinBox()
        self.interval.setObjectName("notebookLogInterval")
        self.interval.setAccessibleName("Print every so many steps")
        self.interval.setRange(1, 1_000_000_000)
        self.interval.setGroupSeparatorShown(True)
        self.interval.setValue(DEFAULT_EVERY)
        self.interval.setToolTip("Print R-hat, P and Q after step 0 and then every so many steps, as the "
                                 "notebook does every 1,000 (for the runs started from now).")
        self.interval.valueChanged.connect(self._on_interval)
        self.count_label = QLabel()
        self.count_label.setObjectName("notebookLogCount")
        self.count_label.setStyleSheet(CAPTION_STYLE)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setObjectName("copyNotebookLogButton")
        self.copy_button.setToolTip("Copy the printout shown.")
        self.copy_button.clicked.connect(self.copy)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setObjectName("clearNotebookLogButton")
        self.clear_button.setToolTip("Empty the printout.")
        self.clear_button.clicked.connect(self.clear)
        self.text = QPlainTextEdit()
        self.text.setObjectName("notebookLogText")
        self.text.setAccessibleName("The notebook's printout")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setPlaceholderText("Train to see what the notebook printed: R-hat (eR), P and Q after step 0 "
                                     "and every 1,000 steps (or the interval chosen above).")
        self.interval.setPrefix("Print every ")
        self.interval.setSuffix(" steps")
        bar = QHBoxLayout()
        bar.setSpacing(6)
        bar.addWidget(self.interval)
        bar.addStretch(1)
        bar.addWidget(self.copy_button)
        bar.addWidget(self.clear_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(2)
        lay.addLayout(bar)
        lay.addWidget(self.count_label)
        lay.addWidget(self.text, 1)
        experiment.set_log_every(self.interval.value())
        experiment.started.connect(self._on_started)
        experiment.progress.connect(self._on_progress)
        experiment.finished.connect(self._on_finished)
        experiment.updated.connect(self._on_updated)
        experiment.cleared.connect(self.clear)
        self._show_count()

    # -- from the experiment ------------------------------------------------------------
    @Slot(object)
    def _on_started(self, run: RunStart) -> None:
        if run.new_line:
            self._note(f"# {run.solver}, K = {run.params.get('K')}: a new model from the random start of seed "
                       f"{run.params.get('seed')}")

    @Slot(object)
    def _on_progress(self, report: Progress) -> None:
        self.add(report.printouts, report.printouts_dropped)

    @Slot(object)
    def _on_finished(self, end: RunEnd) -> None:
        self.add(end.outcome.printouts, end.outcome.printouts_dropped)

    @Slot(object)
    def _on_updated(self, updated: Updated) -> None:
        if updated.new_line:
            r = updated.shown.result
            self._note(f"# {r.solver}, K = {r.params.get('K')}: a new model, one update at a time")
        self.add(updated.printouts)

    # -- the text -------------------------------------------------------------------------
    def add(self, texts: list[str], dropped: int = 0) -> None:
        """Write the notebook's blocks ``texts``; ``dropped`` more came before them and were not kept."""
        if not texts and not dropped:
            return
        self.count += dropped + len(texts)
        for t in texts:
            self._append(t, True)
        self._trim()
        self._show_count()

    def _note(self, line: str) -> None:
        self._append(line, False)
        self._trim()

    def _append(self, text: str, is_printout: bool) -> None:
        self.blocks.append((is_printout, text))
        self._shown += is_printout
        self.text.appendPlainText(text)

    def _trim(self) -> None:
        """Drop the oldest entries past KEPT printouts, cutting their text off the top (not writing it all again)."""
        chars = 0
        while self._shown > KEPT and self.blocks:
            is_printout, text = self.blocks.popleft()
            self._shown -= is_printout
            chars += len(text) + 1  # and the line break after it
        if chars:
            cursor = QTextCursor(self.text.document())
            cursor.setPosition(0)
            cursor.setPosition(min(chars, self.text.document().characterCount() - 1), QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()

    def shown_text(self) -> str:
        """The printouts and notes kept, as the tab shows them."""
        return "\n".join(text for _p, text in self.blocks)

    def _show_count(self) -> None:
        if self.count > self._shown:
            self.count_label.setText(f"the last {self._shown:,} of {self.count:,} printouts")
        else:
            self.count_label.setText(f"{self.count:,} printout{'s' if self.count != 1 else ''}")

    @Slot(int)
    def _on_interval(self, steps: int) -> None:
        self.experiment.set_log_every(int(steps))
        if self.experiment.running:
            self.statusMessage.emit("The new printout interval applies from the next run.")

    @Slot()
    def clear(self) -> None:
        self.blocks.clear()
        self._shown = 0
        self.count = 0
        self.text.clear()
        self._show_count()

    @Slot()
    def copy(self) -> None:
        if not self.blocks:
            self.statusMessage.emit("The printout is empty: train first.")
            return
        QGuiApplication.clipboard().setText(self.text.toPlainText() + "\n")
        self.statusMessage.emit("Copied the notebook's printout.")
