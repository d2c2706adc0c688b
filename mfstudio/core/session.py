"""Everything an experiment consists of, as plain data: what a session file holds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mfstudio.core.ratings import Observed, Ratings
from mfstudio.core.solvers import Factors, get_solver
from mfstudio.core.training import History, Snapshot


@dataclass
class RunResult:
    """The outcome of a training run: factors, history and how it ended."""

    solver: str
    params: dict[str, Any]
    factors: Factors
    history: History
    steps_done: int
    elapsed_s: float = 0.0
    reason: str = ""  # a StopReason value, or "" while unknown
    message: str = ""

    @classmethod
    def from_snapshot(cls, solver: str, params: Mapping[str, Any], snapshot: Snapshot,
                      history: History | np.ndarray) -> RunResult:
        """The result a run's (final) snapshot stands for: the one place a RunResult is made from a training."""
        h = history if isinstance(history, History) else History.from_array(np.asarray(history, dtype=np.float64))
        return cls(solver, dict(params), snapshot.factors, h, snapshot.step, snapshot.elapsed,
                   snapshot.reason.value if snapshot.reason else "", snapshot.message)


@dataclass
class Session:
    """Ratings, hold-out, solver choice and (optionally) results."""

    ratings: Ratings
    held_out: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))  # (row, col) cells
    solver: str = "sgd"
    params: dict[str, Any] = field(default_factory=dict)
    holdout_fraction: float = 0.0
    patience: int | None = None
    result: RunResult | None = None
    zeros_are_missing: bool = True  # the grid's rule: a typed, pasted or matrix-file 0 means "not rated"

    def __post_init__(self) -> None:
        # Saved factors of users or items the hold-out left without training ratings predict the fallback.
        r = self.result
        if r is not None and r.factors.P.shape[0] == self.ratings.n_users and r.factors.Q.shape[1] == self.ratings.n_items:
            r.factors.with_fallback(self.train_entries())

    def resolved_params(self) -> dict[str, Any]:
        return get_solver(self.solver).resolve_params(self.params)

    def train_entries(self) -> Observed:
        """The ratings the model trains on: all but the held-out cells."""
        return self.ratings.split_mask(self.held_out_mask()).train

    def held_out_mask(self) -> np.ndarray:
        """Bool per observed entry of ``ratings``: True where the cell is held out."""
        if len(self.held_out) == 0:
            return np.zeros(self.ratings.nnz, dtype=bool)
        return self.ratings.split_cells(self.held_out).held_out
