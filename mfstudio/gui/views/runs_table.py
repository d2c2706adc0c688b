"""The Runs tab: every run of the session in one table (``runsTable``), sortable, with its buttons.

It follows the session's shared :class:`~mfstudio.gui.runs.RunList` (as the loss curve does; it
never reads the curve): tick Show to draw a run's curves, double-click a name to rename it (the
legend follows), Delete (the key or ``deleteRunsButton``) removes the selected runs and Ctrl+Z
(or ``undoRunsButton``) brings them back, Export CSV… (``exportRunsButton``) writes the table, and
Use these parameters (``useRunParametersButton``) puts the selected run's solver, parameters and
patience into the controls through their public methods.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from mfstudio.core.errors import MFStudioError
from mfstudio.core.runs import RunRecord
from mfstudio.gui.actions import make_action
from mfstudio.gui.runs import RunList
from mfstudio.gui.views.runs_model import SORT, RunsTableModel, params_text
from mfstudio.gui.views.widgets import caption

Index = QModelIndex | QPersistentModelIndex
NAME_MAX_PX = 360  # the name column is as wide as its longest name, up to this; the full name is in the tooltip
CAPTION = ("Every run of this session. Show draws a run on the loss curve; double-click a name to rename it; "
           "Delete removes the selected runs and Ctrl+Z brings them back. Click a heading to sort.")


class _Sort(QSortFilterProxyModel):
    """Numbers sort as numbers, text without case; a missing value (—) sorts after every number."""

    def lessThan(self, left: Index, right: Index) -> bool:
        a, b = left.data(SORT), right.data(SORT)
        a_missing = a is None or (isinstance(a, float) and math.isnan(a))
        b_missing = b is None or (isinstance(b, float) and math.isnan(b))
        if a_missing or b_missing:
            return b_missing and not a_missing
        if isinstance(a, str) != isinstance(b, str):
            return isinstance(b, str)
        return a < b


class RunsTable(QWidget):
    """The runs table and its buttons. ``controls`` (the control panel) takes Use these parameters; ``folder``
    says where Export CSV… starts."""

    statusMessage = Signal(str)

    def __init__(self, runs: RunList, controls: Any = None, folder: Callable[[], str] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs, self.controls, self.folder = runs, controls, folder
        self.model = RunsTableModel(runs, self)
        self.proxy = _Sort(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT)
        self.table = QTableView()
        self.table.setObjectName("runsTable")
        self.table.setAccessibleName("Runs of this session")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # in the order they ran until a heading is clicked
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked |
                                   QAbstractItemView.EditTrigger.EditKeyPressed)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        h = self.table.horizontalHeader()
        h.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        h.setHighlightSections(False)

        self.use_button = self._button("Use these parameters", "useRunParametersButton",
                                       "Put the selected run's solver, parameters and patience into the controls "
                                       "(the hold-out stays as the grid marks it); Train then runs them again.",
                                       self.use_parameters)
        self.delete_button = self._button("Delete", "deleteRunsButton",
                                          "Delete the selected runs from the table and the loss curve (Delete key); "
                                          "Ctrl+Z brings them back.", self.delete_selected)
        self.undo_button = self._button("Undo", "undoRunsButton", "Undo the last delete or rename of a run (Ctrl+Z).",
                                        self.runs.undo_stack.undo)
        self.export_button = self._button("Export CSV…", "exportRunsButton",
                                          "Write this table as a CSV file (one row per run).", self.export_dialog)
        here = Qt.ShortcutContext.WidgetWithChildrenShortcut
        for text, slot, keys in (("Delete runs", self.delete_selected, [QKeySequence(Qt.Key.Key_Delete),
                                                                        QKeySequence(Qt.Key.Key_Backspace)]),
                                 ("Undo", self.runs.undo_stack.undo, QKeySequence(QKeySequence.StandardKey.Undo)),
                                 ("Redo", self.runs.undo_stack.redo, QKeySequence(QKeySequence.StandardKey.Redo))):
            self.table.addAction(make_action(self.table, text, slot, keys, context=here))

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.use_button)
        bar.addStretch(1)
        for b in (self.delete_button, self.undo_button, self.export_button):
            bar.addWidget(b)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(3)
        lay.addWidget(caption(CAPTION))
        lay.addWidget(self.table, 1)
        lay.addLayout(bar)

        self.table.selectionModel().selectionChanged.connect(self._sync_buttons)
        for signal in (runs.added, runs.changed, runs.listChanged, runs.cleared):
            signal.connect(self._on_runs)
        for signal in (runs.liveStarted, runs.liveEnded, runs.undoChanged):
            signal.connect(self._sync_buttons)
        runs.statusMessage.connect(self.statusMessage)
        self._fit_columns()
        self._sync_buttons()

    def _button(self, text: str, name: str, tip: str, slot: Callable[[], Any]) -> QPushButton:
        b = QPushButton(text)
        b.setObjectName(name)
        b.setToolTip(tip)
        b.setAccessibleName(text.rstrip("…"))
        b.clicked.connect(lambda _=False: slot())
        return b

    # -- reading --------------------------------------------------------------------------
    def selected(self) -> list[RunRecord]:
        """The selected runs, in the order they ran."""
        rows = {self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()}
        return [self.model.record(r) for r in sorted(rows)]

    # -- commands -------------------------------------------------------------------------
    @Slot()
    def delete_selected(self) -> int:
        """Delete the selected runs (undoable); how many went."""
        chosen = self.selected()
        if not chosen:
            self.statusMessage.emit("Select the runs to delete first (click a row; Ctrl-click for more).")
            return 0
        names = [self.runs.label(r) for r in chosen]
        n = self.runs.remove(chosen)
        if n:
            what = f"“{names[0]}”" if n == 1 else f"{n} runs"
            self.statusMessage.emit(f"Deleted {what}; Ctrl+Z (or Undo) brings {'it' if n == 1 else 'them'} back.")
        return n

    @Slot()
    def use_parameters(self) -> bool:
        """Set the controls to the selected run's solver, parameters and patience."""
        chosen = self.selected()
        if len(chosen) != 1:
            self.statusMessage.emit("Select one run whose parameters to use.")
            return False
        if self.controls is None or self.runs.live is not None:
            self.statusMessage.emit("A run is going; its parameters can be used once it has stopped.")
            return False
        r = chosen[0]
        try:
            self.controls.set_solver(r.solver, dict(r.params))
            self.controls.set_patience(r.patience)
        except MFStudioError as exc:
            self.statusMessage.emit(str(exc))
            return False
        patience = "" if r.patience is None else f", patience {r.patience:,}"
        self.statusMessage.emit(f"The controls now hold the parameters of “{self.runs.label(r)}”: {r.solver} "
                                f"{params_text(r)}{patience}. The hold-out stays as the grid marks it; press Train "
                                "to run them again.")
        return True

    @Slot()
    def export_dialog(self) -> Path | None:
        """Ask for a file name and write the runs as CSV."""
        from PySide6.QtWidgets import QFileDialog

        from mfstudio import io

        if not len(self.runs):
            self.statusMessage.emit("There are no runs to export yet; press Train first.")
            return None
        start = Path(self.folder() if self.folder is not None else ".") / "runs.csv"
        path, _ = QFileDialog.getSaveFileName(self, "Export the runs as CSV", str(start), io.CSV_FILTER)
        if not path:
            return None
        p = Path(path) if Path(path).suffix.lower() == ".csv" else Path(path + ".csv")
        return self.export(p)

    def export(self, path: str | Path) -> Path | None:
        """Write the runs table (every run, in the order they ran) to ``path`` as CSV."""
        from mfstudio import io

        records = [r for r in self.runs.records if r.finished]
        try:
            io.export_runs(path, records, [self.runs.label(r) for r in records])
        except (MFStudioError, OSError) as exc:
            QMessageBox.warning(self, "Could not export the runs", str(exc))
            return None
        n = len(records)
        self.statusMessage.emit(f"Exported {n} run{'s' if n != 1 else ''} to {path}.")
        return Path(path)

    # -- following the list -------------------------------------------------------------------
    def _on_runs(self, *_args: Any) -> None:
        """Runs came, went or changed: the columns fit their contents again, the buttons follow."""
        self._fit_columns()
        self._sync_buttons()

    def _fit_columns(self) -> None:
        """The columns fit their contents; while the table is hidden (behind another tab), once it is shown: measuring
        every row's text costs tens of milliseconds at each run's start and end."""
        if not self.table.isVisible():
            self._unfitted = True
            return
        self._unfitted = False
        self.table.resizeColumnsToContents()
        h = self.table.horizontalHeader()
        for key, most in (("name", NAME_MAX_PX), ("params", 320)):  # the full text is in the tooltip
            col = self.model.column(key)
            h.resizeSection(col, min(h.sectionSize(col), most))

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._unfitted:
            self._fit_columns()

    def _sync_buttons(self, *_args: Any) -> None:
        chosen = self.selected()
        live = self.runs.live
        self.use_button.setEnabled(len(chosen) == 1 and live is None and self.controls is not None)
        self.delete_button.setEnabled(bool(chosen) and live not in chosen)
        stack = self.runs.undo_stack
        self.undo_button.setEnabled(stack.canUndo())
        self.undo_button.setToolTip(f"Undo: {stack.undoText().lower()} (Ctrl+Z)." if stack.canUndo() else
                                    "Undo the last delete or rename of a run (Ctrl+Z).")
        self.export_button.setEnabled(any(r.finished for r in self.runs.records))
