r"""One update at a time: a step of a solver taken apart into the updates it is made of.

For ``sgd`` and ``biased-sgd`` an update is one rating's, in the order the step visits them
(``sgd``: the training ratings in row-major order, as the notebook's loops; ``biased-sgd``:
the epoch's blocks in the order drawn exactly as the compiled epoch draws it, each block's ratings
in their stored order, see :mod:`mfstudio.core.solvers._sgd_blocks`). With
e_ij = R_ij - R_hat_ij computed once, then for k = 1..K

    sgd:         P_ik <- P_ik + alpha (2 e_ij Q_kj - beta P_ik)
                 Q_kj <- Q_kj + alpha (2 e_ij P_ik - beta Q_kj)     (the new P_ik, as the notebook)
    biased-sgd:  b_i <- b_i + alpha (e_ij - beta b_i),  c_j <- c_j + alpha (e_ij - beta c_j)
                 P_ik <- P_ik + alpha (e_ij Q_kj - beta P_ik)
                 Q_kj <- Q_kj + alpha (e_ij P_ik - beta Q_kj)       (the old P_ik)

in the compiled kernels' operation order (biased-sgd's P_i . Q_:j in its four lanes), so that the
updates of one step, taken one by one, give bit for bit the factors of that step taken at once.
For ``als``, ``implicit-als`` and ``nmf`` an update is a half-step: every user solved (or multiplied) with the
items fixed, then every item with the users fixed, by the kernels' own half-step functions (for ``als`` and
``implicit-als`` in the run's way: their conjugate-gradient steps, or exactly).

When the last update of a step is made, the step is scored with the kernels' own scoring
(objective, training and validation errors; biased-sgd's training errors summed per block as the
updates were made), so the history is the same as a whole step's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mfstudio.core import metrics
from mfstudio.core.solvers.base import Solver

HALVES = ("users", "items")


@dataclass(frozen=True)
class Update:
    """What one update did. ``index`` of ``total`` updates in step ``step`` (1-based)."""

    solver: str
    step: int
    index: int
    total: int
    objective_before: float
    objective_after: float
    # one rating's update (sgd, biased-sgd)
    user: int = -1
    item: int = -1
    rating: float = float("nan")
    error: float = float("nan")  # e_ij, before the update
    p_before: np.ndarray = field(default_factory=lambda: np.zeros(0))
    p_after: np.ndarray = field(default_factory=lambda: np.zeros(0))
    q_before: np.ndarray = field(default_factory=lambda: np.zeros(0))
    q_after: np.ndarray = field(default_factory=lambda: np.zeros(0))
    user_bias: tuple[float, float] | None = None  # (before, after)
    item_bias: tuple[float, float] | None = None
    mean: float = float("nan")  # the global mean μ (biased-sgd)
    alpha: float = float("nan")
    beta: float = float("nan")
    # a half-step (als, nmf): the side solved, and one row of it as an example
    side: str = ""
    row: int = -1  # the example row (a user for "users", an item for "items"); -1 when none has ratings
    rated: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # what that row's ratings are of
    gram: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # als: the ridge system's matrix ...
    rhs: np.ndarray = field(default_factory=lambda: np.zeros(0))  # ... and right-hand side (nmf: the numerator)
    # implicit-als: the example row's confidences c = 1 + confidence |r| of its cells, parallel to ``rated``
    confidences: np.ndarray = field(default_factory=lambda: np.zeros(0))
    denominator: np.ndarray = field(default_factory=lambda: np.zeros(0))  # nmf
    x_before: np.ndarray = field(default_factory=lambda: np.zeros(0))
    x_after: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cg_steps: int | None = None  # als, implicit-als: the CG steps that solved the system (None: exactly)

    @property
    def is_rating(self) -> bool:
        return self.user >= 0

    @property
    def completes_step(self) -> bool:
        return self.index == self.total - 1


class Stepper:
    """Takes a solver's next step one update at a time; ``position`` updates of the step are done."""

    def __init__(self, solver: Solver) -> None:
        self.solver = solver
        self.position = 0
        self._epoch: _Epoch | None = None  # biased-sgd: where the epoch begun one update at a time stands

    @property
    def total(self) -> int:
        """Updates in one step."""
        if self.solver.name in ("sgd", "biased-sgd"):
            return len(self.solver.train_set)
        return 2

    def objective(self) -> float:
        s = self.solver
        if s.implicit:
            return s.objective()
        return metrics.objective(s.train_set, s.factors, float(s.p["beta"]))

    def next(self, focus: int | None = None) -> Update:
        """Make the next update (``focus``: the row a half-step shows, when it has ratings)."""
        name = self.solver.name
        before = self.objective()
        if name == "sgd":
            u = self._sgd(before)
        elif name == "biased-sgd":
            u = self._biased(before)
        elif name in ("als", "nmf", "implicit-als"):
            u = self._half(before, focus)
        else:
            raise ValueError(f"The {name} solver cannot be taken one update at a time.")
        self.position += 1
        if self.position == self.total:
            self.position = 0
        return u

    # -- one rating ---------------------------------------------------------------------
    def _sgd(self, before: float) -> Update:
        s = self.solver
        t, f = s.train_set, s.factors
        n = self.position
        i, j, r = int(t.rows[n]), int(t.cols[n]), float(t.vals[n])
        alpha, beta = float(s.p["alpha"]), float(s.p["beta"])
        P, Qt = f.P, f.Q.T
        p0, q0 = P[i].copy(), Qt[j].copy()
        eij = r - _dot(P[i], Qt[j])
        for k in range(P.shape[1]):  # the kernel's _sgd_step, operation for operation
            pik = float(P[i, k])
            qjk = float(Qt[j, k])
            pik = pik + alpha * (2 * eij * qjk - beta * pik)
            qjk = qjk + alpha * (2 * eij * pik - beta * qjk)
            P[i, k] = pik
            Qt[j, k] = qjk
        return Update("sgd", s.steps_done + 1, n, self.total, before, self.objective(), user=i, item=j, rating=r,
                      error=eij, p_before=p0, p_after=P[i].copy(), q_before=q0, q_after=Qt[j].copy(),
                      alpha=alpha, beta=beta)

    def _biased(self, before: float) -> Update:
        s = self.solver
        if self.position == 0 or self._epoch is None:  # the epoch's blocks, drawn from the state as the kernel does
            self._epoch = _Epoch(s)
        ep = self._epoch
        b, n = ep.next_rating(self.position)
        g, f = s.grid, s.factors
        u, i, r = int(g.users[n]), int(g.items[n]), float(g.vals[n])
        alpha, beta = float(s.p["alpha"]), float(s.p["beta"])
        P, Qt, ub, ib, mu = f.P, f.Q.T, f.user_bias, f.item_bias, float(f.global_mean)
        p0, q0, b0, c0 = P[u].copy(), Qt[i].copy(), float(ub[u]), float(ib[i])
        err = r - (mu + float(ub[u]) + float(ib[i]) + dot_lanes(P[u], Qt[i]))
        ep.part[b, 0] += err * err  # the block's sums, as the kernel adds them
        ep.part[b, 1] += abs(err)
        ub[u] = float(ub[u]) + alpha * (err - beta * float(ub[u]))
        ib[i] = float(ib[i]) + alpha * (err - beta * float(ib[i]))
        for k in range(P.shape[1]):
            puk = float(P[u, k])
            qik = float(Qt[i, k])
            P[u, k] = puk + alpha * (err * qik - beta * puk)
            Qt[i, k] = qik + alpha * (err * puk - beta * qik)
        return Update("biased-sgd", s.steps_done + 1, self.position, self.total, before, self.objective(), user=u,
                      item=i, rating=r, error=err, p_before=p0, p_after=P[u].copy(), q_before=q0,
                      q_after=Qt[i].copy(), user_bias=(b0, float(ub[u])), item_bias=(c0, float(ib[i])),
                      mean=mu, alpha=alpha, beta=beta)

    # -- half-steps -----------------------------------------------------------------------
    def _half(self, before: float, focus: int | None) -> Update:
        from mfstudio.core.solvers import _kernels

        s = self.solver
        f = s.factors
        side = HALVES[self.position]
        indptr, other, vals = s._u if side == "users" else s._i
        X, Y = (f.P, f.Q.T) if side == "users" else (f.Q.T, f.P)
        counts = np.diff(indptr)
        row = focus if focus is not None and 0 <= focus < len(counts) and counts[focus] > 0 else \
            (int(np.argmax(counts > 0)) if np.any(counts > 0) else -1)
        x0 = X[row].copy() if row >= 0 else np.zeros(0)
        half_beta = float(s.p["beta"]) / 2
        K = X.shape[1]
        rated = other[indptr[row]:indptr[row + 1]].copy() if row >= 0 else np.zeros(0, np.int64)
        r = vals[indptr[row]:indptr[row + 1]] if row >= 0 else np.zeros(0)
        gram, rhs, den, conf = np.zeros((0, 0)), np.zeros(0), np.zeros(0), np.zeros(0)
        cg_steps = None
        if s.name == "implicit-als":
            if row >= 0:  # every item's term through Y^T Y, the row's cells' corrections (shown; the kernel solves)
                gram, rhs = s.row_system(side, row)
                conf = 1.0 + s.half_system(side)[3][0][indptr[row]:indptr[row + 1]]
            cg_steps = s.cg_steps or None
            s.solve_half(side)
        elif s.name == "als":
            if row >= 0:  # the system the kernel solves for this row (shown; the kernel solves its own)
                Yi = Y[rated]
                gram = Yi.T @ Yi + half_beta * len(rated) * np.eye(K)
                rhs = Yi.T @ r
            cg_steps = s.cg_steps or None
            s.solve_half(side)  # the kernel's own half-step, as a whole step makes it
        else:
            if row >= 0:
                Yi = Y[rated]
                rhs = np.maximum(Yi.T @ r, 0.0)
                den = Yi.T @ (Yi @ x0) + half_beta * len(rated) * x0 + 1e-12
            _kernels._nmf_half(indptr, other, vals, X, Y, half_beta, np.empty(K), np.empty(K))
        x1 = X[row].copy() if row >= 0 else np.zeros(0)
        return Update(s.name, s.steps_done + 1, self.position, 2, before, self.objective(), beta=float(s.p["beta"]),
                      side=side, row=row, rated=rated, gram=gram, rhs=rhs, denominator=den, x_before=x0, x_after=x1,
                      cg_steps=cg_steps, confidences=conf)

    def rewind(self, position: int) -> None:
        """Back to ``position`` updates into the step (the factors were put back to what they were then)."""
        if self._epoch is not None and position:
            self._epoch.restore(position)  # biased-sgd: only back to before the last update
        self.position = position  # at 0 biased-sgd's blocks are drawn again from the state, which was put back too

    def finish(self) -> None:
        """Make the rest of a step begun one update at a time, at the kernels' speed (nothing is recorded)."""
        from mfstudio.core.solvers import _kernels

        if self.position == 0:
            return
        s = self.solver
        f = s.factors
        alpha = float(s.p.get("alpha", 0.0))
        beta = float(s.p["beta"])
        if s.name == "sgd":
            t, n = s.train_set, self.position
            _kernels._sgd_step(t.rows[n:], t.cols[n:], t.vals[n:], f.P, f.Q.T, alpha, beta)
        elif s.name == "biased-sgd":
            assert self._epoch is not None
            self._epoch.finish(alpha, beta)
        else:
            while self.position:
                self._half(0.0, None)
                self.position = (self.position + 1) % 2
            return
        self.position = 0

    # -- the end of a step ------------------------------------------------------------------
    def score(self, out: np.ndarray) -> float:
        """Write the finished step's row (objective, train SSE, SAE, validation SSE, SAE) to ``out[0]`` as the
        kernel does after a step; returns the objective."""
        from mfstudio.core.solvers import _kernels

        s = self.solver
        if s.name in ("als", "implicit-als"):
            return s.score(out)
        t, v, f = s.train_set, s.val_or_empty(), s.factors
        P, Qt = f.P, f.Q.T
        beta = float(s.p["beta"])
        if s.name == "sgd":
            cu, ci = _kernels._counts(t.rows, t.cols, P.shape[0], Qt.shape[0])
            e = _kernels._objective_e(t.rows, t.cols, t.vals, P, Qt, beta / 2, cu, ci, out, 0)
            if len(v):
                out[0, 3], out[0, 4] = _kernels._errors(v.rows, v.cols, v.vals, P, Qt, P[0], P[0], 0.0, False)
            else:
                out[0, 3] = out[0, 4] = np.nan
            return float(e)
        if s.name == "biased-sgd":
            assert self._epoch is not None, "score a biased-sgd step made one update at a time"
            return s.score(*self._epoch.sums(), out)
        cu, ci = _kernels._counts(t.rows, t.cols, P.shape[0], Qt.shape[0])
        nob = np.zeros(0)
        return float(_kernels._objective_counts(t.rows, t.cols, t.vals, P, Qt, nob, nob, 0.0, False, beta / 2, cu,
                                                ci, v.rows, v.cols, v.vals, out, 0))


def _dot(p: np.ndarray, q: np.ndarray) -> float:
    """p . q summed in order k = 1..K (the kernels' _dot)."""
    s = 0.0
    for a, b in zip(p.tolist(), q.tolist()):
        s += a * b
    return s


def dot_lanes(p: np.ndarray, q: np.ndarray) -> float:
    """p . q in the kernels' four lanes (_lanes, as biased-sgd, als and implicit-als sum a dot): lane l sums
    k = l, l+4, ..., then (l0 + l1) + (l2 + l3), then the last K mod 4 terms."""
    a, b = p.tolist(), q.tolist()
    K = len(a)
    lanes = [0.0, 0.0, 0.0, 0.0]
    top = K - K % 4
    for k in range(top):
        lanes[k % 4] += a[k] * b[k]
    s = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
    for k in range(top, K):
        s += a[k] * b[k]
    return s


class _Epoch:
    """A biased-sgd epoch taken one rating at a time: its blocks in visiting order, the next rating and
    each block's (SSE, SAE) so far."""

    def __init__(self, solver: Solver) -> None:
        from mfstudio.core.solvers import _sgd_blocks

        self.solver = solver
        g = solver.grid
        self.seq = _sgd_blocks.epoch_blocks(g.side, solver._state)
        self.part = np.zeros((g.side * g.side, 2))
        self.pos = 0  # index into seq of the block in progress
        self.t = int(g.ptr[self.seq[0]])  # the next rating (index into the grid's arrays)
        self._undo: tuple[int, int, int, int, np.ndarray] | None = None

    def next_rating(self, position: int) -> tuple[int, int]:
        """(block, rating) of the update at ``position``, moving past it; where the epoch stood before is kept
        for :meth:`restore`."""
        ptr = self.solver.grid.ptr
        while self.t >= ptr[self.seq[self.pos] + 1]:  # past the end of this block (or an empty one)
            self.pos += 1
            self.t = int(ptr[self.seq[self.pos]])
        b, n = int(self.seq[self.pos]), self.t
        self._undo = (position, self.pos, self.t, b, self.part[b].copy())
        self.t += 1
        return b, n

    def restore(self, position: int) -> None:
        """Back to before the last update (made at ``position``)."""
        if self._undo is None or self._undo[0] != position:
            raise ValueError("A biased-sgd step can only be rewound by its last update.")
        _, self.pos, self.t, b, row = self._undo
        self.part[b] = row

    def finish(self, alpha: float, beta: float) -> None:
        """The rest of the epoch at the kernels' speed, the blocks' sums carried on."""
        from mfstudio.core.solvers import _sgd_blocks

        g, f = self.solver.grid, self.solver.factors
        for pos in range(self.pos, len(self.seq)):
            b = int(self.seq[pos])
            lo = self.t if pos == self.pos else int(g.ptr[b])
            sse, sae = _sgd_blocks.run_block(g.users, g.items, g.vals, lo, int(g.ptr[b + 1]), f.P, f.Q.T,
                                             f.user_bias, f.item_bias, float(f.global_mean), alpha, beta,
                                             float(self.part[b, 0]), float(self.part[b, 1]))
            self.part[b, 0] = sse
            self.part[b, 1] = sae
        self.pos = len(self.seq) - 1
        self.t = int(g.ptr[self.seq[-1] + 1])

    def sums(self) -> tuple[float, float]:
        """The epoch's training (SSE, SAE): the blocks' sums in block number order, as the kernel adds them."""
        from mfstudio.core.solvers import _sgd_blocks

        return _sgd_blocks.sum_parts(self.part)
