"""The ranking kernel's rows do not depend on how the users are cut into ranges or on numba's threads."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from mfstudio.core import ranking
from mfstudio.core._rank_kernel import rank_users, rank_users_threaded
from mfstudio.core.ratings import Observed
from mfstudio.core.solvers.base import Factors


def _case(seed: int, implicit: bool):
    rng = np.random.default_rng(seed)
    n, m, K = 300, 2_000, 7
    cells = np.sort(rng.choice(n * m, 12_000, replace=False))
    rows, cols = cells // m, cells % m
    vals = rng.integers(1, 6, cells.size).astype(float)
    held = rng.random(cells.size) < 0.3
    train = Observed(rows[~held], cols[~held], vals[~held])
    val = Observed(rows[held], cols[held], vals[held])
    f = Factors(rng.normal(size=(n, K)), rng.normal(size=(K, m)), rng.normal(size=n), rng.normal(size=m), 3.1)
    return ranking.RankingEvaluator(train, val, m, 10, 3.0, implicit), f


def _rows(evaluator, f, parts: int) -> np.ndarray:
    n_users = f.P.shape[0]
    out = np.empty((len(evaluator.users), 6))
    cold = np.zeros(n_users, dtype=bool)
    cold[::37] = True
    args = (evaluator.users, f.P, np.ascontiguousarray(f.Q), f.user_bias, f.item_bias, f.global_mean, True, cold,
            np.array([5, 17], dtype=np.int64), 2.5, evaluator._train_ptr, evaluator._train_items,
            evaluator._rel_ptr, evaluator._rel_items, evaluator._rel_w, evaluator.implicit, evaluator.k)
    if parts:
        rank_users_threaded(*args, parts, out)
    else:
        rank_users(*args, out)
    return out


@pytest.mark.parametrize("implicit", [False, True])
def test_rows_are_the_same_for_any_cut_and_thread_count(implicit):
    evaluator, f = _case(4, implicit)
    one = _rows(evaluator, f, 0)  # on the calling thread
    before = numba.get_num_threads()
    try:
        for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
            numba.set_num_threads(threads)
            for parts in (1, 2, 3, 7, len(evaluator.users)):
                np.testing.assert_array_equal(_rows(evaluator, f, parts), one)
    finally:
        numba.set_num_threads(before)
    assert np.isfinite(one).all() and one[:, 0].max() > 0


def test_block_scores_are_the_products_summed_in_factor_order():
    from mfstudio.core._rank_kernel import _block_scores

    rng = np.random.default_rng(2)
    P, Q = rng.normal(size=(40, 9)), rng.normal(size=(9, 1_000))
    us = np.array([3, 0, 39, 3, 17], dtype=np.int64)
    out = np.empty((16, 1_000))
    _block_scores(us, P, Q, 64, out)
    want = np.zeros((len(us), 1_000))
    for f in range(9):  # the order of the sum, term by term
        want += P[us, f][:, None] * Q[f][None, :]
    np.testing.assert_array_equal(out[:len(us)], want)
