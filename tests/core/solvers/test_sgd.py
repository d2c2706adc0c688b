"""``sgd`` equals the notebook's ``matrix_factorization``."""

import numpy as np
import pytest

from mfstudio.core.ratings import Ratings
from mfstudio.core.solvers import Factors
from mfstudio.core.training import Training
from tests.core.notebook_reference import EXAMPLE_1, EXAMPLE_2, matrix_factorization


@pytest.mark.parametrize("R", [EXAMPLE_1, EXAMPLE_2], ids=["example-1", "example-2"])
def test_sgd_matches_notebook_after_10000_steps(R):
    R = np.array(R, dtype=float)
    K = 2
    rng = np.random.default_rng(7)
    P0 = rng.random((R.shape[0], K))
    Q0 = rng.random((K, R.shape[1]))
    ref_P, ref_Q = matrix_factorization(R, P0.copy(), Q0.copy(), K, steps=10_000)

    t = Training(Ratings.from_dense(R), "sgd", {"K": K, "steps": 10_000}, init=Factors(P0, Q0))
    snap = t.run_to_end()
    assert snap.step == 10_000
    np.testing.assert_allclose(snap.factors.P, ref_P, rtol=0, atol=1e-9)
    np.testing.assert_allclose(snap.factors.Q, ref_Q, rtol=0, atol=1e-9)


def test_sgd_objective_is_the_notebooks_e():
    R = np.array(EXAMPLE_1, dtype=float)
    rng = np.random.default_rng(1)
    P0, Q0 = rng.random((4, 2)), rng.random((2, 4))
    P, Q = matrix_factorization(R, P0.copy(), Q0.copy(), 2, steps=3)
    e = 0.0
    for i in range(4):
        for j in range(4):
            if R[i, j] > 0:
                e += (R[i, j] - P[i] @ Q[:, j]) ** 2 + 0.01 * np.sum(P[i] ** 2 + Q[:, j] ** 2)
    t = Training(Ratings.from_dense(R), "sgd", {"steps": 3}, init=Factors(P0, Q0))
    snap = t.run_to_end()
    assert snap.objective == pytest.approx(e, rel=1e-12)


def test_tol_stops_like_the_notebook():
    R = np.array(EXAMPLE_1, dtype=float)
    rng = np.random.default_rng(3)
    P0, Q0 = rng.random((4, 2)), rng.random((2, 4))
    t = Training(Ratings.from_dense(R), "sgd", {"steps": 10_000, "beta": 0.0, "alpha": 0.01, "tol": 0.001},
                 init=Factors(P0, Q0))
    snap = t.run_to_end()
    assert snap.reason.value == "tolerance"
    assert snap.objective < 0.001
    steps = snap.step
    ref_P, ref_Q = matrix_factorization(R, P0.copy(), Q0.copy(), 2, steps=steps, alpha=0.01, beta=0.0)
    np.testing.assert_allclose(snap.factors.P, ref_P, atol=1e-9)
    # one step fewer would not have reached the tolerance
    t2 = Training(Ratings.from_dense(R), "sgd", {"steps": steps - 1, "beta": 0.0, "alpha": 0.01}, init=Factors(P0, Q0))
    assert t2.run_to_end().objective >= 0.001
