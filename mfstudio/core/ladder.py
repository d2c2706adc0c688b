"""The model ladder: which parts of a trained model predict, for showing what each part adds.

A biased model predicts r̂_ui = μ + b_u + b_i + Σ_k P[u,k]·Q[k,i]; the ladder's rungs switch on
the global mean μ, then the user biases b_u, then the item biases b_i, then the factors one by one
(a model without biases has only the factor rungs). Switching parts off never changes the trained
model: :func:`masked` returns a copy whose predictions are those of the parts left on.

Each rung adds one term to the rung below it, so the predictions of all rungs at the n observed
entries cost one pass, O(n·(K + 3)), not one pass per rung:

    rung "mean only"       r̂⁽⁰⁾ = μ
    rung "+ user biases"   r̂⁽¹⁾ = r̂⁽⁰⁾ + b_u
    rung "+ item biases"   r̂⁽²⁾ = r̂⁽¹⁾ + b_i
    rung "+ factor k"      r̂⁽²⁺ᵏ⁾ = r̂⁽¹⁺ᵏ⁾ + P[u,k]·Q[k,i]         (k = 1 … K)

and the last rung is the whole model. Users (items) without a training rating are "cold": the
model predicts a fallback for them (the training mean, plus the other side's bias when that bias
is on), at every rung alike, exactly as :meth:`Factors.predict_at` of the masked model does.

The factor layers: R̂ = B + Σ_k L_k with the rank-1 layer L_k = P[:,k]·Q[k,:] (an outer product) and
the baseline B = μ + b_u + b_i (0 for a model without biases). A cold user's or item's layers are 0
there and the baseline holds its fallback, so the sum is R̂ on every cell.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from mfstudio.core.keys import distinct
from mfstudio.core.ratings import Observed, Ratings
from mfstudio.core.solvers import Factors

Index = Sequence[int] | np.ndarray | range


@dataclass(frozen=True)
class Parts:
    """Which parts of a model predict: the global mean, the user and item biases, and the first ``factors``
    latent factors (None: all K). For a model without biases only ``factors`` matters."""

    mean: bool = True
    user_bias: bool = True
    item_bias: bool = True
    factors: int | None = None

    @property
    def everything(self) -> bool:
        return self.mean and self.user_bias and self.item_bias and self.factors is None


def masked(f: Factors, parts: Parts) -> Factors:
    """A copy of ``f`` that predicts with only ``parts`` (the parts switched off are zero); ``f`` itself
    when every part is on."""
    if parts.everything:
        return f
    g = f.copy()
    if parts.factors is not None:
        k = max(0, min(int(parts.factors), f.K))
        g.P[:, k:] = 0.0
        g.Q[k:, :] = 0.0
    if g.user_bias is not None:
        if not parts.mean:
            g.global_mean = 0.0
            g.fallback_mean = 0.0
        if not parts.user_bias:
            g.user_bias = np.zeros_like(g.user_bias)
        if not parts.item_bias:
            g.item_bias = np.zeros_like(g.item_bias)
    return g


# -- the rungs ---------------------------------------------------------------------------------------
def has_biases(f: Factors) -> bool:
    return f.user_bias is not None


def rungs(f: Factors) -> list[tuple[str, Parts]]:
    """The ladder of ``f``, bottom first: (label, parts) per rung; the last rung's parts are ``Parts()``.

    With biases: "mean only", "+ user biases", "+ item biases", "+ factor 1", …, "+ factor K";
    without: "factor 1", "factors 1–2", …, "factors 1–K".
    """
    K = f.K
    out: list[tuple[str, Parts]] = []
    if has_biases(f):
        out += [("mean only", Parts(True, False, False, 0)), ("+ user biases", Parts(True, True, False, 0)),
                ("+ item biases", Parts(True, True, True, 0))]
        out += [(f"+ factor {k}", Parts(factors=k)) for k in range(1, K + 1)]
    else:
        out += [("factor 1" if k == 1 else f"factors 1–{k}", Parts(factors=k)) for k in range(1, K + 1)]
    if out:
        out[-1] = (out[-1][0], Parts())
    return out


def normalized(f: Factors, parts: Parts) -> Parts:
    """``parts`` as they act on ``f``: a factor count of K or more is "all factors" (None); without biases
    the mean and bias switches do not matter and read as on."""
    k = parts.factors
    if k is not None:
        k = max(0, int(k))
        k = None if k >= f.K else k
    if not has_biases(f):
        return Parts(factors=k)
    return Parts(parts.mean, parts.user_bias, parts.item_bias, k)


def rung_of(f: Factors, parts: Parts) -> int | None:
    """The index in :func:`rungs` of the rung that ``parts`` are on ``f``; None when they are no rung
    (say, item biases without user biases)."""
    want = normalized(f, parts)
    for i, (_label, p) in enumerate(rungs(f)):
        if normalized(f, p) == want:
            return i
    return None


def rung_predictions(f: Factors, rows: np.ndarray, cols: np.ndarray) -> Iterator[np.ndarray]:
    """R̂ at the cells (rows, cols) for each rung of :func:`rungs`, bottom first.

    Each rung adds one term to the one below (see the module docstring); the array yielded is
    reused for the next rung, so copy it to keep it.
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    n = len(rows)
    biased = has_biases(f)
    cu = np.isin(rows, f.cold_users) if f.cold_users is not None else np.zeros(n, bool)
    ci = np.isin(cols, f.cold_items) if f.cold_items is not None else np.zeros(n, bool)
    cold = cu | ci
    any_cold = bool(cold.any())
    cold_pred = np.full(n, float(f.fallback_mean))  # the fallback at the cold cells, as the rung has it
    s = np.zeros(n)  # the warm cells' sum of the terms switched on so far
    out = np.empty(n)

    def emit() -> np.ndarray:
        if any_cold:
            np.copyto(out, s)
            out[cold] = cold_pred[cold]
            return out
        return s


    def quiet() -> np.errstate:  # a diverged model's inf and NaN are its errors, not warnings
        return np.errstate(over="ignore", invalid="ignore")

    if biased:
        with quiet():
            s += f.global_mean
        yield emit()
        with quiet():
            s += f.user_bias[rows]
            cold_pred[ci & ~cu] += f.user_bias[rows[ci & ~cu]]
        yield emit()
        with quiet():
            s += f.item_bias[cols]
            cold_pred[cu & ~ci] += f.item_bias[cols[cu & ~ci]]
        yield emit()
    PT = np.ascontiguousarray(f.P.T)  # factor k's column of P and row of Q, each contiguous
    Q = np.ascontiguousarray(f.Q)
    for k in range(f.K):
        with quiet():
            term = PT[k][rows]
            term *= Q[k][cols]
            s += term
        yield emit()


@dataclass(frozen=True)
class RungError:
    """One rung's label, parts and RMSE on the training and validation ratings (NaN when there are none)."""

    label: str
    parts: Parts
    train_rmse: float
    val_rmse: float


def sample_positions(n: int, k: int, seed: int = 0) -> np.ndarray:
    """``k`` distinct positions out of ``range(n)``, sorted, each ``k``-subset equally likely, fixed by ``seed``.

    Costs O(k log k), not O(n) as ``rng.choice(n, k, replace=False)`` (a whole shuffle: 0.2 s at 10 M): draws
    with repeats are made until ``k`` distinct positions are in hand (about ``k`` draws while k ≪ n), then
    the extra ones are dropped at random. Drawn with repeats, the distinct ones are a uniformly random subset
    given their number, and a random ``k`` of those is a uniformly random ``k``-subset."""
    n, k = int(n), int(k)
    if not 0 <= k <= n:
        raise ValueError(f"cannot draw {k} distinct positions out of {n}")
    rng = np.random.default_rng(seed)
    if 2 * k > n:  # most of them: the shuffle costs no more than the draws would
        return np.sort(rng.choice(n, size=k, replace=False))
    got = np.zeros(0, np.int64)
    while len(got) < k:
        want = k - len(got)
        got = distinct(np.concatenate([got, rng.integers(0, n, size=want + want // 8 + 16, dtype=np.int64)]))
    if len(got) > k:  # drop the extra ones at random: what is left stays sorted
        keep = np.ones(len(got), bool)
        keep[rng.choice(len(got), size=len(got) - k, replace=False, shuffle=False)] = False
        got = got[keep]
    return got


def ladder_split(ratings: Ratings, held_out_cells: np.ndarray, most: int = 400_000) -> tuple[Observed, Observed, str]:
    """(training, validation) ratings to work the rungs' errors out on, and "" or the words saying they are a
    sample: every rating of data with at most ``most``, else a fixed (seeded) random ``most`` of them
    (:func:`sample_positions`: O(most), not O(ratings)), so a rung of 10 M ratings costs no more than one of
    400,000 (the window's thread stays free)."""
    o, n = ratings.observed, ratings.nnz
    if n <= most:
        split = ratings.split_cells(held_out_cells)
        return split.train, split.val, ""
    pick = sample_positions(n, most, 0)
    m = max(ratings.n_items, 1)
    rows, cols, vals = o.rows[pick], o.cols[pick], o.vals[pick]
    cells = np.asarray(held_out_cells, dtype=np.int64).reshape(-1, 2)
    held_keys = np.sort(cells[:, 0] * m + cells[:, 1])  # repeats do no harm to the search (np.unique is slow)
    keys = rows * m + cols
    at = np.minimum(np.searchsorted(held_keys, keys), max(len(held_keys) - 1, 0))
    held = held_keys[at] == keys if len(held_keys) else np.zeros(most, bool)
    train = Observed(rows[~held], cols[~held], vals[~held])
    val = Observed(rows[held], cols[held], vals[held])
    return train, val, f"errors on a random {most:,} of the {n:,} ratings"


def _rmse(d: np.ndarray) -> float:
    return float(np.sqrt(np.mean(d * d))) if len(d) else math.nan  # as metrics.rmse (np.dot is slower here)


def rung_errors(f: Factors, train: Observed, val: Observed | None = None) -> list[RungError]:
    """The RMSE of every rung on the observed entries of ``train`` and ``val`` (no users x items array).

    All rungs together cost about one prediction pass (:func:`rung_predictions`); the last rung's
    errors are those of the whole model, :func:`mfstudio.core.metrics.rmse`.
    """
    return list(iter_rung_errors(f, train, val))


def iter_rung_errors(f: Factors, train: Observed, val: Observed | None = None) -> Iterator[RungError]:
    """:func:`rung_errors` one rung at a time, bottom first: a caller can spread the work over time."""
    n_train = len(train)
    if val is None or len(val) == 0:
        rows, cols, vals = train.rows, train.cols, train.vals
    else:
        rows = np.concatenate([train.rows, val.rows])
        cols = np.concatenate([train.cols, val.cols])
        vals = np.concatenate([train.vals, val.vals])
    d = np.empty(len(vals))
    for (label, parts), pred in zip(rungs(f), rung_predictions(f, rows, cols)):
        with np.errstate(over="ignore", invalid="ignore"):
            np.subtract(vals, pred, out=d)
            yield RungError(label, parts, _rmse(d[:n_train]), _rmse(d[n_train:]))


# -- layers and residuals over a block of users x items -------------------------------------------------
def _index(ix: Index) -> np.ndarray:
    return np.asarray(ix, dtype=np.int64).reshape(-1)


def _warm(f: Factors, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per shown user and item: 1.0 when it had training ratings, 0.0 when cold."""
    wu = np.ones(len(users))
    wi = np.ones(len(items))
    if f.cold_users is not None:
        wu[np.isin(users, f.cold_users)] = 0.0
    if f.cold_items is not None:
        wi[np.isin(items, f.cold_items)] = 0.0
    return wu, wi


def layer(f: Factors, k: int, users: Index, items: Index) -> np.ndarray:
    """The rank-1 layer P[u,k]·Q[k,i] of factor ``k`` (0-based) for the given users (rows) and items (columns);
    0 at a cold user or item, whose prediction is the fallback in :func:`baseline`."""
    u, i = _index(users), _index(items)
    wu, wi = _warm(f, u, i)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.outer(f.P[u, k] * wu, f.Q[k, i] * wi)


def baseline(f: Factors, users: Index, items: Index) -> np.ndarray:
    """What predicts without any factor: μ + b_u + b_i (0 without biases), and the fallback at cold cells;
    :func:`baseline` plus every :func:`layer` is R̂ on the block."""
    u, i = _index(users), _index(items)
    B = np.zeros((len(u), len(i)))
    if has_biases(f):
        B += f.global_mean + f.user_bias[u][:, None] + f.item_bias[i][None, :]
    if f.cold_users is not None or f.cold_items is not None:
        wu, wi = _warm(f, u, i)
        ub = f.user_bias[u] if has_biases(f) else np.zeros(len(u))
        ib = f.item_bias[i] if has_biases(f) else np.zeros(len(i))
        cu, ci = wu == 0, wi == 0
        B[np.ix_(~cu, ci)] = f.fallback_mean + ub[~cu][:, None]
        B[np.ix_(cu, ~ci)] = f.fallback_mean + ib[~ci][None, :]
        B[np.ix_(cu, ci)] = f.fallback_mean
    return B


def predicted(f: Factors, users: Index, items: Index) -> np.ndarray:
    """R̂ on the block of the given users (rows) and items (columns)."""
    u, i = _index(users), _index(items)
    uu, ii = np.meshgrid(u, i, indexing="ij")
    with np.errstate(over="ignore", invalid="ignore"):
        return f.predict_at(uu.ravel(), ii.ravel()).reshape(len(u), len(i))


def block_entries(observed: Observed, n_users: int, n_items: int, users: Index,
                  items: Index) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The observed entries inside the block: their indices into ``observed`` and their (row, column) in the
    block. One pass over the entries (a user or item shown twice keeps its first place)."""
    u, i = _index(users), _index(items)
    upos = np.full(n_users, -1, np.int64)
    ipos = np.full(n_items, -1, np.int64)
    upos[u[::-1]] = np.arange(len(u))[::-1]
    ipos[i[::-1]] = np.arange(len(i))[::-1]
    br, bc = upos[observed.rows], ipos[observed.cols]
    sel = np.flatnonzero((br >= 0) & (bc >= 0))
    return sel, br[sel], bc[sel]


def residuals(ratings: Ratings, f: Factors, users: Index, items: Index) -> np.ndarray:
    """R − R̂ on the block of the given users and items at the rated cells (training and held out); NaN
    where there is no rating."""
    u, i = _index(users), _index(items)
    o = ratings.observed
    sel, br, bc = block_entries(o, ratings.n_users, ratings.n_items, u, i)
    E = np.full((len(u), len(i)), np.nan)
    with np.errstate(over="ignore", invalid="ignore"):
        E[br, bc] = o.vals[sel] - f.predict_at(o.rows[sel], o.cols[sel])
    return E


def parts_words(parts: Parts, f: Factors) -> str:
    """The parts switched on, in words: "the mean, the user biases and factors 1-2"."""
    words = []
    if f.user_bias is not None:
        words += [w for on, w in ((parts.mean, "the mean"), (parts.user_bias, "the user biases"),
                                  (parts.item_bias, "the item biases")) if on]
    k = f.K if parts.factors is None else max(0, min(int(parts.factors), f.K))
    if k:
        words.append("factor 1" if k == 1 else f"factors 1-{k}")
    if not words:
        return "nothing"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
