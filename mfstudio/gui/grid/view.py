"""The rating grid's view: spreadsheet habits over a ``RatingsTableModel``.

``RatingGridView`` adds copy/cut/paste of tab-separated blocks, Delete clears, Enter
moves down, header double-click renames, a context menu, and undo/redo shortcuts.
It edits only through the model's public methods.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shiboken6
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt, Signal, Slot
from PySide6.QtGui import QAction, QContextMenuEvent, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QInputDialog,
    QLineEdit,
    QMenu,
    QTableView,
    QWidget,
)

from mfstudio.core import memory
from mfstudio.core.errors import DataError
from mfstudio.core.numbers import exact_text
from mfstudio.gui.actions import Keys, StandardKey, make_action
from mfstudio.gui.clipboard import format_block, parse_block
from mfstudio.gui.grid.model import LOCKED_MESSAGE, RatingsTableModel
from mfstudio.gui.grid.state import AXIS_WORD, ITEMS, USERS, Rect


class RatingGridView(QTableView):
    """The rating grid as a spreadsheet: edit, copy/cut/paste, clear, undo, rename, hold out."""

    statusMessage = Signal(str)

    def __init__(self, model: RatingsTableModel | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ratingGrid")
        self.setAccessibleName("Rating grid")
        self.setAccessibleDescription("Users in rows, items in columns; an empty cell means not rated.")
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.DefaultContextMenu)
        hh, vh = self.horizontalHeader(), self.verticalHeader()
        hh.setDefaultSectionSize(56)
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setTextElideMode(Qt.TextElideMode.ElideRight)  # "The Long Ni…", full name in the tooltip
        vh.setDefaultSectionSize(22)
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        hh.sectionDoubleClicked.connect(self.rename_item_dialog)
        vh.sectionDoubleClicked.connect(self.rename_user_dialog)
        self._model: RatingsTableModel | None = None
        self._locked = True
        self._undo_state: list = [False, False, "", ""]
        self._make_actions()
        if model is not None:
            self.setModel(model)

    # -- actions -----------------------------------------------------------------------
    def _make_actions(self) -> None:
        """The grid's commands, added to the view so their keys work while it has focus."""
        here = Qt.ShortcutContext.WidgetShortcut
        children = Qt.ShortcutContext.WidgetWithChildrenShortcut

        def action(text: str, slot: Any, keys: Keys, tip: str, context: Qt.ShortcutContext = here) -> QAction:
            a = make_action(self, text, slot, keys, tip=tip, context=context)
            self.addAction(a)
            return a

        self.action_undo = action("&Undo", self.undo, QKeySequence(StandardKey.Undo),
                                  "Undo the last change to the grid.", children)
        self.action_redo = action("&Redo", self.redo, QKeySequence(StandardKey.Redo),
                                  "Redo the change just undone.", children)
        self.action_copy = action("&Copy", self.copy, QKeySequence(StandardKey.Copy),
                                  "Copy the selected cells as tab-separated text.")
        self.action_cut = action("Cu&t", self.cut, QKeySequence(StandardKey.Cut),
                                 "Copy the selected cells, then clear them.")
        self.action_paste = action("&Paste", self.paste, QKeySequence(StandardKey.Paste),
                                   "Paste a block of numbers from a spreadsheet at the current cell.")
        clear_keys = [QKeySequence(Qt.Key.Key_Delete), QKeySequence(Qt.Key.Key_Backspace)]
        self.action_clear = action("C&lear", self.clear_selection, clear_keys, "Clear the selected cells (not rated).")
        self.action_add_user = action("&Add user", self.add_user, "Ctrl+Shift+U",
                                      "Add an unrated user below the current one.")
        self.action_add_item = action("Add &item", self.add_item, "Ctrl+Shift+I",
                                      "Add an unrated item right of the current one.")
        self.action_remove_users = action("Remo&ve selected users", self.remove_selected_users, None,
                                          "Remove the users of the selected cells.")
        self.action_remove_items = action("Remove selected ite&ms", self.remove_selected_items, None,
                                          "Remove the items of the selected cells.")
        self.action_hold_out = action("&Hold out selected cells", self.hold_out_selection, "Ctrl+H",
                                      "Set the selected ratings aside for validation.")
        self.action_use_for_training = action("Use selected cells for trai&ning", self.use_selection_for_training,
                                              "Ctrl+Shift+H", "Train on the selected ratings again.")
        self.edit_actions = [
            self.action_cut, self.action_paste, self.action_clear, self.action_add_user, self.action_add_item,
            self.action_remove_users, self.action_remove_items, self.action_hold_out, self.action_use_for_training,
        ]
        self._update_undo_actions()

    FIT_MAX_COLUMNS = 300  # beyond this, columns keep the default width (measuring costs)

    @Slot()
    def fit_columns(self, *_: Any) -> None:
        """Widen columns to show their item labels, from 56 up to 120 pixels."""
        m = self._model
        if m is None or m.columnCount() > self.FIT_MAX_COLUMNS:
            return
        fm = self.horizontalHeader().fontMetrics()
        for j, label in enumerate(m.items):
            self.setColumnWidth(j, max(56, min(120, fm.horizontalAdvance(str(label)) + 18)))

    def setModel(self, model: Any) -> None:
        """Attach a RatingsTableModel (relays its messages, follows its lock and undo state)."""
        old = self._model
        if old is not None and shiboken6.isValid(old):
            old.statusMessage.disconnect(self._relay_status)
            old.readOnlyChanged.disconnect(self._on_read_only)
            old.modelReset.disconnect(self.fit_columns)
            old.headerDataChanged.disconnect(self.fit_columns)
            old.columnsInserted.disconnect(self.fit_columns)
            stack = old.undo_stack
            stack.canUndoChanged.disconnect(self._on_can_undo)
            stack.canRedoChanged.disconnect(self._on_can_redo)
            stack.undoTextChanged.disconnect(self._on_undo_text)
            stack.redoTextChanged.disconnect(self._on_redo_text)
        super().setModel(model)
        self._model = model if isinstance(model, RatingsTableModel) else None
        m = self._model
        if m is not None:
            m.statusMessage.connect(self._relay_status)
            m.readOnlyChanged.connect(self._on_read_only)
            m.modelReset.connect(self.fit_columns)
            m.headerDataChanged.connect(self.fit_columns)
            m.columnsInserted.connect(self.fit_columns)
            stack = m.undo_stack
            stack.canUndoChanged.connect(self._on_can_undo)
            stack.canRedoChanged.connect(self._on_can_redo)
            stack.undoTextChanged.connect(self._on_undo_text)
            stack.redoTextChanged.connect(self._on_redo_text)
            self._undo_state = [stack.canUndo(), stack.canRedo(), stack.undoText(), stack.redoText()]
        else:
            self._undo_state = [False, False, "", ""]
        self._on_read_only(m.read_only if m is not None else True)
        self.fit_columns()

    @property
    def grid_model(self) -> RatingsTableModel:
        """The attached RatingsTableModel."""
        if self._model is None or not shiboken6.isValid(self._model):
            raise RuntimeError("The grid has no ratings model.")
        return self._model

    @Slot(str)
    def _relay_status(self, text: str) -> None:
        self.statusMessage.emit(text)

    @Slot(bool)
    def _on_read_only(self, read_only: bool) -> None:
        self._locked = read_only
        for a in self.edit_actions:
            a.setEnabled(not read_only)
        self._update_undo_actions()

    # The undo stack's own signals carry the state: querying the stack here would
    # touch a deleted object while the model (and its stack) is being destroyed.
    @Slot(bool)
    def _on_can_undo(self, flag: bool) -> None:
        self._undo_state[0] = flag
        self._update_undo_actions()

    @Slot(bool)
    def _on_can_redo(self, flag: bool) -> None:
        self._undo_state[1] = flag
        self._update_undo_actions()

    @Slot(str)
    def _on_undo_text(self, text: str) -> None:
        self._undo_state[2] = text
        self._update_undo_actions()

    @Slot(str)
    def _on_redo_text(self, text: str) -> None:
        self._undo_state[3] = text
        self._update_undo_actions()

    def _update_undo_actions(self) -> None:
        can_undo, can_redo, undo_text, redo_text = self._undo_state
        self.action_undo.setEnabled(can_undo and not self._locked)
        self.action_redo.setEnabled(can_redo and not self._locked)
        self.action_undo.setText(f"&Undo {undo_text}" if can_undo and undo_text else "&Undo")
        self.action_redo.setText(f"&Redo {redo_text}" if can_redo and redo_text else "&Redo")

    # -- selection -----------------------------------------------------------------------
    def selected_ranges(self) -> list[Rect]:
        """The selection as (top, left, bottom, right) rectangles, inclusive (the current cell if none):
        a selection of any size, never enumerated cell by cell."""
        sel = self.selectionModel()
        ranges = list(sel.selection()) if sel is not None else []
        if not ranges:
            cur = self.currentIndex()
            return [(cur.row(), cur.column(), cur.row(), cur.column())] if cur.isValid() else []
        return [(r.top(), r.left(), r.bottom(), r.right()) for r in ranges]

    def selected_cells(self) -> np.ndarray:
        """k x 2 (row, col) of the selected cells, unique and row-major (the current cell if none).

        DataError (the sentence to show) when the selection spans more than memory.EDIT_BLOCK_MAX_CELLS cells.
        """
        bounds = self._selection_bounds()
        if bounds is None:
            return np.zeros((0, 2), np.int64)
        top, left, bottom, right = bounds
        memory.check_block(bottom - top + 1, right - left + 1)
        # a bool mask over the selection's bounding box: linear in its cells, already unique and row-major
        mask = np.zeros((bottom - top + 1, right - left + 1), dtype=bool)
        for t, lf, b, r in self.selected_ranges():
            mask[t - top : b - top + 1, lf - left : r - left + 1] = True
        return (np.argwhere(mask) + np.array([top, left])).astype(np.int64)

    def _selection_bounds(self) -> tuple[int, int, int, int] | None:
        ranges = self.selected_ranges()
        if not ranges:
            return None
        a = np.array(ranges)
        return int(a[:, 0].min()), int(a[:, 1].min()), int(a[:, 2].max()), int(a[:, 3].max())

    def _touched(self, axis: int) -> list[int]:
        """Users (axis 0) or items (axis 1) touched by the selection."""
        marks = np.zeros(self.grid_model.shape[axis], dtype=bool)
        for rect in self.selected_ranges():
            marks[rect[axis] : rect[axis + 2] + 1] = True
        return np.flatnonzero(marks).tolist()

    def selected_rows(self) -> list[int]:
        """Users touched by the selection."""
        return self._touched(USERS)

    def selected_columns(self) -> list[int]:
        """Items touched by the selection."""
        return self._touched(ITEMS)

    # -- edit slots ------------------------------------------------------------------------
    @Slot()
    def undo(self) -> None:
        """Undo the last grid change (not while the grid is locked)."""
        m = self.grid_model
        if m.read_only:
            self.statusMessage.emit(LOCKED_MESSAGE)
            return
        if m.undo_stack.canUndo():
            m.undo_stack.undo()

    @Slot()
    def redo(self) -> None:
        """Redo the change just undone (not while the grid is locked)."""
        m = self.grid_model
        if m.read_only:
            self.statusMessage.emit(LOCKED_MESSAGE)
            return
        if m.undo_stack.canRedo():
            m.undo_stack.redo()

    def selection_text(self) -> str:
        """The selection's bounding block as tab-separated text; unselected cells are empty (DataError, the
        sentence to show, when it has more than memory.EDIT_BLOCK_MAX_CELLS cells)."""
        bounds = self._selection_bounds()
        if bounds is None:
            return ""
        top, left, bottom, right = bounds
        cells = self.selected_cells()  # DataError for a selection too large to copy
        block = self.grid_model.block_values(top, left, bottom, right)
        chosen = np.zeros(block.shape, dtype=bool)
        chosen[cells[:, 0] - top, cells[:, 1] - left] = True
        rows = [
            [exact_text(float(v)) if ok else "" for v, ok in zip(vals, oks)]
            for vals, oks in zip(block.tolist(), chosen.tolist())
        ]
        return format_block(rows)

    @Slot()
    def copy(self) -> None:
        """Put the selection on the clipboard as tab-separated text."""
        if self._selection_bounds() is None:
            self.statusMessage.emit("Select cells to copy first.")
            return
        try:
            text, n = self.selection_text(), len(self.selected_cells())
        except DataError as exc:
            self.statusMessage.emit(f"{exc} Nothing was copied.")
            return
        QApplication.clipboard().setText(text)
        self.statusMessage.emit(f"Copied {n:,} cell{'s' if n != 1 else ''}.")

    @Slot()
    def cut(self) -> None:
        """Copy the selection, then clear it as one undo step."""
        m = self.grid_model
        if not m.ensure_writable():
            return
        if self._selection_bounds() is None:
            self.statusMessage.emit("Select cells to cut first.")
            return
        try:
            text, n = self.selection_text(), len(self.selected_cells())
        except DataError as exc:
            self.statusMessage.emit(f"{exc} Nothing was cut; Delete clears a selection of any size.")
            return
        QApplication.clipboard().setText(text)
        m.clear_ranges(self.selected_ranges(), text=f"Cut {n:,} cell{'s' if n != 1 else ''}")

    @Slot()
    def paste(self) -> None:
        """Paste the clipboard's text at the current cell."""
        self.paste_text(QApplication.clipboard().text())

    def paste_text(self, text: str) -> bool:
        """Paste spreadsheet text at the current cell (top-left of the selection)."""
        m = self.grid_model
        block = parse_block(text)
        bounds = self._selection_bounds()
        cur = self.currentIndex()
        if bounds is not None:
            row, col = bounds[0], bounds[1]
        elif cur.isValid():
            row, col = cur.row(), cur.column()
        else:
            row, col = 0, 0
        several = bounds is not None and (bounds[2] > bounds[0] or bounds[3] > bounds[1])
        fill = bounds if several else None
        ok = m.paste_block(row, col, block, fill=fill)
        if ok and fill is None and block:
            h, w = len(block), max(len(line) for line in block)
            top_left = m.index(row, col)
            bottom_right = m.index(row + h - 1, col + w - 1)
            sel = self.selectionModel()
            sel.setCurrentIndex(top_left, QItemSelectionModel.SelectionFlag.NoUpdate)
            sel.select(QItemSelection(top_left, bottom_right), QItemSelectionModel.SelectionFlag.ClearAndSelect)
        return ok

    @Slot()
    def clear_selection(self) -> None:
        """Clear the selected cells as one undo step."""
        ranges = self.selected_ranges()
        if ranges:
            self.grid_model.clear_ranges(ranges)

    @Slot()
    def add_user(self) -> None:
        """Insert an unrated user below the current one (or at the end)."""
        m = self.grid_model
        cur = self.currentIndex()
        at = cur.row() + 1 if cur.isValid() else m.shape[0]
        if m.insert_users(at, 1):
            self._go_to(at, max(cur.column(), 0))

    @Slot()
    def add_item(self) -> None:
        """Insert an unrated item right of the current one (or at the end)."""
        m = self.grid_model
        cur = self.currentIndex()
        at = cur.column() + 1 if cur.isValid() else m.shape[1]
        if m.insert_items(at, 1):
            self._go_to(max(cur.row(), 0), at)

    @Slot()
    def remove_selected_users(self) -> None:
        """Remove the users of the selected cells."""
        rows = self.selected_rows()
        if not rows:
            self.statusMessage.emit("Select a cell of each user to remove first.")
            return
        self.grid_model.remove_users(rows)

    @Slot()
    def remove_selected_items(self) -> None:
        """Remove the items of the selected cells."""
        cols = self.selected_columns()
        if not cols:
            self.statusMessage.emit("Select a cell of each item to remove first.")
            return
        self.grid_model.remove_items(cols)

    @Slot()
    def hold_out_selection(self) -> None:
        """Hold the selected rated cells out for validation."""
        self.grid_model.hold_out_ranges(self.selected_ranges(), True)

    @Slot()
    def use_selection_for_training(self) -> None:
        """Return the selected cells to the training set."""
        self.grid_model.hold_out_ranges(self.selected_ranges(), False)

    @Slot(int)
    def rename_user_dialog(self, row: int) -> None:
        """Ask for a new name for user ``row``."""
        self._rename_dialog(USERS, row)

    @Slot(int)
    def rename_item_dialog(self, col: int) -> None:
        """Ask for a new name for item ``col``."""
        self._rename_dialog(ITEMS, col)

    def _rename_dialog(self, axis: int, index: int) -> None:
        m = self.grid_model
        if m.read_only:
            self.statusMessage.emit(LOCKED_MESSAGE)
            return
        labels = m.users if axis == USERS else m.items
        if not 0 <= index < len(labels):
            return
        word = AXIS_WORD[axis]
        text, ok = QInputDialog.getText(
            self, f"Rename {word}", f"New name for {labels[index]}:", QLineEdit.EchoMode.Normal, labels[index]
        )
        if ok:
            m.rename(axis, index, text)

    # -- keys, editor and menu -------------------------------------------------------------
    def _go_to(self, row: int, col: int) -> None:
        m = self.grid_model
        if 0 <= row < m.rowCount() and 0 <= col < m.columnCount():
            self.setCurrentIndex(m.index(row, col))

    def focusNextPrevChild(self, next: bool) -> bool:
        """Tab moves through the cells as in a spreadsheet, but leaves the grid after the last cell
        (Shift+Tab before the first) instead of wrapping round, so the keyboard is never trapped here."""
        m = self._model
        cur = self.currentIndex()
        if m is not None and cur.isValid() and self.state() != QAbstractItemView.State.EditingState:
            edge = (m.rowCount() - 1, m.columnCount() - 1) if next else (0, 0)
            if (cur.row(), cur.column()) == edge:
                return QWidget.focusNextPrevChild(self, next)
        return super().focusNextPrevChild(next)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter moves down (Shift+Enter up); Delete/Backspace clears the selection; Ctrl+Tab leaves the grid."""
        key = event.key()
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab) and mods & Qt.KeyboardModifier.ControlModifier:
            back = key == Qt.Key.Key_Backtab or bool(mods & Qt.KeyboardModifier.ShiftModifier)
            QWidget.focusNextPrevChild(self, not back)
            event.accept()
            return
        if self.state() != QAbstractItemView.State.EditingState:
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and mods in (
                Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier
            ):
                cur = self.currentIndex()
                if cur.isValid():
                    step = -1 if mods == Qt.KeyboardModifier.ShiftModifier else 1
                    self._go_to(cur.row() + step, cur.column())
                event.accept()
                return
            if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and mods == Qt.KeyboardModifier.NoModifier:
                if self._model is not None and self._model.ensure_writable():
                    self.clear_selection()
                event.accept()
                return
        super().keyPressEvent(event)

    def closeEditor(self, editor: QWidget, hint: QAbstractItemDelegate.EndEditHint) -> None:
        """After Enter commits an edit, move to the next row as a spreadsheet does."""
        super().closeEditor(editor, hint)
        if hint == QAbstractItemDelegate.EndEditHint.SubmitModelCache:
            cur = self.currentIndex()
            if cur.isValid():
                self._go_to(cur.row() + 1, cur.column())

    def build_context_menu(self) -> QMenu:
        """The grid's context menu (parented to the view)."""
        menu = QMenu(self)
        menu.addAction(self.action_add_user)
        menu.addAction(self.action_add_item)
        menu.addAction(self.action_remove_users)
        menu.addAction(self.action_remove_items)
        menu.addSeparator()
        menu.addAction(self.action_hold_out)
        menu.addAction(self.action_use_for_training)
        menu.addSeparator()
        menu.addAction(self.action_copy)
        menu.addAction(self.action_cut)
        menu.addAction(self.action_paste)
        menu.addAction(self.action_clear)
        menu.addSeparator()
        menu.addAction(self.action_undo)
        menu.addAction(self.action_redo)
        return menu

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = self.build_context_menu()
        menu.exec(event.globalPos())
        menu.deleteLater()
