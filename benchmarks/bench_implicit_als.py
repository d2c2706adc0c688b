"""``implicit-als`` against implicit's CPU ``AlternatingLeastSquares(use_cg=True)``: the same objective, data, K and
threads, timed in the same run; precision@10 of both on the same held-out split.

Data: MovieLens-100K-like (943 x 1,682, 100,000 ratings) and ML-1M-like (6,040 x 3,706, 1,000,209) from
_data.py, each rating taken as one interaction (count 1, as MF Studio's "ratings as implicit data"); a fixed
20 % of the interactions held out (_data.train_test), both models trained on the other 80 %.
(bench_als_implicit.py times the EXPLICIT als against the same implicit class; this is the like-for-like one.)

Parameters, converted as implicit_als.py's docstring says: ours confidence a, beta b (c = 1 + a r, lambda = b);
implicit gets the matrix with values 1 + a r (its c, used directly), alpha = 1, regularization = b. Both make
3 CG steps per row from the row's current factors. implicit runs in its default float32 and in float64 (ours
is float64); both on the same threads (numba's, and implicit's num_threads; BLAS limited to one thread
through threadpoolctl, as implicit asks: its threads are its own loop's). Our iteration is
``ImplicitALSSolver.run(1)``, which also scores the step (the objective, the training errors and, here, the
held-out errors); implicit's is timed through its fit callback, without its
training loss. Times are medians of iterations 2 onwards, taken in rounds that alternate the implementations
(the machine is shared).

Quality: precision@10 on the held-out 20 % (every held-out interaction relevant; candidates the items a user
has no training interaction with), computed by mfstudio.core.ranking for both, implicit's factors given to it;
the target is |ours - implicit's| <= 0.01. Exit 1 if a target on speed (ours no slower per iteration than
implicit float32, same threads) or quality is missed.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import _common  # noqa: F401
import numba
import numpy as np
from _common import fmt_time, table, verdict
from _data import ML1M, ML100K, movielens_like, train_test

from mfstudio.core.ranking import RankingEvaluator
from mfstudio.core.ratings import Observed
from mfstudio.core.solvers import Factors, get_solver

CONFIDENCE = 10.0  # ours: c = 1 + 10 r
BETA = 1.0  # lambda, unscaled in both
CG = 3
ITERATIONS = 15  # for precision@10 (implicit's default)
ROUNDS = 3
TOP = 10


def implicit_fit(C, K: int, n: int, dtype, threads: int, state: dict | None = None) -> tuple[list[float], object]:
    """(seconds of each of ``n`` iterations, the model) of implicit's CG ALS on ``threads`` threads."""
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    times: list[float] = []
    with threadpool_limits(1, "blas"):  # as implicit asks (its threads are its own prange's)
        model = AlternatingLeastSquares(factors=K, iterations=n, regularization=BETA, alpha=1.0, use_cg=True,
                                        dtype=dtype, num_threads=threads,
                                        calculate_training_loss=False, random_state=0)
        model.cg_steps = CG  # an attribute, not a constructor argument, in 0.7
        if state:  # go on from where the last call stopped
            model.user_factors, model.item_factors = state["P"], state["Q"]
        model.fit(C, show_progress=False, callback=lambda _it, elapsed, _loss: times.append(elapsed))
    if state is not None:
        state["P"], state["Q"] = model.user_factors, model.item_factors
    return times, model


def main() -> int:
    try:
        import implicit
        import scipy.sparse as sp
        from threadpoolctl import threadpool_limits
    except ImportError:
        print("needs the bench extra: pip install -e '.[bench]' (implicit, threadpoolctl)")
        return 1
    threads = min(2, numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(threads)
    cls = get_solver("implicit-als")
    ok = True
    print(__doc__.split("\n\n")[0])
    print(f"implicit {implicit.__version__}; numba threading layer up to {threads} threads; confidence = "
          f"{CONFIDENCE:g}, beta = {BETA:g}, {CG} CG steps")
    for label, dims, Ks in (("ML-100K-like", ML100K, (20, 64)), ("ML-1M-like", ML1M, (20, 64))):
        n_users, n_items, nnz = dims
        rows, cols, _stars = movielens_like(n_users, n_items, nnz)
        ones = np.ones(len(rows))
        (tr, tc, tv), (vr, vc, vv) = train_test(rows, cols, ones)
        train, held = Observed(tr, tc, tv), Observed(vr, vc, vv)
        shape = (n_users, n_items)
        C = sp.csr_matrix(((1.0 + CONFIDENCE * tv).astype(np.float32), (tr, tc)), shape=shape)  # implicit's c
        rank = RankingEvaluator(train, held, n_items, TOP, 0.5)
        for K in Ks:
            params = {"K": K, "beta": BETA, "confidence": CONFIDENCE, "cg_steps": CG, "tol": 0.0, "seed": 0}

            def ours_iterate(s, n: int) -> list[float]:
                out = np.empty((1, 5))
                times = []
                with threadpool_limits(1, "blas"):
                    for _ in range(n):
                        t0 = time.perf_counter()
                        s.run(1, out)
                        times.append(time.perf_counter() - t0)
                return times

            ours = cls(shape, train, held, params)
            ours_iterate(ours, 1)  # compiled, threads up; the first iteration from the start is not typical
            state32: dict = {}
            state64: dict = {}
            implicit_fit(C, K, 1, np.float32, threads, state32)
            implicit_fit(C, K, 1, np.float64, threads, state64)
            times: dict[str, list[float]] = {"ours": [], "implicit32": [], "implicit64": []}
            for _ in range(ROUNDS):
                times["ours"] += ours_iterate(ours, 2)
                times["implicit32"] += implicit_fit(C, K, 2, np.float32, threads, state32)[0]
                times["implicit64"] += implicit_fit(C, K, 2, np.float64, threads, state64)[0]
            med = {key: statistics.median(v) for key, v in times.items()}
            # quality: ITERATIONS from each one's own start
            fresh = cls(shape, train, held, params)
            fresh.run(ITERATIONS, np.empty((ITERATIONS, 5)))
            p_ours = rank(fresh.factors)[f"precision@{TOP}"]
            prec = {}
            for name, dtype in (("implicit32", np.float32), ("implicit64", np.float64)):
                _t, model = implicit_fit(C, K, ITERATIONS, dtype, threads)
                f = Factors(np.asarray(model.user_factors, dtype=np.float64),
                            np.ascontiguousarray(np.asarray(model.item_factors, dtype=np.float64).T))
                prec[name] = rank(f)[f"precision@{TOP}"]
            speed_ok = med["ours"] <= med["implicit32"]
            close = abs(p_ours - prec["implicit32"]) <= 0.01
            ok &= speed_ok and close
            load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
            print(f"\n{label}, {n_users:,} x {n_items:,}, {len(tv):,} training interactions, K = {K}, "
                  f"{threads} threads: median time per iteration ({ROUNDS} rounds; load average {load})")
            table(["implementation", "per iteration", "implicit f32 / this", f"precision@{TOP}", "target"], [
                ["implicit CG, float32", fmt_time(med["implicit32"]), "1.00x", f"{prec['implicit32']:.4f}", ""],
                ["implicit CG, float64", fmt_time(med["implicit64"]), f"{med['implicit32'] / med['implicit64']:.2f}x",
                 f"{prec['implicit64']:.4f}", ""],
                ["mfstudio implicit-als, incl. scores", fmt_time(med["ours"]),
                 f"{med['implicit32'] / med['ours']:.2f}x", f"{p_ours:.4f}",
                 f"speed {verdict(speed_ok)}, |dP@10| = {abs(p_ours - prec['implicit32']):.4f} {verdict(close)}"],
            ])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
