"""Training ▸ Sweep…: the sweep window over the grid and the controls, run in worker processes without blocking
the window; Stop and closing leave no process; Use best sets the controls, and Train then gives the sweep's
validation RMSE bit for bit."""

from __future__ import annotations

import math
import multiprocessing
import os
import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from mfstudio.core.sweep_grid import make_axis
from mfstudio.gui.sweep_panel import NO_HOLDOUT, SweepPanel
from mfstudio.gui.views.sweep_chart import EMPTY_TEXT, WAITING_TEXT


def make_axes(solver: str, *pairs: tuple[str, str]) -> tuple:
    return tuple(make_axis(solver, name, values) for name, values in pairs)

pytestmark = pytest.mark.usefixtures("no_sweep_helpers_after")  # no fork server left after them


def gone(pids: list[int]) -> bool:
    """No worker is alive: none is our child any more, and no pid of theirs answers."""
    if multiprocessing.active_children():
        return False
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        return False
    return True


def open_panel(qtbot, w) -> SweepPanel:
    w.action_sweep.trigger()
    panel = w.findChild(SweepPanel, "sweepPanel")
    assert panel is not None and panel.isWindow() and panel.isVisible()
    qtbot.waitExposed(panel)
    return panel


@pytest.fixture
def movies(window):
    """The main window with Movie night, a quarter of the ratings held out, short runs."""
    window.open_example("movie-night")
    window.controls.set_params({"steps": 300, "alpha": 0.01})
    window.controls.set_holdout(0.25)
    assert len(window.document.grid_held_out_cells()) > 0
    return window


def test_the_action_sits_in_the_training_menu_and_opens_one_window(qtbot, movies):
    a = movies.action_sweep
    assert a.objectName() == "actionSweep" and a.text() == "S&weep…"
    training = next(m.menu() for m in movies.menuBar().actions() if m.menu().title() == "&Training")
    assert a in training.actions()
    panel = open_panel(qtbot, movies)
    assert open_panel(qtbot, movies) is panel
    for name in ("sweepStopButton", "sweepUseBestButton", "sweepChart", "sweepRunButton", "sweepTable"):
        assert panel.findChild(QWidget, name) is not None, name
    assert movies.minimumSizeHint().width() <= 790 and movies.minimumSizeHint().height() <= 590


def test_the_parameters_offered_follow_the_controls_solver(qtbot, movies):
    panel = open_panel(qtbot, movies)
    names = [panel.param_boxes[0].itemData(i) for i in range(panel.param_boxes[0].count())]
    assert names == ["K", "steps", "alpha", "beta", "tol", "seed"]
    panel.choose(("beta", "0.01,0.1"))
    movies.controls.set_solver("als")
    names = [panel.param_boxes[0].itemData(i) for i in range(panel.param_boxes[0].count())]
    assert "alpha" not in names and panel.param_boxes[0].currentData() == "beta"
    assert panel.values_edits[0].text() == "0.01,0.1"
    assert panel.param_boxes[1].itemData(0) == ""  # the second is optional


def test_a_sweep_streams_into_the_table_and_chart_and_use_best_trains_the_same_model(qtbot, movies):
    panel = open_panel(qtbot, movies)
    panel.choose(("K", "1,3"), ("beta", "0.02,0.5"))
    panel.jobs_box.setValue(2)
    with qtbot.waitSignal(panel.sweepFinished, timeout=60_000) as done:
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
        assert panel.running and not panel.run_button.isEnabled() and panel.stop_button.isEnabled()
    assert done.args == ["finished"]
    sweep = panel.sweep
    pids = [p.pid for p in sweep._procs]
    assert len(sweep.finished_points()) == 4 and gone(pids)
    statuses = [panel.table.item(r, 2).text() for r in range(4)]
    assert statuses == ["done"] * 4
    assert len(panel.chart.results) == 4 and panel.chart.draws >= 1 and panel.chart.empty_text == ""
    heads = [panel.table.horizontalHeaderItem(c).text() for c in range(panel.table.columnCount())]
    assert heads == ["K", "beta", "Status", "Val. RMSE", "Train RMSE", "Val. MAE", "Train MAE", "Precision@10",
                     "Recall@10", "NDCG@10", "MAP@10", "Best step", "Seconds"]  # as sweep.csv, in the same order
    for r in sweep.finished_points():
        cells = {h: panel.table.item(r.index, c).text() for c, h in enumerate(heads)}
        assert cells["Val. MAE"] == f"{r.metrics['val_mae']:.4g}"
        assert cells["Train MAE"] == f"{r.metrics['train_mae']:.4g}"
        assert cells["NDCG@10"] == (f"{r.ranking['ndcg@10']:.4g}" if math.isfinite(r.ranking["ndcg@10"]) else "")
    best = sweep.best()
    assert panel.table.item(best.index, 0).font().bold()
    assert "Best: K = " in panel.status.text()
    assert panel.use_best_button.isEnabled()
    qtbot.mouseClick(panel.use_best_button, Qt.MouseButton.LeftButton)
    params = movies.controls.params()
    assert (params["K"], params["beta"]) == best.values and params["steps"] == 300 and params["alpha"] == 0.01
    with qtbot.waitSignal(movies.trainingFinished, timeout=30_000):
        movies.train()
    last = movies.result.history.arrays()[-1]
    assert last[4] == best.val_rmse and last[2] == best.metrics["train_rmse"]  # the window's Train, bit for bit


def test_before_the_first_point_the_chart_says_so_instead_of_drawing_empty_axes(qtbot, movies):
    panel = open_panel(qtbot, movies)
    assert panel.chart.empty_text == EMPTY_TEXT and not panel.chart.figure.axes
    assert [t.get_text() for t in panel.chart.figure.texts] == [EMPTY_TEXT]
    panel.chart.show_results(make_axes("sgd", ("K", "1,2")), [], force=True)  # a sweep started, nothing finished
    assert panel.chart.empty_text == WAITING_TEXT and not panel.chart.figure.axes
    panel.chart.clear()
    assert panel.chart.empty_text == EMPTY_TEXT


def test_without_a_hold_out_or_folds_it_says_so_and_starts_nothing(qtbot, movies):
    movies.controls.set_holdout(0.0)
    qtbot.waitUntil(lambda: len(movies.document.grid_held_out_cells()) == 0)
    panel = open_panel(qtbot, movies)
    panel.choose(("K", "1,2"))
    assert panel.run() is False and panel.sweep is None
    assert panel.status.text() == NO_HOLDOUT
    panel.values_edits[0].setText("1,0")
    panel.folds_box.setValue(2)
    assert panel.run() is False and "Latent features (K) must be" in panel.status.text()


def test_stop_ends_every_worker_promptly(qtbot, movies):
    movies.controls.set_params({"steps": 1_000_000_000, "tol": 0.0, "alpha": 0.001})
    panel = open_panel(qtbot, movies)
    panel.choose(("K", "1,2,3,4"))
    panel.jobs_box.setValue(2)
    assert panel.run()
    pids = [p.pid for p in panel.sweep._procs]
    qtbot.waitUntil(lambda: any(panel.table.item(r, 1).text().startswith("step") for r in range(4)),
                    timeout=60_000)
    t0 = time.perf_counter()
    with qtbot.waitSignal(panel.sweepFinished, timeout=10_000) as done:
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    assert done.args == ["stopped"] and time.perf_counter() - t0 < 5
    assert gone(pids)
    assert [panel.table.item(r, 1).text() for r in range(4)] == ["stopped"] * 4
    assert panel.status.text().startswith("Stopped: 0 of 4 points finished.")
    assert not panel.use_best_button.isEnabled() and panel.run_button.isEnabled()


def test_closing_the_main_window_stops_the_sweep_and_leaves_no_process(qtbot, movies):
    movies.controls.set_params({"steps": 1_000_000_000, "tol": 0.0, "alpha": 0.001})
    panel = open_panel(qtbot, movies)
    panel.choose(("K", "1,2"))
    assert panel.run()
    pids = [p.pid for p in panel.sweep._procs]
    qtbot.waitUntil(lambda: any(panel.table.item(r, 1).text().startswith("step") for r in range(2)),
                    timeout=60_000)
    movies.close()
    assert not panel.running and gone(pids)


def test_closing_the_sweep_window_stops_it(qtbot, movies):
    movies.controls.set_params({"steps": 1_000_000_000, "tol": 0.0, "alpha": 0.001})
    panel = open_panel(qtbot, movies)
    panel.choose(("seed", "1,2"))
    assert panel.run()
    pids = [p.pid for p in panel.sweep._procs]
    panel.close()
    assert not panel.running and gone(pids) and panel.sweep.stopped
