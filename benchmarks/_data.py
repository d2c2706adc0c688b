"""Synthetic MovieLens-like rating sets for the benchmarks (fixed seed, no download).

Users and items get skewed popularity (log-normal weights), every user rates at least
20 items, and ratings 1..5 come from a planted model mu + b_u + c_i + p_u . q_i plus
Gaussian noise, rounded and clipped, like MovieLens' integer stars.
"""

from __future__ import annotations

import numpy as np

ML100K = (943, 1682, 100_000)
ML1M = (6040, 3706, 1_000_209)


def movielens_like(n_users: int, n_items: int, n_ratings: int, seed: int = 0,
                   rank: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, cols, vals) of ``n_ratings`` distinct cells, popularity skewed like MovieLens."""
    rng = np.random.default_rng(seed)
    min_deg = 20
    cap = n_items // 2
    if n_ratings < min_deg * n_users or n_ratings > cap * n_users:
        raise ValueError("n_ratings does not fit the degree bounds")
    # user activity: 20 + a multinomial share of the rest, weights log-normal (long tail)
    w_user = rng.lognormal(0.0, 1.0, n_users)
    deg = min_deg + rng.multinomial(n_ratings - min_deg * n_users, w_user / w_user.sum())
    while deg.max() > cap:  # move the excess of over-active users to random others
        over = deg > cap
        extra = int((deg[over] - cap).sum())
        deg[over] = cap
        room = np.flatnonzero(deg < cap)
        np.add.at(deg, rng.choice(room, extra), 1)
    # item popularity: log-normal, wider than users (a few blockbusters, a long tail)
    log_pop = rng.normal(0.0, 1.3, n_items)
    rows = np.repeat(np.arange(n_users, dtype=np.int64), deg)
    cols = np.empty(n_ratings, dtype=np.int64)
    pos = 0
    for u in range(n_users):
        # Gumbel top-k: d distinct items drawn with probability proportional to popularity
        keys = log_pop + rng.gumbel(size=n_items)
        d = int(deg[u])
        cols[pos:pos + d] = np.sort(np.argpartition(-keys, d - 1)[:d])
        pos += d
    # planted model: popular items are liked a little more, as in MovieLens
    P = rng.normal(0.0, np.sqrt(0.4 / rank), (n_users, rank))
    Q = rng.normal(0.0, np.sqrt(1.0), (n_items, rank))
    b_u = rng.normal(0.0, 0.35, n_users)
    c_i = 0.25 * (log_pop - log_pop.mean()) + rng.normal(0.0, 0.35, n_items)
    pred = 3.35 + b_u[rows] + c_i[cols] + np.einsum("nk,nk->n", P[rows], Q[cols])
    vals = np.clip(np.rint(pred + rng.normal(0.0, 0.8, n_ratings)), 1, 5)
    return rows, cols, vals.astype(np.float64)


def train_test(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, test_share: float = 0.2,
               seed: int = 1) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """A fixed random split of the ratings into (train, test) triples."""
    rng = np.random.default_rng(seed)
    m = np.zeros(len(vals), dtype=bool)
    m[rng.choice(len(vals), int(round(test_share * len(vals))), replace=False)] = True
    return (rows[~m], cols[~m], vals[~m]), (rows[m], cols[m], vals[m])
