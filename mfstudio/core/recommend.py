"""Top-N recommendations: each user's items not rated in training, ranked by the model's score.

The order follows the model's unclipped score R_hat (clipping to the rating scale is
for display only, so predictions above the scale's top never tie). Items with fewer
training ratings than ``min_ratings`` are left out: a film two people loved scores
high on almost no evidence and would otherwise flood every list. Held-out ratings are
hidden from training, not from the user, so held-out items stay candidates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mfstudio.core.ratings import Observed, Ratings
from mfstudio.core.solvers.base import Factors

AUTO = 0  # ``min_ratings`` value meaning "choose from the data" (see auto_min_ratings)
AUTO_CAP = 10  # the most the automatic minimum asks for


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
              min_ratings: int = AUTO, block: int = 2048) -> Recommendations:
    """The ``n`` best items of every user among those not rated in ``train``.

    ``train`` is the training part of the ratings (default: all of them); items rated
    fewer than ``min_ratings`` times in it are not recommended (AUTO: see
    :func:`auto_min_ratings`). Ties of the unclipped score go to the lower item index.
    """
    n_users, n_items = ratings.shape
    n = max(0, min(int(n), n_items))
    lo, hi = ratings.scale
    o = ratings.observed if train is None else train
    counts = np.bincount(o.cols, minlength=n_items).astype(np.int64)
    need = resolve_min_ratings(min_ratings, counts)
    too_few = counts < need
    # users a block: at most about 4 M predictions at once (32 MB, and as much again for the sort)
    block = max(1, min(int(block), (4 << 20) // max(n_items, 1)))
    out_u, out_r, out_i, out_s = [], [], [], []
    if n > 0:
        for start in range(0, n_users, block):
            stop = min(start + block, n_users)
            pred = factors.predict_rows(start, stop)
            pred[:, too_few] = -np.inf
            sel = (o.rows >= start) & (o.rows < stop)
            pred[o.rows[sel] - start, o.cols[sel]] = -np.inf  # already rated in training
            # stable sort on -score keeps ties in item order
            order = np.argsort(-pred, axis=1, kind="stable")[:, :n]
            top = np.take_along_axis(pred, order, axis=1)
            for k in range(stop - start):
                keep = np.isfinite(top[k])
                m = int(np.count_nonzero(keep))
                if m == 0:
                    continue
                out_u.append(np.full(m, start + k))
                out_r.append(np.arange(1, m + 1))
                out_i.append(order[k, :m])
                out_s.append(top[k, :m])
    cat = lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt)
    item = cat(out_i, np.int64)
    score = cat(out_s, np.float64)
    user = cat(out_u, np.int64)
    cold = np.isin(user, factors.cold_users) if factors.cold_users is not None else np.zeros(len(user), bool)
    return Recommendations(user, cat(out_r, np.int64), item, np.clip(score, lo, hi), score, counts[item], need, cold)
