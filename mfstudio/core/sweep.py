"""Sweeps: one training per point of a grid of one or two parameters, run in worker processes.

Each point is trained as ``mfstudio train`` (or the window's Train) would train it with the same
parameters: ``Training(ratings, solver, {**fixed, **point}, holdout=..., init=..., patience=..., top_n=...,
relevance=...)``,
so the same seed gives the same hold-out split, the same start and the same validation RMSE, bit
for bit, whichever worker runs it and however many run at once. With ``folds`` each point is
trained once per fold instead, the fold's ratings held out (folds drawn from the point's seed), and
the point reports the mean over the folds with the spread (standard deviation) beside it.

The best point is the one with the lowest validation RMSE. ``best_step`` is the step with the lowest
validation RMSE in the point's history (with patience that is the step whose factors were kept, and
``steps`` the steps run, ``patience`` more). For counts of events (implicit data) both are judged by the ranking
metric instead, higher being better (core.ranking.judged_by: precision@k), as early stopping is: the held-out
preferences' error rises after the first steps while the ranking still improves.

Workers are forked from a fork server that has already imported everything and loaded the solver's
kernels (sweep_pool.py: never a plain fork of the window, which has threads); the fixed part of the sweep
(the ratings above all) goes to each worker once, through the pool's initializer. The points are handed
out longest first (most steps × K), so that no long point is left for the end while the other core idles.
Most kernels are serial numba code, so a worker uses one core. Progress comes back through a queue; a
stop reaches every worker between two chunks of steps (about 50 ms), and :meth:`Sweep.close` leaves no
worker running.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mfstudio.core.errors import MFStudioError, ParameterError
from mfstudio.core.params import ParamSpec
from mfstudio.core.ranking import judged_value
from mfstudio.core.ratings import Ratings
from mfstudio.core.solvers import Factors, get_solver
from mfstudio.core.sweep_grid import Axis, Point, check_axes, grid_points
from mfstudio.core.sweep_pool import children_ignore_sigint, context, pool_ended, pool_started
from mfstudio.core.training import Control, StopReason, Training

METRICS = ("train_rmse", "val_rmse", "train_mae", "val_mae")
PROGRESS_EVERY = 0.1  # seconds between two progress messages of one worker
CHUNK_SECONDS = 0.05  # as `mfstudio train`: the longest a stop waits for a worker's chunk of steps
STOP_GRACE = 5.0  # seconds a stopped worker gets to end by itself before it is terminated
OWNER_CHECK_SECONDS = 0.25  # how often a worker makes sure the sweep's process is still there

FOLDS = ParamSpec("folds", "Folds", int, None, 2, 100,
                  "Cross-validation: train each point once per fold, that fold's ratings held out, and report "
                  "the mean and the spread over the folds.", off="off")


def default_jobs() -> int:
    """As many worker processes as this process may use cores."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


JOBS = ParamSpec("jobs", "Worker processes", int, None, 1, 1024,
                 "How many points are trained at once, each in its own process; default: one per core.")


@dataclass(frozen=True)
class SweepSpec:
    """What a sweep trains: the fixed part of every point and the grid.

    ``params`` are the fixed solver parameters as given (each point's values are put over them and the
    whole is resolved, as ``Training`` does); ``holdout`` is what ``Training`` takes (a share, held-out
    cells or flags; the same for every point) and is not used with ``folds``.
    """

    ratings: Ratings
    solver: str
    params: Mapping[str, Any]
    axes: tuple[Axis, ...]
    holdout: float | np.ndarray | None = None
    folds: int | None = None
    init: Factors | None = None
    patience: int | None = None
    top_n: int | None = None  # the k of the ranking metrics (None: TOP_N's default), as Training takes it
    relevance: float | None = None  # their threshold (None: auto)
    keep_factors: bool = False  # send each point's factors back (tests compare them; large for big data)

    def points(self) -> list[Point]:
        return grid_points(self.axes)

    def point_params(self, point: Point) -> dict[str, Any]:
        """The point's solver parameters, resolved (a ParameterError with a sentence if they do not fit)."""
        return get_solver(self.solver).resolve_params({**self.params, **point.params(self.axes)})

    def cost(self, point: Point) -> float:
        """A point's relative training time, to hand out the longest first: steps × K (the work of a step grows
        with K for every solver; with patience a point may end sooner, which no estimate knows)."""
        p = self.point_params(point)
        return float(p.get("steps", 1) or 1) * float(p.get("K", 1) or 1)

    @property
    def n_folds(self) -> int:
        return int(self.folds) if self.folds else 1

    def check(self) -> None:
        """Refuse, with one sentence, what would fail every point: no validation, a bad grid, parameters
        that do not resolve, a K that the starting factors cannot have, more folds than ratings."""
        check_axes(self.axes)
        FOLDS.validate(self.folds)
        if not self.folds and not _holds_out(self.holdout):
            raise ParameterError("A sweep compares validation errors, so it needs ratings held out: give a hold-out "
                                 "share (e.g. 0.2) or cross-validation folds (e.g. 5).")
        if self.folds and self.folds > self.ratings.nnz:
            raise ParameterError(f"{self.folds} folds need at least {self.folds} ratings; there are "
                                 f"{self.ratings.nnz:,}, so use fewer folds.")
        for a in self.axes:
            if a.name in self.params:
                raise ParameterError(f"{a.label} is swept, so it cannot also be fixed; leave out the fixed value.")
        if self.init is not None and any(a.name == "K" for a in self.axes):
            raise ParameterError(f"The starting factors fix K at {self.init.K}, so K cannot be swept; sweep another "
                                 "parameter or start from random factors.")
        for p in self.points():
            self.point_params(p)

    def fold_ids(self, seed: int) -> np.ndarray:
        """The fold of each observed rating: a random, even assignment drawn from ``seed``."""
        n = self.ratings.nnz
        ids = np.empty(n, dtype=np.int64)
        ids[np.random.default_rng(seed).permutation(n)] = np.arange(n) % self.n_folds
        return ids

    def training(self, point: Point, fold: int | None = None) -> Training:
        """The Training of one point (and fold): exactly the single run with these parameters."""
        params = {**self.params, **point.params(self.axes)}
        holdout = self.holdout
        if self.folds:
            seed = int(self.point_params(point)["seed"])
            holdout = self.fold_ids(seed) == int(fold or 0)
        return Training(self.ratings, self.solver, params, holdout=holdout, init=self.init, patience=self.patience,
                        top_n=self.top_n, relevance=self.relevance)


def _holds_out(holdout: Any) -> bool:
    if holdout is None:
        return False
    if isinstance(holdout, (float, int)) and not isinstance(holdout, bool):
        return holdout > 0
    return bool(np.asarray(holdout).size) and bool(np.any(np.asarray(holdout)))


# -- one point (one fold) -----------------------------------------------------------------------
@dataclass
class FoldResult:
    """What one training of a point (one fold) ended with."""

    index: int
    fold: int
    metrics: dict[str, float]  # METRICS of the final snapshot (NaN after a divergence or an error)
    ranking: dict[str, float]
    best_step: int
    steps: int
    seconds: float
    reason: str  # a StopReason value, or "error"
    message: str = ""
    factors: Factors | None = None
    judged_by: str | None = None  # the ranking metric that judges it (Training.judged_by), None: validation RMSE


def best_step(training: Training) -> int:
    """The step with the lowest validation RMSE, or for counts of events the highest ranking metric
    (:attr:`Training.judged_by`, at the steps it was evaluated): after an early stop the one whose factors were
    kept, else the history's best (the first of equals; the last step when there is none)."""
    if training.best_step is not None:
        return int(training.best_step)
    h = training.history.arrays()
    if h.shape[0] == 0:
        return training.step
    name = training.judged_by
    val = h[:, 4] if name is None else -judged_value(h[:, training.history.columns.index(name)])
    if not np.any(np.isfinite(val)):
        return int(h[-1, 0])
    return int(h[int(np.nanargmin(val)), 0])


def run_point(spec: SweepSpec, point: Point, fold: int = 0,
              progress: Callable[[int, int, int, int, float, float], None] | None = None,
              stopped: Callable[[], bool] = lambda: False) -> FoldResult:
    """Train one point (one fold) to its end; ``progress(index, fold, step, budget, val_rmse, train_rmse)``
    is called now and then, and ``stopped()`` is asked between chunks (True cancels the run)."""
    t0 = time.perf_counter()
    nan = dict.fromkeys(METRICS, math.nan)
    if stopped():
        return FoldResult(point.index, fold, nan, {}, 0, 0, 0.0, StopReason.CANCELLED.value)
    try:
        training = spec.training(point, fold if spec.folds else None)
    except MFStudioError as exc:
        return FoldResult(point.index, fold, nan, {}, 0, 0, time.perf_counter() - t0, "error", str(exc))
    control = Control()
    snap = None
    last = -math.inf
    for snap in training.run(control, chunk_seconds=CHUNK_SECONDS):
        now = time.perf_counter()
        if progress is not None and (now - last >= PROGRESS_EVERY or snap.finished):
            last = now
            progress(point.index, fold, snap.step, snap.budget, snap.val_rmse, snap.train_rmse)
        if stopped():
            control.stop()
    assert snap is not None
    reason = snap.reason.value if snap.reason else StopReason.BUDGET.value
    seconds = time.perf_counter() - t0
    if snap.failed:
        message = (snap.message or "Training diverged.").split(" The last good factors")[0]
        return FoldResult(point.index, fold, nan, {}, best_step(training), snap.step, seconds, reason, message)
    metrics = {m: float(getattr(snap, m)) for m in METRICS}
    ranking = {str(k): float(v) for k, v in dict(getattr(snap, "ranking", {}) or {}).items()}
    return FoldResult(point.index, fold, metrics, ranking, best_step(training), snap.step, seconds, reason,
                      factors=snap.factors if spec.keep_factors else None, judged_by=training.judged_by)


@dataclass
class PointResult:
    """A finished point: its values, the metrics (the mean over the folds with folds), their spread, best step."""

    index: int
    values: tuple[Any, ...]
    metrics: dict[str, float]
    ranking: dict[str, float]
    best_step: int
    steps: int
    seconds: float
    reason: str
    message: str = ""
    spread: dict[str, float] = field(default_factory=dict)  # standard deviation over the folds
    folds: int = 0
    factors: Factors | None = None  # without folds, when the sweep keeps them
    judged_by: str | None = None  # the ranking metric that judges it (counts of events), None: validation RMSE

    @property
    def val_rmse(self) -> float:
        return self.metrics["val_rmse"]

    @property
    def ok(self) -> bool:
        """True when the point trained (neither diverged nor refused) and has a validation RMSE."""
        return self.reason not in ("error", StopReason.DIVERGED.value) and math.isfinite(self.val_rmse)


def combine(point: Point, parts: Sequence[FoldResult], folds: int | None) -> PointResult:
    """One point's result from its folds' (or its one training's)."""
    parts = sorted(parts, key=lambda r: r.fold)
    bad = next((r for r in parts if r.reason in ("error", StopReason.DIVERGED.value)), None)
    seconds = float(sum(r.seconds for r in parts))
    if not folds:
        r = parts[0]
        return PointResult(point.index, point.values, dict(r.metrics), dict(r.ranking), r.best_step, r.steps,
                           seconds, r.reason, r.message, factors=r.factors, judged_by=r.judged_by)
    metrics = {m: float(np.mean([r.metrics[m] for r in parts])) for m in METRICS}
    spread = {m: float(np.std([r.metrics[m] for r in parts])) for m in METRICS}
    keys = list(dict.fromkeys(k for r in parts for k in r.ranking))
    ranking = {k: float(np.mean([r.ranking.get(k, math.nan) for r in parts])) for k in keys}
    reasons = list(dict.fromkeys(r.reason for r in parts))
    reason = bad.reason if bad else reasons[0] if len(reasons) == 1 else "mixed"
    message = f"Fold {bad.fold + 1}: {bad.message}" if bad else ""
    return PointResult(point.index, point.values, metrics, ranking,
                       int(round(float(np.mean([r.best_step for r in parts])))),
                       int(round(float(np.mean([r.steps for r in parts])))), seconds, reason, message, spread,
                       len(parts), judged_by=next((r.judged_by for r in parts if r.judged_by), None))


def best_point(results: Sequence[PointResult]) -> PointResult | None:
    """The point with the lowest validation RMSE, or for counts of events the highest ranking metric (the point's
    ``judged_by``, ranking.judged_by); the first of equals; None when none trained."""
    good = [r for r in results if r.ok]
    return min(good, key=_badness) if good else None


def _badness(r: PointResult) -> tuple[float, int]:
    """Lower is better: the validation RMSE, or minus the ranking metric that judges the point (NaN: worst)."""
    if r.judged_by is None:
        return (r.val_rmse, r.index)
    v = r.ranking.get(r.judged_by, math.nan)
    return (-float(judged_value(v)) if math.isfinite(v) else math.inf, r.index)


# -- the table ----------------------------------------------------------------------------------
def columns(axes: Sequence[Axis], results: Sequence[PointResult]) -> list[str]:
    """sweep.csv's columns: the swept parameters as named, the errors, the ranking metrics, best_step, seconds,
    then with folds each error's spread (``val_rmse_std``) and the number of folds, then how each point ended."""
    ranking = list(dict.fromkeys(k for r in results for k in r.ranking))
    out = [a.label for a in axes] + list(METRICS) + ranking + ["best_step", "seconds"]
    if any(r.folds for r in results):
        out += [f"{m}_std" for m in METRICS] + ["folds"]
    return out + ["reason"]


def rows(axes: Sequence[Axis], results: Sequence[PointResult]) -> list[dict[str, Any]]:
    """One dict per point (by :func:`columns`), in grid order; numbers stay numbers."""
    out = []
    for r in sorted(results, key=lambda r: r.index):
        row: dict[str, Any] = {a.label: v for a, v in zip(axes, r.values)}
        row.update(r.metrics)
        row.update(r.ranking)
        row.update(best_step=r.best_step, seconds=r.seconds)
        if r.folds:
            row.update({f"{m}_std": s for m, s in r.spread.items()}, folds=r.folds)
        row["reason"] = r.reason
        out.append(row)
    return out


# -- the worker processes -------------------------------------------------------------------------
@dataclass(frozen=True)
class Progress:
    """A running point's latest state (``fold`` counts from 0)."""

    index: int
    fold: int
    step: int
    budget: int
    val_rmse: float
    train_rmse: float


_worker: dict[str, Any] = {}  # in a worker: the spec, the progress queue, the stop event, the sweep's pid


def _init_worker(spec: SweepSpec, queue: Any, stop: Any, owner: int) -> None:
    """A worker's start: Ctrl-C is its parent's to handle; keep what every point shares. ``owner`` is the pid of
    the process that runs the sweep (the fork server is the worker's parent, not it)."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except (ValueError, OSError):
        pass
    _worker.update(spec=spec, queue=queue, stop=stop, points=spec.points(), owner=owner)
    threading.Thread(target=_watch_owner, args=(owner,), name="mfstudio-sweep-owner", daemon=True).start()
    from mfstudio.core.solvers.warmup import ensure_compiled

    ensure_compiled(spec.solver)  # load the kernels once, before any point's clock starts


def _run_task(index: int, fold: int) -> FoldResult:
    spec, queue, stop = _worker["spec"], _worker["queue"], _worker["stop"]

    def progress(*fields: Any) -> None:
        queue.put(fields)

    return run_point(spec, _worker["points"][index], fold, progress, stop.is_set)


def _watch_owner(owner: int) -> None:
    """In a worker, on its own thread: end this process once the sweep's process is gone (killed, so it never
    said stop). Without it a worker would train its point on, then wait for work forever: the other workers hold
    the task queue open."""
    while _alive(owner):
        time.sleep(OWNER_CHECK_SECONDS)
    os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists (another user's would say so: not ours to signal)
        return True
    return True


class Sweep:
    """A sweep running in ``jobs`` worker processes; :meth:`poll` it (a timer, a loop) or :meth:`run` it.

    Events are :class:`Progress` (a running point's step) and :class:`PointResult` (a point finished, all its
    folds). :meth:`stop` asks every worker to stop and returns at once; :meth:`close` waits until no worker is
    left (terminating any that has not ended within ``STOP_GRACE`` seconds). Points cut short by a stop are
    not finished and are not reported.
    """

    def __init__(self, spec: SweepSpec, jobs: int | None = None) -> None:
        spec.check()
        self.spec = spec
        self.jobs = default_jobs() if jobs is None else int(JOBS.validate(jobs))
        self.points = spec.points()
        self.results: dict[int, PointResult] = {}
        self.errors: list[str] = []  # workers that failed other than with a point's own sentence
        self.stopped = False
        self._parts: dict[int, list[FoldResult]] = {}
        self._pool: ProcessPoolExecutor | None = None
        self._manager: threading.Thread | None = None  # the pool's thread that joins the workers
        self._futures: dict[Future, tuple[int, int]] = {}
        self._procs: list[Any] = []
        self._queue: Any = None
        self._stop_event: Any = None
        self._stop_time: float | None = None
        self._shut = False  # the pool was told that no more work comes
        self._pending: list[Progress | PointResult] = []  # events collected while closing, for the next poll
        self._closed = False
        self._counted = False  # counted among the live pools of sweep_pool

    @property
    def n_workers(self) -> int:
        return min(self.jobs, len(self.points) * self.spec.n_folds)

    # -- starting and stopping -----------------------------------------------------------------------
    def start(self) -> None:
        """Start the workers and hand them every point (and fold), the longest first."""
        if self._pool is not None or self._closed:
            return
        ctx = context()
        # progress is written at once (SimpleQueue: no feeder thread), so a point's last progress is in the pipe
        # before its result leaves the worker: poll() gives them in that order
        self._queue, self._stop_event = ctx.SimpleQueue(), ctx.Event()
        order = sorted(self.points, key=lambda p: (-self.spec.cost(p), p.index))  # longest first
        tasks = [(p.index, f) for p in order for f in range(self.spec.n_folds)]
        pool_started()
        self._counted = True
        try:
            with children_ignore_sigint():
                self._pool = ProcessPoolExecutor(self.n_workers, mp_context=ctx, initializer=_init_worker,
                                                 initargs=(self.spec, self._queue, self._stop_event, os.getpid()))
                for i, f in tasks:
                    self._futures[self._pool.submit(_run_task, i, f)] = (i, f)
                    self._find_workers()
        except BaseException:  # a worker could not be started (no memory, too many processes): none stays behind
            self._find_workers()
            self.close(0.0)
            raise
        if self.stopped:  # stopped before it started
            self.stop()

    def _find_workers(self) -> None:
        """The pool's worker processes and its managing thread (private to it, but the only way to reach them;
        a worker is started by each submit until there are ``jobs``)."""
        procs = getattr(self._pool, "_processes", None) or {}
        self._procs = list(dict.fromkeys([*self._procs, *procs.values()]))
        self._manager = getattr(self._pool, "_executor_manager_thread", None) or self._manager

    @property
    def running(self) -> bool:
        return self._pool is not None and not self._closed and not self.finished

    def stop(self) -> None:
        """Ask every worker to stop after its current chunk; points not begun are dropped. Returns at once."""
        self.stopped = True
        if self._pool is None or self._stop_time is not None:
            return
        self._stop_time = time.perf_counter()
        self._stop_event.set()
        for fut in self._futures:
            fut.cancel()  # only those no worker has taken yet
        self._shutdown()

    def _shutdown(self) -> None:
        if not self._shut and self._pool is not None:
            self._shut = True
            self._pool.shutdown(wait=False, cancel_futures=True)

    @property
    def finished(self) -> bool:
        """True once every point has ended (or was dropped by a stop) and no worker process is left.

        After a stop, a worker that has not ended within ``STOP_GRACE`` seconds is terminated.
        """
        if self._pool is None or self._closed:
            return self._closed
        if not all(f.done() for f in self._futures):
            if self._stop_time is not None and time.perf_counter() - self._stop_time > STOP_GRACE:
                self._terminate()
            return False
        self._shutdown()
        if any(p.is_alive() for p in self._procs):
            if self._stop_time is not None and time.perf_counter() - self._stop_time > STOP_GRACE:
                self._terminate()
            return False
        return True

    def close(self, timeout: float = STOP_GRACE) -> None:
        """Stop (if still running) and wait until no worker is left: none is left behind, whatever happens."""
        if self._closed:
            return
        if self._pool is not None:
            if not all(f.done() for f in self._futures):
                self.stop()
            self._shutdown()
            deadline = time.perf_counter() + timeout
            while any(p.is_alive() for p in self._procs) and time.perf_counter() < deadline:
                self._pending.extend(self._drain())  # a worker ends only once the queue has taken its messages
                time.sleep(0.02)
            self._terminate()
            if self._manager is not None:
                self._manager.join(max(timeout, 1.0))
            self._pending.extend(self.poll())
            self._queue.close()
            # their semaphores are named ones the resource tracker watches: let them go (sweep_pool.shutdown)
            self._queue = self._stop_event = self._pool = self._manager = None
        if self._counted:
            self._counted = False
            pool_ended()
        self._closed = True

    def _terminate(self) -> None:
        for p in self._procs:
            if p.is_alive():
                p.terminate()
        for p in self._procs:
            p.join(1.0)
            if p.is_alive():
                p.kill()
                p.join(1.0)

    # -- events ------------------------------------------------------------------------------------
    def _drain(self) -> list[Progress]:
        import queue as queue_module

        out: list[Progress] = []
        if self._queue is None or self._closed:
            return out
        while True:
            try:
                if self._queue.empty():
                    return out
                out.append(Progress(*self._queue.get()))
            except (queue_module.Empty, OSError, ValueError, EOFError):
                return out

    def poll(self) -> list[Progress | PointResult]:
        """What happened since the last call: progress of running points and points that finished."""
        done = [fut for fut in self._futures if fut.done()]  # before the progress: theirs is all in the pipe
        events: list[Progress | PointResult] = [*self._pending, *self._drain()]
        self._pending.clear()
        for fut, (index, _fold) in list(self._futures.items()):
            if fut not in done:
                continue
            del self._futures[fut]
            if fut.cancelled():
                continue
            exc = fut.exception()
            if exc is not None:
                self.errors.append(_worker_error(exc))
                continue
            part = fut.result()
            if part.reason == StopReason.CANCELLED.value:
                continue
            parts = self._parts.setdefault(index, [])
            parts.append(part)
            if len(parts) == self.spec.n_folds:
                result = combine(self.points[index], parts, self.spec.folds)
                self.results[index] = result
                events.append(result)
        return events

    def run(self, on_event: Callable[[Progress | PointResult], None] | None = None,
            should_stop: Callable[[], bool] = lambda: False, poll_seconds: float = 0.05) -> list[PointResult]:
        """Start, report every event to ``on_event`` until all points have ended (or ``should_stop()`` turns
        True: then stop), close, and return the finished points in grid order."""
        self.start()
        try:
            while True:
                if should_stop() and not self.stopped:
                    self.stop()
                for e in self.poll():  # before asking whether it finished, which lets the workers go
                    if on_event is not None:
                        on_event(e)
                if self.finished:
                    break
                time.sleep(poll_seconds)
        finally:
            self.close()
        for e in self.poll():
            if on_event is not None:
                on_event(e)
        return self.finished_points()

    def finished_points(self) -> list[PointResult]:
        """The points that ended, in grid order."""
        return [self.results[i] for i in sorted(self.results)]

    def best(self) -> PointResult | None:
        """The finished point with the lowest validation RMSE."""
        return best_point(self.finished_points())

    def describe(self, result: Point | PointResult) -> str:
        """``K = 5, beta = 0.1``: a point as the labels it was given."""
        return Point(result.index, tuple(result.values)).describe(self.spec.axes)


def _worker_error(exc: BaseException) -> str:
    from concurrent.futures.process import BrokenProcessPool

    if isinstance(exc, BrokenProcessPool):
        return ("A worker process ended unexpectedly (out of memory, or killed); the points it was training are "
                "missing. Try fewer worker processes (--jobs).")
    return f"A worker process failed: {type(exc).__name__}: {exc}"
