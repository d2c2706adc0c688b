"""The training driver: runs a solver in timed chunks and yields snapshots.

Stop rules: the step budget, the objective falling below ``tol``, and (with a
hold-out) early stopping when validation RMSE (for counts of events the ranking metric,
core.ranking.judged_by) has not improved for ``patience`` steps (core/early_stop.py): the best
factors are restored, the history keeps every step run, the final snapshot's ``step`` is the last
step run, its ``best_step`` the one whose factors (and errors) are kept.
Continue goes on from those: the rows after it are dropped and those steps made again (bit for bit).
A divergence guard ends the run when the objective becomes NaN/inf or explodes, keeping the last good factors.
Pausing and cancelling go through a :class:`Control`, checked between chunks (each
chunk is sized to take about ``chunk_seconds``). Same data, parameters and seed
give bit-identical results, whatever the chunk sizes.

With a hold-out, the ranking metrics (:mod:`mfstudio.core.ranking`, k = ``top_n``; with implicit data
also ``mpr``) are evaluated every :attr:`Training.rank_every` steps (a chunk ends there; every step for
implicit data while that is cheap, see ranking.evaluation_interval) and at the end of every run, into the
history's ranking columns and the snapshots' ``ranking``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from mfstudio.core import memory, metrics
from mfstudio.core.early_stop import watch
from mfstudio.core.errors import DataError
from mfstudio.core.history import HISTORY_COLUMNS, History, history_columns
from mfstudio.core.notebook import is_printed
from mfstudio.core.params import PATIENCE, RELEVANCE, TOP_N
from mfstudio.core.ranking import (
    RankingEvaluator,
    evaluation_interval,
    judged_by,
    judged_value,
    relevance_threshold,
)
from mfstudio.core.ratings import Ratings, Split
from mfstudio.core.solvers import Factors, Solver, get_solver
from mfstudio.core.solvers.micro import Stepper, Update
from mfstudio.core.status_text import speed_text, status_line, status_parts, too_large_text

__all__ = ["HISTORY_COLUMNS", "Control", "History", "Snapshot", "StopReason", "Training", "history_columns",
           "make_split", "speed_text", "status_line", "status_parts"]

EXPLODE_FACTOR = 1e10  # objective above this multiple of the starting one counts as diverged
PROBE_TRIES = 4  # smaller learning rates tried after a divergence: alpha/10 ... alpha/10**4
PROBE_MIN_STEPS = 50  # each is run at least this many steps (or 10x the step that diverged) ...
PROBE_SECONDS = 2.0  # ... within this much time for all of them together
MAX_RATING = 1e6  # larger magnitudes overflow the objective within a step or two
WORK_PER_CHUNK = 200_000  # rating x feature updates in the first, untimed chunk (well under 10 ms)
PRINTOUTS_KEPT = 1000  # the notebook's printouts a training holds until they are taken


class StopReason(str, Enum):
    BUDGET = "budget"
    TOLERANCE = "tolerance"
    EARLY_STOP = "early-stop"
    CANCELLED = "cancelled"
    DIVERGED = "diverged"
    STEP = "step"  # a limited run (e.g. one step) finished; more steps may follow

    def describe(self, step: int | None = None, best_step: int | None = None) -> str:
        """How a run ended, in words; an early stop with its steps: ``early stop at step 140, best step 90``."""
        if self is StopReason.EARLY_STOP and step is not None and best_step is not None:
            return f"early stop at step {step:,}, best step {best_step:,}"
        return {
            "budget": "reached the step budget",
            "tolerance": "objective fell below the tolerance",
            "early-stop": "validation error stopped improving (best factors kept)",
            "cancelled": "stopped by the user",
            "diverged": "diverged",
            "step": "paused after the requested steps",
        }[self.value]


class Control:
    """Pause and cancel flags, set from any thread and checked by the driver between chunks."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self) -> None:
        while not self._running.wait(0.05):
            if self._stop.is_set():
                return

    def wait_unless_stopped(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, waking at once on stop; True when stopped."""
        return self._stop.wait(max(seconds, 0.0))


@dataclass
class Snapshot:
    """The state after a chunk of steps; arrays are copies the caller may keep."""

    step: int
    objective: float
    train_rmse: float
    train_mae: float
    val_rmse: float
    val_mae: float
    elapsed: float
    steps_per_s: float
    budget: int
    factors: Factors
    finished: bool = False
    reason: StopReason | None = None
    message: str = ""
    suggestion: dict[str, float] = field(default_factory=dict)  # after a divergence: a value that was seen to train
    # with a hold-out: precision@k, recall@k, ndcg@k, map@k (implicit data: and mpr) at this step (NaN where not
    # evaluated; a finished snapshot's always are); empty without one
    ranking: dict[str, float] = field(default_factory=dict)
    best_step: int | None = None  # after an early stop: the step whose factors (and errors) these are
    preferences: bool = False  # the errors are of preferences p = [r > 0] (implicit-als), not of the values

    @property
    def failed(self) -> bool:
        return self.reason is StopReason.DIVERGED

    def status_line(self, sep: str = "  ") -> str:
        """This snapshot's :func:`status_line`."""
        return status_line(self.step, self.budget, self.objective, self.train_rmse, self.val_rmse,
                           self.steps_per_s, sep=sep, preferences=self.preferences)


def make_split(ratings: Ratings, holdout: float | np.ndarray | Split | None, seed: int) -> Split:
    """A Split from a hold-out share (float), held-out flags (bool, one per observed rating),
    held-out cells (a (k, 2) array of whole numbers), a Split, or None (nothing held out)."""
    if holdout is None:
        return ratings.no_split()
    if isinstance(holdout, Split):
        return holdout
    if isinstance(holdout, (float, int)) and not isinstance(holdout, bool):
        return ratings.split(float(holdout), seed)
    a = np.asarray(holdout)
    if a.dtype != bool and a.ndim == 2 and a.shape[1] == 2:
        return ratings.split_cells(a)
    return ratings.split_flags(a.astype(bool))


class Training:
    """One training run of a solver on ratings; ``run()`` may be called again to continue."""

    def __init__(
        self,
        ratings: Ratings,
        solver: str = "sgd",
        params: Mapping[str, Any] | None = None,
        *,
        holdout: float | np.ndarray | Split | None = None,
        init: Factors | None = None,
        patience: int | None = None,
        history_cap: int = 10_000,
        top_n: int | None = None,
        relevance: float | None = None,
    ) -> None:
        """``top_n`` (default params.TOP_N's) is the k of the ranking metrics (0: none) and ``relevance``
        the rating from which a held-out one is relevant (None: auto, see ranking.relevance_threshold;
        ignored with implicit data, where every held-out interaction is)."""
        cls = get_solver(solver)
        self.ratings = ratings
        self.solver_name = solver
        self.params: dict[str, Any] = cls.resolve_params(params or {})
        self.patience: int | None = PATIENCE.validate(patience)  # type: ignore[assignment]  # None is off
        self.split = make_split(ratings, holdout, int(self.params["seed"]))
        if len(self.split.train) == 0:
            if ratings.nnz:
                raise DataError("Every rating is held out for validation; hold out a smaller share or fewer cells.")
            raise DataError("There are no ratings to train on; enter or import some ratings first.")
        biggest = float(np.max(np.abs(ratings.observed.vals)))
        if biggest > MAX_RATING:
            raise DataError(too_large_text(ratings.observed.vals, ratings.implicit, biggest))
        memory.check_run(ratings.n_users, ratings.n_items, ratings.nnz, int(self.params["K"]), cls.uses_biases)
        self.solver: Solver = cls(ratings.shape, self.split.train, self.split.val, self.params, init)
        self.top_n = int(TOP_N.validate(TOP_N.default if top_n is None else top_n))  # type: ignore[arg-type]
        self.relevance: float | None = RELEVANCE.validate(relevance)  # None: auto
        self._n_train = len(self.split.train)
        self._n_val = len(self.split.val)
        self._step_work = self._n_train * int(self.params["K"]) + sum(ratings.shape)  # one step, roughly
        self.ranker: RankingEvaluator | None = None
        self.rank_every = 0  # the ranking metrics' schedule: every so many steps (0: none)
        if self._n_val and self.top_n:
            threshold = relevance_threshold(self.relevance, ratings.scale)
            self.ranker = RankingEvaluator(self.split.train, self.split.val, ratings.n_items, self.top_n, threshold,
                                           ratings.implicit)
            self.rank_every = evaluation_interval(self.ranker.cells, int(self.params["K"]), self._n_train,
                                                  ratings.implicit)
        self._ranked: tuple[tuple[int, int], dict[str, float]] | None = None  # ((step, updates), metrics)
        self.history = History(history_cap, history_columns(self.top_n if self.ranker else None, ratings.implicit))
        self.elapsed = 0.0
        self.reason: StopReason | None = None
        self.message = ""
        self.suggestion: dict[str, float] = {}
        self._start = self.solver.get_state()  # the start (seed's or given), for probing advice after a divergence
        self.initial_objective = metrics.solver_objective(self.solver)  # the divergence guard's yardstick
        self._best_val = math.inf
        self._best_step = 0
        self._best_state: tuple[int, Any] | None = None  # (step at chunk start, solver state)
        self._best_elapsed = 0.0  # the training time when the best step was made
        self.best_step: int | None = None  # after an early stop: the step whose factors were kept (self.step)
        self._ran_to: int | None = None  # ... and the last step that was run
        self._out = np.empty((0, 5))
        self._stepper: Stepper | None = None  # one update at a time (made on first use)
        self.log_every: int | None = None  # the notebook's printout every so many steps (None: none)
        self._printouts: list[tuple[int, Factors]] = []  # (the notebook's step index, the factors then)

    # -- state ----------------------------------------------------------------------
    @property
    def budget(self) -> int:
        return int(self.params["steps"])

    @property
    def step(self) -> int:
        return self.solver.steps_done

    def current(self) -> Snapshot:
        """The model as it stands now (step, objective, errors, a copy of the factors), not finished."""
        return self._snapshot(None, 0.0, False)

    def set_budget(self, steps: int) -> None:
        """Make the step budget ``steps`` (counted from the model's start): Continue and Step extend it this way."""
        self.params = get_solver(self.solver_name).resolve_params({**self.params, "steps": steps})

    @property
    def factors(self) -> Factors:
        return self.solver.factors

    # -- one update at a time ---------------------------------------------------------
    @property
    def updates_done(self) -> int:
        """How many updates of the next step were made one at a time (0: none; the step is whole)."""
        return 0 if self._stepper is None else self._stepper.position

    @property
    def updates_per_step(self) -> int:
        """The updates one step is made of: one per training rating (sgd, biased-sgd), two halves (als, nmf)."""
        return self._get_stepper().total

    def _get_stepper(self) -> Stepper:
        if self._stepper is None:
            self._stepper = Stepper(self.solver)
        return self._stepper

    def step_update(self, focus: int | None = None) -> tuple[Update, Snapshot]:
        """Make the next single update of the next step (see :mod:`mfstudio.core.solvers.micro`).

        The update that completes a step scores it into the history as a whole step would be;
        the snapshot is then finished (with the reason a step ends with). ``focus``: the row a
        half-step shows as its example.
        """
        self._resume()
        stepper = self._get_stepper()
        if stepper.position == 0 and self.step >= self.budget:
            self.set_budget(self.step + 1)
        self.reason = None
        self.message = ""
        t_start = self.elapsed
        saved, position = self.solver.get_state(), stepper.position
        t0 = time.perf_counter()
        update = stepper.next(focus)
        self.elapsed += time.perf_counter() - t0
        obj = update.objective_after
        if not (math.isfinite(obj) and obj <= EXPLODE_FACTOR * max(self.initial_objective, 1.0)) or \
                not self.solver.factors.all_finite():  # diverged: this update is undone
            self.solver.set_state(saved)
            stepper.rewind(position)
            self.reason = StopReason.DIVERGED
            self.message = (f"Training diverged at step {update.step:,}, update {update.index + 1:,} (the objective "
                            f"became {'too large' if math.isfinite(obj) else 'infinite or NaN'}); try a smaller "
                            "learning rate (α). The factors before this update are kept.")
            return update, self._snapshot(None, 0.0, True)
        if not update.completes_step:
            return update, self._snapshot(None, 0.0, False)
        last = self._record_step(t_start)
        e = float(last[1])
        self.reason = (StopReason.TOLERANCE if not e >= float(self.params["tol"]) or e == math.inf
                       else StopReason.BUDGET if self.step >= self.budget else StopReason.STEP)
        return update, self._snapshot(last, 0.0, True)

    def _record_step(self, t_start: float) -> np.ndarray:
        """Score the step the stepper just completed, as the kernels score one, into the history."""
        assert self._stepper is not None
        out = np.empty((1, 5))
        self._stepper.score(out)
        start = self.step
        self.solver.steps_done += 1
        rows = self._metrics_rows(out, start, t_start, self.elapsed, 1)
        self.history.extend(rows)
        self._keep_printout()
        if self._rank_due():
            self._rank()
        return rows[-1]

    # -- the ranking metrics ------------------------------------------------------------
    def _rank_due(self) -> bool:
        """True when the ranking metrics' schedule evaluates the step just made."""
        return self.ranker is not None and self.step % self.rank_every == 0

    def _steps_to_ranking(self) -> int | None:
        """Steps from now to the next one the ranking metrics are evaluated at (None without them)."""
        return None if self.ranker is None else self.rank_every - self.step % self.rank_every

    def _rank(self) -> dict[str, float]:
        """The ranking metrics of the factors now (computed once for each state), also written into the
        history's row of this step; empty without a hold-out."""
        if self.ranker is None:
            return {}
        key = (self.step, self.updates_done)
        if self._ranked is None or self._ranked[0] != key:
            self._ranked = (key, self.ranker(self.solver.factors))
        self.history.set_values(self.step, self._ranked[1])
        return dict(self._ranked[1])

    @property
    def judged_by(self) -> str | None:
        """The ranking metric that picks this run's best step (ranking.judged_by: precision@k for counts of events),
        None when the validation RMSE does."""
        return judged_by(self.top_n if self.ranker is not None else None, self.ratings.implicit)

    def _watched(self, out: np.ndarray) -> np.ndarray:
        """What early stopping watches (lower is better) at the steps of a chunk just made (``out``, its rows):
        the validation RMSE, or for counts of events minus :attr:`judged_by` where the ranking was evaluated (the
        chunk's last step, when it was due) and NaN (no improvement) at the others."""
        name = self.judged_by
        if name is None:
            return np.sqrt(out[:, 3] / self._n_val)
        v = np.full(out.shape[0], np.nan)
        if out.shape[0] and self._rank_due():
            v[-1] = -judged_value(self._rank()[name])
        return v

    def _ranking_shown(self, finished: bool) -> dict[str, float]:
        """A snapshot's ranking: evaluated when it is finished, else what this step was evaluated to (or NaN)."""
        if self.ranker is None:
            return {}
        if finished:
            return self._rank()
        if self._ranked is not None and self._ranked[0] == (self.step, self.updates_done):
            return dict(self._ranked[1])
        return self.ranker.nan()

    # -- the notebook's printout ------------------------------------------------------
    def take_printouts(self) -> list[tuple[int, Factors]]:
        """The (step index, factors) the notebook would have printed since the last call (see log_every)."""
        out, self._printouts = self._printouts, []
        return out

    def _keep_printout(self) -> None:
        if self.log_every and is_printed(self.step, self.log_every):
            self._printouts.append((self.step - 1, self.solver.factors.copy()))
            del self._printouts[:-PRINTOUTS_KEPT]

    def _steps_to_printout(self) -> int | None:
        """Steps from now to the next one the notebook prints after (None without a printout)."""
        if not self.log_every:
            return None
        every = int(self.log_every)
        return 1 + every * -(-self.step // every) - self.step

    def _finish_step(self) -> None:
        """A step begun one update at a time is made whole (at the kernels' speed) before steps go on."""
        if self._stepper is None or self._stepper.position == 0:
            return
        t_start = self.elapsed
        t0 = time.perf_counter()
        self._stepper.finish()
        self.elapsed += time.perf_counter() - t0
        self._record_step(t_start)

    @property
    def start_factors(self) -> Factors:
        """A copy of the factors this model started from (the seed's, or the ones given)."""
        start = self._start[0] if isinstance(self._start, tuple) else self._start
        return start.copy()

    @property
    def finished(self) -> bool:
        """True once a stop rule other than cancel/step ended the run."""
        return self.reason in (StopReason.BUDGET, StopReason.TOLERANCE, StopReason.EARLY_STOP, StopReason.DIVERGED)

    def _metrics_rows(self, out: np.ndarray, start_step: int, t0: float, t1: float, total: int) -> np.ndarray:
        """History rows of the steps in ``out`` that the history keeps, and always the last one.

        ``total`` is how many steps the timed chunk made (for the elapsed-time interpolation).
        """
        n = out.shape[0]
        width = len(self.history.columns)
        if n == 0:
            return np.zeros((0, width))
        steps = np.arange(start_step + 1, start_step + n + 1)
        sel = steps % self.history.stride == 0
        sel[-1] = True
        out = out[sel]
        pos = np.flatnonzero(sel) + 1
        rows = np.full((out.shape[0], width), np.nan)  # the ranking columns: NaN until evaluated
        rows[:, 0] = steps[sel]
        rows[:, 1] = out[:, 0]
        rows[:, 2] = np.sqrt(out[:, 1] / self._n_train)
        rows[:, 3] = out[:, 2] / self._n_train
        if self._n_val:
            sse, sae = self.solver.cold_val_errors
            if self.solver.val_set is not None:  # else every validation entry is cold (kernels saw none)
                sse, sae = out[:, 3] + sse, out[:, 4] + sae
            rows[:, 4] = np.sqrt(sse / self._n_val)
            rows[:, 5] = sae / self._n_val
        rows[:, 6] = t0 + (t1 - t0) * pos / max(total, 1)
        return rows

    def _row_now(self, elapsed: float) -> np.ndarray:
        """The history row of the factors as they stand (ranking columns NaN), with ``elapsed``."""
        f, t, v = self.solver.factors, self.split.train, self.split.val
        tr, va = (metrics.rmse(t, f), metrics.mae(t, f)), (metrics.rmse(v, f), metrics.mae(v, f))
        obj = metrics.objective(self.split.train, f, float(self.params["beta"]))
        row = np.full(len(self.history.columns), np.nan)
        row[: len(HISTORY_COLUMNS)] = [self.step, obj, tr[0], tr[1], va[0], va[1], elapsed]
        return row

    def _resume(self) -> None:
        """Before steps go on after an early stop: from the kept factors, the history cut back to their step."""
        if self._ran_to is not None:
            self.history.truncate(self.step)
            self._ran_to = self.best_step = None

    def _snapshot(self, last: np.ndarray | None, rate: float, finished: bool) -> Snapshot:
        if last is None:
            last = self._row_now(self.elapsed)
        return Snapshot(
            step=int(last[0]) if self._ran_to is None else self._ran_to, best_step=self.best_step,
            objective=float(last[1]), train_rmse=float(last[2]), train_mae=float(last[3]),
            val_rmse=float(last[4]), val_mae=float(last[5]), elapsed=float(self.elapsed), steps_per_s=rate,
            budget=self.budget, factors=self.solver.factors.copy(), finished=finished,
            reason=self.reason if finished else None, message=self.message if finished else "",
            suggestion=dict(self.suggestion) if finished else {}, ranking=self._ranking_shown(finished),
            preferences=self.solver.implicit,
        )

    def _replay_to(self, state: tuple[int, Any], target_step: int) -> None:
        """Restore a saved solver state and redo steps up to ``target_step`` (deterministic)."""
        start, saved = state
        self.solver.set_state(saved)
        self.solver.steps_done = start
        n = target_step - start
        if n > 0:
            self.solver.run(n, np.empty((n, 5)))
        self.solver.steps_done = target_step

    # -- the loop -------------------------------------------------------------------
    def run(
        self,
        control: Control | None = None,
        *,
        max_steps: int | None = None,
        chunk_seconds: float = 0.01,
        pace: Callable[[], float] | None = None,
    ) -> Iterator[Snapshot]:
        """Advance towards the step budget, yielding a snapshot after each chunk.

        The last snapshot has ``finished=True`` and a ``reason``. ``max_steps`` limits
        this call (the Step button asks for one); the run can be continued later.
        ``pace``: steps per second at most (asked again before every step, so a change takes
        effect at once; infinite or None: as fast as possible); a paced run makes one step per
        chunk, so every step is yielded. A step begun one update at a time is finished first.
        """
        control = control or Control()
        from mfstudio.core.solvers.warmup import ensure_compiled, ensure_ranking_compiled, wait_for_child

        # While a child process compiles the kernels (the window's first start), stay stoppable: closing
        # or a signal must not wait for the compiler. A run stopped meanwhile ends below without a step.
        while not wait_for_child(0.05) and not control.stopped:
            pass
        if not control.stopped:
            ensure_compiled(self.solver_name)  # compile before the clock starts
            if self.ranker is not None:
                ensure_ranking_compiled()
        self.reason = None
        self.message = ""
        self.suggestion = {}
        self._resume()
        stop_at = self.budget if max_steps is None else min(self.budget, self.step + int(max_steps))
        self._finish_step()  # the step in progress counts as the first of ``max_steps``
        # first chunk: about WORK_PER_CHUNK rating-feature updates, then timed
        chunk = max(1, WORK_PER_CHUNK // max(self._step_work, 1))
        rate = 0.0
        last: np.ndarray | None = None
        t_step: float | None = None  # when the last paced step was made
        while True:
            remaining = stop_at - self.step
            if remaining > 0 and t_step is not None and pace is not None:  # slow motion: the next step when due
                self._wait_for_pace(pace, control, t_step)
            limit = math.inf if pace is None else float(pace())
            if control.paused:
                control.wait_while_paused()
            if control.stopped:
                self.reason = StopReason.CANCELLED
                break
            if remaining <= 0:
                self.reason = StopReason.BUDGET if self.step >= self.budget else StopReason.STEP
                break
            paced = math.isfinite(limit) and limit > 0
            n = 1 if paced else min(chunk, remaining)
            to_print = self._steps_to_printout()
            if to_print is not None:  # a chunk ends where the notebook prints, so the factors then are seen
                n = min(n, to_print)
            to_rank = self._steps_to_ranking()
            if to_rank is not None:  # ... and where the ranking metrics are due
                n = min(n, to_rank)
            t_step = time.perf_counter() if paced else None
            start_step = self.step
            saved = self.solver.get_state()
            if self._out.shape[0] < n:  # reused: fresh pages for every chunk cost more than small runs
                self._out = np.empty((n, 5))
            out = self._out[:n]
            t0 = time.perf_counter()
            done = self.solver.run(n, out)
            dt = time.perf_counter() - t0
            t_start = self.elapsed
            self.elapsed += dt
            rate = done / dt if dt > 0 else math.inf
            # divergence guard
            obj = out[:done, 0]
            bad = ~np.isfinite(obj) | (obj > EXPLODE_FACTOR * max(self.initial_objective, 1.0))
            if not self.solver.factors.all_finite() and not bad.any():
                bad[-1] = True
            if bad.any():
                first_bad = int(np.argmax(bad))
                bad_step = start_step + first_bad + 1
                rows = self._metrics_rows(out[:first_bad], start_step, t_start, self.elapsed, done)
                self.history.extend(rows)
                self._replay_to((start_step, saved), bad_step - 1)
                self.reason = StopReason.DIVERGED
                self.message = (
                    f"Training diverged at step {bad_step:,} (the objective became "
                    f"{'too large' if np.isfinite(obj[first_bad]) else 'infinite or NaN'}); "
                    f"{self._advice(bad_step, control)}. The last good factors are kept."
                )
                last = rows[-1] if first_bad > 0 else None
                break
            rows = self._metrics_rows(out[:done], start_step, t_start, self.elapsed, done)
            self.history.extend(rows)
            self._keep_printout()
            if self._rank_due():
                self._rank()
            last = rows[-1]
            if self._n_val and self.patience is not None:
                w = watch(self._watched(out[:done]), start_step, self._best_val, self._best_step, self.patience)
                if w.best_step > start_step:
                    self._best_state = (start_step, saved)
                    self._best_elapsed = t_start + dt * (w.best_step - start_step) / done
                self._best_val, self._best_step = w.best_val, w.best_step
                if w.stop_step is not None and self._best_state is not None:
                    k = w.stop_step - start_step  # the steps the chunk made past the stop do not count
                    self._ran_to, self.elapsed = w.stop_step, t_start + dt * k / done
                    self.history.end_at(self._metrics_rows(out[:k], start_step, t_start, self.elapsed, k)[-1])
                    self._replay_to(self._best_state, self._best_step)  # the history keeps every step run
                    self.best_step, self.reason = self._best_step, StopReason.EARLY_STOP
                    self.message = StopReason.EARLY_STOP.describe(self._ran_to, self.best_step)
                    last = self.history.ensure(self.best_step, lambda: self._row_now(self._best_elapsed))
                    break
            if done < n:
                self.reason = StopReason.TOLERANCE
                break
            # size the next chunk to take about chunk_seconds (a paced step says nothing about that)
            if paced:
                pass
            elif dt < chunk_seconds / 4:
                chunk = min(chunk * 4, 1 << 30)
            else:
                chunk = max(1, int(chunk * chunk_seconds / dt))
            yield self._snapshot(last, rate, finished=False)
        if self.solver.errors_in_epoch and self.reason not in (StopReason.STEP, StopReason.DIVERGED):  # see Solver
            last = self._row_now(self.elapsed)
            self.history.set_values(self.step, dict(zip(HISTORY_COLUMNS[1:6], last[1:6].tolist())))
        yield self._snapshot(last, rate, finished=True)

    @staticmethod
    def _wait_for_pace(pace: Callable[[], float], control: Control, t_step: float) -> None:
        """Wait until the next step is due at the pace asked for now (read again every 50 ms)."""
        while not control.stopped:
            limit = float(pace())
            if not (math.isfinite(limit) and limit > 0):
                return
            left = t_step + 1.0 / limit - time.perf_counter()
            if left <= 0 or control.wait_unless_stopped(min(left, 0.05)):
                return

    def _diverges(self, value: float, n_steps: int, deadline: float, control: Control) -> bool | None:
        """Whether ``n_steps`` steps with learning rate ``value``, from this run's start, diverge.

        True when the objective turns non-finite, explodes, or has not fallen below its
        starting value by the end; None when the time ran out (or the user stopped) first.
        """
        solver = type(self.solver)(self.ratings.shape, self.split.train, self.split.val,
                                   {**self.params, "alpha": value, "tol": 0.0})
        solver.set_state(self._start)
        limit = EXPLODE_FACTOR * max(self.initial_objective, 1.0)
        out = np.empty((min(n_steps, 1024), 5))
        done, chunk, last = 0, 1, math.inf
        while done < n_steps:
            if control.stopped or time.perf_counter() > deadline:
                return None
            n = min(chunk, n_steps - done, out.shape[0])
            k = solver.run(n, out[:n])
            obj = out[:k, 0]
            if k and (not np.all(np.isfinite(obj)) or obj.max() > limit):
                return True
            if not solver.factors.all_finite():
                return True
            done += k
            last = float(obj[-1]) if k else last
            chunk = min(chunk * 2, 1024)
        return not last < self.initial_objective

    def _advice(self, bad_step: int, control: Control) -> str:
        """What to change after a divergence at ``bad_step``; a smaller α is offered only once it was seen to train.

        Each candidate (α/10, α/100, ...) runs a few steps from this run's start, on a
        copy; the first that neither diverges nor fails to lower the objective is
        suggested (and kept in ``self.suggestion``).
        """
        a = self.params.get("alpha")
        if a is None:
            return "try a larger regularization (β) or a smaller K"
        n_steps = max(PROBE_MIN_STEPS, 10 * bad_step)
        deadline = time.perf_counter() + PROBE_SECONDS
        failed: list[float] = []
        value = float(a)
        for _ in range(PROBE_TRIES):
            value = float(f"{value / 10:.3g}")
            verdict = self._diverges(value, n_steps, deadline, control)
            if verdict is None:
                return (f"try a smaller learning rate than α = {a:g}, e.g. α = {value:g} "
                        "(there was no time to check it)")
            if not verdict:
                self.suggestion = {"alpha": value}
                also = f" (α = {_or(failed)} diverged too)" if failed else ""
                return (f"try a smaller learning rate: α = {value:g} ran {n_steps:,} steps from the same start "
                        f"without diverging{also}")
            failed.append(value)
        return (f"even α = {value:g} diverged within {n_steps:,} steps, so the learning rate is not the only "
                "problem: check that the ratings are on a small scale (for example 1 to 5), lower K or raise β")

    def run_to_end(self, control: Control | None = None) -> Snapshot:
        """Run until a stop rule fires and return the final snapshot."""
        snap = None
        for snap in self.run(control):  # noqa: B007 - the last one is the result
            pass
        assert snap is not None
        return snap


def _or(values: list[float]) -> str:
    """``0.5``, ``0.5 and 0.05``, ``0.5, 0.05 and 0.005``."""
    text = [f"{v:g}" for v in values]
    return text[0] if len(text) == 1 else ", ".join(text[:-1]) + " and " + text[-1]
