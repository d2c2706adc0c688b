"""The rating grid's Qt table model: a ``GridState`` shown and edited through Qt's model interface.

``RatingsTableModel`` checks every edit (the lock, the cells, the text typed), turns it into
an undo command (``mfstudio.gui.grid.undo``) on its ``undo_stack``, and applies the command's
ops through :meth:`RatingsTableModel.apply`, the one place where the state changes: each op
is wrapped in the Qt notification it needs (rows inserted, data changed, reset, ...) and the
whole step ends with one ``ratingsChanged``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QFont, QUndoStack

from mfstudio.core import memory
from mfstudio.core.errors import DataError
from mfstudio.core.numbers import exact_text
from mfstudio.core.ratings import Ratings
from mfstudio.gui.grid import undo
from mfstudio.gui.grid.colours import HELD_OUT_COLOR, N_TINTS, OUT_OF_SCALE_COLOR, tints
from mfstudio.gui.grid.state import (
    AXIS_WORD,
    ITEMS,
    USERS,
    BuiltGrid,
    GridState,
    Rect,
    as_cells,
    block_values,
    typed_value,
    unique_cells,
)

# Role numbers as plain ints: data() runs for every role of every visible cell.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_EDIT = int(Qt.ItemDataRole.EditRole.value)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
_FONT = int(Qt.ItemDataRole.FontRole.value)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole.value)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole.value)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole.value)
_ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole.value)

LOCKED_MESSAGE = "The grid cannot be changed while training runs; stop training first."
ZERO_CLEARS = ("0 means not rated here, so a 0 clears its cell; switch off \"0 means not rated\" below the grid "
               "to enter 0 as a rating.")
_SCALE_ROLES = [Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.ToolTipRole]


class RatingsTableModel(QAbstractTableModel):
    """Editable users x items ratings with labels, scale, held-out cells and undo."""

    ratingsChanged = Signal()
    heldOutChanged = Signal()
    statusMessage = Signal(str)
    readOnlyChanged = Signal(bool)
    scaleChanged = Signal(float, float)
    zeroRuleChanged = Signal(bool)  # "0 means not rated" switched on or off
    kindChanged = Signal(bool)  # switched (or undone): True, the values are counts of events, not ratings

    def __init__(self, ratings: Ratings | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self._state = GridState()
        self._changes, self._known = 0, None  # ops run so far; (changes, to_ratings(), held_out_cells()) if known
        self._read_only = False
        self._tints = tints()
        self._held_brush = QBrush(HELD_OUT_COLOR)
        self._red = QBrush(OUT_OF_SCALE_COLOR)
        self._italic = QFont()
        self._italic.setItalic(True)
        self._center = int(Qt.AlignmentFlag.AlignCenter.value)
        self._flags_rw = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsEditable
        self._flags_ro = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
        self._update_scale_cache()
        if ratings is not None:
            self.set_ratings(ratings)

    # -- Qt model interface ----------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._state.users)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._state.items)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        role = int(role)
        if role == _ALIGN:
            return self._center
        r, c = index.row(), index.column()
        if role == _DISPLAY:
            v = self._state.value(r, c)
            return "" if v != v else f"{v:.6g}"
        if role == _BACKGROUND:
            v, held = self._state.cell(r, c)
            if held:
                return self._held_brush
            if v != v:
                return None
            k = int((v - self._lo) * self._tint_step + 0.5)
            return self._tints[0 if k < 0 else (N_TINTS if k > N_TINTS else k)]
        if role == _FOREGROUND:
            v = self._state.value(r, c)
            if v < self._lo or v > self._hi:  # False for NaN
                return self._red
            return None
        if role == _FONT:
            return self._italic if self._state.cell(r, c)[1] else None
        if role == _EDIT:
            return exact_text(self._state.value(r, c))
        if role == _TOOLTIP or role == _ACCESSIBLE:
            return self.cell_description(r, c)
        return None

    def cell_description(self, r: int, c: int) -> str:
        """One sentence about a cell: whose rating, its value, hold-out and scale."""
        return self._state.describe(r, c)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return self._flags_ro if self._read_only else self._flags_rw

    def setData(self, index: QModelIndex | QPersistentModelIndex, value: Any, role: int = _EDIT) -> bool:
        """Set one rating from typed text or a number; empty clears; other text is refused."""
        if not index.isValid() or int(role) != _EDIT:
            return False
        if self._read_only:
            self.statusMessage.emit(LOCKED_MESSAGE)
            return False
        try:
            number = typed_value(value)
        except DataError as exc:
            self.statusMessage.emit(str(exc))
            return False
        st = self._state
        r, c = index.row(), index.column()
        if number == 0 and st.zeros_are_missing:
            number = None
            self.statusMessage.emit(ZERO_CLEARS)
        new = np.nan if number is None else number
        old = st.value(r, c)
        if (old != old and new != new) or old == new:
            return True
        verb = "Clear" if new != new else "Edit"
        text = f"{verb} {st.users[r]} / {st.items[c]}"
        self.undo_stack.push(undo.SetCellsCommand(self, np.array([r]), np.array([c]), np.array([new]), text))
        return True

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        role = int(role)
        labels = self._state.users if orientation == Qt.Orientation.Vertical else self._state.items
        if not 0 <= section < len(labels):
            return None
        if role in (_DISPLAY, _EDIT):
            return labels[section]
        if role == _TOOLTIP:
            word = "user" if orientation == Qt.Orientation.Vertical else "item"
            return f"{labels[section]} — double-click to rename this {word}."
        return None

    def setHeaderData(self, section: int, orientation: Qt.Orientation, value: Any, role: int = _EDIT) -> bool:
        """Rename a user (vertical header) or an item (horizontal header)."""
        if int(role) != _EDIT:
            return False
        axis = USERS if orientation == Qt.Orientation.Vertical else ITEMS
        return self.rename(axis, section, "" if value is None else str(value))

    # -- properties and queries ----------------------------------------------------------
    @property
    def state(self) -> GridState:
        """The GridState shown: read it freely; change it only through :meth:`apply`."""
        return self._state

    @property
    def shape(self) -> tuple[int, int]:
        """(n_users, n_items)."""
        return self._state.shape

    @property
    def scale(self) -> tuple[float, float]:
        return self._state.scale

    @property
    def users(self) -> tuple[str, ...]:
        return tuple(self._state.users)

    @property
    def items(self) -> tuple[str, ...]:
        return tuple(self._state.items)

    @property
    def zeros_are_missing(self) -> bool:
        """The grid's rule: when True, a typed or pasted 0 means "not rated" (the notebook's convention)."""
        return self._state.zeros_are_missing

    @property
    def implicit(self) -> bool:
        """True when the values are counts of events (plays, clicks, purchases), not ratings."""
        return self._state.implicit

    @property
    def read_only(self) -> bool:
        return self._read_only

    def value(self, r: int, c: int) -> float:
        """The rating at (r, c); NaN when not rated."""
        return self._state.value(r, c)

    @property
    def nnz(self) -> int:
        """How many cells are rated."""
        return self._state.nnz

    def block_values(self, top: int, left: int, bottom: int, right: int) -> np.ndarray:
        """The values in rows top..bottom and columns left..right (inclusive), NaN = not rated; DataError (the
        sentence to show) when the block is larger than memory.EDIT_BLOCK_MAX_CELLS cells."""
        return self._state.block(top, left, bottom, right)[0]

    def held_out_cells(self) -> np.ndarray:
        """k x 2 int64 (row, col) of held-out cells that are rated, row-major."""
        return k[2] if (k := self._known) is not None and k[0] == self._changes else self._state.held_out_cells()

    def to_ratings(self) -> Ratings:
        """The grid as ``Ratings``: every non-NaN cell is a rating (0 included); those built beforehand if unchanged."""
        return k[1] if (k := self._known) is not None and k[0] == self._changes else self._state.to_ratings()

    def new_labels(self, axis: int, count: int) -> list[str]:
        """``count`` fresh default labels ("User 5", ...) not already in use on ``axis``."""
        return self._state.new_labels(axis, count)

    def ensure_writable(self) -> bool:
        """True when edits are allowed; otherwise says why on ``statusMessage`` and returns False."""
        if self._read_only:
            self.statusMessage.emit(LOCKED_MESSAGE)
            return False
        return True

    # -- the one way the state changes ----------------------------------------------------
    def apply(self, ops: Sequence[undo.Op]) -> list[undo.Op]:
        """Apply ``ops`` in order, each with its Qt notifications, then announce the change once.

        Returns the inverse ops in the order that undoes them (what an undo command keeps).
        No lock is checked here: the edit methods check it before they push a command.
        """
        inverses = [self._run(op) for op in ops]
        self._announce(any(op.touches_held for op in ops))
        inverses.reverse()
        return inverses

    def _run(self, op: undo.Op) -> undo.Op:
        """One op on the state, inside the Qt notifications it needs."""
        st = self._state
        self._changes += 1
        if isinstance(op, (undo.CellsOp, undo.HeldOp)):
            inverse = op.run(st)
            if len(op.rows):
                self.dataChanged.emit(self.index(int(op.rows.min()), int(op.cols.min())),
                                      self.index(int(op.rows.max()), int(op.cols.max())))
            return inverse
        if isinstance(op, (undo.InsertOp, undo.RemoveOp, undo.ResizeOp)):
            return self._run_structure(op)
        if isinstance(op, undo.RenameOp):
            inverse = op.run(st)
            orientation = Qt.Orientation.Vertical if op.axis == USERS else Qt.Orientation.Horizontal
            self.headerDataChanged.emit(orientation, op.index, op.index)
            return inverse
        if isinstance(op, undo.ReplaceOp):
            old_scale = st.scale
            self.beginResetModel()
            inverse = op.run(st)
            self._update_scale_cache()
            self.endResetModel()
            if st.scale != old_scale:
                self.scaleChanged.emit(*st.scale)
            return inverse
        if isinstance(op, undo.ScaleOp):
            inverse = op.run(st)
            self._update_scale_cache()
            n, m = st.shape
            if n and m:
                self.dataChanged.emit(self.index(0, 0), self.index(n - 1, m - 1), _SCALE_ROLES)
            self.scaleChanged.emit(*st.scale)
            return inverse
        if isinstance(op, undo.ZeroRuleOp):
            inverse = op.run(st)
            self.zeroRuleChanged.emit(st.zeros_are_missing)
            return inverse
        if isinstance(op, undo.KindOp):
            inverse = op.run(st)
            self.kindChanged.emit(st.implicit)
            return inverse
        raise TypeError(f"The grid cannot apply {type(op).__name__}.")

    def _run_structure(self, op: undo.InsertOp | undo.RemoveOp | undo.ResizeOp) -> undo.Op:
        """Insert, remove or resize inside begin/end notices for the rows or columns that come or go."""
        axis = op.axis
        if isinstance(op, undo.InsertOp):
            inserting, first, last = True, op.at, op.at + len(op.labels) - 1
        elif isinstance(op, undo.RemoveOp):
            inserting, first, last = False, op.start, op.start + op.count - 1
        else:
            have = self._state.shape[axis]
            inserting = op.n > have
            first, last = (have, op.n - 1) if inserting else (op.n, have - 1)
        if last < first:
            return op.run(self._state)
        root = QModelIndex()
        if axis == USERS:
            (self.beginInsertRows if inserting else self.beginRemoveRows)(root, first, last)
        else:
            (self.beginInsertColumns if inserting else self.beginRemoveColumns)(root, first, last)
        inverse = op.run(self._state)
        if axis == USERS:
            (self.endInsertRows if inserting else self.endRemoveRows)()
        else:
            (self.endInsertColumns if inserting else self.endRemoveColumns)()
        return inverse

    def _announce(self, held_changed: bool) -> None:
        """Tell listeners the data changed (once per undo step)."""
        self.ratingsChanged.emit()
        if held_changed:
            self.heldOutChanged.emit()

    def _update_scale_cache(self) -> None:
        self._lo, self._hi = self._state.scale
        self._tint_step = N_TINTS / (self._hi - self._lo)

    # -- whole-grid API ----------------------------------------------------------------
    def set_ratings(
        self,
        ratings: Ratings,
        held_out_cells: np.ndarray | None = None,
        *,
        undoable: bool = False,
        text: str = "Import ratings",
        built: BuiltGrid | None = None,
    ) -> bool:
        """Show ``ratings``; mark ``held_out_cells`` (k x 2 rows/cols) that are rated.

        With ``undoable`` the replacement is one undo step; otherwise the undo history is cleared, since it
        described a different grid. ``built`` (``BuiltGrid.of``, e.g. made on a reader thread; not undoable): its
        state is taken as it is and its Ratings are :meth:`to_ratings`'s until the next change (no pass here)."""
        if built is not None and not undoable:
            self._run(undo.ReplaceOp(built.state, take=True))
            self._known = (self._changes, built.ratings, built.held_out_cells)
            self.undo_stack.clear()
            self._announce(True)
            return True
        state = GridState.from_ratings(ratings, held_out_cells, zeros_are_missing=self._state.zeros_are_missing)
        if undoable:
            self.undo_stack.push(undo.ReplaceAllCommand(self, state, text))
        else:
            self._run(undo.ReplaceOp(state, take=True))  # made here for this op alone
            self.undo_stack.clear()
            self._announce(True)
        return True  # as every other edit says whether it happened

    def set_read_only(self, read_only: bool) -> None:
        """Lock (True) or unlock edits; while locked flags() drops ItemIsEditable."""
        read_only = bool(read_only)
        if read_only == self._read_only:
            return
        self._read_only = read_only
        self.readOnlyChanged.emit(read_only)

    def set_scale(self, scale: tuple[float, float], *, undoable: bool = True) -> bool:
        """Change the rating scale (lo < hi); successive undoable changes merge into one step."""
        lo, hi = float(scale[0]), float(scale[1])
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            self.statusMessage.emit(f"The rating scale {lo:g} to {hi:g} is not valid; "
                                    "give a minimum below the maximum.")
            return False
        if (lo, hi) == self._state.scale:
            return True
        if not undoable:
            self.apply([undo.ScaleOp((lo, hi))])
            return True
        if not self.ensure_writable():
            return False
        self.undo_stack.push(undo.ScaleCommand(self, (lo, hi), f"Set the rating scale to {lo:g}–{hi:g}"))
        return True

    def set_zeros_are_missing(self, on: bool, *, undoable: bool = True) -> bool:
        """Switch "0 means not rated" on or off; switching it on clears ratings of 0 (one undo step)."""
        on = bool(on)
        if on == self._state.zeros_are_missing:
            return False
        if not undoable:
            self._run(undo.ZeroRuleOp(on))
            return True
        if not self.ensure_writable():
            self.zeroRuleChanged.emit(self._state.zeros_are_missing)  # the switch goes back
            return False
        zeros = len(self._state.zero_cells()[0])
        text = "0 means not rated" if on else "0 is a rating"
        self.undo_stack.push(undo.ZeroRuleCommand(self, on, text))
        if on and zeros:
            self.statusMessage.emit(f"{zeros:,} rating{'s' if zeros != 1 else ''} of 0 now count as not rated "
                                    "(their cells were cleared; undo brings them back).")
        return True

    def set_implicit(self, implicit: bool, *, undoable: bool = True) -> bool:
        """Say the values are counts of events (True) or ratings (False): one undo step; the values stay."""
        implicit = bool(implicit)
        if implicit == self._state.implicit:
            return False
        if undoable and not self.ensure_writable():
            self.kindChanged.emit(self._state.implicit)  # the switch goes back
            return False
        if undoable:
            text = "Counts/events, not ratings" if implicit else "Ratings, not counts"
            self.undo_stack.push(undo.GridCommand(self, [undo.KindOp(implicit)], text))
        else:
            self._run(undo.KindOp(implicit))
        return True

    # -- cell API ----------------------------------------------------------------------
    def set_cells(self, cells: Mapping[tuple[int, int], float | None], text: str | None = None) -> bool:
        """Set many cells as one undo step; a value of NaN or None clears the cell."""
        if not cells:
            return False
        keys = np.asarray(list(cells.keys()), dtype=np.int64).reshape(-1, 2)
        vals = np.array([np.nan if v is None else float(v) for v in cells.values()], dtype=np.float64)
        return self.set_values(keys[:, 0], keys[:, 1], vals, text)

    def set_values(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, text: str | None = None) -> bool:
        """Set cells given as parallel arrays, as one undo step (NaN clears)."""
        if not self.ensure_writable():
            return False
        st = self._state
        rows = np.asarray(rows, dtype=np.int64).ravel()
        cols = np.asarray(cols, dtype=np.int64).ravel()
        vals = np.asarray(vals, dtype=np.float64).ravel()
        st.check_cells(rows, cols)
        st.check_values(vals)
        old = st.values_at(rows, cols)[0]
        same = (old == vals) | (np.isnan(old) & np.isnan(vals))
        if np.all(same):
            return False
        rows, cols, vals = rows[~same], cols[~same], vals[~same]
        if text is None:
            if len(rows) == 1:
                verb = "Clear" if np.isnan(vals[0]) else "Edit"
                text = f"{verb} {st.users[rows[0]]} / {st.items[cols[0]]}"
            else:
                verb = "Clear" if np.all(np.isnan(vals)) else "Edit"
                text = f"{verb} {len(rows)} cells"
        self.undo_stack.push(undo.SetCellsCommand(self, rows, cols, vals, text))
        return True

    def clear_cells(self, cells: Iterable[tuple[int, int]] | np.ndarray, text: str | None = None) -> bool:
        """Clear (un-rate) cells as one undo step; returns False when none was rated."""
        if not self.ensure_writable():
            return False
        st = self._state
        rows, cols = as_cells(cells)
        st.check_cells(rows, cols)
        rated = ~np.isnan(st.values_at(rows, cols)[0])
        return self._clear(*unique_cells(rows[rated], cols[rated]), text)

    def clear_ranges(self, rects: Sequence[Rect], text: str | None = None) -> bool:
        """Clear the rated cells in ``rects`` ((top, left, bottom, right), inclusive; a selection of any size)
        as one undo step; returns False when none was rated."""
        if not self.ensure_writable():
            return False
        return self._clear(*self._state.rated_in(rects), text)

    def _clear(self, rows: np.ndarray, cols: np.ndarray, text: str | None) -> bool:
        if len(rows) == 0:
            return False
        if text is None:
            text = f"Clear {len(rows):,} cell{'s' if len(rows) != 1 else ''}"
        self.undo_stack.push(undo.SetCellsCommand(self, rows, cols, np.full(len(rows), np.nan), text))
        return True

    def set_held_out(self, cells: Iterable[tuple[int, int]] | np.ndarray, held: bool) -> bool:
        """Hold out (True) or return to training (False) the rated cells among ``cells``."""
        if not self.ensure_writable():
            return False
        st = self._state
        rows, cols = as_cells(cells)
        st.check_cells(rows, cols)
        vals, flags = st.values_at(rows, cols)
        keep = ~np.isnan(vals) & (flags != bool(held))
        return self._hold_out(*unique_cells(rows[keep], cols[keep]), held)

    def hold_out_ranges(self, rects: Sequence[Rect], held: bool) -> bool:
        """Hold out (True) or return to training (False) the rated cells in ``rects`` ((top, left, bottom, right),
        inclusive; a selection of any size)."""
        if not self.ensure_writable():
            return False
        return self._hold_out(*self._state.held_in(rects, held), held)

    def _hold_out(self, rows: np.ndarray, cols: np.ndarray, held: bool) -> bool:
        if len(rows) == 0:
            if held:
                self.statusMessage.emit("No rated cell to hold out in the selection; select cells that have a rating.")
            else:
                self.statusMessage.emit("None of the selected cells is held out.")
            return False
        n = len(rows)
        s = "s" if n != 1 else ""
        text = f"Hold out {n:,} cell{s}" if held else f"Use {n:,} cell{s} for training"
        self.undo_stack.push(undo.HeldOutCommand(self, rows, cols, bool(held), text))
        return True

    def replace_held_out(self, cells: Iterable[tuple[int, int]] | np.ndarray,
                         text: str = "Choose held-out cells") -> bool:
        """Make exactly the rated cells among ``cells`` the held-out set, as one undo step."""
        if not self.ensure_writable():
            return False
        st = self._state
        rows, cols = as_cells(cells)
        st.check_cells(rows, cols)
        r, c, want = st.held_changes(rows, cols)
        if not len(r):
            return False
        self.undo_stack.push(undo.HeldOutCommand(self, r, c, want, text))
        return True

    def paste_block(self, row: int, col: int, block: list[list[str]],
                    fill: tuple[int, int, int, int] | None = None) -> bool:
        """Paste text cells at (row, col), growing the grid as far as the block reaches.

        The block is checked whole first: if any cell is not a number nothing is
        pasted and ``statusMessage`` names the first bad cell.  With ``fill`` =
        (top, left, bottom, right) and a 1 x 1 block, the value fills that range.
        """
        if not self.ensure_writable():
            return False
        if not block or not any(block):
            self.statusMessage.emit("The clipboard holds no cells to paste.")
            return False
        st = self._state
        try:
            parsed, zeros = block_values(block, st.zeros_are_missing)
        except DataError as exc:
            self.statusMessage.emit(str(exc))
            return False
        if fill is not None and len(parsed) == 1 and len(parsed[0]) == 1:
            top, left, bottom, right = fill
            try:
                memory.check_block(bottom - top + 1, right - left + 1)
            except DataError as exc:
                self.statusMessage.emit(f"{exc} Nothing was pasted.")
                return False
            rr, cc = np.mgrid[top : bottom + 1, left : right + 1]
            rows, cols = rr.ravel(), cc.ravel()
            vals = np.full(rows.shape, parsed[0][0])
        else:
            rows_l, cols_l, vals_l = [], [], []
            for i, line in enumerate(parsed):
                for j, v in enumerate(line):
                    rows_l.append(row + i)
                    cols_l.append(col + j)
                    vals_l.append(v)
            rows, cols, vals = np.array(rows_l, np.int64), np.array(cols_l, np.int64), np.array(vals_l)
        n_users = max(st.shape[0], int(rows.max()) + 1)
        n_items = max(st.shape[1], int(cols.max()) + 1)
        try:
            st.check_size(n_users, n_items, len(rows))
        except DataError as exc:
            self.statusMessage.emit(f"Pasting here would make the grid {n_users:,} x {n_items:,}: {exc} "
                                    "Nothing was pasted.")
            return False
        h, w = len(parsed), max(len(line) for line in parsed)
        n = len(rows)
        text = f"Paste {h} × {w} cells" if n > 1 else f"Paste into {st.label(USERS, row)} / {st.label(ITEMS, col)}"
        self.undo_stack.push(undo.PasteCommand(self, (n_users, n_items), rows, cols, vals, text))
        if zeros:
            self.statusMessage.emit(f"{zeros:,} pasted 0{'s' if zeros != 1 else ''}: {ZERO_CLEARS}")
        return True

    # -- structure API -----------------------------------------------------------------
    def rename(self, axis: int, index: int, label: str) -> bool:
        """Rename user (axis 0) or item (axis 1) ``index`` as one undo step; False (and a message) when refused."""
        if not self.ensure_writable():
            return False
        st = self._state
        try:
            new = st.checked_label(axis, index, label)
        except DataError as exc:
            self.statusMessage.emit(str(exc))
            return False
        if new is None:
            return False
        text = f"Rename {AXIS_WORD[axis]} '{st.labels(axis)[index]}' to '{new}'"
        self.undo_stack.push(undo.RenameCommand(self, axis, index, new, text))
        return True

    def rename_user(self, i: int, label: str) -> bool:
        """Rename user ``i`` (one undo step)."""
        return self.rename(USERS, i, label)

    def rename_item(self, j: int, label: str) -> bool:
        """Rename item ``j`` (one undo step)."""
        return self.rename(ITEMS, j, label)

    def add_user_with_ratings(self, name: str, ratings: Iterable[tuple[int, float]]) -> bool:
        """Append one user named ``name`` with ``ratings`` ((item index, rating) pairs) as ONE undo step.

        Refused with a sentence on ``statusMessage`` (and False) when the grid is locked, the name is
        empty or taken, an item is unknown or rated twice, or a rating is not finite or off the scale.
        """
        if not self.ensure_writable():
            return False
        st = self._state
        try:
            label, row = st.new_user_row(str(name), ratings)
        except DataError as exc:
            self.statusMessage.emit(str(exc))
            return False
        n_users, n_items = st.shape
        try:
            st.check_size(n_users + 1, n_items, n_items)
        except DataError as exc:
            self.statusMessage.emit(f"{exc} {label} was not added.")
            return False
        rated = int(np.count_nonzero(~np.isnan(row)))
        text = f"Add user '{label}' with {rated} rating{'s' if rated != 1 else ''}"
        self.undo_stack.push(undo.AddUserCommand(self, label, row, text))
        return True

    def insert_users(self, at: int, count: int = 1) -> bool:
        """Insert ``count`` unrated users before row ``at`` (``at`` = n_users appends)."""
        return self._insert(USERS, at, count)

    def insert_items(self, at: int, count: int = 1) -> bool:
        """Insert ``count`` unrated items before column ``at``."""
        return self._insert(ITEMS, at, count)

    def remove_users(self, rows: Sequence[int]) -> bool:
        """Remove the users at ``rows`` with their ratings (one undo step)."""
        return self._remove(USERS, rows)

    def remove_items(self, cols: Sequence[int]) -> bool:
        """Remove the items at ``cols`` with their ratings (one undo step)."""
        return self._remove(ITEMS, cols)

    def resize_grid(self, n_users: int, n_items: int) -> bool:
        """Make the grid n_users x n_items, adding or dropping users/items at the end."""
        if not self.ensure_writable():
            return False
        n_users, n_items = int(n_users), int(n_items)
        if n_users < 0 or n_items < 0:
            raise ValueError("The grid cannot have a negative size.")
        try:
            self._state.check_size(n_users, n_items)
        except DataError as exc:
            self.statusMessage.emit(f"{exc} The grid keeps its size.")
            return False
        if (n_users, n_items) == self.shape:
            return False
        text = f"Resize the grid to {n_users} × {n_items}"
        self.undo_stack.push(undo.ResizeCommand(self, n_users, n_items, text))
        return True

    def _insert(self, axis: int, at: int, count: int) -> bool:
        if not self.ensure_writable():
            return False
        n = self.shape[axis]
        if not 0 <= at <= n:
            raise IndexError(f"Cannot insert at position {at}; the grid has {n} {AXIS_WORD[axis]}s.")
        if count <= 0:
            return False
        try:
            self._state.check_size(*((n + count, self.shape[1]) if axis == USERS else (self.shape[0], n + count)))
        except DataError as exc:
            self.statusMessage.emit(f"{exc} Nothing was added.")
            return False
        word = AXIS_WORD[axis] + ("s" if count != 1 else "")
        text = f"Add {count} {word}" if count != 1 else f"Add a {word}"
        self.undo_stack.push(undo.InsertCommand(self, axis, at, count, text))
        return True

    def _remove(self, axis: int, indices: Sequence[int]) -> bool:
        if not self.ensure_writable():
            return False
        idx = sorted(set(int(i) for i in indices))
        if not idx:
            return False
        n = self.shape[axis]
        if idx[0] < 0 or idx[-1] >= n:
            raise IndexError(f"There is no {AXIS_WORD[axis]} {idx[-1] + 1}.")
        labels = self._state.labels(axis)
        if len(idx) == 1:
            text = f"Remove {AXIS_WORD[axis]} '{labels[idx[0]]}'"
        else:
            text = f"Remove {len(idx)} {AXIS_WORD[axis]}s"
        self.undo_stack.push(undo.RemoveCommand(self, axis, idx, text))
        return True
