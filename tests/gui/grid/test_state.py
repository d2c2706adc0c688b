"""The grid's state without Qt: every raw operation returns what puts the state back, and the queries."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mfstudio.core import Ratings
from mfstudio.core.errors import DataError
from mfstudio.gui.grid.state import ITEMS, USERS, GridState, Slab, block_values, typed_value

R0 = [[5, 3, 0, 1], [4, 0, 0, 1], [1, 1, 0, 5], [1, 0, 0, 4], [0, 1, 5, 4]]
ROOT = Path(__file__).resolve().parents[3]


def make() -> GridState:
    """R0 with labels, genres, and (0, 0), (2, 3) held out."""
    r = Ratings.from_dense(R0, users=list("abcde"), items=["w", "x", "y", "z"], scale=(1.0, 5.0))
    o = r.observed
    r = Ratings(o.rows, o.cols, o.vals, r.shape, r.users, r.items, r.scale, [("Drama",), (), ("Comedy", "Drama"), ()])
    return GridState.from_ratings(r, np.array([[0, 0], [2, 3]]))


def dense(s: GridState) -> tuple[np.ndarray, np.ndarray]:
    """The whole (small) grid as dense (values, held-out flags)."""
    n, k = s.shape
    return s.block(0, 0, n - 1, k - 1)


def V(s: GridState) -> np.ndarray:
    return dense(s)[0]


def H(s: GridState) -> np.ndarray:
    return dense(s)[1]


def snap(s: GridState) -> tuple:
    return (*dense(s), list(s.users), list(s.items), s.scale, s.zeros_are_missing,
            None if s.genres is None else dict(s.genres))


def same(a: tuple, b: tuple) -> bool:
    return (a[0].shape == b[0].shape and a[0].dtype == b[0].dtype and np.array_equal(a[0], b[0], equal_nan=True)
            and a[1].shape == b[1].shape and a[1].dtype == b[1].dtype and np.array_equal(a[1], b[1])
            and a[2:] == b[2:])


# -- construction and queries ----------------------------------------------------------------
def test_from_ratings_keeps_everything_and_holds_out_only_rated_cells_inside_the_grid() -> None:
    r = Ratings.from_dense(R0)
    s = GridState.from_ratings(r, np.array([[0, 0], [0, 2], [9, 9], [-1, 0]]), zeros_are_missing=False)
    assert s.shape == (5, 4)
    assert s.entries.keys.dtype == np.int64 and s.entries.vals.dtype == np.float64 and s.entries.held.dtype == bool
    assert np.array_equal(V(s), r.to_dense(), equal_nan=True)
    assert s.held_out_cells().tolist() == [[0, 0]]  # (0, 2) is not rated, (9, 9) and (-1, 0) lie outside
    assert s.users == list(r.users) and s.items == list(r.items) and s.scale == r.scale
    assert s.zeros_are_missing is False and s.genres is None


def test_to_ratings_round_trips_labels_scale_genres_and_zeros() -> None:
    s = make()
    r = s.to_ratings()
    assert r.users == tuple("abcde") and r.items == ("w", "x", "y", "z") and r.scale == (1.0, 5.0)
    assert r.item_genres == (("Drama",), (), ("Comedy", "Drama"), ())
    assert GridState.from_ratings(r).to_ratings() == r
    s.set_cells(np.array([0]), np.array([2]), np.array([0.0]))
    out = s.to_ratings()
    assert out.nnz == r.nnz + 1 and out.to_dense()[0, 2] == 0  # a 0 in the grid is a rating


def test_held_out_cells_are_a_k_by_2_int_array_row_major() -> None:
    s = make()
    cells = s.held_out_cells()
    assert cells.dtype == np.int64 and cells.shape == (2, 2)
    assert cells.tolist() == [[0, 0], [2, 3]]
    cells[0, 0] = 4
    assert s.held_out_cells().tolist() == [[0, 0], [2, 3]]  # a copy
    assert GridState().held_out_cells().shape == (0, 2)


def test_new_labels_skip_names_in_use_and_label_names_cells_past_the_end() -> None:
    s = GridState.from_ratings(Ratings.from_dense(R0))
    s.rename(USERS, 0, "User 6")
    assert s.new_labels(USERS, 2) == ["User 7", "User 8"]
    assert s.new_labels(ITEMS, 1) == ["Item 5"]
    assert s.label(USERS, 1) == "User 2" and s.label(ITEMS, 6) == "Item 7"


def test_checks_of_cells_values_sizes_and_labels() -> None:
    s = make()
    s.check_cells(np.array([0, 4]), np.array([0, 3]))
    with pytest.raises(IndexError):
        s.check_cells(np.array([5]), np.array([0]))
    with pytest.raises(IndexError):
        s.check_cells(np.array([0]), np.array([-1]))
    s.check_values(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="finite"):
        s.check_values(np.array([np.inf]))
    s.check_size(100_000, 100_000)  # a grid is limited by memory: empty, it is its 200,000 labels
    with pytest.raises(DataError, match="at most 2,147,483,647 users"):
        s.check_size(2**31, 5)
    with pytest.raises(DataError, match="more than the"):
        s.check_size(10, 10, 10**13)
    assert s.checked_label(USERS, 0, "  Ann ") == "Ann"
    assert s.checked_label(USERS, 0, "a") is None  # the name it has
    with pytest.raises(DataError, match="cannot be empty"):
        s.checked_label(ITEMS, 1, "   ")
    with pytest.raises(DataError, match="lone surrogate"):
        s.checked_label(ITEMS, 1, "bad\ud800")
    with pytest.raises(IndexError, match="no item 5"):
        s.checked_label(ITEMS, 4, "q")


@pytest.mark.parametrize(("typed", "value"), [("4", 4.0), ("4,5", 4.5), (" 2.5 ", 2.5), (3, 3.0), (-0.0, 0.0),
                                              ("", None), (None, None)])
def test_typed_value_reads_text_and_numbers(typed, value) -> None:
    got = typed_value(typed)
    assert got == value and (value is None) == (got is None)


@pytest.mark.parametrize(("typed", "words"), [("abc", "'abc' is not a number"), (True, "'True' is not a number"),
                                              (float("inf"), "finite number")])
def test_typed_value_refuses_with_a_sentence(typed, words: str) -> None:
    with pytest.raises(DataError, match=words):
        typed_value(typed)


def test_block_values_reads_a_block_whole_or_names_its_first_bad_cell() -> None:
    parsed, zeros = block_values([["1", "", "0"], ["2,5"]], zeros_are_missing=True)
    assert zeros == 1 and parsed[1] == [2.5] and parsed[0][0] == 1 and np.isnan(parsed[0][1]) and np.isnan(parsed[0][2])
    parsed, zeros = block_values([["0"]], zeros_are_missing=False)
    assert parsed == [[0.0]] and zeros == 0
    with pytest.raises(DataError, match=r"Row 2, column 3 of the pasted block \('x'\)"):
        block_values([["1"], ["2", "3", "x"], ["y"]], zeros_are_missing=True)


def test_copy_is_independent() -> None:
    s = make()
    c = s.copy()
    c.set_cells(np.array([0]), np.array([0]), np.array([np.nan]))
    c.rename(ITEMS, 0, "new")
    assert c.genres is not s.genres
    assert V(s)[0, 0] == 5 and H(s)[0, 0] and s.items[0] == "w"


# -- raw operations: each one's return value restores the state exactly ------------------------
def test_set_cells_returns_the_old_values_and_flags() -> None:
    s = make()
    before = snap(s)
    rows, cols = np.array([0, 0, 1, 2]), np.array([0, 2, 1, 3])
    old = s.set_cells(rows, cols, np.array([np.nan, 4.0, 2.0, 3.0]))
    assert np.isnan(V(s)[0, 0]) and V(s)[0, 2] == 4
    assert not H(s)[0, 0]  # cleared: no longer held out
    assert H(s)[2, 3]  # still rated: still held out
    assert old[0][0] == 5 and np.isnan(old[0][1]) and old[1].tolist() == [True, False, False, True]
    s.set_cells(rows, cols, *old)
    assert same(snap(s), before)


def test_set_cells_with_flags_sets_them_as_given() -> None:
    s = make()
    s.set_cells(np.array([1]), np.array([0]), np.array([3.0]), np.array([True]))
    assert V(s)[1, 0] == 3 and H(s)[1, 0]


def test_set_held_out_returns_the_old_flags() -> None:
    s = make()
    before = snap(s)
    rows, cols = np.array([0, 1, 2]), np.array([0, 0, 3])
    old = s.set_held_out(rows, cols, np.array([False, True, True]))
    assert old.tolist() == [True, False, True]
    assert s.held_out_cells().tolist() == [[1, 0], [2, 3]]
    s.set_held_out(rows, cols, old)
    assert same(snap(s), before)


@pytest.mark.parametrize("axis", [USERS, ITEMS])
def test_insert_is_undone_by_removing_what_it_counts(axis: int) -> None:
    s = make()
    before = snap(s)
    n = s.insert(axis, 1, ["new 1", "new 2"])
    assert n == 2
    assert s.shape[axis] == before[0].shape[axis] + 2
    assert s.labels(axis)[1:3] == ["new 1", "new 2"]
    added = V(s)[1:3] if axis == USERS else V(s)[:, 1:3]
    assert np.all(np.isnan(added))
    s.remove(axis, 1, n)
    assert same(snap(s), before)
    assert s.insert(axis, 0, []) == 0 and same(snap(s), before)


@pytest.mark.parametrize("axis", [USERS, ITEMS])
def test_remove_returns_what_it_took_and_inserting_that_restores(axis: int) -> None:
    s = make()
    before = snap(s)
    gone = s.remove(axis, 0, 2)
    assert isinstance(gone, Slab) and len(gone.labels) == 2
    assert s.shape[axis] == before[0].shape[axis] - 2
    assert gone.entries.keys[0] == 0 and gone.entries.held[0]  # (0, 0) was held out
    s.insert(axis, 0, gone.labels, gone.entries)
    assert same(snap(s), before)


@pytest.mark.parametrize("axis", [USERS, ITEMS])
def test_resize_grow_and_shrink_each_undone_by_what_they_return(axis: int) -> None:
    s = make()
    before = snap(s)
    had = s.shape[axis]
    grown = s.resize(axis, had + 3, ["p", "q", "r", "unused"])
    assert s.shape[axis] == had + 3 and s.labels(axis)[-3:] == ["p", "q", "r"] and grown.labels == []
    s.resize(axis, had, grown.labels, grown.entries)
    assert same(snap(s), before)
    dropped = s.resize(axis, 1)
    assert s.shape[axis] == 1 and len(dropped.labels) == had - 1
    s.resize(axis, had, dropped.labels, dropped.entries)
    assert same(snap(s), before)
    assert s.resize(axis, had).labels == [] and same(snap(s), before)


def test_rename_returns_the_old_name() -> None:
    s = make()
    before = snap(s)
    assert s.rename(ITEMS, 2, "Film") == "y"
    assert s.items[2] == "Film"
    s.rename(ITEMS, 2, "y")
    assert same(snap(s), before)


def test_replace_returns_the_old_content_and_leaves_the_zero_rule() -> None:
    s = make()
    s.set_zero_rule(False)
    before = snap(s)
    other = GridState.from_ratings(Ratings.from_dense([[1, 2], [3, 4]], scale=(0.0, 10.0)), np.array([[1, 1]]))
    old = s.replace(other)
    assert s.shape == (2, 2) and s.scale == (0.0, 10.0) and s.held_out_cells().tolist() == [[1, 1]]
    assert s.genres is None and s.zeros_are_missing is False  # the rule is the grid's, not the content's
    other.set_cells(np.array([0]), np.array([0]), np.array([9.0]))  # replace copied: the source can change
    assert s.value(0, 0) == 1
    s.replace(old)
    assert same(snap(s), before)


def test_set_scale_and_set_zero_rule_return_the_old_setting() -> None:
    s = make()
    before = snap(s)
    assert s.set_scale((0, 10)) == (1.0, 5.0) and s.scale == (0.0, 10.0)
    assert s.set_zero_rule(False) is True and s.zeros_are_missing is False
    assert not same(snap(s), before)
    s.set_zero_rule(True)
    s.set_scale((1.0, 5.0))
    assert same(snap(s), before)


# Any sequence of raw operations, undone in reverse with what each returned, gives back every state on the way.
_raw = st.one_of(
    st.tuples(st.just("cells"), st.integers(0, 9), st.integers(0, 9), st.sampled_from([0.0, 2.5, float("nan")])),
    st.tuples(st.just("held"), st.integers(0, 9), st.integers(0, 9), st.booleans()),
    st.tuples(st.just("insert"), st.sampled_from([USERS, ITEMS]), st.integers(0, 9), st.integers(1, 3)),
    st.tuples(st.just("remove"), st.sampled_from([USERS, ITEMS]), st.integers(0, 9), st.integers(1, 3)),
    st.tuples(st.just("resize"), st.sampled_from([USERS, ITEMS]), st.integers(0, 8)),
    st.tuples(st.just("rename"), st.sampled_from([USERS, ITEMS]), st.integers(0, 9), st.text("xyz", min_size=1)),
    st.tuples(st.just("scale"), st.integers(-3, 3)),
    st.tuples(st.just("zero"), st.booleans()),
    st.tuples(st.just("replace"), st.integers(1, 3), st.integers(1, 3)),
)


def _do(s: GridState, op: tuple):
    """Run one raw op; a function that undoes it from what it returned (None when the op does not apply)."""
    n, k = s.shape
    kind = op[0]
    if kind == "cells" and n and k:
        rows, cols = np.array([op[1] % n]), np.array([op[2] % k])
        old = s.set_cells(rows, cols, np.array([op[3]]))
        return lambda: s.set_cells(rows, cols, *old)
    if kind == "held" and n and k:
        rows, cols = np.array([op[1] % n]), np.array([op[2] % k])
        old_held = s.set_held_out(rows, cols, op[3] and not np.isnan(V(s)[rows[0], cols[0]]))
        return lambda: s.set_held_out(rows, cols, old_held)
    if kind == "insert":
        at = op[2] % (s.shape[op[1]] + 1)
        count = s.insert(op[1], at, s.new_labels(op[1], op[3]))
        return lambda: s.remove(op[1], at, count)
    if kind == "remove" and s.shape[op[1]]:
        have = s.shape[op[1]]
        start = op[2] % have
        gone = s.remove(op[1], start, min(op[3], have - start))
        return lambda: s.insert(op[1], start, gone.labels, gone.entries)
    if kind == "resize":
        had = s.shape[op[1]]
        dropped = s.resize(op[1], op[2], s.new_labels(op[1], max(0, op[2] - had)))
        return lambda: s.resize(op[1], had, dropped.labels, dropped.entries)
    if kind == "rename" and s.shape[op[1]]:
        i = op[2] % s.shape[op[1]]
        old_name = s.rename(op[1], i, op[3])
        return lambda: s.rename(op[1], i, old_name)
    if kind == "scale":
        old_scale = s.set_scale((s.scale[0] + op[1], s.scale[0] + op[1] + 4))
        return lambda: s.set_scale(old_scale)
    if kind == "zero":
        old_rule = s.set_zero_rule(op[1])
        return lambda: s.set_zero_rule(old_rule)
    if kind == "replace":
        old_state = s.replace(GridState.from_ratings(Ratings.from_dense(np.ones((op[1], op[2])))))
        return lambda: s.replace(old_state)
    return None


@settings(max_examples=80, deadline=None)
@given(ops=st.lists(_raw, max_size=15))
def test_any_sequence_of_raw_ops_is_undone_by_their_return_values(ops: list[tuple]) -> None:
    s = make()
    states, undos = [snap(s)], []
    for op in ops:
        undo = _do(s, op)
        if undo is not None:
            undos.append(undo)
            states.append(snap(s))
    for undo, expected in zip(reversed(undos), reversed(states[:-1])):
        undo()
        assert same(snap(s), expected)
    assert same(snap(s), states[0])


# -- no Qt -------------------------------------------------------------------------------------
def test_importing_the_state_loads_no_qt_and_no_matplotlib() -> None:
    code = ("import sys; import mfstudio.gui.grid.state, mfstudio.gui.grid; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'matplotlib')))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"
    check = subprocess.run([sys.executable, "-c", "import mfstudio.gui.grid.state as s; print(s.__file__)"],
                           capture_output=True, text=True, env=env, cwd=ROOT)
    assert Path(check.stdout.strip()).resolve() == ROOT / "mfstudio" / "gui" / "grid" / "state.py"


def test_implicit_data_stays_implicit_through_the_grid():
    counts = Ratings([0, 1], [1, 0], [3.0, 12.0], (2, 2), scale=(0.0, 12.0), implicit=True)
    s = GridState.from_ratings(counts)
    assert s.implicit and s.to_ratings() == counts and s.copy().to_ratings().implicit
    s.set_cells(np.array([0]), np.array([0]), np.array([2.0]))
    assert s.to_ratings().implicit and s.to_ratings().nnz == 3
    old = s.replace(GridState.from_ratings(Ratings([0], [0], [4.0], (1, 1))))
    assert not s.to_ratings().implicit and old.implicit  # the content's kind goes with the content
    s.replace(old)
    assert s.to_ratings().implicit


# -- sparse inside: memory grows with the ratings, never with users x items ------------------------
def test_a_100000_by_100000_grid_with_10_ratings_edits_inserts_removes_and_undoes_in_little_memory() -> None:
    import tracemalloc

    n = 100_000
    rows, cols = np.arange(0, n, n // 10), np.arange(n - 1, 0, -(n // 10))
    tracemalloc.start()
    try:
        s = GridState.from_ratings(Ratings(rows, cols, np.arange(1.0, 11.0), (n, n)))
        assert s.shape == (n, n) and s.nnz == 10 and s.entries.keys.nbytes == 80
        old = s.set_cells(np.array([5, 99_999]), np.array([7, 99_999]), np.array([4.0, 2.0]))
        assert s.value(99_999, 99_999) == 2.0 and s.nnz == 12
        s.set_held_out(np.array([5]), np.array([7]), True)
        gone = s.remove(1, 0, 50_000)  # half the items, with their ratings
        assert s.shape == (n, 50_000) and s.value(5, 7) != s.value(5, 7)  # (5, 7) went with its item
        s.insert(1, 0, gone.labels, gone.entries)
        assert s.value(5, 7) == 4.0 and s.held_out_cells().tolist() == [[5, 7]]
        at = s.insert(0, 3, s.new_labels(0, 2))  # two users before user 4: every later rating moves down two
        assert s.value(7, 7) == 4.0 and s.shape == (n + 2, n)
        s.remove(0, 3, at)
        s.set_cells(np.array([5, 99_999]), np.array([7, 99_999]), *old)
        block, held = s.block(99_990, 0, 99_999, 9)
        assert block.shape == (10, 10) and not held.any()
        r = s.to_ratings()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r == Ratings(rows, cols, np.arange(1.0, 11.0), (n, n), s.users, s.items)
    assert peak < 60e6  # the 200,000 labels, not 10^10 cells (80 GB as float64)
    with pytest.raises(DataError, match="too many to copy"):
        s.block(0, 0, n - 1, n - 1)


_grid = st.integers(1, 6).flatmap(lambda n: st.integers(1, 6).flatmap(lambda m: st.tuples(
    st.lists(st.sampled_from([np.nan, np.nan, 0.0, 1.0, 2.5, 5.0]), min_size=n * m, max_size=n * m)
    .map(lambda v: np.array(v).reshape(n, m)),
    st.lists(st.booleans(), min_size=n * m, max_size=n * m).map(lambda h: np.array(h).reshape(n, m)))))
_dense_op = st.one_of(
    st.tuples(st.just("cells"), st.integers(0, 9), st.integers(0, 9), st.sampled_from([0.0, 3.0, float("nan")])),
    st.tuples(st.just("held"), st.integers(0, 9), st.integers(0, 9), st.booleans()),
    st.tuples(st.just("insert"), st.sampled_from([USERS, ITEMS]), st.integers(0, 9), st.integers(1, 3)),
    st.tuples(st.just("remove"), st.sampled_from([USERS, ITEMS]), st.integers(0, 9), st.integers(1, 3)),
)


def _dense_do(values: np.ndarray, held: np.ndarray, s: GridState, op: tuple) -> tuple[np.ndarray, np.ndarray]:
    """``op`` on the state and, as the grid did when it was dense, on (values, held); the new dense pair."""
    n, m = values.shape
    kind = op[0]
    if kind in ("cells", "held") and n and m:
        r, c = op[1] % n, op[2] % m
        if kind == "cells":
            s.set_cells(np.array([r]), np.array([c]), np.array([op[3]]))
            values[r, c] = op[3]
            held[r, c] &= not np.isnan(op[3])
        else:
            s.set_held_out(np.array([r]), np.array([c]), op[3])
            held[r, c] = op[3] and not np.isnan(values[r, c])
    elif kind == "insert":
        axis, count = op[1], op[3]
        at = op[2] % (values.shape[axis] + 1)
        s.insert(axis, at, s.new_labels(axis, count))
        values = np.insert(values, [at] * count, np.nan, axis=axis)
        held = np.insert(held, [at] * count, False, axis=axis)
    elif kind == "remove" and values.shape[op[1]]:
        axis, have = op[1], values.shape[op[1]]
        start = op[2] % have
        count = min(op[3], have - start)
        s.remove(axis, start, count)
        gone = np.arange(start, start + count)
        values, held = np.delete(values, gone, axis=axis), np.delete(held, gone, axis=axis)
    return values, held


@settings(max_examples=80, deadline=None)
@given(grid=_grid, ops=st.lists(_dense_op, max_size=12))
def test_the_sparse_grid_behaves_as_the_dense_one_did(grid: tuple, ops: list[tuple]) -> None:
    values, held = grid[0].copy(), grid[1] & ~np.isnan(grid[0])
    s = GridState.from_dense(values, held)
    for op in ops:
        values, held = _dense_do(values, held, s, op)
        assert s.shape == values.shape
        got_v, got_h = dense(s)
        assert np.array_equal(got_v, values, equal_nan=True) and np.array_equal(got_h, held)
        rows, cols = np.nonzero(~np.isnan(values))  # what to_ratings() gave when the grid was dense
        assert s.to_ratings() == Ratings(rows, cols, values[rows, cols], values.shape, s.users, s.items, s.scale)
        assert s.held_out_cells().tolist() == np.argwhere(held & ~np.isnan(values)).tolist()
        assert [len(x) for x in s.zero_cells()] == [int(np.count_nonzero(values == 0))] * 2


def test_replace_copies_the_entries_unless_told_to_take_them() -> None:
    other = GridState.from_ratings(Ratings.from_dense([[1.0, 2.0], [3.0, 4.0]]))
    a, b = GridState(), GridState()
    a.replace(other)
    b.replace(other, take=True)
    assert a.entries is not other.entries and b.entries is other.entries
    assert a.to_ratings() == b.to_ratings() == other.to_ratings()
