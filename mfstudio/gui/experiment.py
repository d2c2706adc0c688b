"""The current experiment: one run at a time, requested once, reported to every view by signals.

``Experiment`` is a QObject with no widgets. A Train, Continue, Step or Reset hands it a
frozen :class:`RunRequest` (the ratings, the held-out cells and the parameters, read from
the controls and checked once); it owns the worker thread, the model that Continue goes
on from, the latest snapshot and the finished result, and says what happened through
its signals. The model itself is only ever held here between runs: while a run goes the
worker thread owns it, and views get copies (snapshots, factors, histories).

Signals, in the order a run makes them: ``started(RunStart)``, ``progress(Progress)`` at
most ~30 times a second, ``finished(RunEnd)``. Besides: ``loaded(Shown)`` (results opened
from a file), ``reset(Shown)`` (a new random start), ``cleared()`` (a new document),
``stale(bool)`` (when it changes), ``recommendationsChanged(object)``, ``pausedChanged(bool)``,
``message(str)``, ``modelChanged()`` (what Continue could go on from changed) and
``updated(Updated)`` (one update made, by :meth:`Experiment.step_update`). ``speed`` is
the pace of runs (steps per second at most; infinite: as fast as possible), read by the
worker before every step, so a change takes effect at once.
"""

from __future__ import annotations

import dataclasses
import math
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from mfstudio.core import (
    DataError,
    Factors,
    History,
    Ratings,
    Recommendations,
    RunResult,
    Snapshot,
    StopReason,
    Training,
    get_solver,
    recommend,
)
from mfstudio.core.notebook import printout
from mfstudio.core.params import RELEVANCE, TOP_N
from mfstudio.core.solvers.micro import Update
from mfstudio.gui.worker import Outcome, Progress, TrainingRunner, training_recipe

__all__ = ["Experiment", "Progress", "RunEnd", "RunRequest", "RunStart", "Shown", "Updated"]

HALF_STEPS = ("als", "implicit-als", "nmf")  # solvers whose single update is a half-step (a focus row is shown)


def holdout_of(ratings: Ratings, held_out_cells: np.ndarray) -> float:
    """The share of ``ratings`` that ``held_out_cells`` hold out."""
    return len(held_out_cells) / max(ratings.nnz, 1)


def _threshold(model: Training | None) -> float | None:
    """The rating from which a held-out one was relevant in ``model``'s ranking metrics (None: it has none)."""
    return None if model is None or model.ranker is None else model.ranker.threshold


def _frozen_cells(cells: np.ndarray) -> np.ndarray:
    """``cells`` as a read-only (k, 2) int64 array: the same array when it is one already (the document's of
    one version of the grid), so the views that keep what they worked out for a run's cells keep it for the
    next run of the same data; else a copy."""
    if isinstance(cells, np.ndarray) and cells.dtype == np.int64 and cells.ndim == 2 and cells.shape[1] == 2 \
            and not cells.flags.writeable and cells.base is None:
        return cells
    a = np.array(cells, dtype=np.int64).reshape(-1, 2)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class RunRequest:
    """What one Train, Continue, Step or Reset asks for: data and parameters, checked once when made."""

    ratings: Ratings
    held_out_cells: np.ndarray  # (k, 2) (user, item) cells set aside for validation; read-only
    solver: str
    params: Mapping[str, Any]  # every parameter of the solver, validated; read-only
    data_version: int = 0  # the document's count of changes: a model belongs to one version of the data
    patience: int | None = None
    relevance: float | None = None  # the ranking metrics' threshold for a new model (None: auto)

    @classmethod
    def make(cls, ratings: Ratings, held_out_cells: np.ndarray, solver: str, params: Mapping[str, Any], *,
             data_version: int = 0, patience: int | None = None, relevance: float | None = None) -> RunRequest:
        """A request with ``params`` resolved against the solver (a ParameterError with a sentence if they do
        not fit)."""
        resolved = get_solver(solver).resolve_params(dict(params))
        return cls(ratings, _frozen_cells(held_out_cells), solver, types.MappingProxyType(resolved), data_version,
                   patience, RELEVANCE.validate(relevance))

    @property
    def steps(self) -> int:
        return int(self.params["steps"])

    @property
    def holdout(self) -> float:
        """The share of the ratings held out."""
        return holdout_of(self.ratings, self.held_out_cells)

    @property
    def key(self) -> tuple:
        """What a model depends on; a model is continued only while this is unchanged (steps aside)."""
        p = tuple(sorted((k, v) for k, v in self.params.items() if k != "steps"))
        return (self.data_version, self.solver, p, self.patience, self.held_out_cells.tobytes())

    def recipe(self, top_n: int | None = None) -> Any:
        """What builds this request's new model; ``top_n`` is the k of its ranking metrics (a model keeps its own
        k and threshold when it is continued)."""
        return training_recipe(self.ratings, self.solver, self.params, self.held_out_cells, self.patience,
                               top_n=top_n, relevance=self.relevance)


@dataclass(frozen=True)
class RunStart:
    """A run has begun: what it trains, from where, and whether it draws a new line on the curve."""

    solver: str
    params: Mapping[str, Any]
    ratings: Ratings
    held_out_cells: np.ndarray
    holdout: float
    budget: int
    from_step: int
    max_steps: int | None
    new_line: bool
    start_factors: Factors | None = None  # the model's factors now, to show at once (None: a new model)
    patience: int | None = None

    @property
    def description(self) -> str:
        """"Training sgd from step 100 to step 200…" and the like."""
        what = "one step" if self.max_steps == 1 else (
            f"from step {self.from_step:,} to step {self.budget:,}" if self.from_step else
            f"from the random start of seed {self.params['seed']}")
        return f"Training {self.solver} {what}…"


@dataclass(frozen=True)
class Shown:
    """A result on display and what it belongs to (ratings, held-out cells, recommendations)."""

    result: RunResult
    ratings: Ratings
    held_out_cells: np.ndarray
    recommendations: Recommendations | None = None
    history: np.ndarray | None = None  # the result's history as rows of HISTORY_COLUMNS
    snapshot: Snapshot | None = None  # after a reset: the random start's objective and errors
    patience: int | None = None  # the early-stopping patience the run had

    @property
    def holdout(self) -> float:
        """The share of the ratings the result's run held out."""
        return holdout_of(self.ratings, self.held_out_cells)


@dataclass(frozen=True)
class RunEnd:
    """A run has ended: its outcome and, when it produced one, the result now shown."""

    outcome: Outcome
    shown: Shown | None
    budget: int
    reason: str  # a StopReason value, "error", or ""
    warnings: list[str] = field(default_factory=list)

    @property
    def snapshot(self) -> Snapshot | None:
        return self.outcome.snapshot


@dataclass(frozen=True)
class Updated:
    """One update made one at a time (``update``) and the result shown after it."""

    update: Update
    shown: Shown
    new_line: bool  # the update completed the model's first step: the loss curve starts a line for it
    printouts: list[str] = field(default_factory=list)  # the notebook's, when a step completed

    @property
    def diverged(self) -> bool:
        """The update made the objective explode: it was undone (the shown factors are those before it)."""
        snap = self.shown.snapshot
        return snap is not None and snap.failed


class Experiment(QObject):
    """The current run, its model and its result; every view subscribes to its signals."""

    started = Signal(object)  # RunStart
    progress = Signal(object)  # Progress
    finished = Signal(object)  # RunEnd
    loaded = Signal(object)  # Shown: results opened with a document
    reset = Signal(object)  # Shown: a new random start, at step 0
    cleared = Signal()  # no results, no runs: a new document
    stale = Signal(bool)  # the data changed after the shown results were computed
    recommendationsChanged = Signal(object)  # Recommendations | None
    recommendationSettingsChanged = Signal(int, int)  # top N, minimum ratings (e.g. an opened session's)
    pausedChanged = Signal(bool)
    modelChanged = Signal()  # the model Continue would go on from appeared or went (besides started/finished)
    message = Signal(str)
    updated = Signal(object)  # Updated: one update made (after ``reset`` showed its result)
    speedChanged = Signal(float)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = TrainingRunner(self)
        self.runner.progress.connect(self._on_progress)
        self.runner.ready.connect(self._on_ready)
        self.runner.finished.connect(self._on_finished)
        self._model: Training | None = None  # between runs only; the worker owns it while it runs
        self._model_key: tuple | None = None
        self._run: RunStart | None = None
        self._run_key: tuple | None = None
        self._has_line = False  # the current model has a line on the loss curve
        self._snapshot: Snapshot | None = None
        self._shown: Shown | None = None
        self._stale = False
        self._top_n, self._min_ratings = int(TOP_N.default), 0
        self._speed = math.inf  # steps per second at most (read by the worker thread: a float, set whole)
        self._log_every: int | None = None  # the notebook's printout every so many steps (None: none)

    # ------------------------------------------------------------------ state
    @property
    def running(self) -> bool:
        """True while a run is going (paused included)."""
        return self.runner.running

    @property
    def paused(self) -> bool:
        return self.runner.paused

    @property
    def shown(self) -> Shown | None:
        """The result on display, with its ratings and held-out cells (None before any)."""
        return self._shown

    @property
    def result(self) -> RunResult | None:
        return None if self._shown is None else self._shown.result

    @property
    def results_stale(self) -> bool:
        return self._stale

    @property
    def top_n(self) -> int:
        """How many items each user's list holds."""
        return self._top_n

    @property
    def min_ratings(self) -> int:
        """The fewest training ratings an item needs to be listed (AUTO: decided from the data)."""
        return self._min_ratings

    @property
    def snapshot(self) -> Snapshot | None:
        """The latest state of the current run (or of the last one)."""
        return self._snapshot

    @property
    def has_model(self) -> bool:
        """True when there is a model that Step or Continue could go on from (or one is running)."""
        return self._model is not None or self.running

    def result_for(self, ratings: Ratings) -> RunResult | None:
        """The shown result if it belongs to exactly these ratings and is fresh (never old factors with new data)."""
        s = self._shown
        if self._stale or s is None:
            return None
        return s.result if s.ratings is ratings or s.ratings == ratings else None

    def continue_blocker(self, request: RunRequest | None, why_no_request: str = "") -> str:
        """Why Continue cannot go on from the current model with ``request`` ("" when it can)."""
        if self.running:
            return "A run is going."
        if self._model is None:
            return "There is no model to continue yet; press Train to start one."
        if request is None:
            return why_no_request
        if request.key != self._model_key:
            return ("The ratings, the hold-out, the solver or its parameters changed since the current model was "
                    "trained; press Train to start a new one.")
        if self._model.reason is StopReason.DIVERGED:
            return "The current model diverged; press Train to start again (with a smaller learning rate)."
        if self._model.reason is StopReason.TOLERANCE:
            return ("The objective is already below the tolerance; lower Tolerance (or set it to 0) and press "
                    "Train to train further.")
        return ""

    # ------------------------------------------------------------------ runs
    def train(self, request: RunRequest) -> None:
        """A new model from the seed's random start, for the request's steps (built on the worker thread)."""
        if self.running:
            return
        self._check(request)
        self._forget_model(quiet=True)
        self._has_line = False
        self._start(request, request.recipe(self._top_n), None, None)

    def continue_(self, request: RunRequest) -> None:
        """Make the request's steps more from the current model, on the same line of the curve."""
        if self.running:
            return
        why = self.continue_blocker(request)
        if why:
            raise DataError(f"Nothing to continue: {why}")
        model = self._model
        assert model is not None
        self._start(request, model, None, model.step + request.steps)

    def step(self, request: RunRequest) -> None:
        """One step on the current model (a new one if there is none, or the data or parameters changed)."""
        if self.running:
            return
        model = self._model if self._model_key == request.key else None
        if model is None or model.reason is StopReason.DIVERGED:
            self._check(request)
            self._forget_model(quiet=True)
            self._has_line = False
            self._start(request, request.recipe(self._top_n), 1, None)
        else:
            self._start(request, model, 1, model.step + 1 if model.step >= model.budget else None)

    def new_start(self, request: RunRequest) -> Snapshot:
        """Forget the model and build a new one at its random start (here: small work), shown at step 0."""
        if self.running:
            raise DataError("A run is going; stop it first.")
        self._check(request)
        model = request.recipe(self._top_n)()
        self._model, self._model_key = model, request.key
        self._has_line = False
        snap = model.current()
        result = RunResult.from_snapshot(model.solver_name, model.params, snap, History(), _threshold(model))
        self._shown = Shown(result, model.ratings, request.held_out_cells, None, None, snap, request.patience)
        self._set_stale(False)
        self._snapshot = snap
        self.reset.emit(self._shown)
        self.modelChanged.emit()
        return snap

    @property
    def speed(self) -> float:
        """Steps per second at most (infinite: as fast as possible)."""
        return self._speed

    def set_speed(self, steps_per_second: float) -> None:
        """The pace of runs from now on, the going one included (it takes effect at its next step)."""
        rate = float(steps_per_second)
        if not rate > 0:
            raise DataError("The speed must be more than 0 steps a second.")
        if rate != self._speed:
            self._speed = rate
            self.speedChanged.emit(rate)

    def _pace(self) -> float:
        return self._speed

    @property
    def log_every(self) -> int | None:
        """The notebook's printout every so many steps, for the runs started from now (None: none)."""
        return self._log_every

    def set_log_every(self, steps: int | None) -> None:
        if steps is not None and int(steps) < 1:
            raise DataError("The printout interval must be at least 1 step.")
        self._log_every = None if steps is None else int(steps)

    def step_update(self, request: RunRequest, focus: tuple[int | None, int | None] = (None, None)) -> Updated:
        """Make the next single update of the current model (a new one if there is none, or the data or the
        parameters changed): one rating's for sgd and biased-sgd, half a step for als, implicit-als and nmf (see
        :mod:`mfstudio.core.solvers.micro`). Made here, at once: one update is small work. ``focus``: the
        (user, item) a half-step shows as its example."""
        if self.running:
            raise DataError("A run is going; stop it first.")
        model = self._model if self._model_key == request.key else None
        if model is None or model.reason is StopReason.DIVERGED:
            self._check(request)
            if self._shown is not None and not self._stale and self._model is None:
                self.message.emit(f"One update starts a new model from the random start of seed "
                                  f"{request.params['seed']}: the results shown have no model to go on from.")
            model = request.recipe(self._top_n)()
            self._model, self._model_key = model, request.key
            self._has_line = False
        halves = model.solver_name in HALF_STEPS
        side = 0 if model.updates_done == 0 or not halves else 1
        model.log_every = self._log_every
        update, snap = model.step_update(focus[side] if halves else None)
        new_line = update.completes_step and not snap.failed and not self._has_line
        self._has_line = self._has_line or new_line
        history = model.history.arrays()
        result = RunResult.from_snapshot(model.solver_name, model.params, snap, history, _threshold(model))
        self._shown = Shown(result, model.ratings, request.held_out_cells, None, history, snap, request.patience)
        self._set_stale(False)
        self._snapshot = snap
        self.reset.emit(self._shown)
        updated = Updated(update, self._shown, new_line, [printout(s, f) for s, f in model.take_printouts()])
        self.updated.emit(updated)
        self.modelChanged.emit()
        return updated

    def reproducible_model(self) -> Training:
        """The model of the shown result, as a script can replay it from its start; a DataError says why not."""
        if self.running:
            raise DataError("A run is going; stop it first, then export the script of its result.")
        model = self._model
        if model is None or self._shown is None or self._stale:
            raise DataError("There is no run to reproduce: results opened from a file do not record their start, "
                            "and changed ratings need a new run. Press Train (or Step) first.")
        if model.updates_done:
            raise DataError(f"The step in progress has {model.updates_done:,} of its {model.updates_per_step:,} "
                            "updates made; press Step to finish it, then export the script.")
        return model

    def pause(self) -> None:
        if self.running and not self.paused:
            self.runner.pause()
            self.pausedChanged.emit(True)

    def resume(self) -> None:
        if self.running and self.paused:
            self.runner.resume()
            self.pausedChanged.emit(False)

    def stop(self) -> None:
        """Ask the run to stop (within a chunk); its result is kept and Step or Continue go on from there."""
        if self.running:
            self.runner.stop()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop any run and wait for its thread; True when none is left (``finished`` has been emitted)."""
        return self.runner.shutdown(timeout_ms)

    # ------------------------------------------------------------------ results and data
    def show_loaded(self, shown: Shown) -> None:
        """Show results that came with a document (no model to continue)."""
        self._forget_model()
        self._has_line = False
        self._shown = shown
        self._set_stale(False)
        self.loaded.emit(shown)

    def clear(self) -> None:
        """A new document: no model, no results, no runs on the curve."""
        self._forget_model()
        self._has_line = False
        self._shown = None
        self._snapshot = None
        self._set_stale(False)
        self.cleared.emit()

    def data_changed(self) -> None:
        """The ratings changed: shown results are stale and the model is no longer the data's."""
        if not self.running:
            self._forget_model()
        self._set_stale(True)

    def set_recommendation_settings(self, top_n: int, min_ratings: int) -> None:
        """Top-N and the minimum number of ratings for the lists; the shown result's lists are made again."""
        changed = (int(top_n), int(min_ratings)) != (self._top_n, self._min_ratings)
        self._top_n, self._min_ratings = int(top_n), int(min_ratings)
        if changed:
            self.recommendationSettingsChanged.emit(self._top_n, self._min_ratings)
        s = self._shown
        if s is None or self.running or not s.result.factors.all_finite():
            return
        recs = self.recommend(s.ratings, s.result.factors, s.held_out_cells, solver=s.result.solver)
        self._shown = dataclasses.replace(s, recommendations=recs)
        self.recommendationsChanged.emit(recs)

    def recommend(self, ratings: Ratings, factors: Factors, held_out_cells: np.ndarray,
                  top_n: int | None = None, solver: str | None = None) -> Recommendations:
        """Each user's top-N (``top_n``, default the set one) among the items not rated in training (held-out
        items stay candidates), shown on the range of ``solver``'s model."""
        train = ratings.split_cells(held_out_cells).train if len(held_out_cells) else ratings.observed
        n = self._top_n if top_n is None else int(top_n)
        return recommend(ratings, factors, n, train=train, min_ratings=self._min_ratings, solver=solver)

    def recommendations(self) -> Recommendations | None:
        """The shown result's lists, made now if they were not yet."""
        s = self._shown
        if s is None:
            return None
        return s.recommendations if s.recommendations is not None else \
            self.recommend(s.ratings, s.result.factors, s.held_out_cells, solver=s.result.solver)

    # ------------------------------------------------------------------ inside
    @staticmethod
    def _check(request: RunRequest) -> None:
        if request.ratings.nnz == 0:
            raise DataError("There are no ratings to train on; type some ratings into the grid or open a file.")

    def _forget_model(self, *, quiet: bool = False) -> None:
        """No model to continue; ``quiet`` when a run starts at once (``started`` says so)."""
        had = self._model is not None
        self._model = self._model_key = None
        if had and not quiet:
            self.modelChanged.emit()

    def _set_stale(self, stale: bool) -> None:
        """Whether the shown results are stale; ``stale`` is emitted only when that changes (each view's refresh on
        it can cost a fold-in or a pass over the ratings on big data)."""
        now = stale and self._shown is not None
        if now != self._stale:
            self._stale = now
            self.stale.emit(now)

    def _start(self, request: RunRequest, model: Training | Any, max_steps: int | None, budget: int | None) -> None:
        existing = isinstance(model, Training)
        start_factors = None
        if existing and (self._shown is None or self._stale):
            start_factors = model.factors.copy()  # copied before the worker thread starts changing it
        params = dict(model.params) if existing else dict(request.params)
        if budget is not None:
            params["steps"] = budget
        run = RunStart(model.solver_name if existing else request.solver, types.MappingProxyType(params),
                       request.ratings if not existing else model.ratings, request.held_out_cells, request.holdout,
                       int(params["steps"]), model.step if existing else 0, max_steps, not self._has_line,
                       start_factors, request.patience)
        self._run, self._run_key = run, request.key
        self._has_line = True
        self._model = None  # the worker thread owns it until the run has ended
        self._set_stale(False)
        self.runner.start(model, max_steps=max_steps, top_n=self._top_n, min_ratings=self._min_ratings,
                          budget=budget, pace=self._pace, log_every=self._log_every)
        self.started.emit(run)  # running by now; the first progress report is queued behind this

    @Slot(object)
    def _on_ready(self, warnings: list[str]) -> None:
        for w in warnings:
            self.message.emit(w)

    @Slot(object)
    def _on_progress(self, report: Progress) -> None:
        self._snapshot = report.snapshot
        self.progress.emit(report)

    @Slot(object)
    def _on_finished(self, outcome: Outcome) -> None:
        run = self._run
        snap = outcome.snapshot
        self._snapshot = snap if snap is not None else self._snapshot
        shown = None
        if run is not None and snap is not None:
            result = RunResult.from_snapshot(run.solver, outcome.training.params if outcome.training else run.params,
                                             snap, outcome.history, _threshold(outcome.training))
            shown = Shown(result, run.ratings, run.held_out_cells, outcome.recommendations, outcome.history,
                          patience=run.patience)
            self._shown = shown
        if outcome.training is not None and not outcome.error:
            self._model, self._model_key = outcome.training, self._run_key
        else:
            self._model = self._model_key = None
        if outcome.user_error:
            self._has_line = False
        reason = "error" if outcome.error else (snap.reason.value if snap is not None and snap.reason else "")
        budget = run.budget if run is not None else 0
        if outcome.training is not None:
            budget = outcome.training.budget
        self._run = None
        self.finished.emit(RunEnd(outcome, shown, budget, reason))
