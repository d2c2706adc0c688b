"""``mfstudio sweep``: a point is the `mfstudio train` run with the same flags (bit for bit), --jobs 2 writes what
--jobs 1 writes, folds, sweep.csv's columns, the refusals (one sentence, exit 2) and Ctrl-C (exit 130, the finished
points written, no process left)."""

from __future__ import annotations

import csv
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mfstudio import cli
from mfstudio.core.training import HISTORY_COLUMNS
from tests.cli.conftest import run

pytestmark = pytest.mark.usefixtures("no_sweep_helpers_after")  # no fork server left after them

MOVIES = Path(__file__).resolve().parents[2] / "resources" / "examples" / "movie-night.json"
FIXED = ["--steps", "300", "--alpha", "0.01", "--seed", "3"]
BASE = ["--solver", "sgd", *FIXED]


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """K=1,3 x beta=0.02,0.3 on Movie night, with one worker and with two."""
    base = tmp_path_factory.mktemp("sweeps")
    outs = {}
    for jobs in ("1", "2"):
        out = base / f"jobs{jobs}"
        code = cli.main(["sweep", str(MOVIES), *BASE, "--param", "k=1,3", "--param", "beta=0.02,0.3",
                         "--holdout", "0.25", "--jobs", jobs, "--full-precision", "--out", str(out), "--quiet"])
        assert code == 0
        outs[jobs] = out
    return outs


def test_a_point_is_the_train_run_with_the_same_flags_bit_for_bit(swept, tmp_path, capsys):
    rows = read_csv(swept["2"] / "sweep.csv")
    for row in (rows[1], rows[2]):
        out = tmp_path / f"train-{row['k']}-{row['beta']}"
        code, _, err = run(["train", str(MOVIES), *BASE, "--k", row["k"], "--beta", row["beta"], "--holdout", "0.25",
                            "--full-precision", "--out", str(out), "--quiet"], capsys)
        assert code == 0, err
        final = json.loads((out / "run.json").read_text())["final"]
        for m in ("train_rmse", "val_rmse", "train_mae", "val_mae", "precision@10", "recall@10", "ndcg@10",
                  "map@10"):
            assert float(row[m]) == final[m], m
        hist = read_csv(out / "history.csv")  # ranking cells are empty at steps not evaluated
        val = np.array([float(h["val_rmse"]) for h in hist])
        assert int(row["best_step"]) == int(hist[int(np.argmin(val))]["step"])
        assert row["reason"] == final["reason"] == "budget"


def test_jobs_2_writes_what_jobs_1_writes(swept):
    one, two = read_csv(swept["1"] / "sweep.csv"), read_csv(swept["2"] / "sweep.csv")
    assert len(one) == 4
    for a, b in zip(one, two):
        a.pop("seconds"), b.pop("seconds")
        assert a == b


def test_the_columns_are_the_swept_names_as_given_then_the_errors(swept):
    header = (swept["1"] / "sweep.csv").read_text().splitlines()[0].split(",")
    assert header == ["k", "beta", "train_rmse", "val_rmse", "train_mae", "val_mae", "precision@10", "recall@10",
                      "ndcg@10", "map@10", "best_step", "seconds", "reason"]
    assert [(r["k"], r["beta"]) for r in read_csv(swept["1"] / "sweep.csv")] == \
           [("1", "0.02"), ("1", "0.3"), ("3", "0.02"), ("3", "0.3")]
    png = (swept["1"] / "sweep.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_the_best_point_is_printed_and_progress_goes_to_stderr(tmp_path, capsys):
    out = tmp_path / "s"
    code, stdout, stderr = run(["sweep", str(MOVIES), *BASE, "--param", "beta=0.01:1:3log", "--holdout", "0.25",
                                "--jobs", "1", "--out", str(out)], capsys)
    assert code == 0, stderr
    rows = read_csv(out / "sweep.csv")
    best = min(rows, key=lambda r: float(r["val_rmse"]))
    assert stdout.startswith(f"Best: beta = {best['beta']} (validation RMSE ") and str(out) in stdout
    assert "Sweeping sgd over beta (3 values): 3 points on 1 worker process" in stderr
    assert stderr.count("validation RMSE") == 3 and "[3/3] beta = 1:" in stderr
    assert [r["beta"] for r in rows] == ["0.01", "0.1", "1"]


def test_folds_give_the_mean_and_spread_columns(tmp_path, capsys):
    out = tmp_path / "cv"
    code, stdout, err = run(["sweep", str(MOVIES), *BASE, "--param", "K=1,2", "--folds", "3", "--jobs", "2",
                             "--out", str(out), "--quiet"], capsys)
    assert code == 0, err
    rows = read_csv(out / "sweep.csv")
    assert list(rows[0])[-6:] == ["train_rmse_std", "val_rmse_std", "train_mae_std", "val_mae_std", "folds", "reason"]
    assert all(r["folds"] == "3" and float(r["val_rmse_std"]) > 0 for r in rows)
    assert " ± " in stdout


def test_holdout_beside_folds_is_said_to_be_unused(tmp_path, capsys):
    code, _, err = run(["sweep", str(MOVIES), *BASE, "--param", "K=2", "--folds", "2", "--holdout", "0.2",
                        "--jobs", "1", "--out", str(tmp_path / "o")], capsys)
    assert code == 0 and "--holdout is not used" in err


@pytest.mark.parametrize("extra, words", [
    (["--param", "gamma=1,2", "--holdout", "0.2"], "There is no parameter 'gamma' to sweep; the sgd solver takes K, "
                                                    "steps, alpha, beta, tol, seed."),
    (["--param", "beta=0.1,200", "--holdout", "0.2"], "Bad value for --param beta: Regularization (β) must be from 0 "
                                                       "up to 100; got 200."),
    (["--param", "K=1", "--param", "beta=1", "--param", "seed=1,2", "--holdout", "0.2"], "at most 2 parameters"),
    (["--param", "K=1,2", "--k", "3", "--holdout", "0.2"], "K is both swept (--param K=...) and fixed (--k)"),
    (["--param", "K=1,2"], "needs ratings held out"),
    (["--param", "K=1,2", "--holdout", "0"], "needs ratings held out"),
    (["--param", "K=1,2", "--holdout", "0.2", "--jobs", "0"], "Bad value for --jobs: Worker processes must be from 1"),
    (["--param", "K=1,2", "--folds", "1"], "Bad value for --folds: Folds must be from 2"),
    (["--param", "K", "--holdout", "0.2"], "--param K needs a name, = and values"),
    (["--param", "alpha=0.1", "--solver", "als", "--holdout", "0.2"], "The als solver has no learning rate"),
])
def test_mistakes_are_refused_with_one_sentence_and_nothing_written(tmp_path, capsys, extra, words):
    out = tmp_path / "never"
    argv = ["sweep", str(MOVIES), "--steps", "10", *extra, "--out", str(out)]
    code, stdout, stderr = run(argv, capsys)
    assert code == 2 and stdout == ""
    assert words in stderr and stderr.count("\n") == 1, stderr
    assert not out.exists()


def test_ctrl_c_stops_every_worker_writes_the_finished_points_and_exits_130(tmp_path):
    """The terminal's Ctrl-C reaches the whole process group: the workers ignore it, the parent stops them."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = tmp_path / "stopped"
    p = subprocess.Popen([sys.executable, "-m", "mfstudio", "sweep", str(MOVIES), "--param", "steps=50,1000000000",
                          "--tol", "0", "--holdout", "0.25", "--jobs", "2", "--out", str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    try:
        line = ""
        deadline = time.monotonic() + 60
        waiting = selectors.DefaultSelector()  # a sweep that prints nothing must not hang the test
        waiting.register(p.stderr, selectors.EVENT_READ)
        while "[1/2]" not in line and time.monotonic() < deadline:
            if waiting.select(timeout=0.5):
                line = p.stderr.readline()
                assert line or p.poll() is None, "the sweep ended by itself"
        assert "[1/2]" in line, "the short point did not finish within a minute"
        time.sleep(0.5)  # the second point is training now
        os.killpg(p.pid, signal.SIGINT)
        stdout, stderr = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    assert p.returncode == 130, stderr
    assert "Traceback" not in stderr and "Note:" not in stderr  # no worker met the Ctrl-C
    assert "Stopped: 1 of 2 points finished." in stderr
    rows = read_csv(out / "sweep.csv")
    assert [r["steps"] for r in rows] == ["50"] and "Best: steps = 50" in stdout
    time.sleep(0.2)
    assert _session_members(p.pid) == [], "a worker outlived the sweep"


def _session_members(sid: int) -> list[int]:
    """The processes still in session ``sid`` (the sweep's own, its workers and helpers)."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(d.name))
    return found


def test_history_columns_are_what_the_best_step_reads():
    assert HISTORY_COLUMNS[0] == "step" and HISTORY_COLUMNS[4] == "val_rmse"


def test_top_sets_the_k_of_the_ranking_metrics_as_train_does(tmp_path, capsys):
    out = tmp_path / "s"
    code, _, err = run(["sweep", str(MOVIES), *BASE, "--param", "K=1,2", "--holdout", "0.25", "--top", "5",
                        "--jobs", "1", "--out", str(out), "--quiet"], capsys)
    assert code == 0, err
    rows = read_csv(out / "sweep.csv")
    assert {"precision@5", "recall@5", "ndcg@5", "map@5"} <= set(rows[0]) and "precision@10" not in rows[0]
    single = tmp_path / "t"
    code, _, err = run(["train", str(MOVIES), *BASE, "--k", "2", "--holdout", "0.25", "--top", "5", "--full-precision",
                        "--out", str(single), "--quiet"], capsys)
    assert code == 0, err
    final = json.loads((single / "run.json").read_text())["final"]
    assert float(rows[1]["ndcg@5"]) == pytest.approx(final["ndcg@5"], rel=1e-5)
