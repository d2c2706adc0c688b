"""Exports of data too large to show whole: R as entries in results.npz, no R_hat, the same other files;
readers take both forms; a big-shaped set with few ratings costs what its ratings cost."""

from __future__ import annotations

import json
import time
import tracemalloc

import numpy as np
import pytest

import mfstudio.io as mio
from mfstudio.core import Ratings, memory
from mfstudio.core.session import RunResult, Session
from mfstudio.core.training import Training
from mfstudio.io import export, session_write
from mfstudio.io.npz import read_npz
from tests.io.conftest import make_session


@pytest.fixture
def sparse(monkeypatch):
    """Every data set counts as too large to show whole."""
    monkeypatch.setattr(memory, "SHOW_WHOLE_MAX_CELLS", 0)


def _npz(tmp_path, data: bytes, name: str):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_sparse_exports_equal_dense_ones_on_small_data(tmp_path, monkeypatch):
    s = make_session(solver="biased-sgd")
    dense = export.result_files(s, top_n=3)
    monkeypatch.setattr(memory, "SHOW_WHOLE_MAX_CELLS", 0)
    sparse = export.result_files(s, top_n=3)
    assert set(dense) - set(sparse) == {"R_hat.csv"} and set(sparse) <= set(dense)
    for name in sparse:
        if name.endswith(".csv"):
            assert sparse[name] == dense[name], name
    run_d, run_s = json.loads(dense["run.json"]), json.loads(sparse["run.json"])
    assert run_d["model"].pop("r_hat") == "R_hat.csv" and "--dense" in run_s["model"].pop("r_hat")
    for doc in (run_d, run_s):
        doc.pop("timings")
    assert run_d == run_s
    d = read_npz(_npz(tmp_path, dense["results.npz"], "d.npz"))
    e = read_npz(_npz(tmp_path, sparse["results.npz"], "s.npz"))
    assert {"R", "R_hat"} <= set(d) and not {"R", "R_hat"} & set(e)
    assert set(e) - set(d) == {"R_rows", "R_cols", "R_vals", "R_shape"}
    for k in set(d) & set(e):
        np.testing.assert_array_equal(d[k], e[k], err_msg=k)
    R = d["R"]
    assert tuple(e["R_shape"]) == R.shape and np.count_nonzero(~np.isnan(R)) == len(e["R_vals"])
    np.testing.assert_array_equal(R[e["R_rows"], e["R_cols"]], e["R_vals"])
    # both forms read back as the same ratings
    assert mio.load(tmp_path / "d.npz").session.ratings == mio.load(tmp_path / "s.npz").session.ratings == s.ratings


def test_dense_forces_the_matrices_for_large_data(sparse, session):
    files = export.result_files(session, dense=True)
    assert "R_hat.csv" in files and "R_hat" in np.load(__import__("io").BytesIO(files["results.npz"]))


def test_r_hat_csv_in_blocks_equals_the_whole(monkeypatch, session):
    whole = export.R_hat_csv(session.ratings, session.result.factors)
    monkeypatch.setattr(export, "R_HAT_BLOCK_CELLS", 5)  # one user a block
    assert export.R_hat_csv(session.ratings, session.result.factors) == whole
    assert whole == export._matrix_csv("user", session.ratings.items, session.ratings.users,
                                       session.result.factors.predict(), False)


def test_sessions_round_trip_as_grid_and_as_entries(tmp_path, monkeypatch, session):
    grid = session_write.session_to_dict(session)["ratings"]
    monkeypatch.setattr(session_write, "GRID_MAX_CELLS", 0)
    entries = session_write.session_to_dict(session)["ratings"]
    assert "R" in grid and "entries" in entries
    p = tmp_path / "e.mfstudio"
    mio.save_session(p, session)
    back = mio.load(p).session
    assert back.ratings == session.ratings and np.array_equal(back.result.factors.P, session.result.factors.P)


def test_a_big_shaped_set_with_two_ratings_trains_and_exports_quickly_in_little_memory(tmp_path):
    n = 14_142  # 200 M cells: a dense R_hat would be 1.6 GB
    r = Ratings([0, n - 1], [5, n - 1], [4.0, 2.0], (n, n))
    t0 = time.perf_counter()
    tracemalloc.start()
    try:
        t = Training(r, "sgd", {"K": 2, "steps": 5})
        t.run_to_end()
        res = RunResult("sgd", dict(t.params), t.factors.copy(), t.history, t.step, t.elapsed, t.reason.value,
                        t.message)
        written = mio.export_results(tmp_path / "out", Session(ratings=r, result=res), include_session=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - t0 < 30 and peak < 100e6  # users x items as float64 would be 1.6 GB
    names = {p.name for p in written}
    assert "R_hat.csv" not in names and {"P.csv", "Q.csv", "recommendations.csv", "results.npz"} <= names
    assert (tmp_path / "out" / "results.npz").stat().st_size < 2e6
    back = mio.load(tmp_path / "out" / "results.npz").session.ratings
    assert back.shape == (n, n) and back.nnz == 2 and back == r
    s = mio.load(tmp_path / "out" / "session.mfstudio").session
    assert s.ratings == r and s.result is not None and s.result.factors.P.shape == (n, 2)


@pytest.mark.parametrize("arrays, pattern", [
    (dict(R_rows=[0], R_vals=[4.0], R_shape=[2, 2]), "has no 'R_cols'"),
    (dict(R=np.ones((2, 2)), R_rows=[0], R_cols=[0], R_vals=[4.0], R_shape=[2, 2]), "holds both a matrix 'R'"),
    (dict(R_rows=[0, 1], R_cols=[0], R_vals=[4.0], R_shape=[2, 2]), "of the same length"),
    (dict(R_rows=[0.5], R_cols=[0], R_vals=[4.0], R_shape=[2, 2]), "must be whole numbers"),
    (dict(R_rows=[0], R_cols=[0], R_vals=[np.nan], R_shape=[2, 2]), "'R_vals' .* holds NaN"),
    (dict(R_rows=[0], R_cols=[5], R_vals=[4.0], R_shape=[2, 2]), "outside the matrix"),
    (dict(R_rows=[0], R_cols=[0], R_vals=[4.0], R_shape=[2, 2], users=np.array(["a"])), "users labels"),
    (dict(R_rows=[0], R_cols=[0], R_vals=[4.0], R_shape=[2]), "'R_shape' .* two whole numbers"),
])
def test_bad_entries_in_an_npz_get_a_sentence(tmp_path, arrays, pattern):
    p = tmp_path / "bad.npz"
    np.savez(p, **{k: np.asarray(v) for k, v in arrays.items()})
    with pytest.raises(mio.FileFormatError, match=pattern):
        mio.load(p)
