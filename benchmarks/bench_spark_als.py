"""Spark MLlib's ALS (``--engine spark``, local[2]) against MF Studio's ``als`` on the same machine and run.

6,040 users x 3,706 items, 1,000,209 ratings (MovieLens-1M-like, synthetic; _data.py), 20 % held out,
K = 20, beta = 0.05 (Spark: regParam = beta / 2, the same objective), 10 steps. Timed:

* per iteration: Spark's fit of 10 steps minus its fit of 2, over 8 (its set-up of the blocks cancels out); ours:
  the run's training time over its steps, exact solves (cg_steps = exact, the maths Spark does) and the default CG;
* end to end: Spark from starting its session (the Java process) to factors and validation RMSE back here
  (sending the ratings, fit, collecting the factors, the evaluator), and ours from building the run to its end
  (each step also scores the objective and the errors).

Prints the times, the ratios and both validation RMSEs (they should agree to about 0.01).
Needs pyspark and Java (pip install 'mfstudio[spark]').
"""

from __future__ import annotations

import sys
import time

import _common  # noqa: F401
import numpy as np
from _common import fmt_time, table
from _data import ML1M, movielens_like, train_test

from mfstudio.core.ratings import Observed, Ratings
from mfstudio.core.training import Training
from mfstudio.engines import spark as engine

K, BETA, STEPS, MASTER = 20, 0.05, 10, "local[2]"


def ours(ratings: Ratings, held_out, cg_steps) -> tuple[float, float, float]:
    """(end to end s, per iteration s, validation RMSE) of the built-in als."""
    t0 = time.perf_counter()
    t = Training(ratings, "als", {"K": K, "steps": STEPS, "beta": BETA, "seed": 1, "cg_steps": cg_steps, "tol": 0.0},
                 holdout=held_out, top_n=0)
    snap = t.run_to_end()
    return time.perf_counter() - t0, t.elapsed / snap.step, snap.val_rmse


def main() -> int:
    engine.check_available()
    rows, cols, vals = movielens_like(*ML1M)
    _, (te_r, te_c, _) = train_test(rows, cols, vals)
    ratings = Ratings(rows, cols, vals, (ML1M[0], ML1M[1]))
    # the same split for both: held-out flags in the order of ratings.observed
    o = ratings.observed
    test_keys = set((te_r * ML1M[1] + te_c).tolist())
    flags = np.array([k in test_keys for k in (o.rows * ML1M[1] + o.cols).tolist()])
    train, val = Observed(o.rows[~flags], o.cols[~flags], o.vals[~flags]), Observed(o.rows[flags], o.cols[flags],
                                                                                        o.vals[flags])
    ours(ratings, flags, "exact")  # warm up numba's kernels
    e2e_exact, it_exact, rmse_exact = ours(ratings, flags, "exact")
    e2e_cg, it_cg, rmse_cg = ours(ratings, flags, 3)

    def mapping(steps: int) -> engine.SparkMapping:
        return engine.map_params("als", {"K": K, "steps": steps, "beta": BETA, "seed": 1}, n_users=ML1M[0],
                                 n_items=ML1M[1], n_positive=len(train))

    t0 = time.perf_counter()
    with engine.spark_session(MASTER) as spark:
        fit = engine.fit_als(spark, train, val, ratings.shape, mapping(STEPS))
        e2e_spark = time.perf_counter() - t0
        short = engine.fit_als(spark, train, val, ratings.shape, mapping(2))
        version = spark.version
    it_spark = (fit.fit_s - short.fit_s) / (STEPS - 2)
    print(f"Spark {version} {MASTER} vs MF Studio als, {ML1M[2]:,} ratings (20 % held out), K = {K}, "
          f"{STEPS} steps, beta = {BETA}")
    table(["", "per iteration", "end to end", "val RMSE"], [
        ["Spark ALS", fmt_time(it_spark), fmt_time(e2e_spark), f"{fit.val_rmse:.4f}"],
        ["als, exact", fmt_time(it_exact), fmt_time(e2e_exact), f"{rmse_exact:.4f}"],
        ["als, CG 3", fmt_time(it_cg), fmt_time(e2e_cg), f"{rmse_cg:.4f}"],
    ])
    print(f"Spark's end to end: {fmt_time(fit.send_s)} sending the ratings, {fmt_time(fit.fit_s)} fit "
          f"({STEPS} steps), the rest starting Spark and collecting.")
    print(f"ratios (Spark / ours): per iteration {it_spark / it_exact:.1f}x (exact), {it_spark / it_cg:.1f}x (CG); "
          f"end to end {e2e_spark / e2e_exact:.1f}x (exact), {e2e_spark / e2e_cg:.1f}x (CG)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
