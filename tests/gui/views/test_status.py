"""The run's status in the status bar: the runStatus label and the stepProgress bar follow the experiment."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from mfstudio.core import History, RunResult, Training, load_example
from mfstudio.gui.experiment import Experiment, Shown
from mfstudio.gui.views.status import MESSAGE_ROOM, READY, RunStatus, progress_value, ranking_text, result_status
from tests.gui.conftest import synthetic_ratings
from tests.gui.test_experiment import request, run_to_end

NO_CELLS = np.zeros((0, 2), np.int64)


@pytest.fixture
def status(qtbot):
    bar = QStatusBar()
    qtbot.addWidget(bar)
    ex = Experiment()
    view = RunStatus(ex, bar)
    yield ex, view
    ex.shutdown()


def test_the_label_and_the_bar_sit_in_the_status_bar_and_start_ready(status):
    _ex, view = status
    bar = view.parent()
    assert isinstance(bar, QStatusBar)
    assert bar.findChild(QLabel, "runStatus") is view.label
    assert bar.findChild(QProgressBar, "stepProgress") is view.bar
    assert view.label.text() == READY and view.bar.value() == 0
    assert (view.bar.minimum(), view.bar.maximum()) == (0, 1000)


def test_after_a_finished_run_the_label_starts_with_step_and_the_bar_is_full(qtbot, status):
    ex, view = status
    end = run_to_end(qtbot, ex, ex.train, request(steps=300))
    text = view.label.text()
    assert text.startswith("Step 300 of 300 · e = ") and "RMSE" in text
    assert "steps/s" not in text  # a finished run leaves room for messages: its speed is in the tooltip
    if end.snapshot.steps_per_s > 0 and math.isfinite(end.snapshot.steps_per_s):
        assert "steps/s" in view.label.toolTip()
    assert view.bar.value() == 1000


def test_a_hold_out_adds_the_validation_error_and_the_ranking_metrics(qtbot, status):
    ex, view = status
    r = load_example("example-1")
    cells = np.stack([r.observed.rows[:2], r.observed.cols[:2]], axis=1)
    end = run_to_end(qtbot, ex, ex.train, request(r, steps=50, cells=cells))
    text = view.label.text()
    assert "validation RMSE" in text
    ranking = end.snapshot.ranking
    assert text.endswith(" · " + ranking_text(ranking)) and "top 10: precision " in text
    assert "precision@k = hits / k" in view.label.toolTip()  # the definitions
    ex.show_loaded(end.shown)  # the same result opened from a file says the same
    assert view.label.text().endswith(ranking_text(ranking)) and "recall@k" in view.label.toolTip()


def test_ranking_text_shows_the_four_metrics_or_nothing():
    ranking = {"precision@10": 0.05, "recall@10": 0.0211, "ndcg@10": 0.061, "map@10": 0.0304}
    assert ranking_text(ranking) == "top 10: precision 0.050, recall 0.021, NDCG 0.061, MAP 0.030"
    assert ranking_text(dict.fromkeys(ranking, math.nan)) == ""  # a step not evaluated, or no relevant rating
    assert ranking_text({}) == ""


def test_while_running_the_label_tells_the_step_the_speed_and_paused(qtbot, status):
    ex, view = status
    seen: list[tuple[str, int, int, int]] = []
    ex.progress.connect(lambda report: seen.append((view.label.text(), view.bar.value(), report.snapshot.step,
                                                    report.snapshot.budget)))
    budget = 1_000_000_000
    with qtbot.waitSignal(ex.progress, timeout=10_000):
        ex.train(request(synthetic_ratings(), steps=budget))
    text, value, step, got_budget = seen[0]
    assert got_budget == budget
    assert text.startswith(f"Step {step:,} of {budget:,}")
    assert value == progress_value(step, budget)
    ex.pause()
    assert view.label.text().endswith(" · paused")
    ex.resume()
    assert "paused" not in view.label.text()
    with qtbot.waitSignal(ex.finished, timeout=10_000):
        ex.stop()
    assert view.label.text().startswith("Step ") and "paused" not in view.label.text()
    assert "steps/s" not in view.label.text()
    assert view.bar.value() < 1000


def test_an_opened_result_shows_its_last_history_row_and_its_share_of_the_budget(status):
    ex, view = status
    r = load_example("example-1")
    t = Training(r, "sgd", {"steps": 20})
    t.run_to_end()
    result = RunResult("sgd", {**t.params, "steps": 40}, t.factors.copy(), t.history, t.step)
    ex.show_loaded(Shown(result, r, NO_CELLS))
    assert view.label.text() == result_status(result)
    assert view.label.text().startswith("Step 20 · e = ")
    assert view.bar.value() == 500 and view.label.toolTip() == ""


def test_a_new_random_start_shows_step_zero_and_an_empty_bar(qtbot, status):
    ex, view = status
    run_to_end(qtbot, ex, ex.train, request(steps=50))
    assert view.bar.value() == 1000
    ex.new_start(request(steps=200, seed=3))
    assert view.label.text().startswith("Step 0 of 200 · e = ")
    assert view.bar.value() == 0


def test_a_new_document_puts_the_status_back_to_ready(qtbot, status):
    ex, view = status
    run_to_end(qtbot, ex, ex.train, request(steps=50))
    ex.clear()
    assert view.label.text() == READY and view.bar.value() == 0 and view.label.toolTip() == ""


def test_result_status_reads_the_last_history_row():
    h = History.from_array(np.array([[1, 2.0, 1.0, 1.0, np.nan, np.nan, 0.1],
                                     [2, 1.5, 0.75, 0.7, 1.25, 1.0, 0.2]]))
    r = load_example("example-1")
    f = Training(r, "sgd", {"steps": 2}).factors
    text = result_status(RunResult("sgd", {"steps": 2}, f, h, 2))
    assert text.startswith("Step 2 · e = 1.5") and "validation RMSE 1.25" in text
    assert "of" not in text.split(" · ")[0]  # a read-back result has no budget to tell


def test_a_model_of_counts_says_preference_error_not_rmse(qtbot, status):
    ex, view = status
    listening = load_example("listening")
    assert listening.implicit
    end = run_to_end(qtbot, ex, ex.train, request(listening, steps=3, solver="implicit-als", K=2))
    text = view.label.text()
    assert "preference error" in text and "RMSE" not in text and " · F = " in text
    assert "preference error" in result_status(end.shown.result) and "RMSE" not in result_status(end.shown.result)


def test_result_status_without_a_history_tells_the_steps_done():
    r = load_example("example-1")
    f = Training(r, "sgd", {"steps": 2}).factors
    assert result_status(RunResult("sgd", {"steps": 10}, f, History(), 7)) == "Step 7"


@pytest.mark.parametrize("step,budget,value", [(0, 10, 0), (5, 10, 500), (1, 3, 333), (10, 10, 1000),
                                               (20, 10, 1000), (0, 0, 0), (3, 0, 1000)])
def test_progress_value_is_the_share_of_the_budget_in_thousandths(step, budget, value):
    assert progress_value(step, budget) == value


def test_a_long_status_leaves_room_for_messages_and_ends_in_an_ellipsis(qtbot, status):
    _ex, view = status
    bar = view.parent()
    long = " · ".join(["Step 200 of 200", "e = 14.90", "RMSE 0.4271", "validation RMSE 0.8252",
                       "top 10: precision 0.100, recall 1.000, NDCG 0.526, MAP 0.378"])
    view.label.setText(long)
    bar.resize(700, 30)
    bar.show()
    qtbot.waitExposed(bar)
    bar.showMessage("Finished at step 200: reached the step budget.")
    qtbot.waitUntil(lambda: view.label.width() <= bar.width() - MESSAGE_ROOM + 12)
    assert view.label.text() == long  # all of it kept
    shown = view.label.shown_text()
    assert shown.endswith("…") and long.startswith(shown[:-1])
    bar.resize(1600, 30)  # room again: all of it shown
    qtbot.waitUntil(lambda: view.label.shown_text() == long)
