"""Undo/redo of every kind of grid change: each is one step, and undo restores exactly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mfstudio.core import Ratings
from mfstudio.gui.grid import RatingsTableModel
from mfstudio.gui.grid.undo import ScaleCommand

R0 = [[5, 3, 0, 1], [4, 0, 0, 1], [1, 1, 0, 5], [1, 0, 0, 4], [0, 1, 5, 4]]


def snap(m: RatingsTableModel) -> tuple:
    return (m.values(), m.held_out_grid(), m.users, m.items, m.scale)


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
