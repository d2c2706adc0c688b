"""Top-N ranking metrics on the held-out ratings: precision@k, recall@k, NDCG@k and MAP@k, and with
implicit data (counts of plays, clicks, purchases) also the mean percentile rank.

RMSE says how close predicted ratings are; these say whether each user's top k is any good,
which a good RMSE does not promise (explicit ALS on MovieLens-100K: RMSE 0.97 but precision@10
0.05, in Microsoft's recommenders examples). The definitions (k is the top-N setting, default 10):

- **Candidates** are the items a user has no training rating for (held-out items included),
  ranked by the model's unclipped score R_hat (mean + biases + P·Q for biased-sgd, P·Q
  otherwise; the fallback for users and items without training ratings), ties to the lower
  item index and NaN scores last, as :func:`mfstudio.core.recommend.recommend` orders them (its
  minimum number of ratings per item is not applied here).
- **Relevant** items are a user's held-out items rated at or above a threshold (default:
  three quarters up the rating scale, 4 on 1–5; see :func:`relevance_threshold`). With implicit
  data (``Ratings.implicit``) there is no threshold: **every held-out interaction** (a count above
  0) **is relevant**, and the relevance setting is ignored.
- Users with **no relevant held-out item are skipped**; each metric is the mean over the
  others (NaN when there are none).
- With hits the relevant items among the user's top k (rel_r = 1 when rank r is one):
  **precision@k** = hits / k (k even when the user has fewer candidates);
  **recall@k** = hits / |relevant|;
  **NDCG@k** = DCG / IDCG with binary gains, DCG = sum over r ≤ k of rel_r / log2(r + 1) and
  IDCG the same for min(k, |relevant|) hits at the top;
  **MAP@k** is the mean of AP@k = (sum over r ≤ k of rel_r · hits in the top r / r) / min(k, |relevant|).
- **mpr**, the mean percentile rank of Hu, Koren & Volinsky (2008, section 6), implicit data only:
  for each held-out interaction (u, i) with count r_ui, rank_ui is item i's place among user u's
  candidates in the order above as a fraction, (candidates ahead of it) / (candidates − 1): 0 at
  the top, 1 at the bottom; mpr = Σ r_ui·rank_ui / Σ r_ui, so a user's heavy items weigh more.
  Lower is better and 0.5 is what a random order gives. A user with a single candidate has no
  order to judge and is left out (NaN when no user is left). It is computed for implicit data only:
  with ratings a low rating says "disliked", and weighting by it would still count ranking that
  item high as a success.

Memory stays bounded: a compiled loop (_rank_kernel.py) scores 16 users at a time against every
item, as Factors.predict_rows does (a cached tile of items at a time), on numba's threads; it finds
each user's top k in one pass over the items (no sort), skipping the training items, and scores the
list; for mpr the same scores give each held-out item's candidates ahead of it (counted directly for
a user's few held-out items, by a binary search among them, sorted once, for many). With implicit data
an evaluation costs about 1.7 times as much (MovieLens-100K's shape, K = 20: 31 ms against 18 ms,
every held-out interaction relevant).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from mfstudio.core.keys import distinct
from mfstudio.core.ratings import Observed
from mfstudio.core.solvers.base import Factors

METRICS = ("precision", "recall", "ndcg", "map")  # the stored names are these with "@k"
MPR = "mpr"  # the stored name of the mean percentile rank (implicit data only; no k)
SHOWN = {"precision": "precision", "recall": "recall", "ndcg": "NDCG", "map": "MAP", MPR: "MPR"}  # as the window
AUTO_SHARE = 0.75  # the automatic threshold: this far up the rating scale (4 on 1 to 5)

# The schedule of a training run (see evaluation_interval), in "work": one rating x feature update of a step.
SHARE = 0.1  # an evaluation costs at most this share of the training work between two ...
FLOOR = 200  # ... or at most this much work per step, when that is more (small data: about 2 microseconds)
PART_USERS = 256  # the fewest users in one of the ranking kernel's ranges (threads)
FIXED_WORK = 20_000  # one evaluation's cost besides its scores: a pause of the compiled loop (about 0.2 ms)
IMPLICIT_EVERY_STEP = 5_000_000  # implicit data: every step while an evaluation costs at most this (about 50 ms)

DEFINITIONS = (  # in plain words, for tooltips and run.json
    "Ranking metrics on the held-out ratings (k = recommendations per user):\n"
    "- candidates: the items a user has no training rating for (held-out items included), best score first;\n"
    "- relevant: the user's held-out items rated at or above Relevant from (auto: three quarters up the\n"
    "  scale, 4 on 1-5); users with no relevant held-out item are skipped, the rest averaged;\n"
    "- precision@k = hits / k; recall@k = hits / relevant;\n"
    "- NDCG@k: hits discounted by 1/log2(rank + 1), over the ideal of min(k, relevant) hits;\n"
    "- MAP@k: the precision at each hit, summed, over min(k, relevant).\n"
    "A good RMSE can come with a poor top-N list (explicit ALS on MovieLens-100K: RMSE 0.97, precision@10 0.05).\n"
    "With implicit data (counts of plays, clicks, purchases) every held-out interaction is relevant (Relevant\n"
    "from is ignored), and mpr, the mean percentile rank (Hu et al. 2008), is each held-out interaction's place\n"
    "in the user's candidates (0 = top, 1 = bottom), weighted by its count: lower is better, 0.5 is random."
)


def metric_names(k: int, implicit: bool = False) -> tuple[str, ...]:
    """The stored names of the metrics for ``k``: ``precision@10``, ``recall@10``, ``ndcg@10``, ``map@10``, and
    with ``implicit`` data ``mpr`` after them."""
    return tuple(f"{m}@{int(k)}" for m in METRICS) + ((MPR,) if implicit else ())


def judged_by(k: int | None, implicit: bool) -> str | None:
    """The one rule for which number picks a run's best step (sweeps, early stopping) and a sweep's best point:
    for counts of events ``precision@k`` (higher is better; the loss curve's ranking metric), since the held-out
    preferences' error keeps rising after the first steps while the ranking improves; None for ratings (or
    without ranking metrics), which are judged by the validation RMSE (lower is better), as always."""
    return f"{METRICS[0]}@{int(k)}" if implicit and k else None


def judged_value(x: float | np.ndarray) -> float | np.ndarray:
    """A ranking metric as it is compared to pick a best step or point: at 12 decimals. The metrics are means of
    fractions (17 hits in 88 lists), and two equal ones summed in another order can differ in the last bit, which
    must not make the later step "better" (of equal ones the first is best)."""
    return np.round(x, 12)


def judged_by_columns(names: Sequence[str]) -> str | None:
    """:func:`judged_by` for a history with these columns (one read back, or a finished run's): a history of counts
    of events is the one that carries ``mpr``."""
    ranked = ranking_names(list(names))
    return judged_by(ranking_k(ranked), MPR in ranked)


def shown_name(name: str) -> str:
    """A stored name as the window writes it: ``ndcg@10`` is ``NDCG@10``, ``mpr`` is ``MPR``."""
    base, at, k = name.partition("@")
    return f"{SHOWN.get(base, base)}{at}{k}"


def ranking_k(names: Mapping[str, float] | tuple[str, ...] | list[str]) -> int | None:
    """The k of the four @k metric names among ``names`` (all four must be there; ``mpr`` may be too), else None."""
    for name in names:
        base, _, k = str(name).partition("@")
        if base == METRICS[0] and k.isdigit() and int(k) >= 1 and set(metric_names(int(k))) <= set(names):
            return int(k)
    return None


def ranking_names(names: Mapping[str, float] | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The ranking metrics' stored names that ``names`` (a file's columns, a run's metrics) carry, in their order:
    the four for their k (see :func:`ranking_k`), then ``mpr`` when it is there with them; () without the four."""
    k = ranking_k(names)
    return () if k is None else metric_names(k, MPR in names)


def relevance_threshold(relevance: float | None, scale: tuple[float, float]) -> float:
    """The rating from which a held-out item counts as relevant: ``relevance``, or when it is None (auto)
    three quarters up ``scale`` (4 on 1 to 5, 3.875 on 0.5 to 5, 7.75 on 1 to 10). Implicit data has no
    threshold (every held-out interaction is relevant, see :func:`relevant`)."""
    if relevance is not None:
        return float(relevance)
    lo, hi = float(scale[0]), float(scale[1])
    return lo + AUTO_SHARE * (hi - lo)


def relevant(vals: np.ndarray, threshold: float | None, implicit: bool = False) -> np.ndarray:
    """Which held-out entries (their values ``vals``) are relevant: with ``implicit`` data every interaction (a
    count above 0; ``threshold`` is ignored), else each rating at or above ``threshold``."""
    v = np.asarray(vals, dtype=np.float64)
    if implicit:
        return v > 0
    assert threshold is not None, "ratings need a relevance threshold"
    return v >= float(threshold)


def evaluation_work(cells: int, K: int) -> float:
    """The work of one evaluation that scores ``cells`` (user, item) pairs with ``K`` features: the
    product P·Q and the passes over the scores, plus a fixed cost (measured on MovieLens-100K: about
    0.6 + K/25 updates' time per score, so with K = 20 about one biased-sgd step)."""
    return cells * (0.6 + K / 25.0) + FIXED_WORK


def step_work(n_train: int, K: int) -> float:
    """The work of one training step over ``n_train`` ratings: K updates each, plus about 4 for the rest of
    a rating's turn (the error, the objective)."""
    return n_train * (K + 4.0)


def evaluation_interval(cells: int, K: int, n_train: int, implicit: bool = False) -> int:
    """How often a training run evaluates the ranking metrics: every s steps, s the smallest power of two
    with evaluation_work(cells, K) ≤ s × max(SHARE × step_work(n_train, K), FLOOR), so evaluating stays
    under about a tenth of the training time (every step when that is cheap, every 16th on MovieLens-100K
    with K = 20, every 128th on the notebook's 4 × 4, where a step costs less than the pause).

    ``implicit`` data is validated by ranking alone, and its runs are a few costly steps (implicit-als
    defaults to 15), so its curve gets a ranking point at every step while one evaluation is small: at
    most IMPLICIT_EVERY_STEP work, about 50 ms (MovieLens-100K's 943 x 1,682 at K = 20 is 2.2 M, the
    listening example's 50 x 40 well under the fixed cost). Larger implicit data keeps the rule above."""
    if implicit and evaluation_work(cells, K) <= IMPLICIT_EVERY_STEP:
        return 1
    need = evaluation_work(cells, K) / max(SHARE * step_work(n_train, K), FLOOR)
    s = 1
    while s < need:
        s *= 2
    return s


def nan_metrics(k: int, implicit: bool = False) -> dict[str, float]:
    """The metrics for ``k`` (and ``implicit`` data), each NaN (no user has a relevant held-out item, or not
    evaluated)."""
    return dict.fromkeys(metric_names(k, implicit), math.nan)


class RankingEvaluator:
    """The ranking metrics of any factors on fixed training and held-out entries (see the module docstring).

    What does not change between evaluations (the users with a relevant held-out item, their
    training and relevant items) is worked out once, so a training run can evaluate often. With
    ``implicit`` data ``threshold`` is ignored (and ``self.threshold`` None): every held-out interaction is
    relevant, and the metrics include ``mpr``.
    """

    def __init__(self, train: Observed, held_out: Observed, n_items: int, k: int, threshold: float | None,
                 implicit: bool = False) -> None:
        if int(k) < 1:
            raise ValueError("k must be at least 1")
        self.k = int(k)
        self.implicit = bool(implicit)
        self.threshold: float | None = None if self.implicit else float(threshold)  # type: ignore[arg-type]
        self.n_items = int(n_items)
        self.names = metric_names(self.k, self.implicit)
        rel = relevant(held_out.vals, self.threshold, self.implicit)
        self.users = distinct(np.asarray(held_out.rows)[rel])  # the users evaluated, in order
        self._rel_ptr, self._rel_items, self._rel_w = self._by_user(
            np.asarray(held_out.rows)[rel], np.asarray(held_out.cols)[rel], np.asarray(held_out.vals)[rel])
        rows = np.asarray(train.rows)
        mine = np.isin(rows, self.users)
        self._train_ptr, self._train_items, _ = self._by_user(rows[mine], np.asarray(train.cols)[mine])

    def _by_user(self, rows: np.ndarray, cols: np.ndarray,
                 vals: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cells of the evaluated users as (start of each user's items, items, values): user n has
        ``items[ptr[n]:ptr[n + 1]]``."""
        pos = np.searchsorted(self.users, rows)
        order = np.argsort(pos, kind="stable")
        ptr = np.zeros(len(self.users) + 1, dtype=np.int64)
        np.cumsum(np.bincount(pos, minlength=len(self.users)), out=ptr[1:])
        v = np.zeros(len(order)) if vals is None else np.asarray(vals, dtype=np.float64)[order]
        return ptr, np.ascontiguousarray(np.asarray(cols, dtype=np.int64)[order]), np.ascontiguousarray(v)

    @property
    def cells(self) -> int:
        """How many (user, item) scores one evaluation computes: its cost."""
        return len(self.users) * self.n_items

    def nan(self) -> dict[str, float]:
        """This evaluator's metrics, each NaN (not evaluated)."""
        return nan_metrics(self.k, self.implicit)

    def nothing_relevant(self, setting: str = "Relevant from") -> str:
        """Why every metric is NaN (no user has a relevant held-out item), as part of a sentence; ``setting``
        names the relevance control in the advice ("--relevance" on the command line)."""
        if self.threshold is None:
            return "no held-out interaction has a count above 0"
        return f"no held-out rating is {self.threshold:g} or more (set {setting} lower)"

    def __call__(self, factors: Factors) -> dict[str, float]:
        """The metrics of ``factors`` (keys as :attr:`names`; NaN when no user is evaluated)."""
        n = len(self.users)
        if n == 0 or self.n_items == 0:
            return self.nan()
        from mfstudio.core._rank_kernel import rank_users, rank_users_threaded  # numba: imported on first use

        f = factors
        n_users, m = f.P.shape[0], self.n_items
        biased = f.user_bias is not None
        ub = np.asarray(f.user_bias, dtype=np.float64) if biased else np.zeros(n_users)
        ib = np.asarray(f.item_bias, dtype=np.float64) if biased else np.zeros(m)
        cold_user = np.zeros(n_users, dtype=bool)
        if f.cold_users is not None:
            cold_user[f.cold_users] = True
        cold_items = np.zeros(0, np.int64) if f.cold_items is None else np.asarray(f.cold_items, dtype=np.int64)
        per_user = np.empty((n, 6))
        P, Q = np.ascontiguousarray(f.P, dtype=np.float64), np.ascontiguousarray(f.Q, dtype=np.float64)
        args = (self.users, P, Q, ub, ib, float(f.global_mean), biased, cold_user, cold_items, float(f.fallback_mean),
                self._train_ptr, self._train_items, self._rel_ptr, self._rel_items, self._rel_w, self.implicit, self.k)
        parts = _parts(n)
        if parts > 1:
            rank_users_threaded(*args, parts, per_user)
        else:  # no threads started: small data, and the warm-up in the sweeps' fork server (it forks afterwards)
            rank_users(*args, per_user)
        out = {name: float(v) for name, v in zip(self.names, np.mean(per_user[:, :4], axis=0))}
        if self.implicit:
            weight = float(np.sum(per_user[:, 5]))
            out[MPR] = float(np.sum(per_user[:, 4])) / weight if weight > 0 else math.nan
        return out


def _parts(n_users: int) -> int:
    """How many ranges of users the ranking kernel runs on numba's threads: a few per thread (balance), none
    smaller than PART_USERS users (each range has its own work space, a few rows of scores); 1 runs on the calling
    thread."""
    import numba

    return max(1, min(4 * numba.get_num_threads(), n_users // PART_USERS))


def warm_up() -> None:
    """Compile (or load from numba's cache) the ranking kernel."""
    one = Observed(np.array([0]), np.array([0]), np.array([5.0]))
    two = Observed(np.array([0]), np.array([1]), np.array([5.0]))
    ranking_metrics(Factors(np.ones((1, 1)), np.ones((1, 2))), one, two, 1, None, implicit=True)


def ranking_metrics(factors: Factors, train: Observed, held_out: Observed, k: int,
                    threshold: float | None, implicit: bool = False) -> dict[str, float]:
    """precision@k, recall@k, NDCG@k and MAP@k of ``factors`` (keys as :func:`metric_names`), and with
    ``implicit`` data mpr, with ``train`` the training entries and ``held_out`` the held-out ones; NaN values
    when no user has a relevant held-out item (rated at or above ``threshold``; with implicit data any
    interaction, the threshold ignored). See the module docstring for the definitions."""
    return RankingEvaluator(train, held_out, factors.Q.shape[1], k, threshold, implicit)(factors)
