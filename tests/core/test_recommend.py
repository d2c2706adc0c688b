"""Top-N recommendations: order by the unclipped score, held-out items stay candidates, thin items filtered."""

from __future__ import annotations

import numpy as np

from mfstudio.core import Factors, Ratings, recommend
from mfstudio.core.recommend import auto_min_ratings


def test_rated_items_skipped_order_by_unclipped_score_display_clipped():
    r = Ratings.from_dense([[5, 0, 0, 4], [0, 1, 3, 2]], scale=(1, 5))
    f = Factors(np.array([[1.0], [2.0]]), np.array([[9.0, 1.0, 2.0, 3.0]]))
    recs = recommend(r, f, n=5, min_ratings=1)
    rows = recs.rows(r)
    assert rows[0] == ("User 1", 1, "Item 3", 2.0)
    assert rows[1] == ("User 1", 2, "Item 2", 1.0)
    assert ("User 2", 1, "Item 1", 5.0) in rows  # 18 clipped to the scale's top for display
    k = [i for i, (u, *_rest) in enumerate(rows) if u == "User 2"][0]
    assert recs.score[k] == 18.0 and recs.predicted[k] == 5.0
    assert all(item not in ("Item 2", "Item 3", "Item 4") for u, _, item, _ in rows if u == "User 2")


def test_scores_above_the_scale_never_tie():
    # Three predictions above 5: clipped they would all tie at 5 and fall back to item order.
    r = Ratings.from_dense([[1, 0, 0, 0], [2, 3, 4, 5]], scale=(1, 5))
    f = Factors(np.array([[1.0], [1.0]]), np.array([[0.0, 6.0, 8.0, 7.0]]))
    recs = recommend(r, f, n=3, min_ratings=1)
    assert [r.items[i] for i in recs.item] == ["Item 3", "Item 4", "Item 2"]
    np.testing.assert_array_equal(recs.predicted, [5.0, 5.0, 5.0])
    np.testing.assert_array_equal(recs.score, [8.0, 7.0, 6.0])


def test_held_out_items_are_candidates_and_counts_are_training_counts():
    r = Ratings.from_dense([[5, 4, 0], [3, 0, 2], [4, 2, 1]], scale=(1, 5))
    split = r.split_cells([(0, 1)])  # user 1's rating of item 2 is held out
    f = Factors(np.ones((3, 1)), np.ones((1, 3)))
    recs = recommend(r, f, n=3, train=split.train, min_ratings=1)
    mine = [int(i) for u, i in zip(recs.user, recs.item) if u == 0]
    assert 1 in mine  # the held-out item is recommended: it is hidden from training, not from the user
    k = list(recs.item[recs.user == 0]).index(1)
    assert recs.item_ratings[recs.user == 0][k] == 1  # one training rating left for item 2


def test_min_ratings_filters_thin_items():
    r = Ratings.from_dense([[5, 1, 0], [4, 0, 0], [5, 0, 2]], scale=(1, 5))
    f = Factors(np.ones((3, 1)), np.array([[1.0, 9.0, 1.0]]))  # item 2 (one rating) scores highest
    thin = recommend(r, f, n=1, min_ratings=1)
    assert r.items[thin.item[thin.user == 1][0]] == "Item 2"
    thick = recommend(r, f, n=1, min_ratings=2)
    assert "Item 2" not in [r.items[i] for i in thick.item]
    assert thick.min_ratings == 2 and np.all(thick.item_ratings >= 2)


def test_auto_minimum_keeps_small_grids_whole_and_asks_ten_of_large_data():
    assert auto_min_ratings(np.array([1, 3, 3, 2])) == 1  # the notebook's Example 1
    assert auto_min_ratings(np.array([27] * 100 + [1] * 50)) == 10
    assert auto_min_ratings(np.array([8, 8, 8])) == 4
    assert auto_min_ratings(np.zeros(3)) == 1


def test_movielens_like_data_recommends_few_thin_items_by_default():
    """On a MovieLens-shaped set (long tail of rarely rated films), < 10% of recommended items have < 10 ratings."""
    from mfstudio.core import Training

    rng = np.random.default_rng(5)
    n_users, n_items = 300, 400
    pop = rng.pareto(1.2, n_items) + 0.05
    pop /= pop.sum()
    rows, cols = [], []
    for u in range(n_users):
        k = int(rng.integers(15, 60))
        items = rng.choice(n_items, size=k, replace=False, p=pop)
        rows += [u] * k
        cols += list(items)
    quality = rng.normal(0, 0.7, n_items)
    vals = np.clip(np.round(3.5 + quality[cols] + rng.normal(0, 0.8, len(cols))), 1, 5)
    r = Ratings(rows, cols, vals, (n_users, n_items), scale=(1, 5))
    t = Training(r, "biased-sgd", {"K": 10, "steps": 20})
    t.run_to_end()
    recs = recommend(r, t.factors, n=10)
    assert len(recs) > 0
    assert np.mean(recs.item_ratings < 10) < 0.10


def test_implicit_data_never_recommends_an_item_the_user_already_has():
    rng = np.random.default_rng(3)
    n, m = 20, 15
    cells = rng.choice(n * m, 120, replace=False)
    plays = Ratings(cells // m, cells % m, rng.integers(1, 50, 120).astype(float), (n, m), scale=(0.0, 49.0),
                    implicit=True)
    split = plays.split(0.25, 0)
    f = Factors(rng.normal(size=(n, 3)), rng.normal(size=(3, m)))
    scores = f.predict()
    o = split.train
    for train in (o, None):  # the training interactions; by default all of them
        recs = recommend(plays, f, n=m, train=train, min_ratings=1)
        has = o if train is not None else plays.observed
        owned = set(zip(has.rows.tolist(), has.cols.tolist()))
        assert len(recs) == n * m - len(owned) and not owned & set(zip(recs.user.tolist(), recs.item.tolist()))
        for u in range(n):  # every other item, best score first
            mine = recs.item[recs.user == u]
            rest = [i for i in range(m) if (u, i) not in owned]
            assert sorted(mine.tolist()) == rest
            assert np.all(np.diff(scores[u, mine]) <= 0)
    held = set(zip(split.val.rows.tolist(), split.val.cols.tolist()))
    recs = recommend(plays, f, n=m, train=o, min_ratings=1)
    assert held <= set(zip(recs.user.tolist(), recs.item.tolist()))  # held out: hidden from training, not the user


def test_recommendations_of_counts_show_preferences_clipped_to_0_to_1():
    from mfstudio.core import Training, load_example

    ratings = load_example("listening")
    *_, snap = Training(ratings, "implicit-als", {"K": 2, "steps": 3}).run()
    recs = recommend(ratings, snap.factors, 5, min_ratings=1)
    assert recs.score.max() > 1.0  # unclipped, the order follows it
    assert recs.predicted.max() <= 1.0 and recs.predicted.min() >= 0.0
    assert np.array_equal(recs.predicted, np.clip(recs.score, 0.0, 1.0))


def test_biased_predictions_in_place_keep_the_bits_of_the_plain_sum():
    rng = np.random.default_rng(3)
    P, Q, ub, ib = rng.normal(size=(7, 3)), rng.normal(size=(3, 11)), rng.normal(size=7), rng.normal(size=11)
    f = Factors(P, Q, ub, ib, 3.3)
    np.testing.assert_array_equal(f.predict_rows(2, 6), P[2:6] @ Q + 3.3 + ub[2:6, None] + ib[None, :])
