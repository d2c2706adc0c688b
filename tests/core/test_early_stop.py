"""Early stopping's rule within a chunk: the first step `patience` past the last strict improvement."""

from __future__ import annotations

import math

import numpy as np

from mfstudio.core.early_stop import watch


def sequential(values: list[float], patience: int) -> tuple[int, int | None]:
    """The rule one step at a time, as plainly as it can be said: (best step, stop step)."""
    best, best_step = math.inf, 0
    for step, v in enumerate(values, start=1):
        if v < best:
            best, best_step = v, step
        elif step - best_step >= patience:
            return best_step, step
    return best_step, None


def test_the_chunked_rule_agrees_with_the_plain_one_however_the_steps_are_cut():
    rng = np.random.default_rng(3)
    for _ in range(200):
        v = np.round(rng.random(60) + np.linspace(1, 0, 60) ** 2, 1)  # ties and plateaus on purpose
        patience = int(rng.integers(1, 8))
        want = sequential(v.tolist(), patience)
        best_val, best_step, stop, start = math.inf, 0, None, 0
        while start < len(v) and stop is None:
            n = int(rng.integers(1, 15))
            w = watch(v[start:start + n], start, best_val, best_step, patience)
            best_val, best_step, stop = w.best_val, w.best_step, w.stop_step
            start += n
        assert (best_step, stop) == want
        assert best_val == v[best_step - 1]


def test_a_chunk_that_never_improves_keeps_the_best_before_it():
    w = watch(np.array([2.0, 2.5]), 10, 1.0, 9, 5)
    assert (w.best_val, w.best_step, w.stop_step) == (1.0, 9, None)
    assert watch(np.array([2.0, 2.5, 3.0]), 10, 1.0, 9, 3).stop_step == 12


def test_a_step_not_measured_never_improves_but_counts_towards_the_patience():
    """Ranking metrics known only at some steps (NaN at the others): the rule reads past the gaps."""
    nan = math.nan
    w = watch(np.array([nan, nan, -0.3]), 0, math.inf, 0, 5)
    assert (w.best_step, w.best_val, w.stop_step) == (3, -0.3, None)
    w = watch(np.array([nan, -0.2, nan, nan]), 3, -0.3, 3, 4)
    assert (w.best_step, w.stop_step) == (3, 7)
