"""Top-N ranking metrics on the held-out ratings: precision@k, recall@k, NDCG@k and MAP@k.

RMSE says how close predicted ratings are; these say whether each user's top k is any good,
which a good RMSE does not promise (explicit ALS on MovieLens-100K: RMSE 0.97 but precision@10
0.05, in Microsoft's recommenders examples). The definitions (k is the top-N setting, default 10):

- **Candidates** are the items a user has no training rating for (held-out items included),
  ranked by the model's unclipped score R_hat (mean + biases + P·Q for biased-sgd, P·Q
  otherwise; the fallback for users and items without training ratings), ties to the lower
  item index, as :func:`mfstudio.core.recommend.recommend` orders them (its minimum number of
  ratings per item is not applied here).
- **Relevant** items are a user's held-out items rated at or above a threshold (default:
  three quarters up the rating scale, 4 on 1–5; see :func:`relevance_threshold`).
- Users with **no relevant held-out item are skipped**; each metric is the mean over the
  others (NaN when there are none).
- With hits the relevant items among the user's top k (rel_r = 1 when rank r is one):
  **precision@k** = hits / k (k even when the user has fewer candidates);
  **recall@k** = hits / |relevant|;
  **NDCG@k** = DCG / IDCG with binary gains, DCG = sum over r ≤ k of rel_r / log2(r + 1) and
  IDCG the same for min(k, |relevant|) hits at the top;
  **MAP@k** is the mean of AP@k = (sum over r ≤ k of rel_r · hits in the top r / r) / min(k, |relevant|).

Memory stays bounded: a compiled loop (_rank_kernel.py) scores one user at a time against every
item, as Factors.predict_rows does, finds the user's top k in one pass over the items (no sort),
skipping the training items, and scores the list.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from mfstudio.core.ratings import Observed
from mfstudio.core.solvers.base import Factors

METRICS = ("precision", "recall", "ndcg", "map")  # the stored names are these with "@k"
SHOWN = {"precision": "precision", "recall": "recall", "ndcg": "NDCG", "map": "MAP"}  # as the window writes them
AUTO_SHARE = 0.75  # the automatic threshold: this far up the rating scale (4 on 1 to 5)

# The schedule of a training run (see evaluation_interval), in "work": one rating x feature update of a step.
SHARE = 0.1  # an evaluation costs at most this share of the training work between two ...
FLOOR = 200  # ... or at most this much work per step, when that is more (small data: about 2 microseconds)
FIXED_WORK = 20_000  # one evaluation's cost besides its scores: a pause of the compiled loop (about 0.2 ms)

DEFINITIONS = (  # in plain words, for tooltips and run.json
    "Ranking metrics on the held-out ratings (k = recommendations per user):\n"
    "- candidates: the items a user has no training rating for (held-out items included), best score first;\n"
    "- relevant: the user's held-out items rated at or above Relevant from (auto: three quarters up the\n"
    "  scale, 4 on 1-5); users with no relevant held-out item are skipped, the rest averaged;\n"
    "- precision@k = hits / k; recall@k = hits / relevant;\n"
    "- NDCG@k: hits discounted by 1/log2(rank + 1), over the ideal of min(k, relevant) hits;\n"
    "- MAP@k: the precision at each hit, summed, over min(k, relevant).\n"
    "A good RMSE can come with a poor top-N list (explicit ALS on MovieLens-100K: RMSE 0.97, precision@10 0.05)."
)


def metric_names(k: int) -> tuple[str, ...]:
    """The stored names of the four metrics for ``k``: ``precision@10``, ``recall@10``, ``ndcg@10``, ``map@10``."""
    return tuple(f"{m}@{int(k)}" for m in METRICS)


def shown_name(name: str) -> str:
    """A stored name as the window writes it: ``ndcg@10`` is ``NDCG@10``."""
    base, _, k = name.partition("@")
    return f"{SHOWN.get(base, base)}@{k}"


def ranking_k(names: Mapping[str, float] | tuple[str, ...] | list[str]) -> int | None:
    """The k of the four metric names among ``names`` (all four must be there), else None."""
    for name in names:
        base, _, k = str(name).partition("@")
        if base == METRICS[0] and k.isdigit() and int(k) >= 1 and set(metric_names(int(k))) <= set(names):
            return int(k)
    return None


def relevance_threshold(relevance: float | None, scale: tuple[float, float]) -> float:
    """The rating from which a held-out item counts as relevant: ``relevance``, or when it is None (auto)
    three quarters up ``scale`` (4 on 1 to 5, 3.875 on 0.5 to 5, 7.75 on 1 to 10)."""
    if relevance is not None:
        return float(relevance)
    lo, hi = float(scale[0]), float(scale[1])
    return lo + AUTO_SHARE * (hi - lo)


def evaluation_work(cells: int, K: int) -> float:
    """The work of one evaluation that scores ``cells`` (user, item) pairs with ``K`` features: the
    product P·Q and the passes over the scores, plus a fixed cost (measured on MovieLens-100K: about
    0.6 + K/25 updates' time per score, so with K = 20 about one biased-sgd step)."""
    return cells * (0.6 + K / 25.0) + FIXED_WORK


def step_work(n_train: int, K: int) -> float:
    """The work of one training step over ``n_train`` ratings: K updates each, plus about 4 for the rest of
    a rating's turn (the error, the objective)."""
    return n_train * (K + 4.0)


def evaluation_interval(cells: int, K: int, n_train: int) -> int:
    """How often a training run evaluates the ranking metrics: every s steps, s the smallest power of two
    with evaluation_work(cells, K) ≤ s × max(SHARE × step_work(n_train, K), FLOOR), so evaluating stays
    under about a tenth of the training time (every step when that is cheap, every 16th on MovieLens-100K
    with K = 20, every 128th on the notebook's 4 × 4, where a step costs less than the pause)."""
    need = evaluation_work(cells, K) / max(SHARE * step_work(n_train, K), FLOOR)
    s = 1
    while s < need:
        s *= 2
    return s


def nan_metrics(k: int) -> dict[str, float]:
    """The four metrics for ``k``, each NaN (no user has a relevant held-out item, or not evaluated)."""
    return dict.fromkeys(metric_names(k), math.nan)


class RankingEvaluator:
    """The ranking metrics of any factors on fixed training and held-out entries (see the module docstring).

    What does not change between evaluations (the users with a relevant held-out item, their
    training and relevant items) is worked out once, so a training run can evaluate often.
    """

    def __init__(self, train: Observed, held_out: Observed, n_items: int, k: int, threshold: float) -> None:
        if int(k) < 1:
            raise ValueError("k must be at least 1")
        self.k = int(k)
        self.threshold = float(threshold)
        self.n_items = int(n_items)
        self.names = metric_names(self.k)
        relevant = np.asarray(held_out.vals) >= self.threshold
        self.users = np.unique(np.asarray(held_out.rows)[relevant])  # the users evaluated, in order
        self._rel_ptr, self._rel_items = self._by_user(np.asarray(held_out.rows)[relevant],
                                                       np.asarray(held_out.cols)[relevant])
        rows = np.asarray(train.rows)
        mine = np.isin(rows, self.users)
        self._train_ptr, self._train_items = self._by_user(rows[mine], np.asarray(train.cols)[mine])

    def _by_user(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cells of the evaluated users as (start of each user's items, items): user n has
        ``items[ptr[n]:ptr[n + 1]]``."""
        pos = np.searchsorted(self.users, rows)
        order = np.argsort(pos, kind="stable")
        ptr = np.zeros(len(self.users) + 1, dtype=np.int64)
        np.cumsum(np.bincount(pos, minlength=len(self.users)), out=ptr[1:])
        return ptr, np.ascontiguousarray(np.asarray(cols, dtype=np.int64)[order])

    @property
    def cells(self) -> int:
        """How many (user, item) scores one evaluation computes: its cost."""
        return len(self.users) * self.n_items

    def __call__(self, factors: Factors) -> dict[str, float]:
        """The four metrics of ``factors`` (keys as :func:`metric_names`; NaN when no user is evaluated)."""
        n = len(self.users)
        if n == 0 or self.n_items == 0:
            return nan_metrics(self.k)
        from mfstudio.core._rank_kernel import rank_users  # numba: imported on first use, as the solvers' kernels

        f = factors
        n_users, m = f.P.shape[0], self.n_items
        biased = f.user_bias is not None
        ub = np.asarray(f.user_bias, dtype=np.float64) if biased else np.zeros(n_users)
        ib = np.asarray(f.item_bias, dtype=np.float64) if biased else np.zeros(m)
        cold_user = np.zeros(n_users, dtype=bool)
        if f.cold_users is not None:
            cold_user[f.cold_users] = True
        cold_items = np.zeros(0, np.int64) if f.cold_items is None else np.asarray(f.cold_items, dtype=np.int64)
        per_user = np.empty((n, 4))
        P, Q = np.ascontiguousarray(f.P, dtype=np.float64), np.ascontiguousarray(f.Q, dtype=np.float64)
        rank_users(self.users, P, Q, ub, ib, float(f.global_mean), biased, cold_user, cold_items,
                   float(f.fallback_mean), self._train_ptr, self._train_items, self._rel_ptr, self._rel_items,
                   self.k, per_user)
        return {name: float(v) for name, v in zip(self.names, np.mean(per_user, axis=0))}


def warm_up() -> None:
    """Compile (or load from numba's cache) the ranking kernel."""
    one = Observed(np.array([0]), np.array([0]), np.array([5.0]))
    two = Observed(np.array([0]), np.array([1]), np.array([5.0]))
    ranking_metrics(Factors(np.ones((1, 1)), np.ones((1, 2))), one, two, 1, 4.0)


def ranking_metrics(factors: Factors, train: Observed, held_out: Observed, k: int,
                    threshold: float) -> dict[str, float]:
    """precision@k, recall@k, NDCG@k and MAP@k of ``factors`` (keys as :func:`metric_names`) with
    ``train`` the training entries and ``held_out`` the held-out ones; NaN values when no user has a
    held-out item rated at or above ``threshold``. See the module docstring for the definitions."""
    return RankingEvaluator(train, held_out, factors.Q.shape[1], k, threshold)(factors)
