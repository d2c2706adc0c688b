"""``mfstudio train``: train without the window and write the result files."""

from __future__ import annotations

import argparse
import math
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mfstudio.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    FORMAT_CHOICES,
    IMPLICIT_SOLVER,
    RUN_METAVARS,
    ProgressPrinter,
    UsageError,
    _check_out_dir,
    _check_script_path,
    _duration,
    _param_help,
    _Parser,
    _run_param_help,
    _say,
    _whole,
    add_data_arguments,
    default_solver,
    flag_name,
    param_specs,
    read_init,
    run_flags,
    solver_params,
)
from mfstudio.cli.train_spark import add_engine_arguments, check_engine_flags, train_spark
from mfstudio.core.params import HOLDOUT, PATIENCE, RELEVANCE, TOP_N
from mfstudio.core.solvers import SOLVERS

if TYPE_CHECKING:
    from mfstudio.core.session import Session
    from mfstudio.core.solvers import Factors

TRAIN_EXAMPLES = """\
examples:
  mfstudio train ratings.csv --out results
  mfstudio train ratings.csv --solver als --k 3 --steps 50 --seed 1 --out results
  mfstudio train ml-100k --solver biased-sgd --k 20 --steps 30 --holdout 0.2 --patience 3 --out ml100k
  mfstudio train ml-100k --solver als --k 20 --steps 15 --holdout 0.2 --top 10 --relevance 4 --out als100k
  mfstudio train ml-latest-small.zip --solver als --k 10 --out latest
  mfstudio train matrix.csv --keep-zeros --init start.npz --out results --quiet
  mfstudio train ratings.csv --solver nmf --steps 100 --out results --script reproduce.py
  mfstudio train ml-1m --solver als --k 20 --steps 10 --holdout 0.2 --engine spark --out spark1m
  mfstudio train hdfs:///data/ratings.parquet --engine spark --spark-master yarn --out big

DIR receives P.csv, Q.csv, R_hat.csv, history.csv, recommendations.csv, run.json,
results.npz and session.mfstudio (which the window opens as it was), user_bias.csv and
item_bias.csv for biased-sgd (R_hat.csv can be rebuilt from these CSVs and run.json's
global_mean), held_out.csv with a hold-out (the ratings the ranking metrics precision@k,
recall@k, ndcg@k and map@k of history.csv and run.json are computed on; k is --top), and last
mfstudio-export.json, which lists them with their sizes and SHA-256. Data larger than
2,000,000 users x items cells gets no R_hat.csv, and its results.npz holds R as entries
(R_rows, R_cols, R_vals, R_shape) and no R_hat; --dense writes them whole anyway, after
checking that memory and disk hold them. Files are written
together at the end, all or nothing: on an error (bad input, divergence, a full disk)
DIR is left as it was, and not created if it was new; a read-only result file in DIR is
refused. Ctrl-C stops training and writes the results reached so far.

--script FILE also writes a Python script that needs only numpy (not MF Studio): it holds
the training ratings, the start factors in full, the parameters and the solver's update rule,
and `python FILE` makes the run's steps again, prints P and Q and writes them (and the
biases of biased-sgd) to reproduced.npz in the folder it is run from; they equal the
results to 1e-9. It is written after DIR's files.
"""


def add_training_arguments(p: argparse.ArgumentParser) -> None:
    """The flags that say what to train: INPUT, --solver, every parameter's flag, --holdout, --patience, --init,
    --keep-zeros and --format (``mfstudio train`` and ``mfstudio sweep`` share them)."""
    p.add_argument("input", metavar="INPUT",
                   help="ratings: a matrix or user,item,rating CSV/TSV, an .npz with array R, a .mfstudio session, "
                        "or a MovieLens download (its folder, .zip or ratings file; films are labelled by title)")
    solvers = ", ".join(f"{n} ({c.title.lower()})" for n, c in SOLVERS.items())
    p.add_argument("--solver", metavar="NAME",
                   help=f"the method: {solvers}; default sgd ({IMPLICIT_SOLVER} with --implicit), or the session's")
    for name, pairs in param_specs().items():
        spec = pairs[0][1]
        metavar = {"K": "K", "steps": "N", "alpha": "A", "beta": "B", "tol": "T", "seed": "S"}.get(name, name.upper())
        p.add_argument(flag_name(spec), dest=f"param_{name}", metavar=metavar, help=_param_help(pairs))
    for spec in (HOLDOUT, PATIENCE, RELEVANCE):
        p.add_argument(flag_name(spec), dest=f"run_{spec.name}", metavar=RUN_METAVARS[spec.name],
                       help=_run_param_help(spec))
    p.add_argument("--init", metavar="INIT.npz",
                   help="start from arrays P (users x K) and Q (K x items) in this .npz instead of random ones")
    p.add_argument("--keep-zeros", action="store_true",
                   help="in a matrix file, 0 is a rating (by default 0 means not rated, as in the notebook)")
    p.add_argument("--format", choices=FORMAT_CHOICES, default="auto", metavar="FMT",
                   help=f"the input format: {', '.join(FORMAT_CHOICES)}; default auto (detected)")
    add_data_arguments(p)


def train_parser() -> _Parser:
    """The parser of ``mfstudio train``."""
    p = _Parser(
        prog="mfstudio train",
        description="Train a matrix factorization R ≈ P·Q without the window and write the results to a folder.",
        epilog=TRAIN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_training_arguments(p)
    p.add_argument(flag_name(TOP_N), dest=f"run_{TOP_N.name}", metavar=RUN_METAVARS[TOP_N.name],
                   help=_run_param_help(TOP_N))
    p.add_argument("--min-ratings", metavar="M", default="auto",
                   help="recommend only items with at least M training ratings; default auto "
                        "(10, or half the median item's count when that is smaller)")
    p.add_argument("--full-precision", action="store_true",
                   help="write CSV numbers in full (they read back bit for bit); by default 6 significant digits")
    p.add_argument("--dense", action="store_true",
                   help="write R_hat.csv and the users x items matrices R and R_hat in results.npz even for data "
                        "too large to show whole (more than 2,000,000 cells); refused if memory or disk cannot "
                        "hold them")
    p.add_argument("--out", metavar="DIR", required=True, help="folder for the result files (created if missing)")
    p.add_argument("--script", metavar="FILE",
                   help="also write a standalone Python script (numpy only) that replays this run and reproduces "
                        "its P and Q, e.g. reproduce.py (relative to the current folder)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    add_engine_arguments(p)
    return p


@dataclass
class TrainingSetup:
    """What the training flags and INPUT make of a run, before its Training is built: ``Training(session.ratings,
    solver, params, holdout=holdout, init=init, patience=patience, top_n=..., relevance=relevance)``."""

    session: Session  # the input, as a session (a rating file is one without settings)
    solver: str
    params: dict[str, Any]  # the session's (same solver) overridden by the flags given, each checked
    holdout: float | np.ndarray | None  # the flag's share, else the session's cells or share (split_source)
    init: Factors | None
    patience: int | None
    loaded_at: float  # time.perf_counter() when INPUT was read
    relevance: float | None = None  # the ranking metrics' threshold: the flag (auto: None), else the session's


def check_training_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The checks that need no input: the solver's name and the run's flags (as :func:`run_flags` gives them)."""
    from mfstudio.core.solvers import get_solver

    if args.solver is not None:
        get_solver(args.solver)
    return run_flags(args)


def read_input(args: argparse.Namespace, counts: bool) -> Any:
    """INPUT read as ``mfstudio train`` reads it (``--format``, ``--keep-zeros``); ``counts``: as interactions."""
    from mfstudio import io as mio

    fmt = None if args.format == "auto" else args.format
    return mio.load(args.input, keep_zeros=args.keep_zeros, fmt=fmt, implicit=counts)


def setup_training(args: argparse.Namespace, run: dict[str, Any], quiet: bool, *,
                   folds: int | None = None, loaded: Any = None) -> TrainingSetup:
    """Read INPUT and settle the solver, its parameters, the starting factors, the hold-out and the patience
    from the flags and the session, by the rules ``mfstudio train`` has always had; notes go to stderr.
    With ``folds`` (a sweep's cross-validation) each fold is held out in turn, so patience has ratings to watch.
    ``loaded`` (an io LoadResult) is INPUT already read by someone else (Spark), instead of reading it here."""
    from mfstudio.core.defaults import interactions_note, reads_as_interactions
    from mfstudio.io.interactions import as_interactions

    holdout: float | None = run.get("holdout")  # None: not given, the session's applies
    patience: int | None = run.get("patience")  # None: not given (the session's applies), or off
    if loaded is None:
        loaded = read_input(args, reads_as_interactions(args.solver, args.implicit))  # --implicit or implicit-als
    solver = args.solver or default_solver(loaded)
    name = Path(args.input).name or args.input
    said = loaded.fmt == "session" and loaded.session.ratings.implicit  # a session (an example) of counts says so
    if reads_as_interactions(solver, args.implicit) and not loaded.session.ratings.implicit:
        # ratings given to a solver of counts (a session's own implicit-als, or data Spark read): read as counts
        loaded.session.ratings, more = as_interactions(loaded.session.ratings, name)
        loaded.notices += more
    if args.solver and not args.implicit and not said and reads_as_interactions(args.solver, False):  # said aloud
        loaded.notices.insert(0, interactions_note(args.solver, name))
    loaded_at = time.perf_counter()
    for note in loaded.notices:
        _say(quiet, f"Note: {note}", sys.stderr)
    src = loaded.session
    ratings = src.ratings
    base = dict(src.params) if solver == src.solver else {}
    params = solver_params(args, solver, _suited(base, args, solver, ratings.nnz, quiet))
    init = None
    if args.init is not None:
        init = read_init(args.init, params.get("K") if args.param_K is not None else None, ratings.shape)
        params.setdefault("K", init.K)
        if args.param_K is None:
            params["K"] = init.K
    split_arg = src.split_source(holdout)  # the flag, else the session's cells, else its share
    if "patience" not in run and src.patience is not None:
        if split_arg is None and not folds:
            # the session's setting, not a flag the user gave: say so and train without it
            _say(quiet, f"Note: {Path(args.input).name} sets a patience of {src.patience} steps but holds out no "
                        "ratings to watch, so training runs without it; add --holdout (e.g. 0.2) to use it.",
                 sys.stderr)
        else:
            patience = src.patience
    if patience is not None and split_arg is None and not folds:
        raise UsageError("--patience needs a hold-out to watch; add --holdout (e.g. 0.2) or leave out --patience.")
    relevance = run["relevance"] if "relevance" in run else src.relevance  # the flag (auto: None), else the session's
    return TrainingSetup(src, solver, params, split_arg, init, patience, loaded_at, relevance)


def _suited(base: dict[str, Any], args: argparse.Namespace, solver: str, n_ratings: int,
            quiet: bool) -> dict[str, Any]:
    """``base`` with the larger-data defaults (core.defaults) for the parameters neither a flag nor the session
    set, said in a note."""
    from mfstudio.core.defaults import data_defaults, retune, sentence

    unset = {k: v for k, v in data_defaults(solver, 0).items()  # the notebook's values, where nothing set one
             if k not in base and getattr(args, f"param_{k}", None) is None}
    changed = retune(solver, unset, n_ratings)
    if changed:
        _say(quiet, f"Note: {sentence(solver, changed, n_ratings)}", sys.stderr)
    return {**base, **changed}


LONG_WRITE_CELLS = 2_000_000_000  # users x items from which writing the recommendations takes long enough to say so


def check_dense_output(ratings: Any, out: Path, forced: bool, full_precision: bool, quiet: bool) -> bool | None:
    """Whether the result files hold users x items (R_hat.csv, R and R_hat in results.npz): known to fit in
    memory and on disk before the training, not after. Data too large to show whole gets them only with
    --dense (``forced``, True), after both checks; without it a note says what is left out (None: the rule)."""
    import shutil

    from mfstudio.core.memory import check_dense_export, dense_memory_bytes, human, shows_whole
    from mfstudio.io.export import dense_disk_bytes

    n, m = ratings.n_users, ratings.n_items
    sizes = (f"R_hat.csv and results.npz's R and R_hat about {human(dense_disk_bytes(n, m, full_precision))} on disk, "
             f"about {human(dense_memory_bytes(n, m))} of memory while it is written")
    if not forced and not shows_whole(n, m):
        _say(quiet, f"Note: {n:,} users x {m:,} items is too large to write whole, so R_hat.csv is not written and "
                    "results.npz holds R as its entries (P.csv, Q.csv and recommendations.csv are written); "
                    f"--dense writes R_hat anyway ({sizes}).",
             sys.stderr)
        return None
    check_dense_export(n, m, advice="train on fewer users and items, or leave out --dense" if forced else
                       "train on fewer users and items")
    if forced:
        need = dense_disk_bytes(n, m, full_precision)
        where = next((p for p in (out, *out.parents) if p.exists()), Path("."))
        try:
            free = shutil.disk_usage(where).free
        except OSError:
            free = need
        if need > free:
            raise UsageError(f"Writing R_hat for {n:,} users x {m:,} items (--dense) needs about {human(need)} of disk "
                             f"in {where}, more than the {human(free)} free; free some space, choose another --out, "
                             "or leave out --dense.")
        _say(quiet, f"Note: --dense: R_hat is written whole for {n:,} users x {m:,} items ({sizes}).", sys.stderr)
    return True if forced else None


def train(argv: Sequence[str]) -> int:
    """``mfstudio train``: load, check, train, then write every result file at once."""
    from mfstudio import io as mio
    from mfstudio.core.session import RunResult, Session
    from mfstudio.core.status_text import data_word, error_words
    from mfstudio.core.training import Control, StopReason, Training

    args = train_parser().parse_args(list(argv))
    if check_engine_flags(args) == "spark":
        return train_spark(args)
    quiet = args.quiet
    t_start = time.perf_counter()
    # everything a user can get wrong is checked before the (possibly long) training
    run = check_training_flags(args)
    holdout: float | None = run.get("holdout")  # None: not given, the session's applies
    top = run.get("top_n")  # None: not given, the session's applies
    min_ratings = 0 if args.min_ratings.strip().lower() == "auto" else \
        _whole(args.min_ratings, "--min-ratings", 1, "of training ratings of at least 1, or auto")
    out = _check_out_dir(args.out)
    script = None if args.script is None else _check_script_path(args.script, out)
    setup = setup_training(args, run, quiet)
    t_loaded = setup.loaded_at
    src, ratings, solver, params, patience = setup.session, setup.session.ratings, setup.solver, setup.params, \
        setup.patience
    if top is None:
        top = src.top_n
    if script is not None:
        from mfstudio.core.memory import check_dense_script

        check_dense_script(solver, *ratings.shape)  # before the training, not after it
    training = Training(ratings, solver, params, holdout=setup.holdout, init=setup.init, patience=patience,
                        top_n=top, relevance=setup.relevance)
    dense = check_dense_output(ratings, out, args.dense, args.full_precision, quiet)
    for w in training.split.warnings:
        _say(quiet, f"Note: {w}", sys.stderr)
    o = ratings.observed
    _say(quiet, f"Training {solver} on {ratings.n_users:,} users x {ratings.n_items:,} items, "
                f"{ratings.nnz:,} {data_word(ratings.implicit)} ({len(training.split.val):,} held out), "
                f"K = {training.params['K']}.", sys.stderr)

    control = Control()
    progress = ProgressPrinter(sys.stderr, quiet)
    old_handler = None
    try:
        old_handler = signal.signal(signal.SIGINT, lambda *_: control.stop())
    except ValueError:  # not the main thread: Ctrl-C keeps its default meaning
        pass
    snap = None
    try:
        for snap in training.run(control, chunk_seconds=0.05):
            progress.update(snap, force=snap.finished)
    finally:
        if old_handler is not None:
            signal.signal(signal.SIGINT, old_handler)
        progress.done()
    assert snap is not None
    if snap.failed:
        # the core adds that the last good factors are kept; here nothing is written
        msg = (snap.message or "Training diverged; try a smaller learning rate.").split(" The last good factors")[0]
        raise UsageError(msg)
    t_trained = time.perf_counter()

    m = training.split.held_out_flags
    result = RunResult.from_snapshot(solver, training.params, snap, training.history,
                                     training.ranker.threshold if training.ranker else None)
    session = Session(
        ratings=ratings, held_out_cells=np.stack([o.rows[m], o.cols[m]], axis=1).astype(np.int64),
        solver=solver, params=dict(training.params), holdout=float(src.holdout if holdout is None else holdout),
        patience=patience, result=result, top_n=top, relevance=setup.relevance,
    )
    timings = {"load_s": t_loaded - t_start, "wall_s": t_trained - t_start}
    cells = ratings.n_users * ratings.n_items
    if cells >= LONG_WRITE_CELLS:  # the recommendations score every item for every user: say so before the wait
        _say(quiet, f"Writing the results: the recommendations score all {ratings.n_items:,} items for each of "
                    f"{ratings.n_users:,} users ({cells:.2g} scores), which can take minutes.", sys.stderr)
    written = mio.export_results(out, session, top_n=top, min_ratings=min_ratings, full_precision=args.full_precision,
                                 timings=timings, include_session=True, dense=dense)
    also = ""
    if script is not None:
        from mfstudio.io.script import write_script

        try:
            write_script(script, training)
        except mio.FileFormatError as exc:
            msg = str(exc)
            if msg.startswith("Could not "):  # describe_os_error's sentence; others start with the path
                msg = "c" + msg[1:]
            raise UsageError(f"The results are in {out}, but the script was not written: {msg}") from None
        also = f"; `python {script}` reproduces the run"
    reason = StopReason(training.reason).describe(snap.step, snap.best_step) if training.reason else "finished"
    train_err, val_err = error_words(snap.preferences)
    val = "" if math.isnan(snap.val_rmse) else f", {val_err} {snap.val_rmse:.4g}"
    if snap.ranking and all(math.isnan(v) for v in snap.ranking.values()):
        val += f"; no ranking metrics: {training.ranker.nothing_relevant('--relevance')}" if training.ranker else ""
    else:
        val += "".join(f", {name} {value:.4g}" for name, value in snap.ranking.items())
    _say(quiet, f"Done ({reason}) after {snap.step:,} steps in {_duration(training.elapsed)}: "
                f"objective {snap.objective:.6g}, {train_err} {snap.train_rmse:.4g}{val}. "
                f"Wrote {len(written)} files to {out}{also}.")
    if training.reason is StopReason.CANCELLED:
        return EXIT_INTERRUPTED
    return EXIT_OK

