"""The compiled loop of the ranking metrics (mfstudio.core.ranking): each user's scores, top k in one pass
over the items, and its precision, recall, NDCG and average precision.

The scores are R_hat as :meth:`mfstudio.core.solvers.base.Factors.predict_rows` builds it, term for term
in the same order (P·Q, then + mean + user bias + item bias with biases; the fallback for users and items
without training ratings); only P·Q is summed here rather than by BLAS, so a score may differ from
predict_rows' in the last bit. Summed here, one user at a time, because a BLAS product between training
chunks leaves BLAS's threads spinning on a core the training loop needs (measured: steps 25% slower on 2
cores), and memory stays one row of scores.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def rank_users(users, P, Q, ub, ib, mu, biased, cold_user, cold_items, fallback,
               train_ptr, train_items, rel_ptr, rel_items, k, out):
    """For each ``users[n]``: its scores (P row · Q, Q as K x items C-contiguous; biases ``ub``/``ib`` and
    ``mu`` when ``biased``; ``fallback`` for ``cold_user`` flags and ``cold_items`` indices), its top k
    among the items not in ``train_items[train_ptr[n]:train_ptr[n + 1]]`` (NaN counts as -inf; ties to
    the lower item), and with the relevant items ``rel_items[rel_ptr[n]:rel_ptr[n + 1]]`` the row
    ``out[n]``: precision, recall, NDCG and AP at k."""
    K, m = Q.shape  # ib and ub are zeros without biases
    scores = np.empty(m)
    excluded = np.zeros(m, dtype=np.bool_)
    relevant = np.zeros(m, dtype=np.bool_)
    top_s = np.empty(k)
    top_i = np.zeros(k, dtype=np.int64)
    for n in range(users.shape[0]):
        u = users[n]
        if cold_user[u]:  # the fallback: the mean, plus each item's bias (none for a cold item)
            for j in range(m):
                scores[j] = fallback + ib[j]
            for j in cold_items:
                scores[j] = fallback
        else:
            scores[:] = 0.0
            for f in range(K):  # item by item in the inner loop: no dependency, so it vectorizes
                p = P[u, f]
                for j in range(m):
                    scores[j] += p * Q[f, j]
            if biased:
                for j in range(m):
                    scores[j] = scores[j] + mu + ub[u] + ib[j]
            for j in cold_items:
                scores[j] = fallback + ub[u]
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
        for t in range(train_ptr[n], train_ptr[n + 1]):
            excluded[train_items[t]] = False
        for t in range(rel_ptr[n], rel_ptr[n + 1]):
            relevant[rel_items[t]] = False
