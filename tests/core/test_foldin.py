"""Fold-in: the closed forms of each solver's one-row objective, built here independently with np.linalg.solve;
the result minimises that objective; nmf's is non-negative and meets KKT; the fallback; bad input; and how
close a fold-in comes to retraining with the person."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mfstudio.core import DataError, Factors, Observed, ParameterError, Training, load_example, metrics, recommend
from mfstudio.core.foldin import (
    OBJECTIVES,
    fold_in,
    fold_in_user,
    nnls,
    solve_spd,
    trained_user,
)
from mfstudio.core.solvers import SOLVERS

# each close to its minimum
SOLVER_STEPS = {"sgd": 40_000, "als": 100, "biased-sgd": 30_000, "nmf": 1000, "implicit-als": 100}
RATED = [(0, 5.0), (2, 1.0), (4, 4.5), (7, 2.0), (11, 3.0)]  # a new person's (item, rating) pairs


def _train(solver: str, ratings=None, holdout=None, **params) -> Training:
    ratings = ratings if ratings is not None else load_example("movie-night")
    t = Training(ratings, solver, {"steps": SOLVER_STEPS[solver], **params}, holdout=holdout)
    t.run_to_end()
    return t


@pytest.fixture(scope="module")
def trained() -> dict[str, Training]:
    return {s: _train(s) for s in SOLVERS}


def _enumerated_nnls(G: np.ndarray, h: np.ndarray) -> np.ndarray:
    """The unique minimiser of xᵀGx − 2hᵀx over x ≥ 0 (G positive definite), by trying every support."""
    K = len(h)
    for size in range(K + 1):
        for S in itertools.combinations(range(K), size):
            x = np.zeros(K)
            if S:
                x[list(S)] = np.linalg.solve(G[np.ix_(S, S)], h[list(S)])
            w = h - G @ x
            off = np.setdiff1d(np.arange(K), S)
            if np.all(x[list(S)] > 0) and np.all(w[off] <= 1e-12):
                return x
    raise AssertionError("no support satisfies KKT")


def _closed_form(t: Training, items: np.ndarray, r: np.ndarray, beta: float) -> tuple[np.ndarray, float | None]:
    """The fold-in's (p, b) from the task's formulas, solved with np.linalg.solve."""
    f = t.factors
    Q_I = f.Q[:, items]
    K, n = Q_I.shape
    if t.solver_name == "biased-sgd":
        X = np.column_stack([np.ones(n), Q_I.T])
        y = r - f.global_mean - f.item_bias[items]
        z = np.linalg.solve(X.T @ X + beta * n * np.eye(K + 1), X.T @ y)
        return z[1:], float(z[0])
    if t.solver_name == "implicit-als":  # every item counts: c = 1 + confidence r on the given ones, 1 elsewhere
        c = np.ones(f.Q.shape[1])
        c[items] += float(t.params["confidence"]) * r
        pref = np.zeros(f.Q.shape[1])
        pref[items] = 1.0
        return np.linalg.solve(f.Q @ (c[:, None] * f.Q.T) + beta * np.eye(K), f.Q @ (c * pref)), None
    G, h = Q_I @ Q_I.T + beta / 2 * n * np.eye(K), Q_I @ r
    if t.solver_name == "nmf":
        return _enumerated_nnls(G, h), None
    return np.linalg.solve(G, h), None


def _row_objective(t: Training, items: np.ndarray, r: np.ndarray, p: np.ndarray, b: float | None,
                   beta: float) -> float:
    """The solver's own objective (metrics.objective) over the new row's entries, the row appended to the model."""
    f = t.factors
    n = f.P.shape[0]
    if t.solver_name == "implicit-als":  # the new row's terms of Hu et al.'s F: every item, dense
        x = p @ f.Q
        c = np.ones(len(x))
        c[items] += float(t.params["confidence"]) * r
        pref = np.zeros(len(x))
        pref[items] = 1.0
        return float(np.sum(c * (pref - x) ** 2) + beta * p @ p)
    g = Factors(np.vstack([f.P, p]), f.Q, None if b is None else np.append(f.user_bias, b), f.item_bias,
                f.global_mean)
    return metrics.objective(Observed(np.full(len(items), n), items, r), g, beta)


def test_every_solver_has_a_one_row_problem():
    assert set(OBJECTIVES) == set(SOLVERS)


@pytest.mark.parametrize("beta", [None, 0.5])
@pytest.mark.parametrize("solver", list(SOLVERS))
def test_equals_the_closed_form(trained, solver, beta):
    t = trained[solver]
    params = dict(t.params) if beta is None else {**t.params, "beta": beta}
    fi = fold_in(t.ratings, t.factors, t.split.train, solver, params, RATED)
    items, r = np.array([i for i, _ in RATED]), np.array([v for _, v in RATED])
    p, b = _closed_form(t, items, r, float(params["beta"]))
    np.testing.assert_allclose(fi.p, p, rtol=0, atol=1e-9)
    if b is None:
        assert fi.user_bias is None
        np.testing.assert_allclose(fi.scores, p @ t.factors.Q, rtol=0, atol=1e-9)
    else:
        assert fi.user_bias == pytest.approx(b, abs=1e-9)
        f = t.factors
        np.testing.assert_allclose(fi.scores, f.global_mean + b + f.item_bias + p @ f.Q, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(fi.rated, items)
    np.testing.assert_array_equal(fi.values, r)
    assert not fi.fallback and fi.note == "" and fi.unused.size == 0


@pytest.mark.parametrize("solver", list(SOLVERS))
def test_no_perturbation_lowers_the_one_row_objective(trained, solver):
    t = trained[solver]
    beta = float(t.params["beta"])
    fi = fold_in(t.ratings, t.factors, t.split.train, solver, t.params, RATED)
    items, r = np.array([i for i, _ in RATED]), np.array([v for _, v in RATED])
    best = _row_objective(t, items, r, fi.p, fi.user_bias, beta)
    rng = np.random.default_rng(7)
    K = t.factors.K
    for _ in range(300):
        d = rng.normal(size=K + 1)
        size = 10.0 ** rng.uniform(-6, 0)
        p = fi.p + size * d[1:]
        if solver == "nmf":
            p = np.maximum(p, 0.0)  # any point the constraint allows
        b = None if fi.user_bias is None else fi.user_bias + size * d[0]
        assert _row_objective(t, items, r, p, b, beta) >= best - 1e-12 * best


def test_nmf_fold_in_is_non_negative_and_meets_kkt_where_the_constraint_binds(trained):
    t = trained["nmf"]
    f, beta = t.factors, float(t.params["beta"])
    # love the films most of taste 1, hate those most of taste 2: unconstrained, taste 2 goes negative
    lean = f.Q[0] / (f.Q[0] + f.Q[1])
    order = np.argsort(lean)
    given = [(int(i), 5.0) for i in order[-3:]] + [(int(i), 1.0) for i in order[:3]]
    items, r = np.array(sorted(i for i, _ in given)), np.array([v for _, v in sorted(given)])
    G, h = f.Q[:, items] @ f.Q[:, items].T + beta / 2 * len(items) * np.eye(2), f.Q[:, items] @ r
    assert np.linalg.solve(G, h).min() < 0  # the constraint matters here
    fi = fold_in(t.ratings, f, t.split.train, "nmf", t.params, given)
    assert np.all(fi.p >= 0) and np.any(fi.p == 0) and np.any(fi.p > 0)
    g = 2 * (G @ fi.p - h)
    scale = np.abs(h).max()
    assert np.all(np.abs(g[fi.p > 0]) <= 1e-9 * scale)
    assert np.all(g[fi.p == 0] >= -1e-9 * scale)
    np.testing.assert_allclose(fi.p, _enumerated_nnls(G, h), rtol=0, atol=1e-9)


def test_nnls_matches_enumeration_on_random_problems():
    rng = np.random.default_rng(3)
    bound = 0
    for _ in range(200):
        K, n = int(rng.integers(1, 6)), int(rng.integers(1, 9))
        A = np.vstack([rng.normal(size=(n, K)), np.sqrt(rng.uniform(0.01, 1.0)) * np.eye(K)])
        d = np.concatenate([rng.normal(size=n) * 3, np.zeros(K)])
        G, h = A.T @ A, A.T @ d
        x = nnls(G, h)
        np.testing.assert_allclose(x, _enumerated_nnls(G, h), rtol=0, atol=1e-9)
        assert np.all(x >= 0)
        bound += int(np.any(x == 0))
    assert bound > 50  # the constraint was active in many of them


def test_solve_spd_is_cholesky_exact_and_minimum_norm_when_singular():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(8, 4))
    G, h = A.T @ A + 0.1 * np.eye(4), rng.normal(size=4)
    np.testing.assert_allclose(solve_spd(G, h), np.linalg.solve(G, h), rtol=1e-12, atol=1e-12)
    q = np.array([[1.0], [2.0]])  # K = 2, one rating, beta = 0: G = q qᵀ is singular
    x = solve_spd(q @ q.T, q[:, 0] * 3.0)
    np.testing.assert_allclose(x, q[:, 0] * 3.0 / 5.0, atol=1e-12)  # the minimum-norm solution


@pytest.mark.parametrize("solver", list(SOLVERS))
def test_no_rating_falls_back_to_the_mean_and_says_so(trained, solver):
    t = trained[solver]
    f = t.factors
    fi = fold_in(t.ratings, f, t.split.train, solver, t.params, [])
    assert fi.fallback and "fallback" in fi.note and fi.rated.size == 0
    np.testing.assert_array_equal(fi.p, np.zeros(f.K))
    if solver == "biased-sgd":
        assert fi.user_bias == 0.0
        np.testing.assert_allclose(fi.scores, f.global_mean + f.item_bias)
        assert "plus each item's bias" in fi.note
    elif solver == "implicit-als":  # no interaction known: preference 0
        assert fi.user_bias is None and "preference 0" in fi.note
        np.testing.assert_array_equal(fi.scores, np.zeros(t.ratings.n_items))
    else:
        assert fi.user_bias is None
        np.testing.assert_array_equal(fi.scores, np.full(t.ratings.n_items, np.mean(t.ratings.observed.vals)))
    assert len(fi.recommendations(3, min_ratings=1)) == 3


@pytest.mark.parametrize("solver", ["als", "biased-sgd"])
def test_ratings_of_items_without_training_ratings_are_not_used(solver):
    r = load_example("movie-night")
    o = r.observed
    cold = 3
    held = np.stack([o.rows[o.cols == cold], o.cols[o.cols == cold]], axis=1)  # every rating of item 4 held out
    t = _train(solver, r, held)
    f, train = t.factors, t.split.train
    assert list(f.cold_items) == [cold]
    only = fold_in(r, f, train, solver, t.params, [(cold, 4.0)])
    assert only.fallback and list(only.unused) == [cold] and only.note.startswith(f"Nobody rated {r.items[cold]}")
    mixed = fold_in(r, f, train, solver, t.params, [*RATED, (cold, 4.0)])
    plain = fold_in(r, f, train, solver, t.params, RATED)
    np.testing.assert_array_equal(mixed.p, plain.p)
    assert not mixed.fallback and mixed.note.endswith("that rating is not used.")
    assert mixed.scores[cold] == pytest.approx(f.fallback_mean + (mixed.user_bias or 0.0))
    assert cold in mixed.rated and cold not in mixed.recommendations(15, min_ratings=1).item


def test_bad_input_is_one_sentence(trained):
    t = trained["sgd"]
    go = lambda given, solver="sgd", f=None: fold_in(t.ratings, f or t.factors, t.split.train, solver, t.params,
                                                     given)
    for given, message in [
        ([(15, 4.0)], "There is no item with index 15; the 15 items have indices 0 to 14."),
        ([(-1, 4.0)], "There is no item with index -1; the 15 items have indices 0 to 14."),
        ([(1.0, 4.0)], "An item must be given by its index (a whole number); got 1.0."),
        ([(True, 4.0)], "An item must be given by its index (a whole number); got True."),
        ([(1, float("nan"))], "The rating of Starfall is nan; every rating must be a finite number."),
        ([(1, "good")], "The rating of Starfall must be a number; got 'good'."),
        ([(1, 6.0)], "A rating of 6 for Starfall is off the rating scale 1 to 5; give a rating from 1 to 5."),
        ([(1, 4.0), (1, 5.0)], "Starfall is rated twice (4 and 5); give one rating per item."),
        ([(1, 4.0, 2)], "Each rating must be an (item, rating) pair; got (1, 4.0, 2)."),
    ]:
        with pytest.raises(DataError) as exc:
            go(given)
        assert str(exc.value) == message
    with pytest.raises(ParameterError, match="no solver called 'svd'"):
        go(RATED, "svd")
    with pytest.raises(DataError, match="does not fit the biased-sgd solver"):
        go(RATED, "biased-sgd")
    with pytest.raises(DataError, match="The factors do not fit the ratings"):
        go(RATED, f=Factors(t.factors.P[:3], t.factors.Q))
    with pytest.raises(ParameterError):
        fold_in(t.ratings, t.factors, t.split.train, "sgd", {"beta": -1.0}, RATED)


def test_recommendations_skip_rated_items_rank_by_score_and_break_ties_by_index():
    r = load_example("movie-night")
    t = _train("als", r)
    fi = fold_in(r, t.factors, t.split.train, "als", t.params, RATED)
    rec = fi.recommendations(20, min_ratings=1)
    assert len(rec) == 15 - len(RATED)
    assert not set(rec.item) & {i for i, _ in RATED}
    assert np.all(np.diff(rec.score) <= 0) and list(rec.rank) == list(range(1, len(rec) + 1))
    np.testing.assert_array_equal(rec.score, fi.scores[rec.item])
    with_rated = fi.recommendations(20, min_ratings=1, exclude_rated=False)
    assert len(with_rated) == 15
    tied = type(fi)(fi.p, None, np.zeros(15), fi.rated, fi.values, fi.unused, fi.item_counts, fi.scale, False)
    assert list(tied.recommendations(4, min_ratings=1).item) == [1, 3, 5, 6]
    thick = fi.recommendations(20, min_ratings=6)
    assert thick.min_ratings == 6 and np.all(thick.item_ratings >= 6) and np.all(fi.item_counts[thick.item] >= 6)


@pytest.mark.parametrize("solver", list(SOLVERS))
def test_a_trained_user_ranks_as_recommend_does(trained, solver):
    t = trained[solver]
    recs = recommend(t.ratings, t.factors, 4, train=t.split.train)
    for u in range(t.ratings.n_users):
        mine = trained_user(t.ratings, t.factors, t.split.train, u)
        got = mine.recommendations(4)
        np.testing.assert_array_equal(got.item, recs.item[recs.user == u])
        # one row's P @ Q against a block's: the same sums, maybe not to the last bit
        np.testing.assert_allclose(got.score, recs.score[recs.user == u], rtol=1e-14, atol=1e-14)
        np.testing.assert_array_equal(got.item_ratings, recs.item_ratings[recs.user == u])
        np.testing.assert_array_equal(mine.p, t.factors.P[u])


def test_fold_in_of_a_user_is_the_als_user_half_step():
    # one more half-step of als solves every user's row against the same Q: exactly the fold-in of each
    t = _train("als")
    before = t.factors.copy()
    t.step_update()  # the users' half-step
    fi = [fold_in_user(t.ratings, before, t.split.train, "als", t.params, u) for u in range(t.ratings.n_users)]
    np.testing.assert_allclose(np.array([x.p for x in fi]), t.factors.P, rtol=0, atol=1e-9)


def test_fold_in_of_a_user_is_the_implicit_als_exact_user_half_step():
    t = _train("implicit-als", cg_steps=None, confidence=2.0, beta=0.3)
    before = t.factors.copy()
    t.step_update()  # the users' half-step: each user's weighted ridge solve over every item
    fi = [fold_in_user(t.ratings, before, t.split.train, "implicit-als", t.params, u) for u in range(t.ratings.n_users)]
    np.testing.assert_allclose(np.array([x.p for x in fi]), t.factors.P, rtol=0, atol=1e-9)
    assert fi[0].scale == (0.0, 1.0) and np.all(fi[0].predicted <= 1.0)
    counts = fold_in(t.ratings, before, t.split.train, "implicit-als", t.params, [(0, 40.0)])  # a count, not a rating
    assert not counts.fallback and counts.recommendations(3).item[0] != 0


def test_fold_in_of_a_user_without_training_ratings_is_the_fallback():
    r = load_example("movie-night")
    o = r.observed
    held = np.stack([o.rows[o.rows == 2], o.cols[o.rows == 2]], axis=1)
    t = _train("biased-sgd", r, held)
    fi = fold_in_user(r, t.factors, t.split.train, "biased-sgd", t.params, 2)
    assert fi.fallback and fi.rated.size == 0
    trained_row = trained_user(r, t.factors, t.split.train, 2)
    assert trained_row.fallback and trained_row.note.startswith("Chloé has no training ratings")
    np.testing.assert_allclose(fi.scores, trained_row.scores)
    with pytest.raises(DataError, match="There is no user with index 12; the 12 users have indices 0 to 11."):
        trained_user(r, t.factors, t.split.train, 12)


def _without(r, who: int):
    """The ratings with user ``who`` taken out (the users after it move up one)."""
    o = r.observed
    rest = o.rows != who
    return type(r)(np.where(o.rows[rest] > who, o.rows[rest] - 1, o.rows[rest]), o.cols[rest], o.vals[rest],
                   (r.n_users - 1, r.n_items), [u for k, u in enumerate(r.users) if k != who], r.items, r.scale)


@pytest.mark.parametrize("solver", list(SOLVERS))
def test_fold_in_comes_close_to_retraining_with_the_person(solver):
    # each user in turn: train without them, fold them in, and compare with the model trained with them
    r = load_example("movie-night")
    o = r.observed
    t_with = _train(solver, r)
    fold_rms, fallback_rms, p_gap, p_len = [], [], [], []
    for who in range(r.n_users):
        without = _without(r, who)
        t = _train(solver, without)
        mine = o.rows == who
        fi = fold_in(without, t.factors, t.split.train, solver, t.params, zip(o.cols[mine], o.vals[mine]))
        nothing = fold_in(without, t.factors, t.split.train, solver, t.params, [])
        retrained = t_with.factors.predict_rows(who, who + 1)[0]
        fold_rms.append(np.sqrt(np.mean((fi.scores - retrained) ** 2)))
        fallback_rms.append(np.sqrt(np.mean((nothing.scores - retrained) ** 2)))
        # tastes are only defined up to rotation: turn the retrained row into the fold-in's basis (Procrustes on Q)
        U, _, Vt = np.linalg.svd(t.factors.Q @ t_with.factors.Q.T)
        p_retrained = (U @ Vt) @ t_with.factors.P[who]
        p_gap.append(np.linalg.norm(fi.p - p_retrained))
        p_len.append(np.linalg.norm(p_retrained))
    print(f"\n{solver}, leave one user out, mean over the {r.n_users} users: |p_fold-in - p_retrained| = "
          f"{np.mean(p_gap):.4f} (tastes aligned; |p_retrained| = {np.mean(p_len):.4f}); RMS difference from the "
          f"retrained predictions: fold-in {np.mean(fold_rms):.4f}, fallback {np.mean(fallback_rms):.4f}")
    assert np.mean(fold_rms) < 0.5 * np.mean(fallback_rms)
    assert sum(f < b for f, b in zip(fold_rms, fallback_rms)) >= r.n_users - 1


def test_a_trained_listener_and_a_folded_in_one_share_the_preference_range():
    from mfstudio.core.foldin import trained_user

    ratings = load_example("listening")
    t = Training(ratings, "implicit-als", {"K": 2, "steps": 3})
    *_, snap = t.run()
    kept = trained_user(ratings, snap.factors, t.split.train, 0)
    fresh = fold_in_user(ratings, snap.factors, t.split.train, "implicit-als", t.params, 0)
    assert kept.scale == fresh.scale == (0.0, 1.0)
    assert kept.predicted.max() <= 1.0


def test_a_negative_count_is_refused_in_a_sentence():
    listening = load_example("listening")
    t = Training(listening, "implicit-als", {"K": 2, "steps": 2})
    with pytest.raises(DataError, match=r"A count of -1 for .* is below 0; a count of events is a number"):
        fold_in(listening, t.factors, listening.observed, "implicit-als", t.params, [(0, -1.0)])
    assert fold_in(listening, t.factors, listening.observed, "implicit-als", t.params, [(0, 3.0)]).scale == (0, 1)
