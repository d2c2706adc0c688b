"""The item-based explanation of an implicit score (Hu et al. 2008, section 5): a case worked on paper, factors
from a dense numpy solve (the pushes add up to P_u·Q_i), the dense formula of s^u_ij, and the rest of a model
that is not yet converged."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mfstudio.core.errors import DataError
from mfstudio.core.explain_implicit import REST_TEXT, explain_implicit
from mfstudio.core.ratings import Ratings
from mfstudio.core.solvers.base import Factors


def dense_solve(R: np.ndarray, Y: np.ndarray, confidence: float, lam: float) -> np.ndarray:
    """Every row of R's factors solved exactly against Y (items x K), every cell counting (Hu et al. eq. 4)."""
    C, pref = 1.0 + confidence * np.abs(R), (R > 0).astype(float)
    K = Y.shape[1]
    return np.stack([np.linalg.solve(Y.T @ (C[u][:, None] * Y) + lam * np.eye(K), Y.T @ (C[u] * pref[u]))
                     for u in range(R.shape[0])])


def dense_als(R: np.ndarray, K: int, confidence: float, lam: float, steps: int, seed: int = 0) -> Factors:
    """Implicit ALS on the whole matrix, ending with the users solved against the final items."""
    rng = np.random.default_rng(seed)
    Y = rng.random((R.shape[1], K)) * 0.1
    for _ in range(steps):
        X = dense_solve(R, Y, confidence, lam)
        Y = dense_solve(R.T, X, confidence, lam)
    return Factors(dense_solve(R, Y, confidence, lam), Y.T.copy())


def plays(R: np.ndarray) -> Ratings:
    rows, cols = np.nonzero(R)
    return Ratings(rows, cols, R[rows, cols], R.shape, [f"u{k}" for k in range(R.shape[0])],
                   [f"artist {k}" for k in range(R.shape[1])], scale=(0.0, float(R.max())), implicit=True)


def test_a_case_worked_on_paper_with_one_feature():
    # K = 1, items' factors q = (1, 2, 0.5); the user played item 0 once and item 1 twice; confidence 1, so
    # c = (2, 3, 1), and lambda = 1. Y^T C Y + lambda = 2*1 + 3*4 + 1*0.25 + 1 = 15.25, W = 1/15.25.
    # The user's exact factor x = W * (2*1*1 + 3*1*2) = 8/15.25. Item 2's score x * 0.5 = 4/15.25, and
    # s_20 = 0.5 * 1 / 15.25 pushes 2 * s_20 = 1/15.25 (a quarter), s_21 = 0.5 * 2 / 15.25 pushes 3 * s_21 = 3/15.25.
    R = np.array([[1.0, 2.0, 0.0]])
    f = Factors(np.array([[8 / 15.25]]), np.array([[1.0, 2.0, 0.5]]))
    r = plays(R)
    e = explain_implicit(r, f, r.observed, 0, 2, confidence=1.0, beta=1.0, verb="played")
    assert e.score == pytest.approx(4 / 15.25, rel=1e-15)
    assert [b.label for b in e.because] == ["artist 1", "artist 0"]  # the larger push first
    one, zero = e.because
    assert (one.count, one.confidence, zero.count, zero.confidence) == (2.0, 3.0, 1.0, 2.0)
    assert one.similarity == pytest.approx(1 / 15.25) and zero.similarity == pytest.approx(0.5 / 15.25)
    assert one.value == pytest.approx(3 / 15.25) and zero.value == pytest.approx(1 / 15.25)
    assert one.share == pytest.approx(0.75) and zero.share == pytest.approx(0.25)
    assert abs(e.rest) < 1e-15
    assert e.sentence == "artist 2 scores 0.26 for u0, mostly because you played artist 1 (75% of the score) " \
                         "and artist 0 (25%)."
    assert one.text("played") == "because you played artist 1" and one.text() == "because you have artist 1"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_pushes_add_up_to_the_score_for_factors_solved_exactly(seed):
    rng = np.random.default_rng(seed)
    n, m, K, a, lam = 9, 12, 3, 2.0, 0.3
    R = np.where(rng.random((n, m)) < 0.35, rng.integers(1, 20, (n, m)), 0).astype(float)
    R[0] = 0  # a user with nothing
    R[0, 3] = 4
    f = dense_als(R, K, a, lam, steps=4, seed=seed)
    r = plays(R)
    Y = f.Q.T
    for u in range(n):
        for i in range(m):
            e = explain_implicit(r, f, r.observed, u, i, a, lam)
            pq = float(f.P[u] @ f.Q[:, i])
            assert e.score == pq
            assert abs(math.fsum(b.value for b in e.because) - pq) < 1e-9, (u, i)
            assert abs(e.rest) < 1e-9 and e.total == pytest.approx(pq, abs=1e-12)
            assert sorted(b.item for b in e.because) == np.flatnonzero(R[u]).tolist()  # the user's own items
            C = 1.0 + a * R[u]  # the dense formula: W = (Y^T C^u Y + lambda I)^-1, s_ij = y_i^T W y_j
            W = np.linalg.inv(Y.T @ (C[:, None] * Y) + lam * np.eye(K))
            for b in e.because:
                assert b.similarity == pytest.approx(Y[i] @ W @ Y[b.item], rel=1e-9, abs=1e-12)
                assert b.value == pytest.approx(b.similarity * C[b.item], rel=1e-12)
            if abs(pq) > 1e-6:
                assert math.fsum(b.share for b in e.because) == pytest.approx(1.0, abs=1e-6)


def test_only_training_interactions_explain_and_a_model_not_converged_shows_its_rest():
    rng = np.random.default_rng(7)
    R = np.where(rng.random((6, 8)) < 0.5, rng.integers(1, 9, (6, 8)), 0).astype(float)
    r = plays(R)
    split = r.split(0.3, 1)
    f = Factors(rng.normal(size=(6, 2)), rng.normal(size=(2, 8)))  # not a solution of anything
    u = int(split.val.rows[0])
    e = explain_implicit(r, f, split.train, u, 0, 1.0, 0.1)
    held = set(split.val.cols[split.val.rows == u].tolist())
    assert not held & {b.item for b in e.because}  # the held-out plays were hidden from the model
    assert abs(e.rest) > 1e-3 and e.total == pytest.approx(e.score, abs=1e-12)
    rows = e.rows()
    assert (REST_TEXT, "") == rows[-2][:2] and rows[-1][0] == "score (the sum)"
    gram = f.Q @ f.Q.T  # given, the same numbers
    assert explain_implicit(r, f, split.train, u, 0, 1.0, 0.1, gram=gram).because == e.because


def test_a_long_list_is_cut_to_the_largest_pushes_and_the_rows_still_add_up():
    rng = np.random.default_rng(3)
    R = rng.integers(1, 9, (2, 30)).astype(float)  # every item played
    f = dense_als(R, 2, 1.0, 0.5, steps=3)
    r = plays(R)
    e = explain_implicit(r, f, r.observed, 1, 4, 1.0, 0.5)
    rows = e.rows(shown=5)
    assert len(rows) == 5 + 1 + 1 and rows[5][0] == "the other 25 items"  # no rest row: solved exactly
    assert math.fsum(float(v) for _, _, v, _ in rows[:6]) == pytest.approx(e.score, rel=0.01)
    j = e.to_json()
    assert j["form"] == "item-based" and len(j["because"]) == 30
    assert math.fsum(b["value"] for b in j["because"]) + j["rest"] == pytest.approx(j["score"], abs=1e-12)


def test_a_user_without_interactions_and_bad_cells():
    R = np.array([[0.0, 0.0, 0.0], [1.0, 3.0, 0.0]])
    f = dense_als(R, 2, 1.0, 0.1, steps=2)
    r = plays(R)
    e = explain_implicit(r, f, r.observed, 0, 1, 1.0, 0.1)
    assert e.because == [] and e.score == 0.0 and "no training interactions" in e.sentence
    with pytest.raises(DataError, match="There is no cell"):
        explain_implicit(r, f, r.observed, 2, 0, 1.0, 0.1)
    with pytest.raises(DataError, match="do not belong"):
        explain_implicit(r, Factors(f.P[:1], f.Q), r.observed, 0, 0, 1.0, 0.1)
