"""The compiled loop of the ranking metrics (mfstudio.core.ranking): each user's scores, top k in one pass
over the items, and its precision, recall, NDCG and average precision; for implicit data also the percentile
ranks of its held-out items, in the same pass.

The scores are R_hat as :meth:`mfstudio.core.solvers.base.Factors.predict_rows` builds it, term for term
in the same order (P·Q, then + mean + user bias + item bias with biases; the fallback for users and items
without training ratings); only P·Q is summed here rather than by BLAS, so a score may differ from
predict_rows' in the last bit. Summed here rather than by BLAS, because a BLAS product between training
chunks leaves BLAS's threads spinning on a core the training loop needs (measured: steps 25% slower on 2
cores), and memory stays a few rows of scores per thread: 16 users are scored together a cached tile of
items at a time (at 162,541 x 59,047 one user at a time read Q from memory 162,541 times: 47 s a pass),
and ranges of users run on numba's threads, each row the same whatever their number.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from mfstudio.core import _cache_guard  # noqa: F401  (before anything compiles)

USER_BLOCK = 16  # users scored together against each tile of items
TILE_FLOATS = 16_384  # a tile of Q (K x tile items) is about this many floats: 128 KB, in a core's cache
LINEAR_MOST = 48  # a user's held-out items up to which mpr counts directly (h x items) rather than by search


@njit(cache=True, nogil=True)
def _ahead(s, j, key_s, key_i):
    """Whether a candidate with score ``s`` and item ``j`` comes before the key (``key_s``, ``key_i``) in the
    ranking order: a higher score, or the same score and a lower item."""
    return (s > key_s) | ((s == key_s) & (j < key_i))  # no branches: a binary search's steps stay cheap


@njit(cache=True, nogil=True)
def _sort_by_rank(key_s, key_i, key_w, tmp_s, tmp_i, tmp_w, h):
    """Sort the first ``h`` entries of (``key_s``, ``key_i``, ``key_w``) into the ranking order (best score first,
    ties to the lower item): a bottom-up merge sort written out (np.argsort tripled the compile time)."""
    width = 1
    while width < h:
        for lo in range(0, h, 2 * width):
            mid, hi = min(lo + width, h), min(lo + 2 * width, h)
            a, b, t = lo, mid, lo
            while t < hi:
                if b >= hi or (a < mid and not _ahead(key_s[b], key_i[b], key_s[a], key_i[a])):
                    tmp_s[t], tmp_i[t], tmp_w[t] = key_s[a], key_i[a], key_w[a]
                    a += 1
                else:
                    tmp_s[t], tmp_i[t], tmp_w[t] = key_s[b], key_i[b], key_w[b]
                    b += 1
                t += 1
        for t in range(h):
            key_s[t], key_i[t], key_w[t] = tmp_s[t], tmp_i[t], tmp_w[t]
        width *= 2


@njit(cache=True, nogil=True)
def _percentile_ranks(scores, excluded, items, weights, s2, cnt, hs, hi, hw, tmp_s, tmp_i, tmp_w):
    """(sum of weight x percentile rank, sum of weight) of the held-out ``items`` with ``weights`` among the
    candidates (the items not ``excluded``) ordered by ``scores`` (NaN as -inf, ties to the lower item); (0, 0)
    with a single candidate; an excluded held-out item is no candidate and left out. ``s2``: work space of
    len(scores); ``cnt``, ``hs``, ``hi``, ``hw`` and the ``tmp_`` arrays: at least len(items) + 1.

    With few held-out items (LINEAR_MOST) each one's candidates ahead are counted by two passes over the
    items that the compiler vectorizes; with more, the held-out items are sorted once and one pass over the
    candidates finds, by a binary search among them, how many of them each candidate comes before."""
    h = items.shape[0]
    m = scores.shape[0]
    n_cand = 0
    for j in range(m):  # the candidates' scores, NaN as -inf; NaN marks an excluded item (no comparison holds)
        v = scores[j]
        if excluded[j]:
            s2[j] = np.nan
        else:
            n_cand += 1
            s2[j] = -np.inf if v != v else v
    if n_cand < 2:
        return 0.0, 0.0
    for t in range(h):
        hs[t] = s2[items[t]]
        hi[t] = items[t]
        hw[t] = 0.0 if s2[items[t]] != s2[items[t]] else weights[t]
    if h <= LINEAR_MOST:
        for t in range(h):
            ks, ki = hs[t], hi[t]
            c = 0
            for j in range(m):
                c += s2[j] > ks
            for j in range(ki):
                c += s2[j] == ks
            cnt[t] = c
    else:
        _sort_by_rank(hs, hi, hw, tmp_s, tmp_i, tmp_w, h)  # best first, ties to the lower item
        for t in range(h + 1):
            cnt[t] = 0
        for j in range(m):
            s = s2[j]
            if s != s or not _ahead(s, j, hs[h - 1], hi[h - 1]):  # excluded, or behind every held-out item
                continue
            base, length = 0, h  # the first held-out item it comes before (it comes before the last one)
            while length > 1:
                half = length // 2
                base += 0 if _ahead(s, j, hs[base + half], hi[base + half]) else half
                length -= half
            cnt[base + (0 if _ahead(s, j, hs[base], hi[base]) else 1)] += 1
        for t in range(1, h):
            cnt[t] += cnt[t - 1]  # candidates ahead of held-out item t
    total = 0.0
    weight = 0.0
    for t in range(h):
        total += hw[t] * (cnt[t] / (n_cand - 1.0))
        weight += hw[t]
    return total, weight


@njit(cache=True, nogil=True)
def _block_scores(us, P, Q, tile, out):
    """``out[b]`` = P[us[b]] · Q for the users ``us`` (Q as K x items), a tile of items at a time for all of them,
    so the tile of Q is read from cache once per block of users rather than from memory once per user. Each
    score is summed in the same order as one user at a time (0, then + P[u, f] Q[f, j] for f = 0 .. K-1)."""
    K, m = Q.shape
    acc = np.empty(tile)  # a local array: the compiler knows it overlaps nothing, so the loop vectorizes
    for j0 in range(0, m, tile):
        w = min(tile, m - j0)
        for b in range(us.shape[0]):
            u = us[b]
            acc[:w] = 0.0
            for f in range(K):  # item by item in the inner loop: no dependency, so it vectorizes
                p = P[u, f]
                q = Q[f, j0:j0 + w]
                for j in range(w):
                    acc[j] += p * q[j]
            out[b, j0:j0 + w] = acc[:w]


@njit(cache=True, nogil=True)
def _rank_range(lo, hi, users, P, Q, ub, ib, mu, biased, cold_user, cold_items, fallback,
                train_ptr, train_items, rel_ptr, rel_items, rel_w, with_mpr, k, tile, out):
    """rank_users for the users at positions ``lo`` .. ``hi`` - 1, with its own work space."""
    K, m = Q.shape  # ib and ub are zeros without biases
    block = np.empty((USER_BLOCK, m))
    excluded = np.zeros(m, dtype=np.bool_)
    relevant = np.zeros(m, dtype=np.bool_)
    top_s = np.empty(k)
    top_i = np.zeros(k, dtype=np.int64)
    most = 0
    for n in range(lo, hi):
        most = max(most, rel_ptr[n + 1] - rel_ptr[n])
    cnt = np.zeros(most + 1, dtype=np.int64)
    hs, hi_, hw = np.empty(most + 1), np.zeros(most + 1, dtype=np.int64), np.empty(most + 1)
    tmp_s, tmp_i, tmp_w = np.empty(most + 1), np.zeros(most + 1, dtype=np.int64), np.empty(most + 1)
    s2 = np.empty(m)
    for b0 in range(lo, hi, USER_BLOCK):
        b1 = min(b0 + USER_BLOCK, hi)
        _block_scores(users[b0:b1], P, Q, tile, block)
        for n in range(b0, b1):
            u = users[n]
            scores = block[n - b0]
            if cold_user[u]:  # the fallback: the mean, plus each item's bias (none for a cold item)
                for j in range(m):
                    scores[j] = fallback + ib[j]
                for j in cold_items:
                    scores[j] = fallback
            else:
                if biased:
                    for j in range(m):
                        scores[j] = scores[j] + mu + ub[u] + ib[j]
                for j in cold_items:
                    scores[j] = fallback + ub[u]
            _rank_one(n, scores, excluded, relevant, top_s, top_i, train_ptr, train_items, rel_ptr, rel_items, rel_w,
                      with_mpr, k, s2, cnt, hs, hi_, hw, tmp_s, tmp_i, tmp_w, out)


@njit(cache=True, nogil=True)
def _rank_one(n, scores, excluded, relevant, top_s, top_i, train_ptr, train_items, rel_ptr, rel_items, rel_w,
              with_mpr, k, s2, cnt, hs, hi, hw, tmp_s, tmp_i, tmp_w, out):
    """The row ``out[n]`` of the user at position ``n`` from its ``scores`` (see rank_users)."""
    m = scores.shape[0]
    for t in range(train_ptr[n], train_ptr[n + 1]):
        excluded[train_items[t]] = True
    c = 0
    for j in range(m):  # a sorted top k, kept by insertion: one comparison for most items
        if excluded[j]:
            continue
        s = scores[j]
        if s != s:
            s = -np.inf
        if c < k:
            p_ = c
            c += 1
        elif s > top_s[k - 1]:
            p_ = k - 1
        else:
            continue
        while p_ > 0 and top_s[p_ - 1] < s:
            top_s[p_] = top_s[p_ - 1]
            top_i[p_] = top_i[p_ - 1]
            p_ -= 1
        top_s[p_] = s
        top_i[p_] = j
    for t in range(rel_ptr[n], rel_ptr[n + 1]):
        relevant[rel_items[t]] = True
    n_rel = rel_ptr[n + 1] - rel_ptr[n]
    hits = 0
    dcg = 0.0
    ap = 0.0
    for r in range(c):
        if relevant[top_i[r]]:
            hits += 1
            dcg += 1.0 / np.log2(r + 2.0)
            ap += hits / (r + 1.0)
    best = min(k, n_rel)
    ideal = 0.0
    for r in range(best):
        ideal += 1.0 / np.log2(r + 2.0)
    out[n, 0] = hits / k
    out[n, 1] = hits / n_rel
    out[n, 2] = dcg / ideal
    out[n, 3] = ap / best
    out[n, 4] = 0.0
    out[n, 5] = 0.0
    if with_mpr:
        a, b = rel_ptr[n], rel_ptr[n + 1]
        out[n, 4], out[n, 5] = _percentile_ranks(scores, excluded, rel_items[a:b], rel_w[a:b], s2, cnt, hs, hi,
                                                 hw, tmp_s, tmp_i, tmp_w)
    for t in range(train_ptr[n], train_ptr[n + 1]):
        excluded[train_items[t]] = False
    for t in range(rel_ptr[n], rel_ptr[n + 1]):
        relevant[rel_items[t]] = False


@njit(cache=True, nogil=True)
def rank_users(users, P, Q, ub, ib, mu, biased, cold_user, cold_items, fallback,
               train_ptr, train_items, rel_ptr, rel_items, rel_w, with_mpr, k, out):
    """For each ``users[n]``: its scores (P row · Q, Q as K x items C-contiguous; biases ``ub``/``ib`` and
    ``mu`` when ``biased``; ``fallback`` for ``cold_user`` flags and ``cold_items`` indices), its top k
    among the items not in ``train_items[train_ptr[n]:train_ptr[n + 1]]`` (NaN counts as -inf; ties to
    the lower item), and with the relevant items ``rel_items[rel_ptr[n]:rel_ptr[n + 1]]`` the row
    ``out[n]``: precision, recall, NDCG and AP at k, then when ``with_mpr`` the sum of the relevant items'
    weights ``rel_w`` times their percentile ranks, and the sum of the weights (0, 0 without).

    On the calling thread: it starts no threads (the sweeps' fork server runs it before forking)."""
    K = Q.shape[0]
    _rank_range(0, users.shape[0], users, P, Q, ub, ib, mu, biased, cold_user, cold_items, fallback,
                train_ptr, train_items, rel_ptr, rel_items, rel_w, with_mpr, k, max(64, TILE_FLOATS // max(K, 1)), out)


@njit(cache=True, nogil=True, parallel=True)
def rank_users_threaded(users, P, Q, ub, ib, mu, biased, cold_user, cold_items, fallback,
                        train_ptr, train_items, rel_ptr, rel_items, rel_w, with_mpr, k, parts, out):
    """:func:`rank_users` with the users cut into ``parts`` ranges run on numba's threads; each row depends on
    its user alone, so the rows are the same whatever the number of threads or parts."""
    K = Q.shape[0]
    tile = max(64, TILE_FLOATS // max(K, 1))
    n_users = users.shape[0]
    for part in prange(parts):
        lo, hi = part * n_users // parts, (part + 1) * n_users // parts
        _rank_range(lo, hi, users, P, Q, ub, ib, mu, biased, cold_user, cold_items, fallback,
                    train_ptr, train_items, rel_ptr, rel_items, rel_w, with_mpr, k, tile, out)
