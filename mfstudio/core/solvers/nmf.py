r"""``nmf`` — non-negative matrix factorization on observed entries.

Model: R_hat = P Q with P >= 0 and Q >= 0 (every factor stays non-negative, so each
latent feature adds up, which makes factors easier to read). Objective: the same e
as ``sgd``,

    e = sum_(i,j) observed [ (R_ij - P_i . Q_:j)^2 + sum_k beta/2 (P_ik^2 + Q_kj^2) ]

minimised by multiplicative updates (Lee & Seung, restricted to observed entries,
with the regularization in the denominator). One step updates every user, then
every item, with n_i / m_j the number of ratings of user i / item j:

    P_ik <- P_ik * max(0, sum_j R_ij Q_kj) / (sum_j R_hat_ij Q_kj + beta/2 n_i P_ik + 1e-12)
    Q_kj <- Q_kj * max(0, sum_i R_ij P_ik) / (sum_i R_hat_ij P_ik + beta/2 m_j Q_kj + 1e-12)

A product of non-negative numbers stays non-negative, so no projection is needed.
Start: P, Q ~ U[0, 1) from the seed.
"""

from __future__ import annotations

import numpy as np

from mfstudio.core.params import BETA, SEED, TOL, K, ParamSpec
from mfstudio.core.solvers.als import AlternatingSolver
from mfstudio.core.solvers.base import Factors

STEPS_NMF = ParamSpec("steps", "Steps", int, 500, 1, 1_000_000_000,
                      "How many rounds (update all users, then all items) to make at most.")


class NMFSolver(AlternatingSolver):
    name = "nmf"
    title = "Non-negative factorization"
    description = "Like gradient descent, but every factor stays zero or positive, so features add up."
    objective_name = "the notebook's e"
    params = (K, STEPS_NMF, BETA, TOL, SEED)

    def _check_init(self, init: Factors, K: int) -> Factors:
        f = super()._check_init(init, K)
        if np.any(f.P < 0) or np.any(f.Q < 0):
            from mfstudio.core.errors import DataError

            raise DataError("Starting factors for nmf must not be negative; give P and Q >= 0.")
        return f

    def run(self, n_steps: int, out: np.ndarray) -> int:
        from mfstudio.core.solvers import _kernels

        t, v, f = self.train_set, self.val_or_empty(), self.factors
        done = _kernels.nmf_run(
            t.rows, t.cols, t.vals, *self._u, *self._i, f.P, f.Q.T,
            float(self.p["beta"]), float(self.p["tol"]), int(n_steps), v.rows, v.cols, v.vals, out,
        )
        self.steps_done += done
        return done
