r"""``als`` — alternating least squares on the notebook's objective.

Model: R_hat = P Q. ALS minimises the same e as ``sgd``, so the two curves compare:

    e = sum_(i,j) observed [ (R_ij - P_i . Q_:j)^2 + sum_k beta/2 (P_ik^2 + Q_kj^2) ]

Because e charges beta/2 per observed entry, user i's ridge weight is
lambda_i = (beta/2) n_i, n_i being that user's number of ratings (the weighted-lambda
form of Spark's ALS); likewise lambda_j = (beta/2) m_j for item j. One step:

    P_i  <- (sum_(j in R_i) Q_:j Q_:j^T + lambda_i I)^-1  sum_(j in R_i) R_ij Q_:j     for every user i
    Q_:j <- (sum_(i in R_j) P_i^T P_i  + lambda_j I)^-1  sum_(i in R_j) R_ij P_i^T    for every item j

each a ridge solve on observed entries only (lambda gets 1e-12 more when beta = 0, to keep the
system invertible). ``cg_steps`` says how: a number makes that many conjugate-gradient steps on
each row's system A x = b, starting from the row's current factors (warm-started, Takács et al.
2011, as the implicit library does; A is never formed, only A p = sum y (y . p) + lambda p);
``exact`` solves it in full by Cholesky, as does a number >= K (CG would reach that solution in K
steps, up to rounding; Cholesky is then also the cheaper). Either way each row's part of e never rises (a CG step
minimises it along its direction), so e never rises; CG reaches the exact solve's fixed point
with fewer operations per step (about 2 (cg_steps + 1) K per rating against K^2 / 2 per rating
plus K^3 / 6 per row). A user or item with no rating gets a zero factor. Start: Q ~ U[0, 1) from
the seed (P is drawn too, for the same shapes as ``sgd``; the first half-step solves it from Q).

Users (then items) are solved in parallel on numba's threads, or each run on the calling thread when that
was faster lately (a busy machine: ``ThreadChoice``); each row's arithmetic is the same whichever thread
does it, so results are bit-identical whatever the number of threads.
"""

from __future__ import annotations

import threading

import numpy as np

from mfstudio.core.params import BETA, SEED, TOL, K, ParamSpec
from mfstudio.core.ratings import Observed
from mfstudio.core.solvers.base import Factors, Solver
from mfstudio.core.solvers.thread_choice import ThreadChoice

STEPS_ALS = ParamSpec("steps", "Steps", int, 50, 1, 1_000_000_000,
                      "How many rounds (solve all users, then all items) to make at most.")
CG_STEPS = ParamSpec("cg_steps", "CG steps", int, 3, 1, 1000,
                     "How each user's and item's least-squares problem is solved in a step: this many "
                     "conjugate-gradient steps from its current factors (fast), or exact (Cholesky, also used "
                     "when this is at least K; slower for large K, the same end point).", off="exact")

BLOCKS = 64  # rows are solved in about this many blocks of equal rating counts, shared out among the threads
BLOCK_RATINGS = 4096  # ... each holding at least about this many ratings
_launch = threading.Lock()  # numba's workqueue threading layer must not be entered by two threads at once


def by_row(o: Observed, n_rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR view of observed entries grouped by row: (indptr, columns, values)."""
    order = np.argsort(o.rows, kind="stable")
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(o.rows, minlength=n_rows), out=indptr[1:])
    return indptr, np.ascontiguousarray(o.cols[order]), np.ascontiguousarray(o.vals[order])


def row_blocks(indptr: np.ndarray, n_blocks: int = BLOCKS) -> np.ndarray:
    """Bounds of consecutive blocks of rows holding about equal numbers of ratings: at most ``n_blocks``,
    and one for fewer than 2 x BLOCK_RATINGS ratings (small data is solved on the calling thread).

    They depend on the data alone, never on the number of threads; which block a row falls in changes
    nothing in its arithmetic.
    """
    nnz = int(indptr[-1])
    n_rows = len(indptr) - 1
    n_blocks = max(1, min(n_blocks, nnz // BLOCK_RATINGS))
    cuts = np.searchsorted(indptr, np.linspace(0, nnz, n_blocks + 1)[1:-1], side="left")
    return np.unique(np.concatenate([[0], cuts, [n_rows]])).astype(np.int64)


def blocks_for(blocks: np.ndarray, threads: bool) -> np.ndarray:
    """The blocks a half-step is shared out in: ``blocks`` on threads, else one block of all the rows (solved on
    the calling thread; a row's arithmetic is the same in any block)."""
    return blocks if threads or len(blocks) <= 2 else np.array([blocks[0], blocks[-1]], dtype=np.int64)


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
    description = "Solve all users with items fixed, then all items (conjugate gradient or exact); few, big steps."
    objective_name = "the notebook's e"
    params = (K, STEPS_ALS, BETA, CG_STEPS, TOL, SEED)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._u_blocks = row_blocks(self._u[0])
        self._i_blocks = row_blocks(self._i[0])
        self.threads = ThreadChoice()  # each run on numba's threads or on this one, whichever was faster lately

    @property
    def cg_steps(self) -> int:
        """Conjugate-gradient steps per row and half-step; 0 for the exact (Cholesky) solve, which is also
        used when cg_steps >= K (CG reaches the exact solution in K steps, up to rounding)."""
        steps = self.p["cg_steps"]
        return 0 if steps is None or int(steps) >= int(self.p["K"]) else int(steps)

    def run(self, n_steps: int, out: np.ndarray) -> int:
        from mfstudio.core.solvers import _als_kernels

        t, v, f = self.train_set, self.val_or_empty(), self.factors
        threads = self.threads.choose()
        ub, ib = blocks_for(self._u_blocks, threads), blocks_for(self._i_blocks, threads)

        def go() -> int:
            return _als_kernels.als_run(
                t.rows, t.cols, t.vals, *self._u, ub, *self._i, ib, f.P, f.Q.T,
                float(self.p["beta"]), self.cg_steps, float(self.p["tol"]), int(n_steps),
                v.rows, v.cols, v.vals, out,
            )

        with _launch:
            done = self.threads.timed(threads, go) if len(self._u_blocks) > 2 or len(self._i_blocks) > 2 else go()
        self.steps_done += done
        return done

    def solve_half(self, side: str) -> None:
        """One half-step, as :meth:`run` makes it: every user (``side`` "users") or every item solved."""
        from mfstudio.core.solvers import _als_kernels

        f = self.factors
        (indptr, other, vals), blocks, X, Y = ((self._u, self._u_blocks, f.P, f.Q.T) if side == "users"
                                               else (self._i, self._i_blocks, f.Q.T, f.P))
        with _launch:
            _als_kernels.als_half(indptr, other, vals, X, Y, float(self.p["beta"]) / 2, self.cg_steps, blocks,
                                  np.empty((0, 2)))

    def score(self, out: np.ndarray) -> float:
        """Write a finished step's row (objective, train SSE, SAE, validation SSE, SAE) to ``out[0]`` as
        :meth:`run` does after each step (the same sums, item by item); returns the objective."""
        from mfstudio.core.solvers import _als_kernels

        v, f = self.val_or_empty(), self.factors
        err = np.empty((self.shape[1], 2))
        with _launch:
            _als_kernels.als_half(*self._i, f.Q.T, f.P, 0.0, -1, self._i_blocks, err)  # scores, solves nothing
            sse, sae = _als_kernels.sum_rows(err)
            return float(_als_kernels.score(sse, sae, f.P, f.Q.T, float(self.p["beta"]) / 2, np.diff(self._u[0]),
                                            np.diff(self._i[0]), v.rows, v.cols, v.vals, out, 0))
