"""``sgd`` against the notebook's own ``matrix_factorization`` on Example 1 (K = 2).

Both start from the same P, Q. The notebook runs 10,000 steps once for the
correctness check (results must agree to 1e-9) and is timed over shorter runs; ours
is timed over 10,000 steps, through the training driver as the app runs it and
through the bare solver. Target: at least 500x faster per step.
"""

from __future__ import annotations

import sys

import _common  # noqa: F401  (puts the repository on sys.path)
import numpy as np
from _common import fmt_time, table, timeit, verdict

from mfstudio.core.ratings import Ratings
from mfstudio.core.solvers import Factors, get_solver
from mfstudio.core.training import Training
from tests.core.notebook_reference import EXAMPLE_1, matrix_factorization

TARGET = 500.0
STEPS = 10_000
NB_STEPS = 1_000


def main() -> int:
    R = np.array(EXAMPLE_1, dtype=float)
    K = 2
    rng = np.random.default_rng(7)
    P0, Q0 = rng.random((R.shape[0], K)), rng.random((K, R.shape[1]))
    ratings = Ratings.from_dense(R)

    # correctness: 10,000 steps both ways
    ref_P, ref_Q = matrix_factorization(R, P0.copy(), Q0.copy(), K, steps=STEPS)
    snap = Training(ratings, "sgd", {"K": K, "steps": STEPS}, init=Factors(P0, Q0)).run_to_end()
    same = snap.step == STEPS and np.allclose(snap.factors.P, ref_P, rtol=0, atol=1e-9) \
        and np.allclose(snap.factors.Q, ref_Q, rtol=0, atol=1e-9)
    print(f"sgd vs notebook after {STEPS:,} steps: max |dP| = {np.abs(snap.factors.P - ref_P).max():.2e}, "
          f"max |dQ| = {np.abs(snap.factors.Q - ref_Q).max():.2e} -> {'identical (1e-9)' if same else 'DIFFERENT'}")

    nb_best, nb_med = timeit(lambda: matrix_factorization(R, P0.copy(), Q0.copy(), K, steps=NB_STEPS), repeats=5)

    def driver() -> None:
        Training(ratings, "sgd", {"K": K, "steps": STEPS}, init=Factors(P0, Q0)).run_to_end()

    solver = get_solver("sgd")
    out = np.empty((STEPS, 5))

    def bare() -> None:
        s = solver(ratings.shape, ratings.observed, None, {"K": K, "steps": STEPS}, Factors(P0, Q0))
        s.run(STEPS, out)

    driver(), bare()  # warm-up: load the compiled kernels
    dr_best, dr_med = timeit(driver, repeats=9)
    ba_best, ba_med = timeit(bare, repeats=9)

    per = lambda t, n: t / n
    nb = per(nb_med, NB_STEPS)
    rows = [
        ["notebook matrix_factorization", f"{NB_STEPS:,}", fmt_time(per(nb_best, NB_STEPS)), fmt_time(nb), "1.0x", ""],
        ["mfstudio sgd via Training", f"{STEPS:,}", fmt_time(per(dr_best, STEPS)), fmt_time(per(dr_med, STEPS)),
         f"{nb / per(dr_med, STEPS):,.0f}x", verdict(nb / per(dr_med, STEPS) >= TARGET)],
        ["mfstudio sgd solver.run", f"{STEPS:,}", fmt_time(per(ba_best, STEPS)), fmt_time(per(ba_med, STEPS)),
         f"{nb / per(ba_med, STEPS):,.0f}x", verdict(nb / per(ba_med, STEPS) >= TARGET)],
    ]
    print(
        f"\nExample 1 (4 x 4, {ratings.nnz} ratings), K = {K}; time per step; "
        f"speed-up of medians (target {TARGET:.0f}x)"
    )
    table(["implementation", "steps", "best/step", "median/step", "speed-up", "target"], rows)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
