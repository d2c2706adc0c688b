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

Memory stays bounded: users are scored a block at a time (a block of users × every item, with
numpy), then a compiled loop finds each user's top k in one pass over the items (no sort),
skipping the training items, and scores it.
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
BLOCK_CELLS = 1 << 21  # users x items scored at once at most (16 MB of float64 scores)

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
    product P·Q, a pass over the scores and a fixed cost (measured: on MovieLens-100K with K = 20 about
    one biased-sgd step's)."""
    return cells * (1.0 + K / 50.0) + FIXED_WORK


def evaluation_interval(cells: int, K: int, step_work: float) -> int:
    """How often a training run evaluates the ranking metrics: every s steps, s the smallest power of two
    with evaluation_work(cells, K) ≤ s × max(SHARE × step_work, FLOOR). ``step_work`` is one step's work
    (training ratings × K + users + items), so evaluating stays under a tenth of the training time
    (every step when that is cheap, every 16th on MovieLens-100K with K = 20, rarer on larger data)."""
    need = evaluation_work(cells, K) / max(SHARE * float(step_work), FLOOR)
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

    def __init__(self, train: Observed, held_out: Observed, n_items: int, k: int, threshold: float,
                 block_cells: int = BLOCK_CELLS) -> None:
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
        self.block = max(1, int(block_cells) // max(self.n_items, 1))

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
        from mfstudio.core._rank_kernel import rank_block  # numba: imported on first use, as the solvers' kernels

        per_user = np.empty((n, 4))
        for start in range(0, n, self.block):
            stop = min(start + self.block, n)
            with np.errstate(invalid="ignore", over="ignore"):
                scores = np.ascontiguousarray(factors.predict_users(self.users[start:stop]), dtype=np.float64)
            rank_block(scores, self._train_ptr[start:stop + 1], self._train_items,
                        self._rel_ptr[start:stop + 1], self._rel_items, self.k, per_user[start:stop])
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
