r"""Similar items (or users): the nearest by the direction of their taste vectors, or by their dot product.

Item j's taste vector is its column q_j = Q[:, j] of the model (user u's is its row p_u = P[u]).
Two measures of how alike two vectors a and b are:

    cosine(a, b) = a·b / (|a| |b|)       in [−1, 1]: the angle between them only
    dot(a, b)    = a·b = |a| |b| cosine(a, b)

For one item a, |a| is the same in every pair, so the dot product ranks the others by
|b| cosine(a, b): of two items pointing the same way it prefers the longer vector. Regularisation
shrinks every vector towards zero and each rating pulls it back out, so long vectors often
belong to items with many ratings, the popular ones; :func:`lengths` gives each vector's length
and number of training ratings (and their correlation) to check that on the data at hand, and
:func:`compare` words it in one sentence. Only the tastes count: biases (biased-sgd) play no part.

A vector of zeros has no direction, so its cosine with anything is defined as 0 (never NaN).
Items (users) without training ratings, the cold ones, have no learned vector (only the random
start, or zeros in a model with biases); their vector is taken as zero: they score 0 by both
measures and come last. The item itself is left out; ties go to the lower index.

Cost: O(K x items) for one item's lists (O(K x users) for a user's): the ``n`` best are picked without
sorting the rest. The numbers of training ratings (a pass over the ratings) can be counted once per data
(:func:`rating_counts`, :func:`training_counts`) and handed to :func:`lengths` and :func:`compare`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mfstudio.core.errors import DataError
from mfstudio.core.ratings import Observed, Ratings
from mfstudio.core.solvers import Factors

ITEM, USER = "item", "user"
COSINE, DOT = "cosine", "dot"
MEASURES = (COSINE, DOT)
STRONG = 0.3  # a correlation of at least this size (either sign) is worth a word


@dataclass(frozen=True)
class Similar:
    """The items (or users) most like one, best first: parallel arrays, the one itself left out."""

    kind: str  # "item" or "user"
    index: int  # the one they are like
    by: str  # "cosine" or "dot"
    others: np.ndarray  # their indices, best first
    scores: np.ndarray  # cosine or dot product with the one, parallel to ``others``
    known: np.ndarray  # False where the other has no vector (cold or all zeros): score 0, ranked last
    query_known: bool = True  # False when the one itself has no vector: every score is 0

    def __len__(self) -> int:
        return int(self.others.shape[0])

    def rows(self, ratings: Ratings) -> list[tuple[str, float]]:
        """(label, score) pairs, best first."""
        labels = ratings.items if self.kind == ITEM else ratings.users
        return [(labels[k], float(s)) for k, s in zip(self.others, self.scores)]


@dataclass(frozen=True)
class Lengths:
    """Each item's (or user's) vector length and number of training ratings, for a scatter of the two."""

    kind: str
    length: np.ndarray  # |q_j| (or |p_u|); 0 for the cold ones
    ratings: np.ndarray  # training ratings of each
    cold: np.ndarray  # True where there is no training rating
    correlation: float | None  # Pearson's r of length and ratings over the others; None when undefined


@dataclass(frozen=True)
class Comparison:
    """Both lists for one item (or user) and the sentence on why they differ."""

    cosine: Similar
    dot: Similar
    lengths: Lengths
    sentence: str


def vectors(factors: Factors, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Every item's (or user's) taste vector as a row, the cold ones zeroed, and True where one is known."""
    _kind(kind)
    V = np.array(factors.Q.T if kind == ITEM else factors.P, dtype=np.float64)
    cold = factors.cold_items if kind == ITEM else factors.cold_users
    if cold is not None:
        V[cold] = 0.0
    return V, np.any(V != 0.0, axis=1)


def similar(factors: Factors, kind: str, index: int, by: str = COSINE, n: int | None = None) -> Similar:
    """The ``n`` items (``kind="item"``) or users most like ``index`` by ``by``, best first (None: all others)."""
    V, known = vectors(factors, kind)
    return _similar(V, known, kind, index, by, n)


def _similar(V: np.ndarray, known: np.ndarray, kind: str, index: int, by: str, n: int | None) -> Similar:
    """:func:`similar` on the vectors of :func:`vectors`."""
    if by not in MEASURES:
        raise DataError(f"There is no measure {by!r}; choose cosine or dot.")
    count = V.shape[0]
    if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
        raise DataError(f"{'An' if kind == ITEM else 'A'} {kind} must be given by its index (a whole number); "
                        f"got {index!r}.")
    if not 0 <= int(index) < count:
        raise DataError(f"There is no {kind} with index {int(index)}; the {count:,} {kind}s have indices 0 to "
                        f"{count - 1:,}.")
    a = int(index)
    dots = V @ V[a]
    if by == DOT:
        scores = dots
    else:
        norms = np.linalg.norm(V, axis=1)
        denom = norms * norms[a]
        scores = np.divide(dots, denom, out=np.zeros(count), where=denom > 0)
    scores = np.where(known & known[a], scores, 0.0)
    order = _best(scores, known, a, None if n is None else max(0, int(n)))
    return Similar(kind, a, by, order.astype(np.int64), scores[order], known[order], bool(known[a]))


def _best(scores: np.ndarray, known: np.ndarray, a: int, n: int | None) -> np.ndarray:
    """The ``n`` others than ``a`` (None: all), best first: the known ones first, then by score, then the lower
    index. Only the ``n`` picked are sorted (a partition finds them), so a top 10 of 71,567 users costs no sort
    of them all."""
    count = len(scores)
    others = np.ones(count, bool)
    others[a] = False
    if n is None or n >= count - 1:
        idx = np.flatnonzero(others)
        return idx[np.lexsort((idx, -scores[idx], ~known[idx]))]
    if n == 0:
        return np.zeros(0, np.int64)
    warm = np.flatnonzero(known & others)  # ascending: ties keep the lower index first
    if len(warm) <= n:
        cold = np.flatnonzero(~known & others)[: n - len(warm)]  # all score 0: by index
        return np.concatenate([warm[np.lexsort((warm, -scores[warm]))], cold])
    s = scores[warm]
    cut = np.partition(s, len(s) - n)[len(s) - n]  # the n-th best score
    above = warm[s > cut]
    pick = np.concatenate([above, warm[s == cut][: n - len(above)]])
    return pick[np.lexsort((pick, -scores[pick]))]


def similar_items(factors: Factors, item: int, by: str = COSINE, n: int | None = None) -> Similar:
    """The ``n`` items most like ``item`` (see :func:`similar`)."""
    return similar(factors, ITEM, item, by, n)


def similar_users(factors: Factors, user: int, by: str = COSINE, n: int | None = None) -> Similar:
    """The ``n`` users most like ``user`` (see :func:`similar`)."""
    return similar(factors, USER, user, by, n)


def rating_counts(train: Observed, kind: str, count: int) -> np.ndarray:
    """Each of the ``count`` items (or users) its number of ratings in ``train``."""
    side = train.cols if _kind(kind) == ITEM else train.rows
    return np.bincount(np.asarray(side, dtype=np.int64), minlength=count)[:count].astype(np.int64)


def training_counts(ratings: Ratings, held_out_cells: np.ndarray, kind: str) -> np.ndarray:
    """Each item's (or user's) number of training ratings: its ratings less its held-out ones (cells without a
    rating do not count), as :func:`rating_counts` of ``ratings.split_cells(held_out_cells).train`` without
    making that split (10 M ratings: counts, no copy of them)."""
    o = ratings.observed
    count = ratings.n_items if _kind(kind) == ITEM else ratings.n_users
    side = o.cols if kind == ITEM else o.rows
    total = np.bincount(np.asarray(side, dtype=np.int64), minlength=count)[:count].astype(np.int64)
    cells = ratings.check_cells(held_out_cells)
    if not len(cells) or not len(o):
        return total
    m = max(ratings.n_items, 1)
    key = o.rows * m + o.cols  # sorted and distinct: the entries' order
    want = np.sort(cells[:, 0] * m + cells[:, 1])
    at = np.minimum(np.searchsorted(key, want), len(key) - 1)
    held = np.zeros(len(key), bool)
    held[at[key[at] == want]] = True  # a cell given twice counts once
    return total - np.bincount(np.asarray(side[held], dtype=np.int64), minlength=count)[:count]


def lengths(factors: Factors, train: Observed | None, kind: str = ITEM, *, counts: np.ndarray | None = None) -> Lengths:
    """Each item's (or user's) vector length and number of ratings in ``train`` (or ``counts``, those numbers
    counted beforehand), and their correlation."""
    V, _known = vectors(factors, kind)
    return _lengths(V, kind, train, counts)


def _lengths(V: np.ndarray, kind: str, train: Observed | None, counts: np.ndarray | None) -> Lengths:
    count = V.shape[0]
    if counts is None:
        if train is None:
            raise ValueError("lengths needs the training ratings or their counts")
        counts = rating_counts(train, kind, count)
    ratings = np.asarray(counts, dtype=np.int64)
    if ratings.shape != (count,):
        raise ValueError(f"{len(ratings)} counts for {count} {kind}s")
    length = np.linalg.norm(V, axis=1)
    cold = ratings == 0
    return Lengths(kind, length, ratings, cold, _correlation(length[~cold], ratings[~cold]))


def _correlation(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson's r, None with fewer than 3 points or when either side does not vary."""
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    r = float(np.corrcoef(x, y)[0, 1])
    return r if np.isfinite(r) else None


def compare(factors: Factors, train: Observed | None, kind: str, index: int, n: int = 10, *,
            counts: np.ndarray | None = None) -> Comparison:
    """The cosine and the dot-product lists of the ``n`` nearest, with one sentence on why they differ
    (``counts``: the numbers of training ratings counted beforehand, else counted in ``train``)."""
    V, known = vectors(factors, kind)
    cos, dot = _similar(V, known, kind, index, COSINE, n), _similar(V, known, kind, index, DOT, n)
    lens = _lengths(V, kind, train, counts)
    return Comparison(cos, dot, lens, difference_sentence(cos, dot, lens))


def difference_sentence(cos: Similar, dot: Similar, lens: Lengths) -> str:
    """One plain sentence: why the dot product's list differs from the cosine's (or that they agree)."""
    who = cos.kind
    if not cos.query_known:
        return (f"The model has no taste vector for this {who} (it has no training ratings), so no {who} is like "
                "it: every score is 0.")
    if list(cos.others) == list(dot.others):
        return (f"Both lists are the same here: the dot product also weighs each {who}'s vector length, but among "
                f"the {who}s closest in direction the lengths do not change the order.")
    lead = (f"Cosine compares only the direction of the taste vectors; the dot product also multiplies by their "
            f"length, so it favours {who}s with long vectors")
    r = lens.correlation
    if r is None:
        clause = ""
    else:
        figure = f"correlation {round(r, 2) + 0.0:.2f} between length and number of ratings"
        if r >= STRONG:
            clause = f", which here are the {'often-rated items' if who == ITEM else 'users who rate a lot'} ({figure})"
        elif r <= -STRONG:
            few = "rarely rated items" if who == ITEM else "users who rate little"
            clause = f"; here longer vectors go with fewer ratings ({figure}), so it leans to {few}"
        else:
            rated = "how often an item is rated" if who == ITEM else "how many ratings a user gives"
            clause = f"; here length has little to do with {rated} ({figure})"
    if set(cos.others) == set(dot.others):
        tail = f", and both top {len(dot):,}s hold the same {who}s, only in another order"
    else:
        tail = (f", and the dot product's top {len(dot):,} averages {np.mean(lens.ratings[dot.others]):.1f} ratings "
                f"against cosine's {np.mean(lens.ratings[cos.others]):.1f}")
    return f"{lead}{clause}{tail}."


def _kind(kind: str) -> str:
    if kind not in (ITEM, USER):
        raise DataError(f"Similar ones are found for an item or a user, not a {kind!r}.")
    return kind
