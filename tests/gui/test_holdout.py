"""The hold-out box: a seeded share of the grid's ratings set aside, as one undo step that puts the box back,
and the warning about users and items left without a training rating."""

from __future__ import annotations

import numpy as np
import pytest

from mfstudio.core import Session, load_example
from tests.gui.test_document import Desk, make_desk


def cells_of(observed) -> set[tuple[int, int]]:
    return set(zip(observed.rows.tolist(), observed.cols.tolist()))


def held(d: Desk) -> set[tuple[int, int]]:
    return {(int(r), int(c)) for r, c in d.grid_model.held_out_cells()}


@pytest.fixture
def desk(qtbot):
    d = make_desk(qtbot)
    yield d
    d.close()


@pytest.fixture
def movie_night(desk):
    desk.document.load_ratings(load_example("movie-night"), title="Movie night")
    desk.controls.set_seed(3)
    return desk


@pytest.fixture
def messages(desk):
    return desk.messages


def test_the_share_box_holds_out_a_seeded_share_of_the_ratings(movie_night):
    d = movie_night
    r = d.document.grid_ratings()
    d.controls.holdout_box.setValue(25)
    assert d.controls.holdout() == 0.25
    assert held(d) == cells_of(r.split(0.25, 3).val)
    assert len(held(d)) == round(0.25 * r.nnz)
    assert np.array_equal(d.document.grid_held_out_cells(), d.grid_model.held_out_cells())


def test_another_seed_draws_other_cells(movie_night):
    d = movie_night
    r = d.document.grid_ratings()
    assert cells_of(r.split(0.25, 3).val) != cells_of(r.split(0.25, 4).val)
    d.controls.set_seed(4)
    d.controls.holdout_box.setValue(25)
    assert held(d) == cells_of(r.split(0.25, 4).val)


def test_a_share_is_one_undo_step_that_also_puts_the_box_back(movie_night):
    d = movie_night
    stack, box = d.grid_model.undo_stack, d.controls.holdout_box
    r = d.document.grid_ratings()
    before = stack.count()
    box.setValue(25)
    assert stack.count() == before + 1 and stack.undoText() == "Hold out 25% of the ratings"
    box.setValue(40)
    assert held(d) == cells_of(r.split(0.4, 3).val)
    stack.undo()
    assert box.value() == 25 and held(d) == cells_of(r.split(0.25, 3).val)
    stack.undo()
    assert box.value() == 0 and held(d) == set()
    stack.redo()
    assert box.value() == 25 and held(d) == cells_of(r.split(0.25, 3).val)


def test_the_message_says_how_many_ratings_are_held_out(movie_night, messages):
    d = movie_night
    d.controls.holdout_box.setValue(10)
    n = len(held(d))
    assert messages[-1].startswith(f"{n:,} ratings held out for validation (orange in the grid).")
    d.controls.holdout_box.setValue(0)
    assert messages[-1] == "All ratings are used for training." and held(d) == set()


def test_a_share_that_leaves_nothing_to_train_on_is_refused_and_the_box_put_back(desk, messages):
    box, stack = desk.controls.holdout_box, desk.grid_model.undo_stack
    box.setValue(20)
    cells, count = held(desk), stack.count()
    box.setValue(99)  # Example 1 has 9 ratings: 99 % of them is all of them
    assert messages[-1] == "The hold-out share leaves no rating to train on; use a smaller share."
    assert box.value() == 20 and held(desk) == cells and stack.count() == count


def test_showing_a_share_draws_nothing(movie_night):
    d = movie_night
    count = d.grid_model.undo_stack.count()
    d.document.holdout.show(0.3)
    assert d.controls.holdout() == 0.3 and held(d) == set() and d.grid_model.undo_stack.count() == count


def test_a_quiet_hold_out_says_nothing(movie_night, messages):
    movie_night.document.holdout.apply(0.2, quiet=True)
    assert held(movie_night) and messages == []


def test_a_session_with_a_share_and_no_cells_opens_with_the_share_drawn(desk):
    r = load_example("movie-night")
    desk.document.load_session(Session(ratings=r, holdout=0.25, params={"seed": 7}))
    assert desk.controls.holdout_box.value() == 25
    assert held(desk) == cells_of(r.split(0.25, 7).val)
    assert desk.grid_model.undo_stack.count() == 0 and not desk.document.is_modified()


# -- the warning --------------------------------------------------------------------------------------
# Example 1 (rows users, columns items; . not rated):
#   .   4.5 2   .
#   4   .   3.5 .
#   .   5   .   2
#   .   3.5 4   1
def test_no_warning_while_every_user_and_item_keeps_a_training_rating(desk):
    assert desk.document.holdout.warning() == ""
    desk.grid_model.set_held_out([(0, 1)], True)
    assert desk.document.holdout.warning() == ""


def test_a_user_whose_ratings_are_all_held_out_is_named_in_the_warning(desk):
    desk.grid_model.set_held_out([(2, 1), (2, 3)], True)
    assert desk.document.holdout.warning() == ("1 user has every rating held out (predicted from the mean and "
                                                 "the known biases)")


def test_items_and_users_are_counted_together(desk):
    desk.grid_model.set_held_out([(1, 0), (2, 3), (3, 3)], True)  # Item 1's only rating, both of Item 4's
    assert desk.document.holdout.warning().startswith("2 items have every rating held out (")
    desk.grid_model.set_held_out([(2, 1)], True)  # and now all of User 3's
    assert desk.document.holdout.warning().startswith(
        "1 user has every rating held out and 2 items have every rating held out (")


def test_the_share_message_carries_the_warning(desk, messages):
    r = desk.document.grid_ratings()
    seed = next(s for s in range(200) if len(r.split(0.4, s).items_without_training)
                or len(r.split(0.4, s).users_without_training))
    desk.controls.set_seed(seed)
    desk.controls.holdout_box.setValue(40)
    warning = desk.document.holdout.warning()
    assert warning and messages[-1].endswith(f" Note: {warning}.")


def test_cold_counts_are_the_splits_users_and_items_without_training():
    from mfstudio.core import Ratings
    from mfstudio.gui.holdout import cold_counts

    rng = np.random.default_rng(5)
    n, m = 60, 40
    flat = rng.choice(n * m, size=300, replace=False)
    r = Ratings(flat // m, flat % m, rng.integers(1, 6, 300).astype(float), (n, m))
    o = r.observed
    rated = set(flat.tolist())
    unrated = np.array([(k // m, k % m) for k in range(n * m) if k not in rated][:30])
    wants = []
    for seed in range(12):
        s = r.split(0.5, seed)  # half held out: many users and items lose every rating
        cells = np.stack([s.val.rows, s.val.cols], axis=1)
        want = (len(s.users_without_training), len(s.items_without_training))
        wants.append(want)
        assert cold_counts(r, cells, rated=True) == want == cold_counts(r, cells)
        messy = np.concatenate([cells, cells[:7], unrated])  # repeats and cells without a rating do not count
        split = r.split_cells(messy)
        assert cold_counts(r, messy) == (len(split.users_without_training), len(split.items_without_training))
    assert all(u for u, _i in wants) and any(i for _u, i in wants)  # the data makes cold users and items
    assert cold_counts(r, np.zeros((0, 2), np.int64)) == (0, 0)
    assert cold_counts(r, np.stack([o.rows, o.cols], axis=1), rated=True) == (len(set(o.rows.tolist())),
                                                                              len(set(o.cols.tolist())))


def test_the_warning_follows_each_change_of_the_held_out_cells(desk):
    """Worked out once per grid, and again at every change (by hand, by the share, by undo)."""
    m = desk.grid_model
    assert desk.document.holdout.warning() == ""
    m.set_held_out([(2, 1), (2, 3)], True)
    assert desk.document.holdout.warning().startswith("1 user has")
    m.undo_stack.undo()
    assert desk.document.holdout.warning() == ""
    m.undo_stack.redo()
    assert desk.document.holdout.warning().startswith("1 user has")


def test_big_data_draws_the_share_on_a_thread_with_the_same_cells(movie_night, monkeypatch, qtbot):
    from mfstudio.gui import holdout as module

    d = movie_night
    r = d.document.grid_ratings()
    threads: list[str] = []
    real = module.run_busy

    def busy(parent, text, work):
        threads.append(text)
        return real(parent, text, work)

    monkeypatch.setattr(module, "run_busy", busy)
    d.controls.holdout_box.setValue(25)  # small data: drawn at once
    assert threads == [] and held(d) == cells_of(r.split(0.25, 3).val)
    monkeypatch.setattr(module, "BIG_RATINGS", 10)  # "big": on the busy thread
    d.controls.holdout_box.setValue(30)
    assert threads == [f"Holding out 30% of {r.nnz:,} ratings…"]
    assert held(d) == cells_of(r.split(0.3, 3).val) and d.controls.holdout() == 0.3
    d.grid_model.undo_stack.undo()  # one undo step, as at once
    assert held(d) == cells_of(r.split(0.25, 3).val) and d.controls.holdout() == 0.25
