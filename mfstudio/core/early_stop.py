"""Early stopping's rule, step by step within a chunk of steps (so that chunk sizes never change where a run stops).

A step *improves* when its validation RMSE is below every one before it (strictly: of equal ones the first is
best). The run stops at the first step that is ``patience`` steps past the last improving one. For counts of events
the number watched is minus the ranking metric (core.ranking.judged_by: higher precision@k is better), known only at
the steps it was evaluated: a NaN step is not measured, so it never improves (but counts towards the patience).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Watch:
    """Early stopping's verdict after a chunk: the best so far and, when the patience ran out, the step it did."""

    best_val: float
    best_step: int
    stop_step: int | None = None  # the step the run stops at (None: it goes on)


def watch(val_rmse: np.ndarray, start_step: int, best_val: float, best_step: int, patience: int) -> Watch:
    """Apply the rule to the chunk of steps ``start_step + 1 ...`` with validation RMSEs ``val_rmse``, given the
    best before the chunk; steps after ``stop_step`` do not count (the run stopped before them)."""
    v = np.asarray(val_rmse, dtype=np.float64)
    if v.size == 0:
        return Watch(best_val, best_step)
    steps = start_step + 1 + np.arange(v.size)
    before = np.fmin.accumulate(np.concatenate([[best_val], v[:-1]]))  # the best of all steps before each (NaN: none)
    better = v < before
    best_at = np.maximum.accumulate(np.where(better, steps, best_step))  # the last improving step up to each
    due = np.flatnonzero(steps - best_at >= patience)
    end = int(due[0]) if due.size else v.size - 1
    best = int(best_at[end])
    best_value = float(v[best - start_step - 1]) if best > start_step else best_val
    return Watch(best_value, best, int(steps[end]) if due.size else None)
