"""The rating grid's cells as sorted entries: what is rated, and nothing for what is not.

``Entries`` holds one int64 key per rated cell, ``row << 32 | col``, sorted (so row-major) and
distinct, with the cell's value and its held-out flag beside it. Memory grows with the number of
ratings, never with users x items; a cell is found by binary search; inserting or removing users
or items shifts the keys (their order never changes). Plain numpy: no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mfstudio.core.keys import distinct

SHIFT = 32  # a key is row << SHIFT | col
MASK = (1 << SHIFT) - 1
MAX_INDEX = (1 << 31) - 1  # rows and columns stay below this (Qt counts them in int too)


def keys_of(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The keys of cells (rows, cols)."""
    return (np.asarray(rows, dtype=np.int64) << SHIFT) | np.asarray(cols, dtype=np.int64)


def rows_of(keys: np.ndarray) -> np.ndarray:
    """The rows of ``keys``."""
    return keys >> SHIFT


def cols_of(keys: np.ndarray) -> np.ndarray:
    """The columns of ``keys``."""
    return keys & MASK


def sorted_unique(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct keys ascending, for each one the position of its LAST occurrence in ``keys``).

    Already sorted and distinct keys (a pasted block, row-major) pass without a sort.
    """
    keys = np.asarray(keys, dtype=np.int64)
    if keys.size < 2 or bool(np.all(keys[1:] > keys[:-1])):
        return keys, np.arange(keys.size)
    order = np.argsort(keys, kind="stable")
    k = keys[order]
    last = np.ones(k.size, dtype=bool)
    last[:-1] = k[1:] != k[:-1]  # the last of each run of equal keys: the latest given
    return k[last], order[last]


@dataclass
class Entries:
    """Rated cells: sorted distinct ``keys``, their ``vals`` (finite) and ``held`` flags (held out)."""

    keys: np.ndarray
    vals: np.ndarray
    held: np.ndarray

    @classmethod
    def empty(cls) -> Entries:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.float64), np.zeros(0, bool))

    @classmethod
    def of_cells(cls, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray,
                 held: np.ndarray | None = None) -> Entries:
        """The entries of cells given in any order (NaN values dropped; a repeated cell keeps its last value)."""
        vals = np.asarray(vals, dtype=np.float64).ravel()
        held = np.zeros(vals.size, bool) if held is None else np.broadcast_to(np.asarray(held, bool), vals.shape)
        keys, at = sorted_unique(keys_of(np.ravel(rows), np.ravel(cols)))
        v, h = vals[at], held[at]
        ok = ~np.isnan(v)
        return cls(keys[ok], v[ok] + 0.0, h[ok] & True)

    def __len__(self) -> int:
        return int(self.keys.size)

    def copy(self) -> Entries:
        return Entries(self.keys.copy(), self.vals.copy(), self.held.copy())

    def take(self, which: np.ndarray | slice) -> Entries:
        """The entries at positions (or a bool mask, or a slice) ``which``, as copies."""
        return Entries(self.keys[which].copy(), self.vals[which].copy(), self.held[which].copy())

    @property
    def rows(self) -> np.ndarray:
        return rows_of(self.keys)

    @property
    def cols(self) -> np.ndarray:
        return cols_of(self.keys)

    # -- look-ups ------------------------------------------------------------------
    def find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions, found): where each key is, and whether it is there (a rated cell)."""
        keys = np.asarray(keys, dtype=np.int64)
        pos = np.searchsorted(self.keys, keys)
        n = self.keys.size
        found = np.zeros(keys.shape, dtype=bool)
        inside = pos < n
        found[inside] = self.keys[pos[inside]] == keys[inside]
        return pos, found

    def at(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(values, flags) of cells: NaN and False where not rated."""
        pos, found = self.find(keys)
        vals = np.full(pos.shape, np.nan)
        held = np.zeros(pos.shape, dtype=bool)
        vals[found] = self.vals[pos[found]]
        held[found] = self.held[pos[found]]
        return vals, held

    def one(self, row: int, col: int) -> int:
        """The position of cell (row, col), or -1 when it is not rated (the table's hot path: no arrays)."""
        key = (row << SHIFT) | col
        i = int(self.keys.searchsorted(key))
        return i if i < self.keys.size and int(self.keys[i]) == key else -1

    def in_rect(self, top: int, left: int, bottom: int, right: int) -> np.ndarray:
        """Positions of the entries in rows top..bottom and columns left..right (inclusive), ascending."""
        lo = int(np.searchsorted(self.keys, (top << SHIFT) | left))
        hi = int(np.searchsorted(self.keys, (bottom << SHIFT) | right, side="right"))
        pos = np.arange(lo, hi)
        if top != bottom:
            c = cols_of(self.keys[lo:hi])
            pos = pos[(c >= left) & (c <= right)]
        return pos

    def in_rects(self, rects: list[tuple[int, int, int, int]]) -> np.ndarray:
        """Positions of the entries in any of ``rects`` (top, left, bottom, right), distinct and ascending."""
        parts = [self.in_rect(*r) for r in rects]
        if not parts:
            return np.zeros(0, np.int64)
        if len(parts) == 1:
            return parts[0]
        return distinct(np.concatenate(parts))

    # -- changes -------------------------------------------------------------------
    def assign(self, keys: np.ndarray, vals: np.ndarray, held: np.ndarray) -> None:
        """Set cells of sorted distinct ``keys`` to ``vals`` (NaN: not rated) with flags ``held``."""
        pos, found = self.find(keys)
        rated = ~np.isnan(vals)
        upd = found & rated
        self.vals[pos[upd]] = vals[upd]
        self.held[pos[upd]] = held[upd]
        gone = found & ~rated
        if gone.any():
            keep = np.ones(self.keys.size, dtype=bool)
            keep[pos[gone]] = False
            self.keys, self.vals, self.held = self.keys[keep], self.vals[keep], self.held[keep]
        new = ~found & rated
        if new.any():
            self.merge(Entries(keys[new], vals[new] + 0.0, held[new] & True))

    def merge(self, other: Entries) -> None:
        """Add entries whose keys are not here yet (one linear pass)."""
        if not len(other):
            return
        at = np.searchsorted(self.keys, other.keys)
        self.keys = np.insert(self.keys, at, other.keys)
        self.vals = np.insert(self.vals, at, other.vals)
        self.held = np.insert(self.held, at, other.held)

    def shift(self, axis: int, at: int, by: int) -> None:
        """Move the entries of rows (axis 0) or columns (axis 1) ``at`` and beyond by ``by`` (order kept)."""
        if not self.keys.size or by == 0:
            return
        if axis == 0:
            start = int(np.searchsorted(self.keys, at << SHIFT))
            self.keys[start:] += by << SHIFT
        else:
            self.keys[cols_of(self.keys) >= at] += by

    def cut(self, axis: int, start: int, count: int) -> Entries:
        """Take out rows (axis 0) or columns (axis 1) start..start+count-1 and close the gap; what was taken,
        its rows (or columns) counted from 0."""
        stop = start + count
        if axis == 0:
            lo = int(np.searchsorted(self.keys, start << SHIFT))
            hi = int(np.searchsorted(self.keys, stop << SHIFT))
            gone = self.take(slice(lo, hi))
            gone.keys -= start << SHIFT
            keep = np.ones(self.keys.size, dtype=bool)
            keep[lo:hi] = False
        else:
            c = cols_of(self.keys)
            inside = (c >= start) & (c < stop)
            gone = self.take(inside)
            gone.keys -= start
            keep = ~inside
        if len(gone):
            self.keys, self.vals, self.held = self.keys[keep], self.vals[keep], self.held[keep]
        self.shift(axis, start, -count)  # nothing is left in the gap: what lay past it moves up
        return gone

    def paste_in(self, axis: int, at: int, count: int, slab: Entries | None) -> None:
        """Open ``count`` rows (axis 0) or columns (axis 1) before ``at``, filled with ``slab`` (its own rows or
        columns counted from 0), or unrated."""
        self.shift(axis, at, count)
        if slab is not None and len(slab):
            moved = slab.copy()
            moved.keys += (at << SHIFT) if axis == 0 else at
            self.merge(moved)
