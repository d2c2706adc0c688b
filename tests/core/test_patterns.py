"""Planted-taste patterns: the recipe of the module docstring, determinism, Regenerate, the cells kept, the checks."""

from __future__ import annotations

import numpy as np
import pytest

from mfstudio.core import ParameterError, Training
from mfstudio.core.params import SEED
from mfstudio.core.patterns import MAX_PATTERN_CELLS, PATTERN_PARAMS, SPREAD, Pattern, generate


def test_without_noise_and_with_every_cell_the_ratings_are_the_rounded_clipped_truth():
    g = generate(Pattern(users=25, items=18, K=3, noise=0.0, observed=1.0, clusters=4, seed=7))
    assert g.ratings.nnz == 25 * 18
    expected = np.clip(np.floor(3.0 + g.P_true @ g.Q_true + 0.5), 1, 5)
    np.testing.assert_array_equal(g.ratings.to_dense(), expected)
    np.testing.assert_allclose(g.truth(), 3.0 + g.P_true @ g.Q_true)
    assert g.mu == 3.0 and g.P_true.shape == (25, 3) and g.Q_true.shape == (3, 18)
    assert g.ratings.scale == (1.0, 5.0) and set(np.unique(g.ratings.observed.vals)) <= {1, 2, 3, 4, 5}


def test_the_planted_product_has_a_quarter_of_the_scale_as_its_spread():
    for scale in ((1, 5), (0, 10)):
        g = generate(Pattern(users=40, items=30, scale=scale, seed=3))
        assert np.std(g.P_true @ g.Q_true) == pytest.approx((scale[1] - scale[0]) / 4, rel=1e-12)
        assert g.mu == (scale[0] + scale[1]) / 2


def test_the_noise_has_the_standard_deviation_asked_for():
    # a wide scale, so that rounding adds little (its variance is 1/12) and clipping nothing in the middle
    g = generate(Pattern(users=300, items=300, K=2, noise=3.0, observed=1.0, scale=(0, 100), seed=1))
    truth = g.truth()
    middle = (truth > 15) & (truth < 85)
    residual = (g.ratings.to_dense() - truth)[middle]
    assert residual.size > 50_000
    assert abs(residual.mean()) < 0.05 and np.std(residual) == pytest.approx(np.sqrt(9 + 1 / 12), rel=0.02)


def test_users_sit_around_their_cluster_centre_and_clusters_are_even():
    g = generate(Pattern(users=60, items=40, K=2, clusters=3, seed=11))
    assert np.bincount(g.cluster).tolist() == [20, 20, 20]
    own = np.linalg.norm(g.P_true - g.centres[g.cluster], axis=1)
    others = [np.linalg.norm(g.P_true - g.centres[c], axis=1)[g.cluster != c].mean() for c in range(3)]
    scale = np.linalg.norm(g.centres, axis=1).mean()
    assert own.mean() < SPREAD * 2 * scale and own.mean() < min(others)
    assert all(u[0] == "ABC"[c] for u, c in zip(g.ratings.users, g.cluster))
    assert g.ratings.users.count("A1") == 1 and "A20" in g.ratings.users
    assert g.ratings.items[:2] == ("Item 1", "Item 2")
    one = generate(Pattern(users=4, items=5, clusters=1))
    assert one.ratings.users == ("User 1", "User 2", "User 3", "User 4") and set(one.cluster) == {0}


def test_a_seed_gives_the_same_pattern_and_regenerate_the_next_one():
    p = Pattern(users=20, items=15, seed=5)
    a, b = generate(p), generate(Pattern(users=20, items=15, seed=5))
    assert a.ratings == b.ratings
    np.testing.assert_array_equal(a.P_true, b.P_true)
    np.testing.assert_array_equal(a.Q_true, b.Q_true)
    np.testing.assert_array_equal(a.cluster, b.cluster)
    nxt = p.regenerate()
    assert nxt == Pattern(users=20, items=15, seed=6) and generate(nxt).ratings != a.ratings
    assert Pattern(seed=int(SEED.maximum)).regenerate().seed == 0


@pytest.mark.parametrize("n,m,share", [(30, 20, 0.5), (12, 40, 0.2), (50, 50, 0.02), (7, 3, 1.0), (1, 1, 0.5)])
def test_the_share_observed_is_kept_and_every_user_and_item_keeps_a_rating_when_it_can(n, m, share):
    r = generate(Pattern(users=n, items=m, K=1, clusters=1, observed=share, seed=2)).ratings
    count = max(1, int(np.floor(share * n * m + 0.5)))
    assert r.nnz == count
    o = r.observed
    if count >= max(n, m):
        assert set(o.rows.tolist()) == set(range(n)) and set(o.cols.tolist()) == set(range(m))
    else:  # too few ratings for everyone: no user and no item has two while another has none
        assert len(set(o.rows.tolist())) == min(count, n) and len(set(o.cols.tolist())) == min(count, m)


def test_the_planted_truth_as_factors_predicts_it_and_a_biased_model_learns_it():
    g = generate(Pattern(users=30, items=25, K=2, noise=0.0, observed=0.7, clusters=3, scale=(1, 10), seed=4))
    np.testing.assert_allclose(g.factors().predict(), g.truth())
    t = Training(g.ratings, "biased-sgd", {"K": 2, "steps": 400, "alpha": 0.01, "beta": 0.0, "seed": 0})
    t.run_to_end()
    err = t.factors.predict() - g.truth()
    # only rounding (at most half a point) separates the ratings from the truth; the model fills the gaps
    assert np.sqrt(np.mean(err**2)) < 0.4  # K = 1 misses by 0.75


BAD = {
    "no users": (dict(users=0), "Users must be from 1"),
    "too many cells": (dict(users=2000, items=1000), f"more than a pattern may have ({MAX_PATTERN_CELLS:,})"),
    "K above the users": (dict(users=2, items=10, clusters=1, K=3), "True K is 3 but the ratings have only 2 users"),
    "K too large": (dict(users=100, items=100, K=21), "True K must be from 1 up to 20"),
    "more clusters than users": (dict(users=2, items=5, K=1, clusters=3), "3 taste clusters for 2 users"),
    "nothing observed": (dict(observed=0.0), "Share observed must be above 0 up to 1"),
    "more than everything": (dict(observed=1.5), "Share observed must be above 0 up to 1"),
    "negative noise": (dict(noise=-0.1), "Noise must be from 0"),
    "scale upside down": (dict(scale=(5, 1)), "lowest first"),
    "half-star scale": (dict(scale=(0.5, 5)), "two whole numbers"),
    "scale of one number": (dict(scale=(5,)), "two numbers, lowest and highest"),
    "too wide a scale": (dict(scale=(0, 1000)), "wider than 100"),
    "seed out of range": (dict(seed=-1), "Random seed must be from 0"),
    "users as text": (dict(users="many"), "Users must be a whole number"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_parameters_out_of_range_are_refused_with_a_sentence(case):
    changes, words = BAD[case]
    with pytest.raises(ParameterError) as info:
        Pattern(**changes)
    assert words in str(info.value) and str(info.value).endswith(".")


def test_the_parameters_are_declared_for_the_dialog():
    assert [s.name for s in PATTERN_PARAMS] == ["users", "items", "K", "noise", "observed", "clusters", "seed"]
    p = Pattern()
    assert all(getattr(p, s.name) == s.default for s in PATTERN_PARAMS)


def test_the_truth_aligned_to_a_rotated_and_scaled_copy_of_itself_lands_on_it():
    from mfstudio.core.patterns import Pattern, aligned_truth, generate

    planted = generate(Pattern(users=15, items=10, K=2, seed=3))
    theta = 0.7
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    P, Q = 1.5 * planted.P_true @ R, 1.5 * (planted.Q_true.T @ R).T
    tP, tQ = aligned_truth(planted, P, Q)
    np.testing.assert_allclose(tP, P, atol=1e-10)
    np.testing.assert_allclose(tQ, Q, atol=1e-10)
