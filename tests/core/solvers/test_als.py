"""``als``: the conjugate-gradient solve against the exact one, reruns and thread counts (speed: benchmarks/)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

from mfstudio.core import metrics
from mfstudio.core.ratings import Ratings
from mfstudio.core.solvers import _als_kernels, get_solver
from mfstudio.core.solvers.als import BLOCK_RATINGS, blocks_for, row_blocks
from mfstudio.core.training import Training

ROOT = Path(__file__).resolve().parents[3]


def planted(n_users: int, n_items: int, density: float, rank: int = 4, seed: int = 0) -> Ratings:
    """Ratings 1..5 from a planted rank-``rank`` model plus noise; a user and an item without ratings."""
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    mask[:, 0] = True
    mask[3, :] = False
    mask[:, 5] = False
    r, c = np.nonzero(mask)
    U, V = rng.normal(0, 0.6, (n_users, rank)), rng.normal(0, 0.6, (n_items, rank))
    vals = np.clip(np.rint(3.4 + np.einsum("nk,nk->n", U[r], V[c]) + rng.normal(0, 0.5, len(r))), 1, 5)
    return Ratings(r, c, vals, (n_users, n_items))


def half(S, cg_steps: int, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Every user's row of X solved against Y by the kernel (X changed in place and returned)."""
    _als_kernels.als_half(*S._u, X, Y, float(S.p["beta"]) / 2, cg_steps, S._u_blocks, np.empty((0, 2)))
    return X


def ridge_rows(R: Ratings, Y: np.ndarray, beta: float) -> np.ndarray:
    """Each user's normal equations (Y_r^T Y_r + beta/2 n I) x = Y_r^T r, solved by numpy."""
    o = R.observed
    out = np.zeros((R.n_users, Y.shape[1]))
    for u in range(R.n_users):
        sel = o.rows == u
        if sel.any():
            Yu = Y[o.cols[sel]]
            out[u] = np.linalg.solve(Yu.T @ Yu + beta / 2 * sel.sum() * np.eye(Y.shape[1]), Yu.T @ o.vals[sel])
    return out


@pytest.mark.parametrize("K", [5, 12])
def test_conjugate_gradient_reaches_the_exact_solution_with_enough_steps(K):
    R = planted(40, 30, 0.4)
    S = get_solver("als")(R.shape, R.observed, None, {"K": K, "beta": 0.1, "seed": 2})
    Qt, P0 = S.factors.Q.T.copy(), S.factors.P.copy()
    want = ridge_rows(R, Qt, 0.1)
    got = half(S, 3 * K, P0.copy(), Qt)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(half(S, 0, P0.copy(), Qt), want, rtol=1e-9, atol=1e-10)  # 0 steps: Cholesky
    # fewer steps than K stop short of it, and each step brings every row closer (in A's norm)
    o = R.observed
    previous = None
    for steps in range(1, K):
        x = half(S, steps, P0.copy(), Qt)
        assert np.abs(x - want).max() > 1e-6
        err = []
        for u in range(R.n_users):
            sel = o.rows == u
            if sel.any():
                Yu, d = Qt[o.cols[sel]], x[u] - want[u]
                err.append(d @ (Yu.T @ Yu + 0.05 * sel.sum() * np.eye(K)) @ d)
        if previous is not None:
            assert np.all(np.array(err) <= np.array(previous) * (1 + 1e-9) + 1e-24)  # rounding aside
        previous = err
    assert np.all(got[3] == 0)  # the user without ratings


def test_cg_starts_from_the_current_factors():
    R = planted(40, 30, 0.4)
    S = get_solver("als")(R.shape, R.observed, None, {"K": 6, "beta": 0.1})
    Qt = S.factors.Q.T.copy()
    want = ridge_rows(R, Qt, 0.1)
    from_far = half(S, 1, S.factors.P.copy(), Qt)
    from_near = half(S, 1, want + 1e-3, Qt)  # one step from next to the solution lands next to it
    assert np.abs(from_near - want).max() < 1e-3 < np.abs(from_far - want).max()


def test_cg_and_exact_reach_similar_held_out_rmse():
    R = planted(300, 200, 0.25, rank=4, seed=1)
    rmse = {}
    for cg in (3, None):
        t = Training(R, "als", {"K": 8, "beta": 0.1, "steps": 30, "tol": 0, "cg_steps": cg}, holdout=0.2)
        t.run_to_end()
        rmse[cg] = metrics.rmse(t.split.val, t.factors)
        assert t.history.column("objective")[-1] < t.history.column("objective")[0]
    assert abs(rmse[3] - rmse[None]) < 0.01 * rmse[None]


@pytest.mark.parametrize("cg_steps", [1, 2, None])
def test_the_objective_never_rises(cg_steps):
    R = planted(60, 40, 0.3)
    t = Training(R, "als", {"K": 5, "steps": 25, "beta": 0.05, "tol": 0, "cg_steps": cg_steps})
    t.run_to_end()
    obj = t.history.column("objective")
    assert np.all(np.diff(obj) <= 1e-9 * obj[:-1])


def test_cg_steps_of_at_least_k_solve_exactly():
    R = planted(40, 30, 0.4)
    runs = {cg: Training(R, "als", {"K": 4, "steps": 5, "cg_steps": cg}) for cg in (4, 9, None, 3)}
    f = {cg: t.run_to_end().factors for cg, t in runs.items()}
    for cg in (4, 9):
        np.testing.assert_array_equal(f[cg].P, f[None].P)
    assert not np.array_equal(f[3].P, f[None].P)


@pytest.mark.parametrize("cg_steps", [3, None])
def test_reruns_are_bit_identical(cg_steps):
    R = planted(120, 90, 0.5)  # several blocks of rows
    params = {"K": 7, "steps": 6, "seed": 5, "cg_steps": cg_steps}
    a, b = Training(R, "als", params, holdout=0.2), Training(R, "als", params, holdout=0.2)
    fa, fb = a.run_to_end().factors, b.run_to_end().factors
    np.testing.assert_array_equal(fa.P, fb.P)
    np.testing.assert_array_equal(fa.Q, fb.Q)
    np.testing.assert_array_equal(a.history.arrays()[:, :6], b.history.arrays()[:, :6])


@pytest.mark.parametrize("name", ["als", "implicit-als"])
def test_runs_on_this_thread_or_on_the_threads_give_the_same_bits(name):
    """ThreadChoice may put any run on one thread (the rows in one block) or on the threads (in blocks)."""
    R = planted(300, 200, 0.4)
    params = {"K": 6, "steps": 4, "seed": 2, "cg_steps": 3}
    runs = {}
    for way in (True, False):
        t = Training(R, name, params, holdout=0.2)
        assert len(t.solver._u_blocks) > 3 and len(blocks_for(t.solver._u_blocks, False)) == 2  # threads or not
        t.solver.threads.choose = lambda way=way: way
        t.run_to_end()
        runs[way] = t
    np.testing.assert_array_equal(runs[True].factors.P, runs[False].factors.P)
    np.testing.assert_array_equal(runs[True].factors.Q, runs[False].factors.Q)
    np.testing.assert_array_equal(runs[True].history.arrays()[:, :6], runs[False].history.arrays()[:, :6])


def test_blocks_depend_on_the_data_alone():
    indptr = np.cumsum(np.r_[0, np.full(1000, 50)])  # 50,000 ratings
    b = row_blocks(indptr)
    assert b[0] == 0 and b[-1] == 1000 and np.all(np.diff(b) > 0) and 2 < len(b) - 1 <= 64
    assert len(row_blocks(np.cumsum(np.r_[0, np.full(10, BLOCK_RATINGS // 10)]))) == 2  # small: one block
    assert len(row_blocks(np.zeros(4, np.int64))) == 2  # no ratings


def test_the_score_sums_chunks_in_order_and_agrees_with_numpy():
    rng = np.random.default_rng(3)
    n = 3 * _als_kernels.SCORE_CHUNK + 17
    rows, cols = rng.integers(0, 500, n), rng.integers(0, 400, n)
    vals = rng.integers(1, 6, n).astype(float)
    P, Qt = rng.random((500, 9)), rng.random((400, 9))
    sse, sae = _als_kernels.errors(rows, cols, vals, P, Qt)
    d = vals - np.einsum("nk,nk->n", P[rows], Qt[cols])
    assert sse == pytest.approx(float(d @ d), rel=1e-12) and sae == pytest.approx(float(np.abs(d).sum()), rel=1e-12)
    c = _als_kernels.SCORE_CHUNK
    parts = [_als_kernels.errors(rows[a:a + c], cols[a:a + c], vals[a:a + c], P, Qt) for a in range(0, n, c)]
    assert sse == sum(s for s, _ in parts) and sae == sum(a for _, a in parts)  # the chunks' sums, in order


def _fingerprint(cg_steps) -> str:
    R = planted(400, 300, 0.2, seed=7)  # 24,000 ratings: several blocks and score chunks
    t = Training(R, "als", {"K": 9, "steps": 4, "seed": 1, "cg_steps": cg_steps}, holdout=0.15)
    t.run_to_end()
    h = hashlib.sha256()
    for a in (t.factors.P, t.factors.Q, t.history.arrays()[:, :6]):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


@pytest.mark.parametrize("cg_steps", [3, None])
def test_the_number_of_threads_changes_nothing(cg_steps):
    assert len(row_blocks(Training(planted(400, 300, 0.2, seed=7), "als").solver._u[0])) > 3
    before = numba.get_num_threads()
    try:
        prints = set()
        for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
            numba.set_num_threads(threads)
            prints.add(_fingerprint(cg_steps))
    finally:
        numba.set_num_threads(before)
    assert len(prints) == 1


_CHILD = """
import sys, numba
from tests.core.solvers.test_als import _fingerprint
digest = _fingerprint(None if sys.argv[1] == "exact" else int(sys.argv[1]))
print(digest, numba.threading_layer(), numba.get_num_threads())
"""


@pytest.mark.parametrize("cg_steps", ["3", "exact"])
def test_one_or_two_threads_and_the_workqueue_layer_give_the_same_bits(cg_steps):
    """Fresh processes: NUMBA_NUM_THREADS 1 and 2, numba's default threading layer and workqueue
    (the one every install has: no TBB or OpenMP needed)."""
    want = _fingerprint(None if cg_steps == "exact" else int(cg_steps))
    for env in ({"NUMBA_NUM_THREADS": "1"}, {"NUMBA_NUM_THREADS": "2"},
                {"NUMBA_NUM_THREADS": "2", "NUMBA_THREADING_LAYER": "workqueue"}):
        full = {**os.environ, "PYTHONPATH": str(ROOT), **env}
        done = subprocess.run([sys.executable, "-c", _CHILD, cg_steps], cwd=ROOT, env=full, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        digest, layer, threads = done.stdout.split()
        assert digest == want, env
        assert threads == env["NUMBA_NUM_THREADS"]
        if "NUMBA_THREADING_LAYER" in env:
            assert layer == "workqueue"


def test_rows_that_fit_their_ratings_exactly_stay_put():
    # without regularization r = b - A x is (almost) 0 from the start: CG must not blow up
    P = np.array([[1.0, 2.0, 0.5], [0.5, 1.0, 1.5]])
    Q = np.array([[1.0, 0.0, 2.0, 1.0], [0.0, 1.0, 1.0, 2.0], [1.0, 1.0, 0.0, 1.0]])
    R = Ratings.from_dense(P @ Q)
    S = get_solver("als")(R.shape, R.observed, None, {"K": 3, "beta": 0.0, "cg_steps": 2})
    Qt = np.ascontiguousarray(Q.T)
    x = half(S, 2, P.copy(), Qt)
    np.testing.assert_allclose(x, P, atol=1e-9)
    assert np.all(np.isfinite(x))
