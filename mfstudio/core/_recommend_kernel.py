"""The compiled loop of the recommendations (mfstudio.core.recommend): each row's top n of a block of scores
in one pass over the items, kept sorted by insertion (no sort of all the items, and nothing but the block)."""

from __future__ import annotations

import numpy as np
from numba import njit

from mfstudio.core import _cache_guard  # noqa: F401  (before anything compiles)


@njit(cache=True, nogil=True)
def top_rows(pred, n, items, scores, counts, skip):
    """For each row r of ``pred`` (rows x items): its ``n`` highest finite scores, best first, ties to the
    lower item, in ``items[r]`` and ``scores[r]`` (rows x n), and how many there are in ``counts[r]``
    (fewer than n when fewer items have a finite score: -inf marks a cell that may not be recommended, and
    ``skip[j]`` an item that may not be recommended to anyone)."""
    m = pred.shape[1]
    for r in range(pred.shape[0]):
        c = 0
        for j in range(m):  # one comparison for most items
            s = pred[r, j]
            if not (s > -np.inf and s < np.inf) or skip[j]:
                continue
            if c < n:
                p = c
                c += 1
            elif s > scores[r, n - 1]:
                p = n - 1
            else:
                continue
            while p > 0 and scores[r, p - 1] < s:
                scores[r, p] = scores[r, p - 1]
                items[r, p] = items[r, p - 1]
                p -= 1
            scores[r, p] = s
            items[r, p] = j
        counts[r] = c
