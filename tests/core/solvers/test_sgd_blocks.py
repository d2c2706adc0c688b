"""``biased-sgd``'s blocked order: a plain Python reference of it, the grid, reruns and thread counts."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

from mfstudio.core import metrics
from mfstudio.core.ratings import Observed, Ratings
from mfstudio.core.solvers import _sgd_blocks, get_solver
from mfstudio.core.solvers.thread_choice import ThreadChoice
from mfstudio.core.training import Training

ROOT = Path(__file__).resolve().parents[3]
MASK64 = 2**64 - 1


def planted(n_users: int, n_items: int, density: float, seed: int = 0) -> Ratings:
    """Ratings 1..5 from a planted model plus noise; a user and an item without ratings."""
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    mask[:, 0] = True
    mask[3, :] = False
    mask[:, 5] = False
    r, c = np.nonzero(mask)
    U, V = rng.normal(0, 0.6, (n_users, 3)), rng.normal(0, 0.6, (n_items, 3))
    vals = np.clip(np.rint(3.4 + np.einsum("nk,nk->n", U[r], V[c]) + rng.normal(0, 0.5, len(r))), 1, 5)
    return Ratings(r, c, vals, (n_users, n_items))


@pytest.fixture
def small_blocks(monkeypatch):
    """Grids of several blocks per side on a few hundred ratings (the real sizes need far more)."""
    monkeypatch.setattr(_sgd_blocks, "BLOCK_BYTES", 128)
    monkeypatch.setattr(_sgd_blocks, "MIN_BLOCK", 8)


# -- a reference in plain Python ---------------------------------------------------------------
def _splitmix(state: list[int]) -> int:
    state[0] = (state[0] + 0x9E3779B97F4A7C15) & MASK64
    z = state[0]
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def _shuffle(a: list[int], state: list[int]) -> None:
    for k in range(len(a) - 1, 0, -1):
        j = ((_splitmix(state) >> 32) * (k + 1)) >> 32
        a[k], a[j] = a[j], a[k]


def _dot4(p: list[float], q: list[float]) -> float:
    lanes = [0.0] * 4
    top = len(p) - len(p) % 4
    for k in range(top):
        lanes[k % 4] += p[k] * q[k]
    s = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
    for k in range(top, len(p)):
        s += p[k] * q[k]
    return s


def in_turn(block: list[int], keys: np.ndarray) -> list[int]:
    """The block's runs of one user (key) dealt to STREAMS streams; round after round each stream in turn
    takes a new run if its own is used up, then gives its run's next rating."""
    runs: list[list[int]] = []
    for t in block:
        if runs and keys[runs[-1][0]] == keys[t]:
            runs[-1].append(t)
        else:
            runs.append([t])
    streams: list[list[int]] = [[] for _ in range(_sgd_blocks.STREAMS)]
    out: list[int] = []
    while len(out) < len(block):
        for run in range(len(streams)):
            if not streams[run] and runs:
                streams[run] = runs.pop(0)
            if streams[run]:
                out.append(streams[run].pop(0))
    return out


def reference(train, shape, side, seed, P, Q, ub, ib, mu, alpha, beta, epochs):
    """The docstring's blocked order and rule, one rating at a time; returns each epoch's (SSE, SAE)
    summed during the epoch (per block, the blocks' sums in block order). P (n x K) and Q (m x K) are
    lists of lists, changed in place, as are the bias lists."""
    nnz = len(train.vals)

    def group(counts: np.ndarray) -> list[int]:  # consecutive numbers, about nnz / side ratings a group
        return [min(int(counts[:u].sum()) * side // nnz, side - 1) for u in range(len(counts))]

    ug = group(np.bincount(train.rows, minlength=shape[0]))
    ig = group(np.bincount(train.cols, minlength=shape[1]))
    grid: list[list[int]] = [[] for _ in range(side * side)]
    for t in np.random.default_rng([seed, 1]).permutation(nnz).tolist():
        grid[ug[train.rows[t]] * side + ig[train.cols[t]]].append(t)
    keys = train.rows if shape[0] >= shape[1] else train.cols
    for b, block in enumerate(grid):  # user by user (item by item with more items than users); sort is stable
        block.sort(key=lambda t: keys[t])
        grid[b] = in_turn(block, keys)
    state = [(seed * 2654435761 + 1) & MASK64]
    sums = []
    for _ in range(epochs):
        rows, cols, diags = list(range(side)), list(range(side)), list(range(side))
        for a in (rows, cols, diags):
            _shuffle(a, state)
        part = [[0.0, 0.0] for _ in grid]
        for d in diags:
            for a in range(side):
                b = rows[a] * side + cols[(a + d) % side]
                for t in grid[b]:
                    u, i, r = int(train.rows[t]), int(train.cols[t]), float(train.vals[t])
                    err = r - (mu + ub[u] + ib[i] + _dot4(P[u], Q[i]))
                    part[b][0] += err * err
                    part[b][1] += abs(err)
                    ub[u] += alpha * (err - beta * ub[u])
                    ib[i] += alpha * (err - beta * ib[i])
                    for k in range(len(P[u])):
                        puk, qik = P[u][k], Q[i][k]
                        P[u][k] = puk + alpha * (err * qik - beta * puk)
                        Q[i][k] = qik + alpha * (err * puk - beta * qik)
        sse = sae = 0.0
        for a, b in part:
            sse += a
            sae += b
        sums.append((sse, sae))
    return sums


@pytest.mark.parametrize("K, shape", [(3, (30, 22)), (4, (30, 22)), (9, (30, 22)), (5, (22, 30))])
def test_the_solver_is_the_reference_bit_for_bit(small_blocks, K, shape):
    R = planted(*shape, 0.5, seed=1)
    split = R.split(0.2, seed=2)
    S = get_solver("biased-sgd")(R.shape, split.train, split.val, {"K": K, "seed": 5, "alpha": 0.02})
    assert S.grid.side > 2
    f = S.factors
    P, Q = f.P.tolist(), f.Q.T.tolist()
    ub, ib = f.user_bias.tolist(), f.item_bias.tolist()
    sums = reference(split.train, R.shape, S.grid.side, 5, P, Q, ub, ib, f.global_mean, 0.02, 0.02, 3)
    out = np.empty((3, 5))
    assert S.run(3, out) == 3
    assert f.P.tolist() == P and f.Q.T.tolist() == Q
    assert f.user_bias.tolist() == ub and f.item_bias.tolist() == ib
    assert [tuple(r) for r in out[:, 1:3].tolist()] == sums  # training errors: each rating's, before its update
    assert np.sqrt(out[-1, 3] / len(split.val)) == pytest.approx(metrics.rmse(split.val, f), rel=1e-12)
    reg = metrics.objective(split.train, f, 0.02) - metrics.rmse(split.train, f) ** 2 * len(split.train)
    assert out[-1, 0] - out[-1, 1] == pytest.approx(reg, rel=1e-9)  # the regularizer: the end of the epoch's


def test_the_dot_products_lanes_are_the_scalar_sums_bit_for_bit():
    rng = np.random.default_rng(4)
    for K in (1, 3, 4, 7, 8, 20, 21):
        P, Qt = rng.normal(size=(5, K)), rng.normal(size=(6, K))
        for u, i in ((0, 0), (4, 5), (2, 3)):
            got = _sgd_blocks.dot_lanes(P, np.uint64(u), Qt, np.uint64(i))
            assert got == _dot4(P[u].tolist(), Qt[i].tolist())
    with pytest.raises(numba.core.errors.TypingError):  # rows not one block of memory: refused, not misread
        _sgd_blocks.dot_lanes(P, np.uint64(0), np.asfortranarray(Qt), np.uint64(0))


def test_the_grid_holds_every_rating_once_in_its_block(small_blocks):
    R = planted(40, 31, 0.4, seed=3)
    o = R.observed
    side = _sgd_blocks.grid_side(40, 31, R.nnz, 4)
    g = _sgd_blocks.blocked_layout(o.rows, o.cols, o.vals, R.shape, side, seed=7)
    assert side > 2 and g.ptr[-1] == R.nnz
    key = lambda r, c: r.astype(np.int64) * 31 + c
    assert np.array_equal(np.sort(key(g.users, g.items)), np.sort(key(o.rows, o.cols)))
    row_of, col_of = {}, {}
    for b in range(side * side):  # a user stays in one row of blocks, an item in one column
        for u in g.users[g.ptr[b]:g.ptr[b + 1]].tolist():
            assert row_of.setdefault(u, b // side) == b // side
        for i in g.items[g.ptr[b]:g.ptr[b + 1]].tolist():
            assert col_of.setdefault(i, b % side) == b % side
        us = g.users[g.ptr[b]:g.ptr[b + 1]].tolist()  # 40 users > 31 items: a block is walked user by user,
        first = sorted(set(us), key=us.index)  # in order, STREAMS users' ratings in turn
        assert first == sorted(first)
    assert len(set(row_of.values())) == side and len(set(col_of.values())) == side
    for of in (row_of, col_of):  # groups are runs of consecutive users (items)
        keys = sorted(of)
        assert all(of[a] <= of[b] for a, b in zip(keys, keys[1:]))
    sizes = np.diff(g.ptr).reshape(side, side)
    for counts in (sizes.sum(axis=1), sizes.sum(axis=0)):  # about equal ratings per group
        assert counts.max() <= 2 * R.nnz / side
    seq = _sgd_blocks.epoch_blocks(side, np.array([99], np.uint64))
    assert sorted(seq.tolist()) == list(range(side * side))  # every block once an epoch
    for d in range(side):  # a diagonal's blocks share no row and no column of the grid
        diag = seq[d * side:(d + 1) * side]
        assert len(set((diag // side).tolist())) == side and len(set((diag % side).tolist())) == side


def test_a_block_takes_its_users_ratings_in_turn():
    keys = np.array([0, 0, 0, 1, 2, 2, 5, 6, 6, 7, 7, 7, 7, 8], np.int32)
    ptr = np.array([0, 6, 6, 14])  # blocks of 6, 0 and 8 ratings
    two = _sgd_blocks.interleave(ptr, keys, 2)
    assert keys[two].tolist() == [0, 1, 0, 2, 0, 2, 5, 6, 7, 6, 7, 8, 7, 7]
    assert two[:6].tolist() == [0, 3, 1, 4, 2, 5]  # a user's ratings keep their order
    three = _sgd_blocks.interleave(ptr, keys, 3)
    assert keys[three].tolist() == [0, 1, 2, 0, 2, 0, 5, 6, 7, 8, 6, 7, 7, 7]
    assert _sgd_blocks.interleave(ptr, keys, 1).tolist() == list(range(14))
    for k in (two, three):
        assert sorted(k.tolist()) == list(range(14))
    o = [t for b in range(3) for t in in_turn(list(range(ptr[b], ptr[b + 1])), keys)]
    assert o == _sgd_blocks.interleave(ptr, keys, _sgd_blocks.STREAMS).tolist()  # the reference's order


def test_grid_side_grows_with_the_data_and_k_only():
    small = _sgd_blocks.grid_side(943, 1682, 80_000, 20)
    big = _sgd_blocks.grid_side(162_541, 59_047, 20_000_000, 20)
    assert small == _sgd_blocks.PARALLEL_SIDE and big > 16  # ML-100K runs on threads too (side 2)
    assert _sgd_blocks.grid_side(162_541, 59_047, 20_000_000, 100) > big
    assert _sgd_blocks.grid_side(6040, 3706, 800_000, 20) >= _sgd_blocks.PARALLEL_SIDE  # run on threads
    for shape in ((69_878, 10_677, 8_000_000), (162_541, 59_047, 20_000_000), (162_541, 59_047, 100_000)):
        assert _sgd_blocks.grid_side(*shape, 20) % _sgd_blocks.PARALLEL_SIDE == 0  # a diagonal splits evenly


def _fingerprint(parallel: bool | None = None) -> str:
    R = planted(300, 200, 0.3, seed=7)  # 18,000 ratings
    t = Training(R, "biased-sgd", {"K": 6, "steps": 3, "seed": 1}, holdout=0.15)
    assert t.solver.grid.side > 4
    if parallel is not None:
        t.solver.parallel = parallel
    t.run_to_end()
    h = hashlib.sha256()
    for a in (t.factors.P, t.factors.Q, t.factors.user_bias, t.factors.item_bias, t.history.arrays()[:, :6]):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def test_threads_change_nothing(small_blocks):
    """The diagonals' blocks on 1 or 2 threads, or one after another on this one: the same bits."""
    want = _fingerprint(parallel=False)
    before = numba.get_num_threads()
    try:
        for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
            numba.set_num_threads(threads)
            assert _fingerprint(parallel=True) == want
    finally:
        numba.set_num_threads(before)


_CHILD = """
import numba
from tests.core.solvers import test_sgd_blocks as T
T._sgd_blocks.MIN_BLOCK = 8
T._sgd_blocks.BLOCK_BYTES = 128
print(T._fingerprint(parallel=True), numba.threading_layer(), numba.get_num_threads())
"""


def test_the_workqueue_layer_on_two_threads_gives_the_same_bits(small_blocks):
    """A fresh process on numba's workqueue threading layer (every install has it: no TBB or OpenMP)."""
    want = _fingerprint(parallel=False)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_NUM_THREADS": "2", "NUMBA_THREADING_LAYER": "workqueue"}
    done = subprocess.run([sys.executable, "-c", _CHILD], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    digest, layer, threads = done.stdout.split()
    assert (digest, layer, threads) == (want, "workqueue", "2")


def test_reruns_are_bit_identical_and_seeds_differ():
    a = Training(planted(60, 40, 0.4), "biased-sgd", {"K": 4, "steps": 5, "seed": 2})
    b = Training(planted(60, 40, 0.4), "biased-sgd", {"K": 4, "steps": 5, "seed": 2})
    c = Training(planted(60, 40, 0.4), "biased-sgd", {"K": 4, "steps": 5, "seed": 3})
    for t in (a, b, c):
        t.run_to_end()
    assert np.array_equal(a.factors.P, b.factors.P)
    assert np.array_equal(a.history.arrays()[:, :6], b.history.arrays()[:, :6], equal_nan=True)  # not the times
    assert not np.array_equal(a.factors.P, c.factors.P)


def test_a_steps_validation_errors_are_the_held_out_ratings_of_the_factors_it_ends_with():
    """Scored block by block in the training grid, on threads from SCORE_PARALLEL_MIN ratings: the same sums as
    the factors' errors on the held-out ratings in their own order (to rounding); the held-out set is left as
    it was."""
    R = planted(700, 400, 0.5, seed=4)  # about 140,000 ratings: half held out, scored on threads
    o = R.observed
    rng = np.random.default_rng(0)
    held = rng.random(len(o)) < 0.5
    shuffled = rng.permutation(len(o))  # the held-out ratings in no particular order
    train, val = (Observed(o.rows[m], o.cols[m], o.vals[m]) for m in (np.flatnonzero(~held), shuffled[held[shuffled]]))
    assert len(val) >= _sgd_blocks.SCORE_PARALLEL_MIN
    s = get_solver("biased-sgd")(R.shape, train, val, {"K": 5, "seed": 3})
    rows_before = s.val_set.rows.copy()
    out = np.empty((2, 5))
    s.run(2, out)
    d = val.vals - s.factors.predict_at(val.rows, val.cols)
    assert out[1, 3] == pytest.approx(float(np.sum(d * d)), rel=1e-12)
    assert out[1, 4] == pytest.approx(float(np.sum(np.abs(d))), rel=1e-12)
    assert np.array_equal(s.val_set.rows, rows_before)
    g, v = s.grid, s._val
    assert v.side == g.side > 1 and v.ptr[-1] == len(val)
    ug, ig = (_sgd_blocks.groups(c, v.side) for c in s.counts)  # the training grid's groups
    for b in range(v.side * v.side):  # held-out block b: user group b // side, item group b % side, by user
        lo, hi = v.ptr[b], v.ptr[b + 1]
        assert np.all(ug[v.users[lo:hi]] == b // v.side) and np.all(ig[v.items[lo:hi]] == b % v.side)
        assert np.all(np.diff(v.users[lo:hi]) >= 0)
    assert np.all(ug[g.users] * g.side + ig[g.items] == np.repeat(np.arange(g.side ** 2), np.diff(g.ptr)))


def test_the_thread_choice_tries_both_ways_then_keeps_the_faster_and_tries_the_other_now_and_then():
    c = ThreadChoice()
    c.choose()
    c.record(True, 60.0)  # the first run on threads starts the thread pool: not counted against threads
    first = [c.choose() for _ in range(2)]
    for way in first:
        c.record(way, 2.0)  # threads: 2 s an epoch
    second = [c.choose() for _ in range(2)]
    for way in second:
        c.record(way, 1.0)  # one thread: 1 s
    assert first == [True, True] and second == [False, False] and c.per_step[True] == [2.0, 2.0]
    picks = [c.choose() for _ in range(4 * ThreadChoice.PROBE)]
    probes = [run % ThreadChoice.PROBE == 0 for run in range(6, 6 + len(picks))]  # runs 6, 7, ...
    assert picks == probes and picks.count(True) == 4
    for _ in range(ThreadChoice.WINDOW):
        c.record(True, 0.5)  # the second core came free: threads now 0.5 s
    assert c.choose() or c.choose()  # kept from now on (but on a probe run)
    assert len(c.per_step[True]) == ThreadChoice.WINDOW


def test_a_run_on_threads_or_not_as_timed_gives_the_same_bits():
    R = planted(300, 200, 0.6, seed=5)  # about 36,000 ratings: large enough for threads
    o = R.observed
    a, b = (get_solver("biased-sgd")(R.shape, o, None, {"K": 4, "seed": 1}) for _ in range(2))
    assert a.parallel
    b.parallel = False
    out_a, out_b = np.empty((1, 5)), np.empty((1, 5))
    for _ in range(8):
        a.run(1, out_a)
        b.run(1, out_b)
        assert np.array_equal(out_a, out_b, equal_nan=True)
    assert np.array_equal(a.factors.P, b.factors.P) and np.array_equal(a.factors.item_bias, b.factors.item_bias)
    assert len(a.threads.per_step[True]) >= 2 and len(a.threads.per_step[False]) >= 2  # both ways were run
    assert not b.threads.per_step[True] and not b.threads.per_step[False]
