"""Similar items and users: cosine and dot product of taste vectors, best first and the one itself left out;
zero and cold vectors score 0 (never NaN) and come last; the lengths for a scatter; the sentence on why the
two lists differ says what the data shows."""

from __future__ import annotations

import numpy as np
import pytest

from mfstudio.core import DataError, Factors, Observed, Ratings, Training, load_example
from mfstudio.core.similar import (
    ITEM,
    USER,
    compare,
    difference_sentence,
    lengths,
    rating_counts,
    similar,
    similar_items,
    similar_users,
    training_counts,
)


def _factors(Q: list[list[float]], P: list[list[float]] | None = None) -> Factors:
    Q = np.array(Q, dtype=float).T  # given one row per item
    P = np.ones((2, Q.shape[0])) if P is None else np.array(P, dtype=float)
    return Factors(P, Q)


def _train(cols: list[int], n_users: int = 1) -> Observed:
    """Training ratings with the given item of each (the users do not matter here)."""
    cols_a = np.array(cols, dtype=np.int64)
    return Observed(np.arange(len(cols)) % n_users, cols_a, np.full(len(cols), 3.0))


def test_cosine_and_dot_scores_best_first_without_the_item_itself():
    f = _factors([[1, 0], [1, 0.1], [3, 3], [-1, 0.5], [0.2, 0]])
    Q = f.Q.T
    cos = similar_items(f, 0)
    dot = similar_items(f, 0, "dot")
    assert 0 not in cos.others and 0 not in dot.others and len(cos) == len(dot) == 4
    expect_cos = {j: Q[0] @ Q[j] / np.linalg.norm(Q[0]) / np.linalg.norm(Q[j]) for j in range(1, 5)}
    assert list(cos.others) == [4, 1, 2, 3]  # (0.2, 0) points exactly the same way: cosine 1
    np.testing.assert_allclose(cos.scores, [expect_cos[j] for j in cos.others], rtol=1e-15)
    assert list(dot.others) == [2, 1, 4, 3]  # (3, 3) is long: the dot product puts it first
    np.testing.assert_allclose(dot.scores, [Q[0] @ Q[j] for j in dot.others], rtol=1e-15)
    assert cos.by == "cosine" and dot.by == "dot" and cos.kind == "item" and cos.index == 0
    assert np.all(cos.known) and cos.query_known


def test_zero_and_cold_vectors_score_zero_never_nan_and_come_last():
    f = _factors([[1, 0], [0, 0], [-1, 0], [0.5, 0.5], [2, 2]])
    f.cold_items = np.array([4])  # a long random start, but no training rating
    for by in ("cosine", "dot"):
        s = similar_items(f, 0, by)
        assert np.all(np.isfinite(s.scores))
        assert list(s.others[-2:]) == [1, 4] and list(s.scores[-2:]) == [0.0, 0.0]
        assert list(s.known) == [True, True, False, False]
        assert s.scores[0] > 0 > s.scores[1]  # (0.5, 0.5) first, the opposite (-1, 0) below it, still known
    none = similar_items(f, 1)
    assert not none.query_known and np.all(none.scores == 0.0) and list(none.others) == [0, 2, 3, 4]
    sentence = compare(f, _train([0, 1, 2, 3]), "item", 4, 3).sentence
    assert sentence == ("The model has no taste vector for this item (it has no training ratings), so no item is "
                        "like it: every score is 0.")


def test_ties_go_to_the_lower_index_and_n_cuts_the_list():
    f = _factors([[1, 1], [2, 0], [0, 2], [1, 0], [0, 1]])
    s = similar_items(f, 0)
    assert list(s.others) == [1, 2, 3, 4]  # every cosine is 1/sqrt(2)
    assert list(similar_items(f, 0, n=2).others) == [1, 2]
    assert len(similar_items(f, 0, n=0)) == 0 and len(similar_items(f, 0, n=99)) == 4


def test_users_use_the_rows_of_p_and_their_cold_ones():
    P = [[1, 0], [0.9, 0.01], [0, 1], [5, 0.2]]
    f = _factors([[1, 1]], P)
    assert list(similar_users(f, 0).others) == [1, 3, 2]
    assert list(similar_users(f, 0, "dot").others) == [3, 1, 2]
    f.cold_users = np.array([3])
    s = similar_users(f, 0, "dot")
    assert list(s.others) == [1, 2, 3] and s.scores[-1] == 0.0 and s.kind == "user"
    r = Ratings.from_dense([[1, 0], [2, 0], [0, 3], [0, 4]])
    assert [name for name, _ in s.rows(r)] == ["User 2", "User 3", "User 4"]


def test_bad_requests_are_one_sentence():
    f = _factors([[1, 0], [0, 1]])
    for call, message in [
        (lambda: similar(f, "film", 0), "Similar ones are found for an item or a user, not a 'film'."),
        (lambda: similar_items(f, 0, "angle"), "There is no measure 'angle'; choose cosine or dot."),
        (lambda: similar_items(f, 2), "There is no item with index 2; the 2 items have indices 0 to 1."),
        (lambda: similar_items(f, -1), "There is no item with index -1; the 2 items have indices 0 to 1."),
        (lambda: similar_items(f, True), "An item must be given by its index (a whole number); got True."),
        (lambda: similar_users(f, 1.0), "A user must be given by its index (a whole number); got 1.0."),
    ]:
        with pytest.raises(DataError) as exc:
            call()
        assert str(exc.value) == message


def test_lengths_and_their_correlation_with_the_number_of_ratings():
    f = _factors([[1, 0], [2, 0], [0, 3], [0.5, 0.5], [9, 9]])
    f.cold_items = np.array([4])
    train = _train([0, 1, 1, 2, 2, 2, 3])
    L = lengths(f, train)
    np.testing.assert_allclose(L.length, [1, 2, 3, np.sqrt(0.5), 0])
    assert list(L.ratings) == [1, 2, 3, 1, 0] and list(L.cold) == [False] * 4 + [True]
    assert L.correlation == pytest.approx(np.corrcoef([1, 2, 3, np.sqrt(0.5)], [1, 2, 3, 1])[0, 1])
    assert lengths(f, _train([0, 1])).correlation is None  # two points
    assert lengths(f, _train([0, 1, 2, 3])).correlation is None  # every count the same
    users = lengths(f, _train([0, 1, 2], n_users=2), "user")
    assert list(users.ratings) == [2, 1] and users.kind == "user"


def test_the_sentence_names_popular_long_vectors_when_the_data_says_so():
    # items along one direction: the longer, the more ratings
    f = _factors([[1, 0], [1, 0.3], [1.5, 1.0], [3, 2.5], [0.5, 0.6], [4, 3.8]])
    train = _train([1] * 2 + [2] * 4 + [3] * 8 + [4] * 1 + [5] * 12 + [0])
    c = compare(f, train, "item", 0, 2)
    assert list(c.cosine.others) == [1, 2] and list(c.dot.others) == [5, 3]
    r = c.lengths.correlation
    assert r > 0.9
    assert c.sentence == ("Cosine compares only the direction of the taste vectors; the dot product also multiplies "
                          "by their length, so it favours items with long vectors, which here are the often-rated "
                          f"items (correlation {r:.2f} between length and number of ratings), and the dot product's "
                          "top 2 averages 10.0 ratings against cosine's 3.0.")


def test_the_sentence_says_when_long_vectors_are_the_rarely_rated_ones():
    f = _factors([[1, 0], [1, 0.3], [1.5, 1.0], [3, 2.5], [0.5, 0.6], [4, 3.8]])
    train = _train([1] * 12 + [2] * 8 + [3] * 2 + [4] * 9 + [5] * 1 + [0])
    c = compare(f, train, "item", 0, 2)
    assert c.lengths.correlation < -0.3
    assert "; here longer vectors go with fewer ratings (correlation -" in c.sentence
    assert "so it leans to rarely rated items" in c.sentence
    assert "averages 1.5 ratings against cosine's 10.0" in c.sentence


def test_the_sentence_when_the_lists_agree_or_only_the_order_differs():
    f = _factors([[1, 0], [2, 0.1], [1, 1], [0, 1]])
    train = _train([0, 1, 2, 3])
    same = compare(f, train, "item", 0, 3)
    assert list(same.cosine.others) == list(same.dot.others)
    assert same.sentence.startswith("Both lists are the same here")
    g = _factors([[1, 0], [1, 0.1], [3, 2], [0, 1]])
    order = compare(g, _train([0, 1, 1, 1, 2, 2, 3, 3]), "item", 0, 2)  # length and count unrelated
    assert list(order.cosine.others) == [1, 2] and list(order.dot.others) == [2, 1]
    assert order.sentence.endswith(", and both top 2s hold the same items, only in another order.")
    assert "here length has little to do with how often an item is rated" in order.sentence
    # without a correlation to speak of, the sentence leaves it out
    lone = difference_sentence(order.cosine, order.dot, lengths(g, _train([0, 1])))
    assert "correlation" not in lone and lone.startswith("Cosine compares only the direction")


@pytest.mark.parametrize("solver", ["als", "biased-sgd"])
def test_on_a_trained_model_with_a_cold_item(solver):
    r = load_example("movie-night")
    o = r.observed
    held = np.stack([o.rows[o.cols == 6], o.cols[o.cols == 6]], axis=1)
    t = Training(r, solver, {"steps": 50}, holdout=held)
    t.run_to_end()
    f = t.factors
    for i in range(r.n_items):
        cos, dot = similar_items(f, i), similar_items(f, i, "dot")
        assert np.all(np.isfinite(cos.scores)) and np.all(np.abs(cos.scores) <= 1 + 1e-12)
        assert sorted(cos.others) == sorted(set(range(r.n_items)) - {i}) == sorted(dot.others)
        if i != 6:
            assert cos.others[-1] == 6 and cos.scores[-1] == 0.0 and not cos.known[-1]
            warm = dot.others[dot.known]
            np.testing.assert_allclose(dot.scores[dot.known], f.Q[:, warm].T @ f.Q[:, i], rtol=1e-12)
            assert np.all(np.diff(dot.scores[dot.known]) <= 0)
    c = compare(f, t.split.train, "user", 0, 4)
    assert len(c.cosine) == len(c.dot) == 4 and c.sentence.endswith(".")


def _full_order(f: Factors, kind: str, a: int, by: str) -> list[int]:
    """Every other one, best first, by the definition: known first, then by score, then the lower index."""
    full = similar(f, kind, a, by)  # n=None: every other one, sorted whole
    known = {int(k): bool(w) for k, w in zip(full.others, full.known)}
    score = {int(k): float(v) for k, v in zip(full.others, full.scores)}
    return sorted(known, key=lambda k: (not known[k], -score[k], k))


@pytest.mark.parametrize("seed", range(6))
def test_the_best_n_are_the_first_n_of_the_whole_order_ties_and_cold_ones_included(seed):
    rng = np.random.default_rng(seed)
    m = 60
    Q = rng.integers(-2, 3, size=(m, 2)).astype(float)  # small whole numbers: many equal scores
    Q[rng.choice(m, 8, replace=False)] = 0.0  # vectors of zeros: not known
    f = _factors(Q.tolist())
    f.cold_items = np.sort(rng.choice(m, 5, replace=False))
    for a in (0, 7, int(f.cold_items[0])):
        for by in ("cosine", "dot"):
            whole = _full_order(f, ITEM, a, by)
            assert list(similar(f, ITEM, a, by).others) == whole
            for n in (0, 1, 3, 10, 40, 52, 58, 59, 80):
                got = similar(f, ITEM, a, by, n)
                assert list(got.others) == whole[:n], (a, by, n)


def test_counts_given_beforehand_give_the_same_lengths_and_comparison():
    r = load_example("movie-night")
    t = Training(r, "biased-sgd", {"K": 3, "steps": 200}, holdout=0.2)
    t.run_to_end()
    res, train = t, t.split.train
    for kind in (ITEM, USER):
        count = r.n_items if kind == ITEM else r.n_users
        counts = rating_counts(train, kind, count)
        a, b = lengths(res.factors, train, kind), lengths(res.factors, None, kind, counts=counts)
        assert np.array_equal(a.ratings, b.ratings) and np.array_equal(a.length, b.length)
        assert a.correlation == b.correlation
        c1, c2 = compare(res.factors, train, kind, 1, 4), compare(res.factors, None, kind, 1, 4, counts=counts)
        assert list(c1.dot.others) == list(c2.dot.others) and c1.sentence == c2.sentence
    with pytest.raises(ValueError):
        lengths(res.factors, None, ITEM)
    with pytest.raises(ValueError):
        lengths(res.factors, None, ITEM, counts=np.zeros(r.n_items + 1))


def test_training_counts_are_the_counts_of_the_split_without_making_it():
    rng = np.random.default_rng(4)
    n, m = 40, 30
    flat = rng.choice(n * m, size=500, replace=False)
    r = Ratings(flat // m, flat % m, rng.integers(1, 6, 500).astype(float), (n, m))
    o = r.observed
    rated = np.stack([o.rows[::3], o.cols[::3]], axis=1)
    empty = np.array([(u, i) for u in range(n) for i in range(m) if (u * m + i) not in set(flat.tolist())][:20])
    cells = np.concatenate([rated, rated[:5], empty])  # repeated cells and cells without a rating too
    train = r.split_cells(cells).train
    for kind, count in ((ITEM, m), (USER, n)):
        assert np.array_equal(training_counts(r, cells, kind), rating_counts(train, kind, count))
        assert np.array_equal(training_counts(r, np.zeros((0, 2), np.int64), kind), rating_counts(o, kind, count))
    with pytest.raises(DataError):
        training_counts(r, np.array([[n, 0]]), ITEM)
