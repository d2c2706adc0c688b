"""The training driver: stop rules, history, pause/cancel, snapshots."""

import threading
import time

import numpy as np
import pytest

from mfstudio.core import metrics
from mfstudio.core.errors import ParameterError
from mfstudio.core.examples import load_example
from mfstudio.core.training import HISTORY_COLUMNS, Control, History, Snapshot, StopReason, Training


def test_history_is_thinned_evenly_and_keeps_the_last_step():
    h = History(cap=100)
    for start in range(0, 100_003, 1000):
        n = min(1000, 100_003 - start)
        rows = np.zeros((n, len(HISTORY_COLUMNS)))
        rows[:, 0] = np.arange(start + 1, start + n + 1)
        h.extend(rows)
    a = h.arrays()
    assert len(a) <= 101
    assert a[-1, 0] == 100_003
    gaps = np.diff(a[:-1, 0])
    assert np.all(gaps == gaps[0])  # evenly spaced


def test_long_run_history_stays_small():
    t = Training(load_example(), "sgd", {"steps": 400_000, "tol": 0})
    t.run_to_end()
    assert len(t.history) <= 10_001
    assert t.history.arrays()[-1, 0] == 400_000


def test_snapshots_carry_copies_and_metrics():
    t = Training(load_example(), "sgd", {"steps": 2000}, holdout=0.25)
    snaps = list(t.run())
    assert snaps[-1].finished and snaps[-1].reason is StopReason.BUDGET
    assert all(not s.finished for s in snaps[:-1])
    last = snaps[-1]
    assert last.step == 2000 and last.budget == 2000
    assert np.isfinite(last.val_rmse) and np.isfinite(last.train_rmse)
    f = t.factors
    assert last.factors.P is not f.P
    assert last.train_rmse == pytest.approx(metrics.rmse(t.split.train, f), rel=1e-9)
    assert last.val_rmse == pytest.approx(metrics.rmse(t.split.val, f), rel=1e-9)
    assert last.objective == pytest.approx(metrics.objective(t.split.train, f, 0.02), rel=1e-9)


def test_no_holdout_means_nan_validation():
    snap = Training(load_example(), "als", {"steps": 5}).run_to_end()
    assert np.isnan(snap.val_rmse)


def test_early_stop_keeps_the_best_factors():
    R = load_example("movie-night")
    t = Training(R, "sgd", {"K": 6, "steps": 200_000, "alpha": 0.01, "beta": 0.0, "tol": 0}, holdout=0.3, patience=500)
    snap = t.run_to_end()
    assert snap.reason is StopReason.EARLY_STOP
    vr = t.history.column("val_rmse")
    # the kept factors give the best validation error seen
    assert metrics.rmse(t.split.val, snap.factors) == pytest.approx(vr.min(), rel=1e-9)
    assert snap.step < 200_000


def early(chunk_seconds=0.01, **kw) -> tuple[Training, Snapshot]:
    t = Training(load_example("movie-night"), "sgd", {"K": 4, "steps": 5_000, "alpha": 0.02, "beta": 0.0, "tol": 0},
                 holdout=0.2, patience=30, **kw)
    snaps = list(t.run(chunk_seconds=chunk_seconds))
    return t, snaps[-1]


def test_an_early_stop_keeps_the_whole_history_and_marks_the_best_step():
    t, snap = early()
    h = t.history.arrays()
    val = h[:, HISTORY_COLUMNS.index("val_rmse")]
    assert snap.reason is StopReason.EARLY_STOP and snap.best_step == t.best_step == t.step
    assert snap.step == snap.best_step + 30 == int(h[-1, 0])  # every step run, `patience` past the best
    assert int(h[np.argmin(val), 0]) == snap.best_step and val[-1] > val.min()  # the rise after the best is kept
    assert snap.val_rmse == val.min()  # the kept factors' errors, as the history has them
    assert metrics.rmse(t.split.val, snap.factors) == pytest.approx(val.min(), rel=1e-12)
    assert f"early stop at step {snap.step:,}, best step {snap.best_step:,}" in snap.message


def test_where_an_early_stop_ends_does_not_depend_on_the_chunk_sizes():
    (a, sa), (b, sb) = early(chunk_seconds=1e-6), early(chunk_seconds=10.0)
    assert (sa.step, sa.best_step) == (sb.step, sb.best_step)
    assert np.array_equal(a.history.arrays()[:, :6], b.history.arrays()[:, :6])
    assert np.array_equal(sa.factors.P, sb.factors.P)


def test_continue_after_an_early_stop_goes_on_from_the_kept_factors_and_redoes_the_steps_after_them():
    t, snap = early()
    before = t.history.arrays()
    t.set_budget(snap.best_step + 10)
    again = t.run_to_end()
    h = t.history.arrays()
    assert again.reason is StopReason.BUDGET and again.best_step is None and again.step == snap.best_step + 10
    assert np.array_equal(h[:, 0], np.arange(1, snap.best_step + 11))  # one row a step, no step twice
    assert np.array_equal(h[:, :6], before[: snap.best_step + 10, :6])  # the same steps again, bit for bit


def test_patience_must_be_positive():
    with pytest.raises(ParameterError):
        Training(load_example(), "sgd", patience=0)


def test_stop_from_another_thread_is_quick():
    t = Training(load_example("movie-night"), "sgd", {"steps": 1_000_000_000})
    control = Control()
    threading.Timer(0.3, control.stop).start()
    t0 = time.perf_counter()
    snap = t.run_to_end(control)
    assert time.perf_counter() - t0 < 0.3 + 0.5
    assert snap.reason is StopReason.CANCELLED
    # a stopped run can be continued
    before = t.step
    for _ in t.run(max_steps=10):
        pass
    assert t.step == before + 10


def test_pause_holds_the_run():
    t = Training(load_example("movie-night"), "sgd", {"steps": 1_000_000_000})
    control = Control()
    steps = []

    def consume():
        for s in t.run(control):
            steps.append(s.step)

    th = threading.Thread(target=consume)
    th.start()
    time.sleep(0.2)
    control.pause()
    time.sleep(0.1)
    n = t.step
    time.sleep(0.2)
    assert t.step == n
    control.resume()
    time.sleep(0.1)
    assert t.step > n
    control.stop()
    th.join(2)
    assert not th.is_alive()


def test_one_step():
    t = Training(load_example(), "sgd")
    snaps = list(t.run(max_steps=1))
    assert snaps[-1].step == 1 and snaps[-1].reason is StopReason.STEP
    assert not t.finished


def test_reaching_the_budget_again_does_nothing():
    t = Training(load_example(), "als", {"steps": 3})
    t.run_to_end()
    snap = t.run_to_end()
    assert snap.step == 3 and snap.reason is StopReason.BUDGET


def test_restored_history_keeps_its_thinning():
    h = History(cap=100)
    rows = np.zeros((1000, len(HISTORY_COLUMNS)))
    rows[:, 0] = np.arange(1, 1001)
    h.extend(rows)
    restored = History.from_array(h.arrays(), cap=100)
    assert restored.stride == h.stride > 1
    np.testing.assert_array_equal(restored.arrays(), h.arrays())


def test_first_chunk_timing_excludes_compilation():
    t = Training(load_example(), "nmf", {"steps": 3})
    t.run_to_end()
    assert t.history.arrays()[0, 6] < 0.05  # elapsed at step 1: no compile time in it


def test_training_waits_while_a_child_process_compiles():
    from mfstudio.core.solvers import warmup

    warmup._ready.discard("nmf")
    warmup.child_compiling(True)
    done = threading.Event()

    def train():
        Training(load_example(), "nmf", {"steps": 2}).run_to_end()
        done.set()

    th = threading.Thread(target=train)
    th.start()
    try:
        assert not done.wait(0.3)  # held back while the child compiles
    finally:
        warmup.child_compiling(False)
    assert done.wait(10)
    th.join()


def test_divergence_advice_offers_only_a_learning_rate_seen_to_train():
    R = load_example("example-1")
    snap = Training(R, "sgd", {"alpha": 5.0}).run_to_end()
    assert snap.reason is StopReason.DIVERGED
    # alpha / 10 = 0.5 diverges again on this data: it must not be the one offered
    assert Training(R, "sgd", {"alpha": 0.5}).run_to_end().reason is StopReason.DIVERGED
    assert snap.suggestion == {"alpha": 0.05}
    assert "α = 0.05 ran 50 steps from the same start without diverging (α = 0.5 diverged too)" in snap.message
    assert "smaller learning rate" in snap.message
    # the offered value trains the whole default budget, and lowers the objective a lot
    t = Training(R, "sgd", {"alpha": snap.suggestion["alpha"]})
    done = t.run_to_end()
    assert done.reason in (StopReason.BUDGET, StopReason.TOLERANCE)
    assert done.objective < t.initial_objective / 10


def test_divergence_advice_from_the_runs_own_start_and_solver():
    R = load_example("example-2")
    snap = Training(R, "biased-sgd", {"alpha": 10.0, "seed": 3, "steps": 1000}).run_to_end()
    assert snap.reason is StopReason.DIVERGED and snap.suggestion
    again = Training(R, "biased-sgd", {"alpha": snap.suggestion["alpha"], "seed": 3, "steps": 1000}).run_to_end()
    assert again.reason is not StopReason.DIVERGED


def test_divergence_advice_when_no_smaller_learning_rate_helps():
    from mfstudio.core import Ratings

    R = Ratings.from_dense(np.arange(1, 10).reshape(3, 3) * 1e4)
    snap = Training(R, "sgd", {"alpha": 10.0}).run_to_end()
    assert snap.reason is StopReason.DIVERGED and snap.suggestion == {}
    assert "even α = 0.001 diverged" in snap.message and "small scale" in snap.message


def test_divergence_advice_without_time_to_check_says_so(monkeypatch):
    from mfstudio.core import training

    monkeypatch.setattr(training, "PROBE_SECONDS", 0.0)
    snap = Training(load_example("example-1"), "sgd", {"alpha": 5.0}).run_to_end()
    assert snap.suggestion == {} and "no time to check it" in snap.message


def test_the_status_line_is_one_text_for_every_front_end():
    from mfstudio.core.status_text import speed_text, status_line, status_parts

    assert status_line(120, 10_000, 0.25, 0.123456, 0.2, 1234.4) == \
        "step 120/10,000  objective 0.25  RMSE 0.1235  val RMSE 0.2  1,234 steps/s"
    assert status_line(7, None, 1.5, 0.5, sep=" · ") == "step 7 · objective 1.5 · RMSE 0.5"  # no hold-out, no speed
    assert status_parts(1, 2, 3.0, 4.0, float("nan"), 0.0) == ["step 1/2", "objective 3", "RMSE 4"]
    assert speed_text(2_500_000) == "2.5 M steps/s" and speed_text(float("inf")) == "" and speed_text(0) == ""
    snap = Training(load_example(), "sgd", {"steps": 3}, holdout=0.25).run_to_end()
    assert snap.status_line() == status_line(3, 3, snap.objective, snap.train_rmse, snap.val_rmse, snap.steps_per_s)
    assert "val RMSE" in snap.status_line(" · ") and " · " in snap.status_line(" · ")


def test_a_thinned_history_puts_a_dropped_row_back_in_its_place_and_can_end_at_a_row():
    h = History(cap=4)
    rows = np.zeros((20, len(HISTORY_COLUMNS)))
    rows[:, 0] = np.arange(1, 21)
    rows[:, 1] = np.arange(1, 21) * 10.0
    h.extend(rows)
    assert 5 not in h.arrays()[:, 0]  # thinned away
    back = h.ensure(5, lambda: rows[4])
    a = h.arrays()
    assert back[1] == 50.0 and list(a[:, 0]) == sorted(a[:, 0]) and 5 in a[:, 0]
    assert h.ensure(5, lambda: 1 / 0)[1] == 50.0  # already there: nothing is made
    h.end_at(rows[10])
    assert h.arrays()[-1, 0] == 11 and h.row_at(12)["step"] == 11 and h.row_at(5)["objective"] == 50.0


@pytest.mark.parametrize("patience", [None, 2])
def test_biased_sgd_results_errors_are_its_factors_in_the_snapshot_and_the_history(patience):
    """Its steps' training errors are summed during each epoch (the live curve); the result's are the kept factors'
    — the same number in the last snapshot, the kept history row (run.json, sweep.csv) and a recomputation."""
    from mfstudio.core import Ratings

    rng = np.random.default_rng(5)
    flat = rng.choice(40 * 30, size=500, replace=False)
    r = Ratings(flat // 30, flat % 30, rng.integers(1, 6, flat.size).astype(float), (40, 30), scale=(1, 5))
    t = Training(r, "biased-sgd", {"K": 3, "steps": 40, "alpha": 0.05, "seed": 2}, holdout=0.2, patience=patience)
    end = [s for s in t.run()][-1]
    kept = t.history.row_at(end.best_step) if end.best_step is not None and patience else t.history.last()
    exact = metrics.rmse(t.split.train, end.factors)
    assert end.train_rmse == kept["train_rmse"] == exact and end.val_rmse == kept["val_rmse"]


def test_the_divergence_guard_measures_implicit_als_by_its_own_objective():
    """On counts the explicit e of the start is not what implicit-als minimises: the guard takes Hu et al.'s F."""
    from mfstudio.core.solvers.implicit_als import objective_value

    ratings = load_example("listening")
    t = Training(ratings, "implicit-als", {"K": 2, "steps": 2}, holdout=0.2)
    start = t.solver.factors
    expected = objective_value(t.split.train, start, float(t.params["beta"]), float(t.params["confidence"]))
    assert t.initial_objective == pytest.approx(expected, rel=1e-12)
    assert t.initial_objective != pytest.approx(metrics.objective(t.split.train, start, float(t.params["beta"])))
    explicit = Training(load_example("example-1"), "als", {"K": 2})
    assert explicit.initial_objective == metrics.objective(explicit.split.train, explicit.solver.factors, 0.02)


def test_early_stopping_on_counts_keeps_the_step_of_the_best_precision():
    t = Training(load_example("listening"), "implicit-als", {"K": 4, "steps": 60}, holdout=0.2, patience=4)
    *_, snap = t.run(Control())
    h = t.history.arrays()
    precision = h[:, t.history.columns.index("precision@10")]
    assert snap.reason is StopReason.EARLY_STOP and t.judged_by == "precision@10"
    assert snap.best_step == int(h[np.nanargmax(precision), 0])  # the first of the highest
    assert snap.step == snap.best_step + 4
    explicit = Training(load_example("example-1"), "sgd", {"K": 2}, holdout=0.25)
    assert explicit.judged_by is None
