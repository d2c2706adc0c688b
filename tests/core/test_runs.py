"""A run's record: made from its result in one place, with the final errors, the best validation step and
whatever ranking metrics the run carries; the user's name and visibility survive a new outcome."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from mfstudio.core import HISTORY_COLUMNS, RunResult, Training, load_example
from mfstudio.core.runs import ERROR_METRICS, RunRecord, best_step, metric_keys


def finished(holdout=None, patience=None, **params):
    t = Training(load_example("movie-night"), "sgd", {"steps": 400, "tol": 0.0, **params}, holdout=holdout,
                 patience=patience)
    snap = t.run_to_end()
    return t, snap, RunResult.from_snapshot("sgd", t.params, snap, t.history)


def test_a_record_holds_the_runs_settings_outcome_and_history():
    t, snap, result = finished(holdout=0.2, alpha=0.01)
    r = RunRecord.from_result(result, snap, holdout=0.2, patience=None, top_n=7)
    assert (r.solver, r.params, r.holdout, r.patience, r.top_n) == ("sgd", t.params, 0.2, None, 7)
    assert (r.steps_done, r.reason, r.seconds) == (400, "budget", snap.elapsed) and r.finished
    assert r.metrics == {**{k: getattr(snap, k) for k in ERROR_METRICS}, **snap.ranking}
    assert set(snap.ranking) == {"precision@10", "recall@10", "ndcg@10", "map@10"}  # the hold-out's ranking metrics
    assert r.history.shape == (400, len(HISTORY_COLUMNS) + 4)
    val = r.history[:, HISTORY_COLUMNS.index("val_rmse")]
    assert r.best_step == int(r.history[np.argmin(val), 0])  # the lowest validation RMSE's step
    assert r.name == "" and r.visible and r.label_params() == {**t.params, "holdout": 0.2}


def test_an_early_stopped_run_keeps_every_step_run_and_names_its_best_step():
    _t, snap, result = finished(holdout=0.2, patience=20, K=4, alpha=0.02, beta=0.0, steps=20_000)
    r = RunRecord.from_result(result, snap, holdout=0.2, patience=20)
    assert r.reason == "early-stop" and r.early_stopped
    assert r.steps_done == snap.step == r.best_step + 20 < 20_000  # it ran `patience` steps past the best
    assert r.best_step == snap.best_step == result.best_step
    assert int(r.history[-1, 0]) == r.steps_done  # the history goes on past the best step
    val = r.history[:, HISTORY_COLUMNS.index("val_rmse")]
    assert int(r.history[np.argmin(val), 0]) == r.best_step and val[-1] > val.min()
    read_back = RunRecord.from_result(result, holdout=0.2, patience=20)  # errors from the best step's row
    assert read_back.metrics["val_rmse"] == r.metrics["val_rmse"] == val.min()


def test_an_early_stopped_record_written_before_the_full_history_is_best_at_its_last_step():
    h = np.array([[1, 9.0, 1.0, 1.0, 1.2, 1.0, 0.1], [2, 8.0, 1.0, 1.0, 1.1, 1.0, 0.2]])
    assert best_step(h, "early-stop", 2) == 2 and best_step(h, "early-stop", 2, kept=1) == 1


def test_without_a_hold_out_there_is_no_best_step_and_no_validation_error():
    _t, snap, result = finished()
    r = RunRecord.from_result(result, snap)
    assert r.best_step is None and math.isnan(r.metrics["val_rmse"]) and math.isnan(r.metrics["val_mae"])


def test_results_read_back_take_their_errors_from_the_last_history_row():  # without an early stop
    _t, _snap, result = finished(holdout=0.2)
    r = RunRecord.from_result(result)
    last = result.history.arrays()[-1]
    assert r.metrics == {**{k: last[HISTORY_COLUMNS.index(k)] for k in ERROR_METRICS}, **result.ranking}
    assert len(result.ranking) == 4  # the hold-out's ranking metrics, from the history's last row


def test_ranking_metrics_come_with_the_snapshot_when_it_carries_them():
    _t, snap, result = finished(holdout=0.2)
    ranked = SimpleNamespace(**{k: getattr(snap, k) for k in ERROR_METRICS},
                             ranking={"precision@10": 0.25, "ndcg@10": 0.5})
    r = RunRecord.from_result(result, ranked)
    assert r.metrics["precision@10"] == 0.25 and r.metrics["ndcg@10"] == 0.5
    _t, snap_plain, result_plain = finished()  # no hold-out: no ranking metrics
    plain = RunRecord.from_result(result_plain, snap_plain)
    assert metric_keys([plain, r]) == [*ERROR_METRICS, "precision@10", "ndcg@10"]
    assert metric_keys([plain]) == list(ERROR_METRICS)


def test_a_new_outcome_keeps_the_users_name_and_visibility():
    _t, snap, result = finished()
    going = RunRecord("sgd", {"K": 2}, name="mine", visible=False)
    assert not going.finished
    going.follow_history(result.history.arrays()[:10])
    assert going.steps_done == 10 and going.seconds == result.history.arrays()[9, -1]
    going.take_outcome(RunRecord.from_result(result, snap))
    assert (going.name, going.visible, going.steps_done, going.reason) == ("mine", False, 400, "budget")


@pytest.mark.parametrize("reason,want", [("budget", 2), ("early-stop", 3)])
def test_best_step_rule(reason, want):
    h = np.full((3, len(HISTORY_COLUMNS)), np.nan)
    h[:, 0] = [1, 2, 3]
    h[:, HISTORY_COLUMNS.index("val_rmse")] = [0.9, 0.5, 0.7]
    assert best_step(h, reason, 3) == want
    h[:, HISTORY_COLUMNS.index("val_rmse")] = np.nan
    assert best_step(h, reason, 3) is None


def test_a_run_of_counts_marks_the_step_of_its_best_precision_not_its_lowest_preference_error():
    t = Training(load_example("listening"), "implicit-als", {"K": 4, "steps": 12}, holdout=0.2)
    *_, snap = t.run()
    result = RunResult.from_snapshot("implicit-als", t.params, snap, t.history)
    h = t.history.arrays()
    precision = t.history.column("precision@10")
    record = RunRecord.from_result(result, snap, holdout=0.2)
    assert record.best_step == int(h[np.nanargmax(precision), 0]) != int(h[np.argmin(h[:, 4]), 0])
    explicit = Training(load_example("example-1"), "sgd", {"K": 2, "steps": 300, "alpha": 0.02, "beta": 0.0},
                        holdout=0.25)
    *_, done = explicit.run()
    rec = RunRecord.from_result(RunResult.from_snapshot("sgd", explicit.params, done, explicit.history), done)
    e = explicit.history.arrays()
    assert rec.best_step == int(e[np.argmin(e[:, 4]), 0])
