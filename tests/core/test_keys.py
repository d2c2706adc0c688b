"""Distinct keys by sorting give exactly np.unique's results."""

from __future__ import annotations

import numpy as np
import pytest

from mfstudio.core.keys import distinct, increasing, last_of_each


@pytest.mark.parametrize("seed", range(6))
def test_distinct_and_last_of_each_are_np_uniques(seed):
    rng = np.random.default_rng(seed)
    for keys in (rng.integers(0, 50, 200), rng.integers(-5, 5, 37), np.arange(10), np.arange(10)[::-1],
                 np.zeros(0, np.int64), np.array([7]), np.repeat(np.arange(5), 3)):
        np.testing.assert_array_equal(distinct(keys), np.unique(keys))
        want = len(keys) - 1 - np.unique(keys[::-1], return_index=True)[1]
        got = last_of_each(keys)
        np.testing.assert_array_equal(got, want)
        assert got.dtype == np.int64


def test_sorted_keys_take_the_short_way_and_repeats_are_not_increasing():
    assert increasing(np.arange(5)) and increasing(np.zeros(0)) and increasing(np.array([3]))
    assert not increasing(np.array([1, 1, 2])) and not increasing(np.array([2, 1]))
    a = np.arange(6)
    d = distinct(a)
    d[0] = 99  # a copy: the caller's keys are not handed back to be changed
    assert a[0] == 0
    np.testing.assert_array_equal(last_of_each(np.array([4, 9, 4, 2, 9])), [3, 2, 4])  # keys 2, 4, 9: their last
