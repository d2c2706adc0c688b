"""The four-lane dots: the bits of one scalar recipe, whatever calls them."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from numba import njit

from mfstudio.core.solvers import _lanes, micro


def recipe(x: list[float], y: list[float]) -> float:
    """Lane l sums k = l, l+4, ... below K - K mod 4; then (l0 + l1) + (l2 + l3); then the tail in order:
    the one-update view's plain-Python dot (micro.dot_lanes), which states the recipe."""
    return micro.dot_lanes(np.array(x), np.array(y))


@njit
def _rows4(Y, rows, v):
    return _lanes.dot_rows4(Y, rows[0], rows[1], rows[2], rows[3], v)


@njit
def _row(Y, r, v):
    return _lanes.dot_row(Y, r, v)


@pytest.mark.parametrize("K", [1, 3, 4, 5, 8, 20, 21, 64, 101])
def test_each_dot_is_the_recipe_bit_for_bit(K):
    rng = np.random.default_rng(K)
    Y, v = rng.normal(size=(9, K)) * 1e3, rng.normal(size=K)
    rows = np.array([8, 0, 3, 3], dtype=np.int32)  # any integer type, a row twice
    got = _rows4(Y, rows, v)
    want = tuple(recipe(Y[r].tolist(), v.tolist()) for r in rows)
    assert got == want
    assert all(_row(Y, np.int64(r), v) == recipe(Y[r].tolist(), v.tolist()) for r in range(9))
    # the order is not numpy's (pairwise or BLAS): the recipe, not "close to a dot"
    assert recipe(Y[8].tolist(), v.tolist()) == pytest.approx(float(Y[8] @ v), rel=1e-12)


def test_arrays_that_are_not_one_block_of_memory_are_refused():
    Y, v = np.ones((4, 8)), np.ones(8)
    with pytest.raises(numba.core.errors.TypingError):
        _row(np.asfortranarray(Y), np.int64(0), v)
    with pytest.raises(numba.core.errors.TypingError):
        _row(Y, np.int64(0), np.ones(16)[::2])
