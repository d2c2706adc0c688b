"""What the window's results say is true: biases and the real formula, recommendations that make sense,
even precision, results as unsaved work (and in the recovery file), the "0 means not rated" switch."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from mfstudio import io as mio
from mfstudio.core import Ratings, load_example
from mfstudio.gui import MainWindow
from tests.gui.test_window import find, train


def _train(qtbot, w: MainWindow, solver: str, **params) -> None:
    w.controls.set_solver(solver, params)
    assert train(qtbot, w) in ("budget", "tolerance")


def test_biased_sgd_shows_its_biases_and_formula(qtbot, window):
    _train(qtbot, window, "biased-sgd", steps=50)
    f = window.result.factors
    ut, it = find(window, "userBiasTable"), find(window, "itemBiasTable")
    um, im = ut.model(), it.model()
    assert "bias" in um.headerData(1, Qt.Orientation.Horizontal)
    assert "bias" in im.headerData(1, Qt.Orientation.Horizontal)
    assert um.rowCount() == 4 and im.rowCount() == 4
    assert um.data(um.index(1, 1), Qt.ItemDataRole.EditRole) == pytest.approx(f.user_bias[1])
    assert im.data(im.index(2, 0)) == window.grid_ratings().items[2]
    caption = find(window, "rHatCaption").text()
    assert "μ + b_u + b_i + P·Q" in caption and f"{f.global_mean:.3g}"[:3] in caption
    assert "μ =" in find(window, "biasCaption").text()
    # the R-hat table holds the whole formula, not P·Q alone
    m = window.r_hat_model
    full = f.global_mean + f.user_bias[:, None] + f.item_bias[None, :] + f.P @ f.Q
    assert m.data(m.index(0, 0), Qt.ItemDataRole.EditRole) == pytest.approx(full[0, 0])


def test_plain_sgd_says_r_hat_is_p_times_q_and_has_no_biases(qtbot, window):
    _train(qtbot, window, "sgd", steps=200)
    assert find(window, "rHatCaption").text().startswith("R-hat = P·Q")
    assert find(window, "userBiasTable").model().rowCount() == 0
    assert "no biases" in find(window, "biasCaption").text()


def test_recommendations_follow_the_min_ratings_box_and_show_counts(qtbot, window):
    window.load_ratings(load_example("movie-night"), title="Movie night")
    _train(qtbot, window, "biased-sgd", steps=50)
    recs = window.recs_model.recommendations
    assert recs is not None and len(recs) > 0
    box = find(window, "minRatings")
    assert box.value() == 0 and box.text() == "Min ratings: auto"
    box.setValue(8)
    recs = window.recs_model.recommendations
    assert recs.min_ratings == 8 and np.all(recs.item_ratings >= 8)
    assert "fewer than 8 training ratings" in find(window, "recommendationsCaption").text()
    m = window.recs_model
    assert m.headerData(4, Qt.Orientation.Horizontal) == "Ratings"
    assert m.data(m.index(0, 4)) == str(int(recs.item_ratings[0]))


def test_held_out_items_are_recommended(qtbot, window):
    r = window.grid_ratings()
    window.grid_model.replace_held_out(np.array([[0, 1]]))  # User 1's rating of Item 2 (4.5) held out
    _train(qtbot, window, "sgd", steps=200)
    recs = window.recs_model.recommendations
    assert 1 in recs.item[recs.user == 0]
    assert r.nnz == 9


def test_trained_results_are_unsaved_work(qtbot, window, monkeypatch):
    assert not window.isWindowModified()
    _train(qtbot, window, "sgd", steps=100)
    assert window.isWindowModified() and window.is_modified()
    asked: list[str] = []

    def question(parent, title, text, *a, **k):
        asked.append(text)
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", question)
    assert window.document.open_example_asking("example-2") is False  # Cancel keeps the results
    assert asked and window.result is not None


def test_recovery_brings_back_the_results(qtbot, window, tmp_path):
    _train(qtbot, window, "als", steps=5)
    assert window.autosaver.save_now()
    session = mio.load(window.autosaver.path).session
    assert session.result is not None and session.result.solver == "als"
    np.testing.assert_array_equal(session.result.factors.P, window.result.factors.P)


def test_zero_rule_switch_is_shown_saved_and_undoable(qtbot, window, tmp_path):
    box = find(window, "zeroMeansNotRated")
    assert box.isChecked() and box.isVisible()
    box.setChecked(False)
    assert not window.grid_model.zeros_are_missing and window.isWindowModified()
    path = tmp_path / "s.mfstudio"
    assert window.document.save_to(path)
    assert mio.load(path).session.zeros_are_missing is False
    window.grid_model.undo_stack.undo()
    assert box.isChecked()
    window.open_path(path)
    assert not box.isChecked()


def test_a_triples_file_listing_zeros_switches_the_rule_off(qtbot, window, tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("user,item,rating\na,x,0\na,y,1\nb,x,1\n")
    assert window.open_path(p)
    assert window.grid_ratings().nnz == 3 and not find(window, "zeroMeansNotRated").isChecked()


def test_a_matrix_file_and_a_paste_read_zeros_the_same_way(qtbot, window, tmp_path):
    p = tmp_path / "m.csv"
    p.write_text(",A,B,C,D\nu1,0,4.5,2.0,0\nu2,4,0,3.5,0\nu3,0,5,0,2\nu4,0,3.5,4.0,1.0\n")
    assert window.open_path(p)
    from_file = window.grid_ratings()
    window.new_grid(4, 4)
    window.grid.setCurrentIndex(window.grid_model.index(0, 0))
    window.grid.paste_text("0\t4.5\t2.0\t0\n4\t0\t3.5\t0\n0\t5\t0\t2\n0\t3.5\t4.0\t1.0\n")
    pasted = window.grid_ratings()
    assert pasted.nnz == from_file.nnz == 9
    np.testing.assert_array_equal(pasted.observed.vals, from_file.observed.vals)


def test_hold_out_of_a_users_only_rating_warns_and_falls_back(qtbot, window):
    window.load_ratings(Ratings.from_dense([[5, 3, 0, 1], [4, 0, 0, 1], [1, 1, 0, 5], [0, 1, 5, 4]]))
    window.grid_model.replace_held_out(np.array([[1, 0], [1, 3]]))  # all of User 2's ratings
    assert "1 user has every rating held out" in window.grid_panel.info.text()
    _train(qtbot, window, "sgd", steps=100)
    m = window.r_hat_model
    tip = m.data(m.index(1, 1), Qt.ItemDataRole.ToolTipRole)
    assert "no training ratings" in tip and "fallback" in tip
    train_vals = [5, 3, 1, 1, 1, 5, 1, 5, 4]
    assert m.data(m.index(1, 1), Qt.ItemDataRole.EditRole) == pytest.approx(np.mean(train_vals))


def test_the_next_file_opened_starts_with_zero_means_not_rated_again(qtbot, window, tmp_path):
    tri = tmp_path / "t.csv"
    tri.write_text("user,item,rating\na,x,0\na,y,1\nb,x,1\n")
    mat = tmp_path / "m.csv"
    mat.write_text(",A,B,C,D\nu1,0,4.5,2.0,0\nu2,4,0,3.5,0\nu3,0,5,0,2\nu4,0,3.5,4.0,1.0\n")
    assert window.open_path(tri) and not find(window, "zeroMeansNotRated").isChecked()
    assert window.open_path(mat)
    # as `mfstudio train` reads it
    assert find(window, "zeroMeansNotRated").isChecked() and window.grid_ratings().nnz == 9


def test_item_biases_stay_readable_with_long_titles(qtbot, window):
    titles = [f"A Very Long Film Title Number {j} (1995) (movie {j})" for j in range(6)]
    r = Ratings.from_dense(np.array([[5, 3, 0, 1, 4, 2], [4, 0, 0, 1, 3, 5], [1, 1, 5, 4, 2, 3]], float), items=titles)
    window.load_ratings(r)
    window.resize(1000, 700)
    _train(qtbot, window, "biased-sgd", steps=20)
    window.tabs.setCurrentIndex(window.tabs.indexOf(find(window, "itemBiasTable").parentWidget()))
    qtbot.wait(50)
    t = find(window, "itemBiasTable")
    assert t.isVisible() and t.columnWidth(1) >= 80
    assert t.columnViewportPosition(1) + t.columnWidth(1) <= t.viewport().width() + 1  # the numbers are in view


def test_fallback_recommendations_are_marked(qtbot, window):
    window.load_ratings(Ratings.from_dense([[5, 3, 0, 1], [4, 0, 0, 1], [1, 1, 0, 5], [0, 1, 5, 4]]))
    window.grid_model.replace_held_out(np.array([[1, 0], [1, 3]]))  # all of User 2's ratings
    _train(qtbot, window, "biased-sgd", steps=20)
    m = window.recs_model
    rows = [r for r in range(m.rowCount()) if m.data(m.index(r, 0)) == "User 2"]
    assert rows
    assert "fallback" in m.data(m.index(rows[0], 3), Qt.ItemDataRole.ToolTipRole)
    assert m.data(m.index(rows[0], 2), Qt.ItemDataRole.FontRole).italic()
    others = [r for r in range(m.rowCount()) if m.data(m.index(r, 0)) != "User 2"]
    assert "fallback" not in m.data(m.index(others[0], 3), Qt.ItemDataRole.ToolTipRole)
    assert "the mean rating plus the known bias" in find(window, "rHatCaption").text()


def test_lists_made_again_from_stale_results_stay_grey(qtbot, window):
    """Changing Top-N after an edit lists the old model's items again: still marked stale, like the banner."""
    find(window, "param_steps").setValue(200)
    assert train(qtbot, window) == "budget"
    m = window.grid_model
    assert m.setData(m.index(0, 0), "3")  # the results are now stale
    assert window.stale_banner.isVisibleTo(window) and window.recs_model.stale
    window.top_n.setValue(3)
    assert window.recs_model.stale


def test_pause_right_after_train_shows_nothing_of_the_last_run(qtbot, window, big_ratings):
    find(window, "param_steps").setValue(300)
    assert train(qtbot, window) == "budget"
    assert window.run_status.text().startswith("Step 300 of 300")
    window.load_ratings(big_ratings, title="big")
    find(window, "param_steps").setValue(1_000_000_000)
    with qtbot.waitSignal(window.trainingFinished, timeout=20_000):
        window.train()
        window.toggle_pause()  # before the new run has reported anything
        assert "300" not in window.run_status.text()
        window.stop()


def test_r_hat_follows_the_ladder_and_the_tables_share_one_selection(qtbot, window):
    from mfstudio.core.ladder import Parts

    window.controls.set_solver("biased-sgd")
    find(window, "param_steps").setValue(100)
    assert train(qtbot, window) == "budget"
    window.grid.setCurrentIndex(window.grid_model.index(1, 2))
    assert window.selection.current.cell == (1, 2)
    assert window.results.r_hat_table.currentIndex().row() == 1  # the grid's cell is R-hat's too
    f = window.result.factors
    full = window.r_hat_model.value(1, 2)
    window.parts.set_parts(Parts(factors=0))  # biases only
    assert window.r_hat_model.value(1, 2) == pytest.approx(f.global_mean + f.user_bias[1] + f.item_bias[2])
    assert "Model ladder" in window.results.r_hat_caption.text()
    window.parts.set_parts(Parts())
    assert window.r_hat_model.value(1, 2) == full and window.result.factors is f  # the model itself never changed
    window.results.p_table.setCurrentIndex(window.p_model.index(3, 0))
    assert window.selection.current.user == 3 and window.selection.current.item is None


def test_a_hold_out_shows_the_ranking_metrics_with_the_threshold_set_beside_it(qtbot, window):
    from mfstudio.core.ranking import metric_names

    box = find(window, "relevanceThreshold")
    window.load_ratings(load_example("movie-night"), title="Movie night")
    assert not box.isEnabled() and window.controls.relevance() is None  # nothing held out: no ranking metrics
    window.controls.holdout_box.setValue(30)
    assert box.isEnabled()
    window.controls.set_relevance(3.0)
    _train(qtbot, window, "biased-sgd", steps=60)
    text = find(window, "runStatus").text()
    ranking = window.result.ranking
    assert set(ranking) == set(metric_names(10)) and window.result.relevant_from == 3.0
    assert f"top 10: precision {ranking['precision@10']:.3f}, recall " in text
    assert "NDCG@k" in find(window, "runStatus").toolTip()
    assert window.current_session().relevance == 3.0
    window.controls.holdout_box.setValue(0)
    assert not box.isEnabled()
