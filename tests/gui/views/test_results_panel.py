"""The result tabs follow the experiment: started, progress, finished, loaded, reset, cleared and stale; the
captions say how the numbers are made; the recommendation boxes and the tables' exports go out as signals."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from mfstudio.core import Ratings, RunResult, Training, load_example
from mfstudio.core.recommend import AUTO
from mfstudio.gui.experiment import Experiment, Shown
from mfstudio.gui.views.results_panel import STALE_TEXT, ResultsPanel
from tests.gui.conftest import synthetic_ratings
from tests.gui.test_experiment import request, run_to_end

NO_CELLS = np.zeros((0, 2), np.int64)


@pytest.fixture
def setup(qtbot):
    ex = Experiment()
    panel = ResultsPanel(ex)
    qtbot.addWidget(panel)
    yield ex, panel
    ex.shutdown()


def models(panel: ResultsPanel) -> list:
    return [panel.p_model, panel.q_model, panel.r_hat_model, panel.recs_model, panel.user_bias_model,
            panel.item_bias_model]


def shape(model) -> tuple[int, int]:
    return model.rowCount(), model.columnCount()


def all_cells(r: Ratings) -> np.ndarray:
    return np.stack([r.observed.rows, r.observed.cols], axis=1)


def test_before_any_run_the_tables_are_empty_and_the_captions_say_what_they_will_show(setup):
    _ex, panel = setup
    assert all(m.rowCount() == 0 for m in models(panel))
    assert panel.r_hat_caption.text().startswith("R-hat = P·Q, clipped for display.")
    assert "This model has no biases" in panel.bias_caption.text()
    assert "candidate" not in panel.recs_caption.text() and "left out" not in panel.recs_caption.text()
    assert panel.stale_banner.isHidden() and panel.stale_banner.text() == STALE_TEXT
    assert [panel.tabs.tabText(i) for i in range(panel.tabs.count())] == ["R-hat", "P", "Q", "Biases",
                                                                          "Recommendations"]


def test_the_r_hat_table_follows_the_shape_of_the_ratings(qtbot, setup):
    ex, panel = setup
    small = Ratings.from_dense([[5, 3, 0, 1, 0], [4, 0, 0, 1, 2], [1, 1, 0, 5, 4]], scale=(1, 5))
    end = run_to_end(qtbot, ex, ex.train, request(small, steps=50, K=3))
    assert shape(panel.r_hat_model) == (3, 5)
    assert shape(panel.p_model) == (3, 3) and shape(panel.q_model) == (3, 5)
    f = end.shown.result.factors
    assert panel.r_hat_model.value(2, 4) == pytest.approx(float(f.P[2] @ f.Q[:, 4]))
    assert panel.p_model.value(1, 2) == f.P[1, 2]
    assert "to the scale 1 to 5" in panel.r_hat_caption.text()
    run_to_end(qtbot, ex, ex.train, request(steps=50))  # Example 1: 4 x 4, K = 2
    assert shape(panel.r_hat_model) == (4, 4) and shape(panel.p_model) == (4, 2) and shape(panel.q_model) == (2, 4)
    assert panel.r_hat_model.headerData(3, Qt.Orientation.Horizontal) == "Item 4"


def test_a_biased_model_fills_the_bias_tables_and_a_plain_one_clears_them(qtbot, setup):
    ex, panel = setup
    end = run_to_end(qtbot, ex, ex.train, request(solver="biased-sgd", steps=50))
    f = end.shown.result.factors
    assert panel.user_bias_model.rowCount() == 4 and panel.item_bias_model.rowCount() == 4
    assert panel.user_bias_model.value(2) == pytest.approx(float(f.user_bias[2]))
    assert panel.r_hat_caption.text().startswith("R-hat = μ + b_u + b_i + P·Q (global mean μ = ")
    assert panel.bias_caption.text().startswith("Global mean μ = ")
    run_to_end(qtbot, ex, ex.train, request(steps=50))
    assert panel.user_bias_model.rowCount() == 0 and panel.item_bias_model.rowCount() == 0
    assert panel.r_hat_caption.text().startswith("R-hat = P·Q")
    assert "This model has no biases" in panel.bias_caption.text()


def test_during_a_run_the_tables_show_the_latest_factors_and_the_lists_wait_for_the_end(qtbot, setup):
    ex, panel = setup
    r = synthetic_ratings(40, 30)
    seen: list[tuple] = []
    ex.progress.connect(lambda report: seen.append((panel.p_model.value(0, 0), report.snapshot.factors.P[0, 0],
                                                    shape(panel.r_hat_model), panel.recs_model.stale)))
    with qtbot.waitSignal(ex.progress, timeout=10_000):
        ex.train(request(r, steps=1_000_000_000))
    shown_p, report_p, r_hat_shape, recs_stale = seen[0]
    assert shown_p == report_p and r_hat_shape == (40, 30) and recs_stale
    with qtbot.waitSignal(ex.finished, timeout=10_000):
        ex.stop()
    assert not panel.recs_model.stale and panel.recs_model.rowCount() > 0
    assert panel.p_model.value(0, 0) == ex.result.factors.P[0, 0]


def test_a_new_random_start_shows_the_seeds_start(setup):
    ex, panel = setup
    ex.new_start(request(seed=4))
    ref = Training(load_example("example-1"), "sgd", {"seed": 4})
    assert panel.p_model.value(3, 1) == ref.factors.P[3, 1]
    assert panel.q_model.value(1, 3) == ref.factors.Q[1, 3]
    assert panel.recs_model.rowCount() > 0


def test_an_opened_result_without_lists_gets_its_recommendations_made(setup):
    ex, panel = setup
    r = load_example("example-1")
    t = Training(r, "sgd", {"steps": 30})
    t.run_to_end()
    ex.show_loaded(Shown(RunResult("sgd", dict(t.params), t.factors.copy(), t.history, t.step), r, NO_CELLS))
    assert shape(panel.r_hat_model) == (4, 4) and panel.p_model.value(0, 0) == t.factors.P[0, 0]
    assert panel.recs_model.rowCount() == 7  # Example 1 leaves 7 cells unrated, fewer than 5 per user
    assert "Every item with a training rating is a candidate (auto)." in panel.recs_caption.text()


def test_a_new_document_empties_every_table_and_resets_the_captions(qtbot, setup):
    ex, panel = setup
    run_to_end(qtbot, ex, ex.train, request(solver="biased-sgd", steps=30))
    ex.clear()
    assert all(m.rowCount() == 0 for m in models(panel))
    assert panel.r_hat_caption.text().startswith("R-hat = P·Q, clipped for display.")
    assert "candidate" not in panel.recs_caption.text()


def test_the_stale_banner_shows_after_the_data_changed_and_goes_with_the_next_run(qtbot, setup):
    ex, panel = setup
    ex.data_changed()  # nothing shown yet: nothing to be stale
    assert panel.stale_banner.isHidden()
    run_to_end(qtbot, ex, ex.train, request(steps=30))
    ex.data_changed()
    assert not panel.stale_banner.isHidden()
    assert all(m.stale for m in models(panel))
    run_to_end(qtbot, ex, ex.train, request(steps=30))
    assert panel.stale_banner.isHidden() and not any(m.stale for m in models(panel))


def test_the_recommendation_boxes_emit_their_settings_and_the_lists_follow(qtbot, setup):
    ex, panel = setup
    panel.recommendationSettingsChanged.connect(ex.set_recommendation_settings)
    run_to_end(qtbot, ex, ex.train, request(steps=50))
    assert panel.top_n.minimum() >= 1 and panel.min_ratings.value() == AUTO
    with qtbot.waitSignal(panel.recommendationSettingsChanged) as blocker:
        panel.top_n.setValue(1)
    assert blocker.args == [1, AUTO]
    recs = panel.recs_model.recommendations
    assert len(recs) == 4 and set(recs.rank.tolist()) == {1}  # one item for each of the 4 users
    with qtbot.waitSignal(panel.recommendationSettingsChanged) as blocker:
        panel.min_ratings.setValue(2)
    assert blocker.args == [1, 2]
    assert 0 not in panel.recs_model.recommendations.item.tolist()  # Item 1 has a single rating
    text = panel.recs_caption.text()
    assert "Items with fewer than 2 training ratings are left out." in text and "(auto)" not in text


@pytest.mark.parametrize("attribute,name", [("p_table", "P"), ("q_table", "Q"), ("r_hat_table", "R_hat"),
                                            ("recs_table", "recommendations"), ("user_bias_table", "user_bias"),
                                            ("item_bias_table", "item_bias")])
def test_each_tables_export_asks_for_its_own_table(qtbot, setup, attribute, name):
    _ex, panel = setup
    view = getattr(panel, attribute)
    with qtbot.waitSignal(panel.exportRequested) as blocker:
        view.action_export.trigger()
    assert blocker.args == [name]


def test_the_tables_messages_go_out_of_the_panel(qtbot, setup):
    _ex, panel = setup
    with qtbot.waitSignal(panel.statusMessage) as blocker:
        panel.p_table.copy_selection()  # nothing selected
    assert blocker.args == ["Select some cells first, then copy."]


def test_a_run_that_cannot_start_leaves_the_shown_lists_fresh(qtbot, setup):
    ex, panel = setup
    run_to_end(qtbot, ex, ex.train, request(steps=50))
    before = panel.recs_model.recommendations
    r = load_example("example-1")
    end = run_to_end(qtbot, ex, ex.train, request(r, steps=50, cells=all_cells(r)))  # every rating held out
    assert end.outcome.user_error and end.shown is None
    assert not ex.results_stale and panel.stale_banner.isHidden()
    assert panel.recs_model.recommendations is before
    assert not panel.recs_model.stale
