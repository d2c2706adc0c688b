"""Session files: exact round trip, versions, and damaged fields refused with a sentence (bounded JSON:
test_session_json, writing: test_session_write)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import mfstudio.io as mio
from mfstudio.core.examples import example_path
from mfstudio.core.params import TOP_N
from mfstudio.core.ratings import Ratings
from mfstudio.core.session import Session
from mfstudio.io import session_write as sw
from tests.io.conftest import make_early_session, make_session


def assert_same_session(a: Session, b: Session) -> None:
    assert a.ratings == b.ratings
    np.testing.assert_array_equal(a.held_out_cells, b.held_out_cells)
    assert (a.solver, a.params, a.holdout, a.patience, a.top_n, a.relevance) == (
        b.solver, b.params, b.holdout, b.patience, b.top_n, b.relevance)
    assert (a.result is None) == (b.result is None)
    if a.result is not None:
        ra, rb = a.result, b.result
        assert (ra.solver, ra.params, ra.steps_done, ra.elapsed_s, ra.reason, ra.message) == (
            rb.solver, rb.params, rb.steps_done, rb.elapsed_s, rb.reason, rb.message)
        for name in ("P", "Q", "user_bias", "item_bias"):
            x, y = getattr(ra.factors, name), getattr(rb.factors, name)
            assert (x is None) == (y is None)
            if x is not None:
                np.testing.assert_array_equal(x, y)
        assert ra.factors.global_mean == rb.factors.global_mean and ra.relevant_from == rb.relevant_from
        assert ra.history.columns == rb.history.columns
        np.testing.assert_array_equal(ra.history.arrays(), rb.history.arrays())


@pytest.mark.parametrize("solver", ["sgd", "biased-sgd"])
def test_round_trip_restores_exactly(tmp_path, solver):
    s = make_session(solver)
    p = tmp_path / "s.mfstudio"
    mio.save_session(p, s)
    res = mio.load(p)
    assert res.fmt == "session" and res.notices == []
    assert_same_session(s, res.session)
    doc = json.loads(p.read_text("utf-8"))  # plain, standard JSON
    assert doc["format"] == "mfstudio-session" and doc["version"] == sw.FORMAT_VERSION
    assert doc["ratings"]["R"][0][0] is None  # the grid, null = not rated


def test_ratings_only_session_and_nan_history_cells(tmp_path):
    s = make_session(hold_out=False)
    assert np.isnan(s.result.history.column("val_rmse")).all()
    p = tmp_path / "s.mfstudio"
    mio.save_session(p, s)
    assert_same_session(s, mio.load(p).session)
    only = Session(ratings=s.ratings, params={"K": 3}, patience=4, holdout=0.25)
    mio.save_session(p, only)
    assert_same_session(only, mio.load(p).session)


def test_infinity_in_history_round_trips_as_strings(tmp_path):
    s = make_session(hold_out=False)
    h = s.result.history.arrays()
    h[0, 1] = np.inf
    from mfstudio.core.training import History
    s.result.history = History.from_array(h)
    p = tmp_path / "s.mfstudio"
    mio.save_session(p, s)
    assert '"Infinity"' in p.read_text("utf-8")
    assert_same_session(s, mio.load(p).session)


@pytest.mark.parametrize("n_users", [3, 3000])  # the grid layout and the entries layout
def test_titles_and_genres_survive_save_and_reopen(tmp_path, n_users):
    genres = [("Comedy", "Romance"), (), ("Film-Noir",), ("Children's", "Sci-Fi")]
    titles = ["Café (1995)", "Chasing Amy (1997) (movie 246)", "Chasing Amy (1997) (movie 268)", 'Say "Hi", Bob']
    rows = np.repeat(np.arange(n_users), 4)
    cols = np.tile(np.arange(4), n_users)
    r = Ratings(rows, cols, np.ones(rows.size) * 4, (n_users, 4), items=titles, scale=(0.5, 5), item_genres=genres)
    s = Session(ratings=r)
    p = tmp_path / "g.mfstudio"
    mio.save_session(p, s)
    assert ("R" in sw.session_to_dict(s)["ratings"]) == (n_users == 3)
    back = mio.load(p).session.ratings
    assert back == r and back.item_genres == tuple(genres) and back.items == tuple(titles)


def test_a_session_without_genres_opens_with_none(tmp_path, session):
    d = _doc(session)
    assert "item_genres" not in d["ratings"]
    p = tmp_path / "old.mfstudio"
    p.write_text(json.dumps(d))
    assert mio.load(p).session.ratings.item_genres is None


def test_older_version_is_migrated(tmp_path):
    doc = json.loads(example_path("example-1").read_text(encoding="utf-8"))
    p = tmp_path / "old.mfstudio"
    p.write_text(json.dumps({**doc, "format": sw.FORMAT_NAME, "version": 0}))
    res = mio.load(p)
    r = res.session.ratings
    assert r.shape == (4, 4) and r.nnz == 9 and r.scale == (1.0, 5.0)
    assert any("older MF Studio" in n for n in res.notices)


def test_bundled_example_opens_without_a_notice():
    res = mio.load(example_path("example-1"))
    assert res.session.ratings.nnz == 9 and res.notices == []


def test_movie_night_has_its_genres_opened_as_a_file_or_as_an_example():
    from mfstudio.core import load_example

    r = mio.load(example_path("movie-night")).session.ratings
    assert r == load_example("movie-night")
    assert r.item_genres is not None and r.item_genres[r.items.index("Robot Rebellion")] == ("Sci-fi", "Action")


def _doc(session: Session) -> dict:
    return json.loads(sw.session_to_bytes(session))


def test_newer_version_is_refused(tmp_path, session):
    d = _doc(session)
    d["version"] = sw.FORMAT_VERSION + 1
    p = tmp_path / "new.mfstudio"
    p.write_text(json.dumps(d))
    with pytest.raises(mio.FileFormatError, match="made by a newer MF Studio.*update MF Studio"):
        mio.load(p)


@pytest.mark.parametrize(
    "edit, pattern",
    [
        (lambda d: d.pop("ratings"), "'session.ratings' is missing"),
        (lambda d: d["ratings"].update(shape=[4]), "ratings.shape"),
        (lambda d: d["ratings"].update(users=["a"]), "ratings.users"),
        (lambda d: d["ratings"].update(R=[[1, 2]]), "ratings.R"),
        (lambda d: d["ratings"].update(scale=[5, 1]), "ratings.scale"),
        (lambda d: d.update(held_out=[[99, 0]]), "held_out"),
        (lambda d: d.update(solver="magic"), "no solver called 'magic'"),
        (lambda d: d.update(params={"K": 0}), "invalid solver settings"),
        (lambda d: d.update(version="1"), "format version"),
        (lambda d: d.update(format="something-else"), "not an MF Studio session"),
        (lambda d: d.update(holdout_fraction=2), "holdout_fraction"),
        (lambda d: d["ratings"].update(shape=[100_000, 100_000]), "'ratings.users' must be a list of 100,000 names"),
        (lambda d: d["ratings"].update(item_genres=[["Drama"]]), "'ratings.item_genres' must be a list of 4 lists"),
        (lambda d: d["ratings"].update(item_genres=["Drama"] * 4), "ratings.item_genres"),
    ],
)
def test_damaged_fields_give_a_sentence(tmp_path, session, edit, pattern):
    d = _doc(session)
    edit(d)
    p = tmp_path / "d.mfstudio"
    p.write_text(json.dumps(d))
    with pytest.raises(mio.FileFormatError, match=pattern):
        mio.load(p)


def test_results_that_do_not_fit_are_dropped_with_a_notice(tmp_path, session):
    d = _doc(session)
    d["result"]["factors"].update(P=[[1.0]])
    p = tmp_path / "d.mfstudio"
    p.write_text(json.dumps(d))
    res = mio.load(p)
    assert res.session.result is None and res.session.ratings == session.ratings
    assert any("do not fit" in n and "P must be 4 x 2" in n for n in res.notices)


def test_damaged_results_are_dropped_with_a_notice_not_refused(tmp_path, session):
    # the rule: a problem in the saved results drops them; one anywhere else refuses the file
    d = _doc(session)
    d["result"]["factors"].update(P="oops")
    p = tmp_path / "d.mfstudio"
    p.write_text(json.dumps(d))
    res = mio.load(p)
    assert res.session.result is None and res.session.ratings == session.ratings
    assert any("saved results are damaged" in n and "'result.factors.P' has the wrong type" in n for n in res.notices)


def test_parameters_written_as_text_are_refused_by_the_one_number_rule(tmp_path, session):
    d = _doc(session)
    d["params"] = {"K": "3", "alpha": "0.001"}
    p = tmp_path / "d.mfstudio"
    p.write_text(json.dumps(d))
    with pytest.raises(mio.FileFormatError, match=r"'K' is '3', not a number \(write it without quotes\)\.$"):
        mio.load(p)
    d["params"] = {"K": 3, "alpha": 0.001}
    p.write_text(json.dumps(d))
    params = mio.load(p).session.params
    assert params == {"K": 3, "alpha": 0.001} and isinstance(params["K"], int)


def test_json_that_is_not_a_session(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("[1, 2, 3]")
    with pytest.raises(mio.FileFormatError, match="not an MF Studio session"):
        mio.load(p)


def test_patience_and_the_hold_out_share_survive_every_save(tmp_path, session):
    from mfstudio.cli import main

    src = tmp_path / "r.csv"
    src.write_text("u,a,b,c\nx,1,2,3\ny,3,,4\nz,5,1,2\nw,2,2,\n")
    assert main(["train", str(src), "--steps", "5", "--holdout", "0.3", "--patience", "3", "--quiet",
                 "--out", str(tmp_path / "o")]) == 0
    trained, _ = mio.load_session(tmp_path / "o" / "session.mfstudio")
    assert (trained.patience, trained.holdout) == (3, 0.3) and len(trained.held_out_cells) == 3
    for n in range(2):  # saved again (as the window saves what it opened), and again
        mio.save_session(tmp_path / f"again{n}.mfstudio", trained)
        trained, _ = mio.load_session(tmp_path / f"again{n}.mfstudio")
        assert (trained.patience, trained.holdout) == (3, 0.3)
    off = Session(ratings=session.ratings, patience=None)
    assert _doc(off)["patience"] is None  # off is null in the file, as it always was
    assert mio.session_from_bytes(mio.session_to_bytes(off))[0].patience is None


def test_a_patience_longer_than_any_run_reads_as_the_longest(tmp_path, session):
    from mfstudio.core.params import PATIENCE

    d = _doc(session)
    d["patience"] = 5_000_000_000  # --patience had no maximum before PATIENCE; such a patience never fires
    p = tmp_path / "long.mfstudio"
    p.write_text(json.dumps(d))
    assert mio.load(p).session.patience == PATIENCE.maximum


def test_top_n_is_kept_and_a_file_without_it_reads_the_default(tmp_path):
    from mfstudio import io as mio
    from mfstudio.core import Ratings, Session

    r = Ratings.from_dense([[1, 2], [3, 4]])
    p = tmp_path / "s.mfstudio"
    mio.save_session(p, Session(ratings=r, top_n=12))
    assert mio.load_session(p)[0].top_n == 12
    doc = json.loads(mio.session_to_bytes(Session(ratings=r)))
    del doc["top_n"]  # a file written before sessions kept it
    p.write_text(json.dumps(doc))
    assert mio.load_session(p)[0].top_n == TOP_N.default == 10
    doc["top_n"] = 5000
    p.write_text(json.dumps(doc))
    with pytest.raises(mio.FileFormatError, match="top_n"):
        mio.load_session(p)


# -- the runs table ---------------------------------------------------------------------------
def _runs_session():
    """A session with two runs in its runs table: one named and hidden, one with a patience."""
    from mfstudio.core.runs import RunRecord

    s = make_session()
    first = RunRecord.from_result(s.result, holdout=0.25, top_n=7)
    first.name, first.visible = "=my first", False
    second = RunRecord.from_result(s.result, holdout=0.25, patience=3)
    second.metrics["precision@10"] = 0.5  # a ranking metric, kept generically
    s.runs = [first, second]
    return s


def test_the_runs_table_survives_save_and_reopen(tmp_path):
    s = _runs_session()
    p = tmp_path / "r.mfstudio"
    mio.save_session(p, s)
    back, notices = mio.load_session(p)
    assert notices == [] and len(back.runs) == 2
    for a, b in zip(s.runs, back.runs):
        assert (a.name, a.visible, a.solver, a.params, a.holdout, a.patience, a.top_n, a.steps_done, a.seconds,
                a.reason, a.best_step) == (b.name, b.visible, b.solver, b.params, b.holdout, b.patience, b.top_n,
                                           b.steps_done, b.seconds, b.reason, b.best_step)
        assert a.metrics.keys() == b.metrics.keys()
        assert all(x == y or (np.isnan(x) and np.isnan(y)) for x, y in zip(a.metrics.values(), b.metrics.values()))
        np.testing.assert_array_equal(a.history, b.history)
    assert back.runs[1].metrics["precision@10"] == 0.5 and back.runs[0].name == "=my first"


def test_a_session_without_runs_reads_with_none_and_writes_no_runs_key(tmp_path, session):
    d = _doc(session)
    assert "runs" not in d  # files before the runs table read the same
    assert mio.session_from_bytes(json.dumps(d).encode())[0].runs == []


@pytest.mark.parametrize("edit,pattern", [
    (lambda d: d.update(runs="all"), "'runs' must be a list of runs"),
    (lambda d: d["runs"][0].update(solver="svd"), "'runs[0]' has invalid solver settings"),
    (lambda d: d["runs"][1].update(reason="bored"), "'runs[1].reason' is 'bored'"),
    (lambda d: d["runs"][1].update(patience=0), "'runs[1].patience' must be a whole number from 1"),
    (lambda d: d["runs"][0]["metrics"].update(val_rmse="low"), "'runs[0].metrics.val_rmse' has the wrong type"),
    (lambda d: d["runs"][0].update(name="x" * 201), "'runs[0].name' is longer than 200 characters"),
    (lambda d: d["runs"][0]["history"].update(columns=d["runs"][0]["history"]["columns"][:7],
                                              rows=[[2, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 0]]),
     "'runs[0].history' steps must be whole numbers"),
])
def test_damaged_runs_are_dropped_with_a_notice_and_the_rest_opens(tmp_path, edit, pattern):
    s = _runs_session()
    d = _doc(s)
    edit(d)
    back, notices = mio.session_from_bytes(json.dumps(d).encode(), "The session file r.mfstudio")
    assert back.runs == [] and back.result is not None and back.ratings == s.ratings
    assert len(notices) == 1 and notices[0].startswith("The session file r.mfstudio: its saved runs are damaged (")
    assert pattern in notices[0] and notices[0].endswith("the session was opened without its runs table.")
    with pytest.raises(mio.FileFormatError, match="its saved runs are damaged"):  # in a lesson: all or nothing
        from mfstudio.io.session_file import session_from_document

        session_from_document(d, strict=True)


def test_the_ranking_columns_threshold_and_relevance_round_trip(tmp_path):
    from mfstudio.core.history import HISTORY_COLUMNS
    from mfstudio.core.ranking import metric_names

    s = make_session(steps=40)  # two ratings held out: the history has precision@10 ... map@10
    s.relevance, s.result.relevant_from, s.top_n = 3.5, 3.5, 7
    assert s.result.history.columns == HISTORY_COLUMNS + metric_names(10)
    p = tmp_path / "s.mfstudio"
    mio.save_session(p, s)
    back = mio.load(p).session
    assert_same_session(s, back)
    assert set(back.result.ranking) == set(metric_names(10))


def test_an_older_session_with_fewer_history_columns_still_opens(tmp_path):
    from mfstudio.core.history import HISTORY_COLUMNS

    s = make_session(steps=20)
    doc = json.loads(mio.session_to_bytes(s))
    h = doc["result"]["history"]
    keep = ["step", "objective", "train_rmse", "val_rmse"]  # as an old file might list them, none of the ranking
    h["rows"] = [[row[h["columns"].index(c)] for c in keep] for row in h["rows"]]
    h["columns"] = keep
    for key in ("relevance",):
        del doc[key]
    del doc["result"]["relevant_from"]
    p = tmp_path / "old.mfstudio"
    p.write_text(json.dumps(doc))
    back, notices = mio.load_session(p)
    assert notices == [] and back.relevance is None and back.result.relevant_from is None
    assert back.result.history.columns == HISTORY_COLUMNS and back.result.ranking == {}
    a = back.result.history.arrays()
    assert a.shape == (20, 7) and np.isnan(a[:, 3]).all() and np.isnan(a[:, 5]).all()
    np.testing.assert_array_equal(a[:, 4], s.result.history.column("val_rmse"))
    doc["relevance"] = "high"
    p.write_text(json.dumps(doc))
    with pytest.raises(mio.FileFormatError, match="'session.relevance' has the wrong type"):
        mio.load_session(p)
    doc["relevance"] = 1e9
    p.write_text(json.dumps(doc))
    with pytest.raises(mio.FileFormatError, match="'relevance' must be a number from -1,000,000 up to 1,000,000"):
        mio.load_session(p)


@pytest.mark.parametrize("cg_steps", [None, 2])
def test_how_als_solves_survives_a_save_and_null_is_read_only_where_it_means_off(tmp_path, cg_steps):
    from mfstudio.core.examples import load_example
    from mfstudio.core.session import RunResult
    from mfstudio.core.training import Training

    ratings = load_example("movie-night")
    params = {"K": 4, "steps": 5, "cg_steps": cg_steps}
    t = Training(ratings, "als", params)
    t.run_to_end()
    s = Session(ratings=ratings, solver="als", params=params, result=RunResult(
        "als", dict(t.params), t.factors.copy(), t.history, t.step, t.elapsed, t.reason.value, t.message))
    p = tmp_path / "s.mfstudio"
    mio.save_session(p, s)
    res = mio.load(p)
    assert res.notices == []
    assert res.session.params["cg_steps"] == cg_steps and res.session.result.params["cg_steps"] == cg_steps
    assert_same_session(s, res.session)
    d = json.loads(p.read_text("utf-8"))
    d["params"]["beta"] = None  # null is "off" only for a parameter that can be off
    p.write_text(json.dumps(d))
    with pytest.raises(mio.FileFormatError, match=r"regularization \(β\) must be a number, not None"):
        mio.load(p)


def test_a_run_of_als_solved_exactly_keeps_its_null_cg_steps_in_the_runs_table():
    from mfstudio.core import get_solver

    d = _doc(_runs_session())
    params = dict(get_solver("als").resolve_params({"K": 2, "cg_steps": None}))
    d["runs"][0].update(solver="als", params=params)
    back, notices = mio.session_from_bytes(json.dumps(d).encode(), "The session file r.mfstudio")
    assert notices == [] and back.runs[0].solver == "als" and back.runs[0].params["cg_steps"] is None


# -- an early-stopped result ----------------------------------------------------------------------
def test_an_early_stopped_result_keeps_its_best_step_and_every_step_run(tmp_path):
    s = make_early_session()
    assert s.result.best_step is not None and s.result.steps_done == s.result.best_step + 20
    p = tmp_path / "early.mfstudio"
    mio.save_session(p, s)
    back, notices = mio.load_session(p)
    assert notices == [] and back.result.best_step == s.result.best_step
    assert back.result.steps_done == s.result.steps_done == int(back.result.history.arrays()[-1, 0])
    assert back.result.kept_row()["val_rmse"] == s.result.history.column("val_rmse").min()


def test_a_result_written_before_best_step_opens_with_none(tmp_path):
    d = sw.session_to_dict(make_early_session())
    del d["result"]["best_step"]
    back, notices = mio.session_from_bytes(sw.document_to_bytes(d))
    assert notices == [] and back.result.best_step is None
    d["result"]["best_step"] = d["result"]["steps_done"] + 1  # past the steps run: the result is dropped, said so
    back, notices = mio.session_from_bytes(sw.document_to_bytes(d))
    assert back.result is None and "'result.best_step' must be a whole number from 0 up to" in notices[0]


def test_an_implicit_models_fallback_reads_back_as_no_interaction_not_the_mean_count():
    """A listener whose every play is held out is cold: implicit-als predicts preference 0 for them, saved or not."""
    from mfstudio.core.examples import load_example
    from mfstudio.core.session import RunResult
    from mfstudio.core.training import Control, Training

    ratings = load_example("listening")
    o = ratings.observed
    cells = np.stack([o.rows[o.rows == 0], o.cols[o.rows == 0]], axis=1).astype(np.int64)  # all of user 0's plays
    t = Training(ratings, "implicit-als", {"K": 2, "steps": 2}, holdout=cells)
    *_, snap = t.run(Control())
    assert snap.factors.fallback_mean == 0.0  # as the solver trains it
    result = RunResult.from_snapshot("implicit-als", t.params, snap, t.history)
    back = mio.session_from_bytes(sw.session_to_bytes(Session(ratings=ratings, held_out_cells=cells,
                                                              solver="implicit-als", result=result)))[0]
    f = back.result.factors
    assert list(f.cold_users) == [0] and f.fallback_mean == 0.0 and np.mean(o.vals) > 1
    assert np.all(f.predict_rows(0, 1) == 0.0)
