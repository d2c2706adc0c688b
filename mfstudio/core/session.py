"""Everything an experiment consists of, as plain data: what a session file holds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mfstudio.core.history import HISTORY_COLUMNS, History
from mfstudio.core.params import HOLDOUT, TOP_N
from mfstudio.core.ratings import Observed, Ratings
from mfstudio.core.runs import RunRecord
from mfstudio.core.solvers import Factors, get_solver
from mfstudio.core.training import Snapshot

NO_INTERACTION = 0.0  # an implicit-feedback model's fallback: no interaction known, preference 0


def mark_cold(factors: Factors, train: Observed, solver: str) -> Factors:
    """``factors`` with the users and items that ``train`` never has marked cold (in place), and their fallback:
    the mean training rating for a model of ratings, :data:`NO_INTERACTION` for one of counts (implicit-als
    predicts preferences, so the mean count is no prediction of it), as the solver sets it when it trains."""
    factors.with_fallback(train)
    if get_solver(solver).implicit:
        factors.fallback_mean = NO_INTERACTION
    return factors


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
    relevant_from: float | None = None  # the threshold of the history's ranking metrics (None: none, or unknown)
    best_step: int | None = None  # after an early stop: the step whose factors these are (steps_done ran further)

    @classmethod
    def from_snapshot(cls, solver: str, params: Mapping[str, Any], snapshot: Snapshot,
                      history: History | np.ndarray, relevant_from: float | None = None) -> RunResult:
        """The result a run's (final) snapshot stands for: the one place a RunResult is made from a training.

        ``history`` as rows has the snapshot's ranking columns (if any) after HISTORY_COLUMNS;
        ``relevant_from`` is the training's ranker threshold (``Training.ranker.threshold``)."""
        if isinstance(history, History):
            h = history
        else:
            a = np.asarray(history, dtype=np.float64)
            wide = a.ndim == 2 and a.shape[1] > len(HISTORY_COLUMNS)
            h = History.from_array(a, columns=HISTORY_COLUMNS + (tuple(snapshot.ranking) if wide else ()))
        return cls(solver, dict(params), snapshot.factors, h, snapshot.step, snapshot.elapsed,
                   snapshot.reason.value if snapshot.reason else "", snapshot.message,
                   None if relevant_from is None else float(relevant_from), snapshot.best_step)

    def kept_row(self) -> dict[str, float]:
        """The history's row of the factors kept: the best step's after an early stop, else the last step's."""
        return self.history.last() if self.best_step is None else self.history.row_at(self.best_step)

    @property
    def ranking(self) -> dict[str, float]:
        """The ranking metrics of the factors kept (:meth:`kept_row`; empty when it has none: no hold-out)."""
        last = self.kept_row()
        return {name: last[name] for name in self.history.ranking_names if name in last}


@dataclass
class Session:
    """Ratings, hold-out, solver choice, run settings and (optionally) results.

    The hold-out is given two ways: ``held_out_cells``, the (row, col) cells set aside, and
    ``holdout``, the share of the ratings to set aside at random; :meth:`split_source` says which
    one training uses. ``patience`` is None when early stopping is off (see ``params.PATIENCE``).
    ``runs`` lists the session's runs, oldest first (what the runs table shows); ``result`` is the latest's.
    """

    ratings: Ratings
    held_out_cells: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))  # (k, 2) (row, col)
    solver: str = "sgd"
    params: dict[str, Any] = field(default_factory=dict)
    holdout: float = 0.0
    patience: int | None = None
    result: RunResult | None = None
    zeros_are_missing: bool = True  # the grid's rule: a typed, pasted or matrix-file 0 means "not rated"
    top_n: int = int(TOP_N.default)  # recommendations per user and the k of the ranking metrics (params.TOP_N)
    relevance: float | None = None  # the rating from which a held-out one is relevant (params.RELEVANCE; None: auto)
    runs: list[RunRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Saved factors of users or items the hold-out left without training ratings predict the fallback.
        r = self.result
        n, m = self.ratings.shape
        if r is not None and r.factors.P.shape[0] == n and r.factors.Q.shape[1] == m:
            mark_cold(r.factors, self.train_entries(), r.solver)

    def resolved_params(self) -> dict[str, Any]:
        return get_solver(self.solver).resolve_params(self.params)

    def train_entries(self) -> Observed:
        """The ratings the model trains on: all but the held-out cells."""
        return self.ratings.split_flags(self.held_out_flags()).train

    def held_out_entries(self) -> Observed:
        """The held-out ratings (the ranking metrics' relevant items come from these)."""
        return self.ratings.split_flags(self.held_out_flags()).val

    def held_out_flags(self) -> np.ndarray:
        """Bool per observed rating of ``ratings``: True where its cell is held out."""
        if len(self.held_out_cells) == 0:
            return np.zeros(self.ratings.nnz, dtype=bool)
        return self.ratings.split_cells(self.held_out_cells).held_out_flags

    def split_source(self, holdout: float | None = None) -> float | np.ndarray | None:
        """What a training run holds out, by the one rule for it:

        1. ``holdout``, a share given for this run (the ``--holdout`` flag), when not None: 0 is none;
        2. else the session's held-out cells, when it lists any;
        3. else the session's hold-out share, when it is above 0;
        4. else nothing (None).

        Cells come back as a checked (k, 2) int64 array, a share as a float; both are what
        ``Training(holdout=...)`` takes. A share out of range (ParameterError) or a cell outside
        the ratings (DataError) is refused with a sentence.
        """
        if holdout is None:
            cells = self.ratings.check_cells(self.held_out_cells)
            if len(cells):
                return cells
        value = HOLDOUT.validate(self.holdout if holdout is None else holdout)
        return value if value else None
