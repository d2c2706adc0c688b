"""``mfstudio sweep``: train one model per point of a grid of one or two parameters, in parallel worker
processes, and write sweep.csv and sweep.png."""

from __future__ import annotations

import argparse
import math
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from mfstudio.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    RUN_METAVARS,
    UsageError,
    _check_out_dir,
    _duration,
    _Parser,
    _run_param_help,
    _say,
    flag_name,
    param_specs,
)
from mfstudio.cli.train_command import add_training_arguments, check_training_flags, setup_training
from mfstudio.core.errors import MFStudioError
from mfstudio.core.params import TOP_N
from mfstudio.core.status_text import data_word, error_words
from mfstudio.core.sweep_grid import MAX_AXES, VALUES_HELP

SWEEP_EXAMPLES = """\
examples:
  mfstudio sweep ratings.csv --param K=1,2,5,10 --holdout 0.2 --out sweep
  mfstudio sweep ratings.csv --solver sgd --param K=1,2,5,10 --param beta=0.01,0.1 --holdout 0.2 --out sweep
  mfstudio sweep ml-100k --solver als --param beta=0.01:1:5log --steps 20 --holdout 0.2 --jobs 2 --out als-beta
  mfstudio sweep ratings.csv --param K=1:10:4 --folds 5 --steps 40 --out cv

--param NAME=VALUES names a parameter of the solver as its flag does (K or k, alpha, beta, steps,
tol, seed) and gives its values: a list (1,2,5,10), a linear grid from:to:n (1:10:4 is 1, 4, 7,
10) or a log grid from:to:nlog (0.01:1:5log is 0.01, 0.0316228, 0.1, 0.316228, 1). One --param
draws a line, two a heatmap. Every other parameter is fixed for the whole sweep by the same flags
as `mfstudio train` (--steps 40, --seed 1, --patience 3, ...). Each point is trained exactly as
`mfstudio train` trains it with the same parameters, so its validation RMSE is that run's, bit for bit.

A sweep compares validation errors: give --holdout (the share held out, drawn from each point's
seed) or --folds N (cross-validation: every point is trained N times, each time with another Nth
of the ratings held out; sweep.csv then has the mean over the folds and its spread, *_std).

DIR receives sweep.csv (one row per point: the swept parameters as named, train_rmse, val_rmse,
train_mae, val_mae, the ranking metrics when there are any, best_step (the step with the lowest
validation RMSE), seconds, with --folds the *_std columns and folds, and reason, how the point's
training ended) and sweep.png (the chart, the best point marked). Both are written together at the
end. The best point (lowest validation RMSE) is printed. Ctrl-C stops every worker and writes the
points finished so far.
"""


def sweep_parser() -> _Parser:
    """The parser of ``mfstudio sweep``."""
    p = _Parser(
        prog="mfstudio sweep",
        description="Train one model per combination of one or two parameters' values, in parallel, and compare "
                    "their validation errors.",
        epilog=SWEEP_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_training_arguments(p)
    p.add_argument(flag_name(TOP_N), dest=f"run_{TOP_N.name}", metavar=RUN_METAVARS[TOP_N.name],
                   help=_run_param_help(TOP_N) + " It is the k of the ranking metrics (precision@k ...).")
    p.add_argument("--param", metavar="NAME=VALUES", action="append", default=[], required=True,
                   help=f"a parameter to sweep and its values: {VALUES_HELP}; give it once or twice")
    p.add_argument("--folds", metavar="N",
                   help="cross-validation: train every point N times (from 2 up to 100), each time holding out "
                        "another Nth of the ratings; instead of --holdout")
    p.add_argument("--jobs", metavar="N",
                   help="worker processes, each training one point at a time; default one per core")
    p.add_argument("--full-precision", action="store_true",
                   help="write sweep.csv's numbers in full (they read back bit for bit); by default 6 significant "
                        "digits")
    p.add_argument("--out", metavar="DIR", required=True,
                   help="folder for sweep.csv and sweep.png (created if missing)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors and the best point")
    return p


NO_VALIDATION = ("A sweep compares validation errors, so it needs ratings held out: give --holdout above 0 "
                 "(e.g. 0.2) or --folds (e.g. 5).")


def _axis(solver: str, name: str, values: str) -> Any:
    """The Axis of ``--param name=values``: an unknown name gets the core's sentence (naming the known ones), a
    bad value the declaration's, after the flag."""
    from mfstudio.core.sweep_grid import find_param, make_axis

    find_param(solver, name)
    try:
        return make_axis(solver, name, values)
    except MFStudioError as exc:
        raise UsageError(f"Bad value for --param {name}: {exc}") from None


def _split_param(text: str) -> tuple[str, str]:
    name, eq, values = text.partition("=")
    if not eq or not name.strip():
        raise UsageError(f"--param {text} needs a name, = and values, e.g. --param K=1,2,5,10 or "
                         "--param beta=0.01:1:5log.")
    return name.strip(), values


def _whole_flag(text: str | None, flag: str, spec: Any) -> int | None:
    if text is None:
        return None
    try:
        return spec.validate(text)
    except MFStudioError as exc:
        raise UsageError(f"Bad value for {flag}: {exc}") from None


class SweepProgress:
    """Progress on stderr: a line per finished point; on a terminal also the running points, redrawn in place."""

    def __init__(self, stream: TextIO, quiet: bool, sweep: Any) -> None:
        self.stream, self.quiet, self.sweep = stream, quiet, sweep
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.running: dict[int, Any] = {}
        self.done = 0
        self.last = -math.inf
        self.drawn = False

    def __call__(self, event: Any) -> None:
        from mfstudio.core.sweep import Progress

        if self.quiet:
            return
        if isinstance(event, Progress):
            self.running[event.index] = event
            if self.tty and time.perf_counter() - self.last > 0.2:
                self._draw()
            return
        self.running.pop(event.index, None)
        self.done += 1
        self._clear()
        self.stream.write(self.line(event) + "\n")
        self.stream.flush()

    def line(self, r: Any) -> str:
        """``[3/8] K = 5, beta = 0.1: validation RMSE 0.8123, training RMSE 0.7012, best step 40 of 40, 1.2 s``."""
        head = f"[{self.done}/{len(self.sweep.points)}] {self.sweep.describe(r)}: "
        if not r.ok:
            return head + (r.message or f"ended without a validation RMSE ({r.reason})")
        return head + f"{_errors(r)}, best step {r.best_step:,} of {r.steps:,}, {_duration(r.seconds)}"

    def _draw(self) -> None:
        self.last = time.perf_counter()
        parts = [f"{self.sweep.describe(e)} step {e.step:,}/{e.budget:,}" for e in self.running.values()]
        self.stream.write("\r  running: " + "; ".join(parts)[:200] + "\x1b[K")
        self.stream.flush()
        self.drawn = True

    def _clear(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.drawn = False

    def finish(self) -> None:
        if not self.quiet:
            self._clear()
            self.stream.flush()


def sweep(argv: Sequence[str]) -> int:
    """``mfstudio sweep``: check every flag, load, train the grid's points in workers, write sweep.csv and
    sweep.png, print the best point."""
    from mfstudio.core.sweep import FOLDS, JOBS, Sweep, SweepSpec
    from mfstudio.core.sweep_grid import check_axes
    from mfstudio.io.sweep_file import SWEEP_CSV, SWEEP_PNG, check_sweep_folder, sweep_csv, write_sweep

    args = sweep_parser().parse_args(list(argv))
    quiet = args.quiet
    # everything a user can get wrong is checked before the (possibly long) sweep
    run = check_training_flags(args)
    params_given = [_split_param(t) for t in args.param]
    if len(params_given) > MAX_AXES:
        raise UsageError(f"A sweep varies at most {MAX_AXES} parameters (a line or a heatmap); "
                         f"{len(params_given)} --param flags were given.")
    folds = _whole_flag(args.folds, "--folds", FOLDS)
    jobs = _whole_flag(args.jobs, "--jobs", JOBS)
    if folds is None and run.get("holdout") == 0:
        raise UsageError(NO_VALIDATION)
    out = _check_out_dir(args.out, check_sweep_folder)
    from mfstudio.core import sweep_pool

    sweep_pool.warm_up(getattr(args, "solver", None))  # the workers' fork server loads while the data is read
    setup = setup_training(args, run, quiet, folds=folds)
    if folds is None and setup.holdout is None:
        raise UsageError(NO_VALIDATION)
    axes = tuple(_axis(setup.solver, name, values) for name, values in params_given)
    check_axes(axes)
    specs = param_specs()
    for a in axes:
        if getattr(args, f"param_{a.name}", None) is not None:
            flag = flag_name(specs[a.name][0][1])
            raise UsageError(f"{a.label} is both swept (--param {a.label}=...) and fixed ({flag}); leave out one of "
                             "them.")
    fixed = {k: v for k, v in setup.params.items() if k not in {a.name for a in axes}}  # a session's value gives way
    if setup.init is not None and any(a.name == "K" for a in axes):
        raise UsageError(f"--init fixes K at {setup.init.K}, so K cannot be swept; leave out --init or sweep another "
                         "parameter.")
    holdout = setup.holdout
    if folds and holdout is not None:
        if "holdout" in run:
            _say(quiet, f"Note: with --folds {folds} each fold is held out in turn, so --holdout is not used.",
                 sys.stderr)
        holdout = None
    top = run.get("top_n")
    spec = SweepSpec(setup.session.ratings, setup.solver, fixed, axes, holdout=holdout, folds=folds,
                     init=setup.init, patience=setup.patience, top_n=setup.session.top_n if top is None else top,
                     relevance=setup.relevance)
    sweeper = Sweep(spec, jobs)  # checks the spec: a sentence for what would fail every point
    r = spec.ratings
    grid = " x ".join(f"{a.label} ({len(a.values)} value{'s' if len(a.values) != 1 else ''})" for a in axes)
    validation = f"{folds}-fold cross-validation" if folds else _holdout_words(holdout, r.nnz, r.implicit)
    _say(quiet, f"Sweeping {setup.solver} over {grid}: {len(sweeper.points)} points on {sweeper.n_workers} worker "
                f"process{'es' if sweeper.n_workers != 1 else ''}, {r.n_users:,} users x {r.n_items:,} items, "
                f"{r.nnz:,} {data_word(r.implicit)}, {validation}.", sys.stderr)

    interrupted: list[int] = []
    old_handler = None
    try:
        old_handler = signal.signal(signal.SIGINT, lambda *_: interrupted.append(1))
    except ValueError:  # not the main thread: Ctrl-C keeps its default meaning
        pass
    progress = SweepProgress(sys.stderr, quiet, sweeper)
    try:
        results = sweeper.run(progress, should_stop=lambda: bool(interrupted))
    finally:
        progress.finish()
        if old_handler is not None:
            signal.signal(signal.SIGINT, old_handler)
    for e in sweeper.errors:
        print(f"Note: {e}", file=sys.stderr)
    failed = [p for p in results if p.reason == "error"]
    if results and len(failed) == len(results):
        raise UsageError(failed[0].message)  # the same sentence every point met: nothing worth writing
    from mfstudio.figures.sweep_chart import sweep_png

    title = f"{setup.solver}: {r.n_users:,} users x {r.n_items:,} items, {validation}"
    files = {SWEEP_CSV: sweep_csv(axes, results, args.full_precision), SWEEP_PNG: sweep_png(axes, results, title=title)}
    written = write_sweep(out, files)
    best = sweeper.best()
    where = f"Wrote {', '.join(p.name for p in written)} to {out}."
    if interrupted:
        _say(quiet, f"Stopped: {len(results)} of {len(sweeper.points)} points finished.", sys.stderr)
    if best is None and not results:
        print(f"No point finished. {where}")
    elif best is None:
        print(f"No point trained to a validation RMSE (each diverged or failed); see {SWEEP_CSV}. {where}")
    else:
        print(f"Best: {sweeper.describe(best)} ({_errors(best)}, best step {best.best_step:,}). {where}")
    return EXIT_INTERRUPTED if interrupted else EXIT_OK


def _errors(r: Any) -> str:
    """A point's numbers: ``validation RMSE 0.8123, training RMSE 0.7012``; for counts of events the ranking
    metric that judges it first, then the preferences' errors (``precision@10 0.19, validation preference
    error ...``)."""
    spread = f" ± {r.spread['val_rmse']:.2g}" if r.folds else ""
    train_err, val_err = error_words(r.judged_by is not None)
    text = f"{val_err} {r.val_rmse:.4g}{spread}, {train_err} {r.metrics['train_rmse']:.4g}"
    if r.judged_by is not None:
        text = f"{r.judged_by} {r.ranking.get(r.judged_by, float('nan')):.4g}, {text}"
    return text


def _holdout_words(holdout: Any, nnz: int, implicit: bool = False) -> str:
    if isinstance(holdout, float):
        return f"{holdout:.0%} held out"
    import numpy as np

    a = np.asarray(holdout)
    n = int(a.sum()) if a.dtype == bool else len(a)
    return f"{n:,} of {nnz:,} {data_word(implicit)} held out"
