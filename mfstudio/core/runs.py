"""A record of one training run, as the runs table lists it and a session file keeps it (no Qt).

A :class:`RunRecord` holds what a run was (solver, its parameters, the run's hold-out share,
patience and top-N) and how it went (steps done, seconds, why it stopped, the final errors and
any ranking metrics, the best validation step and the history of every step kept). It holds no
factors: a session keeps those of its latest result only. A record is made from a finished run
in one place, :meth:`RunRecord.from_result`, from the :class:`~mfstudio.core.session.RunResult`
that the run's final snapshot made.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from mfstudio.core.params import TOP_N
from mfstudio.core.ranking import judged_by_columns
from mfstudio.core.training import HISTORY_COLUMNS, StopReason

if TYPE_CHECKING:
    from mfstudio.core.session import RunResult
    from mfstudio.core.training import Snapshot

ERROR_METRICS = ("train_rmse", "val_rmse", "train_mae", "val_mae")  # every run has these (NaN without a hold-out)
_STEP = HISTORY_COLUMNS.index("step")
_VAL_RMSE = HISTORY_COLUMNS.index("val_rmse")
OWN = ("name", "visible")  # what the user gives a record; the rest is the run's outcome
NAME_MAX_CHARS = 200  # a run's name, as the user types it


def empty_history() -> np.ndarray:
    return np.zeros((0, len(HISTORY_COLUMNS)))


def _rows(history: Any) -> np.ndarray:
    """A history as rows: HISTORY_COLUMNS first, then any ranking columns (a flat array is of the first alone)."""
    h = np.asarray(history, dtype=np.float64)
    return h if h.ndim == 2 else h.reshape(-1, len(HISTORY_COLUMNS))


@dataclass(eq=False)  # a record is one run: two runs with equal numbers are still two
class RunRecord:
    """One run of the session: its settings, outcome and history; ``name`` "" is named by its label."""

    solver: str
    params: dict[str, Any]
    holdout: float = 0.0  # the share of the ratings the run held out
    patience: int | None = None  # early stopping: None is off
    top_n: int = int(TOP_N.default)
    steps_done: int = 0
    seconds: float = 0.0
    reason: str = ""  # a StopReason value; "" while the run goes
    metrics: dict[str, float] = field(default_factory=dict)  # ERROR_METRICS, then ranking metrics
    best_step: int | None = None  # the step of the lowest validation RMSE (None without a hold-out)
    history: np.ndarray = field(default_factory=empty_history)  # rows of HISTORY_COLUMNS
    name: str = ""
    visible: bool = True

    @classmethod
    def from_result(cls, result: RunResult, snapshot: Snapshot | None = None, *, holdout: float = 0.0,
                    patience: int | None = None, top_n: int = int(TOP_N.default)) -> RunRecord:
        """The record of the run that ended with ``result``: the one place a finished run becomes a record.

        The final errors are the final ``snapshot``'s when given (a run that just ended), else the
        history's row of the factors kept (results read back: the last step's, or the best step's after an
        early stop). Ranking metrics are taken from whichever of the two
        carries a ``ranking`` mapping.
        """
        history = _rows(result.history.arrays())
        if snapshot is not None:
            metrics = {k: float(getattr(snapshot, k)) for k in ERROR_METRICS}
        elif len(history) and (kept := result.kept_row()):
            metrics = {k: float(kept[k]) for k in ERROR_METRICS}
        else:
            metrics = {k: math.nan for k in ERROR_METRICS}
        ranking = getattr(snapshot, "ranking", None) or getattr(result, "ranking", None) or {}
        metrics.update({str(k): float(v) for k, v in dict(ranking).items()})
        reason = str(getattr(result.reason, "value", result.reason) or "")
        best = result_best_step(result)
        return cls(result.solver, dict(result.params), float(holdout), patience, int(top_n), int(result.steps_done),
                   float(result.elapsed_s), reason, metrics, best, history)

    @property
    def finished(self) -> bool:
        """True once the run has ended (a record of a going run has no reason yet)."""
        return bool(self.reason)

    @property
    def early_stopped(self) -> bool:
        return self.reason == StopReason.EARLY_STOP.value

    def label_params(self) -> dict[str, Any]:
        """The parameters a run label names: the solver's and the hold-out share."""
        return {**self.params, "holdout": self.holdout}

    def take_outcome(self, other: RunRecord) -> None:
        """Take ``other``'s settings and outcome, keeping this record's name and visibility."""
        for f in fields(self):
            if f.name not in OWN:
                setattr(self, f.name, getattr(other, f.name))

    def follow_history(self, history: np.ndarray) -> None:
        """A going run's history so far: its steps and seconds follow the last row."""
        h = _rows(history)
        self.history = h
        if len(h):
            self.steps_done = int(h[-1, _STEP])
            self.seconds = float(h[-1, HISTORY_COLUMNS.index("elapsed_s")])


def result_best_step(result: RunResult) -> int | None:
    """:func:`best_step` of a finished run's result: judged by its ranking metric for counts of events
    (ranking.judged_by_columns), else by the validation RMSE."""
    name = judged_by_columns(result.history.columns)
    return best_step(result.history.arrays(), str(getattr(result.reason, "value", result.reason) or ""),
                     int(result.steps_done), result.best_step,
                     None if name is None else result.history.column(name))


def best_step(history: np.ndarray, reason: str, steps_done: int, kept: int | None = None,
              judged: np.ndarray | None = None) -> int | None:
    """The step with the lowest validation RMSE, or with ``judged`` (the ranking metric's column that judges a run
    of counts of events, ranking.judged_by) the highest of it: ``kept``, the step an early stop kept the factors
    of, when given; else an early-stopped run's last step (results written before the history went on past the
    best step ended there); else the history's best (the first of equals); None without a validation error."""
    if kept is not None:
        return int(kept)
    h = _rows(history)
    val = h[:, _VAL_RMSE] if judged is None else -np.asarray(judged, dtype=np.float64)
    finite = np.isfinite(val)
    if not finite.any():
        return None
    if reason == StopReason.EARLY_STOP.value:
        return int(steps_done)
    k = int(np.argmin(np.where(finite, val, np.inf)))
    return int(h[k, _STEP])


def metric_keys(records: list[RunRecord]) -> list[str]:
    """The metrics the records hold: the errors, then every ranking metric in the order first met."""
    keys = list(ERROR_METRICS)
    for r in records:
        keys += [k for k in r.metrics if k not in keys]
    return keys
