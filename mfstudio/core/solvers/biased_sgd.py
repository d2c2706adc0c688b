r"""``biased-sgd`` — SGD with a global mean and user and item biases (Surprise's SVD model).

Model: R_hat_ij = mu + b_i + c_j + P_i . Q_:j, where mu is the mean training rating,
b the user biases and c the item biases.

Objective, summed over observed entries (i, j):

    e = sum_(i,j) [ (R_ij - R_hat_ij)^2 + beta (b_i^2 + c_j^2 + |P_i|^2 + |Q_:j|^2) ]

One step (epoch) visits every training rating once, in a blocked order (libmf's FPSGD grid,
:mod:`mfstudio.core.solvers._sgd_blocks`): users and items fall into ``side`` groups each at
random (seeded), the ratings of each of the side x side blocks are shuffled once (seeded) and
walked user by user, two users' ratings in turn (so that consecutive updates overlap), and
each epoch visits the blocks diagonal by diagonal in an order drawn afresh from the seed. A
block's factor rows stay in the CPU cache, and the blocks of one diagonal (no user or item in
common) run on two threads at once with the same result as one after another (when that is the faster,
as timed: see ``ThreadChoice``). For each rating,
with err = R_ij - R_hat_ij (P_i . Q_:j summed in four lanes, see ``dot_lanes``):

    b_i  <- b_i  + alpha (err - beta b_i)
    c_j  <- c_j  + alpha (err - beta c_j)
    P_ik <- P_ik + alpha (err Q_kj - beta P_ik)
    Q_kj <- Q_kj + alpha (err P_ik - beta Q_kj)          (with the old P_ik)

the same rule and defaults (alpha = 0.005, beta = 0.02) as Surprise's SVD. Start: biases
0, P and Q ~ Normal(0, 0.1) from the seed.

A step's training errors (RMSE, MAE and the error term of the objective) are each rating's error
just before its own update in that epoch, summed as the epoch goes (as libmf and cornac report
theirs); the objective's regularizer and the validation errors are those of the factors at the
end of the epoch (the held-out ratings scored block by block in the same grid, on numba's threads when
there are many).
"""

from __future__ import annotations

import numpy as np

from mfstudio.core.params import BETA, SEED, K, ParamSpec
from mfstudio.core.solvers._sgd_blocks import Grid, blocked_layout, grid_side, held_out_grid, uses_threads
from mfstudio.core.solvers.als import _launch
from mfstudio.core.solvers.base import Factors, Solver
from mfstudio.core.solvers.thread_choice import ThreadChoice

STEPS_B = ParamSpec("steps", "Steps", int, 200, 1, 1_000_000_000,
                    "How many passes over all ratings (in shuffled order) to make at most.")
ALPHA_B = ParamSpec("alpha", "Learning rate (α)", float, 0.005, 0.0, 10.0,
                    "How big each correction step is. Too big and training blows up.",
                    log_scale=True, min_exclusive=True)
TOL_B = ParamSpec("tol", "Tolerance", float, 0.0, 0.0, 1e12,
                  "Stop as soon as the objective falls below this value (0: never).", log_scale=True)


class BiasedSGDSolver(Solver):
    name = "biased-sgd"
    title = "Gradient descent with biases"
    description = "Adds an overall average and a bias per user and per item (some people rate high)."
    objective_name = "e with biases"
    params = (K, STEPS_B, ALPHA_B, BETA, TOL_B, SEED)
    uses_biases = True
    errors_in_epoch = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        t = self.train_set
        n, m = self.shape
        seed = int(self.p["seed"])
        side = grid_side(n, m, len(t), int(self.p["K"]))
        self.grid: Grid = blocked_layout(t.rows, t.cols, t.vals, self.shape, side, seed)
        self.parallel = uses_threads(len(t))  # may run on threads (large enough); self.threads picks each run
        self.threads = ThreadChoice()
        self.counts = (np.bincount(t.rows, minlength=n).astype(np.int64),  # ratings per user and per item
                       np.bincount(t.cols, minlength=m).astype(np.int64))
        self._state = np.array([np.uint64(seed * 2654435761 + 1)], dtype=np.uint64)
        v = self.val_or_empty()
        self._val: Grid = held_out_grid(v.rows, v.cols, v.vals, *self.counts, side)

    def get_state(self):
        return (self.factors.copy(), self._state.copy())

    def set_state(self, state) -> None:
        super().set_state(state[0])
        self._state[...] = state[1]

    def initial_factors(self, rng: np.random.Generator, K: int) -> Factors:
        n, m = self.shape
        P = rng.normal(0.0, 0.1, (n, K))
        Q = rng.normal(0.0, 0.1, (K, m))
        return Factors(P, Q, np.zeros(n), np.zeros(m), float(np.mean(self.train_set.vals)))

    def run(self, n_steps: int, out: np.ndarray) -> int:
        from mfstudio.core.solvers import _sgd_blocks

        g, v, f = self.grid, self._val, self.factors
        threads = self.parallel and self.threads.choose()
        def go() -> int:
            return _sgd_blocks.biased_run(
                g.side, g.ptr, g.users, g.items, g.vals, f.P, f.Q.T, f.user_bias, f.item_bias,
                float(f.global_mean), float(self.p["alpha"]), float(self.p["beta"]), float(self.p["tol"]),
                int(n_steps), self._state, threads, *self.counts, v.ptr, v.users, v.items, v.vals, out,
            )

        with _launch:
            done = self.threads.timed(threads, go) if self.parallel else go()
        self.steps_done += done
        return done

    def score(self, sse: float, sae: float, out: np.ndarray) -> float:
        """Write an epoch's row to ``out[0]`` as :meth:`run` does, from its training (SSE, SAE) summed during
        the epoch; returns the objective."""
        from mfstudio.core.solvers import _sgd_blocks

        v, f = self._val, self.factors
        with _launch:
            return float(_sgd_blocks.score(sse, sae, f.P, f.Q.T, f.user_bias, f.item_bias, float(f.global_mean),
                                           float(self.p["beta"]), *self.counts, v.ptr, v.users, v.items, v.vals, out,
                                           0, self.parallel))
