"""The ranking metrics' cost in a training run: ``biased-sgd``, K = 20, a fifth held out.

943 users x 1,682 items, 100,000 ratings (MovieLens-100k-like, synthetic; _data.py). Times one
evaluation of precision@10, recall@10, NDCG@10 and MAP@10 (every user with a relevant held-out
rating scored against every item) against one training step, and a whole run with the metrics on
its schedule (Training.rank_every) against the same run without them (top_n = 0).
Correctness: the metrics equal a plain per-user numpy computation (full sort) for the first 200 users.
Target: evaluating takes under a tenth of the training time (measured inside the same runs).
"""

from __future__ import annotations

import math
import sys
import time

import _common  # noqa: F401
import numpy as np
from _common import fmt_time, table, timeit, verdict
from _data import ML100K, movielens_like

from mfstudio.core.ranking import ranking_metrics
from mfstudio.core.ratings import Observed, Ratings
from mfstudio.core.training import Training

PARAMS = {"K": 20, "steps": 160, "alpha": 0.005, "beta": 0.02, "tol": 0.0, "seed": 1}
TARGET = 0.10


def reference(scores: np.ndarray, users: np.ndarray, train: Observed, held: Observed, k: int, t: float) -> float:
    """precision@k over ``users``, one user at a time with a full sort."""
    out = []
    for n, u in enumerate(users):
        relevant = set(held.cols[(held.rows == u) & (held.vals >= t)].tolist())
        candidates = np.setdiff1d(np.arange(scores.shape[1]), train.cols[train.rows == u])
        top = candidates[np.lexsort((candidates, -scores[n, candidates]))][:k]
        out.append(len(relevant.intersection(top.tolist())) / k)
    return float(np.mean(out))


class Timed:
    """A ranker that adds the time it takes to ``spent[0]``."""

    def __init__(self, ranker, spent: list[float]) -> None:
        self.ranker, self.spent = ranker, spent
        self.k, self.threshold, self.cells = ranker.k, ranker.threshold, ranker.cells

    def __call__(self, factors):
        t0 = time.perf_counter()
        try:
            return self.ranker(factors)
        finally:
            self.spent[0] += time.perf_counter() - t0


def main() -> int:
    n_users, n_items, nnz = ML100K
    rows, cols, vals = movielens_like(n_users, n_items, nnz)
    R = Ratings(rows, cols, vals, (n_users, n_items))
    t = Training(R, "biased-sgd", PARAMS, holdout=0.2)
    t.run_to_end()  # compiles (or loads) the kernels too
    ev = t.ranker
    assert ev is not None
    f = t.solver.factors
    got = ev(f)
    few = ev.users[:200]
    mask = np.isin(t.split.val.rows, few)
    held = Observed(t.split.val.rows[mask], t.split.val.cols[mask], t.split.val.vals[mask])
    ours = ranking_metrics(f, t.split.train, held, ev.k, ev.threshold)["precision@10"]
    ref = reference(f.predict()[few], few, t.split.train, held, ev.k, ev.threshold)
    same = math.isclose(ours, ref, rel_tol=1e-12)
    print(f"precision@10 of the first 200 users: ours {ours:.6f}, numpy reference {ref:.6f} -> "
          f"{'same' if same else 'DIFFERENT'}")
    print(f"all {len(ev.users)} users with a relevant held-out rating (>= {ev.threshold:g}): "
          + ", ".join(f"{k} {v:.4f}" for k, v in got.items()) + f"; validation RMSE {t.current().val_rmse:.4f}")

    e_best, e_med = timeit(lambda: ev(f), repeats=21)
    out = np.empty((1, 5))
    s_best, s_med = timeit(lambda: t.solver.run(1, out), repeats=21)
    walls: dict[int, list[float]] = {0: [], 10: []}
    shares, per_step = [], []
    for _ in range(5):  # alternating, so both see the same load
        for top_n in (0, 10):
            run = Training(R, "biased-sgd", PARAMS, holdout=0.2, top_n=top_n)
            spent = [0.0]
            if run.ranker is not None:
                run.ranker = Timed(run.ranker, spent)
            t0 = time.perf_counter()
            run.run_to_end()
            walls[top_n].append((time.perf_counter() - t0) / PARAMS["steps"])
            if top_n:
                shares.append(spent[0] / run.elapsed)
                per_step.append(spent[0] / PARAMS["steps"])
    share = float(np.median(shares))
    print(f"\n{n_users} x {n_items}, {nnz:,} ratings, a fifth held out, biased-sgd K = 20; "
          f"the schedule evaluates every {t.rank_every} steps and at the last")
    table(["what", "best", "median", "target"], [
        ["one evaluation (4 metrics, all users)", fmt_time(e_best), fmt_time(e_med), ""],
        ["one training step", fmt_time(s_best), fmt_time(s_med), ""],
        [f"a run of {PARAMS['steps']} steps without the metrics, per step", fmt_time(min(walls[0])),
         fmt_time(float(np.median(walls[0]))), ""],
        ["the same run with them, per step", fmt_time(min(walls[10])), fmt_time(float(np.median(walls[10]))), ""],
        ["  of which evaluating, per step", fmt_time(min(per_step)), fmt_time(float(np.median(per_step))),
         f"{share:.1%} of training {verdict(share < TARGET)}"],
    ])
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
