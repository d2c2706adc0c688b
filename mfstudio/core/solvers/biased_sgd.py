r"""``biased-sgd`` — SGD with a global mean and user and item biases (Surprise's SVD model).

Model: R_hat_ij = mu + b_i + c_j + P_i . Q_:j, where mu is the mean training rating,
b the user biases and c the item biases.

Objective, summed over observed entries (i, j):

    e = sum_(i,j) [ (R_ij - R_hat_ij)^2 + beta (b_i^2 + c_j^2 + |P_i|^2 + |Q_:j|^2) ]

One step (epoch) visits the observed entries in an order shuffled from the seed
(the entries are laid out once in a seeded random order; each epoch cuts that layout
into blocks of 4,096 at a random offset and visits the blocks, and the entries within
each block, in a fresh random order; so every entry's place in the epoch is uniform
and memory is read a block at a time). For each entry, with err = R_ij - R_hat_ij:

    b_i  <- b_i  + alpha (err - beta b_i)
    c_j  <- c_j  + alpha (err - beta c_j)
    P_ik <- P_ik + alpha (err Q_kj - beta P_ik)
    Q_kj <- Q_kj + alpha (err P_ik - beta Q_kj)          (with the old P_ik)

the same rule and defaults (alpha = 0.005, beta = 0.02) as Surprise's SVD. Start: biases
0, P and Q ~ Normal(0, 0.1) from the seed.
"""

from __future__ import annotations

import numpy as np

from mfstudio.core.params import BETA, SEED, K, ParamSpec
from mfstudio.core.solvers.base import Factors, Solver

BLOCK = 4096  # entries per block of the epoch order (about 100 kB: stays in the CPU cache)

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

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        t = self.train_set
        seed = int(self.p["seed"])
        layout = np.random.default_rng([seed, 1]).permutation(len(t))
        self._su = np.ascontiguousarray(t.rows[layout])
        self._si = np.ascontiguousarray(t.cols[layout])
        self._sr = np.ascontiguousarray(t.vals[layout])
        self._state = np.array([np.uint64(seed * 2654435761 + 1)], dtype=np.uint64)

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
        from mfstudio.core.solvers import _kernels

        t, v, f = self.train_set, self.val_or_empty(), self.factors
        done = _kernels.biased_run(
            t.rows, t.cols, t.vals, self._su, self._si, self._sr, f.P, f.Q.T, f.user_bias, f.item_bias,
            float(f.global_mean), float(self.p["alpha"]), float(self.p["beta"]), float(self.p["tol"]),
            int(n_steps), BLOCK, self._state, v.rows, v.cols, v.vals, out,
        )
        self.steps_done += done
        return done
