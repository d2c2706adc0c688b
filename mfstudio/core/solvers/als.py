r"""``als`` — alternating least squares on the notebook's objective.

Model: R_hat = P Q. ALS minimises the same e as ``sgd``, so the two curves compare:

    e = sum_(i,j) observed [ (R_ij - P_i . Q_:j)^2 + sum_k beta/2 (P_ik^2 + Q_kj^2) ]

Because e charges beta/2 per observed entry, user i's ridge weight is
lambda_i = (beta/2) n_i, n_i being that user's number of ratings (the weighted-lambda
form of Spark's ALS); likewise lambda_j = (beta/2) m_j for item j. One step:

    P_i  <- (sum_(j in R_i) Q_:j Q_:j^T + lambda_i I)^-1  sum_(j in R_i) R_ij Q_:j     for every user i
    Q_:j <- (sum_(i in R_j) P_i^T P_i  + lambda_j I)^-1  sum_(i in R_j) R_ij P_i^T    for every item j

each a closed-form ridge solve (Cholesky) on observed entries only, so e never rises.
A user or item with no rating gets a zero factor. Start: Q ~ U[0, 1) from the seed
(P is drawn too, for the same shapes as ``sgd``, but the first half-step overwrites it).
"""

from __future__ import annotations

import numpy as np

from mfstudio.core.params import BETA, SEED, TOL, K, ParamSpec
from mfstudio.core.ratings import Observed
from mfstudio.core.solvers.base import Factors, Solver

STEPS_ALS = ParamSpec("steps", "Steps", int, 50, 1, 1_000_000_000,
                      "How many rounds (solve all users, then all items) to make at most.")


def by_row(o: Observed, n_rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR view of observed entries grouped by row: (indptr, columns, values)."""
    order = np.argsort(o.rows, kind="stable")
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(o.rows, minlength=n_rows), out=indptr[1:])
    return indptr, np.ascontiguousarray(o.cols[order]), np.ascontiguousarray(o.vals[order])


class AlternatingSolver(Solver):
    """A solver that updates all users, then all items: keeps the ratings grouped both ways."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        n, m = self.shape
        t = self.train_set
        self._u = by_row(t, n)
        self._i = by_row(Observed(t.cols, t.rows, t.vals), m)

    def initial_factors(self, rng: np.random.Generator, K: int) -> Factors:
        n, m = self.shape
        return Factors(rng.random((n, K)), rng.random((K, m)))


class ALSSolver(AlternatingSolver):
    name = "als"
    title = "Alternating least squares"
    description = "Solve all users exactly with items fixed, then all items with users fixed; few, big steps."
    objective_name = "the notebook's e"
    params = (K, STEPS_ALS, BETA, TOL, SEED)

    def run(self, n_steps: int, out: np.ndarray) -> int:
        from mfstudio.core.solvers import _kernels

        t, v, f = self.train_set, self.val_or_empty(), self.factors
        done = _kernels.als_run(
            t.rows, t.cols, t.vals, *self._u, *self._i, f.P, f.Q.T,
            float(self.p["beta"]), float(self.p["tol"]), int(n_steps), v.rows, v.cols, v.vals, out,
        )
        self.steps_done += done
        return done
