"""Defaults that suit the data's size: the notebook's for small matrices, measured values for larger data."""

from __future__ import annotations

import numpy as np
import pytest

from mfstudio.core import Ratings, Training, get_solver
from mfstudio.core.defaults import LARGER, LARGER_DATA, data_defaults, retune, sentence


def test_small_data_keeps_the_notebooks_values_and_larger_data_takes_the_measured_ones():
    for solver in ("sgd", "als", "biased-sgd", "nmf"):
        own = {s.name: s.default for s in get_solver(solver).params}
        assert data_defaults(solver, LARGER - 1) == own
        assert data_defaults(solver, LARGER) == {**own, **LARGER_DATA.get(solver, {})}
    assert data_defaults("als", 100_000)["beta"] == 0.2 and data_defaults("sgd", 100_000)["alpha"] == 0.002
    assert data_defaults("biased-sgd", 100_000) == data_defaults("biased-sgd", 10)  # Surprise's already suit


def test_retune_moves_only_values_still_at_the_other_sizes_default():
    assert retune("als", {"K": 20, "beta": 0.02}, 100_000) == {"beta": 0.2}
    assert retune("als", {"K": 20, "beta": 0.07}, 100_000) == {}  # set by hand: kept
    assert retune("als", {"K": 20, "beta": 0.2}, 13) == {"beta": 0.02}  # back for a notebook-sized matrix
    assert retune("als", {"beta": 0.02}, 13) == {}
    assert retune("biased-sgd", {"beta": 0.02, "alpha": 0.005}, 100_000) == {}
    assert retune("sgd", {"alpha": 0.0002, "beta": 0.02}, 5_000) == {"alpha": 0.002}


def test_the_sentence_names_the_size_the_values_and_why():
    text = sentence("als", {"beta": 0.2}, 100_000)
    assert text.startswith("For 100,000 ratings als starts from β = 0.2 (the notebook's 0.02 suits its 5 × 4 matrix")
    assert sentence("sgd", {"alpha": 0.0002}, 13) == "For 13 ratings sgd starts from the notebook's α = 0.0002 again."


@pytest.fixture(scope="module")
def larger_data() -> tuple[Ratings, np.ndarray]:
    """600 users x 800 items, 30,000 ratings 1-5 from a noisy rank-6 model."""
    rng = np.random.default_rng(3)
    n, m, nnz = 600, 800, 30_000
    flat = rng.choice(n * m, size=nnz, replace=False)
    rows, cols = flat // m, flat % m
    P, Q = rng.normal(0, 0.5, (n, 6)), rng.normal(0, 0.5, (6, m))
    vals = np.clip(np.round(3.4 + np.einsum("ik,ki->i", P[rows], Q[:, cols]) + rng.normal(0, 0.8, nnz)), 1, 5)
    return Ratings(rows, cols, vals, (n, m), scale=(1, 5))


@pytest.mark.parametrize("solver", ["als", "nmf"])
def test_the_larger_data_default_predicts_held_out_ratings_better(larger_data, solver):
    def val_rmse(params):
        t = Training(larger_data, solver, {"K": 10, "steps": 15, "seed": 1, **params}, holdout=0.2)
        return [snap for snap in t.run()][-1].val_rmse

    notebook = val_rmse({"beta": get_solver(solver).defaults()["beta"]})
    larger = val_rmse({"beta": data_defaults(solver, larger_data.nnz)["beta"]})
    assert larger < notebook - 0.02


def test_the_data_is_read_as_interactions_by_the_switch_or_by_a_solver_of_counts():
    from mfstudio.core.defaults import reads_as_interactions

    assert reads_as_interactions(None, True) and reads_as_interactions("sgd", True)
    assert reads_as_interactions("implicit-als", False)
    assert not reads_as_interactions("als", False) and not reads_as_interactions(None, False)
    assert not reads_as_interactions("no-such-solver", False)
