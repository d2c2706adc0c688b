"""Properties every solver must have."""

import numpy as np
import pytest

from mfstudio.core.errors import DataError, ParameterError
from mfstudio.core.examples import load_example
from mfstudio.core.ratings import Ratings
from mfstudio.core.solvers import SOLVERS, Factors, get_solver
from mfstudio.core.training import StopReason, Training

ALL = list(SOLVERS)
FEW_STEPS = {"sgd": 3000, "als": 30, "biased-sgd": 300, "nmf": 300, "implicit-als": 30}


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("example", ["example-1", "example-2"])
def test_objective_goes_down(name, example):
    R = load_example(example)
    t = Training(R, name, {"steps": FEW_STEPS[name], "tol": 0.0})
    snap = t.run_to_end()
    h = t.history.arrays()
    assert snap.reason is StopReason.BUDGET
    assert h[-1, 1] < t.initial_objective
    assert h[-1, 1] < h[0, 1] or name == "als"  # als solves exactly; its first step is already low
    assert snap.train_rmse < 0.6  # implicit-als: of the preferences, 1 on every rated cell


@pytest.mark.parametrize("name", ALL)
def test_recovers_an_exact_low_rank_matrix(name):
    rng = np.random.default_rng(5)
    P = rng.uniform(0.5, 1.5, (12, 2))
    Q = rng.uniform(0.5, 1.5, (2, 10))
    R = P @ Q
    ratings = Ratings.from_dense(R)
    params = {"K": 2, "beta": 0.0, "tol": 0.0,
              "steps": {"sgd": 20000, "als": 300, "biased-sgd": 3000, "nmf": 3000, "implicit-als": 300}[name]}
    if name == "sgd":
        params["alpha"] = 0.01
    if name == "biased-sgd":
        params["alpha"] = 0.02
    snap = Training(ratings, name, params).run_to_end()
    # implicit-als models preferences: every cell of this full matrix is an interaction, preference 1
    np.testing.assert_allclose(snap.factors.predict(), (R > 0) * 1.0 if SOLVERS[name].implicit else R, atol=0.05)


@pytest.mark.parametrize("name", ALL)
def test_missing_entries_are_ignored(name):
    R = load_example("example-1").to_dense()
    a = Ratings.from_dense(R)
    R2 = R.copy()
    R2[np.isnan(R2)] = 0.0  # 0 = not rated, as in the notebook
    b = Ratings.from_dense(R2)
    assert a == b
    # changing what lies under a missing cell changes nothing
    R3 = np.nan_to_num(R, nan=0.0)
    c = Ratings.from_dense(R3, zeros_are_missing=True)
    sa = Training(a, name, {"steps": 50}).run_to_end()
    sc = Training(c, name, {"steps": 50}).run_to_end()
    np.testing.assert_array_equal(sa.factors.P, sc.factors.P)
    np.testing.assert_array_equal(sa.factors.Q, sc.factors.Q)


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_factors_whatever_the_chunks(name):
    R = load_example("movie-night")
    a = Training(R, name, {"steps": 200, "seed": 11}, holdout=0.2)
    b = Training(R, name, {"steps": 200, "seed": 11}, holdout=0.2)
    fa = a.run_to_end().factors
    # b runs in one-step pieces
    for _ in range(200):
        for _snap in b.run(max_steps=1):
            pass
    fb = b.factors
    np.testing.assert_array_equal(fa.P, fb.P)
    np.testing.assert_array_equal(fa.Q, fb.Q)
    np.testing.assert_array_equal(a.history.arrays()[:, :6], b.history.arrays()[:, :6])
    c = Training(R, name, {"steps": 200, "seed": 12}, holdout=0.2).run_to_end().factors
    assert not np.array_equal(fa.P, c.P)


@pytest.mark.parametrize("name", ALL)
def test_users_and_items_without_ratings(name):
    R = np.array(load_example("example-1").to_dense())
    R = np.vstack([R, np.full((1, 4), np.nan)])
    R = np.hstack([R, np.full((5, 1), np.nan)])
    ratings = Ratings.from_dense(R)
    assert ratings.shape == (5, 5)
    snap = Training(ratings, name, {"steps": 100}).run_to_end()
    assert snap.factors.all_finite()
    assert snap.factors.predict().shape == (5, 5)


@pytest.mark.parametrize("name", ALL)
def test_k_larger_than_the_matrix_works(name):
    ratings = load_example("example-1")
    snap = Training(ratings, name, {"K": 10, "steps": 200}).run_to_end()
    assert snap.factors.P.shape == (4, 10)
    assert snap.factors.all_finite()
    assert snap.reason is not StopReason.DIVERGED


def test_divergence_guard_fires_at_alpha_10():
    ratings = load_example("example-1")
    t = Training(ratings, "sgd", {"alpha": 10.0, "steps": 1000})
    snap = t.run_to_end()
    assert snap.reason is StopReason.DIVERGED and snap.failed
    assert "diverged at step" in snap.message and "smaller learning rate" in snap.message
    assert snap.factors.all_finite()
    assert np.all(np.isfinite(t.history.arrays()[:, 1]))


def test_biased_sgd_divergence_guard():
    t = Training(load_example("example-2"), "biased-sgd", {"alpha": 10.0, "steps": 1000})
    snap = t.run_to_end()
    assert snap.reason is StopReason.DIVERGED
    assert snap.factors.all_finite()


def test_nmf_stays_non_negative():
    t = Training(load_example("movie-night"), "nmf", {"K": 3, "steps": 200})
    f = t.run_to_end().factors
    assert (f.P >= 0).all() and (f.Q >= 0).all()


def test_als_never_raises_the_objective():
    t = Training(load_example("movie-night"), "als", {"K": 3, "steps": 40, "beta": 0.1, "tol": 0})
    t.run_to_end()
    obj = t.history.column("objective")
    assert np.all(np.diff(obj) <= 1e-9 * obj[:-1])


def test_parameters_are_checked():
    with pytest.raises(ParameterError, match="Latent features"):
        Training(load_example(), "sgd", {"K": 0})
    with pytest.raises(ParameterError, match="Learning rate"):
        Training(load_example(), "sgd", {"alpha": -1})
    with pytest.raises(ParameterError, match="no parameter"):
        Training(load_example(), "als", {"alpha": 0.1})
    with pytest.raises(ParameterError, match="no solver"):
        get_solver("svd++")


def test_init_shapes_are_checked():
    with pytest.raises(DataError, match="starting factors"):
        Training(load_example(), "sgd", {"K": 2}, init=Factors(np.ones((3, 2)), np.ones((2, 4))))


def test_no_ratings_is_refused():
    with pytest.raises(DataError, match="no ratings"):
        Training(Ratings.from_dense(np.zeros((3, 3))), "sgd")


def test_every_solver_declares_its_parameters():
    for cls in SOLVERS.values():
        names = [p.name for p in cls.params]
        assert {"K", "steps", "beta", "tol", "seed"} <= set(names)
        assert cls.__module__ and cls.description and cls.title and cls.objective_name
        for p in cls.params:
            assert p.minimum <= p.default <= p.maximum and p.help and p.label
        assert get_solver("sgd").defaults() | {} == {
            "K": 2, "steps": 10_000, "alpha": 0.0002, "beta": 0.02, "tol": 0.001, "seed": 0
        }
        assert max(p.maximum for p in cls.params if p.name == "steps") >= 1_000_000_000


def test_divergence_advice_fits_the_solver():
    R = Ratings.from_dense([[1e5, 2e5], [3e5, 0]])
    snap = Training(R, "als", {"beta": 0.0, "K": 2, "steps": 5}).run_to_end()
    # als on such data may or may not blow up; when it does, it must not speak of a learning rate
    if snap.failed:
        assert "learning rate" not in snap.message and "regularization" in snap.message


def test_huge_ratings_are_refused_with_advice():
    R = Ratings.from_dense([[1e200, 2e200], [3e200, 0]])
    with pytest.raises(DataError, match="too large.*rescale"):
        Training(R, "sgd")


def test_all_ratings_held_out_is_explained():
    R = load_example()
    with pytest.raises(DataError, match="Every rating is held out"):
        Training(R, "sgd", holdout=np.ones(R.nnz, dtype=bool))


def test_bad_starting_biases_are_refused():
    R = load_example()
    P, Q = np.ones((4, 2)), np.ones((2, 4))
    for bad, match in [(np.ones(3), "one number per user"), (np.array(["a"] * 4), "must be numbers")]:
        with pytest.raises(DataError, match=match):
            Training(R, "biased-sgd", init=Factors(P, Q, bad, np.zeros(4), 3.0))
    with pytest.raises(DataError, match="global mean"):
        Training(R, "biased-sgd", init=Factors(P, Q, np.zeros(4), np.zeros(4), np.zeros(0)))


def test_range_messages_read_well():
    with pytest.raises(ParameterError, match=r"up to 2,147,483,647; got -1\."):
        Training(load_example(), "sgd", {"seed": -1})


def test_solvers_that_share_an_objective_name_compute_the_same_objective():
    from mfstudio.core import metrics

    R = load_example("example-1")
    names = {cls.objective_name for cls in SOLVERS.values()}
    assert names == {"the notebook's e", "e with biases", "Hu et al.'s weighted F"}
    same = [n for n, cls in SOLVERS.items() if cls.objective_name == "the notebook's e"]
    assert sorted(same) == ["als", "nmf", "sgd"]
    # the objective each reports after a step is the notebook's e of its factors
    for name in same:
        t = Training(R, name, {"steps": 1})
        snap = t.run_to_end()
        assert snap.objective == pytest.approx(metrics.objective(t.split.train, snap.factors, 0.02), rel=1e-9)
    from mfstudio.core.solvers.implicit_als import objective_value

    t = Training(R, "implicit-als", {"steps": 1})  # every cell counts: its own objective (default β 5), not e
    snap = t.run_to_end()
    assert snap.objective == pytest.approx(objective_value(t.split.train, snap.factors, 5.0, 1.0), rel=1e-9)
