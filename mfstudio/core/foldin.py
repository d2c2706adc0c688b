r"""Fold-in: a new person's row of a trained model, from a few ratings, with every item parameter fixed.

Fold-in is the exact minimiser of the trained solver's own objective for ONE user row u, with the
items' factors Q (and, with biases, the global mean μ and the item biases c) held fixed. Let I be
the n items the person rated that have training ratings, Q_I their columns of Q (K x n) and r_I
the ratings. The terms of the objective that involve row u are then (dropping constants):

* ``sgd`` and ``als`` (the notebook's e, which charges β/2 per observed entry):

      e_u(p) = Σ_{j∈I} (r_j − p·q_j)² + (β/2) n |p|²

  a ridge regression; its gradient vanishes where

      (Q_I Q_Iᵀ + (β/2) n I) p = Q_I r_I.

* ``biased-sgd`` (which charges β per entry on b and p): with z = [b_u; p], X = [1 | Q_Iᵀ]
  (n x (K+1)) and y = r_I − μ − c_I,

      e_u(z) = |y − X z|² + β n |z|²,   so   (XᵀX + β n I) z = Xᵀ y.

* ``nmf``: the same e_u as ``sgd`` with p ≥ 0, a non-negative least-squares problem on the
  augmented system A = [Q_Iᵀ; √(βn/2) I], d = [r_I; 0]: minimise |A p − d|² over p ≥ 0. It is
  solved exactly by Lawson and Hanson's active-set method on the normal equations
  G = AᵀA = Q_I Q_Iᵀ + (β/2) n I, h = Aᵀd = Q_I r_I; the result meets the KKT conditions: with
  the gradient g = 2 (G p − h), g_k = 0 where p_k > 0 and g_k ≥ 0 where p_k = 0.

* ``implicit-als`` (Hu et al.'s F, in which EVERY item counts): with p_j = [r_j > 0] and
  c_j = 1 + confidence |r_j| on the person's items I and p = 0, c = 1 on every other item, and λ = β,

      e_u(p) = Σ_{all j} c_j (p_j − p·q_j)² + λ |p|²,   so
      (Q Qᵀ + Σ_{j∈I} (c_j − 1) q_j q_jᵀ + λ I) p = Σ_{j∈I} c_j p_j q_j

  with Q Qᵀ over all items: the system a half-step solves for a user (the counts are the values given,
  any number of events, not a rating scale). Its predictions are preferences, shown clipped to 0 to 1,
  and its fallback is 0 (no interaction known).

Each system is symmetric positive definite when β > 0, so the minimiser is unique; it is solved by
a Cholesky factorisation G = L Lᵀ and two triangular solves, never an explicit inverse. With β = 0
and fewer ratings than K the system is singular; then the minimum-norm least-squares solution is
taken.

The person's predictions are then the model's formula for the new row, unclipped:
r̂_j = p·q_j (+ μ + b_u + c_j with biases); an item without training ratings (cold) gets the
fallback, the mean training rating (+ b_u with biases), as :class:`Factors` predicts it.

Ratings of cold items play no part (the model knows nothing of them: their factors are only the
random start) and are listed in ``unused``. With no usable rating at all there is nothing to fit:
p = 0 (and b_u = 0), every prediction is the fallback (the mean, plus each item's bias with
biases), and ``fallback`` is True with a sentence saying so.

The ratings are given as (item index, rating) pairs; an index must be one of the items, a rating
finite and on the data's rating scale, and an item may be rated only once: a second rating of the
same item is refused with a sentence (it is more likely a mistake than a correction).

Cost: O(n K² + K³) for a fold-in (O(K⁴) at worst for nmf's active set), O(K x items) for the
predictions.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from mfstudio.core.errors import DataError
from mfstudio.core.numbers import short_text
from mfstudio.core.ratings import PREFERENCE_SCALE, Observed, Ratings, display_scale
from mfstudio.core.recommend import AUTO, resolve_min_ratings
from mfstudio.core.solvers import Factors, get_solver

RIDGE, BIASED, NON_NEGATIVE, WEIGHTED = "ridge", "biased", "non-negative", "weighted"
# which of the four problems above each solver's objective gives for one row
OBJECTIVES = {"sgd": RIDGE, "als": RIDGE, "biased-sgd": BIASED, "nmf": NON_NEGATIVE, "implicit-als": WEIGHTED}


@dataclass(frozen=True)
class Ranking:
    """A person's recommendations, best first: parallel arrays, one row per item."""

    item: np.ndarray  # item index
    rank: np.ndarray  # 1 = best
    score: np.ndarray  # the unclipped prediction, which the order follows
    predicted: np.ndarray  # the score clipped to the rating scale (what is shown)
    item_ratings: np.ndarray  # the item's number of training ratings
    min_ratings: int = 1  # the minimum number of training ratings that was applied

    def __len__(self) -> int:
        return int(self.item.shape[0])

    def rows(self, ratings: Ratings) -> list[tuple[int, str, float, float, int]]:
        """(rank, item label, predicted, score, training ratings) tuples."""
        return [(int(r), ratings.items[i], float(p), float(s), int(c))
                for r, i, p, s, c in zip(self.rank, self.item, self.predicted, self.score, self.item_ratings)]


@dataclass(frozen=True)
class FoldIn:
    """One person's row of the model: factors, bias, a prediction for every item and what they rated."""

    p: np.ndarray  # (K,) the person's factors
    user_bias: float | None  # b_u, None for a model without biases
    scores: np.ndarray  # (items,) the unclipped prediction of every item
    rated: np.ndarray  # the items the person rated, in increasing order
    values: np.ndarray  # their ratings, parallel to ``rated``
    unused: np.ndarray  # rated items without training ratings, left out of the fit
    item_counts: np.ndarray  # (items,) training ratings per item
    scale: tuple[float, float]
    fallback: bool  # True when no rating could be used: the scores are the fallback
    note: str = ""  # one sentence when something is worth saying (the fallback, unused ratings), else ""

    @property
    def predicted(self) -> np.ndarray:
        """The scores clipped to the rating scale, as predictions are shown."""
        return np.clip(self.scores, *self.scale)

    def recommendations(self, n: int = 5, *, min_ratings: int = AUTO, exclude_rated: bool = True) -> Ranking:
        """The ``n`` best items by unclipped score (ties to the lower item index), as ``recommend`` ranks them.

        Items rated fewer than ``min_ratings`` times in training are left out (AUTO: see
        ``recommend.auto_min_ratings``), and so, with ``exclude_rated``, are the items the person rated.
        """
        m = self.scores.shape[0]
        n = max(0, min(int(n), m))
        need = resolve_min_ratings(min_ratings, self.item_counts)
        s = np.array(self.scores, dtype=np.float64)
        s[self.item_counts < need] = -np.inf
        if exclude_rated:
            s[self.rated] = -np.inf
        order = np.argsort(-s, kind="stable")[:n]  # stable on -score: ties stay in item order
        order = order[np.isfinite(s[order])]
        score = self.scores[order].astype(np.float64)
        return Ranking(order.astype(np.int64), np.arange(1, len(order) + 1, dtype=np.int64), score,
                       np.clip(score, *self.scale), self.item_counts[order].astype(np.int64), need)


# -- the fold-in ----------------------------------------------------------------------------------


def fold_in(ratings: Ratings, factors: Factors, train: Observed, solver: str, params: Mapping[str, Any] | None,
            given: Iterable[tuple[int, float]]) -> FoldIn:
    """A new person's row: the exact minimiser of ``solver``'s objective for their ``given`` (item, rating) pairs.

    ``factors`` are the trained model, ``train`` the ratings it was trained on (for the items' counts
    and which items are cold) and ``params`` the solver's parameters (β; defaults fill the rest).
    """
    kind, beta, confidence = _objective(solver, params, factors)
    _check_factors(ratings, factors)
    items, values = _given(ratings, given, on_scale=kind != WEIGHTED)
    return _fit(ratings, factors, train, kind, beta, items, values, confidence)


def fold_in_user(ratings: Ratings, factors: Factors, train: Observed, solver: str,
                 params: Mapping[str, Any] | None, user: int) -> FoldIn:
    """User ``user`` of the data folded in afresh from their training ratings, the items fixed.

    After a converged training this is close to the trained row (for ``als`` each half-step makes it
    exactly that, against the items of the step before); the difference says how far training was
    from the fixed point.
    """
    kind, beta, confidence = _objective(solver, params, factors)
    _check_factors(ratings, factors)
    u = _user(ratings, user)
    mine = train.rows == u
    order = np.argsort(train.cols[mine], kind="stable")
    return _fit(ratings, factors, train, kind, beta, train.cols[mine][order].astype(np.int64),
                train.vals[mine][order].astype(np.float64), confidence)


def trained_user(ratings: Ratings, factors: Factors, train: Observed, user: int, solver: str | None = None) -> FoldIn:
    """User ``user``'s row as training left it, in the same form as a fold-in (the items they rated in training);
    ``solver`` (the model's) decides the range its predictions are shown on."""
    _check_factors(ratings, factors)
    u = _user(ratings, user)
    mine = train.rows == u
    order = np.argsort(train.cols[mine], kind="stable")
    rated = train.cols[mine][order].astype(np.int64)
    cold = factors.cold_users is not None and bool(np.any(factors.cold_users == u))
    ub = None if factors.user_bias is None else float(factors.user_bias[u])
    note = (f"{ratings.users[u]} has no training ratings, so the model cannot know their taste: the predictions are "
            f"the fallback, {_fallback_words(factors)}.") if cold else ""
    return FoldIn(np.array(factors.P[u], dtype=np.float64), ub, factors.predict_rows(u, u + 1)[0], rated,
                  train.vals[mine][order].astype(np.float64), np.zeros(0, np.int64), _counts(train, ratings.n_items),
                  display_scale(ratings, solver), cold, note)


def ridge_system(Q_I: np.ndarray, r_I: np.ndarray, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """The normal equations (G, h) of ``sgd``/``als``/``nmf`` for one row: G = Q_I Q_Iᵀ + (β/2) n I, h = Q_I r_I."""
    K, n = Q_I.shape
    return Q_I @ Q_I.T + (beta / 2.0) * n * np.eye(K), Q_I @ r_I


def weighted_system(Q: np.ndarray, items: np.ndarray, counts: np.ndarray, beta: float,
                    confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """The normal equations of ``implicit-als`` for one row: (Q Qᵀ + Σ_I (c − 1) q qᵀ + β I, Σ_I c p q) with
    c = 1 + confidence |r| and p = [r > 0] on the given items, Q Qᵀ over every item."""
    K = Q.shape[0]
    Q_I = Q[:, items]
    w = confidence * np.abs(counts)
    cp = np.where(counts > 0, 1.0 + w, 0.0)
    return Q @ Q.T + (Q_I * w) @ Q_I.T + beta * np.eye(K), Q_I @ cp


def biased_system(Q_I: np.ndarray, y: np.ndarray, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """The normal equations of ``biased-sgd`` for z = [b_u; p]: (XᵀX + β n I, Xᵀ y) with X = [1 | Q_Iᵀ]."""
    n = Q_I.shape[1]
    X = np.column_stack([np.ones(n), Q_I.T])
    return X.T @ X + beta * n * np.eye(X.shape[1]), X.T @ y


def _fit(ratings: Ratings, factors: Factors, train: Observed, kind: str, beta: float,
         items: np.ndarray, values: np.ndarray, confidence: float = 1.0) -> FoldIn:
    counts = _counts(train, ratings.n_items)
    known = counts[items] > 0
    used_items, used_values = items[known], values[known]
    K = factors.K
    Q = np.asarray(factors.Q, dtype=np.float64)
    biased = kind == BIASED
    fallback = used_items.size == 0
    b = 0.0
    if fallback:
        p = np.zeros(K)
    else:
        Q_I = Q[:, used_items]
        if biased:
            G, h = biased_system(Q_I, used_values - factors.global_mean - factors.item_bias[used_items], beta)
            z = solve_spd(G, h)
            b, p = float(z[0]), z[1:]
        elif kind == WEIGHTED:
            p = solve_spd(*weighted_system(Q, used_items, used_values, beta, confidence))
        else:
            G, h = ridge_system(Q_I, used_values, beta)
            p = nnls(G, h) if kind == NON_NEGATIVE else solve_spd(G, h)
    row = Factors(p[None, :], Q, None if not biased else np.array([b]), factors.item_bias if biased else None,
                  float(factors.global_mean), np.array([0]) if fallback else None, factors.cold_items,
                  float(factors.fallback_mean))
    scores = row.predict_rows(0, 1)[0]
    unused = items[~known]
    scale = PREFERENCE_SCALE if kind == WEIGHTED else ratings.scale  # WEIGHTED: implicit-als's (display_scale)
    return FoldIn(p, b if biased else None, scores, items, values, unused, counts, scale, fallback,
                  _note(ratings, factors, items, unused, kind == WEIGHTED))


def _note(ratings: Ratings, factors: Factors, items: np.ndarray, unused: np.ndarray, implicit: bool = False) -> str:
    """The sentence about the fallback or the ratings left out, "" when there is nothing to say."""
    if items.size == 0:
        if implicit:
            return "No interaction was given, so the predictions are the fallback, preference 0 for every item."
        return f"No rating was given, so the predictions are the fallback, {_fallback_words(factors)}."
    if unused.size == 0:
        return ""
    one = len(unused) == 1
    names = ", ".join(ratings.items[i] for i in unused[:3]) + (f" and {len(unused) - 3:,} more" if len(unused) > 3
                                                              else "")
    lead = f"Nobody rated {names} in training, so the model knows nothing of {'it' if one else 'them'}"
    if unused.size == items.size:
        return f"{lead} and the predictions are the fallback, {_fallback_words(factors)}."
    return f"{lead} and {'that rating is' if one else 'those ratings are'} not used."


def _fallback_words(factors: Factors) -> str:
    mean = short_text(float(factors.fallback_mean))
    if factors.user_bias is not None:
        return f"the mean rating {mean} plus each item's bias"
    return f"the mean training rating {mean}"


# -- checks ---------------------------------------------------------------------------------------


def _objective(solver: str, params: Mapping[str, Any] | None, factors: Factors) -> tuple[str, float, float]:
    """Which one-row problem ``solver`` gives, its β and its confidence (1 when it has none), checked as the
    solver checks them."""
    cls = get_solver(solver)
    kind = OBJECTIVES.get(solver)
    if kind is None:
        raise DataError(f"Fold-in does not know the objective of the {solver} solver.")
    p = cls.resolve_params(dict(params or {}))
    beta = float(p["beta"])
    if (kind == BIASED) != (factors.user_bias is not None and factors.item_bias is not None):
        has = "have biases" if factors.user_bias is not None else "have no biases"
        raise DataError(f"The results {has}, which does not fit the {solver} solver's model; train again.")
    return kind, beta, float(p.get("confidence", 1.0))


def _check_factors(ratings: Ratings, factors: Factors) -> None:
    factors.check(*ratings.shape)
    if not factors.all_finite():
        raise DataError("The model's numbers are not finite (training diverged); train again.")


def _user(ratings: Ratings, user: int) -> int:
    u = _index(user, "user")
    if not 0 <= u < ratings.n_users:
        raise DataError(f"There is no user with index {u}; the {ratings.n_users:,} users have indices 0 to "
                        f"{ratings.n_users - 1:,}.")
    return u


def _index(x: Any, who: str) -> int:
    a = "An" if who == "item" else "A"
    if isinstance(x, (bool, np.bool_)):
        raise DataError(f"{a} {who} must be given by its index (a whole number); got {x!r}.")
    try:
        return operator.index(x)
    except TypeError:
        raise DataError(f"{a} {who} must be given by its index (a whole number); got {x!r}.") from None


def _given(ratings: Ratings, given: Iterable[tuple[int, float]],
           on_scale: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The (item, rating) pairs checked, in increasing item order; ``on_scale`` False takes any finite value
    (a count of events)."""
    lo, hi = ratings.scale
    m = ratings.n_items
    seen: dict[int, float] = {}
    for pair in given:
        try:
            item, value = pair
        except (TypeError, ValueError):
            raise DataError(f"Each rating must be an (item, rating) pair; got {pair!r}.") from None
        i = _index(item, "item")
        if not 0 <= i < m:
            raise DataError(f"There is no item with index {i}; the {m:,} items have indices 0 to {m - 1:,}.")
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise DataError(f"The rating of {ratings.items[i]} must be a number; got {value!r}.") from None
        if not math.isfinite(v):
            raise DataError(f"The rating of {ratings.items[i]} is {v}; every rating must be a finite number.")
        if on_scale and not lo <= v <= hi:
            raise DataError(f"A rating of {v:g} for {ratings.items[i]} is off the rating scale {lo:g} to {hi:g}; "
                            f"give a rating from {lo:g} to {hi:g}.")
        if not on_scale and v < 0:
            raise DataError(f"A count of {v:g} for {ratings.items[i]} is below 0; a count of events is a number of "
                            "at least 0 (0: none).")
        if i in seen:
            raise DataError(f"{ratings.items[i]} is rated twice ({seen[i]:g} and {v:g}); give one rating per item.")
        seen[i] = v
    items = np.array(sorted(seen), dtype=np.int64)
    return items, np.array([seen[int(i)] for i in items], dtype=np.float64)


def _counts(train: Observed, n_items: int) -> np.ndarray:
    return np.bincount(np.asarray(train.cols, dtype=np.int64), minlength=n_items)[:n_items].astype(np.int64)


# -- linear algebra -------------------------------------------------------------------------------


def solve_spd(G: np.ndarray, h: np.ndarray) -> np.ndarray:
    """x with G x = h for a symmetric positive definite G: Cholesky G = L Lᵀ, then L y = h and Lᵀ x = y.

    When G is singular (β = 0 with fewer ratings than K) Cholesky fails and the minimum-norm
    least-squares solution is returned instead.
    """
    try:
        L = np.linalg.cholesky(G)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(G, h, rcond=None)[0]
    return _back(L.T, _forward(L, np.asarray(h, dtype=np.float64)))


def _forward(L: np.ndarray, b: np.ndarray) -> np.ndarray:
    """y with L y = b, L lower triangular."""
    y = np.empty_like(b)
    for i in range(b.shape[0]):
        y[i] = (b[i] - L[i, :i] @ y[:i]) / L[i, i]
    return y


def _back(U: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x with U x = y, U upper triangular."""
    x = np.empty_like(y)
    for i in range(y.shape[0] - 1, -1, -1):
        x[i] = (y[i] - U[i, i + 1:] @ x[i + 1:]) / U[i, i]
    return x


def nnls(G: np.ndarray, h: np.ndarray) -> np.ndarray:
    """The minimiser of xᵀ G x − 2 hᵀ x over x ≥ 0 (Lawson–Hanson's active set on the normal equations).

    That is min |A x − d|² over x ≥ 0 for any A with AᵀA = G and Aᵀd = h. Variables enter the
    passive set (free to be positive) one at a time, the one whose gradient falls most steeply first;
    a step that would make a passive variable negative stops at zero and moves it back. On return
    w = h − G x (minus half the gradient) is zero to rounding where x > 0 and at most rounding
    where x = 0, the KKT conditions.
    """
    K = h.shape[0]
    x = np.zeros(K)
    passive = np.zeros(K, dtype=bool)
    g_norm = float(np.max(np.sum(np.abs(G), axis=1))) if K else 0.0
    for _ in range(3 * K + 30):
        w = h - G @ x
        tol = 10.0 * max(K, 1) * np.finfo(float).eps * (float(np.max(np.abs(h), initial=0.0)) +
                                                          g_norm * float(np.max(x, initial=0.0)))
        free = ~passive & (w > tol)
        if not free.any():
            break
        passive[int(np.argmax(np.where(free, w, -np.inf)))] = True
        for _ in range(K + 1):
            s = np.zeros(K)
            idx = np.flatnonzero(passive)
            s[idx] = solve_spd(G[np.ix_(idx, idx)], h[idx])
            if np.all(s[idx] > 0):
                break
            blocked = passive & (s <= 0)
            gap = x[blocked] - s[blocked]  # > 0 but where both are 0: that step is 0
            steps = np.divide(x[blocked], gap, out=np.zeros_like(gap), where=gap > 0)
            k = int(np.argmin(steps))
            x = x + steps[k] * (s - x)
            x[np.flatnonzero(blocked)[k]] = 0.0
            passive &= x > 0
            x[~passive] = 0.0
        else:
            s = x
        x = s
    return x
