"""The model ladder: rungs, their predictions and errors on observed entries only, and the factor layers."""

from __future__ import annotations

import numpy as np
import pytest

from mfstudio.core import Ratings, Training, load_example
from mfstudio.core.ladder import (
    Parts,
    baseline,
    block_entries,
    ladder_split,
    layer,
    masked,
    normalized,
    predicted,
    residuals,
    rung_errors,
    rung_of,
    rung_predictions,
    rungs,
    sample_positions,
)
from mfstudio.core.metrics import rmse
from mfstudio.core.ratings import Observed
from mfstudio.core.solvers import Factors


def random_model(n: int = 30, m: int = 40, K: int = 4, biased: bool = True, seed: int = 0) -> Factors:
    rng = np.random.default_rng(seed)
    f = Factors(rng.normal(size=(n, K)), rng.normal(size=(K, m)))
    if biased:
        f.user_bias, f.item_bias, f.global_mean = rng.normal(size=n), rng.normal(size=m), 3.3
        f.fallback_mean = 3.3
    else:
        f.fallback_mean = 2.9
    return f


def random_ratings(n: int = 30, m: int = 40, density: float = 0.3, seed: int = 1) -> Ratings:
    rng = np.random.default_rng(seed)
    rows, cols = np.nonzero(rng.random((n, m)) < density)
    return Ratings(rows, cols, rng.integers(1, 6, len(rows)).astype(float), (n, m), scale=(1, 5))


def halves(r: Ratings, seed: int = 2):
    s = r.split(0.25, seed=seed)
    return s.train, s.val


def test_a_biased_ladder_climbs_from_the_mean_through_the_biases_to_every_factor():
    f = random_model(K=3)
    got = rungs(f)
    assert [label for label, _ in got] == ["mean only", "+ user biases", "+ item biases", "+ factor 1", "+ factor 2",
                                           "+ factor 3"]
    assert [p for _, p in got] == [Parts(True, False, False, 0), Parts(True, True, False, 0),
                                   Parts(True, True, True, 0), Parts(factors=1), Parts(factors=2), Parts()]
    assert got[-1][1].everything


def test_a_ladder_without_biases_has_the_factor_rungs_only():
    got = rungs(random_model(K=3, biased=False))
    assert [label for label, _ in got] == ["factor 1", "factors 1–2", "factors 1–3"]
    assert [p for _, p in got] == [Parts(factors=1), Parts(factors=2), Parts()]
    assert [label for label, _ in rungs(random_model(K=1, biased=False))] == ["factor 1"]


@pytest.mark.parametrize("biased", [True, False])
def test_each_rung_predicts_what_the_masked_model_predicts_and_incremental_equals_direct(biased):
    f = random_model(biased=biased)
    r = random_ratings()
    o = r.observed
    preds = [p.copy() for p in rung_predictions(f, o.rows, o.cols)]
    assert len(preds) == len(rungs(f))
    for (label, parts), pred in zip(rungs(f), preds):
        direct = masked(f, parts).predict_at(o.rows, o.cols)
        np.testing.assert_allclose(pred, direct, rtol=0, atol=1e-12, err_msg=label)
    if biased:  # by hand: the first rungs are mu, mu + b_u, mu + b_u + b_i
        np.testing.assert_allclose(preds[0], 3.3)
        np.testing.assert_allclose(preds[1], 3.3 + f.user_bias[o.rows])
        np.testing.assert_allclose(preds[2], 3.3 + f.user_bias[o.rows] + f.item_bias[o.cols])
    # one more factor adds exactly its term
    k = 1
    step = preds[len(preds) - f.K + k] - preds[len(preds) - f.K + k - 1]
    np.testing.assert_allclose(step, f.P[o.rows, k] * f.Q[k, o.cols], atol=1e-12)


@pytest.mark.parametrize("biased", [True, False])
def test_the_last_rung_has_the_whole_models_rmse(biased):
    f = random_model(biased=biased)
    train, val = halves(random_ratings())
    errs = rung_errors(f, train, val)
    assert abs(errs[-1].train_rmse - rmse(train, f)) < 1e-12
    assert abs(errs[-1].val_rmse - rmse(val, f)) < 1e-12
    assert errs[-1].parts == Parts() and errs[-1].label == rungs(f)[-1][0]
    for e in errs:  # and every rung has its masked model's
        assert e.train_rmse == pytest.approx(rmse(train, masked(f, e.parts)), abs=1e-12)
        assert e.val_rmse == pytest.approx(rmse(val, masked(f, e.parts)), abs=1e-12)


def test_without_validation_the_validation_errors_are_nan():
    f = random_model()
    errs = rung_errors(f, random_ratings().observed)
    assert all(np.isnan(e.val_rmse) for e in errs)
    empty = Observed(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    assert all(np.isnan(e.val_rmse) for e in rung_errors(f, random_ratings().observed, empty))


def test_a_trained_models_last_rung_is_the_runs_rmse():
    r = load_example("example-1")
    for solver in ("biased-sgd", "sgd"):
        t = Training(r, solver, {"K": 2, "steps": 300, "seed": 0, "alpha": 0.01}, holdout=0.25)
        for _ in t.run():
            pass
        snap = t.current()
        errs = rung_errors(snap.factors, t.split.train, t.split.val)
        assert errs[-1].train_rmse == pytest.approx(snap.train_rmse, abs=1e-12)
        assert errs[-1].val_rmse == pytest.approx(snap.val_rmse, abs=1e-12)
        if solver == "biased-sgd":  # the biases and factors each help on the ratings they were trained on
            assert errs[0].train_rmse > errs[2].train_rmse > errs[-1].train_rmse


@pytest.mark.parametrize("biased", [True, False])
def test_cold_users_and_items_predict_the_fallback_on_every_rung(biased):
    f = random_model(biased=biased)
    r = random_ratings()
    train = r.observed
    keep = (train.rows != 3) & (train.cols != 5)  # user 3 and item 5 get no training rating
    train_part = Observed(train.rows[keep], train.cols[keep], train.vals[keep])
    f.with_fallback(train_part)
    assert list(f.cold_users) == [3] and list(f.cold_items) == [5]
    o = r.observed
    for (label, parts), pred in zip(rungs(f), rung_predictions(f, o.rows, o.cols)):
        np.testing.assert_allclose(pred, masked(f, parts).predict_at(o.rows, o.cols), atol=1e-12, err_msg=label)
    errs = rung_errors(f, train_part, o)
    assert abs(errs[-1].val_rmse - rmse(o, f)) < 1e-12
    # the layers are 0 at a cold user or item, and the baseline holds the fallback
    users, items = np.arange(10), np.arange(10)
    np.testing.assert_array_equal(layer(f, 0, users, items)[3], 0.0)
    np.testing.assert_array_equal(layer(f, 0, users, items)[:, 5], 0.0)
    B = baseline(f, users, items)
    assert B[3, 5] == f.fallback_mean
    total = B + sum(layer(f, k, users, items) for k in range(f.K))
    np.testing.assert_allclose(total, predicted(f, users, items), atol=1e-12)


def test_rung_of_finds_the_rung_of_given_parts():
    f = random_model(K=3)
    assert rung_of(f, Parts()) == 5
    assert rung_of(f, Parts(factors=3)) == 5 and rung_of(f, Parts(factors=99)) == 5
    assert rung_of(f, Parts(True, False, False, 0)) == 0
    assert rung_of(f, Parts(factors=1)) == 3
    assert rung_of(f, Parts(True, False, True, 0)) is None  # item biases without user biases: no rung
    g = random_model(K=3, biased=False)
    assert rung_of(g, Parts(mean=False, factors=2)) == 1  # the bias switches do not matter without biases
    assert rung_of(g, Parts(factors=0)) is None
    assert normalized(g, Parts(user_bias=False, factors=3)) == Parts()


@pytest.mark.parametrize("biased", [True, False])
def test_the_layers_and_the_baseline_add_up_to_r_hat_on_any_block(biased):
    f = random_model(biased=biased)
    users, items = [4, 0, 7, 29], range(10, 22)
    L = [layer(f, k, users, items) for k in range(f.K)]
    assert L[0].shape == (4, 12)
    assert L[1][2, 3] == pytest.approx(f.P[7, 1] * f.Q[1, 13])
    assert np.linalg.matrix_rank(L[2]) == 1
    np.testing.assert_allclose(baseline(f, users, items) + sum(L), predicted(f, users, items), atol=1e-12)
    np.testing.assert_allclose(predicted(f, users, items), f.predict()[np.ix_(users, list(items))], atol=1e-12)
    if not biased:
        assert not baseline(f, users, items).any()


def test_residuals_are_the_miss_at_rated_cells_and_nan_elsewhere():
    f = random_model()
    r = random_ratings()
    users, items = np.arange(8), np.arange(3, 15)
    E = residuals(r, f, users, items)
    R = r.to_dense()[np.ix_(users, items)]
    R_hat = f.predict()[np.ix_(users, items)]
    np.testing.assert_array_equal(np.isnan(E), np.isnan(R))
    np.testing.assert_allclose(E[~np.isnan(R)], (R - R_hat)[~np.isnan(R)], atol=1e-12)
    sel, br, bc = block_entries(r.observed, r.n_users, r.n_items, users, items)
    assert len(sel) == np.count_nonzero(~np.isnan(R))
    assert np.all(r.observed.rows[sel] == users[br]) and np.all(r.observed.cols[sel] == items[bc])


@pytest.mark.parametrize(("n", "k"), [(10, 0), (10, 10), (10, 7), (1_000, 3), (5_000, 1_000), (10**7, 400_000)])
def test_sample_positions_are_k_distinct_sorted_positions_fixed_by_the_seed(n, k):
    got = sample_positions(n, k, seed=3)
    assert got.shape == (k,) and got.dtype == np.int64
    assert np.all(np.diff(got) > 0) and (k == 0 or (got[0] >= 0 and got[-1] < n))
    assert np.array_equal(sample_positions(n, k, seed=3), got)
    if 0 < k < n:
        assert not np.array_equal(sample_positions(n, k, seed=4), got)


def test_sample_positions_refuses_more_than_there_are():
    with pytest.raises(ValueError):
        sample_positions(5, 6)


def test_sample_positions_are_uniform():
    """Every position is drawn about equally often (each k-subset is equally likely)."""
    n, k, draws = 50, 10, 4_000
    hits = np.zeros(n)
    for seed in range(draws):
        hits[sample_positions(n, k, seed)] += 1
    expected = draws * k / n  # 800 each; binomial sd ~ 25
    assert np.all(np.abs(hits - expected) < 5 * np.sqrt(expected * (1 - k / n)))
    pairs = np.zeros((3, 3))  # and pairs too, not only single positions
    for seed in range(draws):
        s = set(sample_positions(n, k, seed)[:].tolist())
        for a in range(3):
            for b in range(3):
                pairs[a, b] += (a in s) and (b in s)
    both = draws * k * (k - 1) / (n * (n - 1))  # ~147
    off = pairs[~np.eye(3, dtype=bool)]
    assert np.all(np.abs(off - both) < 5 * np.sqrt(both))


def test_ladder_split_is_every_rating_of_small_data_and_a_fixed_sample_of_big_data():
    rng = np.random.default_rng(2)
    n, m = 300, 200
    flat = rng.choice(n * m, size=5_000, replace=False)
    r = Ratings(flat // m, flat % m, rng.integers(1, 6, 5_000).astype(float), (n, m))
    o = r.observed
    held = np.stack([o.rows[::4], o.cols[::4]], axis=1)
    train, val, note = ladder_split(r, held)
    exact = r.split_cells(held)
    assert note == "" and np.array_equal(train.vals, exact.train.vals) and len(val) == len(exact.val)
    train, val, note = ladder_split(r, held, most=1_000)
    assert len(train) + len(val) == 1_000 and note == "errors on a random 1,000 of the 5,000 ratings"
    keys = set(zip(held[:, 0].tolist(), held[:, 1].tolist()))
    assert all((a, b) in keys for a, b in zip(val.rows.tolist(), val.cols.tolist()))  # held out stays held out
    assert not any((a, b) in keys for a, b in zip(train.rows.tolist(), train.cols.tolist()))
    rated = set(zip(o.rows.tolist(), o.cols.tolist()))
    assert all(cell in rated for cell in zip(train.rows.tolist(), train.cols.tolist()))
    again = ladder_split(r, held, most=1_000)
    assert np.array_equal(again[0].rows, train.rows) and 150 < len(val) < 350  # the same sample; about a quarter
