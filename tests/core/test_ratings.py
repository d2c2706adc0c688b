"""The rating data type, the hold-out split, recommendations and examples."""

import subprocess
import sys

import numpy as np
import pytest

from mfstudio.core.errors import DataError
from mfstudio.core.examples import EXAMPLES, load_example
from mfstudio.core.ratings import Ratings, infer_scale


def test_from_dense_zeros_are_missing_like_the_notebook():
    r = load_example("example-1")
    assert r.shape == (4, 4) and r.nnz == 9
    assert list(zip(r.observed.rows, r.observed.cols))[:3] == [(0, 1), (0, 2), (1, 0)]
    kept = Ratings.from_dense([[0, 1], [2, 0]], zeros_are_missing=False)
    assert kept.nnz == 4


def test_dense_round_trip_and_labels():
    R = np.array([[1, np.nan], [np.nan, 4.5]])
    r = Ratings.from_dense(R, users=["ann", "bob"], items=["x", "y"])
    np.testing.assert_array_equal(r.to_dense(), R)
    assert r.users == ("ann", "bob") and r.items == ("x", "y")
    assert r.scale == (1.0, 5.0)


def test_triples_last_one_wins():
    r, dups = Ratings.from_triples(["u1", "u2", "u1"], ["a", "b", "a"], [3, 4, 5])
    assert dups == 1
    assert r.users == ("u1", "u2") and r.items == ("a", "b")
    assert r.to_dense()[0, 0] == 5


def test_bad_dense_input():
    with pytest.raises(DataError):
        Ratings.from_dense([[1, 2], [3]])
    with pytest.raises(DataError):
        Ratings.from_dense([[1, np.inf]])
    with pytest.raises(DataError):
        Ratings.from_dense([1, 2, 3])
    with pytest.raises(DataError, match=r"Ratings of 10,000,000,000 users .* need about .* of memory, more than"):
        Ratings([], [], [], (10**10, 10**10))  # the labels alone would not fit


def test_no_limit_on_users_times_items_only_on_memory():
    # 14,142 x 14,142 ids (200 M cells, the old limit) with 2 ratings: nothing users x items is built
    r = Ratings([0, 14_141], [5, 14_141], [4.0, 2.0], (14_142, 14_142))
    assert r.nnz == 2 and r.shape == (14_142, 14_142) and len(r.users) == 14_142
    assert Ratings([0], [0], [3.0], (100_000, 100_000)).nnz == 1  # 10 G cells, a single rating


def test_scale_inference():
    assert infer_scale(np.array([1.0, 5.0])) == (1.0, 5.0)
    assert infer_scale(np.array([0.5, 4.0])) == (0.5, 5.0)
    assert infer_scale(np.array([1.0, 9.0])) == (1.0, 10.0)
    assert infer_scale(np.array([-3.0, 12.5])) == (-3.0, 13.0)
    r = Ratings.from_dense([[1, 7]], scale=(1, 5))
    assert r.out_of_scale() == 1


def test_split_is_reproducible_and_reports_starved_users():
    r = load_example("movie-night")
    a, b = r.split(0.2, seed=3), r.split(0.2, seed=3)
    np.testing.assert_array_equal(a.held_out_flags, b.held_out_flags)
    assert len(a.val) == round(0.2 * r.nnz) and len(a.train) + len(a.val) == r.nnz
    assert not np.array_equal(a.held_out_flags, r.split(0.2, seed=4).held_out_flags)
    small = Ratings.from_dense([[5, 0], [0, 3]])
    s = small.split_cells([(0, 0)])
    assert list(s.users_without_training) == [0] and s.warnings
    with pytest.raises(DataError):
        r.split(1.0)


def test_every_example_loads():
    for name in EXAMPLES:
        r = load_example(name)
        assert r.nnz > 0
    mn = load_example("movie-night")
    assert mn.shape == (12, 15) and "Starfall" in mn.items
    assert 0.3 < mn.nnz / (12 * 15) < 0.8


def test_core_imports_no_qt_and_no_matplotlib():
    code = (
        "import sys, mfstudio.core, mfstudio.core.training; "
        "bad = [m for m in ('PySide6', 'matplotlib') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_triples_with_numeric_ids_come_in_numeric_order_other_labels_in_file_order():
    r, _ = Ratings.from_triples(["10", "2", "1", "2"], ["b", "a", "c", "b"], [1, 2, 3, 4])
    assert r.users == ("1", "2", "10")  # not "1", "10", "2" and not the file's 10, 2, 1
    assert r.items == ("b", "a", "c")
    assert r.to_dense()[r.users.index("10"), r.items.index("b")] == 1
    mixed, _ = Ratings.from_triples(["u10", "u2", "3"], [7, -1, 30], [1, 2, 3])
    assert mixed.users == ("u10", "u2", "3") and mixed.items == ("-1", "7", "30")
    same, _ = Ratings.from_triples(["07", "7", "1"], ["x", "x", "x"], [1, 2, 3])
    assert same.users == ("1", "07", "7")  # equal numbers keep the file's order


def test_item_genres_are_kept_by_copies_and_compared():
    g = [("Action", "Comedy"), (), ["Drama"]]
    r = Ratings([0, 0], [0, 2], [4, 5], (1, 3), items=["A", "B", "C"], item_genres=g)
    assert r.item_genres == (("Action", "Comedy"), (), ("Drama",))
    assert r.with_scale((0.5, 5)).item_genres == r.item_genres
    assert r != Ratings([0, 0], [0, 2], [4, 5], (1, 3), items=["A", "B", "C"])
    assert r == Ratings([0, 0], [0, 2], [4, 5], (1, 3), items=["A", "B", "C"], item_genres=g)
    assert Ratings([0], [0], [3], (1, 1)).item_genres is None
    with pytest.raises(DataError, match="genres for 2 items but there are 3"):
        Ratings([0], [0], [3], (1, 3), item_genres=[(), ()])
    with pytest.raises(DataError, match="not a string"):
        Ratings([0], [0], [3], (1, 1), item_genres=["Action|Comedy"])


# -- implicit data: counts of events ----------------------------------------------------------------
def test_from_triples_with_implicit_sums_repeated_cells_and_drops_zeros():
    from mfstudio.core.ratings import count_scale, sum_cells

    r, repeats = Ratings.from_triples(["a", "a", "b", "a", "b"], ["x", "x", "y", "y", "x"], [2, 3, 0, 1, 4],
                                      implicit=True)
    assert r.implicit and repeats == 1 and r.scale == (0.0, 5.0)
    assert np.array_equal(r.to_dense(), [[5.0, 1.0], [4.0, np.nan]], equal_nan=True)  # b,y's 0: no interaction
    last, dups = Ratings.from_triples(["a", "a"], ["x", "x"], [2, 3])  # ratings: the last one wins
    assert not last.implicit and dups == 1 and last.to_dense()[0, 0] == 3
    with pytest.raises(DataError, match="Count 2 is -1; a count of events must be a number of at least 0."):
        Ratings.from_triples(["a", "b"], ["x", "x"], [1, -1], implicit=True)
    rows, cols, sums, n = sum_cells(np.array([1, 0, 1]), np.array([0, 2, 0]), np.array([1.0, 2.0, 4.0]), 3)
    assert rows.tolist() == [0, 1] and cols.tolist() == [2, 0] and sums.tolist() == [2.0, 5.0] and n == 1
    assert count_scale(np.array([3.0, 7.0])) == (0.0, 7.0) and count_scale(np.zeros(0)) == (0.0, 1.0)


def test_from_events_counts_each_pair():
    r, repeats = Ratings.from_events([1, 1, 2, 1], ["x", "y", "x", "x"])
    assert r.implicit and repeats == 1 and r.users == ("1", "2")
    assert np.array_equal(r.to_dense(), [[2.0, 1.0], [1.0, np.nan]], equal_nan=True)


def test_counts_are_shown_on_the_preference_range_and_ratings_on_their_scale():
    from mfstudio.core.ratings import PREFERENCE_SCALE, display_scale

    listening = load_example("listening")
    assert listening.implicit and listening.scale == (0.0, 125.0)
    assert display_scale(listening) == PREFERENCE_SCALE == (0.0, 1.0)
    movies = load_example("example-1")
    assert display_scale(movies) == movies.scale
    assert display_scale(movies, "implicit-als") == (0.0, 1.0)  # a solver of counts reads them as counts
    assert display_scale(movies, "als") == movies.scale
    # a model of values trained on counts predicts counts: shown on the count scale, not squeezed to 0..1
    assert display_scale(listening, "als") == listening.scale and display_scale(listening, "implicit-als") == (0, 1)


def test_als_on_counts_recommends_and_explains_on_the_count_scale():
    """The lesson "Ratings vs. clicks" trains als on the listening log: its predictions are counts, shown so."""
    from mfstudio.core import Training
    from mfstudio.core.explain import explain
    from mfstudio.core.recommend import recommend

    listening = load_example("listening")
    f = Training(listening, "als", {"K": 2, "steps": 5}).factors
    recs = recommend(listening, f, 5, solver="als")
    assert recs.predicted.max() > 1.5  # counts, not every one clipped to 1.00
    e = explain(listening, f, 0, 0, solver="als")
    assert e.scale == listening.scale and e.shown == min(max(e.prediction, 0.0), 125.0)
    implicit = Training(listening, "implicit-als", {"K": 2, "steps": 3}).factors
    assert recommend(listening, implicit, 5, solver="implicit-als").predicted.max() <= 1.0
