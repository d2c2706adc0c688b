"""Undo/redo of every kind of grid change: each is one step, and undo restores exactly.

The ops are checked over a bare GridState, the commands over a GridState-backed stand-in
that has only ``state`` and ``apply`` (so no command can lean on the table model), and
the table model's ``apply`` for the notifications it wraps around each op.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack

from mfstudio.core import Ratings
from mfstudio.gui.grid import RatingsTableModel, undo
from mfstudio.gui.grid.state import ITEMS, USERS, GridState
from mfstudio.gui.grid.undo import HoldoutCommand, ScaleCommand

R0 = [[5, 3, 0, 1], [4, 0, 0, 1], [1, 1, 0, 5], [1, 0, 0, 4], [0, 1, 5, 4]]


def dense(s: GridState) -> tuple[np.ndarray, np.ndarray]:
    """The whole (small) grid as dense (values, held-out flags)."""
    n, k = s.shape
    return s.block(0, 0, n - 1, k - 1)


def snap(m: RatingsTableModel) -> tuple:
    return (*dense(m.state), m.users, m.items, m.scale, m.zeros_are_missing)


def same(a: tuple, b: tuple) -> bool:
    return (
        np.array_equal(a[0], b[0], equal_nan=True)
        and np.array_equal(a[1], b[1])
        and a[2:] == b[2:]
    )


@pytest.fixture
def model(qapp) -> RatingsTableModel:
    m = RatingsTableModel(Ratings.from_dense(R0))
    m.set_held_out([(0, 0), (4, 2)], True)
    m.undo_stack.clear()
    return m


CHANGES = {
    "edit": lambda m: m.setData(m.index(1, 1), "2.5"),
    "clear": lambda m: m.clear_cells([(0, 0), (0, 1), (2, 3)]),
    "set_cells": lambda m: m.set_cells({(1, 2): 3.0, (3, 1): None, (0, 0): 2.0}),
    "paste_grow": lambda m: m.paste_block(4, 3, [["1", "2", "3"], ["4", "", "5"]]),
    "rename_user": lambda m: m.rename_user(2, "Carol"),
    "rename_item": lambda m: m.rename_item(0, "Film A"),
    "insert_users": lambda m: m.insert_users(1, 2),
    "insert_items": lambda m: m.insert_items(4, 1),
    "remove_users": lambda m: m.remove_users([0, 2, 3]),
    "remove_items": lambda m: m.remove_items([1, 3]),
    "resize_shrink": lambda m: m.resize_grid(3, 2),
    "resize_grow": lambda m: m.resize_grid(7, 6),
    "hold_out": lambda m: m.set_held_out([(1, 0), (2, 1), (1, 1)], True),
    "use_for_training": lambda m: m.set_held_out([(0, 0)], False),
    "scale": lambda m: m.set_scale((0.0, 10.0)),
    "replace": lambda m: m.set_ratings(Ratings.from_dense([[1, 2], [3, 4]]), undoable=True, text="Open example"),
    "zero_rule_off": lambda m: m.set_zeros_are_missing(False),
}


@pytest.mark.parametrize("kind", sorted(CHANGES))
def test_each_change_is_one_step_and_undoes_exactly(model: RatingsTableModel, qtbot, kind: str) -> None:
    before = snap(model)
    with qtbot.waitSignal(model.ratingsChanged, timeout=1000):
        assert CHANGES[kind](model) is True
    after = snap(model)
    assert not same(before, after)
    assert model.undo_stack.count() == 1
    assert model.undo_stack.undoText()  # a plain-words description
    with qtbot.waitSignal(model.ratingsChanged, timeout=1000):
        model.undo_stack.undo()
    assert same(snap(model), before)
    model.undo_stack.redo()
    assert same(snap(model), after)
    assert model.to_ratings().shape == model.shape


def test_texts_read_as_plain_words(model: RatingsTableModel) -> None:
    model.setData(model.index(1, 2), "4")
    assert model.undo_stack.undoText() == "Edit User 2 / Item 3"
    model.paste_block(0, 0, [["1", "2", "3", "4"]] * 3)
    assert model.undo_stack.undoText() == "Paste 3 × 4 cells"
    model.set_held_out([(1, 0), (2, 0)], True)
    assert model.undo_stack.undoText() == "Hold out 2 cells"
    model.remove_users([1])
    assert model.undo_stack.undoText() == "Remove user 'User 2'"


def test_clearing_a_held_out_cell_drops_its_hold_out_and_undo_restores_it(model: RatingsTableModel) -> None:
    assert model.held_out_cells().tolist() == [[0, 0], [4, 2]]
    model.clear_cells([(0, 0)])
    assert model.held_out_cells().tolist() == [[4, 2]]
    model.setData(model.index(0, 0), "3")
    assert model.held_out_cells().tolist() == [[4, 2]]  # a new rating is not silently held out
    model.undo_stack.undo()
    model.undo_stack.undo()
    assert model.held_out_cells().tolist() == [[0, 0], [4, 2]]
    assert model.value(0, 0) == 5


def test_removed_users_come_back_with_ratings_labels_and_hold_out(model: RatingsTableModel) -> None:
    model.rename_user(4, "Eve")
    model.remove_users([4, 0])
    assert model.users == ("User 2", "User 3", "User 4")
    model.undo_stack.undo()
    assert model.users[4] == "Eve" and model.users[0] == "User 1"
    assert model.held_out_cells().tolist() == [[0, 0], [4, 2]]


def test_scale_changes_merge_into_one_step(model: RatingsTableModel) -> None:
    model.set_scale((1.0, 6.0))
    model.set_scale((1.0, 7.0))
    model.set_scale((1.0, 8.0))
    assert model.undo_stack.count() == 1
    assert model.undo_stack.command(0).id() == ScaleCommand.ID
    model.undo_stack.undo()
    assert model.scale == (1.0, 5.0)


def test_scale_stepped_back_to_start_leaves_no_step(model: RatingsTableModel) -> None:
    start = model.scale
    model.set_scale((start[0], start[1] + 1))
    model.set_scale(start)
    assert model.undo_stack.count() == 0
    assert model.scale == start


def test_non_undoable_set_ratings_clears_history(model: RatingsTableModel) -> None:
    model.setData(model.index(0, 1), "2")
    model.set_ratings(Ratings.from_dense([[1.0]]))
    assert model.undo_stack.count() == 0
    assert model.shape == (1, 1)


def test_no_op_changes_push_nothing(model: RatingsTableModel) -> None:
    model.setData(model.index(0, 0), "5")
    model.setData(model.index(0, 2), "")
    model.clear_cells([(0, 2), (1, 1)])
    model.rename_user(0, "User 1")
    model.resize_grid(*model.shape)
    assert model.undo_stack.count() == 0


_op = st.one_of(
    st.tuples(st.just("set"), st.integers(0, 9), st.integers(0, 9), st.sampled_from([1.0, 2.5, 5.0, float("nan")])),
    st.tuples(st.just("ins_u"), st.integers(0, 9), st.integers(1, 3)),
    st.tuples(st.just("ins_i"), st.integers(0, 9), st.integers(1, 3)),
    st.tuples(st.just("rm_u"), st.lists(st.integers(0, 9), min_size=1, max_size=3)),
    st.tuples(st.just("rm_i"), st.lists(st.integers(0, 9), min_size=1, max_size=3)),
    st.tuples(st.just("resize"), st.integers(0, 8), st.integers(0, 8)),
    st.tuples(st.just("hold"), st.integers(0, 9), st.integers(0, 9), st.booleans()),
    st.tuples(st.just("paste"), st.integers(0, 9), st.integers(0, 9), st.integers(1, 3), st.integers(1, 3)),
    st.tuples(st.just("rename"), st.integers(0, 9), st.text("xyz", min_size=1, max_size=3)),
)


def _apply(m: RatingsTableModel, op: tuple) -> None:
    n, k = m.shape
    kind = op[0]
    if kind == "set" and n and k:
        m.set_cells({(op[1] % n, op[2] % k): op[3]})
    elif kind == "ins_u":
        m.insert_users(op[1] % (n + 1), op[2])
    elif kind == "ins_i":
        m.insert_items(op[1] % (k + 1), op[2])
    elif kind == "rm_u" and n:
        m.remove_users([i % n for i in op[1]])
    elif kind == "rm_i" and k:
        m.remove_items([j % k for j in op[1]])
    elif kind == "resize":
        m.resize_grid(op[1], op[2])
    elif kind == "hold" and n and k:
        m.set_held_out([(op[1] % n, op[2] % k)], op[3])
    elif kind == "paste":
        block = [[str(1 + (i + j) % 5) for j in range(op[4])] for i in range(op[3])]
        m.paste_block(op[1] % (n + 1), op[2] % (k + 1), block)
    elif kind == "rename" and n:
        m.rename_user(op[1] % n, op[2])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(_op, max_size=12))
def test_any_sequence_undoes_to_the_start_and_redoes_to_the_end(qapp, qtmodeltester, ops: list[tuple]) -> None:
    m = RatingsTableModel(Ratings.from_dense(R0))
    m.set_held_out([(0, 0)], True)
    m.undo_stack.clear()
    start = snap(m)
    states = [start]
    for op in ops:
        _apply(m, op)
        if m.undo_stack.count() == len(states):  # a step was pushed
            states.append(snap(m))
    assert m.undo_stack.count() == len(states) - 1
    end = snap(m)
    for expected in reversed(states[:-1]):
        m.undo_stack.undo()
        assert same(snap(m), expected)
    while m.undo_stack.canRedo():
        m.undo_stack.redo()
    assert same(snap(m), end)
    qtmodeltester.check(m, force_py=True)


def test_replace_held_out_is_one_step(model: RatingsTableModel) -> None:
    assert model.replace_held_out([(1, 0), (2, 0), (0, 2)], text="Hold out 10% of the ratings")
    assert model.held_out_cells().tolist() == [[1, 0], [2, 0]]  # (0, 2) is not rated
    assert model.undo_stack.count() == 1
    assert model.undo_stack.undoText() == "Hold out 10% of the ratings"
    assert model.replace_held_out([(1, 0), (2, 0)]) is False  # nothing changes, no step
    model.undo_stack.undo()
    assert model.held_out_cells().tolist() == [[0, 0], [4, 2]]
    model.replace_held_out(np.zeros((0, 2), np.int64))
    assert len(model.held_out_cells()) == 0


# -- ops over a bare GridState ------------------------------------------------------------------
def _state() -> GridState:
    return GridState.from_ratings(Ratings.from_dense(R0), np.array([[0, 0], [4, 2]]))


def _state_snap(s: GridState) -> tuple:
    return (*dense(s), tuple(s.users), tuple(s.items), s.scale, s.zeros_are_missing)


OPS = {
    "cells": lambda: undo.CellsOp(np.array([0, 1]), np.array([0, 2]), np.array([np.nan, 3.0])),
    "held": lambda: undo.HeldOp(np.array([0, 1]), np.array([0, 0]), np.array([False, True])),
    "insert": lambda: undo.InsertOp(USERS, 2, ["x", "y"]),
    "remove": lambda: undo.RemoveOp(ITEMS, 1, 2),
    "grow": lambda: undo.ResizeOp(USERS, 7, ["p", "q"]),
    "shrink": lambda: undo.ResizeOp(ITEMS, 1),
    "rename": lambda: undo.RenameOp(ITEMS, 3, "Film"),
    "replace": lambda: undo.ReplaceOp(GridState.from_ratings(Ratings.from_dense([[1.0, 2.0]], scale=(0, 9)))),
    "scale": lambda: undo.ScaleOp((0.0, 10.0)),
    "zero": lambda: undo.ZeroRuleOp(False),
}


@pytest.mark.parametrize("kind", sorted(OPS))
def test_each_op_returns_the_inverse_that_restores_the_state(kind: str) -> None:
    s = _state()
    before = _state_snap(s)
    op = OPS[kind]()
    inverse = op.run(s)
    after = _state_snap(s)
    assert not same(after, before)
    assert inverse.touches_held == op.touches_held  # an op and its inverse change the same things
    again = inverse.run(s)
    assert same(_state_snap(s), before)
    again.run(s)  # the inverse's inverse redoes the op
    assert same(_state_snap(s), after)


def test_remove_ops_take_runs_from_the_last_and_their_inverses_put_them_back() -> None:
    s = _state()
    before = _state_snap(s)
    ops = undo.remove_ops(USERS, [4, 0, 1, 3, 1])
    assert [(op.start, op.count) for op in ops] == [(3, 2), (0, 2)]
    inverses = [op.run(s) for op in ops]
    assert s.users == ["User 3"]
    for inverse in reversed(inverses):
        inverse.run(s)
    assert same(_state_snap(s), before)


# -- commands over a GridState-backed stand-in (no table model) -----------------------------------
class Bare:
    """A grid with a state and ``apply``, and nothing else: what every command may use."""

    def __init__(self, state: GridState) -> None:
        self.state = state
        self.applied = 0

    def apply(self, ops):
        self.applied += 1
        inverses = [op.run(self.state) for op in ops]
        return inverses[::-1]


COMMANDS = {
    "set_cells": lambda t: undo.SetCellsCommand(t, np.array([0, 3]), np.array([0, 1]), np.array([np.nan, 2.0]), "e"),
    "paste": lambda t: undo.PasteCommand(t, (6, 6), np.array([5, 0]), np.array([5, 4]), np.array([1.0, 2.0]), "p"),
    "held": lambda t: undo.HeldOutCommand(t, np.array([1, 0]), np.array([0, 0]), np.array([True, False]), "h"),
    "insert": lambda t: undo.InsertCommand(t, ITEMS, 0, 2, "i"),
    "remove": lambda t: undo.RemoveCommand(t, USERS, [0, 2, 3], "r"),
    "resize": lambda t: undo.ResizeCommand(t, 2, 7, "z"),
    "rename": lambda t: undo.RenameCommand(t, USERS, 1, "Bob", "n"),
    "replace": lambda t: undo.ReplaceAllCommand(t, GridState.from_ratings(Ratings.from_dense([[3.0]])), "a"),
    "scale": lambda t: undo.ScaleCommand(t, (0.0, 7.0), "s"),
    "zero_rule": lambda t: undo.ZeroRuleCommand(t, False, "0"),
}


@pytest.mark.parametrize("kind", sorted(COMMANDS))
def test_each_command_undoes_and_redoes_exactly_through_apply_alone(qapp, kind: str) -> None:
    target = Bare(_state())
    stack = QUndoStack()
    before = _state_snap(target.state)
    stack.push(COMMANDS[kind](target))
    after = _state_snap(target.state)
    assert not same(after, before) and target.applied == 1
    stack.undo()
    assert same(_state_snap(target.state), before)
    stack.redo()
    assert same(_state_snap(target.state), after) and target.applied == 3


def test_the_zero_rule_command_clears_zeros_and_undo_brings_them_back(qapp) -> None:
    target = Bare(GridState.from_ratings(Ratings.from_dense([[0, 4], [3, 0]], zeros_are_missing=False, scale=(0, 5)),
                                         zeros_are_missing=False))
    stack = QUndoStack()
    stack.push(undo.ZeroRuleCommand(target, True, "0 means not rated"))
    assert target.state.zeros_are_missing and target.state.to_ratings().nnz == 2
    stack.undo()
    assert not target.state.zeros_are_missing and target.state.to_ratings().nnz == 4


def test_the_hold_out_share_command_shows_the_new_share_and_undo_the_old(qapp) -> None:
    shown: list[float] = []
    stack = QUndoStack()
    stack.push(HoldoutCommand(shown.append, 0.1, 0.25, "Hold out 25% of the ratings"))
    assert shown == [0.25] and stack.undoText() == "Hold out 25% of the ratings"
    stack.undo()
    stack.redo()
    assert shown == [0.25, 0.1, 0.25]


# -- the table model's apply ---------------------------------------------------------------------
def test_apply_returns_the_inverses_and_announces_once(model: RatingsTableModel, qtbot) -> None:
    before = snap(model)
    said: list[str] = []
    model.ratingsChanged.connect(lambda: said.append("ratings"))
    model.heldOutChanged.connect(lambda: said.append("held"))
    ops = [undo.ResizeOp(USERS, 6, ["new"]), undo.CellsOp(np.array([5, 0]), np.array([0, 0]), np.array([2.0, 3.0]))]
    inverses = model.apply(ops)
    assert said == ["ratings", "held"]
    assert model.shape == (6, 4) and model.value(5, 0) == 2 and model.held_out_cells().tolist()[0] == [0, 0]
    assert [type(op) for op in inverses] == [undo.CellsOp, undo.ResizeOp]
    model.apply(inverses)
    assert same(snap(model), before)
    assert model.undo_stack.count() == 0  # apply is not an undo step by itself


def test_apply_wraps_each_op_in_its_qt_notices(model: RatingsTableModel, qtbot) -> None:
    seen: list[tuple] = []
    model.rowsInserted.connect(lambda _p, a, b: seen.append(("rows+", a, b)))
    model.rowsRemoved.connect(lambda _p, a, b: seen.append(("rows-", a, b)))
    model.columnsInserted.connect(lambda _p, a, b: seen.append(("cols+", a, b)))
    model.columnsRemoved.connect(lambda _p, a, b: seen.append(("cols-", a, b)))
    model.dataChanged.connect(lambda tl, br, _r=(): seen.append(("data", tl.row(), tl.column(), br.row(), br.column())))
    model.headerDataChanged.connect(lambda o, a, b: seen.append(("header", o == Qt.Orientation.Vertical, a, b)))
    model.modelReset.connect(lambda: seen.append(("reset",)))
    model.scaleChanged.connect(lambda lo, hi: seen.append(("scale", lo, hi)))
    model.zeroRuleChanged.connect(lambda on: seen.append(("zero", on)))
    model.apply([undo.InsertOp(USERS, 1, ["a", "b"]), undo.RemoveOp(ITEMS, 0, 1), undo.ResizeOp(ITEMS, 5, ["c", "d"]),
                 undo.ResizeOp(USERS, 3), undo.CellsOp(np.array([0, 2]), np.array([1, 3]), np.array([1.0, 2.0])),
                 undo.RenameOp(USERS, 2, "Zed"), undo.ScaleOp((0.0, 8.0)), undo.ZeroRuleOp(False)])
    assert seen == [("rows+", 1, 2), ("cols-", 0, 0), ("cols+", 3, 4), ("rows-", 3, 6), ("data", 0, 1, 2, 3),
                    ("header", True, 2, 2), ("data", 0, 0, 2, 4), ("scale", 0.0, 8.0), ("zero", False)]
    seen.clear()
    model.apply([undo.ReplaceOp(GridState.from_ratings(Ratings.from_dense([[1.0]], scale=(0, 8))))])
    assert seen == [("reset",)]  # the scale stayed 0 to 8: no scaleChanged
    model.apply([undo.ResizeOp(USERS, 1), undo.InsertOp(ITEMS, 0, [])])
    assert seen == [("reset",)]  # nothing came or went: no notices


def test_undoing_an_insert_is_no_held_out_change_but_undoing_a_remove_is(model: RatingsTableModel) -> None:
    held: list[str] = []
    model.heldOutChanged.connect(lambda: held.append(model.users[0]))
    model.insert_users(0, 1)
    model.undo_stack.undo()
    assert held == []
    model.remove_users([0])
    assert held == ["User 2"]
    model.undo_stack.undo()
    assert held == ["User 2", "User 1"]
    assert model.held_out_cells().tolist() == [[0, 0], [4, 2]]
