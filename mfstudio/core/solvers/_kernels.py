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
def _objective_e(rows, cols, vals, P, Qt, beta, out, s):
    """The notebook's e: squared error plus beta/2 (P_ik^2 + Q_kj^2) per observed entry and k."""
    e = 0.0
    sse = 0.0
    sae = 0.0
    K = P.shape[1]
    half = beta / 2
    for n in range(vals.shape[0]):
        i = rows[n]
        j = cols[n]
        d = vals[n] - _dot(P, i, Qt, j)
        e = e + d * d
        sse += d * d
        sae += abs(d)
        for k in range(K):
            e = e + half * (P[i, k] * P[i, k] + Qt[j, k] * Qt[j, k])
    out[s, 0] = e
    out[s, 1] = sse
    out[s, 2] = sae
    return e


@njit(**_OPTS)
def _record_val(vrows, vcols, vvals, P, Qt, ub, ib, mu, biased, out, s):
    if vvals.shape[0]:
        vs, va = _errors(vrows, vcols, vvals, P, Qt, ub, ib, mu, biased)
        out[s, 3] = vs
        out[s, 4] = va
    else:
        out[s, 3] = np.nan
        out[s, 4] = np.nan


@njit(**_OPTS)
def _stop(e, tol):
    return (not np.isfinite(e)) or e < tol


# --------------------------------------------------------------------------- sgd
@njit(**_OPTS)
def sgd_run(rows, cols, vals, P, Qt, alpha, beta, tol, n_steps, vrows, vcols, vvals, out):
    K = P.shape[1]
    nob = np.zeros(0)
    for s in range(n_steps):
        for n in range(vals.shape[0]):
            i = rows[n]
            j = cols[n]
            eij = vals[n] - _dot(P, i, Qt, j)
            for k in range(K):
                P[i, k] = P[i, k] + alpha * (2 * eij * Qt[j, k] - beta * P[i, k])
                Qt[j, k] = Qt[j, k] + alpha * (2 * eij * P[i, k] - beta * Qt[j, k])
        e = _objective_e(rows, cols, vals, P, Qt, beta, out, s)
        _record_val(vrows, vcols, vvals, P, Qt, nob, nob, 0.0, False, out, s)
        if _stop(e, tol):
            return s + 1
    return n_steps


# --------------------------------------------------------------------------- als
@njit(**_OPTS)
def _cholesky_solve(A, b, x):
    """Solve A x = b for symmetric positive definite A (K x K), overwriting A."""
    K = A.shape[0]
    for j in range(K):
        d = A[j, j]
        for k in range(j):
            d -= A[j, k] * A[j, k]
        if d <= 0.0:
            d = 1e-300
        d = np.sqrt(d)
        A[j, j] = d
        for i in range(j + 1, K):
            s = A[i, j]
            for k in range(j):
                s -= A[i, k] * A[j, k]
            A[i, j] = s / d
    for i in range(K):  # forward: L y = b
        s = b[i]
        for k in range(i):
            s -= A[i, k] * x[k]
        x[i] = s / A[i, i]
    for i in range(K - 1, -1, -1):  # backward: L^T x = y
        s = x[i]
        for k in range(i + 1, K):
            s -= A[k, i] * x[k]
        x[i] = s / A[i, i]


@njit(**_OPTS)
def _als_half(indptr, other, vals, X, Y, half_beta, A, b, x, G):
    """Ridge-solve each row of X with Y fixed: (sum y y^T + half_beta n I) x = sum r y."""
    K = X.shape[1]
    for u in range(X.shape[0]):
        start = indptr[u]
        stop = indptr[u + 1]
        n = stop - start
        if n == 0:
            for k in range(K):
                X[u, k] = 0.0
            continue
        # gather the factors this row touches, feature-major, so each Gram entry is one contiguous dot
        for t in range(n):
            j = other[start + t]
            for k in range(K):
                G[k, t] = Y[j, k]
        for k in range(K):
            acc = 0.0
            for t in range(n):
                acc += vals[start + t] * G[k, t]
            b[k] = acc
            for l in range(k + 1):
                s = 0.0
                for t in range(n):
                    s += G[k, t] * G[l, t]
                A[k, l] = s
                A[l, k] = s
            A[k, k] += half_beta * n
        if half_beta == 0.0:
            for k in range(K):
                A[k, k] += 1e-12
        _cholesky_solve(A, b, x)
        for k in range(K):
            X[u, k] = x[k]


@njit(**_OPTS)
def als_run(rows, cols, vals, u_ptr, u_cols, u_vals, i_ptr, i_rows, i_vals, max_deg,
            P, Qt, beta, tol, n_steps, vrows, vcols, vvals, out):
    K = P.shape[1]
    A = np.empty((K, K))
    b = np.empty(K)
    x = np.empty(K)
    G = np.empty((K, max_deg))
    nob = np.zeros(0)
    for s in range(n_steps):
        _als_half(u_ptr, u_cols, u_vals, P, Qt, beta / 2, A, b, x, G)
        _als_half(i_ptr, i_rows, i_vals, Qt, P, beta / 2, A, b, x, G)
        e = _objective_e(rows, cols, vals, P, Qt, beta, out, s)
        _record_val(vrows, vcols, vvals, P, Qt, nob, nob, 0.0, False, out, s)
        if _stop(e, tol):
            return s + 1
    return n_steps


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
            pred = 0.0
            for k in range(K):
                pred += X[u, k] * Y[j, k]
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
    for s in range(n_steps):
        _nmf_half(u_ptr, u_cols, u_vals, P, Qt, beta / 2, num, den)
        _nmf_half(i_ptr, i_rows, i_vals, Qt, P, beta / 2, num, den)
        e = _objective_e(rows, cols, vals, P, Qt, beta, out, s)
        _record_val(vrows, vcols, vvals, P, Qt, nob, nob, 0.0, False, out, s)
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
    for a in range(order.shape[0] - 1, 0, -1):
        b = np.int64(_splitmix64(state) % np.uint64(a + 1))
        t = order[a]
        order[a] = order[b]
        order[b] = t


@njit(**_OPTS)
def biased_run(rows, cols, vals, P, Qt, ub, ib, mu, alpha, beta, tol, n_steps, order, state,
               vrows, vcols, vvals, out):
    K = P.shape[1]
    for s in range(n_steps):
        _shuffle(order, state)
        for t in range(order.shape[0]):
            n = order[t]
            u = rows[n]
            i = cols[n]
            err = vals[n] - (mu + ub[u] + ib[i] + _dot(P, u, Qt, i))
            ub[u] += alpha * (err - beta * ub[u])
            ib[i] += alpha * (err - beta * ib[i])
            for k in range(K):
                puk = P[u, k]
                qik = Qt[i, k]
                P[u, k] += alpha * (err * qik - beta * puk)
                Qt[i, k] += alpha * (err * puk - beta * qik)
        # objective: sum of err^2 + beta (b_u^2 + b_i^2 + |p_u|^2 + |q_i|^2) per observed entry
        e = 0.0
        sse = 0.0
        sae = 0.0
        for n in range(vals.shape[0]):
            u = rows[n]
            i = cols[n]
            d = vals[n] - (mu + ub[u] + ib[i] + _dot(P, u, Qt, i))
            sse += d * d
            sae += abs(d)
            reg = ub[u] * ub[u] + ib[i] * ib[i]
            for k in range(K):
                reg += P[u, k] * P[u, k] + Qt[i, k] * Qt[i, k]
            e += d * d + beta * reg
        out[s, 0] = e
        out[s, 1] = sse
        out[s, 2] = sae
        _record_val(vrows, vcols, vvals, P, Qt, ub, ib, mu, True, out, s)
        if _stop(e, tol):
            return s + 1
    return n_steps
