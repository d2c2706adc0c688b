"""Error measures of a model on a set of entries, and the objectives the solvers minimise."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mfstudio.core.ratings import Observed
from mfstudio.core.solvers.base import Factors


def rmse(o: Observed, f: Factors) -> float:
    """Root mean squared error of R_hat at the entries of ``o`` (NaN when there are none)."""
    if len(o) == 0:
        return math.nan
    with np.errstate(over="ignore", invalid="ignore"):
        d = o.vals - f.predict_at(o.rows, o.cols)
        return float(np.sqrt(np.mean(d * d)))


def mae(o: Observed, f: Factors) -> float:
    """Mean absolute error of R_hat at the entries of ``o`` (NaN when there are none)."""
    if len(o) == 0:
        return math.nan
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.mean(np.abs(o.vals - f.predict_at(o.rows, o.cols))))


def objective(o: Observed, f: Factors, beta: float) -> float:
    """The objective the solver of ``f`` minimises, evaluated with numpy.

    Without biases, the notebook's e: sum of (R_ij - R_hat_ij)^2 + beta/2 sum_k (P_ik^2 + Q_kj^2).
    With biases (biased-sgd): sum of (R_ij - R_hat_ij)^2 + beta (b_i^2 + c_j^2 + |P_i|^2 + |Q_:j|^2).
    """
    if len(o) == 0:
        return 0.0
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported as inf, then as divergence
        return _objective(o, f, beta)


def solver_objective(solver: Any) -> float:
    """The objective ``solver`` (a Solver) minimises, of its factors now: an implicit-feedback solver's own
    (implicit-als's F over every cell, with confidences), else :func:`objective` of its training ratings."""
    if solver.implicit:
        return float(solver.objective())
    return objective(solver.train_set, solver.factors, float(solver.p["beta"]))


def _objective(o: Observed, f: Factors, beta: float) -> float:
    d = o.vals - f.predict_at(o.rows, o.cols)
    p2 = np.sum(f.P * f.P, axis=1)[o.rows]
    q2 = np.sum(f.Q * f.Q, axis=0)[o.cols]
    if f.user_bias is None:
        return float(np.sum(d * d) + beta / 2 * np.sum(p2 + q2))
    b2 = f.user_bias[o.rows] ** 2 + f.item_bias[o.cols] ** 2
    return float(np.sum(d * d) + beta * np.sum(b2 + p2 + q2))
