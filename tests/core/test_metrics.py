"""Error measures and objectives on tiny examples worked out by hand."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from mfstudio.core.metrics import mae, objective, rmse
from mfstudio.core.ratings import Observed
from mfstudio.core.solvers.base import Factors


def observed(*cells: tuple[int, int, float]) -> Observed:
    rows, cols, vals = zip(*cells) if cells else ((), (), ())
    return Observed(np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64), np.array(vals, dtype=float))


# P @ Q = [[1, 2], [6, 0]]; the ratings 2, 2, 4 at (0,0), (0,1), (1,0) miss it by 1, 0 and -2.
PLAIN = Factors(np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([[1.0, 2.0], [3.0, 0.0]]))
PLAIN_R = observed((0, 0, 2.0), (0, 1, 2.0), (1, 0, 4.0))

# R_hat = 3 + b + c + P @ Q = [[4.5, 3.5], [2, 3]]; the ratings 5, 2, 3.5 at (0,0), (1,1), (0,1) miss it by 0.5, -1, 0.
BIASED = Factors(np.array([[1.0], [0.0]]), np.array([[1.0, -1.0]]), user_bias=np.array([0.5, -1.0]),
                 item_bias=np.array([0.0, 1.0]), global_mean=3.0)
BIASED_R = observed((0, 0, 5.0), (1, 1, 2.0), (0, 1, 3.5))


def test_rmse_is_the_root_of_the_mean_squared_miss():
    assert rmse(PLAIN_R, PLAIN) == pytest.approx(math.sqrt((1 + 0 + 4) / 3))
    assert rmse(BIASED_R, BIASED) == pytest.approx(math.sqrt((0.25 + 1 + 0) / 3))


def test_mae_is_the_mean_absolute_miss():
    assert mae(PLAIN_R, PLAIN) == pytest.approx((1 + 0 + 2) / 3)
    assert mae(BIASED_R, BIASED) == pytest.approx((0.5 + 1 + 0) / 3)


def test_a_perfect_fit_has_no_error():
    exact = observed((0, 0, 1.0), (0, 1, 2.0), (1, 0, 6.0), (1, 1, 0.0))
    assert rmse(exact, PLAIN) == 0.0 and mae(exact, PLAIN) == 0.0
    assert objective(exact, PLAIN, 0.0) == 0.0


def test_the_notebooks_objective_adds_half_beta_times_the_squared_factors_of_each_rated_entry():
    # squared misses 1 + 0 + 4 = 5; |P_i|^2 + |Q_:j|^2 per rated entry: (1 + 10) + (1 + 4) + (4 + 10) = 30
    assert objective(PLAIN_R, PLAIN, 0.5) == pytest.approx(5 + 0.5 / 2 * 30)
    assert objective(PLAIN_R, PLAIN, 0.0) == pytest.approx(5)


def test_the_biased_objective_adds_beta_times_the_squared_biases_and_factors():
    # squared misses 0.25 + 1 + 0 = 1.25; b_i^2 + c_j^2 + |P_i|^2 + |Q_:j|^2: 2.25 + 3 + 3.25 = 8.5
    assert objective(BIASED_R, BIASED, 0.1) == pytest.approx(1.25 + 0.1 * 8.5)


def test_only_the_given_entries_count():
    one = observed((1, 0, 4.0))  # misses by -2
    assert rmse(one, PLAIN) == pytest.approx(2.0) and mae(one, PLAIN) == pytest.approx(2.0)
    assert objective(one, PLAIN, 1.0) == pytest.approx(4 + 1.0 / 2 * (4 + 10))


def test_no_entries_give_nan_errors_and_a_zero_objective():
    none = observed()
    assert math.isnan(rmse(none, PLAIN)) and math.isnan(mae(none, PLAIN))
    assert objective(none, PLAIN, 0.02) == 0.0


def test_a_cold_user_is_measured_by_the_fallback_prediction():
    cold = Factors(PLAIN.P, PLAIN.Q, cold_users=np.array([1]), fallback_mean=4.0)  # user 1 is predicted 4, not 6
    assert rmse(PLAIN_R, cold) == pytest.approx(math.sqrt(1 / 3)) and mae(PLAIN_R, cold) == pytest.approx(1 / 3)


def test_an_overflow_is_infinite_without_a_warning():
    huge = Factors(np.array([[1e200]]), np.array([[1e200]]))
    r = observed((0, 0, 1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert objective(r, huge, 0.02) == math.inf
        assert rmse(r, huge) == math.inf and mae(r, huge) == math.inf
