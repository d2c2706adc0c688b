"""Undo for the rating grid: reversible operations ("ops") on a ``GridState``, and the undo commands made of them.

An op is one of ``GridState``'s raw operations written down as data: ``op.run(state)``
performs it and returns its inverse, the op that puts back what it overwrote.  A command
is a list of ops handed to its model's ``apply``, which runs them in order (the table model
wraps each in Qt's notifications and announces the change once) and gives back their
inverses; undo applies those.  Nothing here touches Qt's model machinery or anything
private: a command needs only ``model.state`` (read) and ``model.apply``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
from PySide6.QtGui import QUndoCommand

from mfstudio.gui.grid.entries import Entries
from mfstudio.gui.grid.state import ITEMS, USERS, GridState


class GridModel(Protocol):
    """What a command edits: a state to read and one way to change it."""

    @property
    def state(self) -> GridState: ...

    def apply(self, ops: Sequence[Op]) -> list[Op]: ...


# -- ops ------------------------------------------------------------------------
class Op:
    """One reversible raw change of a GridState."""

    touches_held = False  # whether the held-out cells may change (listeners hear heldOutChanged)

    def run(self, state: GridState) -> Op:
        """Change ``state``; the op that undoes it (which touches what this one touches)."""
        inverse = self._run(state)
        inverse.touches_held = self.touches_held
        return inverse

    def _run(self, state: GridState) -> Op:
        raise NotImplementedError


class CellsOp(Op):
    """Set values at (rows, cols); NaN clears a cell.

    Without ``held`` a cell keeps its hold-out only while it stays rated; with it (an
    inverse putting cells back) the flags are set as given.
    """

    touches_held = True

    def __init__(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, held: np.ndarray | None = None) -> None:
        self.rows = np.asarray(rows, dtype=np.int64)
        self.cols = np.asarray(cols, dtype=np.int64)
        self.vals = np.asarray(vals, dtype=np.float64)
        self.held = held

    def _run(self, state: GridState) -> Op:
        old_vals, old_held = state.set_cells(self.rows, self.cols, self.vals, self.held)
        return CellsOp(self.rows, self.cols, old_vals, old_held)


class HeldOp(Op):
    """Mark cells as held out (or back to training); ``held`` is one flag or one per cell."""

    touches_held = True

    def __init__(self, rows: np.ndarray, cols: np.ndarray, held: bool | np.ndarray) -> None:
        self.rows = np.asarray(rows, dtype=np.int64)
        self.cols = np.asarray(cols, dtype=np.int64)
        self.held = np.broadcast_to(np.asarray(held, dtype=bool), self.rows.shape).copy()

    def _run(self, state: GridState) -> Op:
        return HeldOp(self.rows, self.cols, state.set_held_out(self.rows, self.cols, self.held))


class InsertOp(Op):
    """Insert users (axis 0) or items (axis 1) at ``at`` with ``labels``: unrated, or with ``entries`` (their
    rated cells, counted from the first one inserted)."""

    def __init__(self, axis: int, at: int, labels: Sequence[str], entries: Entries | None = None) -> None:
        self.axis, self.at, self.labels = axis, int(at), list(labels)
        self.entries = entries

    def _run(self, state: GridState) -> Op:
        count = state.insert(self.axis, self.at, self.labels, self.entries)
        return RemoveOp(self.axis, self.at, count)


class RemoveOp(Op):
    """Remove ``count`` users (axis 0) or items (axis 1) from ``start`` (one contiguous run)."""

    touches_held = True

    def __init__(self, axis: int, start: int, count: int) -> None:
        self.axis, self.start, self.count = axis, int(start), int(count)

    def _run(self, state: GridState) -> Op:
        gone = state.remove(self.axis, self.start, self.count)
        return InsertOp(self.axis, self.start, gone.labels, gone.entries)


def remove_ops(axis: int, indices: Sequence[int]) -> list[Op]:
    """Ops removing the entries at ``indices``: one per contiguous run, the last run first."""
    runs: list[list[int]] = []  # [start, count], ascending
    for i in sorted(set(int(i) for i in indices)):
        if runs and runs[-1][0] + runs[-1][1] == i:
            runs[-1][1] += 1
        else:
            runs.append([i, 1])
    return [RemoveOp(axis, start, count) for start, count in reversed(runs)]


class ResizeOp(Op):
    """Grow or shrink one axis at its end to ``n`` users or items (growing with ``labels``, and ``entries``)."""

    touches_held = True

    def __init__(self, axis: int, n: int, labels: Sequence[str] = (), entries: Entries | None = None) -> None:
        self.axis, self.n, self.labels = axis, int(n), list(labels)
        self.entries = entries

    def _run(self, state: GridState) -> Op:
        had = state.shape[self.axis]
        dropped = state.resize(self.axis, self.n, self.labels, self.entries)
        return ResizeOp(self.axis, had, dropped.labels, dropped.entries)


class RenameOp(Op):
    """Rename one user (axis 0) or item (axis 1)."""

    def __init__(self, axis: int, index: int, label: str) -> None:
        self.axis, self.index, self.label = axis, int(index), str(label)

    def _run(self, state: GridState) -> Op:
        return RenameOp(self.axis, self.index, state.rename(self.axis, self.index, self.label))


class ReplaceOp(Op):
    """Replace the content (ratings, hold-out, labels, scale, genres) at once."""

    touches_held = True

    def __init__(self, state: GridState, *, take: bool = False) -> None:
        self.state = state
        self.take = take  # the state is this op's alone (run once, never redone): its entries are taken, not copied

    def _run(self, state: GridState) -> Op:
        return ReplaceOp(state.replace(self.state, take=self.take))


class ScaleOp(Op):
    """Change the rating scale."""

    def __init__(self, scale: tuple[float, float]) -> None:
        self.scale = (float(scale[0]), float(scale[1]))

    def _run(self, state: GridState) -> Op:
        return ScaleOp(state.set_scale(self.scale))


class ZeroRuleOp(Op):
    """Switch the grid's rule "0 means not rated" on or off."""

    def __init__(self, on: bool) -> None:
        self.on = bool(on)

    def _run(self, state: GridState) -> Op:
        return ZeroRuleOp(state.set_zero_rule(self.on))


class KindOp(Op):
    """Say the grid holds counts of events (implicit feedback) or ratings."""

    def __init__(self, implicit: bool) -> None:
        self.implicit = bool(implicit)

    def _run(self, state: GridState) -> Op:
        return KindOp(state.set_kind(self.implicit))


# -- commands -------------------------------------------------------------------
class GridCommand(QUndoCommand):
    """An undo step made of ops: redo applies them, undo applies the inverses that gave back."""

    def __init__(self, model: GridModel, ops: Sequence[Op], text: str) -> None:
        super().__init__(text)
        self.model = model
        self.ops = list(ops)
        self._inverse: list[Op] = []

    def redo(self) -> None:
        self._inverse = self.model.apply(self.ops)

    def undo(self) -> None:
        self.model.apply(self._inverse)


class SetCellsCommand(GridCommand):
    """Set or clear a set of cells (typing, clearing, cutting)."""

    def __init__(self, model: GridModel, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, text: str) -> None:
        super().__init__(model, [CellsOp(rows, cols, vals)], text)


class PasteCommand(GridCommand):
    """Grow the grid as far as a pasted block reaches, then set its cells."""

    def __init__(self, model: GridModel, new_shape: tuple[int, int], rows: np.ndarray, cols: np.ndarray,
                 vals: np.ndarray, text: str) -> None:
        state = model.state
        ops: list[Op] = []
        for axis in (USERS, ITEMS):
            extra = new_shape[axis] - state.shape[axis]
            if extra > 0:
                ops.append(ResizeOp(axis, new_shape[axis], state.new_labels(axis, extra)))
        ops.append(CellsOp(rows, cols, vals))
        super().__init__(model, ops, text)


class HeldOutCommand(GridCommand):
    """Hold cells out for validation, or use them for training again."""

    def __init__(self, model: GridModel, rows: np.ndarray, cols: np.ndarray, held: bool | np.ndarray,
                 text: str) -> None:
        super().__init__(model, [HeldOp(rows, cols, held)], text)


class InsertCommand(GridCommand):
    """Add users or items."""

    def __init__(self, model: GridModel, axis: int, at: int, count: int, text: str) -> None:
        super().__init__(model, [InsertOp(axis, at, model.state.new_labels(axis, count))], text)


class AddUserCommand(GridCommand):
    """Append one user with a row of values (NaN: not rated): "Keep me" of the Add me panel."""

    def __init__(self, model: GridModel, label: str, row: np.ndarray, text: str) -> None:
        vals = np.asarray(row, dtype=np.float64).ravel()
        cols = np.flatnonzero(~np.isnan(vals))
        entries = Entries.of_cells(np.zeros(cols.size, np.int64), cols, vals[cols])
        super().__init__(model, [InsertOp(USERS, model.state.shape[USERS], [label], entries)], text)


class RemoveCommand(GridCommand):
    """Remove users or items (their ratings go with them, and come back on undo)."""

    def __init__(self, model: GridModel, axis: int, indices: Sequence[int], text: str) -> None:
        super().__init__(model, remove_ops(axis, indices), text)


class ResizeCommand(GridCommand):
    """Set the grid to n_users x n_items, adding or dropping users/items at the end."""

    def __init__(self, model: GridModel, n_users: int, n_items: int, text: str) -> None:
        state = model.state
        ops: list[Op] = []
        for axis, n in ((USERS, n_users), (ITEMS, n_items)):
            if n != state.shape[axis]:
                ops.append(ResizeOp(axis, n, state.new_labels(axis, max(0, n - state.shape[axis]))))
        super().__init__(model, ops, text)


class RenameCommand(GridCommand):
    """Rename a user or an item."""

    def __init__(self, model: GridModel, axis: int, index: int, label: str, text: str) -> None:
        super().__init__(model, [RenameOp(axis, index, label)], text)


class ReplaceAllCommand(GridCommand):
    """Replace the whole grid (import, example, new)."""

    def __init__(self, model: GridModel, state: GridState, text: str) -> None:
        super().__init__(model, [ReplaceOp(state)], text)


class ScaleCommand(GridCommand):
    """Change the rating scale; successive changes (a spin box stepping) merge into one."""

    ID = 0x5CA1E

    def __init__(self, model: GridModel, scale: tuple[float, float], text: str) -> None:
        super().__init__(model, [ScaleOp(scale)], text)

    def id(self) -> int:
        return self.ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, ScaleCommand):
            return False
        self.ops = other.ops  # already applied by the stack; undo still goes back to this step's start
        self.setText(other.text())
        if [op.scale for op in self.ops] == [op.scale for op in self._inverse]:
            self.setObsolete(True)  # stepped back to where it started: drop the step
        return True


class ZeroRuleCommand(GridCommand):
    """Switch "0 means not rated" on (clearing the grid's ratings of 0, which undo brings back) or off."""

    def __init__(self, model: GridModel, on: bool, text: str) -> None:
        ops: list[Op] = [ZeroRuleOp(on)]
        if on:
            rows, cols = model.state.zero_cells()
            if len(rows):
                ops.append(CellsOp(rows, cols, np.full(len(rows), np.nan)))
        super().__init__(model, ops, text)


class HoldoutCommand(QUndoCommand):
    """Puts the hold-out share box back to the value that goes with a hold-out change, on undo and redo."""

    def __init__(self, show: Callable[[float], None], old: float, new: float, text: str) -> None:
        super().__init__(text)
        self._show, self._old, self._new = show, old, new

    def redo(self) -> None:
        self._show(self._new)

    def undo(self) -> None:
        self._show(self._old)
