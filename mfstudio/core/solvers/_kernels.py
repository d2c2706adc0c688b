"""Compiled inner loops of the solvers (numba, ``nogil`` so a window stays responsive).

Layout: P is users x K, and Q is handed over transposed as Qt (items x K), both
C-contiguous, so the K values a rating touches lie side by side in memory. The
arithmetic of each update is written exactly as in the solver's docstring.

Each ``*_run`` advances up to ``n_steps`` steps and after every step writes one row
of ``out``: objective, training SSE, training SAE, validation SSE, validation SAE.
It returns the number of steps done, stopping early once the objective is below
``tol`` or is not finite.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mfstudio.core import _cache_guard  # noqa: F401  (before anything compiles)

_OPTS = dict(cache=True, nogil=True)


@njit(**_OPTS)
def _dot(P, i, Qt, j):
    s = 0.0
    for k in range(P.shape[1]):
        s += P[i, k] * Qt[j, k]
    return s


@njit(**_OPTS)
def _errors(rows, cols, vals, P, Qt, ub, ib, mu, biased):
    """Sum of squared and of absolute errors of R_hat at the given entries."""
    sse = 0.0
    sae = 0.0
    for n in range(vals.shape[0]):
        i = rows[n]
        j = cols[n]
        pred = _dot(P, i, Qt, j)
        if biased:
            pred = mu + ub[i] + ib[j] + pred
        d = vals[n] - pred
        sse += d * d
        sae += abs(d)
    return sse, sae


@njit(**_OPTS)
def _objective_e(rows, cols, vals, P, Qt, half_beta, cu, ci, out, s):
    """The notebook's e = sum (R_ij - R_hat_ij)^2 + beta/2 sum_k (P_ik^2 + Q_kj^2) over observed (i, j).

    The regularizer is summed per user and per item, sum_i n_i |P_i|^2 + sum_j m_j |Q_:j|^2,
    which is the same value for (users + items) K work instead of ratings K.
    """
    K = P.shape[1]
    sse = 0.0
    sae = 0.0
    for n in range(vals.shape[0]):
        d = vals[n] - _dot(P, rows[n], Qt, cols[n])
        sse += d * d
        sae += abs(d)
    # written out rather than through _row_sq_weighted: its bias branch made an sgd step 1.7x slower
    reg = 0.0
    for u in range(P.shape[0]):
        q = 0.0
        for k in range(K):
            q += P[u, k] * P[u, k]
        reg += cu[u] * q
    for v in range(Qt.shape[0]):
        q = 0.0
        for k in range(K):
            q += Qt[v, k] * Qt[v, k]
        reg += ci[v] * q
    e = sse + half_beta * reg
    out[s, 0] = e
    out[s, 1] = sse
    out[s, 2] = sae
    return e


@njit(**_OPTS)
def _stop(e, tol):
    return (not np.isfinite(e)) or e < tol


# --------------------------------------------------------------------------- sgd
@njit(**_OPTS)
def _sgd_step(rows, cols, vals, P, Qt, alpha, beta):
    """One pass of the notebook's rule, operation for operation (P_ik first, Q_kj with the new P_ik).

    P_ik and Q_kj sit in locals during their update so they need not be reloaded
    through memory; the arithmetic and its order are the notebook's.
    """
    K = P.shape[1]
    for n in range(vals.shape[0]):
        i = rows[n]
        j = cols[n]
        eij = vals[n] - _dot(P, i, Qt, j)
        for k in range(K):
            pik = P[i, k]
            qjk = Qt[j, k]
            pik = pik + alpha * (2 * eij * qjk - beta * pik)
            qjk = qjk + alpha * (2 * eij * pik - beta * qjk)
            P[i, k] = pik
            Qt[j, k] = qjk


@njit(**_OPTS)
def sgd_run(rows, cols, vals, P, Qt, alpha, beta, tol, n_steps, vrows, vcols, vvals, out):
    # Branches are kept flat here: a helper call with its own branches in this loop
    # measured twice as slow on Example 1 (the per-step overhead dominates 9 ratings).
    cu, ci = _counts(rows, cols, P.shape[0], Qt.shape[0])
    half_beta = beta / 2
    has_val = vvals.shape[0] > 0
    for s in range(n_steps):
        _sgd_step(rows, cols, vals, P, Qt, alpha, beta)
        e = _objective_e(rows, cols, vals, P, Qt, half_beta, cu, ci, out, s)
        if has_val:
            vs, va = _errors(vrows, vcols, vvals, P, Qt, P[0], P[0], 0.0, False)
            out[s, 3] = vs
            out[s, 4] = va
        else:
            out[s, 3] = np.nan
            out[s, 4] = np.nan
        if not (e >= tol) or e == np.inf:  # below tol, NaN or infinite
            return s + 1
    return n_steps


# ------------------------------------------------- helpers of nmf, biased-sgd (and als: _als_kernels)
# These solvers have no notebook to match bit for bit, so their sums may be ordered
# for speed. Every order is fixed in the source (no fastmath), so results are
# bit-identical from run to run, and from machine to machine whatever SIMD is used.


@njit(**_OPTS)
def _row_sq_weighted(X, cnt, Xb):
    """sum_u cnt_u (|X_u|^2 + Xb_u^2); Xb may be empty."""
    K = X.shape[1]
    tot = 0.0
    for u in range(X.shape[0]):
        n = cnt[u]
        if n == 0:
            continue
        q = 0.0
        for k in range(K):
            q += X[u, k] * X[u, k]
        if Xb.shape[0]:
            q += Xb[u] * Xb[u]
        tot += n * q
    return tot


@njit(**_OPTS)
def _counts(rows, cols, n_users, n_items):
    """Ratings per user and per item."""
    cu = np.zeros(n_users, np.int64)
    ci = np.zeros(n_items, np.int64)
    for n in range(rows.shape[0]):
        cu[rows[n]] += 1
        ci[cols[n]] += 1
    return cu, ci


@njit(**_OPTS)
def _objective_counts(rows, cols, vals, P, Qt, ub, ib, mu, biased, w, cu, ci,
                      vrows, vcols, vvals, out, s):
    """Objective, errors and validation errors of step s, written to out[s].

    The regularizer charged per observed entry is summed per user and per item
    instead: sum_(i,j) (|P_i|^2 + |Q_:j|^2) = sum_i n_i |P_i|^2 + sum_j m_j |Q_:j|^2
    (same for the biases), so it costs (users + items) K, not ratings K. ``w`` is the
    weight in front of it: beta/2 for the notebook's e, beta for biased-sgd.
    """
    sse, sae = _errors(rows, cols, vals, P, Qt, ub, ib, mu, biased)
    reg = _row_sq_weighted(P, cu, ub) + _row_sq_weighted(Qt, ci, ib)
    e = sse + w * reg
    out[s, 0] = e
    out[s, 1] = sse
    out[s, 2] = sae
    if vvals.shape[0]:
        vs, va = _errors(vrows, vcols, vvals, P, Qt, ub, ib, mu, biased)
        out[s, 3] = vs
        out[s, 4] = va
    else:
        out[s, 3] = np.nan
        out[s, 4] = np.nan
    return e


# --------------------------------------------------------------------------- nmf
@njit(**_OPTS)
def _nmf_half(indptr, other, vals, X, Y, half_beta, num, den):
    """Multiplicative update of each row of X with Y fixed; X stays >= 0."""
    K = X.shape[1]
    for u in range(X.shape[0]):
        start = indptr[u]
        stop = indptr[u + 1]
        n = stop - start
        if n == 0:
            continue
        for k in range(K):
            num[k] = 0.0
            den[k] = 0.0
        for t in range(start, stop):
            j = other[t]
            pred = _dot(X, u, Y, j)
            r = vals[t]
            for k in range(K):
                num[k] += r * Y[j, k]
                den[k] += pred * Y[j, k]
        for k in range(K):
            nk = num[k]
            if nk < 0.0:
                nk = 0.0
            X[u, k] = X[u, k] * nk / (den[k] + half_beta * n * X[u, k] + 1e-12)


@njit(**_OPTS)
def nmf_run(rows, cols, vals, u_ptr, u_cols, u_vals, i_ptr, i_rows, i_vals,
            P, Qt, beta, tol, n_steps, vrows, vcols, vvals, out):
    K = P.shape[1]
    num = np.empty(K)
    den = np.empty(K)
    nob = np.zeros(0)
    cu = np.diff(u_ptr)
    ci = np.diff(i_ptr)
    for s in range(n_steps):
        _nmf_half(u_ptr, u_cols, u_vals, P, Qt, beta / 2, num, den)
        _nmf_half(i_ptr, i_rows, i_vals, Qt, P, beta / 2, num, den)
        e = _objective_counts(rows, cols, vals, P, Qt, nob, nob, 0.0, False, beta / 2, cu, ci,
                              vrows, vcols, vvals, out, s)
        if _stop(e, tol):
            return s + 1
    return n_steps


# -------------------------------------------------------------------- biased-sgd
@njit(**_OPTS)
def _splitmix64(state):
    state[0] += np.uint64(0x9E3779B97F4A7C15)
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(**_OPTS)
def _shuffle(order, state):
    """Fisher-Yates from splitmix64; an index below a+1 is (high 32 bits * (a+1)) >> 32.

    A multiply and a shift instead of a 64-bit modulo (a division costs tens of
    cycles per rating); the bias is below (a+1) / 2^32, nil for any real data set.
    """
    for a in range(order.shape[0] - 1, 0, -1):
        hi = _splitmix64(state) >> np.uint64(32)
        b = np.int64((hi * np.uint64(a + 1)) >> np.uint64(32))
        t = order[a]
        order[a] = order[b]
        order[b] = t
