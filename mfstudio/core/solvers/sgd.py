r"""``sgd`` — the notebook's gradient descent, exactly.

Model: R_hat = P Q, with P users x K and Q K x items.

Objective (the notebook's ``e``), summed over observed entries (i, j):

    e = sum_(i,j) [ (R_ij - P_i . Q_:j)^2 + sum_k beta/2 (P_ik^2 + Q_kj^2) ]

One step visits the observed entries in row-major order. For each entry the error
e_ij = R_ij - P_i . Q_:j is computed once, then for k = 1..K:

    P_ik <- P_ik + alpha (2 e_ij Q_kj - beta P_ik)
    Q_kj <- Q_kj + alpha (2 e_ij P_ik - beta Q_kj)      (uses the new P_ik)

After each step e is evaluated and training stops once e < tol. The start is
P, Q ~ U[0, 1) drawn from the seed (P first), unless given.
"""

from __future__ import annotations

import numpy as np

from mfstudio.core.params import ALPHA, BETA, SEED, STEPS, TOL, K
from mfstudio.core.solvers.base import Factors, Solver


class SGDSolver(Solver):
    name = "sgd"
    title = "Gradient descent (the notebook's)"
    description = "The notebook's method: nudge P and Q after every single rating, in order."
    objective_name = "the notebook's e"
    params = (K, STEPS, ALPHA, BETA, TOL, SEED)

    def initial_factors(self, rng: np.random.Generator, K: int) -> Factors:
        n, m = self.shape
        P = rng.random((n, K))
        Q = rng.random((K, m))
        return Factors(P, Q)

    def run(self, n_steps: int, out: np.ndarray) -> int:
        from mfstudio.core.solvers import _kernels

        t, v, f = self.train_set, self.val_or_empty(), self.factors
        done = _kernels.sgd_run(
            t.rows, t.cols, t.vals, f.P, f.Q.T, float(self.p["alpha"]), float(self.p["beta"]),
            float(self.p["tol"]), int(n_steps), v.rows, v.cols, v.vals, out,
        )
        self.steps_done += done
        return done
