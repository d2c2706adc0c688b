"""The reproducing script's update rule for ``implicit-als`` (see mfstudio.io.script): plain Python and numpy.

Kept apart from script.py for that file's length; script.py joins it to the other rules.
"""

from __future__ import annotations

IMPLICIT_ALS = '''
# -- implicit ALS (Hu, Koren & Volinsky 2008): every user x item cell counts -----------------------
# preference p = 1 if r > 0 else 0, confidence c = 1 + confidence |r| (1 on an empty cell); the objective
#   F = sum over ALL cells of c (p - P_u . Q_:i)^2 + beta (|P|^2 + |Q|^2)
def weights(values, confidence):
    """(c - 1, c p) of each interaction."""
    values = np.asarray(values, dtype=float)
    w = confidence * np.abs(values)
    return w, np.where(values > 0, 1.0 + w, 0.0)


def grouped(ratings, shape, confidence):
    """Per user and per item: (the other side's indices, c - 1, c p) of its interactions, in the order given."""
    by_user = [[] for _ in range(shape[0])]
    by_item = [[] for _ in range(shape[1])]
    for u, i, r in ratings:
        by_user[u].append((i, r))
        by_item[i].append((u, r))

    def arrays(cells):
        other = np.array([j for j, _ in cells], dtype=int)
        w, cp = weights([r for _, r in cells], confidence)
        return other, w, cp

    return [arrays(c) for c in by_user], [arrays(c) for c in by_item]


def solve_row(Y, YtY, cells, x, beta, cg_steps):
    """The row's weighted ridge system (Y^T Y + sum (c - 1) y y^T + beta I) x = sum c p y over its
    interactions (Y^T Y over ALL of Y: the empty cells' part): ``cg_steps`` conjugate-gradient steps from x,
    or exactly when cg_steps is None or at least K. A row without interactions is 0."""
    other, w, cp = cells
    K = Y.shape[1]
    if len(other) == 0:
        return np.zeros(K)
    Yr = Y[other]

    def times(v):  # A v without forming A
        return YtY @ v + beta * v + Yr.T @ (w * (Yr @ v))

    if cg_steps is None or cg_steps >= K:
        A = YtY + (Yr.T * w) @ Yr + beta * np.eye(K)
        return np.linalg.solve(A, Yr.T @ cp)
    x = np.array(x, dtype=float)
    r = Yr.T @ cp - times(x)
    p = r.copy()
    rs = r @ r
    for _ in range(cg_steps):
        if not rs > 0.0:  # solved already
            break
        Ap = times(p)
        pAp = p @ Ap
        if not pAp > 0.0:
            break
        alpha = rs / pAp
        x = x + alpha * p
        r = r - alpha * Ap
        rs_new = r @ r
        p = r + (rs_new / rs) * p
        rs = rs_new
    return x


def objective(ratings, P, Q, beta, confidence):
    """F without users x items: sum over all cells of x^2 = <P^T P, Q Q^T>, plus each interaction's
    c (p - x)^2 - x^2, plus beta times |P|^2 + |Q|^2."""
    GP, GQ = P.T @ P, Q @ Q.T
    rows = np.array([u for u, _, _ in ratings], dtype=int)
    cols = np.array([i for _, i, _ in ratings], dtype=int)
    w, cp = weights([r for _, _, r in ratings], confidence)
    x = np.einsum("nk,kn->n", P[rows], Q[:, cols])
    d = (cp > 0) - x
    return float(np.sum(GP * GQ) + np.sum((1.0 + w) * d * d - x * x) + beta * (np.trace(GP) + np.trace(GQ)))


def implicit_als(ratings, P, Q, steps, beta, tol, confidence, cg_steps):
    """Each step solves every user's row of P with Q fixed, then every item's column of Q with P fixed."""
    by_user, by_item = grouped(ratings, (P.shape[0], Q.shape[1]), confidence)
    for step in range(steps):
        Y = Q.T.copy()
        YtY = Y.T @ Y
        for u in range(P.shape[0]):
            P[u] = solve_row(Y, YtY, by_user[u], P[u], beta, cg_steps)
        PtP = P.T @ P
        for i in range(Q.shape[1]):
            Q[:, i] = solve_row(P, PtP, by_item[i], Q[:, i], beta, cg_steps)
        e = objective(ratings, P, Q, beta, confidence)
        if not np.isfinite(e) or e < tol:
            break
    return P, Q
'''
