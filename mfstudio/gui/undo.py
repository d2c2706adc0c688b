"""Undo commands for the rating grid: every change to the grid is one of these.

Each command is a list of small operations ("ops") on the model's raw state;
``redo`` applies them in order, ``undo`` reverts them in reverse order, and then
the model announces the change once.  An op remembers what it overwrote the
first time it runs, so a paste that grows the grid and then fills cells undoes
exactly.  The model's ``_raw_*`` methods do the Qt begin/end notifications.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtGui import QUndoCommand

if TYPE_CHECKING:  # pragma: no cover
    from mfstudio.gui.grid import GridState, RatingsTableModel

USERS, ITEMS = 0, 1  # axis numbers: rows are users, columns are items


# -- ops ------------------------------------------------------------------------
class Op:
    """One reversible change to the model's raw state."""

    touches_held = False

    def apply(self, model: RatingsTableModel) -> None:
        raise NotImplementedError

    def revert(self, model: RatingsTableModel) -> None:
        raise NotImplementedError


class CellsOp(Op):
    """Set values at (rows, cols); NaN clears a cell and takes it out of the hold-out."""

    touches_held = True

    def __init__(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> None:
        self.rows = np.asarray(rows, dtype=np.int64)
        self.cols = np.asarray(cols, dtype=np.int64)
        self.vals = np.asarray(vals, dtype=np.float64)
        self._old: tuple[np.ndarray, np.ndarray] | None = None

    def apply(self, model: RatingsTableModel) -> None:
        if self._old is None:
            self._old = model._raw_get_cells(self.rows, self.cols)
        old_held = self._old[1]
        model._raw_set_cells(self.rows, self.cols, self.vals, old_held & ~np.isnan(self.vals))

    def revert(self, model: RatingsTableModel) -> None:
        assert self._old is not None
        model._raw_set_cells(self.rows, self.cols, *self._old)


class HeldOp(Op):
    """Mark cells as held out (or back to training); ``held`` is one flag or one per cell."""

    touches_held = True

    def __init__(self, rows: np.ndarray, cols: np.ndarray, held: bool | np.ndarray) -> None:
        self.rows = np.asarray(rows, dtype=np.int64)
        self.cols = np.asarray(cols, dtype=np.int64)
        self.held = np.broadcast_to(np.asarray(held, dtype=bool), self.rows.shape).copy()
        self._old: np.ndarray | None = None

    def apply(self, model: RatingsTableModel) -> None:
        vals, held = model._raw_get_cells(self.rows, self.cols)
        if self._old is None:
            self._old = held
        model._raw_set_cells(self.rows, self.cols, vals, self.held)

    def revert(self, model: RatingsTableModel) -> None:
        assert self._old is not None
        vals, _ = model._raw_get_cells(self.rows, self.cols)
        model._raw_set_cells(self.rows, self.cols, vals, self._old)


class InsertOp(Op):
    """Insert ``count`` empty users (axis 0) or items (axis 1) at ``at`` with given labels."""

    def __init__(self, axis: int, at: int, labels: Sequence[str]) -> None:
        self.axis, self.at, self.labels = axis, int(at), list(labels)

    def apply(self, model: RatingsTableModel) -> None:
        model._raw_insert(self.axis, self.at, None, None, self.labels)

    def revert(self, model: RatingsTableModel) -> None:
        model._raw_remove(self.axis, self.at, len(self.labels))


class RemoveOp(Op):
    """Remove users (axis 0) or items (axis 1) at the given indices, in contiguous runs."""

    touches_held = True

    def __init__(self, axis: int, indices: Sequence[int]) -> None:
        self.axis = axis
        idx = sorted(set(int(i) for i in indices))
        self.runs: list[tuple[int, int]] = []  # (start, count), ascending
        for i in idx:
            if self.runs and self.runs[-1][0] + self.runs[-1][1] == i:
                self.runs[-1] = (self.runs[-1][0], self.runs[-1][1] + 1)
            else:
                self.runs.append((i, 1))
        self._saved: list[tuple[np.ndarray, np.ndarray, list[str]]] = []

    def apply(self, model: RatingsTableModel) -> None:
        saved = [model._raw_remove(self.axis, start, count) for start, count in reversed(self.runs)]
        self._saved = saved[::-1]

    def revert(self, model: RatingsTableModel) -> None:
        for (start, _count), (vals, held, labels) in zip(self.runs, self._saved):
            model._raw_insert(self.axis, start, vals, held, labels)


class ResizeAxisOp(Op):
    """Grow or shrink one axis at its end to ``new_n`` entries."""

    touches_held = True

    def __init__(self, axis: int, new_n: int, new_labels: Sequence[str]) -> None:
        self.axis, self.new_n = axis, int(new_n)
        self.new_labels = list(new_labels)  # labels for the added entries when growing
        self._old_n: int | None = None
        self._saved: tuple[np.ndarray, np.ndarray, list[str]] | None = None

    def apply(self, model: RatingsTableModel) -> None:
        n = model.shape[self.axis]
        self._old_n = n
        if self.new_n < n:
            self._saved = model._raw_remove(self.axis, self.new_n, n - self.new_n)
        elif self.new_n > n:
            model._raw_insert(self.axis, n, None, None, self.new_labels[: self.new_n - n])

    def revert(self, model: RatingsTableModel) -> None:
        assert self._old_n is not None
        n = model.shape[self.axis]
        if self._old_n < n:
            model._raw_remove(self.axis, self._old_n, n - self._old_n)
        elif self._old_n > n:
            assert self._saved is not None
            model._raw_insert(self.axis, n, *self._saved)


class RenameOp(Op):
    """Rename one user (axis 0) or item (axis 1)."""

    def __init__(self, axis: int, index: int, label: str) -> None:
        self.axis, self.index, self.label = axis, int(index), str(label)
        self._old: str | None = None

    def apply(self, model: RatingsTableModel) -> None:
        old = model._raw_rename(self.axis, self.index, self.label)
        if self._old is None:
            self._old = old

    def revert(self, model: RatingsTableModel) -> None:
        assert self._old is not None
        model._raw_rename(self.axis, self.index, self._old)


class ReplaceOp(Op):
    """Replace everything (values, hold-out, labels, scale) at once."""

    touches_held = True

    def __init__(self, state: GridState) -> None:
        self.state = state
        self._old: GridState | None = None

    def apply(self, model: RatingsTableModel) -> None:
        self._old = model._raw_replace(self.state)

    def revert(self, model: RatingsTableModel) -> None:
        assert self._old is not None
        model._raw_replace(self._old)


class ScaleOp(Op):
    """Change the rating scale."""

    def __init__(self, scale: tuple[float, float]) -> None:
        self.scale = (float(scale[0]), float(scale[1]))
        self.old: tuple[float, float] | None = None

    def apply(self, model: RatingsTableModel) -> None:
        old = model._raw_set_scale(self.scale)
        if self.old is None:
            self.old = old

    def revert(self, model: RatingsTableModel) -> None:
        assert self.old is not None
        model._raw_set_scale(self.old)


class ZeroRuleOp(Op):
    """Switch the grid's rule "0 means not rated" on or off."""

    def __init__(self, on: bool) -> None:
        self.on = bool(on)
        self.old: bool | None = None

    def apply(self, model: RatingsTableModel) -> None:
        old = model._raw_set_zero_rule(self.on)
        if self.old is None:
            self.old = old

    def revert(self, model: RatingsTableModel) -> None:
        assert self.old is not None
        model._raw_set_zero_rule(self.old)


# -- commands -------------------------------------------------------------------
class GridCommand(QUndoCommand):
    """An undo step made of ops; announces the change once per redo/undo."""

    def __init__(self, model: RatingsTableModel, ops: Sequence[Op], text: str) -> None:
        super().__init__(text)
        self.model = model
        self.ops = list(ops)

    def redo(self) -> None:
        for op in self.ops:
            op.apply(self.model)
        self.model._announce(any(op.touches_held for op in self.ops))

    def undo(self) -> None:
        for op in reversed(self.ops):
            op.revert(self.model)
        self.model._announce(any(op.touches_held for op in self.ops))


class SetCellsCommand(GridCommand):
    """Set or clear a set of cells (typing, clearing, cutting)."""

    def __init__(self, model: RatingsTableModel, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, text: str) -> None:
        super().__init__(model, [CellsOp(rows, cols, vals)], text)


class PasteCommand(GridCommand):
    """Grow the grid as far as a pasted block reaches, then set its cells."""

    def __init__(
        self,
        model: RatingsTableModel,
        new_shape: tuple[int, int],
        rows: np.ndarray,
        cols: np.ndarray,
        vals: np.ndarray,
        text: str,
    ) -> None:
        ops: list[Op] = []
        for axis in (USERS, ITEMS):
            if new_shape[axis] > model.shape[axis]:
                ops.append(ResizeAxisOp(axis, new_shape[axis], model.new_labels(axis, new_shape[axis] - model.shape[axis])))
        ops.append(CellsOp(rows, cols, vals))
        super().__init__(model, ops, text)


class HeldOutCommand(GridCommand):
    """Hold cells out for validation, or use them for training again."""

    def __init__(
        self, model: RatingsTableModel, rows: np.ndarray, cols: np.ndarray, held: bool | np.ndarray, text: str
    ) -> None:
        super().__init__(model, [HeldOp(rows, cols, held)], text)


class InsertCommand(GridCommand):
    """Add users or items."""

    def __init__(self, model: RatingsTableModel, axis: int, at: int, count: int, text: str) -> None:
        super().__init__(model, [InsertOp(axis, at, model.new_labels(axis, count))], text)


class RemoveCommand(GridCommand):
    """Remove users or items (their ratings go with them, and come back on undo)."""

    def __init__(self, model: RatingsTableModel, axis: int, indices: Sequence[int], text: str) -> None:
        super().__init__(model, [RemoveOp(axis, indices)], text)


class ResizeCommand(GridCommand):
    """Set the grid to n_users x n_items, adding or dropping users/items at the end."""

    def __init__(self, model: RatingsTableModel, n_users: int, n_items: int, text: str) -> None:
        ops: list[Op] = []
        for axis, n in ((USERS, n_users), (ITEMS, n_items)):
            if n != model.shape[axis]:
                extra = max(0, n - model.shape[axis])
                ops.append(ResizeAxisOp(axis, n, model.new_labels(axis, extra)))
        super().__init__(model, ops, text)


class RenameCommand(GridCommand):
    """Rename a user or an item."""

    def __init__(self, model: RatingsTableModel, axis: int, index: int, label: str, text: str) -> None:
        super().__init__(model, [RenameOp(axis, index, label)], text)


class ReplaceAllCommand(GridCommand):
    """Replace the whole grid (import, example, new)."""

    def __init__(self, model: RatingsTableModel, state: GridState, text: str) -> None:
        super().__init__(model, [ReplaceOp(state)], text)


class ScaleCommand(GridCommand):
    """Change the rating scale; successive changes (a spin box stepping) merge into one."""

    ID = 0x5CA1E

    def __init__(self, model: RatingsTableModel, scale: tuple[float, float], text: str) -> None:
        self.op = ScaleOp(scale)
        super().__init__(model, [self.op], text)

    def id(self) -> int:
        return self.ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, ScaleCommand):
            return False
        self.op.scale = other.op.scale
        self.setText(other.text())
        if self.op.scale == self.op.old:
            self.setObsolete(True)  # stepped back to where it started: drop the step
        return True


class ZeroRuleCommand(GridCommand):
    """Switch "0 means not rated" on (clearing the grid's ratings of 0, which undo brings back) or off."""

    def __init__(self, model: RatingsTableModel, on: bool, text: str) -> None:
        ops: list[Op] = [ZeroRuleOp(on)]
        if on:
            rows, cols = np.nonzero(model.values() == 0)
            if len(rows):
                ops.append(CellsOp(rows, cols, np.full(len(rows), np.nan)))
        super().__init__(model, ops, text)
