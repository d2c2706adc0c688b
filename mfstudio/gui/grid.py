"""The rating grid: an editable table model over a dense numpy array, and its view.

``RatingsTableModel`` holds R as float64 (NaN = not rated), the user and item
labels, the rating scale and a bool mask of held-out cells.  Every change goes
through an undo command (``mfstudio.gui.undo``) on the model's ``undo_stack`` and
ends with one ``ratingsChanged``.  ``RatingGridView`` adds spreadsheet habits:
copy/cut/paste of tab-separated blocks, Delete clears, Enter moves down, header
double-click renames, a context menu, and undo/redo shortcuts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shiboken6
from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction, QBrush, QColor, QContextMenuEvent, QFont, QKeyEvent, QKeySequence, QUndoStack
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

from mfstudio.core.errors import DataError
from mfstudio.core.numbers import UNAMBIGUOUS_COMMA, exact_text, read_number
from mfstudio.core.ratings import MAX_CELLS, Ratings, check_text
from mfstudio.gui import undo
from mfstudio.gui.clipboard import format_block, parse_block

USERS, ITEMS = undo.USERS, undo.ITEMS
_AXIS_WORD = ("user", "item")
_PREFIX = ("User", "Item")

# Role numbers as plain ints: data() runs for every role of every visible cell.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_EDIT = int(Qt.ItemDataRole.EditRole.value)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
_FONT = int(Qt.ItemDataRole.FontRole.value)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole.value)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole.value)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole.value)
_ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole.value)

_N_TINTS = 32
_LOW, _HIGH = QColor("#f7fbff"), QColor("#74a9cf")  # light sequential blues: text stays readable
HELD_OUT_COLOR = QColor("#f6c177")
OUT_OF_SCALE_COLOR = QColor("#c0001a")
LOCKED_MESSAGE = "The grid cannot be changed while training runs; stop training first."
ZERO_CLEARS = ("0 means not rated here, so a 0 clears its cell; switch off \"0 means not rated\" below the grid "
               "to enter 0 as a rating.")


def _tints() -> list[QColor]:
    out = []
    for k in range(_N_TINTS + 1):
        t = k / _N_TINTS
        out.append(
            QColor(
                round(_LOW.red() + t * (_HIGH.red() - _LOW.red())),
                round(_LOW.green() + t * (_HIGH.green() - _LOW.green())),
                round(_LOW.blue() + t * (_HIGH.blue() - _LOW.blue())),
            )
        )
    return out


def _as_cells(cells: Iterable[tuple[int, int]] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) int arrays from a k x 2 array or an iterable of (row, col)."""
    a = cells if isinstance(cells, np.ndarray) else np.asarray(list(cells), dtype=np.int64)
    a = np.asarray(a, dtype=np.int64).reshape(-1, 2)
    return a[:, 0].copy(), a[:, 1].copy()


def _unique_cells(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct cells, row-major (a bool mask: linear time, unlike np.unique on big inputs)."""
    mask = np.zeros(shape, dtype=bool)
    mask[rows, cols] = True
    r, c = np.nonzero(mask)
    return r.astype(np.int64), c.astype(np.int64)


@dataclass
class GridState:
    """Everything the grid holds, as plain data (for replace-all and its undo)."""

    values: np.ndarray
    held: np.ndarray
    users: list[str]
    items: list[str]
    scale: tuple[float, float]
    # MovieLens genres by item label: kept apart from the columns, so inserting, removing and
    # undoing items needs no bookkeeping; a renamed or new item has none
    genres: dict[str, tuple[str, ...]] | None = None


class RatingsTableModel(QAbstractTableModel):
    """Editable users x items ratings with labels, scale, hold-out mask and undo."""

    ratingsChanged = Signal()
    heldOutChanged = Signal()
    statusMessage = Signal(str)
    readOnlyChanged = Signal(bool)
    scaleChanged = Signal(float, float)
    zeroRuleChanged = Signal(bool)  # "0 means not rated" switched on or off

    def __init__(self, ratings: Ratings | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self._R = np.zeros((0, 0))
        self._held = np.zeros((0, 0), dtype=bool)
        self._users: list[str] = []
        self._items: list[str] = []
        self._scale = (1.0, 5.0)
        self._zeros_missing = True
        self._genres: dict[str, tuple[str, ...]] | None = None
        self._read_only = False
        self._tints = _tints()
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
        return 0 if parent.isValid() else self._R.shape[0]

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._R.shape[1]

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        role = int(role)
        r, c = index.row(), index.column()
        if role == _DISPLAY:
            v = float(self._R[r, c])
            return "" if v != v else f"{v:.6g}"
        if role == _BACKGROUND:
            if self._held[r, c]:
                return self._held_brush
            v = float(self._R[r, c])
            if v != v:
                return None
            k = int((v - self._lo) * self._tint_step + 0.5)
            return self._tints[0 if k < 0 else (_N_TINTS if k > _N_TINTS else k)]
        if role == _ALIGN:
            return self._center
        if role == _FOREGROUND:
            v = float(self._R[r, c])
            if v < self._lo or v > self._hi:  # False for NaN
                return self._red
            return None
        if role == _FONT:
            return self._italic if self._held[r, c] else None
        if role == _EDIT:
            return exact_text(float(self._R[r, c]))
        if role == _TOOLTIP or role == _ACCESSIBLE:
            return self.cell_description(r, c)
        return None

    def cell_description(self, r: int, c: int) -> str:
        """One sentence about a cell: whose rating, its value, hold-out and scale."""
        v = float(self._R[r, c])
        where = f"{self._users[r]} / {self._items[c]}"
        if v != v:
            return f"{where}: not rated."
        text = f"{where}: {v:.6g}"
        if v < self._lo or v > self._hi:
            text += f" (outside the rating scale {self._lo:g} to {self._hi:g})"
        if self._held[r, c]:
            text += ", held out for validation"
        return text + "."

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
        if value is None:
            number = None
        elif isinstance(value, bool):
            self.statusMessage.emit(f"'{value}' is not a number; type a rating such as 4 or 3.5, or clear the cell.")
            return False
        elif isinstance(value, (int, float, np.integer, np.floating)):
            number = float(value) + 0.0  # -0.0 is 0, as in every Ratings
            if not np.isfinite(number):
                self.statusMessage.emit("A rating must be a finite number; type a rating such as 4 or 3.5, or clear the cell.")
                return False
        else:
            text = str(value)
            try:
                number = read_number(text, UNAMBIGUOUS_COMMA)
            except ValueError:
                self.statusMessage.emit(
                    f"'{text.strip()}' is not a number; type a rating such as 4 or 3.5, or clear the cell."
                )
                return False
        r, c = index.row(), index.column()
        if number == 0 and self._zeros_missing:
            number = None
            self.statusMessage.emit(ZERO_CLEARS)
        new = np.nan if number is None else number
        old = float(self._R[r, c])
        if (old != old and new != new) or old == new:
            return True
        verb = "Clear" if new != new else "Edit"
        self.undo_stack.push(
            undo.SetCellsCommand(self, np.array([r]), np.array([c]), np.array([new]), f"{verb} {self._users[r]} / {self._items[c]}")
        )
        return True

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        role = int(role)
        labels = self._users if orientation == Qt.Orientation.Vertical else self._items
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
        return self._rename(axis, section, "" if value is None else str(value))

    # -- properties --------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """(n_users, n_items)."""
        return (int(self._R.shape[0]), int(self._R.shape[1]))

    @property
    def scale(self) -> tuple[float, float]:
        return self._scale

    @property
    def users(self) -> tuple[str, ...]:
        return tuple(self._users)

    @property
    def items(self) -> tuple[str, ...]:
        return tuple(self._items)

    @property
    def zeros_are_missing(self) -> bool:
        """The grid's rule: when True, a typed or pasted 0 means "not rated" (the notebook's convention)."""
        return self._zeros_missing

    def set_zeros_are_missing(self, on: bool, *, undoable: bool = True) -> bool:
        """Switch "0 means not rated" on or off; switching it on clears ratings of 0 (one undo step)."""
        on = bool(on)
        if on == self._zeros_missing:
            return False
        if not undoable:
            self._raw_set_zero_rule(on)
            return True
        if not self._check_writable():
            self.zeroRuleChanged.emit(self._zeros_missing)  # the switch goes back
            return False
        zeros = int(np.count_nonzero(self._R == 0))
        text = "0 means not rated" if on else "0 is a rating"
        self.undo_stack.push(undo.ZeroRuleCommand(self, on, text))
        if on and zeros:
            self.statusMessage.emit(f"{zeros:,} rating{'s' if zeros != 1 else ''} of 0 now count as not rated "
                                    "(their cells were cleared; undo brings them back).")
        return True

    @property
    def read_only(self) -> bool:
        return self._read_only

    def value(self, r: int, c: int) -> float:
        """The rating at (r, c); NaN when not rated."""
        return float(self._R[r, c])

    def values(self) -> np.ndarray:
        """A copy of the dense grid (NaN = not rated)."""
        return self._R.copy()

    def held_out_mask(self) -> np.ndarray:
        """A copy of the bool grid of held-out cells (only rated cells are ever held out)."""
        return self._held & ~np.isnan(self._R)

    # -- whole-grid API ----------------------------------------------------------------
    def set_ratings(
        self,
        ratings: Ratings,
        held_out_cells: np.ndarray | None = None,
        *,
        undoable: bool = False,
        text: str = "Import ratings",
    ) -> bool:
        """Show ``ratings``; mark ``held_out_cells`` (k x 2 rows/cols) that are rated.

        With ``undoable`` the replacement is one undo step; otherwise the undo
        history is cleared, since it described a different grid.
        """
        values = ratings.to_dense()
        held = np.zeros(values.shape, dtype=bool)
        if held_out_cells is not None and len(held_out_cells):
            rows, cols = _as_cells(held_out_cells)
            ok = (rows >= 0) & (rows < values.shape[0]) & (cols >= 0) & (cols < values.shape[1])
            held[rows[ok], cols[ok]] = True
            held &= ~np.isnan(values)
        genres = None if ratings.item_genres is None else dict(zip(ratings.items, ratings.item_genres))
        state = GridState(values, held, list(ratings.users), list(ratings.items), ratings.scale, genres)
        if undoable:
            self.undo_stack.push(undo.ReplaceAllCommand(self, state, text))
        else:
            self._raw_replace(state)
            self.undo_stack.clear()
            self._announce(True)
        return True  # as every other edit says whether it happened

    def to_ratings(self) -> Ratings:
        """The grid as ``Ratings``: every non-NaN cell is a rating (0 included)."""
        rows, cols = np.nonzero(~np.isnan(self._R))
        genres = None if self._genres is None else [self._genres.get(lab, ()) for lab in self._items]
        return Ratings(rows, cols, self._R[rows, cols], self.shape, self._users, self._items, self._scale, genres)

    def held_out_cells(self) -> np.ndarray:
        """k x 2 int64 (row, col) of held-out cells that are rated, row-major."""
        return np.argwhere(self._held & ~np.isnan(self._R)).astype(np.int64)

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
            self.statusMessage.emit(f"The rating scale {lo:g} to {hi:g} is not valid; give a minimum below the maximum.")
            return False
        if (lo, hi) == self._scale:
            return True
        if not undoable:
            self._raw_set_scale((lo, hi))
            self._announce(False)
            return True
        if not self._check_writable():
            return False
        self.undo_stack.push(undo.ScaleCommand(self, (lo, hi), f"Set the rating scale to {lo:g}–{hi:g}"))
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
        if not self._check_writable():
            return False
        rows = np.asarray(rows, dtype=np.int64).ravel()
        cols = np.asarray(cols, dtype=np.int64).ravel()
        vals = np.asarray(vals, dtype=np.float64).ravel()
        self._check_cells(rows, cols)
        if np.any(np.isinf(vals)):
            raise ValueError("A rating must be finite.")
        old = self._R[rows, cols]
        same = (old == vals) | (np.isnan(old) & np.isnan(vals))
        if np.all(same):
            return False
        rows, cols, vals = rows[~same], cols[~same], vals[~same]
        if text is None:
            if len(rows) == 1:
                verb = "Clear" if np.isnan(vals[0]) else "Edit"
                text = f"{verb} {self._users[rows[0]]} / {self._items[cols[0]]}"
            else:
                verb = "Clear" if np.all(np.isnan(vals)) else "Edit"
                text = f"{verb} {len(rows)} cells"
        self.undo_stack.push(undo.SetCellsCommand(self, rows, cols, vals, text))
        return True

    def clear_cells(self, cells: Iterable[tuple[int, int]] | np.ndarray, text: str | None = None) -> bool:
        """Clear (un-rate) cells as one undo step; returns False when none was rated."""
        if not self._check_writable():
            return False
        rows, cols = _as_cells(cells)
        self._check_cells(rows, cols)
        rated = ~np.isnan(self._R[rows, cols])
        rows, cols = _unique_cells(rows[rated], cols[rated], self.shape)
        if len(rows) == 0:
            return False
        if text is None:
            text = f"Clear {len(rows)} cell{'s' if len(rows) != 1 else ''}"
        self.undo_stack.push(undo.SetCellsCommand(self, rows, cols, np.full(len(rows), np.nan), text))
        return True

    def set_held_out(self, cells: Iterable[tuple[int, int]] | np.ndarray, held: bool) -> bool:
        """Hold out (True) or return to training (False) the rated cells among ``cells``."""
        if not self._check_writable():
            return False
        rows, cols = _as_cells(cells)
        self._check_cells(rows, cols)
        keep = ~np.isnan(self._R[rows, cols]) & (self._held[rows, cols] != bool(held))
        rows, cols = _unique_cells(rows[keep], cols[keep], self.shape)
        if len(rows) == 0:
            if held:
                self.statusMessage.emit("No rated cell to hold out in the selection; select cells that have a rating.")
            else:
                self.statusMessage.emit("None of the selected cells is held out.")
            return False
        n = len(rows)
        s = "s" if n != 1 else ""
        text = f"Hold out {n} cell{s}" if held else f"Use {n} cell{s} for training"
        self.undo_stack.push(undo.HeldOutCommand(self, rows, cols, bool(held), text))
        return True

    def replace_held_out(self, cells: Iterable[tuple[int, int]] | np.ndarray, text: str = "Choose held-out cells") -> bool:
        """Make exactly the rated cells among ``cells`` the held-out set, as one undo step."""
        if not self._check_writable():
            return False
        rows, cols = _as_cells(cells)
        self._check_cells(rows, cols)
        want = np.zeros(self._held.shape, dtype=bool)
        want[rows, cols] = True
        rated = ~np.isnan(self._R)
        want &= rated
        changed = (want != self._held) & rated
        if not changed.any():
            return False
        r, c = np.nonzero(changed)
        self.undo_stack.push(undo.HeldOutCommand(self, r, c, want[r, c], text))
        return True

    def paste_block(self, row: int, col: int, block: list[list[str]], fill: tuple[int, int, int, int] | None = None) -> bool:
        """Paste text cells at (row, col), growing the grid as far as the block reaches.

        The block is checked whole first: if any cell is not a number nothing is
        pasted and ``statusMessage`` names the first bad cell.  With ``fill`` =
        (top, left, bottom, right) and a 1 x 1 block, the value fills that range.
        """
        if not self._check_writable():
            return False
        if not block or not any(block):
            self.statusMessage.emit("The clipboard holds no cells to paste.")
            return False
        parsed: list[list[float]] = []
        zeros = 0
        for i, line in enumerate(block):
            out = []
            for j, cell in enumerate(line):
                try:
                    v = read_number(cell, UNAMBIGUOUS_COMMA)
                except ValueError:
                    shown = cell if len(cell) <= 30 else cell[:27] + "..."
                    self.statusMessage.emit(
                        f"Row {i + 1}, column {j + 1} of the pasted block ('{shown}') is not a number; nothing was pasted."
                    )
                    return False
                if v == 0 and self._zeros_missing:
                    v, zeros = None, zeros + 1
                out.append(np.nan if v is None else v)
            parsed.append(out)
        if fill is not None and len(parsed) == 1 and len(parsed[0]) == 1:
            top, left, bottom, right = fill
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
        n_users = max(self.shape[0], int(rows.max()) + 1)
        n_items = max(self.shape[1], int(cols.max()) + 1)
        if n_users * n_items > MAX_CELLS:
            self.statusMessage.emit(
                f"Pasting here would make the grid {n_users:,} x {n_items:,}, more than {MAX_CELLS:,} cells; nothing was pasted."
            )
            return False
        h, w = len(parsed), max(len(line) for line in parsed)
        n = len(rows)
        text = f"Paste {h} × {w} cells" if n > 1 else f"Paste into {self._label(USERS, row)} / {self._label(ITEMS, col)}"
        self.undo_stack.push(undo.PasteCommand(self, (n_users, n_items), rows, cols, vals, text))
        if zeros:
            self.statusMessage.emit(f"{zeros:,} pasted 0{'s' if zeros != 1 else ''}: {ZERO_CLEARS}")
        return True

    # -- structure API -----------------------------------------------------------------
    def rename_user(self, i: int, label: str) -> bool:
        """Rename user ``i`` (one undo step)."""
        return self._rename(USERS, i, label)

    def rename_item(self, j: int, label: str) -> bool:
        """Rename item ``j`` (one undo step)."""
        return self._rename(ITEMS, j, label)

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
        if not self._check_writable():
            return False
        n_users, n_items = int(n_users), int(n_items)
        if n_users < 0 or n_items < 0:
            raise ValueError("The grid cannot have a negative size.")
        if n_users * n_items > MAX_CELLS:
            self.statusMessage.emit(f"A {n_users:,} x {n_items:,} grid is too large (limit {MAX_CELLS:,} cells).")
            return False
        if (n_users, n_items) == self.shape:
            return False
        text = f"Resize the grid to {n_users} × {n_items}"
        self.undo_stack.push(undo.ResizeCommand(self, n_users, n_items, text))
        return True

    def new_labels(self, axis: int, count: int) -> list[str]:
        """``count`` fresh default labels ("User 5", ...) not already in use on ``axis``."""
        labels = self._users if axis == USERS else self._items
        taken = set(labels)
        out: list[str] = []
        k = len(labels) + 1
        while len(out) < count:
            name = f"{_PREFIX[axis]} {k}"
            if name not in taken:
                out.append(name)
                taken.add(name)
            k += 1
        return out

    # -- helpers -----------------------------------------------------------------------
    def _label(self, axis: int, i: int) -> str:
        labels = self._users if axis == USERS else self._items
        return labels[i] if i < len(labels) else f"{_PREFIX[axis]} {i + 1}"

    def _check_writable(self) -> bool:
        if self._read_only:
            self.statusMessage.emit(LOCKED_MESSAGE)
            return False
        return True

    def _check_cells(self, rows: np.ndarray, cols: np.ndarray) -> None:
        n, m = self.shape
        if rows.size and (rows.min() < 0 or rows.max() >= n or cols.min() < 0 or cols.max() >= m):
            raise IndexError("A cell lies outside the grid.")

    def _rename(self, axis: int, index: int, label: str) -> bool:
        if not self._check_writable():
            return False
        labels = self._users if axis == USERS else self._items
        if not 0 <= index < len(labels):
            raise IndexError(f"There is no {_AXIS_WORD[axis]} {index + 1}.")
        label = str(label).strip()
        if not label:
            self.statusMessage.emit(f"A {_AXIS_WORD[axis]} name cannot be empty; type a name.")
            return False
        if label == labels[index]:
            return False
        try:
            check_text([label], f"{_AXIS_WORD[axis]} name")  # what no file could hold never enters the grid
        except DataError as exc:
            self.statusMessage.emit(str(exc))
            return False
        text = f"Rename {_AXIS_WORD[axis]} '{labels[index]}' to '{label}'"
        self.undo_stack.push(undo.RenameCommand(self, axis, index, label, text))
        return True

    def _insert(self, axis: int, at: int, count: int) -> bool:
        if not self._check_writable():
            return False
        n = self.shape[axis]
        if not 0 <= at <= n:
            raise IndexError(f"Cannot insert at position {at}; the grid has {n} {_AXIS_WORD[axis]}s.")
        if count <= 0:
            return False
        other = self.shape[1 - axis]
        if (n + count) * other > MAX_CELLS:
            self.statusMessage.emit(f"The grid would exceed {MAX_CELLS:,} cells; nothing was added.")
            return False
        word = _AXIS_WORD[axis] + ("s" if count != 1 else "")
        text = f"Add {count} {word}" if count != 1 else f"Add a {word}"
        self.undo_stack.push(undo.InsertCommand(self, axis, at, count, text))
        return True

    def _remove(self, axis: int, indices: Sequence[int]) -> bool:
        if not self._check_writable():
            return False
        idx = sorted(set(int(i) for i in indices))
        if not idx:
            return False
        n = self.shape[axis]
        if idx[0] < 0 or idx[-1] >= n:
            raise IndexError(f"There is no {_AXIS_WORD[axis]} {idx[-1] + 1}.")
        labels = self._users if axis == USERS else self._items
        if len(idx) == 1:
            text = f"Remove {_AXIS_WORD[axis]} '{labels[idx[0]]}'"
        else:
            text = f"Remove {len(idx)} {_AXIS_WORD[axis]}s"
        self.undo_stack.push(undo.RemoveCommand(self, axis, idx, text))
        return True

    def _update_scale_cache(self) -> None:
        self._lo, self._hi = self._scale
        self._tint_step = _N_TINTS / (self._hi - self._lo)

    def _announce(self, held_changed: bool) -> None:
        """Tell listeners the data changed (called once per undo step)."""
        self.ratingsChanged.emit()
        if held_changed:
            self.heldOutChanged.emit()

    # -- raw state changes, used by the undo commands only ------------------------------
    def _raw_get_cells(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._R[rows, cols].copy(), self._held[rows, cols].copy()

    def _raw_set_cells(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, held: np.ndarray) -> None:
        if len(rows) == 0:
            return
        self._R[rows, cols] = vals
        self._held[rows, cols] = held
        self.dataChanged.emit(
            self.index(int(rows.min()), int(cols.min())), self.index(int(rows.max()), int(cols.max()))
        )

    def _raw_insert(
        self, axis: int, at: int, vals: np.ndarray | None, held: np.ndarray | None, labels: Sequence[str]
    ) -> None:
        count = len(labels)
        if count == 0:
            return
        n_users, n_items = self.shape
        shape = (count, n_items) if axis == USERS else (n_users, count)
        if vals is None:
            vals = np.full(shape, np.nan)
        if held is None:
            held = np.zeros(shape, dtype=bool)
        if axis == USERS:
            self.beginInsertRows(QModelIndex(), at, at + count - 1)
            self._R = np.concatenate([self._R[:at], vals, self._R[at:]], axis=0)
            self._held = np.concatenate([self._held[:at], held, self._held[at:]], axis=0)
            self._users[at:at] = list(labels)
            self.endInsertRows()
        else:
            self.beginInsertColumns(QModelIndex(), at, at + count - 1)
            self._R = np.concatenate([self._R[:, :at], vals, self._R[:, at:]], axis=1)
            self._held = np.concatenate([self._held[:, :at], held, self._held[:, at:]], axis=1)
            self._items[at:at] = list(labels)
            self.endInsertColumns()

    def _raw_remove(self, axis: int, start: int, count: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
        stop = start + count
        if axis == USERS:
            self.beginRemoveRows(QModelIndex(), start, stop - 1)
            saved = (self._R[start:stop].copy(), self._held[start:stop].copy(), self._users[start:stop])
            self._R = np.concatenate([self._R[:start], self._R[stop:]], axis=0)
            self._held = np.concatenate([self._held[:start], self._held[stop:]], axis=0)
            del self._users[start:stop]
            self.endRemoveRows()
        else:
            self.beginRemoveColumns(QModelIndex(), start, stop - 1)
            saved = (self._R[:, start:stop].copy(), self._held[:, start:stop].copy(), self._items[start:stop])
            self._R = np.concatenate([self._R[:, :start], self._R[:, stop:]], axis=1)
            self._held = np.concatenate([self._held[:, :start], self._held[:, stop:]], axis=1)
            del self._items[start:stop]
            self.endRemoveColumns()
        return saved

    def _raw_rename(self, axis: int, index: int, label: str) -> str:
        labels = self._users if axis == USERS else self._items
        old = labels[index]
        labels[index] = label
        self.headerDataChanged.emit(Qt.Orientation.Vertical if axis == USERS else Qt.Orientation.Horizontal, index, index)
        return old

    def _raw_replace(self, state: GridState) -> GridState:
        old = GridState(self._R, self._held, self._users, self._items, self._scale, self._genres)
        self.beginResetModel()
        self._R = np.array(state.values, dtype=np.float64, copy=True)
        self._held = np.array(state.held, dtype=bool, copy=True)
        self._users = list(state.users)
        self._items = list(state.items)
        self._genres = state.genres
        self._scale = (float(state.scale[0]), float(state.scale[1]))
        self._update_scale_cache()
        self.endResetModel()
        if old.scale != self._scale:
            self.scaleChanged.emit(*self._scale)
        return old

    def _raw_set_zero_rule(self, on: bool) -> bool:
        old, self._zeros_missing = self._zeros_missing, bool(on)
        self.zeroRuleChanged.emit(self._zeros_missing)
        return old

    def _raw_set_scale(self, scale: tuple[float, float]) -> tuple[float, float]:
        old = self._scale
        self._scale = (float(scale[0]), float(scale[1]))
        self._update_scale_cache()
        n, m = self.shape
        if n and m:
            self.dataChanged.emit(self.index(0, 0), self.index(n - 1, m - 1), [
                Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.ToolTipRole,
            ])
        self.scaleChanged.emit(*self._scale)
        return old


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
    def _action(self, text: str, slot: Any, keys: Sequence[QKeySequence] = (), tip: str = "",
                context: Qt.ShortcutContext = Qt.ShortcutContext.WidgetShortcut) -> QAction:
        a = QAction(text, self)
        if keys:
            a.setShortcuts(list(keys))
            a.setShortcutContext(context)
        if tip:
            a.setStatusTip(tip)
            a.setToolTip(tip)
        a.triggered.connect(slot)
        self.addAction(a)
        return a

    def _make_actions(self) -> None:
        K = QKeySequence.StandardKey
        children = Qt.ShortcutContext.WidgetWithChildrenShortcut
        self.action_undo = self._action("&Undo", self.undo, [QKeySequence(K.Undo)], "Undo the last change to the grid.", children)
        self.action_redo = self._action("&Redo", self.redo, [QKeySequence(K.Redo)], "Redo the change just undone.", children)
        self.action_copy = self._action("&Copy", self.copy, [QKeySequence(K.Copy)], "Copy the selected cells as tab-separated text.")
        self.action_cut = self._action("Cu&t", self.cut, [QKeySequence(K.Cut)], "Copy the selected cells, then clear them.")
        self.action_paste = self._action(
            "&Paste", self.paste, [QKeySequence(K.Paste)], "Paste a block of numbers from a spreadsheet at the current cell."
        )
        self.action_clear = self._action(
            "C&lear", self.clear_selection, [QKeySequence(Qt.Key.Key_Delete), QKeySequence(Qt.Key.Key_Backspace)],
            "Clear the selected cells (not rated).",
        )
        self.action_add_user = self._action("&Add user", self.add_user, [QKeySequence("Ctrl+Shift+U")], tip="Add an unrated user below the current one.")
        self.action_add_item = self._action("Add &item", self.add_item, [QKeySequence("Ctrl+Shift+I")], tip="Add an unrated item right of the current one.")
        self.action_remove_users = self._action(
            "Remo&ve selected users", self.remove_selected_users,
            tip="Remove the users of the selected cells."
        )
        self.action_remove_items = self._action(
            "Remove selected ite&ms", self.remove_selected_items,
            tip="Remove the items of the selected cells."
        )
        self.action_hold_out = self._action(
            "&Hold out selected cells", self.hold_out_selection, [QKeySequence("Ctrl+H")], tip="Set the selected ratings aside for validation."
        )
        self.action_use_for_training = self._action(
            "Use selected cells for trai&ning", self.use_selection_for_training, [QKeySequence("Ctrl+Shift+H")],
            tip="Train on the selected ratings again.",
        )
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
    def selected_cells(self) -> np.ndarray:
        """k x 2 (row, col) of the selected cells, unique and row-major (the current cell if none)."""
        sel = self.selectionModel()
        ranges = list(sel.selection()) if sel is not None else []
        if not ranges:
            cur = self.currentIndex()
            if not cur.isValid():
                return np.zeros((0, 2), np.int64)
            return np.array([[cur.row(), cur.column()]], np.int64)
        # A bool mask over the grid: linear in cells and already unique and row-major
        # (np.unique on 1.6 M keys took seconds).
        mask = np.zeros(self.grid_model.shape, dtype=bool)
        for rng in ranges:
            mask[rng.top() : rng.bottom() + 1, rng.left() : rng.right() + 1] = True
        return np.argwhere(mask).astype(np.int64)

    def _selection_bounds(self) -> tuple[int, int, int, int] | None:
        cells = self.selected_cells()
        if len(cells) == 0:
            return None
        return int(cells[:, 0].min()), int(cells[:, 1].min()), int(cells[:, 0].max()), int(cells[:, 1].max())

    def selected_rows(self) -> list[int]:
        """Users touched by the selection."""
        return sorted(set(self.selected_cells()[:, 0].tolist()))

    def selected_columns(self) -> list[int]:
        """Items touched by the selection."""
        return sorted(set(self.selected_cells()[:, 1].tolist()))

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
        """The selection's bounding block as tab-separated text; unselected cells are empty."""
        bounds = self._selection_bounds()
        if bounds is None:
            return ""
        top, left, bottom, right = bounds
        cells = self.selected_cells()
        block = self.grid_model._R[top : bottom + 1, left : right + 1]
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
        text = self.selection_text()
        if not text and self._selection_bounds() is None:
            self.statusMessage.emit("Select cells to copy first.")
            return
        QApplication.clipboard().setText(text)
        n = len(self.selected_cells())
        self.statusMessage.emit(f"Copied {n} cell{'s' if n != 1 else ''}.")

    @Slot()
    def cut(self) -> None:
        """Copy the selection, then clear it as one undo step."""
        m = self.grid_model
        if not m._check_writable():
            return
        cells = self.selected_cells()
        if len(cells) == 0:
            self.statusMessage.emit("Select cells to cut first.")
            return
        QApplication.clipboard().setText(self.selection_text())
        m.clear_cells(cells, text=f"Cut {len(cells)} cell{'s' if len(cells) != 1 else ''}")

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
        fill = bounds if bounds is not None and len(self.selected_cells()) > 1 else None
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
        cells = self.selected_cells()
        if len(cells) == 0:
            return
        self.grid_model.clear_cells(cells)

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
        self.grid_model.set_held_out(self.selected_cells(), True)

    @Slot()
    def use_selection_for_training(self) -> None:
        """Return the selected cells to the training set."""
        self.grid_model.set_held_out(self.selected_cells(), False)

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
        word = _AXIS_WORD[axis]
        text, ok = QInputDialog.getText(
            self, f"Rename {word}", f"New name for {labels[index]}:", QLineEdit.EchoMode.Normal, labels[index]
        )
        if ok:
            m._rename(axis, index, text)

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
                if self._model is not None and self._model._check_writable():
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
