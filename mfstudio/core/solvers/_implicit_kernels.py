"""Compiled loops of ``implicit-als`` (numba): Hu, Koren & Volinsky's weighted ridge solves without users x items.

A half-step solves every row x of X (users, or items) with Y fixed, from the normal equations of
implicit_als.py:

    A x = b,   A = G + lam I + sum_t w_t y_t y_t^T,   b = sum_t cp_t y_t

over the row's observed cells t (the rows y_t of Y), with G = Y^T Y the Gram matrix of ALL of Y (computed
once per half-step), w_t = c_t - 1 = confidence |r_t| and cp_t = c_t p_t (c_t when r_t > 0, else 0); both
are computed once per run by the solver. ``cg_steps`` = 0 solves it exactly (A built, Cholesky, from
_als_kernels); ``cg_steps`` > 0 makes that many conjugate-gradient steps from the row's current factors,
in implicit's form (Takacs et al. 2011): A is never formed, A p = (G + lam I) p + sum_t w_t (y_t . p) y_t,
one symmetric K x K product and ONE pass over the row's cells per step (the dot and the update of each
cell fused, four cells at a time, their rows read where they lie in Y). A row without observed cells is 0,
its exact solution.

Scoring a step: the items' half-step sums, item by item right after solving it (P is final then), the
preference errors d = p - x of its observed cells (SSE, SAE) and the objective's observed correction
c d^2 - x^2; the objective is then

    F = <G_P, G_Q> + sum_obs (c d^2 - x^2) + lam (tr G_P + tr G_Q)

with <G_P, G_Q> = sum_k,l (P^T P)_kl (Q Q^T)_kl = sum over ALL cells of x^2 (the empty cells' term) and
tr G = |factors|^2: no users x items.

Rows are solved in parallel (prange) over blocks of rows cut by cell counts alone (als.row_blocks);
Gram matrices are summed in fixed chunks of rows in parallel, the chunks' sums then added in order.
A row's dots (with its cells' rows, in G p, in its scores) are summed in four SIMD lanes in an order fixed
in the source (_lanes; no fastmath anywhere), four cells' dots in one loop, so a row's arithmetic is the same
whichever thread, block or compiled context does it: results are bit-identical from run to run, from process
to process and whatever the number of threads. The Gram matrices and the objective are summed in source
order. Layout as in _kernels: P users x K, Qt items x K, C-contiguous.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from mfstudio.core.solvers._als_kernels import (
    GATHER_MAX,
    SCORE_CHUNK,
    _cholesky_solve,
    _chunk_errors,
    errors,
    gather_rows,
    gather_scratch,
    gather_values,
)
from mfstudio.core.solvers._kernels import _stop
from mfstudio.core.solvers._lanes import dot_row, dot_rows4

_OPTS = dict(cache=True, nogil=True)
GRAM_CHUNK = 1024  # rows of Y per partial Gram matrix (the chunks depend on the data's size alone)
SERIAL_WORK = 1 << 23  # multiply-adds under which a Gram matrix or the held-out errors are summed on this thread:
# the same chunks in the same order (the same bits), without a parallel region (small data: about 0.7 ms of work)


# ------------------------------------------------------------------------------------- Gram
@njit(**_OPTS)
def _gram_rows(Y, lo, hi, G):
    """G = sum_(t = lo..hi-1) y_t y_t^T, upper triangle (summed in row order, four rows at a time)."""
    K = Y.shape[1]
    for k in range(K):
        for m in range(np.uint64(k), np.uint64(K)):
            G[k, m] = 0.0
    t = lo
    while t + 4 <= hi:
        y0 = Y[t]
        y1 = Y[t + 1]
        y2 = Y[t + 2]
        y3 = Y[t + 3]
        for k in range(K):
            a0 = y0[k]
            a1 = y1[k]
            a2 = y2[k]
            a3 = y3[k]
            Gk = G[k]
            for m in range(np.uint64(k), np.uint64(K)):
                Gk[m] = (((Gk[m] + a0 * y0[m]) + a1 * y1[m]) + a2 * y2[m]) + a3 * y3[m]
        t += 4
    while t < hi:
        y0 = Y[t]
        for k in range(K):
            a0 = y0[k]
            Gk = G[k]
            for m in range(np.uint64(k), np.uint64(K)):
                Gk[m] = Gk[m] + a0 * y0[m]
        t += 1


@njit(parallel=True, **_OPTS)
def _gram_parts(Y, parts):
    n = Y.shape[0]
    for c in prange(parts.shape[0]):
        lo = c * GRAM_CHUNK
        _gram_rows(Y, lo, min(n, lo + GRAM_CHUNK), parts[c])


@njit(**_OPTS)
def gram(Y):
    """Y^T Y (K x K, full): chunks of GRAM_CHUNK rows summed in parallel (on this thread for less than
    SERIAL_WORK), then the chunks in order."""
    n, K = Y.shape
    n_chunks = max(1, (n + GRAM_CHUNK - 1) // GRAM_CHUNK)
    parts = np.empty((n_chunks, K, K))
    if n_chunks == 1 or n * K * K < SERIAL_WORK:
        for c in range(n_chunks):
            _gram_rows(Y, c * GRAM_CHUNK, min(n, (c + 1) * GRAM_CHUNK), parts[c])
    else:
        _gram_parts(Y, parts)
    G = np.zeros((K, K))
    for c in range(n_chunks):
        for k in range(K):
            for m in range(k, K):
                G[k, m] += parts[c, k, m]
    for k in range(K):
        for m in range(k):
            G[k, m] = G[m, k]
    return G


# ------------------------------------------------------------------------------------- one row
@njit(**_OPTS)
def _sym_times(GL, v, out):
    """out = GL v (GL symmetric, full): out_k = GL_k . v in lanes (_lanes.dot_rows4), four rows k at a time
    (v loaded once for the four; measured 2.5x faster at K = 64 than accumulating GL's columns into out)."""
    K = v.shape[0]
    k = 0
    while k + 4 <= K:
        out[k], out[k + 1], out[k + 2], out[k + 3] = dot_rows4(GL, k, k + 1, k + 2, k + 3, v)
        k += 4
    while k < K:
        out[k] = dot_row(GL, k, v)
        k += 1


@njit(**_OPTS)
def _cells(Y, other, w, cp, start, n, v, out, residual):
    """out += sum_t s_t y_t over the row's cells with s_t = w_t (y_t . v), or, when ``residual``,
    s_t = cp_t - w_t (y_t . v). One pass, four cells at a time: their four dots in lanes in one loop over k
    (_lanes.dot_rows4, v loaded once for the four), then their four terms of out while the rows are in cache
    (a loop over k that vectorises as it stands: each k on its own)."""
    K = v.shape[0]
    t = start
    stop = start + n
    while t + 4 <= stop:
        i0 = np.int64(other[t])
        i1 = np.int64(other[t + 1])
        i2 = np.int64(other[t + 2])
        i3 = np.int64(other[t + 3])
        q0, q1, q2, q3 = dot_rows4(Y, i0, i1, i2, i3, v)
        q0 = w[t] * q0
        q1 = w[t + 1] * q1
        q2 = w[t + 2] * q2
        q3 = w[t + 3] * q3
        if residual:
            q0 = cp[t] - q0
            q1 = cp[t + 1] - q1
            q2 = cp[t + 2] - q2
            q3 = cp[t + 3] - q3
        y0 = Y[i0]
        y1 = Y[i1]
        y2 = Y[i2]
        y3 = Y[i3]
        for k in range(K):
            out[k] += ((y0[k] * q0 + y1[k] * q1) + y2[k] * q2) + y3[k] * q3
        t += 4
    while t < stop:
        i0 = np.int64(other[t])
        q0 = w[t] * dot_row(Y, i0, v)
        if residual:
            q0 = cp[t] - q0
        y0 = Y[i0]
        for k in range(K):
            out[k] += y0[k] * q0
        t += 1


@njit(**_OPTS)
def _cg_solve(Y, other, w, cp, start, n, GL, steps, x, r, p, Ap):
    """``steps`` conjugate-gradient steps on the row's A x = b from x (in place), implicit's loop:

    r = b - A x = -GL x + sum_t (cp_t - w_t y_t . x) y_t, p = r; then per step, while r is not zero:
    Ap = GL p + sum_t w_t (y_t . p) y_t, alpha = r.r / p.Ap, x += alpha p, r -= alpha Ap,
    p = r + (r'.r' / r.r) p.
    """
    K = x.shape[0]
    _sym_times(GL, x, r)
    for k in range(K):
        r[k] = -r[k]
    _cells(Y, other, w, cp, start, n, x, r, True)
    rs = 0.0
    for k in range(K):
        p[k] = r[k]
        rs += r[k] * r[k]
    for _ in range(steps):
        if not rs > 0.0:  # solved (or not a number, which the divergence check reports)
            break
        _sym_times(GL, p, Ap)
        _cells(Y, other, w, cp, start, n, p, Ap, False)
        pap = 0.0
        for k in range(K):
            pap += p[k] * Ap[k]
        if not pap > 0.0:
            break
        alpha = rs / pap
        rs_new = 0.0
        for k in range(K):
            x[k] = x[k] + alpha * p[k]
            rk = r[k] - alpha * Ap[k]
            r[k] = rk
            rs_new += rk * rk
        ratio = rs_new / rs
        for k in range(K):
            p[k] = r[k] + ratio * p[k]
        rs = rs_new


@njit(**_OPTS)
def _normal_equations(Y, other, w, cp, start, n, GL, A, b):
    """A = GL + sum_t w_t y_t y_t^T (upper triangle) and b = sum_t cp_t y_t, each entry summed in cell order,
    four cells at a time."""
    K = b.shape[0]
    for k in range(K):
        b[k] = 0.0
        for m in range(np.uint64(k), np.uint64(K)):
            A[k, m] = GL[k, m]
    t = start
    stop = start + n
    while t + 4 <= stop:
        y0 = Y[other[t]]
        y1 = Y[other[t + 1]]
        y2 = Y[other[t + 2]]
        y3 = Y[other[t + 3]]
        w0 = w[t]
        w1 = w[t + 1]
        w2 = w[t + 2]
        w3 = w[t + 3]
        c0 = cp[t]
        c1 = cp[t + 1]
        c2 = cp[t + 2]
        c3 = cp[t + 3]
        for k in range(K):
            b[k] = (((b[k] + c0 * y0[k]) + c1 * y1[k]) + c2 * y2[k]) + c3 * y3[k]
            a0 = w0 * y0[k]
            a1 = w1 * y1[k]
            a2 = w2 * y2[k]
            a3 = w3 * y3[k]
            Ak = A[k]
            for m in range(np.uint64(k), np.uint64(K)):
                Ak[m] = (((Ak[m] + a0 * y0[m]) + a1 * y1[m]) + a2 * y2[m]) + a3 * y3[m]
        t += 4
    while t < stop:
        y0 = Y[other[t]]
        w0 = w[t]
        c0 = cp[t]
        for k in range(K):
            b[k] = b[k] + c0 * y0[k]
            a0 = w0 * y0[k]
            Ak = A[k]
            for m in range(np.uint64(k), np.uint64(K)):
                Ak[m] = Ak[m] + a0 * y0[m]
        t += 1


@njit(inline="always", **_OPTS)
def _cell_scores(pos, xt, w_t, sse, sae, corr):
    """One cell's terms added to (SSE, SAE, correction): d = p - x_t, p = 1 when cp_t > 0."""
    d = (1.0 if pos else 0.0) - xt
    return sse + d * d, sae + abs(d), corr + ((1.0 + w_t) * (d * d) - xt * xt)


@njit(**_OPTS)
def _row_scores(Y, other, w, cp, start, n, x):
    """(SSE, SAE, correction) of the row's cells: d = p - x_t with x_t = y_t . x (in lanes, four cells at a
    time), the correction sum_t (c_t d^2 - x_t^2) with c_t = 1 + w_t; summed over t in order."""
    sse = 0.0
    sae = 0.0
    corr = 0.0
    t = start
    stop = start + n
    while t + 4 <= stop:
        x0, x1, x2, x3 = dot_rows4(Y, np.int64(other[t]), np.int64(other[t + 1]), np.int64(other[t + 2]),
                                   np.int64(other[t + 3]), x)
        sse, sae, corr = _cell_scores(cp[t] > 0.0, x0, w[t], sse, sae, corr)
        sse, sae, corr = _cell_scores(cp[t + 1] > 0.0, x1, w[t + 1], sse, sae, corr)
        sse, sae, corr = _cell_scores(cp[t + 2] > 0.0, x2, w[t + 2], sse, sae, corr)
        sse, sae, corr = _cell_scores(cp[t + 3] > 0.0, x3, w[t + 3], sse, sae, corr)
        t += 4
    while t < stop:
        sse, sae, corr = _cell_scores(cp[t] > 0.0, dot_row(Y, np.int64(other[t]), x), w[t], sse, sae, corr)
        t += 1
    return sse, sae, corr


# ------------------------------------------------------------------------------------ half-steps
@njit(**_OPTS)
def _solve_rows(indptr, other, w, cp, X, Y, GL, cg_steps, lo, hi, err):
    """Rows lo..hi-1 of X solved with Y fixed (scratch allocated once); a row without cells is 0.

    ``cg_steps`` < 0 solves nothing. With ``err`` (n_rows x 3, else empty) each row's (SSE, SAE,
    correction) after its solve goes to err[row].
    """
    K = X.shape[1]
    x = np.empty(K)
    b = np.empty(K)
    dinv = np.empty(K)
    p = np.empty(K)
    Ap = np.empty(K)
    A = np.empty((K, K)) if cg_steps == 0 else np.empty((0, 0))
    scored = err.shape[0] > 0
    Yr, ident, wr = gather_scratch(indptr, other, lo, hi, K, cg_steps > 0)  # a row's rows of Y side by side
    cpr = np.empty(Yr.shape[0])
    for u in range(lo, hi):
        start = indptr[u]
        n = indptr[u + 1] - start
        if n == 0:
            if cg_steps >= 0:
                for k in range(K):
                    X[u, k] = 0.0
            if scored:
                err[u, 0] = 0.0
                err[u, 1] = 0.0
                err[u, 2] = 0.0
            continue
        for k in range(K):
            x[k] = X[u, k]
        Ys, os, ws, cs, s0 = Y, other, w, cp, start  # the row's cells' rows where they lie, or side by side:
        if cg_steps > 0 and n <= GATHER_MAX:  # one call of each pass below (compiled once, inlined once)
            gather_rows(Y, other, start, n, Yr)
            gather_values(w, start, n, wr)
            gather_values(cp, start, n, cpr)
            Ys, os, ws, cs, s0 = Yr, ident, wr, cpr, 0
        if cg_steps > 0:
            _cg_solve(Ys, os, ws, cs, s0, n, GL, cg_steps, x, b, p, Ap)
        elif cg_steps == 0:
            _normal_equations(Y, other, w, cp, start, n, GL, A, b)
            _cholesky_solve(A, b, x, dinv)
        if cg_steps >= 0:
            for k in range(K):
                X[u, k] = x[k]
        if scored:
            sse, sae, corr = _row_scores(Ys, os, ws, cs, s0, n, x)
            err[u, 0] = sse
            err[u, 1] = sae
            err[u, 2] = corr


@njit(parallel=True, **_OPTS)
def _solve_blocks(indptr, other, w, cp, X, Y, GL, cg_steps, blocks, err):
    for c in prange(blocks.shape[0] - 1):
        _solve_rows(indptr, other, w, cp, X, Y, GL, cg_steps, blocks[c], blocks[c + 1], err)


@njit(**_OPTS)
def with_ridge(G, lam):
    """G + lam I, a copy."""
    GL = G.copy()
    for k in range(G.shape[0]):
        GL[k, k] += lam
    return GL


@njit(**_OPTS)
def implicit_half(indptr, other, w, cp, X, Y, G, lam, cg_steps, blocks, err):
    """Solve every row of X with Y fixed, G = Y^T Y (``cg_steps`` CG steps; 0: exactly; below 0: not at
    all) and, when ``err`` is n_rows x 3, score each row after its solve. One block is solved on this
    thread (starting the threads would cost small data more than the work)."""
    GL = with_ridge(G, lam)
    if blocks.shape[0] <= 2:
        _solve_rows(indptr, other, w, cp, X, Y, GL, cg_steps, blocks[0], blocks[-1], err)
    else:
        _solve_blocks(indptr, other, w, cp, X, Y, GL, cg_steps, blocks, err)


# ------------------------------------------------------------------------------------- scores
@njit(**_OPTS)
def objective(GP, GQ, corr, lam):
    """F = <GP, GQ> + corr + lam (tr GP + tr GQ): every cell's term without forming users x items."""
    K = GP.shape[0]
    full = 0.0
    for k in range(K):
        for m in range(K):
            full += GP[k, m] * GQ[k, m]
    tr = 0.0
    for k in range(K):
        tr += GP[k, k] + GQ[k, k]
    return full + corr + lam * tr


@njit(**_OPTS)
def sum_rows(err):
    """The rows' (SSE, SAE, correction) added in row order."""
    sse = 0.0
    sae = 0.0
    corr = 0.0
    for u in range(err.shape[0]):
        sse += err[u, 0]
        sae += err[u, 1]
        corr += err[u, 2]
    return sse, sae, corr


@njit(**_OPTS)
def heldout_errors(vrows, vcols, vpref, P, Qt):
    """(SSE, SAE) of the held-out preferences: _als_kernels.errors, its chunks summed on this thread for less
    than SERIAL_WORK (the same chunks in the same order, so the same bits)."""
    n = vpref.shape[0]
    if n * P.shape[1] >= SERIAL_WORK:
        return errors(vrows, vcols, vpref, P, Qt)
    sse = 0.0
    sae = 0.0
    for lo in range(0, n, SCORE_CHUNK):
        s, a = _chunk_errors(vrows, vcols, vpref, P, Qt, lo, min(n, lo + SCORE_CHUNK))
        sse += s
        sae += a
    return sse, sae


@njit(**_OPTS)
def score(err, GP, GQ, lam, P, Qt, vrows, vcols, vpref, out, s):
    """Row s of ``out`` after a step: objective, training SSE, SAE, validation SSE, SAE; returns the objective.
    ``vpref`` holds the held-out cells' preferences (1 for an interaction)."""
    sse, sae, corr = sum_rows(err)
    e = objective(GP, GQ, corr, lam)
    out[s, 0] = e
    out[s, 1] = sse
    out[s, 2] = sae
    if vpref.shape[0]:
        vs, va = heldout_errors(vrows, vcols, vpref, P, Qt)
        out[s, 3] = vs
        out[s, 4] = va
    else:
        out[s, 3] = np.nan
        out[s, 4] = np.nan
    return e


@njit(**_OPTS)
def implicit_run(u_ptr, u_cols, u_w, u_cp, u_blocks, i_ptr, i_rows, i_w, i_cp, i_blocks,
                 P, Qt, lam, cg_steps, tol, n_steps, vrows, vcols, vpref, out):
    """Up to ``n_steps`` steps (all users, then all items), each scored into ``out``; the steps done.

    Two Gram matrices per step: the items' before the users are solved (kept from the step before) and
    the users' before the items are; the items' Gram after the step scores it and solves the next users.
    """
    err = np.empty((Qt.shape[0], 3))
    GQ = gram(Qt)
    for s in range(n_steps):
        implicit_half(u_ptr, u_cols, u_w, u_cp, P, Qt, GQ, lam, cg_steps, u_blocks, np.empty((0, 3)))
        GP = gram(P)
        implicit_half(i_ptr, i_rows, i_w, i_cp, Qt, P, GP, lam, cg_steps, i_blocks, err)
        GQ = gram(Qt)
        e = score(err, GP, GQ, lam, P, Qt, vrows, vcols, vpref, out, s)
        if _stop(e, tol):
            return s + 1
    return n_steps
