"""Implicit data through `mfstudio train` and `sweep`: which solver, how the data is read, and what is said."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import mfstudio.io as mio
from mfstudio.core.examples import example_path
from mfstudio.core.session import Session
from tests.cli.conftest import run

RATINGS_CSV = "user,item,rating\na,x,5\na,y,3\nb,x,4\nb,z,1\nc,y,2\nc,z,5\nd,x,3\nd,y,4\n"


@pytest.fixture
def ratings_csv(tmp_path: Path) -> Path:
    p = tmp_path / "r.csv"
    p.write_text(RATINGS_CSV)
    return p


@pytest.mark.parametrize("flags", [["--implicit"], []])
def test_the_listening_example_trains_implicit_als_with_or_without_the_switch(tmp_path, capsys, flags):
    out = tmp_path / "out"
    code, _, err = run(["train", str(example_path("listening")), *flags, "--steps", "2", "--out", str(out)], capsys)
    assert code == 0, err
    doc = json.loads((out / "run.json").read_text())
    assert doc["solver"] == "implicit-als" and doc["data"]["implicit"] is True
    assert "Training implicit-als" in err


def test_an_example_without_a_solver_key_gets_the_datas_default_and_a_session_keeps_its_own(tmp_path):
    loaded = mio.load(example_path("listening"))
    assert loaded.fmt == "session" and loaded.session.solver == "implicit-als"
    assert mio.load(example_path("example-1")).session.solver == "sgd"
    # the example layout has no solver key; a saved session names its solver and keeps it, on counts too
    saved = tmp_path / "s.mfstudio"
    mio.save_session(saved, Session(ratings=loaded.session.ratings, solver="als"))
    assert mio.load(saved).session.solver == "als"


def test_solver_implicit_als_reads_ratings_as_interactions_and_says_so(tmp_path, ratings_csv, capsys):
    out = tmp_path / "out"
    code, _, err = run(["train", str(ratings_csv), "--solver", "implicit-als", "--k", "2", "--steps", "2",
                        "--holdout", "0.25", "--out", str(out)], capsys)
    assert code == 0, err
    assert "Note: implicit-als models counts of events, so r.csv is read as interactions" in err
    doc = json.loads((out / "run.json").read_text())
    assert doc["data"]["implicit"] is True and doc["ranking"]["relevant_from"] is None
    assert mio.load(out / "session.mfstudio").session.ratings.implicit


def test_a_ratings_solver_keeps_ratings_and_says_nothing_of_interactions(tmp_path, ratings_csv, capsys):
    code, _, err = run(["train", str(ratings_csv), "--solver", "als", "--steps", "2", "--out",
                        str(tmp_path / "o")], capsys)
    assert code == 0 and "interactions" not in err
    assert json.loads((tmp_path / "o" / "run.json").read_text())["data"]["implicit"] is False


def test_sweep_with_solver_implicit_als_reads_interactions(tmp_path, ratings_csv, capsys):
    code, out, err = run(["sweep", str(ratings_csv), "--solver", "implicit-als", "--param", "K=1,2", "--steps", "2",
                          "--holdout", "0.25", "--jobs", "1", "--out", str(tmp_path / "sw")], capsys)
    assert code == 0, err
    assert "Note: implicit-als models counts of events" in err and "8 interactions" in err
    best = next(line for line in out.splitlines() if line.startswith("Best: "))
    assert "precision@10" in best and "validation preference error" in best and "RMSE" not in best


def test_data_spark_read_is_read_as_interactions_for_implicit_als(tmp_path, ratings_csv, capsys):
    """--engine spark's path: INPUT already read (as ratings), then set up as `train` sets it up."""
    from mfstudio.cli.train_command import check_training_flags, setup_training, train_parser
    from mfstudio.io.load import LoadResult

    ratings = mio.load(ratings_csv).session.ratings
    assert not ratings.implicit
    args = train_parser().parse_args([str(ratings_csv), "--solver", "implicit-als", "--out", str(tmp_path / "o")])
    setup = setup_training(args, check_training_flags(args), False,
                           loaded=LoadResult(Session(ratings=ratings), [], "triples"))
    assert setup.solver == "implicit-als" and setup.session.ratings.implicit
    assert "read as interactions" in capsys.readouterr().err


def test_an_implicit_run_speaks_of_interactions_and_the_preferences_error(tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, err = run(["train", str(example_path("listening")), "--steps", "2", "--holdout", "0.2",
                             "--out", str(out)], capsys)
    assert code == 0, err
    assert "600 interactions (120 held out)" in err and "val preference error" in err and "RMSE" not in err
    assert "training preference error" in stdout and "validation preference error" in stdout
    assert "RMSE" not in stdout
    assert (out / "held_out.csv").read_text().splitlines()[0] == "user,item,count"
    ranked_by = json.loads((out / "run.json").read_text())["recommendations"]["ranked_by"]
    assert "clipped to 0 to 1" in ranked_by and "not to the count scale" in ranked_by


def test_a_ratings_run_keeps_its_words(tmp_path, ratings_csv, capsys):
    out = tmp_path / "out"
    code, stdout, err = run(["train", str(ratings_csv), "--solver", "als", "--steps", "2", "--holdout", "0.25",
                             "--out", str(out)], capsys)
    assert code == 0, err
    assert "8 ratings (2 held out)" in err and "val RMSE" in err and "preference" not in err + stdout
    assert "training RMSE" in stdout and "validation RMSE" in stdout
    assert (out / "held_out.csv").read_text().splitlines()[0] == "user,item,rating"
    assert json.loads((out / "run.json").read_text())["recommendations"]["ranked_by"] == \
        "score (unclipped R_hat); predicted is the score clipped to the scale"


def test_the_holdout_help_says_what_a_hold_out_of_counts_is():
    from mfstudio.cli.train_command import train_parser

    text = " ".join(train_parser().format_help().split())
    assert "With --implicit (or --solver implicit-als) it is a share of the interactions" in text


def test_run_json_names_the_best_step_by_precision_for_counts(tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = run(["train", str(example_path("listening")), "--k", "4", "--steps", "12", "--holdout", "0.2",
                        "--out", str(out)], capsys)
    assert code == 0, err
    rows = (out / "history.csv").read_text().splitlines()
    head = rows[0].split(",")
    table = [[float(x) if x else float("nan") for x in r.split(",")] for r in rows[1:]]
    p = head.index("precision@10")
    best = max(table, key=lambda r: (r[p], -r[0]))  # the highest precision, the first of equals
    assert json.loads((out / "run.json").read_text())["final"]["best_step"] == int(best[0])


def test_engine_spark_with_solver_implicit_als_trains_on_interactions_and_says_so(tmp_path, ratings_csv, capsys):
    import os

    from tests.conftest import _spark_jvms, spark_missing

    why = spark_missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"{why}; .ci/run must install it for the Spark engine's test.")
        pytest.skip(why)
    out = tmp_path / "spark"
    code, stdout, err = run(["train", str(ratings_csv), "--engine", "spark", "--spark-master", "local[1]",
                             "--solver", "implicit-als", "--k", "2", "--steps", "3", "--holdout", "0.25",
                             "--out", str(out)], capsys)
    assert code == 0, err
    assert "Note: implicit-als models counts of events, so r.csv is read as interactions" in err
    assert "8 interactions (2 held out)" in err
    assert "training preference error" in stdout and "validation preference error" in stdout
    assert "RMSE" not in stdout and "(of the preferences)" not in stdout
    doc = json.loads((out / "run.json").read_text())
    assert doc["data"]["implicit"] is True
    assert doc.get("fallback", {"mean": 0.0})["mean"] == 0.0  # a cold user's, when the split leaves one
    assert (out / "held_out.csv").read_text().splitlines()[0] == "user,item,count"
    assert _spark_jvms() == []
