"""What the rating grid holds, as plain data: no Qt, no matplotlib.

``GridState`` is the grid's content — its rated cells as sorted entries (``entries.Entries``:
memory grows with the ratings, never with users x items), the user and item labels, the
rating scale, the rule "0 means not rated" and the MovieLens genres by item label — with the
raw operations that change it and the pure queries over it.  Every raw operation returns what it overwrote,
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

from mfstudio.core import memory
from mfstudio.core.errors import DataError
from mfstudio.core.numbers import UNAMBIGUOUS_COMMA, read_number
from mfstudio.core.ratings import Ratings, check_text
from mfstudio.gui.grid.entries import Entries, cols_of, keys_of, rows_of, sorted_unique

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


def unique_cells(rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct cells, row-major."""
    keys, _ = sorted_unique(keys_of(rows, cols))
    return rows_of(keys), cols_of(keys)


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


Rect = tuple[int, int, int, int]  # (top, left, bottom, right), inclusive


@dataclass(frozen=True)
class Slab:
    """Users (axis 0) or items (axis 1) taken out of the grid: their rated cells (counted from the first one
    taken along that axis) and their labels."""

    entries: Entries
    labels: list[str]


@dataclass
class GridState:
    """The grid's content, and the raw operations that change it (each returns what it overwrote).

    Only rated cells are entries, and only entries can be held out, so a hold-out never
    outlives its rating. Nothing here is users x items: a dense array is built only for a
    block a caller asks for (:meth:`block`), and that is bounded (memory.EDIT_BLOCK_MAX_CELLS).
    """

    entries: Entries = field(default_factory=Entries.empty)
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
        o = ratings.observed
        keys = keys_of(o.rows, o.cols)  # Ratings are sorted row-major and distinct: so are their keys
        entries = Entries(keys, np.array(o.vals, dtype=np.float64), np.zeros(keys.size, dtype=bool))
        if held_out_cells is not None and len(held_out_cells):
            rows, cols = as_cells(held_out_cells)
            n, m = ratings.shape
            ok = (rows >= 0) & (rows < n) & (cols >= 0) & (cols < m)
            pos, found = entries.find(keys_of(rows[ok], cols[ok]))
            entries.held[pos[found]] = True
        genres = None if ratings.item_genres is None else dict(zip(ratings.items, ratings.item_genres))
        return cls(entries, list(ratings.users), list(ratings.items), ratings.scale, zeros_are_missing, genres,
                   ratings.implicit)

    @classmethod
    def from_dense(cls, values: np.ndarray, held: np.ndarray | None = None, **kw: Any) -> GridState:
        """A small grid from a dense array (NaN = not rated) and held-out flags; default labels unless given."""
        values = np.asarray(values, dtype=np.float64)
        n, m = values.shape
        rows, cols = np.nonzero(~np.isnan(values))
        flags = None if held is None else np.asarray(held, dtype=bool)[rows, cols]
        kw.setdefault("users", [f"User {i + 1}" for i in range(n)])
        kw.setdefault("items", [f"Item {j + 1}" for j in range(m)])
        return cls(Entries.of_cells(rows, cols, values[rows, cols], flags), **kw)

    def copy(self) -> GridState:
        """An independent copy (arrays and label lists copied)."""
        return GridState(self.entries.copy(), list(self.users), list(self.items), self.scale,
                         self.zeros_are_missing, None if self.genres is None else dict(self.genres), self.implicit)

    # -- queries ---------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """(n_users, n_items)."""
        return (len(self.users), len(self.items))

    @property
    def nnz(self) -> int:
        """How many cells are rated."""
        return len(self.entries)

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

    def value(self, row: int, col: int) -> float:
        """The rating at (row, col); NaN when not rated."""
        i = self.entries.one(row, col)
        return float(self.entries.vals[i]) if i >= 0 else float("nan")

    def cell(self, row: int, col: int) -> tuple[float, bool]:
        """(rating or NaN, held out) of one cell."""
        e = self.entries
        i = e.one(row, col)
        return (float(e.vals[i]), bool(e.held[i])) if i >= 0 else (float("nan"), False)

    def values_at(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(values, held-out flags) of cells: NaN and False where not rated."""
        return self.entries.at(keys_of(rows, cols))

    def block(self, top: int, left: int, bottom: int, right: int) -> tuple[np.ndarray, np.ndarray]:
        """Dense (values, held-out flags) of rows top..bottom and columns left..right (inclusive).

        DataError (the sentence to show) when the block has more than memory.EDIT_BLOCK_MAX_CELLS cells.
        """
        h, w = bottom - top + 1, right - left + 1
        memory.check_block(h, w)
        values = np.full((max(h, 0), max(w, 0)), np.nan)
        held = np.zeros(values.shape, dtype=bool)
        e = self.entries
        pos = e.in_rect(top, left, bottom, right)
        r, c = rows_of(e.keys[pos]) - top, cols_of(e.keys[pos]) - left
        values[r, c] = e.vals[pos]
        held[r, c] = e.held[pos]
        return values, held

    def to_ratings(self) -> Ratings:
        """The grid as ``Ratings``: every rated cell is a rating (0 included); the entries are its arrays."""
        e = self.entries
        genres = None if self.genres is None else [self.genres.get(lab, ()) for lab in self.items]
        return Ratings(e.rows, e.cols, e.vals, self.shape, self.users, self.items, self.scale, genres,
                       implicit=self.implicit)

    def held_out_cells(self) -> np.ndarray:
        """k x 2 int64 (row, col) of held-out cells (all rated), row-major."""
        keys = self.entries.keys[self.entries.held]
        return np.stack([rows_of(keys), cols_of(keys)], axis=1)

    def zero_cells(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cols) of the ratings of 0."""
        keys = self.entries.keys[self.entries.vals == 0]
        return rows_of(keys), cols_of(keys)

    def rated_in(self, rects: Sequence[Rect]) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cols) of the rated cells in any of ``rects`` (top, left, bottom, right), distinct, row-major."""
        keys = self.entries.keys[self.entries.in_rects(list(rects))]
        return rows_of(keys), cols_of(keys)

    def held_in(self, rects: Sequence[Rect], held: bool) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cols) of the rated cells in ``rects`` whose held-out flag is not ``held`` yet."""
        e = self.entries
        pos = e.in_rects(list(rects))
        keys = e.keys[pos[e.held[pos] != bool(held)]]
        return rows_of(keys), cols_of(keys)

    def held_changes(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, cols, new flags) of the rated cells whose flag changes when exactly the rated cells among
        (rows, cols) are to be held out."""
        e = self.entries
        want = np.zeros(len(e), dtype=bool)
        pos, found = e.find(keys_of(rows, cols))
        want[pos[found]] = True
        changed = np.flatnonzero(want != e.held)
        keys = e.keys[changed]
        return rows_of(keys), cols_of(keys), want[changed]

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

    def check_size(self, n_users: int, n_items: int, extra: int = 0) -> None:
        """DataError (the sentence to show) when an n_users x n_items grid with ``extra`` more ratings would not
        fit in memory (memory.check_grid: its labels and entries, never users x items)."""
        memory.check_grid(n_users, n_items, self.nnz + int(extra))

    def describe(self, r: int, c: int) -> str:
        """One sentence about a cell: whose rating, its value, hold-out and scale."""
        v, held = self.cell(r, c)
        where = f"{self.users[r]} / {self.items[c]}"
        if v != v:
            return f"{where}: not rated."
        lo, hi = self.scale
        text = f"{where}: {v:.6g}"
        if v < lo or v > hi:
            text += f" (outside the rating scale {lo:g} to {hi:g})"
        if held:
            text += ", held out for validation"
        return text + "."

    def new_user_row(self, name: str, ratings: Iterable[tuple[int, float]]) -> tuple[str, np.ndarray]:
        """The checked name and the row of values (NaN: not rated) of a user to add with ``ratings``
        ((item index, rating) pairs); DataError (the sentence to show) names what is wrong."""
        label = name.strip()
        if not label:
            raise DataError("A user name cannot be empty; type a name.")
        if label in self.users:
            raise DataError(f"There is already a user named {label}; choose another name.")
        check_text([label], "user name")
        lo, hi = self.scale
        n_items = self.shape[1]
        row = np.full(n_items, np.nan)
        for item, value in ratings:
            j, v = int(item), float(value)
            if not 0 <= j < n_items:
                raise DataError(f"There is no item {j + 1}; the grid has {n_items:,} items.")
            if not np.isnan(row[j]):
                raise DataError(f"{self.items[j]} is rated twice; give one rating per item.")
            if not (np.isfinite(v) and lo <= v <= hi):
                raise DataError(f"A rating of {v:g} for {self.items[j]} is off the rating scale {lo:g} to {hi:g}.")
            row[j] = v
        return label, row

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
        """Set values (NaN clears) and held-out flags at (rows, cols); the old (values, flags), one per cell given.

        Without ``held`` a cell stays held out if it was and its new value is rated. A cell given twice
        takes its last value.
        """
        keys = keys_of(rows, cols)
        old = self.entries.at(keys)
        vals = np.broadcast_to(np.asarray(vals, dtype=np.float64), keys.shape)
        new_held = old[1] & ~np.isnan(vals) if held is None else np.broadcast_to(np.asarray(held, bool), keys.shape)
        uniq, last = sorted_unique(keys)
        self.entries.assign(uniq, vals[last], new_held[last])
        return old

    def set_held_out(self, rows: np.ndarray, cols: np.ndarray, held: bool | np.ndarray) -> np.ndarray:
        """Hold the rated cells out (True) or use them for training (False); the old flags (False: not rated)."""
        e = self.entries
        pos, found = e.find(keys_of(rows, cols))
        old = np.zeros(pos.shape, dtype=bool)
        old[found] = e.held[pos[found]]
        e.held[pos[found]] = np.broadcast_to(np.asarray(held, dtype=bool), pos.shape)[found]
        return old

    def insert(self, axis: int, at: int, labels: Sequence[str], entries: Entries | None = None) -> int:
        """Insert users (axis 0) or items (axis 1) before ``at``, unrated unless ``entries`` (their own rows or
        columns counted from 0) are given.

        Nothing is overwritten: returns how many were inserted (what ``remove`` takes back).
        """
        count = len(labels)
        if count == 0:
            return 0
        self.entries.paste_in(axis, at, count, entries)
        self.labels(axis)[at:at] = list(labels)
        return count

    def remove(self, axis: int, start: int, count: int) -> Slab:
        """Remove ``count`` users (axis 0) or items (axis 1) from ``start``; what was removed."""
        labels = self.labels(axis)
        saved = Slab(self.entries.cut(axis, start, count), labels[start : start + count])
        del labels[start : start + count]
        return saved

    def resize(self, axis: int, n: int, labels: Sequence[str] = (), entries: Entries | None = None) -> Slab:
        """Grow or shrink one axis at its end to ``n`` entries; what was dropped (empty when it grew).

        Growing takes the first labels (and, if given, the entries) needed for the new users or items.
        """
        have = self.shape[axis]
        if n < have:
            return self.remove(axis, n, have - n)
        if n > have:
            self.insert(axis, have, list(labels)[: n - have], entries)
        return Slab(Entries.empty(), [])

    def rename(self, axis: int, index: int, label: str) -> str:
        """Rename one user (axis 0) or item (axis 1); the old name."""
        labels = self.labels(axis)
        old, labels[index] = labels[index], str(label)
        return old

    def replace(self, other: GridState, *, take: bool = False) -> GridState:
        """Take ``other``'s entries, labels, scale, genres and kind (copied, or with ``take`` the entries
        themselves: ``other`` is then no one else's); the old ones.

        The zero rule is a setting of the grid, not of its content: only ``set_zero_rule``
        changes it, so the returned state carries the rule unchanged.
        """
        old = GridState(self.entries, self.users, self.items, self.scale, self.zeros_are_missing, self.genres,
                        self.implicit)
        self.implicit = bool(other.implicit)
        self.entries = other.entries if take else other.entries.copy()
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


@dataclass(frozen=True)
class BuiltGrid:
    """A grid's state made beforehand (on any thread: plain numpy), with its Ratings and held-out cells, so that
    showing big data leaves the window's thread only the swap (:meth:`RatingsTableModel.set_ratings`)."""

    state: GridState
    ratings: Ratings  # state.to_ratings()
    held_out_cells: np.ndarray  # state.held_out_cells(), read-only

    @classmethod
    def of(cls, ratings: Ratings, held_out_cells: np.ndarray | None = None, *,
           zeros_are_missing: bool = True) -> BuiltGrid:
        """The grid of ``ratings`` as :meth:`GridState.from_ratings` makes it."""
        state = GridState.from_ratings(ratings, held_out_cells, zeros_are_missing=zeros_are_missing)
        held = state.held_out_cells()
        held.setflags(write=False)
        return cls(state, state.to_ratings(), held)
