"""Factors: users and items the hold-out leaves without training ratings predict the fallback."""

from __future__ import annotations

import numpy as np
import pytest

from mfstudio.core import Ratings, Training, metrics

R = [[5, 3, 0, 1], [4, 0, 0, 1], [1, 1, 0, 5], [0, 1, 5, 4]]


@pytest.mark.parametrize("solver", ["sgd", "als", "nmf", "biased-sgd"])
def test_a_user_with_every_rating_held_out_predicts_the_fallback(solver):
    r = Ratings.from_dense(R)
    held = r.split_cells([(1, 0), (1, 3)])  # all of user 2's ratings
    assert list(held.users_without_training) == [1] and "user(s)" in held.warnings[0]
    t = Training(r, solver, {"K": 2, "steps": 30}, holdout=held)
    snap = t.run_to_end()
    f = snap.factors
    assert list(f.cold_users) == [1]
    row = f.predict()[1]
    train_mean = float(np.mean(held.train.vals))
    if f.user_bias is None:
        np.testing.assert_allclose(row, train_mean)
    else:
        np.testing.assert_allclose(row, f.global_mean + f.item_bias)
        assert f.user_bias[1] == 0 and not f.P[1].any()
    assert f.is_cold(1, 0) and not f.is_cold(0, 0)
    np.testing.assert_allclose(f.predict_at(np.array([1, 1, 0]), np.array([0, 3, 1])),
                               [row[0], row[3], f.predict()[0, 1]])
    # the validation curve measures those fallback predictions, as the final metrics do
    vr = t.history.column("val_rmse")
    assert metrics.rmse(held.val, f) == pytest.approx(vr[-1], rel=1e-9)


def test_an_item_with_every_rating_held_out_predicts_the_fallback():
    r = Ratings.from_dense(R)
    held = r.split_cells([(3, 2)])  # item 3's only rating
    t = Training(r, "biased-sgd", {"K": 2, "steps": 20}, holdout=held)
    f = t.run_to_end().factors
    assert list(f.cold_items) == [2]
    np.testing.assert_allclose(f.predict()[:, 2], f.global_mean + f.user_bias)


def test_without_hold_out_nothing_is_cold():
    t = Training(Ratings.from_dense(R), "sgd", {"K": 2, "steps": 5})
    f = t.run_to_end().factors
    assert f.cold_users is None and f.cold_items is None
    np.testing.assert_array_equal(f.predict(), f.P @ f.Q)
