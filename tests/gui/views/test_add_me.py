"""The Add me panel: predictions hidden until shown, then the fold-in's top-N at every rating; the fallback said
with no rating; refused ratings said so; no result disables it with a sentence; a new result folds the same
ratings in again; Keep me becomes one undoable grid row in the window."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtCore import Qt

from mfstudio.core.examples import load_example
from mfstudio.core.foldin import fold_in
from mfstudio.gui.experiment import Experiment
from mfstudio.gui.newcomer import Newcomer
from mfstudio.gui.views.add_me import (
    COUNTS_INTRO_TEXT,
    DIVERGED_TEXT,
    HIDDEN_TEXT,
    INTRO_TEXT,
    NO_RESULT_TEXT,
    STALE_TEXT,
    AddMePanel,
)
from tests.gui.test_experiment import request, run_to_end

NO_CELLS = np.zeros((0, 2), np.int64)


@pytest.fixture
def setup(qtbot):
    ex = Experiment()
    nc = Newcomer()
    panel = AddMePanel(ex, nc)
    qtbot.addWidget(panel)
    panel.resize(420, 720)
    panel.show()
    yield ex, nc, panel
    ex.shutdown()


def movie_night(qtbot, ex: Experiment, cells=NO_CELLS, seed: int = 0):
    return run_to_end(qtbot, ex, ex.train, request(load_example("movie-night"), steps=300, solver="biased-sgd",
                                                   cells=cells, seed=seed))


def expected(ex: Experiment, given):
    s = ex.shown
    train = s.ratings.split_cells(s.held_out_cells).train if len(s.held_out_cells) else s.ratings.observed
    f = fold_in(s.ratings, s.result.factors, train, s.result.solver, s.result.params, given)
    return f, f.recommendations(ex.top_n, min_ratings=ex.min_ratings)


def table_rows(panel: AddMePanel) -> list[list[str]]:
    t = panel.table
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def shown_numbers(panel: AddMePanel) -> list[str]:
    """Every number-like text the panel shows outside the item list and the ratings given (the counts)."""
    texts = [panel.note.text(), panel.sentence.text(), panel.message.text()]
    if panel.table.isVisible():
        texts += [x for row in table_rows(panel) for x in row]
    return [t for t in texts if re.search(r"\d\.\d", t)]


def test_with_no_result_the_panel_says_to_train_first_and_is_disabled(setup):
    _ex, nc, panel = setup
    assert panel.sentence.text() == NO_RESULT_TEXT
    for w in (panel.name, panel.search, panel.items, panel.rating, panel.rate_button, panel.reveal, panel.keep):
        assert not w.isEnabled()
    assert panel.items.count() == 0 and nc.person is None


def test_items_are_listed_most_rated_first_and_the_search_filters_them(qtbot, setup):
    ex, _nc, panel = setup
    movie_night(qtbot, ex)
    r = ex.shown.ratings
    counts = np.bincount(r.observed.cols, minlength=r.n_items)
    shown = panel.visible_items()
    assert sorted(shown) == list(range(r.n_items)) and list(counts[shown]) == sorted(counts, reverse=True)
    first = panel.items.text(0)
    assert first == f"{r.items[shown[0]]}  ({counts[shown[0]]} ratings)"
    qtbot.keyClicks(panel.search, "night")
    assert [r.items[i] for i in panel.visible_items()] == [t for t in (r.items[i] for i in shown) if "night" in
                                                           t.lower()]
    assert panel.rating.minimum() == 1.0 and panel.rating.maximum() == 5.0


def test_counts_of_events_ask_for_your_count_and_list_interactions(qtbot, setup):
    ex, _nc, panel = setup
    run_to_end(qtbot, ex, ex.train, request(load_example("listening"), steps=3, solver="implicit-als"))
    r = ex.shown.ratings
    counts = np.bincount(r.observed.cols, minlength=r.n_items)
    first = panel.items.text(0)
    n = int(counts[panel.visible_items()[0]])
    assert first.endswith(f"({n:,} interaction{'s' if n != 1 else ''})")
    assert panel.rating_label.text() == "Your &count:" and panel.given_label.text() == "Your counts:"
    assert panel.rating.accessibleName() == "Your count"
    assert panel.sentence.text() == COUNTS_INTRO_TEXT  # not "rate them"
    movie_night(qtbot, ex)  # ratings again: the ratings' words come back
    assert panel.rating_label.text() == "Your &rating:" and panel.items.text(0).endswith("ratings)")
    assert panel.sentence.text() == INTRO_TEXT


def test_predictions_stay_hidden_until_shown_then_equal_the_fold_in_at_every_rating(qtbot, setup):
    ex, nc, panel = setup
    movie_night(qtbot, ex)
    panel.name.setText("Ada")
    r = ex.shown.ratings
    order = panel.visible_items()
    given = [(order[0], 5.0), (order[3], 2.0)]
    for item, v in given:
        assert panel.choose(item)
        panel.rating.setValue(v)
        qtbot.mouseClick(panel.rate_button, Qt.MouseButton.LeftButton)
    assert [panel.given.item(i).text() for i in range(panel.given.count())] == [f"{r.items[i]}: {v:g}"
                                                                              for i, v in given]
    assert given[0][0] not in panel.visible_items()  # a rated item leaves the list: it cannot be rated twice
    assert not panel.table.isVisible() and panel.note.text() == HIDDEN_TEXT and nc.person is None
    assert shown_numbers(panel) == []
    qtbot.mouseClick(panel.reveal, Qt.MouseButton.LeftButton)
    f, ranking = expected(ex, given)
    assert panel.table.isVisible() and len(ranking) == ex.top_n
    assert table_rows(panel) == [[label, f"{p:.2f}", f"{s:.3f}", str(c)] for _k, label, p, s, c in ranking.rows(r)]
    assert nc.person.name == "Ada" and np.array_equal(nc.person.p, f.p) and nc.person.bias == f.user_bias
    # one more rating: the list and the point follow at once
    third = panel.visible_items()[0]
    assert panel.rate(third, 4.0)
    f, ranking = expected(ex, [*given, (third, 4.0)])
    assert [row[0] for row in table_rows(panel)] == [r.items[i] for i in ranking.item]
    assert np.array_equal(nc.person.p, f.p)
    # taking a rating back follows too
    panel.given.setCurrentRow(0)
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    f, ranking = expected(ex, [given[1], (third, 4.0)])
    assert [row[0] for row in table_rows(panel)] == [r.items[i] for i in ranking.item]
    assert given[0][0] in panel.visible_items()


def test_with_no_rating_the_average_is_shown_and_said_so(qtbot, setup):
    ex, nc, panel = setup
    movie_night(qtbot, ex)
    panel.reveal.setChecked(True)
    f, ranking = expected(ex, [])
    assert f.fallback and panel.note.text().startswith("With no rating yet, you get the average")
    assert "plus each item's bias" in panel.note.text()
    assert [row[0] for row in table_rows(panel)] == [ex.shown.ratings.items[i] for i in ranking.item]
    assert np.array_equal(nc.person.p, np.zeros(f.p.shape)) and nc.person.name == "You"


def test_off_scale_and_second_ratings_are_refused_with_a_sentence(qtbot, setup):
    ex, _nc, panel = setup
    movie_night(qtbot, ex)
    label = ex.shown.ratings.items[2]
    assert not panel.rate(2, 7.0)
    assert "off the rating scale 1 to 5" in panel.message.text() and panel.given_pairs() == []
    assert panel.rate(2, 3.0) and panel.message.text() == ""
    assert not panel.rate(2, 4.0)
    assert panel.message.text() == f"{label} is rated twice (3 and 4); give one rating per item."
    assert panel.given_pairs() == [(2, 3.0)]


def test_a_new_result_folds_the_same_ratings_in_again_and_a_new_document_empties(qtbot, setup):
    ex, nc, panel = setup
    movie_night(qtbot, ex)
    assert panel.rate(0, 5.0) and panel.rate(4, 1.0)
    panel.reveal.setChecked(True)
    before = panel.fold.p.copy()
    with qtbot.waitSignal(nc.changed):
        movie_night(qtbot, ex, seed=7)
    f, ranking = expected(ex, [(0, 5.0), (4, 1.0)])
    assert np.array_equal(panel.fold.p, f.p) and not np.array_equal(f.p, before)
    assert [row[0] for row in table_rows(panel)] == [ex.shown.ratings.items[i] for i in ranking.item]
    ex.data_changed()
    assert panel.sentence.text() == STALE_TEXT and not panel.items.isEnabled() and nc.person is None
    ex.clear()
    assert panel.sentence.text() == NO_RESULT_TEXT and panel.given_pairs() == [] and panel.items.count() == 0


def test_a_diverged_result_disables_the_panel(qtbot, setup):
    ex, _nc, panel = setup
    end = movie_night(qtbot, ex)
    bad = end.shown.result.factors.copy()
    bad.P[0, 0] = np.nan
    import dataclasses

    ex.show_loaded(dataclasses.replace(end.shown, result=dataclasses.replace(end.shown.result, factors=bad)))
    assert panel.sentence.text() == DIVERGED_TEXT and not panel.rate_button.isEnabled()


def test_keep_me_adds_one_undoable_row_and_compares_with_the_retrained_one(qtbot, window):
    from tests.gui.test_window import train

    window.open_example("movie-night")
    window.controls.set_solver("biased-sgd", {"steps": 300})
    assert train(qtbot, window) in ("budget", "tolerance")
    nc = Newcomer()
    panel = AddMePanel(window.experiment, nc)
    qtbot.addWidget(panel)
    panel.keepRequested.connect(window.grid_model.add_user_with_ratings)
    users = window.grid_model.shape[0]
    taken = window.grid_model.users[0]
    assert panel.rate(1, 4.0) and panel.rate(6, 2.0)
    panel.name.setText(taken)
    qtbot.mouseClick(panel.keep, Qt.MouseButton.LeftButton)
    assert f"already a user named {taken}" in panel.message.text() and window.grid_model.shape[0] == users
    panel.name.setText("Ada")
    kept_p = panel.fold.p.copy()
    with qtbot.waitSignal(panel.keepRequested) as asked:
        qtbot.mouseClick(panel.keep, Qt.MouseButton.LeftButton)
    assert asked.args == ["Ada", [(1, 4.0), (6, 2.0)]]
    m = window.grid_model
    assert m.shape[0] == users + 1 and m.users[-1] == "Ada" and m.value(users, 1) == 4.0 and m.value(users, 6) == 2.0
    assert window.experiment.results_stale and panel.sentence.text() == STALE_TEXT
    assert "train again to see how close" in panel.compare.text()
    assert train(qtbot, window) in ("budget", "tolerance")
    P = window.experiment.shown.result.factors.P
    dist = float(np.linalg.norm(kept_p - P[users]))
    assert panel.compare.text().startswith("Your folded-in tastes and the retrained ones: distance ")
    shown = float(re.search(r"distance ([0-9.]+)", panel.compare.text()).group(1))  # 3 significant digits
    assert abs(shown - dist) <= 0.006 * max(dist, 1.0) and "on average" in panel.compare.text()
    m.undo_stack.undo()
    assert m.shape[0] == users and "Ada" not in m.users


def test_keep_me_refuses_a_name_taken_in_any_case_and_keeps_the_person_when_the_grid_refuses(qtbot, setup):
    ex, _nc, panel = setup
    movie_night(qtbot, ex)
    assert panel.rate(2, 3.0) and panel.rate(4, 5.0)
    taken = ex.shown.ratings.users[0]
    panel.name.setText(taken.lower())
    assert not panel.keep_me() and f"already a user named {taken}" in panel.message.text()
    calls: list = []
    panel.keeper = lambda name, pairs: calls.append((name, pairs)) or False  # the grid says no
    panel.name.setText("Sam")
    assert not panel.keep_me() and calls == [("Sam", [(2, 3.0), (4, 5.0)])]
    assert panel.given_pairs() == [(2, 3.0), (4, 5.0)] and panel.name.text() == "Sam"
    assert "could not be added" in panel.message.text()
    panel.keeper = lambda name, pairs: True
    assert panel.keep_me() and panel.given_pairs() == [] and panel.name.text() == ""


def test_the_chosen_item_stays_chosen_while_shown_and_enter_rates_it(qtbot, setup):
    ex, _nc, panel = setup
    movie_night(qtbot, ex)
    r = ex.shown.ratings
    order = panel.visible_items()
    assert panel.items.current_item() == order[0]  # the first one is chosen at once
    pick = next(i for i in order[1:] if "night" in r.items[i].lower())
    assert panel.choose(pick)
    qtbot.keyClicks(panel.search, "night")  # still shown: still chosen
    assert panel.items.current_item() == pick
    panel.search.clear()
    assert panel.items.current_item() == pick
    qtbot.keyClicks(panel.search, "zzz-no-such-title")
    assert panel.visible_items() == [] and panel.items.current_item() is None and not panel.rate_button.isEnabled()
    assert not panel.rate_current() and panel.message.text() == "Choose an item in the list first."
    panel.search.clear()
    assert panel.choose(pick)
    panel.rating.setValue(4.0)
    panel.items.setFocus()
    qtbot.keyClick(panel.items, Qt.Key.Key_Return)  # Enter in the list rates the chosen item
    assert panel.given_pairs() == [(pick, 4.0)] and pick not in panel.visible_items()
    assert panel.items.current_item() is not None and panel.items.current_item() != pick


def test_the_counts_follow_the_training_ratings_of_each_result(qtbot, setup):
    """The counts are made once per training ratings: another hold-out (or none) gives other counts."""
    ex, _nc, panel = setup
    r = load_example("movie-night")  # one ratings object for every run: only the held-out cells differ
    o = r.observed
    thirds, halves = (np.stack([o.rows[k::n], o.cols[k::n]], axis=1) for k, n in ((0, 3), (1, 2)))
    for cells in (thirds, NO_CELLS, halves):
        run_to_end(qtbot, ex, ex.train, request(r, steps=50, solver="biased-sgd", cells=cells))
        s = ex.shown
        train = s.ratings.split_cells(s.held_out_cells).train if len(s.held_out_cells) else s.ratings.observed
        want = np.bincount(train.cols, minlength=s.ratings.n_items)
        assert np.array_equal(panel.items.items_model.counts, want)
        assert [int(want[i]) for i in panel.visible_items()] == sorted(want.tolist(), reverse=True)


def test_a_hidden_person_is_folded_into_a_new_result_when_asked_for_or_shown(qtbot, setup):
    ex, nc, panel = setup
    movie_night(qtbot, ex)
    assert panel.rate(0, 5.0) and panel.rate(4, 1.0)
    movie_night(qtbot, ex, seed=7)  # not revealed: nothing shown, the star stays off the map
    assert nc.person is None and not panel.table.isVisible()
    f, ranking = expected(ex, [(0, 5.0), (4, 1.0)])
    assert np.array_equal(panel.fold.p, f.p) and list(panel.ranking.item) == list(ranking.item)
    movie_night(qtbot, ex, seed=8)
    panel.reveal.setChecked(True)  # shown: made for the result shown now
    f, ranking = expected(ex, [(0, 5.0), (4, 1.0)])
    assert [row[0] for row in table_rows(panel)] == [ex.shown.ratings.items[i] for i in ranking.item]
    assert np.array_equal(nc.person.p, f.p)


def test_behind_another_tab_the_item_list_is_made_when_shown(qtbot):
    ex, nc = Experiment(), Newcomer()
    panel = AddMePanel(ex, nc)
    qtbot.addWidget(panel)
    try:
        end = movie_night(qtbot, ex)  # never shown yet: nothing made
        r = end.shown.ratings
        assert panel.items.count() == 0 and panel.sentence.text() == INTRO_TEXT and panel.items.isEnabled()
        panel.show()
        qtbot.waitExposed(panel)
        counts = np.bincount(r.observed.cols, minlength=r.n_items)
        assert panel.items.count() == r.n_items and list(counts[panel.visible_items()]) == sorted(counts)[::-1]
        panel.hide()
        movie_night(qtbot, ex, seed=4)
        assert panel.items.count() == 0  # hidden again: made again when next shown or asked about
        assert len(panel.visible_items()) == r.n_items and panel.choose(panel.visible_items()[1])
        assert panel.rating.maximum() == 5.0 and panel.rate_current() and len(panel.given_pairs()) == 1
    finally:
        ex.shutdown()
