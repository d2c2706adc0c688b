"""``implicit-als`` against a dense numpy reference of Hu et al.'s objective and row solves; CG against Cholesky;
reruns and thread counts (speed: benchmarks/bench_implicit_als.py)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mfstudio.core.errors import ParameterError
from mfstudio.core.ratings import Observed, Ratings
from mfstudio.core.solvers import _als_kernels, _implicit_kernels, get_solver
from mfstudio.core.solvers.als import row_blocks
from mfstudio.core.solvers.base import Factors
from mfstudio.core.solvers.implicit_als import objective_value
from mfstudio.core.training import Training

ROOT = Path(__file__).resolve().parents[3]
NAME = "implicit-als"


def counts(n_users: int, n_items: int, density: float, seed: int = 0) -> Ratings:
    """Play counts 1..20 from a planted taste structure; user 3 and item 5 have none."""
    rng = np.random.default_rng(seed)
    U, V = rng.random((n_users, 3)), rng.random((n_items, 3))
    affinity = U @ V.T
    mask = rng.random((n_users, n_items)) < density * affinity / affinity.mean()
    mask[3, :] = False
    mask[:, 5] = False
    mask[0, :2] = True
    r, c = np.nonzero(mask)
    vals = 1 + rng.poisson(4 * affinity[r, c])
    return Ratings(r, c, vals.astype(float), (n_users, n_items), implicit=True)


def dense_objective(R: np.ndarray, P: np.ndarray, Q: np.ndarray, lam: float, a: float) -> float:
    """The issue's formula over every cell of the dense matrix R (NaN: no interaction)."""
    r = np.nan_to_num(R, nan=0.0)
    pref = (r > 0).astype(float)
    c = 1 + a * np.abs(r)
    return float(np.sum(c * (pref - P @ Q) ** 2) + lam * (np.sum(P * P) + np.sum(Q * Q)))


def dense_rows(R: np.ndarray, Y: np.ndarray, lam: float, a: float) -> np.ndarray:
    """Each user's weighted ridge solve over ALL items: (Y^T C_u Y + lam I) x = Y^T C_u p_u, dense."""
    r = np.nan_to_num(R, nan=0.0)
    out = np.empty((R.shape[0], Y.shape[1]))
    for u in range(R.shape[0]):
        c = 1 + a * np.abs(r[u])
        out[u] = np.linalg.solve(Y.T @ (c[:, None] * Y) + lam * np.eye(Y.shape[1]), Y.T @ (c * (r[u] > 0)))
    return out


def solver(R: Ratings, **params):
    return get_solver(NAME)(R.shape, R.observed, None, {"tol": 0.0, **params})


def test_a_tiny_example_against_the_dense_formula_and_the_dense_ridge_solve():
    R = np.array([[5, 3, np.nan, 1], [4, np.nan, np.nan, 1], [1, 1, np.nan, 5], [np.nan, np.nan, np.nan, 4],
                  [np.nan, 1, 5, 4]])
    ratings = Ratings.from_dense(R)
    lam, a = 0.3, 2.0
    S = solver(ratings, K=3, beta=lam, confidence=a, cg_steps=None, seed=4)
    f = S.factors
    want = dense_objective(R, f.P, f.Q, lam, a)
    assert objective_value(ratings.observed, f, lam, a) == pytest.approx(want, rel=1e-12)
    assert S.objective() == pytest.approx(want, rel=1e-12)
    Q0 = f.Q.copy()
    S.solve_half("users")  # one exact half-step: each user's dense weighted ridge solve against Q
    np.testing.assert_allclose(f.P, dense_rows(R, Q0.T, lam, a), rtol=1e-10, atol=1e-12)
    P1 = f.P.copy()
    S.solve_half("items")
    np.testing.assert_allclose(f.Q.T, dense_rows(R.T, P1, lam, a), rtol=1e-10, atol=1e-12)
    out = np.empty((1, 5))
    assert S.score(out) == pytest.approx(dense_objective(R, f.P, f.Q, lam, a), rel=1e-12)
    x = (f.P @ f.Q)[~np.isnan(R)]
    assert out[0, 1] == pytest.approx(np.sum((1 - x) ** 2), rel=1e-12)  # preference errors on the cells
    assert out[0, 2] == pytest.approx(np.sum(np.abs(1 - x)), rel=1e-12)
    A, b = S.row_system("users", 2)  # the system the half-step solves, as the One update view shows it
    np.testing.assert_allclose(np.linalg.solve(A, b), dense_rows(R, f.Q.T, lam, a)[2], rtol=1e-10)


def test_a_whole_run_scores_each_step_as_the_dense_formula():
    R = counts(30, 25, 0.2)
    dense = R.to_dense()
    t = Training(R, NAME, {"K": 4, "steps": 6, "beta": 0.2, "confidence": 0.5, "tol": 0}, holdout=0.2)
    t.run_to_end()
    split_dense = np.full(R.shape, np.nan)
    tr = t.split.train
    split_dense[tr.rows, tr.cols] = tr.vals
    f = t.factors
    assert t.history.column("objective")[-1] == pytest.approx(
        dense_objective(split_dense, f.P, f.Q, 0.2, 0.5), rel=1e-10)
    v = t.split.val
    xv = np.einsum("ij,ji->i", f.P[v.rows], f.Q[:, v.cols])
    assert t.history.arrays()[-1, 4] == pytest.approx(np.sqrt(np.mean((1 - xv) ** 2)), rel=1e-10)
    assert np.isnan(dense).sum() > R.nnz  # the empty cells counted, not just the observed ones


@pytest.mark.parametrize("cg_steps", [1, 3, None])
def test_the_objective_decreases_step_by_step(cg_steps):
    R = counts(60, 40, 0.15)
    S = solver(R, K=6, beta=0.1, confidence=2.0, cg_steps=cg_steps)
    out = np.empty((25, 5))
    assert S.run(25, out) == 25
    obj = out[:, 0]
    assert np.all(np.diff(obj) <= 1e-10 * obj[:-1])
    assert obj[-1] < 0.9 * obj[0]


@pytest.mark.parametrize("K", [4, 9])
def test_conjugate_gradient_with_enough_steps_matches_cholesky(K):
    R = counts(50, 35, 0.2, seed=2)
    S = solver(R, K=K, beta=0.05, confidence=3.0)
    Y = np.ascontiguousarray(S.factors.Q.T)
    G = _implicit_kernels.gram(Y)
    got = {}
    for steps in (0, 4 * K):
        X = S.factors.P.copy()
        _implicit_kernels.implicit_half(*S._u[:2], *S._u_w, X, Y, G, 0.05, steps, S._u_blocks, np.empty((0, 3)))
        got[steps] = X
    np.testing.assert_allclose(got[4 * K], got[0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got[0], dense_rows(R.to_dense(), Y, 0.05, 3.0), rtol=1e-9, atol=1e-10)
    assert np.all(got[0][3] == 0) and np.all(got[4 * K][3] == 0)  # the user without interactions
    few = S.factors.P.copy()
    _implicit_kernels.implicit_half(*S._u[:2], *S._u_w, few, Y, G, 0.05, 1, S._u_blocks, np.empty((0, 3)))
    assert np.abs(few - got[0]).max() > 1e-6  # one step is not the exact solve


def test_cg_steps_of_at_least_k_solve_exactly_and_three_come_close():
    R = counts(40, 30, 0.2, seed=3)
    runs = {cg: Training(R, NAME, {"K": 5, "steps": 20, "beta": 0.5, "cg_steps": cg, "tol": 0}).run_to_end()
            for cg in (3, 5, 9, None)}
    for cg in (5, 9):  # >= K: the exact solve
        np.testing.assert_array_equal(runs[cg].factors.P, runs[None].factors.P)
    assert not np.array_equal(runs[3].factors.P, runs[None].factors.P)
    assert runs[3].objective == pytest.approx(runs[None].objective, rel=0.01)


@pytest.mark.parametrize("K, n", [(6, 37), (64, 40), (13, 3)])
def test_a_pass_over_a_rows_cells_is_its_numpy_formula(K, n):
    """The fused pass (four cells at a time, then the rest; SIMD dots) against numpy, for the residual
    and for A p, and the row's scores against theirs."""
    rng = np.random.default_rng(4)
    Y = rng.random((80, K))
    other = rng.permutation(80)[:n].astype(np.int64)
    w = rng.random(n) * 3
    cp = np.where(rng.random(n) < 0.9, 1 + w, 0.0)
    v, base = rng.random(K), rng.random(K)
    Yr = Y[other]
    for residual, s in ((True, cp - w * (Yr @ v)), (False, w * (Yr @ v))):
        out = base.copy()
        _implicit_kernels._cells(Y, other, w, cp, 0, n, v, out, residual)
        np.testing.assert_allclose(out, base + Yr.T @ s, rtol=1e-12)
    x = Yr @ v
    d = (cp > 0) - x
    want = (np.sum(d * d), np.sum(np.abs(d)), np.sum((1 + w) * d * d - x * x))
    np.testing.assert_allclose(_implicit_kernels._row_scores(Y, other, w, cp, 0, n, v), want, rtol=1e-12)


def test_the_gram_matrix_is_y_transpose_y_in_fixed_chunks():
    Y = np.random.default_rng(1).random((3 * _implicit_kernels.GRAM_CHUNK + 5, 7))
    G = _implicit_kernels.gram(Y)
    np.testing.assert_allclose(G, Y.T @ Y, rtol=1e-12)
    np.testing.assert_array_equal(G, G.T)


def test_small_sums_on_this_thread_are_the_parallel_ones_bit_for_bit():
    """Under SERIAL_WORK the Gram matrix's chunks and the held-out errors' chunks are summed without a parallel
    region, in the same chunks and order."""
    rng = np.random.default_rng(2)
    Y = rng.random((3 * _implicit_kernels.GRAM_CHUNK + 5, 7))
    assert Y.size * Y.shape[1] < _implicit_kernels.SERIAL_WORK
    parts = np.empty((4, 7, 7))
    _implicit_kernels._gram_parts(Y, parts)
    want = np.zeros((7, 7))
    for c in range(4):
        want += np.triu(parts[c])
    np.testing.assert_array_equal(np.triu(_implicit_kernels.gram(Y)), want)
    n = 2 * _implicit_kernels.SCORE_CHUNK + 3
    P, Qt = rng.random((60, 4)), rng.random((50, 4))
    rows, cols, pref = rng.integers(0, 60, n), rng.integers(0, 50, n), np.ones(n)
    assert _implicit_kernels.heldout_errors(rows, cols, pref, P, Qt) == _als_kernels.errors(rows, cols, pref, P, Qt)


@pytest.mark.parametrize("cg_steps", [3, None])
def test_reruns_are_bit_identical(cg_steps):
    R = counts(150, 120, 0.5)
    params = {"K": 7, "steps": 5, "seed": 5, "cg_steps": cg_steps}
    a, b = Training(R, NAME, params, holdout=0.2), Training(R, NAME, params, holdout=0.2)
    fa, fb = a.run_to_end().factors, b.run_to_end().factors
    np.testing.assert_array_equal(fa.P, fb.P)
    np.testing.assert_array_equal(fa.Q, fb.Q)
    np.testing.assert_array_equal(a.history.arrays()[:, :6], b.history.arrays()[:, :6])


def _fingerprint(cg_steps) -> str:
    R = counts(500, 400, 0.25, seed=7)  # several blocks of rows, score chunks and Gram chunks
    t = Training(R, NAME, {"K": 9, "steps": 3, "seed": 1, "cg_steps": cg_steps}, holdout=0.15)
    t.run_to_end()
    h = hashlib.sha256()
    for a in (t.factors.P, t.factors.Q, t.history.arrays()[:, :6]):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


_CHILD = """
import sys, numba
from tests.core.solvers.test_implicit_als import _fingerprint
print(_fingerprint(None if sys.argv[1] == "exact" else int(sys.argv[1])), numba.get_num_threads())
"""


@pytest.mark.parametrize("cg_steps", ["3", "exact"])
def test_one_or_two_threads_give_the_same_bits(cg_steps):
    """Fresh processes with NUMBA_NUM_THREADS 1 and 2, against this process."""
    R = counts(500, 400, 0.25, seed=7)
    assert len(row_blocks(Training(R, NAME).solver._u[0])) > 3  # the rows really are shared out
    want = _fingerprint(None if cg_steps == "exact" else int(cg_steps))
    for threads in ("1", "2"):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_NUM_THREADS": threads}
        done = subprocess.run([sys.executable, "-c", _CHILD, cg_steps], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        digest, n = done.stdout.split()
        assert digest == want and n == threads


def test_a_dislike_is_preference_zero_with_its_confidence():
    R = np.array([[3.0, -2.0, np.nan], [np.nan, 1.0, 2.0], [1.0, np.nan, -1.0]])
    ratings = Ratings.from_dense(R)
    S = solver(ratings, K=2, beta=0.1, confidence=1.5, cg_steps=None)
    f = S.factors
    assert S.objective() == pytest.approx(dense_objective(R, f.P, f.Q, 0.1, 1.5), rel=1e-12)
    Q0 = f.Q.copy()
    S.solve_half("users")
    np.testing.assert_allclose(f.P, dense_rows(R, Q0.T, 0.1, 1.5), rtol=1e-10)


def test_users_and_items_without_interactions_get_zero_factors_and_predict_zero():
    R = counts(30, 20, 0.3)
    t = Training(R, NAME, {"K": 3, "steps": 2})
    f = t.run_to_end().factors
    assert np.all(f.P[3] == 0) and np.all(f.Q[:, 5] == 0)
    assert f.predict()[3].max() == 0 and f.predict()[:, 5].max() == 0


@pytest.mark.parametrize("params, words", [
    ({"confidence": 0}, "Confidence weight must be above 0"),
    ({"confidence": -1}, "Confidence weight must be above 0"),
    ({"confidence": "lots"}, "Confidence weight must be a number"),
    ({"cg_steps": 0}, "CG steps must be from 1"),
    ({"alpha": 0.1}, "The implicit-als solver has no parameter 'alpha'"),
])
def test_parameter_errors_are_one_sentence(params, words):
    with pytest.raises(ParameterError) as info:
        get_solver(NAME).resolve_params(params)
    text = str(info.value)
    assert text.startswith(words) and text.endswith(".") and "\n" not in text


def test_the_confidence_parameter_says_what_it_is():
    spec = {s.name: s for s in get_solver(NAME).params}["confidence"]
    assert "1 + confidence" in spec.help and "not a learning rate" in spec.help and spec.default == 1.0
    assert get_solver(NAME).implicit and get_solver(NAME).objective_name == "Hu et al.'s weighted F"
    assert get_solver(NAME).objective_symbol == "F" and get_solver("als").objective_symbol == "e"


def test_starting_factors_are_taken_as_given():
    R = counts(20, 15, 0.3)
    rng = np.random.default_rng(0)
    init = Factors(rng.random((20, 3)), rng.random((3, 15)))
    S = get_solver(NAME)(R.shape, R.observed, None, {"K": 3}, init)
    np.testing.assert_array_equal(S.factors.P, init.P)
    assert S.objective() == pytest.approx(dense_objective(R.to_dense(), init.P, init.Q, 5.0, 1.0), rel=1e-12)
    assert isinstance(R.observed, Observed)


def test_sweep_workers_load_its_threaded_kernels_themselves():
    from mfstudio.core._sweep_preload import THREADED

    assert NAME in THREADED  # its half-steps start numba's threads: the fork server must not
