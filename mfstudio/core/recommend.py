"""Top-N recommendations: each user's unrated items ranked by predicted rating."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mfstudio.core.ratings import Ratings
from mfstudio.core.solvers.base import Factors


@dataclass(frozen=True)
class Recommendations:
    """Parallel arrays, one row per recommendation, ordered by user then rank (1 = best)."""

    user: np.ndarray  # user index
    rank: np.ndarray
    item: np.ndarray  # item index
    predicted: np.ndarray  # clipped to the rating scale

    def __len__(self) -> int:
        return int(self.user.shape[0])

    def rows(self, ratings: Ratings) -> list[tuple[str, int, str, float]]:
        """(user label, rank, item label, predicted) tuples."""
        return [
            (ratings.users[u], int(r), ratings.items[i], float(p))
            for u, r, i, p in zip(self.user, self.rank, self.item, self.predicted)
        ]


def recommend(ratings: Ratings, factors: Factors, n: int = 5, block: int = 2048) -> Recommendations:
    """The ``n`` best unrated items of every user; ties go to the lower item index."""
    n_users, n_items = ratings.shape
    n = max(0, min(int(n), n_items))
    lo, hi = ratings.scale
    o = ratings.observed
    out_u, out_r, out_i, out_p = [], [], [], []
    for start in range(0, n_users, block):
        stop = min(start + block, n_users)
        sub = Factors(
            factors.P[start:stop], factors.Q,
            None if factors.user_bias is None else factors.user_bias[start:stop],
            factors.item_bias, factors.global_mean,
        )
        pred = np.clip(sub.predict(), lo, hi)
        sel = (o.rows >= start) & (o.rows < stop)
        pred[o.rows[sel] - start, o.cols[sel]] = -np.inf  # already rated
        rated_count = np.bincount(o.rows[sel] - start, minlength=stop - start)
        # stable sort on -pred keeps ties in item order
        order = np.argsort(-pred, axis=1, kind="stable")[:, :n]
        for k in range(stop - start):
            m = min(n, n_items - int(rated_count[k]))
            if m <= 0:
                continue
            items = order[k, :m]
            out_u.append(np.full(m, start + k))
            out_r.append(np.arange(1, m + 1))
            out_i.append(items)
            out_p.append(pred[k, items])
    cat = lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt)
    return Recommendations(cat(out_u, np.int64), cat(out_r, np.int64), cat(out_i, np.int64), cat(out_p, np.float64))
