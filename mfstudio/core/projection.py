"""Users and items as points in taste space: the two coordinates the latent map draws for each.

With K = 2 the points are the model's own numbers, unscaled: user u is the row P[u, :] and
item i the column Q[:, i], so a number in the P table is a coordinate of a dot. With K = 1 the
x coordinate is the one factor and y is 0.

With K > 2 the users' rows and the items' columns are stacked into one (users + items) x K
matrix X = [P; Qᵀ] and projected onto its two leading right-singular vectors v1, v2 (a PCA
that is *not* centred):

    x_u = (P[u] · v1, P[u] · v2),    y_i = (Q[:, i] · v1, Q[:, i] · v2)

Not centring keeps the origin where the model has it, so the dot product stays visible: with
V = [v1 v2] (K x 2, orthonormal columns) the map's x_u · y_i = P[u] Vᵀ V Q[:, i], the part of
the prediction P[u] · Q[:, i] that lies in the plane. A centred PCA would move the origin to
the mean point, and an arrow from the origin would no longer be a user's taste.

v1 and v2 are the leading eigenvectors of the K x K matrix XᵀX = PᵀP + Q Qᵀ (the same vectors
an SVD of X gives), so nothing of size users x items, nor even X itself, is ever built. The
eigenvalues λ1 ≥ λ2 ≥ ... say how much of the stacked vectors' squared length,
‖X‖² = trace(XᵀX), each axis holds: ``explained`` is (λ1, λ2) / Σλ, shown as
"PC1 (43% of variance)" (the share of the uncentred second moment, the variance about the
origin).

Signs: an eigenvector is defined up to its sign, so each one is turned so that its largest
entry in absolute value (the first of them on a tie) is positive: the same factors always give
the same picture. During training the vectors turn a little each frame, and that rule could
flip a picture from one frame to the next when two entries swap places; pass the previous
frame's ``basis`` as ``previous`` and each vector's sign is instead the one that points the
way the previous one did. (When λ1 and λ2 cross, PC1 and PC2 swap places; that is what the
labels say, so it is left as it is.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mfstudio.core.solvers import Factors


@dataclass(frozen=True)
class Projection:
    """Where each user and each item sits on the map, and what the two axes are."""

    users_xy: np.ndarray  # (n_users, 2)
    items_xy: np.ndarray  # (n_items, 2)
    x_label: str  # "k1", or "PC1 (43% of variance)"
    y_label: str
    explained: tuple[float, float] | None  # share of the squared length per axis (K > 2); None for K <= 2
    basis: np.ndarray | None  # (K, 2) the unit vectors projected onto (K > 2); pass as ``previous``
    note: str = ""  # a sentence about the axes when they need one (K = 1, K > 2)

    def place(self, X: np.ndarray) -> np.ndarray:
        """Where the K-vectors ``X`` (rows: users' P rows or items' Q columns) sit on this map."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if self.basis is not None:
            return X @ self.basis
        if X.shape[1] == 1:
            return np.column_stack([X[:, 0], np.zeros(len(X))])
        return X[:, :2].copy()


def _percent(share: float) -> str:
    p = 100.0 * share
    return f"{p:.0f}%" if p >= 9.5 or p == 0 else f"{p:.1g}%" if p < 1 else f"{p:.1f}%"


def leading_basis(P: np.ndarray, Q: np.ndarray, previous: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The two leading right-singular vectors of [P; Qᵀ] as a (K, 2) array (signs as the module says), and
    the shares of the squared length they hold."""
    # K x K, the Gram matrix of the stacked rows; einsum runs on this thread alone, where a BLAS product this
    # small may wake BLAS threads and wait tens of milliseconds for them on a busy machine
    G = np.einsum("ik,il->kl", P, P) + np.einsum("ki,li->kl", Q, Q)
    w, V = np.linalg.eigh(G)  # ascending
    order = np.argsort(w, kind="stable")[::-1][:2]
    w, V = np.clip(w[order], 0.0, None), V[:, order].copy()
    use_previous = previous is not None and previous.shape == V.shape
    for j in range(V.shape[1]):
        v = V[:, j]
        if use_previous:
            flip = float(v @ previous[:, j]) < 0.0
        else:
            flip = v[int(np.argmax(np.abs(v)))] < 0.0
        if flip:
            V[:, j] = -v
    total = float(np.trace(G))
    shares = w / total if total > 0 else np.zeros_like(w)
    return V, shares


def project(factors: Factors, previous: np.ndarray | None = None) -> Projection:
    """Two coordinates per user and per item (see the module docstring); ``previous`` is the last frame's
    ``Projection.basis``, to keep the signs steady while training goes."""
    P = np.asarray(factors.P, dtype=np.float64)
    Q = np.asarray(factors.Q, dtype=np.float64)
    K = P.shape[1]
    if K == 1:
        return Projection(np.column_stack([P[:, 0], np.zeros(len(P))]),
                          np.column_stack([Q[0], np.zeros(Q.shape[1])]),
                          "k1", "", None, None,
                          "K = 1: one latent feature, drawn along the horizontal axis.")
    if K == 2:
        return Projection(P.copy(), Q.T.copy(), "k1", "k2", None, None)
    V, shares = leading_basis(P, Q, previous)
    s1, s2 = float(shares[0]), float(shares[1])
    return Projection(P @ V, (V.T @ Q).T, f"PC1 ({_percent(s1)} of variance)", f"PC2 ({_percent(s2)} of variance)",
                      (s1, s2), V,
                      f"K = {K}, seen along its two main directions ({_percent(s1 + s2)} of the variance).")
