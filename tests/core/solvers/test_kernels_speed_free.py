"""Correctness of the tuned kernels of als, nmf and biased-sgd (their speed is in benchmarks/)."""

import numpy as np
import pytest

from mfstudio.core import metrics
from mfstudio.core.ratings import Ratings
from mfstudio.core.solvers import _als_kernels, _kernels, get_solver


def _random_ratings(n_users=37, n_items=23, density=0.35, seed=0) -> Ratings:
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    mask[:, 0] = True  # every user has a rating; some rows get n % 4 != 0 by chance
    mask[5, :] = False  # a user without ratings
    mask[:, 3] = False  # an item without ratings
    r, c = np.nonzero(mask)
    return Ratings(r, c, rng.integers(1, 6, len(r)).astype(float), (n_users, n_items))


@pytest.mark.parametrize("K", [1, 3, 4, 7, 20])
def test_als_half_step_is_the_ridge_solution(K):
    R = _random_ratings()
    beta = 0.3
    S = get_solver("als")(R.shape, R.observed, None, {"K": K, "beta": beta, "seed": 1, "cg_steps": None})
    Qt = S.factors.Q.T.copy()
    P = np.zeros_like(S.factors.P)
    _als_kernels.als_half(*S._u, P, Qt, beta / 2, 0, S._u_blocks, np.empty((0, 2)))
    o = R.observed
    for u in range(R.n_users):
        sel = o.rows == u
        if not sel.any():
            assert np.all(P[u] == 0)
            continue
        Y = Qt[o.cols[sel]]
        want = np.linalg.solve(Y.T @ Y + beta / 2 * sel.sum() * np.eye(K), Y.T @ o.vals[sel])
        np.testing.assert_allclose(P[u], want, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("name", ["als", "nmf", "biased-sgd"])
def test_objective_and_errors_match_numpy(name):
    R = _random_ratings(seed=2)
    split = R.split(0.2, seed=3)
    params = {"K": 5, "beta": 0.05}
    S = get_solver(name)(R.shape, split.train, split.val, params)
    out = np.empty((4, 5))
    assert S.run(4, out) == 4
    f = S.factors
    if name == "biased-sgd":  # training errors summed during the epoch (test_sgd_blocks); the regularizer after it
        sse = metrics.rmse(split.train, f) ** 2 * len(split.train)
        assert out[-1, 0] - out[-1, 1] == pytest.approx(metrics.objective(split.train, f, 0.05) - sse, rel=1e-9)
    else:
        assert out[-1, 0] == pytest.approx(metrics.objective(split.train, f, 0.05), rel=1e-12)
        assert np.sqrt(out[-1, 1] / len(split.train)) == pytest.approx(metrics.rmse(split.train, f), rel=1e-12)
        assert out[-1, 2] / len(split.train) == pytest.approx(metrics.mae(split.train, f), rel=1e-12)
    assert np.sqrt(out[-1, 3] / len(split.val)) == pytest.approx(metrics.rmse(split.val, f), rel=1e-12)
    assert out[-1, 4] / len(split.val) == pytest.approx(metrics.mae(split.val, f), rel=1e-12)


@pytest.mark.parametrize("name", ["als", "nmf", "biased-sgd"])
def test_chunking_and_reruns_are_bit_identical(name):
    R = _random_ratings(seed=4)
    split = R.split(0.1, seed=0)

    def make():
        return get_solver(name)(R.shape, split.train, split.val, {"K": 6, "seed": 9})

    a, b = make(), make()
    out_a = np.empty((12, 5))
    a.run(12, out_a)
    rows = []
    for n in (1, 4, 7):
        o = np.empty((n, 5))
        b.run(n, o)
        rows.append(o)
    assert np.array_equal(out_a, np.concatenate(rows))
    for attr in ("P", "Q", "user_bias", "item_bias"):
        x, y = getattr(a.factors, attr), getattr(b.factors, attr)
        assert (x is None and y is None) or np.array_equal(x, y)


def test_shuffle_is_a_permutation_and_seeded():
    order = np.arange(1000, dtype=np.int64)
    s1 = np.array([12345], dtype=np.uint64)
    _kernels._shuffle(order, s1)
    assert sorted(order.tolist()) == list(range(1000))
    assert not np.array_equal(order, np.arange(1000))
    again = np.arange(1000, dtype=np.int64)
    _kernels._shuffle(again, np.array([12345], dtype=np.uint64))
    assert np.array_equal(order, again)
