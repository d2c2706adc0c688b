"""The blocked visiting order of ``biased-sgd`` and its compiled loops (numba, ``nogil``).

The grid (libmf's FPSGD): users fall into ``side`` groups of consecutive users with about equal
numbers of ratings, items likewise, so the ratings fall into side x side blocks. The ratings of each
block are stored side by side, user by user in ascending order (each user's ratings shuffled once
from the seed; item by item when there are more items than users), as libmf sorts a block, but with
STREAMS users' ratings taken in turn (:func:`interleave`): two consecutive updates then seldom share a
factor row, so the CPU overlaps them instead of waiting for one user's update before the next (a user's
consecutive ratings form a chain of about 60 cycles a rating). The order is fixed at layout time, from the
data and the seed alone.
An epoch visits every block once: it draws a random order of the grid's rows, of its columns and of
its ``side`` diagonals (splitmix64, Fisher-Yates), where diagonal d of the drawn grid holds the
blocks (row a, column a + d mod side), a = 0 .. side-1, and visits the diagonals in the drawn order,
each block's ratings in their stored order. Two blocks on one diagonal share no user and no item, so
they are run on numba's threads at once (``prange``, any threading layer, workqueue included): the
result is the same as visiting that diagonal's blocks one after another in any order, so it does not
depend on timing or on the number of threads. Groups of consecutive rows keep the two threads' writes
off each other's cache lines (but at a group's two ends).

A block's item rows (a side-th of Q) stay in the CPU cache while its ratings are visited, and a
user's row across that user's ratings: ``side`` is chosen from the data and K alone (never from the
machine or the thread count).

The training errors are summed as the epoch goes: each rating's error just before its own update,
a plain sum in the block's order, per block; the blocks' sums are then added in block number order.
Validation ratings are scored after the epoch, in the same grid (:func:`held_out_grid`: a block's item
rows stay in the cache), block by block (in parallel), each block's user by user, the blocks' sums added
in block number order. Every sum is taken in an order fixed in the source (no fastmath), so results are
bit-identical from run to run, whatever the number of threads.

Layout as in _kernels: P is users x K and Qt items x K, both C-contiguous.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from mfstudio.core.solvers._kernels import _row_sq_weighted, _shuffle, _stop
from mfstudio.core.solvers._lanes import dot_lanes

_OPTS = dict(cache=True, nogil=True)
BLOCK_BYTES = 512 * 1024  # the factor rows (and biases) one block touches: about half a core's L2 cache
MIN_BLOCK = 2048  # ratings per block on average at least: fewer, larger blocks for small data
MAX_SIDE = 256  # blocks per side at most (block numbers fit 16 bits)
STREAMS = 2  # users (items) whose ratings a block takes in turn, see interleave
PARALLEL_MIN = 1 << 15  # ratings from which a diagonal's blocks run on numba's threads ...
PARALLEL_SIDE = 2  # ... and the grid's side is a multiple of this (each parallel region costs a wake-up)
SCORE_PARALLEL_MIN = 1 << 16  # validation ratings scored on numba's threads (a block each) from this many


class Grid(NamedTuple):
    """The training ratings in blocks: block b's are ``users[ptr[b]:ptr[b+1]]`` (and items, vals)."""

    side: int
    ptr: np.ndarray  # int64, side*side + 1
    users: np.ndarray  # int32
    items: np.ndarray  # int32
    vals: np.ndarray  # float64


def grid_side(n_users: int, n_items: int, nnz: int, K: int) -> int:
    """Blocks per side: enough that a block's share of the factor rows of the smaller side (the items'
    on MovieLens) fits BLOCK_BYTES, few enough that a block holds MIN_BLOCK ratings on average, and
    a multiple of PARALLEL_SIDE for data run in parallel (a diagonal's blocks then fall evenly to 2
    threads; few diagonals, few parallel regions: under load each waits for a thread to be scheduled).
    (The larger side's rows are visited one after another within a block, see :func:`blocked_layout`,
    so they need no room in the cache.)"""
    need = math.ceil(min(n_users, n_items) * (K + 1) * 8 / BLOCK_BYTES)
    most = max(1, math.isqrt(max(nnz, 0) // MIN_BLOCK))
    side = min(need, most, MAX_SIDE)
    if nnz >= PARALLEL_MIN:
        side = -(-max(side, 1) // PARALLEL_SIDE) * PARALLEL_SIDE
    return max(1, side)


def uses_threads(nnz: int) -> bool:
    """True when an epoch's diagonals are shared out among numba's threads (same result either way)."""
    return nnz >= PARALLEL_MIN


def groups(counts: np.ndarray, side: int) -> np.ndarray:
    """Each row's group (0 .. side-1): consecutive rows, about equal numbers of ratings per group.

    Row u is in group (ratings of rows before u) * side // (all ratings): groups are runs of
    consecutive rows, so two groups' factor rows share no cache line but at their two ends.
    """
    before = np.cumsum(counts) - counts
    return np.minimum(before * side // max(int(counts.sum()), 1), side - 1)


@njit(**_OPTS)
def interleave(ptr: np.ndarray, keys: np.ndarray, streams: int) -> np.ndarray:
    """The order (indices into ``keys``) that takes each block's runs of equal keys ``streams`` at a time.

    Block b is keys[ptr[b]:ptr[b+1]], in runs of equal keys (a user's ratings). The runs are dealt, in
    order, to ``streams`` streams: round after round, each stream in turn, first taking the next run not yet
    taken if its own is used up (while runs are left), then giving its run's next rating if it has one.
    So with 2 streams, runs a, b, c, ... of lengths 3, 1, 2: a1 b1 a2 c1 a3 c2."""
    out = np.empty(keys.shape[0], np.int64)
    cur = np.zeros(streams, np.int64)  # each stream's next rating, and the end of its run
    end = np.zeros(streams, np.int64)
    pos = 0
    for b in range(ptr.shape[0] - 1):
        t, hi = ptr[b], ptr[b + 1]
        cur[:] = 0
        end[:] = 0
        while pos < hi:
            for w in range(streams):
                if cur[w] == end[w] and t < hi:
                    cur[w] = t
                    while t < hi and keys[t] == keys[cur[w]]:
                        t += 1
                    end[w] = t
                if cur[w] < end[w]:
                    out[pos] = cur[w]
                    pos += 1
                    cur[w] += 1
    return out


def blocked_layout(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape: tuple[int, int], side: int,
                   seed: int) -> Grid:
    """The ratings (rows, cols, vals) grouped into the grid's blocks; within a block, user by user in
    ascending order (item by item when there are more items than users), each user's ratings in a
    seeded shuffle, STREAMS users' ratings taken in turn.

    Users fall into :func:`groups` by their numbers of ratings, items likewise; block = user group *
    side + item group. The ratings in the order of ``numpy.random.default_rng([seed, 1])``'s
    permutation are sorted (stably) by user (item, with more items), then (stably) by block, then
    each block's users are taken STREAMS at a time (:func:`interleave`). As libmf does, a block is walked
    user by user: the users' factor rows stay at hand across their ratings, and the next users' rows are
    the next in memory.
    """
    n, m = shape
    order = np.random.default_rng([seed, 1]).permutation(len(vals))
    order = order[np.argsort((rows if n >= m else cols)[order], kind="stable")]
    ug = groups(np.bincount(rows, minlength=n), side)
    ig = groups(np.bincount(cols, minlength=m), side)
    block = (ug[rows] * side + ig[cols]).astype(np.uint16)
    order = order[np.argsort(block[order], kind="stable")]  # side <= MAX_SIDE: 16 bits, a radix sort
    ptr = np.zeros(side * side + 1, np.int64)
    np.cumsum(np.bincount(block, minlength=side * side), out=ptr[1:])
    del block
    users, items = rows[order].astype(np.int32), cols[order].astype(np.int32)
    turns = interleave(ptr, users if n >= m else items, STREAMS)
    return Grid(side, ptr, users[turns], items[turns], np.ascontiguousarray(vals[order[turns]], dtype=np.float64))


def held_out_grid(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, user_counts: np.ndarray,
                  item_counts: np.ndarray, side: int) -> Grid:
    """Held-out ratings in the training grid's blocks (the :func:`groups` of the training ratings per user
    and per item), each block's user by user and a user's by item: scored block by block, a block's item
    rows stay in the cache while its users' rows are read one after another."""
    ug, ig = groups(user_counts, side), groups(item_counts, side)
    block = ug[rows] * side + ig[cols]
    order = np.lexsort((cols, rows, block))
    ptr = np.zeros(side * side + 1, np.int64)
    np.cumsum(np.bincount(block, minlength=side * side), out=ptr[1:])
    return Grid(side, ptr, rows[order].astype(np.int32), cols[order].astype(np.int32),
                np.ascontiguousarray(vals[order], dtype=np.float64))


# Indices are made unsigned (np.uint64) before they index: numba then leaves out the test for a
# negative index on every access, and LLVM vectorises the update loop. Rows are indexed in 2-D, not
# taken as views (a view costs a reference count up and down per rating: 20 ns of 60). dot_lanes is inlined
# by numba (``inline="always"``): as a call it passed the two arrays' fields on the stack for every rating.


@njit(**_OPTS)
def run_block(users, items, vals, lo, hi, P, Qt, ub, ib, mu, alpha, beta, sse, sae):
    """The updates of ratings lo..hi-1 in order; returns (sse, sae) with each rating's squared and
    absolute error, taken just before its update, added in that order."""
    K = np.uint64(P.shape[1])
    for t in range(lo, hi):
        u = np.uint64(users[t])
        i = np.uint64(items[t])
        err = vals[t] - (mu + ub[u] + ib[i] + dot_lanes(P, u, Qt, i))
        sse += err * err
        sae += abs(err)
        ub[u] += alpha * (err - beta * ub[u])
        ib[i] += alpha * (err - beta * ib[i])
        for k in range(np.uint64(0), K):
            puk = P[u, k]
            qik = Qt[i, k]
            P[u, k] = puk + alpha * (err * qik - beta * puk)
            Qt[i, k] = qik + alpha * (err * puk - beta * qik)
    return sse, sae


# ----------------------------------------------------------------------------------------- an epoch
@njit(**_OPTS)
def epoch_blocks(side, state):
    """The next epoch's blocks in visiting order (side*side numbers, diagonal after diagonal), drawn from
    ``state``: the grid's rows shuffled, then its columns, then the order of its diagonals."""
    rows = np.arange(side)
    cols = np.arange(side)
    diags = np.arange(side)
    _shuffle(rows, state)
    _shuffle(cols, state)
    _shuffle(diags, state)
    seq = np.empty(side * side, np.int64)
    for d in range(side):
        off = diags[d]
        for a in range(side):
            seq[d * side + a] = rows[a] * side + cols[(a + off) % side]
    return seq


@njit(parallel=True, **_OPTS)
def _diagonal(seq, start, side, ptr, users, items, vals, P, Qt, ub, ib, mu, alpha, beta, part):
    for a in prange(side):
        b = seq[start + a]
        sse, sae = run_block(users, items, vals, ptr[b], ptr[b + 1], P, Qt, ub, ib, mu, alpha, beta, 0.0, 0.0)
        part[b, 0] = sse
        part[b, 1] = sae


@njit(**_OPTS)
def _epoch(side, ptr, users, items, vals, P, Qt, ub, ib, mu, alpha, beta, state, parallel, part):
    seq = epoch_blocks(side, state)
    for d in range(side):
        if parallel:
            _diagonal(seq, d * side, side, ptr, users, items, vals, P, Qt, ub, ib, mu, alpha, beta, part)
        else:
            for a in range(side):
                b = seq[d * side + a]
                sse, sae = run_block(users, items, vals, ptr[b], ptr[b + 1], P, Qt, ub, ib, mu, alpha, beta,
                                     0.0, 0.0)
                part[b, 0] = sse
                part[b, 1] = sae


@njit(**_OPTS)
def sum_parts(part):
    """The epoch's training (SSE, SAE): the blocks' sums added in block number order."""
    sse = 0.0
    sae = 0.0
    for b in range(part.shape[0]):
        sse += part[b, 0]
        sae += part[b, 1]
    return sse, sae


# ------------------------------------------------------------------------------------------ scores
@njit(**_OPTS)
def _chunk_errors(rows, cols, vals, P, Qt, ub, ib, mu, lo, hi):
    sse = 0.0
    sae = 0.0
    for t in range(lo, hi):
        u = np.uint64(rows[t])
        i = np.uint64(cols[t])
        d = vals[t] - (mu + ub[u] + ib[i] + dot_lanes(P, u, Qt, i))
        sse += d * d
        sae += abs(d)
    return sse, sae


@njit(parallel=True, **_OPTS)
def _block_errors(ptr, rows, cols, vals, P, Qt, ub, ib, mu, part):
    for b in prange(ptr.shape[0] - 1):
        sse, sae = _chunk_errors(rows, cols, vals, P, Qt, ub, ib, mu, ptr[b], ptr[b + 1])
        part[b, 0] = sse
        part[b, 1] = sae


@njit(**_OPTS)
def errors(ptr, rows, cols, vals, P, Qt, ub, ib, mu, parallel):
    """(SSE, SAE) of R_hat = mu + b + c + P Qt^T at the entries of a :func:`held_out_grid`: each block's
    summed in its order (the blocks on numba's threads if ``parallel`` and from SCORE_PARALLEL_MIN entries),
    then the blocks' sums in block number order."""
    part = np.zeros((ptr.shape[0] - 1, 2))
    if not parallel or vals.shape[0] < SCORE_PARALLEL_MIN:
        for b in range(ptr.shape[0] - 1):
            sse, sae = _chunk_errors(rows, cols, vals, P, Qt, ub, ib, mu, ptr[b], ptr[b + 1])
            part[b, 0] = sse
            part[b, 1] = sae
    else:
        _block_errors(ptr, rows, cols, vals, P, Qt, ub, ib, mu, part)
    return sum_parts(part)


@njit(**_OPTS)
def score(sse, sae, P, Qt, ub, ib, mu, beta, cu, ci, vptr, vrows, vcols, vvals, out, s, parallel):
    """Row s of ``out`` after an epoch: objective, training SSE, SAE (given: summed during the epoch),
    validation SSE, SAE; returns the objective sse + beta (sum_u n_u (|P_u|^2 + b_u^2) + sum_i m_i
    (|Q_:i|^2 + c_i^2)), its regularizer from the factors at the end of the epoch."""
    e = sse + beta * (_row_sq_weighted(P, cu, ub) + _row_sq_weighted(Qt, ci, ib))
    out[s, 0] = e
    out[s, 1] = sse
    out[s, 2] = sae
    if vvals.shape[0]:
        vs, va = errors(vptr, vrows, vcols, vvals, P, Qt, ub, ib, mu, parallel)
        out[s, 3] = vs
        out[s, 4] = va
    else:
        out[s, 3] = np.nan
        out[s, 4] = np.nan
    return e


@njit(**_OPTS)
def biased_run(side, ptr, users, items, vals, P, Qt, ub, ib, mu, alpha, beta, tol, n_steps, state, parallel,
               cu, ci, vptr, vrows, vcols, vvals, out):
    """Up to ``n_steps`` epochs in the blocked order, each scored into ``out``; the epochs done."""
    part = np.zeros((side * side, 2))
    for s in range(n_steps):
        _epoch(side, ptr, users, items, vals, P, Qt, ub, ib, mu, alpha, beta, state, parallel, part)
        sse, sae = sum_parts(part)
        e = score(sse, sae, P, Qt, ub, ib, mu, beta, cu, ci, vptr, vrows, vcols, vvals, out, s, parallel)
        if _stop(e, tol):
            return s + 1
    return n_steps
