"""Cost grows with the number of ratings: 100k vs 1M ratings on 6,040 x 3,706, K = 20.

The 1M set is MovieLens-1M-like (synthetic, _data.py); the 100k set is a random
10% of it on the same users x items. For each solver, time one step (epoch /
iteration, objective and errors included) on both and print the ratio; about 10
is linear, less is better than linear (fixed per-user/item costs). The ratio is
flagged MISSED above 15 (worse than about linear).
"""

from __future__ import annotations

import sys

import _common  # noqa: F401
import numpy as np
from _common import fmt_time, table, timeit, verdict
from _data import ML1M, movielens_like

from mfstudio.core.ratings import Observed
from mfstudio.core.solvers import get_solver

K = 20
PARAMS = {"sgd": {"alpha": 0.0002}, "als": {}, "biased-sgd": {}, "nmf": {}}


def main() -> int:
    n_users, n_items, nnz = ML1M
    rows, cols, vals = movielens_like(n_users, n_items, nnz)
    keep = np.random.default_rng(5).random(nnz) < 0.1
    sets = {"1M": Observed(rows, cols, vals), "100k": Observed(rows[keep], cols[keep], vals[keep])}
    print(
        f"{n_users} x {n_items}, {len(sets['100k']):,} vs {len(sets['1M']):,} ratings, K = {K}; "
        "median of 5 steps each"
    )
    out = np.empty((1, 5))
    table_rows = []
    ok = True
    for name, extra in PARAMS.items():
        t = {}
        for label, obs in sets.items():
            s = get_solver(name)((n_users, n_items), obs, None, {"K": K, **extra})
            s.run(1, out)  # warm-up (kernel load, caches)
            t[label] = timeit(lambda s=s: s.run(1, out), repeats=5)[1]
            ok &= bool(np.isfinite(out[0, 0]))
        ratio = t["1M"] / t["100k"]
        table_rows.append([name, fmt_time(t["100k"]), fmt_time(t["1M"]), f"{ratio:.1f}x", verdict(ratio <= 15)])
    table(["solver", "100k step", "1M step", "1M / 100k", "at most ~10x"], table_rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
