"""Sweeps: each point is the single Training with the same parameters (bit for bit), in worker processes as
in this one, with any number of workers; folds, best point and best step, the table, stopping."""

from __future__ import annotations

import math
import multiprocessing
import os
import time

import numpy as np
import pytest

from mfstudio.core import Snapshot, StopReason, Training, load_example, sweep_pool
from mfstudio.core.errors import ParameterError
from mfstudio.core.solvers import Factors
from mfstudio.core.sweep import (
    METRICS,
    PointResult,
    Progress,
    Sweep,
    SweepSpec,
    best_point,
    best_step,
    columns,
    combine,
    rows,
    run_point,
)
from mfstudio.core.sweep_grid import make_axis

pytestmark = pytest.mark.usefixtures("no_sweep_helpers_after")  # no fork server left after them

FIXED = {"steps": 300, "alpha": 0.01}


def spec_of(axes: dict[str, str], **kw) -> SweepSpec:
    r = kw.pop("ratings", None) or load_example("example-1")
    solver = kw.pop("solver", "sgd")
    made = tuple(make_axis(solver, n, v) for n, v in axes.items())
    return SweepSpec(r, solver, kw.pop("params", FIXED), made, **{"holdout": 0.25, **kw})


def single(spec: SweepSpec, values: dict, holdout=0.25) -> tuple[Training, Snapshot]:
    t = Training(spec.ratings, spec.solver, {**spec.params, **values}, holdout=holdout, patience=spec.patience)
    return t, t.run_to_end()


def assert_same_factors(a: Factors, b: Factors) -> None:
    for name in ("P", "Q", "user_bias", "item_bias"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None and y is None) or np.array_equal(x, y), name
    assert a.global_mean == b.global_mean


def no_children_left(pids: list[int]) -> bool:
    """No worker is a child of this process any more, nor alive under its pid."""
    if multiprocessing.active_children():
        return False
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        except PermissionError:
            return False
        return False
    return True


# -- in this process --------------------------------------------------------------------------------
def test_a_point_run_here_is_the_single_training_bit_for_bit():
    spec = spec_of({"K": "1,3", "beta": "0.01,0.5"}, keep_factors=True)
    for p in spec.points():
        r = run_point(spec, p)
        t, snap = single(spec, p.params(spec.axes))
        assert r.metrics == {m: getattr(snap, m) for m in METRICS}
        assert_same_factors(r.factors, snap.factors)
        assert r.steps == 300 and r.reason == "budget"
        assert r.best_step == best_step(t)


def test_best_step_is_the_lowest_validation_rmse_in_the_history():
    spec = spec_of({"K": "2"}, params={"steps": 3000, "alpha": 0.02, "beta": 0.0})
    t, _ = single(spec, {"K": 2})
    h = t.history.arrays()
    assert best_step(t) == int(h[np.argmin(h[:, 4]), 0])
    assert 1 <= best_step(t) < 3000  # this run overfits: the best step is not the last


def test_with_patience_the_best_step_is_the_one_whose_factors_are_kept():
    spec = spec_of({"K": "4"}, params={"steps": 100_000, "alpha": 0.02, "beta": 0.0, "tol": 0}, patience=50,
                   keep_factors=True)
    r = run_point(spec, spec.points()[0])
    t, snap = single(spec, {"K": 4})
    assert r.reason == StopReason.EARLY_STOP.value and r.steps < 100_000
    assert r.best_step == snap.best_step == t.step and r.steps == snap.step == r.best_step + 50  # steps run
    assert r.metrics["val_rmse"] == snap.val_rmse == t.history.column("val_rmse").min()  # the kept factors'
    assert_same_factors(r.factors, snap.factors)


def test_folds_hold_out_each_rating_once_evenly_and_follow_the_seed():
    spec = spec_of({"K": "2"}, folds=4, holdout=None)
    ids = spec.fold_ids(0)
    assert sorted(np.bincount(ids)) == [len(ids) // 4] * (4 - len(ids) % 4) + [len(ids) // 4 + 1] * (len(ids) % 4)
    assert np.array_equal(ids, spec.fold_ids(0)) and not np.array_equal(ids, spec.fold_ids(1))


def test_a_point_with_folds_is_the_mean_and_spread_of_its_folds_trainings():
    spec = spec_of({"K": "2"}, folds=3, holdout=None, params={**FIXED, "seed": 4})
    p = spec.points()[0]
    parts = [run_point(spec, p, f) for f in range(3)]
    result = combine(p, parts, 3)
    ids = spec.fold_ids(4)
    vals = [single(spec, {"K": 2}, holdout=ids == f)[1].val_rmse for f in range(3)]
    assert result.metrics["val_rmse"] == float(np.mean(vals))
    assert result.spread["val_rmse"] == float(np.std(vals)) > 0
    assert result.folds == 3 and result.reason == "budget"


def test_a_diverged_point_has_no_errors_and_is_never_the_best():
    spec = spec_of({"alpha": "0.01,10"}, params={"steps": 300})
    good, bad = (combine(p, [run_point(spec, p)], None) for p in spec.points())
    assert bad.reason == "diverged" and "diverged" in bad.message and math.isnan(bad.val_rmse) and not bad.ok
    assert best_point([bad, good]) is good
    assert best_point([bad]) is None


def test_a_point_the_data_refuses_ends_with_its_sentence():
    r = load_example("example-1")
    spec = spec_of({"K": "2"}, holdout=np.ones(r.nnz, bool), ratings=r)
    got = run_point(spec, spec.points()[0])
    assert got.reason == "error" and got.message.startswith("Every rating is held out")


def test_the_best_point_has_the_lowest_validation_rmse():
    def res(i, v):
        return PointResult(i, (i,), {**dict.fromkeys(METRICS, 1.0), "val_rmse": v}, {}, 1, 1, 0.0, "budget")

    rs = [res(0, 0.9), res(1, 0.7), res(2, 0.7), res(3, math.nan)]
    assert best_point(rs).index == 1


def test_the_table_has_the_columns_named_as_given_and_ranking_between_mae_and_best_step():
    axes = (make_axis("sgd", "k", "1,2"), make_axis("sgd", "beta", "0.1"))
    r = PointResult(0, (1, 0.1), dict.fromkeys(METRICS, 0.5), {"precision@10": 0.2, "ndcg@10": 0.3}, 7, 9, 1.5,
                    "budget")
    assert columns(axes, [r]) == ["k", "beta", "train_rmse", "val_rmse", "train_mae", "val_mae", "precision@10",
                                  "ndcg@10", "best_step", "seconds", "reason"]
    folded = PointResult(0, (1, 0.1), dict.fromkeys(METRICS, 0.5), {}, 7, 9, 1.5, "budget",
                         spread=dict.fromkeys(METRICS, 0.1), folds=5)
    assert columns(axes, [folded])[-6:] == ["train_rmse_std", "val_rmse_std", "train_mae_std", "val_mae_std",
                                            "folds", "reason"]
    row = rows(axes, [folded])[0]
    assert row["k"] == 1 and row["val_rmse_std"] == 0.1 and row["folds"] == 5 and row["best_step"] == 7


def test_the_ranking_metrics_of_a_point_are_its_single_runs():
    spec = spec_of({"K": "2"})
    r = run_point(spec, spec.points()[0])
    single = spec.training(spec.points()[0]).run_to_end()
    assert set(r.ranking) == {"precision@10", "recall@10", "ndcg@10", "map@10"}
    assert r.ranking == single.ranking


def test_a_sweep_on_implicit_data_has_mpr_in_its_table():
    from mfstudio.core.ratings import Ratings

    rng = np.random.default_rng(2)
    cells = rng.choice(10 * 8, 40, replace=False)
    plays = Ratings(cells // 8, cells % 8, rng.integers(1, 30, 40).astype(float), (10, 8), implicit=True)
    spec = spec_of({"K": "1,2"}, ratings=plays, solver="als", params={"steps": 4})
    results = [combine(p, [run_point(spec, p)], None) for p in spec.points()]
    assert columns(spec.axes, results)[5:10] == ["precision@10", "recall@10", "ndcg@10", "map@10", "mpr"]
    for r, p in zip(results, spec.points()):
        assert r.ranking == spec.training(p).run_to_end().ranking and 0 <= r.ranking["mpr"] <= 1
        assert rows(spec.axes, [r])[0]["mpr"] == r.ranking["mpr"]


@pytest.mark.parametrize("kw, words", [
    ({"holdout": None}, "needs ratings held out"),
    ({"holdout": 0.0}, "needs ratings held out"),
    ({"folds": 1}, "Folds must be"),
    ({"folds": 40, "holdout": None}, "need at least 40 ratings"),
    ({"params": {"K": 2}}, "cannot also be fixed"),
    ({"init": Factors(np.ones((4, 2)), np.ones((2, 4)))}, "fix K at 2"),
    ({"params": {"alpha": 50.0}}, "Learning rate"),
])
def test_a_sweep_that_could_not_train_is_refused_before_it_starts(kw, words):
    with pytest.raises(ParameterError, match=words):
        spec_of({"K": "1,2"}, **kw).check()


# -- in worker processes --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def two_ways():
    """The same 4-point sweep with one worker and with two."""
    spec = spec_of({"K": "1,2", "beta": "0.02,0.2"}, keep_factors=True)
    out = {}
    for jobs in (1, 2):
        events: list = []
        sweep = Sweep(spec, jobs=jobs)
        results = sweep.run(events.append)
        out[jobs] = (sweep, results, events)
    return spec, out


def test_points_in_workers_equal_the_single_trainings_bit_for_bit(two_ways):
    spec, out = two_ways
    sweep, results, _ = out[2]
    assert [r.index for r in results] == [0, 1, 2, 3]
    for r in results:
        _, snap = single(spec, sweep.points[r.index].params(spec.axes))
        assert r.val_rmse == snap.val_rmse and r.metrics["train_rmse"] == snap.train_rmse
        assert_same_factors(r.factors, snap.factors)


def test_two_workers_give_what_one_gives(two_ways):
    _, out = two_ways
    (_, one, _), (_, two, _) = out[1], out[2]
    for a, b in zip(one, two):
        assert (a.index, a.values, a.metrics, a.best_step, a.steps, a.reason) == \
               (b.index, b.values, b.metrics, b.best_step, b.steps, b.reason)
        assert_same_factors(a.factors, b.factors)


def test_progress_of_every_point_comes_before_its_result(two_ways):
    _, out = two_ways
    sweep, _, events = out[2]
    assert sweep.n_workers == 2 and no_children_left([p.pid for p in sweep._procs])
    for i in range(4):
        kinds = [type(e) for e in events if e.index == i]
        assert Progress in kinds and kinds[-1] is PointResult
        last = [e for e in events if isinstance(e, Progress) and e.index == i][-1]
        assert (last.step, last.budget) == (300, 300)
    assert sweep.best() is min(sweep.finished_points(), key=lambda r: r.val_rmse)


def test_folds_in_workers_equal_folds_here():
    spec = spec_of({"K": "1,2"}, folds=2, holdout=None)
    got = Sweep(spec, jobs=2).run()
    for r in got:
        p = spec.points()[r.index]
        here = combine(p, [run_point(spec, p, f) for f in range(2)], 2)
        assert (r.metrics, r.spread, r.best_step) == (here.metrics, here.spread, here.best_step)


def test_stop_ends_every_worker_promptly_and_drops_unfinished_points():
    spec = spec_of({"K": "1,2,3,4,5,6"}, params={"steps": 1_000_000_000, "alpha": 0.001, "tol": 0})
    sweep = Sweep(spec, jobs=2)
    sweep.start()
    pids = [p.pid for p in sweep._procs]
    deadline = time.perf_counter() + 60
    seen: list = []
    while not any(isinstance(e, Progress) for e in seen) and time.perf_counter() < deadline:
        seen += sweep.poll()
        time.sleep(0.05)
    assert any(isinstance(e, Progress) for e in seen), "no worker reported progress"
    t0 = time.perf_counter()
    sweep.stop()
    while not sweep.finished and time.perf_counter() - t0 < 10:
        sweep.poll()
        time.sleep(0.02)
    stopped_in = time.perf_counter() - t0
    sweep.close()
    assert stopped_in < 3.0
    assert sweep.finished_points() == [] and sweep.errors == []
    assert no_children_left(pids)


def test_close_without_stop_leaves_no_process():
    spec = spec_of({"K": "1,2"}, params={"steps": 1_000_000_000, "alpha": 0.001, "tol": 0})
    sweep = Sweep(spec, jobs=2)
    sweep.start()
    pids = [p.pid for p in sweep._procs]
    sweep.close()
    assert no_children_left(pids) and sweep.finished


def test_workers_are_forked_from_the_warm_fork_server_and_the_longest_points_go_first():
    sweep_pool.warm_up("sgd")
    server = sweep_pool.helper_pids()[0]
    spec = spec_of({"K": "1,4,2"}, params={"steps": 200, "alpha": 0.01, "tol": 0})
    sweep = Sweep(spec, jobs=1)
    order, parents = [], set()

    def seen(e):
        if isinstance(e, PointResult):
            order.append(e.values[0])
        for p in sweep._procs:
            try:
                with open(f"/proc/{p.pid}/stat") as f:
                    parents.add(int(f.read().rsplit(")", 1)[1].split()[1]))
            except OSError:
                pass

    sweep.run(seen)
    assert order == [4, 2, 1]  # steps x K, the largest first
    assert parents == {server}  # forked by the fork server, not spawned by this process
    assert spec.cost(spec.points()[1]) == 800 and no_children_left([p.pid for p in sweep._procs])


def test_the_fork_server_and_resource_tracker_end_on_shutdown_unless_a_sweep_runs():
    spec = spec_of({"K": "1,2"}, params={"steps": 1_000_000_000, "alpha": 0.001, "tol": 0})
    sweep = Sweep(spec, jobs=2)
    sweep.start()
    assert not sweep_pool.shutdown() and len(sweep_pool.helper_pids()) == 2  # not under a running sweep
    sweep.close()
    pids = sweep_pool.helper_pids()
    assert sweep_pool.shutdown() and sweep_pool.helper_pids() == []
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


KILLED_SWEEP = """
import sys, time
from mfstudio.core import load_example
from mfstudio.core.sweep import Progress, Sweep, SweepSpec
from mfstudio.core.sweep_grid import make_axis
spec = SweepSpec(load_example("example-1"), "sgd", {"steps": 1_000_000_000, "alpha": 0.001, "tol": 0},
                 (make_axis("sgd", "K", "1,2"),), holdout=0.25)
sweep = Sweep(spec, jobs=2)
sweep.start()
while not any(isinstance(e, Progress) for e in sweep.poll()):
    time.sleep(0.05)
print(" ".join(str(p.pid) for p in sweep._procs), flush=True)
time.sleep(600)
"""


def test_workers_stop_by_themselves_when_the_sweeps_process_is_killed():
    import signal
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    p = subprocess.Popen([sys.executable, "-c", KILLED_SWEEP], stdout=subprocess.PIPE, text=True, env=env,
                         start_new_session=True)
    try:
        pids = [int(x) for x in p.stdout.readline().split()]
        assert len(pids) == 2
        p.kill()  # no stop, no close: as when the window is killed
        p.wait(10)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not no_children_left(pids):
            time.sleep(0.05)
        assert no_children_left(pids), "a worker went on training for a sweep nobody waits for"
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)


def test_a_worker_that_cannot_be_started_leaves_no_other_behind(monkeypatch):
    import mfstudio.core.sweep as sweep_module

    class Failing(sweep_module.ProcessPoolExecutor):
        calls = 0

        def submit(self, *args, **kwargs):
            Failing.calls += 1
            if Failing.calls == 2:
                raise OSError("no more processes")
            return super().submit(*args, **kwargs)

    monkeypatch.setattr(sweep_module, "ProcessPoolExecutor", Failing)
    sweep = Sweep(spec_of({"K": "1,2,3"}), jobs=2)
    with pytest.raises(OSError):
        sweep.start()
    assert len(sweep._procs) == 1 and no_children_left([p.pid for p in sweep._procs])


def test_on_counts_the_best_step_and_point_are_judged_by_precision_not_the_preference_error():
    """implicit-als's held-out preference error rises after the first steps while the ranking improves."""
    spec = spec_of({"K": "1,4"}, ratings=load_example("listening"), solver="implicit-als", params={"steps": 12},
                   holdout=0.2)
    t, _ = single(spec, {"K": 4}, holdout=0.2)
    h = t.history.arrays()
    precision = h[:, t.history.columns.index("precision@10")]
    assert t.judged_by == "precision@10" and best_step(t) == int(h[np.nanargmax(precision), 0])
    assert best_step(t) != int(h[np.argmin(h[:, 4]), 0])  # the lowest preference error is another step
    results = [combine(p, [run_point(spec, p)], None) for p in spec.points()]
    assert all(r.judged_by == "precision@10" for r in results)
    by_rank = max(results, key=lambda r: r.ranking["precision@10"])
    assert best_point(results) is by_rank and by_rank is not min(results, key=lambda r: r.val_rmse)


def test_the_best_point_of_counts_has_the_highest_ranking_metric():
    def res(i, v, p):
        return PointResult(i, (i,), {**dict.fromkeys(METRICS, 1.0), "val_rmse": v}, {"precision@10": p}, 1, 1, 0.0,
                           "budget", judged_by="precision@10")

    assert best_point([res(0, 0.1, 0.2), res(1, 0.9, 0.3), res(2, 0.5, 0.3), res(3, 0.1, math.nan)]).index == 1
    # 17 hits in 88 lists summed in two orders: the same precision to the last bit but one; the first is best
    a, b = 0.1931818181818181, 0.19318181818181815
    assert a != b and best_point([res(0, 0.5, a), res(1, 0.5, b)]).index == 0
    assert best_point([res(0, 0.5, b), res(1, 0.5, a)]).index == 0
