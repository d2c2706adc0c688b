"""Compiled loops of ``als`` (numba): each row's normal equations solved exactly or by conjugate gradient.

A half-step solves every row x of X (users, or items) with Y fixed, from the normal equations of als.py:

    A x = b,   A = sum_j y_j y_j^T + lam I,   lam = (beta/2) n (plus 1e-12 when beta = 0),   b = sum_j r_j y_j

over the row's n ratings r_j of the rows y_j of Y. ``cg_steps`` = 0 solves it exactly (A built, Cholesky);
``cg_steps`` > 0 makes that many conjugate-gradient steps from the row's current factors (Takacs et al.
2011, as implicit does), A never formed: A p = Y_r^T (Y_r p) + lam p with Y_r the row's n rows of Y, one
pass over them per step.

Rows are solved in parallel (``prange``, any numba threading layer, workqueue included) over blocks of
rows cut by rating count alone. A row's arithmetic is the same whichever thread or block does it and
every sum is taken in an order fixed in the source (no fastmath; a row's dots in four SIMD lanes, _lanes),
so results are bit-identical from run to run, whatever the number of threads, and from machine to machine.

Scoring a step: the items' half-step sums each item's squared and absolute errors right after solving
it (P is final by then), so the training errors cost no pass of their own; the rows' sums are then
added in row order. Validation ratings are scored in fixed chunks in parallel, the chunks' sums added in
order. Loops are written for numba's LLVM: C-contiguous rows, eight ratings at a time where a row's
ratings are walked (eight dots in lanes overlap), inner loops along a row (they vectorise). Before its CG
passes a row's rated rows of Y are copied side by side (up to GATHER_MAX of them): the passes and its errors
then read one block of memory instead of rows scattered over Y (the same numbers, so the same bits; 15-25 %
less time at K = 20).

Layout as in _kernels: P is users x K and Qt items x K, both C-contiguous.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from mfstudio.core.solvers._kernels import _row_sq_weighted, _stop
from mfstudio.core.solvers._lanes import dot_row, dot_rows4

_OPTS = dict(cache=True, nogil=True)
GATHER_MAX = 4096  # a row's rated rows of Y are copied side by side for its CG passes up to this many ratings
SCORE_CHUNK = 16384  # ratings per chunk of a step's scores (one chunk: a plain sum in rating order)


# ------------------------------------------------------------------------------- exact (Cholesky)
# A loop that starts above 0 runs over np.uint64 bounds: numba then knows its index is not negative
# and leaves out the wrap-around test that would keep LLVM from vectorising the loop.
@njit(**_OPTS)
def _normal_equations(Y, other, vals, start, n, lam, A, b):
    """A = sum_t y_t y_t^T + lam I (upper triangle) and b = sum_t r_t y_t over the row's n ratings.

    Each entry sums its terms in rating order; eight ratings are taken at a time so that an entry is
    loaded and stored once per eight terms, and the inner loop runs along a row (it vectorises).
    """
    K = b.shape[0]
    for k in range(K):
        b[k] = 0.0
        for m in range(np.uint64(k), np.uint64(K)):
            A[k, m] = 0.0
    t = start
    stop = start + n
    while t + 8 <= stop:
        y0 = Y[other[t]]
        y1 = Y[other[t + 1]]
        y2 = Y[other[t + 2]]
        y3 = Y[other[t + 3]]
        y4 = Y[other[t + 4]]
        y5 = Y[other[t + 5]]
        y6 = Y[other[t + 6]]
        y7 = Y[other[t + 7]]
        r0 = vals[t]
        r1 = vals[t + 1]
        r2 = vals[t + 2]
        r3 = vals[t + 3]
        r4 = vals[t + 4]
        r5 = vals[t + 5]
        r6 = vals[t + 6]
        r7 = vals[t + 7]
        for k in range(K):
            a0 = y0[k]
            a1 = y1[k]
            a2 = y2[k]
            a3 = y3[k]
            a4 = y4[k]
            a5 = y5[k]
            a6 = y6[k]
            a7 = y7[k]
            b[k] = (((((((b[k] + r0 * a0) + r1 * a1) + r2 * a2) + r3 * a3) + r4 * a4) + r5 * a5) + r6 * a6) + r7 * a7
            Ak = A[k]
            for m in range(np.uint64(k), np.uint64(K)):
                Ak[m] = (((((((Ak[m] + a0 * y0[m]) + a1 * y1[m]) + a2 * y2[m]) + a3 * y3[m]) + a4 * y4[m])
                         + a5 * y5[m]) + a6 * y6[m]) + a7 * y7[m]
        t += 8
    while t < stop:
        y0 = Y[other[t]]
        r0 = vals[t]
        for k in range(K):
            a0 = y0[k]
            b[k] = b[k] + r0 * a0
            Ak = A[k]
            for m in range(np.uint64(k), np.uint64(K)):
                Ak[m] = Ak[m] + a0 * y0[m]
        t += 1
    for k in range(K):
        A[k, k] += lam


@njit(**_OPTS)
def _pivot(Ak, k, K, dinv):
    """Make row k of U from what is left of row k of A: its pivot's square root, the rest divided by it."""
    d = Ak[k]
    if d <= 0.0:
        d = 1e-300
    d = np.sqrt(d)
    Ak[k] = d
    inv = 1.0 / d
    dinv[k] = inv
    for i in range(np.uint64(k + 1), np.uint64(K)):
        Ak[i] = Ak[i] * inv


@njit(**_OPTS)
def _cholesky_solve(A, b, x, dinv):
    """Solve A x = b for symmetric positive definite A (K x K, upper triangle read), overwriting A.

    Right-looking Cholesky A = U^T U, U overwriting the upper triangle: each entry subtracts its
    products in the order k = 0, 1, ..., and the rows of U are divided by their pivots (multiplied by
    the reciprocal). Two pivot rows are applied per pass over the rows below them, each entry still
    taking the first row's product before the second's. Then U^T y = b (by columns) and U x = y.
    """
    K = b.shape[0]
    k = 0
    while k < K:
        Ak = A[k]
        _pivot(Ak, k, K, dinv)
        if k + 1 == K:
            break
        A1 = A[k + 1]
        c = Ak[k + 1]
        for i in range(np.uint64(k + 1), np.uint64(K)):
            A1[i] = A1[i] - Ak[i] * c
        _pivot(A1, k + 1, K, dinv)
        for m in range(k + 2, K):
            c0 = Ak[m]
            c1 = A1[m]
            Am = A[m]
            for i in range(np.uint64(m), np.uint64(K)):
                Am[i] = (Am[i] - Ak[i] * c0) - A1[i] * c1
        k += 2
    for i in range(K):
        x[i] = b[i]
    for k in range(K):  # forward: U^T y = b
        xk = x[k] * dinv[k]
        x[k] = xk
        Ak = A[k]
        for i in range(np.uint64(k + 1), np.uint64(K)):
            x[i] = x[i] - Ak[i] * xk
    for i in range(K - 1, -1, -1):  # backward: U x = y
        s = x[i]
        Ai = A[i]
        for k in range(i + 1, K):
            s -= Ai[k] * x[k]
        x[i] = s * dinv[i]


# ------------------------------------------------------------------------------ conjugate gradient
@njit(**_OPTS)
def _gram_times(Y, other, vals, start, n, v, out, residual):
    """out = Y_r^T q with q = Y_r v, or with q = r - Y_r v when ``residual`` (r the row's ratings).

    One pass over the row's rows of Y, eight at a time: their eight q_t (dots in four lanes,
    _lanes.dot_rows4) and then their eight terms of out (each entry summed over t in order) while
    they are in cache.
    """
    K = v.shape[0]
    for k in range(K):
        out[k] = 0.0
    t = start
    stop = start + n
    while t + 8 <= stop:
        i0 = np.int64(other[t])
        i1 = np.int64(other[t + 1])
        i2 = np.int64(other[t + 2])
        i3 = np.int64(other[t + 3])
        i4 = np.int64(other[t + 4])
        i5 = np.int64(other[t + 5])
        i6 = np.int64(other[t + 6])
        i7 = np.int64(other[t + 7])
        q0, q1, q2, q3 = dot_rows4(Y, i0, i1, i2, i3, v)
        q4, q5, q6, q7 = dot_rows4(Y, i4, i5, i6, i7, v)
        if residual:
            q0 = vals[t] - q0
            q1 = vals[t + 1] - q1
            q2 = vals[t + 2] - q2
            q3 = vals[t + 3] - q3
            q4 = vals[t + 4] - q4
            q5 = vals[t + 5] - q5
            q6 = vals[t + 6] - q6
            q7 = vals[t + 7] - q7
        y0 = Y[i0]
        y1 = Y[i1]
        y2 = Y[i2]
        y3 = Y[i3]
        y4 = Y[i4]
        y5 = Y[i5]
        y6 = Y[i6]
        y7 = Y[i7]
        for k in range(K):
            out[k] = (((((((out[k] + y0[k] * q0) + y1[k] * q1) + y2[k] * q2) + y3[k] * q3) + y4[k] * q4)
                       + y5[k] * q5) + y6[k] * q6) + y7[k] * q7
        t += 8
    while t < stop:
        i0 = np.int64(other[t])
        q0 = dot_row(Y, i0, v)
        if residual:
            q0 = vals[t] - q0
        y0 = Y[i0]
        for k in range(K):
            out[k] = out[k] + y0[k] * q0
        t += 1


@njit(**_OPTS)
def _sumsq(v):
    s = 0.0
    for k in range(v.shape[0]):
        s += v[k] * v[k]
    return s


@njit(**_OPTS)
def _cg_solve(Y, other, vals, start, n, lam, steps, x, r, p, Ap):
    """``steps`` conjugate-gradient steps on the row's normal equations A x = b, from x (in place).

    r = b - A x = Y_r^T (r - Y_r x) - lam x, p = r; then per step, while r is not zero:
    alpha = r.r / p.Ap, x += alpha p, r -= alpha Ap, p = r + (r'.r' / r.r) p.
    """
    K = x.shape[0]
    _gram_times(Y, other, vals, start, n, x, r, True)
    for k in range(K):
        r[k] = r[k] - lam * x[k]
        p[k] = r[k]
    rs = _sumsq(r)
    for _ in range(steps):
        if not rs > 0.0:  # solved (or not a number, which the divergence check reports)
            break
        _gram_times(Y, other, vals, start, n, p, Ap, False)
        pap = 0.0
        for k in range(K):
            Ap[k] = Ap[k] + lam * p[k]
            pap += p[k] * Ap[k]
        if not pap > 0.0:
            break
        alpha = rs / pap
        for k in range(K):
            x[k] = x[k] + alpha * p[k]
            r[k] = r[k] - alpha * Ap[k]
        rs_new = _sumsq(r)
        ratio = rs_new / rs
        for k in range(K):
            p[k] = r[k] + ratio * p[k]
        rs = rs_new


# ------------------------------------------------------------------------------------ half-steps
@njit(**_OPTS)
def _row_errors(Y, other, vals, start, n, x):
    """(SSE, SAE) of the row's ratings against R_hat = y_t . x: each prediction a dot in four lanes
    (_lanes), eight ratings at a time, the errors summed over t in order."""
    sse = 0.0
    sae = 0.0
    t = start
    stop = start + n
    while t + 8 <= stop:
        d0, d1, d2, d3 = dot_rows4(Y, np.int64(other[t]), np.int64(other[t + 1]), np.int64(other[t + 2]),
                                   np.int64(other[t + 3]), x)
        d4, d5, d6, d7 = dot_rows4(Y, np.int64(other[t + 4]), np.int64(other[t + 5]), np.int64(other[t + 6]),
                                   np.int64(other[t + 7]), x)
        for d in (vals[t] - d0, vals[t + 1] - d1, vals[t + 2] - d2, vals[t + 3] - d3,
                  vals[t + 4] - d4, vals[t + 5] - d5, vals[t + 6] - d6, vals[t + 7] - d7):
            sse += d * d
            sae += abs(d)
        t += 8
    while t < stop:
        d = vals[t] - dot_row(Y, np.int64(other[t]), x)
        sse += d * d
        sae += abs(d)
        t += 1
    return sse, sae


@njit(**_OPTS)
def gather_scratch(indptr, other, lo, hi, K, wanted):
    """(Yr, ident, vr) for a block's rows lo..hi-1 to copy a row's rated rows of Y and its values into (room
    for the longest row, at most GATHER_MAX; none unless ``wanted``); ident[t] = t, of ``other``'s type, so that
    the passes over the copy are the same compiled functions as over Y."""
    most = 0
    if wanted:
        for u in range(lo, hi):
            most = max(most, min(indptr[u + 1] - indptr[u], GATHER_MAX))
    ident = np.empty(most, other.dtype)
    for t in range(most):
        ident[t] = t
    return np.empty((most, K)), ident, np.empty(most)


@njit(**_OPTS)
def gather_rows(Y, other, start, n, Yr):
    """Yr[t] = Y[other[start + t]] for t < n: a row's rated rows side by side."""
    K = Y.shape[1]
    for t in range(n):
        j = other[start + t]
        for k in range(K):
            Yr[t, k] = Y[j, k]


@njit(**_OPTS)
def gather_values(vals, start, n, vr):
    """vr[t] = vals[start + t] for t < n."""
    for t in range(n):
        vr[t] = vals[start + t]


@njit(**_OPTS)
def _solve_rows(indptr, other, vals, X, Y, half_beta, cg_steps, lo, hi, err):
    """Rows lo..hi-1 of X solved with Y fixed (their scratch allocated once); a row without ratings is 0.

    ``cg_steps`` < 0 solves nothing. With ``err`` (n_rows x 2, else empty) each row's (SSE, SAE) after
    its solve goes to err[row].
    """
    K = X.shape[1]
    x = np.empty(K)
    b = np.empty(K)
    dinv = np.empty(K)
    p = np.empty(K)
    Ap = np.empty(K)
    A = np.empty((K, K)) if cg_steps == 0 else np.empty((0, 0))
    scored = err.shape[0] > 0
    Yr, ident, vr = gather_scratch(indptr, other, lo, hi, K, cg_steps > 0)
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
            continue
        for k in range(K):
            x[k] = X[u, k]
        lam = half_beta * n
        if half_beta == 0.0:
            lam += 1e-12
        Ys, os, vs, s0 = Y, other, vals, start  # the row's rated rows where they lie, or copied side by side:
        if cg_steps > 0 and n <= GATHER_MAX:  # one call of each pass below (compiled once, inlined once)
            gather_rows(Y, other, start, n, Yr)
            gather_values(vals, start, n, vr)
            Ys, os, vs, s0 = Yr, ident, vr, 0
        if cg_steps > 0:
            _cg_solve(Ys, os, vs, s0, n, lam, cg_steps, x, b, p, Ap)
        elif cg_steps == 0:
            _normal_equations(Y, other, vals, start, n, lam, A, b)
            _cholesky_solve(A, b, x, dinv)
        if cg_steps >= 0:
            for k in range(K):
                X[u, k] = x[k]
        if scored:
            sse, sae = _row_errors(Ys, os, vs, s0, n, x)
            err[u, 0] = sse
            err[u, 1] = sae


@njit(parallel=True, **_OPTS)
def _solve_blocks(indptr, other, vals, X, Y, half_beta, cg_steps, blocks, err):
    for c in prange(blocks.shape[0] - 1):
        _solve_rows(indptr, other, vals, X, Y, half_beta, cg_steps, blocks[c], blocks[c + 1], err)


@njit(**_OPTS)
def als_half(indptr, other, vals, X, Y, half_beta, cg_steps, blocks, err):
    """Solve every row of X with Y fixed (``cg_steps`` CG steps, 0: exactly; below 0: not at all) and,
    when ``err`` is n_rows x 2, score each row after its solve. ``blocks`` bounds the blocks of rows
    solved in parallel; one block is solved on this thread (starting the threads would cost small data
    more than the work)."""
    if blocks.shape[0] <= 2:
        _solve_rows(indptr, other, vals, X, Y, half_beta, cg_steps, blocks[0], blocks[-1], err)
    else:
        _solve_blocks(indptr, other, vals, X, Y, half_beta, cg_steps, blocks, err)


# ------------------------------------------------------------------------------------- scores
@njit(**_OPTS)
def _chunk_errors(rows, cols, vals, P, Qt, lo, hi):
    """(SSE, SAE) of ratings lo..hi-1, summed in order; each prediction summed over k in order,
    four ratings at a time so that their sums overlap."""
    K = P.shape[1]
    sse = 0.0
    sae = 0.0
    t = lo
    while t + 4 <= hi:
        i0 = rows[t]
        i1 = rows[t + 1]
        i2 = rows[t + 2]
        i3 = rows[t + 3]
        j0 = cols[t]
        j1 = cols[t + 1]
        j2 = cols[t + 2]
        j3 = cols[t + 3]
        d0 = d1 = d2 = d3 = 0.0
        for k in range(K):
            d0 += P[i0, k] * Qt[j0, k]
            d1 += P[i1, k] * Qt[j1, k]
            d2 += P[i2, k] * Qt[j2, k]
            d3 += P[i3, k] * Qt[j3, k]
        d0 = vals[t] - d0
        d1 = vals[t + 1] - d1
        d2 = vals[t + 2] - d2
        d3 = vals[t + 3] - d3
        sse += d0 * d0
        sae += abs(d0)
        sse += d1 * d1
        sae += abs(d1)
        sse += d2 * d2
        sae += abs(d2)
        sse += d3 * d3
        sae += abs(d3)
        t += 4
    while t < hi:
        i0 = rows[t]
        j0 = cols[t]
        d0 = 0.0
        for k in range(K):
            d0 += P[i0, k] * Qt[j0, k]
        d0 = vals[t] - d0
        sse += d0 * d0
        sae += abs(d0)
        t += 1
    return sse, sae


@njit(**_OPTS)
def errors(rows, cols, vals, P, Qt):
    """(SSE, SAE) of R_hat = P Qt^T at the given entries: chunks of SCORE_CHUNK ratings summed in parallel,
    then the chunks' sums in order (one chunk: summed on this thread)."""
    if vals.shape[0] <= SCORE_CHUNK:
        return _chunk_errors(rows, cols, vals, P, Qt, 0, vals.shape[0])
    return _chunked_errors(rows, cols, vals, P, Qt)


@njit(parallel=True, **_OPTS)
def _chunked_errors(rows, cols, vals, P, Qt):
    n = vals.shape[0]
    n_chunks = (n + SCORE_CHUNK - 1) // SCORE_CHUNK
    part = np.zeros((n_chunks, 2))
    for c in prange(n_chunks):
        lo = c * SCORE_CHUNK
        hi = min(n, lo + SCORE_CHUNK)
        sse, sae = _chunk_errors(rows, cols, vals, P, Qt, lo, hi)
        part[c, 0] = sse
        part[c, 1] = sae
    sse = 0.0
    sae = 0.0
    for c in range(n_chunks):
        sse += part[c, 0]
        sae += part[c, 1]
    return sse, sae


@njit(**_OPTS)
def score(sse, sae, P, Qt, half_beta, cu, ci, vrows, vcols, vvals, out, s):
    """Row s of ``out`` after a step: the notebook's e, training SSE, SAE (given), validation SSE, SAE;
    returns e. e's regularizer is summed per user and per item, sum_i n_i |P_i|^2 + sum_j m_j |Q_:j|^2."""
    nob = np.zeros(0)
    e = sse + half_beta * (_row_sq_weighted(P, cu, nob) + _row_sq_weighted(Qt, ci, nob))
    out[s, 0] = e
    out[s, 1] = sse
    out[s, 2] = sae
    if vvals.shape[0]:
        vs, va = errors(vrows, vcols, vvals, P, Qt)
        out[s, 3] = vs
        out[s, 4] = va
    else:
        out[s, 3] = np.nan
        out[s, 4] = np.nan
    return e


@njit(**_OPTS)
def sum_rows(err):
    """The training (SSE, SAE): the rows' sums (err, n_rows x 2) added in row order."""
    sse = 0.0
    sae = 0.0
    for u in range(err.shape[0]):
        sse += err[u, 0]
        sae += err[u, 1]
    return sse, sae


@njit(**_OPTS)
def als_run(rows, cols, vals, u_ptr, u_cols, u_vals, u_blocks, i_ptr, i_rows, i_vals, i_blocks,
            P, Qt, beta, cg_steps, tol, n_steps, vrows, vcols, vvals, out):
    """Up to ``n_steps`` steps (all users, then all items), each scored into ``out``; the steps done.

    The training errors are summed item by item as the items are solved (from the step's final P and
    Q), so they cost no pass of their own; the validation ratings are scored after the step.
    """
    cu = np.diff(u_ptr)
    ci = np.diff(i_ptr)
    none = np.empty((0, 2))
    err = np.empty((Qt.shape[0], 2))
    for s in range(n_steps):
        for side in range(2):  # users, then items, through one call (compiled code is linked in per call)
            if side == 0:
                ptr, other, rv, X, Y, blocks, e = u_ptr, u_cols, u_vals, P, Qt, u_blocks, none
            else:
                ptr, other, rv, X, Y, blocks, e = i_ptr, i_rows, i_vals, Qt, P, i_blocks, err
            als_half(ptr, other, rv, X, Y, beta / 2, cg_steps, blocks, e)
        sse, sae = sum_rows(err)
        e = score(sse, sae, P, Qt, beta / 2, cu, ci, vrows, vcols, vvals, out, s)
        if _stop(e, tol):
            return s + 1
    return n_steps
