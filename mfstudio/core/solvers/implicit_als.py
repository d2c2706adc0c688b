r"""``implicit-als`` — alternating least squares for implicit feedback (Hu, Koren & Volinsky 2008).

The data are counts of events (plays, clicks, purchases), not ratings, and EVERY user x item cell
counts, the empty ones too. Each cell has a preference and a confidence:

    p_ui = 1 if r_ui > 0 else 0          c_ui = 1 + confidence |r_ui|      (1 on an empty cell)

and the model R_hat = P Q (x_ui = P_u . Q_:i, no biases) minimises

    F = sum over all (u, i) of c_ui (p_ui - x_ui)^2  +  lambda (sum_u |P_u|^2 + sum_i |Q_:i|^2),   lambda = beta

(``confidence`` is Hu et al.'s alpha; MF Studio's alpha is the learning rate of the gradient solvers.
A negative value, a dislike, has preference 0 and confidence 1 + confidence |r|, as Spark and implicit
treat it.) With the items fixed, user u's row is a weighted ridge regression over all items:

    (Y^T C_u Y + lambda I) x_u = Y^T C_u p_u,   Y = Q^T (items x K)

and the YtY trick (Hu et al., section 4) keeps it to the user's observed cells n_u: since c = 1 on
every empty cell, Y^T C_u Y = Y^T Y + sum_(i observed) (c_ui - 1) y_i y_i^T and Y^T C_u p_u =
sum_(i observed) c_ui p_ui y_i. The Gram matrix Y^T Y is computed once per half-step (items K^2), so a
row costs O(n_u K^2) exactly or O(cg_steps (K^2 + n_u K)) by CG, never users x items. Items likewise
with X = P. One step solves every user, then every item.

``cg_steps`` says how each row is solved: a number makes that many conjugate-gradient steps on A x = b
warm-started from the row's current factors (Takács, Pilászy & Tikk 2011, in implicit's form: A is
never formed, A p = (Y^T Y + lambda I) p + sum (c - 1) (y . p) y); ``exact`` builds A and solves it by
Cholesky, as does a number >= K (CG reaches that solution in K steps, up to rounding). Each row's part
of F never rises either way, so F never rises. A row without observed cells is 0 (its exact solution).
The objective is computed without users x items too: sum over all cells of x^2 = <P^T P, Q Q^T>
(the Gram matrices' entrywise product), plus each observed cell's c (p - x)^2 - x^2, plus lambda times
the traces. Start: P, Q ~ U[0, 0.1) from the seed (small, as implicit's 0.01 U[0, 1), so that the first
half-step starts near the solution; P is drawn too, the first half-step solves it from Q).

The step's training and validation errors (``run``'s rows) are those of the preferences, d = p - x, on
the observed training cells and on the held-out ones (every held-out interaction has p = 1).

Other libraries' conventions, and how to convert (our confidence a, beta b; counts r >= 0):

* implicit (``implicit.cpu.als.AlternatingLeastSquares``; implicit/cpu/_als.pyx, als.py): the values of
  the user x item matrix it is given, times its ``alpha``, are used DIRECTLY as c_ui on the observed
  cells (its CG adds (c - 1) y y^T and c y), 1 elsewhere, preference 1 on observed cells; its
  ``regularization`` is lambda, unscaled, on the same |P|^2 + |Q|^2. So give it the matrix with values
  1 + a r, alpha = 1 and regularization = b (or values r + 1/a with alpha = a). Its default dtype is
  float32; its start is 0.01 U[0, 1).
* Spark (``ALS(implicitPrefs=True)``): c = 1 + alpha |r| and p = [r > 0], so alpha = a; but its
  ``regParam`` is scaled by each row's count (lambda_u = regParam n_u, the weighted-lambda form), which
  no single b reproduces: regParam = b / n_u for a row with n_u cells, and regParam ~ b / (mean count
  of cells per row) on average.

Rows (users, then items) are solved in parallel on numba's threads over blocks of rows cut by the data
alone, and every sum is taken in an order fixed at compile time (a row's dots in SIMD lanes with fused
multiply-adds), so results are bit-identical from run to run and whatever the number of threads.
Compiled loops: _implicit_kernels.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mfstudio.core.params import BETA, CONFIDENCE, SEED, TOL, K, ParamSpec
from mfstudio.core.ratings import Observed
from mfstudio.core.solvers.als import CG_STEPS, AlternatingSolver, _launch, blocks_for, row_blocks
from mfstudio.core.solvers.base import Factors
from mfstudio.core.solvers.thread_choice import ThreadChoice

# λ = 5 by default, not the notebook's 0.02: with confidences up to 1 + confidence·count (126 on the listening log)
# a tiny λ leaves users' and items' factors at scales 50x apart (items crowd the latent map's origin); λ = 5
# brings them within 1.1x, and held-out precision@10 is as good or better (listening log, K = 2 and 4, 15 steps:
# 0.182 and 0.193 against 0.184 and 0.184 with λ = 0.02)
BETA_IALS = dataclasses.replace(BETA, default=5.0)
STEPS_IALS = ParamSpec("steps", "Steps", int, 15, 1, 1_000_000_000,
                       "How many rounds (solve all users, then all items, every cell counting) to make at most.")
START_SCALE = 0.1  # the random start is U[0, START_SCALE)


def weights(vals: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """(c - 1, c p) of each observed cell: confidence |r| and (1 + confidence |r|) [r > 0]."""
    w = confidence * np.abs(np.asarray(vals, dtype=np.float64))
    return w, np.where(vals > 0, 1.0 + w, 0.0)


def preferences(vals: np.ndarray) -> np.ndarray:
    """p = 1 where r > 0, else 0."""
    return (np.asarray(vals) > 0).astype(np.float64)


class ImplicitALSSolver(AlternatingSolver):
    name = "implicit-als"
    title = "Implicit ALS (clicks and plays)"
    description = "For plays and clicks: every cell counts, a played one with more confidence; few, big steps."
    objective_name = "Hu et al.'s weighted F"
    objective_symbol = "F"
    params = (K, STEPS_IALS, BETA_IALS, CONFIDENCE, CG_STEPS, TOL, SEED)
    implicit = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        a = float(self.p["confidence"])
        self._u_w = weights(self._u[2], a)
        self._i_w = weights(self._i[2], a)
        self._u_blocks = row_blocks(self._u[0])
        self._i_blocks = row_blocks(self._i[0])
        self.threads = ThreadChoice()  # each run on numba's threads or on this one, whichever was faster lately
        v = self.val_or_empty()
        self._vpref = preferences(v.vals)
        self.factors.fallback_mean = 0.0  # no interaction known: preference 0 (a cold row's factors are 0)

    def _set_aside_cold_validation(self) -> tuple[float, float]:
        """Nothing to set aside: a user or item without training cells has zero factors after a step, so the
        kernels score its held-out cells as x = 0, the fallback (preference 0)."""
        return (0.0, 0.0)

    def initial_factors(self, rng: np.random.Generator, K: int) -> Factors:
        n, m = self.shape
        return Factors(rng.random((n, K)) * START_SCALE, rng.random((K, m)) * START_SCALE)

    @property
    def cg_steps(self) -> int:
        """Conjugate-gradient steps per row and half-step; 0 for the exact (Cholesky) solve, which is also
        used when cg_steps >= K."""
        steps = self.p["cg_steps"]
        return 0 if steps is None or int(steps) >= int(self.p["K"]) else int(steps)

    @property
    def lam(self) -> float:
        return float(self.p["beta"])

    def run(self, n_steps: int, out: np.ndarray) -> int:
        from mfstudio.core.solvers import _implicit_kernels

        v, f = self.val_or_empty(), self.factors
        threads = self.threads.choose()
        ub, ib = blocks_for(self._u_blocks, threads), blocks_for(self._i_blocks, threads)

        def go() -> int:
            return _implicit_kernels.implicit_run(
                self._u[0], self._u[1], *self._u_w, ub, self._i[0], self._i[1], *self._i_w,
                ib, f.P, f.Q.T, self.lam, self.cg_steps, float(self.p["tol"]), int(n_steps),
                v.rows, v.cols, self._vpref, out,
            )

        with _launch:
            done = self.threads.timed(threads, go) if len(self._u_blocks) > 2 or len(self._i_blocks) > 2 else go()
        self.steps_done += done
        return done

    def half_system(self, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
        """(indptr, other, Y, (c - 1, c p)) of a half-step: ``side`` "users" solves P against Y = Q^T."""
        f = self.factors
        if side == "users":
            return self._u[0], self._u[1], f.Q.T, self._u_w
        return self._i[0], self._i[1], f.P, self._i_w

    def solve_half(self, side: str) -> None:
        """One half-step, as :meth:`run` makes it: every user (``side`` "users") or every item solved."""
        from mfstudio.core.solvers import _implicit_kernels

        f = self.factors
        indptr, other, Y, w = self.half_system(side)
        X = f.P if side == "users" else f.Q.T
        blocks = self._u_blocks if side == "users" else self._i_blocks
        with _launch:
            _implicit_kernels.implicit_half(indptr, other, *w, X, Y, _implicit_kernels.gram(Y), self.lam,
                                            self.cg_steps, blocks, np.empty((0, 3)))

    def row_system(self, side: str, row: int) -> tuple[np.ndarray, np.ndarray]:
        """(A, b) of one row's weighted ridge system, with numpy: A = Y^T Y + sum (c - 1) y y^T + lambda I,
        b = sum c p y over the row's observed cells (what a half-step solves for that row)."""
        indptr, other, Y, (w, cp) = self.half_system(side)
        sl = slice(indptr[row], indptr[row + 1])
        Yr = Y[other[sl]]
        A = Y.T @ Y + (Yr.T * w[sl]) @ Yr + self.lam * np.eye(Y.shape[1])
        return A, Yr.T @ cp[sl]

    def score(self, out: np.ndarray) -> float:
        """Write a finished step's row (objective, train SSE, SAE, validation SSE, SAE) to ``out[0]`` as
        :meth:`run` does after each step (the same sums, item by item); returns the objective."""
        from mfstudio.core.solvers import _implicit_kernels as ik

        v, f = self.val_or_empty(), self.factors
        err = np.empty((self.shape[1], 3))
        with _launch:
            ik.implicit_half(self._i[0], self._i[1], *self._i_w, f.Q.T, f.P, np.zeros((f.K, f.K)), 0.0, -1,
                             self._i_blocks, err)  # scores, solves nothing
            return float(ik.score(err, ik.gram(f.P), ik.gram(f.Q.T), self.lam, f.P, f.Q.T, v.rows, v.cols,
                                  self._vpref, out, 0))

    def objective(self) -> float:
        """F of the factors now (numpy, without users x items; what :meth:`score` computes)."""
        return objective_value(self.train_set, self.factors, self.lam, float(self.p["confidence"]))


def objective_value(train: Observed, f: Factors, lam: float, confidence: float) -> float:
    """Hu et al.'s F = sum_all c (p - x)^2 + lam (|P|^2 + |Q|^2) of ``f`` on ``train``, with numpy, through the
    Gram matrices: sum_all x^2 = <P^T P, Q Q^T>, plus each observed cell's c (p - x)^2 - x^2."""
    P, Q = np.asarray(f.P, dtype=np.float64), np.asarray(f.Q, dtype=np.float64)
    GP, GQ = P.T @ P, Q @ Q.T
    x = np.einsum("ij,ji->i", P[train.rows], Q[:, train.cols]) if len(train) else np.zeros(0)
    w, _ = weights(train.vals, confidence)
    d = preferences(train.vals) - x
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.sum(GP * GQ) + np.sum((1.0 + w) * d * d - x * x) + lam * (np.trace(GP) + np.trace(GQ)))
