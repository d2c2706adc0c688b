"""One thread or numba's threads for a solver's next run, whichever was faster lately (biased-sgd, als,
implicit-als: their results do not depend on it)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


class ThreadChoice:
    """Whether a run's steps go on numba's threads: the faster per step of the two ways as last timed (the
    results are the same bits either way). Two threads pay when a second core is free; on a busy machine each
    parallel region (two or so an epoch) can wait a time slice for its second thread. Each way keeps the
    times of its last WINDOW runs (not the very first run on threads, which starts the thread pool); after two
    timed runs of each, the faster by median is used, the other tried again every PROBE-th run."""

    WINDOW = 5
    PROBE = 16

    def __init__(self) -> None:
        self.per_step: dict[bool, list[float]] = {True: [], False: []}
        self.runs = 0
        self.warm = False  # the first run on threads starts numba's thread pool (in a fresh process): not timed

    def choose(self) -> bool:
        """True: the next run on threads."""
        self.runs += 1
        for way in (True, False):
            if len(self.per_step[way]) < 2:
                return way
        best = min((True, False), key=lambda way: float(np.median(self.per_step[way])))
        return (not best) if self.runs % self.PROBE == 0 else best

    def record(self, threads: bool, seconds_per_step: float) -> None:
        if threads and not self.warm:
            self.warm = True
            return
        times = self.per_step[threads]
        times.append(seconds_per_step)
        del times[:-self.WINDOW]

    def timed(self, threads: bool, run: Callable[[], int]) -> int:
        """``run()`` (which returns the steps it made), its seconds per step recorded for ``threads``."""
        t0 = time.perf_counter()
        done = run()
        if done:
            self.record(threads, (time.perf_counter() - t0) / done)
        return done
