"""The run list follows the experiment, and the loss curve the list: a new run (line) per Train, the same
for Continue and Step, the history while it runs, an opened result's history, and nothing after a new
document; each finished run's record made from its result."""

from __future__ import annotations

import numpy as np
import pytest

from mfstudio.core import RunResult, Training, load_example
from mfstudio.gui.experiment import Experiment, Shown
from mfstudio.gui.runs import RunList
from mfstudio.gui.runs_feed import RunsFeed
from mfstudio.gui.views.plot import LossPlot
from tests.gui.conftest import synthetic_ratings
from tests.gui.test_experiment import request, run_to_end

NO_CELLS = np.zeros((0, 2), np.int64)


@pytest.fixture
def setup(qtbot):
    ex = Experiment()
    runs = RunList(ex)
    plot = LossPlot(runs=runs)  # the list is the plot's only subscription
    qtbot.addWidget(plot)
    plot.resize(600, 300)
    yield ex, plot, runs
    ex.shutdown()
    plot.stop_timers()


def test_the_feed_belongs_to_the_list(setup):
    _ex, plot, runs = setup
    assert isinstance(runs.feed, RunsFeed) and runs.feed.parent() is runs and plot.runs is runs


def test_a_finished_run_is_one_line_with_its_whole_history_and_the_curve_is_no_longer_live(qtbot, setup):
    ex, plot, runs = setup
    live: list[bool] = []
    ex.started.connect(lambda run: live.append(plot.live))
    end = run_to_end(qtbot, ex, ex.train, request(steps=120))
    assert live == [True]
    assert plot.run_count == 1 and plot.point_count() == len(end.outcome.history) == 120
    assert not plot.live
    assert plot.run_labels() == ["sgd K=2 α=0.0002 β=0.02"]
    record = runs.current
    assert (record.reason, record.steps_done, len(record.history)) == ("budget", 120, 120)
    assert record.metrics["train_rmse"] == end.snapshot.train_rmse and np.isnan(record.metrics["val_rmse"])


def test_while_running_the_line_follows_the_reported_history(qtbot, setup):
    ex, plot, runs = setup
    seen: list[tuple[int, int]] = []
    ex.progress.connect(lambda report: seen.append((plot.point_count(), len(report.history))))
    with qtbot.waitSignal(ex.progress, timeout=10_000):
        ex.train(request(synthetic_ratings(), steps=1_000_000_000))
    assert plot.live and seen[0][0] == seen[0][1] > 0
    with qtbot.waitSignal(ex.finished, timeout=10_000):
        ex.stop()
    assert not plot.live and plot.point_count() >= seen[-1][0]


def test_each_train_draws_a_new_line_and_continue_and_step_go_on_on_the_same(qtbot, setup):
    ex, plot, runs = setup
    run_to_end(qtbot, ex, ex.train, request(steps=40))
    run_to_end(qtbot, ex, ex.train, request(steps=40, K=3))
    assert plot.run_count == 2 and plot.run_labels() == ["sgd K=2", "sgd K=3"]
    run_to_end(qtbot, ex, ex.continue_, request(steps=40, K=3))
    assert plot.run_count == 2 and plot.point_count() == 80
    run_to_end(qtbot, ex, ex.step, request(steps=40, K=3))
    assert plot.run_count == 2 and plot.point_count() == 81


def test_a_first_step_starts_a_line_and_the_next_steps_extend_it(qtbot, setup):
    ex, plot, runs = setup
    run_to_end(qtbot, ex, ex.step, request(steps=5))
    assert plot.run_count == 1 and plot.point_count() == 1
    run_to_end(qtbot, ex, ex.step, request(steps=5))
    assert plot.run_count == 1 and plot.point_count() == 2


def test_after_a_new_random_start_continue_draws_a_new_line(qtbot, setup):
    ex, plot, runs = setup
    run_to_end(qtbot, ex, ex.train, request(steps=30))
    ex.new_start(request(steps=30, seed=5))
    assert plot.run_count == 1  # the random start itself draws nothing
    run_to_end(qtbot, ex, ex.continue_, request(steps=30, seed=5))
    assert plot.run_count == 2 and plot.point_count() == 30


def test_the_hold_out_share_is_part_of_the_lines_parameters(qtbot, setup):
    ex, plot, runs = setup
    r = load_example("example-1")
    run_to_end(qtbot, ex, ex.train, request(r, steps=30))
    cells = np.stack([r.observed.rows[:3], r.observed.cols[:3]], axis=1)  # 3 of 9 ratings
    run_to_end(qtbot, ex, ex.train, request(r, steps=30, cells=cells))
    assert plot.run_labels() == ["sgd hold-out 0%", "sgd hold-out 33%"]


def test_a_run_that_cannot_start_leaves_no_line(qtbot, setup):
    ex, plot, runs = setup
    run_to_end(qtbot, ex, ex.train, request(steps=30))
    r = load_example("example-1")
    every = np.stack([r.observed.rows, r.observed.cols], axis=1)
    end = run_to_end(qtbot, ex, ex.train, request(r, steps=30, cells=every))
    assert end.outcome.user_error
    assert plot.run_count == 1 and not plot.live
    assert plot.point_count() == 0  # the earlier run stays, faded; there is no current line


def test_an_opened_result_draws_its_history(setup):
    ex, plot, runs = setup
    r = load_example("example-1")
    t = Training(r, "sgd", {"steps": 25})
    t.run_to_end()
    hist = np.asarray(t.history.arrays())
    ex.show_loaded(Shown(RunResult("sgd", dict(t.params), t.factors.copy(), t.history, t.step), r, NO_CELLS,
                         history=hist))
    assert plot.run_count == 1 and plot.point_count() == 25 and not plot.live
    assert not plot._timer.isActive()  # drawn at once, nothing pending


def test_a_new_document_clears_every_line(qtbot, setup):
    ex, plot, runs = setup
    run_to_end(qtbot, ex, ex.train, request(steps=30))
    run_to_end(qtbot, ex, ex.train, request(steps=30, K=3))
    ex.clear()
    assert plot.run_count == 0 and plot.point_count() == 0 and not plot.can_undo_clear
