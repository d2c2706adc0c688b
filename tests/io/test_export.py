"""Result exports: content and labels, full precision, all-or-nothing atomic writes."""

from __future__ import annotations

import csv
import io
import json
import os

import numpy as np
import pytest

import mfstudio.io as mio
from mfstudio.core.ratings import Ratings
from mfstudio.core.recommend import recommend
from mfstudio.core.session import Session
from mfstudio.io import atomic
from tests.io.conftest import make_early_session, make_session


def read_csv(path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text("utf-8"))))


def test_export_results_writes_every_file(tmp_path, session):
    out = tmp_path / "out"
    written = mio.export_results(out, session, top_n=2)
    files = [*mio.RESULT_FILES, mio.HELD_OUT_FILE, mio.MANIFEST]  # the session holds two ratings out
    assert sorted(p.name for p in written) == sorted(files)
    assert sorted(os.listdir(out)) == sorted(files)  # no temp files left
    assert mio.verify_export(out) == []
    r, f = session.ratings, session.result.factors
    P = read_csv(out / "P.csv")
    assert P[0] == ["user", "k1", "k2"] and [row[0] for row in P[1:]] == list(r.users)
    np.testing.assert_allclose(np.array([row[1:] for row in P[1:]], dtype=float), f.P, rtol=5e-6)  # 6 digits
    assert all(len(c.lstrip("-").replace(".", "").lstrip("0")) <= 6 for row in P[1:] for c in row[1:])
    Q = read_csv(out / "Q.csv")
    assert Q[0] == ["k", *r.items] and Q[1][0] == "k1"
    np.testing.assert_allclose(np.array([row[1:] for row in Q[1:]], dtype=float), f.Q, rtol=5e-6)
    Rh = read_csv(out / "R_hat.csv")
    np.testing.assert_allclose(np.array([row[1:] for row in Rh[1:]], dtype=float), f.predict(), rtol=5e-6)
    hist = read_csv(out / "history.csv")
    assert hist[0] == ["step", "objective", "train_rmse", "val_rmse", "elapsed_s",  # the training's k: 10
                       "precision@10", "recall@10", "ndcg@10", "map@10"]
    assert hist[1][0] == "1" and hist[-1][0] == "30" and hist[1][3] != ""
    recs = read_csv(out / "recommendations.csv")
    assert recs[0] == ["user", "rank", "item", "predicted", "score", "item_ratings"] and recs[1][1] == "1"
    run = json.loads((out / "run.json").read_text())
    assert run["solver"] == "sgd" and run["seed"] == 3 and run["parameters"]["K"] == 2
    assert run["data"] == {"users": 4, "items": 4, "ratings": 9, "held_out": 2, "scale": [1.0, 5.0],
                           "implicit": False}
    assert run["final"]["step"] == 30 and run["versions"]["numpy"] == np.__version__
    assert run["model"]["formula"].startswith("R_hat[u,i] = sum over k of P[u,k] * Q[k,i]")
    assert run["recommendations"]["per_user"] == 2 and "global_mean" not in run
    with np.load(out / "results.npz", allow_pickle=False) as z:
        np.testing.assert_array_equal(z["P"], f.P)
        assert list(z["users"]) == list(r.users)
    assert mio.load(out / "results.npz").session.ratings == r  # the npz reopens as ratings


def test_an_early_stopped_run_exports_every_step_run_and_the_kept_factors_errors(tmp_path):
    s = make_early_session()
    res = s.result
    out = tmp_path / "early"
    mio.export_results(out, s)
    run = json.loads((out / "run.json").read_text())
    final = run["final"]
    assert final["step"] == res.steps_done == res.best_step + 20 and final["best_step"] == res.best_step
    val = res.history.column("val_rmse")
    assert final["val_rmse"] == val.min() and final["val_rmse"] < float(val[-1])  # the best step's, not the last
    assert f"early stop at step {res.steps_done:,}, best step {res.best_step:,}" in final["message"]
    hist = read_csv(out / "history.csv")
    assert [int(r[0]) for r in hist[1:]] == list(range(1, res.steps_done + 1))  # every step run


def test_history_without_holdout_has_empty_val_rmse(tmp_path):
    s = make_session(hold_out=False)
    mio.export_history(tmp_path / "h.csv", s.result.history)
    rows = read_csv(tmp_path / "h.csv")
    assert all(row[3] == "" for row in rows[1:])


def test_history_has_six_significant_digits_unless_full_precision(tmp_path, session):
    mio.export_history(tmp_path / "h.csv", session.result.history)
    rows = read_csv(tmp_path / "h.csv")
    digits = [len(c.replace("-", "").replace(".", "").split("e")[0].lstrip("0")) for r in rows[1:] for c in r[1:] if c]
    assert all(d <= 6 for d in digits)
    mio.export_history(tmp_path / "f.csv", session.result.history, full_precision=True)
    full = read_csv(tmp_path / "f.csv")
    h = session.result.history.arrays()
    assert float(full[-1][1]) == h[-1][1]


def test_full_precision_reads_back_bit_for_bit(tmp_path, session):
    mio.export_results(tmp_path, session, full_precision=True)
    f = session.result.factors
    P = read_csv(tmp_path / "P.csv")
    np.testing.assert_array_equal(np.array([row[1:] for row in P[1:]], dtype=float), f.P)
    Rh = read_csv(tmp_path / "R_hat.csv")
    np.testing.assert_array_equal(np.array([row[1:] for row in Rh[1:]], dtype=float), f.predict())


def test_biased_results_include_biases_and_r_hat_rebuilds_from_the_csvs_alone(tmp_path):
    s = make_session("biased-sgd", hold_out=False)
    written = mio.export_results(tmp_path, s)
    assert sorted(p.name for p in written) == sorted(mio.RESULT_FILES + mio.BIAS_FILES + (mio.MANIFEST,))
    f, r = s.result.factors, s.ratings
    with np.load(tmp_path / "results.npz") as z:
        np.testing.assert_array_equal(z["user_bias"], f.user_bias)
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["global_mean"] == pytest.approx(f.global_mean)
    assert "global_mean + user_bias[u] + item_bias[i]" in run["model"]["formula"]
    ub = read_csv(tmp_path / "user_bias.csv")
    ib = read_csv(tmp_path / "item_bias.csv")
    assert ub[0] == ["user", "bias"] and ib[0] == ["item", "bias"]
    assert [row[0] for row in ub[1:]] == list(r.users) and [row[0] for row in ib[1:]] == list(r.items)
    # a spreadsheet's rebuild: P x Q + user bias + item bias + global mean, from the CSVs
    P = np.array([row[1:] for row in read_csv(tmp_path / "P.csv")[1:]], dtype=float)
    Q = np.array([row[1:] for row in read_csv(tmp_path / "Q.csv")[1:]], dtype=float)
    rebuilt = run["global_mean"] + np.array([b for _, b in ub[1:]], dtype=float)[:, None] \
        + np.array([b for _, b in ib[1:]], dtype=float)[None, :] + P @ Q
    Rh = np.array([row[1:] for row in read_csv(tmp_path / "R_hat.csv")[1:]], dtype=float)
    np.testing.assert_allclose(rebuilt, Rh, atol=5e-5)
    np.testing.assert_allclose(Rh, f.predict(), rtol=5e-6)


def test_per_table_exports_and_labels_with_commas(tmp_path, session):
    from mfstudio.core.ratings import Ratings
    r = Ratings([0, 1], [0, 1], [4.0, 2.0], (2, 2), users=['Doe, "J"', "b"], items=["x;y", "z"])
    s = make_session(ratings=r, hold_out=False)
    f = s.result.factors
    mio.export_P(tmp_path / "P.csv", r, f)
    mio.export_Q(tmp_path / "Q.csv", r, f)
    mio.export_R_hat(tmp_path / "R.csv", r, f)
    mio.export_recommendations(tmp_path / "rec.csv", r, recommend(r, f, 1))
    assert read_csv(tmp_path / "P.csv")[1][0] == 'Doe, "J"'
    assert read_csv(tmp_path / "Q.csv")[0][1] == "x;y"
    assert read_csv(tmp_path / "rec.csv")[1][:3] == ['Doe, "J"', "1", "z"]
    assert mio.load(tmp_path / "R.csv").session.ratings.users == ('Doe, "J"', "b")


def test_exported_ratings_read_back_equal(tmp_path, session):
    mio.export_ratings(tmp_path / "r.csv", session.ratings)
    assert mio.load(tmp_path / "r.csv").session.ratings == session.ratings


def test_export_without_results_is_a_clear_error(tmp_path, session):
    with pytest.raises(mio.FileFormatError, match="train the model first"):
        mio.export_results(tmp_path, Session(ratings=session.ratings))
    assert os.listdir(tmp_path) == []


def test_atomic_write_failure_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    p = tmp_path / "a.csv"
    p.write_bytes(b"old contents\r\n")
    def boom(fd):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(atomic.os, "fsync", boom)
    with pytest.raises(mio.FileFormatError, match="No space left on device.*free some space"):
        mio.atomic_write(p, "new")
    assert p.read_bytes() == b"old contents\r\n"
    assert os.listdir(tmp_path) == ["a.csv"]


def test_export_results_is_all_or_nothing(tmp_path, session, monkeypatch):
    (tmp_path / "notes.txt").write_text("mine")  # a folder with other files: written file by file
    mio.export_results(tmp_path, session)
    before = {n: (tmp_path / n).read_bytes() for n in os.listdir(tmp_path)}
    real = atomic.os.replace
    def failing_replace(a, b):
        if str(a).endswith(".tmp") and b.name == "R_hat.csv":
            raise OSError(13, "Permission denied")
        return real(a, b)
    monkeypatch.setattr(atomic.os, "replace", failing_replace)
    with pytest.raises(mio.FileFormatError, match="Permission denied"):
        mio.export_results(tmp_path, make_session(steps=5))
    monkeypatch.setattr(atomic.os, "replace", real)
    assert {n: (tmp_path / n).read_bytes() for n in os.listdir(tmp_path)} == before  # the manifest too
    assert mio.verify_export(tmp_path) == []
    # and a failure while staging (before any replace) touches nothing either
    monkeypatch.setattr(atomic, "_write_temp", lambda path, data: (_ for _ in ()).throw(OSError(5, "I/O error")))
    with pytest.raises(mio.FileFormatError, match="I/O error"):
        mio.export_results(tmp_path, make_session(steps=5))
    assert {n: (tmp_path / n).read_bytes() for n in os.listdir(tmp_path)} == before


def test_atomic_write_gives_normal_permissions(tmp_path):
    p = tmp_path / "n.txt"
    mio.atomic_write(p, b"x")
    mask = os.umask(0)
    os.umask(mask)
    assert p.stat().st_mode & 0o777 == 0o666 & ~mask
    os.chmod(p, 0o640)
    mio.atomic_write(p, "y")
    assert p.stat().st_mode & 0o777 == 0o640 and p.read_text() == "y"


def test_export_into_a_file_path_is_refused(tmp_path, session):
    f = tmp_path / "file"
    f.write_text("")
    with pytest.raises(mio.FileFormatError, match="is a file, not a folder"):
        mio.export_results(f, session)


def test_file_filters_are_plain_strings():
    assert mio.FILE_FILTERS[0].startswith("All supported (") and "*.mfstudio" in mio.FILE_FILTERS[0]
    assert all(isinstance(s, str) and s.endswith(")") for s in mio.FILE_FILTERS)


def test_labels_with_unusual_separators_round_trip_through_csv(tmp_path):
    from mfstudio.core.ratings import Ratings

    users = ["a\x0bb", "c\x85d", "e\u2028f"]
    r = Ratings.from_dense([[1, 2], [3, 4], [5, 0]], users=users, items=["x\x0cy", "z"])
    p = tmp_path / "r.csv"
    mio.export_ratings(p, r)
    back = mio.load(p).session.ratings
    assert back.users == r.users and back.items == r.items
    np.testing.assert_array_equal(back.to_dense(), r.to_dense())


def test_the_runs_table_as_csv_has_a_column_per_parameter_and_metric_and_safe_names(tmp_path):
    from mfstudio.core.runs import RunRecord

    s = make_session()
    plain = RunRecord.from_result(s.result, top_n=5)
    ranked = RunRecord.from_result(s.result, holdout=0.25, patience=3)
    ranked.metrics["ndcg@10"] = 0.75
    p = tmp_path / "runs.csv"
    mio.export_runs(p, [plain, ranked], ["=HYPERLINK(1)", "sgd K=2, seed 3"])
    rows = list(csv.reader(io.StringIO(p.read_text("utf-8"))))
    assert rows[0] == ["name", "solver", "K", "alpha", "beta", "steps", "tol", "seed", "holdout", "patience", "top_n",
                       "steps_done", "seconds", "stop_reason", "train_rmse", "val_rmse", "train_mae", "val_mae",
                       "best_val_step", "precision@10", "recall@10", "ndcg@10", "map@10"]
    head = rows[0]
    first, second = (dict(zip(head, r)) for r in rows[1:])
    assert first["name"] == "'=HYPERLINK(1)" and second["name"] == "sgd K=2, seed 3"  # neutralised, quoted
    assert (first["K"], first["steps"], first["seed"], first["steps_done"]) == ("2", "30", "3", "30")
    assert first["patience"] == "" and second["patience"] == "3" and second["holdout"] == "0.25"
    assert float(first["ndcg@10"]) == pytest.approx(plain.metrics["ndcg@10"], rel=1e-5)  # the hold-out's
    assert second["ndcg@10"] == "0.75" and first["stop_reason"] == s.result.reason
    assert float(first["train_rmse"]) == pytest.approx(s.result.history.arrays()[-1, 2], rel=1e-5)
    assert first["best_val_step"] == str(plain.best_step)


def implicit_session():
    """A session trained on a small play log (counts, Ratings.implicit) with a fifth held out."""
    from mfstudio.core.ratings import Ratings
    from mfstudio.core.session import RunResult
    from mfstudio.core.training import Training

    rng = np.random.default_rng(4)
    n, m = 12, 9
    cells = rng.choice(n * m, 50, replace=False)
    r = Ratings(cells // m, cells % m, rng.integers(1, 20, 50).astype(float), (n, m), implicit=True)
    t = Training(r, "als", {"K": 2, "steps": 6, "seed": 1}, holdout=0.2)
    snap = t.run_to_end()
    o = r.observed
    m_ = t.split.held_out_flags
    s = Session(ratings=r, held_out_cells=np.stack([o.rows[m_], o.cols[m_]], axis=1), solver="als",
                params=dict(t.params), holdout=0.2, patience=None)
    s.result = RunResult.from_snapshot("als", t.params, snap, t.history, t.ranker.threshold)
    return s, t, snap


def test_implicit_data_exports_mpr_in_history_csv_run_json_and_the_runs_table(tmp_path):
    from mfstudio.core.ranking import metric_names
    from mfstudio.core.runs import RunRecord

    s, t, snap = implicit_session()
    assert t.rank_every == 1 and list(snap.ranking) == list(metric_names(10, True))
    out = tmp_path / "out"
    mio.export_results(out, s)
    hist = read_csv(out / "history.csv")
    assert hist[0][5:] == ["precision@10", "recall@10", "ndcg@10", "map@10", "mpr"]
    assert [row[-1] != "" for row in hist[1:]] == [True] * 6  # ranked at every step
    assert float(hist[-1][-1]) == pytest.approx(snap.ranking["mpr"], rel=1e-5)
    run = json.loads((out / "run.json").read_text())
    assert run["final"]["mpr"] == snap.ranking["mpr"] and run["final"]["map@10"] == snap.ranking["map@10"]
    assert run["ranking"]["relevant_from"] is None and "mpr" in run["ranking"]["definitions"]
    assert run["ranking"]["users_evaluated"] == len(set(s.held_out_entries().rows.tolist()))
    record = RunRecord.from_result(s.result, snapshot=snap, holdout=0.2)
    assert record.metrics["mpr"] == snap.ranking["mpr"]
    p = tmp_path / "runs.csv"
    mio.export_runs(p, [record], ["implicit"])
    rows = read_csv(p)
    assert rows[0][-5:] == ["precision@10", "recall@10", "ndcg@10", "map@10", "mpr"]
    assert float(rows[1][-1]) == pytest.approx(snap.ranking["mpr"], rel=1e-5)


def test_a_session_keeps_the_mpr_column_and_an_older_history_without_it_still_opens(tmp_path):
    from mfstudio.core.history import HISTORY_COLUMNS
    from mfstudio.core.ranking import metric_names
    from mfstudio.core.runs import RunRecord

    s, _t, snap = implicit_session()
    s.runs = [RunRecord.from_result(s.result, snapshot=snap)]
    p = tmp_path / "s.mfstudio"
    mio.save_session(p, s)
    back = mio.load(p).session
    assert back.result.history.columns == HISTORY_COLUMNS + metric_names(10, True)
    np.testing.assert_array_equal(back.result.history.arrays(), s.result.history.arrays())
    assert back.result.ranking == snap.ranking and back.runs[0].metrics["mpr"] == snap.ranking["mpr"]
    np.testing.assert_array_equal(back.runs[0].history, s.runs[0].history)
    doc = json.loads(mio.session_to_bytes(s))
    h = doc["result"]["history"]
    h["rows"] = [row[:-1] for row in h["rows"]]  # as a file from before mpr
    h["columns"] = h["columns"][:-1]
    back = mio.session_from_bytes(json.dumps(doc).encode(), "old.mfstudio")[0]
    assert back.result.history.columns == HISTORY_COLUMNS + metric_names(10)


def test_ratings_too_large_to_show_whole_are_exported_as_their_entries_and_read_back(tmp_path):
    n = 3000  # 9 M cells: past memory.SHOW_WHOLE_MAX_CELLS
    r = Ratings([0, 2999, 17], [0, 2999, 5], [4.0, 2.5, 1.0], (n, n))
    p = tmp_path / "ratings.csv"
    mio.export_ratings(p, r)
    text = p.read_text()
    assert text.splitlines()[0] == "user,item,rating" and len(text.splitlines()) == 4
    assert p.stat().st_size < 1000  # not 9 M blank cells
    back = mio.load(p).session.ratings
    assert back.nnz == 3 and sorted(back.observed.vals.tolist()) == [1.0, 2.5, 4.0]
