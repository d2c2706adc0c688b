"""The similar panel follows the selection and the experiment: its two lists are the core's compare() for the
selected item (or a cell's item) or user, on the training ratings; its scatter is every vector's length against
its number of ratings; no result, a new document and stale results are said so; a run refreshes it at a bounded
pace and only while it is visible."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from mfstudio.core import Training, load_example
from mfstudio.core.numbers import exact_text, table_text
from mfstudio.core.similar import ITEM, USER, compare, lengths
from mfstudio.gui.experiment import Experiment, Progress, RunStart
from mfstudio.gui.views.similar_panel import EMPTY_TEXT, NO_RESULT_TEXT, STALE_TEXT, TRAINING_TEXT, SimilarPanel
from mfstudio.gui.viewstate import Selection
from tests.gui.test_experiment import request, run_to_end

NO_CELLS = np.zeros((0, 2), np.int64)
EDIT, DISPLAY, TIP = Qt.ItemDataRole.EditRole, Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole


@pytest.fixture
def setup(qtbot):
    ex = Experiment()
    sel = Selection()
    panel = SimilarPanel(ex, sel)
    qtbot.addWidget(panel)
    panel.resize(900, 480)
    panel.show()
    yield ex, sel, panel
    panel.stop_timers()
    ex.shutdown()


def movie_night(qtbot, ex: Experiment, cells=NO_CELLS):
    return run_to_end(qtbot, ex, ex.train, request(load_example("movie-night"), solver="biased-sgd", steps=200,
                                                   cells=cells))


def column(model, col: int, role=DISPLAY) -> list:
    return [model.data(model.index(r, col), role) for r in range(model.rowCount())]


def rows(model) -> list[tuple[str, float]]:
    return list(zip(column(model, 1), column(model, 2, EDIT)))


def test_a_selected_item_lists_the_cores_nearest_by_cosine_and_by_dot_product(qtbot, setup):
    ex, sel, panel = setup
    end = movie_night(qtbot, ex)
    r, f = end.shown.ratings, end.shown.result.factors
    sel.select(item=1)
    c = compare(f, r.observed, ITEM, 1, 10)
    assert panel.heading.text() == "Items like Starfall" and r.items[1] == "Starfall"
    assert rows(panel.cosine_model) == c.cosine.rows(r) and rows(panel.dot_model) == c.dot.rows(r)
    assert c.cosine.rows(r) != c.dot.rows(r)  # the two measures disagree here: both lists are worth showing
    assert column(panel.cosine_model, 0) == list(range(1, 11))
    assert column(panel.dot_model, 3) == [int(c.lengths.ratings[k]) for k in c.dot.others]
    assert column(panel.cosine_model, 2) == [table_text(s, 3) for s in c.cosine.scores]
    assert exact_text(float(c.dot.scores[0])) in panel.dot_model.data(panel.dot_model.index(0, 2), TIP)
    assert panel.sentence.text() == c.sentence and not panel.sentence.isHidden()
    sel.select(4, 1)  # a cell: its item's neighbours
    assert panel.heading.text() == "Items like Starfall" and rows(panel.cosine_model) == c.cosine.rows(r)
    sel.select(4, 2)
    assert panel.heading.text() == f"Items like {r.items[2]}"
    assert rows(panel.dot_model) == compare(f, r.observed, ITEM, 2).dot.rows(r)


def test_a_selected_user_lists_the_nearest_users_and_top_sets_how_many(qtbot, setup):
    ex, sel, panel = setup
    end = movie_night(qtbot, ex)
    r, f = end.shown.ratings, end.shown.result.factors
    sel.select(user=0)
    assert panel.heading.text() == f"Users like {r.users[0]}" == "Users like Ana"
    c = compare(f, r.observed, USER, 0, 10)
    assert rows(panel.cosine_model) == c.cosine.rows(r) and rows(panel.dot_model) == c.dot.rows(r)
    assert panel.sentence.text() == c.sentence
    assert panel.top.objectName() == "similarTop" and panel.top.value() == 10
    panel.top.setValue(4)
    c4 = compare(f, r.observed, USER, 0, 4)
    assert panel.cosine_model.rowCount() == 4 and rows(panel.dot_model) == c4.dot.rows(r)
    assert {w.objectName() for w in (panel, panel.cosine_table, panel.dot_table, panel.sentence, panel.canvas)} == {
        "similarPanel", "similarCosine", "similarDot", "similarSentence", "similarScatter"}


def test_the_lists_and_counts_use_the_training_ratings_only(qtbot, setup):
    ex, sel, panel = setup
    r = load_example("movie-night")
    item_col = r.observed.cols == 1
    held = np.column_stack([r.observed.rows[item_col][:3], r.observed.cols[item_col][:3]]).astype(np.int64)
    end = movie_night(qtbot, ex, held)
    f = end.shown.result.factors
    train = r.split_cells(held).train
    sel.select(item=3)
    c = compare(f, train, ITEM, 3)
    assert rows(panel.cosine_model) == c.cosine.rows(r)
    assert panel.sentence.text() == c.sentence
    counts = panel.canvas.offsets()[:, 0]
    assert counts[1] == np.sum(item_col) - 3 and np.array_equal(counts, lengths(f, train, ITEM).ratings)


def test_the_scatter_shows_every_length_against_its_ratings(qtbot, setup):
    ex, sel, panel = setup
    end = movie_night(qtbot, ex)
    r, f = end.shown.ratings, end.shown.result.factors
    lens = lengths(f, r.observed, ITEM)
    assert np.array_equal(panel.canvas.offsets(), np.column_stack([lens.ratings, lens.length]))  # nothing selected
    sel.select(user=2)
    ulens = lengths(f, r.observed, USER)
    assert np.array_equal(panel.canvas.offsets(), np.column_stack([ulens.ratings, ulens.length]))
    ax = panel.canvas.ax
    assert ax.get_title() == f"Users: correlation {ulens.correlation:.2f}"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("ratings", "length of the taste vector")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["other users", "top by cosine", "top by dot product", r.users[2]]
    star = ax.collections[-1].get_offsets()
    assert np.array_equal(np.asarray(star), [[ulens.ratings[2], ulens.length[2]]])  # the selected one marked


def test_nothing_selected_no_result_a_new_document_and_stale_results(qtbot, setup):
    ex, sel, panel = setup
    assert panel.heading.text() == NO_RESULT_TEXT and panel.cosine_model.rowCount() == 0
    assert panel.canvas.points is None and panel.stale_banner.isHidden()
    sel.select(item=1)
    assert panel.heading.text() == NO_RESULT_TEXT and panel.comparison is None
    sel.clear()
    movie_night(qtbot, ex)
    assert panel.heading.text() == EMPTY_TEXT and panel.dot_model.rowCount() == 0 and panel.sentence.isHidden()
    sel.select(item=99)
    assert "outside the results" in panel.heading.text() and panel.comparison is None
    sel.select(item=1)
    assert panel.stale_banner.isHidden()
    ex.data_changed()
    assert not panel.stale_banner.isHidden() and panel.stale_banner.text() == STALE_TEXT
    assert panel.heading.text() == "Items like Starfall (old results)" and panel.cosine_model.rowCount() == 10
    ex.clear()
    assert panel.heading.text() == NO_RESULT_TEXT and panel.cosine_model.rowCount() == 0
    assert panel.canvas.points is None and panel.stale_banner.isHidden() and panel.comparison is None


def test_progress_refreshes_at_most_every_interval_and_only_while_visible(qtbot, setup, monkeypatch):
    ex, sel, panel = setup
    r = load_example("movie-night")
    t = Training(r, "sgd", {"steps": 1000})
    ex.started.emit(RunStart("sgd", t.params, r, NO_CELLS, 0.0, 1000, 0, None, True))
    assert panel.heading.text() == TRAINING_TEXT
    sel.select(item=1)
    refreshes: list[object] = []
    real = panel.refresh
    monkeypatch.setattr(panel, "refresh", lambda: (refreshes.append(panel._factors), real()))
    panel._timer.timeout.disconnect()
    panel._timer.timeout.connect(panel.refresh)
    snaps = []
    for _ in range(40):  # far more reports than the interval lets through
        t.solver.run(5, np.empty((5, 5)))
        snaps.append(t.current())
        ex.progress.emit(Progress(snaps[-1], np.zeros((0, 7))))
    assert refreshes == [] and panel._timer.isActive()
    qtbot.waitUntil(lambda: len(refreshes) == 1, timeout=2_000)
    assert refreshes[0] is snaps[-1].factors  # the latest report, once
    c = compare(snaps[-1].factors, r.observed, ITEM, 1)
    assert rows(panel.cosine_model) == c.cosine.rows(r)
    panel.hide()
    ex.progress.emit(Progress(t.current(), np.zeros((0, 7))))
    assert not panel._timer.isActive()  # behind another tab: nothing for this report
    panel.show()
    assert panel._timer.isActive()
    qtbot.waitUntil(lambda: len(refreshes) == 2, timeout=2_000)


def test_copy_puts_both_lists_on_the_clipboard_and_the_scatter_saves(qtbot, setup, tmp_path):
    ex, sel, panel = setup
    messages: list[str] = []
    panel.statusMessage.connect(messages.append)
    panel.copy()
    assert messages == ["Select an item or a user first, then copy its lists."]
    end = movie_night(qtbot, ex)
    sel.select(item=1)
    assert panel.action_copy in panel.cosine_table.actions() and panel.action_copy in panel.dot_table.actions()
    panel.action_copy.trigger()
    text = QGuiApplication.clipboard().text()
    c = panel.comparison
    assert text.startswith("Items like Starfall\n\n#\tName\tCosine\tRatings\n1\t")
    assert "#\tName\tDot product\tRatings\n" in text and c.sentence in text
    assert f"1\t{c.dot.rows(end.shown.ratings)[0][0]}\t{exact_text(float(c.dot.scores[0]))}\t" in text
    assert messages[-1] == "Copied the items like Starfall."
    path = panel.save_scatter(tmp_path / "scatter.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_new_start_a_single_update_and_results_already_shown_are_followed(qtbot, setup):
    ex, sel, panel = setup
    r = load_example("movie-night")
    req = request(r, solver="biased-sgd", steps=10)
    sel.select(item=1)
    ex.new_start(req)  # reset: the random start's neighbours
    f0 = ex.shown.result.factors
    assert rows(panel.cosine_model) == compare(f0, r.observed, ITEM, 1).cosine.rows(r)
    updated = ex.step_update(req)
    f1 = updated.shown.result.factors
    assert not np.array_equal(f1.Q, f0.Q) or not np.array_equal(f1.P, f0.P)
    assert rows(panel.dot_model) == compare(f1, r.observed, ITEM, 1).dot.rows(r)
    later = SimilarPanel(ex, sel)  # made after the result was shown, with an item already selected
    qtbot.addWidget(later)
    assert later.heading.text() == "Items like Starfall" and rows(later.dot_model) == rows(panel.dot_model)


def test_the_ratings_counted_are_the_training_ones_of_each_hold_out(qtbot, setup):
    """The counts are made once per data and hold-out: another hold-out of the same ratings counts again."""
    ex, sel, panel = setup
    r = load_example("movie-night")  # one ratings object: only the held-out cells differ between the runs
    o = r.observed
    sel.select(user=2)
    for cells in (np.stack([o.rows[::3], o.cols[::3]], axis=1), NO_CELLS, np.stack([o.rows[1::2], o.cols[1::2]], 1)):
        end = run_to_end(qtbot, ex, ex.train, request(r, solver="biased-sgd", steps=50, cells=cells))
        held = end.shown.held_out_cells
        train = r.split_cells(held).train if len(held) else o
        c = compare(end.shown.result.factors, train, USER, 2, 10)
        assert rows(panel.dot_model) == c.dot.rows(r) and panel.sentence.text() == c.sentence
        assert column(panel.dot_model, 3) == [int(np.sum(train.rows == u)) for u in c.dot.others]
        assert np.array_equal(panel.canvas.lengths.ratings, np.bincount(train.rows, minlength=r.n_users))


def test_the_scatter_moves_its_points_for_a_new_model_and_marks_a_new_selection(qtbot, setup):
    """The artists are made once per kind and selected one and moved after that; every point lies inside the
    limits, and a frame drawn in slices ends with the picture shown."""
    ex, sel, panel = setup
    r = load_example("movie-night")
    sel.select(item=1)
    end = run_to_end(qtbot, ex, ex.train, request(r, solver="biased-sgd", steps=30))
    canvas = panel.canvas
    points, marks = canvas.points, list(canvas._marks)
    end = run_to_end(qtbot, ex, ex.train, request(r, solver="biased-sgd", steps=30, seed=5))
    f = end.shown.result.factors
    c = compare(f, r.observed, ITEM, 1)
    xy = np.column_stack([c.lengths.ratings, c.lengths.length])
    assert canvas.points is points and canvas._marks == marks  # moved, not made again
    assert np.array_equal(canvas.offsets(), xy)
    for mark, which in zip(marks, (c.cosine.others, c.dot.others, [1])):
        assert np.array_equal(np.asarray(mark.get_offsets()), xy[which])
    (x0, x1), (y0, y1) = canvas.ax.get_xlim(), canvas.ax.get_ylim()
    assert x0 < xy[:, 0].min() and xy[:, 0].max() < x1 and y0 <= xy[:, 1].min() and xy[:, 1].max() < y1
    sel.select(item=4)  # another one: its own marks and legend
    assert canvas._marks != marks and [t.get_text() for t in canvas.ax.get_legend().get_texts()][-1] == r.items[4]
    qtbot.waitUntil(lambda: not canvas.slices.busy(), timeout=5_000)
    image = canvas.grab().toImage()
    assert image.width() > 100 and len({image.pixel(x, image.height() // 2) for x in range(image.width())}) > 2
