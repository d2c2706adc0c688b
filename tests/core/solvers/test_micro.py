"""One update at a time: the updates of a step, taken one by one, are that step, bit for bit."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from mfstudio.core import Training
from mfstudio.core.examples import load_example
from mfstudio.core.training import Control, StopReason

SOLVERS = ("sgd", "biased-sgd", "als", "nmf", "implicit-als")


def _pair(solver: str, name: str = "example-1", holdout: float | None = None) -> tuple[Training, Training]:
    r = load_example(name)
    params = {"K": 2, "steps": 10, "seed": 4}
    return Training(r, solver, params, holdout=holdout), Training(r, solver, params, holdout=holdout)


def _same(a: Training, b: Training) -> bool:
    fa, fb = a.factors, b.factors
    same = np.array_equal(fa.P, fb.P) and np.array_equal(fa.Q, fb.Q)
    if fa.user_bias is not None:
        same = same and np.array_equal(fa.user_bias, fb.user_bias) and np.array_equal(fa.item_bias, fb.item_bias)
    return same


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("data", [("example-1", None), ("movie-night", 0.25)])
def test_the_updates_of_a_step_one_by_one_are_that_step_bit_for_bit(solver, data):
    whole, single = _pair(solver, *data)
    list(whole.run(max_steps=2))
    list(single.run(max_steps=1))
    n = single.updates_per_step
    assert n == (len(single.split.train) if solver in ("sgd", "biased-sgd") else 2)
    for k in range(n):
        update, snap = single.step_update()
        assert update.index == k and update.step == 2 and snap.finished == (k == n - 1)
    assert single.step == whole.step == 2 and single.updates_done == 0
    assert _same(whole, single)
    np.testing.assert_array_equal(whole.history.arrays()[:, :6], single.history.arrays()[:, :6])


def test_nine_rating_updates_on_example_1_are_one_step_and_a_step_says_so():
    whole, single = _pair("sgd")
    list(whole.run(max_steps=1))
    reasons = [single.step_update()[1].reason for _ in range(9)]
    assert single.updates_per_step == 9 and reasons[-1] is StopReason.STEP and reasons[:-1] == [None] * 8
    assert _same(whole, single)


def test_the_numbers_shown_are_the_ones_the_update_used():
    t = _pair("sgd")[0]
    r = t.split.train
    for n in range(9):
        P, Q = t.factors.P.copy(), t.factors.Q.copy()
        u, _snap = t.step_update()
        i, j = int(r.rows[n]), int(r.cols[n])  # the notebook's row-major order
        assert (u.user, u.item, u.rating) == (i, j, float(r.vals[n]))
        np.testing.assert_array_equal(u.p_before, P[i])
        np.testing.assert_array_equal(u.q_before, Q[:, j])
        assert u.error == float(r.vals[n]) - sum(float(a) * float(b) for a, b in zip(P[i], Q[:, j]))
        p, q = list(u.p_before), list(u.q_before)
        for k in range(len(p)):  # the notebook's two lines, with the new P[i][k] in the second
            p[k] = p[k] + u.alpha * (2 * u.error * q[k] - u.beta * p[k])
            q[k] = q[k] + u.alpha * (2 * u.error * p[k] - u.beta * q[k])
        assert list(u.p_after) == p and list(u.q_after) == q
        np.testing.assert_array_equal(t.factors.P[i], u.p_after)
        assert u.objective_after < u.objective_before or n > 0  # the first update of a fresh start helps


def test_biased_updates_show_the_biases_and_use_the_old_p():
    t = _pair("biased-sgd")[0]
    u, _snap = t.step_update()
    b0, b1 = u.user_bias
    assert b1 == b0 + u.alpha * (u.error - u.beta * b0)
    q = u.q_before + u.alpha * (u.error * u.p_before - u.beta * u.q_before)
    np.testing.assert_array_equal(u.q_after, q)


@pytest.mark.parametrize("solver", ("als", "nmf"))
def test_half_steps_say_which_side_and_show_one_row(solver):
    t = _pair(solver)[0]
    first, _ = t.step_update(focus=2)
    assert first.side == "users" and first.row == 2 and len(first.rated) > 0
    np.testing.assert_array_equal(t.factors.P[2], first.x_after)
    if solver == "als":  # the ridge system of that row, solved
        np.testing.assert_allclose(first.gram @ first.x_after, first.rhs, rtol=1e-10, atol=1e-12)
    second, snap = t.step_update()
    assert second.side == "items" and snap.finished and t.step == 1


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_step_begun_one_update_at_a_time_is_finished_by_step(solver):
    whole, part = _pair(solver, "movie-night")
    list(whole.run(max_steps=1))
    part.step_update()
    list(part.run(max_steps=1))  # Step: completes the step in progress
    assert part.step == 1 and _same(whole, part)
    np.testing.assert_array_equal(whole.history.arrays()[:, :6], part.history.arrays()[:, :6])


def test_a_paced_run_goes_at_that_pace_and_stops_at_once():
    t = _pair("sgd")[0]
    t.set_budget(1000)
    t0 = time.perf_counter()
    snaps = list(t.run(max_steps=5, pace=lambda: 20.0))
    assert 0.18 <= time.perf_counter() - t0 < 2.0  # 4 waits of 50 ms between 5 steps
    assert [s.step for s in snaps if not s.finished] == [1, 2, 3, 4, 5]
    control = Control()
    threading.Timer(0.3, control.stop).start()
    t0 = time.perf_counter()
    last = list(t.run(control, pace=lambda: 1.0))[-1]
    assert last.reason is StopReason.CANCELLED and time.perf_counter() - t0 < 1.0


def test_a_new_pace_takes_effect_at_once():
    t = _pair("sgd")[0]
    t.set_budget(1000)
    rate = [0.5]
    threading.Timer(0.2, lambda: rate.__setitem__(0, float("inf"))).start()
    t0 = time.perf_counter()
    snaps = list(t.run(max_steps=50, pace=lambda: rate[0]))
    assert snaps[-1].step == 50 and time.perf_counter() - t0 < 1.5  # not 2 s per step after the change


@pytest.mark.parametrize("cg_steps", [2, None])
def test_als_half_steps_one_by_one_are_the_kernels_step_in_both_solves(cg_steps):
    """K = 4 with 2 conjugate-gradient steps (fewer than K: CG is used) and exactly (Cholesky)."""
    r = load_example("movie-night")
    params = {"K": 4, "steps": 10, "seed": 4, "cg_steps": cg_steps}
    whole, single = Training(r, "als", params, holdout=0.25), Training(r, "als", params, holdout=0.25)
    list(whole.run(max_steps=3))
    list(single.run(max_steps=2))
    first, _ = single.step_update(focus=1)
    assert first.cg_steps == cg_steps
    if cg_steps is None:  # the shown system, solved
        np.testing.assert_allclose(first.gram @ first.x_after, first.rhs, rtol=1e-10, atol=1e-12)
    else:  # two steps on four unknowns: near the solution, not at it
        assert not np.allclose(first.gram @ first.x_after, first.rhs, rtol=1e-10, atol=1e-12)
    _, snap = single.step_update()
    assert snap.finished and single.step == 3
    assert _same(whole, single)
    np.testing.assert_array_equal(whole.history.arrays()[:, :6], single.history.arrays()[:, :6])


def test_an_implicit_als_half_step_shows_the_weighted_system_it_solved():
    t = Training(load_example("movie-night"), "implicit-als", {"K": 2, "steps": 3, "cg_steps": None,
                                                                "confidence": 2.0})
    list(t.run(max_steps=1))
    Qt = t.factors.Q.T.copy()
    update, _ = t.step_update(focus=1)
    assert update.side == "users" and update.row == 1 and update.cg_steps is None
    r = t.split.train
    mine = r.rows == 1
    np.testing.assert_allclose(update.confidences, 1 + 2.0 * r.vals[mine][np.argsort(r.cols[mine])])
    c = np.ones(Qt.shape[0])
    c[update.rated] = update.confidences
    want = Qt.T @ (c[:, None] * Qt) + float(t.params["beta"]) * np.eye(2)
    np.testing.assert_allclose(update.gram, want, rtol=1e-12)
    np.testing.assert_allclose(update.x_after, np.linalg.solve(update.gram, update.rhs), rtol=1e-9)
    assert update.objective_after <= update.objective_before
