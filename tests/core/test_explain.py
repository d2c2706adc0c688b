"""Why this number: a cell's terms add up to its prediction, which is R_hat's; what is shown, the actual
rating, the hold-out, the fallback of cold users and items, the plain sentence, and finding labels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mfstudio.core import DataError, Factors, Ratings, Training, load_example
from mfstudio.core.explain import (
    HELD_OUT_TEXT,
    MEAN,
    closest_labels,
    explain,
    find_label,
    rating_at,
    rotation_note,
)
from mfstudio.core.numbers import short_text

STEPS = {"sgd": 500, "als": 10, "biased-sgd": 200, "nmf": 200}
NO_CELLS = np.zeros((0, 2), np.int64)


def trained(solver: str, ratings: Ratings | None = None, cells: np.ndarray | None = None, **params) -> Factors:
    r = ratings if ratings is not None else load_example("example-1")
    t = Training(r, solver, {"steps": STEPS[solver], **params}, holdout=cells)
    t.run_to_end()
    return t.factors.copy()


def close(a: float, b: float, rel: float = 1e-12) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


@pytest.mark.parametrize("solver", ["sgd", "als", "biased-sgd", "nmf"])
def test_the_terms_add_up_to_the_prediction_which_is_r_hat(solver):
    r = load_example("example-1")
    f = trained(solver, r)
    R_hat = f.predict()
    names = ["mean", "user bias", "item bias"] if solver == "biased-sgd" else []
    names += [f"k{k + 1}" for k in range(f.K)]
    for u in range(r.n_users):
        for i in range(r.n_items):
            e = explain(r, f, u, i)
            assert [t.name for t in e.terms] == names
            assert e.prediction == f.predict_at(np.array([u]), np.array([i]))[0]  # exactly
            assert close(sum(t.value for t in e.terms), e.prediction) and close(e.total, e.prediction)
            assert close(R_hat[u, i], e.prediction)
            js = e.to_json()
            assert close(sum(t["value"] for t in js["terms"]), js["prediction"])


def test_a_factor_term_is_its_two_sides_multiplied_and_the_biases_are_the_models():
    r = load_example("example-1")
    f = trained("biased-sgd", r)
    e = explain(r, f, 2, 1)
    mean, ub, ib, *tastes = e.terms
    assert (mean.value, ub.value, ib.value) == (f.global_mean, f.user_bias[2], f.item_bias[1])
    for k, t in enumerate(tastes):
        assert (t.p, t.q, t.value, t.k) == (f.P[2, k], f.Q[k, 1], f.P[2, k] * f.Q[k, 1], k + 1)
    assert mean.p is None and mean.k is None


def test_shown_is_the_prediction_clipped_to_the_scale():
    r = load_example("example-1")  # scale 1 to 5
    f = Factors(np.array([[3.0], [0.1], [1.0], [1.0]]), np.array([[2.0, 2.0, 2.0, 2.0]]))
    high, low, inside = explain(r, f, 0, 0), explain(r, f, 1, 0), explain(r, f, 2, 0)
    assert (high.prediction, high.shown, high.clipped) == (6.0, 5.0, True)
    assert (low.prediction, low.shown, low.clipped) == (pytest.approx(0.2), 1.0, True)
    assert (inside.prediction, inside.shown, inside.clipped) == (2.0, 2.0, False)
    assert "(shown as 5.00, the top of the scale)" in high.sentence
    assert "the bottom of the scale" in low.sentence and "shown as" not in inside.sentence
    assert high.to_json()["prediction"] == 6.0 and high.to_json()["shown"] == 5.0
    assert ("shown (clipped to 1 to 5)", "", "", "5.00") in high.rows()


def test_a_rated_cell_has_its_rating_and_error_an_unrated_one_none():
    r = load_example("example-1")
    f = trained("sgd", r)
    rated = explain(r, f, 0, 1)  # User 1 rated Item 2 4.5
    assert rated.actual == 4.5 and rated.error == 4.5 - rated.prediction and not rated.held_out
    unrated = explain(r, f, 0, 0)
    assert unrated.actual is None and unrated.error is None
    assert unrated.to_json()["actual"] is None and unrated.error is None
    assert ("actual rating", "", "", "not rated") in unrated.rows()
    dense = r.to_dense()
    for u in range(4):
        for i in range(4):
            got = rating_at(r, u, i)
            assert (got is None) if math.isnan(dense[u, i]) else got == dense[u, i]


def test_a_held_out_cell_is_said_to_be_unseen():
    r = load_example("example-1")
    cells = np.array([[1, 2]])  # User 2's rating of Item 3 (3.5)
    f = trained("sgd", r, cells)
    e = explain(r, f, 1, 2, cells)
    assert e.held_out and e.actual == 3.5 and e.to_json()["actual"] == 3.5
    assert any(HELD_OUT_TEXT in row[0] for row in e.rows())
    assert HELD_OUT_TEXT == "held out — the model never saw it"
    assert not explain(r, f, 1, 0, cells).held_out  # a rated cell not held out
    assert not explain(r, f, 0, 0, np.array([[0, 0]])).held_out  # an unrated cell is never "held out"


@pytest.mark.parametrize("solver", ["sgd", "biased-sgd"])
def test_a_cold_user_gets_the_fallback_and_the_sentence_says_so(solver):
    r = load_example("example-1")
    cells = np.array([[0, 1], [0, 2]])  # every rating of User 1 held out: a cold user
    f = trained(solver, r, cells)
    e = explain(r, f, 0, 3, cells)
    assert e.cold == "user" and e.fallback
    assert e.prediction == f.predict_at(np.array([0]), np.array([3]))[0]
    assert close(e.total, e.prediction)
    if solver == "biased-sgd":
        assert [t.name for t in e.terms] == ["mean", "item bias"]
        assert e.terms[0].value == f.global_mean and e.terms[1].value == f.item_bias[3]
        assert "plus Item 4's bias" in e.sentence
    else:
        assert [t.name for t in e.terms] == ["mean"] and e.terms[0].value == f.fallback_mean
        assert "the mean training rating" in e.sentence
    assert "User 1 has no training ratings" in e.sentence and "fallback" in e.sentence
    assert e.terms[0].label(e.fallback) == "mean rating (fallback)"
    warm = explain(r, f, 1, 3, cells)
    assert not warm.cold and any(t.name == "k1" for t in warm.terms)


def test_a_cold_item_keeps_the_users_bias():
    r = load_example("example-1")
    cells = np.array([[1, 0]])  # Item 1 has only User 2's rating
    f = trained("biased-sgd", r, cells)
    e = explain(r, f, 2, 0, cells)
    assert e.cold == "item" and [t.name for t in e.terms] == ["mean", "user bias"]
    assert close(e.total, e.prediction) and "Item 1 has no training ratings" in e.sentence
    assert "User 3's bias" in e.sentence


@pytest.mark.parametrize("solver", ["sgd", "als", "biased-sgd", "nmf"])
def test_the_sentence_names_the_biggest_push_with_its_value(solver):
    r = load_example("example-1")
    f = trained(solver, r)
    for u, i in ((0, 0), (1, 3), (3, 1)):
        e = explain(r, f, u, i)
        big = max((t for t in e.terms if t.name != MEAN), key=lambda t: abs(t.value))
        assert f": {short_text(big.value, True)}" in e.sentence
        if big.k is not None:
            assert f"taste {big.k} ({short_text(big.p, True)})" in e.sentence
            assert ("likes" if big.p >= 0 else "dislikes") in e.sentence
        assert ("pushed up most" if big.value > 0 else "pulled down most") in e.sentence
        assert e.sentence.startswith(f"The model predicts {short_text(e.prediction)} ")
        assert f" for {e.user_label} and {e.item_label}" in e.sentence
        assert e.sentence.endswith(".")


def test_the_sentence_words_follow_the_signs():
    r = load_example("example-1")
    f = Factors(np.array([[2.0, -1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]),
                np.array([[1.5, 1.0, 1.0, 1.0], [0.5, 1.0, 1.0, 1.0]]))
    e = explain(r, f, 0, 0)
    assert e.sentence == ("The model predicts 2.50 for User 1 and Item 1: pushed up most because User 1 likes taste 1 "
                          "(+2.00) and Item 1 has a lot of it (1.50): +3.00; pulled down most because User 1 dislikes "
                          "taste 2 (-1.00) and Item 1 has some of it (0.50): -0.50.")
    f.Q[0, 0] = -1.5
    e = explain(r, f, 0, 0)
    assert "User 1 likes taste 1 (+2.00) but Item 1 has little of it (-1.50): -3.00" in e.sentence
    assert e.sentence.startswith("The model predicts -3.50 (shown as 1.00, the bottom of the scale)")
    f.P[0], f.Q[:, 0] = [-1.0, 0.0], [-2.0, 0.0]
    assert "User 1 dislikes taste 1 (-1.00) and Item 1 has little of it (-2.00): +2.00" in explain(r, f, 0, 0).sentence
    f.P[0] = [0.001, 0.0]
    assert explain(r, f, 0, 0).sentence.endswith(": no part pushes it up or down by much.")


def test_a_biased_sentence_starts_from_the_mean_and_names_a_bias_that_matters():
    r = load_example("example-1")
    f = Factors(np.zeros((4, 1)), np.zeros((1, 4)), np.array([0.8, 0, 0, 0]), np.array([-0.2, 0, 0, 0]), 3.25)
    e = explain(r, f, 0, 0)
    assert e.sentence == ("The model predicts 3.85 for User 1 and Item 1 from the mean rating 3.25: pushed up most "
                          "because User 1 rates above average: +0.80; pulled down most because Item 1 is liked less "
                          "than average, whatever the taste: -0.20.")


def test_not_finite_factors_are_said_plainly():
    r = load_example("example-1")
    f = Factors(np.full((4, 1), np.nan), np.ones((1, 4)))
    assert "not finite" in explain(r, f, 0, 0).sentence


def test_a_cell_outside_the_ratings_or_factors_of_other_ratings_are_refused():
    r = load_example("example-1")
    f = trained("sgd", r)
    with pytest.raises(DataError, match="no cell \\(5, 1\\)"):
        explain(r, f, 4, 0)
    with pytest.raises(DataError, match="do not belong"):
        explain(r, Factors(np.ones((3, 2)), np.ones((2, 4))), 0, 0)


def test_the_rotation_note_says_what_is_stable():
    assert "rotation and sign" in rotation_note(True)
    assert rotation_note(True).endswith("; the biases and the total are stable.")
    assert rotation_note(False).endswith("; the total is stable.")


def test_closest_labels_and_finding_a_label():
    films = ["Starfall", "Star Wars", "Stardust", "Amélie", "Heat"]
    assert closest_labels(films, "starfal", 2) == ["Starfall", "Star Wars"]
    assert closest_labels(films, "AMELIE", 1) == ["Amélie"]
    assert len(closest_labels(films, "zzzz", 3)) == 3  # something to suggest even when nothing is close
    assert find_label(films, "Heat", "item") == 4
    assert find_label(films, " heat ", "item") == 4  # case and spaces aside, when only one label fits
    assert find_label(films, "2", "item") == 1  # no label is a number: a position from 1
    with pytest.raises(DataError) as err:
        find_label(films, "Starfal", "item", "in r.mfstudio")
    assert str(err.value) == ("There is no item 'Starfal' in r.mfstudio; the closest are 'Starfall', 'Star Wars', "
                              "'Stardust' (or give a number from 1 to 5).")
    with pytest.raises(DataError, match="or give a number from 1 to 5"):
        find_label(films, "6", "item")
    ids = ["10", "20", "30"]
    assert find_label(ids, "20", "user") == 1  # labels that are numbers are ids, never positions
    with pytest.raises(DataError) as err:
        find_label(ids, "2", "user")
    assert "There is no user '2'" in str(err.value) and "give a number" not in str(err.value)
    with pytest.raises(DataError, match="2 users are called 'ann'"):
        find_label(["Ann", "ANN", "Bo"], "ann", "user")


def test_an_implicit_models_number_is_shown_on_the_preference_range_not_the_count_scale():
    """A preference near 1 is not a count: Why this number? clips to 0 to 1 (so the waterfall is not flattened)."""
    ratings = load_example("listening")
    t = Training(ratings, "implicit-als", {"K": 2, "steps": 3})
    *_, snap = t.run()
    R = snap.factors.predict()
    u, i = np.unravel_index(int(np.argmax(R)), R.shape)
    e = explain(ratings, snap.factors, int(u), int(i))
    assert e.scale == (0.0, 1.0)
    assert R.max() > 1.0 and e.shown == 1.0 and e.clipped


def test_rows_of_a_model_of_counts_name_the_actual_value_a_count():
    r = load_example("listening")
    f = Factors(np.full((r.n_users, 1), 0.5), np.full((1, r.n_items), 0.5))
    dense = r.to_dense()
    empty = tuple(map(int, np.argwhere(np.isnan(dense) | (dense == 0))[0]))
    full = tuple(map(int, np.argwhere(dense > 0)[0]))
    assert explain(r, f, *empty).rows()[-1] == ("actual rating", "", "", "not rated")  # unchanged by default
    assert explain(r, f, *empty).rows(preferences=True)[-1] == ("actual count", "", "", "no interaction")
    rows = explain(r, f, *full).rows(preferences=True)
    assert rows[-2][0] == "actual count" and float(rows[-2][3]) == dense[full]
