"""Result tables: models pass qtmodeltester, R-hat marks observed vs predicted, precision, copy."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QGuiApplication

from mfstudio.core import Factors, Ratings, load_example, recommend
from mfstudio.core.numbers import exact_text
from mfstudio.gui.views.results import (
    BiasModel,
    PModel,
    QModel,
    RecommendationsModel,
    ResultTableView,
    RHatModel,
    held_keys,
    selection_text,
)


@pytest.fixture
def ratings() -> Ratings:
    return load_example("example-1")


@pytest.fixture
def factors(ratings) -> Factors:
    rng = np.random.default_rng(0)
    return Factors(rng.random((ratings.n_users, 2)), rng.random((2, ratings.n_items)))


def test_models_pass_qtmodeltester(qtmodeltester, ratings, factors):
    p, q, r, recs = PModel(), QModel(), RHatModel(), RecommendationsModel()
    p.set_factors(ratings, factors)
    q.set_factors(ratings, factors)
    r.set_result(ratings, factors, np.array([[0, 1]]))
    recs.set_recommendations(ratings, recommend(ratings, factors, 2))
    for m in (p, q, r, recs):
        qtmodeltester.check(m, force_py=True)
    for m in (PModel(), RHatModel(), RecommendationsModel()):  # empty ones too
        qtmodeltester.check(m, force_py=True)


def test_shapes_and_headers(ratings, factors):
    p, q = PModel(), QModel()
    p.set_factors(ratings, factors)
    q.set_factors(ratings, factors)
    assert (p.rowCount(), p.columnCount()) == (4, 2)
    assert (q.rowCount(), q.columnCount()) == (2, 4)
    assert p.headerData(0, Qt.Orientation.Vertical) == "User 1"
    assert p.headerData(1, Qt.Orientation.Horizontal) == "k2"  # as in P.csv and Q.csv
    assert q.headerData(1, Qt.Orientation.Vertical) == "k2"
    assert "Latent feature 2 of K = 2" in p.headerData(1, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert q.headerData(3, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole) == "Item 4"
    assert q.headerData(3, Qt.Orientation.Horizontal) == "Item 4"
    assert p.data(p.index(0, 0)) == f"{factors.P[0, 0]:.3f}"


def test_refresh_is_one_data_changed_unless_the_shape_changes(qtbot, ratings, factors):
    m = RHatModel()
    m.set_result(ratings, factors)
    changed, resets = [], []
    m.dataChanged.connect(lambda a, b, roles=(): changed.append((a.row(), a.column(), b.row(), b.column())))
    m.modelReset.connect(lambda: resets.append(1))
    m.set_factors(ratings, factors.copy())
    assert changed == [(0, 0, 3, 3)] and resets == []
    bigger = Factors(np.ones((4, 3)), np.ones((3, 4)))
    p = PModel()
    p.set_factors(ratings, factors)
    p.modelReset.connect(lambda: resets.append(2))
    p.set_factors(ratings, bigger)  # K changed: a reset
    assert resets == [2] and p.columnCount() == 3


def test_r_hat_shows_observed_and_predicted_cells_differently(ratings, factors):
    m = RHatModel()
    m.set_result(ratings, factors, np.array([[3, 3]]))
    R_hat = factors.P @ factors.Q
    observed, unrated, held = m.index(0, 1), m.index(0, 0), m.index(3, 3)  # R[0,1] = 4.5, R[0,0] not rated
    lo, hi = ratings.scale
    assert m.data(observed) == f"{min(max(R_hat[0, 1], lo), hi):.2f}"  # clipped for display
    assert m.data(observed, Qt.ItemDataRole.FontRole) is None
    assert m.data(unrated, Qt.ItemDataRole.FontRole).italic()
    assert m.data(unrated, Qt.ItemDataRole.BackgroundRole) is not None
    assert m.data(observed, Qt.ItemDataRole.BackgroundRole) is None
    assert m.data(held, Qt.ItemDataRole.BackgroundRole) != m.data(unrated, Qt.ItemDataRole.BackgroundRole)
    tip = m.data(observed, Qt.ItemDataRole.ToolTipRole)
    assert "actual rating 4.5" in tip and f"the model's value {exact_text(R_hat[0, 1])}" in tip
    assert "clipped to the scale 1 to 5" in tip
    assert "not rated" in m.data(unrated, Qt.ItemDataRole.ToolTipRole)
    assert "held out" in m.data(held, Qt.ItemDataRole.ToolTipRole)
    assert m.data(observed, Qt.ItemDataRole.EditRole) == pytest.approx(R_hat[0, 1])


def test_r_hat_includes_biases(ratings):
    f = Factors(np.zeros((4, 1)), np.zeros((1, 4)), np.arange(4.0), np.zeros(4), 3.0)
    m = RHatModel()
    m.set_result(ratings, f)
    assert m.data(m.index(2, 1), Qt.ItemDataRole.EditRole) == pytest.approx(5.0)


def test_recommendations_rows(ratings, factors):
    recs = recommend(ratings, factors, 2)
    m = RecommendationsModel()
    m.set_recommendations(ratings, recs)
    assert m.rowCount() == len(recs)
    first = [m.data(m.index(0, c)) for c in range(5)]
    assert first[0] == "User 1" and first[1] == "1" and first[2] in ratings.items
    assert first[3] == f"{recs.predicted[0]:.2f}"
    assert first[4] == str(int(np.count_nonzero(ratings.observed.cols == recs.item[0])))
    assert m.headerData(3, Qt.Orientation.Horizontal) == "Predicted rating"
    assert m.headerData(4, Qt.Orientation.Horizontal) == "Ratings"
    assert exact_text(recs.score[0]) in m.data(m.index(0, 3), Qt.ItemDataRole.ToolTipRole)


def test_recommendations_of_counts_speak_of_scores_and_interactions(qtmodeltester):
    listening = load_example("listening")
    assert listening.implicit
    rng = np.random.default_rng(1)
    f = Factors(rng.random((listening.n_users, 2)) / 2, rng.random((2, listening.n_items)) / 2)
    m = RecommendationsModel()
    m.set_recommendations(listening, recommend(listening, f, 2))
    qtmodeltester.check(m)
    heads = [m.headerData(c, Qt.Orientation.Horizontal) for c in range(5)]
    assert heads == ["User", "Rank", "Item", "Score", "Interactions"]
    assert "interactions" in m.headerData(4, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    tip = m.data(m.index(0, 3), Qt.ItemDataRole.ToolTipRole)
    assert "no interaction with" in tip and "rated" not in tip and "rating" not in tip

def test_r_hat_and_recommendations_show_the_same_prediction_the_same_way(ratings):
    f = Factors(np.full((4, 1), 2.0), np.full((1, 4), 2.9))  # every prediction 5.8: above the scale
    m = RHatModel()
    m.set_result(ratings, f)
    recs = RecommendationsModel()
    rec = recommend(ratings, f, 1)
    recs.set_recommendations(ratings, rec)
    u, i = int(rec.user[0]), int(rec.item[0])
    assert m.data(m.index(u, i)) == recs.data(recs.index(0, 3)) == "5.00"
    assert "5.8" in m.data(m.index(u, i), Qt.ItemDataRole.ToolTipRole)
    assert "5.8" in recs.data(recs.index(0, 3), Qt.ItemDataRole.ToolTipRole)


def test_bias_model_has_bias_in_its_header(qtmodeltester, ratings):
    m = BiasModel()
    m.set_biases(ratings.items, np.array([0.5, -0.25, 0.0, 1e-20]), "Item bias b_i", "Item")
    qtmodeltester.check(m, force_py=True)
    assert m.headerData(0, Qt.Orientation.Horizontal) == "Item"
    assert "bias" in m.headerData(1, Qt.Orientation.Horizontal)
    assert m.data(m.index(1, 0)) == ratings.items[1]
    assert [m.data(m.index(r, 1)) for r in range(4)] == ["0.500", "-0.250", "0.000", "0.000"]
    assert "lower than the mean" in m.data(m.index(1, 1), Qt.ItemDataRole.ToolTipRole)


def test_copy_selection_as_tab_separated_text(qtbot, ratings, factors):
    view = ResultTableView("pTable", "P")
    qtbot.addWidget(view)
    m = PModel()
    m.set_factors(ratings, factors)
    view.setModel(m)
    sel = view.selectionModel()
    flag = QItemSelectionModel.SelectionFlag.Select
    sel.select(m.index(0, 0), flag)
    sel.select(m.index(1, 1), flag)
    text = selection_text(view)
    assert text == f"{exact_text(factors.P[0, 0])}\t\n\t{exact_text(factors.P[1, 1])}"
    messages = []
    view.statusMessage.connect(messages.append)
    view.copy_selection()
    assert QGuiApplication.clipboard().text() == text
    assert messages == ["Copied 2 cells as tab-separated text."]


def test_stale_results_are_greyed(ratings, factors):
    m = PModel()
    m.set_factors(ratings, factors)
    assert m.data(m.index(0, 0), Qt.ItemDataRole.ForegroundRole) is None
    m.set_stale(True)
    assert m.data(m.index(0, 0), Qt.ItemDataRole.ForegroundRole) is not None


def test_r_hat_of_counts_clips_preferences_to_0_to_1_not_to_the_count_scale():
    ratings = load_example("listening")
    factors = Factors(np.full((ratings.n_users, 1), 2.0), np.full((1, ratings.n_items), 1.0))  # predicts 2 everywhere
    r = RHatModel()
    r.set_result(ratings, factors, None)
    assert r.value(0, 0) == 2.0 and r.shown(0, 0) == 1.0  # the count scale 0 to 125 would show 2
    vals, held = r._obs_row(0)
    assert "clipped to the scale 0 to 1" in r.tooltip(0, 0, vals, held)


def test_r_hat_texts_follow_each_refresh(ratings, factors):
    m = RHatModel()
    m.set_result(ratings, factors)
    first = m.data(m.index(0, 1))
    assert first == m.data(m.index(0, 1))  # made once, the same after
    m.set_factors(ratings, Factors(factors.P * 0 + 0.5, factors.Q * 0 + 2.0))
    assert m.data(m.index(0, 1)) == "2.00"  # 0.5 * 2 over K = 2 features
    m.set_factors(ratings, factors)
    assert m.data(m.index(0, 1)) == first


def test_biases_of_the_same_labels_refresh_their_numbers_without_a_reset(qtbot, ratings):
    m = BiasModel()
    m.set_biases(ratings.users, np.zeros(ratings.n_users), "User bias b_u", "User")
    with qtbot.assertNotEmitted(m.modelReset), qtbot.waitSignal(m.dataChanged, timeout=1000):
        m.set_biases(ratings.users, np.full(ratings.n_users, 0.25), "User bias b_u", "User")
    assert m.data(m.index(0, 1)) == "0.250" and m.data(m.index(0, 0)) == ratings.users[0]
    with qtbot.waitSignal(m.modelReset, timeout=1000):  # other labels: a new table
        m.set_biases(ratings.items, np.zeros(ratings.n_items), "Item bias b_i", "Item")
    assert m.rowCount() == ratings.n_items


@pytest.mark.parametrize("order", ["row-major", "shuffled", "repeated"])
def test_held_keys_are_the_sorted_unique_keys_of_the_cells(order):
    rng = np.random.default_rng(1)
    cells = np.unique(rng.integers(0, 40, (300, 2)), axis=0)  # row-major
    if order == "shuffled":
        cells = cells[rng.permutation(len(cells))]
    elif order == "repeated":
        cells = np.concatenate([cells, cells[:20]])
    np.testing.assert_array_equal(held_keys(cells, 40), np.unique(cells[:, 0] * 40 + cells[:, 1]))
    assert held_keys(np.zeros((0, 2), np.int64), 40).size == 0


def test_r_hat_marks_the_held_out_cells_of_each_result(ratings, factors):
    """The hold-out marks follow the cells given with each result: the same cells again (a copy or the same
    array), other cells, a changed array, none."""
    m = RHatModel()
    cells = np.array([[3, 3], [0, 1]])
    m.set_result(ratings, factors, cells)
    assert m.held_out(3, 3) and m.held_out(0, 1) and not m.held_out(1, 1)
    m.set_result(ratings, factors, cells.copy())
    assert m.held_out(3, 3) and m.held_out(0, 1)
    cells[1] = [1, 1]  # the caller's array changed after it was shown
    m.set_result(ratings, factors, cells)
    assert m.held_out(1, 1) and not m.held_out(0, 1)
    m.set_result(ratings, factors, np.array([[1, 1], [0, 1]]))  # not in row-major order
    assert m.held_out(1, 1) and m.held_out(0, 1) and not m.held_out(3, 3)
    m.set_result(ratings, factors, None)
    assert not m.held_out(1, 1) and not m.held_out(0, 1)
