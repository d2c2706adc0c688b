"""``als`` iteration against a plain batched-numpy ALS iteration (same maths), K = 20.

943 users x 1,682 items, 100,000 ratings (MovieLens-100k-like, synthetic; _data.py),
all used for training. One iteration = solve every user, then every item, with the
weighted-lambda ridge of als.py: (sum y y^T + (beta/2) n I) x = sum r y. Ours is timed
solving it exactly (cg_steps = exact, Cholesky: the same maths as numpy's) and with the
default 3 conjugate-gradient steps per row, on numba's threads; it also evaluates the
objective and errors each iteration, the numpy one does not.
Correctness: from the same Q, one exact iteration of both must agree (allclose 1e-8).
Target: under 10 ms per iteration here (the default, CG).
(bench_als_implicit.py: ML-1M-shaped data, K = 20 and 100, against implicit's CG ALS.)
"""

from __future__ import annotations

import sys

import _common  # noqa: F401
import numpy as np
from _common import fmt_time, table, timeit, verdict
from _data import ML100K, movielens_like

from mfstudio.core.ratings import Observed
from mfstudio.core.solvers import Factors, get_solver
from mfstudio.core.solvers.als import by_row

TARGET_S = 0.010
K, BETA = 20, 0.02


def numpy_half(indptr: np.ndarray, other: np.ndarray, vals: np.ndarray, Y: np.ndarray, half_beta: float) -> np.ndarray:
    """All rows' ridge solves with batched numpy: rows bucketed by degree (padded to the
    next power of two with a zero row of Y), Gram matrices by batched matmul, one
    batched solve."""
    n_rows, k = len(indptr) - 1, Y.shape[1]
    deg = np.diff(indptr)
    Yz = np.vstack([Y, np.zeros((1, k))])                     # index -1 -> zero row
    A = np.zeros((n_rows, k, k))
    b = np.zeros((n_rows, k))
    width = 1
    while width // 2 < deg.max(initial=0):
        sel = np.flatnonzero((deg > width // 2) & (deg <= width))
        if len(sel):
            pos = np.arange(width)[None, :]
            idx = np.where(pos < deg[sel, None], indptr[sel, None] + pos, -1)
            G = Yz[np.where(idx >= 0, other[idx], -1)]       # rows x width x K
            r = np.where(idx >= 0, vals[idx], 0.0)
            A[sel] = np.matmul(G.transpose(0, 2, 1), G)
            b[sel] = np.einsum("rtk,rt->rk", G, r)
        width *= 2
    A += (half_beta * np.maximum(deg, 1))[:, None, None] * np.eye(k)
    return np.linalg.solve(A, b[:, :, None])[:, :, 0] * (deg > 0)[:, None]


def numpy_iteration(u, i, Q: np.ndarray, beta: float) -> tuple[np.ndarray, np.ndarray]:
    P = numpy_half(*u, Q.T, beta / 2)
    Qt = numpy_half(*i, P, beta / 2)
    return P, Qt.T


def main() -> int:
    n_users, n_items, nnz = ML100K
    rows, cols, vals = movielens_like(n_users, n_items, nnz)
    train = Observed(rows, cols, vals)
    shape = (n_users, n_items)
    u = by_row(train, n_users)
    i = by_row(Observed(cols, rows, vals), n_items)
    rng = np.random.default_rng(0)
    Q0 = rng.random((K, n_items))
    cls = get_solver("als")

    def fresh(cg_steps: int | None = None):
        return cls(shape, train, None, {"K": K, "beta": BETA, "cg_steps": cg_steps},
                   Factors(np.zeros((n_users, K)), Q0))

    # correctness: one exact iteration from the same Q
    s = fresh()
    s.run(1, np.empty((1, 5)))
    P_np, Q_np = numpy_iteration(u, i, Q0, BETA)
    dP, dQ = np.abs(s.factors.P - P_np).max(), np.abs(s.factors.Q - Q_np).max()
    same = np.allclose(s.factors.P, P_np, rtol=1e-8, atol=1e-8) and np.allclose(
        s.factors.Q, Q_np, rtol=1e-8, atol=1e-8
    )
    print(
        f"als vs numpy after one iteration: max |dP| = {dP:.1e}, max |dQ| = {dQ:.1e} "
        f"-> {'same' if same else 'DIFFERENT'}"
    )

    out = np.empty((1, 5))
    cg = fresh(3)
    cg.run(1, out)
    o_best, o_med = timeit(lambda: s.run(1, out), repeats=21)
    c_best, c_med = timeit(lambda: cg.run(1, out), repeats=21)
    n_best, n_med = timeit(lambda: numpy_iteration(u, i, Q0, BETA), repeats=7)
    print(f"\n{n_users} x {n_items}, {nnz:,} ratings, K = {K}; time per iteration (target < {TARGET_S * 1e3:.0f} ms)")
    table(["implementation", "best", "median", "speed-up (medians)", "target"], [
        ["plain batched numpy (exact)", fmt_time(n_best), fmt_time(n_med), "1.0x", ""],
        ["mfstudio als, exact (incl. objective)", fmt_time(o_best), fmt_time(o_med), f"{n_med / o_med:.1f}x", ""],
        ["mfstudio als, CG 3 steps (incl. objective)", fmt_time(c_best), fmt_time(c_med), f"{n_med / c_med:.1f}x",
         verdict(c_med < TARGET_S)],
    ])
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
