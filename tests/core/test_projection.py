"""The latent map's coordinates: the raw P rows and Q columns for K = 2, an uncentred PCA for K > 2 with
fixed signs, steady from frame to frame, and nothing users x items built."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from mfstudio.core import Factors
from mfstudio.core.projection import project


def factors(n: int, m: int, K: int, seed: int = 0, scale: float = 1.0) -> Factors:
    rng = np.random.default_rng(seed)
    return Factors(rng.normal(0, scale, (n, K)), rng.normal(0, scale, (K, m)))


def test_with_two_factors_the_points_are_exactly_the_rows_of_p_and_the_columns_of_q():
    f = factors(4, 5, 2)
    p = project(f)
    assert np.array_equal(p.users_xy, f.P) and np.array_equal(p.items_xy, f.Q.T)
    assert (p.x_label, p.y_label, p.explained, p.basis) == ("k1", "k2", None, None)
    p.users_xy[0, 0] = 99.0  # a copy: the map never writes into the model
    assert f.P[0, 0] != 99.0


def test_with_one_factor_the_points_lie_on_the_horizontal_axis_and_the_note_says_so():
    f = factors(3, 4, 1)
    p = project(f)
    assert np.array_equal(p.users_xy[:, 0], f.P[:, 0]) and np.array_equal(p.items_xy[:, 0], f.Q[0])
    assert not p.users_xy[:, 1].any() and not p.items_xy[:, 1].any()
    assert p.x_label == "k1" and "horizontal axis" in p.note


def test_more_factors_are_projected_onto_the_leading_singular_vectors_of_the_stacked_p_and_q_transposed():
    f = factors(30, 40, 5, seed=3)
    p = project(f)
    X = np.vstack([f.P, f.Q.T])
    _u, s, vt = np.linalg.svd(X, full_matrices=False)
    for j in range(2):  # the same directions as the SVD, up to sign
        assert abs(abs(float(vt[j] @ p.basis[:, j])) - 1.0) < 1e-9
    assert np.allclose(p.users_xy, f.P @ p.basis) and np.allclose(p.items_xy, f.Q.T @ p.basis)
    assert np.allclose(p.explained, s[:2] ** 2 / np.sum(s ** 2))
    assert p.x_label == f"PC1 ({100 * p.explained[0]:.0f}% of variance)"
    assert p.y_label.startswith("PC2 (") and p.y_label.endswith("% of variance)")


def test_the_projection_is_not_centred_so_the_dot_product_in_the_plane_is_the_in_plane_part_of_the_prediction():
    f = factors(20, 25, 4, seed=5)
    f.P += 3.0  # far from the origin: a centred PCA would differ a lot
    p = project(f)
    V = p.basis
    assert np.allclose(p.users_xy @ p.items_xy.T, f.P @ V @ V.T @ f.Q)
    # a rank-2 model is drawn without loss: the map's dot products are the predictions
    rng = np.random.default_rng(1)
    A = rng.normal(size=(4, 2))
    g = Factors(rng.normal(size=(20, 2)) @ A.T, A @ rng.normal(size=(2, 25)))
    q = project(g)
    assert np.allclose(q.users_xy @ q.items_xy.T, g.P @ g.Q)
    assert q.explained[0] + q.explained[1] == pytest.approx(1.0)


def test_explained_shares_are_ordered_and_sum_to_at_most_one():
    for seed in range(5):
        e = project(factors(15, 12, 6, seed=seed)).explained
        assert 0 <= e[1] <= e[0] and e[0] + e[1] <= 1 + 1e-12


def test_signs_are_fixed_the_largest_entry_of_each_direction_is_positive_and_runs_repeat_exactly():
    for seed in range(10):
        f = factors(10, 8, 4, seed=seed)
        p = project(f)
        for j in range(2):
            v = p.basis[:, j]
            assert v[np.argmax(np.abs(v))] > 0
        # the same direction whatever sign the eigen solver happened to return: negating P and Q
        # leaves the Gram matrix as it is, so the basis is the same and the points are negated
        g = Factors(-f.P, -f.Q)
        q = project(g)
        assert np.array_equal(q.basis, p.basis) and np.allclose(q.users_xy, -p.users_xy)
        assert np.array_equal(project(f).users_xy, p.users_xy)


def test_with_the_previous_basis_the_signs_follow_the_last_frame_not_the_rule():
    f = factors(10, 8, 4, seed=2)
    p = project(f)
    flipped = p.basis * np.array([-1.0, 1.0])
    q = project(f, previous=flipped)
    assert np.allclose(q.basis, flipped) and np.allclose(q.users_xy[:, 0], -p.users_xy[:, 0])
    assert np.allclose(q.users_xy[:, 1], p.users_xy[:, 1])
    # a previous basis of another K is ignored
    assert np.array_equal(project(f, previous=np.ones((3, 2))).basis, p.basis)


def test_tiny_changes_move_the_points_a_tiny_bit_frame_after_frame():
    rng = np.random.default_rng(7)
    f = factors(50, 60, 6, seed=7)
    prev = project(f)
    for _ in range(50):  # a training run's frames: small steps each time
        f = Factors(f.P + rng.normal(0, 1e-4, f.P.shape), f.Q + rng.normal(0, 1e-4, f.Q.shape))
        now = project(f, previous=prev.basis)
        assert np.max(np.abs(now.users_xy - prev.users_xy)) < 1e-2
        assert np.max(np.abs(now.items_xy - prev.items_xy)) < 1e-2
        prev = now


def test_nothing_users_by_items_is_built():
    f = factors(3_000, 4_000, 3, seed=1)  # users x items would be 96 MB of float64
    tracemalloc.start()
    try:
        project(f)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000, f"projecting took {peak:,} bytes at its peak"
