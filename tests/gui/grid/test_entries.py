"""The grid's sorted entries: look-ups, changes and shifts keep the keys sorted, distinct and right."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mfstudio.gui.grid.entries import Entries, cols_of, keys_of, rows_of, sorted_unique


def test_keys_sort_row_major_and_give_back_rows_and_columns() -> None:
    rows, cols = np.array([3, 0, 0, 70_000]), np.array([1, 10_680, 2, 0])
    k = keys_of(rows, cols)
    assert rows_of(k).tolist() == rows.tolist() and cols_of(k).tolist() == cols.tolist()
    assert np.argsort(k).tolist() == [2, 1, 0, 3]  # (0, 2) < (0, 10680) < (3, 1) < (70000, 0)


def test_sorted_unique_keeps_the_last_of_repeated_keys() -> None:
    keys, at = sorted_unique(np.array([5, 1, 5, 3, 1]))
    assert keys.tolist() == [1, 3, 5] and at.tolist() == [4, 3, 2]
    keys, at = sorted_unique(np.array([1, 2, 9]))  # sorted and distinct: as it is
    assert keys.tolist() == [1, 2, 9] and at.tolist() == [0, 1, 2]


def test_of_cells_drops_nan_and_keeps_a_repeated_cell_last() -> None:
    e = Entries.of_cells(np.array([1, 0, 1, 2]), np.array([1, 0, 1, 0]), np.array([2.0, 1.0, 3.0, np.nan]),
                         np.array([False, True, True, True]))
    assert e.rows.tolist() == [0, 1] and e.cols.tolist() == [0, 1]
    assert e.vals.tolist() == [1.0, 3.0] and e.held.tolist() == [True, True]


def test_find_at_one_and_rectangles() -> None:
    e = Entries.of_cells(np.array([0, 0, 2, 5]), np.array([1, 3, 2, 0]), np.array([1.0, 2.0, 3.0, 4.0]))
    pos, found = e.find(keys_of(np.array([0, 2, 9]), np.array([3, 1, 9])))
    assert found.tolist() == [True, False, False] and pos[0] == 1
    vals, held = e.at(keys_of(np.array([2, 2]), np.array([2, 3])))
    assert vals[0] == 3.0 and np.isnan(vals[1]) and not held.any()
    assert e.one(5, 0) == 3 and e.one(5, 1) == -1 and e.one(9, 9) == -1
    assert e.in_rect(0, 2, 2, 3).tolist() == [1, 2]  # (0, 3) and (2, 2); not (0, 1)
    assert e.in_rects([(0, 0, 0, 1), (5, 0, 5, 0), (0, 0, 0, 0)]).tolist() == [0, 3]


def test_cut_and_paste_in_shift_what_lies_beyond() -> None:
    e = Entries.of_cells(np.array([0, 1, 2, 3]), np.array([0, 1, 2, 3]), np.array([1.0, 2.0, 3.0, 4.0]))
    gone = e.cut(0, 1, 2)  # rows 1 and 2
    assert gone.rows.tolist() == [0, 1] and gone.cols.tolist() == [1, 2]  # counted from the first row taken
    assert e.rows.tolist() == [0, 1] and e.vals.tolist() == [1.0, 4.0]
    e.paste_in(0, 1, 2, gone)
    assert e.rows.tolist() == [0, 1, 2, 3] and e.cols.tolist() == [0, 1, 2, 3]
    gone = e.cut(1, 0, 1)  # column 0
    assert gone.rows.tolist() == [0] and e.cols.tolist() == [0, 1, 2]
    e.paste_in(1, 0, 1, None)  # an unrated column back
    assert e.cols.tolist() == [1, 2, 3] and len(e) == 3


_change = st.tuples(st.integers(0, 6), st.integers(0, 6), st.sampled_from([np.nan, 0.0, 1.5, 4.0]), st.booleans())


@settings(max_examples=100, deadline=None)
@given(first=st.lists(_change, max_size=20), then=st.lists(_change, max_size=20))
def test_assign_matches_a_dense_grid(first: list[tuple], then: list[tuple]) -> None:
    grid, flags, e = np.full((7, 7), np.nan), np.zeros((7, 7), bool), Entries.empty()
    for batch in (first, then):
        if not batch:
            continue
        r, c, v, h = (np.array(x) for x in zip(*batch))
        for rr, cc, vv, hh in batch:  # the last of a repeated cell wins
            grid[rr, cc], flags[rr, cc] = vv, hh and not np.isnan(vv)
        keys, at = sorted_unique(keys_of(r, c))
        e.assign(keys, v.astype(float)[at], h.astype(bool)[at])
        assert np.all(np.diff(e.keys) > 0)  # sorted, distinct
        rr, cc = np.nonzero(~np.isnan(grid))
        assert e.rows.tolist() == rr.tolist() and e.cols.tolist() == cc.tolist()
        assert e.vals.tolist() == grid[rr, cc].tolist() and e.held.tolist() == flags[rr, cc].tolist()


@pytest.mark.parametrize("axis", [0, 1])
def test_shift_keeps_the_order(axis: int) -> None:
    e = Entries.of_cells(np.array([0, 0, 1, 1]), np.array([0, 2, 0, 2]), np.ones(4))
    e.shift(axis, 1, 3)
    assert np.all(np.diff(e.keys) > 0)
    assert (e.rows if axis == 0 else e.cols).tolist() == ([0, 0, 4, 4] if axis == 0 else [0, 5, 0, 5])
