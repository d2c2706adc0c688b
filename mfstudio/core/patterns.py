"""Planted-taste rating matrices: ratings made from known factors, so a model's estimate can be set beside the truth.

The recipe, for ``users`` n, ``items`` m, true ``K``, ``clusters`` C, ``noise`` σ, share ``observed``
s, rating scale [lo, hi] and ``seed`` (one ``numpy.random.default_rng(seed)``, drawn in this order):

1. centres     c_1 … c_C ~ N(0, I_K), one point per taste cluster;
2. clusters    cluster(u): 0, 1, …, C−1, 0, 1, … over the users, randomly permuted (sizes differ by ≤ 1);
3. users       P0[u] = c_cluster(u) + w · z_u,  z_u ~ N(0, I_K), w = SPREAD = 0.3;
4. items       Q0[:, i] = y_i,  y_i ~ N(0, I_K);
5. scale       P_true = a · P0 and Q_true = a · Q0 with a = sqrt(((hi − lo) / 4) / std(P0·Q0)), the
               standard deviation taken over all n·m cells (a = 1 if it is 0): the planted product then
               has standard deviation (hi − lo) / 4, one star on 1–5, so the ratings fill the scale;
6. noise       ε_ui ~ N(0, σ²), one per cell;
7. ratings     R_ui = clip(⌊μ + P_true[u]·Q_true[:, i] + ε_ui + ½⌋, lo, hi): rounded to the nearest
               whole rating (halves up) and clipped to the scale, with μ = (lo + hi) / 2;
8. observed    round(s·n·m) cells (at least 1) are kept: first one per user and per item where
               there are enough (cell t = (u_perm[t mod n], i_perm[t mod m]) for t < max(n, m), with
               u_perm, i_perm random permutations), then the rest drawn uniformly from the other cells.

The truth is the biased model μ + 0 + 0 + P_true·Q_true (:meth:`Planted.factors`): a model with biases
can match it with K factors; one without biases (sgd, als, nmf) also has to make μ from its factors.

Same parameters and seed, same ratings and factors; :meth:`Pattern.regenerate` is the next seed.
Users are named by cluster ("A1", "A2", "B1", …; "User 1", … with one cluster), items "Item 1", ….
A Session does not hold the truth: whoever shows it keeps the Planted (or only its Pattern, from
which :func:`generate` makes the same again) beside the session, and drops it once the ratings change.
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass, replace

import numpy as np

from mfstudio.core.errors import ParameterError
from mfstudio.core.params import SEED, ParamSpec
from mfstudio.core.ratings import Ratings
from mfstudio.core.solvers import Factors

SPREAD = 0.3  # how far users sit from their cluster's centre, relative to the centres' spread
MAX_PATTERN_CELLS = 1_000_000  # users x items: a teaching matrix, which the grid and the latent map show whole
MAX_SCALE_STEPS = 100  # whole ratings from lo to hi

USERS = ParamSpec("users", "Users", int, 30, 1, 100_000, "How many users (rows of R) to make.")
ITEMS = ParamSpec("items", "Items", int, 20, 1, 100_000, "How many items (columns of R) to make.")
TRUE_K = ParamSpec("K", "True K", int, 2, 1, 20,
                   "How many tastes the ratings are made from: the K of the planted P and Q.")
NOISE = ParamSpec("noise", "Noise", float, 0.3, 0.0, 100.0,
                  "The standard deviation of the random noise added to each rating before rounding.")
OBSERVED = ParamSpec("observed", "Share observed", float, 0.5, 0.0, 1.0,
                     "The share of the cells that hold a rating; the others are not rated.", min_exclusive=True)
CLUSTERS = ParamSpec("clusters", "Taste clusters", int, 3, 1, len(string.ascii_uppercase),
                     "How many groups of users with similar tastes (users are drawn around a centre each).")
PATTERN_PARAMS = (USERS, ITEMS, TRUE_K, NOISE, OBSERVED, CLUSTERS, SEED)


@dataclass(frozen=True)
class Pattern:
    """The parameters of a planted-taste matrix (see the module docstring); checked when made."""

    users: int = int(USERS.default)
    items: int = int(ITEMS.default)
    K: int = int(TRUE_K.default)
    noise: float = float(NOISE.default)
    observed: float = float(OBSERVED.default)
    clusters: int = int(CLUSTERS.default)
    scale: tuple[float, float] = (1.0, 5.0)
    seed: int = int(SEED.default)

    def __post_init__(self) -> None:
        for spec in PATTERN_PARAMS:
            object.__setattr__(self, spec.name, spec.validate(getattr(self, spec.name)))
        n, m = self.users, self.items
        if n * m > MAX_PATTERN_CELLS:
            raise ParameterError(f"A pattern of {n:,} users x {m:,} items has {n * m:,} cells, more than a pattern "
                                 f"may have ({MAX_PATTERN_CELLS:,}); make fewer users or items.")
        if self.K > min(n, m):
            raise ParameterError(f"True K is {self.K} but the ratings have only {min(n, m)} "
                                 f"{'users' if n <= m else 'items'}; K can be at most that many.")
        if self.clusters > n:
            raise ParameterError(f"There are {self.clusters} taste clusters for {n} users; "
                                 "make at most one cluster per user.")
        try:
            lo, hi = (float(x) for x in self.scale)
        except (TypeError, ValueError):
            raise ParameterError("The rating scale must be two numbers, lowest and highest (such as 1 and 5)."
                                 ) from None
        if not (math.isfinite(lo) and math.isfinite(hi) and lo.is_integer() and hi.is_integer() and lo < hi):
            raise ParameterError(f"The rating scale must run between two whole numbers, lowest first (such as 1 to 5), "
                                 f"not {self.scale[0]!r} to {self.scale[1]!r}.")
        if hi - lo > MAX_SCALE_STEPS:
            raise ParameterError(f"The rating scale {lo:g} to {hi:g} is wider than {MAX_SCALE_STEPS}; "
                                 "use a scale such as 1 to 5 or 1 to 10.")
        object.__setattr__(self, "scale", (lo, hi))

    def regenerate(self) -> Pattern:
        """The same parameters with the next seed (after the largest seed, 0): Regenerate."""
        return replace(self, seed=(self.seed + 1) % (int(SEED.maximum) + 1))


@dataclass(frozen=True, eq=False)
class Planted:
    """Generated ratings and the truth behind them: the planted factors and each user's cluster."""

    pattern: Pattern
    ratings: Ratings
    P_true: np.ndarray  # users x K
    Q_true: np.ndarray  # K x items
    mu: float  # the middle of the scale, added to every planted rating
    cluster: np.ndarray  # the cluster (0 … clusters − 1) of each user
    centres: np.ndarray  # clusters x K, already multiplied by the scale a

    def truth(self) -> np.ndarray:
        """μ + P_true·Q_true: every cell's planted rating before noise, rounding and clipping (users x items)."""
        return self.mu + self.P_true @ self.Q_true

    def factors(self) -> Factors:
        """The truth as a biased model (global mean μ, zero biases), to set beside a trained one."""
        n, m = self.ratings.shape
        return Factors(self.P_true.copy(), self.Q_true.copy(), np.zeros(n), np.zeros(m), self.mu,
                       fallback_mean=self.mu)


def aligned_truth(planted: Planted, P: np.ndarray, Q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The planted factors turned and scaled to sit where an estimate (``P`` users x K, ``Q`` K x items) sits.

    Factors are only defined up to a rotation (P Q = P R Rᵀ Q), so the truth is compared after the
    orthogonal Procrustes fit: with X = [P_true; Q_trueᵀ] and Y = [P; Qᵀ], the R (K_true x K, orthonormal)
    and scale s minimising ‖s X R − Y‖ are R = U Vᵀ and s = trace(Σ) / ‖X‖² from the SVD Xᵀ Y = U Σ Vᵀ.
    Returns (s P_true R, (s Q_trueᵀ R)ᵀ).
    """
    X = np.vstack([planted.P_true, planted.Q_true.T])
    Y = np.vstack([np.asarray(P, dtype=float), np.asarray(Q, dtype=float).T])
    if X.shape[0] != Y.shape[0]:
        raise ValueError("The estimate is of other data than the planted pattern.")
    U, sig, Vt = np.linalg.svd(X.T @ Y, full_matrices=False)
    R = U @ Vt
    norm = float(np.sum(X * X))
    s = float(np.sum(sig)) / norm if norm > 0 else 0.0
    n = planted.P_true.shape[0]
    Z = s * X @ R
    return Z[:n], Z[n:].T


def cluster_name(c: int) -> str:
    """The letter of cluster ``c``: A for 0, B for 1, …"""
    return string.ascii_uppercase[c]


def user_labels(cluster: np.ndarray, clusters: int) -> list[str]:
    """Names by cluster, numbered in order within each ("A1", "B1", "A2", …); "User 1", … with one cluster."""
    if clusters == 1:
        return [f"User {u + 1}" for u in range(len(cluster))]
    seen = [0] * clusters
    out = []
    for c in cluster.tolist():
        seen[c] += 1
        out.append(f"{cluster_name(c)}{seen[c]}")
    return out


def observed_cells(rng: np.random.Generator, n: int, m: int, share: float) -> np.ndarray:
    """The flat indices (row * m + col) of the kept cells, sorted: step 8 of the recipe."""
    count = max(1, int(math.floor(share * n * m + 0.5)))
    cover = min(count, max(n, m))
    t = np.arange(cover)
    u_perm, i_perm = rng.permutation(n), rng.permutation(m)
    first = u_perm[t % n] * m + i_perm[t % m]
    taken = np.zeros(n * m, dtype=bool)
    taken[first] = True
    rest = rng.choice(np.flatnonzero(~taken), size=count - cover, replace=False)
    return np.sort(np.concatenate([first, rest]))


def generate(pattern: Pattern) -> Planted:
    """The ratings and planted factors of ``pattern``, by the recipe of the module docstring."""
    p = pattern
    n, m, K, C = p.users, p.items, p.K, p.clusters
    lo, hi = p.scale
    rng = np.random.default_rng(p.seed)
    centres = rng.standard_normal((C, K))
    cluster = rng.permutation(np.arange(n) % C)
    P0 = centres[cluster] + SPREAD * rng.standard_normal((n, K))
    Q0 = rng.standard_normal((K, m))
    spread = float(np.std(P0 @ Q0))
    a = math.sqrt(((hi - lo) / 4) / spread) if spread > 0 else 1.0
    P_true, Q_true = a * P0, a * Q0
    eps = p.noise * rng.standard_normal((n, m))
    mu = (lo + hi) / 2
    full = np.clip(np.floor(mu + P_true @ Q_true + eps + 0.5), lo, hi)
    flat = observed_cells(rng, n, m, p.observed)
    rows, cols = flat // m, flat % m
    ratings = Ratings(rows, cols, full[rows, cols], (n, m), user_labels(cluster, C),
                      [f"Item {i + 1}" for i in range(m)], (lo, hi))
    return Planted(p, ratings, P_true, Q_true, mu, cluster, a * centres)
