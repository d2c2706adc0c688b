"""Top-N recommendations: each user's items not rated in training, ranked by the model's score.

The order follows the model's unclipped score R_hat (clipping to the rating scale is
for display only, so predictions above the scale's top never tie). Items with fewer
training ratings than ``min_ratings`` are left out: a film two people loved scores
high on almost no evidence and would otherwise flood every list. Held-out ratings are
hidden from training, not from the user, so held-out items stay candidates. With implicit data
(counts of plays, clicks, purchases) the same rule means an item the user already has (any
training interaction) is never recommended.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mfstudio.core.ratings import Observed, Ratings, display_scale
from mfstudio.core.solvers.base import Factors

AUTO = 0  # ``min_ratings`` value meaning "choose from the data" (see auto_min_ratings)
AUTO_CAP = 10  # the most the automatic minimum asks for
SUBSET_SHARE = 0.5  # only the recommendable items are scored when they are at most this share of all
BLOCK_CELLS = 4 << 20  # predictions made at once (32 MB; smaller blocks measured slower: BLAS on few rows)


def auto_min_ratings(item_counts: np.ndarray) -> int:
    """The automatic minimum number of training ratings an item needs to be recommended.

    Ten, but never more than half the median rated item's count, so small grids (the
    notebook's 4 x 4, where items have one to three ratings) keep every item while a
    MovieLens-sized set (median 27 ratings per film in ML-100K) asks for ten.
    """
    c = np.asarray(item_counts)
    c = c[c > 0]
    if c.size == 0:
        return 1
    return int(max(1, min(AUTO_CAP, int(np.median(c)) // 2)))


def resolve_min_ratings(min_ratings: int, item_counts: np.ndarray) -> int:
    """``min_ratings`` itself, or the automatic value when it is AUTO (0)."""
    return auto_min_ratings(item_counts) if int(min_ratings) <= AUTO else int(min_ratings)


@dataclass(frozen=True)
class Recommendations:
    """Parallel arrays, one row per recommendation, ordered by user then rank (1 = best)."""

    user: np.ndarray  # user index
    rank: np.ndarray
    item: np.ndarray  # item index
    predicted: np.ndarray  # the score clipped to the rating scale (what is shown)
    score: np.ndarray  # the model's unclipped R_hat, which the order follows
    item_ratings: np.ndarray  # the item's number of training ratings
    min_ratings: int = 1  # the minimum that was applied
    fallback: np.ndarray | None = None  # True where the user had no training rating (the prediction is the fallback)

    def __len__(self) -> int:
        return int(self.user.shape[0])

    def rows(self, ratings: Ratings) -> list[tuple[str, int, str, float]]:
        """(user label, rank, item label, predicted) tuples."""
        return [
            (ratings.users[u], int(r), ratings.items[i], float(p))
            for u, r, i, p in zip(self.user, self.rank, self.item, self.predicted)
        ]


def recommend(ratings: Ratings, factors: Factors, n: int = 5, *, train: Observed | None = None,
              min_ratings: int = AUTO, block: int = 2048, solver: str | None = None) -> Recommendations:
    """The ``n`` best items of every user among those not rated in ``train``.

    ``train`` is the training part of the ratings (default: all of them); items rated
    fewer than ``min_ratings`` times in it are not recommended (AUTO: see
    :func:`auto_min_ratings`). Ties of the unclipped score go to the lower item index.
    """
    n_users, n_items = ratings.shape
    n = max(0, min(int(n), n_items))
    lo, hi = display_scale(ratings, solver)  # the scores shown clipped to the model's range
    o = ratings.observed if train is None else train
    counts = np.bincount(o.cols, minlength=n_items).astype(np.int64)
    need = resolve_min_ratings(min_ratings, counts)
    too_few = counts < need
    # when most items have too few ratings (very sparse data), only the others are scored
    allowed = np.flatnonzero(~too_few)
    if len(allowed) > SUBSET_SHARE * n_items:
        allowed = np.arange(n_items)
    model = _columns(factors, allowed)
    scored = np.zeros(n_items, dtype=bool)
    scored[allowed] = True
    column = np.cumsum(scored) - 1  # a scored item's column among them
    # users a block: at most BLOCK_CELLS predictions at once
    block = max(1, min(int(block), BLOCK_CELLS // max(len(allowed), 1)))
    rated_rows, rated_cols = np.asarray(o.rows, dtype=np.int64), np.asarray(o.cols, dtype=np.int64)
    if np.any(rated_rows[1:] < rated_rows[:-1]):
        by_user = np.argsort(rated_rows, kind="stable")
        rated_rows, rated_cols = rated_rows[by_user], rated_cols[by_user]
    mine = scored[rated_cols]
    rated_rows, rated_cols = rated_rows[mine], column[rated_cols[mine]]
    skip = too_few[allowed]
    out_u, out_r, out_i, out_s = [], [], [], []
    if n > 0 and len(allowed):
        for start in range(0, n_users, block):
            stop = min(start + block, n_users)
            pred = model.predict_rows(start, stop)
            a, b = np.searchsorted(rated_rows, (start, stop))
            pred[rated_rows[a:b] - start, rated_cols[a:b]] = -np.inf  # already rated in training
            u, r, i, sc = _top(pred, min(n, len(allowed)), skip)
            out_u.append(u + start)
            out_r.append(r)
            out_i.append(allowed[i])
            out_s.append(sc)
    cat = lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt)
    item = cat(out_i, np.int64)
    score = cat(out_s, np.float64)
    user = cat(out_u, np.int64)
    cold = np.isin(user, factors.cold_users) if factors.cold_users is not None else np.zeros(len(user), bool)
    return Recommendations(user, cat(out_r, np.int64), item, np.clip(score, lo, hi), score, counts[item], need, cold)


def _columns(factors: Factors, cols: np.ndarray) -> Factors:
    """The model restricted to the items ``cols`` (increasing): the same predictions for those items (BLAS
    may round a product differently in the last bit)."""
    if len(cols) == factors.Q.shape[1]:
        return factors
    cold = factors.cold_items
    if cold is not None:
        cold = np.flatnonzero(np.isin(cols, cold))
        cold = cold if len(cold) else None
    ib = None if factors.item_bias is None else factors.item_bias[cols]
    return Factors(factors.P, np.ascontiguousarray(factors.Q[:, cols]), factors.user_bias, ib, factors.global_mean,
                   factors.cold_users, cold, factors.fallback_mean)


def _top(pred: np.ndarray, n: int, skip: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(row, rank, column, score) of each row's ``n`` highest finite scores, by row then rank, leaving out the
    columns where ``skip`` is True; ties of the score go to the lower column. One compiled pass over each row
    (_recommend_kernel.top_rows), never a sort of all the items."""
    from mfstudio.core._recommend_kernel import top_rows  # numba: imported on first use, as the solvers' kernels

    b = pred.shape[0]
    items = np.zeros((b, n), dtype=np.int64)
    scores = np.zeros((b, n))
    counts = np.zeros(b, dtype=np.int64)
    top_rows(np.ascontiguousarray(pred), n, items, scores, counts, np.ascontiguousarray(skip, dtype=bool))
    keep = np.arange(n)[None, :] < counts[:, None]
    rows = np.broadcast_to(np.arange(b, dtype=np.int64)[:, None], (b, n))[keep]
    ranks = np.broadcast_to(np.arange(1, n + 1, dtype=np.int64)[None, :], (b, n))[keep]
    return rows, ranks, items[keep], scores[keep]
