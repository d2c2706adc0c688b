"""The compiled loop of the ranking metrics (mfstudio.core.ranking): each user's top k in one pass over the
items, and its precision, recall, NDCG and average precision."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def rank_block(scores, train_ptr, train_items, rel_ptr, rel_items, k, out):
    """Each row of ``scores`` (a user's R_hat): its top k among the items not in ``train_items[train_ptr[u]:
    train_ptr[u + 1]]`` (NaN counts as -inf; ties to the lower item), and from the relevant items
    ``rel_items[rel_ptr[u]:rel_ptr[u + 1]]`` the row of ``out``: precision, recall, NDCG and AP at k."""
    b, m = scores.shape
    excluded = np.zeros(m, dtype=np.bool_)
    relevant = np.zeros(m, dtype=np.bool_)
    top_s = np.empty(k)
    top_i = np.zeros(k, dtype=np.int64)
    for u in range(b):
        for t in range(train_ptr[u], train_ptr[u + 1]):
            excluded[train_items[t]] = True
        n = 0
        for j in range(m):  # a sorted top k, kept by insertion: one comparison for most items
            if excluded[j]:
                continue
            s = scores[u, j]
            if s != s:
                s = -np.inf
            if n < k:
                p = n
                n += 1
            elif s > top_s[k - 1]:
                p = k - 1
            else:
                continue
            while p > 0 and top_s[p - 1] < s:
                top_s[p] = top_s[p - 1]
                top_i[p] = top_i[p - 1]
                p -= 1
            top_s[p] = s
            top_i[p] = j
        for t in range(rel_ptr[u], rel_ptr[u + 1]):
            relevant[rel_items[t]] = True
        n_rel = rel_ptr[u + 1] - rel_ptr[u]
        hits = 0
        dcg = 0.0
        ap = 0.0
        for r in range(n):
            if relevant[top_i[r]]:
                hits += 1
                dcg += 1.0 / np.log2(r + 2.0)
                ap += hits / (r + 1.0)
        best = min(k, n_rel)
        ideal = 0.0
        for r in range(best):
            ideal += 1.0 / np.log2(r + 2.0)
        out[u, 0] = hits / k
        out[u, 1] = hits / n_rel
        out[u, 2] = dcg / ideal
        out[u, 3] = ap / best
        for t in range(train_ptr[u], train_ptr[u + 1]):
            excluded[train_items[t]] = False
        for t in range(rel_ptr[u], rel_ptr[u + 1]):
            relevant[rel_items[t]] = False
