"""What the rating grid holds, as plain data: no Qt, no matplotlib.

``GridState`` is the grid's content — the dense values (float64, NaN = not rated), the
users x items bool ``held_out_grid``, the user and item labels, the rating scale, the rule
"0 means not rated" and the MovieLens genres by item label — with the raw operations that
change it and the pure queries over it.  Every raw operation returns what it overwrote,
so an undo step can put it back (``mfstudio.gui.grid.undo``).  None of them checks the
lock or tells anyone: the table model wraps them in Qt's notifications.

The checks that turn typed or pasted text into ratings and labels live here too, each
raising ``DataError`` with the sentence to show.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mfstudio.core.errors import DataError
from mfstudio.core.memory import EDITABLE_GRID_MAX_CELLS
from mfstudio.core.numbers import UNAMBIGUOUS_COMMA, read_number
from mfstudio.core.ratings import Ratings, check_text

USERS, ITEMS = 0, 1  # axis numbers: rows are users, columns are items
AXIS_WORD = ("user", "item")
PREFIX = ("User", "Item")
NOT_A_NUMBER = "'{}' is not a number; type a rating such as 4 or 3.5, or clear the cell."

Cells = Iterable[tuple[int, int]] | np.ndarray


def as_cells(cells: Cells) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) int arrays from a k x 2 array or an iterable of (row, col)."""
    a = cells if isinstance(cells, np.ndarray) else np.asarray(list(cells), dtype=np.int64)
    a = np.asarray(a, dtype=np.int64).reshape(-1, 2)
    return a[:, 0].copy(), a[:, 1].copy()


def unique_cells(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct cells, row-major (a bool grid: linear time, unlike np.unique on big inputs)."""
    grid = np.zeros(shape, dtype=bool)
    grid[rows, cols] = True
    r, c = np.nonzero(grid)
    return r.astype(np.int64), c.astype(np.int64)


def typed_value(value: Any) -> float | None:
    """A rating from what was typed (text or a number); None for empty text. DataError names what is wrong."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise DataError(NOT_A_NUMBER.format(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value) + 0.0  # -0.0 is 0, as in every Ratings
        if not np.isfinite(number):
            raise DataError("A rating must be a finite number; type a rating such as 4 or 3.5, or clear the cell.")
        return number
    text = str(value)
    try:
        return read_number(text, UNAMBIGUOUS_COMMA)
    except ValueError:
        raise DataError(NOT_A_NUMBER.format(text.strip())) from None


def block_values(block: Sequence[Sequence[str]], zeros_are_missing: bool) -> tuple[list[list[float]], int]:
    """Pasted text cells as numbers (NaN = empty, and 0 when zeros are missing) and how many 0s were cleared.

    The whole block is read first: DataError names the first cell that is not a number.
    """
    parsed: list[list[float]] = []
    zeros = 0
    for i, line in enumerate(block):
        out = []
        for j, cell in enumerate(line):
            try:
                v = read_number(cell, UNAMBIGUOUS_COMMA)
            except ValueError:
                shown = cell if len(cell) <= 30 else cell[:27] + "..."
                raise DataError(f"Row {i + 1}, column {j + 1} of the pasted block ('{shown}') is not a number; "
                                "nothing was pasted.") from None
            if v == 0 and zeros_are_missing:
                v, zeros = None, zeros + 1
            out.append(np.nan if v is None else v)
        parsed.append(out)
    return parsed, zeros


@dataclass(frozen=True)
class Slab:
    """Users (axis 0) or items (axis 1) taken out of the grid: their values, held-out flags and labels."""

    values: np.ndarray
    held_out_grid: np.ndarray
    labels: list[str]


@dataclass
class GridState:
    """The grid's content, and the raw operations that change it (each returns what it overwrote).

    Only rated cells are ever held out: every operation keeps ``held_out_grid`` inside the
    rated cells, and the queries mask with the values besides.
    """

    values: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    held_out_grid: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    users: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    scale: tuple[float, float] = (1.0, 5.0)
    zeros_are_missing: bool = True  # a typed or pasted 0 means "not rated" (the notebook's convention)
    # MovieLens genres by item label: kept apart from the columns, so inserting, removing and
    # undoing items needs no bookkeeping; a renamed or new item has none
    genres: dict[str, tuple[str, ...]] | None = None
    implicit: bool = False  # the values are counts of events (plays, clicks), not ratings: Ratings.implicit

    @classmethod
    def from_ratings(cls, ratings: Ratings, held_out_cells: np.ndarray | None = None, *,
                     zeros_are_missing: bool = True) -> GridState:
        """The grid of ``ratings``, holding out the rated cells among ``held_out_cells`` (k x 2; others dropped)."""
        values = ratings.to_dense()
        held = np.zeros(values.shape, dtype=bool)
        if held_out_cells is not None and len(held_out_cells):
            rows, cols = as_cells(held_out_cells)
            ok = (rows >= 0) & (rows < values.shape[0]) & (cols >= 0) & (cols < values.shape[1])
            held[rows[ok], cols[ok]] = True
            held &= ~np.isnan(values)
        genres = None if ratings.item_genres is None else dict(zip(ratings.items, ratings.item_genres))
        return cls(values, held, list(ratings.users), list(ratings.items), ratings.scale, zeros_are_missing, genres,
                   ratings.implicit)

    def copy(self) -> GridState:
        """An independent copy (arrays and label lists copied)."""
        return GridState(self.values.copy(), self.held_out_grid.copy(), list(self.users), list(self.items),
                         self.scale, self.zeros_are_missing, None if self.genres is None else dict(self.genres),
                         self.implicit)

    # -- queries ---------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """(n_users, n_items)."""
        return (int(self.values.shape[0]), int(self.values.shape[1]))

    def labels(self, axis: int) -> list[str]:
        """The user (axis 0) or item (axis 1) labels (the state's own list: read it, do not change it)."""
        return self.users if axis == USERS else self.items

    def label(self, axis: int, i: int) -> str:
        """The label of entry ``i``, or the default name it would get past the end ("User 7")."""
        labels = self.labels(axis)
        return labels[i] if i < len(labels) else f"{PREFIX[axis]} {i + 1}"

    def new_labels(self, axis: int, count: int) -> list[str]:
        """``count`` fresh default labels ("User 5", ...) not already in use on ``axis``."""
        labels = self.labels(axis)
        taken = set(labels)
        out: list[str] = []
        k = len(labels) + 1
        while len(out) < count:
            name = f"{PREFIX[axis]} {k}"
            if name not in taken:
                out.append(name)
                taken.add(name)
            k += 1
        return out

    def to_ratings(self) -> Ratings:
        """The grid as ``Ratings``: every non-NaN cell is a rating (0 included)."""
        rows, cols = np.nonzero(~np.isnan(self.values))
        genres = None if self.genres is None else [self.genres.get(lab, ()) for lab in self.items]
        return Ratings(rows, cols, self.values[rows, cols], self.shape, self.users, self.items, self.scale, genres,
                       implicit=self.implicit)

    def held_out_cells(self) -> np.ndarray:
        """k x 2 int64 (row, col) of held-out cells that are rated, row-major."""
        return np.argwhere(self.held_out_grid & ~np.isnan(self.values)).astype(np.int64)

    def rated_held_out_grid(self) -> np.ndarray:
        """A copy of ``held_out_grid`` limited to rated cells."""
        return self.held_out_grid & ~np.isnan(self.values)

    def zero_cells(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cols) of the ratings of 0."""
        rows, cols = np.nonzero(self.values == 0)
        return rows.astype(np.int64), cols.astype(np.int64)

    def check_cells(self, rows: np.ndarray, cols: np.ndarray) -> None:
        """IndexError when a cell lies outside the grid."""
        n, m = self.shape
        if rows.size and (rows.min() < 0 or rows.max() >= n or cols.min() < 0 or cols.max() >= m):
            raise IndexError("A cell lies outside the grid.")

    @staticmethod
    def check_values(vals: np.ndarray) -> None:
        """ValueError when a value is infinite (NaN is allowed: it clears a cell)."""
        if np.any(np.isinf(vals)):
            raise ValueError("A rating must be finite.")

    @staticmethod
    def check_size(n_users: int, n_items: int) -> bool:
        """Whether an n_users x n_items grid stays within the editable grid's limit (EDITABLE_GRID_MAX_CELLS)."""
        return n_users * n_items <= EDITABLE_GRID_MAX_CELLS

    def checked_label(self, axis: int, index: int, label: str) -> str | None:
        """``label`` stripped, as a new name for entry ``index``; None when it is the name already.

        IndexError when there is no such entry; DataError (the sentence to show) when the
        name is empty or no file could hold it.
        """
        labels = self.labels(axis)
        if not 0 <= index < len(labels):
            raise IndexError(f"There is no {AXIS_WORD[axis]} {index + 1}.")
        label = str(label).strip()
        if not label:
            raise DataError(f"A {AXIS_WORD[axis]} name cannot be empty; type a name.")
        if label == labels[index]:
            return None
        check_text([label], f"{AXIS_WORD[axis]} name")  # what no file could hold never enters the grid
        return label

    # -- raw operations: each returns what it overwrote ------------------------------------
    def set_cells(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray,
                  held: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Set values (NaN clears) and held-out flags at (rows, cols); the old (values, flags).

        Without ``held`` a cell stays held out if it was and its new value is rated.
        """
        old = self.values[rows, cols], self.held_out_grid[rows, cols]  # fancy indexing: copies
        if held is None:
            held = old[1] & ~np.isnan(vals)
        self.values[rows, cols] = vals
        self.held_out_grid[rows, cols] = held
        return old

    def set_held_out(self, rows: np.ndarray, cols: np.ndarray, held: bool | np.ndarray) -> np.ndarray:
        """Hold the cells out (True) or use them for training (False); the old flags."""
        old = self.held_out_grid[rows, cols]
        self.held_out_grid[rows, cols] = held
        return old

    def insert(self, axis: int, at: int, labels: Sequence[str], values: np.ndarray | None = None,
               held: np.ndarray | None = None) -> int:
        """Insert users (axis 0) or items (axis 1) before ``at``, unrated unless ``values`` are given.

        Nothing is overwritten: returns how many were inserted (what ``remove`` takes back).
        """
        count = len(labels)
        if count == 0:
            return 0
        n_users, n_items = self.shape
        shape = (count, n_items) if axis == USERS else (n_users, count)
        if values is None:
            values = np.full(shape, np.nan)
        if held is None:
            held = np.zeros(shape, dtype=bool)
        if axis == USERS:
            self.values = np.concatenate([self.values[:at], values, self.values[at:]], axis=0)
            self.held_out_grid = np.concatenate([self.held_out_grid[:at], held, self.held_out_grid[at:]], axis=0)
            self.users[at:at] = list(labels)
        else:
            self.values = np.concatenate([self.values[:, :at], values, self.values[:, at:]], axis=1)
            self.held_out_grid = np.concatenate([self.held_out_grid[:, :at], held, self.held_out_grid[:, at:]], axis=1)
            self.items[at:at] = list(labels)
        return count

    def remove(self, axis: int, start: int, count: int) -> Slab:
        """Remove ``count`` users (axis 0) or items (axis 1) from ``start``; what was removed."""
        stop = start + count
        if axis == USERS:
            saved = Slab(self.values[start:stop].copy(), self.held_out_grid[start:stop].copy(), self.users[start:stop])
            self.values = np.concatenate([self.values[:start], self.values[stop:]], axis=0)
            self.held_out_grid = np.concatenate([self.held_out_grid[:start], self.held_out_grid[stop:]], axis=0)
            del self.users[start:stop]
        else:
            saved = Slab(self.values[:, start:stop].copy(), self.held_out_grid[:, start:stop].copy(),
                         self.items[start:stop])
            self.values = np.concatenate([self.values[:, :start], self.values[:, stop:]], axis=1)
            self.held_out_grid = np.concatenate([self.held_out_grid[:, :start], self.held_out_grid[:, stop:]], axis=1)
            del self.items[start:stop]
        return saved

    def resize(self, axis: int, n: int, labels: Sequence[str] = (), values: np.ndarray | None = None,
               held: np.ndarray | None = None) -> Slab:
        """Grow or shrink one axis at its end to ``n`` entries; what was dropped (empty when it grew).

        Growing takes the first labels (and, if given, values and flags) needed for the new entries.
        """
        have = self.shape[axis]
        if n < have:
            return self.remove(axis, n, have - n)
        if n > have:
            self.insert(axis, have, list(labels)[: n - have], values, held)
        other = self.shape[1 - axis]
        empty = (0, other) if axis == USERS else (other, 0)
        return Slab(np.zeros(empty), np.zeros(empty, dtype=bool), [])

    def rename(self, axis: int, index: int, label: str) -> str:
        """Rename one user (axis 0) or item (axis 1); the old name."""
        labels = self.labels(axis)
        old, labels[index] = labels[index], str(label)
        return old

    def replace(self, other: GridState) -> GridState:
        """Take ``other``'s values, hold-out, labels, scale, genres and kind (copied); the old ones.

        The zero rule is a setting of the grid, not of its content: only ``set_zero_rule``
        changes it, so the returned state carries the rule unchanged.
        """
        old = GridState(self.values, self.held_out_grid, self.users, self.items, self.scale,
                        self.zeros_are_missing, self.genres, self.implicit)
        self.implicit = bool(other.implicit)
        self.values = np.array(other.values, dtype=np.float64, copy=True)
        self.held_out_grid = np.array(other.held_out_grid, dtype=bool, copy=True)
        self.users = list(other.users)
        self.items = list(other.items)
        self.genres = None if other.genres is None else dict(other.genres)
        self.scale = (float(other.scale[0]), float(other.scale[1]))
        return old

    def set_scale(self, scale: tuple[float, float]) -> tuple[float, float]:
        """Change the rating scale; the old one."""
        old, self.scale = self.scale, (float(scale[0]), float(scale[1]))
        return old

    def set_kind(self, implicit: bool) -> bool:
        """Say the values are counts of events (True) or ratings (False); the cells are left as they are. The old
        kind."""
        old, self.implicit = self.implicit, bool(implicit)
        return old

    def set_zero_rule(self, on: bool) -> bool:
        """Switch "0 means not rated" on or off (the cells are left as they are); the old rule."""
        old, self.zeros_are_missing = self.zeros_are_missing, bool(on)
        return old
