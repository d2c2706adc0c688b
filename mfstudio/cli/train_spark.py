"""``mfstudio train --engine spark``: the same run on Apache Spark's ALS, written as the built-in engines write it.

The split, the metrics, the ranking metrics, the recommendations and every file come from MF Studio; only the
factors come from Spark (see :mod:`mfstudio.engines.spark` for how the parameters map). Spark trains its maxIter
steps at once and cannot resume, so history.csv holds one row, the final one (a row per step would mean training
1, 2, ..., steps times over); its val_rmse is Spark's RegressionEvaluator's.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from typing import Any

import numpy as np

from mfstudio.cli.common import EXIT_OK, UsageError, _check_out_dir, _duration, _say, _whole

ENGINES = ("builtin", "spark")


def add_engine_arguments(p: argparse.ArgumentParser) -> None:
    """--engine, --spark-master and --spark-conf (``mfstudio train``)."""
    p.add_argument("--engine", choices=ENGINES, default="builtin", metavar="ENGINE",
                   help="what trains: builtin (MF Studio's solvers, the default) or spark (Apache Spark MLlib's "
                        "ALS with the parameters mapped to the same objective; needs pip install 'mfstudio[spark]' "
                        "and Java; solvers als (default), nmf, sgd, implicit-als)")
    p.add_argument("--spark-master", metavar="URL",
                   help="with --engine spark: the Spark master, e.g. local[4], spark://host:7077 or yarn; "
                        "default local[*]")
    p.add_argument("--spark-conf", metavar="KEY=VALUE", action="append",
                   help="with --engine spark: a Spark setting, e.g. spark.driver.memory=4g (repeat for more)")


def check_engine_flags(args: argparse.Namespace) -> str:
    """The engine asked for; --spark-master and --spark-conf without --engine spark are refused."""
    if args.engine != "spark" and (args.spark_master is not None or args.spark_conf):
        flag = "--spark-master" if args.spark_master is not None else "--spark-conf"
        raise UsageError(f"{flag} is for --engine spark; add --engine spark or leave out {flag}.")
    return str(args.engine)


def _refuse_builtin_only(args: argparse.Namespace, run: dict[str, Any]) -> None:
    why = {"--init": "Spark's ALS starts from its own random factors",
           "--script": "Spark's ALS has no update rule of MF Studio's to replay",
           "--patience": "Spark's ALS runs every step at once, so it cannot stop early",
           "--tol": "Spark's ALS runs every step at once, so it cannot stop early",
           "--cg-steps": "Spark's ALS solves every row exactly (Cholesky, or NNLS for nmf)"}
    for flag, given in (("--init", args.init is not None), ("--script", args.script is not None),
                        ("--patience", run.get("patience") is not None),
                        ("--tol", getattr(args, "param_tol", None) is not None),
                        ("--cg-steps", getattr(args, "param_cg_steps", None) is not None)):
        if given:
            raise UsageError(f"{flag} works with the built-in engine only ({why[flag]}); leave out {flag} or "
                             "--engine spark.")


def train_spark(args: argparse.Namespace) -> int:
    """Train on Spark ALS and write P.csv, Q.csv, history.csv, recommendations.csv, run.json (with "engine") and the
    session, exactly as ``mfstudio train`` does for the built-in engines."""
    from mfstudio import io as mio
    from mfstudio.cli.train_command import check_training_flags, read_input
    from mfstudio.core import defaults, metrics
    from mfstudio.core.ratings import Observed, Ratings
    from mfstudio.core.session import RunResult, Session, mark_cold
    from mfstudio.core.solvers import SOLVERS, Factors
    from mfstudio.core.status_text import data_word, error_words
    from mfstudio.core.training import Snapshot, StopReason
    from mfstudio.engines import spark as engine
    from mfstudio.io.load import LoadResult

    quiet = args.quiet
    t_start = time.perf_counter()
    conf = engine.parse_conf(args.spark_conf)
    master = (args.spark_master or engine.DEFAULT_MASTER).strip()
    if not master:
        raise UsageError("--spark-master is empty; give a master URL such as local[4] or spark://host:7077.")
    reads = engine.spark_reads(args.input)
    loaded = None
    if args.solver is None and not reads:  # the default follows the data: a file of counts trains implicit-als
        loaded = read_input(args, bool(getattr(args, "implicit", False)))
    counts = bool(getattr(args, "implicit", False)) or (loaded is not None and loaded.session.ratings.implicit)
    solver = args.solver or defaults.solver_for("als", counts)
    if solver not in engine.SPARK_SOLVERS or solver not in SOLVERS:
        engine.map_params(solver, {}, n_users=0, n_items=0, n_positive=0)  # the sentence for an unsupported one
        raise UsageError(f"This MF Studio has no {solver} solver yet, so its run cannot be written as a session; "
                         "use --solver als.")
    args.solver = solver
    run = check_training_flags(args)
    _refuse_builtin_only(args, run)
    top = run.get("top_n")
    min_ratings = 0 if args.min_ratings.strip().lower() == "auto" else \
        _whole(args.min_ratings, "--min-ratings", 1, "of training ratings of at least 1, or auto")
    out = _check_out_dir(args.out)
    engine.check_available()
    prepared = None if reads else _prepare(args, run, quiet, out, top, loaded)  # checked first
    _say(quiet, f"Starting Spark on {master} ...", sys.stderr)
    with engine.spark_session(master, conf) as spark:
        if prepared is None:  # a path Spark reads itself: read there, collected here
            users, items, vals = engine.read_triples(spark, args.input)
            implicit = defaults.reads_as_interactions(solver, bool(getattr(args, "implicit", False)))
            ratings_in, dups = Ratings.from_triples(users, items, vals, implicit=implicit)
            notes = [f"{dups:,} cells were listed more than once; their counts were added up." if implicit else
                     f"{dups:,} cells were rated more than once; the last rating of each is used."] if dups else []
            prepared = _prepare(args, run, quiet, out, top, LoadResult(Session(ratings=ratings_in), notes, "triples"))
        setup, training, dense, mapping, top = prepared
        src, ratings = setup.session, setup.session.ratings
        train_set, val_set = training.split.train, training.split.val
        _say(quiet, f"Training Spark ALS ({spark.version}, {master}) on {ratings.n_users:,} users x "
                    f"{ratings.n_items:,} items, {ratings.nnz:,} {data_word(ratings.implicit)} "
                    f"({len(val_set):,} held out).", sys.stderr)
        fit = engine.fit_als(spark, train_set, val_set, ratings.shape, mapping)
    t_trained = time.perf_counter()

    factors = mark_cold(Factors(fit.P, fit.Q), train_set, solver)
    beta = float(training.params["beta"])
    steps = int(training.params["steps"])
    warm = np.ones(len(val_set), bool)
    if factors.cold_users is not None:
        warm &= ~np.isin(val_set.rows, factors.cold_users)
    if factors.cold_items is not None:
        warm &= ~np.isin(val_set.cols, factors.cold_items)
    scored = Observed(val_set.rows[warm], val_set.cols[warm], val_set.vals[warm])  # what Spark scored
    ranking = training.ranker(factors) if training.ranker is not None else {}
    row = np.full(len(training.history.columns), np.nan)
    if SOLVERS[solver].implicit:  # its objective and its errors are those of the preferences, as the built-in's
        from mfstudio.core.solvers.implicit_als import objective_value, preferences

        objective = objective_value(train_set, factors, beta, float(training.params["confidence"]))
        train_set, scored = (Observed(o.rows, o.cols, preferences(o.vals)) for o in (train_set, scored))
        val_rmse = metrics.rmse(scored, factors) if len(scored) else math.nan  # Spark's evaluator compares counts
    else:
        objective, val_rmse = metrics.objective(train_set, factors, beta), fit.val_rmse
    row[:7] = [steps, objective, metrics.rmse(train_set, factors), metrics.mae(train_set, factors), val_rmse,
               metrics.mae(scored, factors), fit.fit_s]
    for name, value in ranking.items():
        row[training.history.columns.index(name)] = value
    snap = Snapshot(step=steps, objective=row[1], train_rmse=row[2], train_mae=row[3], val_rmse=row[4],
                    val_mae=row[5], elapsed=fit.fit_s, steps_per_s=steps / fit.fit_s if fit.fit_s > 0 else 0.0,
                    budget=steps, factors=factors, finished=True, reason=StopReason.BUDGET, ranking=ranking,
                    preferences=SOLVERS[solver].implicit)
    result = RunResult.from_snapshot(solver, engine.used_params(solver, training.params), snap, row[None, :],
                                     training.ranker.threshold if training.ranker else None)
    m = training.split.held_out_flags
    o = ratings.observed
    session = Session(ratings=ratings, held_out_cells=np.stack([o.rows[m], o.cols[m]], axis=1).astype(np.int64),
                      solver=solver, params=dict(training.params),
                      holdout=float(src.holdout if run.get("holdout") is None else run["holdout"]),
                      result=result, top_n=top, relevance=setup.relevance)
    implicit = SOLVERS[solver].implicit
    if implicit:  # Spark's evaluator would compare scores with counts: the preferences' error is the one that means
        from mfstudio.core.solvers.implicit_als import preferences

        held = Observed(val_set.rows, val_set.cols, preferences(val_set.vals))
        validation = {"val_preference_error_all": engine_float(metrics.rmse(held, factors))}
    else:
        validation = {"val_rmse_spark": engine_float(fit.val_rmse),
                      "val_rmse_mfstudio_all": engine_float(metrics.rmse(val_set, factors))}
    about = {
        "name": engine.ENGINE, "master": master, "spark_version": fit.spark_version,
        "parameters": mapping.spark, **fit.extra, "notes": list(mapping.notes), "conf": conf,
        "data_read_by": "spark" if engine.spark_reads(args.input) else "mfstudio",
        "history": _history_note(implicit),
        "validation": {"held_out": len(val_set), "scored_by_spark": fit.val_scored,
                       "dropped_cold": len(val_set) - fit.val_scored, **validation},
    }
    timings = {"load_s": setup.loaded_at - t_start, "wall_s": t_trained - t_start, "spark_fit_s": fit.fit_s,
               "spark_send_s": fit.send_s}
    written = mio.export_results(out, session, top_n=top, min_ratings=min_ratings, full_precision=args.full_precision,
                                 timings=timings, include_session=True, dense=dense, engine=about)
    by = "" if SOLVERS[solver].implicit else " (Spark's evaluator)"  # the preferences' error says what it is
    train_err, val_err = error_words(SOLVERS[solver].implicit)
    val = "" if math.isnan(row[4]) else f", {val_err} {row[4]:.4g}{by}"
    val += "".join(f", {name} {value:.4g}" for name, value in ranking.items() if not math.isnan(value))
    _say(quiet, f"Done (Spark ALS, {steps:,} steps in {_duration(fit.fit_s)}): objective {row[1]:.6g}, "
                f"{train_err} {row[2]:.4g}{val}. Wrote {len(written)} files to {out}.")
    return EXIT_OK


def _prepare(args: argparse.Namespace, run: dict[str, Any], quiet: bool, out: Any, top: int | None,
             loaded: Any = None) -> tuple[Any, Any, bool | None, Any, int]:
    """INPUT read (or ``loaded``), the run set up as ``mfstudio train`` sets it up and its Spark parameters, stated
    on stderr: (setup, training, dense, mapping, top)."""
    from mfstudio.cli.train_command import check_dense_output, setup_training
    from mfstudio.core.training import Training
    from mfstudio.engines import spark as engine

    setup = setup_training(args, run, quiet, loaded=loaded)
    ratings = setup.session.ratings
    if top is None:
        top = setup.session.top_n
    if setup.patience is not None:
        _say(quiet, "Note: Spark runs every step, so the session's patience is not used.", sys.stderr)
    training = Training(ratings, args.solver, setup.params, holdout=setup.holdout, top_n=top,
                        relevance=setup.relevance)
    dense = check_dense_output(ratings, out, args.dense, args.full_precision, quiet)
    for w in training.split.warnings:
        _say(quiet, f"Note: {w}", sys.stderr)
    mapping = engine.map_params(args.solver, training.params, n_users=ratings.n_users, n_items=ratings.n_items,
                                n_positive=int(np.count_nonzero(training.split.train.vals > 0)))
    for line in mapping.lines():
        _say(quiet, line, sys.stderr)
    return setup, training, dense, mapping, int(top)


def _history_note(implicit: bool) -> str:
    """What run.json's engine block says of history.csv's one row."""
    if implicit:
        return ("one row: Spark trains maxIter steps at once; val_rmse is the held-out preferences' error (p = 1 for "
                "every held-out interaction) of Spark's factors, worked out by MF Studio, over the held-out "
                "interactions whose user and item were trained (coldStartStrategy drop)")
    return ("one row: Spark trains maxIter steps at once; val_rmse is Spark's RegressionEvaluator (rmse) over the "
            "held-out ratings whose user and item were trained (coldStartStrategy drop)")


def engine_float(x: float) -> float | None:
    """A number for run.json (None for NaN or infinity)."""
    return float(x) if math.isfinite(x) else None
